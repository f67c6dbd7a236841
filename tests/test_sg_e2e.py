"""Setting groups end to end: OUR client (read_sgcb, select_active_sg, select_edit_sg, SE
writes, confirm_edit_sg_values, SG reads) against OUR server (SettingControl and
``Val sGroup`` from SCL, the SGCB state machine, :meth:`IedServer.on_setting_group`), both
in this process on 127.0.0.1, and the setting group section of ``py61850 demo``.

Model: ``examples/simple_io.icd``: TESTLD0/LLN0 has a SettingControl with 3 groups, group 1
active; TESTLD0/PTOC1.StrVal.setMag.f (FLOAT32) is 1.5 / 2.5 / 3.5 and
TESTLD0/PTOC1.OpDlTmms.setVal (INT32) 100 / 200 / 300 in groups 1 / 2 / 3.
"""
from __future__ import annotations

import datetime as dt
import io
import threading
import time
from typing import Any, Iterator

import pytest

from peers.process import DEFAULT_SCL
from py61850.client import (
    FunctionalConstraint as FC,
    IedClientError,
    IedConnection,
    IedConnectionException,
)
from py61850.server import (
    DataAccessError,
    IedServer,
    SettingGroupChange,
    SettingGroupEdit,
    SettingGroupRefused,
    SettingGroupState,
)

LD = "TESTLD0"
STR = f"{LD}/PTOC1.StrVal.setMag.f"
DLY = f"{LD}/PTOC1.OpDlTmms.setVal"
GROUPS = {1: (1.5, 100), 2: (2.5, 200), 3: (3.5, 300)}
UTC = dt.timezone.utc


@pytest.fixture
def server() -> Iterator[IedServer]:
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(0, "127.0.0.1")
    yield srv
    srv.close()


@pytest.fixture
def conn(server: IedServer) -> Iterator[IedConnection]:
    with IedConnection("127.0.0.1", server.port) as c:
        yield c


def sg_values(conn: IedConnection, fc: FC = FC.SG) -> tuple[float, int]:
    return conn.read_float(STR, fc), conn.read_int32(DLY, fc)


def code(exc: pytest.ExceptionInfo[IedConnectionException]) -> IedClientError:
    return exc.value.error_code


# ----------------------------------------------------------------- reading


def test_sgcb_and_group_values_come_from_the_scl(server: IedServer, conn: IedConnection) -> None:
    sgcb = conn.read_sgcb(LD)
    assert sgcb.reference == f"{LD}/LLN0.SP.SGCB"
    assert (sgcb.num_of_sg, sgcb.act_sg, sgcb.edit_sg, sgcb.cnf_edit) == (3, 1, 0, False)
    assert isinstance(sgcb.lact_tm, dt.datetime)
    assert conn.read_sgcb(f"{LD}/LLN0").act_sg == 1
    assert sg_values(conn) == GROUPS[1]
    assert server.setting_group_lds == [LD]
    for g, (f, i) in GROUPS.items():
        assert server.get_sg_value(STR, g) == f
        assert server.get_sg_value(DLY, g) == i
    state = server.sgcb(LD)
    assert isinstance(state, SettingGroupState)
    assert (state.num_of_sg, state.act_sg, state.edit_sg, state.cnf_edit, state.edit_connection_id) == (3, 1, 0, False, 0)
    assert server.sgcb("LD0") == server.sgcb(f"{LD}/LLN0") == state  # the inst and the LLN0 spelling


def test_select_active_sg_switches_the_sg_values(server: IedServer, conn: IedConnection) -> None:
    t0 = dt.datetime.now(UTC) - dt.timedelta(seconds=1)
    conn.select_active_sg(LD, 2)
    sgcb = conn.read_sgcb(LD)
    assert sgcb.act_sg == 2
    assert sgcb.lact_tm >= t0
    assert sg_values(conn) == GROUPS[2]
    assert server.get_value(STR, "SG") == 2.5
    assert server.sgcb(LD).act_sg == 2
    conn.select_active_sg(LD, 3)
    assert sg_values(conn) == GROUPS[3]
    for bad in (0, 4):
        with pytest.raises(IedConnectionException) as exc:
            conn.select_active_sg(LD, bad)
        assert code(exc) in (IedClientError.OBJECT_VALUE_INVALID, IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    assert conn.read_sgcb(LD).act_sg == 3


def test_sg_values_are_not_writable(conn: IedConnection) -> None:
    with pytest.raises(IedConnectionException) as exc:
        conn.write_float(STR, FC.SG, 9.0)
    assert code(exc) == IedClientError.ACCESS_DENIED
    assert sg_values(conn) == GROUPS[1]


# ----------------------------------------------------------------- editing


def test_edit_and_confirm_the_active_group(server: IedServer, conn: IedConnection) -> None:
    conn.select_edit_sg(LD, 1)
    sgcb = conn.read_sgcb(LD)
    assert (sgcb.edit_sg, sgcb.cnf_edit) == (1, False)
    assert sg_values(conn, FC.SE) == GROUPS[1]  # SE shows the group being edited
    conn.write_float(STR, FC.SE, 1.75)
    conn.write_int32(DLY, FC.SE, 125)
    assert sg_values(conn) == GROUPS[1]  # nothing applied before the confirm
    conn.confirm_edit_sg_values(LD)
    assert sg_values(conn) == (1.75, 125)  # active group: SG follows
    assert (server.get_sg_value(STR, 1), server.get_sg_value(DLY, 1)) == (1.75, 125)
    # the confirm ends the reservation (as libiec61850 and the Rust server do)
    state = server.sgcb(LD)
    assert (state.edit_sg, state.cnf_edit, state.edit_connection_id) == (0, True, 0)
    sgcb = conn.read_sgcb(LD)
    assert (sgcb.edit_sg, sgcb.cnf_edit) == (0, True)
    with pytest.raises(IedConnectionException):  # a second confirm: nothing is being edited
        conn.confirm_edit_sg_values(LD)


def test_edit_reservation_belongs_to_its_client(server: IedServer, conn: IedConnection) -> None:
    conn.select_edit_sg(LD, 2)
    state = server.sgcb(LD)
    assert state.edit_sg == 2 and state.edit_connection_id != 0 and state.cnf_edit is False
    conn.select_edit_sg(LD, 0)  # released without a confirm
    assert (server.sgcb(LD).edit_sg, server.sgcb(LD).edit_connection_id) == (0, 0)


def test_edit_of_another_group_leaves_the_active_one(server: IedServer, conn: IedConnection) -> None:
    conn.select_edit_sg(LD, 3)
    assert sg_values(conn, FC.SE) == GROUPS[3]
    conn.write_float(STR, FC.SE, 4.25)
    conn.confirm_edit_sg_values(LD)
    assert sg_values(conn) == GROUPS[1]
    assert server.get_sg_value(STR, 3) == 4.25
    conn.select_active_sg(LD, 3)
    assert sg_values(conn) == (4.25, 300)


def test_edit_without_confirm_is_dropped(server: IedServer, conn: IedConnection) -> None:
    conn.select_edit_sg(LD, 2)
    conn.write_float(STR, FC.SE, 9.5)
    conn.select_edit_sg(LD, 0)
    assert server.get_sg_value(STR, 2) == 2.5
    conn.select_edit_sg(LD, 2)
    assert conn.read_float(STR, FC.SE) == 2.5


def test_se_writes_need_the_reservation(server: IedServer, conn: IedConnection) -> None:
    with pytest.raises(IedConnectionException) as exc:
        conn.write_float(STR, FC.SE, 7.0)
    assert code(exc) == IedClientError.TEMPORARILY_UNAVAILABLE
    conn.select_edit_sg(LD, 2)
    with IedConnection("127.0.0.1", server.port) as other:
        with pytest.raises(IedConnectionException) as exc:
            other.write_float(STR, FC.SE, 7.0)
        assert code(exc) == IedClientError.TEMPORARILY_UNAVAILABLE
        with pytest.raises(IedConnectionException) as exc:
            other.select_edit_sg(LD, 1)
        assert code(exc) == IedClientError.TEMPORARILY_UNAVAILABLE
        with pytest.raises(IedConnectionException):
            other.confirm_edit_sg_values(LD)
    assert server.get_sg_value(STR, 2) == 2.5


def test_reservation_ends_when_its_client_leaves(server: IedServer) -> None:
    with IedConnection("127.0.0.1", server.port) as first:
        first.select_edit_sg(LD, 2)
        assert server.sgcb(LD).edit_sg == 2
    deadline = time.monotonic() + 5
    while server.sgcb(LD).edit_sg != 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.sgcb(LD).edit_sg == 0
    with IedConnection("127.0.0.1", server.port) as second:
        second.select_edit_sg(LD, 1)
        second.write_float(STR, FC.SE, 1.25)
        second.confirm_edit_sg_values(LD)
    assert server.get_sg_value(STR, 1) == 1.25


def test_reservation_ends_after_resv_tms() -> None:
    model = sg_model(resv_tms=1)
    with IedServer.from_dict(model) as srv:
        srv.start(0, "127.0.0.1")
        assert srv.sgcb("SGLD0").resv_tms == 1
        with IedConnection("127.0.0.1", srv.port) as a, IedConnection("127.0.0.1", srv.port) as b:
            a.select_edit_sg("SGLD0", 2)
            with pytest.raises(IedConnectionException):
                b.select_edit_sg("SGLD0", 2)
            time.sleep(1.6)
            b.select_edit_sg("SGLD0", 2)  # a's reservation timed out
            b.write_int32("SGLD0/PTOC1.OpDlTmms.setVal", FC.SE, 42)
            b.confirm_edit_sg_values("SGLD0")
            with pytest.raises(IedConnectionException):
                a.confirm_edit_sg_values("SGLD0")
        assert srv.get_sg_value("SGLD0/PTOC1.OpDlTmms.setVal", 2) == 42


# ----------------------------------------------------------------- handlers


def test_on_activate_sees_the_change_and_may_refuse(server: IedServer) -> None:
    seen: list[SettingGroupChange] = []

    def activate(change: SettingGroupChange) -> Any:
        seen.append(change)
        if change.new_sg == 3:
            raise SettingGroupRefused(message="not group 3")
        if change.new_sg == 1:
            return False
        return None

    server.on_setting_group(LD, on_activate=activate)
    # a client that connects after a handler is set is known by its address
    with IedConnection("127.0.0.1", server.port) as conn:
        activations(server, conn, seen)


def activations(server: IedServer, conn: IedConnection, seen: list[SettingGroupChange]) -> None:
    conn.select_active_sg(LD, 2)
    for refused in (3, 1):
        with pytest.raises(IedConnectionException) as exc:
            conn.select_active_sg(LD, refused)
        assert code(exc) == IedClientError.ACCESS_DENIED
    assert conn.read_sgcb(LD).act_sg == 2
    assert sg_values(conn) == GROUPS[2]
    assert [(c.ld, c.old_sg, c.new_sg) for c in seen] == [(LD, 1, 2), (LD, 2, 3), (LD, 2, 1)]
    assert seen[0].connection.host == "127.0.0.1" and seen[0].connection.id != 0
    # local switching asks no handler
    server.select_active_sg(LD, 3)
    assert len(seen) == 3 and conn.read_sgcb(LD).act_sg == 3
    # removed: everything is accepted again
    server.on_setting_group(LD)
    conn.select_active_sg(LD, 1)
    assert conn.read_sgcb(LD).act_sg == 1 and len(seen) == 3


def test_on_activate_may_refuse_with_an_error_and_failures_are_counted(server: IedServer,
                                                                       conn: IedConnection) -> None:
    server.on_setting_group(LD, on_activate=lambda c: DataAccessError.OBJECT_VALUE_INVALID)
    with pytest.raises(IedConnectionException) as exc:
        conn.select_active_sg(LD, 2)
    assert code(exc) == IedClientError.OBJECT_VALUE_INVALID

    def broken(change: SettingGroupChange) -> None:
        raise RuntimeError("boom")

    server.on_setting_group(LD, on_activate=broken)
    before = server.handler_failures
    with pytest.raises(IedConnectionException) as exc:
        conn.select_active_sg(LD, 2)
    assert code(exc) == IedClientError.TEMPORARILY_UNAVAILABLE
    assert server.handler_failures == before + 1
    assert conn.read_sgcb(LD).act_sg == 1


def test_on_confirm_receives_the_values_and_may_refuse(server: IedServer) -> None:
    seen: list[SettingGroupEdit] = []

    def confirm(edit: SettingGroupEdit) -> bool:
        seen.append(edit)
        return edit.values[STR] <= 10.0

    server.on_setting_group(LD, on_confirm=confirm)
    with IedConnection("127.0.0.1", server.port) as conn:
        confirm_edits(server, conn, seen)


def confirm_edits(server: IedServer, conn: IedConnection, seen: list[SettingGroupEdit]) -> None:
    conn.select_edit_sg(LD, 2)
    conn.write_float(STR, FC.SE, 50.0)
    with pytest.raises(IedConnectionException) as exc:
        conn.confirm_edit_sg_values(LD)
    assert code(exc) == IedClientError.ACCESS_DENIED
    assert server.get_sg_value(STR, 2) == 2.5
    conn.write_float(STR, FC.SE, 5.0)
    conn.confirm_edit_sg_values(LD)
    assert server.get_sg_value(STR, 2) == 5.0
    assert [(e.ld, e.sg, e.values) for e in seen] == [
        (LD, 2, {STR: 50.0, DLY: 200}), (LD, 2, {STR: 5.0, DLY: 200})]
    assert seen[0].connection.host == "127.0.0.1"


def test_handlers_may_call_the_server(server: IedServer, conn: IedConnection) -> None:
    seen: list[Any] = []

    def activate(change: SettingGroupChange) -> None:
        # the state before the switch, and the values of the group that comes
        seen.append((server.sgcb(change.ld).act_sg, server.get_sg_value(STR, change.new_sg),
                     server.get_value(STR, "SG")))

    server.on_setting_group(LD, on_activate=activate)
    conn.select_active_sg(LD, 3)
    assert seen == [(1, 3.5, 1.5)]
    assert sg_values(conn) == GROUPS[3]


def test_slow_handler_does_not_block_other_clients(server: IedServer) -> None:
    release = threading.Event()

    def slow(change: SettingGroupChange) -> None:
        release.wait(5)

    server.on_setting_group(LD, on_activate=slow)
    errors: list[BaseException] = []

    def switch() -> None:
        try:
            with IedConnection("127.0.0.1", server.port) as c:
                c.select_active_sg(LD, 2)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=switch)
    t.start()
    try:
        with IedConnection("127.0.0.1", server.port) as other:
            t0 = time.monotonic()
            assert other.read_sgcb(LD).act_sg == 1
            assert other.read_float(STR, FC.SG) == 1.5
            assert time.monotonic() - t0 < 2.0
    finally:
        release.set()
        t.join(10)
    assert not errors
    assert server.sgcb(LD).act_sg == 2


def test_server_side_api(server: IedServer) -> None:
    server.set_sg_value(STR, 2, 2.75)
    assert server.get_sg_value(STR, 2) == 2.75
    assert server.get_value(STR, "SG") == 1.5  # group 2 is not active
    server.set_sg_value(STR, 1, 1.25)  # the active group: SG follows
    assert server.get_value(STR, "SG") == 1.25
    server.select_active_sg(LD, 2)
    assert server.get_value(STR, "SG") == 2.75
    assert server.sgcb(LD).act_sg == 2
    with pytest.raises(IedConnectionException):
        server.select_active_sg(LD, 9)
    with pytest.raises(ValueError):
        server.set_sg_value(STR, 1, "not a number")
    with pytest.raises(IedConnectionException) as exc:
        server.sgcb("TESTGenericIO")  # no SettingControl there
    assert code(exc) == IedClientError.OBJECT_DOES_NOT_EXIST
    with pytest.raises(IedConnectionException):
        server.on_setting_group("TESTGenericIO", on_activate=lambda c: None)
    with pytest.raises(TypeError):
        server.on_setting_group(LD, on_activate=42)  # type: ignore[arg-type]


# ----------------------------------------------------------------- dict model, demo


def sg_model(resv_tms: int | None = None) -> dict[str, Any]:
    """LD SGLD0: LLN0 with a SettingControl of 2 groups; PTOC1.OpDlTmms.setVal [SG] 10 / 20."""
    sc: dict[str, Any] = {"num_of_sgs": 2, "act_sg": 1}
    if resv_tms is not None:
        sc["resv_tms"] = resv_tms
    return {
        "name": "SG",
        "logical_devices": [{"inst": "LD0", "logical_nodes": [
            {"ln_class": "LLN0", "setting_control": sc, "data_objects": [
                {"name": "Mod", "children": [{"name": "stVal", "fc": "ST", "btype": "Enum", "value": 1}]}]},
            {"ln_class": "PTOC", "inst": "1", "data_objects": [
                {"name": "OpDlTmms", "children": [
                    {"name": "setVal", "fc": "SG", "btype": "INT32", "sgroup_values": {1: 10, 2: 20}}]}]}]}],
    }


def test_dict_model_setting_groups() -> None:
    with IedServer.from_dict(sg_model()) as srv:
        assert srv.setting_group_lds == ["SGLD0"]
        assert [srv.get_sg_value("SGLD0/PTOC1.OpDlTmms.setVal", g) for g in (1, 2)] == [10, 20]
        srv.select_active_sg("LD0", 2)
        assert srv.get_value("SGLD0/PTOC1.OpDlTmms.setVal", "SG") == 20


def test_demo_setting_group_section() -> None:
    from rich.console import Console

    from py61850._demo import run_demo

    out = io.StringIO()
    console = Console(file=out, width=160, force_terminal=False, color_system=None)
    assert run_demo(console) == 0
    text = out.getvalue()
    section = text[text.index("11. Setting groups"):text.index("12. GOOSE")]
    assert "DEMOProt: 3 setting groups, active 1 (pickup 400 A, delay 300 ms)" in section
    assert "select_active_sg(2) -> active 2" in section and "(pickup 320 A, delay 150 ms)" in section
    assert "select_active_sg(3) -> refused by the Python handler: ACCESS_DENIED" in section
    assert "group 2 now pickup 300 A, delay 150 ms" in section
    assert "activate 1 -> 2; activate 2 -> 3; confirm group 2: PTOC1.StrVal.setMag.f = 300" in section
