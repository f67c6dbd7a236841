"""GOOSE and sampled value control blocks, our client (py61850.client).

Unit tests (no server): :class:`PhyComAddress`, reference checks, argument errors.
Interop: GoCB read + set (GoEna, DstAddress, GoID while disabled) and its refusal paths,
and MSVCB read/set, against the libiec61850 peer server serving ``examples/simple_io.icd``
(GSEControl ``gcbEvents`` with its GSE address, SampledValueControl ``svcbMeas``). The
Rust-based peer has no GoCB/SVCB: reading one there is a clean error, checked too.
"""
from __future__ import annotations

import pytest

from peers.process import PeerServer
from py61850.client import (
    AccessDeniedError,
    FunctionalConstraint as FC,
    GoCBElement,
    GooseControlBlock,
    IedClientError as E,
    IedConnection,
    IedConnectionException,
    MmsValue,
    ObjectReferenceInvalidError,
    PhyComAddress,
    SmpMod,
    SVCBElement,
    SVControlBlock,
    SVOptions,
)

GENERIC = "TESTGenericIO"
GOCB = f"{GENERIC}/LLN0.gcbEvents"
SVCB = f"{GENERIC}/LLN0.svcbMeas"
#: GSE address of gcbEvents in simple_io.icd (VLAN-ID and APPID are hex in SCL)
GSE_ADDR = PhyComAddress("01-0C-CD-01-00-01", 0x1001, 5, 4)
#: SMV address of svcbMeas
SMV_ADDR = PhyComAddress("01-0C-CD-04-00-01", 0x4001, 0, 4)


def connect(peer: PeerServer) -> IedConnection:
    conn = IedConnection()
    conn.connect(peer.host, peer.port)
    return conn


# ------------------------------------------------------------------ unit


def test_phycomaddress_forms_and_text():
    a = PhyComAddress("01-0C-CD-01-00-01", 0x1001, 5, 4)
    assert a.mac == bytes([1, 0x0C, 0xCD, 1, 0, 1])
    assert str(a) == "01-0C-CD-01-00-01 APPID 0x1001 VLAN 5 prio 4"
    assert PhyComAddress(b"\x01\x0c\xcd\x01\x00\x01", 4097, 5, 4) == a
    assert PhyComAddress("01:0c:cd:01:00:01", 4097, 5, 4) == a
    assert PhyComAddress.parse(str(a)) == a
    assert PhyComAddress.parse("01-0C-CD-01-00-02 APPID 4098") == PhyComAddress("01-0C-CD-01-00-02", 4098, 0, 4)
    assert a.to_dict() == {"mac": "01-0C-CD-01-00-01", "appid": 4097, "vlan_id": 5, "vlan_priority": 4}
    assert hash(a) == hash(PhyComAddress.parse(str(a)))  # frozen: usable as a dict key
    with pytest.raises(AttributeError):
        a.appid = 1  # type: ignore[misc]


@pytest.mark.parametrize("mac", ["01-0C-CD-01-00", "01-0C-CD-01-00-01-02", "01-0C-CD-01-00-0G", "010CCD01-00-01",
                                 b"\x01\x02", ""])
def test_phycomaddress_rejects_bad_mac(mac):
    with pytest.raises(ValueError):
        PhyComAddress(mac, 1, 1, 1)


@pytest.mark.parametrize("kw", [{"appid": 0x10000}, {"appid": -1}, {"vlan_id": 4096}, {"vlan_priority": 8}])
def test_phycomaddress_rejects_out_of_range(kw):
    with pytest.raises(ValueError):
        PhyComAddress("01-0C-CD-01-00-01", **kw)
    with pytest.raises(TypeError):
        PhyComAddress("01-0C-CD-01-00-01", appid=True)


def test_bad_references_are_refused_before_sending():
    conn = IedConnection()  # not connected: a well-formed reference would raise NotConnectedError
    for bad in ("TESTGenericIO", "TESTGenericIO/LLN0", "TESTGenericIO/LLN0.RP.gcbEvents", "/LLN0.gcbEvents",
                "TESTGenericIO/LLN0..gcbEvents", "TESTGenericIO/LLN0.GO.x.y"):
        with pytest.raises(ObjectReferenceInvalidError):
            conn.read_gocb(bad)
    with pytest.raises(ObjectReferenceInvalidError):
        conn.read_svcb(f"{GENERIC}/LLN0.GO.svcbMeas")
    with pytest.raises(TypeError):
        conn.set_gocb_values("not a gocb")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        conn.set_svcb_values(None)  # type: ignore[arg-type]


def test_not_connected():
    conn = IedConnection()
    with pytest.raises(IedConnectionException) as ei:
        conn.read_gocb(GOCB)
    assert ei.value.error_code == E.NOT_CONNECTED


def test_control_blocks_are_not_constructed_directly():
    with pytest.raises(TypeError):
        GooseControlBlock()
    with pytest.raises(TypeError):
        SVControlBlock()


# ------------------------------------------------------------------ libiec61850 peer


def test_gocb_read_libiec(libiec_server: PeerServer):
    conn = connect(libiec_server)
    try:
        for ref in (GOCB, f"{GENERIC}/LLN0.GO.gcbEvents", f"{GENERIC}/LLN0$GO$gcbEvents"):
            gocb = conn.read_gocb(ref)
            assert gocb.reference == f"{GENERIC}/LLN0.GO.gcbEvents"
            assert gocb.go_ena is False
            assert gocb.go_id == "TESTGenericIO/LLN0.gcbEvents"
            assert gocb.dataset == f"{GENERIC}/LLN0$Events"
            assert gocb.conf_rev == 1
            assert gocb.nds_com is False
            assert gocb.dst_address == GSE_ADDR
            assert gocb.min_time == 4
            assert gocb.max_time == 1000
            assert gocb.fixed_offs is False
            assert gocb.has(GoCBElement.FIXED_OFFS) and gocb.has("dst_address") and gocb.has("GoID")
            assert gocb.element_changed == GoCBElement.NONE
        d = gocb.to_dict()
        assert d["dst_address"] == GSE_ADDR.to_dict() and d["go_ena"] is False
        assert list(gocb.attributes())[:3] == ["GoEna", "GoID", "DatSet"]
    finally:
        conn.close()


def test_gocb_missing_libiec(libiec_server: PeerServer):
    conn = connect(libiec_server)
    try:
        with pytest.raises(IedConnectionException) as ei:
            conn.read_gocb(f"{GENERIC}/LLN0.GO.nope")
        assert ei.value.error_code == E.OBJECT_DOES_NOT_EXIST
        assert "nope" in str(ei.value)
    finally:
        conn.close()


def test_gocb_enable_disable_libiec(start_peer_server):
    peer = start_peer_server("libiec")
    conn = connect(peer)
    try:
        gocb = conn.read_gocb(GOCB)
        gocb.enable()  # GoEna = TRUE (libiec61850 publishes on the loopback interface)
        assert gocb.element_changed == GoCBElement.NONE
        conn.update_gocb_values(gocb)
        assert gocb.go_ena is True
        assert conn.read_gocb(GOCB).go_ena is True  # a fresh read agrees
        gocb.disable()
        conn.update_gocb_values(gocb)
        assert gocb.go_ena is False
        # one write per attribute
        gocb.go_ena = True
        conn.set_gocb_values(gocb, single_request=False)
        assert conn.read_gocb(GOCB).go_ena is True
        gocb.go_ena = False
        conn.set_gocb_values(gocb, single_request=False)
        assert conn.read_gocb(GOCB).go_ena is False
    finally:
        conn.close()


def test_gocb_refusals_libiec(start_peer_server):
    """libiec61850 lets clients write GoEna only: GoID, DatSet and DstAddress are refused
    (object-access-denied), and the exception names the attribute."""
    peer = start_peer_server("libiec")
    conn = connect(peer)
    try:
        gocb = conn.read_gocb(GOCB)
        gocb.go_id = "py61850-goose"
        assert gocb.go_id == "py61850-goose"  # the local copy
        assert gocb.element_changed == GoCBElement.GO_ID
        with pytest.raises(AccessDeniedError) as ei:
            conn.set_gocb_values(gocb)
        assert ei.value.reference == f"{GENERIC}/LLN0.GO.gcbEvents.GoID"
        assert ei.value.error_code == E.ACCESS_DENIED
        assert gocb.element_changed == GoCBElement.GO_ID  # still to be written
        conn.update_gocb_values(gocb)  # forget it
        assert gocb.go_id == "TESTGenericIO/LLN0.gcbEvents" and gocb.element_changed == GoCBElement.NONE

        gocb.dst_address = PhyComAddress("01-0C-CD-01-00-7F", 0x1002, 7, 6)
        assert gocb.dst_address == PhyComAddress("01-0C-CD-01-00-7F", 0x1002, 7, 6)
        with pytest.raises(AccessDeniedError) as ei:
            conn.set_gocb_values(gocb, single_request=False)
        assert ei.value.reference == f"{GENERIC}/LLN0.GO.gcbEvents.DstAddress"
        assert conn.read_gocb(GOCB).dst_address == GSE_ADDR

        # several attributes in one request: GoEna goes last and is applied, GoID is refused
        conn.update_gocb_values(gocb)
        gocb.go_id = "refused"
        gocb.go_ena = True
        with pytest.raises(AccessDeniedError) as ei:
            conn.set_gocb_values(gocb)
        assert ei.value.reference.endswith(".GoID")
        assert gocb.element_changed == GoCBElement.GO_ID  # GoEna was written
        back = conn.read_gocb(GOCB)
        assert back.go_ena is True and back.go_id == "TESTGenericIO/LLN0.gcbEvents"
        back.disable()

        with pytest.raises(AttributeError):
            gocb.conf_rev = 5  # type: ignore[misc]  # read only
        with pytest.raises(IedConnectionException) as ei:  # written by hand: refused
            conn.write_value(f"{GENERIC}/LLN0.gcbEvents.ConfRev", FC.GO, MmsValue.uint32(5))
        assert ei.value.error_code in (E.ACCESS_DENIED, E.OBJECT_ACCESS_UNSUPPORTED)
        with pytest.raises(IedConnectionException) as ei:
            gocb.go_id = "x" * 130  # longer than VisibleString129: refused before sending
        assert ei.value.error_code == E.USER_PROVIDED_INVALID_ARGUMENT
        with pytest.raises(TypeError):
            gocb.dst_address = ("01-0C-CD-01-00-01", 1)  # type: ignore[assignment]
    finally:
        conn.close()


def test_svcb_read_libiec(libiec_server: PeerServer):
    conn = connect(libiec_server)
    try:
        for ref in (SVCB, f"{GENERIC}/LLN0.MS.svcbMeas", f"{GENERIC}/LLN0$MS$svcbMeas"):
            svcb = conn.read_svcb(ref)
            assert svcb.multicast is True
            assert svcb.reference == f"{GENERIC}/LLN0.MS.svcbMeas"
            assert svcb.sv_ena is False
            assert svcb.resv is None  # an MSVCB has no Resv
            assert not svcb.has(SVCBElement.RESV)
            assert svcb.sv_id == "TESTMeas"
            assert svcb.dataset == f"{GENERIC}/LLN0$Measurements"
            assert svcb.conf_rev == 1
            assert svcb.smp_rate == 80
            assert svcb.smp_mod == SmpMod.SAMPLES_PER_PERIOD
            assert svcb.no_asdu == 1
            assert svcb.dst_address == SMV_ADDR
            assert svcb.opt_flds is not None and SVOptions.SAMPLE_RATE in svcb.opt_flds
        with pytest.raises(IedConnectionException) as ei:
            conn.read_svcb(f"{GENERIC}/LLN0.US.svcbMeas")
        assert ei.value.error_code == E.OBJECT_DOES_NOT_EXIST
        with pytest.raises(IedConnectionException) as ei:
            conn.read_svcb(f"{GENERIC}/LLN0.nope")  # neither MS nor US
        assert ei.value.error_code == E.OBJECT_DOES_NOT_EXIST
    finally:
        conn.close()


def test_svcb_set_libiec(start_peer_server):
    peer = start_peer_server("libiec")
    conn = connect(peer)
    try:
        back = conn.read_svcb(SVCB)
        back.enable()
        conn.update_svcb_values(back)
        assert back.sv_ena is True
        back.disable()
        conn.update_svcb_values(back)
        assert back.sv_ena is False
    finally:
        conn.close()


# ------------------------------------------------------------------ Rust peer


def test_gocb_absent_on_rust(rust_server: PeerServer):
    """The Rust-based server has no GoCB/SVCB: reading one is an error, not a hang or a crash."""
    conn = connect(rust_server)
    try:
        with pytest.raises(IedConnectionException) as ei:
            conn.read_gocb(GOCB)
        assert ei.value.error_code in (E.OBJECT_DOES_NOT_EXIST, E.OBJECT_ACCESS_UNSUPPORTED, E.ACCESS_DENIED)
        with pytest.raises(IedConnectionException):
            conn.read_svcb(SVCB)
        assert conn.read_float(f"{GENERIC}/GGIO1.AnIn1.mag.f", FC.MX) == 12.5  # the association is fine
    finally:
        conn.close()


# ------------------------------------------------------------------ py61850's own server


@pytest.fixture
def own_server():
    from peers.process import DEFAULT_SCL
    from py61850.server import IedServer

    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(0, "127.0.0.1")
    try:
        yield srv
    finally:
        srv.close()


def test_gocb_configure_while_disabled_own_server(own_server):
    """libiec61850 refuses GoID/DstAddress writes; py61850's server takes them while GoEna
    is FALSE (and refuses them while it is TRUE), so the write path is checked here."""
    conn = IedConnection()
    conn.connect("127.0.0.1", own_server.port)
    try:
        gocb = conn.read_gocb(GOCB)
        assert gocb.dst_address == GSE_ADDR and gocb.go_ena is False
        new_addr = PhyComAddress("01-0C-CD-01-00-7F", 0x1002, 7, 6)
        gocb.go_id = "py61850-goose"
        gocb.dst_address = new_addr
        gocb.go_ena = True  # written last: the block is configured before it is enabled
        assert gocb.element_changed == GoCBElement.GO_ID | GoCBElement.DST_ADDRESS | GoCBElement.GO_ENA
        conn.set_gocb_values(gocb)
        assert gocb.element_changed == GoCBElement.NONE
        back = conn.read_gocb(GOCB)
        assert (back.go_ena, back.go_id, back.dst_address) == (True, "py61850-goose", new_addr)
        back.go_id = "changed-while-enabled"
        with pytest.raises(IedConnectionException) as ei:
            conn.set_gocb_values(back)
        assert ei.value.reference == f"{GENERIC}/LLN0.GO.gcbEvents.GoID"
        assert ei.value.error_code in (E.TEMPORARILY_UNAVAILABLE, E.ACCESS_DENIED)
        back.go_ena = False  # written first, then GoID: accepted
        conn.set_gocb_values(back, single_request=False)
        again = conn.read_gocb(GOCB)
        assert (again.go_ena, again.go_id) == (False, "changed-while-enabled")
    finally:
        conn.close()


def test_svcb_configure_own_server(own_server):
    conn = IedConnection()
    conn.connect("127.0.0.1", own_server.port)
    try:
        svcb = conn.read_svcb(SVCB)
        assert svcb.dst_address == SMV_ADDR and svcb.smp_rate == 80
        addr = PhyComAddress("01-0C-CD-04-00-09", 0x4002, 2, 5)
        svcb.sv_id = "py61850-sv"
        svcb.dst_address = addr
        conn.set_svcb_values(svcb)
        back = conn.read_svcb(SVCB)
        assert (back.sv_id, back.dst_address) == ("py61850-sv", addr)
        back.enable()
        conn.update_svcb_values(back)
        assert back.sv_ena is True
    finally:
        conn.close()
