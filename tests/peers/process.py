"""Start and stop peer server processes (used by tests/conftest.py and benchmarks/).

:func:`start_peer` runs ``tests/peers/libiec_server.py`` or ``tests/peers/rust_server.py`` as a
child process, waits for its ``READY <port>`` line and returns a :class:`PeerServer`;
:meth:`PeerServer.stop` stops exactly that process (signal, then SIGKILL after a grace period).

Command channel (both server scripts, see :class:`PeerCommands`): the parent writes one
command per line to the child's stdin and reads exactly one answer line (``OK [...]`` or
``ERR <text>``) from the child's original stdout pipe (the child keeps a duplicate of it as
its reply fd and points fd 1 itself at /dev/null). Commands::

    set <LD/LN.DO.DA> <FC> <value>        change a value (reports follow) -> OK
    blast <LD/LN.DO.DA> <FC> <seconds>    change it as fast as possible -> OK <updates>
    ping                                  -> OK

``LD`` is the MMS domain (``TESTGenericIO``) or the LD inst (``GenericIO``). Values are text:
``true``/``false``, integers, floats, Enum literals or numbers, Dbpos ``on``/``off``/
``intermediate-state``/``bad-state``, strings (the rest of the line), Quality as a bit
string (``0100000000000`` = invalid) or an integer (bit n of the bit string = ``1 << n``),
Timestamp as ISO 8601 with offset or integer ms since 1970, Octet64 as hex.
:meth:`PeerServer.set_value` and :meth:`PeerServer.blast` send them.

Does not import pytest or py61850.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import datetime as _dt
from dataclasses import dataclass, field
from typing import IO, Any, Callable

from .sclmodel import DBPOS_VALUES, LIBIEC_LCB_ATTRIBUTES, Leaf, SclModel, default_scl

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS_DIR = os.path.join(TESTS_DIR, "peers")
REPO_DIR = os.path.dirname(TESTS_DIR)
EXAMPLES_DIR = os.path.join(REPO_DIR, "examples")
DEFAULT_SCL = default_scl()

#: Server scripts per peer kind.
PEER_SCRIPTS = {
    "libiec": os.path.join(PEERS_DIR, "libiec_server.py"),
    "rust": os.path.join(PEERS_DIR, "rust_server.py"),
}

#: Seconds to wait for ``READY``; start-up takes ~0.1 s on an idle machine.
START_TIMEOUT = 15.0
#: Seconds between SIGTERM and SIGKILL at teardown.
STOP_GRACE = 5.0
#: Seconds to wait for the answer to a command.
COMMAND_TIMEOUT = 10.0

#: SGCB components of the Rust-based server (no ResvTms).
RUST_SGCB_ATTRIBUTES = ("NumOfSG", "ActSG", "EditSG", "CnfEdit", "LActTm")

#: Basic types whose SCL initial value the Rust-based server does not apply (it serves the
#: type's default instead: Dbpos 00, empty octet string, zero time, good quality, Check 00).
RUST_UNAPPLIED_BTYPES = frozenset({"Dbpos", "Octet64", "Timestamp", "Quality", "Check"})


@dataclass
class PeerServer:
    """A running peer server process.

    :ivar name: ``"libiec"`` or ``"rust"``
    :ivar host: address it listens on (always ``127.0.0.1``)
    :ivar port: TCP port
    :ivar model: the SCL model it serves
    :ivar filestore: the directory its MMS file services serve (``None``: none given)
    :ivar proc: the child process (its stdout is closed; stderr goes to a temporary file)
    """

    name: str
    host: str
    port: int
    model: SclModel
    proc: subprocess.Popen
    _stderr: IO[bytes] | None = field(default=None, repr=False)
    _reply_buf: bytes = field(default=b"", repr=False)
    _cmd_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    filestore: str | None = None

    @property
    def addr(self) -> str:
        """``"host:port"`` (what the Rust client's ``connect`` takes)."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_text(self) -> str:
        """What the server wrote to stderr so far."""
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def serves_scl_value(self, leaf: Leaf) -> bool:
        """True if this peer serves ``leaf.value`` (the SCL ``Val``) as its initial value."""
        if leaf.value is None:
            return False
        return not (self.name == "rust" and leaf.btype in RUST_UNAPPLIED_BTYPES)

    def can_write(self, leaf: Leaf) -> bool:
        """True if a client write of this leaf succeeds on this peer.

        libiec61850: FC SP (CF/DC denied, ST/MX never). Rust: FC SP and only attributes
        directly below a DO (components of constructed attributes: object-access-unsupported).
        """
        if leaf.fc != "SP":
            return False
        return not (self.name == "rust" and leaf.under_struct)

    def expected_mms_names(self, ld: str) -> list[str]:
        """GetNameList(namedVariable, ``ld``) exactly as this peer answers it (order included).

        libiec61850 lists RCBs with their components, sorted case-insensitively; the Rust
        server lists only the RCB names, sorted by code point.
        """
        if self.name == "rust":
            return self.model.mms_names(ld, control_blocks="names", case_sensitive=True, se_twins=False,
                                        sgcb_attributes=RUST_SGCB_ATTRIBUTES, gse_blocks=False)
        return self.model.mms_names(ld, lcb_attributes=LIBIEC_LCB_ATTRIBUTES)

    # ------------------------------------------------------------------ commands

    def command(self, line: str, timeout: float = COMMAND_TIMEOUT) -> str:
        """Send one command line and return the server's ``OK`` answer (without ``OK``).

        :raises PeerCommandError: the server answered ``ERR ...``, did not answer within
            ``timeout`` seconds, or is gone
        """
        if "\n" in line:
            raise ValueError("a command is one line")
        with self._cmd_lock:
            if self.proc.stdin is None or self.proc.stdout is None or self.proc.stdin.closed:
                raise PeerCommandError(f"{self.name}: no command channel")
            try:
                self.proc.stdin.write(line.encode("utf-8") + b"\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise PeerCommandError(f"{self.name}: cannot send {line!r}: {exc} "
                                       f"(exit status {self.proc.poll()})\n{self.stderr_text()}") from exc
            answer = self._read_reply(timeout)
        if answer is None:
            raise PeerCommandError(f"{self.name}: no answer to {line!r} within {timeout} s "
                                   f"(exit status {self.proc.poll()})\n{self.stderr_text()}")
        if answer == "OK" or answer.startswith("OK "):
            return answer[3:]
        raise PeerCommandError(f"{self.name}: {line!r}: {answer}")

    def _read_reply(self, timeout: float) -> str | None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._reply_buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return None
                chunk = os.read(fd, 4096)
                if not chunk:
                    return None
                self._reply_buf += chunk
        line, self._reply_buf = self._reply_buf.split(b"\n", 1)
        return line.decode("utf-8", "replace").strip()

    def set_value(self, ref: str, fc: str, value: Any) -> None:
        """Change a basic-type attribute on the server (as a local process update would:
        reports with reason data-change follow when the value differs).

        :param ref: ``LD/LN.DO.DA`` with the MMS domain or the LD inst as ``LD``
        :param fc: functional constraint of the leaf (``"MX"``)
        :param value: bool, int, float, str, bytes (Octet64), aware datetime (Timestamp)
        :raises PeerCommandError: the server refused it (e.g. a type the Rust server
            cannot update: Quality, Timestamp, Dbpos)
        """
        self.command(f"set {ref} {fc} {format_value(value)}")

    def blast(self, ref: str, fc: str, seconds: float) -> int:
        """Change ``ref`` as fast as the server can for ``seconds`` (new value each time).

        Blocks for that long; returns the number of updates made.
        """
        out = self.command(f"blast {ref} {fc} {seconds}", timeout=seconds + COMMAND_TIMEOUT)
        return int(out.split()[0])

    # ---- setting groups and logs (commands sg/sgveto/sgvalue/log/logena, see README.md)

    def sg_state(self, ld: str) -> dict[str, int]:
        """The SGCB of ``ld`` as the server holds it: ``{"act", "edit", "cnf", "num"}``."""
        out = self.command(f"sg {ld}")
        return {k: int(v) for k, v in (w.split("=", 1) for w in out.split())}

    def sg_veto(self, ld: str, on: bool, what: str = "activate") -> None:
        """Make the server's handler refuse SelectActiveSG (``"activate"``) or SelectEditSG
        (``"edit"``) of ``ld`` (the client gets object-access-denied) while ``on``."""
        self.command(f"sgveto {ld} {'on' if on else 'off'} {what}")

    def sg_value(self, ref: str, sg: int) -> Any:
        """The value the server keeps for FC SG attribute ``ref`` (``LD/LN.DO.DA``) in group
        ``sg`` (libiec61850: updated by a confirmed edit; Rust: the SCL values)."""
        import ast

        return ast.literal_eval(self.command(f"sgvalue {ref} {sg}"))

    def journal_ref(self, lcb_ref: str) -> str:
        """The journal (log) reference this peer serves for the LCB ``LD/LN.name`` (the LD as
        MMS domain): the SCL log ``LD/LN$logName`` for libiec61850, ``LD/LN$LG$name`` for the
        Rust server (it names the journal after the LCB; its LogRef says so too)."""
        ld, _, rest = lcb_ref.partition("/")
        ln, _, name = rest.partition(".")
        domain = self.model.ld(ld).domain
        if self.name == "rust":
            return f"{domain}/{ln}$LG${name}"
        lc = next(c for c in self.model.ld(ld).ln(ln).log_controls if c.name == name)
        return f"{domain}/{ln}${lc.log_name}"

    def log_value(self, lcb_ref: str, ref: str, fc: str, value: Any, reason: int = 1,
                  time_ms: int | None = None) -> tuple[bytes | None, str]:
        """Write one journal entry through the LCB ``lcb_ref`` (Rust server only: libiec61850's
        wheel has no log storage): the entry holds ``ref`` [``fc``] = ``value`` with
        ReasonCode ``reason`` (IEC bit n -> ``1 << (n - 1)``, as py61850's
        ``ReasonForInclusion``: 1 data-change, 2 quality-change, 4 data-update, 8 integrity,
        16 GI), at ``time_ms`` (ms since 1970, default now).

        :returns: ``(entry id (8 octets), data reference recorded)``; the id is None when
            LogEna is FALSE (nothing logged)
        """
        opts = f"reason={int(reason)}" + (f" time={int(time_ms)}" if time_ms is not None else "")
        out = self.command(f"log {opts} {lcb_ref} {ref} {fc} {format_value(value)}").split()
        if out[0] == "none":
            return None, ""
        return bytes.fromhex(out[0]), out[1]

    def log_enable(self, lcb_ref: str, on: bool) -> None:
        """Set LogEna of an LCB locally (Rust server only)."""
        self.command(f"logena {lcb_ref} {'on' if on else 'off'}")

    def stop(self, sig: int = signal.SIGTERM, grace: float = STOP_GRACE) -> int:
        """Stop exactly this process: ``sig``, then SIGKILL after ``grace`` seconds.

        :returns: the exit status (negative = killed by that signal)
        """
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._stderr is not None and not self._stderr.closed:
            self._stderr.close()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None and not pipe.closed:
                try:
                    pipe.close()
                except OSError:  # stdin with unflushed data to a dead process
                    pass
        return self.proc.returncode


class PeerStartError(RuntimeError):
    """A peer server did not come up (the message carries its stderr)."""


class PeerCommandError(RuntimeError):
    """A command to a peer server failed (``ERR`` answer, no answer, or the server is gone)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(proc: subprocess.Popen, timeout: float) -> tuple[str | None, bytes]:
    """The first stdout line of ``proc`` if it arrives within ``timeout`` s (else None),
    and what was read after it."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    buf = b""
    fd = proc.stdout.fileno()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                return None, b""
            chunk = os.read(fd, 4096)
            if not chunk:  # EOF: the child exited (or closed stdout) before READY
                return (buf.decode("utf-8", "replace") or None), b""
            buf += chunk
    first, rest = buf.split(b"\n", 1)
    return first.decode("utf-8", "replace"), rest


def start_peer(kind: str, scl: str = DEFAULT_SCL, ied: str | None = None, timeout: float = START_TIMEOUT,
               filestore: str | os.PathLike[str] | None = None) -> PeerServer:
    """Start a peer server process and wait until it listens.

    :param kind: ``"libiec"`` or ``"rust"``
    :param scl: SCL file to serve
    :param ied: IED name in the SCL (default: the first IED)
    :param filestore: directory served by the MMS file services (libiec61850 only: the
        Rust-based stack has no file services; ``ValueError`` for it)
    :raises PeerStartError: no ``READY`` line within ``timeout`` (after 3 attempts on a
        fresh port each for libiec61850, which cannot choose its own port)
    """
    if kind not in PEER_SCRIPTS:
        raise ValueError(f"unknown peer kind {kind!r} (expected one of {sorted(PEER_SCRIPTS)})")
    if filestore is not None and kind != "libiec":
        raise ValueError(f"the {kind} peer server has no file services (filestore= is libiec only)")
    model = SclModel(scl, ied)
    errors: list[str] = []
    for _attempt in range(3):
        port = 0 if kind == "rust" else _free_port()
        cmd = [sys.executable, PEER_SCRIPTS[kind], "--scl", scl, "--port", str(port)]
        if ied:
            cmd += ["--ied", ied]
        if filestore is not None:
            cmd += ["--filestore", os.fspath(filestore)]
        stderr = tempfile.TemporaryFile(prefix=f"peer-{kind}-")
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, cwd=REPO_DIR)
        line, rest = _wait_ready(proc, timeout)
        # stdout stays open: it is the command reply channel (see PeerCommands)
        server = PeerServer(kind, "127.0.0.1", port, model, proc, stderr, rest)
        if line and line.startswith("READY "):
            server.port = int(line.split()[1])
            server.filestore = os.path.abspath(filestore) if filestore is not None else None
            return server
        if proc.poll() is None:
            proc.kill()
        rc = proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass
        stderr.seek(0)
        err = stderr.read().decode("utf-8", "replace")
        stderr.close()
        errors.append(f"attempt {_attempt + 1}: {' '.join(cmd)}\n  first line: {line!r}, exit status {rc}\n  stderr:\n{err}")
        if proc.returncode not in (1, -signal.SIGKILL):  # 1 = could not listen: retry on another port
            break
    raise PeerStartError(f"{kind} peer server did not start:\n" + "\n".join(errors))


# ---------------------------------------------------------------------- command channel


def format_value(value: Any) -> str:
    """The command-line text of a value (see the module docstring)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex() or "-"
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise ValueError("a Timestamp value must be timezone-aware")
        return value.isoformat()
    text = str(value)
    if "\n" in text:
        raise ValueError("a value is one line")
    return text


def parse_value(leaf: Leaf, text: str, enum_types: dict[str, dict[str, int]]) -> Any:
    """Text of a ``set`` command -> the Python value for ``leaf`` (raises ValueError)."""
    b = leaf.btype
    t = text.strip() if not (b.startswith("VisString") or b == "Unicode255") else text
    if b == "BOOLEAN":
        low = t.lower()
        if low in ("true", "1", "on"):
            return True
        if low in ("false", "0", "off"):
            return False
        raise ValueError(f"not a boolean: {t!r}")
    if b in ("INT8", "INT16", "INT32", "INT64", "INT8U", "INT16U", "INT32U"):
        return int(t, 0)
    if b in ("FLOAT32", "FLOAT64"):
        return float(t)
    if b == "Enum":
        kinds = enum_types.get(leaf.enum_type or "", {})
        return kinds[t] if t in kinds else int(t, 0)
    if b == "Dbpos":
        return DBPOS_VALUES[t] if t in DBPOS_VALUES else int(t, 0)
    if b.startswith("VisString") or b == "Unicode255":
        return text
    if b == "Octet64":
        return b"" if t == "-" else bytes.fromhex(t)
    if b == "Timestamp":
        if t.lstrip("-").isdigit():
            return _dt.datetime.fromtimestamp(int(t) / 1000, _dt.timezone.utc)
        ts = _dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
        if ts.tzinfo is None:
            raise ValueError("a Timestamp needs a UTC offset")
        return ts
    if b == "Quality":
        if len(t) >= 2 and set(t) <= {"0", "1"}:  # bit string text, bit 0 first
            return sum(1 << i for i, ch in enumerate(t) if ch == "1")
        return int(t, 0)
    raise ValueError(f"no text form for bType {b}")


class PeerCommands:
    """The stdin command loop of a peer server script (runs in a daemon thread).

    :param model: the served model (to find leaves and their basic types)
    :param update: ``update(leaf, value)`` changes a value on the server (raises on failure)
    """

    def __init__(self, model: SclModel, update: Callable[[Leaf, Any], None]) -> None:
        self.model = model
        self.update = update
        self._leaves: dict[tuple[str, str, str], Leaf] = {}
        for lf in model.leaves():
            ld = model.ld(lf.domain)
            for name in (ld.domain, ld.inst):
                self._leaves[(name, lf.path, lf.fc)] = lf
        self._reply_fd = -1

    def start(self) -> None:
        """Keep the current stdout as the reply channel, point fd 1 at /dev/null (the SWIG
        binding prints to it) and serve stdin in a daemon thread until EOF."""
        sys.stdout.flush()
        self._reply_fd = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        threading.Thread(target=self._loop, name="peer-commands", daemon=True).start()

    def leaf(self, ref: str, fc: str) -> Leaf:
        """The leaf ``ref`` (``LD/LN.DO.DA``, LD = domain or inst) with FC ``fc``."""
        ld, sep, path = ref.partition("/")
        lf = self._leaves.get((ld, path, fc.upper())) if sep else None
        if lf is None:
            raise KeyError(f"no leaf {ref} [{fc}]")
        return lf

    def handle(self, line: str) -> str:
        """Run one command; the answer line (``OK ...`` / ``ERR ...``)."""
        try:
            verb, _, rest = line.strip().partition(" ")
            if verb == "ping":
                return "OK"
            if verb == "set":
                ref, fc, text = (rest.split(" ", 2) + ["", ""])[:3]
                lf = self.leaf(ref, fc)
                self.update(lf, parse_value(lf, text, self.model.enum_types))
                return "OK"
            if verb == "blast":
                ref, fc, secs = rest.split()
                return f"OK {self._blast(self.leaf(ref, fc), float(secs))}"
            return f"ERR unknown command {verb!r}"
        except Exception as exc:  # the answer carries it; the server goes on
            return f"ERR {type(exc).__name__}: {exc}".replace("\n", " ")

    def _blast(self, lf: Leaf, seconds: float) -> int:
        b = lf.btype
        if b == "BOOLEAN":
            gen: Callable[[int], Any] = lambda i: bool(i & 1)
        elif b in ("FLOAT32", "FLOAT64"):
            gen = lambda i: float(i % 1000000)
        elif b in ("INT8", "INT8U", "Enum"):
            gen = lambda i: i % 100
        elif b in ("INT16", "INT16U", "INT32", "INT32U", "INT64"):
            gen = lambda i: i % 30000
        else:
            raise ValueError(f"blast does not support bType {b}")
        update = self.update
        n = 0
        deadline = time.monotonic() + seconds
        while True:
            for _ in range(64):
                n += 1
                update(lf, gen(n))
            if time.monotonic() >= deadline:
                return n

    def _loop(self) -> None:
        for raw in sys.stdin.buffer:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line.strip():
                continue
            answer = self.handle(line)
            try:
                os.write(self._reply_fd, answer.encode("utf-8") + b"\n")
            except OSError:  # the parent stopped reading
                return


class ControlSwitches:
    """Per controllable DO, the failures the ``interlock``/``opfail`` commands switched on
    (both peer server scripts consult it in their control handlers).

    ``interlock <LD/LN.DO> on|off``: select and operate are refused by the check handler
    with AddCause blocked-by-interlocking (10). ``opfail <LD/LN.DO> on|off``: the operate
    handler fails (AddCause blocked-by-process, 9): a negative Operate response for the
    normal models, CommandTermination- for the enhanced ones. ``LD`` is the domain or the
    LD inst.
    """

    def __init__(self, model: SclModel) -> None:
        self._domain = {}
        for ld in model.lds:
            self._domain[ld.domain] = ld.domain
            self._domain[ld.inst] = ld.domain
        self.interlocked: set[str] = set()
        self.failing: set[str] = set()

    def key(self, ref: str) -> str:
        ld, sep, rest = ref.strip().partition("/")
        if not sep or ld not in self._domain or not rest:
            raise KeyError(f"no logical device in {ref!r}")
        return f"{self._domain[ld]}/{rest}"

    def handle(self, verb: str, rest: str) -> str:
        ref, _, state = rest.strip().partition(" ")
        if state not in ("on", "off"):
            raise ValueError(f"{verb} needs on|off, got {state!r}")
        target = self.interlocked if verb == "interlock" else self.failing
        (target.add if state == "on" else target.discard)(self.key(ref))
        return "OK"


class SettingGroupSwitches:
    """Setting group requests the peer server's handlers refuse (``sgveto`` command).

    ``sgveto <LD> on|off [activate|edit]``: while on, SelectActiveSG (``activate``, the
    default) or SelectEditSG (``edit``) of that LD's SGCB is refused by the server's handler
    (the client sees object-access-denied). ``LD`` is the domain or the LD inst.
    """

    def __init__(self, model: SclModel) -> None:
        self._domain = {}
        for ld in model.lds:
            self._domain[ld.domain] = ld.domain
            self._domain[ld.inst] = ld.domain
        self.refused: set[tuple[str, str]] = set()

    def domain(self, ld: str) -> str:
        """The MMS domain of an LD given as domain or inst (KeyError if unknown)."""
        ld = ld.strip()
        if ld.endswith("/LLN0"):
            ld = ld[: -len("/LLN0")]
        if ld not in self._domain:
            raise KeyError(f"no logical device {ld!r}")
        return self._domain[ld]

    def refuses(self, domain: str, what: str) -> bool:
        return (domain, what) in self.refused

    def handle(self, rest: str) -> str:
        parts = rest.split()
        if len(parts) not in (2, 3) or parts[1] not in ("on", "off"):
            raise ValueError("usage: sgveto <LD> on|off [activate|edit]")
        what = parts[2] if len(parts) == 3 else "activate"
        if what not in ("activate", "edit"):
            raise ValueError(f"sgveto: {what!r} is not activate or edit")
        key = (self.domain(parts[0]), what)
        (self.refused.add if parts[1] == "on" else self.refused.discard)(key)
        return "OK"


class ControlCommands(PeerCommands):
    """The command channel plus ``interlock`` and ``opfail`` (see :class:`ControlSwitches`)
    and the verbs in ``extra`` (``verb -> fn(rest) -> answer line``, e.g. ``sg``/``sgveto``/
    ``log``; an exception becomes ``ERR``)."""

    def __init__(self, model: SclModel, update, switches: ControlSwitches,
                 extra: dict[str, Callable[[str], str]] | None = None) -> None:
        super().__init__(model, update)
        self.switches = switches
        self.extra = dict(extra or {})

    def handle(self, line: str) -> str:
        verb, _, rest = line.strip().partition(" ")
        try:
            if verb in ("interlock", "opfail"):
                return self.switches.handle(verb, rest)
            if verb in self.extra:
                return self.extra[verb](rest)
        except Exception as exc:
            return f"ERR {type(exc).__name__}: {exc}".replace("\n", " ")
        return super().handle(line)
