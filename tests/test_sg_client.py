"""Setting groups, our client (py61850.client), against both peer servers.

``examples/simple_io.icd`` gives ``TESTLD0`` a SettingControl (3 groups, group 1 active)
and ``PTOC1`` two FC SG attributes with per-group values (``Val sGroup``):
``StrVal.setMag.f`` 1.5 / 2.5 / 3.5 and ``OpDlTmms.setVal`` 100 / 200 / 300.

* Both peers: read the SGCB, switch ActSG and see the SG values change, a refused switch
  (the peer's ``sgveto`` command makes its handler refuse; a group that does not exist).
* libiec61850: SelectEditSG, SE writes, ConfirmEditSGValues, and the confirmed values
  becoming the active ones; a second client cannot take the edit.
* Rust-based server: it exposes no FC SE data, so only the SelectEditSG / confirm calls
  are checked (its handlers record them: ``sgevents``).

Tests that change the SGCB use private servers (``start_peer_server``).
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Any, Callable

import pytest

from peers.process import PeerServer
from py61850.client import (
    FunctionalConstraint as FC,
    IedClientError as E,
    IedConnection,
    IedConnectionException,
    MmsValue,
    ObjectReferenceInvalidError,
    SettingGroupControlBlock,
    SGCBElement,
)

LD = "TESTLD0"
STRVAL = f"{LD}/PTOC1.StrVal.setMag.f"
OPDL = f"{LD}/PTOC1.OpDlTmms.setVal"
GROUPS = {1: (1.5, 100), 2: (2.5, 200), 3: (3.5, 300)}
WAIT = 5.0


def connect(peer: PeerServer) -> IedConnection:
    conn = IedConnection()
    conn.connect(peer.host, peer.port)
    return conn


def sg_values(conn: IedConnection, fc: FC = FC.SG) -> tuple[float, int]:
    return conn.read_float(STRVAL, fc), conn.read_int32(OPDL, fc)


def eventually(fn: Callable[[], Any], want: Any, timeout: float = WAIT) -> Any:
    """``fn()`` once it returns ``want`` (libiec61850 may apply group values from its
    own thread); the last result otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


# ------------------------------------------------------------------ unit


def test_ld_argument_forms_and_errors():
    from py61850._cb import sgcb_ld

    for form in ("TESTLD0", "TESTLD0/LLN0", "TESTLD0/LLN0.SGCB", "TESTLD0/LLN0.SP.SGCB", "TESTLD0/LLN0$SP$SGCB",
                 b"TESTLD0", " TESTLD0 "):
        assert sgcb_ld(form) == "TESTLD0"
    conn = IedConnection()
    for bad in ("", "TESTLD0/GGIO1", "TESTLD0/LLN0.RP.SGCB", "/LLN0", "TEST LD0"):
        with pytest.raises(ObjectReferenceInvalidError):
            conn.read_sgcb(bad)
    with pytest.raises(IedConnectionException) as ei:
        conn.select_active_sg(LD, 256)
    assert ei.value.error_code == E.USER_PROVIDED_INVALID_ARGUMENT
    with pytest.raises(IedConnectionException):
        conn.select_edit_sg(LD, -1)
    with pytest.raises(TypeError):
        conn.select_active_sg(LD, True)
    with pytest.raises(TypeError):
        conn.select_active_sg(LD, "2")  # type: ignore[arg-type]
    with pytest.raises(IedConnectionException) as ei:
        conn.select_active_sg(LD, 2)
    assert ei.value.error_code == E.NOT_CONNECTED
    with pytest.raises(TypeError):
        SettingGroupControlBlock()


# ------------------------------------------------------------------ both peers


def test_read_sgcb(peer_server: PeerServer):
    conn = connect(peer_server)
    try:
        for form in (LD, f"{LD}/LLN0"):
            sgcb = conn.read_sgcb(form)
            assert sgcb.reference == f"{LD}/LLN0.SP.SGCB"
            assert sgcb.ld == LD
            assert sgcb.num_of_sg == 3
            assert sgcb.act_sg == 1
            assert sgcb.edit_sg == 0
            assert sgcb.cnf_edit is False
            assert sgcb.lact_tm is None or isinstance(sgcb.lact_tm, dt.datetime)
            if peer_server.name == "libiec":  # Edition 2: ResvTms
                assert sgcb.has(SGCBElement.RESV_TMS) and isinstance(sgcb.resv_tms, int)
            else:  # the Rust server's SGCB has no ResvTms
                assert not sgcb.has("ResvTms") and sgcb.resv_tms is None
            d = sgcb.to_dict()
            assert d["num_of_sg"] == 3 and d["act_sg"] == 1 and d["reference"] == sgcb.reference
        assert sg_values(conn) == GROUPS[1]
        with pytest.raises(AttributeError):
            sgcb.act_sg = 2  # type: ignore[misc]  # read only: use select_active_sg
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["libiec", "rust"])
def test_select_active_sg_switches_values(start_peer_server, kind):
    peer = start_peer_server(kind)
    conn = connect(peer)
    try:
        sgcb = conn.read_sgcb(LD)
        before = sgcb.lact_tm
        for sg in (2, 3, 1, 3):
            conn.select_active_sg(LD, sg)
            sgcb.refresh()
            assert sgcb.act_sg == sg
            assert eventually(lambda: sg_values(conn), GROUPS[sg]) == GROUPS[sg]
            assert peer.sg_state(LD)["act"] == sg
        if before is not None and sgcb.lact_tm is not None and before.timestamp() > 0:
            assert sgcb.lact_tm >= before
        assert conn.read_sgcb(LD).act_sg == 3  # another read agrees
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["libiec", "rust"])
def test_select_active_sg_refused(start_peer_server, kind):
    peer = start_peer_server(kind)
    conn = connect(peer)
    try:
        for bad in (0, 4):  # no such group
            with pytest.raises(IedConnectionException) as ei:
                conn.select_active_sg(LD, bad)
            assert ei.value.error_code == E.OBJECT_VALUE_INVALID
            assert ei.value.reference == f"{LD}/LLN0.SP.SGCB.ActSG"
            assert "select_active_sg" in str(ei.value)
        peer.sg_veto(LD, True)
        with pytest.raises(IedConnectionException) as ei:
            conn.select_active_sg(LD, 2)
        assert ei.value.error_code == E.ACCESS_DENIED
        assert conn.read_sgcb(LD).act_sg == 1
        assert sg_values(conn) == GROUPS[1]
        peer.sg_veto(LD, False)
        conn.select_active_sg(LD, 2)
        assert conn.read_sgcb(LD).act_sg == 2
    finally:
        conn.close()


# ------------------------------------------------------------------ editing (libiec61850)


def test_edit_and_confirm_libiec(start_peer_server):
    peer = start_peer_server("libiec")
    conn = connect(peer)
    try:
        conn.select_edit_sg(LD, 3)
        sgcb = conn.read_sgcb(LD)
        assert sgcb.edit_sg == 3 and sgcb.act_sg == 1
        assert eventually(lambda: sg_values(conn, FC.SE), GROUPS[3]) == GROUPS[3]  # SE shows group 3
        conn.write_value(STRVAL, FC.SE, MmsValue.float32(3.75))
        conn.write_int32(OPDL, FC.SE, 333)
        assert sg_values(conn, FC.SE) == (3.75, 333)
        assert sg_values(conn) == GROUPS[1]  # the active group is untouched
        conn.confirm_edit_sg_values(LD)
        assert peer.sg_value(STRVAL, 3) == 3.75
        assert peer.sg_value(OPDL, 3) == 333
        assert peer.sg_value(OPDL, 2) == 200
        assert conn.read_sgcb(LD).edit_sg == 0  # libiec61850 ends the edit with the confirm
        conn.select_active_sg(LD, 3)
        assert eventually(lambda: sg_values(conn), (3.75, 333)) == (3.75, 333)
        conn.select_edit_sg(LD, 2)
        conn.select_edit_sg(LD, 0)  # release without confirming
        assert conn.read_sgcb(LD).edit_sg == 0
        assert peer.sg_value(OPDL, 2) == 200
    finally:
        conn.close()


def test_edit_of_the_active_group_applies_at_once_libiec(start_peer_server):
    peer = start_peer_server("libiec")
    conn = connect(peer)
    try:
        conn.select_edit_sg(LD, 1)
        conn.write_int32(OPDL, FC.SE, 150)
        assert conn.read_int32(OPDL, FC.SG) == 100  # not before the confirm
        conn.confirm_edit_sg_values(LD)
        assert eventually(lambda: conn.read_int32(OPDL, FC.SG), 150) == 150
    finally:
        conn.close()


def test_edit_refusals_libiec(start_peer_server):
    peer = start_peer_server("libiec")
    conn = connect(peer)
    other = connect(peer)
    try:
        # SE writes without an edit reservation are refused
        with pytest.raises(IedConnectionException) as ei:
            conn.write_int32(OPDL, FC.SE, 1)
        assert ei.value.error_code != E.OK
        conn.select_edit_sg(LD, 2)
        with pytest.raises(IedConnectionException) as ei:
            other.select_edit_sg(LD, 3)  # another client is editing
        assert ei.value.reference == f"{LD}/LLN0.SP.SGCB.EditSG"
        with pytest.raises(IedConnectionException):
            other.write_int32(OPDL, FC.SE, 1)  # not its reservation
        assert conn.read_sgcb(LD).edit_sg == 2
        conn.select_edit_sg(LD, 0)
        other.select_edit_sg(LD, 3)  # free again
        assert other.read_sgcb(LD).edit_sg == 3
        # the handler's veto of an edit
        other.select_edit_sg(LD, 0)
        peer.sg_veto(LD, True, "edit")
        with pytest.raises(IedConnectionException):
            conn.select_edit_sg(LD, 2)
        peer.sg_veto(LD, False, "edit")
        with pytest.raises(IedConnectionException):
            conn.select_edit_sg(LD, 9)  # no such group
    finally:
        other.close()
        conn.close()


# ------------------------------------------------------------------ Rust peer


def test_edit_calls_rust(start_peer_server):
    """The Rust server has no SE data; its SGCB still takes SelectEditSG and the confirm."""
    peer = start_peer_server("rust")
    conn = connect(peer)
    try:
        conn.select_edit_sg(LD, 2)
        assert conn.read_sgcb(LD).edit_sg == 2
        assert peer.sg_state(LD)["edit"] == 2
        with pytest.raises(IedConnectionException) as ei:
            conn.write_int32(OPDL, FC.SE, 250)  # no SE data on this server
        assert ei.value.error_code == E.OBJECT_DOES_NOT_EXIST
        conn.confirm_edit_sg_values(LD)
        events = peer.command(f"sgevents {LD}").split()
        assert [e.split(":")[:2] for e in events] == [["edit", "2"], ["confirm", "2"]]
        assert conn.read_sgcb(LD).edit_sg == 0  # the confirm ends the edit
        assert sg_values(conn) == GROUPS[1]
    finally:
        conn.close()
