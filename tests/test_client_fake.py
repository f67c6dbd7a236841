"""Client services against a scripted fake server (tests/fakes/), for what the peer
servers' models cannot show: array element reads, every DataAccessError code in a
read result, and the GIL being released while a call waits for the network.
"""
from __future__ import annotations

import threading
import time

import pytest

from fakes.scripted_server import ScriptedServer, invoke_id_of, read_response
from py61850 import client as C
from py61850.client import DataAccessError as DAE
from py61850.client import FunctionalConstraint as FC
from py61850.client import IedClientError as E
from py61850.client import IedConnection, MmsType

FLOAT_1 = bytes.fromhex("8705083f800000")  # Data floating-point 1.0


def serve_reads(*data: bytes):
    """A responder answering every Read with ``data``; the requests land in ``.requests``."""
    requests: list[bytes] = []

    def responder(pdu: bytes) -> bytes:
        requests.append(pdu)
        return read_response(invoke_id_of(pdu), *data)

    responder.requests = requests  # type: ignore[attr-defined]
    return responder


def test_read_array_element_by_keyword_and_in_the_reference():
    responder = serve_reads(FLOAT_1)
    with ScriptedServer("handshake_then_respond", responder=responder) as srv:
        with IedConnection("127.0.0.1", srv.port) as c:
            v = c.read_value("TESTLD0/GGIO2.Arr.vals", FC.MX, index=2)
            assert v.type is MmsType.FLOAT and v.to_python() == 1.0
            req = responder.requests[-1]
            assert b"GGIO2$MX$Arr$vals" in req
            assert req.endswith(bytes.fromhex("a503820102"))  # alternateAccess: index 2
            v2 = c.read_value("TESTLD0/GGIO2.Arr.vals(2)", FC.MX)
            assert v2 == v
            body = lambda pdu: pdu[pdu.index(b"\xa4"):]  # the Read service, without the invokeID
            assert body(responder.requests[-1]) == body(req)
            assert c.read_float("TESTLD0/GGIO2.Arr.vals(2)", "MX") == 1.0
        assert not srv.errors


def test_read_array_element_component():
    responder = serve_reads(FLOAT_1)
    with ScriptedServer("handshake_then_respond", responder=responder) as srv:
        with IedConnection("127.0.0.1", srv.port) as c:
            v = c.read_value("TESTLD0/GGIO2.Arr", FC.MX, index=7, component="mag.f")
            assert v.to_python() == 1.0
            req = responder.requests[-1]
            i = req.index(b"\xa5")
            alt = req[i:]
            assert b"\x81\x01\x07" in alt and b"mag" in alt and b"f" in alt
            with pytest.raises(C.InvalidArgumentError):
                c.read_value("TESTLD0/GGIO2.Arr", FC.MX, component="mag")  # needs an index
            with pytest.raises(C.InvalidArgumentError):
                c.read_value("TESTLD0/GGIO2.Arr", FC.MX, index=-1)
        assert not srv.errors


@pytest.mark.parametrize("dae", list(DAE), ids=lambda d: d.name)
def test_every_data_access_error_maps_to_its_exception(dae):
    # element 0 fails with `dae`, element 1 is a float
    responder = serve_reads(bytes([0x80, 0x01, int(dae)]), FLOAT_1)
    expected_code = {
        DAE.OBJECT_INVALIDATED: E.OBJECT_INVALIDATED,
        DAE.HARDWARE_FAULT: E.HARDWARE_FAULT,
        DAE.TEMPORARILY_UNAVAILABLE: E.TEMPORARILY_UNAVAILABLE,
        DAE.OBJECT_ACCESS_DENIED: E.ACCESS_DENIED,
        DAE.OBJECT_UNDEFINED: E.OBJECT_UNDEFINED,
        DAE.INVALID_ADDRESS: E.INVALID_ADDRESS,
        DAE.TYPE_UNSUPPORTED: E.TYPE_UNSUPPORTED,
        DAE.TYPE_INCONSISTENT: E.TYPE_INCONSISTENT,
        DAE.OBJECT_ATTRIBUTE_INCONSISTENT: E.OBJECT_ATTRIBUTE_INCONSISTENT,
        DAE.OBJECT_ACCESS_UNSUPPORTED: E.OBJECT_ACCESS_UNSUPPORTED,
        DAE.OBJECT_NON_EXISTENT: E.OBJECT_DOES_NOT_EXIST,
        DAE.OBJECT_VALUE_INVALID: E.OBJECT_VALUE_INVALID,
    }[dae]
    with ScriptedServer("handshake_then_respond", responder=responder) as srv:
        with IedConnection("127.0.0.1", srv.port) as c:
            res = c.read_values([("LD/LN.A.b", FC.ST), ("LD/LN.C.d", FC.MX)])
            assert isinstance(res[0], C.error_class(expected_code))
            assert res[0].error_code is expected_code
            assert res[0].reference == "LD/LN.A.b" and res[0].fc is FC.ST
            assert dae.name in str(res[0])
            assert res[1].to_python() == 1.0
            # a single read raises the same kind
            responder2_answer = bytes([0x80, 0x01, int(dae)])
            srv.responder = serve_reads(responder2_answer)
            with pytest.raises(C.error_class(expected_code)) as ei:
                c.read_value("LD/LN.A.b", FC.ST)
            assert ei.value.error_code is expected_code
        assert not srv.errors


def test_blocking_call_releases_the_gil():
    with ScriptedServer("handshake_then_silent") as srv:
        c = IedConnection()
        c.set_request_timeout(1500)
        c.connect("127.0.0.1", srv.port)
        done = threading.Event()

        def blocked_read():
            with pytest.raises(C.ConnectionTimeoutError):
                c.read_float("LD/LN.A.b", FC.MX)
            done.set()

        t = threading.Thread(target=blocked_read)
        t.start()
        time.sleep(0.1)
        n = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.5:  # pure Python work while the read waits
            n += 1
        assert not done.is_set()
        assert n > 50_000, n
        t.join(5)
        assert done.is_set()
        c.close()
