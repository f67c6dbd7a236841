"""Reports from OUR server to the peers' clients: pyiec61850-ng (libiec61850's client, in a
child process, see :class:`peers.clients.PyiecReportClient`) and the Rust-based
``iec61850`` client (:class:`peers.clients.RustReportSession`).

Our :class:`~py61850.server.IedServer` runs in this process, built from
``examples/simple_io.icd`` (``TESTGenericIO/LLN0``: URCB ``urcbEvents01``/``02`` on data set
``Events`` = ``GGIO1.Ind1..4.stVal``, BRCB ``brcbMeas01`` on ``Measurements`` =
``GGIO1.AnIn1..4.mag.f``); values change with ``server.update_value`` and the reports are
checked as the peers decode them. Every check runs for both peer clients unless it
involves both (reservation) or only one can express it.

Rust client (0.14) quirk, see tests/peers/README.md: it merges each report into a cache of
the whole data set, so members not included keep an earlier value and reason; its checks
look at the included members' entries only.
"""
from __future__ import annotations

import time
from typing import Any, Iterator, Union

import pytest

from peers.clients import (
    PeerClientError,
    PyiecReportClient,
    RustReportSession,
    included,
    seq_gaps,
)
from peers.process import DEFAULT_SCL
from py61850.server import IedServer

GENERIC = "TESTGenericIO"
URCB = f"{GENERIC}/LLN0.RP.urcbEvents01"
URCB2 = f"{GENERIC}/LLN0.RP.urcbEvents02"
BRCB = f"{GENERIC}/LLN0.BR.brcbMeas01"
EVENTS = [f"{GENERIC}/GGIO1.Ind{i}.stVal" for i in range(1, 5)]
MEAS = [f"{GENERIC}/GGIO1.AnIn{i}.mag.f" for i in range(1, 5)]
EVENTS_REFS = [f"{GENERIC}/GGIO1$ST$Ind{i}$stVal" for i in range(1, 5)]
MEAS_REFS = [f"{GENERIC}/GGIO1$MX$AnIn{i}$mag$f" for i in range(1, 5)]

# TrgOps / OptFlds / ReasonCode masks (IEC bit n -> 1 << (n - 1)), as both peers use them
DCHG, QCHG, DUPD, INTEGRITY, GI = 1, 2, 4, 8, 16
SEQ, TIME, REASON, DATSET, DATAREF, BUFOVFL, ENTRYID, CONFREV = 1, 2, 4, 8, 16, 32, 64, 128
ALL_URCB_OPTS = SEQ | TIME | REASON | DATSET | DATAREF | CONFREV
ALL_BRCB_OPTS = ALL_URCB_OPTS | BUFOVFL | ENTRYID

# libiec61850 IedClientError values
IED_ERROR_OK = 0

Peer = Union[PyiecReportClient, RustReportSession]


@pytest.fixture
def server() -> Iterator[IedServer]:
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(0, "127.0.0.1")
    yield srv
    srv.close()


def open_peer(kind: str, srv: IedServer) -> Peer:
    if kind == "pyiec":
        return PyiecReportClient("127.0.0.1", srv.port)
    return RustReportSession("127.0.0.1", srv.port)


@pytest.fixture(params=["pyiec", "rust"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def peer(kind: str, server: IedServer) -> Iterator[Peer]:
    p = open_peer(kind, server)
    yield p
    p.close()


def members(report: dict[str, Any], kind: str, changed: list[int]) -> list[int]:
    """The included members a peer shows for a report that included exactly ``changed``
    (pyiec: exactly those; Rust: its cache shows every member, so check the changed ones)."""
    return included(report) if kind == "pyiec" else [i for i in changed if report["reasons"][i]]


def enable(p: Peer, ref: str, rpt_id: str, **values: Any) -> None:
    """Subscribe, then write ``values`` and RptEna = TRUE in one SetRCBValues."""
    p.subscribe(ref, rpt_id)
    err = p.set_rcb(ref, rpt_ena=True, **values)
    assert err == IED_ERROR_OK, f"enabling {ref} failed with IedClientError {err}"


def disable(p: Peer, ref: str, **values: Any) -> None:
    """Unsubscribe first (pyiec61850-ng: never block while reports arrive), then disable."""
    p.unsubscribe(ref)
    assert p.set_rcb(ref, rpt_ena=False, **values) == IED_ERROR_OK


def drain(p: Peer, idle: float = 0.3) -> list[dict[str, Any]]:
    """Every report until none came for ``idle`` seconds (the first within 5 s)."""
    got = p.reports(count=1, timeout=5)
    while True:
        more = p.reports(count=1, timeout=idle)
        if not more:
            return got
        got.extend(more)


def expect_no_report(p: Peer, wait: float = 0.4) -> None:
    extra = p.reports(count=1, timeout=wait)
    assert extra == [], f"unexpected report(s): {extra}"


# ----------------------------------------------------------------------- RCBs served


def test_rcb_instances_from_scl(peer: Peer, kind: str) -> None:
    u = peer.read_rcb(URCB)
    assert u["rpt_id"] == "Events"
    assert u["dataset"] == f"{GENERIC}/LLN0$Events"
    assert u["conf_rev"] == 1
    assert u["opt_flds"] == ALL_URCB_OPTS  # seqNum timeStamp reasonCode dataSet dataRef configRef
    assert u["trg_ops"] == DCHG | QCHG | INTEGRITY | GI
    assert (u["buf_tm"], u["intg_pd"]) == (50, 1000)
    assert (u["rpt_ena"], u["resv"], u["gi"]) == (False, False, False)
    assert u["owner"] is not None  # Edition 2 (simple_io.icd is SCL 2007B): Owner
    assert peer.read_rcb(URCB2)["rpt_id"] == "Events"  # RptEnabled max="2": two instances
    b = peer.read_rcb(BRCB)
    assert b["rpt_id"] == "Meas"
    assert b["dataset"] == f"{GENERIC}/LLN0$Measurements"
    assert b["opt_flds"] == SEQ | TIME | REASON | DATSET | ENTRYID | CONFREV
    assert b["trg_ops"] == DCHG | INTEGRITY | GI
    assert (b["buf_tm"], b["intg_pd"]) == (100, 1000)
    assert b["purge_buf"] is False
    assert b["entry_id"] is not None and len(bytes.fromhex(b["entry_id"])) == 8
    assert b["resv_tms"] == 0 and b["owner"] is not None  # Edition 2: ResvTms, Owner
    for missing in (f"{GENERIC}/LLN0.RP.urcbEvents03", f"{GENERIC}/LLN0.BR.brcbMeas02"):
        with pytest.raises(Exception):
            peer.read_rcb(missing)


# ----------------------------------------------------------------------- URCB


def test_urcb_gi_then_data_change(server: IedServer, peer: Peer, kind: str) -> None:
    enable(peer, URCB, "Events", resv=True, trg_ops=DCHG | QCHG | GI, opt_flds=ALL_URCB_OPTS,
           buf_tm=0, gi=True)
    t0 = time.time()
    (gi,) = peer.reports(count=1, timeout=5)
    assert gi["rpt_id"] == "Events"
    assert gi["seq_num"] == 0
    assert gi["dataset"] == f"{GENERIC}/LLN0$Events"
    assert gi["conf_rev"] == 1
    assert gi["values"] == [server.get_value(r) for r in EVENTS]
    assert gi["reasons"] == [GI] * 4
    assert gi["refs"] == EVENTS_REFS
    assert abs(gi["timestamp_ms"] / 1000 - t0) < 5
    assert server.reports_sent >= 1

    new = not server.get_value(EVENTS[1])
    server.update_value(EVENTS[1], new)
    (dchg,) = peer.reports(count=1, timeout=5)
    assert dchg["seq_num"] == 1
    assert members(dchg, kind, [1]) == [1]
    assert dchg["reasons"][1] == DCHG
    assert dchg["values"][1] is new
    assert dchg["refs"][1] == EVENTS_REFS[1]

    server.update_value(EVENTS[3], not server.get_value(EVENTS[3]))
    (dchg2,) = peer.reports(count=1, timeout=5)
    assert dchg2["seq_num"] == 2
    assert members(dchg2, kind, [3]) == [3]
    assert dchg2["values"][3] is server.get_value(EVENTS[3])

    server.update_value(EVENTS[3], server.get_value(EVENTS[3]))  # same value: dupd, not in TrgOps
    expect_no_report(peer)

    assert peer.trigger_gi(URCB) == IED_ERROR_OK
    (gi2,) = peer.reports(count=1, timeout=5)
    assert gi2["seq_num"] == 3
    assert gi2["reasons"] == [GI] * 4
    assert gi2["values"] == [server.get_value(r) for r in EVENTS]
    disable(peer, URCB, resv=False)


def test_urcb_integrity_period(server: IedServer, peer: Peer) -> None:
    enable(peer, URCB, "Events", resv=True, trg_ops=INTEGRITY, intg_pd=200, buf_tm=0)
    t0 = time.monotonic()
    got = peer.reports(count=5, timeout=5)
    elapsed = time.monotonic() - t0
    assert len(got) >= 5
    assert elapsed > 0.6  # 5 periods of 200 ms, the first one may come early
    for rep in got:
        assert rep["reasons"] == [INTEGRITY] * 4
        assert rep["values"] == [server.get_value(r) for r in EVENTS]
    assert seq_gaps([r["seq_num"] for r in got], 256) == []
    disable(peer, URCB, resv=False)


def test_urcb_sequence_numbers_without_gaps(server: IedServer, peer: Peer, kind: str) -> None:
    n = 1000
    enable(peer, URCB, "Events", resv=True, trg_ops=DCHG, buf_tm=0, opt_flds=ALL_URCB_OPTS)
    value = bool(server.get_value(EVENTS[0]))
    sent = []
    for _ in range(n):
        value = not value
        server.update_value(EVENTS[0], value)
        sent.append(value)
    got = []
    deadline = time.monotonic() + 30
    while len(got) < n and time.monotonic() < deadline:
        got.extend(peer.reports(count=n - len(got), timeout=2))
    assert len(got) == n
    seqs = [r["seq_num"] for r in got]
    assert seqs[0] == 0
    assert seq_gaps(seqs, 256) == []  # URCB SqNum is INT8U
    assert [r["values"][0] for r in got] == sent
    assert all(r["reasons"][0] == DCHG for r in got)
    expect_no_report(peer, 0.2)
    disable(peer, URCB, resv=False)


# ----------------------------------------------------------------------- reservation


@pytest.mark.parametrize("owner_kind,other_kind", [("pyiec", "rust"), ("rust", "pyiec")])
def test_reservation_refused_for_a_second_client(server: IedServer, owner_kind: str, other_kind: str) -> None:
    owner = open_peer(owner_kind, server)
    other = open_peer(other_kind, server)
    try:
        enable(owner, URCB, "Events", resv=True, trg_ops=DCHG, buf_tm=0)
        mine = owner.read_rcb(URCB)
        assert (mine["rpt_ena"], mine["resv"]) == (True, True)
        assert mine["owner"] == "7f000001"  # Ed2 Owner: the client's IPv4 address
        view = other.read_rcb(URCB)
        assert (view["rpt_ena"], view["resv"]) == (True, True)
        assert other.set_rcb(URCB, resv=True) != IED_ERROR_OK
        assert other.set_rcb(URCB, rpt_ena=True) != IED_ERROR_OK
        assert other.set_rcb(URCB, rpt_ena=False) != IED_ERROR_OK  # cannot disable it either
        assert other.set_rcb(URCB, trg_ops=GI) != IED_ERROR_OK
        # the owner keeps receiving; the other client takes the second instance
        server.update_value(EVENTS[2], not server.get_value(EVENTS[2]))
        (rep,) = owner.reports(count=1, timeout=5)
        assert rep["values"][2] is server.get_value(EVENTS[2])
        enable(other, URCB2, "Events", resv=True, trg_ops=DCHG, buf_tm=0)
        server.update_value(EVENTS[0], not server.get_value(EVENTS[0]))
        (a,) = owner.reports(count=1, timeout=5)
        (b,) = other.reports(count=1, timeout=5)
        assert a["values"][0] is b["values"][0] is server.get_value(EVENTS[0])
        assert a["rcb_ref"] == URCB and b["rcb_ref"] == URCB2
        disable(other, URCB2, resv=False)
        disable(owner, URCB, resv=False)
        # released: now the other client may reserve the first instance
        assert other.set_rcb(URCB, resv=True) == IED_ERROR_OK
        assert other.set_rcb(URCB, resv=False) == IED_ERROR_OK
    finally:
        owner.close()
        other.close()


def test_reservation_released_when_the_owner_disconnects(server: IedServer) -> None:
    owner = PyiecReportClient("127.0.0.1", server.port)
    enable(owner, URCB, "Events", resv=True, trg_ops=DCHG, buf_tm=0)
    owner.close()  # no disable, no unreserve
    with RustReportSession("127.0.0.1", server.port) as other:
        deadline = time.monotonic() + 5
        while other.read_rcb(URCB)["resv"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert other.read_rcb(URCB)["rpt_ena"] is False
        enable(other, URCB, "Events", resv=True, trg_ops=DCHG, buf_tm=0)
        server.update_value(EVENTS[1], not server.get_value(EVENTS[1]))
        (rep,) = other.reports(count=1, timeout=5)
        assert rep["values"][1] is server.get_value(EVENTS[1])
        disable(other, URCB, resv=False)


def test_brcb_resv_tms_keeps_it_for_the_lost_client_only(server: IedServer) -> None:
    """A BRCB reserved with ResvTms stays reserved that many seconds after its client's
    association is lost; a client from another address is refused meanwhile."""
    away = PyiecReportClient("127.0.0.1", server.port, local_address="127.0.0.2")
    try:
        assert away.set_rcb(BRCB, resv_tms=2) == IED_ERROR_OK
        held = away.read_rcb(BRCB)
        assert held["resv_tms"] == 2
        assert held["owner"] == "7f000002"  # Owner: the client's IPv4 address
    finally:
        away.close()
    t0 = time.monotonic()
    with RustReportSession("127.0.0.1", server.port) as other:
        assert other.set_rcb(BRCB, rpt_ena=True) == 26  # temporarily-unavailable
        while other.set_rcb(BRCB, rpt_ena=True) != IED_ERROR_OK:
            assert time.monotonic() - t0 < 6, "the reservation did not end after ResvTms"
            time.sleep(0.1)
        assert time.monotonic() - t0 > 1.5
        assert other.set_rcb(BRCB, rpt_ena=False) == IED_ERROR_OK


# ----------------------------------------------------------------------- BRCB


def test_brcb_entry_ids(server: IedServer, peer: Peer, kind: str) -> None:
    enable(peer, BRCB, "Meas", trg_ops=DCHG | GI, opt_flds=ALL_BRCB_OPTS, buf_tm=0, gi=True)
    (gi,) = peer.reports(count=1, timeout=5)
    assert gi["rpt_id"] == "Meas"
    assert gi["reasons"] == [GI] * 4
    assert gi["values"] == pytest.approx([server.get_value(r) for r in MEAS])
    assert gi["refs"] == MEAS_REFS
    # enabled without an EntryID: the client did not say what it has, so the first report
    # says BufOvfl TRUE (libiec61850's server does the same, golden frame 077)
    assert gi["buf_ovfl"] is True
    assert gi["conf_rev"] == 1
    ids = [gi["entry_id"]]
    for v in (1.5, 2.5, 3.5):
        server.update_value(MEAS[0], v)
    got = peer.reports(count=3, timeout=5)
    assert [r["values"][0] for r in got] == [1.5, 2.5, 3.5]
    assert [members(r, kind, [0]) for r in got] == [[0]] * 3
    ids += [r["entry_id"] for r in got]
    assert all(i is not None and len(bytes.fromhex(i)) == 8 for i in ids)
    assert len(set(ids)) == 4
    seqs = [gi["seq_num"]] + [r["seq_num"] for r in got]
    assert seq_gaps(seqs, 65536) == []  # BRCB SqNum is INT16U
    peer.unsubscribe(BRCB)
    rcb = peer.read_rcb(BRCB)
    assert rcb["entry_id"] == ids[-1]
    assert rcb["resv_tms"] is not None
    assert peer.set_rcb(BRCB, rpt_ena=False) == IED_ERROR_OK


def test_brcb_resync_after_a_dropped_connection(server: IedServer, kind: str) -> None:
    """pyiec61850-ng resumes after the last EntryID it saw and gets each missed entry once.
    The Rust client (0.14) cannot write EntryID (object-non-existent, against libiec61850's
    server too): it enables without one and gets the whole buffer, flagged BufOvfl."""
    first = open_peer(kind, server)
    enable(first, BRCB, "Meas", trg_ops=DCHG, opt_flds=ALL_BRCB_OPTS, buf_tm=0)
    server.update_value(MEAS[1], 10.0)
    server.update_value(MEAS[1], 11.0)
    seen = first.reports(count=2, timeout=5)
    assert [r["values"][1] for r in seen] == [10.0, 11.0]
    last = seen[-1]
    first.close()  # the connection goes; the BRCB keeps buffering
    for v in (12.0, 13.0, 14.0):
        server.update_value(MEAS[1], v)
    second = open_peer(kind, server)
    try:
        if kind == "pyiec":
            enable(second, BRCB, "Meas", entry_id=last["entry_id"])
            got = second.reports(count=3, timeout=5)
            assert [r["values"][1] for r in got] == [12.0, 13.0, 14.0]  # each missed entry once
            assert got[0]["buf_ovfl"] is False
        else:
            enable(second, BRCB, "Meas")
            got = second.reports(count=5, timeout=5)
            assert [r["values"][1] for r in got] == [10.0, 11.0, 12.0, 13.0, 14.0]
            assert [r["entry_id"] for r in got[:2]] == [r["entry_id"] for r in seen]
            assert got[0]["buf_ovfl"] is True
        ids = [r["entry_id"] for r in got]
        assert None not in ids and len(set(ids)) == len(ids) and last["entry_id"] not in ids[-3:]
        assert seq_gaps([r["seq_num"] for r in got], 65536) == []
        expect_no_report(second)
        server.update_value(MEAS[1], 15.0)  # and live again
        (live,) = second.reports(count=1, timeout=5)
        assert live["values"][1] == 15.0
        disable(second, BRCB)
    finally:
        second.close()


# ----------------------------------------------------------------------- model variants


ED1_DICT: dict[str, Any] = {
    "name": "ED",
    "edition": "1",
    "logical_devices": [{"inst": "LD0", "logical_nodes": [
        {"ln_class": "LLN0",
         "data_objects": [{"name": "Mod", "children": [
             {"name": "stVal", "fc": "ST", "btype": "INT8", "value": 1}]}],
         "data_sets": [{"name": "DS", "members": [
             {"ld_inst": "LD0", "ln_class": "GGIO", "ln_inst": "1", "do_name": "Ind1",
              "da_name": "stVal", "fc": "ST"},
             {"ld_inst": "LD0", "ln_class": "GGIO", "ln_inst": "1", "do_name": "Cnt1",
              "da_name": "stVal", "fc": "ST"}]}],
         "report_controls": [
             {"name": "rpt", "dataset": "DS", "rpt_id": "R", "conf_rev": 7, "indexed": False,
              "trg_ops": {"dchg": True, "dupd": True, "gi": True},
              "opt_fields": {"seq_num": True, "reason_code": True, "data_ref": True}},
             {"name": "brpt", "dataset": "DS", "buffered": True, "max_instances": 3}]},
        {"ln_class": "GGIO", "inst": "1", "data_objects": [
            {"name": "Ind1", "children": [{"name": "stVal", "fc": "ST", "btype": "BOOLEAN", "dchg": True}]},
            {"name": "Cnt1", "children": [{"name": "stVal", "fc": "ST", "btype": "INT32", "dupd": True}]}]},
    ]}],
}


def test_dict_model_rcbs_edition1_and_trigger_options(kind: str) -> None:
    with IedServer.from_dict(ED1_DICT) as srv:
        srv.start(0, "127.0.0.1")
        p = open_peer(kind, srv)
        try:
            rcb = p.read_rcb("EDLD0/LLN0.RP.rpt")  # indexed="false": exactly the name
            assert (rcb["rpt_id"], rcb["conf_rev"], rcb["dataset"]) == ("R", 7, "EDLD0/LLN0$DS")
            assert rcb["trg_ops"] == DCHG | DUPD | GI
            assert rcb["opt_flds"] == SEQ | REASON | DATAREF
            assert rcb["owner"] is None  # Edition 1: no Owner
            brcbs = [p.read_rcb(f"EDLD0/LLN0.BR.brpt0{i}") for i in (1, 2, 3)]
            assert all(b["resv_tms"] is None and b["owner"] is None for b in brcbs)
            assert brcbs[0]["rpt_id"] in ("", "EDLD0/LLN0$BR$brpt01", "EDLD0/LLN0.BR.brpt01")
            with pytest.raises(Exception):
                p.read_rcb("EDLD0/LLN0.RP.rpt01")

            enable(p, "EDLD0/LLN0.RP.rpt", "R", resv=True, buf_tm=0)
            srv.update_value("EDLD0/GGIO1.Cnt1.stVal", 0)  # same value: dupd (Cnt1 has dupd only)
            (rep,) = p.reports(count=1, timeout=5)
            assert members(rep, kind, [1]) == [1]
            assert rep["reasons"][1] == DUPD
            srv.update_value("EDLD0/GGIO1.Ind1.stVal", False)  # same value, dchg only: nothing
            expect_no_report(p)
            srv.update_value("EDLD0/GGIO1.Ind1.stVal", True)
            (rep,) = p.reports(count=1, timeout=5)
            assert rep["reasons"][0] == DCHG and rep["values"][0] is True
            disable(p, "EDLD0/LLN0.RP.rpt", resv=False)
        finally:
            p.close()


N_TXT = 40
BIG_DICT: dict[str, Any] = {
    "name": "BIG",
    "logical_devices": [{"inst": "LD0", "logical_nodes": [
        {"ln_class": "LLN0",
         "data_objects": [{"name": "Mod", "children": [
             {"name": "stVal", "fc": "ST", "btype": "INT8", "value": 1}]}],
         "data_sets": [{"name": "Big", "members": [
             {"ld_inst": "LD0", "ln_class": "GGIO", "ln_inst": "1", "do_name": f"Txt{i:02d}",
              "da_name": "stVal", "fc": "ST"} for i in range(1, N_TXT + 1)]}],
         "report_controls": [
             {"name": "urcbBig", "dataset": "Big", "rpt_id": "Big", "conf_rev": 1,
              "trg_ops": {"dchg": True, "gi": True},
              "opt_fields": {"seq_num": True, "time_stamp": True, "reason_code": True,
                             "data_set": True, "data_ref": True, "config_ref": True}}]},
        {"ln_class": "GGIO", "inst": "1", "data_objects": [
            {"name": f"Txt{i:02d}", "children": [
                {"name": "stVal", "fc": "ST", "btype": "VisString255", "dchg": True}]}
            for i in range(1, N_TXT + 1)]},
    ]}],
}


def test_segmented_report(kind: str) -> None:
    """A GI report larger than the client's PDU size (1000 octets) is sent in segments
    (same SqNum); both peers decode every segment (neither joins them: each arrives as a
    report with that segment's members)."""
    texts = [f"{i:02d}-" + chr(ord("a") + i % 26) * 200 for i in range(N_TXT)]
    with IedServer.from_dict(BIG_DICT) as srv:
        for i, t in enumerate(texts):
            srv.update_value(f"BIGLD0/GGIO1.Txt{i + 1:02d}.stVal", t)
        srv.start(0, "127.0.0.1")
        ref = "BIGLD0/LLN0.RP.urcbBig01"
        p = (PyiecReportClient("127.0.0.1", srv.port, max_pdu_size=1000) if kind == "pyiec"
             else RustReportSession("127.0.0.1", srv.port, max_pdu_size=1000))
        try:
            enable(p, ref, "Big", resv=True, gi=True, buf_tm=0)
            got = drain(p)
            assert len(got) == srv.reports_sent > 5
            assert {r["seq_num"] for r in got} == {0}
            if kind == "pyiec":
                parts = [included(r) for r in got]
                assert sorted(i for part in parts for i in part) == list(range(N_TXT))  # each once
                assert [part[0] for part in parts] == sorted(part[0] for part in parts)  # in order
                values = {i: r["values"][i] for r in got for i in included(r)}
                assert [values[i] for i in range(N_TXT)] == texts
                refs = {i: r["refs"][i] for r in got for i in included(r)}
                assert refs[N_TXT - 1] == f"BIGLD0/GGIO1$ST$Txt{N_TXT}$stVal"
            else:  # the Rust client's cache holds the whole data set after the last segment
                assert got[-1]["values"] == texts
                assert all(r == GI for r in got[-1]["reasons"])
            srv.update_value("BIGLD0/GGIO1.Txt07.stVal", "short")  # small again: one PDU
            (one,) = p.reports(count=1, timeout=5)
            assert one["seq_num"] == 1 and one["values"][6] == "short" and one["reasons"][6] == DCHG
            disable(p, ref, resv=False)
        finally:
            p.close()


def test_report_buffer_size_is_checked() -> None:
    for bad in (0, -1, 2**32, True, 1.5, "65536"):
        with pytest.raises(ValueError):
            IedServer.from_scl(DEFAULT_SCL, report_buffer_size=bad)
    IedServer.from_scl(DEFAULT_SCL, report_buffer_size=1).close()


def test_rcb_of_a_data_set_left_out_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    spec = {"name": "A", "logical_devices": [{"inst": "LD0", "logical_nodes": [
        {"ln_class": "LLN0",
         "data_sets": [{"name": "Arr", "members": [  # array elements: not supported
             {"ld_inst": "LD0", "ln_class": "GGIO", "ln_inst": "1", "do_name": "X", "da_name": "v",
              "fc": "ST", "ix": 1}]}],
         "report_controls": [{"name": "r", "dataset": "Arr"}, {"name": "free"}]},
        {"ln_class": "GGIO", "inst": "1", "data_objects": [{"name": "X", "children": [
            {"name": "v", "fc": "ST", "btype": "INT16", "count": 3}]}]}]}]}
    with IedServer.from_dict(spec) as srv:
        srv.start(0, "127.0.0.1")
        assert "report control ALD0/LLN0.r" in caplog.text
        with RustReportSession("127.0.0.1", srv.port) as p:
            rcb = p.read_rcb("ALD0/LLN0.RP.free01")  # no data set: DatSet empty
            assert rcb["dataset"] in ("", None) and rcb["rpt_ena"] is False
            with pytest.raises(Exception):
                p.read_rcb("ALD0/LLN0.RP.r01")


def test_peer_client_errors_are_reported() -> None:
    with pytest.raises(PeerClientError):
        PyiecReportClient("127.0.0.1", 1, timeout=20)
