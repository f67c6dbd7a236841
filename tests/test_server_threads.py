"""py61850.server threading: the library's I/O thread never runs Python.

Requests for objects with a Python handler and connection events go through the C
server's event queue to the server's own dispatcher thread. These tests check what a
user would notice if that were not so: clients stalled while Python is busy, a full
queue that is not counted, connection callbacks lost at stop, deadlocks when a handler
stops its own server or when a server is collected on the I/O thread.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time

import pytest

import py61850
from peers.process import DEFAULT_SCL
from py61850 import _ffi, client as C
from py61850.client import FunctionalConstraint as FC, IedConnection, MmsValue
from py61850.server import ClientConnection, IedServer, WriteRequest

ANIN1 = "TESTGenericIO/GGIO1.AnIn1.mag.f"
INTSET = "TESTGenericIO/GGIO1.IntSet1.setVal"
PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(py61850.__file__)))


def wait_for(cond, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return bool(cond())


def connect(srv: IedServer) -> IedConnection:
    c = IedConnection()
    c.set_request_timeout(10000)
    c.connect("127.0.0.1", srv.port)
    return c


def dispatchers() -> int:
    return sum(t.name == "py61850-server-handlers" for t in threading.enumerate())


@pytest.fixture
def server():
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(0, "127.0.0.1")
    try:
        yield srv
    finally:
        srv.close()


# ------------------------------------------------------------------ the GIL


#: A client in another process (its own GIL): reads AnIn1 in a loop on one association
#: and, from threads of its own, writes IntSet1 (which has a Python handler in the
#: server) every 0.4 s on a second association; prints READY, then every read and write
#: as (start, end) on CLOCK_MONOTONIC, which is the same clock in both processes.
CLIENT = r"""
import json, sys, threading, time
from py61850.client import FunctionalConstraint as FC, IedConnection, MmsValue

port, duration, n_writes = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
conns = []
for _ in range(2):
    c = IedConnection()
    c.set_request_timeout(20000)
    c.connect("127.0.0.1", port)
    conns.append(c)
reader, writer = conns
reads, read_errors, writes = [], [], []
lock = threading.Lock()

def write(i):
    t0 = time.monotonic()
    try:
        writer.write_value("TESTGenericIO/GGIO1.IntSet1.setVal", FC.SP, MmsValue.int32(i))
        err = None
    except Exception as exc:
        err = repr(exc)
    with lock:
        writes.append((i, t0, time.monotonic(), err))

print("READY", flush=True)
start = time.monotonic()
next_write, i, threads = start + 0.2, 0, []
while time.monotonic() - start < duration:
    if time.monotonic() >= next_write and i < n_writes:
        t = threading.Thread(target=write, args=(i,))
        t.start()
        threads.append(t)
        i += 1
        next_write += 0.4
    t0 = time.monotonic()
    try:
        v = reader.read_float("TESTGenericIO/GGIO1.AnIn1.mag.f", FC.MX)
        reads.append((t0, time.monotonic()))
    except Exception as exc:
        read_errors.append(repr(exc))
    time.sleep(0.005)
for t in threads:
    t.join(30)
for c in conns:
    c.close()
print(json.dumps({"reads": reads, "read_errors": read_errors, "writes": writes}), flush=True)
"""

HOG_S = 2.0
N_WRITES = 8


def test_clients_are_served_while_a_python_thread_holds_the_gil(server):
    """A Python thread keeps the GIL for 2 s (pure-Python busy loop, switch interval
    5 s) while clients in another process read and write. The reads are answered by
    the I/O thread with no stall, even while writes of an object with a Python handler
    arrive (their events wait in the queue, and the first handler itself sleeps 1 s);
    the writes are answered once Python runs again. A Python callback on the I/O
    thread would stall every association of the process until the GIL came back."""
    seen: list[int] = []

    def handler(req: WriteRequest) -> None:
        if not seen:
            time.sleep(1.0)  # a slow handler (waiting without the GIL)
        seen.append(req.value)

    server.on_write(INTSET, handler)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PKG_PARENT, *filter(None, [env.get("PYTHONPATH")])])
    duration = 0.6 + HOG_S + 1.0
    proc = subprocess.Popen([sys.executable, "-P", "-c", CLIENT, str(server.port), str(duration), str(N_WRITES)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    beats: list[float] = []
    stop_beats = threading.Event()

    def heartbeat() -> None:
        while not stop_beats.is_set():
            beats.append(time.monotonic())
            time.sleep(0.01)

    window: list[float] = []

    def hog() -> None:
        t0 = time.monotonic()
        while time.monotonic() - t0 < HOG_S:
            pass
        window.extend((t0, time.monotonic()))

    beat = threading.Thread(target=heartbeat, name="heartbeat")
    old_interval = sys.getswitchinterval()
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "READY", proc.stderr.read() if proc.stderr else ""
        beat.start()
        time.sleep(0.6)  # reads and the first (slow) write are under way
        sys.setswitchinterval(5.0)
        hogger = threading.Thread(target=hog, name="gil-hog")
        hogger.start()
        hogger.join()
        time.sleep(0.1)  # a few heartbeats after the window
    finally:
        sys.setswitchinterval(old_interval)
        stop_beats.set()
        if beat.is_alive():
            beat.join()
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    h0, h1 = window

    # the premise: no other Python thread of this process ran during the window
    gaps = [b - a for a, b in zip(beats, beats[1:]) if b > h0 and a < h1]
    assert gaps and max(gaps) >= HOG_S * 0.75, f"the GIL was not held: longest heartbeat gap {max(gaps, default=0):.2f} s"

    # reads kept being answered, quickly, all through the window
    assert result["read_errors"] == []
    reads = result["reads"]
    during = [(a, b) for a, b in reads if a >= h0 and b <= h1]
    assert len(during) >= 20, f"only {len(during)} reads answered while the GIL was held"
    worst = max(b - a for a, b in reads if h0 <= a <= h1)
    print(f"\nGIL held {h1 - h0:.2f} s (longest heartbeat gap {max(gaps):.2f} s): {len(during)} reads answered "
          f"meanwhile, the slowest in {worst * 1000:.1f} ms")
    assert worst < 0.8, f"a read waited {worst:.2f} s while the GIL was held"

    # writes reached the handler through the queue: those sent while the GIL was held
    # were answered after it was released, and none was lost or refused
    writes = result["writes"]
    assert sorted(w[0] for w in writes) == list(range(N_WRITES))
    assert [w for w in writes if w[3] is not None] == []
    held = [w for w in writes if h0 <= w[1] <= h1 - 0.1]
    assert len(held) >= 2
    assert all(end >= h1 for _, _, end, _ in held)
    assert sorted(seen) == list(range(N_WRITES))
    assert server.dropped_requests == 0


# ------------------------------------------------------------------ overflow


def test_full_event_queue_refuses_at_once_and_is_counted(server, caplog):
    server._lib.i61_server_set_event_queue_size(server._core.ptr, 1)  # room for one waiting request
    entered = threading.Event()
    release = threading.Event()
    ups: list[ClientConnection] = []

    def handler(req: WriteRequest) -> None:
        entered.set()
        release.wait(10)

    server.on_connection(lambda c, up: up and ups.append(c))
    server.on_write(INTSET, handler)
    conns = [connect(server) for _ in range(3)]
    assert wait_for(lambda: len(ups) == 3)  # the connection events have left the queue
    results: list[object] = []

    def write(c: IedConnection, v: int) -> None:
        try:
            c.write_int32(INTSET, FC.SP, v)
            results.append(v)
        except C.IedConnectionException as exc:
            results.append(exc)

    first = threading.Thread(target=write, args=(conns[0], 1))
    first.start()
    assert entered.wait(5)  # taken by the handler thread: the queue is empty again
    others = [threading.Thread(target=write, args=(c, v)) for c, v in ((conns[1], 2), (conns[2], 3))]
    with caplog.at_level(logging.WARNING, logger="py61850.server"):
        for t in others:
            t.start()
        # one write waits in the queue, the other finds it full and is refused at once
        assert wait_for(lambda: len(results) == 1)
        assert isinstance(results[0], C.TemporarilyUnavailableError)
        assert server.dropped_requests == 1
        release.set()
        for t in [first, *others]:
            t.join(10)
        assert wait_for(lambda: any("event queue is full" in r.getMessage() for r in caplog.records))
    accepted = [r for r in results if isinstance(r, int)]
    assert len(results) == 3 and len(accepted) == 2 and 1 in accepted
    assert server.dropped_requests == 1
    for c in conns:
        c.close()


# ------------------------------------------------------------------ lifecycle


def test_stop_delivers_the_disconnections_before_returning(server):
    events: list[tuple[int, bool]] = []
    server.on_connection(lambda c, up: events.append((c.id, up)))
    a, b = connect(server), connect(server)
    assert wait_for(lambda: len(events) == 2)
    server.stop()
    ids = {cid for cid, _ in events[:2]}
    assert sorted(events[2:]) == sorted((cid, False) for cid in ids)
    a.close()
    b.close()
    server.start(0, "127.0.0.1")
    with connect(server):
        assert wait_for(lambda: len(events) == 5 and events[4][1] is True)


def test_handler_may_stop_and_restart_its_server(server):
    before = dispatchers()
    calls: list[str] = []

    def stopper(req: WriteRequest) -> None:
        calls.append(threading.current_thread().name)
        server.stop()  # on the handler thread itself: must not wait for itself

    server.on_write(INTSET, stopper)
    c = connect(server)
    with pytest.raises(C.IedConnectionException):  # the request died with the association
        c.write_int32(INTSET, FC.SP, 7)
    c.close()
    assert wait_for(lambda: not server.is_running)
    assert calls == ["py61850-server-handlers"]
    assert wait_for(lambda: dispatchers() == before - 1)
    server.on_write(INTSET, lambda r: None)
    server.start(0, "127.0.0.1")
    with connect(server) as c2:
        c2.write_int32(INTSET, FC.SP, 8)
        assert c2.read_int32(INTSET, FC.SP) == 8
    assert dispatchers() == before
    assert server.get_value(INTSET) == 8


def test_restart_keeps_handlers_with_one_dispatcher(server):
    before = dispatchers()
    seen: list[int] = []
    server.on_write(INTSET, lambda r: seen.append(r.value))
    for i in range(3):
        server.stop()
        assert dispatchers() == before - 1
        server.start(0, "127.0.0.1")
        assert dispatchers() == before
        with connect(server) as c:
            c.write_value(INTSET, FC.SP, MmsValue.int32(i))
    assert seen == [0, 1, 2]


def test_server_collected_on_the_io_thread_is_freed_by_the_reaper():
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.on_write(INTSET, lambda r: None)
    srv.start(0, "127.0.0.1")
    srv.stop()
    core = srv._core
    # as if the last reference went away inside a C callback of a client connection
    _ffi.io_callback.active = True
    try:
        del srv  # the finalizer must not free (nor wait) here
        assert core.ptr is not None
    finally:
        _ffi.io_callback.active = False
    assert wait_for(lambda: core.ptr is None)
