"""Sanity layer under the interop tests: the peer servers work with the peers' own clients.

Both peer servers (libiec61850 via pyiec61850-ng, and the Rust-based iec61850) serve
``examples/simple_io.icd``; both peer clients browse them, read every leaf and compare it
with the SCL, write setpoints and read them back, and operate the SPC. If this file fails,
an interop failure of py61850 against a peer says nothing about py61850.

Does not import py61850.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import socket
import time
from typing import Any

import iec61850
import pytest

from peers.clients import (
    RUST_WRITABLE_BTYPES,
    pyiec_close,
    pyiec_connect,
    pyiec_domain_variables,
    pyiec_logical_devices,
    pyiec_read,
    pyiec_string_list,
    pyiec_write,
    rust_read,
    rust_write,
)
from peers.sclmodel import DBPOS_VALUES, Leaf, SclModel, SclModelError

import pyiec61850.pyiec61850 as L  # noqa: N812

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

#: The basic types a user reads; examples/simple_io.icd must have each one in every FC below.
REQUIRED_BTYPES = {
    "BOOLEAN", "INT8", "INT16", "INT32", "INT64", "INT8U", "INT16U", "INT32U", "FLOAT32",
    "FLOAT64", "Enum", "Dbpos", "Quality", "Timestamp", "VisString32", "VisString64",
    "VisString129", "VisString255", "Unicode255", "Octet64", "Check",
}
TYPED_FCS = ("ST", "MX", "SP", "CF", "DC")


def default_value(btype: str) -> Any:
    """What a server holds for an attribute without an initial value."""
    if btype == "BOOLEAN":
        return False
    if btype in ("FLOAT32", "FLOAT64"):
        return 0.0
    if btype.startswith("VisString") or btype == "Unicode255":
        return ""
    if btype == "Octet64":
        return b""
    if btype == "Timestamp":
        return EPOCH
    return 0  # integers, Enum, Dbpos, Quality, Check


def expected(peer: Any, leaf: Leaf) -> Any:
    return leaf.value if peer.serves_scl_value(leaf) else default_value(leaf.btype)


def readable_leaves(model: SclModel) -> list[Leaf]:
    """Every leaf except the CO ones (those are written by control services, not read)."""
    return [lf for lf in model.leaves() if lf.fc != "CO"]


def new_value(leaf: Leaf) -> Any:
    """A value different from the SCL initial value, valid for the type."""
    v = leaf.value
    b = leaf.btype
    if b == "BOOLEAN":
        return not v
    if b in ("INT8", "INT16", "INT32", "INT64"):
        return -5 if v != -5 else 5
    if b in ("INT8U", "INT16U", "INT32U"):
        return 99 if v != 99 else 98
    if b == "Enum":
        return 3 if v != 3 else 1
    if b in ("FLOAT32", "FLOAT64"):
        return 6.125 if v != 6.125 else -6.125
    if b.startswith("VisString"):
        return f"w{b[9:]}"
    if b == "Unicode255":
        return "w-ünï"
    if b == "Octet64":
        return b"\x00\xffw"
    if b == "Dbpos":
        return DBPOS_VALUES["bad-state"] if v != 3 else 1
    if b == "Check":
        return 1
    if b == "Timestamp":
        return dt.datetime(2030, 6, 1, 8, 30, 0, 250000, tzinfo=dt.timezone.utc)
    raise AssertionError(b)


# ------------------------------------------------------------------------------ the model


def test_simple_io_model_covers_every_basic_type(simple_io_model: SclModel) -> None:
    m = simple_io_model
    assert m.ied_name == "TEST"
    assert m.logical_devices == ["TESTGenericIO", "TESTLD0"]
    assert m.logical_nodes("TESTGenericIO") == ["LLN0", "LPHD1", "GGIO1"]
    assert m.data_objects("TESTGenericIO", "GGIO1") == [
        "Beh", "Ind1", "Ind2", "Ind3", "Ind4", "AnIn1", "AnIn2", "AnIn3", "AnIn4",
        "SPCSO1", "SPCSO2", "SPCSO3", "SPCSO4", "SPCSO5", "ISCSO1", "AnOut1", "IntSet1", "SetPt1",
    ]
    assert m.data_objects("TESTGenericIO", "LLN0") == ["Mod", "Beh", "Health", "NamPlt"]
    leaves = {(lf.ref, lf.fc): lf for lf in m.leaves()}
    an = leaves[("TESTGenericIO/GGIO1.AnIn1.mag.f", "MX")]
    assert (an.btype, an.value, an.mms_name, an.under_struct) == ("FLOAT32", 12.5, "GGIO1$MX$AnIn1$mag$f", True)
    assert leaves[("TESTGenericIO/GGIO1.IntSet1.setVal", "SP")].value == 42
    assert leaves[("TESTGenericIO/GGIO1.SetPt1.setMag.f", "SP")].value == 7.75
    assert [leaves[(f"TESTGenericIO/GGIO1.SPCSO{i}.ctlModel", "CF")].value for i in range(1, 6)] == [1, 2, 3, 4, 0]
    assert leaves[("TESTGenericIO/LLN0.NamPlt.vendor", "DC")].value == "py61850"
    for fc in TYPED_FCS:
        typed = [lf for lf in m.leaves() if lf.ref.startswith(f"TESTLD0/GGIO2.Typ{fc}.")]
        assert {lf.btype for lf in typed} == REQUIRED_BTYPES, fc
        assert {lf.fc for lf in typed} == {fc}
        # every type has an initial value except the ones SCL has no text form for
        assert {lf.btype for lf in typed if lf.value is None} <= {"Quality", "Check", "Timestamp"}


def test_mms_names_follow_8_1_naming(simple_io_model: SclModel) -> None:
    names = simple_io_model.mms_names("TESTGenericIO")
    for n in (
        "GGIO1", "GGIO1$MX", "GGIO1$MX$AnIn1", "GGIO1$MX$AnIn1$mag", "GGIO1$MX$AnIn1$mag$f",
        "GGIO1$CO$SPCSO1$Oper$origin$orCat", "LLN0$RP$urcbEvents02$RptID", "LLN0$BR$brcbMeas01$TimeofEntry",
    ):
        assert n in names
    assert "GGIO1$ST$AnIn1" not in names  # an FC structure lists only DOs with that FC
    assert "LLN0$Events" not in names  # data sets are named variable *lists*
    assert names.index("GGIO1$CO$SPCSO1$Oper$ctlNum") < names.index("GGIO1$CO$SPCSO1$Oper$T")
    plain = simple_io_model.mms_names("TESTGenericIO", control_blocks="names", case_sensitive=True)
    assert plain == sorted(plain)
    assert "LLN0$RP$urcbEvents01" in plain and "LLN0$RP" not in plain


def test_sclmodel_rejects_what_it_does_not_understand(tmp_path: Any) -> None:
    bad = tmp_path / "bad.icd"
    text = open(simple_io_path()).read().replace('bType="INT8U" fc="CF"', 'bType="INT24U" fc="CF"')
    bad.write_text(text)
    with pytest.raises(SclModelError, match=r"bad\.icd:\d+: .*INT24U"):
        SclModel(bad)


def simple_io_path() -> str:
    from peers.sclmodel import default_scl

    return default_scl()


# ------------------------------------------------------------------------------ pyiec61850-ng client


def test_pyiec_browse(peer_server: Any) -> None:
    con = pyiec_connect(peer_server.host, peer_server.port)
    try:
        assert sorted(pyiec_logical_devices(con)) == sorted(peer_server.model.logical_devices)
        for ld in peer_server.model.logical_devices:
            assert pyiec_domain_variables(con, ld) == peer_server.expected_mms_names(ld), ld
        lst, err = L.IedConnection_getLogicalDeviceDataSets(con, "TESTGenericIO")
        assert err == 0
        assert sorted(pyiec_string_list(lst)) == ["LLN0$Events", "LLN0$Measurements"]
    finally:
        pyiec_close(con)


def test_pyiec_reads_every_leaf(peer_server: Any) -> None:
    con = pyiec_connect(peer_server.host, peer_server.port)
    try:
        leaves = readable_leaves(peer_server.model)
        assert len(leaves) > 150
        wrong = []
        for leaf in leaves:
            got = pyiec_read(con, leaf)
            if got != expected(peer_server, leaf):
                wrong.append((leaf.ref, leaf.fc, got, expected(peer_server, leaf)))
        assert wrong == []
    finally:
        pyiec_close(con)


@pytest.mark.parametrize("kind", ["libiec", "rust"])
def test_pyiec_writes(start_peer_server: Any, kind: str) -> None:
    peer = start_peer_server(kind)
    con = pyiec_connect(peer.host, peer.port)
    try:
        outcome = {}
        for leaf in peer.model.leaves():
            if not leaf.ref.startswith(("TESTLD0/GGIO2.", "TESTGenericIO/GGIO1.")) or leaf.fc == "CO":
                continue
            if leaf.btype == "Quality":
                continue  # no client writes quality
            if leaf.value is None and leaf.btype not in ("Timestamp", "Check"):
                continue
            value = new_value(leaf)
            err = pyiec_write(con, leaf, value)
            if peer.can_write(leaf):
                assert err == L.IED_ERROR_OK, (leaf.ref, leaf.fc)
                assert pyiec_read(con, leaf) == value, (leaf.ref, leaf.fc)
            else:
                outcome[(leaf.ref, leaf.fc)] = err
                assert pyiec_read(con, leaf) == expected(peer, leaf), (leaf.ref, leaf.fc)
        denied = {k for k, e in outcome.items() if e == L.IED_ERROR_ACCESS_DENIED}
        # ST/MX never, CF/DC denied by policy: access-denied on both peers
        assert {k for k in outcome if k[1] in ("ST", "MX", "CF", "DC")} <= denied
        assert len(denied) >= 4 * 19
        if kind == "rust":
            # components of constructed attributes (SetPt1.setMag.f): object-access-unsupported
            assert outcome[("TESTGenericIO/GGIO1.SetPt1.setMag.f", "SP")] == L.IED_ERROR_OBJECT_ACCESS_UNSUPPORTED
    finally:
        pyiec_close(con)


@pytest.mark.parametrize("kind", ["libiec", "rust"])
def test_pyiec_operates_spc(start_peer_server: Any, kind: str) -> None:
    peer = start_peer_server(kind)
    con = pyiec_connect(peer.host, peer.port)
    try:
        st = peer.model.leaf("TESTGenericIO/GGIO1.SPCSO1.stVal", "ST")
        assert pyiec_read(con, st) is False
        co = L.ControlObjectClient_create("TESTGenericIO/GGIO1.SPCSO1", con)
        assert L.ControlObjectClient_getControlModel(co) == 1  # direct-with-normal-security
        for value in (True, False, True):
            ctl = L.MmsValue_newBoolean(value)
            assert L.ControlObjectClient_operate(co, ctl, 0)
            L.MmsValue_delete(ctl)
            assert pyiec_read(con, st) is value
        L.ControlObjectClient_destroy(co)
    finally:
        pyiec_close(con)


# ------------------------------------------------------------------------------ Rust client


def test_rust_client_browses_and_reads(peer_server: Any) -> None:
    model = peer_server.model

    async def run() -> list:
        conn = await iec61850.IedConnection.connect(peer_server.addr)
        try:
            assert sorted(await conn.get_server_directory()) == sorted(model.logical_devices)
            for ld in model.logical_devices:
                assert sorted(await conn.get_logical_device_directory(ld)) == sorted(model.logical_nodes(ld))
            wrong = []
            for leaf in readable_leaves(model):
                got = await rust_read(conn, leaf)
                if got != expected(peer_server, leaf):
                    wrong.append((leaf.ref, leaf.fc, got, expected(peer_server, leaf)))
            events = await conn.get_data_set_values("TESTGenericIO/LLN0.Events")
            assert events == [True, False, True, False]
            rcb = await conn.get_rcb_values("TESTGenericIO/LLN0.RP.urcbEvents01")
            assert rcb.rpt_id == "Events"
            assert rcb.dataset in ("TESTGenericIO/LLN0$Events", "LLN0$Events")
            return wrong
        finally:
            await conn.disconnect()

    assert asyncio.run(run()) == []


@pytest.mark.parametrize("kind", ["libiec", "rust"])
def test_rust_client_writes_setpoints(start_peer_server: Any, kind: str) -> None:
    peer = start_peer_server(kind)
    targets = [
        lf
        for lf in peer.model.leaves()
        if lf.fc == "SP" and lf.btype in RUST_WRITABLE_BTYPES and lf.value is not None
    ]
    assert {lf.btype for lf in targets} == RUST_WRITABLE_BTYPES - {"VisString65"}

    async def run() -> list:
        conn = await iec61850.IedConnection.connect(peer.addr)
        bad = []
        try:
            for leaf in targets:
                value = new_value(leaf)
                if peer.can_write(leaf):
                    await rust_write(conn, leaf, value)
                    got = await rust_read(conn, leaf)
                    if got != value:
                        bad.append((leaf.ref, got, value))
                else:
                    with pytest.raises(iec61850.IedDataAccessError):
                        await rust_write(conn, leaf, value)
            with pytest.raises(iec61850.IedDataAccessError):
                await conn.write_int32("TESTLD0/GGIO2.TypCF.int32Val", "CF", 5)
            return bad
        finally:
            await conn.disconnect()

    assert asyncio.run(run()) == []


# ------------------------------------------------------------------------------ process handling


@pytest.mark.parametrize("kind", ["libiec", "rust"])
def test_peer_process_lifecycle(start_peer_server: Any, kind: str) -> None:
    # SIGTERM: clean stop, exit status 0, port released
    peer = start_peer_server(kind)
    con = pyiec_connect(peer.host, peer.port)
    pyiec_close(con)
    assert peer.stop(signal.SIGTERM) == 0, peer.stderr_text()
    with pytest.raises(OSError):
        socket.create_connection((peer.host, peer.port), timeout=1).close()
    # SIGKILL of a server with a client attached: the client notices, a new server starts
    peer = start_peer_server(kind)
    con = pyiec_connect(peer.host, peer.port)
    t0 = time.monotonic()
    assert peer.stop(signal.SIGKILL) == -signal.SIGKILL
    leaf = peer.model.leaf("TESTGenericIO/GGIO1.AnIn1.mag.f", "MX")
    with pytest.raises(IOError):
        pyiec_read(con, leaf)
    assert time.monotonic() - t0 < 5
    pyiec_close(con)
    again = start_peer_server(kind)
    con = pyiec_connect(again.host, again.port)
    try:
        assert pyiec_read(con, leaf) == 12.5
    finally:
        pyiec_close(con)


# ------------------------------------------------------------------------------ protection_bay.icd


def protection_bay_path() -> str:
    import os

    return os.path.join(os.path.dirname(simple_io_path()), "protection_bay.icd")


def test_protection_bay_model() -> None:
    m = SclModel(protection_bay_path())
    assert m.ied_name == "BAY1"
    assert m.logical_devices == ["BAY1LD0", "BAY1CTRL", "BAY1PROT", "BAY1MEAS"]
    assert m.logical_nodes("BAY1CTRL") == ["LLN0", "CSWI1", "Q0XCBR1", "Q1XSWI1"]
    phv = m.leaf("BAY1MEAS/MMXU1.PhV.phsB.cVal.ang.f", "MX")
    assert (phv.value, phv.mms_name) == (-120.0, "MMXU1$MX$PhV$phsB$cVal$ang$f")
    assert m.leaf("BAY1PROT/PTOC2.TmACrv.setVal", "SP").value == 15
    assert m.leaf("BAY1CTRL/CSWI1.Pos.ctlModel", "CF").value == 4
    assert m.leaf("BAY1CTRL/Q0XCBR1.Pos.stVal", "ST").value == DBPOS_VALUES["off"]
    ds = dict(m.datasets("BAY1MEAS"))["LLN0"]
    assert [f.mms_name() for f in ds.members][3] == "MMXU1$MX$PhV$phsA$cVal$mag$f"


@pytest.mark.parametrize("kind", ["libiec", "rust"])
def test_protection_bay_served(start_peer_server: Any, kind: str) -> None:
    peer = start_peer_server(kind, protection_bay_path())
    con = pyiec_connect(peer.host, peer.port)
    try:
        assert sorted(pyiec_logical_devices(con)) == sorted(peer.model.logical_devices)
        for ld in peer.model.logical_devices:
            assert pyiec_domain_variables(con, ld) == peer.expected_mms_names(ld), ld
        wrong = [
            (lf.ref, got, expected(peer, lf))
            for lf in readable_leaves(peer.model)
            if (got := pyiec_read(con, lf)) != expected(peer, lf)
        ]
        assert wrong == []
        lst, err = L.IedConnection_getLogicalDeviceDataSets(con, "BAY1PROT")
        assert err == 0 and pyiec_string_list(lst) == ["LLN0$Trips"]
        # sbo-with-enhanced-security: SelectWithValue then Operate
        co = L.ControlObjectClient_create("BAY1CTRL/CSWI1.Pos", con)
        assert L.ControlObjectClient_getControlModel(co) == 4
        ctl = L.MmsValue_newBoolean(True)
        assert L.ControlObjectClient_selectWithValue(co, ctl)
        assert L.ControlObjectClient_operate(co, ctl, 0)
        L.MmsValue_delete(ctl)
        L.ControlObjectClient_destroy(co)
        if kind == "libiec":  # the Rust server has no API to update a Dbpos
            assert pyiec_read(con, peer.model.leaf("BAY1CTRL/CSWI1.Pos.stVal", "ST")) == DBPOS_VALUES["on"]
    finally:
        pyiec_close(con)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")  # zombie: exited
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("kind", ["libiec", "rust"])
def test_peer_exits_when_its_parent_dies(kind: str) -> None:
    import subprocess
    import sys

    from peers.process import DEFAULT_SCL, PEER_SCRIPTS, _free_port

    port = 0 if kind == "rust" else _free_port()
    # an intermediate process starts the server, reports its pid and dies without stopping it
    code = (
        "import os, subprocess, sys\n"
        f"p = subprocess.Popen([sys.executable, {PEER_SCRIPTS[kind]!r}, '--scl', {DEFAULT_SCL!r}, '--port', '{port}'],"
        " stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)\n"
        "print(p.pid, p.stdout.readline().strip(), flush=True)\n"
        "os._exit(0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30).stdout.split()
    pid = int(out[0])
    assert out[1] == "READY"
    deadline = time.monotonic() + 5
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not _gone(pid):
        import os

        os.kill(pid, signal.SIGKILL)  # our own grandchild: do not leak it
        pytest.fail(f"{kind} server {pid} outlived its parent")
