"""The ``py61850`` commands of issue 7: ``log``, ``sg`` and ``gocb``.

They run in process (``py61850.cli.main``) against the peer servers of tests/peers
(libiec61850: GoCB, setting groups with editing, an LCB without storage; the Rust-based
server: journal entries written by its ``log`` command), one check runs the installed
command as a child process, and the last ones run against py61850's own server.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import py61850
from peers.process import PeerServer
from py61850 import cli

UTC = dt.timezone.utc
GENERIC = "TESTGenericIO"
GOCB = f"{GENERIC}/LLN0.gcbEvents"
LCB = f"{GENERIC}/LLN0.EventLog"
LD = "TESTLD0"
OPDL = f"{LD}/PTOC1.OpDlTmms.setVal"
STRVAL = f"{LD}/PTOC1.StrVal.setMag.f"
T0 = dt.datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(py61850.__file__)))


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """``py61850 ARGS`` in this process: (exit status, stdout, stderr)."""
    monkeypatch.setenv("COLUMNS", "200")
    try:
        rc = cli.main(list(args))
    except SystemExit as exc:  # usage errors
        rc = int(exc.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def addr(peer: PeerServer) -> str:
    return f"127.0.0.1:{peer.port}"


def attr_lines(out: str) -> dict[str, str]:
    """``Name  value`` lines of a control block listing."""
    got = {}
    for line in out.splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            name, _, value = line.strip().partition(" ")
            got[name] = value.strip()
    return got


# ------------------------------------------------------------------ gocb


def test_gocb_show_enable_disable_json(start_peer_server, monkeypatch, capsys):
    peer = start_peer_server("libiec")
    rc, out, err = run(monkeypatch, capsys, "gocb", addr(peer), GOCB)
    assert rc == 0, err
    assert out.splitlines()[0] == f"{GENERIC}/LLN0.GO.gcbEvents"
    attrs = attr_lines(out)
    assert attrs["GoEna"] == "false"
    assert attrs["GoID"] == "'TESTGenericIO/LLN0.gcbEvents'"
    assert attrs["DatSet"] == "'TESTGenericIO/LLN0$Events'"
    assert attrs["DstAddress"] == "01-0C-CD-01-00-01 APPID 0x1001 VLAN 5 prio 4"
    assert attrs["MinTime"] == "4" and attrs["MaxTime"] == "1000" and attrs["ConfRev"] == "1"
    rc, out, err = run(monkeypatch, capsys, "gocb", addr(peer), f"{GENERIC}/LLN0.GO.gcbEvents", "--enable")
    assert rc == 0, err
    assert attr_lines(out)["GoEna"] == "true"
    rc, out, err = run(monkeypatch, capsys, "gocb", addr(peer), GOCB, "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["go_ena"] is True and d["dst_address"]["appid"] == 0x1001 and d["min_time"] == 4
    rc, out, err = run(monkeypatch, capsys, "gocb", addr(peer), GOCB, "--disable")
    assert rc == 0 and attr_lines(out)["GoEna"] == "false"


def test_gocb_errors(start_peer_server, monkeypatch, capsys):
    peer = start_peer_server("libiec")
    rc, _, err = run(monkeypatch, capsys, "gocb", addr(peer), f"{GENERIC}/LLN0.nope")
    assert rc == 1 and "OBJECT_DOES_NOT_EXIST" in err and "nope" in err
    rc, _, err = run(monkeypatch, capsys, "gocb", addr(peer), f"{GENERIC}/LLN0.RP.gcbEvents")
    assert rc == 1 and "OBJECT_REFERENCE_INVALID" in err
    rc, _, err = run(monkeypatch, capsys, "gocb", addr(peer), GOCB, "--enable", "--disable")
    assert rc == 2 and "not allowed with" in err


# ------------------------------------------------------------------ sg


def test_sg_show_activate_edit_confirm(start_peer_server, monkeypatch, capsys):
    peer = start_peer_server("libiec")
    rc, out, err = run(monkeypatch, capsys, "sg", addr(peer), LD)
    assert rc == 0, err
    assert out.splitlines()[0] == f"{LD}/LLN0.SP.SGCB"
    attrs = attr_lines(out)
    assert attrs["NumOfSG"] == "3" and attrs["ActSG"] == "1" and attrs["EditSG"] == "0"
    assert attrs["CnfEdit"] == "false" and "ResvTms" in attrs

    rc, out, err = run(monkeypatch, capsys, "sg", addr(peer), LD, "--activate", "2")
    assert rc == 0, err
    assert "active setting group: 2" in out
    after = out[out.index("(after)"):]
    assert attr_lines(after)["ActSG"] == "2"
    assert peer.sg_state(LD)["act"] == 2

    rc, out, err = run(monkeypatch, capsys, "sg", addr(peer), LD, "--edit", "3",
                       "--set", "PTOC1.OpDlTmms.setVal=333", "--set", f"{STRVAL}=3.75", "--confirm")
    assert rc == 0, err
    assert "editing setting group 3" in out
    assert f"{OPDL} [SE] = 333" in out and f"{STRVAL} [SE] = 3.75" in out
    assert "confirmed" in out
    assert peer.sg_value(OPDL, 3) == 333 and peer.sg_value(STRVAL, 3) == 3.75
    assert peer.sg_value(OPDL, 2) == 200

    # edited without --confirm: nothing changes (the reservation ends with the connection)
    rc, out, err = run(monkeypatch, capsys, "sg", addr(peer), LD, "--edit", "2", "--set", "PTOC1.OpDlTmms.setVal=222")
    assert rc == 0 and "not confirmed" in err
    assert peer.sg_value(OPDL, 2) == 200


def test_sg_errors(start_peer_server, monkeypatch, capsys):
    peer = start_peer_server("libiec")
    a = addr(peer)
    rc, _, err = run(monkeypatch, capsys, "sg", a, LD, "--activate", "7")
    assert rc == 1 and "OBJECT_VALUE_INVALID" in err
    rc, _, err = run(monkeypatch, capsys, "sg", a, LD, "--set", "PTOC1.OpDlTmms.setVal=1")
    assert rc == 2 and "--set needs --edit" in err
    rc, _, err = run(monkeypatch, capsys, "sg", a, LD, "--edit", "3", "--set", "PTOC1.OpDlTmms.setVal")
    assert rc == 2 and "REF=VALUE" in err
    rc, _, err = run(monkeypatch, capsys, "sg", a, LD, "--edit", "3", "--set", "PTOC1.OpDlTmms.setVal=abc")
    assert rc == 2 and "'abc' is not a value of type INT32" in err
    rc, _, err = run(monkeypatch, capsys, "sg", a, LD, "--edit", "0", "--confirm")
    assert rc == 2
    rc, _, err = run(monkeypatch, capsys, "sg", a, LD, "--activate", "300")
    assert rc == 2
    rc, _, err = run(monkeypatch, capsys, "sg", a, f"{GENERIC}")
    assert rc == 1 and "OBJECT_DOES_NOT_EXIST" in err  # no SGCB there
    peer.sg_veto(LD, True)
    rc, _, err = run(monkeypatch, capsys, "sg", a, LD, "--activate", "2")
    assert rc == 1 and "ACCESS_DENIED" in err
    assert peer.sg_state(LD)["act"] == 1


# ------------------------------------------------------------------ log


def test_log_rust(start_peer_server, monkeypatch, capsys):
    peer = start_peer_server("rust")
    log_ref = peer.journal_ref(LCB)
    # reason: the Rust server's mask (1 data-change, 2 quality-change)
    ids = [peer.log_value(LCB, f"{GENERIC}/GGIO1.Ind{i}.stVal", "ST", i == 2, reason=1 if i < 3 else 2,
                          time_ms=T0_MS + 1000 * i)[0]
           for i in (1, 2, 3)]
    rc, out, err = run(monkeypatch, capsys, "log", addr(peer), log_ref)
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 3 and "3 entries" in err
    assert lines[0] == (f"2026-11-21T07:00:01.000Z  {ids[0].hex()}  "
                        f"{GENERIC}/GGIO1$ST$Ind1$stVal = false  (data_change)")
    assert lines[1].endswith("Ind2$stVal = true  (data_change)")

    rc, out, err = run(monkeypatch, capsys, "log", addr(peer), log_ref, "--json")
    assert rc == 0
    entries = [json.loads(line) for line in out.splitlines()]
    assert [e["entry_id"] for e in entries] == [i.hex() for i in ids]
    assert entries[2]["variables"][0] == {"reference": f"{GENERIC}/GGIO1$ST$Ind3$stVal", "value": False,
                                          "reason": ["QUALITY_CHANGE"]}

    rc, out, err = run(monkeypatch, capsys, "log", addr(peer), log_ref, "--since", "2026-11-21T07:00:02Z")
    assert rc == 0 and len(out.splitlines()) == 2 and ids[0].hex() not in out
    rc, out, err = run(monkeypatch, capsys, "log", addr(peer), log_ref, "--since", "2026-11-21T07:00:00",
                       "--until", "2026-11-21T07:00:02Z")
    assert rc == 0 and [ln.split()[1] for ln in out.splitlines()] == [ids[0].hex(), ids[1].hex()]
    rc, out, err = run(monkeypatch, capsys, "log", addr(peer), log_ref, "--after", ids[0].hex(),
                       "--time", "2026-11-21T07:00:01Z")
    assert rc == 0 and [ln.split()[1] for ln in out.splitlines()] == [ids[1].hex(), ids[2].hex()]


def test_log_libiec_empty_and_errors(libiec_server, monkeypatch, capsys):
    a = addr(libiec_server)
    log_ref = libiec_server.journal_ref(LCB)
    rc, out, err = run(monkeypatch, capsys, "log", a, log_ref)
    assert rc == 0 and out == "" and "0 entries" in err
    rc, _, err = run(monkeypatch, capsys, "log", a, f"{GENERIC}/LLN0$NoLog")
    assert rc == 1 and "OBJECT_DOES_NOT_EXIST" in err
    rc, _, err = run(monkeypatch, capsys, "log", a, log_ref, "--after", "0001")
    assert rc == 2 and "--time" in err
    rc, _, err = run(monkeypatch, capsys, "log", a, log_ref, "--after", "xyz", "--time", "2026-11-21T07:00:00Z")
    assert rc == 2 and "hex" in err
    rc, _, err = run(monkeypatch, capsys, "log", a, log_ref, "--since", "yesterday")
    assert rc == 2 and "ISO 8601" in err
    rc, _, err = run(monkeypatch, capsys, "log", a, log_ref, "--since", "2026-11-21T07:00:00Z", "--after", "01",
                     "--time", "2026-11-21T07:00:00Z")
    assert rc == 2 and "exclude" in err
    rc, _, err = run(monkeypatch, capsys, "log", a, "TESTGenericIO")
    assert rc == 1 and "OBJECT_REFERENCE_INVALID" in err


def test_commands_as_child_processes(libiec_server, tmp_path):
    """The installed command, end to end (exit status, output, no traceback)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PKG_PARENT, *filter(None, [env.get("PYTHONPATH")])])
    a = addr(libiec_server)
    for args, want_rc, want in (
        (["gocb", a, GOCB], 0, "DstAddress"),
        (["sg", a, LD], 0, "NumOfSG"),
        (["log", a, libiec_server.journal_ref(LCB)], 0, ""),
        (["sg", a, LD, "--activate", "9"], 1, ""),
    ):
        res = subprocess.run([sys.executable, "-m", "py61850", *args], capture_output=True, text=True, timeout=60,
                             env=env, cwd=tmp_path)
        assert res.returncode == want_rc, (args, res.stderr)
        assert want in res.stdout
        assert "Traceback" not in res.stderr


# ------------------------------------------------------------------ py61850's own server


def test_commands_against_our_server(monkeypatch, capsys):
    from peers.process import DEFAULT_SCL
    from py61850.server import IedServer

    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(0, "127.0.0.1")
    try:
        a = f"127.0.0.1:{srv.port}"
        for v in (False, True, False):  # Ind1 starts True: three data changes
            srv.update_value(f"{GENERIC}/GGIO1.Ind1.stVal", v)
        log_ref = f"{GENERIC}/LLN0$EventLog"
        assert srv.log_info(log_ref).count == 3
        rc, out, err = run(monkeypatch, capsys, "log", a, log_ref)
        assert rc == 0, err
        lines = out.splitlines()
        assert len(lines) == 3 and "3 entries" in err
        assert [ln.split("  ")[-2:] for ln in lines] == [
            [f"{GENERIC}/GGIO1$ST$Ind1$stVal = {v}", "(data_change)"] for v in ("false", "true", "false")]
        first_id, first_time = lines[0].split()[1], lines[0].split()[0]
        rc, out, err = run(monkeypatch, capsys, "log", a, log_ref, "--after", first_id, "--time", first_time)
        assert rc == 0 and len(out.splitlines()) == 2 and first_id not in out

        rc, out, err = run(monkeypatch, capsys, "sg", a, LD, "--activate", "2")
        assert rc == 0, err
        assert srv.sgcb(LD).act_sg == 2
        rc, out, err = run(monkeypatch, capsys, "sg", a, LD, "--edit", "3", "--set", "PTOC1.OpDlTmms.setVal=333",
                           "--confirm")
        assert rc == 0, err
        assert srv.get_sg_value(OPDL, 3) == 333 and srv.get_sg_value(OPDL, 2) == 200

        rc, out, err = run(monkeypatch, capsys, "gocb", a, GOCB, "--enable")
        assert rc == 0, err
        attrs = attr_lines(out)
        assert attrs["GoEna"] == "true" and attrs["DstAddress"] == "01-0C-CD-01-00-01 APPID 0x1001 VLAN 5 prio 4"
    finally:
        srv.close()
