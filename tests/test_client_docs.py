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


#: The file store the "Files" examples expect: name -> content
STORE = {
    "COMTRADE/rec1.cfg": b"STATION_1,REC1,1999\n2,1A,1D\n50\n1\n",
    "COMTRADE/rec1.dat": bytes(range(250)) * 8000,
}


def make_store(root: Path) -> None:
    for name, data in STORE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def test_guide_examples_run(start_peer_server, capsys, tmp_path, monkeypatch):
    store = tmp_path / "store"
    make_store(store)
    work = tmp_path / "work"  # the examples' current directory: downloads land here
    (work / "outbox").mkdir(parents=True)
    (work / "outbox" / "settings.cfg").write_bytes(b"setting=1\n")
    monkeypatch.chdir(work)
    peer = start_peer_server("libiec", filestore=store)
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
    # Files: listing, the download tool, bytes/file object, upload + delete, rename refused
    assert f"COMTRADE/rec1.cfg {len(STORE['COMTRADE/rec1.cfg'])} " in out
    assert f"COMTRADE/rec1.dat: {len(STORE['COMTRADE/rec1.dat'])} octets" in out
    for name, data in STORE.items():
        assert (work / "records" / Path(name).name).read_bytes() == data
    assert (work / "rec1.dat").read_bytes() == STORE["COMTRADE/rec1.dat"]
    assert ns["cfg"] == STORE["COMTRADE/rec1.cfg"]
    assert "FileOpen 'COMTRADE/rec9.cfg'" in out and not (work / "rec9.cfg").exists()
    assert "this server cannot rename files" in out
    assert not (store / "settings.cfg").exists()  # uploaded, then deleted
    assert sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file()) == sorted(STORE)
    assert "state: CLOSED" in out and "connection closed" in out
