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
import re
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


# ------------------------------------------------------------------------------ logs, setting groups, GoCB/SVCB

GENERIC = "TESTGenericIO"
LCB = "TESTGenericIO/LLN0.EventLog"
GOCB = "TESTGenericIO/LLN0.gcbEvents"
MSVCB = "TESTGenericIO/LLN0.svcbMeas"
STR_VAL = "TESTLD0/PTOC1.StrVal.setMag.f"
OP_DL = "TESTLD0/PTOC1.OpDlTmms.setVal"


def test_simple_io_model_control_blocks(simple_io_model: SclModel) -> None:
    from peers.sclmodel import SclPhyAddress

    m = simple_io_model
    (ln, lc), = m.log_controls(GENERIC)
    assert (ln, lc.name, lc.dataset, lc.log_name, lc.log_ena, lc.reason_code, lc.trg_ops) == (
        "LLN0", "EventLog", "Events", "EventLog", True, True, frozenset({"dchg", "qchg"}))
    assert m.logs(GENERIC) == ["LLN0$EventLog"]
    (_, gc), = m.gse_controls(GENERIC)
    assert (gc.name, gc.dataset, gc.conf_rev, gc.app_id, gc.min_time, gc.max_time) == (
        "gcbEvents", "Events", 1, "TESTGenericIO/LLN0.gcbEvents", 4, 1000)
    assert gc.address == SclPhyAddress(bytes.fromhex("010ccd010001"), 0x1001, 5, 4)
    assert gc.address.mac_text == "01-0C-CD-01-00-01"
    (_, sc), = m.sv_controls(GENERIC)
    assert (sc.name, sc.fc, sc.smv_id, sc.dataset, sc.smp_rate, sc.nof_asdu, sc.smp_mod, sc.opt_fields) == (
        "svcbMeas", "MS", "TESTMeas", "Measurements", 80, 1, 0, 0b110)  # sample-synchronized, sample-rate
    assert sc.address == SclPhyAddress(bytes.fromhex("010ccd040001"), 0x4001, 0, 4)
    sgc = m.setting_control("TESTLD0")
    assert (sgc.num_of_sgs, sgc.act_sg) == (3, 1)
    assert m.setting_control(GENERIC) is None
    sg = {lf.ref: lf for lf in m.sg_leaves("TESTLD0")}
    assert sg[STR_VAL].sg_values == (1.5, 2.5, 3.5) and sg[STR_VAL].value == 1.5
    assert sg[OP_DL].sg_values == (100, 200, 300) and sg[OP_DL].value == 100
    names = m.mms_names("TESTLD0")
    for n in ("LLN0$SP$SGCB$ActSG", "LLN0$SP$SGCB$ResvTms", "PTOC1$SE$StrVal$setMag$f", "PTOC1$SG$OpDlTmms$setVal"):
        assert n in names
    names = m.mms_names(GENERIC)
    for n in ("LLN0$LG$EventLog$OldEnt", "LLN0$GO$gcbEvents$DstAddress$APPID", "LLN0$MS$svcbMeas$noASDU"):
        assert n in names


@pytest.mark.parametrize("mutation, message", [
    (('<Val sGroup="2">200</Val>', '<Val sGroup="2">200</Val><Val sGroup="2">201</Val>'), "repeated sGroup"),
    (('<Val sGroup="3">300</Val>', ''), "each of the 3 setting groups"),
    (('<SettingControl numOfSGs="3" actSG="1"/>', ''), "without a SettingControl"),
    (('<SettingControl numOfSGs="3" actSG="1"/>', '<SettingControl numOfSGs="3" actSG="4"/>'), "actSG=4"),
    (('<Log name="EventLog"/>', ''), "not a <Log> of this LN"),
    (('logName="EventLog"', 'logName="EventLog" lnClass="GGIO" lnInst="1"'), "another logical node"),
    (('datSet="Events" confRev="1" appID', 'datSet="Nope" confRev="1" appID'), "datSet 'Nope'"),
    (('<P type="MAC-Address">01-0C-CD-01-00-01</P>', '<P type="MAC-Address">01-0C-CD-01</P>'), "bad address"),
    (('<MinTime unit="s" multiplier="m">4</MinTime>', '<MinTime unit="s" multiplier="k">4</MinTime>'), "multiplier"),
    (('smpMod="SmpPerPeriod"', 'smpMod="SmpPerFortnight"'), "smpMod"),
])
def test_sclmodel_rejects_control_blocks_it_would_misread(tmp_path: Any, mutation: tuple[str, str],
                                                          message: str) -> None:
    text = open(simple_io_path()).read()
    assert mutation[0] in text
    bad = tmp_path / "bad.icd"
    bad.write_text(text.replace(mutation[0], mutation[1], 1))
    with pytest.raises(SclModelError, match=r"bad\.icd:?\d*: .*" + re.escape(message)):
        SclModel(bad)


def service_client(kind: str, peer: Any) -> Any:
    from peers.clients import PyiecServiceClient, RustServiceSession

    if kind == "pyiec":
        return PyiecServiceClient(peer.host, peer.port)
    return RustServiceSession(peer.host, peer.port)


@pytest.mark.parametrize("client", ["pyiec", "rust"])
@pytest.mark.parametrize("kind", ["libiec", "rust"])
def test_setting_groups(start_peer_server: Any, kind: str, client: str) -> None:
    from peers.clients import PeerServiceError

    peer = start_peer_server(kind)
    c = service_client(client, peer)
    try:
        sgcb = c.read_sgcb("TESTLD0")
        assert (sgcb["num_of_sg"], sgcb["act_sg"], sgcb["edit_sg"], sgcb["cnf_edit"]) == (3, 1, 0, False)
        assert sgcb["resv_tms"] == (0 if kind == "libiec" else None)  # the Rust SGCB has no ResvTms
        assert (c.read_value(STR_VAL, "SG"), c.read_value(OP_DL, "SG")) == (1.5, 100)
        before = time.time()
        c.select_active_sg("TESTLD0", 2)
        sgcb = c.read_sgcb("TESTLD0/LLN0")
        assert sgcb["act_sg"] == 2 and abs(sgcb["lact_tm_ms"] / 1000 - before) < 5
        assert (c.read_value(STR_VAL, "SG"), c.read_value(OP_DL, "SG")) == (2.5, 200)
        assert peer.sg_state("LD0")["act"] == 2
        for bad in (0, 4):
            with pytest.raises(PeerServiceError) as err:
                c.select_active_sg("TESTLD0", bad)
            assert err.value.code == L.IED_ERROR_OBJECT_VALUE_INVALID
        # the server's handler refuses: object-access-denied, nothing changes
        peer.sg_veto("TESTLD0", True)
        with pytest.raises(PeerServiceError) as err:
            c.select_active_sg("TESTLD0", 3)
        assert err.value.code == L.IED_ERROR_ACCESS_DENIED
        assert c.read_sgcb("TESTLD0")["act_sg"] == 2 and c.read_value(OP_DL, "SG") == 200
        peer.sg_veto("TESTLD0", False)
        peer.sg_veto("TESTLD0", True, "edit")
        with pytest.raises(PeerServiceError) as err:
            c.select_edit_sg("TESTLD0", 3)
        assert err.value.code == L.IED_ERROR_ACCESS_DENIED
        peer.sg_veto("TESTLD0", False, "edit")
        # edit group 3 and confirm
        c.select_edit_sg("TESTLD0", 3)
        assert c.read_sgcb("TESTLD0")["edit_sg"] == 3
        if kind == "libiec":
            assert c.read_sgcb("TESTLD0")["resv_tms"] > 0  # reserved while editing
            assert c.read_value(OP_DL, "SE") == 300  # SE shows the group being edited
            c.write_value(OP_DL, "SE", "INT32", 345)
            c.write_value(STR_VAL, "SE", "FLOAT32", 3.75)
        else:
            assert c.read_value(OP_DL, "SE") == 200  # the Rust server shows the active group in SE
            with pytest.raises(PeerServiceError) as err:
                c.write_value(OP_DL, "SE", "INT32", 345)
            assert err.value.code == L.IED_ERROR_OBJECT_DOES_NOT_EXIST  # it exposes no SE data
        c.confirm_edit_sg("TESTLD0")
        assert c.read_sgcb("TESTLD0")["edit_sg"] == 0  # both peers end the edit on confirm
        c.select_active_sg("TESTLD0", 3)
        expect = (3.75, 345) if kind == "libiec" else (3.5, 300)
        assert (c.read_value(STR_VAL, "SG"), c.read_value(OP_DL, "SG")) == expect
        assert peer.sg_value(OP_DL, 3) == expect[1]
        with pytest.raises(PeerServiceError) as err:  # NumOfSG is read-only
            c.write_value("TESTLD0/LLN0.SGCB.NumOfSG", "SP", "INT8U", 2)
        assert err.value.code == L.IED_ERROR_ACCESS_DENIED
    finally:
        c.close()


@pytest.mark.parametrize("client", ["pyiec", "rust"])
def test_lcb_attributes(peer_server: Any, client: str) -> None:
    c = service_client(client, peer_server)
    try:
        lcb = c.read_lcb(LCB)
    finally:
        c.close()
    assert lcb["log_ena"] is True
    assert lcb["trg_ops"] == 1 | 2  # dchg, qchg
    assert lcb["intg_pd"] == 0
    assert lcb["log_ref"] == peer_server.journal_ref(LCB)
    if peer_server.name == "libiec":
        assert lcb["log_ref"] == "TESTGenericIO/LLN0$EventLog"
        assert lcb["dataset"] == "TESTGenericIO/LLN0$Events"
        # an empty log: entry ids 0, times at the BINARY_TIME epoch 1984-01-01
        assert (lcb["old_entry"], lcb["new_entry"]) == ("00" * 8, "00" * 8)
        assert lcb["old_entry_time_ms"] == lcb["new_entry_time_ms"] == 441763200000
    else:  # the Rust LCB has LogEna, LogRef, DatSet, TrgOps, IntgPd only
        assert lcb["log_ref"] == "TESTGenericIO/LLN0$LG$EventLog"
        assert lcb["dataset"] == "LLN0$Events"
        assert [k for k, v in lcb.items() if v is None] == ["old_entry_time_ms", "new_entry_time_ms", "old_entry",
                                                            "new_entry"]


@pytest.mark.parametrize("client", ["pyiec", "rust"])
@pytest.mark.parametrize("kind", ["libiec", "rust"])
def test_lcb_writes(start_peer_server: Any, kind: str, client: str) -> None:
    from peers.clients import PeerServiceError

    peer = start_peer_server(kind)
    c = service_client(client, peer)
    try:
        if kind == "libiec":
            c.set_lcb(LCB, log_ena=False)
            c.set_lcb(LCB, intg_pd=5000)
            lcb = c.read_lcb(LCB)
            assert (lcb["log_ena"], lcb["intg_pd"]) == (False, 5000)
        else:  # every LCB write: object-access-unsupported
            with pytest.raises(PeerServiceError) as err:
                c.set_lcb(LCB, log_ena=False)
            assert err.value.code == L.IED_ERROR_OBJECT_ACCESS_UNSUPPORTED
            assert c.read_lcb(LCB)["log_ena"] is True
    finally:
        c.close()


@pytest.mark.parametrize("client", ["pyiec", "rust"])
def test_logs_on_the_rust_server(start_peer_server: Any, client: str) -> None:
    from peers.clients import PeerServiceError

    peer = start_peer_server("rust")
    t0 = 1_700_000_000_000
    ids = []
    ids.append(peer.log_value(LCB, "TESTGenericIO/GGIO1.Ind1.stVal", "ST", True, time_ms=t0)[0])
    ids.append(peer.log_value(LCB, "TESTGenericIO/GGIO1.Ind2.stVal", "ST", False, reason=2, time_ms=t0 + 1000)[0])
    eid, data_ref = peer.log_value(LCB, "TESTGenericIO/GGIO1.AnIn1.mag.f", "MX", 2.5, reason=1 | 16, time_ms=t0 + 2000)
    ids.append(eid)
    assert data_ref == "TESTGenericIO/GGIO1$MX$AnIn1$mag$f"
    assert ids == [i.to_bytes(8, "big") for i in (1, 2, 3)]
    journal = peer.journal_ref(LCB)
    c = service_client(client, peer)
    try:
        entries, more = c.query_log_by_time(journal, t0, t0 + 10_000)
        assert more is False
        assert [(e["entry_id"], e["time_ms"]) for e in entries] == [(i.hex(), t0 + 1000 * n) for n, i in enumerate(ids)]
        assert [e["variables"] for e in entries] == [
            [{"ref": "TESTGenericIO/GGIO1$ST$Ind1$stVal", "value": True, "reason": 1}],
            [{"ref": "TESTGenericIO/GGIO1$ST$Ind2$stVal", "value": False, "reason": 2}],
            [{"ref": "TESTGenericIO/GGIO1$MX$AnIn1$mag$f", "value": 2.5, "reason": 1 | 16}],
        ]
        # the time range is inclusive at both ends
        assert [e["time_ms"] for e in c.query_log_by_time(journal, t0 + 1000, t0 + 2000)[0]] == [t0 + 1000, t0 + 2000]
        assert c.query_log_by_time(journal, t0 + 3000, t0 + 9000) == ([], False)
        after, more = c.query_log_after(journal, ids[0], t0)
        assert [e["entry_id"] for e in after] == [ids[1].hex(), ids[2].hex()] and more is False
        # LogEna FALSE: nothing is logged
        peer.log_enable(LCB, False)
        assert peer.log_value(LCB, "TESTGenericIO/GGIO1.Ind1.stVal", "ST", False) == (None, "")
        assert len(c.query_log_by_time(journal, 0, 2**41)[0]) == 3
        with pytest.raises(PeerServiceError) as err:  # the SCL log name is not the Rust journal
            c.query_log_by_time("TESTGenericIO/LLN0$EventLog", 0, 2**41)
        assert err.value.code == L.IED_ERROR_OBJECT_DOES_NOT_EXIST
    finally:
        c.close()


@pytest.mark.parametrize("client", ["pyiec", "rust"])
def test_libiec_log_has_no_entries(libiec_server: Any, client: str) -> None:
    from peers.clients import PeerServiceError

    c = service_client(client, libiec_server)
    try:
        # the wheel has no log storage: the journal exists and is always empty
        assert c.query_log_by_time("TESTGenericIO/LLN0$EventLog", 0, 2**41) == ([], False)
        with pytest.raises(PeerServiceError) as err:
            c.query_log_by_time("TESTGenericIO/LLN0$NoSuchLog", 0, 2**41)
        assert err.value.code == L.IED_ERROR_OBJECT_DOES_NOT_EXIST
    finally:
        c.close()


def test_gocb_and_svcb_on_libiec(start_peer_server: Any) -> None:
    from peers.clients import PeerServiceError

    peer = start_peer_server("libiec")
    (_, gc), = peer.model.gse_controls(GENERIC)
    c = service_client("pyiec", peer)
    try:
        gocb = c.read_gocb(GOCB)
        assert gocb == {
            "go_ena": False, "go_id": gc.app_id, "dataset": "TESTGenericIO/LLN0$Events", "conf_rev": 1,
            "nds_com": False, "min_time": 4, "max_time": 1000, "fixed_offs": False,
            "dst_address": {"mac": "01-0C-CD-01-00-01", "appid": 0x1001, "vlan_id": 5, "vlan_priority": 4},
        }
        c.set_gocb(GOCB, go_ena=True)
        assert c.read_gocb(GOCB)["go_ena"] is True
        c.set_gocb(GOCB, go_ena=False)
        with pytest.raises(PeerServiceError) as err:  # libiec61850 takes GoEna writes only
            c.set_gocb(GOCB, go_id="other")
        assert err.value.code == L.IED_ERROR_ACCESS_DENIED
        assert c.read_gocb(GOCB) == gocb
        svcb = c.read_svcb(MSVCB)
        assert svcb == {
            "multicast": True, "sv_ena": False, "resv": None, "sv_id": "TESTMeas",
            "dataset": "TESTGenericIO/LLN0$Measurements", "conf_rev": 1, "smp_rate": 80, "opt_flds": 0b110,
            "smp_mod": 0, "no_asdu": 1,
            "dst_address": {"mac": "01-0C-CD-04-00-01", "appid": 0x4001, "vlan_id": 0, "vlan_priority": 4},
        }
        c.set_svcb(MSVCB, sv_ena=True)
        assert c.read_svcb(MSVCB)["sv_ena"] is True
    finally:
        c.close()


def test_rust_server_has_no_gocb(rust_server: Any) -> None:
    from peers.clients import PeerServiceError

    c = service_client("pyiec", rust_server)
    try:
        with pytest.raises(PeerServiceError):
            c.read_gocb(GOCB)
        with pytest.raises(PeerServiceError):
            c.read_svcb(MSVCB)
    finally:
        c.close()
