"""Our client (py61850.client) against both peer servers: libiec61850 (pyiec61850-ng)
and the Rust-based ``iec61850`` package, each serving ``examples/simple_io.icd``.

Expected values come from the SCL (tests/peers/sclmodel.py). Where the two servers
answer differently, the test states each server's answer explicitly (see PEERS.md
and tests/conftest.py: the Rust server does not list RCBs in GetNameList, does not
apply some initial values, and writes only scalar attributes directly below a DO).
"""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from peers.sclmodel import SclDA, SclDO
from py61850.client import (
    ACSIClass,
    BitString,
    FunctionalConstraint as FC,
    IedClientError as E,
    IedConnection,
    IedConnectionState as S,
    MmsType,
    MmsValue,
    Quality,
    TimeQuality,
    Timestamp,
    Validity,
)
from py61850 import client as C

UTC = dt.timezone.utc
GENERIC = "TESTGenericIO"
LD0 = "TESTLD0"

#: SCL basic type -> (MMS type, bit size or None)
MMS_TYPE = {
    "BOOLEAN": (MmsType.BOOLEAN, None),
    "INT8": (MmsType.INTEGER, None),
    "INT16": (MmsType.INTEGER, None),
    "INT32": (MmsType.INTEGER, None),
    "INT64": (MmsType.INTEGER, None),
    "Enum": (MmsType.INTEGER, None),
    "INT8U": (MmsType.UNSIGNED, None),
    "INT16U": (MmsType.UNSIGNED, None),
    "INT32U": (MmsType.UNSIGNED, None),
    "FLOAT32": (MmsType.FLOAT, 32),
    "FLOAT64": (MmsType.FLOAT, 64),
    "Dbpos": (MmsType.BIT_STRING, 2),
    "Check": (MmsType.BIT_STRING, 2),
    "Quality": (MmsType.BIT_STRING, 13),
    "Timestamp": (MmsType.UTC_TIME, None),
    "VisString32": (MmsType.VISIBLE_STRING, None),
    "VisString64": (MmsType.VISIBLE_STRING, None),
    "VisString65": (MmsType.VISIBLE_STRING, None),
    "VisString129": (MmsType.VISIBLE_STRING, None),
    "VisString255": (MmsType.VISIBLE_STRING, None),
    "Unicode255": (MmsType.STRING, None),
    "Octet64": (MmsType.OCTET_STRING, None),
}


def dbpos_bits(v: int) -> BitString:
    return BitString.from_bools([bool(v & 2), bool(v & 1)])


def expected_python(leaf):
    """The SCL value as MmsValue.to_python() returns it."""
    if leaf.btype in ("Dbpos", "Check"):
        return dbpos_bits(leaf.value)
    return leaf.value


def typed_read(conn: IedConnection, leaf):
    """Read a leaf with the typed reader for its basic type; returns a comparable value."""
    ref, fc, b = leaf.ref, leaf.fc, leaf.btype
    if b == "BOOLEAN":
        return conn.read_boolean(ref, fc)
    if b in ("INT8", "INT16", "INT32", "Enum"):
        return conn.read_int32(ref, fc)
    if b == "INT64":
        return conn.read_int64(ref, fc)
    if b in ("INT8U", "INT16U", "INT32U"):
        return conn.read_uint32(ref, fc)
    if b in ("FLOAT32", "FLOAT64"):
        return conn.read_float(ref, fc)
    if b.startswith("VisString") or b == "Unicode255":
        return conn.read_string(ref, fc)
    if b == "Octet64":
        return conn.read_octet_string(ref, fc)
    if b == "Timestamp":
        return conn.read_timestamp(ref, fc).datetime
    if b == "Quality":
        return conn.read_quality(ref, fc)
    if b in ("Dbpos", "Check"):
        return conn.read_value(ref, fc).to_bit_string()
    raise AssertionError(f"no typed reader for {b}")


def check_leaf_value(peer, leaf, got_typed, got_value: MmsValue) -> None:
    mms_type, bits = MMS_TYPE[leaf.btype]
    assert got_value.type is mms_type, f"{leaf.ref} [{leaf.fc}] {leaf.btype}: {got_value!r}"
    if bits is not None:
        assert got_value.bit_size == bits, f"{leaf.ref}: {got_value!r}"
    if peer.serves_scl_value(leaf):
        want = expected_python(leaf)
        assert got_value.to_python() == want, f"{leaf.ref} [{leaf.fc}]: {got_value!r} != {want!r}"
        if leaf.btype == "Quality":
            assert got_typed == Quality.from_bit_string(want)
        else:
            assert got_typed == want, f"{leaf.ref} [{leaf.fc}]: {got_typed!r} != {want!r}"
    elif leaf.btype == "Quality":
        assert isinstance(got_typed, Quality)


@pytest.fixture
def conn(peer_server):
    c = IedConnection()
    c.set_connect_timeout(5000)
    c.set_request_timeout(5000)
    c.connect(peer_server.host, peer_server.port)
    yield c
    c.close()


def readable_leaves(model):
    # CO (control) attributes are written through control services, not read.
    return [lf for lf in model.leaves() if lf.fc != "CO"]


# ----------------------------------------------------------------- association


def test_connect_state_and_negotiation(peer_server):
    c = IedConnection(peer_server.host, peer_server.port)
    assert c.state is S.CLOSED
    with c:
        assert c.state is S.CONNECTED and c.status is S.CONNECTED
        assert 0 < c.max_pdu_size <= 65000
        with pytest.raises(C.AlreadyConnectedError):
            c.connect()
    assert c.state is S.CLOSED
    with pytest.raises(C.NotConnectedError) as ei:
        c.get_logical_devices()
    assert ei.value.error_code is E.NOT_CONNECTED
    # the same object connects again
    c.connect()
    assert c.get_logical_devices()
    c.release()
    assert c.state is S.CLOSED
    c.connect()
    c.abort()
    assert c.state is S.CLOSED
    c.close()  # closing a closed connection is harmless


def test_identify(conn, peer_server):
    ident = conn.identify()
    assert isinstance(ident, C.DeviceIdentity)
    assert all(isinstance(x, str) and x for x in ident), ident
    assert ident == conn.identify()


# ------------------------------------------------------------------- directory


def test_logical_devices(conn, peer_server):
    assert sorted(conn.get_logical_devices()) == sorted(peer_server.model.logical_devices)


def test_logical_nodes_and_data_objects(conn, peer_server):
    model = peer_server.model
    for ld in model.logical_devices:
        assert sorted(conn.get_logical_nodes(ld)) == sorted(model.logical_nodes(ld))
        assert sorted(conn.get_logical_nodes(ld.encode())) == sorted(model.logical_nodes(ld))
        for ln in model.logical_nodes(ld):
            got = conn.get_logical_node_directory(f"{ld}/{ln}", ACSIClass.DATA_OBJECT)
            assert sorted(got) == sorted(model.data_objects(ld, ln)), f"{ld}/{ln}"


def _do_children(do: SclDO, fc: str | None = None) -> list[str]:
    out = []
    for ch in do.children:
        if isinstance(ch, SclDA):
            if fc is None or ch.fc == fc:
                out.append(ch.name)
        elif fc is None or fc in ch.fcs():
            out.append(ch.name)
    return out


def test_data_directories(conn, peer_server):
    model = peer_server.model
    for ld in model.lds:
        for ln in ld.lns:
            for do in ln.dos:
                ref = f"{ld.domain}/{ln.name}.{do.name}"
                assert sorted(conn.get_data_directory(ref)) == sorted(_do_children(do)), ref
                with_fc = [f"{ch.name}[{ch.fc}]" for ch in do.children if isinstance(ch, SclDA)]
                if peer_server.name == "libiec" and ld.setting_control is not None:
                    # libiec61850 serves the FC SE twin of each FC SG attribute (the Rust server does not)
                    with_fc += [f"{ch.name}[SE]" for ch in do.children
                                if isinstance(ch, SclDA) and ch.fc == "SG"]
                assert sorted(conn.get_data_directory_fc(ref)) == sorted(with_fc), ref
                for fc in do.fcs():
                    got = conn.get_data_directory_by_fc(ref, FC[fc])
                    assert sorted(got) == sorted(_do_children(do, fc)), f"{ref} [{fc}]"


def test_logical_device_variables_exactly_as_listed(conn, peer_server):
    for ld in peer_server.model.logical_devices:
        assert conn.get_logical_device_variables(ld) == peer_server.expected_mms_names(ld)


def test_logical_node_variables(conn, peer_server):
    names = conn.get_logical_node_variables(f"{GENERIC}/GGIO1")
    expected = [n[len("GGIO1$"):] for n in peer_server.expected_mms_names(GENERIC) if n.startswith("GGIO1$")]
    assert names == expected
    assert "MX$AnIn1$mag$f" in names


def test_data_sets_and_report_control_blocks(conn, peer_server):
    model = peer_server.model
    assert sorted(conn.get_logical_device_datasets(GENERIC)) == sorted(
        f"{ln}${ds.name}" for ln, ds in model.datasets(GENERIC))
    assert sorted(conn.get_logical_node_directory(f"{GENERIC}/LLN0", ACSIClass.DATA_SET)) == [
        "Events", "Measurements"]
    # Both servers name the RCB instances in GetNameList (the Rust server lists only
    # LLN0$RP$<name>, not their components; that is enough for the directory).
    urcbs = conn.get_logical_node_directory(f"{GENERIC}/LLN0", ACSIClass.URCB)
    brcbs = conn.get_logical_node_directory(f"{GENERIC}/LLN0", ACSIClass.BRCB)
    assert sorted(urcbs) == ["urcbEvents01", "urcbEvents02"]
    assert sorted(brcbs) == ["brcbMeas01"]
    assert conn.get_logical_node_directory(f"{GENERIC}/GGIO1", ACSIClass.URCB) == []


def test_variable_specification(conn, peer_server):
    spec = conn.get_variable_specification(f"{GENERIC}/GGIO1.AnIn1", FC.MX)
    assert spec.name == "AnIn1" and spec.type is MmsType.STRUCTURE
    assert [c.name for c in spec.children] == ["mag", "q", "t"]
    mag = spec.child("mag")
    assert mag.type is MmsType.STRUCTURE and mag.child("f").type is MmsType.FLOAT
    assert mag.child("f").size == 32
    assert spec.child("q").type is MmsType.BIT_STRING and spec.child("q").size == -13
    assert spec.child("t").type is MmsType.UTC_TIME
    leaf = conn.get_variable_specification(f"{LD0}/GGIO2.TypSP.int16uVal", FC.SP)
    assert (leaf.type, leaf.size) == (MmsType.UNSIGNED, 16)
    with pytest.raises(C.ObjectDoesNotExistError):
        conn.get_variable_specification(f"{GENERIC}/GGIO1.Nope", FC.MX)


def test_device_model_equals_scl(conn, peer_server):
    model = peer_server.model
    dm = conn.get_device_model()
    assert sorted(ld.name for ld in dm.logical_devices) == sorted(model.logical_devices)
    for ld in model.lds:
        dev = dm.logical_device(ld.domain)
        assert sorted(ln.name for ln in dev.logical_nodes) == sorted(ln.name for ln in ld.lns)
        for ln in ld.lns:
            got_ln = dev.logical_node(ln.name)
            assert sorted(d.name for d in got_ln.data_objects) == sorted(d.name for d in ln.dos)
            assert sorted(got_ln.data_sets) == sorted(ds.name for ds in ln.datasets)
            urcbs = sorted(i for rc in ln.report_controls if not rc.buffered for i in rc.instances())
            brcbs = sorted(i for rc in ln.report_controls if rc.buffered for i in rc.instances())
            got_cbs = {k: sorted(v) for k, v in got_ln.control_blocks.items()}
            expected_cbs = {}
            if ln.setting_control is not None:
                expected_cbs[ACSIClass.SGCB] = ["SGCB"]
            if peer_server.name == "libiec":
                for cls, names in ((ACSIClass.URCB, urcbs), (ACSIClass.BRCB, brcbs),
                                   (ACSIClass.LCB, [lc.name for lc in ln.log_controls]),
                                   (ACSIClass.GOCB, [gc.name for gc in ln.gse_controls]),
                                   (ACSIClass.MSVCB, [sc.name for sc in ln.sv_controls if sc.multicast]),
                                   (ACSIClass.USVCB, [sc.name for sc in ln.sv_controls if not sc.multicast])):
                    if names:
                        expected_cbs[cls] = sorted(names)
            # else: documented Rust-server behaviour: RCBs, LCBs (and GoCBs, which it does not
            # have) are not part of the LN's type; its SGCB is
            assert got_cbs == expected_cbs, f"{ld.domain}/{ln.name}"
    got_leaves = {(lf.reference, lf.fc.name): lf for lf in dm.leaves()}
    # libiec61850 exposes the FC SE twin of every FC SG attribute, the Rust server does not
    want_leaves = {(lf.ref, lf.fc): lf for lf in model.leaves(se_twins=peer_server.name == "libiec")}
    assert sorted(got_leaves) == sorted(want_leaves)
    for key, lf in want_leaves.items():
        mms_type, bits = MMS_TYPE[lf.btype]
        got = got_leaves[key]
        assert got.type is mms_type, key
        if mms_type is MmsType.FLOAT:
            assert got.size == bits, key
        if mms_type is MmsType.BIT_STRING:
            assert abs(got.size) == bits, key


# ------------------------------------------------------------------------ reads


def test_every_leaf_reads_back_its_scl_value(conn, peer_server):
    leaves = readable_leaves(peer_server.model)
    assert len(leaves) > 100
    for leaf in leaves:
        value = conn.read_value(leaf.ref, leaf.fc)
        typed = typed_read(conn, leaf)
        check_leaf_value(peer_server, leaf, typed, value)


def test_read_values_in_one_request_equals_single_reads(conn, peer_server):
    leaves = readable_leaves(peer_server.model)
    many = conn.read_values([(lf.ref, lf.fc) for lf in leaves])
    assert len(many) == len(leaves)
    for leaf, v in zip(leaves, many):
        assert isinstance(v, MmsValue), f"{leaf.ref}: {v!r}"
        assert v == conn.read_value(leaf.ref, leaf.fc), leaf.ref


def test_read_values_reports_per_element_errors(conn, peer_server):
    res = conn.read_values([
        (f"{GENERIC}/GGIO1.AnIn1.mag.f", FC.MX),
        (f"{GENERIC}/GGIO1.Nope.stVal", FC.ST),
        (f"{GENERIC}/GGIO1.Ind1.stVal", "ST"),
    ])
    assert res[0].to_python() == 12.5
    assert isinstance(res[1], C.ObjectDoesNotExistError)
    assert res[1].error_code is E.OBJECT_DOES_NOT_EXIST
    assert res[1].reference == f"{GENERIC}/GGIO1.Nope.stVal" and "GGIO1.Nope" in str(res[1])
    assert res[2].to_python() is True
    assert conn.read_values([]) == []


def test_read_structures(conn, peer_server):
    v = conn.read_value(f"{GENERIC}/GGIO1.AnIn1", FC.MX)
    assert v.type is MmsType.STRUCTURE and len(v) == 3
    assert v[0].to_python() == [12.5]
    assert v[1].to_quality() == Quality()
    assert v[2].type is MmsType.UTC_TIME
    whole_ln = conn.read_value(f"{GENERIC}/LLN0", FC.NONE)
    assert whole_ln.type is MmsType.STRUCTURE


def test_typed_readers_check_the_type(conn):
    ref = f"{LD0}/GGIO2.TypMX"
    with pytest.raises(C.UnexpectedValueError) as ei:
        conn.read_boolean(f"{ref}.flt32Val", FC.MX)
    assert ei.value.error_code is E.UNEXPECTED_VALUE_RECEIVED and "flt32Val" in str(ei.value)
    with pytest.raises(C.UnexpectedValueError):
        conn.read_float(f"{ref}.int32Val", FC.MX)
    with pytest.raises(C.UnexpectedValueError):
        conn.read_string(f"{ref}.int32Val", FC.MX)
    # range checks: INT64 9000000000000 does not fit INT32; INT32U 4294967295 fits uint32 only
    with pytest.raises(C.UnexpectedValueError) as ei:
        conn.read_int32(f"{ref}.int64Val", FC.MX)
    assert "9000000000000" in str(ei.value)
    assert conn.read_int64(f"{ref}.int64Val", FC.MX) == 9_000_000_000_000
    with pytest.raises(C.UnexpectedValueError):
        conn.read_int32(f"{ref}.int32uVal", FC.MX)
    assert conn.read_uint32(f"{ref}.int32uVal", FC.MX) == 4294967295
    assert conn.read_int64(f"{ref}.int32uVal", FC.MX) == 4294967295
    with pytest.raises(C.UnexpectedValueError):
        conn.read_uint32(f"{LD0}/GGIO2.TypST.int8Val", FC.ST)  # -8


def test_references_as_bytes(conn):
    assert conn.read_float(f"{GENERIC}/GGIO1.AnIn1.mag.f".encode(), b"MX") == 12.5
    assert conn.get_logical_nodes(GENERIC.encode()) == conn.get_logical_nodes(GENERIC)


# ------------------------------------------------------------------------ errors


def test_read_nonexistent_object(conn, peer_server):
    ref = f"{GENERIC}/GGIO1.Nope.stVal"
    with pytest.raises(C.ObjectDoesNotExistError) as ei:
        conn.read_value(ref, FC.ST)
    exc = ei.value
    assert exc.error_code is E.OBJECT_DOES_NOT_EXIST
    assert exc.reference == ref and exc.fc is FC.ST
    assert ref in str(exc) and "OBJECT_DOES_NOT_EXIST" in str(exc)
    with pytest.raises(C.ObjectDoesNotExistError):
        conn.read_boolean(ref, FC.ST)
    wrong_fc = f"{GENERIC}/GGIO1.Ind1.stVal"  # exists with ST, not with MX
    if peer_server.name == "libiec":
        with pytest.raises(C.ObjectDoesNotExistError):
            conn.read_value(wrong_fc, FC.MX)
    else:
        # Rust-server quirk: it ignores the FC part of the MMS name (GGIO1$MX$Ind1$stVal)
        # and answers with the ST attribute
        assert conn.read_value(wrong_fc, FC.MX) == MmsValue.boolean(True)
    # the connection is still fine
    assert conn.read_boolean(f"{GENERIC}/GGIO1.Ind1.stVal", FC.ST) is True


@pytest.mark.parametrize("fc", ["CF", "DC"])
def test_write_cf_dc_is_denied(conn, peer_server, fc):
    ref = f"{LD0}/GGIO2.Typ{fc}.int32Val"
    before = conn.read_int32(ref, fc)
    with pytest.raises(C.AccessDeniedError) as ei:
        conn.write_int32(ref, fc, before + 1)
    assert ei.value.error_code is E.ACCESS_DENIED and ref in str(ei.value)
    with pytest.raises(C.AccessDeniedError):
        conn.write_string(f"{GENERIC}/LLN0.NamPlt.vendor", FC.DC, "someone")
    with pytest.raises(C.AccessDeniedError):
        conn.write_int32(f"{GENERIC}/GGIO1.SPCSO1.ctlModel", FC.CF, 4)
    assert conn.read_int32(ref, fc) == before


def test_write_st_mx_is_denied(conn):
    with pytest.raises(C.AccessDeniedError):
        conn.write_boolean(f"{GENERIC}/GGIO1.Ind1.stVal", FC.ST, False)
    with pytest.raises(C.AccessDeniedError):
        conn.write_float(f"{GENERIC}/GGIO1.AnIn1.mag.f", FC.MX, 1.0)


#: What each server answers to a write of the wrong MMS type (BOOLEAN to an INT32).
WRONG_TYPE_ANSWER = {
    "libiec": (C.TypeInconsistentError, E.TYPE_INCONSISTENT),   # DataAccessError 7
    "rust": (C.ObjectValueInvalidError, E.OBJECT_VALUE_INVALID),  # DataAccessError 11
}


def test_write_wrong_type(conn, peer_server):
    ref = f"{GENERIC}/GGIO1.IntSet1.setVal"
    cls, code = WRONG_TYPE_ANSWER[peer_server.name]
    with pytest.raises(cls) as ei:
        conn.write_boolean(ref, FC.SP, True)
    assert ei.value.error_code is code
    with pytest.raises(cls):
        conn.write_string(ref, FC.SP, "42")
    assert conn.read_int32(ref, FC.SP) == 42


def test_write_nonexistent(conn):
    with pytest.raises(C.ObjectDoesNotExistError) as ei:
        conn.write_boolean(f"{GENERIC}/GGIO1.Nope.setVal", FC.SP, True)
    assert ei.value.error_code is E.OBJECT_DOES_NOT_EXIST


def test_client_side_argument_errors(conn):
    ref = f"{GENERIC}/GGIO1.IntSet1.setVal"
    with pytest.raises(C.InvalidArgumentError):
        conn.write_int32(ref, FC.SP, 2**31)
    with pytest.raises(C.InvalidArgumentError):
        conn.read_value(ref, "XX")
    with pytest.raises(TypeError):
        conn.read_value(42, FC.SP)
    with pytest.raises(TypeError):
        conn.write_value(ref, FC.SP, 5)


# ------------------------------------------------------------------------ writes

NEW_VALUES = {
    "BOOLEAN": lambda old: ("write_boolean", not old, not old),
    "INT8": lambda old: ("write_int32", -5, -5),
    "INT16": lambda old: ("write_int32", 1234, 1234),
    "INT32": lambda old: ("write_int32", -7654321, -7654321),
    "Enum": lambda old: ("write_int32", 3, 3),
    "INT64": lambda old: ("write_int64", -9876543210, -9876543210),
    "INT8U": lambda old: ("write_uint32", 77, 77),
    "INT16U": lambda old: ("write_uint32", 4321, 4321),
    "INT32U": lambda old: ("write_uint32", 3000000001, 3000000001),
    "FLOAT32": lambda old: ("write_float", 2.5, 2.5),
    "FLOAT64": lambda old: ("write_value", MmsValue.float64(6.125), 6.125),
    "Dbpos": lambda old: ("write_value", MmsValue.bit_string(dbpos_bits(2)), dbpos_bits(2)),
    "Check": lambda old: ("write_value", MmsValue.bit_string([False, True]), BitString.from_str("01")),
    "Quality": lambda old: ("write_value", MmsValue.quality(Quality(validity=Validity.QUESTIONABLE)),
                            Quality(validity=Validity.QUESTIONABLE).to_bit_string()),
    "Timestamp": lambda old: ("write_value",
                              MmsValue.utc_time(Timestamp(1_700_000_000, 0x800000, TimeQuality(accuracy=10))),
                              dt.datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)),
    "VisString32": lambda old: ("write_string", "new-32", "new-32"),
    "VisString64": lambda old: ("write_string", "new-64", "new-64"),
    "VisString129": lambda old: ("write_string", b"new-129", "new-129"),
    "VisString255": lambda old: ("write_string", "new-255", "new-255"),
    "Unicode255": lambda old: ("write_value", MmsValue.mms_string("neu-ünicode-Ω"), "neu-ünicode-Ω"),
    "Octet64": lambda old: ("write_octet_string", b"\x00\x01\xfe", b"\x00\x01\xfe"),
}


def test_writes_of_every_writable_type_read_back(start_peer_server, peer_server):
    # a private server: these writes change values
    peer = start_peer_server(peer_server.name)
    writable = [lf for lf in peer.model.leaves() if peer.can_write(lf)]
    # GGIO2.TypSP has one attribute of every basic type, all directly below the DO
    typsp = {lf.btype for lf in writable if lf.ref.startswith(f"{LD0}/GGIO2.TypSP.")}
    assert typsp == set(NEW_VALUES), set(NEW_VALUES) ^ typsp
    with IedConnection(peer.host, peer.port) as c:
        for leaf in writable:
            old = c.read_value(leaf.ref, leaf.fc).to_python()
            method, arg, expected = NEW_VALUES[leaf.btype](old)
            getattr(c, method)(leaf.ref, leaf.fc, arg)
            got = c.read_value(leaf.ref, leaf.fc).to_python()
            assert got == expected, f"{leaf.ref} [{leaf.fc}] {leaf.btype}: {got!r} != {expected!r}"
        # whole-element batch write: two attributes in one request
        res = c.write_values([
            (f"{LD0}/GGIO2.TypSP.int32Val", FC.SP, MmsValue.int32(11)),
            (f"{LD0}/GGIO2.TypCF.int32Val", FC.CF, MmsValue.int32(12)),
        ])
        assert res[0] is None
        assert isinstance(res[1], C.AccessDeniedError)
        assert c.read_int32(f"{LD0}/GGIO2.TypSP.int32Val", FC.SP) == 11


# ------------------------------------------------------------- threads and callbacks


def test_concurrent_reads_from_many_threads(conn):
    refs = [(f"{GENERIC}/GGIO1.AnIn{i}.mag.f", FC.MX) for i in range(1, 5)]
    want = [12.5, -3.25, 1000.125, 0.0]
    errors, counts = [], []

    def worker():
        n = 0
        try:
            for _ in range(50):
                for (r, fc), w in zip(refs, want):
                    assert conn.read_float(r, fc) == w
                    n += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        counts.append(n)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    assert counts == [200] * 8


def test_state_callbacks_may_call_back_into_the_connection(peer_server):
    c = IedConnection()
    states, reads, closed = [], [], threading.Event()
    on_cb_thread = []

    def on_state(conn, state):
        on_cb_thread.append(threading.current_thread() is not threading.main_thread())
        states.append(state)
        if state is S.CONNECTED:
            reads.append(conn.read_float(f"{GENERIC}/GGIO1.AnIn1.mag.f", FC.MX))  # no deadlock

    c.on_connection_state_change(on_state)
    c.on_connection_closed(lambda conn: closed.set())
    c.connect(peer_server.host, peer_server.port)
    deadline = time.monotonic() + 5
    while not reads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert reads == [12.5]
    c.close()
    assert closed.wait(5)
    assert states[0] is S.CONNECTING and S.CONNECTED in states and states[-1] is S.CLOSED
    assert all(on_cb_thread)


def test_callback_exceptions_are_logged(peer_server, caplog):
    c = IedConnection()
    seen = threading.Event()

    def bad(conn, state):
        seen.set()
        raise RuntimeError("callback bug")

    c.on_connection_state_change(bad)
    with caplog.at_level("ERROR", logger="py61850.client"):
        c.connect(peer_server.host, peer_server.port)
        assert seen.wait(5)
        c.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(r.exc_info for r in caplog.records):
            time.sleep(0.01)
    assert any(r.exc_info and "callback bug" in str(r.exc_info[1]) for r in caplog.records)
    assert c.state is S.CLOSED
