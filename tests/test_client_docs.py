"""The examples of docs/client.rst run as written against the libiec61850 peer server
(a private one: the examples write), so that the guide documents only what works."""
from __future__ import annotations

import re
import textwrap
import time
from pathlib import Path

from py61850.client import IedConnectionState

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "client.rst"


def python_blocks(text: str) -> list[str]:
    blocks = []
    for m in re.finditer(r"^\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)", text, re.M):
        blocks.append(textwrap.dedent(m.group(1)))
    return blocks


def test_guide_examples_run(start_peer_server, capsys):
    peer = start_peer_server("libiec")
    blocks = python_blocks(GUIDE.read_text(encoding="utf-8"))
    assert len(blocks) >= 10
    ns: dict = {}
    for i, src in enumerate(blocks):
        src = src.replace('"127.0.0.1", 102', f'"{peer.host}", {peer.port}')
        conn = ns.get("conn")
        if conn is not None and conn.state is IedConnectionState.CLOSED:
            conn.connect(peer.host, peer.port)  # the guide's examples share one open connection
        exec(compile(src, f"{GUIDE.name}[block {i}]", "exec"), ns)
    ns["conn"].close()  # the last example registered callbacks that print on close
    out = capsys.readouterr().out
    deadline = time.monotonic() + 5
    while "connection closed" not in out and time.monotonic() < deadline:
        time.sleep(0.02)
        out += capsys.readouterr().out
    assert "TESTGenericIO" in out and "OBJECT_DOES_NOT_EXIST" in out
    assert "state: CLOSED" in out and "connection closed" in out
