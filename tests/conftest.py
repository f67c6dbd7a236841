"""Shared pytest fixtures: peer IEC 61850 servers (libiec61850 and the Rust-based stack).

The peer servers run as child processes (``tests/peers/libiec_server.py`` and
``tests/peers/rust_server.py``) on 127.0.0.1, serving an SCL file from ``examples/``.

* ``libiec_server`` / ``rust_server`` (session scope) - one shared server each; do not change
  its values (use ``start_peer_server`` for tests that write, or restore what you change).
* ``peer_server`` - parametrised over both kinds.
* ``start_peer_server(kind, scl=..., filestore=DIR)`` (function scope) - a private server,
  e.g. to kill; ``filestore`` (libiec only) is the directory its MMS file services serve.

Each yields a :class:`PeerServer`. A server that does not come up is an **error**, never a
skip: an interop test that skips counts as a failure.

Nothing here imports ``py61850``: the fixtures must work while the product does not.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Iterator

import pytest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from peers.process import DEFAULT_SCL, PeerServer, PeerStartError, start_peer  # noqa: E402
from peers.sclmodel import SclModel  # noqa: E402

__all__ = ["PeerServer", "PeerStartError", "start_peer"]


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def simple_io_model() -> SclModel:
    """The model of ``examples/simple_io.icd``."""
    return SclModel(DEFAULT_SCL)


def _session_peer(kind: str) -> Iterator[PeerServer]:
    server = start_peer(kind)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def libiec_server() -> Iterator[PeerServer]:
    """libiec61850 server (pyiec61850-ng) serving ``examples/simple_io.icd``, shared."""
    yield from _session_peer("libiec")


@pytest.fixture(scope="session")
def rust_server() -> Iterator[PeerServer]:
    """Rust-based ``iec61850`` server serving ``examples/simple_io.icd``, shared."""
    yield from _session_peer("rust")


@pytest.fixture(params=["libiec", "rust"])
def peer_server(request: pytest.FixtureRequest) -> PeerServer:
    """Each shared peer server in turn."""
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture
def start_peer_server() -> Iterator[Callable[..., PeerServer]]:
    """Factory for private peer servers: ``start_peer_server("rust", scl=path)``,
    ``start_peer_server("libiec", filestore=tmp_path)``.

    Every server it started is stopped at teardown (SIGTERM, then SIGKILL) unless the test
    already stopped or killed it.
    """
    started: list[PeerServer] = []

    def _start(kind: str, scl: str = DEFAULT_SCL, ied: str | None = None,
               filestore: str | os.PathLike[str] | None = None) -> PeerServer:
        server = start_peer(kind, scl, ied, filestore=filestore)
        started.append(server)
        return server

    try:
        yield _start
    finally:
        for server in started:
            server.stop()
