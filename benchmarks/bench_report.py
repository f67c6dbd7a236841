"""Report benchmark: reports/s into a Python callback, py61850 against the other stacks, same run.

Run from the repository root::

    python3 -P benchmarks/bench_report.py [--seconds 2] [--reps 3] [--json]

Two servers serve ``examples/simple_io.icd`` on 127.0.0.1, each in a child process with a
stdin command channel (``tests/peers/process.py``: ``blast <ref> <fc> <seconds>`` changes a
value as fast as the server process can and answers the number of updates):

* ``libiec61850``  ``tests/peers/libiec_server.py`` (libiec61850 1.6.1 through pyiec61850-ng)
* ``py61850``      ours: ``py61850.server.IedServer.from_scl`` (this script in ``--_serve``
                   mode), ``IedServer.update_value`` in the blast loop

Three clients subscribe to the URCB ``TESTGenericIO/LLN0.RP.urcbEvents01`` (data set
``LLN0$Events``: ``GGIO1.Ind1..4.stVal``; RptID, DatSet and OptFlds as in the SCL) with
TrgOps = data-change only and BufTm = 0, each in a fresh child process per window:

* ``pyiec61850``  pyiec61850-ng ``RCBHandler`` + ``RCBSubscriber`` (libiec61850's C client)
* ``iec61850``    the Rust-based ``iec61850`` client, ``install_report_handler(rpt_id=...)``,
                  reports dispatched by ``await poll_reports(...)``
* ``py61850``     ours: ``IedConnection.create_rcb_and_subscribe(ref, callback,
                  trg_ops=DATA_CHANGED, buf_tm=0)``

Every callback does the same: take the report's SqNum, count a gap when it is not the
previous one + 1 (mod 256: a URCB's SqNum is INT8U), count the report. The parent then
blasts ``GGIO1.Ind1.stVal`` [ST] (toggled at every update) for ``--seconds``. Reported per
server x client: reports/s delivered into the callback during the blast (median and min over
``--reps``), server updates/s, the share of updates that did not reach the client as a report
("unsent": libiec61850 folds them into a pending report; ours drops reports from a client's
full queue, visibly: the SqNum goes on), reports that arrived after the blast ended (backlog),
SqNum gaps, for our server the reports it sent but the client did not receive, and client
CPU per report. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.connection
import os
import platform
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

from bench_read import check_window, emit, exit_now  # noqa: E402  (the shared CLI tail)
from bench_server import _fmt, _interpreter_flags, _names, _ratio, _version, cpu_ns_of  # noqa: E402
from peers.process import PeerCommandError, PeerCommands, PeerServer, _wait_ready, start_peer  # noqa: E402

SCL = os.path.join(REPO, "examples", "simple_io.icd")
RCB = "TESTGenericIO/LLN0.RP.urcbEvents01"
BLAST_REF = "TESTGenericIO/GGIO1.Ind1.stVal"
BLAST_FC = "ST"
SEQ_MOD = 256  # URCB SqNum is INT8U
TRG_DCHG = 1  # TrgOps data-change (IEC bit 1 -> 1 << 0, the mask all three clients use)
GOAL_FROM_OURS = 100_000.0  # reports/s from py61850's server into a Python callback, no loss
GOAL_VS_PEER = 1.0  # py61850 client / best peer client against libiec61850's server
SERVERS = ("libiec61850", "py61850")
CLIENTS = ("pyiec61850", "iec61850", "py61850")
PEER_CLIENTS = ("pyiec61850", "iec61850")
SETTLE = 0.3  # seconds between one window's client exiting and the next one connecting
DRAIN_IDLE = 0.5  # after the blast: the window's reports are all in when none came for this long ...
DRAIN_MAX = 30.0  # ... or after this long (a client with a backlog)
SETUP_TIMEOUT = 30.0  # connect + configure + enable in the client process
START_TIMEOUT = 15.0  # our server must print READY within this


# ------------------------------------------------------------------ our server process


class _OurCommands(PeerCommands):
    """The peer command channel on py61850's server, plus ``stats`` -> ``OK <reports sent>``."""

    def __init__(self, scl: str, server: Any) -> None:
        from peers.sclmodel import SclModel

        super().__init__(SclModel(scl), lambda leaf, value: server.update_value(leaf.ref, value, leaf.fc))
        self.server = server

    def handle(self, line: str) -> str:
        if line.strip() == "stats":
            return f"OK {self.server.reports_sent}"
        return super().handle(line)


def serve_main(scl: str) -> int:
    """Child-process mode: serve ``scl`` with py61850 on 127.0.0.1 with the peer command channel.

    Prints ``READY <port>``, then answers commands on stdin (``set``, ``blast``, ``ping``,
    ``stats``) until SIGTERM/SIGINT or until the parent is gone.
    """
    from py61850.server import IedServer

    ended = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: ended.set())
    signal.signal(signal.SIGINT, lambda *_: ended.set())
    parent = os.getppid()
    server = IedServer.from_scl(scl).start(0, "127.0.0.1")  # an error: traceback on stderr, exit 1
    commands = _OurCommands(scl, server)
    sys.stdout.write(f"READY {server.port}\n")
    commands.start()  # keeps stdout as the answer channel, fd 1 -> /dev/null
    while os.getppid() == parent and not ended.wait(0.25):
        pass
    server.close()
    return 0


def start_ours() -> PeerServer:
    """Start py61850's server (``--_serve`` mode) and wait for READY; a :class:`PeerServer`
    (``blast``, ``command``, ``stop`` work as for the peers)."""
    from peers.sclmodel import SclModel

    err = tempfile.TemporaryFile(prefix="bench-report-py61850-")
    cmd = [sys.executable, *_interpreter_flags(), os.path.abspath(__file__), "--_serve", SCL]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, cwd=REPO)
    line, rest = _wait_ready(proc, START_TIMEOUT)
    server = PeerServer("py61850", "127.0.0.1", 0, SclModel(SCL), proc, err, rest)
    if not line or not line.startswith("READY "):
        text = server.stderr_text().strip()
        server.stop(signal.SIGKILL, 1.0)
        last = text.splitlines()[-1] if text else f"first line {line!r}"
        raise RuntimeError(f"py61850 server did not start: {last}\n{text}")
    server.port = int(line.split()[1])
    return server


def reports_sent(server: PeerServer) -> int | None:
    """Reports the server sent so far (our server only; None for the peers)."""
    if server.name != "py61850":
        return None
    try:
        return int(server.command("stats"))
    except (PeerCommandError, ValueError):
        return None


# ------------------------------------------------------------------ client processes


class Tally:
    """What every report callback does: check the SqNum against the previous one, count."""

    __slots__ = ("n", "last", "gaps", "no_seq", "first_gaps")

    def __init__(self) -> None:
        self.n = 0
        self.last: int | None = None
        self.gaps = 0
        self.no_seq = 0
        self.first_gaps: list[tuple[int, int]] = []

    def add(self, seq: int | None) -> None:
        if seq is None:
            self.no_seq += 1
        else:
            last = self.last
            if last is not None and (last + 1) % SEQ_MOD != seq:
                self.gaps += 1
                if len(self.first_gaps) < 5:
                    self.first_gaps.append((last, seq))
            self.last = seq
        self.n += 1


class Subscriber:
    """One client with the RCB enabled, its reports counted by :attr:`tally`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.tally = Tally()
        self.description = ""

    def pump(self, seconds: float, ctl: multiprocessing.connection.Connection | None) -> None:
        """Let reports arrive for ``seconds`` or until ``ctl`` has a message (callbacks run on
        the client's own thread: just wait)."""
        if ctl is not None:
            ctl.poll(seconds)
        else:
            time.sleep(seconds)

    def extra(self) -> dict[str, Any]:
        """Client-specific counters for the result."""
        return {}

    def close(self) -> None:
        """Stop reporting and close (after the drain: no report is in flight)."""


class PyiecSubscriber(Subscriber):
    """pyiec61850-ng: ``RCBHandler`` + ``RCBSubscriber``; configured with ``setRCBValues``."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        from peers.clients import _PyiecChild

        self.child = child = _PyiecChild("127.0.0.1", port)
        L = child.L  # noqa: N806
        self.description = f"pyiec61850-ng {_version('pyiec61850-ng')} RCBHandler + RCBSubscriber"
        rcb = child.cmd_read(RCB)
        if rcb["err"] != 0:
            raise IOError(f"getRCBValues({RCB}): IedClientError {rcb['err']}")
        add = self.tally.add
        get_seq = L.ClientReport_getSeqNum

        class Handler(L.RCBHandler):  # type: ignore[misc, name-defined]
            def trigger(self) -> None:
                add(get_seq(self._client_report))

        self.handler = Handler()
        self.sub = sub = L.RCBSubscriber()
        sub.setIedConnection(child.con)
        sub.setRcbReference(RCB)
        sub.setRcbRptId(rcb["rcb"]["rpt_id"])
        sub.setEventHandler(self.handler)
        sub.subscribe()
        err = child.cmd_set(RCB, {"resv": True, "trg_ops": TRG_DCHG, "buf_tm": 0, "rpt_ena": True})["err"]
        if err != 0:
            raise IOError(f"setRCBValues({RCB}): IedClientError {err}")

    def close(self) -> None:
        # uninstall first (the binding keeps the GIL in blocking calls; see PEERS.md), then
        # disable; the subscriber objects stay alive until os._exit (destroying them segfaults)
        L = self.child.L  # noqa: N806
        L.IedConnection_uninstallReportHandler(self.child.con, RCB)
        self.child.cmd_set(RCB, {"rpt_ena": False})
        L.IedConnection_close(self.child.con)


class RustSubscriber(Subscriber):
    """iec61850 (Rust): ``install_report_handler(ref, cb, rpt_id=...)``, ``poll_reports``."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        import asyncio

        from peers.clients import RustReportClient

        self.description = f"iec61850 {_version('iec61850')} (Rust) install_report_handler + poll_reports"
        self.loop = asyncio.new_event_loop()
        self.client = self.loop.run_until_complete(RustReportClient.connect(f"127.0.0.1:{port}"))
        conn = self.client.conn
        add = self.tally.add

        async def setup() -> None:
            rpt_id = (await self.client.read_rcb(RCB))["rpt_id"]
            await conn.install_report_handler(RCB, lambda rep: add(rep.sequence_number), rpt_id=rpt_id)
            await self.client.set_rcb(RCB, resv=True, trg_ops=TRG_DCHG, buf_tm=0, rpt_ena=True)

        self.loop.run_until_complete(setup())

    def pump(self, seconds: float, ctl: multiprocessing.connection.Connection | None) -> None:
        conn = self.client.conn
        deadline = time.monotonic() + seconds

        async def run() -> None:
            while time.monotonic() < deadline and not (ctl is not None and ctl.poll()):
                await conn.poll_reports(10)

        self.loop.run_until_complete(run())

    def close(self) -> None:
        async def down() -> None:
            await self.client.unsubscribe(RCB)
            await self.client.set_rcb(RCB, rpt_ena=False)
            await self.client.close()

        self.loop.run_until_complete(down())


class Py61850Subscriber(Subscriber):
    """py61850: ``IedConnection.create_rcb_and_subscribe``."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        import py61850
        from py61850.client import IedConnection, ReportTriggerOptions

        self.description = (
            f"py61850 {getattr(py61850, '__version__', '?')} from {os.path.dirname(py61850.__file__)}: "
            "IedConnection.create_rcb_and_subscribe"
        )
        self.conn = conn = IedConnection()
        conn.connect("127.0.0.1", port)
        add = self.tally.add
        self.rcb = conn.create_rcb_and_subscribe(
            RCB, lambda rep: add(rep.seq_num), trg_ops=ReportTriggerOptions.DATA_CHANGED, buf_tm=0
        )

    def extra(self) -> dict[str, Any]:
        return {"reports_dropped": self.conn.reports_dropped, "reports_malformed": self.conn.reports_malformed}

    def close(self) -> None:
        self.rcb.disable()
        self.conn.close()


SUBSCRIBERS: dict[str, Callable[[int], Subscriber]] = {
    "pyiec61850": PyiecSubscriber,
    "iec61850": RustSubscriber,
    "py61850": Py61850Subscriber,
}


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]


def client_main(kind: str, port: int, ctl: multiprocessing.connection.Connection) -> None:
    """A client process for one window: subscribe, ``ready``; at ``go`` count, at ``stop``
    count again, drain, send the ``result``; ends with ``os._exit`` (pyiec61850-ng's
    subscribers segfault when destroyed, the Rust runtime races interpreter finalisation)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the SWIG binding prints to stdout: keep the parent's table clean
    os.close(devnull)
    try:
        try:
            sub = SUBSCRIBERS[kind](port)
        except Exception as exc:
            ctl.send(("error", _short(exc)))
            return
        ctl.send(("ready", sub.description))
        tally = sub.tally
        clock = time.monotonic_ns
        while not ctl.poll():
            sub.pump(1.0, ctl)
        if ctl.recv()[0] != "go":
            return
        n0, cpu0, t0 = tally.n, time.process_time_ns(), clock()
        ctl.send(("went",))
        while not ctl.poll():
            sub.pump(1.0, ctl)
        ctl.recv()  # ("stop",)
        t1, n1, cpu1 = clock(), tally.n, time.process_time_ns()
        last_n, last_change = n1, t1
        while True:  # drain: until DRAIN_IDLE without a report (or DRAIN_MAX)
            sub.pump(0.05, None)
            now = clock()
            if tally.n != last_n:
                last_n, last_change = tally.n, now
            if now - last_change >= DRAIN_IDLE * 1e9 or now - t1 >= DRAIN_MAX * 1e9:
                break
        result = {
            "window_s": (t1 - t0) / 1e9,
            "reports_window": n1 - n0,
            "reports_total": tally.n - n0,
            "reports_before": n0,
            "drain_s": (last_change - t1) / 1e9 if tally.n != n1 else 0.0,
            "gaps": tally.gaps,
            "first_gaps": tally.first_gaps,
            "no_seq": tally.no_seq,
            "client_cpu_ns": cpu1 - cpu0,
        }
        try:
            result.update(sub.extra())
        except Exception as exc:
            result["extra_error"] = _short(exc)
        ctl.send(("result", result))
        try:
            sub.close()
        except Exception:
            pass  # the server drops the association when the process ends anyway
    except (EOFError, BrokenPipeError):
        pass
    finally:
        sys.stderr.flush()
        os._exit(0)


class ClientProcessError(RuntimeError):
    """A client process failed or did not answer (the message says what it reported)."""


class Window:
    """The parent's end of one client process."""

    def __init__(self, kind: str, port: int) -> None:
        # fork: the parent has imported none of the clients (nor anything that starts threads)
        ctx = multiprocessing.get_context("fork")
        self.ctl, child_end = ctx.Pipe()
        self.proc = ctx.Process(target=client_main, args=(kind, port, child_end), daemon=True)
        self.proc.start()
        child_end.close()

    def recv(self, expect: str, timeout: float) -> Any:
        if not self.ctl.poll(timeout):
            raise ClientProcessError(f"client process: no {expect!r} within {timeout:.0f} s")
        try:
            msg = self.ctl.recv()
        except EOFError:
            raise ClientProcessError(f"client process ended (exit status {self.proc.exitcode}) before {expect!r}") from None
        if msg[0] == "error":
            raise ClientProcessError(msg[1])
        if msg[0] != expect:
            raise ClientProcessError(f"client process answered {msg!r}, expected {expect!r}")
        return msg[1] if len(msg) > 1 else None

    def close(self) -> None:
        self.proc.join(10.0)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.ctl.close()


def measure_window(kind: str, server: PeerServer, seconds: float) -> tuple[str, dict[str, Any]]:
    """One window of client ``kind`` against ``server``: (client description, figures)."""
    server.set_value(BLAST_REF, BLAST_FC, False)  # no RCB enabled yet; the blast's first update (True) changes it
    w = Window(kind, server.port)
    try:
        desc = w.recv("ready", SETUP_TIMEOUT)
        sent0 = reports_sent(server)
        w.ctl.send(("go",))
        w.recv("went", 10.0)
        cpu0, t0 = cpu_ns_of(server.pid), time.monotonic()
        updates = server.blast(BLAST_REF, BLAST_FC, seconds)
        blast_s, cpu1 = time.monotonic() - t0, cpu_ns_of(server.pid)
        w.ctl.send(("stop",))
        r = w.recv("result", DRAIN_MAX + 30.0)
        sent1 = reports_sent(server)
    finally:
        w.close()
    r["updates"] = updates
    r["updates_per_s"] = updates / blast_s
    r["server_cores"] = (cpu1 - cpu0) / 1e9 / blast_s if cpu0 is not None and cpu1 is not None else None
    r["client_cores"] = r["client_cpu_ns"] / 1e9 / r["window_s"]
    r["reports_per_s"] = r["reports_window"] / r["window_s"]
    r["unsent"] = 1.0 - r["reports_total"] / updates if updates else None
    r["server_sent"] = sent1 - sent0 if sent0 is not None and sent1 is not None else None
    r["lost"] = r["server_sent"] - r["reports_total"] if r["server_sent"] is not None else None
    # our server builds one report per update here (BufTm 0, the value toggles), so what it did
    # not send it dropped from the client's full queue (I61_RCB_URCB_QUEUE_MAX), SqNum consumed
    r["server_dropped"] = updates - r["server_sent"] if r["server_sent"] is not None else None
    r["client_cpu_us"] = r["client_cpu_ns"] / r["reports_window"] / 1000.0 if r["reports_window"] else None
    if r["reports_total"] == 0:
        raise RuntimeError(f"no report arrived ({updates} updates during the blast)")
    return desc, r


# ------------------------------------------------------------------ the run


@dataclass
class Row:
    """Result of one server x client pair (medians over the repetitions; ``gaps`` and ``lost``
    are sums over them; ``lost`` is known for our server only)."""

    server: str
    client: str
    reports_per_s: float | None = None
    reports_per_s_min: float | None = None
    updates_per_s: float | None = None
    unsent: float | None = None
    server_dropped: int | None = None
    backlog: float | None = None
    drain_s: float | None = None
    gaps: int | None = None
    lost: int | None = None
    dropped: int | None = None
    client_cpu_us: float | None = None
    server_cores: float | None = None
    client_cores: float | None = None
    error: str | None = None
    reps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """No gap, and (where known) nothing lost or dropped by the server or the client."""
        return self.error is None and self.gaps == 0 and not self.lost and not self.dropped and not self.server_dropped


def _summarise(row: Row) -> None:
    reps = row.reps
    rates = [r["reports_per_s"] for r in reps]
    row.reports_per_s = statistics.median(rates)
    row.reports_per_s_min = min(rates)
    row.updates_per_s = statistics.median(r["updates_per_s"] for r in reps)
    row.unsent = statistics.median(r["unsent"] for r in reps)
    srv = [r["server_dropped"] for r in reps if r["server_dropped"] is not None]
    row.server_dropped = sum(srv) if srv else None
    row.backlog = statistics.median(r["reports_total"] - r["reports_window"] for r in reps)
    row.drain_s = statistics.median(r["drain_s"] for r in reps)
    row.gaps = sum(r["gaps"] + r["no_seq"] for r in reps)
    lost = [r["lost"] for r in reps if r["lost"] is not None]
    row.lost = sum(lost) if lost else None
    dropped = [r["reports_dropped"] for r in reps if "reports_dropped" in r]
    row.dropped = sum(dropped) if dropped else None
    cpu = [r["client_cpu_us"] for r in reps if r["client_cpu_us"] is not None]
    row.client_cpu_us = statistics.median(cpu) if cpu else None
    cores = [r["server_cores"] for r in reps if r["server_cores"] is not None]
    row.server_cores = statistics.median(cores) if cores else None
    row.client_cores = statistics.median(r["client_cores"] for r in reps)


def run(seconds: float, reps: int, servers: tuple[str, ...], clients: tuple[str, ...], log: Any = None) -> dict[str, Any]:
    """Run the benchmark; returns the result object (see ``--json``)."""

    def say(text: str) -> None:
        if log is not None:
            print(text, file=log, flush=True)

    load = os.getloadavg()
    rows = {(s, c): Row(s, c) for s in servers for c in clients}
    server_desc: dict[str, str] = {}
    client_desc: dict[str, str] = {}
    running: dict[str, PeerServer] = {}
    try:
        for name in servers:
            try:
                running[name] = start_ours() if name == "py61850" else start_peer("libiec", SCL)
                server_desc[name] = (
                    "py61850 IedServer.from_scl, update_value in the blast loop (this script, --_serve)"
                    if name == "py61850"
                    else f"libiec61850 1.6.1 (pyiec61850-ng {_version('pyiec61850-ng')}), tests/peers/libiec_server.py"
                )
            except Exception as exc:
                server_desc[name] = "did not start"
                for c in clients:
                    rows[(name, c)].error = f"server: {_short(exc)}"
        for rep in range(reps):
            say(f"repetition {rep + 1}/{reps}")
            ks, kc = rep % len(servers), rep % len(clients)
            for sname in servers[ks:] + servers[:ks]:  # rotated: nobody is always measured first
                for cname in clients[kc:] + clients[:kc]:
                    row = rows[(sname, cname)]
                    server = running.get(sname)
                    if row.error is not None or server is None:
                        continue
                    try:
                        desc, r = measure_window(cname, server, seconds)
                        client_desc.setdefault(cname, desc)
                        row.reps.append(r)
                        say(
                            f"  {sname:<12} {cname:<11} {r['reports_per_s']:>9,.0f} reports/s "
                            f"({r['updates']:,} updates, {r['gaps']} gaps, backlog {r['reports_total'] - r['reports_window']})"
                        )
                    except Exception as exc:  # shown in the table, never faked
                        row.error = str(exc)[:200] if isinstance(exc, ClientProcessError) else _short(exc)
                        row.reps.clear()
                        say(f"  {sname:<12} {cname:<11} ERROR {row.error}")
                    time.sleep(SETTLE)
                    if not server.alive():
                        msg = f"the {sname} server died: {server.stderr_text()[-300:]}"
                        for c in clients:
                            rows[(sname, c)].error = rows[(sname, c)].error or msg
                        running.pop(sname)
    finally:
        for server in running.values():
            server.stop()
    for row in rows.values():
        if row.error is None and row.reps:
            _summarise(row)

    def rate(s: str, c: str) -> float | None:
        row = rows.get((s, c))
        return row.reports_per_s if row is not None and row.error is None else None

    peers = {c: rate("libiec61850", c) for c in PEER_CLIENTS if rate("libiec61850", c) is not None}
    best_peer = max(peers, key=lambda c: peers[c]) if peers else None
    ours_libiec = rate("libiec61850", "py61850")
    ours_ours = rows.get(("py61850", "py61850"))
    ratios = {
        "py61850_vs_pyiec61850_on_libiec61850": _ratio(ours_libiec, peers.get("pyiec61850")),
        "py61850_vs_iec61850_on_libiec61850": _ratio(ours_libiec, peers.get("iec61850")),
        "py61850_vs_best_peer_on_libiec61850": _ratio(ours_libiec, peers.get(best_peer)) if best_peer else None,
        "py61850_server_vs_libiec61850_server_py61850_client": _ratio(rate("py61850", "py61850"), ours_libiec),
    }
    goals = [
        {
            "goal": f"against libiec61850's server: py61850 >= {GOAL_VS_PEER} x the best peer client",
            "best_peer": best_peer,
            "value": ratios["py61850_vs_best_peer_on_libiec61850"],
            "target": GOAL_VS_PEER,
            "clean": rows[("libiec61850", "py61850")].clean if ("libiec61850", "py61850") in rows else None,
        },
        {
            "goal": f"from py61850's server: py61850 >= {GOAL_FROM_OURS:,.0f} reports/s, no gap, no loss",
            "value": ours_ours.reports_per_s if ours_ours is not None and ours_ours.error is None else None,
            "target": GOAL_FROM_OURS,
            "clean": ours_ours.clean if ours_ours is not None else None,
        },
    ]
    for g in goals:
        g["met"] = None if g["value"] is None else bool(g["value"] >= g["target"] and g["clean"])
    cpus = os.cpu_count() or 0
    return {
        "benchmark": "reports/s into a Python callback (URCB, TrgOps dchg, BufTm 0)",
        "rcb": RCB,
        "blasted": f"{BLAST_REF} [{BLAST_FC}] (toggled at every update)",
        "seconds_per_rep": seconds,
        "reps": reps,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {cpus} CPUs, {platform.system()} {platform.release()}",
        "cpus": cpus,
        "loadavg_at_start": list(load),
        "servers": server_desc,
        "clients": client_desc,
        "rows": [dict(asdict(r), clean=r.clean) for r in rows.values()],
        "ratios": ratios,
        "goals": goals,
    }


# ------------------------------------------------------------------ report


def print_table(result: dict[str, Any]) -> None:
    """Print ``result`` (from :func:`run`) as a table with ratios, goals and notes."""
    print(f"{result['benchmark']}: {result['rcb']}, blasting {result['blasted']}")
    la = ", ".join(f"{x:.2f}" for x in result["loadavg_at_start"])
    print(
        f"{result['reps']} x {result['seconds_per_rep']} s blast per row, median reported; Python {result['python']}; "
        f"{result['machine']}; load average at start: {la}"
    )
    print()
    head = (
        f"{'server':<12} {'client':<11} {'reports/s':>9} {'min':>9} {'updates/s':>10} {'unsent':>7} "
        f"{'srv drop':>9} {'backlog':>8} {'gaps':>5} {'lost':>5} {'dropped':>7} {'cli us':>6} {'cores srv/cli':>13}"
    )
    print(head)
    print("-" * len(head))
    for r in result["rows"]:
        lead = f"{r['server']:<12} {r['client']:<11}"
        if r["error"]:
            print(f"{lead} ERROR {r['error']}")
            continue
        unsent = "-" if r["unsent"] is None else f"{100 * r['unsent']:.1f}%"
        print(
            f"{lead} {_fmt(r['reports_per_s'], ',.0f'):>9} {_fmt(r['reports_per_s_min'], ',.0f'):>9} "
            f"{_fmt(r['updates_per_s'], ',.0f'):>10} {unsent:>7} {_fmt(r['server_dropped'], ',d'):>9} "
            f"{_fmt(r['backlog'], ',.0f'):>8} "
            f"{_fmt(r['gaps'], 'd'):>5} {_fmt(r['lost'], 'd'):>5} {_fmt(r['dropped'], 'd'):>7} "
            f"{_fmt(r['client_cpu_us'], '.1f'):>6} {_fmt(r['server_cores'], '.2f'):>6} / {_fmt(r['client_cores'], '.2f'):<4}"
        )
    print("  reports/s: delivered into the callback during the blast (median); unsent: 1 - reports received /")
    print("  server updates (libiec61850 folds changes into a pending report: no SqNum used, no gap); srv drop:")
    print("  updates our server built a report for but dropped from the client's full queue (SqNum used: they")
    print("  show as gaps), all repetitions; backlog: reports delivered after the blast ended (median); gaps:")
    print("  SqNum gaps, all repetitions; lost: reports our server sent that did not arrive; dropped: py61850")
    print("  client report queue overflows; cli us: CPU us per report of the client process during the blast;")
    print("  cores srv/cli: CPU time of the server process (blast loop included) / of the client process over")
    print(f"  the blast, in cores (all threads; the machine has {result['cpus']} CPUs)")
    print()
    ratios = result["ratios"]
    for key, label in (
        ("py61850_vs_pyiec61850_on_libiec61850", "py61850 / pyiec61850 (libiec61850 server)"),
        ("py61850_vs_iec61850_on_libiec61850", "py61850 / iec61850 (libiec61850 server)"),
        ("py61850_vs_best_peer_on_libiec61850", "py61850 / best peer (libiec61850 server)"),
        ("py61850_server_vs_libiec61850_server_py61850_client", "py61850 client: py61850 server / libiec61850 server"),
    ):
        print(f"{label:<54} {_fmt(ratios[key], '.2f'):>6}")
    print()
    for g in result["goals"]:
        state = "n/a" if g["met"] is None else ("met" if g["met"] else "NOT met")
        value = _fmt(g["value"], ".2f" if g["target"] < 100 else ",.0f")
        extra = f" (best peer: {g['best_peer']})" if g.get("best_peer") else ""
        if g["value"] is not None and g["clean"] is False:
            extra += " (gaps, losses or drops seen)"
        print(f"goal {g['goal']}: {value} -> {state}{extra}")
    print()
    for name, desc in result["servers"].items():
        print(f"  server {name:<12} {desc}")
    for name, desc in result["clients"].items():
        print(f"  client {name:<12} {desc}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Report benchmark: reports/s into a Python callback (see benchmarks/README.md)")
    ap.add_argument("--seconds", type=float, default=2.0, help="blast (measurement window) per repetition (default 2.0)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of every row; the median is reported (default 3)")
    ap.add_argument("--servers", type=_names(SERVERS), default=SERVERS, help=f"comma-separated subset of {','.join(SERVERS)}")
    ap.add_argument("--clients", type=_names(CLIENTS), default=CLIENTS, help=f"comma-separated subset of {','.join(CLIENTS)}")
    ap.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    ap.add_argument("--_serve", metavar="SCL", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._serve:
        return serve_main(args._serve)
    check_window(ap, args)
    return emit(run(args.seconds, args.reps, args.servers, args.clients, log=sys.stderr), args.json, print_table)


if __name__ == "__main__":
    exit_now(main())
