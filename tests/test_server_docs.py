"""The examples of docs/server.rst run as written (in order, sharing one namespace,
from the root of the sources), so that the guide documents only what works; the
values the guide shows in comments are the ones printed."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "server.rst"


def python_blocks(text: str) -> list[str]:
    return [textwrap.dedent(m.group(1))
            for m in re.finditer(r"^\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)", text, re.M)]


def test_guide_examples_run(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    blocks = python_blocks(GUIDE.read_text(encoding="utf-8"))
    assert len(blocks) >= 10
    ns: dict = {}
    try:
        for i, src in enumerate(blocks):
            src = src.replace("port=10102", "port=0")  # any free port
            exec(compile(src, f"{GUIDE.name}[block {i}]", "exec"), ns)
    finally:
        server = ns.get("server")
        if server is not None:
            server.close()
    out = capsys.readouterr().out.splitlines()
    expected = [
        "TEST",
        "['TESTGenericIO', 'TESTLD0']",
        "('py61850', 'SimpleIO', '1.0')",
        "['DEVLD0']",
        "1500.0",
        "True True",
        "42.5",
        "MX",
        "[1] DATA_CHANGE",
        "refused: OBJECT_VALUE_INVALID",
        "55",
        "99.5",
        "[99.5]",
        "2",
        "client 127.0.0.1 connected",
        "client 127.0.0.1 disconnected",
        "0 0",
        "COMTRADE/rec1.cfg 19",
        "b'Feeder1,TEST,1999'",
        "delete refused",
        "1 1 0",
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, (missing, out)
    assert "TESTGenericIO/GGIO1.IntSet1.setVal = 55 from 127.0.0.1" in out
    assert "TESTGenericIO/GGIO1.IntSet1.setVal = 500 from 127.0.0.1" in out
    assert any(line.startswith("download of COMTRADE/rec1.cfg by 127.0.0.1") for line in out)
    # (a client of an earlier example may still be leaving when the callback is set:
    # its "disconnected" can come first; the example's own client connects, then leaves
    # before stop() returns)
    last = {line: i for i, line in enumerate(out)}
    assert last["client 127.0.0.1 connected"] < last["client 127.0.0.1 disconnected"] < last["0 0"]
    assert any(line.startswith("[[7.25], BitString") for line in out)
