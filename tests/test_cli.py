"""The ``py61850`` command: demo, serve, browse, read, write, monitor.

``demo``, ``serve`` and ``monitor`` run as real child processes (``python -m py61850``,
the same code as the installed ``py61850`` script; ``monitor`` against the peer servers
of tests/peers, stopped with SIGINT like Ctrl-C); browse/read/write run in process
(``py61850.cli.main``) against an in-process server.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest

import py61850
from peers.process import DEFAULT_SCL
from py61850 import cli
from py61850.client import BitString, FunctionalConstraint as FC, IedConnection, MmsValue
from py61850.server import IedServer

UTC = dt.timezone.utc
ANIN1 = "TESTGenericIO/GGIO1.AnIn1.mag.f"
PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(py61850.__file__)))


def child_env() -> dict[str, str]:
    """Environment that makes a child import the same py61850 as this test process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PKG_PARENT, *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("COLUMNS", "120")
    return env


def run_cli(*args: str, timeout: float = 30.0, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "py61850", *args], capture_output=True, text=True,
                          timeout=timeout, env=child_env(), cwd=cwd)


class ServeProcess:
    """``py61850 serve ...`` in a child process; the port is read from its output."""

    def __init__(self, *args: str, cwd) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "py61850", "serve", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=child_env(), cwd=cwd)
        self.lines: list[str] = []
        self.port = 0
        deadline = time.monotonic() + 20
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if line.startswith("listening on"):
                self.port = int(line.split()[2].rsplit(":", 1)[1])
                return
        self.proc.kill()
        raise AssertionError(f"serve did not start: {self.lines} {self.proc.stderr.read() if self.proc.stderr else ''}")

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, "".join(self.lines) + out, err


# ------------------------------------------------------------------ demo


def test_demo_runs_the_tour_fast_and_exits_0(tmp_path):
    t0 = time.monotonic()
    res = run_cli("demo", cwd=tmp_path)
    elapsed = time.monotonic() - t0
    assert res.returncode == 0, res.stderr
    assert elapsed < 5.0, f"demo took {elapsed:.1f} s"
    out = res.stdout
    for step in ("1. A simulated server", "2. Identify", "3. Browse", "4. Read typed values",
                 "5. Write a setpoint and read it back", "6. The server refuses some writes"):
        assert step in out
    assert "DemoFeeder" in out  # identify
    assert "DEMOMeas" in out and "MMXU1" in out and "PhV" in out  # browse
    assert "FLOAT32" in out and "BOOLEAN" in out and "good" in out  # typed reads, quality
    assert "read back 42.5" in out
    assert "OBJECT_VALUE_INVALID" in out and "ACCESS_DENIED" in out
    assert "Traceback" not in res.stderr


def test_demo_in_process(capsys):
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "read back 42.5" in out and "done in" in out


def test_version_and_usage(tmp_path):
    res = run_cli("--version", cwd=tmp_path)
    assert res.returncode == 0 and py61850.__version__ in res.stdout
    res = run_cli(cwd=tmp_path)
    assert res.returncode == 2 and "COMMAND" in res.stderr
    res = run_cli("read", cwd=tmp_path)
    assert res.returncode == 2


# ------------------------------------------------------------------ serve


def test_serve_static_then_ctrl_c(tmp_path):
    srv = ServeProcess(DEFAULT_SCL, "--port", "0", "--host", "127.0.0.1", cwd=tmp_path)
    try:
        assert "IED TEST" in "".join(srv.lines)
        with IedConnection("127.0.0.1", srv.port) as c:
            first = c.read_float(ANIN1, FC.MX)
            time.sleep(0.3)
            assert c.read_float(ANIN1, FC.MX) == first == 12.5  # nothing changes by itself
            c.write_int32("TESTGenericIO/GGIO1.IntSet1.setVal", FC.SP, 9)
            assert c.read_int32("TESTGenericIO/GGIO1.IntSet1.setVal", FC.SP) == 9
    finally:
        rc, out, err = srv.stop(signal.SIGINT)
    assert rc == 0, err
    assert "connected" in out and "disconnected" in out and out.rstrip().endswith("stopped")


def test_serve_simulate_moves_values_and_sigterm(tmp_path):
    srv = ServeProcess(DEFAULT_SCL, "--port", "0", "--host", "127.0.0.1", "--simulate", "--interval", "0.05",
                       cwd=tmp_path)
    try:
        assert "simulating" in "".join(srv.lines)
        with IedConnection("127.0.0.1", srv.port) as c:
            floats = set()
            toggles = set()
            t_values = set()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and (len(floats) < 3 or len(toggles) < 2):
                floats.add(c.read_float(ANIN1, FC.MX))
                t_values.add(c.read_timestamp("TESTGenericIO/GGIO1.AnIn1.t", FC.MX).seconds)
                toggles.add(tuple(c.read_boolean(f"TESTGenericIO/GGIO1.Ind{i}.stVal", FC.ST) for i in range(1, 5)))
                time.sleep(0.05)
            assert len(floats) >= 3, floats
            assert len(toggles) >= 2, toggles
            assert all(abs(v - 12.5) < 5 for v in floats)  # wanders around its initial value
            assert max(t_values) > 1_700_000_000  # the time stamp follows
    finally:
        rc, out, err = srv.stop(signal.SIGTERM)
    assert rc == 0, err


def test_serve_log_storage_survives_a_restart(tmp_path):
    """``serve --log-storage``: what the simulated indications logged is still there after a
    restart on the same file, and new entries continue the entry ids."""
    db = tmp_path / "logs.sqlite"
    log_ref = "TESTGenericIO/LLN0$EventLog"
    start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)

    def run_and_read(min_entries: int) -> list:
        srv = ServeProcess(DEFAULT_SCL, "--port", "0", "--host", "127.0.0.1", "--simulate", "--interval", "0.05",
                           "--log-storage", str(db), cwd=tmp_path)
        try:
            assert "logs TESTGenericIO/LLN0$EventLog (stored in" in "".join(srv.lines)
            with IedConnection("127.0.0.1", srv.port) as c:
                deadline = time.monotonic() + 10
                entries = c.query_log_by_time(log_ref, start, None)
                while len(entries) < min_entries and time.monotonic() < deadline:
                    time.sleep(0.1)
                    entries = c.query_log_by_time(log_ref, start, None)
        finally:
            rc, _, err = srv.stop(signal.SIGTERM)
        assert rc == 0, err
        return entries

    first = run_and_read(3)
    assert len(first) >= 3
    assert all(v.reference.startswith("TESTGenericIO/GGIO1$ST$Ind") for e in first for v in e.variables)
    second = run_and_read(len(first) + 3)
    ids = [e.entry_id for e in second]
    assert ids[:len(first)] == [e.entry_id for e in first]       # the stored entries came back
    assert ids == sorted(ids) and len(set(ids)) == len(ids)       # and the new ones continue after them
    assert len(second) >= len(first) + 3


def test_serve_errors(tmp_path):
    res = run_cli("serve", str(tmp_path / "missing.icd"), "--port", "0", cwd=tmp_path)
    assert res.returncode == 1 and "missing.icd" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("serve", DEFAULT_SCL, "--ied", "NOPE", "--port", "0", cwd=tmp_path)
    assert res.returncode == 1 and "NOPE" in res.stderr
    bad = tmp_path / "bad.icd"
    bad.write_text("<SCL><IED")
    res = run_cli("serve", str(bad), "--port", "0", cwd=tmp_path)
    assert res.returncode == 1 and "bad.icd" in res.stderr
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("not an SQLite file " * 100)
    res = run_cli("serve", DEFAULT_SCL, "--port", "0", "--log-storage", str(not_a_db), cwd=tmp_path)
    assert res.returncode == 1 and "notes.txt" in res.stderr and "Traceback" not in res.stderr
    assert not_a_db.read_text() == "not an SQLite file " * 100      # left as it was
    res = run_cli("serve", DEFAULT_SCL, "--port", "0", "--log-max-entries", "0", cwd=tmp_path)
    assert res.returncode == 2 and "--log-max-entries" in res.stderr


# ------------------------------------------------------------------ browse / read / write


@pytest.fixture(scope="module")
def server():
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(0, "127.0.0.1")
    yield srv
    srv.close()


@pytest.fixture
def addr(server):
    return f"127.0.0.1:{server.port}"


def test_browse(addr, capsys):
    assert cli.main(["browse", addr]) == 0
    out = capsys.readouterr().out
    assert "py61850 SimpleIO 1.0" in out
    for name in ("TESTGenericIO", "TESTLD0", "GGIO1", "LLN0", "AnIn1", "SPCSO1", "TypST"):
        assert name in out
    assert "[MX]" not in out


def test_browse_with_fcs_and_values(addr, capsys):
    assert cli.main(["browse", addr, "--fcs", "--values"]) == 0
    out = capsys.readouterr().out
    assert "AnIn1 MX" in out
    assert "f [MX] FLOAT32 = 12.5" in out
    assert "stVal [ST] BOOLEAN = true" in out
    assert "q [MX] BITS13 = good" in out
    assert "setVal [SP] INT32" in out
    assert "ctlModel [CF] INT8 = 1" in out


def test_read(addr, capsys):
    assert cli.main(["read", addr, ANIN1, "MX"]) == 0
    assert capsys.readouterr().out.strip() == f"{ANIN1} [MX] FLOAT32 = 12.5"
    # FC found from the data directory
    assert cli.main(["read", addr, ANIN1]) == 0
    assert "= 12.5" in capsys.readouterr().out
    # a data object: one tree per FC
    assert cli.main(["read", addr, "TESTGenericIO/GGIO1.SPCSO1"]) == 0
    out = capsys.readouterr().out
    assert "[ST]" in out and "[CF]" in out and "stVal BOOLEAN = false" in out and "ctlModel INT8 = 1" in out
    assert cli.main(["read", addr, "TESTLD0/GGIO2.TypST.oct64Val", "st"]) == 0
    assert "0x" + b"st-octets".hex() in capsys.readouterr().out
    assert cli.main(["read", addr, "TESTLD0/GGIO2.TypST.t", "ST"]) == 0
    assert "2023-11-14T22:13:20.125Z" in capsys.readouterr().out


def test_read_errors(addr, capsys):
    assert cli.main(["read", addr, "TESTGenericIO/GGIO1.Nope.stVal"]) == 1
    assert "no such object" in capsys.readouterr().err
    assert cli.main(["read", addr, ANIN1, "ST"]) == 1
    assert "OBJECT_DOES_NOT_EXIST" in capsys.readouterr().err
    with pytest.raises(SystemExit) as ei:
        cli.main(["read", addr, ANIN1, "XX"])
    assert ei.value.code == 2
    assert cli.main(["read", "127.0.0.1:1", ANIN1, "MX", "--timeout", "2"]) == 1
    assert "connect" in capsys.readouterr().err
    with pytest.raises(SystemExit) as ei:  # a bad FC is bad usage, found before connecting
        cli.main(["read", "127.0.0.1:1", ANIN1, "XX", "--timeout", "2"])
    assert ei.value.code == 2
    assert "unknown functional constraint" in capsys.readouterr().err


WRITES = [
    ("TESTGenericIO/GGIO1.IntSet1.setVal", "-17", -17),
    ("TESTLD0/GGIO2.TypSP.int32uVal", "0x10", 16),
    ("TESTLD0/GGIO2.TypSP.boolVal", "off", False),
    ("TESTLD0/GGIO2.TypSP.flt64Val", "2.5e3", 2500.0),
    ("TESTLD0/GGIO2.TypSP.vis64Val", "hello world", "hello world"),
    ("TESTLD0/GGIO2.TypSP.uni255Val", "Grüße", "Grüße"),
    ("TESTLD0/GGIO2.TypSP.oct64Val", "0a:0b:ff", b"\x0a\x0b\xff"),
    ("TESTLD0/GGIO2.TypSP.dbposVal", "10", BitString.from_str("10")),
    ("TESTLD0/GGIO2.TypSP.t", "2024-02-29T12:00:00.5Z", dt.datetime(2024, 2, 29, 12, 0, 0, 500000, tzinfo=UTC)),
    ("TESTGenericIO/GGIO1.SetPt1.setMag", '{"f": 6.25}', [6.25]),
]


@pytest.mark.parametrize("ref,text,want", WRITES, ids=[w[0].rsplit(".", 1)[-1] for w in WRITES])
def test_write_parses_values_by_type(server, addr, capsys, ref, text, want):
    assert cli.main(["write", addr, ref, "SP", text]) == 0
    out = capsys.readouterr().out
    assert out.startswith("written")
    assert server.get_value(ref, "SP") == want


def test_write_errors(server, addr, capsys):
    assert cli.main(["write", addr, "TESTGenericIO/GGIO1.Ind1.stVal", "ST", "false"]) == 1
    assert "ACCESS_DENIED" in capsys.readouterr().err
    with pytest.raises(SystemExit) as ei:
        cli.main(["write", addr, "TESTGenericIO/GGIO1.IntSet1.setVal", "SP", "many"])
    assert ei.value.code == 2
    assert "INT32" in capsys.readouterr().err
    with pytest.raises(SystemExit) as ei:
        cli.main(["write", addr, "TESTLD0/GGIO2.TypSP.int8Val", "SP", "1000"])
    assert ei.value.code == 2
    assert server.get_value("TESTLD0/GGIO2.TypSP.boolVal", "SP") in (True, False)


# ------------------------------------------------------------------ helpers


def test_parse_address():
    assert cli.parse_address("10.0.0.1") == ("10.0.0.1", 102)
    assert cli.parse_address("ied.local:10102") == ("ied.local", 10102)
    assert cli.parse_address("[::1]:5000") == ("::1", 5000)
    assert cli.parse_address("[fe80::1]") == ("fe80::1", 102)
    for bad in ("", "h:0", "h:x", "h:70000", "[::1"):
        with pytest.raises(cli.UsageError):
            cli.parse_address(bad)


def test_format_value():
    assert cli.format_value(MmsValue.boolean(True)) == "true"
    assert cli.format_value(MmsValue.float32(0.1)) == "0.1"
    assert cli.format_value(MmsValue.float64(0.1)) == "0.1"
    assert cli.format_value(MmsValue.int32(-5)) == "-5"
    assert cli.format_value(MmsValue.visible_string("x")) == "'x'"
    assert cli.format_value(MmsValue.octet_string(b"\x01\xab")) == "0x01ab"
    q = MmsValue.bit_string(BitString.from_str("0000000100000"))
    assert cli.format_value(q, "q") == "oldData (0000000100000)"
    assert cli.format_value(MmsValue.bit_string(BitString.from_str("1100000000000")), "q").startswith("questionable")
    assert cli.format_value(MmsValue.bit_string(BitString.from_str("10"))) == "10"
    t = MmsValue.utc_time(dt.datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=UTC))
    assert cli.format_value(t) == "2024-01-02T03:04:05.250Z"
    s = MmsValue.structure([MmsValue.float32(1.5), MmsValue.boolean(False)])
    assert cli.format_value(s) == "{1.5, false}"


# ------------------------------------------------------------------ examples/


EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def test_example_server_and_client_scripts(tmp_path):
    proc = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "server_simple_io.py"), "--port", "0",
                             "--host", "127.0.0.1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env(), cwd=tmp_path)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on"), line + (proc.stderr.read() if proc.poll() is not None else "")
        port = line.split()[2].rsplit(":", 1)[1]
        res = subprocess.run([sys.executable, os.path.join(EXAMPLES, "client_read_write.py"), "--port", port],
                             capture_output=True, text=True, timeout=30, env=child_env(), cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert "connected to py61850 SimpleIO 1.0" in res.stdout
        assert "IntSet1.setVal 42 -> 43" in res.stdout
        assert "IntSet1.setVal = 1000 refused: OBJECT_VALUE_INVALID" in res.stdout
        assert "write refused: ACCESS_DENIED" in res.stdout
        with IedConnection("127.0.0.1", int(port)) as c:
            first = c.read_float(ANIN1, FC.MX)
            time.sleep(0.7)
            assert c.read_float(ANIN1, FC.MX) != first  # the sine wave moves
            assert 0 <= c.read_float("TESTGenericIO/GGIO1.AnIn4.mag.f", FC.MX) < 60  # read handler
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert "connected" in err  # the connection callback logs


# ------------------------------------------------------------------ monitor (against a peer server)

URCB_REF = "TESTGenericIO/LLN0.RP.urcbEvents01"


class MonitorProcess:
    """``py61850 monitor ...`` in a child process; stdout lines are collected by a thread."""

    def __init__(self, *args: str, cwd) -> None:
        import queue
        import threading

        self.proc = subprocess.Popen([sys.executable, "-m", "py61850", "monitor", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=child_env(), cwd=cwd)
        self.lines: "queue.Queue[str | None]" = queue.Queue()
        self.seen: list[str] = []

        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.put(line.rstrip("\n"))
            self.lines.put(None)

        self.reader = threading.Thread(target=pump, daemon=True)
        self.reader.start()

    def wait_line(self, pred, what: str, timeout: float = 20.0) -> str:
        import queue

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(0.0, left))
            except queue.Empty:
                line = None
                left = 0
            if line is not None:
                self.seen.append(line)
                if pred(line):
                    return line
                continue
            if left <= 0 or self.proc.poll() is not None:
                self.proc.kill()
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError(f"monitor printed no line {what}: {self.seen}\nstderr: {err}")

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str]:
        self.proc.send_signal(sig)
        self.proc.wait(timeout=20)
        self.reader.join(10)
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                self.seen.append(line)
        err = self.proc.stderr.read() if self.proc.stderr else ""
        return self.proc.returncode, err


@pytest.mark.parametrize("kind", ["libiec", "rust"])
def test_monitor_json_until_ctrl_c(start_peer_server, tmp_path, kind):
    import json

    peer = start_peer_server(kind)
    mon = MonitorProcess("127.0.0.1", URCB_REF, "--port", str(peer.port), "--gi", "--json", cwd=tmp_path)
    try:
        gi = json.loads(mon.wait_line(lambda l: l.startswith("{") and '"GI"' in l, "with a GI report"))
        assert gi["rcb"] == URCB_REF and gi["rpt_id"] == "Events"
        assert [m["value"] for m in gi["members"]] == [True, False, True, False]
        assert gi["members"][0]["reference"] == "TESTGenericIO/GGIO1$ST$Ind1$stVal"
        peer.set_value("GenericIO/GGIO1.Ind2.stVal", "ST", True)
        line = mon.wait_line(lambda l: '"DATA_CHANGE"' in l, "with a data-change report")
        d = json.loads(line)
        changed = [m for m in d["members"] if "DATA_CHANGE" in m["reason"]]
        assert changed == [{"index": 1, "reference": "TESTGenericIO/GGIO1$ST$Ind2$stVal", "value": True,
                            "reason": ["DATA_CHANGE"]}]
        assert d["seq_num"] is not None
    finally:
        rc, err = mon.stop(signal.SIGINT)
    assert rc == 0, err
    assert "monitoring URCB " + URCB_REF in err
    assert "0 sequence gaps" in err and "Traceback" not in err
    # the monitor disabled and released the RCB: another client can take it
    with IedConnection("127.0.0.1", peer.port) as c:
        rcb = c.read_rcb(URCB_REF)
        assert rcb.rpt_ena is False and rcb.resv is False
        rcb.enable()
        rcb.disable()


def test_monitor_human_lines(start_peer_server, tmp_path):
    peer = start_peer_server("libiec")
    mon = MonitorProcess(f"127.0.0.1:{peer.port}", "TESTGenericIO/LLN0.BR.brcbMeas01", "--gi", cwd=tmp_path)
    try:
        head = mon.wait_line(lambda l: l.startswith("#1 "), "with the first report header")
        assert "TESTGenericIO/LLN0.BR.brcbMeas01" in head and "RptID=Meas" in head and "SqNum=" in head
        assert "EntryID=" in head and "DatSet=TESTGenericIO/LLN0$Measurements" in head
        mon.wait_line(lambda l: l.strip() == "TESTGenericIO/GGIO1$MX$AnIn1$mag$f = 12.5  (GI)", "with AnIn1")
    finally:
        rc, err = mon.stop(signal.SIGTERM)
    assert rc == 0, err


def test_monitor_failures_exit_non_zero(start_peer_server, tmp_path):
    peer = start_peer_server("libiec")
    res = run_cli("monitor", "127.0.0.1", "TESTGenericIO/LLN0.RP.noSuchRcb01", "--port", str(peer.port),
                  cwd=tmp_path)
    assert res.returncode == 1 and "noSuchRcb01" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("monitor", "127.0.0.1", "TESTGenericIO/GGIO1.AnIn1", "--port", str(peer.port), cwd=tmp_path)
    assert res.returncode == 1 and "OBJECT_REFERENCE_INVALID" in res.stderr
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    res = run_cli("monitor", "127.0.0.1", URCB_REF, "--port", str(free), "--timeout", "2", cwd=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    res = run_cli("monitor", "127.0.0.1", cwd=tmp_path)
    assert res.returncode == 2


# ------------------------------------------------------------------ control


@pytest.fixture(scope="module")
def control_scl(tmp_path_factory) -> str:
    from test_control_client import write_control_scl

    return write_control_scl(tmp_path_factory.mktemp("cli-control"))


def run_control(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """``py61850 control ...`` in this process (wide console, no wrapping)."""
    monkeypatch.setenv("COLUMNS", "250")
    try:
        rc = cli.main(["control", *args])
    except SystemExit as exc:  # usage errors
        rc = int(exc.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def lines_of(out: str) -> list[str]:
    return [" ".join(line.split()) for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize("kind", ["libiec", "rust"])
def test_control_prints_each_step_for_every_model(start_peer_server, control_scl, monkeypatch, capsys, kind):
    peer = start_peer_server(kind, scl=control_scl)
    addr = f"127.0.0.1:{peer.port}"
    g = "TESTGenericIO/GGIO1"

    rc, out, err = run_control(monkeypatch, capsys, addr, f"{g}.SPCSO1", "true")
    assert rc == 0, err
    assert lines_of(out) == [
        f"model {g}.SPCSO1: direct-with-normal-security, ctlVal BOOLEAN",
        "operate Write Oper ctlVal=true: accepted (ctlNum 1)",
        "stVal true",
        "done",
    ]
    rc, out, err = run_control(monkeypatch, capsys, addr, f"{g}.SPCSO2", "on", "--orident", "cli", "--orcat", "2")
    assert rc == 0, err
    assert lines_of(out) == [
        f"model {g}.SPCSO2: sbo-with-normal-security, ctlVal BOOLEAN",
        "select Read SBO: selected (ctlNum 1)",
        "operate Write Oper ctlVal=on: accepted (ctlNum 1, origin 'cli'/STATION_CONTROL)",
        "stVal true",
        "done",
    ]
    rc, out, err = run_control(monkeypatch, capsys, addr, f"{g}.SPCSO3", "true")
    assert rc == 0, err
    assert lines_of(out)[-3:] == ["termination CommandTermination+ (ctlNum 1)", "stVal true", "done"]
    assert "time-activated operate" in lines_of(out)[0]
    rc, out, err = run_control(monkeypatch, capsys, addr, f"{g}.SPCSO4", "true", "--test")
    assert rc == 0, err
    assert lines_of(out) == [
        f"model {g}.SPCSO4: sbo-with-enhanced-security, ctlVal BOOLEAN",
        "select Write SBOw ctlVal=true: selected (ctlNum 1, test)",
        "operate Write Oper ctlVal=true: accepted (ctlNum 1, test)",
        "termination CommandTermination+ (ctlNum 1)",
        "stVal true",
        "done",
    ]
    rc, out, err = run_control(monkeypatch, capsys, addr, f"{g}.SPCSO4", "false", "--cancel")
    assert rc == 0, err
    assert lines_of(out)[-2:] == ["cancel Write Cancel: accepted (ctlNum 1)", "cancelled"]
    rc, out, err = run_control(monkeypatch, capsys, addr, f"{g}.ISCSO1", "-12")
    assert rc == 0 and "stVal -12" in lines_of(out), err
    rc, out, err = run_control(monkeypatch, capsys, addr, f"{g}.AnOut1", "3.25")
    assert rc == 0 and "mxVal [3.25]" in lines_of(out), err
    with IedConnection("127.0.0.1", peer.port) as c:
        assert c.read_boolean(f"{g}.SPCSO4.stVal", FC.ST) is True
        assert c.read_int32(f"{g}.ISCSO1.stVal", FC.ST) == -12


@pytest.mark.parametrize("kind", ["libiec", "rust"])
def test_control_refusals_exit_1_with_the_add_cause(start_peer_server, control_scl, monkeypatch, capsys, kind):
    peer = start_peer_server(kind, scl=control_scl)
    addr = f"127.0.0.1:{peer.port}"
    g = "TESTGenericIO/GGIO1"

    rc, out, err = run_control(monkeypatch, capsys, addr, f"{g}.SPCSO5", "true")
    assert rc == 1
    assert lines_of(out)[0] == f"model {g}.SPCSO5: status-only"
    assert lines_of(out)[-1] == "refused: NOT_SUPPORTED"

    peer.command(f"opfail {g}.SPCSO3 on")
    rc, out, err = run_control(monkeypatch, capsys, addr, f"{g}.SPCSO3", "true")
    assert rc == 1
    if kind == "libiec":  # accepted, then CommandTermination-
        assert lines_of(out)[-2:] == ["termination CommandTermination- (ctlNum 1, AddCause BLOCKED_BY_PROCESS)",
                                      "failed: BLOCKED_BY_PROCESS"]
    else:  # refused (the AddCause came with its CommandTermination-)
        assert lines_of(out)[-1].startswith("refused: BLOCKED_BY_PROCESS (LastApplError:")

    peer.command(f"interlock {g}.SPCSO1 on")
    rc, out, err = run_control(monkeypatch, capsys, addr, f"{g}.SPCSO1", "true", "--interlock-check")
    assert rc == 1
    if kind == "libiec":
        assert lines_of(out)[-1] == "refused: BLOCKED_BY_INTERLOCKING (LastApplError: error NO_ERROR, ctlNum 1)"
    else:  # the Rust server sends no LastApplError
        assert lines_of(out)[-1] == "refused: UNKNOWN (the server sent no AddCause)"

    rc, out, err = run_control(monkeypatch, capsys, addr, f"{g}.Ind1", "true")  # not controllable
    assert rc == 1 and "ctlModel" in err and "OBJECT_DOES_NOT_EXIST" in err
    with IedConnection("127.0.0.1", peer.port) as c:
        assert c.read_boolean(f"{g}.SPCSO1.stVal", FC.ST) is False


def test_control_usage_errors_exit_2(start_peer_server, control_scl, monkeypatch, capsys):
    peer = start_peer_server("libiec", scl=control_scl)
    addr = f"127.0.0.1:{peer.port}"
    rc, _, err = run_control(monkeypatch, capsys, addr, "TESTGenericIO/GGIO1.SPCSO1", "maybe")
    assert rc == 2 and "'maybe' is not a value of type BOOLEAN" in err
    rc, _, err = run_control(monkeypatch, capsys, addr, "TESTGenericIO/GGIO1.SPCSO1", "true", "--orcat", "9")
    assert rc == 2 and "--orcat" in err
    rc, _, err = run_control(monkeypatch, capsys, addr, "TESTGenericIO/GGIO1.SPCSO1", "true", "--time", "soon")
    assert rc == 2 and "ISO 8601" in err
    rc, _, err = run_control(monkeypatch, capsys, addr, "TESTGenericIO/GGIO1.SPCSO1", "true", "--cancel")
    assert rc == 2 and "--cancel cancels a selection" in err
    rc, _, _ = run_control(monkeypatch, capsys, addr)
    assert rc == 2


def test_control_subprocess_exit_status(start_peer_server, control_scl, tmp_path):
    """The installed command, end to end: a refusal is exit status 1 with the AddCause."""
    peer = start_peer_server("libiec", scl=control_scl)
    res = run_cli("control", f"127.0.0.1:{peer.port}", "TESTGenericIO/GGIO1.SPCSO4", "true", cwd=tmp_path)
    assert res.returncode == 0 and "CommandTermination+" in res.stdout, res.stderr
    peer.command("interlock TESTGenericIO/GGIO1.SPCSO4 on")
    res = run_cli("control", f"127.0.0.1:{peer.port}", "TESTGenericIO/GGIO1.SPCSO4", "false", cwd=tmp_path)
    assert res.returncode == 1 and "refused: BLOCKED_BY_INTERLOCKING" in res.stdout
    assert "Traceback" not in res.stderr


# ------------------------------------------------------------------ files


def run_files(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """``py61850 files ...`` in this process."""
    monkeypatch.setenv("COLUMNS", "250")
    try:
        rc = cli.main(["files", *args])
    except SystemExit as exc:  # usage errors
        rc = int(exc.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def file_peer(start_peer_server, tmp_path):
    """A libiec61850 server whose file store is tmp_path/store (a few files, a subdirectory)."""
    store = tmp_path / "store"
    (store / "COMTRADE").mkdir(parents=True)
    (store / "COMTRADE" / "rec1.cfg").write_bytes(b"station,1\n")
    (store / "COMTRADE" / "rec1.dat").write_bytes(os.urandom(200_000))
    (store / "readme.txt").write_bytes(b"hello\n")
    peer = start_peer_server("libiec", filestore=store)
    return peer, f"127.0.0.1:{peer.port}", store


def test_files_ls(file_peer, monkeypatch, capsys):
    peer, addr, store = file_peer
    rc, out, err = run_files(monkeypatch, capsys, "ls", addr)
    assert rc == 0, err
    rows = [line.split() for line in out.splitlines()]
    assert [r[-1] for r in rows] == ["COMTRADE/rec1.cfg", "COMTRADE/rec1.dat", "readme.txt"]
    assert rows[1][0] == "200000" and rows[2][0] == "6"
    assert rows[2][1].endswith("Z")  # ISO 8601 UTC
    assert "3 files, 200016 octets" in err
    rc, out, _ = run_files(monkeypatch, capsys, "ls", addr, "COMTRADE", "--json")
    assert rc == 0
    import json

    listing = {e["name"]: e for e in json.loads(out)}
    assert set(listing) == {"COMTRADE/rec1.cfg", "COMTRADE/rec1.dat"}
    assert listing["COMTRADE/rec1.dat"]["size"] == 200000
    assert listing["COMTRADE/rec1.cfg"]["last_modified"].endswith("Z")
    rc, _, err = run_files(monkeypatch, capsys, "ls", addr, "nodir")
    assert rc == 1 and "nodir" in err and "OBJECT_DOES_NOT_EXIST" in err


def test_files_get(file_peer, monkeypatch, capsys, tmp_path):
    peer, addr, store = file_peer
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_files(monkeypatch, capsys, "get", addr, "COMTRADE/rec1.dat")
    assert rc == 0, err
    assert (tmp_path / "rec1.dat").read_bytes() == (store / "COMTRADE" / "rec1.dat").read_bytes()
    assert "COMTRADE/rec1.dat -> rec1.dat: 200000 octets" in out and "MB/s" in out
    (tmp_path / "into").mkdir()
    rc, out, _ = run_files(monkeypatch, capsys, "get", addr, "readme.txt", "into")
    assert rc == 0 and (tmp_path / "into" / "readme.txt").read_bytes() == b"hello\n"
    rc, out, _ = run_files(monkeypatch, capsys, "get", addr, "readme.txt", "into/renamed.txt")
    assert rc == 0 and (tmp_path / "into" / "renamed.txt").read_bytes() == b"hello\n"
    # a missing file: exit 1, the message names it, nothing is created
    rc, out, err = run_files(monkeypatch, capsys, "get", addr, "COMTRADE/nope.dat", "into")
    assert rc == 1 and "COMTRADE/nope.dat" in err and "OBJECT_DOES_NOT_EXIST" in err
    assert sorted(p.name for p in (tmp_path / "into").iterdir()) == ["readme.txt", "renamed.txt"]
    rc, _, err = run_files(monkeypatch, capsys, "get", addr, "COMTRADE/")
    assert rc == 2 and "-r" in err


def test_files_get_to_stdout_subprocess(file_peer, tmp_path):
    """``get REMOTE -``: the data alone on stdout (the result line goes to stderr); no
    progress bar when stderr is not a terminal."""
    peer, addr, store = file_peer
    work = tmp_path / "work"
    work.mkdir()
    res = subprocess.run([sys.executable, "-m", "py61850", "files", "get", addr, "COMTRADE/rec1.dat", "-"],
                         capture_output=True, timeout=30, env=child_env(), cwd=work)
    assert res.returncode == 0, res.stderr
    assert res.stdout == (store / "COMTRADE" / "rec1.dat").read_bytes()
    err = res.stderr.decode()
    assert "200000 octets" in err and "\x1b[" not in err
    res = run_cli("files", "get", addr, "missing.bin", cwd=work)
    assert res.returncode == 1 and "missing.bin" in res.stderr and "Traceback" not in res.stderr
    assert list(work.iterdir()) == []


def test_files_get_recursive(file_peer, monkeypatch, capsys, tmp_path):
    peer, addr, store = file_peer
    (store / "back\\slash.txt").write_bytes(b"x")  # a legal POSIX name that must not become a path
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_files(monkeypatch, capsys, "get", addr, "COMTRADE", "-r")
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "COMTRADE").iterdir()) == ["rec1.cfg", "rec1.dat"]
    assert "2 of 2 files downloaded into COMTRADE" in err
    rc, out, err = run_files(monkeypatch, capsys, "get", addr, "/", "everything", "-r")
    assert rc == 1  # the backslash name was skipped: not a clean success
    assert "back\\slash.txt: skipped" in out
    got = sorted(p.relative_to(tmp_path / "everything").as_posix() for p in (tmp_path / "everything").rglob("*")
                 if p.is_file())
    assert got == ["COMTRADE/rec1.cfg", "COMTRADE/rec1.dat", "readme.txt"]
    assert (tmp_path / "everything" / "COMTRADE" / "rec1.dat").read_bytes() == \
        (store / "COMTRADE" / "rec1.dat").read_bytes()
    assert "3 of 4 files downloaded" in err


def test_files_local_names_stay_inside_the_target():
    safe = cli._safe_local_part
    assert safe("a/b.txt") == os.path.join("a", "b.txt")
    assert safe("./a//b") == os.path.join("a", "b")
    for bad in ("", "/etc/passwd", "../x", "a/../../x", "a\\b", "a\nb", "..", "./"):
        assert safe(bad) is None, bad


def test_files_put_rm_mv(file_peer, monkeypatch, capsys, tmp_path):
    peer, addr, store = file_peer
    src = tmp_path / "out" / "new.cfg"
    src.parent.mkdir()
    src.write_bytes(b"uploaded config\n")
    rc, out, err = run_files(monkeypatch, capsys, "put", addr, str(src), "COMTRADE/new.cfg")
    assert rc == 0, err
    assert (store / "COMTRADE" / "new.cfg").read_bytes() == b"uploaded config\n"
    assert "-> COMTRADE/new.cfg: 16 octets" in out
    monkeypatch.chdir(tmp_path / "out")
    rc, out, err = run_files(monkeypatch, capsys, "put", addr, "new.cfg", "COMTRADE/")  # keep the name
    assert rc == 1 and "OBJECT_EXISTS" in err  # libiec61850 does not overwrite
    rc, _, err = run_files(monkeypatch, capsys, "put", addr, "missing.cfg", "x.cfg")
    assert rc == 1 and "missing.cfg" in err
    rc, out, err = run_files(monkeypatch, capsys, "rm", addr, "COMTRADE/new.cfg")
    assert rc == 0 and "deleted COMTRADE/new.cfg" in out
    assert not (store / "COMTRADE" / "new.cfg").exists()
    rc, out, err = run_files(monkeypatch, capsys, "rm", addr, "readme.txt", "nope.txt")
    assert rc == 1 and "deleted readme.txt" in out and "nope.txt" in err
    rc, out, err = run_files(monkeypatch, capsys, "mv", addr, "COMTRADE/rec1.cfg", "COMTRADE/rec2.cfg")
    assert rc == 1 and "SERVICE_NOT_SUPPORTED" in err  # libiec61850 rejects FileRename
    assert (store / "COMTRADE" / "rec1.cfg").exists()
    rc, _, _ = run_files(monkeypatch, capsys, "mv", addr, "only-one")
    assert rc == 2


def test_files_progress_bar_on_a_terminal(file_peer, monkeypatch, capsys, tmp_path):
    """With stderr on a terminal, a rich progress bar shows bytes and rate."""
    peer, addr, store = file_peer
    big = store / "big.bin"
    big.write_bytes(os.urandom(8 << 20))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    updates = []
    orig = cli._Transfers.run

    def spy(self, label, fn):
        assert self.progress is not None  # a bar exists on a terminal
        real_update = self.progress.update

        def update(task, **kw):
            updates.append(kw)
            real_update(task, **kw)

        self.progress.update = update
        return orig(self, label, fn)

    monkeypatch.setattr(cli._Transfers, "run", spy)
    rc, out, err = run_files(monkeypatch, capsys, "get", addr, "big.bin")
    assert rc == 0, err
    assert (tmp_path / "big.bin").stat().st_size == 8 << 20
    assert updates[0] == {"completed": 0, "total": 8 << 20}
    assert updates[-1] == {"completed": 8 << 20, "total": 8 << 20}
    assert len(updates) > 100  # one per chunk
    assert "big.bin -> big.bin: 8388608 octets" in out
