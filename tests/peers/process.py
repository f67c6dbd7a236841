"""Start and stop peer server processes (used by tests/conftest.py and benchmarks/).

:func:`start_peer` runs ``tests/peers/libiec_server.py`` or ``tests/peers/rust_server.py`` as a
child process, waits for its ``READY <port>`` line and returns a :class:`PeerServer`;
:meth:`PeerServer.stop` stops exactly that process (signal, then SIGKILL after a grace period).
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
import time
from dataclasses import dataclass, field
from typing import IO

from .sclmodel import Leaf, SclModel, default_scl

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
    :ivar proc: the child process (its stdout is closed; stderr goes to a temporary file)
    """

    name: str
    host: str
    port: int
    model: SclModel
    proc: subprocess.Popen
    _stderr: IO[bytes] | None = field(default=None, repr=False)

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
            return self.model.mms_names(ld, control_blocks="names", case_sensitive=True)
        return self.model.mms_names(ld)

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
        return self.proc.returncode


class PeerStartError(RuntimeError):
    """A peer server did not come up (the message carries its stderr)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(proc: subprocess.Popen, timeout: float) -> str | None:
    """The first stdout line of ``proc`` if it arrives within ``timeout`` s, else None."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    buf = b""
    fd = proc.stdout.fileno()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                return None
            chunk = os.read(fd, 4096)
            if not chunk:  # EOF: the child exited (or closed stdout) before READY
                return buf.decode("utf-8", "replace") or None
            buf += chunk
    return buf.split(b"\n", 1)[0].decode("utf-8", "replace")


def start_peer(kind: str, scl: str = DEFAULT_SCL, ied: str | None = None, timeout: float = START_TIMEOUT) -> PeerServer:
    """Start a peer server process and wait until it listens.

    :param kind: ``"libiec"`` or ``"rust"``
    :param scl: SCL file to serve
    :param ied: IED name in the SCL (default: the first IED)
    :raises PeerStartError: no ``READY`` line within ``timeout`` (after 3 attempts on a
        fresh port each for libiec61850, which cannot choose its own port)
    """
    if kind not in PEER_SCRIPTS:
        raise ValueError(f"unknown peer kind {kind!r} (expected one of {sorted(PEER_SCRIPTS)})")
    model = SclModel(scl, ied)
    errors: list[str] = []
    for _attempt in range(3):
        port = 0 if kind == "rust" else _free_port()
        cmd = [sys.executable, PEER_SCRIPTS[kind], "--scl", scl, "--port", str(port)]
        if ied:
            cmd += ["--ied", ied]
        stderr = tempfile.TemporaryFile(prefix=f"peer-{kind}-")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, cwd=REPO_DIR)
        line = _wait_ready(proc, timeout)
        assert proc.stdout is not None
        proc.stdout.close()
        server = PeerServer(kind, "127.0.0.1", port, model, proc, stderr)
        if line and line.startswith("READY "):
            server.port = int(line.split()[1])
            return server
        rc = server.stop(signal.SIGKILL, grace=2.0) if proc.poll() is None else proc.returncode
        stderr.seek(0)
        err = stderr.read().decode("utf-8", "replace")
        stderr.close()
        errors.append(f"attempt {_attempt + 1}: {' '.join(cmd)}\n  first line: {line!r}, exit status {rc}\n  stderr:\n{err}")
        if proc.returncode not in (1, -signal.SIGKILL):  # 1 = could not listen: retry on another port
            break
    raise PeerStartError(f"{kind} peer server did not start:\n" + "\n".join(errors))
