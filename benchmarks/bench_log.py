"""Log read benchmark: QueryLogByTime of a whole log (MMS ReadJournal, every page), py61850
against the other stacks' clients, same run.

Run from the repository root::

    python3 -P benchmarks/bench_log.py [--entries 5000] [--seconds 1.0] [--reps 5] [--json]

Two servers of ``examples/simple_io.icd`` in child processes on 127.0.0.1, each with the log of
the LCB ``TESTGenericIO/LLN0.EventLog`` filled with ``--entries`` entries before the first
measurement (libiec61850's wheel has no log storage, so it is not a server here):

* ``rust``     ``tests/peers/rust_server.py`` (the Rust-based ``iec61850``); entries written
               with its ``log`` command (``IedServer.log_value``): one BOOLEAN each
               (``GGIO1.Ind1..4.stVal`` in turn, toggling), ReasonCode data-change, times 1 ms
               apart ending now; its journal is ``TESTGenericIO/LLN0$LG$EventLog``
* ``py61850``  ours: ``IedServer.from_scl`` (this script in ``--_serve`` mode, with the peer
               command channel plus ``fill N``): entries made the way an IED makes them, by
               toggling the data set members ``GGIO1.Ind1..4.stVal`` with ``update_value``
               (LogControl TrgOps dchg); journal ``TESTGenericIO/LLN0$EventLog``

Clients (each read is "everything from 1984-01-01 on", i.e. the whole log: QueryLogByTime,
then QueryLogAfter from the last entry while the server says moreFollows):

* ``pyiec61850``  pyiec61850-ng ``IedConnection_queryLogByTime`` / ``_queryLogAfter`` (called
                  with ctypes: SWIG loses moreFollows), entries walked out of libiec61850's
                  LinkedList into dicts (``tests/peers/clients.py``)
* ``iec61850``    the Rust-based client: ``await conn.query_journal_by_time(...)`` /
                  ``query_journal_after_entry(...)`` on an asyncio loop
* ``py61850``     ours: ``IedConnection.query_log_by_time(log_ref, start, None)`` (follows
                  moreFollows itself; ``JournalEntry`` objects with datetime and MmsValue)
* ``lib61850``    diagnostic, not a user API: the same ReadJournal pages through py61850's
                  cffi binding (``i61_client_read_journal``), no Python objects built - what
                  py61850's client costs below its Python layer

Every (server, client) cell runs on a fresh association per repetition: one untimed read that
is checked in full (count, every entry id, time, reference, value and reason; pages counted),
then whole reads for at least ``--seconds``, each timed from the first request to the last
page and checked (count and entry ids) after the timer stopped. Repetitions are round robin.
Reported: entries/s (median, min), ms per read, pages, CPU per entry of the client process and
of the server process, and py61850 / best peer client per server. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
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
from peers.process import PeerCommands, PeerServer, _wait_ready, start_peer  # noqa: E402

SCL = os.path.join(REPO, "examples", "simple_io.icd")
LCB = "TESTGenericIO/LLN0.EventLog"
MEMBERS = tuple(f"TESTGenericIO/GGIO1.Ind{i}.stVal" for i in range(1, 5))  # data set Events
MEMBER_FC = "ST"
OUR_LOG = "TESTGenericIO/LLN0$EventLog"  # the SCL's Log (logName of the LCB) on LLN0, as py61850 names it
#: the start of every query: TimeOfDay counts from 1984-01-01, the earliest time a query carries
START_MS = 441_763_200_000
#: the end of the peers' first query: the latest TimeOfDay (py61850 sends the same for end=None)
END_MS = START_MS + 65_535 * 86_400_000 + 86_399_999
REASON_DCHG = 1  # ReasonForInclusion data-change (IEC bit 1 -> 1 << 0)
RUST_LOG_CAPACITY = 10_000  # tests/peers/rust_server.py LOG_CAPACITY: older entries are evicted
MAX_PAGES = 100_000  # a read that needs more pages than this is stopped (a server looping)
SERVERS = ("rust", "py61850")
CLIENTS = ("pyiec61850", "iec61850", "py61850", "lib61850")
PEER_CLIENTS = ("pyiec61850", "iec61850")
SETTLE = 0.3  # seconds between one client's close and the next client's connect
START_TIMEOUT = 15.0  # our server must print READY within this
FILL_TIMEOUT = 120.0


# ------------------------------------------------------------------ our server process


class _OurCommands(PeerCommands):
    """The peer command channel on py61850's server, plus ``fill N``: toggle the data set
    members until the log holds N entries -> ``OK <log ref> <count> <oldest id> <newest id>``
    (ids in hex)."""

    def __init__(self, scl: str, server: Any) -> None:
        from peers.sclmodel import SclModel

        super().__init__(SclModel(scl), lambda leaf, value: server.update_value(leaf.ref, value, leaf.fc))
        self.server = server

    def handle(self, line: str) -> str:
        verb, _, rest = line.strip().partition(" ")
        if verb != "fill":
            return super().handle(line)
        try:
            return self._fill(int(rest))
        except Exception as exc:
            return f"ERR {type(exc).__name__}: {exc}".replace("\n", " ")

    def _fill(self, n: int) -> str:
        server = self.server
        log_ref = OUR_LOG
        values = {m: bool(server.get_value(m, MEMBER_FC)) for m in MEMBERS}
        info = server.log_info(log_ref)
        i = 0
        while info.count < n:  # one update is one data change of one member: at most one entry
            m = MEMBERS[i % len(MEMBERS)]
            values[m] = not values[m]
            server.update_value(m, values[m], MEMBER_FC)
            i += 1
            info = server.log_info(log_ref)
            if i > 2 * n + 16:
                raise RuntimeError(f"{i} updates made only {info.count} log entries")
        if info.count != n or info.dropped:
            raise RuntimeError(f"the log holds {info.count} entries ({info.dropped} dropped), not {n}")
        return f"OK {log_ref} {info.count} {info.oldest_entry_id.hex()} {info.newest_entry_id.hex()}"


def serve_main(scl: str, max_entries: int) -> int:
    """Child-process mode: serve ``scl`` with py61850 on 127.0.0.1 (logs of ``max_entries``)
    with the peer command channel (``fill N``). Prints ``READY <port>``; runs until
    SIGTERM/SIGINT or until the parent is gone."""
    from py61850.server import IedServer

    ended = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: ended.set())
    signal.signal(signal.SIGINT, lambda *_: ended.set())
    parent = os.getppid()
    server = IedServer.from_scl(scl, log_max_entries=max_entries).start(0, "127.0.0.1")
    commands = _OurCommands(scl, server)
    sys.stdout.write(f"READY {server.port}\n")
    commands.start()  # keeps stdout as the answer channel, fd 1 -> /dev/null
    while os.getppid() == parent and not ended.wait(0.25):
        pass
    server.close()
    return 0


@dataclass
class LogServer:
    """A running server with its log filled: what the clients must read back."""

    name: str
    peer: PeerServer
    description: str
    log_ref: str = ""
    #: entry ids, oldest first
    ids: list[bytes] = field(default_factory=list)
    #: the whole log as normalised entries (:func:`norm_entry`), when the filler knows it
    content: list[tuple[Any, ...]] | None = None

    @property
    def port(self) -> int:
        return self.peer.port


def start_ours(n: int) -> LogServer:
    """Start py61850's server (``--_serve``) and fill its log with ``n`` entries."""
    from peers.sclmodel import SclModel

    import py61850

    err = tempfile.TemporaryFile(prefix="bench-log-py61850-")
    cmd = [sys.executable, *_interpreter_flags(), os.path.abspath(__file__), "--_serve", SCL,
           str(max(10_000, n))]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, cwd=REPO)
    line, rest = _wait_ready(proc, START_TIMEOUT)
    peer = PeerServer("py61850", "127.0.0.1", 0, SclModel(SCL), proc, err, rest)
    if not line or not line.startswith("READY "):
        text = peer.stderr_text().strip()
        peer.stop(signal.SIGKILL, 1.0)
        last = text.splitlines()[-1] if text else f"first line {line!r}"
        raise RuntimeError(f"py61850 server did not start: {last}")
    peer.port = int(line.split()[1])
    server = LogServer("py61850", peer, f"py61850 {getattr(py61850, '__version__', '?')} IedServer.from_scl, "
                       "entries from update_value of the data set members (this script, --_serve)")
    try:
        log_ref, count, oldest, newest = peer.command(f"fill {n}", timeout=FILL_TIMEOUT).split()
        first, last = int(oldest, 16), int(newest, 16)
        if int(count) != n or last - first + 1 != n:
            raise RuntimeError(f"log of {count} entries, ids {oldest}..{newest}: not {n} consecutive ids")
        server.log_ref = log_ref
        server.ids = [k.to_bytes(8, "big") for k in range(first, last + 1)]
    except BaseException:
        peer.stop()
        raise
    return server


def start_rust(n: int) -> LogServer:
    """Start the Rust-based peer server and write ``n`` entries through its LCB (times 1 ms
    apart, the last one now)."""
    if n > RUST_LOG_CAPACITY:
        raise ValueError(f"the Rust peer server keeps {RUST_LOG_CAPACITY} entries per log (--entries {n})")
    peer = start_peer("rust", SCL)
    server = LogServer("rust", peer, f"iec61850 {_version('iec61850')} (Rust) IedServer.from_scl + log_value, "
                       "tests/peers/rust_server.py")
    try:
        server.log_ref = peer.journal_ref(LCB)
        t0 = int(time.time() * 1000) - n
        content = []
        for i in range(n):
            value = (i // len(MEMBERS)) % 2 == 0
            eid, data_ref = peer.log_value(LCB, MEMBERS[i % len(MEMBERS)], MEMBER_FC, value, REASON_DCHG, t0 + i)
            if eid is None:
                raise RuntimeError("LogEna is FALSE: nothing logged")
            server.ids.append(eid)
            content.append((eid.hex(), t0 + i, ((data_ref, value, REASON_DCHG),)))
        server.content = content
    except BaseException:
        peer.stop()
        raise
    return server


# ------------------------------------------------------------------ clients


def norm_entry(entry_id: str, time_ms: int, variables: list[tuple[str, Any, Any]]) -> tuple[Any, ...]:
    """One entry in the form every client's result is compared in."""
    return (entry_id, int(time_ms), tuple(variables))


class Client:
    """``open(port)``; ``read(log_ref)`` -> (result, pages) any number of times; ``ids(result)``
    and ``normalise(result)`` (outside the timer); ``close()``."""

    name = ""
    description = ""
    pages_in_read = True  # False: read() does not know its pages (counted by count_pages)

    def open(self, port: int) -> None:
        raise NotImplementedError

    def read(self, log_ref: str) -> tuple[Any, int]:
        raise NotImplementedError

    def ids(self, result: Any) -> list[bytes]:
        raise NotImplementedError

    def normalise(self, result: Any) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def count_pages(self, log_ref: str) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _no_progress(op: str, pages: int) -> RuntimeError:
    return RuntimeError(f"{op}: more follow but page {pages} brought nothing new (or > {MAX_PAGES} pages)")


class PyiecClient(Client):
    name = "pyiec61850"

    def __init__(self) -> None:
        self.con = None
        self.description = (f"pyiec61850-ng {_version('pyiec61850-ng')} IedConnection_queryLogByTime/After via ctypes, "
                            "entries walked into dicts (tests/peers/clients.py)")

    def open(self, port: int) -> None:
        from peers.clients import pyiec_connect

        self.con = pyiec_connect("127.0.0.1", port)

    def read(self, log_ref: str) -> tuple[Any, int]:
        from peers.clients import pyiec_query_log_after, pyiec_query_log_by_time

        entries, more = pyiec_query_log_by_time(self.con, log_ref, START_MS, END_MS)
        out = list(entries)
        pages = 1
        while more:
            if not entries or pages >= MAX_PAGES:
                raise _no_progress("queryLogAfter", pages)
            last = out[-1]
            entries, more = pyiec_query_log_after(self.con, log_ref, last["entry_id"], last["time_ms"])
            if entries and entries[0]["entry_id"] == last["entry_id"]:
                entries = entries[1:]
            out.extend(entries)
            pages += 1
        return out, pages

    def ids(self, result: Any) -> list[bytes]:
        return [bytes.fromhex(e["entry_id"]) for e in result]

    def normalise(self, result: Any) -> list[tuple[Any, ...]]:
        return [norm_entry(e["entry_id"], e["time_ms"], [(v["ref"], v["value"], v["reason"]) for v in e["variables"]])
                for e in result]

    def close(self) -> None:
        if self.con is not None:
            from peers.clients import pyiec_close

            con, self.con = self.con, None
            pyiec_close(con)


class RustClient(Client):
    name = "iec61850"

    def __init__(self) -> None:
        self.conn = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.description = (f"iec61850 {_version('iec61850')} (Rust) await query_journal_by_time / "
                            "query_journal_after_entry")

    def open(self, port: int) -> None:
        import iec61850

        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(iec61850.IedConnection.connect(f"127.0.0.1:{port}"))

    def read(self, log_ref: str) -> tuple[Any, int]:
        conn = self.conn

        async def whole() -> tuple[Any, int]:
            entries, more = await conn.query_journal_by_time(log_ref, START_MS, END_MS)
            out = list(entries)
            pages = 1
            while more:
                if not entries or pages >= MAX_PAGES:
                    raise _no_progress("query_journal_after_entry", pages)
                last = out[-1]
                entries, more = await conn.query_journal_after_entry(log_ref, last.time_ms, bytes(last.entry_id))
                if entries and bytes(entries[0].entry_id) == bytes(last.entry_id):
                    entries = entries[1:]
                out.extend(entries)
                pages += 1
            return out, pages

        assert self.loop is not None
        return self.loop.run_until_complete(whole())

    def ids(self, result: Any) -> list[bytes]:
        return [bytes(e.entry_id) for e in result]

    def normalise(self, result: Any) -> list[tuple[Any, ...]]:
        from peers.clients import rust_journal_entry

        out = []
        for e in map(rust_journal_entry, result):
            out.append(norm_entry(e["entry_id"], e["time_ms"],
                                  [(v["ref"], v["value"], v["reason"]) for v in e["variables"]]))
        return out

    def close(self) -> None:
        if self.loop is None:
            return
        loop, self.loop = self.loop, None
        try:
            if self.conn is not None:
                loop.run_until_complete(self.conn.disconnect())
        finally:
            self.conn = None
            loop.close()


class Py61850Client(Client):
    name = "py61850"
    pages_in_read = False

    def __init__(self) -> None:
        self.conn = None
        self.description = "py61850 IedConnection.query_log_by_time(log_ref, start, None)"

    def open(self, port: int) -> None:
        import py61850
        from py61850.client import IedConnection

        where = f" ({getattr(py61850, '__version__', '?')} from {os.path.dirname(py61850.__file__)})"
        if where not in self.description:
            self.description += where
        self.conn = IedConnection()
        self.conn.connect("127.0.0.1", port)

    def read(self, log_ref: str) -> tuple[Any, int]:
        # end None: the first request carries the latest TimeOfDay (END_MS), the continuation
        # pages no end at all - the same requests as the peers'. (explicit_end checks that a
        # query with an end works too.)
        return self.conn.query_log_by_time(log_ref, START_MS, None), 0

    def count_pages(self, log_ref: str) -> int:
        conn = self.conn
        page = conn.query_log_page_by_time(log_ref, START_MS, None)
        pages = 1
        while page.more_follows:
            if not page.entries or pages >= MAX_PAGES:
                raise _no_progress("query_log_page_after", pages)
            last = page.entries[-1]
            page = conn.query_log_page_after(log_ref, last.entry_id, last.time)
            pages += 1
        return pages

    def explicit_end(self, log_ref: str, n: int) -> str:
        """query_log_by_time with an explicit end (a day from now): ``ok`` or the error."""
        end = int(time.time() * 1000) + 86_400_000
        try:
            got = len(self.conn.query_log_by_time(log_ref, START_MS, end))
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        return "ok" if got == n else f"{got} of {n} entries"

    def ids(self, result: Any) -> list[bytes]:
        return [e.entry_id for e in result]

    def normalise(self, result: Any) -> list[tuple[Any, ...]]:
        return [norm_entry(e.entry_id.hex(), e.time_ms,
                           [(v.reference, v.value.to_python(), None if v.reason is None else int(v.reason))
                            for v in e.variables])
                for e in result]

    def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            conn.close()


class Lib61850Client(Py61850Client):
    """Diagnostic: ReadJournal pages through py61850's cffi binding, nothing built in Python
    but the last entry's id and time (to continue); private py61850 API."""

    name = "lib61850"
    pages_in_read = True

    def __init__(self) -> None:
        super().__init__()
        self.description = ("lib61850 i61_client_read_journal through py61850's cffi binding, pages followed, "
                            "no Python objects (diagnostic, private API)")

    def read(self, log_ref: str) -> tuple[Any, int]:
        conn = self.conn
        ffi, lib = conn._ffi, conn._lib
        ref_b = log_ref.encode()
        out = ffi.new("i61_journal **")
        more = ffi.new("int *", 0)
        n = ffi.new("size_t *")
        ids: list[bytes] = []  # the entry ids: needed for the check; read only at the page ends
        start, end, aid, alen, after = START_MS, END_MS, ffi.NULL, 0, -1
        pages = 0
        count = 0
        while True:
            conn._call("query_log_by_time", log_ref, None, lib.i61_client_read_journal, ref_b, start, end, aid, alen,
                       after, out, more)
            pages += 1
            j = out[0]
            if j == ffi.NULL:
                k = 0
            else:
                try:
                    k = int(lib.i61_journal_count(j))
                    if k:
                        n[0] = 0
                        p = lib.i61_journal_entry_id(j, k - 1, n)
                        eid = bytes(ffi.buffer(p, n[0]))
                        after = int(lib.i61_journal_entry_time_ms(j, k - 1))
                        first_n = ffi.new("size_t *")
                        p0 = lib.i61_journal_entry_id(j, 0, first_n)
                        ids.append(bytes(ffi.buffer(p0, first_n[0])))
                        ids.append(eid)
                finally:
                    lib.i61_journal_free(j)
            count += k
            if not more[0]:
                return (count, ids), pages
            if not k or pages >= MAX_PAGES:
                raise _no_progress("i61_client_read_journal", pages)
            aid, alen, start, end = ffi.from_buffer("uint8_t[]", eid), len(eid), -1, -1

    def ids(self, result: Any) -> list[bytes]:
        raise NotImplementedError  # checked by check_lib61850

    def normalise(self, result: Any) -> list[tuple[Any, ...]]:
        raise NotImplementedError


CLIENT_TYPES: dict[str, Callable[[], Client]] = {
    "pyiec61850": PyiecClient,
    "iec61850": RustClient,
    "py61850": Py61850Client,
    "lib61850": Lib61850Client,
}


# ------------------------------------------------------------------ measurement


def check_result(client: Client, server: LogServer, result: Any, full: bool) -> None:
    """Raise AssertionError unless ``result`` is the whole log of ``server``: count and every
    entry id in order; with ``full`` also times, references, values and reasons (against what
    was logged, or - our server - each entry one BOOLEAN data set member with reason
    data-change)."""
    n = len(server.ids)
    if isinstance(client, Lib61850Client):
        count, ends = result
        if count != n:
            raise AssertionError(f"{count} entries, expected {n}")
        if n and (ends[0] != server.ids[0] or ends[-1] != server.ids[-1]):
            raise AssertionError(f"first/last ids {ends[0].hex()}/{ends[-1].hex()}, expected "
                                 f"{server.ids[0].hex()}/{server.ids[-1].hex()}")
        return
    ids = client.ids(result)
    if len(ids) != n:
        raise AssertionError(f"{len(ids)} entries, expected {n}")
    if ids != server.ids:
        k = next(i for i, (a, b) in enumerate(zip(ids, server.ids)) if a != b)
        raise AssertionError(f"entry {k}: id {ids[k].hex()}, expected {server.ids[k].hex()}")
    if not full:
        return
    got = client.normalise(result)
    if server.content is not None:
        for k, (a, b) in enumerate(zip(got, server.content)):
            if a != b:
                raise AssertionError(f"entry {k}: {a}, expected {b}")
        return
    members = {m.replace("/GGIO1.", "/GGIO1$ST$").replace(".", "$") for m in MEMBERS}
    for k, (_, _, variables) in enumerate(got):
        if len(variables) != 1 or variables[0][0] not in members or not isinstance(variables[0][1], bool) \
                or variables[0][2] != REASON_DCHG:
            raise AssertionError(f"entry {k}: variables {variables}, expected one data set member (BOOLEAN, "
                                 "data-change)")


def measure(client: Client, server: LogServer, seconds: float, first: bool) -> dict[str, Any]:
    """One repetition of one cell: a checked read (untimed), then whole timed reads for at
    least ``seconds``. ``first``: also compare the normalised content across clients."""
    log_ref = server.log_ref
    result, pages = client.read(log_ref)
    check_result(client, server, result, full=True)
    normalised = None
    if first and not isinstance(client, Lib61850Client):
        normalised = client.normalise(result)
    if not client.pages_in_read:
        pages = client.count_pages(log_ref)
    del result
    times: list[float] = []
    busy = 0.0
    cpu0, srv0 = time.process_time_ns(), cpu_ns_of(server.peer.pid)
    clock = time.perf_counter
    while busy < seconds:
        t0 = clock()
        result, _ = client.read(log_ref)
        dt = clock() - t0
        times.append(dt)
        busy += dt
        check_result(client, server, result, full=False)
        del result
    cpu1, srv1 = time.process_time_ns(), cpu_ns_of(server.peer.pid)
    n = len(server.ids) * len(times)
    return {
        "reads": len(times),
        "entries_per_s": n / busy,
        "ms_per_read": statistics.median(times) * 1e3,
        "pages": pages,
        # the window also holds the checks between reads (client CPU only)
        "client_cpu_us_per_entry": (cpu1 - cpu0) / 1e3 / n,
        "server_cpu_us_per_entry": (srv1 - srv0) / 1e3 / n if srv0 is not None and srv1 is not None else None,
        "_normalised": normalised,
    }


@dataclass
class Row:
    """One server x client cell: medians over the repetitions."""

    server: str
    client: str
    entries_per_s: float | None = None
    entries_per_s_min: float | None = None
    ms_per_read: float | None = None
    pages: int | None = None
    reads: int = 0
    client_cpu_us: float | None = None
    server_cpu_us: float | None = None
    vs_best_peer: float | None = None
    check: str = "-"
    error: str | None = None
    reps: list[dict[str, Any]] = field(default_factory=list)


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def run(entries: int, seconds: float, reps: int, servers: tuple[str, ...], clients: tuple[str, ...],
        log: Any = None) -> dict[str, Any]:
    """Run the benchmark; returns the result object (see ``--json``)."""

    def say(text: str) -> None:
        if log is not None:
            print(text, file=log, flush=True)

    load = os.getloadavg()
    rows = {(s, c): Row(s, c) for s in servers for c in clients}
    running: dict[str, LogServer] = {}
    server_desc: dict[str, str] = {}
    fill_s: dict[str, float] = {}
    explicit_end: dict[str, str] = {}
    contents: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    client_objs = {c: CLIENT_TYPES[c]() for c in clients}
    try:
        for name in servers:
            t0 = time.perf_counter()
            try:
                running[name] = start_ours(entries) if name == "py61850" else start_rust(entries)
                fill_s[name] = time.perf_counter() - t0
                server_desc[name] = running[name].description
                say(f"{name}: {entries} entries in {fill_s[name]:.2f} s, log {running[name].log_ref}")
            except Exception as exc:  # its rows show it; the other server is still measured
                server_desc[name] = f"did not start: {_short(exc)}"
                for c in clients:
                    rows[(name, c)].error = f"server: {_short(exc)}"
        for rep in range(reps):
            say(f"repetition {rep + 1}/{reps}")
            ks, kc = rep % len(servers), rep % len(clients)
            for sname in servers[ks:] + servers[:ks]:  # rotated: nobody always first
                for cname in clients[kc:] + clients[:kc]:
                    row = rows[(sname, cname)]
                    server = running.get(sname)
                    if row.error is not None or server is None:
                        continue
                    client = client_objs[cname]
                    try:
                        client.open(server.port)
                        r = measure(client, server, seconds, first=not row.reps)
                        if r["_normalised"] is not None:
                            contents[(sname, cname)] = r["_normalised"]
                        del r["_normalised"]
                        if cname == "py61850" and sname not in explicit_end:
                            explicit_end[sname] = client.explicit_end(server.log_ref, len(server.ids))
                        row.reps.append(r)
                        say(f"  {sname:<8} {cname:<11} {r['entries_per_s']:>10,.0f} entries/s "
                            f"({r['reads']} reads, {r['pages']} pages, {r['ms_per_read']:.1f} ms/read)")
                    except Exception as exc:  # shown in the table, never faked
                        row.error = _short(exc)
                        row.reps.clear()
                        say(f"  {sname:<8} {cname:<11} ERROR {row.error}")
                    finally:
                        try:
                            client.close()
                        except Exception as exc:
                            row.error = row.error or f"close: {_short(exc)}"
                        time.sleep(SETTLE)
                    if not server.peer.alive():
                        msg = f"the {sname} server died: {server.peer.stderr_text()[-300:]}"
                        for c in clients:
                            rows[(sname, c)].error = rows[(sname, c)].error or msg
                        running.pop(sname)
    finally:
        for server in running.values():
            server.peer.stop()
    # every client read the same log from our server (no script of what it holds there)
    for sname in servers:
        got = {c: v for (s, c), v in contents.items() if s == sname}
        if len(got) > 1:
            ref_name, ref = next(iter(got.items()))
            for c, v in got.items():
                if v != ref and rows[(sname, c)].error is None:
                    k = next((i for i, (a, b) in enumerate(zip(v, ref)) if a != b), min(len(v), len(ref)))
                    rows[(sname, c)].error = f"content differs from {ref_name}'s at entry {k}"
    for row in rows.values():
        if row.error is None and row.reps:
            rates = [r["entries_per_s"] for r in row.reps]
            row.entries_per_s = statistics.median(rates)
            row.entries_per_s_min = min(rates)
            row.ms_per_read = statistics.median(r["ms_per_read"] for r in row.reps)
            row.pages = row.reps[0]["pages"]
            row.reads = sum(r["reads"] for r in row.reps)
            row.client_cpu_us = statistics.median(r["client_cpu_us_per_entry"] for r in row.reps)
            srv = [r["server_cpu_us_per_entry"] for r in row.reps if r["server_cpu_us_per_entry"] is not None]
            row.server_cpu_us = statistics.median(srv) if srv else None
            row.check = f"all {entries} ok"
    ratios: dict[str, dict[str, Any]] = {}
    for sname in servers:
        peers = {c: rows[(sname, c)].entries_per_s for c in PEER_CLIENTS
                 if (sname, c) in rows and rows[(sname, c)].entries_per_s is not None}
        best = max(peers, key=lambda c: peers[c]) if peers else None
        for c in ("py61850", "lib61850"):
            if (sname, c) in rows and best is not None:
                rows[(sname, c)].vs_best_peer = _ratio(rows[(sname, c)].entries_per_s, peers[best])
        ours = rows.get((sname, "py61850"))
        ratios[sname] = {
            "best_peer": best,
            "py61850_vs_best_peer": ours.vs_best_peer if ours is not None else None,
            **{f"py61850_vs_{c}": _ratio(ours.entries_per_s if ours else None, peers.get(c)) for c in PEER_CLIENTS},
        }
    cpus = os.cpu_count() or 0
    return {
        "benchmark": "log read: QueryLogByTime of the whole log, every page (MMS ReadJournal)",
        "lcb": LCB,
        "entries": entries,
        "seconds_per_rep": seconds,
        "reps": reps,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {cpus} CPUs, {platform.system()} {platform.release()}",
        "cpus": cpus,
        "loadavg_at_start": [round(x, 2) for x in load],
        "servers": server_desc,
        "fill_seconds": fill_s,
        "clients": {c: o.description for c, o in client_objs.items()},
        "explicit_end": explicit_end,
        "rows": [asdict(r) for r in rows.values()],
        "ratios": ratios,
    }


# ------------------------------------------------------------------ report


def print_table(result: dict[str, Any]) -> None:
    """Print ``result`` (from :func:`run`) as a table with ratios and notes."""
    print(f"{result['benchmark']}: the log of {result['lcb']}, {result['entries']:,} entries")
    la = ", ".join(f"{x:.2f}" for x in result["loadavg_at_start"])
    print(f"{result['reps']} x >= {result['seconds_per_rep']} s of reads per cell, median reported; "
          f"Python {result['python']}; {result['machine']}; load average at start: {la}")
    print()
    head = (f"{'server':<8} {'client':<11} {'entries/s':>10} {'min':>10} {'ms/read':>8} {'pages':>5} {'reads':>5} "
            f"{'cli us':>6} {'srv us':>6} {'vs peer':>7}  check")
    print(head)
    print("-" * len(head))
    for r in result["rows"]:
        lead = f"{r['server']:<8} {r['client']:<11}"
        if r["error"]:
            print(f"{lead} ERROR {r['error']}")
            continue
        print(f"{lead} {_fmt(r['entries_per_s'], ',.0f'):>10} {_fmt(r['entries_per_s_min'], ',.0f'):>10} "
              f"{_fmt(r['ms_per_read'], '.1f'):>8} {_fmt(r['pages'], 'd'):>5} {r['reads']:>5} "
              f"{_fmt(r['client_cpu_us'], '.2f'):>6} {_fmt(r['server_cpu_us'], '.2f'):>6} "
              f"{_fmt(r['vs_best_peer'], '.2f'):>7}  {r['check']}")
    print("  entries/s: entries of whole reads (first request to last page) per second of reading, median over")
    print("  the repetitions; min: the slowest repetition; ms/read: median time of one whole read; pages:")
    print("  ReadJournal answers per read; cli us / srv us: CPU microseconds per entry of the client process")
    print("  (all threads, checks between reads included) / of the server process; vs peer: / the best peer")
    print("  client against the same server; check: every read had all entries with the right ids in order,")
    print("  the first of each repetition also the right times, references, values and reasons")
    print("  lib61850 is a diagnostic row: py61850's C layer without the Python objects")
    print()
    for sname, rt in result["ratios"].items():
        best = rt["best_peer"]
        print(f"{sname + ' server:':<16} py61850 / best peer ({best or '-'}) {_fmt(rt['py61850_vs_best_peer'], '.2f'):>6}"
              f"   / pyiec61850 {_fmt(rt['py61850_vs_pyiec61850'], '.2f'):>5}"
              f"   / iec61850 {_fmt(rt['py61850_vs_iec61850'], '.2f'):>5}")
    for sname, note in result["explicit_end"].items():
        if note != "ok":
            print(f"note: py61850 query_log_by_time with an explicit end against the {sname} server: {note}")
    print()
    for name, desc in result["servers"].items():
        fill = result["fill_seconds"].get(name)
        print(f"  server {name:<11} {desc}" + (f" (filled in {fill:.2f} s)" if fill is not None else ""))
    for name, desc in result["clients"].items():
        print(f"  client {name:<11} {desc}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Log read benchmark: QueryLogByTime, all pages (see benchmarks/README.md)")
    ap.add_argument("--entries", type=int, default=5000, help="entries in each server's log (default 5000; "
                    f"the Rust server keeps at most {RUST_LOG_CAPACITY})")
    ap.add_argument("--seconds", type=float, default=1.0,
                    help="minimum reading time per cell and repetition: whole reads (default 1.0)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions of every cell; the median is reported (default 5)")
    ap.add_argument("--servers", type=_names(SERVERS), default=SERVERS, help=f"comma-separated subset of {','.join(SERVERS)}")
    ap.add_argument("--clients", type=_names(CLIENTS), default=CLIENTS, help=f"comma-separated subset of {','.join(CLIENTS)}")
    ap.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    ap.add_argument("--_serve", nargs=2, metavar=("SCL", "MAX"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._serve:
        return serve_main(args._serve[0], int(args._serve[1]))
    check_window(ap, args)
    if args.entries < 1:
        ap.error("--entries must be >= 1")
    return emit(run(args.entries, args.seconds, args.reps, args.servers, args.clients, log=sys.stderr),
                args.json, print_table)


if __name__ == "__main__":
    exit_now(main())
