"""Reporting, our client (py61850.client) against both peer servers: libiec61850
(pyiec61850-ng) and the Rust-based ``iec61850`` package, each serving
``examples/simple_io.icd``.

Values change on the peers through their stdin command channel
(``PeerServer.set_value`` / ``blast``, tests/peers/process.py), the way a process value
changes in an IED, so the servers emit data-change reports.

Peer differences (checked per peer below; see tests/peers/README.md):

* RCB ``DatSet``: libiec61850 answers ``TESTGenericIO/LLN0$Events``, the Rust server
  ``LLN0$Events`` (no LD).
* The Rust server keeps a URCB reserved after the owning association closed without
  disabling it (the next client gets temporarily-unavailable); libiec61850 releases it.
* The Rust server ignores a small proposed PDU size, so segmented reports are tested
  against libiec61850 only.
* The Rust server reports a change only when the updated path equals a member path
  (members here are leaves, so it does).

Every test that changes server state uses a private server (``start_peer_server``); the
read-only ones use the shared servers with one association at a time.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any, Callable, Iterator, Optional

import pytest

from peers.process import PeerServer
from py61850.client import (
    FunctionalConstraint as FC,
    IedClientError as E,
    IedConnection,
    IedConnectionException,
    RcbElement,
    ReasonForInclusion as R,
    Report,
    ReportOptions as O,
    ReportTriggerOptions as T,
)

UTC = dt.timezone.utc
GENERIC = "TESTGenericIO"
URCB = f"{GENERIC}/LLN0.RP.urcbEvents01"
URCB2 = f"{GENERIC}/LLN0.RP.urcbEvents02"
BRCB = f"{GENERIC}/LLN0.BR.brcbMeas01"
EVENTS = [f"{GENERIC}/GGIO1$ST$Ind{i}$stVal" for i in range(1, 5)]
MEAS = [f"{GENERIC}/GGIO1$MX$AnIn{i}$mag$f" for i in range(1, 5)]
IND_SCL = [True, False, True, False]  # Ind1..4 stVal in simple_io.icd
ANIN_SCL = [12.5, -3.25, 1000.125, 0.0]  # AnIn1..4 mag.f
WAIT = 15.0  # seconds; only a bound for waiting, never a timing assertion
ALL_OPTS = (O.SEQ_NUM | O.TIME_STAMP | O.REASON_FOR_INCLUSION | O.DATA_SET | O.DATA_REFERENCE
            | O.BUFFER_OVERFLOW | O.ENTRY_ID | O.CONF_REV)

TRG_BY_SCL = {"dchg": T.DATA_CHANGED, "qchg": T.QUALITY_CHANGED, "dupd": T.DATA_UPDATE,
              "period": T.INTEGRITY, "gi": T.GI}
OPT_BY_SCL = {"seqNum": O.SEQ_NUM, "timeStamp": O.TIME_STAMP, "reasonCode": O.REASON_FOR_INCLUSION,
              "dataSet": O.DATA_SET, "dataRef": O.DATA_REFERENCE, "bufOvfl": O.BUFFER_OVERFLOW,
              "entryID": O.ENTRY_ID, "configRef": O.CONF_REV}


# ------------------------------------------------------------------ helpers


class Collector:
    """A report callback that keeps every report and lets the test wait for some."""

    def __init__(self, extra: Optional[Callable[[Report], None]] = None) -> None:
        self.reports: list[Report] = []
        self.cond = threading.Condition()
        self.extra = extra

    def __call__(self, rep: Report) -> None:
        with self.cond:
            self.reports.append(rep)
            self.cond.notify_all()
        if self.extra is not None:
            self.extra(rep)

    def wait_for(self, pred: Callable[[Report], bool], what: str, timeout: float = WAIT) -> Report:
        """The first report (old or new) for which ``pred`` holds."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for rep in self.reports:
                    if pred(rep):
                        return rep
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no report {what} within {timeout} s; got {self.reports}")
                self.cond.wait(left)

    def wait_count(self, n: int, pred: Callable[[Report], bool] = lambda r: True,
                   timeout: float = WAIT) -> list[Report]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [r for r in self.reports if pred(r)]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(got)} of {n} reports within {timeout} s: {self.reports}")
                self.cond.wait(left)


def only(reason: R) -> Callable[[Report], bool]:
    """Reports whose included members all have exactly this reason."""
    return lambda rep: bool(rep.included) and all(rep.reasons[i] == reason for i in rep.included)


def connect(peer: PeerServer, max_pdu: Optional[int] = None) -> IedConnection:
    conn = IedConnection()
    if max_pdu is not None:
        conn.set_max_pdu_size(max_pdu)
    conn.connect(peer.host, peer.port)
    return conn


def bools(rep: Report) -> list[Optional[bool]]:
    return [v.to_python() if v is not None else None for v in rep.values]


def floats(rep: Report) -> list[Optional[float]]:
    return [v.to_python() if v is not None else None for v in rep.values]


@pytest.fixture(params=["libiec", "rust"])
def peer(request, start_peer_server) -> PeerServer:
    """A private server of each kind (the test may change its state)."""
    return start_peer_server(request.param)


@pytest.fixture
def conn(peer) -> Iterator[IedConnection]:
    c = connect(peer)
    try:
        yield c
    finally:
        c.close()


def rcb_controls(model) -> dict[str, Any]:
    return {rc.name: rc for _, rc in model.report_controls(GENERIC)}


def dataset_name_of(peer: PeerServer, name: str) -> str:
    """DatSet as the peer answers it."""
    return f"LLN0${name}" if peer.name == "rust" else f"{GENERIC}/LLN0${name}"


# ------------------------------------------------------------------ read / write RCBs


def test_read_urcb_and_brcb_attributes_are_the_scl_ones(peer_server, simple_io_model):
    rcs = rcb_controls(simple_io_model)
    c = connect(peer_server)
    try:
        for ref, rc in ((URCB, rcs["urcbEvents"]), (URCB2, rcs["urcbEvents"]), (BRCB, rcs["brcbMeas"])):
            rcb = c.read_rcb(ref)
            assert rcb.reference == ref
            assert rcb.is_buffered == rc.buffered
            assert rcb.rpt_id == rc.rpt_id
            assert rcb.dataset == dataset_name_of(peer_server, rc.dataset)
            assert rcb.conf_rev == rc.conf_rev
            assert rcb.buf_tm == rc.buf_time
            assert rcb.intg_pd == rc.intg_pd
            want_trg = T(0)
            for k in rc.trg_ops:
                want_trg |= TRG_BY_SCL[k]
            assert rcb.trg_ops == want_trg
            want_opt = O(0)
            for k in rc.opt_fields:
                want_opt |= OPT_BY_SCL[k]
            assert rcb.opt_flds == want_opt
            assert rcb.rpt_ena is False
            assert rcb.gi is False
            assert isinstance(rcb.sq_num, int)
            assert rcb.element_changed == RcbElement.NONE
            if rc.buffered:
                assert rcb.resv is None and not rcb.has(RcbElement.RESV)
                assert isinstance(rcb.entry_id, bytes) and len(rcb.entry_id) == 8
                assert rcb.purge_buf is False
                assert rcb.has(RcbElement.TIME_OF_ENTRY)
                assert rcb.has(RcbElement.RESV_TMS)  # both peers: Edition 2 BRCB
            else:
                assert rcb.resv is False
                assert rcb.entry_id is None and rcb.purge_buf is None
            # Owner: libiec61850 has none; the Rust server has an empty one
            assert rcb.owner == (b"" if peer_server.name == "rust" else None)
        # the MMS form of the reference is accepted and normalised
        assert c.read_rcb(f"{GENERIC}/LLN0$RP$urcbEvents01").reference == URCB
    finally:
        c.close()


def test_read_rcb_errors_name_the_reference(peer_server):
    c = connect(peer_server)
    try:
        with pytest.raises(IedConnectionException) as ei:
            c.read_rcb(f"{GENERIC}/LLN0.RP.noSuchRcb01")
        assert ei.value.error_code in (E.OBJECT_DOES_NOT_EXIST, E.OBJECT_UNDEFINED, E.ACCESS_DENIED,
                                       E.OBJECT_ACCESS_UNSUPPORTED)
        assert "noSuchRcb01" in str(ei.value)
        with pytest.raises(IedConnectionException) as ei:
            c.read_rcb(f"{GENERIC}/GGIO1.AnIn1")  # not an RCB reference: refused locally
        assert ei.value.error_code == E.OBJECT_REFERENCE_INVALID
        assert c.read_float(f"{GENERIC}/GGIO1.AnIn1.mag.f", FC.MX) == 12.5  # connection fine
    finally:
        c.close()


@pytest.mark.parametrize("single_request", [True, False])
def test_set_rcb_values_are_read_back(peer, conn, single_request):
    rcb = conn.read_rcb(URCB)
    rcb.rpt_id = "MyEvents"
    if peer.name == "rust":
        # iec61850 0.14 refuses every URCB write from a client that has not reserved it
        # (libiec61850 accepts configuration writes from anyone while it is free)
        with pytest.raises(IedConnectionException) as ei:
            conn.set_rcb_values(rcb, single_request=single_request)
        assert ei.value.error_code == E.ACCESS_DENIED
        assert ei.value.reference == f"{URCB}.RptID"
        assert URCB in str(ei.value) and "RptID" in str(ei.value)
        assert RcbElement.RPT_ID in rcb.element_changed  # not accepted: still pending
    rcb.resv = True
    rcb.intg_pd = 2500
    rcb.buf_tm = 20
    rcb.trg_ops = T.DATA_CHANGED | T.GI
    rcb.opt_flds = O.SEQ_NUM | O.DATA_SET | O.REASON_FOR_INCLUSION
    assert rcb.element_changed == (RcbElement.RPT_ID | RcbElement.RESV | RcbElement.INTG_PD
                                   | RcbElement.BUF_TM | RcbElement.TRG_OPS | RcbElement.OPT_FLDS)
    conn.set_rcb_values(rcb, single_request=single_request)
    assert rcb.element_changed == RcbElement.NONE
    back = conn.read_rcb(URCB)
    assert (back.rpt_id, back.intg_pd, back.buf_tm, back.resv) == ("MyEvents", 2500, 20, True)
    assert back.trg_ops == T.DATA_CHANGED | T.GI
    assert back.opt_flds == O.SEQ_NUM | O.DATA_SET | O.REASON_FOR_INCLUSION
    back.resv = False
    conn.set_rcb_values(back, single_request=single_request)
    assert conn.read_rcb(URCB).resv is False

    b = conn.read_rcb(BRCB)
    b.intg_pd = 3000
    b.opt_flds = ALL_OPTS
    b.trg_ops = T.DATA_CHANGED | T.INTEGRITY | T.GI
    conn.set_rcb_values(b, single_request=single_request)
    b2 = conn.read_rcb(BRCB)
    assert b2.intg_pd == 3000 and b2.trg_ops == T.DATA_CHANGED | T.INTEGRITY | T.GI
    assert b2.opt_flds == ALL_OPTS
    # update_rcb_values reads everything again and forgets local changes
    b.intg_pd = 4000
    conn.update_rcb_values(b)
    assert b.intg_pd == 3000 and b.element_changed == RcbElement.NONE


def test_local_setter_errors(conn):
    b = conn.read_rcb(BRCB)
    with pytest.raises(IedConnectionException) as ei:
        b.resv = True  # a BRCB has no Resv
    assert ei.value.error_code == E.OBJECT_DOES_NOT_EXIST and BRCB in str(ei.value)
    with pytest.raises(IedConnectionException):
        b.trg_ops = 1 << 7  # does not fit the 6-bit TrgOps
    assert b.element_changed == RcbElement.NONE


# ------------------------------------------------------------------ GI, dchg, integrity


def test_enable_and_gi_report_has_all_members_with_reason_gi(peer, conn):
    col = Collector()
    rcb = conn.create_rcb_and_subscribe(URCB, col, gi=True)
    try:
        assert rcb.rpt_ena is True and rcb.resv is True
        rep = col.wait_for(only(R.GI), "with reason GI")
        assert rep.rcb_reference == URCB
        assert rep.rpt_id == "Events"
        assert rep.included == [0, 1, 2, 3] and len(rep) == 4
        assert bools(rep) == IND_SCL
        assert rep.data_references == EVENTS
        assert rep[f"{GENERIC}/GGIO1.Ind3.stVal[ST]"].to_python() is True
        assert rep[EVENTS[1]].to_python() is False
        assert rep.get_reason_for_inclusion(2) == R.GI
        assert rep.has_seq_num and rep.has_dataset_name and rep.has_conf_rev and rep.has_data_reference
        assert rep.dataset_name == dataset_name_of(peer, "Events")
        assert rep.conf_rev == 1
        ts = rep.timestamp
        assert ts is not None and ts.tzinfo is not None
        assert abs((dt.datetime.now(UTC) - ts).total_seconds()) < 3600
        assert not rep.more_segments_follow and rep.segments == 1
        assert rep.entry_id is None  # a URCB has none
        assert rep.to_dict()["members"][0] == {"index": 0, "reference": EVENTS[0], "value": True, "reason": ["GI"]}
    finally:
        rcb.disable()
    back = conn.read_rcb(URCB)
    assert back.rpt_ena is False and back.resv is False


def test_dchg_report_after_a_value_change_on_the_peer(peer, conn):
    col = Collector()
    rcb = conn.create_rcb_and_subscribe(URCB, col, trg_ops=T.DATA_CHANGED | T.GI, gi=True)
    try:
        col.wait_for(only(R.GI), "GI")
        peer.set_value(f"{GENERIC}/GGIO1.Ind2.stVal", "ST", True)
        rep = col.wait_for(lambda r: R.DATA_CHANGE in r.reasons[1], "dchg for Ind2")
        assert rep.values[1].to_python() is True
        assert rep.reasons[1] == R.DATA_CHANGE
        assert rep.data_references[1] == EVENTS[1]
        for i in set(range(4)) - set(rep.included):
            assert rep.values[i] is None and rep.reasons[i] == R.NOT_INCLUDED
        peer.set_value(f"{GENERIC}/GGIO1.Ind2.stVal", "ST", False)
        rep2 = col.wait_for(lambda r: r is not rep and R.DATA_CHANGE in r.reasons[1]
                            and r.values[1].to_python() is False, "dchg back")
        assert rep2.seq_num == (rep.seq_num + 1) % 256
        assert rcb.seq_gaps == 0
    finally:
        rcb.disable()


def test_dchg_on_a_float_member_of_the_brcb(peer, conn):
    col = Collector()
    rcb = conn.create_rcb_and_subscribe(BRCB, col, trg_ops=T.DATA_CHANGED | T.GI, gi=True)
    try:
        assert conn.read_rcb(BRCB).rpt_ena is True
        if peer.name == "rust":
            # iec61850 0.14 accepts the BRCB settings and RptEna but sends no report for a
            # BRCB at all (no GI, no dchg; checked on the wire): the BRCB tests below run
            # against libiec61850 only
            peer.set_value(f"{GENERIC}/GGIO1.AnIn3.mag.f", "MX", 42.25)
            time.sleep(1.5)
            assert col.reports == [] and conn.reports_unrouted == 0 and conn.reports_malformed == 0
            return
        gi = col.wait_for(only(R.GI), "GI")
        assert floats(gi) == ANIN_SCL
        peer.set_value(f"{GENERIC}/GGIO1.AnIn3.mag.f", "MX", 42.25)
        rep = col.wait_for(lambda r: R.DATA_CHANGE in r.reasons[2], "dchg for AnIn3")
        assert rep.values[2].to_python() == 42.25
        assert rep[f"{GENERIC}/GGIO1.AnIn3.mag.f[MX]"].to_python() == 42.25  # via the data set directory
    finally:
        rcb.disable()


def test_urcb_with_every_optional_field(peer, conn):
    opts = O.SEQ_NUM | O.TIME_STAMP | O.REASON_FOR_INCLUSION | O.DATA_SET | O.DATA_REFERENCE | O.CONF_REV
    col = Collector()
    rcb = conn.create_rcb_and_subscribe(URCB, col, trg_ops=T.DATA_CHANGED | T.GI, opt_flds=opts, gi=True)
    try:
        rep = col.wait_for(only(R.GI), "GI")
        assert rep.opt_flds & opts == opts
        assert not rep.has_entry_id and not rep.has_buf_ovfl and rep.entry_id is None
        assert rep.data_references == EVENTS and bools(rep) == IND_SCL
        assert rep.dataset_name == dataset_name_of(peer, "Events") and rep.conf_rev == 1
        assert rep.timestamp is not None
    finally:
        rcb.disable()
    # and with none: only the values, routed by RptID
    col2 = Collector()
    rcb = conn.create_rcb_and_subscribe(URCB, col2, trg_ops=T.GI, opt_flds=O.NONE, gi=True)
    try:
        rep = col2.wait_for(lambda r: bool(r.included), "a report")
        assert rep.opt_flds == O.NONE and rep.rcb_reference == URCB
        assert rep.reasons == [R.UNKNOWN] * 4 and bools(rep) == IND_SCL
        assert rep.timestamp is None and rep.dataset_name is None and not rep.has_seq_num
        assert rep.data_references == EVENTS  # from the data set directory
    finally:
        rcb.disable()


def test_two_instances_with_the_same_rpt_id_on_one_connection(peer, conn):
    """urcbEvents01 and 02 share the RptID "Events": the second subscription sets its
    RptID to its reference so that the reports can be routed (an empty RptID would be the
    standard's way, but the Rust server then sends an empty RptID instead of the reference)."""
    col1, col2 = Collector(), Collector()
    r1 = conn.create_rcb_and_subscribe(URCB, col1, trg_ops=T.DATA_CHANGED | T.GI, gi=True)
    r2 = conn.create_rcb_and_subscribe(URCB2, col2, trg_ops=T.DATA_CHANGED | T.GI, gi=True)
    try:
        assert r1.rpt_id == "Events" and r2.rpt_id == URCB2
        g1 = col1.wait_for(only(R.GI), "GI of 01")
        g2 = col2.wait_for(only(R.GI), "GI of 02")
        assert g1.rpt_id == "Events" and g1.rcb_reference == URCB
        assert g2.rcb_reference == URCB2 and g2.rpt_id == URCB2
        peer.set_value(f"{GENERIC}/GGIO1.Ind4.stVal", "ST", True)
        col1.wait_for(lambda r: R.DATA_CHANGE in r.reasons[3], "dchg on 01")
        col2.wait_for(lambda r: R.DATA_CHANGE in r.reasons[3], "dchg on 02")
        assert all(r.rcb_reference == URCB for r in col1.reports)
        assert all(r.rcb_reference == URCB2 for r in col2.reports)
        assert conn.reports_unrouted == 0
    finally:
        r1.disable()
        r2.disable()


def test_integrity_reports(peer, conn):
    col = Collector()
    rcb = conn.create_rcb_and_subscribe(URCB, col, trg_ops=T.INTEGRITY, intg_pd=200,
                                        opt_flds=O.SEQ_NUM | O.REASON_FOR_INCLUSION)
    try:
        back = conn.read_rcb(URCB)
        assert back.trg_ops == T.INTEGRITY and back.intg_pd == 200 and back.rpt_ena
        if peer.name == "rust":
            # iec61850 0.14 accepts TrgOps integrity and IntgPd but never sends an
            # integrity report (its own client sees none either)
            time.sleep(1.5)
            assert col.reports == []
            return
        reps = col.wait_count(3, only(R.INTEGRITY))
        for rep in reps[:3]:
            assert rep.included == [0, 1, 2, 3]
            assert bools(rep) == IND_SCL
            assert rep.opt_flds == O.SEQ_NUM | O.REASON_FOR_INCLUSION
            assert rep.timestamp is None and rep.dataset_name is None
            # no data-reference option: the references come from the data set directory
            # that create_rcb_and_subscribe fetched
            assert rep.data_references == EVENTS and not rep.has_data_reference
        seqs = [r.seq_num for r in reps[:3]]
        assert seqs == [seqs[0], (seqs[0] + 1) % 256, (seqs[0] + 2) % 256]
    finally:
        rcb.disable()


@pytest.fixture
def libiec(start_peer_server) -> PeerServer:
    """A private libiec61850 server (BRCB reporting: the Rust server sends no BRCB reports)."""
    return start_peer_server("libiec")


def test_brcb_with_all_optional_fields(libiec):
    peer = libiec
    conn = connect(peer)
    col = Collector()
    rcb = conn.create_rcb_and_subscribe(BRCB, col, trg_ops=T.DATA_CHANGED | T.GI, opt_flds=ALL_OPTS, gi=True)
    try:
        rep = col.wait_for(only(R.GI), "GI")
        assert rep.opt_flds & ALL_OPTS == ALL_OPTS
        assert all((rep.has_seq_num, rep.has_timestamp, rep.has_reason_for_inclusion, rep.has_dataset_name,
                    rep.has_data_reference, rep.has_buf_ovfl, rep.has_entry_id, rep.has_conf_rev))
        assert rep.rpt_id == "Meas"
        assert isinstance(rep.entry_id, bytes) and len(rep.entry_id) == 8
        assert isinstance(rep.buf_ovfl, bool)
        assert rep.data_references == MEAS
        assert floats(rep) == ANIN_SCL
        assert rep.dataset_name == dataset_name_of(peer, "Measurements")
        assert rep.conf_rev == 1
        peer.set_value(f"{GENERIC}/GGIO1.AnIn1.mag.f", "MX", 7.5)
        d = col.wait_for(lambda r: R.DATA_CHANGE in r.reasons[0], "dchg")
        assert d.entry_id != rep.entry_id and len(d.entry_id) == 8
        assert d.seq_num == (rep.seq_num + 1) % 65536
        assert conn.read_rcb(BRCB).entry_id == d.entry_id  # the RCB's EntryID follows the reports
    finally:
        rcb.disable()
        conn.close()


# ------------------------------------------------------------------ BRCB resync


def test_brcb_resync_after_a_dropped_connection(libiec):
    """Disconnect, let the peer change values while no client is there, reconnect with
    the last EntryID seen: the buffered entries arrive once, in order."""
    peer = libiec
    ref = f"{GENERIC}/GGIO1.AnIn1.mag.f"
    c1 = connect(peer)
    col1 = Collector()
    try:
        c1.create_rcb_and_subscribe(BRCB, col1, trg_ops=T.DATA_CHANGED, opt_flds=ALL_OPTS)
        peer.set_value(ref, "MX", 1.0)
        last = col1.wait_for(lambda r: r.values[0] is not None and r.values[0].to_python() == 1.0, "1.0")
    finally:
        c1.abort()  # a dropped connection: no disable
    for v in (2.0, 3.0, 4.0):
        peer.set_value(ref, "MX", v)
        time.sleep(0.3)  # > BufTm (100 ms): each change becomes an entry of its own
    c2 = connect(peer)
    col2 = Collector()
    try:
        rcb = c2.create_rcb_and_subscribe(BRCB, col2, trg_ops=T.DATA_CHANGED, opt_flds=ALL_OPTS,
                                          entry_id=last.entry_id)
        got = col2.wait_count(3, lambda r: r.values[0] is not None)
        time.sleep(0.5)  # room for a duplicate to show up (none may)
        vals = [r.values[0].to_python() for r in col2.reports if r.values[0] is not None]
        assert vals == [2.0, 3.0, 4.0], vals
        ids = [r.entry_id for r in got]
        assert last.entry_id not in ids and len(set(ids)) == 3
        seqs = [r.seq_num for r in got]
        assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]
        rcb.disable()
    finally:
        c2.close()


# ------------------------------------------------------------------ segmentation (libiec61850)


def test_segmented_gi_report_is_joined(start_peer_server, simple_io_model):
    """libiec61850 splits a report that does not fit the negotiated PDU size; our client
    joins the segments into one report. (The Rust server ignores a small PDU size.)"""
    peer = start_peer_server("libiec")
    ld = simple_io_model.ld(GENERIC)
    members = []
    for ln in ld.lns:
        for do in ln.dos:
            for fc in ("ST", "MX"):
                if fc in do.fcs():
                    members.append(f"{GENERIC}/{ln.name}.{do.name}[{fc}]")
    assert len(members) >= 12
    with connect(peer) as setup:  # the definition itself does not fit a 400-octet PDU
        setup.create_dataset(f"{GENERIC}/LLN0.Big", members)
        want = setup.read_dataset(f"{GENERIC}/LLN0.Big").values
    c = connect(peer, max_pdu=400)
    try:
        assert c.max_pdu_size <= 400
        rcb = c.read_rcb(URCB)
        rcb.dataset = f"{GENERIC}/LLN0$Big"
        rcb.trg_ops = T.GI
        rcb.opt_flds = O.SEQ_NUM | O.DATA_SET | O.DATA_REFERENCE | O.REASON_FOR_INCLUSION
        c.set_rcb_values(rcb)
        col = Collector()
        c.register_report_handler(URCB, rcb.rpt_id, col)
        rcb.enable(gi=True)
        rep = col.wait_for(only(R.GI), "GI")
        assert rep.segments > 1
        assert rep.has_sub_seq_num and not rep.more_segments_follow
        assert rep.included == list(range(len(members)))
        assert rep.values == want
        assert rep.data_references[0].startswith(f"{GENERIC}/")
        assert c.reports_malformed == 0
        rcb.disable()
    finally:
        c.close()


# ------------------------------------------------------------------ delivery guarantees


def test_sequence_numbers_without_gaps_under_load(peer, conn):
    col = Collector()
    rcb = conn.create_rcb_and_subscribe(URCB, col, trg_ops=T.DATA_CHANGED, buf_tm=0,
                                        opt_flds=O.SEQ_NUM | O.REASON_FOR_INCLUSION)
    try:
        if peer.name == "libiec":
            updates = peer.blast(f"{GENERIC}/GGIO1.Ind1.stVal", "ST", 1.0)
            assert updates > 100
        else:
            # the Rust server sends < 1000 reports/s and folds fast changes together:
            # change the value in lock-step with the reports instead
            for i in range(100):
                peer.set_value(f"{GENERIC}/GGIO1.Ind1.stVal", "ST", i % 2 == 0)
                col.wait_count(i + 1)
        peer.set_value(f"{GENERIC}/GGIO1.Ind4.stVal", "ST", True)  # marks the end
        col.wait_for(lambda r: R.DATA_CHANGE in r.reasons[3], "end marker")
        n = len(col.reports)
        assert n > 50
        seqs = [r.seq_num for r in col.reports]
        wrap = 128 if peer.name == "rust" else 256  # the Rust server wraps SqNum after 127
        assert all((b - a) % wrap == 1 for a, b in zip(seqs, seqs[1:])), seqs
        assert rcb.seq_gaps == 0 and rcb.reports_missed == 0
        assert conn.reports_dropped == 0 and conn.reports_malformed == 0
    finally:
        rcb.disable()


def test_a_raising_callback_is_logged_and_later_reports_arrive(peer, conn, caplog):
    hooked: list[tuple[BaseException, Report]] = []

    def boom(rep: Report) -> None:
        if len(col.reports) == 1:
            raise ValueError("callback failure for the test")

    col = Collector(extra=boom)
    conn.on_report_error(lambda exc, rep: hooked.append((exc, rep)))
    with caplog.at_level(logging.ERROR, logger="py61850.client.reports"):
        rcb = conn.create_rcb_and_subscribe(URCB, col, trg_ops=T.DATA_CHANGED | T.GI, gi=True)
        try:
            col.wait_for(only(R.GI), "GI")
            peer.set_value(f"{GENERIC}/GGIO1.Ind1.stVal", "ST", False)
            col.wait_for(lambda r: R.DATA_CHANGE in r.reasons[0], "dchg after the failure")
        finally:
            rcb.disable()
    assert "callback failure for the test" in caplog.text and URCB in caplog.text
    assert len(hooked) == 1 and isinstance(hooked[0][0], ValueError)
    assert hooked[0][1] is col.reports[0]


def test_callback_reads_and_disables_on_the_same_connection(peer, conn):
    seen: list[float] = []
    done = threading.Event()
    holder: dict[str, Any] = {}

    def on_report(rep: Report) -> None:
        seen.append(conn.read_float(f"{GENERIC}/GGIO1.AnIn2.mag.f", FC.MX))
        if R.DATA_CHANGE in rep.reasons[0] and not done.is_set():
            holder["rcb"].disable()  # SetURCBValues from inside the callback
            done.set()

    col = Collector(extra=on_report)
    holder["rcb"] = conn.create_rcb_and_subscribe(URCB, col, trg_ops=T.DATA_CHANGED | T.GI, gi=True)
    col.wait_for(only(R.GI), "GI")
    peer.set_value(f"{GENERIC}/GGIO1.Ind1.stVal", "ST", False)
    assert done.wait(WAIT)
    assert seen and all(v == -3.25 for v in seen)
    assert conn.read_rcb(URCB).rpt_ena is False


def test_pull_style_reports(peer, conn):
    rcb = conn.read_rcb(URCB)
    rcb.resv = True
    rcb.trg_ops = T.DATA_CHANGED | T.GI
    it = rcb.reports(timeout=1.0)
    rcb.enable(gi=True)
    first = next(it)
    assert first.rcb_reference == URCB and only(R.GI)(first)
    peer.set_value(f"{GENERIC}/GGIO1.Ind3.stVal", "ST", False)
    nxt = next(it)
    assert nxt.reasons[2] == R.DATA_CHANGE and nxt.values[2].to_python() is False
    rcb.disable()
    assert list(it) == []  # ends after 1 s without reports
    # a closed connection ends the iteration at once
    it2 = rcb.reports(timeout=WAIT * 4)
    rcb.enable()
    threading.Timer(0.3, conn.close).start()
    t0 = time.monotonic()
    rest = list(it2)
    assert time.monotonic() - t0 < WAIT  # ended by the close, not by the timeout
    assert all(isinstance(r, Report) for r in rest)


def test_unrouted_reports_are_counted(peer, conn):
    col = Collector()
    rcb = conn.create_rcb_and_subscribe(URCB, col, trg_ops=T.DATA_CHANGED | T.GI)
    try:
        conn.unregister_report_handler(URCB)
        before = conn.reports_unrouted
        conn.trigger_gi(URCB)  # by reference: one write of GI
        deadline = time.monotonic() + WAIT
        while conn.reports_unrouted == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert conn.reports_unrouted == before + 1
        assert col.reports == []
    finally:
        rcb.disable()


def test_urcb_reservation(peer):
    """A URCB enabled by one client is refused to another (temporarily-unavailable,
    naming the RCB, and no handler left behind); once the owner's association is gone
    the next client gets it (both peers release it then, also after an abort)."""
    c1 = connect(peer)
    try:
        c1.create_rcb_and_subscribe(URCB, Collector())
        c2 = connect(peer)
        try:
            with pytest.raises(IedConnectionException) as ei:
                c2.create_rcb_and_subscribe(URCB, Collector())
            assert ei.value.error_code in (E.TEMPORARILY_UNAVAILABLE, E.ACCESS_DENIED)
            assert URCB in str(ei.value)
            assert c2._report_router.get(URCB) is None  # the failed subscription left no handler
            c2.create_rcb_and_subscribe(URCB2, Collector()).disable()  # the other instance is free
        finally:
            c2.close()
    finally:
        c1.abort()
    deadline = time.monotonic() + WAIT
    while True:
        c3 = connect(peer)
        try:
            rcb = c3.create_rcb_and_subscribe(URCB, Collector())
            rcb.disable()
            break
        except IedConnectionException:
            if time.monotonic() > deadline:  # the server may notice the abort a little later
                raise
            time.sleep(0.1)
        finally:
            c3.close()


# ------------------------------------------------------------------ lifecycle of the report thread


def _report_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "py61850-reports"]


def test_report_thread_ends_with_close_and_with_the_connection(peer):
    import gc

    before = len(_report_threads())
    c = connect(peer)
    col = Collector()
    rcb = c.create_rcb_and_subscribe(URCB, col, gi=True)
    col.wait_for(only(R.GI), "GI")
    assert len(_report_threads()) == before + 1
    rcb.disable()
    c.close()
    deadline = time.monotonic() + WAIT
    while len(_report_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(_report_threads()) == before
    # reconnecting the same object brings deliveries back
    c.connect(peer.host, peer.port)
    rcb = c.create_rcb_and_subscribe(URCB, col, gi=True)
    n = len(col.reports)
    col.wait_for(lambda r: len(col.reports) > n and only(R.GI)(r), "GI after the reconnect")
    rcb.disable()
    # dropping every reference (no close) ends the thread and the association
    del rcb, c
    gc.collect()
    deadline = time.monotonic() + WAIT
    while len(_report_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(_report_threads()) == before


def test_interpreter_exit_with_an_active_subscription(peer, tmp_path):
    """A script that subscribes and just ends (no close, a callback on the same
    connection running) exits normally."""
    import os
    import subprocess
    import sys

    import py61850

    script = tmp_path / "sub.py"
    script.write_text(
        "import sys, threading\n"
        "from py61850.client import IedConnection, FunctionalConstraint as FC\n"
        "c = IedConnection()\n"
        f"c.connect('127.0.0.1', {peer.port})\n"
        "got = threading.Event()\n"
        "def cb(r):\n"
        "    c.read_float('TESTGenericIO/GGIO1.AnIn1.mag.f', FC.MX)\n"
        "    got.set()\n"
        f"c.create_rcb_and_subscribe('{URCB}', cb, gi=True)\n"
        "assert got.wait(15)\n"
        "print('subscribed')\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(py61850.__file__)))
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "subscribed" and "Traceback" not in res.stderr
