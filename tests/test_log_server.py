"""The peers' clients query OUR server's logs: pyiec61850-ng (``IedConnection_queryLogByTime``
/ ``queryLogAfter``, LCB reads and writes, in a child process:
:class:`peers.clients.PyiecServiceClient`) and the Rust-based ``iec61850`` client
(``query_journal_by_time`` / ``query_journal_after_entry``, LCB reads:
:class:`peers.clients.RustServiceSession`).

Our :class:`~py61850.server.IedServer` runs in this process on ``examples/simple_io.icd``:
TESTGenericIO/LLN0 has the log ``EventLog`` and its LCB (data set Events = GGIO1.Ind1..4.stVal,
TrgOps dchg + qchg, reason codes). The entries the peers see are checked against what the
server logged: entry ids, times, references, values and reason codes.

Peer facts used (tests/peers/README.md, NOTES-peers): both clients pair a value with the
"ReasonCode" variable that follows it and give the reason as the mask IEC bit n -> ``1 << (n-1)``
(data change 1, quality change 2, integrity 8); libiec61850 names the LCB's entry attributes
OldEntr/NewEntr, the client helper falls back to OldEnt/NewEnt (ours, IEC 61850-8-1).
"""
from __future__ import annotations

import time
from typing import Any, Iterator

import pytest

from peers.clients import PeerServiceError, PyiecServiceClient, RustServiceSession
from peers.process import DEFAULT_SCL
from py61850.server import IedServer

import pyiec61850.pyiec61850 as L  # noqa: N812  (after the peers import, as the peers do)

LD = "TESTGenericIO"
LOG = f"{LD}/LLN0$EventLog"
LCB = f"{LD}/LLN0.EventLog"
IND = [f"{LD}/GGIO1.Ind{i}.stVal" for i in range(1, 5)]
ALL = (0, 2**41)  # a time range holding every entry


@pytest.fixture
def server() -> Iterator[IedServer]:
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(0, "127.0.0.1")
    yield srv
    srv.close()


def client(kind: str, srv: IedServer) -> Any:
    if kind == "pyiec":
        return PyiecServiceClient("127.0.0.1", srv.port)
    return RustServiceSession("127.0.0.1", srv.port)


def log_changes(srv: IedServer) -> list[tuple[str, bool]]:
    """Ind1 True -> False, Ind2 False -> True, Ind1 -> True: three entries, returned as
    (journal reference, value)."""
    out = []
    for ref, v in ((IND[0], False), (IND[1], True), (IND[0], True)):
        srv.update_value(ref, v)
        ld, rest = ref.split("/", 1)
        ln, do, da = rest.split(".")
        out.append((f"{ld}/{ln}$ST${do}${da}", v))
        time.sleep(0.002)  # distinct times
    return out


@pytest.mark.parametrize("kind", ["pyiec", "rust"])
def test_query_by_time_returns_our_entries(server: IedServer, kind: str) -> None:
    changes = log_changes(server)
    info = server.log_info(LOG)
    c = client(kind, server)
    try:
        entries, more = c.query_log_by_time(LOG, *ALL)
    finally:
        c.close()
    assert more is False
    assert [e["entry_id"] for e in entries] == [i.to_bytes(8, "big").hex() for i in (1, 2, 3)]
    assert [[(v["ref"], v["value"], v["reason"]) for v in e["variables"]] for e in entries] == [
        [(ref, value, 1)] for ref, value in changes]  # 1 = data change
    assert entries[0]["time_ms"] == int(info.oldest_time.timestamp() * 1000)
    assert entries[-1]["time_ms"] == int(info.newest_time.timestamp() * 1000)
    assert [e["time_ms"] for e in entries] == sorted(e["time_ms"] for e in entries)


@pytest.mark.parametrize("kind", ["pyiec", "rust"])
def test_query_by_time_range_and_after_entry(server: IedServer, kind: str) -> None:
    log_changes(server)
    c = client(kind, server)
    try:
        entries, _ = c.query_log_by_time(LOG, *ALL)
        t = [e["time_ms"] for e in entries]
        # a range holding the second entry only (both ends inclusive)
        middle, more = c.query_log_by_time(LOG, t[1], t[1])
        assert [e["entry_id"] for e in middle] == [entries[1]["entry_id"]] and more is False
        assert c.query_log_by_time(LOG, t[-1] + 1000, t[-1] + 5000) == ([], False)
        after, more = c.query_log_after(LOG, entries[0]["entry_id"], t[0])
        assert [e["entry_id"] for e in after] == [e["entry_id"] for e in entries[1:]] and more is False
        assert after == entries[1:]
        assert c.query_log_after(LOG, entries[-1]["entry_id"], t[-1]) == ([], False)
        with pytest.raises(PeerServiceError) as err:
            c.query_log_by_time(f"{LD}/LLN0$NoSuchLog", *ALL)
        assert err.value.code == L.IED_ERROR_OBJECT_DOES_NOT_EXIST
    finally:
        c.close()


@pytest.mark.parametrize("kind", ["pyiec", "rust"])
def test_quality_change_reason(server: IedServer, kind: str) -> None:
    # Events holds stVal only; a data set member q is logged with its reason: use a log over
    # a data set with the quality, through the LCB's DatSet (written while LogEna is FALSE)
    from py61850.client import IedConnection

    with IedConnection("127.0.0.1", server.port) as conn:
        lcb = conn.read_lcb(LCB)
        lcb.log_ena = False
        conn.set_lcb_values(lcb)
        conn.create_dataset(f"{LD}/LLN0.Quals", [f"{LD}/GGIO1.Ind1.q[ST]"])
        lcb.dataset = f"{LD}/LLN0$Quals"
        lcb.log_ena = True
        conn.set_lcb_values(lcb)
    server.update_value(f"{LD}/GGIO1.Ind1.q", "0100000000000")  # validity invalid: qchg
    c = client(kind, server)
    try:
        entries, _ = c.query_log_by_time(LOG, *ALL)
    finally:
        c.close()
    assert [[(v["ref"], v["reason"]) for v in e["variables"]] for e in entries] == [
        [(f"{LD}/GGIO1$ST$Ind1$q", 2)]]  # 2 = quality change


def test_pyiec_pages_with_more_follows(server: IedServer) -> None:
    server.configure(max_pdu_size=1000)  # a small PDU: an answer holds a few entries
    n = 200
    v = bool(server.get_value(IND[3]))
    for _ in range(n):
        v = not v  # every update a data change
        server.update_value(IND[3], v)
    c = PyiecServiceClient("127.0.0.1", server.port)
    try:
        got: list[dict[str, Any]] = []
        page, more = c.query_log_by_time(LOG, *ALL)
        pages = 1
        got += page
        while more:
            assert page, "moreFollows without entries"
            last = page[-1]
            page, more = c.query_log_after(LOG, last["entry_id"], last["time_ms"])
            got += page
            pages += 1
            assert pages <= n
    finally:
        c.close()
    assert pages > 2
    assert [int(e["entry_id"], 16) for e in got] == list(range(1, n + 1))
    assert [e["variables"][0]["value"] for e in got] == [i % 2 == 0 for i in range(n)]  # Ind4 starts False


def test_rust_follows_more_follows(server: IedServer) -> None:
    server.configure(max_pdu_size=1000)
    n = 120
    v = bool(server.get_value(IND[3]))
    for _ in range(n):
        v = not v  # every update a data change
        server.update_value(IND[3], v)
    with RustServiceSession("127.0.0.1", server.port) as c:
        page, more = c.query_log_by_time(LOG, *ALL)
        assert more is True and 0 < len(page) < n
        assert [int(e["entry_id"], 16) for e in page] == list(range(1, len(page) + 1))
        rest, _ = c.query_log_after(LOG, page[-1]["entry_id"], page[-1]["time_ms"])
        assert int(rest[0]["entry_id"], 16) == len(page) + 1


@pytest.mark.parametrize("kind", ["pyiec", "rust"])
def test_lcb_attributes_follow_the_log(server: IedServer, kind: str) -> None:
    c = client(kind, server)
    try:
        empty = c.read_lcb(LCB)
        log_changes(server)
        lcb = c.read_lcb(LCB)
    finally:
        c.close()
    info = server.log_info(LOG)
    assert (lcb["log_ena"], lcb["log_ref"], lcb["dataset"], lcb["trg_ops"], lcb["intg_pd"]) == (
        True, LOG, f"{LD}/LLN0$Events", 1 | 2, 0)
    assert (empty["old_entry"], empty["new_entry"]) == ("00" * 8, "00" * 8)
    assert lcb["old_entry"] == info.oldest_entry_id.hex() == (1).to_bytes(8, "big").hex()
    assert lcb["new_entry"] == info.newest_entry_id.hex() == (3).to_bytes(8, "big").hex()
    assert lcb["old_entry_time_ms"] == int(info.oldest_time.timestamp() * 1000)
    assert lcb["new_entry_time_ms"] == int(info.newest_time.timestamp() * 1000)


@pytest.mark.parametrize("kind", ["pyiec", "rust"])
def test_lcb_writes(server: IedServer, kind: str) -> None:
    c = client(kind, server)
    try:
        c.set_lcb(LCB, log_ena=False)
        assert c.read_lcb(LCB)["log_ena"] is False
        server.update_value(IND[0], False)  # not logged
        assert server.log_info(LOG).count == 0
        c.set_lcb(LCB, intg_pd=2000)
        c.set_lcb(LCB, dataset=f"{LD}/LLN0$Measurements")
        lcb = c.read_lcb(LCB)
        assert (lcb["intg_pd"], lcb["dataset"]) == (2000, f"{LD}/LLN0$Measurements")
        c.set_lcb(LCB, dataset=f"{LD}/LLN0$Events")
        with pytest.raises(PeerServiceError) as err:
            c.set_lcb(LCB, dataset=f"{LD}/LLN0$NoSuchSet")
        assert err.value.code == L.IED_ERROR_OBJECT_VALUE_INVALID
        c.set_lcb(LCB, log_ena=True)
        with pytest.raises(PeerServiceError) as err:  # fixed while enabled
            c.set_lcb(LCB, intg_pd=1000)
        assert err.value.code == L.IED_ERROR_TEMPORARILY_UNAVAILABLE
        server.update_value(IND[0], True)
        entries, _ = c.query_log_by_time(LOG, *ALL)
        assert [(v["ref"], v["value"]) for e in entries for v in e["variables"]] == [
            (f"{LD}/GGIO1$ST$Ind1$stVal", True)]
    finally:
        c.close()


def test_pyiec_reads_a_log_reloaded_from_storage(tmp_path: Any) -> None:
    db = tmp_path / "logs.sqlite"
    with IedServer.from_scl(DEFAULT_SCL, log_storage=db) as srv:
        srv.start(0, "127.0.0.1")
        changes = log_changes(srv)
    with IedServer.from_scl(DEFAULT_SCL, log_storage=db) as srv:
        srv.start(0, "127.0.0.1")
        srv.update_value(IND[2], False)
        with PyiecServiceClient("127.0.0.1", srv.port) as c:
            entries, _ = c.query_log_by_time(LOG, *ALL)
    assert [int(e["entry_id"], 16) for e in entries] == [1, 2, 3, 4]
    assert [(v["ref"], v["value"], v["reason"]) for e in entries for v in e["variables"]] == [
        (ref, value, 1) for ref, value in changes] + [(f"{LD}/GGIO1$ST$Ind3$stVal", False, 1)]
