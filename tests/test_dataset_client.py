"""Data sets with py61850.client against three servers serving ``examples/simple_io.icd``:
ours (lib61850's server with the SCL data sets), libiec61850 (pyiec61850-ng) and the
Rust-based ``iec61850`` server.

Expected members come from the SCL (tests/peers/sclmodel.py). Where the servers answer
differently, the test states each server's real answer (``ANSWERS`` below); nothing is
skipped.

"ours" is ``IedServer.from_scl`` (its SCL data sets are persistent named variable lists);
that association-specific data sets end with their association is tested in C
(vendor/lib61850/tests/test_dataset_server.c).
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Iterator

import pytest

from peers.process import DEFAULT_SCL
from peers.sclmodel import SclModel
from py61850.client import (
    AccessDeniedError,
    DataSet,
    IedConnection,
    MmsValue,
    ObjectAccessUnsupportedError,
    ObjectDoesNotExistError,
    ObjectExistsError,
    ObjectReferenceInvalidError,
    ObjectUndefinedError,
)
from py61850.server import IedServer

G = "TESTGenericIO"

#: What each server answers where they differ (observed, see PEERS.md).
ANSWERS: dict[str, dict[str, Any]] = {
    "ours": {
        "bad_member": ObjectUndefinedError,      # definition/object-undefined
        "bad_ln": ObjectDoesNotExistError,       # access/object-non-existent
        "read_missing": "error",                 # ServiceError access/object-non-existent
        "aa": True,
        "st_writable": False,                    # DataAccessError object-access-denied
    },
    "libiec": {
        "bad_member": ObjectUndefinedError,
        "bad_ln": ObjectDoesNotExistError,
        "read_missing": "error",
        "aa": True,
        "st_writable": False,
    },
    "rust": {
        "bad_member": ObjectDoesNotExistError,   # access/object-non-existent
        "bad_ln": None,                          # accepted: it defines LN-less sets
        "read_missing": "value",                 # a Read response with one failure(10)
        "aa": False,                             # define: access/object-access-unsupported
        "st_writable": True,                     # a Write of an ST member succeeds
    },
}


@pytest.fixture(scope="module")
def our_server() -> Iterator[Any]:
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(port=0, host="127.0.0.1")
    yield SimpleNamespace(name="ours", host="127.0.0.1", port=srv.port, server=srv)
    srv.close()


@pytest.fixture(params=["ours", "libiec", "rust"])
def server(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_server" if request.param != "ours" else "our_server")


@pytest.fixture
def conn(server: Any) -> Iterator[IedConnection]:
    c = IedConnection()
    c.set_connect_timeout(5000)
    c.set_request_timeout(5000)
    c.connect(server.host, server.port)
    yield c
    c.close()


@pytest.fixture(scope="module")
def scl() -> SclModel:
    return SclModel(DEFAULT_SCL)


def member_ref(m: Any) -> str:
    da = f".{m.da_name}" if m.da_name else ""
    return f"{G}/{m.ln}.{m.do_name}{da}[{m.fc}]"


def split_member(ref: str) -> tuple[str, str]:
    base, fc = ref[:-1].rsplit("[", 1)
    return base, fc


# ------------------------------------------------------------------ configured sets


def test_directory_is_the_scl_data_set(conn, scl):
    sets = scl.datasets(G)
    assert {f"{ln}.{ds.name}" for ln, ds in sets} == {"LLN0.Events", "LLN0.Measurements"}
    for ln, ds in sets:
        ref = f"{G}/{ln}.{ds.name}"
        assert conn.get_dataset_directory(ref) == [member_ref(m) for m in ds.members], ref
        assert conn.get_dataset_directory(f"{G}/{ln}${ds.name}") == conn.get_dataset_directory(ref)
        assert conn.is_dataset_deletable(ref) is False
    assert sorted(conn.get_logical_device_datasets(G)) == ["LLN0$Events", "LLN0$Measurements"]


def test_read_dataset_equals_member_reads(conn, scl):
    for ln, ds in scl.datasets(G):
        ref = f"{G}/{ln}.{ds.name}"
        d = conn.read_dataset(ref)
        assert isinstance(d, DataSet)
        assert d.reference == ref
        assert d.size == len(d) == len(ds.members)
        assert d.errors() == []
        members = d.members
        assert members == [member_ref(m) for m in ds.members]
        for i, mref in enumerate(members):
            base, fc = split_member(mref)
            one = conn.read_value(base, fc)
            assert d[i] == one, mref
            assert d[mref] == one
            assert d[base] == one                      # without FC: the single member of that name
        assert [v.type for v in d.values] == [d[i].type for i in range(d.size)]
        d.update_values()
        assert d.size == len(ds.members)
        with pytest.raises(KeyError):
            d[f"{G}/GGIO1.Nope.stVal[ST]"]


def test_values_of_measurements_are_the_scl_values(conn, scl):
    d = conn.read_dataset(f"{G}/LLN0.Measurements")
    scl_values = {lf.ref: lf.value for lf in scl.leaves() if lf.fc == "MX"}
    got = [v.to_python() for v in d]
    assert got == [scl_values[split_member(m)[0]] for m in d.members]
    assert got == [12.5, -3.25, 1000.125, 0.0]


def test_configured_set_is_not_deletable(conn):
    with pytest.raises(AccessDeniedError):
        conn.delete_dataset(f"{G}/LLN0.Events")
    assert len(conn.get_dataset_directory(f"{G}/LLN0.Events")) == 4


def test_unknown_data_set(conn, server):
    with pytest.raises(ObjectDoesNotExistError):
        conn.get_dataset_directory(f"{G}/LLN0.Nope")
    if ANSWERS[server.name]["read_missing"] == "error":
        with pytest.raises(ObjectDoesNotExistError):
            conn.read_dataset(f"{G}/LLN0.Nope")
    else:
        d = conn.read_dataset(f"{G}/LLN0.Nope")
        assert d.size == 1
        (idx, err), = d.errors()
        assert idx == 0 and isinstance(err, ObjectDoesNotExistError)


def test_bad_references_fail_locally(conn):
    for bad in ("", "@", "NoSlashNoDot", f"{G}/LLN0", f"{G}/LLN0.a.b", "@with space"):
        with pytest.raises(ObjectReferenceInvalidError):
            conn.read_dataset(bad)
    with pytest.raises(ObjectReferenceInvalidError):
        conn.create_dataset(f"{G}/LLN0.X", [f"{G}/GGIO1.Ind1.stVal[QQ]"])
    with pytest.raises(ObjectReferenceInvalidError):
        conn.create_dataset(f"{G}/LLN0.X", ["no-slash[ST]"])


# ------------------------------------------------------------------ dynamic sets


def test_create_read_delete_domain_data_set(conn, server):
    ref = f"{G}/LLN0.DynPy{server.name}"
    members = [f"{G}/GGIO1.Ind1.stVal[ST]", f"{G}/GGIO1.AnIn1.mag.f[MX]"]
    conn.create_dataset(ref, members)
    try:
        assert conn.get_dataset_directory(ref) == members
        assert conn.is_dataset_deletable(ref) is True
        assert f"LLN0$DynPy{server.name}" in conn.get_logical_device_datasets(G)
        d = conn.read_dataset(ref)
        assert d.size == 2
        assert d[0] == conn.read_value(f"{G}/GGIO1.Ind1.stVal", "ST")
        assert d[f"{G}/GGIO1.AnIn1.mag.f[MX]"] == conn.read_value(f"{G}/GGIO1.AnIn1.mag.f", "MX")
        with pytest.raises(ObjectExistsError):
            conn.create_dataset(ref, members[:1])
    finally:
        conn.delete_dataset(ref)
    with pytest.raises(ObjectDoesNotExistError):
        conn.delete_dataset(ref)
    assert f"LLN0$DynPy{server.name}" not in conn.get_logical_device_datasets(G)
    with pytest.raises(ObjectDoesNotExistError):
        conn.get_dataset_directory(ref)


def test_create_refusals(conn, server):
    with pytest.raises(ANSWERS[server.name]["bad_member"]):
        conn.create_dataset(f"{G}/LLN0.Bad", [f"{G}/GGIO1.Nope.stVal[ST]"])
    bad_ln = ANSWERS[server.name]["bad_ln"]
    if bad_ln is None:
        conn.create_dataset(f"{G}/NOLN0.Bad", [f"{G}/GGIO1.Ind1.stVal[ST]"])
        assert conn.get_dataset_directory(f"{G}/NOLN0.Bad") == [f"{G}/GGIO1.Ind1.stVal[ST]"]
        conn.delete_dataset(f"{G}/NOLN0.Bad")
    else:
        with pytest.raises(bad_ln):
            conn.create_dataset(f"{G}/NOLN0.Bad", [f"{G}/GGIO1.Ind1.stVal[ST]"])
    assert sorted(conn.get_logical_device_datasets(G)) == ["LLN0$Events", "LLN0$Measurements"]


def test_association_specific_data_set(conn, server):
    members = [f"{G}/GGIO1.Ind1.stVal[ST]", f"{G}/GGIO1.SetPt1.setMag.f[SP]"]
    if not ANSWERS[server.name]["aa"]:
        with pytest.raises(ObjectAccessUnsupportedError):
            conn.create_dataset("@aapy", members)
        with pytest.raises(ObjectAccessUnsupportedError):
            conn.get_dataset_directory("@aapy")
        return
    conn.create_dataset("@aapy", members)
    assert conn.get_dataset_directory("@aapy") == members
    d = conn.read_dataset("@aapy")
    assert d.size == 2
    assert d[1] == conn.read_value(f"{G}/GGIO1.SetPt1.setMag.f", "SP")
    # another association does not see it
    other = IedConnection()
    other.connect(server.host, server.port)
    try:
        with pytest.raises(ObjectDoesNotExistError):
            other.read_dataset("@aapy")
    finally:
        other.close()
    conn.delete_dataset("@aapy")
    with pytest.raises(ObjectDoesNotExistError):
        conn.read_dataset("@aapy")


def test_write_dataset_values(conn, server):
    ref = "@wr" if ANSWERS[server.name]["aa"] else f"{G}/LLN0.WrPy"
    members = [f"{G}/GGIO1.Ind1.stVal[ST]", f"{G}/GGIO1.IntSet1.setVal[SP]"]
    ind1 = conn.read_value(f"{G}/GGIO1.Ind1.stVal", "ST")
    before = conn.read_value(f"{G}/GGIO1.IntSet1.setVal", "SP")
    new = before.to_python() + 7
    conn.create_dataset(ref, members)
    try:
        # the ST member gets its current value: no change even where accepted
        res = conn.write_dataset_values(ref, [ind1, MmsValue.int32(new)])
        assert len(res) == 2
        if ANSWERS[server.name]["st_writable"]:
            assert res[0] is None
        else:
            assert isinstance(res[0], AccessDeniedError)
        assert res[1] is None
        d = conn.read_dataset(ref)
        assert d[1].to_python() == new
        assert d[0] == ind1
        res = conn.write_dataset_values(ref, [ind1, before])
        assert res[1] is None
        assert conn.read_value(f"{G}/GGIO1.IntSet1.setVal", "SP") == before
    finally:
        conn.write_value(f"{G}/GGIO1.IntSet1.setVal", "SP", before)
        conn.delete_dataset(ref)
