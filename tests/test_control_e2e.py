"""Control end to end: OUR client (:class:`py61850.client.ControlObject`) against OUR server
(:meth:`py61850.server.IedServer.on_control`), both in this process, on the model of
``test_control_server.CONTROL_ICD`` (GGIO1 SPCSO1..6 in every control model, ISCSO1 INC,
AnOut1 APC, CSWI1.Pos a DPC breaker), and the control section of ``py61850 demo``.

What the peers' clients see of the same server is in tests/test_control_server.py; here
both sides are ours, so every check can look at both ends: the handler's
:class:`~py61850.server.ControlAction` and the client's
:class:`~py61850.client.ControlRefusedError` / :class:`~py61850.client.CommandTermination`.
"""
from __future__ import annotations

import io
import threading
import time
from typing import Any, Iterator

import pytest

from py61850.client import (
    AddCause,
    CommandTermination,
    ControlError,
    ControlModel,
    ControlRefusedError,
    IedConnection,
    OrCat,
)
from py61850.server import BitString, ControlAction, ControlRefused, ControlStage, IedServer
from test_control_server import APC, BREAKER, CONTROL_ICD, INC, MODELS, SPC_DE, SPC_DN, SPC_SE, SPC_SN, SPC_SO, SPC_TM


@pytest.fixture
def scl_path(tmp_path: Any) -> str:
    p = tmp_path / "control_ied.icd"
    p.write_text(CONTROL_ICD, encoding="utf-8")
    return str(p)


@pytest.fixture
def server(scl_path: str) -> Iterator[IedServer]:
    srv = IedServer.from_scl(scl_path)
    srv.start(0, "127.0.0.1")
    yield srv
    srv.close()


@pytest.fixture
def conn(server: IedServer) -> Iterator[IedConnection]:
    with IedConnection("127.0.0.1", server.port) as c:
        yield c


class Seen:
    """Control handlers recording ``(stage, action, value)``."""

    def __init__(self, srv: IedServer, ref: str, **answers: Any) -> None:
        self.calls: list[tuple[ControlStage, ControlAction, Any]] = []
        self.lock = threading.Lock()

        def make(stage: ControlStage) -> Any:
            def run(action: ControlAction, value: Any) -> Any:
                with self.lock:
                    self.calls.append((stage, action, value))
                answer = answers.get(stage.value)
                return answer(action, value) if callable(answer) else answer

            return run

        srv.on_control(ref, check=make(ControlStage.CHECK), wait=make(ControlStage.WAIT),
                       operate=make(ControlStage.OPERATE))

    def stages(self) -> list[tuple[str, bool]]:
        with self.lock:
            return [(st.value, a.is_select) for st, a, _ in self.calls]


def refuse(cause: AddCause) -> Any:
    raise ControlRefused(cause)


# ----------------------------------------------------------------------- every model


def test_models_read_by_our_client(server: IedServer, conn: IedConnection) -> None:
    for ref, model in MODELS.items():
        ctl = conn.create_control_object(ref)
        assert ctl.control_model == ControlModel(model) == server.control_model(ref), ref
    assert conn.create_control_object(SPC_TM).supports_time_activated_operate


def test_direct_normal(server: IedServer, conn: IedConnection) -> None:
    seen = Seen(server, SPC_DN)
    ctl = conn.create_control_object(SPC_DN)
    ctl.set_origin("op-e2e", OrCat.BAY_CONTROL)
    ctl.set_interlock_check(True)
    assert ctl.operate(True) is True
    assert seen.stages() == [("check", False), ("wait", False), ("operate", False)]
    _, a, value = seen.calls[-1]
    assert value is True
    assert (a.or_cat, a.or_ident, a.interlock_check, a.synchro_check) == (OrCat.BAY_CONTROL, b"op-e2e", True, False)
    assert a.ctl_num == ctl.ctl_num  # what the client sent is what the handler saw
    assert server.get_value(f"{SPC_DN}.stVal") is True
    assert server.get_value(f"{SPC_DN}.ctlNum") == ctl.ctl_num
    assert server.get_value(f"{SPC_DN}.origin.orIdent") == b"op-e2e"


def test_direct_normal_refusal_carries_add_cause(server: IedServer, conn: IedConnection) -> None:
    Seen(server, SPC_DN, check=lambda a, v: refuse(AddCause.BLOCKED_BY_MODE))
    ctl = conn.create_control_object(SPC_DN)
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(True)
    assert info.value.add_cause == AddCause.BLOCKED_BY_MODE
    lae = ctl.get_last_appl_error()
    assert lae is not None and lae.add_cause == AddCause.BLOCKED_BY_MODE and lae.ctl_num == ctl.ctl_num
    assert lae.control_object.endswith("GGIO1$CO$SPCSO1$Oper")
    assert server.get_value(f"{SPC_DN}.stVal") is False


def test_sbo_normal(server: IedServer, conn: IedConnection) -> None:
    seen = Seen(server, SPC_SN)
    ctl = conn.create_control_object(SPC_SN)
    with pytest.raises(ControlRefusedError):
        ctl.operate(True)  # not selected
    assert ctl.select() is True
    assert ctl.operate(True) is True
    assert seen.stages() == [("check", True), ("check", False), ("wait", False), ("operate", False)]
    assert seen.calls[0][2] is None  # a select of sbo-normal carries no value
    assert server.get_value(f"{SPC_SN}.stVal") is True
    with pytest.raises(ControlRefusedError):
        ctl.operate(False)  # operate-once: selection used up


def test_sbo_normal_select_refused(server: IedServer, conn: IedConnection) -> None:
    Seen(server, SPC_SN, check=lambda a, v: not a.is_select)
    ctl = conn.create_control_object(SPC_SN)
    with pytest.raises(ControlRefusedError):
        ctl.select()  # an empty SBO answer
    with pytest.raises(ControlRefusedError):
        ctl.operate(True)


def test_direct_enhanced_termination_plus(server: IedServer, conn: IedConnection) -> None:
    got: list[CommandTermination] = []
    arrived = threading.Event()
    ctl = conn.create_control_object(SPC_DE)
    ctl.on_termination(lambda t: (got.append(t), arrived.set()))
    seen = Seen(server, SPC_DE)
    assert ctl.operate(True)
    assert arrived.wait(5.0)
    t = got[0]
    assert t.success and t.control_object == SPC_DE and t.ctl_num == ctl.ctl_num
    assert t.ctl_val is not None and t.ctl_val.to_python() is True
    assert [s for s, _ in seen.stages()] == ["check", "wait", "operate"]
    assert server.get_value(f"{SPC_DE}.stVal") is True


def test_direct_enhanced_termination_minus(server: IedServer, conn: IedConnection) -> None:
    Seen(server, SPC_DE, operate=AddCause.BLOCKED_BY_PROCESS)
    ctl = conn.create_control_object(SPC_DE)
    assert ctl.operate(True)  # accepted: the failure comes as CommandTermination-
    t = ctl.wait_for_termination(5.0)
    assert t is not None and not t.success and t.add_cause == AddCause.BLOCKED_BY_PROCESS
    assert t.last_appl_error is not None and t.last_appl_error.ctl_num == ctl.ctl_num
    assert t.last_appl_error.error != ControlError.NO_ERROR
    assert server.get_value(f"{SPC_DE}.stVal") is False


def test_direct_enhanced_synchrocheck(server: IedServer, conn: IedConnection) -> None:
    seen = Seen(server, SPC_DE, wait=lambda a, v: not a.synchro_check)
    ctl = conn.create_control_object(SPC_DE)
    ctl.set_synchro_check(True)
    assert ctl.operate(True)  # the dynamic test runs after the positive response
    t = ctl.wait_for_termination(5.0)
    assert t is not None and not t.success and t.add_cause == AddCause.BLOCKED_BY_SYNCHROCHECK
    assert seen.stages() == [("check", False), ("wait", False)]


def test_direct_enhanced_check_refusal(server: IedServer, conn: IedConnection) -> None:
    Seen(server, SPC_DE, check=False)
    ctl = conn.create_control_object(SPC_DE)
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(True)
    assert info.value.add_cause == AddCause.BLOCKED_BY_INTERLOCKING
    assert info.value.last_appl_error is not None
    assert ctl.wait_for_termination(0.3) is None


def test_sbo_enhanced_breaker(server: IedServer, conn: IedConnection) -> None:
    seen = Seen(server, BREAKER)
    ctl = conn.create_control_object(BREAKER)
    ctl.set_origin("station", OrCat.STATION_CONTROL)
    assert ctl.select_with_value(True)
    assert ctl.operate(True)
    t = ctl.wait_for_termination(5.0)
    assert t is not None and t.success
    assert server.get_value(f"{BREAKER}.stVal") == BitString.from_str("10")  # on
    assert seen.stages() == [("check", True), ("check", False), ("wait", False), ("operate", False)]
    select_action = seen.calls[0][1]
    assert select_action.ctl_num == ctl.ctl_num  # operate reuses the select's ctlNum
    assert seen.calls[0][1].or_cat == OrCat.STATION_CONTROL


def test_sbo_enhanced_without_select_and_after_cancel(server: IedServer, conn: IedConnection) -> None:
    ctl = conn.create_control_object(SPC_SE)
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(True)
    assert info.value.add_cause == AddCause.OBJECT_NOT_SELECTED
    assert ctl.select_with_value(True)
    assert ctl.cancel()
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(True)
    assert info.value.add_cause == AddCause.OBJECT_NOT_SELECTED
    assert server.get_value(f"{SPC_SE}.stVal") is False


def test_sbo_enhanced_wrong_ctl_num_and_value(server: IedServer, conn: IedConnection) -> None:
    ctl = conn.create_control_object(SPC_SE)
    assert ctl.select_with_value(True)
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(False)  # another value than selected
    assert info.value.add_cause == AddCause.INCONSISTENT_PARAMETERS
    assert ctl.select_with_value(True)
    ctl.ctl_num = (ctl.ctl_num + 7) % 256  # another ctlNum than selected
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(True)
    assert info.value.add_cause == AddCause.INCONSISTENT_PARAMETERS
    assert server.get_value(f"{SPC_SE}.stVal") is False


def test_selected_by_another_client(server: IedServer, conn: IedConnection) -> None:
    a = conn.create_control_object(SPC_SE)
    with IedConnection("127.0.0.1", server.port) as other:
        b = other.create_control_object(SPC_SE)
        assert a.select_with_value(True)
        with pytest.raises(ControlRefusedError) as info:
            b.select_with_value(True)
        assert info.value.add_cause == AddCause.OBJECT_ALREADY_SELECTED
        with pytest.raises(ControlRefusedError):
            b.operate(True)
    assert a.operate(True)  # still a's selection
    assert a.wait_for_termination(5.0).success


def test_select_timeout(scl_path: str) -> None:
    srv = IedServer.from_scl(scl_path)
    try:
        srv.set_control_model(SPC_SE, ControlModel.SBO_ENHANCED, sbo_timeout=0.3)
        assert srv.get_value(f"{SPC_SE}.sboTimeout") == 300
        srv.start(0, "127.0.0.1")
        with IedConnection("127.0.0.1", srv.port) as c:
            ctl = c.create_control_object(SPC_SE)
            assert ctl.select_with_value(True)
            time.sleep(0.6)
            with pytest.raises(ControlRefusedError) as info:
                ctl.operate(True)
            assert info.value.add_cause == AddCause.OBJECT_NOT_SELECTED
    finally:
        srv.close()


def test_status_only(server: IedServer, conn: IedConnection) -> None:
    seen = Seen(server, SPC_SO)
    ctl = conn.create_control_object(SPC_SO)
    assert ctl.control_model == ControlModel.STATUS_ONLY
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(True)  # refused by the client without sending anything
    assert info.value.add_cause == AddCause.NOT_SUPPORTED
    forced = conn.create_control_object(SPC_SO, model=ControlModel.DIRECT_NORMAL)
    with pytest.raises(ControlRefusedError):
        forced.operate(True)  # sent: the server refuses too
    assert seen.calls == []
    assert server.get_value(f"{SPC_SO}.stVal") is False


def test_test_mode(server: IedServer, conn: IedConnection) -> None:
    seen = Seen(server, SPC_DN)
    ctl = conn.create_control_object(SPC_DN)
    ctl.set_test_mode(True)
    assert ctl.operate(True)
    assert all(a.test for _, a, _ in seen.calls) and seen.calls
    assert server.get_value(f"{SPC_DN}.stVal") is False


# ----------------------------------------------------------------------- values


def test_inc_and_apc_values(server: IedServer, conn: IedConnection) -> None:
    inc = Seen(server, INC)
    ctl = conn.create_control_object(INC)
    assert ctl.operate(-12)
    assert inc.calls[-1][2] == -12
    assert server.get_value(f"{INC}.stVal") == -12

    values: list[Any] = []

    def set_output(action: ControlAction, value: Any) -> None:
        values.append(value)
        server.update_value(f"{APC}.mxVal.f", value["f"])

    server.on_control(APC, operate=set_output)
    apc = conn.create_control_object(APC)
    assert apc.operate(12.5)  # a number goes into AnalogueValue.f
    assert values == [{"f": 12.5}]
    assert server.get_value(f"{APC}.mxVal.f") == 12.5


def test_time_activated_operate(server: IedServer, conn: IedConnection) -> None:
    ran: list[tuple[float, ControlAction]] = []
    server.on_control(SPC_TM, operate=lambda a, v: ran.append((time.time(), a)))
    ctl = conn.create_control_object(SPC_TM)
    at = time.time() + 0.7
    t0 = time.monotonic()
    assert ctl.operate(True, oper_time=int(at * 1000))
    assert time.monotonic() - t0 < 0.4  # answered at once
    assert ran == []
    t = ctl.wait_for_termination(5.0)
    assert t is not None and t.success
    when, action = ran[0]
    assert when >= at - 0.05
    assert action.oper_time is not None and abs(action.oper_time.timestamp - at) < 0.01
    assert server.get_value(f"{SPC_TM}.stVal") is True


def test_cancel_time_activated_operate(server: IedServer, conn: IedConnection) -> None:
    ran: list[Any] = []
    server.on_control(SPC_TM, operate=lambda a, v: ran.append(a))
    ctl = conn.create_control_object(SPC_TM)
    assert ctl.operate(True, oper_time=int((time.time() + 0.6) * 1000))
    assert ctl.cancel()
    time.sleep(0.9)
    assert ran == []
    assert server.get_value(f"{SPC_TM}.stVal") is False


# ----------------------------------------------------------------------- demo


def test_demo_control_section() -> None:
    from rich.console import Console

    from py61850._demo import run_demo

    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False, color_system=None)
    assert run_demo(console) == 0
    text = out.getvalue()
    section = text[text.index("8. Control"):]
    for model in ("direct-normal", "sbo-normal", "direct-enhanced", "sbo-enhanced"):
        assert model in section
    assert "refused, AddCause BLOCKED_BY_INTERLOCKING" in section
    assert section.count("CommandTermination+") == 2
    assert "7. Reports" in text  # the earlier sections still run
