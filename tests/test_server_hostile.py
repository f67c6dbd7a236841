"""Hostile clients against our server (in process, 127.0.0.1): malformed frames, a
client that connects and sends nothing, one that sends half a TPKT and stalls, one that
opens and drops 1000 connections in a row, one that floods requests and never reads the
answers. Each is dropped or timed out, a well-behaved client reading at the same time
sees no error and no long stall, and nothing leaks (resident memory of this process,
where the server runs, is measured before and after).
"""
from __future__ import annotations

import gc
import os
import random
import socket
import struct
import threading
import time

import pytest

from peers.process import DEFAULT_SCL
from py61850.client import FunctionalConstraint as FC, IedConnection
from py61850.server import IedServer

ANIN1 = "TESTGenericIO/GGIO1.AnIn1.mag.f"
GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "vendor", "lib61850", "tests", "golden")
HANDSHAKE_TIMEOUT = 1.5
#: Longest single read the well-behaved client may see. A server whose I/O thread were
#: blocked by a hostile client would stall it for a whole handshake timeout.
MAX_READ_S = 1.2


def golden(name: str) -> bytes:
    with open(os.path.join(GOLDEN, f"{name}.hex"), encoding="ascii") as f:
        return bytes.fromhex(f.read().strip())


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc)."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Reader:
    """A well-behaved client reading one value in a loop on a thread; records errors
    and the longest single read."""

    def __init__(self, port: int) -> None:
        self.conn = IedConnection()
        self.conn.set_request_timeout(5000)
        self.conn.connect("127.0.0.1", port)
        self.errors: list[BaseException] = []
        self.reads = 0
        self.worst = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="well-behaved-reader")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                v = self.conn.read_float(ANIN1, FC.MX)
                if v != 12.5:
                    self.errors.append(AssertionError(f"read {v}"))
            except Exception as exc:  # recorded, the test fails on it
                self.errors.append(exc)
                time.sleep(0.05)
            self.worst = max(self.worst, time.monotonic() - t0)
            self.reads += 1
            time.sleep(0.001)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.conn.close()

    def wait_reads(self, n: int, timeout: float = 10.0) -> None:
        """Wait until the reader has done ``n`` more reads."""
        target = self.reads + n
        deadline = time.monotonic() + timeout
        while self.reads < target and time.monotonic() < deadline and not self.errors:
            time.sleep(0.01)

    def check(self, min_reads: int = 10) -> None:
        """The reader kept working: no error, no long stall, and it still reads."""
        self.wait_reads(min_reads)
        assert self.errors == [], self.errors[:3]
        assert self.reads >= min_reads
        assert self.worst < MAX_READ_S, f"a read took {self.worst:.3f} s"


@pytest.fixture
def server():
    srv = IedServer.from_scl(DEFAULT_SCL, handshake_timeout=HANDSHAKE_TIMEOUT)
    srv.start(0, "127.0.0.1")
    yield srv
    srv.close()


@pytest.fixture
def reader(server):
    r = Reader(server.port)
    r.wait_reads(3)  # reading before the hostile client starts
    yield r
    r.stop()


def raw(port: int, timeout: float = 5.0) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_by_server(s: socket.socket, within: float) -> float:
    """Seconds until the server closed ``s`` (reading and discarding what it sends);
    fails if it stays open longer than ``within``."""
    t0 = time.monotonic()
    s.settimeout(0.2)
    while time.monotonic() - t0 < within:
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - t0
        if not data:
            return time.monotonic() - t0
    raise AssertionError(f"the server kept the connection open for more than {within} s")


def associate(port: int) -> socket.socket:
    """A raw socket that completed COTP connect and the MMS Initiate (golden frames)."""
    s = raw(port)
    s.sendall(golden("001_cotp_cr"))
    cc = s.recv(1024)
    assert cc[:2] == b"\x03\x00" and cc[5] == 0xD0, cc.hex()  # TPKT + COTP CC
    s.sendall(golden("003_initiate_request"))
    resp = s.recv(4096)
    assert resp[:2] == b"\x03\x00" and len(resp) > 50
    return s


# ------------------------------------------------------------------ malformed frames


MALFORMED = {
    "not_tpkt": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "tpkt_version_4": b"\x04\x00\x00\x16" + golden("001_cotp_cr")[4:],
    "tpkt_length_too_small": b"\x03\x00\x00\x03\x00\x00\x00",
    "tpkt_length_max_no_body": b"\x03\x00\xff\xff" + b"\x00" * 64,
    "cotp_unknown_tpdu": b"\x03\x00\x00\x0b\x06\x70\x00\x00\x00\x01\x00",
    "cotp_li_beyond_tpkt": b"\x03\x00\x00\x0b\xfe\xe0\x00\x00\x00\x01\x00",
    "data_before_connect": golden("015_read_float_request"),
    "initiate_truncated": golden("001_cotp_cr") + golden("003_initiate_request")[:60],
    "random_1k": random.Random(61850).randbytes(1024),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_frames_are_dropped(server, reader, name):
    s = raw(server.port)
    try:
        s.sendall(MALFORMED[name])
        closed_by_server(s, within=HANDSHAKE_TIMEOUT + 3.0)
    finally:
        s.close()
    reader.check(min_reads=1)
    assert server.is_running


def test_malformed_mms_after_association(server, reader):
    s = associate(server.port)
    try:
        # a COTP DT with a session/presentation wrapper around garbage
        dt = golden("015_read_float_request")
        bad = bytearray(dt)
        bad[-12:] = b"\xff" * 12  # break the MMS PDU at the end of the frame
        s.sendall(bytes(bad))
        s.settimeout(3)
        try:
            answer = s.recv(4096)  # a reject or an abort, or a close
        except (ConnectionResetError, socket.timeout):
            answer = b""
        # then plain garbage on the association: dropped
        s.sendall(b"\x03\x00\x00\x10" + b"\xa5" * 12)
        closed_by_server(s, within=5.0)
        assert answer == b"" or answer[:2] == b"\x03\x00"
    finally:
        s.close()
    reader.check(min_reads=1)


# ------------------------------------------------------------------ stalls


def test_silent_client_is_timed_out(server, reader):
    s = raw(server.port)
    try:
        took = closed_by_server(s, within=HANDSHAKE_TIMEOUT + 3.0)
        assert took >= HANDSHAKE_TIMEOUT * 0.8
    finally:
        s.close()
    reader.check()


def test_half_tpkt_then_stall_is_timed_out(server, reader):
    s = raw(server.port)
    try:
        s.sendall(golden("001_cotp_cr")[:5])  # 5 of 22 octets
        took = closed_by_server(s, within=HANDSHAKE_TIMEOUT + 3.0)
        assert took >= HANDSHAKE_TIMEOUT * 0.8
    finally:
        s.close()
    reader.check()


def test_half_initiate_then_stall_is_timed_out(server, reader):
    s = raw(server.port)
    try:
        s.sendall(golden("001_cotp_cr"))
        assert s.recv(1024)[5] == 0xD0
        s.sendall(golden("003_initiate_request")[:40])
        closed_by_server(s, within=HANDSHAKE_TIMEOUT + 3.0)
    finally:
        s.close()
    reader.check()


def test_many_silent_clients_at_once(server, reader):
    socks = [raw(server.port) for _ in range(50)]
    try:
        time.sleep(0.2)
        assert reader.errors == []
        for s in socks:
            closed_by_server(s, within=HANDSHAKE_TIMEOUT + 5.0)
    finally:
        for s in socks:
            s.close()
    reader.check()
    deadline = time.monotonic() + 5
    while server.connection_count > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.connection_count == 1  # the reader


def test_idle_timeout_closes_associated_client():
    with IedServer.from_scl(DEFAULT_SCL, idle_timeout=0.5) as srv:
        srv.start(0, "127.0.0.1")
        s = associate(srv.port)
        try:
            took = closed_by_server(s, within=4.0)
            assert took >= 0.4
        finally:
            s.close()


# ------------------------------------------------------------------ connection churn and memory


def churn(port: int, n: int, linger_reset: bool) -> None:
    for _ in range(n):
        s = socket.socket()
        if linger_reset:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
        s.connect(("127.0.0.1", port))
        s.close()


def test_1000_connections_opened_and_dropped(server, reader):
    events: list[bool] = []
    server.on_connection(lambda c, up: events.append(up))

    def settled() -> bool:
        return server.connection_count == 1 and events.count(True) == events.count(False)

    def wait_settled() -> None:
        deadline = time.monotonic() + 15
        while not settled() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # connections still in the kernel's accept queue show up now
        while not settled() and time.monotonic() < deadline:
            time.sleep(0.05)

    churn(server.port, 200, False)  # warm-up: allocator pools, Python caches
    wait_settled()
    gc.collect()
    before = rss_bytes()
    seen_before = events.count(True)
    t0 = time.monotonic()
    churn(server.port, 500, False)
    churn(server.port, 500, True)
    elapsed = time.monotonic() - t0
    wait_settled()
    gc.collect()
    after = rss_bytes()
    growth = after - before
    accepted = events.count(True) - seen_before
    print(f"\n1000 connects/drops in {elapsed:.2f} s ({accepted} accepted by the server before the client "
          f"was gone); resident memory {before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB ({growth / 2**10:+.0f} KiB)")
    assert server.connection_count == 1  # only the reader is left
    assert server.dropped_requests == 0
    assert events.count(True) == events.count(False)  # every accepted connection was closed
    assert accepted >= 500
    assert growth < 4 * 2**20, f"resident memory grew by {growth / 2**20:.1f} MiB"
    reader.check()


def test_associations_opened_and_aborted_do_not_leak(server, reader):
    def cycle(n: int) -> None:
        for _ in range(n):
            s = associate(server.port)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()

    cycle(50)
    gc.collect()
    before = rss_bytes()
    cycle(300)
    deadline = time.monotonic() + 10
    while server.connection_count > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    gc.collect()
    growth = rss_bytes() - before
    print(f"\n300 associations dropped: resident memory {growth / 2**10:+.0f} KiB")
    assert server.connection_count == 1
    assert growth < 4 * 2**20
    reader.check()


# ------------------------------------------------------------------ flooding


def test_request_flood_without_reading_answers(server, reader):
    s = associate(server.port)
    req = golden("015_read_float_request")
    s.setblocking(False)
    gc.collect()
    before = rss_bytes()
    sent = 0
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < 3.0 and sent < 200_000:
            try:
                s.send(req * 64)
                sent += 64
            except BlockingIOError:
                time.sleep(0.01)  # the server stopped reading us (its answers are not read)
            except (ConnectionResetError, BrokenPipeError):
                break  # or it dropped us
    finally:
        s.close()
    gc.collect()
    growth = rss_bytes() - before
    print(f"\nflood: {sent} requests sent in 3 s; resident memory {growth / 2**10:+.0f} KiB")
    assert growth < 16 * 2**20, f"resident memory grew by {growth / 2**20:.1f} MiB"
    reader.check()
    deadline = time.monotonic() + 10
    while server.connection_count > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.connection_count == 1


# ------------------------------------------------------------------ leaks of the Python layer


def test_server_lifecycles_and_handlers_do_not_leak():
    from py61850.client import MmsValue

    def cycle() -> None:
        srv = IedServer.from_scl(DEFAULT_SCL)
        srv.on_write("TESTGenericIO/GGIO1.IntSet1.setVal", lambda r: None)
        srv.on_read("TESTGenericIO/GGIO1.AnIn2.mag.f", lambda r: 1.5)
        srv.on_connection(lambda c, up: None)
        srv.start(0, "127.0.0.1")
        with IedConnection("127.0.0.1", srv.port) as c:
            for i in range(20):
                c.write_value("TESTGenericIO/GGIO1.IntSet1.setVal", FC.SP, MmsValue.int32(i))
                assert c.read_float("TESTGenericIO/GGIO1.AnIn2.mag.f", FC.MX) == 1.5
        srv.close()

    def server_threads() -> int:
        return sum(t.name.startswith("py61850-server") for t in threading.enumerate())

    for _ in range(5):
        cycle()
    gc.collect()
    before = rss_bytes()
    threads_before = server_threads()
    for _ in range(40):
        cycle()
    gc.collect()
    growth = rss_bytes() - before
    assert server_threads() == threads_before  # handler and event threads end with their server
    print(f"\n40 server lifecycles with 1600 handled requests: resident memory {growth / 2**10:+.0f} KiB")
    assert growth < 6 * 2**20, f"resident memory grew by {growth / 2**20:.1f} MiB"
