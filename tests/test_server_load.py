"""Load: 100 concurrent clients (our client, one association and one thread each)
reading from our server for a bounded time, some also writing through a Python write
handler: zero errors, every client served, every association closed afterwards.
"""
from __future__ import annotations

import threading
import time

from peers.process import DEFAULT_SCL
from py61850.client import FunctionalConstraint as FC, IedConnection, MmsValue
from py61850.server import IedServer

CLIENTS = 100
SECONDS = 3.0
ANIN1 = "TESTGenericIO/GGIO1.AnIn1.mag.f"
INTSET = "TESTGenericIO/GGIO1.IntSet1.setVal"


def test_100_concurrent_clients_reading():
    with IedServer.from_scl(DEFAULT_SCL, max_connections=CLIENTS + 10) as srv:
        srv.start(0, "127.0.0.1")
        handled = []
        srv.on_write(INTSET, lambda req: handled.append(req.value))
        errors: list[str] = []
        counts = [0] * CLIENTS
        ready = threading.Barrier(CLIENTS + 1)
        stop = threading.Event()

        def client(i: int) -> None:
            conn = IedConnection()
            conn.set_request_timeout(10000)
            conn.set_connect_timeout(10000)
            try:
                conn.connect("127.0.0.1", srv.port)
            except Exception as exc:
                errors.append(f"client {i} connect: {exc!r}")
                ready.wait()
                return
            ready.wait()
            try:
                while not stop.is_set():
                    k = counts[i] % 4
                    if k == 0:
                        assert conn.read_float(ANIN1, FC.MX) == 12.5
                    elif k == 1:
                        v = conn.read_values([(ANIN1, FC.MX), ("TESTGenericIO/GGIO1.Ind1.stVal", FC.ST),
                                              ("TESTLD0/GGIO2.TypST.int64Val", FC.ST)])
                        assert [x.to_python() for x in v] == [12.5, True, -6400000000]
                    elif k == 2:
                        assert len(conn.read_value("TESTLD0/GGIO2.TypMX", FC.MX)) == 21
                    elif i % 10 == 0:  # every tenth client also writes through the Python handler
                        conn.write_value(INTSET, FC.SP, MmsValue.int32(i))
                    else:
                        assert conn.read_int32(INTSET, FC.SP) is not None
                    counts[i] += 1
            except Exception as exc:
                errors.append(f"client {i} after {counts[i]} requests: {exc!r}")
            finally:
                conn.close()

        threads = [threading.Thread(target=client, args=(i,), name=f"load-{i}") for i in range(CLIENTS)]
        for t in threads:
            t.start()
        ready.wait(30)
        assert srv.connection_count == CLIENTS
        t0 = time.monotonic()
        time.sleep(SECONDS)
        stop.set()
        for t in threads:
            t.join(30)
        elapsed = time.monotonic() - t0
        total = sum(counts)
        print(f"\n{CLIENTS} clients, {elapsed:.1f} s: {total} requests ({total / elapsed:.0f}/s), "
              f"per client min {min(counts)} max {max(counts)}; {len(handled)} writes through the handler")
        assert errors == [], errors[:5]
        assert min(counts) >= 5
        assert len(handled) >= 10
        deadline = time.monotonic() + 10
        while srv.connection_count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert srv.connection_count == 0
        assert srv.handler_failures == 0 and srv.dropped_requests == 0
