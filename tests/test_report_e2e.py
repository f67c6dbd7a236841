"""Reporting end to end: our client (:mod:`py61850.client`) against our server
(:class:`py61850.server.IedServer`), both in this process, on 127.0.0.1.

The server's model is a dict (:data:`MODEL`) with trigger options chosen per attribute:
``GGIO1.Ind1..4`` (SPS: ``stVal`` dchg, ``q`` qchg), ``AnIn1..2`` (MV: ``mag`` dchg),
``Cnt1`` (``stVal`` dchg + dupd), ``Txt01..60`` (VisString255, dchg) and the data sets

* ``Events`` = Ind1..4.stVal, Ind1.q, Cnt1.stVal (URCB ``urcbEv01/02``, BRCB ``brcbEv01``)
* ``Meas``   = AnIn1.mag.f, AnIn2.mag.f (BRCB ``brcbMeas01``, URCB ``urcbMeas01``)
* ``Big``    = Txt01..60.stVal (URCB ``urcbBig01``: segmentation)

Checks count reports (never time them), except where a period is the point (IntgPd,
BufTm), and there only with wide bounds.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Iterator, Optional

import pytest

from py61850.client import (
    IedConnection,
    IedConnectionException,
    ObjectValueInvalidError,
    ReasonForInclusion as R,
    Report,
    ReportControlBlock,
    ReportOptions as O,
    ReportTriggerOptions as T,
)
from py61850.server import IedServer

LD = "E2ELD0"
URCB = f"{LD}/LLN0.RP.urcbEv01"
URCB2 = f"{LD}/LLN0.RP.urcbEv02"
BRCB = f"{LD}/LLN0.BR.brcbEv01"
BRCB_MEAS = f"{LD}/LLN0.BR.brcbMeas01"
URCB_MEAS = f"{LD}/LLN0.RP.urcbMeas01"
URCB_BIG = f"{LD}/LLN0.RP.urcbBig01"
IND = [f"{LD}/GGIO1.Ind{i}.stVal" for i in range(1, 5)]
IND1_Q = f"{LD}/GGIO1.Ind1.q"
CNT = f"{LD}/GGIO1.Cnt1.stVal"
ANIN = [f"{LD}/GGIO1.AnIn{i}.mag.f" for i in (1, 2)]
N_TXT = 60
TXT = [f"{LD}/GGIO1.Txt{i:02d}.stVal" for i in range(1, N_TXT + 1)]

ALL_OPTS = O.SEQ_NUM | O.TIME_STAMP | O.REASON_FOR_INCLUSION | O.DATA_SET | O.DATA_REFERENCE | O.CONF_REV
ALL_BRCB_OPTS = ALL_OPTS | O.BUFFER_OVERFLOW | O.ENTRY_ID
ALL_TRG = T.DATA_CHANGED | T.QUALITY_CHANGED | T.DATA_UPDATE | T.GI


def _da(name: str, fc: str, btype: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "fc": fc, "btype": btype, **kw}


def _sps(name: str) -> dict[str, Any]:
    return {"name": name, "children": [_da("stVal", "ST", "BOOLEAN", dchg=True),
                                       _da("q", "ST", "Quality", qchg=True),
                                       _da("t", "ST", "Timestamp")]}


def _mv(name: str) -> dict[str, Any]:
    return {"name": name, "children": [
        _da("mag", "MX", "Struct", dchg=True, children=[_da("f", "MX", "FLOAT32")]),
        _da("q", "MX", "Quality", qchg=True), _da("t", "MX", "Timestamp")]}


def _fcda(do: str, da: str, fc: str) -> dict[str, Any]:
    return {"ld_inst": "LD0", "ln_class": "GGIO", "ln_inst": "1", "do_name": do, "da_name": da, "fc": fc}


def _rcb(name: str, ds: str, rpt_id: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "dataset": ds, "rpt_id": rpt_id, "conf_rev": 1,
            "trg_ops": {"dchg": True, "qchg": True, "dupd": True, "gi": True},
            "opt_fields": {"seq_num": True, "time_stamp": True, "reason_code": True, "data_set": True,
                           "data_ref": True, "config_ref": True, "buf_ovfl": True, "entry_id": True},
            **kw}


MODEL: dict[str, Any] = {
    "name": "E2E",
    "logical_devices": [{"inst": "LD0", "logical_nodes": [
        {"ln_class": "LLN0",
         "data_objects": [{"name": "Mod", "children": [_da("stVal", "ST", "INT8", value=1)]}],
         "data_sets": [
             {"name": "Events", "members": [*(_fcda(f"Ind{i}", "stVal", "ST") for i in range(1, 5)),
                                            _fcda("Ind1", "q", "ST"), _fcda("Cnt1", "stVal", "ST")]},
             {"name": "Meas", "members": [_fcda("AnIn1", "mag.f", "MX"), _fcda("AnIn2", "mag.f", "MX")]},
             {"name": "Big", "members": [_fcda(f"Txt{i:02d}", "stVal", "ST") for i in range(1, N_TXT + 1)]},
         ],
         "report_controls": [
             _rcb("urcbEv", "Events", "Ev", max_instances=2),
             _rcb("brcbEv", "Events", "BEv", buffered=True),
             _rcb("brcbMeas", "Meas", "BMeas", buffered=True),
             _rcb("urcbMeas", "Meas", "UMeas"),
             _rcb("urcbBig", "Big", "Big"),
         ]},
        {"ln_class": "GGIO", "inst": "1", "data_objects": [
            *(_sps(f"Ind{i}") for i in range(1, 5)),
            _mv("AnIn1"), _mv("AnIn2"),
            {"name": "Cnt1", "children": [_da("stVal", "ST", "INT32", dchg=True, dupd=True)]},
            *({"name": f"Txt{i:02d}", "children": [_da("stVal", "ST", "VisString255", dchg=True)]}
              for i in range(1, N_TXT + 1)),
        ]},
    ]}],
}


# ----------------------------------------------------------------------- helpers


def make_server(**kw: Any) -> IedServer:
    srv = IedServer.from_dict(MODEL, **kw)
    srv.start(0, "127.0.0.1")
    return srv


@pytest.fixture
def server() -> Iterator[IedServer]:
    srv = make_server()
    yield srv
    srv.close()


def connect(srv: IedServer, max_pdu: Optional[int] = None) -> IedConnection:
    c = IedConnection()
    c.set_request_timeout(5000)
    if max_pdu is not None:
        c.set_max_pdu_size(max_pdu)
    c.connect("127.0.0.1", srv.port)
    return c


@pytest.fixture
def conn(server: IedServer) -> Iterator[IedConnection]:
    c = connect(server)
    yield c
    c.close()


class Inbox:
    """A report callback collecting into a queue."""

    def __init__(self) -> None:
        self.q: "queue.Queue[Report]" = queue.Queue()

    def __call__(self, report: Report) -> None:
        self.q.put(report)

    def take(self, n: int = 1, timeout: float = 5.0) -> list[Report]:
        out: list[Report] = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                out.append(self.q.get(timeout=left))
            except queue.Empty:
                break
        return out

    def drain(self, idle: float = 0.5, first: float = 5.0) -> list[Report]:
        """Every report until none came for ``idle`` seconds (the first within ``first``)."""
        out = self.take(1, first)
        while out:
            more = self.take(1, idle)
            if not more:
                break
            out.extend(more)
        return out

    def one(self, timeout: float = 5.0) -> Report:
        got = self.take(1, timeout)
        assert got, "no report"
        return got[0]

    def none(self, wait: float = 0.4) -> None:
        extra = self.take(1, wait)
        assert extra == [], f"unexpected report(s): {extra}"


def subscribe(c: IedConnection, ref: str, rpt_id: str, **values: Any) -> tuple[ReportControlBlock, Inbox]:
    """Register a handler, then write ``values`` and RptEna = TRUE."""
    inbox = Inbox()
    c.register_report_handler(ref, rpt_id, inbox)
    rcb = c.read_rcb(ref)
    for k, v in values.items():
        setattr(rcb, k, v)
    rcb.rpt_ena = True
    c.set_rcb_values(rcb)
    return rcb, inbox


def value(report: Report, i: int) -> Any:
    v = report.values[i]
    return None if v is None else v.to_python()


def seq_gaps(seqs: list[int], modulo: int) -> list[tuple[int, int]]:
    return [(a, b) for a, b in zip(seqs, seqs[1:]) if (a + 1) % modulo != b]


# ----------------------------------------------------------------------- TrgOps


@pytest.mark.parametrize("ref,rpt_id", [(URCB, "Ev"), (BRCB, "BEv")])
def test_every_trigger_option(server: IedServer, conn: IedConnection, ref: str, rpt_id: str) -> None:
    extra = {"resv": True} if ".RP." in ref else {}
    rcb, inbox = subscribe(conn, ref, rpt_id, trg_ops=ALL_TRG, buf_tm=0,
                           opt_flds=ALL_BRCB_OPTS if ".BR." in ref else ALL_OPTS, gi=True, **extra)
    gi = inbox.one()
    assert gi.rpt_id == rpt_id
    assert gi.included == [0, 1, 2, 3, 4, 5]
    assert all(r == R.GI for r in gi.reasons)
    assert gi.dataset_name == f"{LD}/LLN0$Events"
    assert gi.conf_rev == 1
    assert [value(gi, i) for i in range(4)] == [server.get_value(r) for r in IND]
    assert gi.data_references[5] == f"{LD}/GGIO1$ST$Cnt1$stVal"

    server.update_value(IND[1], True)  # dchg
    rep = inbox.one()
    assert rep.included == [1] and rep.reasons[1] == R.DATA_CHANGE and value(rep, 1) is True
    assert rep.seq_num == gi.seq_num + 1

    q = server.get_value(IND1_Q)
    server.update_value(IND1_Q, "0100000000000")  # qchg (validity invalid)
    rep = inbox.one()
    assert rep.included == [4] and rep.reasons[4] == R.QUALITY_CHANGE
    assert value(rep, 4) != q

    server.update_value(CNT, server.get_value(CNT))  # dupd: the same value again
    rep = inbox.one()
    assert rep.included == [5] and rep.reasons[5] == R.DATA_UPDATE

    server.update_value(CNT, 7)  # a new value: data change
    rep = inbox.one()
    assert rep.included == [5] and R.DATA_CHANGE in rep.reasons[5] and value(rep, 5) == 7

    server.update_value(IND[1], True)  # unchanged, and Ind.stVal has no dupd: nothing
    inbox.none()

    # only quality changes from now on
    rcb.rpt_ena = False
    conn.set_rcb_values(rcb)
    rcb.trg_ops = T.QUALITY_CHANGED
    rcb.rpt_ena = True
    conn.set_rcb_values(rcb)
    inbox.none(0.2)  # no GI unless asked
    server.update_value(IND[2], True)
    inbox.none()
    server.update_value(IND1_Q, "0000000000000")
    rep = inbox.one()
    assert rep.included == [4] and rep.reasons[4] == R.QUALITY_CHANGE
    conn.unregister_report_handler(ref)
    rcb.rpt_ena = False
    conn.set_rcb_values(rcb)


def test_gi_on_demand(server: IedServer, conn: IedConnection) -> None:
    rcb, inbox = subscribe(conn, URCB, "Ev", resv=True, trg_ops=T.GI, buf_tm=0)
    inbox.none(0.2)
    server.update_value(IND[0], True)
    server.update_value(IND[3], True)
    inbox.none(0.2)  # GI only: changes are not reported
    conn.trigger_gi(rcb)
    rep = inbox.one()
    assert rep.included == list(range(6)) and all(r == R.GI for r in rep.reasons)
    assert value(rep, 0) is True and value(rep, 3) is True
    assert conn.read_rcb(URCB).gi is False  # GI resets itself
    conn.trigger_gi(URCB)
    assert inbox.one().seq_num == rep.seq_num + 1


def test_no_trigger_no_gi_when_gi_not_in_trg_ops(server: IedServer, conn: IedConnection) -> None:
    rcb, inbox = subscribe(conn, URCB, "Ev", resv=True, trg_ops=T.DATA_CHANGED, buf_tm=0)
    conn.trigger_gi(rcb)  # accepted or refused, but no GI report
    inbox.none()


# ----------------------------------------------------------------------- BufTm, IntgPd


def test_buf_tm_coalesces_changes_into_one_report(server: IedServer, conn: IedConnection) -> None:
    rcb, inbox = subscribe(conn, URCB, "Ev", resv=True, trg_ops=T.DATA_CHANGED, buf_tm=300)
    t0 = time.monotonic()
    for ref in IND:  # four members change within the buffer time
        server.update_value(ref, True)
    rep = inbox.one()
    assert time.monotonic() - t0 > 0.15
    assert rep.included == [0, 1, 2, 3]
    assert all(r == R.DATA_CHANGE for r in (rep.reasons[i] for i in range(4)))
    assert [value(rep, i) for i in range(4)] == [True] * 4
    inbox.none()


def test_buf_tm_zero_sends_each_change(server: IedServer, conn: IedConnection) -> None:
    rcb, inbox = subscribe(conn, URCB, "Ev", resv=True, trg_ops=T.DATA_CHANGED, buf_tm=0)
    for ref in IND:
        server.update_value(ref, True)
    got = inbox.take(4)
    assert [r.included for r in got] == [[0], [1], [2], [3]]


def test_integrity_period(server: IedServer, conn: IedConnection) -> None:
    rcb, inbox = subscribe(conn, URCB_MEAS, "UMeas", resv=True, trg_ops=T.INTEGRITY, intg_pd=100)
    server.update_value(ANIN[0], 5.5)
    t0 = time.monotonic()
    got = inbox.take(8, timeout=10)
    elapsed = time.monotonic() - t0
    assert len(got) == 8
    assert 0.5 < elapsed < 5  # 8 periods of 100 ms
    for rep in got:
        assert rep.included == [0, 1] and all(r == R.INTEGRITY for r in rep.reasons)
        assert value(rep, 0) == 5.5
    assert seq_gaps([r.seq_num for r in got], 256) == []


# ----------------------------------------------------------------------- segmentation


def test_segmented_report_is_reassembled(server: IedServer) -> None:
    texts = [f"{i:02d}-" + chr(ord("a") + i % 26) * 200 for i in range(N_TXT)]
    for ref, t in zip(TXT, texts):
        server.update_value(ref, t)
    c = connect(server, max_pdu=1000)
    try:
        assert c.max_pdu_size <= 1000
        before = server.reports_sent
        rcb, inbox = subscribe(c, URCB_BIG, "Big", resv=True, trg_ops=T.GI | T.DATA_CHANGED, buf_tm=0,
                               opt_flds=ALL_OPTS, gi=True)
        rep = inbox.one()
        assert rep.segments > 10  # 60 x ~210 octets in PDUs of at most 1000
        assert rep.included == list(range(N_TXT))
        assert [value(rep, i) for i in range(N_TXT)] == texts
        assert rep.get_data_reference(59) == f"{LD}/GGIO1$ST$Txt60$stVal"
        assert not rep.more_segments_follow
        assert server.reports_sent - before == rep.segments
        server.update_value(TXT[7], "short")
        small = inbox.one()
        assert small.segments == 1 and small.included == [7] and small.seq_num == rep.seq_num + 1
    finally:
        c.close()


# ----------------------------------------------------------------------- BRCB buffer


def _drain_seen(srv: IedServer, c: IedConnection, ref: str, rpt_id: str, n: int, start: float) -> list[Report]:
    rcb, inbox = subscribe(c, ref, rpt_id, trg_ops=T.DATA_CHANGED, buf_tm=0, opt_flds=ALL_BRCB_OPTS)
    for i in range(n):
        srv.update_value(ANIN[0], start + i)
    got = inbox.take(n)
    assert [value(r, 0) for r in got] == [start + i for i in range(n)]
    return got


def test_brcb_resync_delivers_each_buffered_entry_once(server: IedServer) -> None:
    a = connect(server)
    seen = _drain_seen(server, a, BRCB_MEAS, "BMeas", 3, 1.0)
    a.abort()  # the association is lost without a disable
    for v in (10.0, 11.0, 12.0, 13.0, 14.0):
        server.update_value(ANIN[0], v)
    b = connect(server)
    try:
        rcb, inbox = subscribe(b, BRCB_MEAS, "BMeas", entry_id=seen[-1].entry_id)
        got = inbox.take(5)
        assert [value(r, 0) for r in got] == [10.0, 11.0, 12.0, 13.0, 14.0]
        ids = [r.entry_id for r in got]
        assert len(set(ids)) == 5 and seen[-1].entry_id not in ids
        assert [r.seq_num for r in got] == [0, 1, 2, 3, 4]  # SqNum restarts on enable (as libiec61850)
        assert not any(r.buf_ovfl for r in got)
        inbox.none()
        server.update_value(ANIN[0], 15.0)
        assert value(inbox.one(), 0) == 15.0
    finally:
        b.close()


def test_brcb_resync_from_an_older_entry(server: IedServer) -> None:
    a = connect(server)
    seen = _drain_seen(server, a, BRCB_MEAS, "BMeas", 4, 1.0)
    a.abort()
    b = connect(server)
    try:
        rcb, inbox = subscribe(b, BRCB_MEAS, "BMeas", entry_id=seen[1].entry_id)
        got = inbox.take(2)
        assert [r.entry_id for r in got] == [seen[2].entry_id, seen[3].entry_id]
        assert [value(r, 0) for r in got] == [3.0, 4.0]
        inbox.none()
    finally:
        b.close()


def test_brcb_buffer_overflow_flag() -> None:
    srv = make_server(report_buffer_size=1024)
    try:
        a = connect(srv)
        seen = _drain_seen(srv, a, BRCB_MEAS, "BMeas", 1, 0.5)
        a.abort()
        n = 400
        for i in range(n):
            srv.update_value(ANIN[0], 100.0 + i)
        assert srv.report_entries_overflowed > 0
        b = connect(srv)
        try:
            rcb = b.read_rcb(BRCB_MEAS)
            rcb.entry_id = seen[-1].entry_id
            with pytest.raises(ObjectValueInvalidError):
                b.set_rcb_values(rcb)  # the last entry the client saw was overwritten
            rcb, inbox = subscribe(b, BRCB_MEAS, "BMeas")  # so: the whole buffer
            got = inbox.drain()
            assert 0 < len(got) < n
            assert got[0].buf_ovfl is True
            assert not any(r.buf_ovfl for r in got[1:])
            vals = [value(r, 0) for r in got]
            assert vals == sorted(vals) and vals[-1] == 100.0 + n - 1  # the newest entries are kept
            assert len(got) + srv.report_entries_overflowed >= n
        finally:
            b.close()
    finally:
        srv.close()


def test_purge_buf_discards_the_buffer(server: IedServer) -> None:
    a = connect(server)
    seen = _drain_seen(server, a, BRCB_MEAS, "BMeas", 1, 0.5)
    a.abort()
    for v in (1.0, 2.0):
        server.update_value(ANIN[0], v)
    b = connect(server)
    try:
        inbox = Inbox()
        b.register_report_handler(BRCB_MEAS, "BMeas", inbox)
        rcb = b.read_rcb(BRCB_MEAS)
        rcb.purge_buf = True
        b.set_rcb_values(rcb)
        rcb.entry_id = seen[-1].entry_id
        with pytest.raises(ObjectValueInvalidError):
            b.set_rcb_values(rcb)  # that entry is gone with the buffer
        rcb = b.read_rcb(BRCB_MEAS)
        rcb.rpt_ena = True
        b.set_rcb_values(rcb)
        inbox.none()  # nothing from before the purge
        server.update_value(ANIN[0], 3.0)
        assert value(inbox.one(), 0) == 3.0
    finally:
        b.close()


def test_brcb_buffers_while_the_client_is_away_without_entry_id(server: IedServer) -> None:
    """Control case for the purge test: without PurgeBuf the same steps deliver the buffer."""
    a = connect(server)
    seen = _drain_seen(server, a, BRCB_MEAS, "BMeas", 1, 0.5)
    a.abort()
    for v in (1.0, 2.0):
        server.update_value(ANIN[0], v)
    b = connect(server)
    try:
        rcb, inbox = subscribe(b, BRCB_MEAS, "BMeas", entry_id=seen[-1].entry_id)
        assert [value(r, 0) for r in inbox.take(2)] == [1.0, 2.0]
    finally:
        b.close()


# ----------------------------------------------------------------------- data sets and RCBs


def test_dataset_in_use_by_an_enabled_rcb_cannot_be_deleted(server: IedServer, conn: IedConnection) -> None:
    ds = f"{LD}/LLN0.dyn"
    conn.create_dataset(ds, [f"{LD}/GGIO1.Ind1.stVal[ST]", f"{LD}/GGIO1.Ind2.stVal[ST]"])
    rcb, inbox = subscribe(conn, URCB, "Ev", resv=True, dataset=f"{LD}/LLN0$dyn", trg_ops=T.DATA_CHANGED | T.GI,
                           buf_tm=0, gi=True)
    rep = inbox.one()
    assert len(rep) == 2 and rep.dataset_name == f"{LD}/LLN0$dyn"
    with pytest.raises(IedConnectionException):
        conn.delete_dataset(ds)
    server.update_value(IND[1], True)
    assert inbox.one().included == [1]  # still reporting on it
    conn.unregister_report_handler(URCB)
    rcb.rpt_ena = False
    conn.set_rcb_values(rcb)
    conn.delete_dataset(ds)
    assert ds not in [f"{LD}/LLN0.{n}" for n in conn.get_logical_node_variables(f"{LD}/LLN0")]


# ----------------------------------------------------------------------- reservation


def test_urcb_reservation_and_owner(server: IedServer) -> None:
    a, b = connect(server), connect(server)
    try:
        ra = a.read_rcb(URCB)
        ra.resv = True
        a.set_rcb_values(ra)
        mine = a.read_rcb(URCB)
        assert mine.resv is True
        assert mine.owner == bytes([127, 0, 0, 1])  # Ed2 Owner: the client's address
        rb = b.read_rcb(URCB)
        assert rb.resv is True and rb.owner == mine.owner
        rb.resv = True
        with pytest.raises(IedConnectionException):
            b.set_rcb_values(rb)
        rb = b.read_rcb(URCB)
        rb.rpt_ena = True
        with pytest.raises(IedConnectionException):
            b.set_rcb_values(rb)
        rb = b.read_rcb(URCB2)  # another instance is free
        rb.resv = True
        b.set_rcb_values(rb)
        a.close()  # the owner leaves: a URCB reservation ends with the association
        rb = b.read_rcb(URCB)
        assert rb.resv is False and not any(rb.owner or b"")
        rb.resv = True
        b.set_rcb_values(rb)
    finally:
        a.close()
        b.close()


def test_brcb_resv_tms_reserves_for_the_client(server: IedServer) -> None:
    """ResvTms reserves a BRCB for the writing client: another association is refused while
    it holds it; after the association is lost the reservation stays ResvTms seconds for
    the same client address (a client reconnecting from there takes it over at once; from
    another address it is refused: tests/test_report_server.py)."""
    a, b = connect(server), connect(server)
    try:
        ra = a.read_rcb(BRCB)
        assert ra.resv_tms == 0
        ra.resv_tms = 2
        a.set_rcb_values(ra)
        assert b.read_rcb(BRCB).resv_tms == 2
        assert b.read_rcb(BRCB).owner == bytes([127, 0, 0, 1])
        rb = b.read_rcb(BRCB)
        rb.rpt_ena = True
        with pytest.raises(IedConnectionException):
            b.set_rcb_values(rb)
        a.abort()
        deadline = time.monotonic() + 5
        while True:  # the server notices the abort shortly after
            rb = b.read_rcb(BRCB)
            rb.rpt_ena = True
            try:
                b.set_rcb_values(rb)
                break
            except IedConnectionException:
                assert time.monotonic() < deadline, "the same client address could not take the BRCB over"
                time.sleep(0.05)
        assert b.read_rcb(BRCB).rpt_ena is True
        rb = b.read_rcb(BRCB)
        rb.rpt_ena = False
        b.set_rcb_values(rb)
    finally:
        a.close()
        b.close()


# ----------------------------------------------------------------------- volume


def test_100000_updates_zero_seq_gaps(server: IedServer, conn: IedConnection) -> None:
    n = 100_000
    seqs: list[int] = []
    vals: list[float] = []
    done = threading.Event()

    def on_report(rep: Report) -> None:
        seqs.append(rep.seq_num)
        vals.append(rep.values[0].to_python())  # type: ignore[union-attr]
        if len(seqs) >= n:
            done.set()

    conn.register_report_handler(URCB_MEAS, "UMeas", on_report)
    rcb = conn.read_rcb(URCB_MEAS)
    rcb.resv = True
    rcb.trg_ops = T.DATA_CHANGED
    rcb.buf_tm = 0
    rcb.opt_flds = O.SEQ_NUM
    rcb.rpt_ena = True
    conn.set_rcb_values(rcb)
    for i in range(n):
        server.update_float(ANIN[0], float(i + 1))
    done.wait(120)
    time.sleep(0.2)
    assert len(seqs) == n, f"{len(seqs)} reports for {n} updates (dropped {conn.reports_dropped})"
    assert seq_gaps(seqs, 256) == []
    assert vals == [float(i + 1) for i in range(n)]
    assert conn.reports_dropped == 0
    assert server.reports_dropped == 0


# ----------------------------------------------------------------------- delivery


def test_callback_may_read_on_the_same_connection_and_errors_are_logged(
        server: IedServer, conn: IedConnection, caplog: pytest.LogCaptureFixture) -> None:
    reads: "queue.Queue[Any]" = queue.Queue()
    calls = []

    def on_report(rep: Report) -> None:
        calls.append(rep.seq_num)
        if len(calls) == 1:
            raise RuntimeError("callback failure on purpose")
        reads.put(conn.read_float(ANIN[1], "MX"))

    server.update_value(ANIN[1], 42.25)
    conn.register_report_handler(URCB, "Ev", on_report)
    rcb = conn.read_rcb(URCB)
    rcb.resv = True
    rcb.trg_ops = T.DATA_CHANGED
    rcb.buf_tm = 0
    rcb.rpt_ena = True
    conn.set_rcb_values(rcb)
    with caplog.at_level(logging.ERROR):
        server.update_value(IND[0], True)
        server.update_value(IND[1], True)
        assert reads.get(timeout=5) == 42.25
    assert len(calls) == 2
    assert "callback failure on purpose" in caplog.text


def test_pull_style_reports(server: IedServer, conn: IedConnection) -> None:
    rcb = conn.read_rcb(URCB)
    rcb.resv = True
    rcb.trg_ops = T.DATA_CHANGED
    rcb.buf_tm = 0
    conn.set_rcb_values(rcb)
    it = rcb.reports(timeout=1.0)
    threading.Timer(0.2, lambda: [server.update_value(r, True) for r in IND]).start()
    rcb.enable()
    got = list(it)
    assert [r.included for r in got] == [[0], [1], [2], [3]]


def test_create_rcb_and_subscribe_with_gi(server: IedServer, conn: IedConnection) -> None:
    inbox = Inbox()
    rcb = conn.create_rcb_and_subscribe(URCB2, inbox, trg_ops=T.DATA_CHANGED | T.GI, opt_flds=ALL_OPTS, gi=True,
                                        buf_tm=0)
    assert isinstance(rcb, ReportControlBlock) and rcb.rpt_ena
    rep = inbox.one()
    assert rep.rcb_reference == URCB2 and rep.included == list(range(6))
    assert rep[f"{LD}/GGIO1.Cnt1.stVal[ST]"].to_python() == server.get_value(CNT)  # type: ignore[union-attr]
    rcb.disable()
