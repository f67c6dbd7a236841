"""Fault handling of the client: refused and silent peers, timeouts, a server killed
mid-session, malformed frames from a scripted fake server, and clean interpreter exit.

Every failure must surface as an IedConnectionException of the right kind within its
timeout (plus a margin for this shared 2-core machine), leave the connection CLOSED
where the connection cannot continue, and never crash or hang the process.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from fakes.scripted_server import ScriptedServer, data_frame, mms_frame
from py61850 import client as C
from py61850.client import FunctionalConstraint as FC
from py61850.client import IedClientError as E
from py61850.client import IedConnection
from py61850.client import IedConnectionState as S

MARGIN = 1.0  # seconds of slack on top of a configured timeout
REF = "TESTGenericIO/GGIO1.AnIn1.mag.f"
REPO = Path(__file__).resolve().parents[1]


def wait_for(pred, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


def test_connection_refused_is_fast():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))  # bound, not listening: the kernel refuses connections
        port = s.getsockname()[1]
        c = IedConnection()
        c.set_connect_timeout(10000)
        t0 = time.monotonic()
        with pytest.raises(C.ConnectionRejectedError) as ei:
            c.connect("127.0.0.1", port)
        elapsed = time.monotonic() - t0
    assert elapsed < 1.0
    assert ei.value.error_code is E.CONNECTION_REJECTED
    assert isinstance(ei.value, ConnectionError)
    assert str(port) in str(ei.value)
    assert c.state is S.CLOSED


def test_unresolvable_host():
    c = IedConnection()
    c.set_connect_timeout(3000)
    with pytest.raises(C.IedConnectionException) as ei:
        c.connect("no-such-host.invalid", 102)
    assert ei.value.error_code in (E.USER_PROVIDED_INVALID_ARGUMENT, E.CONNECTION_REJECTED)
    assert c.state is S.CLOSED


def test_connect_timeout_on_a_silent_listener():
    with ScriptedServer("silent") as srv:
        c = IedConnection()
        c.set_connect_timeout(500)
        t0 = time.monotonic()
        with pytest.raises(C.ConnectionTimeoutError) as ei:
            c.connect("127.0.0.1", srv.port)
        elapsed = time.monotonic() - t0
        assert 0.45 <= elapsed < 0.5 + MARGIN
        assert ei.value.error_code is E.TIMEOUT
        assert isinstance(ei.value, TimeoutError)
        assert c.state is S.CLOSED
        assert srv.received and srv.received[0][5] == 0xE0  # the client did send its COTP CR
        assert not srv.errors


def test_request_timeout_when_the_server_never_answers():
    with ScriptedServer("handshake_then_silent") as srv:
        c = IedConnection()
        c.set_connect_timeout(2000)
        c.set_request_timeout(500)
        c.connect("127.0.0.1", srv.port)
        assert c.state is S.CONNECTED
        n_before = len(srv.received)
        t0 = time.monotonic()
        with pytest.raises(C.ConnectionTimeoutError) as ei:
            c.read_float(REF, FC.MX)
        elapsed = time.monotonic() - t0
        assert 0.45 <= elapsed < 0.5 + MARGIN
        assert ei.value.error_code is E.TIMEOUT and REF in str(ei.value)
        assert len(srv.received) > n_before  # the request reached the server
        assert c.state is S.CONNECTED  # a late answer would just be dropped
        t0 = time.monotonic()
        c.close()  # the release is not answered either: falls back to abort
        assert time.monotonic() - t0 < 2 * 0.5 + MARGIN
        assert c.state is S.CLOSED
        assert not srv.errors


def test_server_killed_mid_session(start_peer_server):
    peer = start_peer_server("libiec")
    c = IedConnection()
    closed = threading.Event()
    c.on_connection_closed(lambda conn: closed.set())
    c.connect(peer.host, peer.port)
    assert c.read_float(REF, FC.MX) == 12.5
    os.kill(peer.pid, signal.SIGKILL)
    peer.proc.wait(5)
    t0 = time.monotonic()
    with pytest.raises(C.ConnectionLostError) as ei:
        c.read_float(REF, FC.MX)
    assert time.monotonic() - t0 < 5.0
    assert ei.value.error_code is E.CONNECTION_LOST
    assert isinstance(ei.value, ConnectionError)
    assert wait_for(lambda: c.state is S.CLOSED)
    assert closed.wait(5)
    with pytest.raises(C.ConnectionLostError):  # still "lost" until the user closes
        c.read_float(REF, FC.MX)
    c.close()
    with pytest.raises(C.NotConnectedError):
        c.read_float(REF, FC.MX)


# Frames the fake server sends instead of an answer to the client's first request.
MALFORMED = {
    # TPKT version 5 instead of 3
    "tpkt_bad_version": b"\x05\x00\x00\x0b\x02\xf0\x80\x01\x00\x01\x00",
    # TPKT length below the 7 octets of TPKT + minimal COTP header
    "tpkt_length_too_small": b"\x03\x00\x00\x05\x02",
    # COTP TPDU code 0x10 does not exist
    "cotp_unknown_tpdu": b"\x03\x00\x00\x07\x02\x10\x80",
    # COTP DT header with LI=5 (a DT header has LI 2)
    "cotp_bad_length_indicator": b"\x03\x00\x00\x0b\x05\xf0\x80\x01\x00\x01\x00",
    # session SPDU identifier 0xee is unknown
    "session_unknown_spdu": data_frame(b"")[:7] + b"\xee\x00\x01\x00",
    # presentation PDU whose BER length runs past the end of the frame
    "presentation_overlong": data_frame(b"\x61\x84\x7f\xff\xff\xff\x30\x00"),
    # presentation OK, MMS confirmed-ResponsePDU claims 48 octets but has 3
    "mms_truncated": mms_frame(b"\xa1\x30\x02\x01\x01"),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_frame_closes_the_connection_cleanly(kind, libiec_server):
    with ScriptedServer("handshake_then_reply", reply=MALFORMED[kind]) as srv:
        c = IedConnection()
        closed = threading.Event()
        c.on_connection_closed(lambda conn: closed.set())
        c.set_request_timeout(3000)
        c.connect("127.0.0.1", srv.port)
        t0 = time.monotonic()
        with pytest.raises(C.IedConnectionException) as ei:
            c.read_float(REF, FC.MX)
        assert time.monotonic() - t0 < 3.0  # an error, not the request timeout
        assert ei.value.error_code in (E.CONNECTION_LOST, E.MALFORMED_MESSAGE), repr(ei.value)
        assert srv.reply_sent.wait(2)
        assert wait_for(lambda: c.state is S.CLOSED), c.state
        assert closed.wait(5)
        with pytest.raises((C.ConnectionLostError, C.NotConnectedError)):
            c.read_float(REF, FC.MX)
        c.close()
        assert not srv.errors
    # the process is fine and other connections keep working
    with IedConnection(libiec_server.host, libiec_server.port) as ok:
        assert ok.read_float(REF, FC.MX) == 12.5


def test_malformed_frame_does_not_disturb_another_connection(libiec_server):
    good = IedConnection(libiec_server.host, libiec_server.port)
    good.connect()
    try:
        with ScriptedServer("handshake_then_reply", reply=MALFORMED["presentation_overlong"]) as srv:
            bad = IedConnection()
            bad.connect("127.0.0.1", srv.port)
            with pytest.raises(C.IedConnectionException):
                bad.read_float(REF, FC.MX)
            assert good.read_float(REF, FC.MX) == 12.5
            bad.close()
        assert good.state is S.CONNECTED
    finally:
        good.close()


def _run_python(code: str, timeout: float = 20.0) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "tests")] + [p for p in sys.path if p])
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=str(REPO / "tests"))


def test_interpreter_exits_promptly_with_open_connections(libiec_server):
    """Connections left open (and a thread blocked in a request) must not keep the
    process alive or crash it at exit: finalizers stop the C side."""
    t0 = time.monotonic()
    proc = _run_python(f"""
        import threading
        from fakes.scripted_server import ScriptedServer
        from py61850.client import IedConnection, FunctionalConstraint as FC
        a = IedConnection("{libiec_server.host}", {libiec_server.port})
        a.connect()
        a.on_connection_state_change(lambda c, s: None)
        assert a.read_float("{REF}", FC.MX) == 12.5
        srv = ScriptedServer("handshake_then_silent")
        b = IedConnection()
        b.set_request_timeout(60000)
        b.connect("127.0.0.1", srv.port)
        t = threading.Thread(target=lambda: b.read_float("{REF}", FC.MX), daemon=True)
        t.start()
        import time; time.sleep(0.3)
        print("bye", flush=True)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "bye"
    assert time.monotonic() - t0 < 15.0


def test_connections_dropped_without_close_are_freed(libiec_server):
    """Connections that are simply dropped (half of them in reference cycles with
    their callbacks, so that the garbage collector frees them at arbitrary points,
    also while other connections change state on the I/O thread) are aborted and
    freed without deadlock, and the C I/O thread ends when none is left."""
    import gc

    def ntasks() -> int:
        return len(os.listdir("/proc/self/task"))

    IedConnection().close()  # the process-wide reaper thread exists from the first connection on
    gc.collect()
    base = ntasks()
    old_threshold = gc.get_threshold()
    gc.set_threshold(50)  # collect often, at unpredictable points
    t0 = time.monotonic()
    try:
        with ScriptedServer("handshake_then_silent") as srv:
            for i in range(60):
                c = IedConnection("127.0.0.1", srv.port)
                if i % 2:
                    c.on_connection_state_change(lambda conn, s, c=c: c.state)  # cycle c -> cb -> c
                c.connect()
                assert c.state is S.CONNECTED
                if i % 3 == 0:
                    c.abort()
                del c
            gc.collect()
            assert not srv.errors
    finally:
        gc.set_threshold(*old_threshold)
    assert time.monotonic() - t0 < 30
    # every client is freed: the lib61850 I/O thread and the event threads are gone
    # (collect again while waiting: a dispatcher thread may have held a connection
    # in its frame during the collection above)
    assert wait_for(lambda: gc.collect() >= 0 and ntasks() <= base, 5.0), (
        ntasks(), base, [t.name for t in threading.enumerate()])
    with IedConnection(libiec_server.host, libiec_server.port) as ok:
        assert ok.read_float(REF, FC.MX) == 12.5
