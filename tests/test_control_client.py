"""Control, our client (py61850.client) against both peer servers: libiec61850
(pyiec61850-ng) and the Rust-based ``iec61850`` package.

The peers serve ``examples/simple_io.icd``, whose GGIO1 has SPCSO1 (direct-normal), SPCSO2
(sbo-with-normal-security), SPCSO3 (direct-with-enhanced-security, ``Oper`` with
``operTm``), SPCSO4 (sbo-with-enhanced-security), SPCSO5 (status-only), ISCSO1 (INC,
direct-normal) and AnOut1 (APC, direct-normal), from a temporary copy with a short
sboTimeout (:func:`control_scl_text`). Both peer servers accept every command and mirror
ctlVal into stVal (AnOut1: ``mxVal.f``); their stdin commands ``interlock <ref> on|off`` and
``opfail <ref> on|off`` make a DO refuse (blocked-by-interlocking) or fail
(blocked-by-process).

Peer differences found here (asserted per peer below):

* libiec61850 sends a LastApplError before every negative answer (AddCause
  object-not-selected, object-already-selected, inconsistent-parameters,
  blocked-by-interlocking); the Rust server sends none: its refusals carry no AddCause,
  except for an enhanced-security operate, where it sends a CommandTermination- with the
  AddCause before the negative answer (lib61850 makes it the refusal's LastApplError;
  it is not delivered as a termination).
* A select by a second association: libiec61850 answers SBOw with
  temporarily-unavailable (AddCause object-already-selected), the Rust server with
  object-access-denied.
* A failing operate of an enhanced-security object: libiec61850 accepts the Write and
  sends CommandTermination-; the Rust server refuses the Write (with the
  CommandTermination- first, see above).
* Time-activated operate: libiec61850 executes at operTm (stVal changes then, the
  CommandTermination+ follows); the Rust server accepts operTm but executes at once.
"""
from __future__ import annotations

import datetime as dt
import gc
import re
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from peers.process import DEFAULT_SCL, PeerServer
from py61850.client import (
    AddCause,
    CommandTermination,
    ControlError,
    ControlModel,
    ControlObject,
    ControlRefusedError,
    FunctionalConstraint as FC,
    IedClientError,
    IedConnection,
    InvalidArgumentError,
    LastApplError,
    MmsType,
    ObjectDoesNotExistError,
    OrCat,
)

G = "TESTGenericIO/GGIO1"
SBO_TIMEOUT_MS = 1500
WAIT = 5.0

# ------------------------------------------------------------------ the control model


def control_scl_text(sbo_timeout_ms: int = SBO_TIMEOUT_MS) -> str:
    """``examples/simple_io.icd`` with every ``sboTimeout`` set to ``sbo_timeout_ms`` (the
    example's 30 s would make the select-timeout tests slow)."""
    text = Path(DEFAULT_SCL).read_text(encoding="utf-8")
    assert 'name="SPCSO4"' in text, "examples/simple_io.icd has no controllable objects"
    return re.sub(r'(<DAI name="sboTimeout"><Val>)\d+(</Val>)', rf"\g<1>{int(sbo_timeout_ms)}\g<2>", text)


def write_control_scl(directory: Path, sbo_timeout_ms: int = SBO_TIMEOUT_MS) -> str:
    path = directory / "control_io.icd"
    path.write_text(control_scl_text(sbo_timeout_ms), encoding="utf-8")
    return str(path)


# ------------------------------------------------------------------ fixtures / helpers


@pytest.fixture(scope="module")
def control_scl(tmp_path_factory) -> str:
    return write_control_scl(tmp_path_factory.mktemp("control"))


@pytest.fixture(params=["libiec", "rust"])
def peer(request, start_peer_server, control_scl) -> PeerServer:
    """A private server of each kind serving the control model."""
    return start_peer_server(request.param, scl=control_scl)


def connect(peer: PeerServer) -> IedConnection:
    conn = IedConnection()
    conn.connect(peer.host, peer.port)
    return conn


@pytest.fixture
def conn(peer) -> Iterator[IedConnection]:
    c = connect(peer)
    try:
        yield c
    finally:
        c.close()


def st_val(conn: IedConnection, do: str):
    v = conn.read_value(f"{G}.{do}.stVal", FC.ST)
    return v.to_python()


def wait_until(pred, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


class Terminations:
    """An on_termination callback that collects what it gets (and on which thread)."""

    def __init__(self) -> None:
        self.items: list[CommandTermination] = []
        self.threads: set[str] = set()
        self.cond = threading.Condition()

    def __call__(self, term: CommandTermination) -> None:
        with self.cond:
            self.items.append(term)
            self.threads.add(threading.current_thread().name)
            self.cond.notify_all()

    def wait(self, n: int = 1, timeout: float = WAIT) -> list[CommandTermination]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.items) >= n, timeout), f"{len(self.items)} terminations"
            return list(self.items)


# ------------------------------------------------------------------ creation


def test_control_objects_read_their_model_and_ctl_val_type(peer, conn):
    expected = {
        "SPCSO1": (ControlModel.DIRECT_NORMAL, MmsType.BOOLEAN, False),
        "SPCSO2": (ControlModel.SBO_NORMAL, MmsType.BOOLEAN, False),
        "SPCSO3": (ControlModel.DIRECT_ENHANCED, MmsType.BOOLEAN, True),
        "SPCSO4": (ControlModel.SBO_ENHANCED, MmsType.BOOLEAN, False),
        "ISCSO1": (ControlModel.DIRECT_NORMAL, MmsType.INTEGER, False),
        "AnOut1": (ControlModel.DIRECT_NORMAL, MmsType.STRUCTURE, False),
    }
    for do, (model, ctype, timed) in expected.items():
        ctl = conn.create_control_object(f"{G}.{do}")
        assert isinstance(ctl, ControlObject)
        assert ctl.object_reference == f"{G}.{do}"
        assert ctl.control_model is model, do
        assert ctl.ctl_val_type is not None and ctl.ctl_val_type.type == ctype, do
        assert ctl.supports_time_activated_operate is timed, do
        assert ctl.has_check, do
        assert ctl.ctl_num == 0
        assert ctl.get_last_appl_error() is None
        assert ctl.get_last_error() == IedClientError.OK
    apc = conn.create_control_object(f"{G}.AnOut1").ctl_val_type
    assert [c.name for c in apc.children] == ["f"]
    status = conn.read_control(f"{G}.SPCSO5")
    assert status.control_model is ControlModel.STATUS_ONLY
    # the model can be given instead of read
    forced = conn.create_control_object(f"{G}.SPCSO1", ControlModel.SBO_NORMAL)
    assert forced.control_model is ControlModel.SBO_NORMAL


def test_create_control_object_errors(peer, conn):
    with pytest.raises(ObjectDoesNotExistError):
        conn.create_control_object(f"{G}.NoSuchDO")
    with pytest.raises(ObjectDoesNotExistError):  # not controllable: no ctlModel
        conn.create_control_object(f"{G}.Ind1")
    with pytest.raises(InvalidArgumentError):
        conn.create_control_object(f"{G}.SPCSO1", 7)


# ------------------------------------------------------------------ every model


def test_direct_normal_operate_changes_st_val(peer, conn):
    ctl = conn.create_control_object(f"{G}.SPCSO1")
    assert ctl.operate(True) is True
    assert ctl.ctl_num == 1
    assert wait_until(lambda: st_val(conn, "SPCSO1") is True)
    assert ctl.operate(False) is True
    assert ctl.ctl_num == 2
    assert wait_until(lambda: st_val(conn, "SPCSO1") is False)
    assert ctl.get_last_error() == IedClientError.OK


def test_sbo_normal_select_then_operate(peer, conn):
    ctl = conn.create_control_object(f"{G}.SPCSO2")
    assert ctl.select() is True
    assert ctl.operate(True) is True
    assert wait_until(lambda: st_val(conn, "SPCSO2") is True)
    # operate-once: the selection ended with the operate
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(False)
    assert info.value.error_code == IedClientError.ACCESS_DENIED
    if peer.name == "libiec":
        assert info.value.add_cause is AddCause.OBJECT_NOT_SELECTED
    assert st_val(conn, "SPCSO2") is True
    assert ctl.get_last_error() == IedClientError.ACCESS_DENIED


def test_direct_enhanced_operate_and_command_termination(peer, conn):
    ctl = conn.create_control_object(f"{G}.SPCSO3")
    got = Terminations()
    ctl.on_termination(got)
    assert ctl.operate(True) is True
    term = got.wait()[0]
    assert term.success and term.control_object == f"{G}.SPCSO3"
    assert term.ctl_num == ctl.ctl_num == 1
    assert term.ctl_val is not None and term.ctl_val.to_python() is True
    assert term.add_cause is AddCause.UNKNOWN and term.last_appl_error is None
    assert got.threads == {"py61850-reports"}
    assert ctl.wait_for_termination(0) is term
    assert wait_until(lambda: st_val(conn, "SPCSO3") is True)
    lae = ctl.get_last_appl_error()  # a CommandTermination+ records "no error"
    assert lae is not None and lae.error is ControlError.NO_ERROR and lae.add_cause is AddCause.UNKNOWN
    assert lae.ctl_num == 1


def test_sbo_enhanced_select_with_value_operate_termination(peer, conn):
    ctl = conn.create_control_object(f"{G}.SPCSO4")
    ctl.set_origin("py61850 test", OrCat.STATION_CONTROL)
    assert ctl.select_with_value(True) is True
    assert ctl.ctl_num == 1
    assert ctl.operate(True) is True
    assert ctl.ctl_num == 1  # the operate belongs to the select's sequence
    term = ctl.wait_for_termination(WAIT)
    assert term is not None and term.success and term.ctl_num == 1
    # the server echoes the Oper structure: the origin we set is in it
    assert term.oper is not None
    origin = [v for v in term.oper if v.type == MmsType.STRUCTURE][0].to_python()
    assert origin == [int(OrCat.STATION_CONTROL), b"py61850 test"]
    assert wait_until(lambda: st_val(conn, "SPCSO4") is True)
    # the next sequence gets the next ctlNum
    assert ctl.select_with_value(False) and ctl.ctl_num == 2
    assert ctl.operate(False)
    assert ctl.wait_for_termination(WAIT).ctl_num == 2
    assert wait_until(lambda: st_val(conn, "SPCSO4") is False)


def test_status_only_is_refused_without_sending(peer, conn):
    ctl = conn.create_control_object(f"{G}.SPCSO5")
    for call in (lambda: ctl.operate(True), ctl.select, lambda: ctl.select_with_value(True), ctl.cancel):
        with pytest.raises(ControlRefusedError) as info:
            call()
        exc = info.value
        assert exc.add_cause is AddCause.NOT_SUPPORTED and exc.last_appl_error is None
        assert exc.error_code == IedClientError.SERVICE_NOT_SUPPORTED
        assert "status-only" in str(exc) and "nothing was sent" in str(exc)
    assert ctl.ctl_num == 0  # no sequence was started
    assert ctl.get_last_error() == IedClientError.SERVICE_NOT_SUPPORTED
    assert st_val(conn, "SPCSO5") is False


def test_commands_the_model_has_no_use_for(peer, conn):
    direct = conn.create_control_object(f"{G}.SPCSO1")
    with pytest.raises(InvalidArgumentError, match="sbo-with-normal-security"):
        direct.select()
    with pytest.raises(InvalidArgumentError, match="sbo-with-enhanced-security"):
        direct.select_with_value(True)
    with pytest.raises(InvalidArgumentError, match="use select_with_value"):
        conn.create_control_object(f"{G}.SPCSO4").select()
    with pytest.raises(InvalidArgumentError, match="use select"):
        conn.create_control_object(f"{G}.SPCSO2").select_with_value(True)
    with pytest.raises(InvalidArgumentError, match="operTm"):
        direct.operate(True, oper_time=int(time.time() * 1000) + 1000)
    with pytest.raises(TypeError):
        direct.operate(2.5)  # the ctlVal is BOOLEAN
    assert direct.ctl_num == 0


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize("do", ["SPCSO2", "SPCSO4"])
def test_operate_without_select_is_refused(peer, conn, do):
    ctl = conn.create_control_object(f"{G}.{do}")
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(True)
    exc = info.value
    assert exc.error_code == IedClientError.ACCESS_DENIED
    assert exc.reference == f"{G}.{do}"
    if peer.name == "libiec":
        assert exc.add_cause is AddCause.OBJECT_NOT_SELECTED
        assert exc.last_appl_error is not None and exc.last_appl_error.ctl_num == ctl.ctl_num
        assert exc.last_appl_error.control_object.endswith(f"$CO${do}$Oper")
        assert ctl.get_last_appl_error() == exc.last_appl_error
        assert conn.get_last_appl_error() == exc.last_appl_error
        assert "OBJECT_NOT_SELECTED" in str(exc)
    elif do == "SPCSO4":  # Rust, enhanced: the AddCause comes in a CommandTermination- with the refusal
        assert exc.add_cause is AddCause.OBJECT_NOT_SELECTED
        assert exc.last_appl_error is not None
    else:  # Rust, normal security: no LastApplError at all
        assert exc.add_cause is AddCause.UNKNOWN and exc.last_appl_error is None
        assert "without an AddCause" in str(exc)
    assert st_val(conn, do) is False


@pytest.mark.parametrize("do", ["SPCSO2", "SPCSO4"])
def test_select_by_another_association_is_refused(peer, conn, do):
    ref = f"{G}.{do}"
    other = connect(peer)
    try:
        mine = conn.create_control_object(ref)
        theirs = other.create_control_object(ref)

        def select(ctl: ControlObject) -> bool:
            return ctl.select() if do == "SPCSO2" else ctl.select_with_value(True)

        assert select(mine)
        with pytest.raises(ControlRefusedError) as info:
            select(theirs)
        if do == "SPCSO4" and peer.name == "libiec":
            assert info.value.error_code == IedClientError.TEMPORARILY_UNAVAILABLE
            assert info.value.add_cause is AddCause.OBJECT_ALREADY_SELECTED
        else:  # SBO: an empty answer (no AddCause by the standard); Rust SBOw: access denied
            assert info.value.error_code == IedClientError.ACCESS_DENIED
            assert info.value.add_cause is AddCause.UNKNOWN
        # after a cancel, the other association gets it
        assert mine.cancel()
        assert select(theirs)
        assert theirs.operate(True)
        if do == "SPCSO4":
            assert theirs.wait_for_termination(WAIT).success
        assert wait_until(lambda: st_val(conn, do) is True)
    finally:
        other.close()


@pytest.mark.parametrize("do", ["SPCSO2", "SPCSO4"])
def test_selection_times_out(peer, conn, do):
    ctl = conn.create_control_object(f"{G}.{do}")
    assert ctl.select() if do == "SPCSO2" else ctl.select_with_value(True)
    time.sleep(SBO_TIMEOUT_MS / 1000 + 0.8)
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(True)
    if peer.name == "libiec":
        assert info.value.add_cause is AddCause.OBJECT_NOT_SELECTED
    assert st_val(conn, do) is False


def test_wrong_ctl_num_or_ctl_val_after_select(peer, conn):
    ctl = conn.create_control_object(f"{G}.SPCSO4")
    assert ctl.select_with_value(True)
    ctl.ctl_num = 77  # the operate no longer matches the select
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(True)
    assert ctl.ctl_num == 77
    if peer.name == "libiec":
        assert info.value.add_cause is AddCause.INCONSISTENT_PARAMETERS
        assert info.value.last_appl_error.ctl_num == 77
    else:  # refusal and a CommandTermination- with the AddCause
        assert info.value.add_cause is AddCause.INCONSISTENT_PARAMETERS
    assert ctl.cancel()

    assert ctl.select_with_value(True)
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(False)  # another ctlVal than selected
    if peer.name == "libiec":
        assert info.value.add_cause is AddCause.INCONSISTENT_PARAMETERS
    assert ctl.cancel()
    assert st_val(conn, "SPCSO4") is False


@pytest.mark.parametrize("do", ["SPCSO2", "SPCSO4"])
def test_cancel_ends_the_selection(peer, conn, do):
    ctl = conn.create_control_object(f"{G}.{do}")
    assert ctl.select() if do == "SPCSO2" else ctl.select_with_value(True)
    n = ctl.ctl_num
    assert ctl.cancel() is True
    assert ctl.ctl_num == n  # the cancel belongs to the select's sequence
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(True)
    if peer.name == "libiec":
        assert info.value.add_cause is AddCause.OBJECT_NOT_SELECTED
    assert st_val(conn, do) is False


@pytest.mark.parametrize("do", ["SPCSO1", "SPCSO4"])
def test_interlocked_object_refuses_with_its_add_cause(peer, conn, do):
    peer.command(f"interlock {G}.{do} on")
    ctl = conn.create_control_object(f"{G}.{do}")
    ctl.set_interlock_check(True)
    with pytest.raises(ControlRefusedError) as info:
        ctl.operate(True) if do == "SPCSO1" else ctl.select_with_value(True)
    if peer.name == "libiec":
        assert info.value.add_cause is AddCause.BLOCKED_BY_INTERLOCKING
        assert "BLOCKED_BY_INTERLOCKING" in str(info.value)
        assert ctl.get_last_appl_error().add_cause is AddCause.BLOCKED_BY_INTERLOCKING
    else:
        assert info.value.add_cause is AddCause.UNKNOWN
    peer.command(f"interlock {G}.{do} off")
    if do == "SPCSO4":
        assert ctl.select_with_value(True)
    assert ctl.operate(True)
    if do == "SPCSO4":
        assert ctl.wait_for_termination(WAIT).success
    assert wait_until(lambda: st_val(conn, do) is True)


@pytest.mark.parametrize("do", ["SPCSO3", "SPCSO4"])
def test_command_termination_minus_carries_the_add_cause(peer, conn, do):
    peer.command(f"opfail {G}.{do} on")
    ctl = conn.create_control_object(f"{G}.{do}")
    got = Terminations()
    ctl.on_termination(got)
    if do == "SPCSO4":
        assert ctl.select_with_value(True)
    if peer.name == "libiec":  # the operate is accepted, then fails
        assert ctl.operate(True)
        term = got.wait()[0]
        assert not term.success
        assert term.add_cause is AddCause.BLOCKED_BY_PROCESS
        assert term.last_appl_error is not None and term.last_appl_error.add_cause is AddCause.BLOCKED_BY_PROCESS
        assert term.ctl_num == ctl.ctl_num
        assert "CommandTermination-" in repr(term) and "BLOCKED_BY_PROCESS" in repr(term)
        assert ctl.wait_for_termination(0) is term
    else:  # the Rust server sends the CommandTermination- and refuses the Write: one refusal
        with pytest.raises(ControlRefusedError) as info:
            ctl.operate(True)
        assert info.value.add_cause is AddCause.BLOCKED_BY_PROCESS
        assert info.value.last_appl_error.add_cause is AddCause.BLOCKED_BY_PROCESS
        assert ctl.wait_for_termination(0.3) is None and got.items == []
    assert ctl.get_last_appl_error().add_cause is AddCause.BLOCKED_BY_PROCESS
    assert st_val(conn, do) is False


# ------------------------------------------------------------------ values and options


def test_inc_values(peer, conn):
    ctl = conn.create_control_object(f"{G}.ISCSO1")
    for v in (42, -5, 2**31 - 1):
        assert ctl.operate(v)
        assert wait_until(lambda: st_val(conn, "ISCSO1") == v), v


def test_apc_values(peer, conn):
    """A number goes into AnalogueValue.f; a dict names the components."""
    ctl = conn.create_control_object(f"{G}.AnOut1")

    def mx() -> float:
        return conn.read_float(f"{G}.AnOut1.mxVal.f", FC.MX)

    assert ctl.operate(2.5)
    assert wait_until(lambda: mx() == 2.5)
    assert ctl.operate({"f": -1.25})
    assert wait_until(lambda: mx() == -1.25)
    assert ctl.operate(7)  # an int into a float component
    assert wait_until(lambda: mx() == 7.0)


def test_test_mode_is_sent(peer, conn):
    ctl = conn.create_control_object(f"{G}.SPCSO3")
    ctl.set_test_mode(True)
    assert ctl.operate(True)
    term = ctl.wait_for_termination(WAIT)
    assert term is not None and term.success
    names = ["ctlVal", "operTm", "origin", "ctlNum", "T", "Test", "Check"]
    oper = dict(zip(names, term.oper))
    assert oper["Test"].to_python() is True
    ctl.set_test_mode(False)
    assert ctl.operate(False)
    term = ctl.wait_for_termination(WAIT)
    assert dict(zip(names, term.oper))["Test"].to_python() is False


def test_check_bits_and_constant_t_are_sent(peer, conn):
    names = ["ctlVal", "origin", "ctlNum", "T", "Test", "Check"]
    pause = 0.5
    ctl = conn.create_control_object(f"{G}.SPCSO4")
    ctl.set_interlock_check(True)
    ctl.set_synchro_check(True)
    ctl.use_constant_t(True)
    assert ctl.select_with_value(True)
    selected = dt.datetime.now(dt.timezone.utc)
    time.sleep(pause)
    assert ctl.operate(True)
    oper = dict(zip(names, ctl.wait_for_termination(WAIT).oper))
    assert str(oper["Check"].to_python()) == "11"  # bit 0 synchrocheck, bit 1 interlock-check
    # constant T: the operate repeats the select's T (sent before `selected`)
    assert oper["T"].to_timestamp().datetime <= selected
    ctl.use_constant_t(False)
    ctl.set_interlock_check(False)
    ctl.set_synchro_check(False)
    assert ctl.select_with_value(False)
    selected = dt.datetime.now(dt.timezone.utc)
    time.sleep(pause)
    assert ctl.operate(False)
    oper = dict(zip(names, ctl.wait_for_termination(WAIT).oper))
    assert str(oper["Check"].to_python()) == "00"
    # otherwise T is the time of sending the operate
    assert oper["T"].to_timestamp().datetime >= selected + dt.timedelta(seconds=pause - 0.05)


def test_time_activated_operate(peer, conn):
    ctl = conn.create_control_object(f"{G}.SPCSO3")
    assert ctl.supports_time_activated_operate
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1.2)
    assert ctl.operate(True, oper_time=when)
    if peer.name == "libiec":  # executes at operTm
        assert st_val(conn, "SPCSO3") is False
        term = ctl.wait_for_termination(WAIT)
        assert term is not None and term.success
        assert dt.datetime.now(dt.timezone.utc) >= when - dt.timedelta(milliseconds=50)
        oper_tm = term.oper[1].to_timestamp().datetime
        assert abs((oper_tm - when).total_seconds()) < 0.01
    else:  # the Rust server takes operTm but executes at once
        term = ctl.wait_for_termination(WAIT)
        assert term is not None and term.success
    assert wait_until(lambda: st_val(conn, "SPCSO3") is True)


def test_ctl_num_is_settable_and_wraps(peer, conn):
    ctl = conn.create_control_object(f"{G}.SPCSO1")
    ctl.ctl_num = 254
    assert ctl.operate(True) and ctl.ctl_num == 254
    assert ctl.operate(False) and ctl.ctl_num == 255
    assert ctl.operate(True) and ctl.ctl_num == 0
    with pytest.raises(InvalidArgumentError):
        ctl.ctl_num = 256


def test_origin_limits(peer, conn):
    ctl = conn.create_control_object(f"{G}.SPCSO1")
    ctl.set_origin(b"\x00binary\xff", 3)
    ctl.set_origin("x" * 64, OrCat.PROCESS)
    with pytest.raises(InvalidArgumentError):
        ctl.set_origin("x" * 65, OrCat.PROCESS)
    assert ctl.operate(True)


# ------------------------------------------------------------------ lifetime


def test_control_object_keeps_its_connection_alive(peer):
    c = connect(peer)
    ctl = c.create_control_object(f"{G}.SPCSO1")
    del c
    gc.collect()
    assert ctl.operate(True)
    assert ctl.connection.read_boolean(f"{G}.SPCSO1.stVal", FC.ST) is True
    ctl.connection.close()


def event_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "py61850-reports"]


def test_connection_and_control_objects_are_collected_together(peer):
    before = len(event_threads())
    c = connect(peer)
    ctl = c.create_control_object(f"{G}.SPCSO3")
    got = Terminations()
    ctl.on_termination(got)
    assert ctl.operate(True)
    got.wait()
    c.close()
    assert ctl.wait_for_termination(0.1) is not None  # kept after the close
    del c, ctl, got
    gc.collect()
    deadline = time.monotonic() + WAIT
    while len(event_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(event_threads()) == before


def test_wait_for_termination_returns_none_without_one(peer, conn):
    ctl = conn.create_control_object(f"{G}.SPCSO1")  # direct-normal: no terminations
    assert ctl.operate(True)
    t0 = time.monotonic()
    assert ctl.wait_for_termination(0.2) is None
    assert time.monotonic() - t0 >= 0.19


def test_a_raising_termination_callback_is_logged(peer, conn, caplog):
    ctl = conn.create_control_object(f"{G}.SPCSO3")

    def bad(term: CommandTermination) -> None:
        raise RuntimeError("boom")

    ctl.on_termination(bad)
    with caplog.at_level("ERROR", logger="py61850.client.control"):
        assert ctl.operate(True)
        assert ctl.wait_for_termination(WAIT) is not None
        assert wait_until(lambda: "boom" in caplog.text)
    # the callback may call back into the connection
    seen: list[bool] = []
    ctl.on_termination(lambda t: seen.append(conn.read_boolean(f"{G}.SPCSO3.stVal", FC.ST)))
    assert ctl.operate(False)
    assert wait_until(lambda: seen == [False])


def test_last_appl_error_record_fields(start_peer_server, control_scl):
    """libiec61850 only: the Rust server sends no LastApplError with refusals."""
    c = connect(start_peer_server("libiec", scl=control_scl))
    try:
        ctl = c.create_control_object(f"{G}.SPCSO4")
        ctl.set_origin("fields", OrCat.MAINTENANCE)
        with pytest.raises(ControlRefusedError):
            ctl.operate(True)
        lae = ctl.get_last_appl_error()
    finally:
        c.close()
    assert isinstance(lae, LastApplError)
    assert lae.add_cause is AddCause.OBJECT_NOT_SELECTED and lae.error is ControlError.NO_ERROR
    assert lae.control_object == f"{G}$CO$SPCSO4$Oper"
    assert lae.or_cat is OrCat.MAINTENANCE and lae.or_ident == b"fields"
