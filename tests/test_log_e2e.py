"""Logs end to end: OUR client (LCB services, QueryLogByTime/QueryLogAfter) against OUR
server (LogControl from SCL, automatic logging, memory and SQLite storage), both in this
process on 127.0.0.1, and the log section of ``py61850 demo``.

The served model is ``examples/simple_io.icd``: TESTGenericIO/LLN0 has the log
``EventLog`` and the LCB ``EventLog`` (data set ``Events`` = GGIO1.Ind1..4.stVal,
TrgOps dchg+qchg, LogEna true, reason codes). Ind1/Ind3 start True, Ind2/Ind4 False.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from peers.process import DEFAULT_SCL
from py61850._log_store import split_journal_entries
from py61850.client import (
    FunctionalConstraint as FC,
    IedConnection,
    IedConnectionException,
    IedClientError,
    MmsValue,
    ReasonForInclusion as R,
    ReportTriggerOptions as T,
)
from py61850.server import IedServer, LogInfo, LogStorageError

LD = "TESTGenericIO"
LOG = f"{LD}/LLN0$EventLog"
LCB = f"{LD}/LLN0.LG.EventLog"
IND = [f"{LD}/GGIO1.Ind{i}.stVal" for i in range(1, 5)]
ANIN1 = f"{LD}/GGIO1.AnIn1.mag.f"
UTC = dt.timezone.utc


def mms_ref(ref: str, fc: str = "ST") -> str:
    """``LD/LN.DO.DA`` -> the MMS form a journal variable is tagged with."""
    ld, rest = ref.split("/", 1)
    ln, *parts = rest.split(".")
    return f"{ld}/{ln}${fc}$" + "$".join(parts)


@pytest.fixture
def server() -> Iterator[IedServer]:
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(0, "127.0.0.1")
    yield srv
    srv.close()


@pytest.fixture
def conn(server: IedServer) -> Iterator[IedConnection]:
    with IedConnection("127.0.0.1", server.port) as c:
        yield c


def toggle(server: IedServer, ref: str, n: int) -> list[bool]:
    """Flip a BOOLEAN n times (n data changes); returns the values written."""
    out = []
    v = bool(server.get_value(ref))
    for _ in range(n):
        v = not v
        server.update_value(ref, v)
        out.append(v)
    return out


def ids(entries: list[Any]) -> list[int]:
    return [int.from_bytes(e.entry_id, "big") for e in entries]


def everything(conn: IedConnection, log_ref: str = LOG) -> list[Any]:
    return conn.query_log_by_time(log_ref, dt.datetime(1984, 1, 1, tzinfo=UTC), None)


# ----------------------------------------------------------------- LCB


def test_lcb_attributes_come_from_the_scl(server: IedServer, conn: IedConnection) -> None:
    assert server.logs == [LOG]
    assert server.log_control_blocks == [LCB]
    lcb = conn.read_lcb(LCB)
    assert lcb.reference == LCB
    assert lcb.log_ena is True
    assert lcb.dataset == f"{LD}/LLN0$Events"
    assert lcb.log_ref == LOG
    assert lcb.trg_ops == T.DATA_CHANGED | T.QUALITY_CHANGED
    assert lcb.intg_pd == 0
    # nothing logged yet: the initial values of the model are no entries
    assert server.log_info(LOG) == LogInfo(LOG, 0, None, None, None, None, 0)
    assert everything(conn) == []
    # other spellings of the reference
    assert conn.read_lcb(f"{LD}/LLN0.EventLog").log_ref == LOG
    assert conn.read_lcb(f"{LD}/LLN0$LG$EventLog").dataset == f"{LD}/LLN0$Events"


def test_data_changes_are_logged_with_reference_value_and_reason(server: IedServer, conn: IedConnection) -> None:
    t0 = dt.datetime.now(UTC)
    server.update_value(IND[0], False)          # True -> False: dchg
    server.update_value(IND[1], True)           # False -> True: dchg
    server.update_value(IND[1], True)           # unchanged: a dupd, which the LCB does not log
    server.update_value(ANIN1, 99.0)            # not in the data set
    t1 = dt.datetime.now(UTC)
    entries = everything(conn)
    assert ids(entries) == [1, 2]
    got = [(v.reference, v.value.to_python(), v.reason) for e in entries for v in e.variables]
    assert got == [(mms_ref(IND[0]), False, R.DATA_CHANGE), (mms_ref(IND[1]), True, R.DATA_CHANGE)]
    for e in entries:
        assert len(e.entry_id) == 8
        assert t0 - dt.timedelta(seconds=1) <= e.time <= t1 + dt.timedelta(seconds=1)
        assert e.time.tzinfo is not None
    json.dumps([e.to_dict() for e in entries])  # JSON-able
    info = server.log_info(LOG)
    assert (info.count, info.oldest_entry_id, info.newest_entry_id) == (2, bytes(7) + b"\x01", bytes(7) + b"\x02")
    assert info.oldest_time == entries[0].time and info.newest_time == entries[1].time
    assert server.log_info(f"{LD}/LLN0.EventLog") == info  # the dotted spelling


def test_quality_change_is_logged_with_its_reason() -> None:
    # a dict model whose data set holds a quality: TrgOps qchg
    srv = IedServer.from_dict(small_model(trg={"qchg": True}))
    try:
        srv.start(0, "127.0.0.1")
        srv.update_value("LOGLD0/GGIO1.Ind1.q", "0100000000000")  # validity invalid
        with IedConnection("127.0.0.1", srv.port) as c:
            entries = everything(c, "LOGLD0/LLN0$Ev")
        assert [(v.reference, v.reason) for e in entries for v in e.variables] == [
            ("LOGLD0/GGIO1$ST$Ind1$q", R.QUALITY_CHANGE)]
    finally:
        srv.close()


def test_lcb_reports_the_log_it_writes_to(server: IedServer, conn: IedConnection) -> None:
    toggle(server, IND[2], 3)
    lcb = conn.read_lcb(LCB)
    info = server.log_info(LOG)
    assert lcb.old_entry == info.oldest_entry_id == bytes(7) + b"\x01"
    assert lcb.new_entry == info.newest_entry_id == bytes(7) + b"\x03"
    assert lcb.old_entry_time == info.oldest_time
    assert lcb.new_entry_time == info.newest_time


def test_log_ena_false_stops_logging_and_lcb_is_reconfigured_while_disabled(server: IedServer,
                                                                          conn: IedConnection) -> None:
    toggle(server, IND[0], 1)
    lcb = conn.read_lcb(LCB)
    # while enabled the configuration is fixed
    lcb.dataset = f"{LD}/LLN0$Measurements"
    with pytest.raises(IedConnectionException) as exc:
        conn.set_lcb_values(lcb)
    assert exc.value.error_code == IedClientError.TEMPORARILY_UNAVAILABLE
    lcb = conn.read_lcb(LCB)
    assert lcb.dataset == f"{LD}/LLN0$Events"
    lcb.log_ena = False
    conn.set_lcb_values(lcb)
    assert conn.read_lcb(LCB).log_ena is False
    toggle(server, IND[0], 2)
    assert server.log_info(LOG).count == 1
    # now DatSet and TrgOps may change; then enable again
    lcb.dataset = f"{LD}/LLN0$Measurements"
    lcb.trg_ops = T.DATA_CHANGED
    conn.set_lcb_values(lcb)
    lcb.log_ena = True
    conn.set_lcb_values(lcb)
    back = conn.read_lcb(LCB)
    assert (back.log_ena, back.dataset, back.trg_ops) == (True, f"{LD}/LLN0$Measurements", T.DATA_CHANGED)
    server.update_value(ANIN1, 321.5)
    toggle(server, IND[0], 1)  # no longer in the data set
    entries = everything(conn)
    assert ids(entries) == [1, 2]
    assert [(v.reference, v.value.to_python()) for v in entries[1].variables] == [(mms_ref(ANIN1, "MX"), 321.5)]


def test_lcb_refuses_a_missing_data_set_and_read_only_attributes(server: IedServer, conn: IedConnection) -> None:
    lcb = conn.read_lcb(LCB)
    lcb.log_ena = False
    conn.set_lcb_values(lcb)
    lcb.dataset = f"{LD}/LLN0$NoSuchSet"
    with pytest.raises(IedConnectionException) as exc:
        conn.set_lcb_values(lcb)
    assert exc.value.error_code == IedClientError.OBJECT_VALUE_INVALID
    with pytest.raises(IedConnectionException) as exc:
        conn.write_value(f"{LD}/LLN0.EventLog.NewEnt", FC.LG, MmsValue.octet_string(bytes(8)))
    assert exc.value.error_code == IedClientError.ACCESS_DENIED
    assert conn.read_lcb(LCB).dataset == f"{LD}/LLN0$Events"


def test_integrity_period_logs_every_member() -> None:
    srv = IedServer.from_dict(small_model(trg={"dchg": True, "period": True}, intg_pd=100))
    try:
        srv.start(0, "127.0.0.1")
        deadline = time.monotonic() + 5
        while srv.log_info("LOGLD0/LLN0$Ev").count < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        with IedConnection("127.0.0.1", srv.port) as c:
            entries = everything(c, "LOGLD0/LLN0$Ev")
        assert len(entries) >= 2
        first = entries[0]
        assert [v.reference for v in first.variables] == ["LOGLD0/GGIO1$ST$Ind1$stVal", "LOGLD0/GGIO1$ST$Ind1$q"]
        assert {v.reason for v in first.variables} == {R.INTEGRITY}
    finally:
        srv.close()


# ----------------------------------------------------------------- queries


def test_query_by_time_range_and_after_an_entry(server: IedServer, conn: IedConnection) -> None:
    toggle(server, IND[0], 3)
    time.sleep(0.02)
    middle = dt.datetime.now(UTC)
    time.sleep(0.02)
    toggle(server, IND[1], 3)
    end = dt.datetime.now(UTC)
    later = conn.query_log_by_time(LOG, middle, None)
    assert ids(later) == [4, 5, 6]
    assert {v.reference for e in later for v in e.variables} == {mms_ref(IND[1])}
    earlier = conn.query_log_by_time(LOG, dt.datetime(2000, 1, 1, tzinfo=UTC), middle)
    assert ids(earlier) == [1, 2, 3]
    # int ms since 1970 and naive datetimes (= UTC) work too
    assert ids(conn.query_log_by_time(LOG, int(middle.timestamp() * 1000), int(end.timestamp() * 1000) + 1)) \
        == [4, 5, 6]
    assert ids(conn.query_log_by_time(LOG, middle.replace(tzinfo=None), None)) == [4, 5, 6]
    all_ = everything(conn)
    after = conn.query_log_after(LOG, all_[2].entry_id, all_[2].time)
    assert ids(after) == [4, 5, 6]
    assert conn.query_log_after(LOG, all_[-1].entry_id, all_[-1].time) == []
    page = conn.query_log_page_by_time(LOG, middle, None)
    assert ids(page.entries) == [4, 5, 6] and page.more_follows is False


def test_large_log_is_paged_and_followed_to_the_end(server: IedServer) -> None:
    server.configure(max_pdu_size=1000)
    n = 1500
    values = toggle(server, IND[3], n)
    with IedConnection("127.0.0.1", server.port) as c:
        page = c.query_log_page_by_time(LOG, dt.datetime(2000, 1, 1, tzinfo=UTC), None)
        assert page.more_follows is True
        assert 1 < len(page.entries) < n
        assert ids(page.entries) == list(range(1, len(page.entries) + 1))
        last = page.entries[-1]
        nxt = c.query_log_page_after(LOG, last.entry_id, last.time)
        assert ids(nxt.entries)[0] == len(page.entries) + 1
        entries = everything(c)
    assert ids(entries) == list(range(1, n + 1))
    assert [e.variables[0].value.to_python() for e in entries] == values


def test_unknown_log_is_an_error(conn: IedConnection) -> None:
    with pytest.raises(IedConnectionException) as exc:
        everything(conn, f"{LD}/LLN0$NoLog")
    assert exc.value.error_code == IedClientError.OBJECT_DOES_NOT_EXIST


def test_log_keeps_log_max_entries() -> None:
    srv = IedServer.from_scl(DEFAULT_SCL, log_max_entries=10)
    try:
        srv.start(0, "127.0.0.1")
        toggle(srv, IND[0], 25)
        info = srv.log_info(LOG)
        assert (info.count, info.dropped) == (10, 15)
        assert info.oldest_entry_id == (16).to_bytes(8, "big")
        assert info.newest_entry_id == (25).to_bytes(8, "big")
        with IedConnection("127.0.0.1", srv.port) as c:
            assert ids(everything(c)) == list(range(16, 26))
    finally:
        srv.close()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        IedServer.from_scl(DEFAULT_SCL, log_max_entries=0)
    with IedServer.from_scl(DEFAULT_SCL) as srv:
        with pytest.raises(IedConnectionException) as exc:
            srv.log_info(f"{LD}/LLN0$Nope")
        assert exc.value.error_code == IedClientError.OBJECT_DOES_NOT_EXIST
        assert srv.log_storage is None


# ----------------------------------------------------------------- SQLite storage


def db_rows(path: Path) -> list[tuple[str, int, int]]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT log_ref, entry_id, time_ms FROM log_entry ORDER BY log_ref, entry_id").fetchall()
    finally:
        con.close()


def test_log_survives_a_restart_and_ids_continue(tmp_path: Path) -> None:
    db = tmp_path / "logs.sqlite"
    with IedServer.from_scl(DEFAULT_SCL, log_storage=db) as srv:
        assert srv.log_storage == str(db)
        srv.start(0, "127.0.0.1")
        first = toggle(srv, IND[0], 3)
        with IedConnection("127.0.0.1", srv.port) as c:
            before = everything(c)
    assert [r[1] for r in db_rows(db)] == [1, 2, 3]
    with IedServer.from_scl(DEFAULT_SCL, log_storage=db) as srv:
        info = srv.log_info(LOG)
        assert (info.count, info.newest_entry_id) == (3, (3).to_bytes(8, "big"))
        srv.start(0, "127.0.0.1")
        second = toggle(srv, IND[1], 2)
        with IedConnection("127.0.0.1", srv.port) as c:
            after = everything(c)
            lcb = c.read_lcb(LCB)
    assert ids(after) == [1, 2, 3, 4, 5]
    # the reloaded entries are the same entries: time, reference, value, reason
    assert [e.to_dict() for e in after[:3]] == [e.to_dict() for e in before]
    assert [e.variables[0].value.to_python() for e in after] == first + second
    assert {v.reason for e in after for v in e.variables} == {R.DATA_CHANGE}
    assert lcb.old_entry == (1).to_bytes(8, "big") and lcb.new_entry == (5).to_bytes(8, "big")
    assert [r[1] for r in db_rows(db)] == [1, 2, 3, 4, 5]
    assert {r[0] for r in db_rows(db)} == {LOG}


def test_entries_reach_the_file_while_the_server_runs(tmp_path: Path) -> None:
    db = tmp_path / "live.sqlite"
    with IedServer.from_scl(DEFAULT_SCL, log_storage=db) as srv:
        srv.start(0, "127.0.0.1")
        toggle(srv, IND[0], 4)
        deadline = time.monotonic() + 5
        while len(db_rows(db)) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [r[1] for r in db_rows(db)] == [1, 2, 3, 4]  # before close: written by the handler thread
        assert srv.log_storage_failures == 0


def test_a_failed_write_is_retried_with_the_next_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    from py61850 import _log_store

    db = tmp_path / "flaky.sqlite"
    real = _log_store.LogStore._write
    fail = {"on": True}

    def flaky(self: Any, log_ref: str, batch: list[Any]) -> int:
        if fail["on"]:
            raise sqlite3.OperationalError("disk I/O error (simulated)")
        return real(self, log_ref, batch)

    monkeypatch.setattr(_log_store.LogStore, "_write", flaky)
    with IedServer.from_scl(DEFAULT_SCL, log_storage=db) as srv:
        srv.start(0, "127.0.0.1")
        toggle(srv, IND[0], 2)
        deadline = time.monotonic() + 5
        while srv.log_storage_failures == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert srv.log_storage_failures >= 1
        assert db_rows(db) == []
        assert srv.log_info(LOG).count == 2  # still served from memory
        fail["on"] = False
        toggle(srv, IND[0], 1)  # the next entry brings the earlier ones along
        while len(db_rows(db)) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [r[1] for r in db_rows(db)] == [1, 2, 3]
    assert "disk I/O error (simulated)" in caplog.text


def test_storage_keeps_log_max_entries(tmp_path: Path) -> None:
    db = tmp_path / "trim.sqlite"
    with IedServer.from_scl(DEFAULT_SCL, log_storage=db, log_max_entries=5) as srv:
        srv.start(0, "127.0.0.1")
        toggle(srv, IND[0], 12)
    assert [r[1] for r in db_rows(db)] == [8, 9, 10, 11, 12]
    with IedServer.from_scl(DEFAULT_SCL, log_storage=db, log_max_entries=3) as srv:  # a smaller bound
        info = srv.log_info(LOG)  # reloaded before the start
        assert (info.count, info.oldest_entry_id, info.newest_entry_id) == (
            3, (10).to_bytes(8, "big"), (12).to_bytes(8, "big"))
        srv.start(0, "127.0.0.1")
        toggle(srv, IND[0], 1)
        assert srv.log_info(LOG).newest_entry_id == (13).to_bytes(8, "big")
    assert [r[1] for r in db_rows(db)] == [11, 12, 13]


def test_many_entries_in_a_burst_all_reach_the_file(tmp_path: Path) -> None:
    db = tmp_path / "burst.sqlite"
    with IedServer.from_scl(DEFAULT_SCL, log_storage=db) as srv:
        srv.start(0, "127.0.0.1")
        toggle(srv, IND[0], 5000)
    rows = db_rows(db)
    assert [r[1] for r in rows] == list(range(1, 5001))
    assert all(rows[i][2] <= rows[i + 1][2] for i in range(len(rows) - 1))  # times in order


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.sqlite"
    content = os.urandom(4096)
    bad.write_bytes(content)
    with pytest.raises(LogStorageError, match="garbage.sqlite"):
        IedServer.from_scl(DEFAULT_SCL, log_storage=bad)
    assert bad.read_bytes() == content


def test_a_foreign_database_is_refused_untouched(tmp_path: Path) -> None:
    foreign = tmp_path / "shop.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE customers (name TEXT)")
    con.execute("INSERT INTO customers VALUES ('ada')")
    con.commit()
    con.close()
    content = foreign.read_bytes()
    with pytest.raises(LogStorageError, match="not a py61850 log storage"):
        IedServer.from_scl(DEFAULT_SCL, log_storage=foreign)
    assert foreign.read_bytes() == content


def test_a_damaged_entry_or_version_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "damaged.sqlite"
    with IedServer.from_scl(DEFAULT_SCL, log_storage=db) as srv:
        srv.start(0, "127.0.0.1")
        toggle(srv, IND[0], 2)
    con = sqlite3.connect(db)
    con.execute("UPDATE log_entry SET data = ? WHERE entry_id = 2", (b"\x30\x05\x01\x02",))
    con.commit()
    con.close()
    with pytest.raises(LogStorageError, match="cannot be loaded"):
        IedServer.from_scl(DEFAULT_SCL, log_storage=db)
    con = sqlite3.connect(db)
    con.execute("UPDATE py61850_meta SET value = '99' WHERE key = 'version'")
    con.commit()
    con.close()
    with pytest.raises(LogStorageError, match="version"):
        IedServer.from_scl(DEFAULT_SCL, log_storage=db)


def test_a_directory_or_unwritable_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LogStorageError):
        IedServer.from_scl(DEFAULT_SCL, log_storage=tmp_path)
    with pytest.raises(LogStorageError):
        IedServer.from_scl(DEFAULT_SCL, log_storage=tmp_path / "no" / "such" / "dir" / "x.sqlite")


def test_entries_of_a_log_the_model_lacks_are_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "other.sqlite"
    with IedServer.from_dict(small_model(), log_storage=db) as srv:
        srv.start(0, "127.0.0.1")
        srv.update_value("LOGLD0/GGIO1.Ind1.stVal", True)
    with caplog.at_level(logging.WARNING, logger="py61850.server"):
        with IedServer.from_scl(DEFAULT_SCL, log_storage=db) as srv:
            assert srv.log_info(LOG).count == 0
    assert "LOGLD0/LLN0$Ev" in caplog.text
    assert [r[0] for r in db_rows(db)] == ["LOGLD0/LLN0$Ev"]


def test_split_journal_entries() -> None:
    # JournalEntry { [0] id, [1] originatingApplication {}, [2] { [0] TimeOfDay 6 octets, [2] data ... } }
    tod = (1000).to_bytes(4, "big") + (1).to_bytes(2, "big")  # 1984-01-02 00:00:01
    content = b"\xa2\x0a\x80\x06" + tod + b"\xa2\x00"
    entry = b"\x30" + bytes([12 + len(content)]) + b"\x80\x08" + (7).to_bytes(8, "big") + b"\xa1\x00" + content
    assert split_journal_entries(entry + entry) == [(7, 441763200000 + 86400000 + 1000, entry)] * 2
    with pytest.raises(ValueError):
        split_journal_entries(entry[:-1])
    with pytest.raises(ValueError):
        split_journal_entries(b"\x31\x00")


# ----------------------------------------------------------------- dict model, demo, docs


def small_model(trg: dict[str, bool] | None = None, intg_pd: int = 0) -> dict[str, Any]:
    """LD LOGLD0: GGIO1.Ind1 (stVal dchg, q qchg); LLN0 data set Ev = Ind1.stVal + Ind1.q,
    log Ev and LCB Ev."""
    return {
        "name": "LOG",
        "logical_devices": [{"inst": "LD0", "logical_nodes": [
            {"ln_class": "LLN0", "data_objects": [
                {"name": "Mod", "children": [{"name": "stVal", "fc": "ST", "btype": "Enum", "value": 1}]}],
             "data_sets": [{"name": "Ev", "members": [
                 {"ld_inst": "LD0", "ln_class": "GGIO", "ln_inst": "1", "do_name": "Ind1", "da_name": "stVal",
                  "fc": "ST"},
                 {"ld_inst": "LD0", "ln_class": "GGIO", "ln_inst": "1", "do_name": "Ind1", "da_name": "q",
                  "fc": "ST"}]}],
             "logs": ["Ev"],
             "log_controls": [{"name": "Ev", "log_name": "Ev", "dataset": "Ev", "intg_pd": intg_pd,
                               "trg_ops": trg or {"dchg": True}}]},
            {"ln_class": "GGIO", "inst": "1", "data_objects": [
                {"name": "Ind1", "children": [
                    {"name": "stVal", "fc": "ST", "btype": "BOOLEAN", "dchg": True},
                    {"name": "q", "fc": "ST", "btype": "Quality", "qchg": True}]}]}]}],
    }


def test_dict_model_log() -> None:
    with IedServer.from_dict(small_model()) as srv:
        assert srv.logs == ["LOGLD0/LLN0$Ev"]
        assert srv.log_control_blocks == ["LOGLD0/LLN0.LG.Ev"]
        srv.update_value("LOGLD0/GGIO1.Ind1.stVal", True)  # logging starts with the server, as buffering
        assert srv.log_info("LOGLD0/LLN0$Ev").count == 0
        srv.start(0, "127.0.0.1")
        srv.update_value("LOGLD0/GGIO1.Ind1.stVal", False)
        assert srv.log_info("LOGLD0/LLN0$Ev").count == 1


def test_demo_log_section() -> None:
    from rich.console import Console

    from py61850._demo import run_demo

    out = io.StringIO()
    console = Console(file=out, width=160, force_terminal=False, color_system=None)
    assert run_demo(console) == 0
    text = out.getvalue()
    section = text[text.index("10. Logs"):text.index("11. Setting groups")]
    assert "DEMOIO/LLN0.LG.EventLog: LogEna True" in section
    assert "DEMOIO/GGIO1$ST$Ind2$stVal" in section and "DATA_CHANGE" in section
    assert "query by time since" in section and "after entry" in section


def test_server_guide_sections(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The Logs, Setting groups and GOOSE/SV sections of docs/server.rst print what they say."""
    from test_server_docs import GUIDE, ROOT, python_blocks

    monkeypatch.chdir(ROOT)
    ns: dict[str, Any] = {}
    try:
        for i, src in enumerate(python_blocks(GUIDE.read_text(encoding="utf-8"))):
            exec(compile(src.replace("port=10102", "port=0"), f"{GUIDE.name}[block {i}]", "exec"), ns)
    finally:
        if ns.get("server") is not None:
            ns["server"].close()
    out = capsys.readouterr().out.splitlines()
    expected = [
        "True TESTGenericIO/LLN0$Events",
        "TESTGenericIO/GGIO1$ST$Ind3$stVal False DATA_CHANGE",
        "TESTGenericIO/GGIO1$ST$Ind3$stVal True DATA_CHANGE",
        "3 0000000000000001 0000000000000003",
        "3 1",
        "group 1 -> 2 asked by 127.0.0.1",
        "2.5",
        "group 2 -> 3 asked by 127.0.0.1",
        "group 3 refused",
        "confirm group 1 {'TESTLD0/PTOC1.StrVal.setMag.f': 1.75, 'TESTLD0/PTOC1.OpDlTmms.setVal': 100}",
        "1.75 2",
        "['TESTGenericIO/LLN0.GO.gcbEvents'] ['TESTGenericIO/LLN0.MS.svcbMeas']",
        "TESTGenericIO/LLN0.gcbEvents 01-0C-CD-01-00-01 APPID 0x1001 VLAN 5 prio 4 4 1000",
        "TESTMeas 80 SAMPLES_PER_PERIOD 01-0C-CD-04-00-01 APPID 0x4001 VLAN 0 prio 4",
    ]
    start = out.index(expected[0])
    assert out[start:start + 3] == expected[:3] and out[start + 3] == "True"
    missing = [line for line in expected if line not in out]
    assert not missing, (missing, out)
