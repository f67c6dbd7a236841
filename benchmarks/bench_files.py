"""File download benchmark: MB/s of 8 MiB and 64 MiB files, py61850 vs pyiec61850-ng.

Run from the repository root::

    python3 -P benchmarks/bench_files.py [--seconds 1.0] [--reps 5] [--sizes 8,64] [--json]

Two servers in child processes on 127.0.0.1, both serving the same temporary file store
(random data, written once):

* ``libiec61850``  tests/peers/libiec_server.py ``--filestore DIR`` (libiec61850 1.6.1)
* ``py61850``      this script in a hidden ``--_serve`` mode:
                   ``IedServer.from_scl(examples/simple_io.icd, filestore=DIR)``

Two clients, each downloading the whole file to a local file in a temporary directory
(FileOpen, FileRead until the end, FileClose):

* ``pyiec61850``  pyiec61850-ng ``MmsConnection_downloadFile(mms, err, remote, local)``
* ``py61850``     ``IedConnection.download_file(remote, local)``

A repetition downloads the file again and again on one association for at least
``--seconds`` (whole downloads only) and reports octets / elapsed time. Every
(client, server, size) cell checks the SHA-256 of its first download. Rows show the median
and the slowest repetition, and the ratio to pyiec61850-ng against the same server; then the
two goals of issue 6. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
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

from bench_read import check_window, emit, exit_now  # noqa: E402
from bench_server import _interpreter_flags, _ready_line  # noqa: E402  (child server helpers)

SCL = os.path.join(REPO, "examples", "simple_io.icd")
MIB = 1 << 20
SETTLE = 0.3  # seconds between one client's close and the next client's connect
START_TIMEOUT_S = 20.0
SERVERS = ("libiec61850", "py61850")
CLIENTS = ("pyiec61850", "py61850")
GOAL_VS_PYIEC = 1.0  # py61850 client >= 1.0 x pyiec61850-ng against libiec61850's server
GOAL_OURS_MBS = 300.0  # py61850 client from py61850's server >= 300 MB/s


# ------------------------------------------------------------------ servers


def serve_main(scl: str, filestore: str) -> int:
    """Child-process mode: py61850's server with a file store on 127.0.0.1, any port.

    Prints ``READY <port>``, then runs until SIGTERM/SIGINT or until the parent is gone.
    """
    from py61850.server import IedServer

    parent = os.getppid()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        server = IedServer.from_scl(scl, filestore=filestore)
        server.start(0, "127.0.0.1")
    except Exception as exc:  # reported by the parent as the row's error
        print(f"ERROR {type(exc).__name__}: {exc}".replace("\n", " "), flush=True)
        return 1
    sys.stdout.write(f"READY {server.port}\n")
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    while not stop.wait(0.2):
        if os.getppid() != parent:
            break
    server.close()
    return 0


@dataclass
class Server:
    name: str
    port: int
    description: str
    stop: Callable[[], None]
    alive: Callable[[], bool]
    stderr: Callable[[], str]


def start_ours(store: str) -> Server:
    err = tempfile.TemporaryFile(prefix="bench-files-py61850-")
    cmd = [sys.executable, *_interpreter_flags(), os.path.abspath(__file__), "--_serve", store]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, cwd=REPO)
    line = _ready_line(proc, START_TIMEOUT_S)
    assert proc.stdout is not None
    proc.stdout.close()

    def stderr_text() -> str:
        err.seek(0)
        return err.read().decode("utf-8", "replace")

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        err.close()

    if not line.startswith("READY "):
        text = stderr_text()
        stop()
        raise RuntimeError((line[6:] if line.startswith("ERROR ") else f"no READY line ({line!r})")
                           + (f"; stderr: {text.strip()[-300:]}" if text.strip() else ""))
    import py61850

    return Server("py61850", int(line.split()[1]),
                  f"py61850 {getattr(py61850, '__version__', '?')} IedServer.from_scl(..., filestore=DIR)",
                  stop, lambda: proc.poll() is None, stderr_text)


def start_libiec(store: str) -> Server:
    from peers.process import start_peer

    peer = start_peer("libiec", SCL, filestore=store)
    return Server("libiec61850", peer.port,
                  "libiec61850 1.6.1 (pyiec61850-ng), tests/peers/libiec_server.py --filestore DIR",
                  peer.stop, peer.alive, peer.stderr_text)


# ------------------------------------------------------------------ clients


class Client:
    """``open(port)``, ``download(remote, local)`` any number of times, ``close()``."""

    name = ""
    description = ""

    def open(self, port: int) -> None:
        raise NotImplementedError

    def download(self, remote: str, local: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class PyiecClient(Client):
    name = "pyiec61850"
    description = "pyiec61850-ng MmsConnection_downloadFile(mms, err, remote, local)"

    def __init__(self) -> None:
        self.con = None

    def open(self, port: int) -> None:
        import pyiec61850.pyiec61850 as L  # noqa: N812

        from peers.clients import pyiec_connect

        self.L = L
        self.con = pyiec_connect("127.0.0.1", port)
        self.mms = L.IedConnection_getMmsConnection(self.con)
        self.err = L.MmsError_create()

    def download(self, remote: str, local: str) -> None:
        if not self.L.MmsConnection_downloadFile(self.mms, self.err, remote, local):
            raise IOError(f"MmsConnection_downloadFile({remote!r}) failed")

    def close(self) -> None:
        if self.con is not None:
            from peers.clients import pyiec_close

            con, self.con = self.con, None
            pyiec_close(con)


class Py61850Client(Client):
    name = "py61850"
    description = "py61850 IedConnection.download_file(remote, local)"

    def __init__(self) -> None:
        self.conn = None

    def open(self, port: int) -> None:
        import py61850
        from py61850.client import IedConnection

        where = f" ({getattr(py61850, '__version__', '?')} from {os.path.dirname(py61850.__file__)})"
        if where not in self.description:
            self.description += where
        self.conn = IedConnection()
        self.conn.connect("127.0.0.1", port)

    def download(self, remote: str, local: str) -> None:
        self.conn.download_file(remote, local)

    def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            conn.close()


# ------------------------------------------------------------------ measurement


@dataclass
class Row:
    client: str
    server: str
    size_mib: int
    mb_per_s: float | None = None
    mb_per_s_min: float | None = None
    downloads: int = 0
    vs_pyiec: float | None = None
    error: str | None = None
    reps: list[dict[str, float]] = field(default_factory=list)


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


def make_store(root: str, sizes: list[int]) -> dict[str, str]:
    """Random files ``data<N>.bin`` of N MiB; returns name -> SHA-256."""
    digests = {}
    for n in sizes:
        name = f"data{n}.bin"
        h = hashlib.sha256()
        with open(os.path.join(root, name), "wb") as f:
            for _ in range(n):
                block = os.urandom(MIB)
                h.update(block)
                f.write(block)
        digests[name] = h.hexdigest()
    return digests


def measure(client: Client, remote: str, local: str, size: int, seconds: float, digest: str | None) -> dict[str, float]:
    """Whole downloads for at least ``seconds``; checks the first one against ``digest``."""
    t0 = time.perf_counter()
    client.download(remote, local)
    n = 1
    if digest is not None:
        if os.path.getsize(local) != size or _sha256(local) != digest:
            raise AssertionError(f"{remote}: downloaded content differs from the server's file")
        t0 = time.perf_counter()  # the check is not part of the window
        n = 0
    while True:
        elapsed = time.perf_counter() - t0
        if n and elapsed >= seconds:
            break
        client.download(remote, local)
        n += 1
    elapsed = time.perf_counter() - t0
    return {"downloads": n, "seconds": elapsed, "mb_per_s": n * size / elapsed / 1e6}


def run(seconds: float, reps: int, sizes: list[int], log: Any = None) -> dict[str, Any]:
    def say(text: str) -> None:
        if log is not None:
            print(text, file=log, flush=True)

    work = tempfile.mkdtemp(prefix="bench-files-")
    store = os.path.join(work, "store")
    local_dir = os.path.join(work, "local")
    os.makedirs(store)
    os.makedirs(local_dir)
    servers: dict[str, Server] = {}
    server_errors: dict[str, str] = {}
    clients: dict[str, Client] = {"pyiec61850": PyiecClient(), "py61850": Py61850Client()}
    rows: dict[tuple[str, str, int], Row] = {}
    for size in sizes:
        for srv in SERVERS:
            for cli in CLIENTS:
                rows[(cli, srv, size)] = Row(cli, srv, size)
    try:
        say(f"writing {', '.join(f'{n} MiB' for n in sizes)} of random data to {store}")
        digests = make_store(store, sizes)
        for name, start in (("libiec61850", start_libiec), ("py61850", start_ours)):
            try:
                servers[name] = start(store)
            except Exception as exc:  # the rows show it; the other server is still measured
                server_errors[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                for row in rows.values():
                    if row.server == name:
                        row.error = f"server did not start: {server_errors[name]}"
        checked: set[tuple[str, str, int]] = set()
        for rep in range(reps):
            for size in sizes:
                remote = f"data{size}.bin"
                for srv_name in SERVERS:
                    server = servers.get(srv_name)
                    if server is None:
                        continue
                    for cli_name in CLIENTS:
                        row = rows[(cli_name, srv_name, size)]
                        if row.error is not None:
                            continue
                        client = clients[cli_name]
                        local = os.path.join(local_dir, f"{cli_name}-{srv_name}-{remote}")
                        key = (cli_name, srv_name, size)
                        try:
                            client.open(server.port)
                            r = measure(client, remote, local, size * MIB, seconds,
                                        None if key in checked else digests[remote])
                            checked.add(key)
                            row.reps.append(r)
                            say(f"rep {rep + 1}/{reps} {size:>3} MiB {cli_name:<10} <- {srv_name:<11} "
                                f"{r['mb_per_s']:8.1f} MB/s ({r['downloads']} downloads)")
                        except Exception as exc:  # report, never fake numbers
                            row.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                            row.reps.clear()
                            say(f"{cli_name} <- {srv_name} {size} MiB: {row.error}")
                        finally:
                            try:
                                client.close()
                            except Exception as exc:
                                row.error = row.error or f"close: {type(exc).__name__}: {exc}"[:300]
                            time.sleep(SETTLE)
                        if not server.alive():
                            raise RuntimeError(f"the {srv_name} server died:\n{server.stderr()[-2000:]}")
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    for row in rows.values():
        if row.reps and row.error is None:
            rates = [r["mb_per_s"] for r in row.reps]
            row.mb_per_s = statistics.median(rates)
            row.mb_per_s_min = min(rates)
            row.downloads = int(sum(r["downloads"] for r in row.reps))
    for (cli, srv, size), row in rows.items():
        ref = rows[("pyiec61850", srv, size)].mb_per_s
        if row.mb_per_s is not None and ref:
            row.vs_pyiec = row.mb_per_s / ref
    goals = []
    for size in sizes:
        r = rows[("py61850", "libiec61850", size)]
        ratio = r.vs_pyiec
        goals.append({
            "goal": f"{size} MiB from libiec61850: py61850 >= {GOAL_VS_PYIEC:.1f} x pyiec61850",
            "measured": None if ratio is None else round(ratio, 2),
            "met": None if ratio is None else ratio >= GOAL_VS_PYIEC,
            "error": r.error or rows[("pyiec61850", "libiec61850", size)].error,
        })
    for size in sizes:
        r = rows[("py61850", "py61850", size)]
        goals.append({
            "goal": f"{size} MiB from py61850's server: py61850 >= {GOAL_OURS_MBS:.0f} MB/s",
            "measured": None if r.mb_per_s is None else round(r.mb_per_s, 1),
            "met": None if r.mb_per_s is None else r.mb_per_s >= GOAL_OURS_MBS,
            "error": r.error,
        })
    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover
        load = (0.0, 0.0, 0.0)
    return {
        "benchmark": "file download MB/s (FileOpen, FileRead until the end, FileClose) to a local file",
        "seconds_per_rep": seconds,
        "reps": reps,
        "sizes_mib": sizes,
        "servers": {name: s.description for name, s in servers.items()} | {
            name: f"ERROR {err}" for name, err in server_errors.items()},
        "clients": {name: c.description for name, c in clients.items()},
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "loadavg_at_start": [round(x, 2) for x in load],
        "rows": [asdict(r) for r in rows.values()],
        "goals": goals,
    }


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def print_table(result: dict[str, Any]) -> None:
    print(result["benchmark"])
    print(f"{result['reps']} x >= {result['seconds_per_rep']} s per cell, median reported; Python {result['python']}; "
          f"{result['machine']}; load average at start {', '.join(map(str, result['loadavg_at_start']))}")
    print()
    head = f"{'size':>6} {'client':<11} {'server':<12} {'MB/s':>8} {'min':>8} {'downloads':>9} {'vs pyiec':>9}"
    print(head)
    print("-" * len(head))
    for r in result["rows"]:
        lead = f"{r['size_mib']:>4} M {r['client']:<11} {r['server']:<12}"
        if r["error"]:
            print(f"{lead} ERROR {r['error']}")
            continue
        print(f"{lead} {_fmt(r['mb_per_s'], ',.1f'):>8} {_fmt(r['mb_per_s_min'], ',.1f'):>8} "
              f"{r['downloads']:>9} {_fmt(r['vs_pyiec'], '.2f'):>9}")
    print()
    for g in result["goals"]:
        if g["met"] is None:
            state = f"n/a ({g['error']})" if g["error"] else "n/a"
        else:
            state = "met" if g["met"] else "NOT met"
        print(f"goal {g['goal']}: {_fmt(g['measured'], '')} -> {state}")
    print()
    for name, desc in result["servers"].items():
        print(f"  server {name:<12} {desc}")
    for name, desc in result["clients"].items():
        print(f"  client {name:<12} {desc}")


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated MiB counts") from None
    if not sizes or any(n <= 0 or n > 1024 for n in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: sizes are 1..1024 MiB")
    return sizes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="File download benchmark (see benchmarks/README.md)")
    ap.add_argument("--seconds", type=float, default=1.0,
                    help="minimum window per repetition: whole downloads for at least this long (default 1.0)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions per cell; the median is reported (default 5)")
    ap.add_argument("--sizes", type=_sizes, default=[8, 64], help="file sizes in MiB (default 8,64)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    ap.add_argument("--_serve", nargs=1, metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._serve:
        return serve_main(SCL, args._serve[0])
    check_window(ap, args)
    return emit(run(args.seconds, args.reps, args.sizes, log=sys.stderr), args.json, print_table)


if __name__ == "__main__":
    exit_now(main())
