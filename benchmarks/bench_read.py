"""Sequential single-FCDA read benchmark: py61850 against the other stacks, same run.

Run from the repository root::

    python benchmarks/bench_read.py [--seconds 1.0] [--reps 5] [--json]

A libiec61850 server (``tests/peers/libiec_server.py`` serving ``examples/simple_io.icd``)
runs in a child process. Each client reads ``TESTGenericIO/GGIO1.AnIn1.mag.f`` [MX] in a tight
sequential loop (one request outstanding) for ``--seconds``, ``--reps`` times:

* ``floor``       raw TCP ping-pong of a 36-octet frame (the size of the read response) with a
                  Python echo server process on loopback: the lower bound for any
                  request/response, no protocol work at all
* ``pyiec61850``  pyiec61850-ng ``IedConnection_readFloatValue`` (libiec61850 1.6.1, C)
* ``iec61850``    the Rust-based ``iec61850`` client, ``await conn.read_float`` in asyncio
* ``py61850``     our ``py61850.client.IedConnection.read_float`` (imported lazily; if it
                  cannot be imported or cannot read, the error is shown instead of numbers)

Reported per client: reads/s (median and min over repetitions), p50 and p99 latency (median
over repetitions), and the ratios of the median reads/s to pyiec61850-ng and to the floor.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))

REF = "TESTGenericIO/GGIO1.AnIn1.mag.f"
FC = "MX"
EXPECTED = 12.5  # the SCL initial value of REF in examples/simple_io.icd
FRAME = 36  # octets of the MMS read-float response frame (golden 016)
SETTLE = 0.3  # seconds between one client's close and the next client's connect


@dataclass
class Row:
    """Result of one client."""

    name: str
    description: str
    reads_per_s: float | None = None
    reads_per_s_min: float | None = None
    p50_us: float | None = None
    p99_us: float | None = None
    vs_pyiec: float | None = None
    vs_floor: float | None = None
    error: str | None = None
    reps: list[dict[str, float]] = field(default_factory=list)


def _percentile(sorted_ns: list[int], q: float) -> float:
    idx = min(len(sorted_ns) - 1, max(0, round(q * (len(sorted_ns) - 1))))
    return sorted_ns[idx] / 1000.0


def _summarise(row: Row) -> None:
    rates = [r["reads_per_s"] for r in row.reps]
    row.reads_per_s = statistics.median(rates)
    row.reads_per_s_min = min(rates)
    row.p50_us = statistics.median(r["p50_us"] for r in row.reps)
    row.p99_us = statistics.median(r["p99_us"] for r in row.reps)


def _measure_sync(call: Callable[[], Any], seconds: float) -> dict[str, float]:
    lat: list[int] = []
    clock = time.perf_counter_ns
    end = clock() + int(seconds * 1e9)
    start = clock()
    now = start
    while now < end:
        t0 = now
        call()
        now = clock()
        lat.append(now - t0)
    lat.sort()
    return {"reads": len(lat), "reads_per_s": len(lat) / ((now - start) / 1e9), "p50_us": _percentile(lat, 0.5), "p99_us": _percentile(lat, 0.99)}


async def _measure_async(call: Callable[[], Any], seconds: float) -> dict[str, float]:
    lat: list[int] = []
    clock = time.perf_counter_ns
    end = clock() + int(seconds * 1e9)
    start = clock()
    now = start
    while now < end:
        t0 = now
        await call()
        now = clock()
        lat.append(now - t0)
    lat.sort()
    return {"reads": len(lat), "reads_per_s": len(lat) / ((now - start) / 1e9), "p50_us": _percentile(lat, 0.5), "p99_us": _percentile(lat, 0.99)}


# ------------------------------------------------------------------------- the clients


def echo_server_main() -> int:
    """Child-process mode: echo fixed 36-octet frames (the floor measurement's peer)."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    print(f"READY {ls.getsockname()[1]}", flush=True)
    while True:
        conn, _ = ls.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        view = bytearray(FRAME)
        try:
            while True:
                got = 0
                while got < FRAME:
                    n = conn.recv_into(memoryview(view)[got:])
                    if n == 0:
                        raise ConnectionError
                    got += n
                conn.sendall(view)
        except (ConnectionError, OSError):
            conn.close()


class Client:
    """One measured client: ``open()``, then ``measure(seconds)`` per repetition, ``close()``."""

    def open(self) -> None:
        raise NotImplementedError

    def measure(self, seconds: float) -> dict[str, float]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def shutdown(self) -> None:
        """Release what outlives one repetition (processes, event loops)."""


class SyncClient(Client):
    read: Callable[[], Any]

    def warm_up(self, expected: Any | None) -> None:
        got = self.read()
        if expected is not None and got != expected:
            raise AssertionError(f"read {got!r}, expected {expected!r}")
        for _ in range(200):
            self.read()

    def measure(self, seconds: float) -> dict[str, float]:
        return _measure_sync(self.read, seconds)


class FloorClient(SyncClient):
    """Raw TCP ping-pong with an echo server process."""

    proc: subprocess.Popen | None = None
    sock: socket.socket | None = None

    def open(self) -> None:
        if self.proc is None:
            self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--_echo"], stdout=subprocess.PIPE, text=True)
            self.port = int(self.proc.stdout.readline().split()[1])
        self.sock = s = socket.create_connection(("127.0.0.1", self.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        frame = bytes(range(FRAME))
        mv = memoryview(bytearray(FRAME))

        def ping() -> None:
            s.sendall(frame)
            got = 0
            while got < FRAME:
                n = s.recv_into(mv[got:])
                if n == 0:
                    raise ConnectionError("echo server closed")
                got += n

        self.read = ping
        self.warm_up(None)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def shutdown(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None


class PyiecClient(SyncClient):
    """pyiec61850-ng IedConnection_readFloatValue."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.con = None

    def open(self) -> None:
        import pyiec61850.pyiec61850 as L  # noqa: N812

        from peers.clients import pyiec_connect

        self.con = con = pyiec_connect("127.0.0.1", self.port)
        fc = L.IEC61850_FC_MX
        read_float = L.IedConnection_readFloatValue

        def read() -> float:
            v, err = read_float(con, REF, fc)
            if err != 0:
                raise IOError(f"readFloatValue: IedClientError {err}")
            return v

        self.read = read
        self.warm_up(EXPECTED)

    def close(self) -> None:
        if self.con is not None:
            from peers.clients import pyiec_close

            pyiec_close(self.con)
            self.con = None


class RustClient(Client):
    """iec61850 (Rust) ``await conn.read_float`` on a private event loop."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.conn = None

    def open(self) -> None:
        import iec61850

        async def setup() -> None:
            self.conn = await iec61850.IedConnection.connect(f"127.0.0.1:{self.port}")
            got = await self.conn.read_float(REF, FC)
            if got != EXPECTED:
                raise AssertionError(f"read {got!r}, expected {EXPECTED!r}")
            for _ in range(200):
                await self.conn.read_float(REF, FC)

        self.loop.run_until_complete(setup())

    def measure(self, seconds: float) -> dict[str, float]:
        conn = self.conn
        return self.loop.run_until_complete(_measure_async(lambda: conn.read_float(REF, FC), seconds))

    def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            self.loop.run_until_complete(conn.disconnect())

    def shutdown(self) -> None:
        self.loop.close()


class Py61850Client(SyncClient):
    """py61850 ``IedConnection.read_float`` (imported lazily)."""

    def __init__(self, port: int, row: Row) -> None:
        self.port = port
        self.row = row
        self.conn = None

    def open(self) -> None:
        import py61850  # lazy: may not be importable yet

        where = f" ({getattr(py61850, '__version__', '?')} from {os.path.dirname(py61850.__file__)})"
        if where not in self.row.description:
            self.row.description += where
        from py61850.client import FunctionalConstraint, IedConnection

        self.conn = conn = IedConnection()
        conn.connect("127.0.0.1", self.port)
        fc = FunctionalConstraint.MX
        self.read = lambda: conn.read_float(REF, fc)
        self.warm_up(EXPECTED)

    def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            conn.close()


# ------------------------------------------------------------------------- report


def run(seconds: float, reps: int) -> dict[str, Any]:
    from peers.process import start_peer

    rows = {
        "floor": Row("floor", "raw TCP ping-pong, 36-octet frame, Python echo process"),
        "pyiec61850": Row("pyiec61850", "pyiec61850-ng 1.6.1.10 IedConnection_readFloatValue"),
        "iec61850": Row("iec61850", "iec61850 0.14 (Rust) await read_float, asyncio"),
        "py61850": Row("py61850", "py61850 IedConnection.read_float"),
    }
    server = start_peer("libiec")
    clients: dict[str, Client] = {
        "floor": FloorClient(),
        "pyiec61850": PyiecClient(server.port),
        "iec61850": RustClient(server.port),
        "py61850": Py61850Client(server.port, rows["py61850"]),
    }
    try:
        # Round robin: repetition r of every client before repetition r+1, so that a load
        # change on the machine does not favour the clients measured first. Each client
        # opens its own association for its window and closes it afterwards: the
        # libiec61850 1.6.1 server answers every request ~10 ms late while two associations
        # are open (see tests/peers/README.md), so they must not overlap.
        for _ in range(reps):
            for name, client in clients.items():
                row = rows[name]
                if row.error is not None:
                    continue
                try:
                    client.open()
                    row.reps.append(client.measure(seconds))
                except Exception as exc:  # report, never fake numbers
                    row.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
                    row.reps.clear()
                finally:
                    try:
                        client.close()
                    except Exception as exc:
                        row.error = row.error or f"close: {type(exc).__name__}: {exc}"[:200]
                    time.sleep(SETTLE)  # let the server drop the association before the next one
                if not server.alive():
                    raise RuntimeError(f"the libiec61850 server died during {name}:\n{server.stderr_text()}")
        for row in rows.values():
            if row.reps and row.error is None:
                _summarise(row)
    finally:
        for client in clients.values():
            client.shutdown()
        server.stop()
    ref_pyiec = rows["pyiec61850"].reads_per_s
    ref_floor = rows["floor"].reads_per_s
    for row in rows.values():
        if row.reads_per_s is not None:
            row.vs_pyiec = row.reads_per_s / ref_pyiec if ref_pyiec else None
            row.vs_floor = row.reads_per_s / ref_floor if ref_floor else None
    return {
        "benchmark": "sequential single-FCDA read_float",
        "reference": f"{REF} [{FC}]",
        "server": "libiec61850 1.6.1 (pyiec61850-ng) in a child process, 127.0.0.1",
        "seconds_per_rep": seconds,
        "reps": reps,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "rows": [asdict(r) for r in rows.values()],
    }


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def print_table(result: dict[str, Any]) -> None:
    print(f"{result['benchmark']}: {result['reference']}")
    print(f"server: {result['server']}")
    print(f"{result['reps']} x {result['seconds_per_rep']} s per client; Python {result['python']}; {result['machine']}")
    print()
    head = f"{'client':<12} {'reads/s':>9} {'min':>9} {'p50 us':>8} {'p99 us':>8} {'vs pyiec':>9} {'vs floor':>9}"
    print(head)
    print("-" * len(head))
    for r in result["rows"]:
        if r["error"]:
            print(f"{r['name']:<12} ERROR {r['error']}")
            continue
        print(
            f"{r['name']:<12} {_fmt(r['reads_per_s'], ',.0f'):>9} {_fmt(r['reads_per_s_min'], ',.0f'):>9} "
            f"{_fmt(r['p50_us'], '.1f'):>8} {_fmt(r['p99_us'], '.1f'):>8} "
            f"{_fmt(r['vs_pyiec'], '.2f'):>9} {_fmt(r['vs_floor'], '.2f'):>9}"
        )
    print()
    for r in result["rows"]:
        print(f"  {r['name']:<12} {r['description']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Sequential single-FCDA read benchmark (see benchmarks/README.md)")
    ap.add_argument("--seconds", type=float, default=1.0, help="measurement window per repetition (default 1.0)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions per client; the median is reported (default 5)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    ap.add_argument("--_echo", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._echo:
        return echo_server_main()
    check_window(ap, args)
    return emit(run(args.seconds, args.reps), args.json, print_table)


def check_window(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse a non-positive ``--seconds`` or ``--reps`` (shared by the benchmarks)."""
    if args.seconds <= 0 or args.reps < 1:
        ap.error("--seconds must be > 0 and --reps >= 1")


def emit(result: dict[str, Any], as_json: bool, print_table: Callable[[dict[str, Any]], None]) -> int:
    """Print a benchmark result as JSON or as its table; returns exit status 0."""
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


def exit_now(rc: int) -> None:
    """Flush and leave without interpreter finalisation: the Rust client's runtime
    threads can race it and abort (shared by the benchmarks)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


if __name__ == "__main__":
    exit_now(main())
