"""Unit tests of py61850.client that need no server.

Pure-Python parts (enums, exceptions, Quality, Timestamp, BitString, the device
model builder, the callback dispatcher) and MmsValue round trips through the C
value API of lib61850.
"""
from __future__ import annotations

import datetime as dt
import logging
import pickle
import re
import threading
import time
from pathlib import Path

import pytest

from py61850 import client as C
from py61850._connection import _Dispatcher, _fc
from py61850._model import logical_node_from_spec
from py61850.client import (
    ACSIClass,
    BitString,
    FunctionalConstraint as FC,
    IedClientError as E,
    IedConnectionState,
    MmsType,
    MmsValue,
    Quality,
    Source,
    TimeQuality,
    Timestamp,
    Validity,
    VariableSpec,
)

ROOT = Path(__file__).resolve().parents[1]
HEADER = ROOT / "vendor" / "lib61850" / "include" / "i61.h"
GOLDEN = ROOT / "vendor" / "lib61850" / "tests" / "golden"
UTC = dt.timezone.utc


def header_enum(name: str) -> dict[str, int]:
    """Members of ``typedef enum <name> { ... }`` in i61.h."""
    text = HEADER.read_text()
    m = re.search(r"typedef enum %s \{(.*?)\}" % name, text, re.S)
    assert m, name
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    out = {}
    for item in body.split(","):
        item = item.strip()
        if item:
            k, v = item.split("=")
            out[k.strip()] = int(v.strip())
    return out


def golden(name: str) -> bytes:
    return bytes.fromhex((GOLDEN / f"{name}.hex").read_text().strip())


# ----------------------------------------------------------------------- enums

# (name, value) exactly as in the reference API (seed 003).
SEED_ERRORS = [
    ("OK", 0), ("NOT_CONNECTED", 1), ("ALREADY_CONNECTED", 2), ("CONNECTION_LOST", 3),
    ("SERVICE_NOT_SUPPORTED", 4), ("CONNECTION_REJECTED", 5), ("OUTSTANDING_CALL_LIMIT_REACHED", 6),
    ("USER_PROVIDED_INVALID_ARGUMENT", 10), ("OBJECT_REFERENCE_INVALID", 12),
    ("UNEXPECTED_VALUE_RECEIVED", 13), ("TIMEOUT", 20), ("ACCESS_DENIED", 21),
    ("OBJECT_DOES_NOT_EXIST", 22), ("OBJECT_EXISTS", 23), ("OBJECT_ACCESS_UNSUPPORTED", 24),
    ("TYPE_INCONSISTENT", 25), ("TEMPORARILY_UNAVAILABLE", 26), ("OBJECT_UNDEFINED", 27),
    ("INVALID_ADDRESS", 28), ("HARDWARE_FAULT", 29), ("TYPE_UNSUPPORTED", 30),
    ("OBJECT_ATTRIBUTE_INCONSISTENT", 31), ("OBJECT_VALUE_INVALID", 32), ("OBJECT_INVALIDATED", 33),
    ("MALFORMED_MESSAGE", 34), ("OBJECT_CONSTRAINT_CONFLICT", 35), ("SERVICE_NOT_IMPLEMENTED", 98),
    ("UNKNOWN", 99),
]


def test_ied_client_error_matches_seed_exactly():
    assert [(m.name, m.value) for m in E] == SEED_ERRORS


def test_ied_client_error_matches_header():
    renamed = {
        "OUTSTANDING_CALL_LIMIT": "OUTSTANDING_CALL_LIMIT_REACHED",
        "INVALID_ARGUMENT": "USER_PROVIDED_INVALID_ARGUMENT",
        "UNEXPECTED_VALUE": "UNEXPECTED_VALUE_RECEIVED",
    }
    hdr = {}
    for k, v in header_enum("i61_err").items():
        k = k.replace("I61_ERR_", "").replace("I61_", "")
        hdr[renamed.get(k, k)] = v
    assert hdr == {m.name: m.value for m in E}


def test_functional_constraint_values():
    expected = dict(ST=0, MX=1, SP=2, SV=3, CF=4, DC=5, SG=6, SE=7, SR=8, OR=9, BL=10, EX=11, CO=12,
                    US=13, MS=14, RP=15, BR=16, LG=17, GO=18, ALL=99, NONE=-1)
    assert {m.name: m.value for m in FC} == expected
    assert {k.replace("I61_FC_", ""): v for k, v in header_enum("i61_fc").items()} == expected
    assert str(FC.MX) == "MX"


def test_acsi_class_values():
    expected = dict(DATA_OBJECT=0, DATA_SET=1, BRCB=2, URCB=3, LCB=4, LOG=5, SGCB=6, GOCB=7, GSCB=8,
                    MSVCB=9, USVCB=10)
    assert {m.name: m.value for m in ACSIClass} == expected
    assert {k.replace("I61_ACSI_", ""): v for k, v in header_enum("i61_acsi_class").items()} == expected


def test_connection_state_values():
    expected = dict(CLOSED=0, CONNECTING=1, CONNECTED=2, CLOSING=3)
    assert {m.name: m.value for m in IedConnectionState} == expected
    assert {k.replace("I61_STATE_", ""): v for k, v in header_enum("i61_conn_state").items()} == expected


def test_mms_type_values_match_header():
    assert {k.replace("I61_TYPE_", ""): v for k, v in header_enum("i61_type").items()} == {
        m.name: m.value for m in MmsType
    }


def test_fc_argument_forms():
    assert _fc(FC.MX) is FC.MX
    assert _fc("mx") is FC.MX and _fc(b"ST") is FC.ST and _fc(2) is FC.SP
    with pytest.raises(C.InvalidArgumentError):
        _fc("XX")
    with pytest.raises(ValueError):  # InvalidArgumentError is a ValueError too
        _fc(1234)


# ------------------------------------------------------------------ exceptions

EXPECTED_CLASS = {
    E.NOT_CONNECTED: C.NotConnectedError,
    E.ALREADY_CONNECTED: C.AlreadyConnectedError,
    E.CONNECTION_LOST: C.ConnectionLostError,
    E.SERVICE_NOT_SUPPORTED: C.ServiceNotSupportedError,
    E.CONNECTION_REJECTED: C.ConnectionRejectedError,
    E.OUTSTANDING_CALL_LIMIT_REACHED: C.OutstandingCallLimitError,
    E.USER_PROVIDED_INVALID_ARGUMENT: C.InvalidArgumentError,
    E.OBJECT_REFERENCE_INVALID: C.ObjectReferenceInvalidError,
    E.UNEXPECTED_VALUE_RECEIVED: C.UnexpectedValueError,
    E.TIMEOUT: C.ConnectionTimeoutError,
    E.ACCESS_DENIED: C.AccessDeniedError,
    E.OBJECT_DOES_NOT_EXIST: C.ObjectDoesNotExistError,
    E.OBJECT_EXISTS: C.ObjectExistsError,
    E.OBJECT_ACCESS_UNSUPPORTED: C.ObjectAccessUnsupportedError,
    E.TYPE_INCONSISTENT: C.TypeInconsistentError,
    E.TEMPORARILY_UNAVAILABLE: C.TemporarilyUnavailableError,
    E.OBJECT_UNDEFINED: C.ObjectUndefinedError,
    E.INVALID_ADDRESS: C.InvalidAddressError,
    E.HARDWARE_FAULT: C.HardwareFaultError,
    E.TYPE_UNSUPPORTED: C.TypeUnsupportedError,
    E.OBJECT_ATTRIBUTE_INCONSISTENT: C.ObjectAttributeInconsistentError,
    E.OBJECT_VALUE_INVALID: C.ObjectValueInvalidError,
    E.OBJECT_INVALIDATED: C.ObjectInvalidatedError,
    E.MALFORMED_MESSAGE: C.MalformedMessageError,
    E.OBJECT_CONSTRAINT_CONFLICT: C.ObjectConstraintConflictError,
    E.SERVICE_NOT_IMPLEMENTED: C.ServiceNotSupportedError,
    E.UNKNOWN: C.IedConnectionException,
}


@pytest.mark.parametrize("code", [c for c in E if c != E.OK], ids=lambda c: c.name)
def test_exception_class_per_code(code):
    exc = C.exception_for(code, f"read X/Y.Z [ST]: {code.name.lower()}", "X/Y.Z", FC.ST)
    assert type(exc) is EXPECTED_CLASS[code]
    assert isinstance(exc, C.IedConnectionException)
    assert exc.error_code is code
    assert exc.reference == "X/Y.Z" and exc.fc is FC.ST
    assert str(exc) == f"read X/Y.Z [ST]: {code.name.lower()}"
    with pytest.raises(EXPECTED_CLASS[code]):
        raise exc
    clone = pickle.loads(pickle.dumps(exc))
    assert type(clone) is type(exc) and clone.error_code == code and str(clone) == str(exc)


def test_unknown_code_gives_base_class():
    exc = C.exception_for(777, "strange")
    assert type(exc) is C.IedConnectionException
    assert exc.error_code == 777
    assert C.error_class(12345) is C.IedConnectionException


def test_exceptions_derive_from_builtin_kinds():
    assert issubclass(C.ConnectionTimeoutError, TimeoutError)
    assert issubclass(C.ConnectionLostError, ConnectionError)
    assert issubclass(C.ConnectionRejectedError, ConnectionError)
    assert issubclass(C.InvalidArgumentError, ValueError)
    # OSError subclasses must not reinterpret the arguments as (errno, strerror)
    exc = C.ConnectionTimeoutError("read timed out", E.TIMEOUT)
    assert str(exc) == "read timed out" and exc.args == ("read timed out",)
    assert exc.errno is None
    assert "ConnectionTimeoutError" in repr(exc) and "TIMEOUT" in repr(exc)


def test_exception_default_code_is_unknown():
    exc = C.IedConnectionException("x")
    assert exc.error_code is E.UNKNOWN and exc.reference is None and exc.fc is None


# --------------------------------------------------------------------- quality


def parse_bit_string_tlv(tlv: bytes) -> BitString:
    """BER bit string ``84 LL <unused> <octets>`` (PROTOCOL.md section 9)."""
    assert tlv[0] == 0x84 and tlv[1] == len(tlv) - 2
    unused, octets = tlv[2], tlv[3:]
    return BitString(len(octets) * 8 - unused, octets)


def test_quality_good_from_golden_bits():
    frame = golden("018_read_struct_mv_response")
    i = frame.index(bytes.fromhex("8403030000"))
    bits = parse_bit_string_tlv(frame[i:i + 5])
    assert bits.size == 13
    q = Quality.from_bit_string(bits)
    assert q == Quality() and q.is_good and q.validity is Validity.GOOD
    assert q.to_bit_string() == bits


@pytest.mark.parametrize(
    "octets, expected",
    [
        ("0000", Quality()),
        ("4000", Quality(validity=Validity.INVALID)),          # bits 0-1 = 01
        ("8000", Quality(validity=Validity.RESERVED)),         # 10
        ("c000", Quality(validity=Validity.QUESTIONABLE)),     # 11
        ("2000", Quality(overflow=True)),                      # bit 2
        ("1000", Quality(out_of_range=True)),                  # bit 3
        ("0800", Quality(bad_reference=True)),                 # bit 4
        ("0400", Quality(oscillatory=True)),                   # bit 5
        ("0200", Quality(failure=True)),                       # bit 6
        ("0100", Quality(old_data=True)),                      # bit 7
        ("0080", Quality(inconsistent=True)),                  # bit 8
        ("0040", Quality(inaccurate=True)),                    # bit 9
        ("0020", Quality(source=Source.SUBSTITUTED)),          # bit 10
        ("0010", Quality(test=True)),                          # bit 11
        ("0008", Quality(operator_blocked=True)),              # bit 12
        ("c218", Quality(validity=Validity.QUESTIONABLE, failure=True, test=True, operator_blocked=True)),
    ],
)
def test_quality_bit_patterns(octets, expected):
    bits = BitString(13, bytes.fromhex(octets))
    assert Quality.from_bit_string(bits) == expected
    assert expected.to_bit_string() == bits


def test_quality_derived_needs_14_bits():
    q = Quality(derived=True)
    bits = q.to_bit_string()
    assert bits.size == 14 and bits.data == bytes.fromhex("0004")
    assert Quality.from_bit_string(bits) == q
    with pytest.raises(ValueError):
        q.to_bit_string(13)
    assert Quality().to_bit_string(14) == BitString(14)


def test_quality_every_combination_round_trips():
    for n in range(1 << 14):
        bits = BitString(14, (n << 2).to_bytes(2, "big"))
        q = Quality.from_bit_string(bits)
        assert q.to_bit_string(14) == bits


def test_quality_short_string_is_padded():
    assert Quality.from_bit_string([False, True]) == Quality(validity=Validity.INVALID)


# ------------------------------------------------------------------- bit string


def test_bit_string_basics():
    b = BitString.from_str("0110000000001")
    assert len(b) == 13 and b.data == bytes.fromhex("6008")
    assert b[1] and b[2] and not b[0] and b[12] and b[-1]
    assert b.to_bools()[:3] == (False, True, True)
    assert str(b) == "0110000000001"
    assert eval(repr(b), {"BitString": BitString}) == b
    assert b.with_bit(0, True) == BitString.from_str("1110000000001")
    assert BitString(3, b"\xff") == BitString(3, b"\xe0")  # unused bits ignored
    assert hash(BitString(3, b"\xff")) == hash(BitString(3, b"\xe0"))
    with pytest.raises(ValueError):
        BitString(13, b"\x00")
    with pytest.raises(IndexError):
        b[13]
    assert BitString(0).data == b"" and list(BitString(0)) == []


# ------------------------------------------------------------------------ time


def test_timestamp_from_golden_utc_time():
    frame = golden("018_read_struct_mv_response")
    i = frame.index(bytes.fromhex("9108"))
    octets = frame[i + 2:i + 10]
    assert octets == bytes.fromhex("6553f1001f7ced8a")
    ts = Timestamp.from_bytes(octets)
    assert ts.seconds == 0x6553F100 == 1_700_000_000
    assert ts.fraction == 0x1F7CED
    assert ts.quality == TimeQuality(leap_seconds_known=True, accuracy=10)
    assert ts.datetime == dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert ts.datetime.utcoffset() == dt.timedelta(0)
    assert ts.to_bytes() == octets
    # and back from the datetime: the same 24-bit fraction (truncation, as the peers encode)
    assert Timestamp.from_datetime(ts.datetime, ts.quality).to_bytes() == octets
    assert abs(ts.timestamp - 1_700_000_000.123) < 1e-6


def test_time_quality_bits():
    assert TimeQuality.from_byte(0x8A) == TimeQuality(True, False, False, 10)
    assert TimeQuality.from_byte(0x40).clock_failure
    assert TimeQuality.from_byte(0x20).clock_not_synchronized
    assert TimeQuality.from_byte(0x1F).accuracy_unspecified
    for b in range(256):
        assert TimeQuality.from_byte(b).to_byte() == b
    with pytest.raises(ValueError):
        TimeQuality(accuracy=32)


def test_timestamp_microseconds_round_trip():
    base = dt.datetime(2026, 11, 21, 7, 13, 57, tzinfo=UTC)
    for us in list(range(0, 1_000_000, 997)) + [999_999, 1, 500_000]:
        when = base.replace(microsecond=us)
        assert Timestamp.from_datetime(when).datetime == when


def test_timestamp_other_timezone_and_errors():
    cet = dt.timezone(dt.timedelta(hours=1))
    ts = Timestamp.from_datetime(dt.datetime(2023, 11, 14, 23, 13, 20, tzinfo=cet))
    assert ts.seconds == 1_700_000_000 and ts.fraction == 0
    with pytest.raises(ValueError):
        Timestamp.from_datetime(dt.datetime(2023, 1, 1))  # naive
    with pytest.raises(ValueError):
        Timestamp.from_datetime(dt.datetime(1960, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        Timestamp(0, 1 << 24)
    with pytest.raises(ValueError):
        Timestamp.from_bytes(b"\x00" * 7)
    # largest fraction rounds up into the next second
    assert Timestamp(10, (1 << 24) - 1).datetime == dt.datetime(1970, 1, 1, 0, 0, 11, tzinfo=UTC)


# ------------------------------------------------------------ device model


def S(name, t, size=0, children=(), element=None):
    return VariableSpec(name, t, size, list(children), element)


def test_logical_node_from_spec_merges_fcs_and_sorts_out_control_blocks():
    st_do = lambda n: S(n, MmsType.STRUCTURE, 0, [
        S("stVal", MmsType.INTEGER, 8), S("q", MmsType.BIT_STRING, -13), S("t", MmsType.UTC_TIME)])
    spec = S("LLN0", MmsType.STRUCTURE, 0, [
        S("ST", MmsType.STRUCTURE, 0, [st_do("Mod"), st_do("Beh")]),
        S("CF", MmsType.STRUCTURE, 0, [S("Mod", MmsType.STRUCTURE, 0, [S("ctlModel", MmsType.INTEGER, 8)])]),
        S("DC", MmsType.STRUCTURE, 0, [S("NamPlt", MmsType.STRUCTURE, 0, [
            S("vendor", MmsType.VISIBLE_STRING, -255),
            S("arr", MmsType.ARRAY, 4, element=S("", MmsType.FLOAT, 32))])]),
        S("SP", MmsType.STRUCTURE, 0, [S("SGCB", MmsType.STRUCTURE, 0, [S("NumOfSG", MmsType.UNSIGNED, 8)])]),
        S("RP", MmsType.STRUCTURE, 0, [S("urcbA01", MmsType.STRUCTURE), S("urcbA02", MmsType.STRUCTURE)]),
        S("BR", MmsType.STRUCTURE, 0, [S("brcbB01", MmsType.STRUCTURE)]),
        S("LG", MmsType.STRUCTURE, 0, [S("Log1", MmsType.STRUCTURE)]),
    ])
    ln = logical_node_from_spec("LLN0", spec, ["Events"])
    assert [d.name for d in ln.data_objects] == ["Mod", "Beh", "NamPlt"]
    mod = ln.data_object("Mod")
    assert [(a.name, a.fc) for a in mod.attributes] == [
        ("stVal", FC.ST), ("q", FC.ST), ("t", FC.ST), ("ctlModel", FC.CF)]
    assert mod.functional_constraints == [FC.ST, FC.CF]
    assert mod.attribute("q").type is MmsType.BIT_STRING and mod.attribute("q").size == -13
    assert mod.attribute("ctlModel", FC.CF).fc is FC.CF
    with pytest.raises(KeyError):
        mod.attribute("ctlModel", FC.ST)
    arr = ln.data_object("NamPlt").attribute("arr")
    assert arr.type is MmsType.ARRAY and arr.size == 4 and arr.element.type is MmsType.FLOAT
    assert ln.control_blocks == {
        ACSIClass.SGCB: ["SGCB"],
        ACSIClass.URCB: ["urcbA01", "urcbA02"],
        ACSIClass.BRCB: ["brcbB01"],
        ACSIClass.LCB: ["Log1"],
    }
    assert ln.data_sets == ["Events"]
    model = C.DeviceModel([C.LogicalDevice("TESTLD0", [ln])])
    leaves = list(model.leaves())
    assert [lf.reference for lf in leaves][:4] == [
        "TESTLD0/LLN0.Mod.stVal", "TESTLD0/LLN0.Mod.q", "TESTLD0/LLN0.Mod.t", "TESTLD0/LLN0.Mod.ctlModel"]
    assert ("TESTLD0/LLN0.NamPlt.arr", FC.DC, MmsType.ARRAY) in [(x.reference, x.fc, x.type) for x in leaves]
    assert model.logical_device("TESTLD0").logical_node("LLN0") is ln


def test_variable_spec_walk_and_child():
    spec = S("AnIn1", MmsType.STRUCTURE, 0, [
        S("mag", MmsType.STRUCTURE, 0, [S("f", MmsType.FLOAT, 32)]), S("q", MmsType.BIT_STRING, -13)])
    assert [p for p, _ in spec.walk()] == ["", "mag", "mag$f", "q"]
    assert spec.child("mag").child("f").size == 32
    with pytest.raises(KeyError):
        spec.child("x")


# -------------------------------------------------------------- dispatcher


class _Conn:
    pass


def test_dispatcher_runs_callbacks_off_the_posting_thread_in_order(caplog):
    conn = _Conn()
    import weakref

    d = _Dispatcher()
    d.conn_ref = weakref.ref(conn)
    seen, closed, threads = [], [], []
    done = threading.Event()

    def on_state(c, state):
        threads.append(threading.current_thread().name)
        seen.append(state)
        if state == IedConnectionState.CONNECTING:
            raise RuntimeError("user bug")  # logged, does not stop delivery

    def on_closed(c):
        assert c is conn
        closed.append(True)
        done.set()

    conn._state_cb, conn._closed_cb = on_state, on_closed
    d.enabled = True
    d.start()
    with caplog.at_level(logging.ERROR, logger="py61850.client"):
        for prev, new in [(0, 1), (1, 2), (2, 3), (3, 0), (0, 1), (1, 0)]:
            d.post((prev, new))
        assert done.wait(5)
        time.sleep(0.2)
    assert seen == [1, 2, 3, 0, 1, 0]
    assert closed == [True]  # only CONNECTED/CLOSING -> CLOSED counts as "closed"
    assert threading.current_thread().name not in threads
    assert any("user bug" in r.getMessage() or (r.exc_info and "user bug" in str(r.exc_info[1]))
               for r in caplog.records)
    d.stop()


def test_dispatcher_post_never_blocks_on_a_slow_callback():
    conn = _Conn()
    import weakref

    d = _Dispatcher()
    d.conn_ref = weakref.ref(conn)
    release = threading.Event()
    conn._state_cb, conn._closed_cb = (lambda c, s: release.wait(10)), None
    d.enabled = True
    d.start()
    t0 = time.monotonic()
    for i in range(5000):  # more than the queue holds
        d.post((0, 1))
    assert time.monotonic() - t0 < 1.0
    assert d.dropped > 0
    release.set()
    d.stop()


# -------------------------------------------------------- MmsValue (C value API)


def test_mms_value_scalars_round_trip():
    cases = [
        (MmsValue.boolean(True), MmsType.BOOLEAN, True),
        (MmsValue.boolean(False), MmsType.BOOLEAN, False),
        (MmsValue.int32(-(2**31)), MmsType.INTEGER, -(2**31)),
        (MmsValue.int32(2**31 - 1), MmsType.INTEGER, 2**31 - 1),
        (MmsValue.int64(-(2**63)), MmsType.INTEGER, -(2**63)),
        (MmsValue.int64(2**63 - 1), MmsType.INTEGER, 2**63 - 1),
        (MmsValue.uint32(2**32 - 1), MmsType.UNSIGNED, 2**32 - 1),
        (MmsValue.uint32(0), MmsType.UNSIGNED, 0),
        (MmsValue.float32(12.5), MmsType.FLOAT, 12.5),
        (MmsValue.float64(0.1), MmsType.FLOAT, 0.1),
        (MmsValue.visible_string("abc"), MmsType.VISIBLE_STRING, "abc"),
        (MmsValue.visible_string(b""), MmsType.VISIBLE_STRING, ""),
        (MmsValue.mms_string("Grüße ✓"), MmsType.STRING, "Grüße ✓"),
        (MmsValue.octet_string(b"\x00\x01\xff"), MmsType.OCTET_STRING, b"\x00\x01\xff"),
        (MmsValue.octet_string(b""), MmsType.OCTET_STRING, b""),
        (MmsValue.bit_string([True, False, True]), MmsType.BIT_STRING, BitString.from_str("101")),
    ]
    for v, t, py in cases:
        assert v.type is t, v
        assert v.to_python() == py and type(v.to_python()) is type(py), v
        assert v == v.clone()
        assert repr(v).startswith("MmsValue(")
    assert MmsValue.float32(1.5).bit_size == 32 and MmsValue.float64(1.5).bit_size == 64
    assert MmsValue.float32(1.5) != MmsValue.float64(1.5)  # same number, other MMS type
    assert MmsValue.float32(0.1).to_python() != 0.1  # really 32 bits wide
    assert MmsValue.int32(5) != MmsValue.uint32(5)
    assert MmsValue.bit_string(BitString(13)).bit_size == 13


def test_mms_value_time_and_quality():
    ts = Timestamp(0x6553F100, 0x1F7CED, TimeQuality(leap_seconds_known=True, accuracy=10))
    v = MmsValue.utc_time(ts)
    assert v.type is MmsType.UTC_TIME
    assert v.to_timestamp() == ts
    assert v.to_python() == dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    v2 = MmsValue.utc_time(ts.datetime, ts.quality)
    assert v2 == v
    with pytest.raises(ValueError):
        MmsValue.utc_time(dt.datetime(2023, 1, 1))
    q = Quality(validity=Validity.QUESTIONABLE, old_data=True)
    qv = MmsValue.quality(q)
    assert qv.type is MmsType.BIT_STRING and qv.bit_size == 13 and qv.to_quality() == q
    with pytest.raises(C.UnexpectedValueError):
        qv.to_timestamp()


def test_mms_value_structure_and_array():
    inner = MmsValue.structure([MmsValue.float32(12.5)])
    s = MmsValue.structure([inner, MmsValue.quality(Quality()), MmsValue.utc_time(Timestamp(1, 0))])
    assert s.type is MmsType.STRUCTURE and len(s) == 3
    assert s.to_python() == [[12.5], BitString(13), dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)]
    assert s[0] == inner and s[-1].type is MmsType.UTC_TIME
    assert [e.type for e in s] == [MmsType.STRUCTURE, MmsType.BIT_STRING, MmsType.UTC_TIME]
    assert [e.type for e in s[1:]] == [MmsType.BIT_STRING, MmsType.UTC_TIME]
    with pytest.raises(IndexError):
        s[3]
    child = s[0][0]
    del s, inner  # the element view keeps the tree alive
    import gc

    gc.collect()
    assert child.to_python() == 12.5
    a = MmsValue.array([MmsValue.int32(i) for i in range(5)])
    assert a.type is MmsType.ARRAY and a.to_python() == [0, 1, 2, 3, 4]
    assert a != MmsValue.array([MmsValue.int32(i) for i in range(4)])
    assert MmsValue.array([]).to_python() == []
    assert bool(MmsValue.boolean(False)) is True  # a value object is always truthy
    with pytest.raises(TypeError):
        len(MmsValue.int32(1))
    with pytest.raises(TypeError):
        MmsValue.structure([1, 2])


def test_mms_value_argument_checks():
    with pytest.raises(C.InvalidArgumentError):
        MmsValue.int32(2**31)
    with pytest.raises(C.InvalidArgumentError):
        MmsValue.uint32(-1)
    with pytest.raises(C.InvalidArgumentError):
        MmsValue.int64(2**63)
    with pytest.raises(TypeError):
        MmsValue.int32(1.5)
    with pytest.raises(TypeError):
        MmsValue.int32(True)
    with pytest.raises(C.InvalidArgumentError):
        MmsValue.visible_string("a\x00b")
    with pytest.raises(C.InvalidArgumentError):
        MmsValue.visible_string("é")  # visible strings are ASCII
    with pytest.raises(TypeError):
        MmsValue.octet_string("text")
    with pytest.raises(TypeError):
        MmsValue()
