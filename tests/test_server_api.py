"""py61850.server.IedServer against our own client (py61850.client), in process, on
127.0.0.1: every service the server offers, value updates, handlers, lifecycle.

Expected values come from the SCL through tests/peers/sclmodel.py, a reader independent
of py61850.scl (which builds the server's model).
"""
from __future__ import annotations

import datetime as dt
import gc
import logging
import socket
import threading
import time
import weakref

import pytest

from peers.process import DEFAULT_SCL
from peers.sclmodel import SclModel
from py61850 import client as C
from py61850.client import (
    ACSIClass,
    BitString,
    DataAccessError,
    FunctionalConstraint as FC,
    IedConnection,
    MmsType,
    MmsValue,
    Quality,
    TimeQuality,
    Timestamp,
    Validity,
)
from py61850.scl import SclError
from py61850.server import ClientConnection, DataAccessRejected, IedServer, ReadRequest, WriteRequest

UTC = dt.timezone.utc
GENERIC = "TESTGenericIO"
LD0 = "TESTLD0"
ANIN1 = f"{GENERIC}/GGIO1.AnIn1.mag.f"
INTSET = f"{GENERIC}/GGIO1.IntSet1.setVal"

#: SCL basic type -> (MMS type, type-spec size) as IEC 61850-8-1 stacks publish them
SPEC = {
    "BOOLEAN": (MmsType.BOOLEAN, 0),
    "INT8": (MmsType.INTEGER, 8),
    "INT16": (MmsType.INTEGER, 16),
    "INT32": (MmsType.INTEGER, 32),
    "INT64": (MmsType.INTEGER, 64),
    "Enum": (MmsType.INTEGER, 8),
    "INT8U": (MmsType.UNSIGNED, 8),
    "INT16U": (MmsType.UNSIGNED, 16),
    "INT32U": (MmsType.UNSIGNED, 32),
    "FLOAT32": (MmsType.FLOAT, 32),
    "FLOAT64": (MmsType.FLOAT, 64),
    "Dbpos": (MmsType.BIT_STRING, 2),
    "Check": (MmsType.BIT_STRING, -2),
    "Quality": (MmsType.BIT_STRING, -13),
    "Timestamp": (MmsType.UTC_TIME, 0),
    "VisString32": (MmsType.VISIBLE_STRING, -32),
    "VisString64": (MmsType.VISIBLE_STRING, -64),
    "VisString65": (MmsType.VISIBLE_STRING, -65),
    "VisString129": (MmsType.VISIBLE_STRING, -129),
    "VisString255": (MmsType.VISIBLE_STRING, -255),
    "Unicode255": (MmsType.STRING, -255),
    "Octet64": (MmsType.OCTET_STRING, -64),
}


def bits2(v: int) -> BitString:
    return BitString.from_bools([bool(v & 2), bool(v & 1)])


def expected_python(leaf):
    """What MmsValue.to_python() of the leaf must give (SCL value or the type's zero)."""
    b, v = leaf.btype, leaf.value
    if b in ("Dbpos", "Check"):
        return bits2(v or 0)
    if b == "Quality":
        return BitString(13)
    if v is not None:
        return v
    if b == "BOOLEAN":
        return False
    if b.startswith("INT") or b == "Enum":
        return 0
    if b.startswith("FLOAT"):
        return 0.0
    if b.startswith("VisString") or b == "Unicode255":
        return ""
    if b == "Octet64":
        return b""
    if b == "Timestamp":
        return dt.datetime(1970, 1, 1, tzinfo=UTC)
    raise AssertionError(b)


def mms_for(btype: str, value) -> MmsValue:
    """A client-side MmsValue of the MMS type the server holds for ``btype``."""
    if btype == "BOOLEAN":
        return MmsValue.boolean(value)
    if btype.startswith("INT") and btype.endswith("U"):
        return MmsValue.uint32(value)
    if btype.startswith("INT") or btype == "Enum":
        return MmsValue.int64(value)
    if btype == "FLOAT32":
        return MmsValue.float32(value)
    if btype == "FLOAT64":
        return MmsValue.float64(value)
    if btype in ("Dbpos", "Check"):
        return MmsValue.bit_string(bits2(value))
    if btype == "Quality":
        return MmsValue.quality(value)
    if btype.startswith("VisString"):
        return MmsValue.visible_string(value)
    if btype == "Unicode255":
        return MmsValue.mms_string(value)
    if btype == "Octet64":
        return MmsValue.octet_string(value)
    if btype == "Timestamp":
        return MmsValue.utc_time(value)
    raise AssertionError(btype)


def new_value(leaf):
    """A value of the leaf's type that differs from its initial value."""
    b = leaf.btype
    table = {
        "BOOLEAN": not bool(leaf.value),
        "INT8": -77, "INT16": -30000, "INT32": 2_000_000_001, "INT64": -(2**62),
        "INT8U": 201, "INT16U": 65000, "INT32U": 4_000_000_123,
        "FLOAT32": 1234.5, "FLOAT64": -98765.4321, "Enum": 3, "Dbpos": 2, "Check": 1,
        "Unicode255": "größe ✓", "Octet64": b"\x00\x01\xfe\xff",
        "Timestamp": dt.datetime(2024, 5, 6, 7, 8, 9, 500000, tzinfo=UTC),
        "Quality": Quality(validity=Validity.QUESTIONABLE, old_data=True),
    }
    if b.startswith("VisString"):
        return f"new-{b}"[: int(b[len('VisString'):])]
    return table[b]


@pytest.fixture(scope="module")
def model() -> SclModel:
    return SclModel(DEFAULT_SCL)


@pytest.fixture
def server():
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(port=0, host="127.0.0.1")
    yield srv
    srv.close()


@pytest.fixture
def conn(server):
    c = IedConnection()
    c.set_request_timeout(5000)
    c.connect("127.0.0.1", server.port)
    yield c
    c.close()


def connect(server) -> IedConnection:
    c = IedConnection()
    c.set_request_timeout(5000)
    c.connect("127.0.0.1", server.port)
    return c


def wait_for(pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


# ------------------------------------------------------------------ association


def test_identify_defaults_from_scl_and_custom(server, conn):
    # simple_io.icd: <IED name="TEST" manufacturer="py61850" type="SimpleIO" configVersion="1.0">
    assert conn.identify() == C.DeviceIdentity("py61850", "SimpleIO", "1.0")
    server.set_identity("ACME", "Relay 9000", "4.2.1")
    assert conn.identify() == C.DeviceIdentity("ACME", "Relay 9000", "4.2.1")
    assert server.identity == ("ACME", "Relay 9000", "4.2.1")
    with pytest.raises(C.InvalidArgumentError):
        server.set_identity("caf\u00e9", "m", "r")


def test_identity_keyword_arguments():
    with IedServer.from_scl(DEFAULT_SCL, vendor="V", model_name="M", revision="R") as srv:
        srv.start(0, "127.0.0.1")
        with connect(srv) as c:
            assert c.identify() == C.DeviceIdentity("V", "M", "R")


def test_status(conn):
    st = conn.get_server_status()
    assert st.logical == 0 and st.physical == 0


def test_negotiated_pdu_size():
    with IedServer.from_scl(DEFAULT_SCL, max_pdu_size=4000) as srv:
        srv.start(0, "127.0.0.1")
        with connect(srv) as c:
            assert c.max_pdu_size == 4000
            # a read bigger than one PDU still gets an answer (an error, not a hang)
            c.read_value(f"{LD0}/GGIO2.TypST", FC.ST)


# ------------------------------------------------------------------ directories


def test_logical_devices_and_nodes(conn, model):
    assert conn.get_logical_devices() == model.logical_devices
    for ld in model.logical_devices:
        assert sorted(conn.get_logical_nodes(ld)) == sorted(model.logical_nodes(ld))
        for ln in model.logical_nodes(ld):
            dos = conn.get_logical_node_directory(f"{ld}/{ln}", ACSIClass.DATA_OBJECT)
            assert sorted(dos) == sorted(model.data_objects(ld, ln)), f"{ld}/{ln}"


def test_name_list_is_the_data_model(conn, model):
    # GetNameList(namedVariable): LN, LN$FC, LN$FC$DO[$DA...] and every RCB with its components
    # (Edition 2: with Owner), sorted as IEC 61850-8-1 servers do.
    for ld in model.logical_devices:
        assert conn.get_logical_device_variables(ld) == model.mms_names(ld, owner=True)


def test_data_directory_with_fcs(conn):
    got = conn.get_data_directory_fc(f"{GENERIC}/GGIO1.SPCSO1")
    assert set(got) == {"Oper[CO]", "stVal[ST]", "q[ST]", "t[ST]", "ctlModel[CF]"}
    assert conn.get_data_directory(f"{GENERIC}/GGIO1.AnIn1") == ["mag", "q", "t"]


def test_variable_specifications_of_every_leaf(conn, model):
    for leaf in model.leaves():
        spec = conn.get_variable_specification(leaf.ref, leaf.fc)
        assert (spec.type, spec.size) == SPEC[leaf.btype], f"{leaf.ref} [{leaf.fc}] {leaf.btype}"


def test_device_model_matches_scl(conn, model):
    dm = conn.get_device_model()
    got = {(lf.reference, lf.fc.name) for lf in dm.leaves()}
    # the FC SE twin of each FC SG attribute of an LD with setting groups is served too (8-1)
    want = {(lf.ref, lf.fc) for lf in model.leaves(se_twins=True)}
    assert got == want


# ------------------------------------------------------------------ reads


def test_read_every_leaf_gives_the_scl_value(conn, model):
    # (reading an sbo-normal object's SBO is the Select service: it answers the object
    # reference, not the SCL value; test_control_* cover it)
    leaves = [lf for lf in model.leaves() if not (lf.fc == "CO" and lf.ref.endswith(".SBO"))]
    assert len(leaves) > 100
    for leaf in leaves:
        v = conn.read_value(leaf.ref, leaf.fc)
        assert v.type is SPEC[leaf.btype][0], f"{leaf.ref}: {v!r}"
        got, want = v.to_python(), expected_python(leaf)
        if leaf.btype == "Timestamp":
            assert abs((got - want).total_seconds()) < 1e-4, f"{leaf.ref}: {got} != {want}"
        else:
            assert got == want, f"{leaf.ref} [{leaf.fc}]: {v!r} != {want!r}"


def test_typed_reads(conn):
    assert conn.read_float(ANIN1, FC.MX) == 12.5
    assert conn.read_boolean(f"{GENERIC}/GGIO1.Ind1.stVal", FC.ST) is True
    assert conn.read_int64(f"{LD0}/GGIO2.TypST.int64Val", FC.ST) == -6400000000
    assert conn.read_uint32(f"{LD0}/GGIO2.TypMX.int32uVal", FC.MX) == 4294967295
    assert conn.read_string(f"{GENERIC}/LLN0.NamPlt.vendor", FC.DC)
    assert conn.read_quality(f"{GENERIC}/GGIO1.AnIn1.q", FC.MX) == Quality()
    assert conn.read_timestamp(f"{LD0}/GGIO2.TypST.t", FC.ST).seconds == 1700000000


def test_read_constructed_do_and_ln(conn, model):
    v = conn.read_value(f"{GENERIC}/GGIO1.AnIn1", FC.MX)
    assert v.type is MmsType.STRUCTURE and len(v) == 3  # mag, q, t
    assert v[0].to_python() == [12.5]
    typed = conn.read_value(f"{LD0}/GGIO2.TypST", FC.ST)
    assert len(typed) == 21
    whole_ln = conn.read_value(f"{LD0}/GGIO2", FC.NONE)
    assert whole_ln.type is MmsType.STRUCTURE
    assert len(whole_ln) == len({lf.fc for lf in model.leaves() if lf.ref.startswith(f"{LD0}/GGIO2.")})


def test_read_many_in_one_request(conn):
    got = conn.read_values([(ANIN1, FC.MX), (f"{GENERIC}/GGIO1.Nope.stVal", FC.ST), (INTSET, FC.SP)])
    assert got[0].to_python() == 12.5
    assert isinstance(got[1], C.ObjectDoesNotExistError)
    assert got[2].to_python() == 42


def test_read_errors(conn):
    with pytest.raises(C.ObjectDoesNotExistError):
        conn.read_value(f"{GENERIC}/GGIO1.AnIn9.mag.f", FC.MX)
    with pytest.raises(C.ObjectDoesNotExistError):
        conn.read_value(ANIN1, FC.ST)  # wrong FC
    with pytest.raises(C.ObjectDoesNotExistError):
        conn.read_value("NOSUCHLD/GGIO1.AnIn1.mag.f", FC.MX)


# ------------------------------------------------------------------ writes


def test_write_every_sp_leaf_and_read_back(server, conn, model):
    writable = [lf for lf in model.leaves() if lf.fc == "SP"]
    assert len(writable) >= 20
    for leaf in writable:
        val = new_value(leaf)
        conn.write_value(leaf.ref, leaf.fc, mms_for(leaf.btype, val))
        got = conn.read_value(leaf.ref, leaf.fc)
        assert got == mms_for(leaf.btype, val) or (
            leaf.btype == "Timestamp" and got.to_python() == val), f"{leaf.ref}: {got!r}"
        # the server side sees the same value
        assert server.get_mms_value(leaf.ref, leaf.fc) == got


def test_typed_client_writes(conn):
    conn.write_int32(INTSET, FC.SP, -42)
    assert conn.read_int32(INTSET, FC.SP) == -42
    conn.write_float(f"{GENERIC}/GGIO1.SetPt1.setMag.f", FC.SP, 7.25)
    assert conn.read_float(f"{GENERIC}/GGIO1.SetPt1.setMag.f", FC.SP) == 7.25
    conn.write_boolean(f"{LD0}/GGIO2.TypSP.boolVal", FC.SP, False)
    assert conn.read_boolean(f"{LD0}/GGIO2.TypSP.boolVal", FC.SP) is False
    conn.write_string(f"{LD0}/GGIO2.TypSP.vis32Val", FC.SP, "hello")
    assert conn.read_string(f"{LD0}/GGIO2.TypSP.vis32Val", FC.SP) == "hello"


def test_write_errors(server, conn):
    # ST and MX are never writable; CF/DC denied by default
    with pytest.raises(C.AccessDeniedError):
        conn.write_boolean(f"{GENERIC}/GGIO1.Ind1.stVal", FC.ST, False)
    with pytest.raises(C.AccessDeniedError):
        conn.write_float(ANIN1, FC.MX, 1.0)
    with pytest.raises(C.AccessDeniedError):
        conn.write_int32(f"{LD0}/GGIO2.TypCF.int32Val", FC.CF, 5)
    # wrong MMS type / out of range for the attribute
    with pytest.raises(C.TypeInconsistentError):
        conn.write_float(INTSET, FC.SP, 1.0)
    with pytest.raises(C.TypeInconsistentError):
        conn.write_value(f"{LD0}/GGIO2.TypSP.int8Val", FC.SP, MmsValue.int64(1000))
    with pytest.raises(C.TypeInconsistentError):
        conn.write_string(f"{LD0}/GGIO2.TypSP.vis32Val", FC.SP, "x" * 33)
    with pytest.raises(C.ObjectDoesNotExistError):
        conn.write_int32(f"{GENERIC}/GGIO1.IntSet9.setVal", FC.SP, 1)
    assert conn.read_int32(INTSET, FC.SP) == 42  # nothing changed
    # the policy can be opened per FC
    server.set_write_access(FC.CF, True)
    conn.write_int32(f"{LD0}/GGIO2.TypCF.int32Val", FC.CF, 5)
    assert conn.read_int32(f"{LD0}/GGIO2.TypCF.int32Val", FC.CF) == 5
    server.set_write_access("CF", False)
    with pytest.raises(C.AccessDeniedError):
        conn.write_int32(f"{LD0}/GGIO2.TypCF.int32Val", FC.CF, 6)
    with pytest.raises(C.AccessDeniedError):
        server.set_write_access(FC.ST, True)


def test_write_many_in_one_request(conn):
    results = conn.write_values([
        (INTSET, FC.SP, MmsValue.int32(77)),
        (f"{GENERIC}/GGIO1.Ind1.stVal", FC.ST, MmsValue.boolean(False)),
        (f"{GENERIC}/GGIO1.SetPt1.setMag.f", FC.SP, MmsValue.float32(3.5)),
    ])
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], C.AccessDeniedError)
    assert conn.read_int32(INTSET, FC.SP) == 77


# ------------------------------------------------------------------ updates from Python


def test_update_value_is_seen_by_clients(server, conn):
    server.update_value(ANIN1, 99.75)
    assert conn.read_float(ANIN1, FC.MX) == 99.75
    assert server.get_value(ANIN1) == 99.75
    # FC given explicitly, MMS-style reference, bytes reference
    server.update_value(ANIN1, -1.5, FC.MX)
    assert conn.read_float(ANIN1, FC.MX) == -1.5
    server.update_value(f"{GENERIC}/GGIO1$MX$AnIn1$mag$f", 2.5)
    assert conn.read_float(ANIN1, FC.MX) == 2.5
    server.update_value(ANIN1.encode(), 3.5, "MX")
    assert server.get_value(ANIN1, "MX") == 3.5


def test_typed_updates(server, conn):
    st = f"{LD0}/GGIO2.TypST"
    server.update_boolean(f"{st}.boolVal", False)
    server.update_int32(f"{st}.int8Val", -128)
    server.update_int32(f"{st}.enumVal", 1)
    server.update_int64(f"{st}.int64Val", 2**62)
    server.update_uint32(f"{st}.int32uVal", 2**32 - 1)
    server.update_float(f"{st}.flt32Val", 0.125)
    server.update_float(f"{st}.flt64Val", 1e100)
    server.update_string(f"{st}.vis64Val", "abc")
    server.update_string(f"{st}.uni255Val", "äöü")
    server.update_octet_string(f"{st}.oct64Val", b"\x01\x02")
    server.update_bit_string(f"{st}.dbposVal", 1)
    server.update_bit_string(f"{st}.checkVal", "11")
    q = Quality(validity=Validity.INVALID, failure=True, test=True)
    server.update_quality(f"{st}.q", q)
    ts = Timestamp(1_800_000_000, 1 << 23, TimeQuality(leap_seconds_known=True, accuracy=10))
    server.update_timestamp(f"{st}.t", ts)
    assert conn.read_boolean(f"{st}.boolVal", FC.ST) is False
    assert conn.read_int32(f"{st}.int8Val", FC.ST) == -128
    assert conn.read_int32(f"{st}.enumVal", FC.ST) == 1
    assert conn.read_int64(f"{st}.int64Val", FC.ST) == 2**62
    assert conn.read_uint32(f"{st}.int32uVal", FC.ST) == 2**32 - 1
    assert conn.read_float(f"{st}.flt32Val", FC.ST) == 0.125
    assert conn.read_float(f"{st}.flt64Val", FC.ST) == 1e100
    assert conn.read_value(f"{st}.flt64Val", FC.ST).bit_size == 64
    assert conn.read_string(f"{st}.vis64Val", FC.ST) == "abc"
    assert conn.read_string(f"{st}.uni255Val", FC.ST) == "äöü"
    assert conn.read_octet_string(f"{st}.oct64Val", FC.ST) == b"\x01\x02"
    assert conn.read_value(f"{st}.dbposVal", FC.ST).to_python() == BitString.from_str("01")
    assert conn.read_value(f"{st}.checkVal", FC.ST).to_python() == BitString.from_str("11")
    assert conn.read_quality(f"{st}.q", FC.ST) == q
    assert conn.read_timestamp(f"{st}.t", FC.ST) == ts
    before = time.time()
    server.update_timestamp(f"{st}.t")  # now
    assert abs(conn.read_timestamp(f"{st}.t", FC.ST).timestamp - before) < 5


def test_update_structures_and_data_objects(server, conn):
    server.update_value(f"{GENERIC}/GGIO1.AnIn1.mag", [4.5])
    assert conn.read_float(ANIN1, FC.MX) == 4.5
    server.update_value(f"{GENERIC}/GGIO1.AnIn1.mag", {"f": 5.5})
    assert conn.read_float(ANIN1, FC.MX) == 5.5
    # a DO restricted to one FC: mapping with some components; the others keep their value
    now = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    server.update_value(f"{GENERIC}/GGIO1.AnIn2", {"mag": {"f": 6.5}, "t": now}, FC.MX)
    v = conn.read_value(f"{GENERIC}/GGIO1.AnIn2", FC.MX).to_python()
    assert v == [[6.5], BitString(13), now]
    server.update_value(f"{GENERIC}/GGIO1.AnIn2", [[7.5], Quality(old_data=True), now], "MX")
    assert conn.read_quality(f"{GENERIC}/GGIO1.AnIn2.q", FC.MX).old_data is True
    # an MmsValue is used as is
    server.update_value(ANIN1, MmsValue.float32(8.5))
    assert conn.read_float(ANIN1, FC.MX) == 8.5


def test_update_errors(server):
    with pytest.raises(C.ObjectDoesNotExistError):
        server.update_value(f"{GENERIC}/GGIO1.AnIn9.mag.f", 1.0)
    with pytest.raises(C.ObjectDoesNotExistError):
        server.update_value(ANIN1, 1.0, FC.ST)
    with pytest.raises(C.ObjectReferenceInvalidError) as ei:
        server.update_value(f"{GENERIC}/GGIO1.SPCSO1", [True])  # ST, CF, CO below it
    assert "functional constraint" in str(ei.value)
    with pytest.raises(C.ObjectReferenceInvalidError):
        server.update_value("no slash", 1)
    with pytest.raises(C.InvalidArgumentError):
        server.update_value(ANIN1, "a string")
    with pytest.raises(ValueError):  # InvalidArgumentError is a ValueError
        server.update_value(f"{LD0}/GGIO2.TypST.int8Val", 128)
    with pytest.raises(ValueError):
        server.update_value(f"{LD0}/GGIO2.TypST.int8uVal", -1)
    with pytest.raises(ValueError):
        server.update_value(f"{LD0}/GGIO2.TypST.t", dt.datetime(2020, 1, 1))  # naive
    with pytest.raises(ValueError):
        server.update_value(f"{GENERIC}/GGIO1.AnIn1.mag", {"g": 1.0})
    with pytest.raises(ValueError):
        server.update_value(f"{GENERIC}/GGIO1.AnIn1.mag", [1.0, 2.0])
    with pytest.raises(C.TypeInconsistentError):
        server.update_boolean(ANIN1, True)
    with pytest.raises(C.TypeInconsistentError):
        server.update_value(ANIN1, MmsValue.int32(1))
    with pytest.raises(C.TypeInconsistentError):
        server.update_value(f"{LD0}/GGIO2.TypST.vis32Val", MmsValue.visible_string("x" * 40))
    with pytest.raises(TypeError):
        server.update_quality(f"{GENERIC}/GGIO1.AnIn1.q", "good")
    assert server.get_value(ANIN1) == 12.5  # unchanged by the failures


def test_variable_spec_and_resolve_fc(server):
    assert server.resolve_fc(ANIN1) is FC.MX
    assert server.resolve_fc(f"{GENERIC}/GGIO1.SPCSO1.stVal") is FC.ST
    spec = server.variable_spec(f"{GENERIC}/GGIO1.AnIn1", FC.MX)
    assert [c.name for c in spec.children] == ["mag", "q", "t"]


def test_lock_makes_updates_atomic(server):
    a, b = f"{GENERIC}/GGIO1.AnIn1.mag.f", f"{GENERIC}/GGIO1.AnIn2.mag.f"
    stop = threading.Event()
    errors: list[str] = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            with server.lock():
                server.update_float(a, float(i))
                time.sleep(0.0002)  # widen the window a reader could fall into
                server.update_float(b, float(i))

    t = threading.Thread(target=writer)
    t.start()
    try:
        with connect(server) as c:
            for _ in range(300):
                va, vb = c.read_values([(a, FC.MX), (b, FC.MX)])
                if va.to_python() != vb.to_python():
                    errors.append(f"{va!r} != {vb!r}")
    finally:
        stop.set()
        t.join()
    assert not errors, errors[:5]


# ------------------------------------------------------------------ write handlers


def test_on_write_accept_and_reject(server):
    seen: list[tuple[WriteRequest, str]] = []

    def handler(req: WriteRequest):
        seen.append((req, threading.current_thread().name))
        if req.value > 100:
            return DataAccessError.OBJECT_VALUE_INVALID
        if req.value < 0:
            return False
        if req.value == 13:
            raise DataAccessRejected(DataAccessError.TEMPORARILY_UNAVAILABLE, "unlucky")
        return None

    server.on_write(INTSET, handler)
    conn = connect(server)  # connected after the first handler: its address is known
    conn.write_int32(INTSET, FC.SP, 50)
    assert conn.read_int32(INTSET, FC.SP) == 50
    with pytest.raises(C.ObjectValueInvalidError):
        conn.write_int32(INTSET, FC.SP, 101)
    with pytest.raises(C.AccessDeniedError):
        conn.write_int32(INTSET, FC.SP, -1)
    with pytest.raises(C.TemporarilyUnavailableError):
        conn.write_int32(INTSET, FC.SP, 13)
    assert conn.read_int32(INTSET, FC.SP) == 50
    assert server.get_value(INTSET) == 50
    assert [r.value for r, _ in seen] == [50, 101, -1, 13]
    req, thread_name = seen[0]
    assert thread_name == "py61850-server-handlers"
    assert req.reference == INTSET and req.fc is FC.SP and req.handler_reference == INTSET
    assert req.mms_value.type is MmsType.INTEGER
    assert isinstance(req.connection, ClientConnection)
    assert req.connection.host == "127.0.0.1" and req.connection.port > 0
    # removing the handler: writes are stored without asking Python
    server.on_write(INTSET, None)
    conn.write_int32(INTSET, FC.SP, 500)
    assert conn.read_int32(INTSET, FC.SP) == 500
    assert len(seen) == 4
    conn.close()


def test_on_write_covers_containing_and_contained_variables(server, conn):
    seen: list[str] = []
    server.on_write(f"{GENERIC}/GGIO1.SetPt1.setMag", lambda r: seen.append(r.reference))
    conn.write_float(f"{GENERIC}/GGIO1.SetPt1.setMag.f", FC.SP, 1.25)  # inside
    conn.write_value(f"{GENERIC}/GGIO1.SetPt1", FC.SP,
                     MmsValue.structure([MmsValue.structure([MmsValue.float32(2.5)])]))  # containing
    assert seen == [f"{GENERIC}/GGIO1.SetPt1.setMag.f", f"{GENERIC}/GGIO1.SetPt1"]
    assert conn.read_float(f"{GENERIC}/GGIO1.SetPt1.setMag.f", FC.SP) == 2.5


def test_write_handler_exception_is_logged_and_answered(server, conn, caplog):
    def broken(req):
        raise RuntimeError("handler bug")

    server.on_write(INTSET, broken)
    with caplog.at_level(logging.ERROR, logger="py61850.server"):
        with pytest.raises(C.TemporarilyUnavailableError):
            conn.write_int32(INTSET, FC.SP, 1)
    assert any("handler bug" in (r.exc_text or "") or "handler bug" in str(r.exc_info) for r in caplog.records)
    assert server.handler_failures == 1
    server.handler_error = DataAccessError.HARDWARE_FAULT
    with caplog.at_level(logging.CRITICAL, logger="py61850.server"):
        with pytest.raises(C.HardwareFaultError):
            conn.write_int32(INTSET, FC.SP, 1)
    # a handler returning nonsense is a handler error as well
    server.on_write(INTSET, lambda r: "yes")
    with caplog.at_level(logging.CRITICAL, logger="py61850.server"):
        with pytest.raises(C.HardwareFaultError):
            conn.write_int32(INTSET, FC.SP, 1)
    assert server.handler_failures == 3
    assert conn.read_int32(INTSET, FC.SP) == 42


def test_slow_handler_does_not_block_other_clients(server):
    release = threading.Event()
    server.on_write(INTSET, lambda r: release.wait(5) and None)
    slow = connect(server)
    fast = connect(server)
    result: list = []
    t = threading.Thread(target=lambda: result.append(slow.write_int32(INTSET, FC.SP, 5)))
    t.start()
    try:
        time.sleep(0.1)
        t0 = time.monotonic()
        for _ in range(50):
            assert fast.read_float(ANIN1, FC.MX) == 12.5
        fast.write_float(f"{GENERIC}/GGIO1.SetPt1.setMag.f", FC.SP, 1.0)  # no handler: fast path
        assert time.monotonic() - t0 < 2.0
        assert t.is_alive()  # still waiting for the handler
    finally:
        release.set()
        t.join(5)
    assert result == [None]
    assert fast.read_int32(INTSET, FC.SP) == 5
    slow.close()
    fast.close()


def test_hook_timeout_answers_temporarily_unavailable(server, conn, caplog):
    server.configure(hook_timeout=0.3)
    gate = threading.Event()
    server.on_write(INTSET, lambda r: gate.wait(3) and None)
    t0 = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="py61850.server"):
        with pytest.raises(C.TemporarilyUnavailableError):
            conn.write_int32(INTSET, FC.SP, 5)
    assert time.monotonic() - t0 < 2.5
    gate.set()
    time.sleep(0.2)  # the handler's late accept must change nothing
    assert conn.read_int32(INTSET, FC.SP) == 42


# ------------------------------------------------------------------ read handlers


def test_on_read_values_and_errors(server, conn, caplog):
    ref = f"{GENERIC}/GGIO1.AnIn2.mag.f"
    calls: list[ReadRequest] = []
    counter = iter(range(1, 1000))

    def produce(req: ReadRequest):
        calls.append(req)
        return float(next(counter))

    server.on_read(ref, produce)
    assert conn.read_float(ref, FC.MX) == 1.0
    assert conn.read_float(ref, FC.MX) == 2.0
    # reading a variable that contains the object runs the handler too
    assert conn.read_value(f"{GENERIC}/GGIO1.AnIn2", FC.MX)[0].to_python() == [3.0]
    assert [c.reference for c in calls] == [ref, ref, f"{GENERIC}/GGIO1.AnIn2"]
    assert calls[0].fc is FC.MX and calls[0].handler_reference == ref
    # other objects stay on the fast path
    assert conn.read_float(ANIN1, FC.MX) == 12.5
    assert len(calls) == 3

    server.on_read(ref, lambda r: DataAccessError.OBJECT_ACCESS_DENIED)
    with pytest.raises(C.AccessDeniedError):
        conn.read_float(ref, FC.MX)
    # a multi-variable read: only the guarded element fails
    got = conn.read_values([(ref, FC.MX), (ANIN1, FC.MX)])
    assert isinstance(got[0], C.AccessDeniedError) and got[1].to_python() == 12.5

    def broken(req):
        raise ValueError("sensor offline")

    server.on_read(ref, broken)
    with caplog.at_level(logging.CRITICAL, logger="py61850.server"):
        with pytest.raises(C.TemporarilyUnavailableError):
            conn.read_float(ref, FC.MX)
    server.on_read(ref, lambda r: None)  # None: answer from the model
    assert conn.read_float(ref, FC.MX) == 3.0
    server.on_read(ref, None)
    assert conn.read_float(ref, FC.MX) == 3.0


def test_handler_may_call_back_into_the_server(server, conn):
    def mirror(req: WriteRequest):
        server.update_value(f"{GENERIC}/GGIO1.AnIn3.mag.f", float(req.value))

    server.on_write(INTSET, mirror)
    conn.write_int32(INTSET, FC.SP, 33)
    assert conn.read_float(f"{GENERIC}/GGIO1.AnIn3.mag.f", FC.MX) == 33.0


def test_handlers_on_unknown_objects_fail(server):
    with pytest.raises(C.ObjectDoesNotExistError):
        server.on_write(f"{GENERIC}/GGIO1.Nope", lambda r: None, FC.SP)
    with pytest.raises(TypeError):
        server.on_read(ANIN1, "not callable")  # type: ignore[arg-type]


# ------------------------------------------------------------------ connections


def test_on_connection_events(server):
    events: list[tuple[ClientConnection, bool, str]] = []
    server.on_connection(lambda c, up: events.append((c, up, threading.current_thread().name)))
    c = connect(server)
    assert wait_for(lambda: len(events) == 1)
    assert server.connection_count == 1
    c.close()
    assert wait_for(lambda: len(events) == 2)
    (c1, up1, th), (c2, up2, _) = events
    assert up1 is True and up2 is False and c1 == c2
    assert c1.host == "127.0.0.1" and c1.port > 0
    assert th == "py61850-server-handlers"  # the thread of the read/write handlers too
    assert wait_for(lambda: server.connection_count == 0)
    server.on_connection(None)
    connect(server).close()
    time.sleep(0.2)
    assert len(events) == 2


def test_connection_callback_exception_is_logged(server, caplog):
    server.on_connection(lambda c, up: 1 / 0)
    with caplog.at_level(logging.ERROR, logger="py61850.server"):
        with connect(server) as c:
            assert c.identify()
        assert wait_for(lambda: sum("connection callback" in r.getMessage() for r in caplog.records) >= 2)


def test_max_connections():
    with IedServer.from_scl(DEFAULT_SCL, max_connections=2) as srv:
        srv.start(0, "127.0.0.1")
        a, b = connect(srv), connect(srv)
        extra = IedConnection()
        extra.set_connect_timeout(2000)
        with pytest.raises(C.IedConnectionException):
            extra.connect("127.0.0.1", srv.port)
        assert a.read_float(ANIN1, FC.MX) == 12.5 and b.read_float(ANIN1, FC.MX) == 12.5
        a.close()
        assert wait_for(lambda: srv.connection_count == 1)
        extra.connect("127.0.0.1", srv.port)
        assert extra.read_float(ANIN1, FC.MX) == 12.5
        extra.close()
        b.close()


# ------------------------------------------------------------------ lifecycle


def test_start_stop_restart_and_context_manager():
    srv = IedServer.from_scl(DEFAULT_SCL)
    assert not srv.is_running and srv.port == 0
    assert srv.start(0, "127.0.0.1") is srv
    port = srv.port
    assert srv.is_running and port > 0
    with pytest.raises(RuntimeError):
        srv.start(0, "127.0.0.1")
    c = connect(srv)
    srv.update_value(ANIN1, 1.0)
    srv.stop()
    assert not srv.is_running and srv.port == 0
    with pytest.raises(C.IedConnectionException):
        for _ in range(3):
            c.read_float(ANIN1, FC.MX)
    c.close()
    # values survive a restart; the same port can be reused at once
    srv.start(port, "127.0.0.1")
    assert srv.port == port
    with connect(srv) as c2:
        assert c2.read_float(ANIN1, FC.MX) == 1.0
    with srv:
        pass
    assert not srv.is_running
    with pytest.raises(RuntimeError):
        srv.update_value(ANIN1, 2.0)
    with pytest.raises(RuntimeError):
        srv.start(0)
    srv.close()  # idempotent
    assert "closed" in repr(srv)


def test_port_in_use_raises_oserror():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with IedServer.from_scl(DEFAULT_SCL) as srv:
            with pytest.raises(OSError):
                srv.start(port, "127.0.0.1")
            assert not srv.is_running
            srv.start(0, "127.0.0.1")  # still usable
            assert srv.is_running


def test_bad_host_and_port():
    with IedServer.from_scl(DEFAULT_SCL) as srv:
        with pytest.raises(ValueError):
            srv.start(70000)
        with pytest.raises(ValueError):
            srv.start(0, "no.such.host.invalid")


def test_stopped_server_is_freed_when_dropped():
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(0, "127.0.0.1")
    srv.stop()
    core = srv._core
    ref = weakref.ref(srv)
    del srv
    gc.collect()
    assert ref() is None
    assert core.ptr is None  # the C server was freed


def test_running_server_stays_alive_without_a_reference():
    port_box: list[int] = []

    def start_and_forget() -> None:
        port_box.append(IedServer.from_scl(DEFAULT_SCL).start(0, "127.0.0.1").port)

    start_and_forget()
    gc.collect()
    with IedConnection("127.0.0.1", port_box[0]) as c:
        assert c.read_float(ANIN1, FC.MX) == 12.5
    from py61850 import server as S
    for s in list(S._running):
        if s.port == port_box[0]:
            s.close()


# ------------------------------------------------------------------ from_dict


SPEC_DICT = {
    "name": "DEV",
    "manufacturer": "Example",
    "logical_devices": [{
        "inst": "LD0",
        "logical_nodes": [
            {"ln_class": "LLN0", "data_objects": [
                {"name": "Mod", "children": [
                    {"name": "stVal", "fc": "ST", "btype": "INT8", "value": 1},
                    {"name": "q", "fc": "ST", "btype": "Quality"},
                    {"name": "t", "fc": "ST", "btype": "Timestamp"},
                    {"name": "ctlModel", "fc": "CF", "btype": "INT8", "value": 0}]}]},
            {"ln_class": "MMXU", "inst": "1", "data_objects": [
                {"name": "PhV", "children": [
                    {"kind": "DO", "name": "phsA", "children": [
                        {"name": "cVal", "fc": "MX", "btype": "Struct", "children": [
                            {"name": "mag", "fc": "MX", "btype": "Struct", "children": [
                                {"name": "f", "fc": "MX", "btype": "FLOAT32", "value": 230.0}]}]},
                        {"name": "q", "fc": "MX", "btype": "Quality"}]}]},
                {"name": "Arr", "children": [
                    {"name": "vals", "fc": "SP", "btype": "INT16", "count": 3, "value": [1, None, 3]}]}]},
        ],
    }],
}


def test_from_dict_model_with_sdos_and_arrays():
    with IedServer.from_dict(SPEC_DICT) as srv:
        srv.start(0, "127.0.0.1")
        assert srv.logical_devices == ["DEVLD0"]
        with connect(srv) as c:
            assert c.identify().vendor == "Example"
            assert c.get_logical_nodes("DEVLD0") == ["LLN0", "MMXU1"]
            assert c.read_float("DEVLD0/MMXU1.PhV.phsA.cVal.mag.f", FC.MX) == 230.0
            assert c.read_int32("DEVLD0/LLN0.Mod.stVal", FC.ST) == 1
            assert c.read_value("DEVLD0/MMXU1.Arr.vals", FC.SP).to_python() == [1, 0, 3]
            assert c.read_value("DEVLD0/MMXU1.Arr.vals(2)", FC.SP).to_python() == 3
            srv.update_value("DEVLD0/MMXU1.Arr.vals", [7, 8, 9])
            assert c.read_value("DEVLD0/MMXU1.Arr.vals", FC.SP).to_python() == [7, 8, 9]
            c.write_value("DEVLD0/MMXU1.Arr.vals", FC.SP,
                          MmsValue.array([MmsValue.int32(4), MmsValue.int32(5), MmsValue.int32(6)]))
            assert srv.get_value("DEVLD0/MMXU1.Arr.vals") == [4, 5, 6]
            srv.update_value("DEVLD0/MMXU1.PhV.phsA.cVal.mag.f", 231.5)
            assert c.read_float("DEVLD0/MMXU1.PhV.phsA.cVal.mag.f", FC.MX) == 231.5


def test_from_dict_errors_name_the_entry():
    bad = {"name": "DEV", "logical_devices": [{"inst": "LD0", "logical_nodes": [
        {"ln_class": "GGIO", "inst": "1", "data_objects": [
            {"name": "X", "children": [{"name": "v", "fc": "ST", "btype": "INT8", "value": 300}]}]}]}]}
    with pytest.raises(SclError) as ei:
        IedServer.from_dict(bad)
    assert "logical_devices[0]" in str(ei.value)


def test_from_scl_errors(tmp_path):
    with pytest.raises(SclError):
        IedServer.from_scl(tmp_path / "missing.icd")
    with pytest.raises(SclError):
        IedServer.from_scl(DEFAULT_SCL, ied_name="NOPE")


def test_close_waits_for_other_threads_and_refuses_inside_lock():
    srv = IedServer(SPEC_DICT)  # a dict is accepted directly
    srv.start(0, "127.0.0.1")
    stop = threading.Event()
    errors: list[BaseException] = []

    def updater() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                srv.update_value("DEVLD0/MMXU1.PhV.phsA.cVal.mag.f", float(i))
            except RuntimeError:  # "the server is closed": the expected end
                return
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=updater) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    with srv.lock():
        with pytest.raises(RuntimeError):
            srv.stop()
        with pytest.raises(RuntimeError):
            srv.close()
    srv.close()  # other threads are inside update_value: close waits for them, then frees
    stop.set()
    for t in threads:
        t.join(5)
    assert errors == []
    assert not srv.is_running and srv.port == 0 and srv.connection_count == 0
