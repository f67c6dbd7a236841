"""Server benchmark: reads/s served by py61850's server, libiec61850's and the Rust one, same run.

Run from the repository root::

    python3 -P benchmarks/bench_server.py [--seconds 1.0] [--reps 5] [--clients 1,5,10] [--json]

Three servers serve ``examples/simple_io.icd`` on 127.0.0.1, each in a child process:

* ``py61850``      ours: ``py61850.server.IedServer.from_scl`` (this script in ``--_serve`` mode)
* ``libiec61850``  ``tests/peers/libiec_server.py`` (libiec61850 1.6.1 through pyiec61850-ng)
* ``rust``         ``tests/peers/rust_server.py`` (the Rust-based ``iec61850`` 0.14)

The client is the same for all three: ``py61850.client.IedConnection.read_float`` of
``TESTGenericIO/GGIO1.AnIn1.mag.f`` [MX], one request outstanding per connection. It runs in
worker processes (one client per process, so that the GIL of one process does not limit the
concurrent case), forked once at start-up. For every number N of ``--clients``, N workers each
connect once, check the value and warm up, then wait at a barrier; the parent hands them one
common start instant and every worker reads in a tight loop from that instant for
``--seconds``: the row is the sum of the N rates over the same window. A client whose connect
is refused is left out and the row says how many were served (both peer servers accept at
most 5 associations; 5 is in the default list so that all three can be compared there).

The ``floor`` row is the loopback ping-pong of ``bench_read.py`` (a 36-octet frame echoed by a
Python process, TCP_NODELAY), measured in the same worker process as the 1-client rows.

Every measurement is repeated ``--reps`` times, round robin (floor, then the three servers in
an order rotated per repetition, each with every client count), each on fresh associations
that are closed before the next measurement starts. Reported: median reads/s, slowest
repetition, p50/p99 latency of single reads (all clients' reads together), per-client spread,
and the ratios py61850/libiec61850, py61850/Rust and py61850/floor. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import multiprocessing
import multiprocessing.connection
import os
import platform
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, HERE)

from bench_read import FloorClient, check_window, emit, exit_now  # noqa: E402  (floor measurement, CLI tail)

REF = "TESTGenericIO/GGIO1.AnIn1.mag.f"
FC = "MX"
EXPECTED = 12.5  # the SCL initial value of REF in examples/simple_io.icd
SCL = os.path.join(REPO, "examples", "simple_io.icd")
CLIENT_COUNTS = (1, 5, 10)  # concurrent clients per measurement (default); 5 = what the peers accept
GOAL_CLIENTS = 10  # the concurrency of the "3 x libiec61850" goal
SETTLE = 0.3  # seconds between closing the associations of one measurement and the next
WARMUP_READS = 50  # reads after the checked first one, before the window ...
WARMUP_MAX_S = 0.3  # ... or this long, whichever comes first
START_LEAD_S = 0.05  # the common start instant is this far after the barrier
READY_TIMEOUT_S = 30.0  # connect + check + warm-up of all workers
START_TIMEOUT_S = 15.0  # a server process must print READY within this
SERVERS = ("py61850", "libiec61850", "rust")
PEER_KIND = {"libiec61850": "libiec", "rust": "rust"}


def _interpreter_flags() -> list[str]:
    """Flags for child Python processes, so they import the same py61850 as this one."""
    return ["-P"] if sys.flags.safe_path else []


# ------------------------------------------------------------------ our server process


def serve_main(scl: str) -> int:
    """Child-process mode: serve ``scl`` with py61850 on 127.0.0.1 and an OS-chosen port.

    Same protocol as the peer servers: one line ``READY <port>`` on stdout, then run until
    SIGTERM/SIGINT or until the parent process is gone.
    """
    from py61850.server import IedServer

    parent = os.getppid()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = IedServer.from_scl(scl)
    try:
        server.start(0, "127.0.0.1")
    except OSError as exc:
        print(f"bench_server: cannot listen on 127.0.0.1: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(f"READY {server.port}\n")
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)  # the parent no longer reads our stdout
    os.dup2(devnull, 1)
    os.close(devnull)
    while not stop.wait(0.2):
        if os.getppid() != parent:
            break
    server.close()
    return 0


@dataclass
class ServerProcess:
    """A running server child process."""

    name: str
    port: int
    proc: subprocess.Popen
    stderr: Any
    description: str

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5.0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


def _ready_line(proc: subprocess.Popen, timeout: float) -> str:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
    return buf.split(b"\n", 1)[0].decode("utf-8", "replace")


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def start_ours() -> ServerProcess:
    """Start py61850's server (this script in ``--_serve`` mode) and wait for READY."""
    err = tempfile.TemporaryFile(prefix="bench-py61850-")
    cmd = [sys.executable, *_interpreter_flags(), os.path.abspath(__file__), "--_serve", SCL]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, cwd=REPO)
    line = _ready_line(proc, START_TIMEOUT_S)
    assert proc.stdout is not None
    proc.stdout.close()
    server = ServerProcess("py61850", 0, proc, err, "py61850 IedServer.from_scl (C server on its I/O thread)")
    if not line.startswith("READY "):
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        err_text = server.stderr_text()
        server.stop()
        raise RuntimeError(f"py61850 server did not start: {line!r}\n{err_text}")
    server.port = int(line.split()[1])
    return server


@dataclass
class _PeerWrap(ServerProcess):
    """A peer server started by ``tests/peers/process.start_peer`` (which owns its stderr)."""

    peer: Any = None

    def stderr_text(self) -> str:
        return self.peer.stderr_text()

    def stop(self) -> None:
        self.peer.stop()


def start_peer_server(name: str) -> ServerProcess:
    """Start a peer server from tests/peers (ready when this returns)."""
    from peers.process import start_peer

    peer = start_peer(PEER_KIND[name], SCL)
    if name == "libiec61850":
        desc = f"libiec61850 1.6.1 (pyiec61850-ng {_version('pyiec61850-ng')}), tests/peers/libiec_server.py"
    else:
        desc = f"iec61850 {_version('iec61850')} (Rust) IedServer.from_scl, tests/peers/rust_server.py"
    return _PeerWrap(name, peer.port, peer.proc, None, desc, peer)


# ------------------------------------------------------------------ worker processes


def _percentile(sorted_ns: list[int], q: float) -> float:
    idx = min(len(sorted_ns) - 1, max(0, round(q * (len(sorted_ns) - 1))))
    return sorted_ns[idx] / 1000.0


def cpu_ns_of(pid: int) -> int | None:
    """CPU time (ns) used so far by the live threads of process ``pid`` (Linux schedstat).

    Threads that ended are not counted; None when ``/proc`` cannot tell.
    """
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    total = 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
    return total


def _worker_read(conn: multiprocessing.connection.Connection, port: int, seconds: float) -> None:
    """One client window: connect, check, warm up, barrier, read until the window ends."""
    client = None
    try:
        try:
            from py61850.client import FunctionalConstraint, IedConnection

            client = IedConnection()
            client.connect("127.0.0.1", port)
            fc = FunctionalConstraint.MX
            read = client.read_float
            got = read(REF, fc)
            if got != EXPECTED:
                raise AssertionError(f"read {got!r}, expected {EXPECTED!r}")
            stop_warm = time.monotonic() + WARMUP_MAX_S
            for _ in range(WARMUP_READS):
                read(REF, fc)
                if time.monotonic() > stop_warm:
                    break
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}".splitlines()[0][:200]))
            return
        conn.send(("ready",))
        msg = conn.recv()
        if msg[0] != "go":
            return
        start_ns, end_ns = msg[1], msg[1] + int(seconds * 1e9)
        clock = time.monotonic_ns
        while clock() < start_ns:
            left = (start_ns - clock()) / 1e9
            if left > 0.002:
                time.sleep(left - 0.001)
        lat: list[int] = []
        append = lat.append
        error = None
        cpu0 = time.process_time_ns()
        now = clock()
        start = now
        try:
            while now < end_ns:
                t0 = now
                read(REF, fc)
                now = clock()
                append(now - t0)
        except Exception as exc:  # a failure in the window is reported, not hidden
            error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        elapsed = (now - start) / 1e9
        cpu_ns = time.process_time_ns() - cpu0
        conn.send(("result", {"reads": len(lat), "elapsed_s": elapsed, "lat_ns": lat, "cpu_ns": cpu_ns, "error": error}))
        conn.recv()  # ("close",): the parent has taken the server's CPU time; keep the association until then
    finally:
        if client is not None:
            try:
                client.close()
            except Exception:
                pass


def _worker_floor(conn: multiprocessing.connection.Connection, floor: FloorClient, seconds: float) -> None:
    try:
        floor.open()
        try:
            assert floor.proc is not None
            echo0, cpu0 = cpu_ns_of(floor.proc.pid), time.process_time_ns()
            r = floor.measure(seconds)
            echo1, cpu1 = cpu_ns_of(floor.proc.pid), time.process_time_ns()
        finally:
            floor.close()
        r["client_cpu_ns"] = cpu1 - cpu0
        r["server_cpu_ns"] = echo1 - echo0 if echo0 is not None and echo1 is not None else None
        conn.send(("result", r))
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}".splitlines()[0][:200]))


def worker_main(conn: multiprocessing.connection.Connection) -> None:
    """A client worker: runs commands from the parent until ``quit``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    floor: FloorClient | None = None
    try:
        while True:
            try:
                msg = conn.recv()
            except EOFError:
                return
            if msg[0] == "quit":
                return
            if msg[0] == "hello":
                try:
                    import py61850

                    conn.send(("hello", f"{py61850.__version__} from {os.path.dirname(py61850.__file__)}"))
                except Exception as exc:
                    conn.send(("error", f"{type(exc).__name__}: {exc}".splitlines()[0][:200]))
            elif msg[0] == "read":
                _worker_read(conn, msg[1], msg[2])
                conn.send(("closed",))
            elif msg[0] == "floor":
                if floor is None:
                    floor = FloorClient()
                _worker_floor(conn, floor, msg[1])
    finally:
        if floor is not None:
            floor.shutdown()


class Workers:
    """``n`` forked client worker processes, driven through pipes."""

    def __init__(self, n: int) -> None:
        # fork: the parent has imported neither py61850 nor anything that starts threads
        ctx = multiprocessing.get_context("fork")
        self.conns: list[multiprocessing.connection.Connection] = []
        self.procs: list[Any] = []
        for _ in range(n):
            parent_end, child_end = ctx.Pipe()
            p = ctx.Process(target=worker_main, args=(child_end,), daemon=True)
            p.start()
            child_end.close()
            self.conns.append(parent_end)
            self.procs.append(p)

    def _recv(self, i: int, timeout: float) -> tuple:
        c = self.conns[i]
        if not c.poll(timeout):
            raise RuntimeError(f"client worker {i} did not answer within {timeout:.0f} s")
        return c.recv()

    def hello(self) -> str:
        self.conns[0].send(("hello",))
        msg = self._recv(0, 60.0)
        if msg[0] != "hello":
            raise RuntimeError(f"py61850 client: {msg[1]}")
        return msg[1]

    def floor(self, seconds: float) -> dict[str, float]:
        self.conns[0].send(("floor", seconds))
        msg = self._recv(0, seconds + 60.0)
        if msg[0] != "result":
            raise RuntimeError(msg[1])
        return msg[1]

    def read(self, n: int, port: int, seconds: float, server_pid: int) -> tuple[list[dict[str, Any]], list[str], list[str], int | None]:
        """One window with ``n`` clients.

        :returns: (results of the clients that ran the window, connect-phase errors,
            errors during the window, CPU ns the server process used from the barrier to
            the last client's result). Clients that could not connect are left out; the
            others still run the window together.
        """
        for c in self.conns[:n]:
            c.send(("read", port, seconds))
        ready: list[int] = []
        connect_errors: list[str] = []
        window_errors: list[str] = []
        for i in range(n):  # the barrier: every client connected and warmed up (or failed)
            msg = self._recv(i, READY_TIMEOUT_S)
            if msg[0] == "ready":
                ready.append(i)
            else:
                connect_errors.append(msg[1])
        cpu0 = cpu_ns_of(server_pid)
        start_ns = time.monotonic_ns() + int(START_LEAD_S * 1e9)
        for i in ready:
            self.conns[i].send(("go", start_ns))
        results: list[dict[str, Any]] = []
        for i in ready:
            msg = self._recv(i, seconds + READY_TIMEOUT_S)
            if msg[0] == "result":
                results.append(msg[1])
                if msg[1]["error"]:
                    window_errors.append(msg[1]["error"])
        cpu1 = cpu_ns_of(server_pid)
        for i in ready:
            self.conns[i].send(("close",))
        for i in range(n):
            msg = self._recv(i, READY_TIMEOUT_S)  # every client closed its association
            if msg[0] != "closed":
                raise RuntimeError(f"client worker {i}: unexpected {msg!r}")
        server_cpu = cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None
        return results, connect_errors, window_errors, server_cpu

    def shutdown(self) -> None:
        for c in self.conns:
            try:
                c.send(("quit",))
            except OSError:
                pass
        for p in self.procs:
            p.join(10.0)
            if p.is_alive():
                p.kill()
                p.join()


# ------------------------------------------------------------------ measurement


@dataclass
class Row:
    """Result of one server (or the floor) with one number of clients.

    ``connected``/``connected_max`` are the smallest/largest number of clients that got an
    association in a repetition; when below ``clients`` the others were refused at connect
    (``connect_error`` says how) and the figures are those of the clients served.
    ``server_cpu_us``/``client_cpu_us``: CPU time per read of the server process and of the
    client processes (all their threads) during the window.
    """

    server: str
    clients: int
    connected: int | None = None
    connected_max: int | None = None
    reads_per_s: float | None = None
    reads_per_s_min: float | None = None
    p50_us: float | None = None
    p99_us: float | None = None
    per_client_min: float | None = None
    per_client_max: float | None = None
    server_cpu_us: float | None = None
    client_cpu_us: float | None = None
    vs_floor: float | None = None
    connect_error: str | None = None
    error: str | None = None
    reps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every client was served in every repetition and there was no error."""
        return self.error is None and self.reads_per_s is not None and self.connected == self.clients


def _rep_summary(results: list[dict[str, Any]], server_cpu_ns: int | None) -> dict[str, Any]:
    lat = sorted(x for r in results for x in r["lat_ns"])
    rates = [r["reads"] / r["elapsed_s"] for r in results if r["elapsed_s"] > 0]
    reads = sum(r["reads"] for r in results)
    return {
        "reads_per_s": sum(rates),
        "connected": len(results),
        "per_client_reads_per_s": rates,
        "reads": reads,
        "server_cpu_us": server_cpu_ns / reads / 1000.0 if server_cpu_ns is not None and reads else None,
        "client_cpu_us": sum(r["cpu_ns"] for r in results) / reads / 1000.0 if reads else None,
        "p50_us": _percentile(lat, 0.5) if lat else None,
        "p99_us": _percentile(lat, 0.99) if lat else None,
    }


def _summarise(row: Row) -> None:
    if not row.reps:
        return
    rates = [r["reads_per_s"] for r in row.reps]
    row.reads_per_s = statistics.median(rates)
    row.reads_per_s_min = min(rates)
    row.connected = min(r["connected"] for r in row.reps)
    row.connected_max = max(r["connected"] for r in row.reps)

    def med(key: str) -> float | None:
        xs = [r[key] for r in row.reps if r.get(key) is not None]
        return statistics.median(xs) if xs else None

    row.p50_us = med("p50_us")
    row.p99_us = med("p99_us")
    row.server_cpu_us = med("server_cpu_us")
    row.client_cpu_us = med("client_cpu_us")
    if row.clients > 1:
        row.per_client_min = statistics.median(min(r["per_client_reads_per_s"]) for r in row.reps)
        row.per_client_max = statistics.median(max(r["per_client_reads_per_s"]) for r in row.reps)


def _names(allowed: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    """An argparse type for a comma-separated subset of ``allowed`` (kept in ``allowed``'s order)."""
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(x.strip() for x in text.split(",") if x.strip())
        bad = [n for n in names if n not in allowed]
        if not names or bad:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
        return tuple(n for n in allowed if n in names)

    return parse


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _measure_row(workers: Workers, row: Row, server: ServerProcess, seconds: float) -> None:
    n = row.clients
    results, connect_errors, window_errors, server_cpu = workers.read(n, server.port, seconds, server.proc.pid)
    if window_errors:
        row.error = f"{len(window_errors)} of {len(results)} clients failed during the window: {window_errors[0]}"[:200]
    elif not results:
        row.error = f"no client could connect: {connect_errors[0]}"[:200]
    else:
        if connect_errors and row.connect_error is None:
            row.connect_error = f"{len(connect_errors)} of {n} refused: {connect_errors[0]}"[:200]
        row.reps.append(_rep_summary(results, server_cpu))


def run(seconds: float, reps: int, counts: tuple[int, ...], log: Any = None) -> dict[str, Any]:
    """Run the whole benchmark; returns the result object (see ``--json``).

    :param seconds: measurement window
    :param reps: repetitions of every measurement
    :param counts: numbers of concurrent clients to measure (each server, every count)
    :param log: where to print progress (None: silent)
    """

    def say(text: str) -> None:
        if log is not None:
            print(text, file=log, flush=True)

    load = os.getloadavg()
    workers = Workers(max(counts))
    servers: dict[str, ServerProcess] = {}
    rows: dict[tuple[str, int], Row] = {("floor", 1): Row("floor", 1)}
    for n in counts:
        for name in SERVERS:
            rows[(name, n)] = Row(name, n)
    descriptions = {"floor": "raw TCP ping-pong of a 36-octet frame with a Python echo process (bench_read.py)"}
    client_desc = "py61850 IedConnection.read_float"
    try:
        try:
            client_desc += f" ({workers.hello()})"
        except Exception as exc:
            for (name, _n), row in rows.items():
                if name != "floor":
                    row.error = str(exc)[:200]
        for name in SERVERS:
            try:
                servers[name] = start_ours() if name == "py61850" else start_peer_server(name)
                descriptions[name] = servers[name].description
            except Exception as exc:
                descriptions[name] = "did not start"
                for n in counts:
                    rows[(name, n)].error = rows[(name, n)].error or f"server: {exc}".splitlines()[0][:200]
        for rep in range(reps):
            say(f"repetition {rep + 1}/{reps}")
            row = rows[("floor", 1)]
            if row.error is None:
                try:
                    r = workers.floor(seconds)
                    reads = r["reads"]
                    row.reps.append(
                        {
                            "reads_per_s": r["reads_per_s"],
                            "connected": 1,
                            "reads": reads,
                            "p50_us": r["p50_us"],
                            "p99_us": r["p99_us"],
                            "server_cpu_us": r["server_cpu_ns"] / reads / 1000.0 if r["server_cpu_ns"] is not None and reads else None,
                            "client_cpu_us": r["client_cpu_ns"] / reads / 1000.0 if reads else None,
                        }
                    )
                except Exception as exc:
                    row.error = str(exc)[:200]
            k = rep % len(SERVERS)
            for name in SERVERS[k:] + SERVERS[:k]:  # rotated: no server is always measured first
                for n in counts:
                    row = rows[(name, n)]
                    server = servers.get(name)
                    if row.error is not None or server is None:
                        continue
                    _measure_row(workers, row, server, seconds)
                    time.sleep(SETTLE)  # let the server drop the associations before the next window
                    if row.reps and row.error is None:
                        last = row.reps[-1]
                        say(f"  {name:<12} {n:>3} clients ({last['connected']} served) {last['reads_per_s']:>10,.0f} reads/s")
                    if not server.alive():
                        msg = f"the {name} server died: {server.stderr_text()[-300:]}"
                        for m in counts:
                            rows[(name, m)].error = rows[(name, m)].error or msg
                        servers.pop(name)
    finally:
        workers.shutdown()
        for server in servers.values():
            server.stop()
    for row in rows.values():
        if row.error is None:
            _summarise(row)
        else:
            row.reps.clear()
    floor = rows[("floor", 1)].reads_per_s
    for row in rows.values():
        if row.clients == 1:
            row.vs_floor = _ratio(row.reads_per_s, floor)
    ratios: dict[str, dict[str, float | None]] = {}
    for n in counts:
        ours = rows[("py61850", n)]
        entry: dict[str, float | None] = {}
        for peer, key in (("libiec61850", "py61850_vs_libiec61850"), ("rust", "py61850_vs_rust")):
            other = rows[(peer, n)]
            # only between complete rows: a server that refused some clients served less work
            entry[key] = _ratio(ours.reads_per_s, other.reads_per_s) if ours.complete and other.complete else None
        entry["py61850_vs_floor"] = _ratio(ours.reads_per_s, floor) if n == 1 and ours.complete else None
        ratios[str(n)] = entry
    goals: list[dict[str, Any]] = []
    if 1 in counts:
        goals.append({"goal": "1 client: py61850 >= 0.9 x floor", "clients": 1, "ratio": ratios["1"]["py61850_vs_floor"], "target": 0.9})
    if GOAL_CLIENTS in counts:
        goals.append(
            {
                "goal": f"{GOAL_CLIENTS} clients: py61850 >= 3 x libiec61850",
                "clients": GOAL_CLIENTS,
                "ratio": ratios[str(GOAL_CLIENTS)]["py61850_vs_libiec61850"],
                "target": 3.0,
            }
        )
    for g in goals:
        g["met"] = None if g["ratio"] is None else g["ratio"] >= g["target"]
        if g["ratio"] is None:
            peer = rows.get(("libiec61850", g["clients"]))
            if peer is not None and peer.connect_error:
                g["why_not_measured"] = f"libiec61850 served only {peer.connected} of {g['clients']} clients, the others were refused at connect"
    cpus = os.cpu_count() or 0
    return {
        "benchmark": "server reads/s, sequential read_float per client",
        "reference": f"{REF} [{FC}]",
        "client": client_desc + ", one client per process",
        "seconds_per_rep": seconds,
        "reps": reps,
        "client_counts": list(counts),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {cpus} CPUs, {platform.system()} {platform.release()}",
        "cpus": cpus,
        "loadavg_at_start": list(load),
        "servers": descriptions,
        "rows": [dict(asdict(r), complete=r.complete) for r in rows.values()],
        "ratios": ratios,
        "goals": goals,
    }


# ------------------------------------------------------------------ report


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def print_table(result: dict[str, Any]) -> None:
    """Print ``result`` (from :func:`run`) as a table with ratios and notes."""
    counts = result["client_counts"]
    top = max(counts)
    print(f"{result['benchmark']}: {result['reference']}")
    print(f"client: {result['client']}")
    print(
        f"{result['reps']} x {result['seconds_per_rep']} s per measurement, median reported; "
        f"Python {result['python']}; {result['machine']}"
    )
    la = ", ".join(f"{x:.2f}" for x in result["loadavg_at_start"])
    print(
        f"machine: {result['cpus']} CPUs for everything - with N clients, N client processes and the server "
        f"process compete for them (load average at start: {la})"
    )
    print()
    head = (
        f"{'server':<12} {'clients':>7} {'served':>8} {'reads/s':>9} {'min':>9} {'p50 us':>8} {'p99 us':>9} "
        f"{'per client min-max':>19} {'srv cpu':>7} {'cli cpu':>7} {'vs floor':>8}"
    )
    print(head)
    print("-" * len(head))
    notes: list[str] = []
    for r in result["rows"]:
        lead = f"{r['server']:<12} {r['clients']:>7}"
        if r["error"]:
            print(f"{lead} ERROR {r['error']}")
            continue
        served = _fmt(r["connected"], "d")
        if r["connected_max"] is not None and r["connected_max"] != r["connected"]:
            served += f"-{r['connected_max']}"
        if r["connect_error"]:
            notes.append(f"{r['server']} with {r['clients']} clients: {r['connect_error']}")
            served += f"[{len(notes)}]"
        spread = "-"
        if r["per_client_min"] is not None:
            spread = f"{r['per_client_min']:,.0f}-{r['per_client_max']:,.0f}"
        print(
            f"{lead} {served:>8} {_fmt(r['reads_per_s'], ',.0f'):>9} {_fmt(r['reads_per_s_min'], ',.0f'):>9} "
            f"{_fmt(r['p50_us'], '.1f'):>8} {_fmt(r['p99_us'], '.1f'):>9} {spread:>19} "
            f"{_fmt(r['server_cpu_us'], '.1f'):>7} {_fmt(r['client_cpu_us'], '.1f'):>7} {_fmt(r['vs_floor'], '.2f'):>8}"
        )
    for i, note in enumerate(notes, 1):
        print(f"  [{i}] {note}")
    print("  srv cpu / cli cpu: CPU microseconds per read of the server process / of the client processes")
    print()
    print(f"{'ratio of median reads/s':<24}" + "".join(f"{f'{n} client' + ('s' if n > 1 else ''):>12}" for n in counts))
    for key, label in (
        ("py61850_vs_libiec61850", "py61850 / libiec61850"),
        ("py61850_vs_rust", "py61850 / rust"),
        ("py61850_vs_floor", "py61850 / floor"),
    ):
        print(f"{label:<24}" + "".join(f"{_fmt(result['ratios'][str(n)][key], '.2f'):>12}" for n in counts))
    print("(ratios only between rows where every client was served)")
    print()
    for g in result["goals"]:
        state = "n/a" if g["met"] is None else ("met" if g["met"] else "NOT met")
        line = f"goal {g['goal']}: {_fmt(g['ratio'], '.2f')} -> {state}"
        if g.get("why_not_measured"):
            line += f" ({g['why_not_measured']})"
        print(line)
    if top != GOAL_CLIENTS or any(g["met"] is None for g in result["goals"]):
        print("  see the other client counts above for what could be compared")
    print()
    for name, desc in result["servers"].items():
        print(f"  {name:<12} {desc}")


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(sorted({int(x) for x in text.split(",") if x.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not counts or counts[0] < 1 or counts[-1] > 64:
        raise argparse.ArgumentTypeError("client counts must be 1..64")
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Server reads/s benchmark: py61850 vs libiec61850 vs Rust (see benchmarks/README.md)")
    ap.add_argument("--seconds", type=float, default=1.0, help="measurement window per repetition (default 1.0)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions of every measurement; the median is reported (default 5)")
    ap.add_argument(
        "--clients",
        type=_counts,
        default=CLIENT_COUNTS,
        help="comma-separated numbers of concurrent clients (default 1,5,10)",
    )
    ap.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    ap.add_argument("--_serve", metavar="SCL", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._serve:
        return serve_main(args._serve)
    check_window(ap, args)
    return emit(run(args.seconds, args.reps, args.clients, log=sys.stderr), args.json, print_table)


if __name__ == "__main__":
    exit_now(main())
