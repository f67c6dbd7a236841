"""Control, client side, without a real server: enums, exceptions, the conversion of
Python values to ctlVal, the ``py61850 control`` value parser, and a scripted fake server
(tests/fakes/) for what the peers cannot show (nothing sent for a status-only object, a
refusal without LastApplError, a timeout that is not a refusal)."""
from __future__ import annotations

import datetime as dt
import pickle

import pytest

from fakes.scripted_server import ScriptedServer, ber_tlv, invoke_id_of
from py61850 import client as C
from py61850._control import _oper_time_ms, ctl_value
from py61850._model import VariableSpec
from py61850.cli import UsageError, parse_ctl_value
from py61850.client import (
    AddCause,
    BitString,
    CommandTermination,
    ConnectionTimeoutError,
    ControlError,
    ControlModel,
    ControlObject,
    ControlRefusedError,
    IedClientError,
    IedConnection,
    IedConnectionException,
    InvalidArgumentError,
    LastApplError,
    MmsType,
    MmsValue,
    OrCat,
)

BOOL = VariableSpec("ctlVal", MmsType.BOOLEAN)
INT32 = VariableSpec("ctlVal", MmsType.INTEGER, 32)
UINT8 = VariableSpec("ctlVal", MmsType.UNSIGNED, 8)
FLOAT32 = VariableSpec("ctlVal", MmsType.FLOAT, 32)
FLOAT64 = VariableSpec("ctlVal", MmsType.FLOAT, 64)
TCMD = VariableSpec("ctlVal", MmsType.BIT_STRING, 2)
ANALOGUE_F = VariableSpec("ctlVal", MmsType.STRUCTURE, 0, [VariableSpec("f", MmsType.FLOAT, 32)])
ANALOGUE_IF = VariableSpec(
    "ctlVal", MmsType.STRUCTURE, 0, [VariableSpec("i", MmsType.INTEGER, 32), VariableSpec("f", MmsType.FLOAT, 32)]
)


# ------------------------------------------------------------------ enums and records


def test_enum_values_are_the_standard_ones():
    assert [m.value for m in ControlModel] == [0, 1, 2, 3, 4]
    assert ControlModel.SBO_ENHANCED.name == "SBO_ENHANCED" and str(ControlModel.SBO_NORMAL) == "SBO_NORMAL"
    assert OrCat.REMOTE_CONTROL == 3 and OrCat.PROCESS == 8 and len(OrCat) == 9
    assert ControlError.OPERATOR_TEST_NOT_OK == 3
    assert AddCause.BLOCKED_BY_INTERLOCKING == 10 and AddCause.OBJECT_NOT_SELECTED == 18
    assert AddCause.INCONSISTENT_PARAMETERS == 26 and AddCause.LOCKED_BY_OTHER_CLIENT == 27
    assert AddCause.ONE_OF_N_CONTROL == 14
    assert [m.value for m in AddCause] == list(range(28))


def test_unknown_add_cause_and_error_values_read_as_unknown():
    assert AddCause(99) is AddCause.UNKNOWN and AddCause(-1) is AddCause.UNKNOWN
    assert ControlError(7) is ControlError.UNKNOWN
    with pytest.raises(ValueError):
        AddCause("10")  # only integers from the wire are mapped


def test_enums_match_the_c_header():
    from py61850 import _ffi

    _, lib = _ffi.load()
    assert lib.I61_CTL_SBO_ENHANCED == ControlModel.SBO_ENHANCED
    assert lib.I61_OR_CAT_PROCESS == OrCat.PROCESS
    assert lib.I61_CTL_ERROR_OPERATOR_TEST_NOT_OK == ControlError.OPERATOR_TEST_NOT_OK
    for cause in AddCause:
        name = "I61_ADD_CAUSE_" + cause.name.replace("ONE_OF_N", "1_OF_N")
        assert getattr(lib, name) == cause, cause


def test_last_appl_error_is_a_named_tuple():
    lae = LastApplError(5, ControlError.NO_ERROR, AddCause.BLOCKED_BY_MODE, "LD/LN$CO$DO$Oper", OrCat.BAY_CONTROL, b"me")
    assert lae.ctl_num == 5 and lae.add_cause is AddCause.BLOCKED_BY_MODE and lae.or_ident == b"me"
    assert lae._fields == ("ctl_num", "error", "add_cause", "control_object", "or_cat", "or_ident")
    assert pickle.loads(pickle.dumps(lae)) == lae


def test_control_refused_error():
    lae = LastApplError(1, ControlError.NO_ERROR, AddCause.OBJECT_NOT_SELECTED, "x", OrCat.NOT_SUPPORTED, b"")
    exc = ControlRefusedError("operate x: refused", IedClientError.ACCESS_DENIED, "LD/LN.DO", None,
                              AddCause.OBJECT_NOT_SELECTED, lae)
    assert isinstance(exc, IedConnectionException) and isinstance(exc, C.ControlRefusedError)
    assert exc.error_code is IedClientError.ACCESS_DENIED and exc.reference == "LD/LN.DO"
    assert exc.add_cause is AddCause.OBJECT_NOT_SELECTED and exc.last_appl_error is lae
    assert str(exc) == "operate x: refused"
    assert repr(exc) == "ControlRefusedError('operate x: refused', ACCESS_DENIED, OBJECT_NOT_SELECTED)"
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is ControlRefusedError and back.add_cause is AddCause.OBJECT_NOT_SELECTED
    assert back.last_appl_error == lae and back.error_code is IedClientError.ACCESS_DENIED
    assert ControlRefusedError("m").add_cause is AddCause.UNKNOWN
    assert ControlRefusedError.__module__ == "py61850.client"


def test_command_termination_snapshot():
    t = CommandTermination("LD/LN.DO", True, ctl_num=3, ctl_val=MmsValue.boolean(True))
    assert t.success and t.add_cause is AddCause.UNKNOWN and t.last_appl_error is None
    assert repr(t) == "<CommandTermination+ LD/LN.DO ctl_num=3 ctl_val=True>"
    t2 = CommandTermination("LD/LN.DO", False, AddCause.BLOCKED_BY_PROCESS, 4)
    assert repr(t2) == "<CommandTermination- LD/LN.DO ctl_num=4 ctl_val=None add_cause=BLOCKED_BY_PROCESS>"


def test_control_object_is_made_by_the_connection():
    with pytest.raises(TypeError, match="create_control_object"):
        ControlObject()


# ------------------------------------------------------------------ ctlVal conversion


def test_boolean_ctl_val():
    assert ctl_value(True, BOOL) == MmsValue.boolean(True)
    assert ctl_value(0, BOOL) == MmsValue.boolean(False)
    assert ctl_value("on", BOOL) == MmsValue.boolean(True)
    for bad in (2, 1.0, "maybe", None):
        with pytest.raises(TypeError):
            ctl_value(bad, BOOL)


def test_integer_and_float_ctl_val():
    assert ctl_value(-42, INT32) == MmsValue.int64(-42)
    assert ctl_value(OrCat.PROCESS, INT32) == MmsValue.int64(8)  # an IntEnum (ENC)
    assert ctl_value(7, UINT8) == MmsValue.uint32(7)
    with pytest.raises(InvalidArgumentError):
        ctl_value(-1, UINT8)
    with pytest.raises(TypeError):
        ctl_value(1.5, INT32)
    assert ctl_value(1.5, FLOAT32) == MmsValue.float32(1.5)
    assert ctl_value(2, FLOAT64) == MmsValue.float64(2.0)
    with pytest.raises(TypeError):
        ctl_value("1.5", FLOAT32)


def test_tap_command_and_dbpos_ctl_val():
    """2-bit coded enums: the value's high bit is bit 0 on the wire."""
    assert ctl_value("lower", TCMD).to_bit_string() == BitString.from_str("01")
    assert ctl_value("higher", TCMD).to_bit_string() == BitString.from_str("10")
    assert ctl_value("stop", TCMD).to_bit_string() == BitString.from_str("00")
    assert ctl_value("on", TCMD).to_bit_string() == BitString.from_str("10")
    assert ctl_value("off", TCMD).to_bit_string() == BitString.from_str("01")
    assert ctl_value(True, TCMD).to_bit_string() == BitString.from_str("10")
    assert ctl_value(3, TCMD).to_bit_string() == BitString.from_str("11")
    assert ctl_value(BitString.from_str("01"), TCMD).to_bit_string() == BitString.from_str("01")
    with pytest.raises(InvalidArgumentError):
        ctl_value("sideways", TCMD)
    with pytest.raises(InvalidArgumentError):
        ctl_value(4, TCMD)


def test_analogue_value_ctl_val():
    f = ctl_value(2.5, ANALOGUE_F)
    assert f.type is MmsType.STRUCTURE and [v for v in f] == [MmsValue.float32(2.5)]
    assert ctl_value({"f": -1}, ANALOGUE_F) == MmsValue.structure([MmsValue.float32(-1.0)])
    assert ctl_value([3.0], ANALOGUE_F) == MmsValue.structure([MmsValue.float32(3.0)])
    # both components: a number fills the one it fits and the other with the same quantity
    assert ctl_value(4, ANALOGUE_IF) == MmsValue.structure([MmsValue.int64(4), MmsValue.float32(4.0)])
    both = ctl_value({"i": 1, "f": 1.5}, ANALOGUE_IF)
    assert both == MmsValue.structure([MmsValue.int64(1), MmsValue.float32(1.5)])
    with pytest.raises(InvalidArgumentError, match="no component x"):
        ctl_value({"x": 1.0}, ANALOGUE_F)
    with pytest.raises(InvalidArgumentError):
        ctl_value([1.0, 2.0], ANALOGUE_F)
    with pytest.raises(TypeError):
        ctl_value(True, ANALOGUE_F)


def test_ctl_val_without_a_known_type_and_mms_values_pass_through():
    assert ctl_value(True, None) == MmsValue.boolean(True)
    assert ctl_value(5, None) == MmsValue.int64(5)
    assert ctl_value(0.5, None) == MmsValue.float32(0.5)
    v = MmsValue.uint32(9)
    assert ctl_value(v, BOOL) is v  # sent as it is (lib61850 adapts widths)
    with pytest.raises(TypeError):
        ctl_value({"f": 1}, None)


def test_oper_time():
    when = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc)
    assert _oper_time_ms(when) == 1767323045678
    assert _oper_time_ms(0) == 0 and _oper_time_ms(None) == 0 and _oper_time_ms(1234) == 1234
    assert _oper_time_ms(C.Timestamp.from_datetime(when)) == 1767323045678
    with pytest.raises(InvalidArgumentError):
        _oper_time_ms(dt.datetime(2026, 1, 1))  # naive
    with pytest.raises(InvalidArgumentError):
        _oper_time_ms(-1)
    with pytest.raises(TypeError):
        _oper_time_ms("soon")


# ------------------------------------------------------------------ CLI value parser


def test_cli_control_value_parser():
    assert parse_ctl_value("on", BOOL) is True and parse_ctl_value("false", BOOL) is False
    assert parse_ctl_value("-3", INT32) == -3
    assert parse_ctl_value("2.5", ANALOGUE_F) == 2.5
    assert parse_ctl_value('{"f": 1.5}', ANALOGUE_F) == {"f": 1.5}
    assert parse_ctl_value("lower", TCMD) == "lower"
    assert parse_ctl_value("10", TCMD) == BitString.from_str("10")
    assert parse_ctl_value("true", None) is True and parse_ctl_value("0x10", None) == 16
    assert parse_ctl_value("1.25", None) == 1.25
    for text, spec in (("maybe", BOOL), ("x", INT32), ("sideways", TCMD), ("abc", None)):
        with pytest.raises(UsageError):
            parse_ctl_value(text, spec)


# ------------------------------------------------------------------ fake server


def _iid(n: int) -> bytes:
    return n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")


def _service(pdu: bytes) -> int:
    """Tag of the confirmed service request (a4 Read, a5 Write, a6 GetVariableAccessAttributes)."""
    _, s, _ = ber_tlv(pdu)
    _, _, e = ber_tlv(pdu, s)  # invokeID
    return pdu[e]


def write_result(invoke_id: int, failure: int | None = None) -> bytes:
    item = b"\x81\x00" if failure is None else b"\x80\x01" + bytes([failure])
    body = b"\x02" + bytes([len(_iid(invoke_id))]) + _iid(invoke_id) + b"\xa5" + bytes([len(item)]) + item
    return b"\xa1" + bytes([len(body)]) + body


def access_error(invoke_id: int) -> bytes:
    """confirmed-ErrorPDU, errorClass access / object-non-existent (like golden 131)."""
    iid = _iid(invoke_id)
    body = b"\x80" + bytes([len(iid)]) + iid + b"\xa2\x05\xa0\x03\x87\x01\x02"
    return b"\xa2" + bytes([len(body)]) + body


class Responder:
    """Answers GetVariableAccessAttributes with an error and Writes as told; records requests."""

    def __init__(self, write_failure: int | None = None, silent_writes: bool = False) -> None:
        self.requests: list[bytes] = []
        self.write_failure = write_failure
        self.silent_writes = silent_writes

    def __call__(self, pdu: bytes) -> bytes | None:
        self.requests.append(pdu)
        iid = invoke_id_of(pdu)
        if _service(pdu) == 0xA5:
            return None if self.silent_writes else write_result(iid, self.write_failure)
        return access_error(iid)

    def writes(self) -> list[bytes]:
        return [p for p in self.requests if _service(p) == 0xA5]


def test_status_only_sends_nothing():
    responder = Responder()
    with ScriptedServer("handshake_then_respond", responder=responder) as srv:
        with IedConnection("127.0.0.1", srv.port) as c:
            ctl = c.create_control_object("TESTGenericIO/GGIO1.SPCSO5", ControlModel.STATUS_ONLY)
            assert ctl.control_model is ControlModel.STATUS_ONLY and ctl.ctl_val_type is None
            for call in (lambda: ctl.operate(True), ctl.select, lambda: ctl.select_with_value(1), ctl.cancel):
                with pytest.raises(ControlRefusedError) as info:
                    call()
                assert info.value.add_cause is AddCause.NOT_SUPPORTED
            assert responder.requests == []
        assert not srv.errors


def test_given_model_with_an_unreadable_oper_type_still_operates():
    responder = Responder()
    with ScriptedServer("handshake_then_respond", responder=responder) as srv:
        with IedConnection("127.0.0.1", srv.port) as c:
            ctl = c.create_control_object("TESTGenericIO/GGIO1.SPCSO1", ControlModel.DIRECT_NORMAL)
            assert ctl.ctl_val_type is None  # the GetVariableAccessAttributes was refused
            assert ctl.operate(True) is True and ctl.ctl_num == 1
            (req,) = responder.writes()
            assert b"GGIO1$CO$SPCSO1$Oper" in req
            assert ctl.get_last_error() is IedClientError.OK
        assert not srv.errors


def test_refusal_without_last_appl_error():
    responder = Responder(write_failure=3)  # object-access-denied, no LastApplError
    with ScriptedServer("handshake_then_respond", responder=responder) as srv:
        with IedConnection("127.0.0.1", srv.port) as c:
            ctl = c.create_control_object("TESTGenericIO/GGIO1.SPCSO1", ControlModel.DIRECT_NORMAL)
            with pytest.raises(ControlRefusedError) as info:
                ctl.operate(True)
            exc = info.value
            assert exc.error_code is IedClientError.ACCESS_DENIED
            assert exc.add_cause is AddCause.UNKNOWN and exc.last_appl_error is None
            assert "refused by the server without an AddCause (ctlNum 1)" in str(exc)
            assert ctl.get_last_error() is IedClientError.ACCESS_DENIED
            assert ctl.get_last_appl_error() is None and c.get_last_appl_error() is None
        assert not srv.errors


def test_a_timeout_is_not_a_refusal():
    responder = Responder(silent_writes=True)
    with ScriptedServer("handshake_then_respond", responder=responder) as srv:
        c = IedConnection()
        c.set_request_timeout(300)
        c.connect("127.0.0.1", srv.port)
        try:
            ctl = c.create_control_object("TESTGenericIO/GGIO1.SPCSO3", ControlModel.DIRECT_ENHANCED)
            with pytest.raises(ConnectionTimeoutError) as info:
                ctl.operate(True)
            assert not isinstance(info.value, ControlRefusedError)
            assert ctl.get_last_error() is IedClientError.TIMEOUT
        finally:
            c.abort()
