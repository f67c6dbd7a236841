"""Serve ``examples/simple_io.icd`` with py61850 and keep a few values moving.

    python examples/server_simple_io.py --port 10102

* ``TESTGenericIO/GGIO1.AnIn1`` follows a sine wave: ``mag.f``, ``q`` and ``t`` are
  updated together under the server lock, so a client never sees a new value with an
  old time stamp;
* ``TESTGenericIO/GGIO1.Ind1.stVal`` toggles every 5 s;
* writes of ``TESTGenericIO/GGIO1.IntSet1.setVal`` (FC SP) go through a Python handler
  that accepts 0..100 and refuses anything else with ``object-value-invalid``;
* reads of ``TESTGenericIO/GGIO1.AnIn4.mag.f`` are answered on demand by a read handler.

Then browse it with ``py61850 browse 127.0.0.1:10102 --values`` or run
``python examples/client_read_write.py --port 10102``. Stop with Ctrl-C.
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import threading
import time

from py61850.server import (
    ClientConnection,
    DataAccessError,
    IedServer,
    Quality,
    ReadRequest,
    Timestamp,
    WriteRequest,
)

log = logging.getLogger("py61850.examples.server_simple_io")

SCL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "simple_io.icd")
GGIO = "TESTGenericIO/GGIO1"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="0.0.0.0")
    ap.add_argument("--port", type=int, default=10102, help="0 = any free port")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    server = IedServer.from_scl(SCL)

    def on_connection(conn: ClientConnection, connected: bool) -> None:
        log.info("client %s %s", conn.peer, "connected" if connected else "disconnected")

    def check_setpoint(req: WriteRequest) -> DataAccessError | None:
        log.info("%s wants %s = %r", req.connection.peer, req.reference, req.value)
        if not 0 <= req.value <= 100:
            return DataAccessError.OBJECT_VALUE_INVALID
        return None  # accept: the server stores the value

    def on_demand(req: ReadRequest) -> float:
        return round(time.time() % 60, 3)  # stored into AnIn4.mag.f, then answered

    server.on_connection(on_connection)
    server.on_write(f"{GGIO}.IntSet1.setVal", check_setpoint)
    server.on_read(f"{GGIO}.AnIn4.mag.f", on_demand)

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    with server:
        server.start(args.port, args.host)
        print(f"listening on {args.host}:{server.port}", flush=True)
        t0 = time.monotonic()
        ind = False
        while not stop.wait(0.5):
            elapsed = time.monotonic() - t0
            with server.lock():  # the three attributes change together for every client
                server.update_float(f"{GGIO}.AnIn1.mag.f", 50.0 + 10.0 * math.sin(elapsed / 5.0))
                server.update_quality(f"{GGIO}.AnIn1.q", Quality())
                server.update_timestamp(f"{GGIO}.AnIn1.t", Timestamp.now())
            if int(elapsed) % 5 == 0 and int(elapsed) != int(elapsed - 0.5):
                ind = not ind
                with server.lock():
                    server.update_boolean(f"{GGIO}.Ind1.stVal", ind)
                    server.update_timestamp(f"{GGIO}.Ind1.t")
    print("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
