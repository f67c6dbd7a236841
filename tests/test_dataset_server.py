"""Data sets of py61850.server: the SCL data sets of ``examples/simple_io.icd`` served by
``IedServer.from_scl``, client-defined data sets, and the server's read/write handlers
reached through data set reads and writes (our client; the peers' clients against our
server are in test_interop_server.py)."""
from __future__ import annotations

import threading
from typing import Iterator

import pytest

from peers.process import DEFAULT_SCL
from peers.sclmodel import SclModel
from py61850.client import (
    AccessDeniedError,
    DataAccessError,
    IedConnection,
    MmsValue,
    ObjectDoesNotExistError,
    ObjectExistsError,
    ObjectUndefinedError,
    TemporarilyUnavailableError,
)
from py61850.server import IedServer

G = "TESTGenericIO"


@pytest.fixture
def server() -> Iterator[IedServer]:
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(port=0, host="127.0.0.1")
    yield srv
    srv.close()


@pytest.fixture
def conn(server: IedServer) -> Iterator[IedConnection]:
    c = IedConnection()
    c.set_request_timeout(5000)
    c.connect("127.0.0.1", server.port)
    yield c
    c.close()


def member_ref(m) -> str:
    da = f".{m.da_name}" if m.da_name else ""
    return f"{G}/{m.ln}.{m.do_name}{da}[{m.fc}]"


def test_scl_data_sets_are_served(conn):
    scl = SclModel(DEFAULT_SCL)
    assert sorted(conn.get_logical_device_datasets(G)) == sorted(f"{ln}${ds.name}" for ln, ds in scl.datasets(G))
    for ln, ds in scl.datasets(G):
        ref = f"{G}/{ln}.{ds.name}"
        assert conn.get_dataset_directory(ref) == [member_ref(m) for m in ds.members]
        assert conn.is_dataset_deletable(ref) is False
        d = conn.read_dataset(ref)
        for i, m in enumerate(d.members):
            base, fc = m[:-1].rsplit("[", 1)
            assert d[i] == conn.read_value(base, fc)
    with pytest.raises(AccessDeniedError):
        conn.delete_dataset(f"{G}/LLN0.Events")


def test_updates_show_in_the_next_read(server, conn):
    d = conn.read_dataset(f"{G}/LLN0.Measurements")
    server.update_float(f"{G}/GGIO1.AnIn2.mag.f", 77.25, "MX")
    d.update_values()
    assert d[f"{G}/GGIO1.AnIn2.mag.f[MX]"].to_python() == 77.25
    assert d[1].to_python() == 77.25


def test_read_handler_sees_members_of_a_data_set_read(server, conn):
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def on_read(req):
        with lock:
            seen.append((req.reference, req.fc.name))
        if req.reference.endswith("AnIn3.mag.f"):
            return DataAccessError.TEMPORARILY_UNAVAILABLE
        return 5.5

    server.on_read(f"{G}/GGIO1.AnIn1.mag.f", on_read, "MX")
    server.on_read(f"{G}/GGIO1.AnIn3.mag.f", on_read, "MX")
    d = conn.read_dataset(f"{G}/LLN0.Measurements")
    assert (f"{G}/GGIO1.AnIn1.mag.f", "MX") in seen
    assert (f"{G}/GGIO1.AnIn3.mag.f", "MX") in seen
    assert d[0].to_python() == 5.5
    (idx, err), = d.errors()
    assert idx == 2 and isinstance(err, TemporarilyUnavailableError)


def test_client_defined_sets(server, conn):
    members = [f"{G}/GGIO1.Ind1.stVal[ST]", f"{G}/GGIO1.IntSet1.setVal[SP]"]
    conn.create_dataset(f"{G}/LLN0.Dyn", members)
    with pytest.raises(ObjectExistsError):
        conn.create_dataset(f"{G}/LLN0.Dyn", members)
    with pytest.raises(ObjectUndefinedError):
        conn.create_dataset(f"{G}/LLN0.Bad", [f"{G}/GGIO1.Nope[ST]"])
    with pytest.raises(ObjectDoesNotExistError):
        conn.create_dataset(f"{G}/NOLN0.Bad", members)
    assert conn.is_dataset_deletable(f"{G}/LLN0.Dyn") is True
    # another association sees the domain set, not this one's @ set
    conn.create_dataset("@mine", members)
    other = IedConnection()
    other.connect("127.0.0.1", server.port)
    try:
        assert other.get_dataset_directory(f"{G}/LLN0.Dyn") == members
        with pytest.raises(ObjectDoesNotExistError):
            other.get_dataset_directory("@mine")
    finally:
        other.close()
    written: list[int] = []
    server.on_write(f"{G}/GGIO1.IntSet1.setVal", lambda req: written.append(req.value), "SP")
    res = conn.write_dataset_values("@mine", [MmsValue.boolean(False), MmsValue.int32(9)])
    assert isinstance(res[0], AccessDeniedError) and res[1] is None
    assert written == [9]
    assert server.get_value(f"{G}/GGIO1.IntSet1.setVal", "SP") == 9
    assert conn.read_dataset(f"{G}/LLN0.Dyn")[1].to_python() == 9
    conn.delete_dataset(f"{G}/LLN0.Dyn")
    conn.delete_dataset("@mine")
    assert sorted(conn.get_logical_device_datasets(G)) == ["LLN0$Events", "LLN0$Measurements"]
