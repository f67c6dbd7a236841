"""Unit tests of the client reporting layer that need no server: the flag enums, RCB
reference helpers, SqNum gap accounting, routing by RptID and the dispatcher thread
(driven through a fake ``i61_client_next_reports``).
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import weakref
from typing import Any

import pytest

from py61850 import _report
from py61850._enums import IedClientError, IedConnectionState
from py61850.client import (
    BitString,
    ObjectReferenceInvalidError,
    RcbElement,
    ReasonForInclusion,
    ReportOptions,
    ReportTriggerOptions,
)

WAIT = 10.0  # seconds; only for waiting, never asserted on


# ------------------------------------------------------------------------ enums


def test_flag_values_match_the_c_masks_and_libiec61850_names():
    assert [int(m) for m in (ReportTriggerOptions.DATA_CHANGED, ReportTriggerOptions.QUALITY_CHANGED,
                             ReportTriggerOptions.DATA_UPDATE, ReportTriggerOptions.INTEGRITY,
                             ReportTriggerOptions.GI)] == [1, 2, 4, 8, 16]
    assert [int(m) for m in (ReportOptions.SEQ_NUM, ReportOptions.TIME_STAMP, ReportOptions.REASON_FOR_INCLUSION,
                             ReportOptions.DATA_SET, ReportOptions.DATA_REFERENCE, ReportOptions.BUFFER_OVERFLOW,
                             ReportOptions.ENTRY_ID, ReportOptions.CONF_REV,
                             ReportOptions.SEGMENTATION)] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert [int(m) for m in (ReasonForInclusion.NOT_INCLUDED, ReasonForInclusion.DATA_CHANGE,
                             ReasonForInclusion.QUALITY_CHANGE, ReasonForInclusion.DATA_UPDATE,
                             ReasonForInclusion.INTEGRITY, ReasonForInclusion.GI, ReasonForInclusion.UNKNOWN,
                             ReasonForInclusion.APPLICATION_TRIGGER)] == [0, 1, 2, 4, 8, 16, 32, 64]
    assert RcbElement.RPT_ID == 1 and RcbElement.OWNER == 1 << 15 and RcbElement.TIME_OF_ENTRY == 1 << 13
    both = ReasonForInclusion(3)
    assert ReasonForInclusion.DATA_CHANGE in both and ReasonForInclusion.QUALITY_CHANGE in both


def test_flag_values_match_i61_h():
    """The Python masks are the C enums one for one (read from the header text)."""
    import os
    import re

    header = os.path.join(os.path.dirname(__file__), "..", "vendor", "lib61850", "include", "i61.h")
    text = open(header, encoding="utf-8").read()
    consts = {k: int(v) for k, v in re.findall(r"(I61_(?:TRG|OPT|REASON|RCB)_\w+) = (\d+)", text)}
    assert consts["I61_TRG_DCHG"] == ReportTriggerOptions.DATA_CHANGED
    assert consts["I61_TRG_GI"] == ReportTriggerOptions.GI
    assert consts["I61_OPT_SEGMENTATION"] == ReportOptions.SEGMENTATION
    assert consts["I61_OPT_ENTRY_ID"] == ReportOptions.ENTRY_ID
    assert consts["I61_REASON_APP_TRIGGER"] == ReasonForInclusion.APPLICATION_TRIGGER
    for name in ("RPT_ID", "RPT_ENA", "RESV", "DATSET", "CONF_REV", "OPT_FLDS", "BUF_TM", "SQ_NUM",
                 "TRG_OPS", "INTG_PD", "GI", "PURGE_BUF", "ENTRY_ID", "TIME_OF_ENTRY", "RESV_TMS", "OWNER"):
        assert RcbElement[name] == 1 << consts[f"I61_RCB_{name}"], name


# ------------------------------------------------------------------ references


@pytest.mark.parametrize("ref, parts", [
    ("TESTGenericIO/LLN0.RP.urcbEvents01", ("TESTGenericIO", "LLN0", "RP", "urcbEvents01")),
    ("TESTGenericIO/LLN0$RP$urcbEvents01", ("TESTGenericIO", "LLN0", "RP", "urcbEvents01")),
    ("LD/LLN0.BR.b", ("LD", "LLN0", "BR", "b")),
])
def test_split_rcb_reference(ref, parts):
    assert _report.split_rcb_reference(ref) == parts
    assert _report.canonical_rcb_reference(ref) == f"{parts[0]}/{parts[1]}.{parts[2]}.{parts[3]}"


@pytest.mark.parametrize("ref", ["", "LLN0.RP.x", "LD/LLN0.ST.x", "LD/LLN0.RP", "LD/LLN0.RP.x.y", "LD/.RP.x"])
def test_bad_rcb_references_raise(ref):
    with pytest.raises(ObjectReferenceInvalidError) as ei:
        _report.split_rcb_reference(ref)
    assert ei.value.error_code == IedClientError.OBJECT_REFERENCE_INVALID


@pytest.mark.parametrize("ref, mms", [
    ("TESTGenericIO/GGIO1.AnIn1.mag.f[MX]", "TESTGenericIO/GGIO1$MX$AnIn1$mag$f"),
    ("TESTGenericIO/GGIO1.Ind1[ST]", "TESTGenericIO/GGIO1$ST$Ind1"),
    ("TESTGenericIO/GGIO1$ST$Ind1$stVal", "TESTGenericIO/GGIO1$ST$Ind1$stVal"),
])
def test_member_reference_to_mms_form(ref, mms):
    assert _report.mms_member_reference(ref) == mms


def test_jsonable():
    import datetime as dt

    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    out = _report.jsonable([True, 1, 2.5, "x", b"\x01\xff", BitString.from_str("0110"), when, None])
    assert out == [True, 1, 2.5, "x", "01ff", "0110", "2024-01-02T03:04:05+00:00", None]
    json.dumps(out)


# ------------------------------------------------------------- SqNum accounting


class FakeReport:
    """Stands in for a Report in the dispatcher (it only reads these)."""

    def __init__(self, rpt_id: str, seq: int | None = None) -> None:
        self.rpt_id = rpt_id
        self.has_seq_num = seq is not None
        self.seq_num = seq or 0
        self._rcb_reference = None
        self._members = None

    @property
    def rcb_reference(self):
        return self._rcb_reference


def test_seq_gaps_counted_with_wrap_for_urcb_and_brcb(caplog):
    reg = _report._Registration("LD/LLN0.RP.u", "u", buffered=False)
    for s in [250, 251, 252, 253, 254, 255, 0, 1, 2]:
        reg.account(FakeReport("u", s))
    assert (reg.seq_gaps, reg.missed, reg.received) == (0, 0, 9)
    with caplog.at_level(logging.WARNING, "py61850.client.reports"):
        reg.account(FakeReport("u", 5))  # 3 and 4 missing
    assert (reg.seq_gaps, reg.missed) == (1, 2)
    assert "sequence number 5 after 2" in caplog.text
    reg.account(FakeReport("u", 6))
    reg.account(FakeReport("u", 127))
    reg.account(FakeReport("u", 0))  # the Rust-based server wraps after 127: not a gap
    assert (reg.seq_gaps, reg.missed) == (2, 122)
    reg.reset_seq()  # re-enabled: the server may start again anywhere
    reg.account(FakeReport("u", 0))
    assert reg.seq_gaps == 2

    breg = _report._Registration("LD/LLN0.BR.b", "b", buffered=True)
    for s in [65534, 65535, 0, 1]:
        breg.account(FakeReport("b", s))
    assert breg.seq_gaps == 0
    breg.account(FakeReport("b", 1))  # a repeat is a discontinuity, not 65535 lost reports
    assert (breg.seq_gaps, breg.missed) == (1, 0)
    breg.account(FakeReport("b"))  # without SqNum: not judged
    assert breg.received == 6 and breg.seq_gaps == 1


def test_router_by_rpt_id_and_by_reference():
    r = _report._ReportRouter()
    a = r.ensure("LD/LLN0$RP$urcbA01", "A")
    b = r.ensure("LD/LLN0.BR.brcbB01", None)
    assert r.get("LD/LLN0.RP.urcbA01") is a and r.get("LD/LLN0$RP$urcbA01") is a
    assert r.route("A") is a
    assert r.route("LD/LLN0$BR$brcbB01") is b  # empty RptID: the server sends the reference
    assert r.route("LD/LLN0.BR.brcbB01") is b
    assert r.route("B") is None and r.route("other") is None
    assert not r.active()
    a.callback = print
    assert r.active()
    r.drop_if_unused(b)
    assert r.get("LD/LLN0.BR.brcbB01") is None
    r.drop_if_unused(a)  # has a callback: stays
    assert r.get("LD/LLN0.RP.urcbA01") is a


def test_router_same_rpt_id_goes_to_the_first_and_warns(caplog):
    r = _report._ReportRouter()
    a = r.ensure("LD/LLN0.RP.ev01", "Events")
    assert r.others_with_rpt_id("LD/LLN0.RP.ev02", "Events") == ["LD/LLN0.RP.ev01"]
    with caplog.at_level(logging.WARNING, "py61850.client.reports"):
        b = r.ensure("LD/LLN0.RP.ev02", "Events")
    assert "same RptID 'Events'" in caplog.text
    assert r.route("Events") is a
    r.drop_if_unused(a)  # no callback, no queue: gone; the other one takes the RptID
    assert r.route("Events") is b


# --------------------------------------------------------------- the dispatcher


class FakeFfi:
    NULL = None

    def new(self, ctype: str, init: Any = None) -> Any:
        if ctype.endswith("[]"):
            return [None] * init
        return [init if init is not None else 0]


class FakeLib:
    """i61_client_* report calls over a Python queue; ``None`` in the queue = closed."""

    def __init__(self) -> None:
        self.q: "queue.Queue[Any]" = queue.Queue()
        self.interrupted = False
        self.closed = False
        self.cond = threading.Condition()

    def i61_client_next_reports(self, c, timeout_ms, out, max_n, n):
        with self.cond:
            while True:
                if not self.q.empty():
                    k = 0
                    while k < max_n and not self.q.empty():
                        item = self.q.get()
                        if item is None:
                            self.closed = True
                            continue
                        out[k] = item
                        k += 1
                    if k:
                        n[0] = k
                        return 0
                if self.closed or self.interrupted:
                    return int(IedClientError.NOT_CONNECTED)
                if not self.cond.wait(timeout_ms / 1000):
                    return int(IedClientError.TIMEOUT)

    # the dispatcher waits for reports and control events at once, then takes them
    I61_READY_REPORTS = 1
    I61_READY_CONTROL_EVENTS = 2

    def i61_client_wait_events(self, c, timeout_ms, ready):
        with self.cond:
            while True:
                if not self.q.empty():
                    ready[0] = self.I61_READY_REPORTS
                    return 0
                if self.closed or self.interrupted:
                    return int(IedClientError.NOT_CONNECTED)
                if not self.cond.wait(timeout_ms / 1000):
                    return int(IedClientError.TIMEOUT)

    def i61_client_control_events_dropped(self, c):
        return 0

    def i61_client_control_events_malformed(self, c):
        return 0

    def push(self, *items: Any) -> None:
        with self.cond:
            for it in items:
                self.q.put(it)
            self.cond.notify_all()

    def i61_client_interrupt_reports(self, c):
        with self.cond:
            self.interrupted = True
            self.cond.notify_all()

    def i61_client_resume_reports(self, c):
        with self.cond:
            self.interrupted = False

    def i61_client_reports_dropped(self, c):
        return 0

    def i61_client_reports_malformed(self, c):
        return 0

    def i61_client_state(self, c):
        return int(IedConnectionState.CLOSED if self.closed else IedConnectionState.CONNECTED)


class FakeHandle:
    def __init__(self) -> None:
        self.ffi = FakeFfi()
        self.lib = FakeLib()

    def enter(self) -> Any:
        return "c"

    def leave(self) -> None:
        pass


class FakeConn:
    def __init__(self) -> None:
        from py61850._control import _ControlRouter

        self._report_router = _report._ReportRouter()
        self._report_error_hook = None
        self._control_router = _ControlRouter()


@pytest.fixture
def pump(monkeypatch):
    monkeypatch.setattr(_report.Report, "_own", staticmethod(lambda p: p))
    h = FakeHandle()
    conn = FakeConn()
    p = _report._ReportPump(h)
    p.conn_ref = weakref.ref(conn)
    p.conn = conn  # keep it alive for the test
    yield p
    p.stop()


def test_dispatcher_routes_counts_and_survives_a_raising_callback(pump, caplog):
    conn = pump.conn
    got: list[Any] = []
    errors: list[tuple[BaseException, Any]] = []
    done = threading.Event()

    def cb(rep):
        got.append(rep)
        if rep.seq_num == 1:
            raise RuntimeError("boom")
        if rep.seq_num == 3:
            done.set()

    conn._report_error_hook = lambda exc, rep: errors.append((exc, rep))
    reg = conn._report_router.ensure("LD/LLN0.RP.u01", "Ev")
    reg.callback = cb
    with caplog.at_level(logging.ERROR, "py61850.client.reports"):
        pump.ensure_running()
        pump.handle.lib.push(FakeReport("Ev", 0), FakeReport("nobody", 7), FakeReport("Ev", 1),
                             FakeReport("Ev", 2), FakeReport("Ev", 3))
        assert done.wait(WAIT)
    assert [r.seq_num for r in got] == [0, 1, 2, 3]
    assert all(r.rcb_reference == "LD/LLN0.RP.u01" for r in got)
    assert pump.unrouted == 1
    assert reg.seq_gaps == 0
    assert "boom" in caplog.text and "LD/LLN0.RP.u01" in caplog.text
    assert len(errors) == 1 and isinstance(errors[0][0], RuntimeError) and errors[0][1].seq_num == 1
    assert pump.thread is not None and pump.thread.name == "py61850-reports"


def test_pull_queue_is_bounded_and_ends_when_the_connection_closes(pump):
    conn = pump.conn
    reg = conn._report_router.ensure("LD/LLN0.BR.b01", "M")
    q: "queue.Queue[Any]" = queue.Queue(maxsize=2)
    reg.queues.append(q)
    pump.ensure_running()
    t = pump.thread
    pump.handle.lib.push(FakeReport("M", 10), FakeReport("M", 11), FakeReport("M", 12), None)
    t.join(WAIT)
    assert not t.is_alive() and pump.thread is None
    # 12 did not fit (counted); the close sentinel pushed out the oldest entry
    assert reg.pull_dropped == 1
    assert q.get_nowait().seq_num == 11
    assert q.get_nowait() is _report._CLOSED


def test_interrupt_ends_the_thread_and_resume_allows_a_restart(pump):
    conn = pump.conn
    got: list[int] = []
    ev = threading.Event()
    reg = conn._report_router.ensure("LD/LLN0.RP.u01", "Ev")
    reg.callback = lambda r: (got.append(r.seq_num), ev.set())
    pump.ensure_running()
    t = pump.thread
    pump.interrupt()  # what close() does
    t.join(WAIT)
    assert not t.is_alive() and pump.thread is None
    pump.resume()  # what connect() does
    pump.ensure_running()
    pump.handle.lib.push(FakeReport("Ev", 4))
    assert ev.wait(WAIT) and got == [4]


def test_callback_may_unregister_itself(pump):
    conn = pump.conn
    got: list[int] = []
    ev = threading.Event()

    def cb(r):
        got.append(r.seq_num)
        reg.callback = None
        conn._report_router.drop_if_unused(reg)
        ev.set()

    reg = conn._report_router.ensure("LD/LLN0.RP.u01", "Ev")
    reg.callback = cb
    pump.ensure_running()
    pump.handle.lib.push(FakeReport("Ev", 1), FakeReport("Ev", 2))
    assert ev.wait(WAIT)
    pump.handle.lib.push(None)
    pump.thread is None or pump.thread.join(WAIT)
    assert got == [1] and pump.unrouted == 1


def test_stop_from_the_dispatcher_thread_does_not_join_itself(pump):
    conn = pump.conn
    ev = threading.Event()
    reg = conn._report_router.ensure("LD/LLN0.RP.u01", "Ev")

    def cb(r):
        pump.stop()  # e.g. the connection's finalizer ran on this thread
        ev.set()

    reg.callback = cb
    pump.ensure_running()
    t = pump.thread
    pump.handle.lib.push(FakeReport("Ev", 1))
    assert ev.wait(WAIT)
    t.join(WAIT)
    assert not t.is_alive()
    pump.ensure_running()  # stopped for good
    assert pump.thread is None


def test_public_names_exported():
    import py61850.client as client

    for name in ("Report", "ReportControlBlock", "ReportTriggerOptions", "ReportOptions",
                 "ReasonForInclusion", "RcbElement"):
        assert name in client.__all__ and getattr(client, name) is not None
