"""Logs, our client (py61850.client): LCB read/set and QueryLogByTime / QueryLogAfter.

* Unit tests (no server): time arguments, log references, argument errors.
* A scripted fake server (tests/fakes/) answering ReadJournal with crafted pages: the
  client follows ``moreFollows`` page by page (continuing after the last entry), pairs
  values with their ReasonCode, and stops with a clear error when a server makes no
  progress or sends too many entries.
* Interop: the libiec61850 peer server (its LCB; the wheel has no log storage, so a query
  answers no entries: asserted, and that it is no error) and the Rust-based peer server
  (its LCB, and the journal entries its ``log`` command writes, read back by time, after
  an entry id, and page by page).
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

import pytest

from fakes.scripted_server import ScriptedServer, ber_tlv, invoke_id_of
from peers.process import PeerServer
from py61850 import client as C
from py61850.client import (
    IedClientError as E,
    IedConnection,
    IedConnectionException,
    JournalEntry,
    LcbElement,
    LogControlBlock,
    LogPage,
    MmsType,
    ObjectReferenceInvalidError,
    ReasonForInclusion as R,
    ReportTriggerOptions as T,
    UnexpectedValueError,
)

UTC = dt.timezone.utc
GENERIC = "TESTGenericIO"
LCB = f"{GENERIC}/LLN0.EventLog"
LOG = f"{GENERIC}/LLN0$EventLog"
EPOCH_1984_MS = 441_763_200_000
T0 = dt.datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)


def connect(peer: PeerServer) -> IedConnection:
    conn = IedConnection()
    conn.connect(peer.host, peer.port)
    return conn


# ------------------------------------------------------------------ unit


def test_time_arguments():
    from py61850._log import time_ms

    assert time_ms(T0, "t") == T0_MS
    assert time_ms(T0.replace(tzinfo=None), "t") == T0_MS  # naive = UTC
    cet = dt.timezone(dt.timedelta(hours=1))
    assert time_ms(T0.astimezone(cet), "t") == T0_MS
    assert time_ms(T0_MS, "t") == T0_MS
    assert time_ms(C.Timestamp.from_datetime(T0), "t") == T0_MS
    with pytest.raises(C.InvalidArgumentError):
        time_ms(-1, "t")
    with pytest.raises(TypeError):
        time_ms(True, "t")
    with pytest.raises(TypeError):
        time_ms("2026-11-21", "t")


def test_arguments_are_checked_before_sending():
    conn = IedConnection()  # not connected: valid arguments would give NotConnectedError
    for bad in ("TESTGenericIO", "TESTGenericIO/LLN0", "TESTGenericIO/LLN0$$EventLog", "/LLN0$EventLog",
                "TESTGenericIO/LLN0$EventLog$"):
        with pytest.raises(ObjectReferenceInvalidError):
            conn.query_log_by_time(bad)
    with pytest.raises(ObjectReferenceInvalidError):
        conn.read_lcb(f"{GENERIC}/LLN0.RP.EventLog")  # an LCB has FC LG
    with pytest.raises(C.InvalidArgumentError):
        conn.query_log_by_time(LOG, T0, T0 - dt.timedelta(seconds=1))  # end before start
    with pytest.raises(C.InvalidArgumentError):
        conn.query_log_by_time(LOG, None, dt.datetime(1980, 1, 1, tzinfo=UTC))  # TimeOfDay starts in 1984
    with pytest.raises(C.InvalidArgumentError):
        conn.query_log_after(LOG, b"", T0)  # empty entry id
    with pytest.raises(C.InvalidArgumentError):
        conn.query_log_after(LOG, "zz", T0)  # not hex
    with pytest.raises(TypeError):
        conn.query_log_after(LOG, 5, T0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        conn.update_lcb_values("x")  # type: ignore[arg-type]
    with pytest.raises(IedConnectionException) as ei:
        conn.query_log_by_time(LOG)
    assert ei.value.error_code == E.NOT_CONNECTED


def test_journal_entry_to_dict():
    v = C.MmsValue.boolean(True)
    e = JournalEntry(b"\x00" * 7 + b"\x05", T0, [C.JournalVariable("LD/GGIO1$ST$Ind1$stVal", v, R.DATA_CHANGE),
                                                 C.JournalVariable("LD/GGIO1$ST$Ind2$stVal", v, None)])
    assert e.to_dict() == {
        "entry_id": "0000000000000005",
        "time": "2026-11-21T07:00:00+00:00",
        "variables": [
            {"reference": "LD/GGIO1$ST$Ind1$stVal", "value": True, "reason": ["DATA_CHANGE"]},
            {"reference": "LD/GGIO1$ST$Ind2$stVal", "value": True, "reason": None},
        ],
    }
    assert e.time_ms == T0_MS
    assert len(LogPage([e], False)) == 1


# ------------------------------------------------------------------ fake server


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82]) + n.to_bytes(2, "big")


def tlv(tag: bytes, content: bytes) -> bytes:
    return tag + _len(len(content)) + content


def tod(ms: int) -> bytes:
    days, in_day = divmod(ms - EPOCH_1984_MS, 86_400_000)
    return in_day.to_bytes(4, "big") + days.to_bytes(2, "big")


def journal_entry(n: int, ms: int, value: bool = True, reason: Optional[bytes] = b"\x01\x40",
                  data: Optional[bytes] = None) -> bytes:
    """JournalEntry n: Ind1.stVal = value (or the Data TLV ``data``), with a ReasonCode
    variable (dchg) unless None."""
    if data is None:
        data = b"\x83\x01" + (b"\xff" if value else b"\x00")
    var = tlv(b"\x30", tlv(b"\x80", f"{GENERIC}/GGIO1$ST$Ind1$stVal".encode()) + tlv(b"\xa1", data))
    if reason is not None:
        var += tlv(b"\x30", tlv(b"\x80", b"ReasonCode") + tlv(b"\xa1", tlv(b"\x84", reason)))
    content = tlv(b"\x80", tod(ms)) + tlv(b"\xa2", tlv(b"\xa1", var))
    return tlv(b"\x30", tlv(b"\x80", n.to_bytes(8, "big")) + tlv(b"\xa1", b"") + tlv(b"\xa2", content))


def journal_response(invoke_id: int, entries: list[bytes], more: bool) -> bytes:
    body = tlv(b"\xa0", b"".join(entries)) + (b"\x81\x01\xff" if more else b"")
    iid = invoke_id.to_bytes(max(1, (invoke_id.bit_length() + 8) // 8), "big")
    return tlv(b"\xa1", tlv(b"\x02", iid) + tlv(b"\xbf\x41", body))


def children(data: bytes) -> list[tuple[int, bytes]]:
    """(last tag octet, content) of each TLV in ``data`` (tags of one or two octets)."""
    out = []
    off = 0
    while off < len(data):
        if data[off] & 0x1F == 0x1F:  # two-octet tag: re-read the length after it
            tag = data[off + 1]
            _, s, e = ber_tlv(data[off + 1:], 0)
            s += off + 1
            e += off + 1
        else:
            tag = data[off]
            _, s, e = ber_tlv(data, off)
        out.append((tag, data[s:e]))
        off = e
    return out


def parse_request(pdu: bytes) -> dict:
    """The parts of a ReadJournal request: start/end ms, after (id, ms)."""
    (_, body), = children(pdu)
    parts = children(body)
    assert parts[0][0] == 0x02 and b"\xbf\x41" in pdu, "not a ReadJournal request"
    (_, rj), = [p for p in parts if p[0] == 0x41]
    out: dict = {"start": None, "end": None, "after": None}

    def ms_of(t: bytes) -> int:
        return EPOCH_1984_MS + int.from_bytes(t[4:6], "big") * 86_400_000 + int.from_bytes(t[:4], "big")

    for tag, content in children(rj):
        if tag == 0xA1:
            (t, v), = children(content)
            out["start"] = ms_of(v) if t == 0x80 else ("entry", v)
        elif tag == 0xA2:
            (t, v), = children(content)
            out["end"] = ms_of(v) if t == 0x80 else ("count", v)
        elif tag == 0xA5:
            d = dict(children(content))
            out["after"] = (d[0x81], ms_of(d[0x80]))
    return out


class JournalServer:
    """Serves ``n`` entries (ids 1..n, one second apart from T0) in pages of ``page``
    entries; ``mode`` "ok", "empty_more" (moreFollows with no entries after the first
    page), "repeat" (ignores entryToStartAfter)."""

    def __init__(self, n: int, page: int, mode: str = "ok") -> None:
        self.n, self.page, self.mode = n, page, mode
        self.requests: list[dict] = []

    def __call__(self, pdu: bytes) -> bytes:
        req = parse_request(pdu)
        self.requests.append(req)
        first = 1
        if req["after"] is not None and self.mode != "repeat":
            first = int.from_bytes(req["after"][0], "big") + 1
            if self.mode == "empty_more":
                return journal_response(invoke_id_of(pdu), [], True)
        ids = list(range(first, min(self.n, first + self.page - 1) + 1))
        entries = [journal_entry(i, T0_MS + 1000 * i, bool(i & 1)) for i in ids]
        more = bool(ids) and ids[-1] < self.n
        return journal_response(invoke_id_of(pdu), entries, more)


def test_fake_journal_paging_follows_more_follows():
    fake = JournalServer(25, 10)
    with ScriptedServer("handshake_then_respond", responder=fake) as srv:
        with IedConnection("127.0.0.1", srv.port) as c:
            entries = c.query_log_by_time(LOG, T0)
            assert [int.from_bytes(e.entry_id, "big") for e in entries] == list(range(1, 26))
            assert [e.time for e in entries] == [T0 + dt.timedelta(seconds=i) for i in range(1, 26)]
            assert len(fake.requests) == 3
            first, second, third = fake.requests
            assert first["start"] == T0_MS and first["end"] is not None and first["after"] is None
            assert second["after"] == ((10).to_bytes(8, "big"), T0_MS + 10_000)
            assert third["after"] == ((20).to_bytes(8, "big"), T0_MS + 20_000)
            e = entries[0]
            assert len(e.variables) == 1  # the ReasonCode variable is paired with the value
            var = e.variables[0]
            assert var.reference == f"{GENERIC}/GGIO1$ST$Ind1$stVal"
            assert var.value.type is MmsType.BOOLEAN and var.value.to_python() is True
            assert entries[1].variables[0].value.to_python() is False
            assert var.reason == R.DATA_CHANGE
            # one page at a time
            page = c.query_log_page_by_time(LOG, T0, T0 + dt.timedelta(hours=1))
            assert isinstance(page, LogPage) and page.more_follows and len(page.entries) == 10
            assert fake.requests[-1]["end"] == T0_MS + 3_600_000
            nxt = c.query_log_page_after(LOG, page.entries[-1].entry_id, page.entries[-1].time)
            assert [int.from_bytes(x.entry_id, "big") for x in nxt.entries] == list(range(11, 21))
            # after an entry: all the rest
            rest = c.query_log_after(LOG, entries[21].entry_id, entries[21].time)
            assert [int.from_bytes(x.entry_id, "big") for x in rest] == [23, 24, 25]
            rest_hex = c.query_log_after(LOG, entries[21].entry_id.hex(), entries[21].time_ms)
            assert [x.entry_id for x in rest_hex] == [x.entry_id for x in rest]
        assert not srv.errors


def eids(entries: list[JournalEntry]) -> list[int]:
    return [int.from_bytes(e.entry_id, "big") for e in entries]


def test_fake_journal_end_is_applied_by_the_client_after_the_first_page():
    """Only the first request of a by-time query carries the end (rangeStop); the pages
    after it carry entryToStartAfter alone (the Rust-based server refuses it together
    with rangeStop), and the client drops what was made after the end. This fake server
    ignores the time range, like a server that sends on."""
    fake = JournalServer(40, 10)
    with ScriptedServer("handshake_then_respond", responder=fake) as srv:
        with IedConnection("127.0.0.1", srv.port) as c:
            end = T0 + dt.timedelta(seconds=15)  # entry 15 is made exactly at the end: kept
            entries = c.query_log_by_time(LOG, T0, end)
            assert eids(entries) == list(range(1, 16))
            assert all(e.time <= end for e in entries)
            first, second = fake.requests
            assert first["start"] == T0_MS and first["end"] == T0_MS + 15_000 and first["after"] is None
            assert second["after"] == ((10).to_bytes(8, "big"), T0_MS + 10_000)
            assert second["start"] is None and second["end"] is None
            # the end within the first page: one request, the rest of the page dropped
            del fake.requests[:]
            assert eids(c.query_log_by_time(LOG, T0, T0 + dt.timedelta(seconds=4, milliseconds=999))) == [1, 2, 3, 4]
            assert len(fake.requests) == 1
            # the end on a page boundary: the next page is asked for, none of it kept
            del fake.requests[:]
            assert eids(c.query_log_by_time(LOG, T0, T0_MS + 20_000)) == list(range(1, 21))
            assert len(fake.requests) == 3 and all(r["end"] is None for r in fake.requests[1:])
            # page by page: the same rule for query_log_page_after(..., end=...)
            id10, t10 = (10).to_bytes(8, "big"), T0 + dt.timedelta(seconds=10)
            page = c.query_log_page_after(LOG, id10, t10, end=end)
            assert eids(page.entries) == list(range(11, 16)) and page.more_follows is False
            assert fake.requests[-1]["end"] is None and fake.requests[-1]["after"] == (id10, T0_MS + 10_000)
            page = c.query_log_page_after(LOG, id10, t10, end=T0 + dt.timedelta(seconds=30))
            assert eids(page.entries) == list(range(11, 21)) and page.more_follows is True
            page = c.query_log_page_by_time(LOG, T0, T0 + dt.timedelta(seconds=3))
            assert eids(page.entries) == [1, 2, 3] and page.more_follows is False
            # QueryLogAfter with an end, all pages
            from py61850._log import all_after

            del fake.requests[:]
            assert eids(all_after(c, LOG, id10, t10, T0 + dt.timedelta(seconds=25))) == list(range(11, 26))
            assert len(fake.requests) == 2 and all(r["end"] is None for r in fake.requests)
        assert not srv.errors


def test_fake_journal_values_outlive_the_page_and_the_connection():
    """A logged value stays valid (it keeps its answer's C memory alive) after the entry
    list, the page and the connection are gone, and that memory is released with it."""
    import gc
    import weakref

    texts = [f"value of entry {i}: " + "x" * 40 for i in range(1, 4)]

    def responder(pdu: bytes) -> bytes:
        entries = [journal_entry(i, T0_MS + i, data=tlv(b"\x8a", t.encode())) for i, t in enumerate(texts, 1)]
        return journal_response(invoke_id_of(pdu), entries, False)

    with ScriptedServer("handshake_then_respond", responder=responder) as srv:
        c = IedConnection()
        c.connect("127.0.0.1", srv.port)
        entries = c.query_log_by_time(LOG)
        assert [e.variables[0].value.to_python() for e in entries] == texts
        kept = entries[1].variables[0].value
        c.close()
        del c, entries
        gc.collect()
        # reuse what was freed: other answers, other values
        with IedConnection("127.0.0.1", srv.port) as c2:
            for _ in range(20):
                c2.query_log_by_time(LOG)
        junk = [C.MmsValue.visible_string("y" * 60) for _ in range(2000)]
        del junk
        gc.collect()
        assert kept.type is MmsType.VISIBLE_STRING
        assert kept.to_python() == texts[1]
        assert kept == C.MmsValue.visible_string(texts[1]) and kept.clone().to_python() == texts[1]
        owner = weakref.ref(kept._parent)  # the C journal of the answer
        del kept
        gc.collect()
        assert owner() is None, "the answer's C journal was not released with its last value"
        assert not srv.errors


def test_fake_journal_without_reason_codes_and_empty_log():
    def responder(pdu: bytes) -> bytes:
        req = parse_request(pdu)
        if req["start"] is not None and req["start"] > T0_MS:
            return journal_response(invoke_id_of(pdu), [], False)
        return journal_response(invoke_id_of(pdu), [journal_entry(7, T0_MS, False, reason=None)], False)

    with ScriptedServer("handshake_then_respond", responder=responder) as srv:
        with IedConnection("127.0.0.1", srv.port) as c:
            (e,) = c.query_log_by_time(LOG)
            assert e.variables[0].reason is None and e.variables[0].value.to_python() is False
            assert c.query_log_by_time(LOG, T0 + dt.timedelta(days=1)) == []
        assert not srv.errors


@pytest.mark.parametrize("mode", ["empty_more", "repeat"])
def test_fake_journal_without_progress_stops(mode):
    fake = JournalServer(25, 10, mode)
    with ScriptedServer("handshake_then_respond", responder=fake) as srv:
        with IedConnection("127.0.0.1", srv.port) as c:
            with pytest.raises(UnexpectedValueError) as ei:
                c.query_log_by_time(LOG)
            assert len(fake.requests) <= 3
            assert ei.value.error_code == E.UNEXPECTED_VALUE_RECEIVED
            assert "stopped" in str(ei.value)
            assert [int.from_bytes(x.entry_id, "big") for x in ei.value.entries][:10] == list(range(1, 11))
        assert not srv.errors


def test_fake_journal_entry_bound():
    fake = JournalServer(100, 10)
    with ScriptedServer("handshake_then_respond", responder=fake) as srv:
        with IedConnection("127.0.0.1", srv.port) as c:
            with pytest.raises(UnexpectedValueError) as ei:
                c.query_log_by_time(LOG, max_entries=15)
            assert "more than 15 entries" in str(ei.value)
            assert len(ei.value.entries) == 15
            assert len(fake.requests) == 2
        assert not srv.errors


def test_fake_journal_error_answer():
    """The server's refusal (object-non-existent, golden 131) raises ObjectDoesNotExistError."""
    from fakes.scripted_server import golden, mms_pdu_of

    err = mms_pdu_of(golden("131_readjournal_error"))
    _, s, _ = ber_tlv(err)  # replace its invokeID with the request's

    def responder(pdu: bytes) -> bytes:
        _, s2, e2 = ber_tlv(err, s)
        n = invoke_id_of(pdu)
        iid = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")
        body = b"\x80" + bytes([len(iid)]) + iid + err[e2:]  # confirmed-ErrorPDU: invokeID [0]
        return bytes([err[0]]) + _len(len(body)) + body

    with ScriptedServer("handshake_then_respond", responder=responder) as srv:
        with IedConnection("127.0.0.1", srv.port) as c:
            with pytest.raises(C.ObjectDoesNotExistError) as ei:
                c.query_log_by_time(f"{GENERIC}/LLN0$NoLog")
            assert ei.value.reference == f"{GENERIC}/LLN0$NoLog"
        assert not srv.errors


# ------------------------------------------------------------------ libiec61850 peer


def test_lcb_read_libiec(libiec_server: PeerServer):
    conn = connect(libiec_server)
    try:
        for ref in (LCB, f"{GENERIC}/LLN0.LG.EventLog", f"{GENERIC}/LLN0$LG$EventLog"):
            lcb = conn.read_lcb(ref)
            assert isinstance(lcb, LogControlBlock)
            assert lcb.reference == f"{GENERIC}/LLN0.LG.EventLog"
            assert lcb.log_ena is True
            assert lcb.log_ref == LOG
            assert lcb.dataset == f"{GENERIC}/LLN0$Events"
            assert lcb.trg_ops == T.DATA_CHANGED | T.QUALITY_CHANGED
            assert lcb.intg_pd == 0
            assert isinstance(lcb.old_entry_time, dt.datetime) and isinstance(lcb.new_entry_time, dt.datetime)
            assert lcb.element_changed == LcbElement.NONE
        d = lcb.to_dict()
        assert d["log_ref"] == LOG and d["trg_ops"] == ["DATA_CHANGED", "QUALITY_CHANGED"]
        assert libiec_server.journal_ref(LCB) == lcb.log_ref
        with pytest.raises(C.ObjectDoesNotExistError):
            conn.read_lcb(f"{GENERIC}/LLN0.NoLog")
    finally:
        conn.close()


def test_query_log_libiec_answers_no_entries(libiec_server: PeerServer):
    """pyiec61850-ng has no log storage: the query succeeds with no entries."""
    conn = connect(libiec_server)
    try:
        assert conn.query_log_by_time(LOG) == []
        assert conn.query_log_by_time(LOG, T0, T0 + dt.timedelta(days=1)) == []
        page = conn.query_log_page_by_time(LOG)
        assert page.entries == [] and page.more_follows is False
        assert conn.query_log_after(LOG, bytes(8), T0) == []
        with pytest.raises(IedConnectionException) as ei:
            conn.query_log_by_time(f"{GENERIC}/LLN0$NoSuchLog")
        assert ei.value.error_code == E.OBJECT_DOES_NOT_EXIST
        assert conn.get_logical_device_logs(GENERIC) == ["LLN0$EventLog"]
    finally:
        conn.close()


def test_lcb_set_libiec(start_peer_server):
    peer = start_peer_server("libiec")
    conn = connect(peer)
    try:
        lcb = conn.read_lcb(LCB)
        lcb.disable()
        conn.update_lcb_values(lcb)
        assert lcb.log_ena is False
        lcb.intg_pd = 5000
        assert lcb.element_changed == LcbElement.INTG_PD
        conn.set_lcb_values(lcb)
        assert conn.read_lcb(LCB).intg_pd == 5000
        lcb.intg_pd = 0
        lcb.log_ena = True
        conn.set_lcb_values(lcb, single_request=False)
        back = conn.read_lcb(LCB)
        assert back.log_ena is True and back.intg_pd == 0
    finally:
        conn.close()


# ------------------------------------------------------------------ Rust peer


def test_lcb_read_rust(rust_server: PeerServer):
    conn = connect(rust_server)
    try:
        lcb = conn.read_lcb(LCB)
        assert lcb.log_ena is True
        assert lcb.log_ref == rust_server.journal_ref(LCB)
        assert lcb.dataset in (f"{GENERIC}/LLN0$Events", "LLN0$Events")
        assert lcb.trg_ops == T.DATA_CHANGED | T.QUALITY_CHANGED
        assert lcb.intg_pd == 0
        # what the Rust server leaves out reads None
        assert lcb.old_entry is None and lcb.new_entry_time is None
        assert not lcb.has(LcbElement.OLD_ENTR_TM) and lcb.has("LogRef")
        lcb.intg_pd = 1000
        with pytest.raises(IedConnectionException) as ei:  # it refuses every LCB write
            conn.set_lcb_values(lcb)
        assert ei.value.error_code == E.OBJECT_ACCESS_UNSUPPORTED
        assert ei.value.reference == f"{GENERIC}/LLN0.LG.EventLog.IntgPd"
    finally:
        conn.close()


def test_journal_rust_by_time_and_after(start_peer_server):
    peer = start_peer_server("rust")
    log_ref = peer.journal_ref(LCB)
    ind = f"{GENERIC}/GGIO1.Ind{{}}.stVal"
    written = []
    for i in range(6):
        # the Rust server's reason_code is the mask: 1 data-change, 2 quality-change
        eid, data_ref = peer.log_value(LCB, ind.format(1 + i % 4), "ST", bool(i & 1), reason=1 if i % 3 else 2,
                                       time_ms=T0_MS + 1000 * i)
        assert eid is not None
        written.append((eid, data_ref, bool(i & 1), R.DATA_CHANGE if i % 3 else R.QUALITY_CHANGE))
    conn = connect(peer)
    try:
        entries = conn.query_log_by_time(log_ref, T0 - dt.timedelta(minutes=1))
        assert [e.entry_id for e in entries] == [w[0] for w in written]
        assert [e.time for e in entries] == [T0 + dt.timedelta(seconds=i) for i in range(6)]
        for e, (_, data_ref, value, reason) in zip(entries, written):
            assert len(e.variables) == 1
            var = e.variables[0]
            assert var.reference == data_ref
            assert var.value.to_python() is value
            assert var.reason == reason
        # a time window
        mid = conn.query_log_by_time(log_ref, T0 + dt.timedelta(seconds=2), T0 + dt.timedelta(seconds=4))
        assert [e.entry_id for e in mid] == [w[0] for w in written[2:5]]
        assert conn.query_log_by_time(log_ref, T0 + dt.timedelta(hours=1)) == []
        # after an entry
        after = conn.query_log_after(log_ref, entries[2].entry_id, entries[2].time)
        assert [e.entry_id for e in after] == [w[0] for w in written[3:]]
        assert conn.query_log_after(log_ref, entries[-1].entry_id, entries[-1].time) == []
        # JSON form
        d = entries[0].to_dict()
        assert d["entry_id"] == written[0][0].hex() and d["variables"][0]["value"] is False
    finally:
        conn.close()


def test_journal_rust_paging(start_peer_server):
    """Enough entries that the server answers in several parts: query_log_by_time follows
    them to the end, and page by page gives the same entries."""
    peer = start_peer_server("rust")
    log_ref = peer.journal_ref(LCB)
    n = 600
    ids = []
    for i in range(n):
        eid, _ = peer.log_value(LCB, f"{GENERIC}/GGIO1.AnIn1.mag.f", "MX", float(i), time_ms=T0_MS + 10 * i)
        ids.append(eid)
    conn = IedConnection()
    conn.set_max_pdu_size(2000)  # small answers: several pages
    conn.connect(peer.host, peer.port)
    try:
        entries = conn.query_log_by_time(log_ref)
        assert [e.entry_id for e in entries] == ids
        assert [e.variables[0].value.to_python() for e in entries] == [float(i) for i in range(n)]
        pages = [conn.query_log_page_by_time(log_ref)]
        while pages[-1].more_follows:
            last = pages[-1].entries[-1]
            pages.append(conn.query_log_page_after(log_ref, last.entry_id, last.time))
        assert len(pages) > 1, "the server sent every entry at once: no paging was exercised"
        assert [e.entry_id for p in pages for e in p.entries] == ids
    finally:
        conn.close()


def test_journal_rust_paging_with_end(start_peer_server):
    """A by-time query with an explicit end over several pages: every entry up to the end,
    in order, none after it (the server answers only the first request with a range stop;
    the pages after it are asked for without one). Page by page with the end the same."""
    import gc

    peer = start_peer_server("rust")
    log_ref = peer.journal_ref(LCB)
    n, last = 600, 437
    ids = [peer.log_value(LCB, f"{GENERIC}/GGIO1.AnIn1.mag.f", "MX", float(i), time_ms=T0_MS + 10 * i)[0]
           for i in range(n)]
    end = T0 + dt.timedelta(milliseconds=10 * last)  # entry `last` is made exactly at the end
    conn = IedConnection()
    conn.set_max_pdu_size(2000)  # small answers: several pages
    conn.connect(peer.host, peer.port)
    try:
        first = conn.query_log_page_by_time(log_ref, T0, end)
        assert first.more_follows and 1 < len(first.entries) < last, "no paging before the end"
        entries = conn.query_log_by_time(log_ref, T0 - dt.timedelta(minutes=1), end)
        assert [e.entry_id for e in entries] == ids[:last + 1]
        assert [e.variables[0].value.to_python() for e in entries] == [float(i) for i in range(last + 1)]
        assert [e.time for e in entries] == [T0 + dt.timedelta(milliseconds=10 * i) for i in range(last + 1)]
        # an end between two entries, as int ms
        assert [e.entry_id for e in conn.query_log_by_time(log_ref, T0, T0_MS + 10 * last - 1)] == ids[:last]
        # page by page, continuing with the same end
        pages = [first]
        while pages[-1].more_follows:
            prev = pages[-1].entries[-1]
            pages.append(conn.query_log_page_after(log_ref, prev.entry_id, prev.time, end=end))
        assert [e.entry_id for p in pages for e in p.entries] == ids[:last + 1]
        # the server did send entries after the end on the last request: the client dropped them
        prev = pages[-2].entries[-1]
        unbounded = conn.query_log_page_after(log_ref, prev.entry_id, prev.time)
        assert any(e.time > end for e in unbounded.entries)
        kept = entries[-1].variables[0].value
    finally:
        conn.close()
    del conn, entries, pages, first, unbounded
    gc.collect()
    assert kept.type is MmsType.FLOAT and kept.to_python() == float(last)


def test_own_server_paging_with_end():
    """The same against our own server: a by-time query with an end over many small pages."""
    import time

    from peers.process import DEFAULT_SCL
    from py61850.server import IedServer

    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.configure(max_pdu_size=1000)
    srv.start(0, "127.0.0.1")
    try:
        ref = f"{GENERIC}/GGIO1.Ind4.stVal"

        def toggle(k: int) -> None:
            v = bool(srv.get_value(ref))
            for _ in range(k):
                v = not v
                srv.update_value(ref, v)

        toggle(300)
        time.sleep(0.02)
        end = dt.datetime.now(UTC)
        time.sleep(0.02)
        toggle(300)
        with IedConnection() as c:
            c.connect("127.0.0.1", srv.port)
            everything = c.query_log_by_time(LOG)
            assert eids(everything) == list(range(1, 601))
            first = c.query_log_page_by_time(LOG, None, end)
            assert first.more_follows and 1 < len(first.entries) < 300, "no paging before the end"
            entries = c.query_log_by_time(LOG, None, end)
            assert eids(entries) == list(range(1, 301))
            assert [e.variables[0].value for e in entries] == [e.variables[0].value for e in everything[:300]]
            pages = [first]
            while pages[-1].more_follows:
                prev = pages[-1].entries[-1]
                pages.append(c.query_log_page_after(LOG, prev.entry_id, prev.time, end=end))
            assert eids([e for p in pages for e in p.entries]) == list(range(1, 301))
            prev = pages[-2].entries[-1]
            assert any(e.time > end for e in c.query_log_page_after(LOG, prev.entry_id, prev.time).entries)
    finally:
        srv.close()


def test_journal_rust_log_disabled_and_missing(start_peer_server):
    peer = start_peer_server("rust")
    log_ref = peer.journal_ref(LCB)
    peer.log_enable(LCB, False)
    eid, _ = peer.log_value(LCB, f"{GENERIC}/GGIO1.Ind1.stVal", "ST", True)
    assert eid is None  # LogEna FALSE: nothing logged
    conn = connect(peer)
    try:
        assert conn.read_lcb(LCB).log_ena is False
        assert conn.query_log_by_time(log_ref) == []
        with pytest.raises(IedConnectionException) as ei:
            conn.query_log_by_time(f"{GENERIC}/LLN0$LG$NoSuchLog")
        assert ei.value.error_code == E.OBJECT_DOES_NOT_EXIST
    finally:
        conn.close()


def test_guide_log_examples_against_rust(start_peer_server, capsys):
    """The query examples of docs/client.rst "Logs" print real entries (the guide's own
    test runs against libiec61850, whose logs are empty); the LCB write example is left
    out (the Rust server refuses LCB writes)."""
    import re
    import textwrap
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "client.rst").read_text(encoding="utf-8")
    section = text[text.index("\nLogs\n----\n"):text.index("\nSetting groups\n---")]
    blocks = [textwrap.dedent(m.group(1)) for m in
              re.finditer(r"^\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)", section, re.M)]
    queries = [b for b in blocks if "set_lcb_values" not in b]
    assert len(queries) == 4
    peer = start_peer_server("rust")
    ids = [peer.log_value(LCB, f"{GENERIC}/GGIO1.Ind{i}.stVal", "ST", True, reason=1)[0] for i in (1, 2, 3)]
    conn = connect(peer)
    try:
        ns: dict = {"conn": conn, "FC": C.FunctionalConstraint}
        for i, src in enumerate(queries):
            exec(compile(src, f"client.rst Logs[{i}]", "exec"), ns)
    finally:
        conn.close()
    out = capsys.readouterr().out
    assert ns["lcb"].log_ref == peer.journal_ref(LCB)
    for eid in ids:
        assert f" {eid.hex()} {GENERIC}/GGIO1$ST$Ind" in out  # by time: one line per value
        assert out.count(eid.hex()) >= 2  # and again page by page
    # query_log_after from the last entry: nothing new
    assert len(ns["entries"]) == 3 and '"entry_id"' not in out
