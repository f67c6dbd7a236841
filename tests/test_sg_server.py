"""The peers' clients use OUR server's setting groups: pyiec61850-ng (SGCB reads, ActSG /
EditSG / CnfEdit writes, SE writes; in a child process, :class:`peers.clients.PyiecServiceClient`,
since our handlers need the GIL that the binding keeps while it waits) and the Rust-based
``iec61850`` client (:class:`peers.clients.RustServiceSession`: ``write_uint32`` of ActSG /
EditSG, ``write_bool`` of CnfEdit).

Our :class:`~py61850.server.IedServer` runs in this process on ``examples/simple_io.icd``:
TESTLD0 has 3 setting groups (group 1 active), PTOC1.StrVal.setMag.f 1.5 / 2.5 / 3.5 and
PTOC1.OpDlTmms.setVal 100 / 200 / 300. :meth:`IedServer.on_setting_group` handlers record
and veto.
"""
from __future__ import annotations

import time
from typing import Any, Iterator

import pytest

from peers.clients import PeerServiceError, PyiecServiceClient, RustServiceSession
from peers.process import DEFAULT_SCL
from py61850.server import IedServer, SettingGroupChange, SettingGroupEdit, SettingGroupRefused

import pyiec61850.pyiec61850 as L  # noqa: N812  (after the peers import, as the peers do)

LD = "TESTLD0"
STR = f"{LD}/PTOC1.StrVal.setMag.f"
DLY = f"{LD}/PTOC1.OpDlTmms.setVal"


@pytest.fixture
def server() -> Iterator[IedServer]:
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(0, "127.0.0.1")
    yield srv
    srv.close()


def client(kind: str, srv: IedServer) -> Any:
    if kind == "pyiec":
        return PyiecServiceClient("127.0.0.1", srv.port)
    return RustServiceSession("127.0.0.1", srv.port)


class Recorder:
    """on_setting_group handlers that record, refusing group ``veto`` and confirms of
    StrVal above ``max_str``."""

    def __init__(self, srv: IedServer, veto: int = 0, max_str: float = 1e9) -> None:
        self.changes: list[SettingGroupChange] = []
        self.edits: list[SettingGroupEdit] = []
        self.veto = veto
        self.max_str = max_str
        srv.on_setting_group(LD, on_activate=self.activate, on_confirm=self.confirm)

    def activate(self, change: SettingGroupChange) -> None:
        self.changes.append(change)
        if change.new_sg == self.veto:
            raise SettingGroupRefused(message="vetoed by the test")

    def confirm(self, edit: SettingGroupEdit) -> bool:
        self.edits.append(edit)
        return edit.values[STR] <= self.max_str


@pytest.mark.parametrize("kind", ["pyiec", "rust"])
def test_sgcb_reads_as_the_scl_says(server: IedServer, kind: str) -> None:
    c = client(kind, server)
    try:
        sgcb = c.read_sgcb(LD)
        values = [c.read_value(STR, "SG"), c.read_value(DLY, "SG")]
    finally:
        c.close()
    assert (sgcb["num_of_sg"], sgcb["act_sg"], sgcb["edit_sg"], sgcb["cnf_edit"]) == (3, 1, 0, False)
    assert sgcb["resv_tms"] == server.sgcb(LD).resv_tms
    assert abs(sgcb["lact_tm_ms"] - server.sgcb(LD).lact_tm.timestamp() * 1000) < 1000
    assert values == [1.5, 100]


@pytest.mark.parametrize("kind", ["pyiec", "rust"])
def test_switch_active_group_with_a_veto(server: IedServer, kind: str) -> None:
    rec = Recorder(server, veto=3)
    c = client(kind, server)
    try:
        before = time.time()
        c.select_active_sg(LD, 2)
        sgcb = c.read_sgcb(LD)
        assert sgcb["act_sg"] == 2 and abs(sgcb["lact_tm_ms"] / 1000 - before) < 5
        assert (c.read_value(STR, "SG"), c.read_value(DLY, "SG")) == (2.5, 200)
        with pytest.raises(PeerServiceError) as err:
            c.select_active_sg(LD, 3)
        assert err.value.code == L.IED_ERROR_ACCESS_DENIED
        for bad in (0, 4):
            with pytest.raises(PeerServiceError) as err:
                c.select_active_sg(LD, bad)
            assert err.value.code == L.IED_ERROR_OBJECT_VALUE_INVALID
        assert c.read_sgcb(LD)["act_sg"] == 2 and c.read_value(DLY, "SG") == 200
    finally:
        c.close()
    assert [(ch.old_sg, ch.new_sg) for ch in rec.changes] == [(1, 2), (2, 3)]  # invalid groups never reach it
    assert server.sgcb(LD).act_sg == 2


def test_pyiec_edits_and_confirms(server: IedServer) -> None:
    rec = Recorder(server, max_str=10.0)
    with PyiecServiceClient("127.0.0.1", server.port) as c:
        c.select_edit_sg(LD, 3)
        sgcb = c.read_sgcb(LD)
        assert (sgcb["edit_sg"], sgcb["cnf_edit"]) == (3, False)
        assert c.read_value(DLY, "SE") == 300  # SE shows the group being edited
        c.write_value(DLY, "SE", "INT32", 345)
        c.write_value(STR, "SE", "FLOAT32", 30.5)
        with pytest.raises(PeerServiceError) as err:  # the handler refuses StrVal > 10
            c.confirm_edit_sg(LD)
        assert err.value.code == L.IED_ERROR_ACCESS_DENIED
        assert server.get_sg_value(DLY, 3) == 300
        c.write_value(STR, "SE", "FLOAT32", 3.75)
        c.confirm_edit_sg(LD)
        assert (server.get_sg_value(STR, 3), server.get_sg_value(DLY, 3)) == (3.75, 345)
        assert c.read_value(DLY, "SG") == 100  # group 1 is still active
        assert (c.read_sgcb(LD)["edit_sg"], c.read_sgcb(LD)["cnf_edit"]) == (0, True)  # the confirm ends the edit
        c.select_active_sg(LD, 3)
        assert (c.read_value(STR, "SG"), c.read_value(DLY, "SG")) == (3.75, 345)
        with pytest.raises(PeerServiceError) as err:  # NumOfSG is read-only
            c.write_value(f"{LD}/LLN0.SGCB.NumOfSG", "SP", "INT8U", 2)
        assert err.value.code == L.IED_ERROR_ACCESS_DENIED
    assert [(e.sg, e.values) for e in rec.edits] == [(3, {STR: 30.5, DLY: 345}), (3, {STR: 3.75, DLY: 345})]
    assert rec.edits[0].connection.host == "127.0.0.1"


def test_pyiec_edit_reservation_is_per_client(server: IedServer) -> None:
    with PyiecServiceClient("127.0.0.1", server.port) as a, PyiecServiceClient("127.0.0.1", server.port) as b:
        a.select_edit_sg(LD, 2)
        with pytest.raises(PeerServiceError) as err:
            b.select_edit_sg(LD, 2)
        assert err.value.code == L.IED_ERROR_TEMPORARILY_UNAVAILABLE
        with pytest.raises(PeerServiceError) as err:
            b.write_value(STR, "SE", "FLOAT32", 9.0)
        assert err.value.code == L.IED_ERROR_TEMPORARILY_UNAVAILABLE
        a.write_value(STR, "SE", "FLOAT32", 2.25)
        a.confirm_edit_sg(LD)
        b.select_edit_sg(LD, 2)  # free again: the confirm ended a's reservation
        assert b.read_value(STR, "SE") == 2.25
    assert server.get_sg_value(STR, 2) == 2.25


def test_rust_switches_and_confirms(server: IedServer) -> None:
    rec = Recorder(server)
    with RustServiceSession("127.0.0.1", server.port) as c:
        c.select_active_sg(LD, 3)
        assert c.read_sgcb(LD)["act_sg"] == 3
        assert (c.read_value(STR, "SG"), c.read_value(DLY, "SG")) == (3.5, 300)
        c.select_edit_sg(LD, 1)
        assert c.read_value(DLY, "SE") == 100
        c.write_value(DLY, "SE", "INT32", 111)
        c.confirm_edit_sg(LD)
        assert c.read_sgcb(LD)["edit_sg"] == 0
    assert server.get_sg_value(DLY, 1) == 111
    assert [(ch.old_sg, ch.new_sg) for ch in rec.changes] == [(1, 3)]
    assert [(e.sg, e.values[DLY]) for e in rec.edits] == [(1, 111)]
