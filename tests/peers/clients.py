"""Helpers for driving the peers' own *clients* (pyiec61850-ng and the Rust-based iec61850).

Used by tests/test_peer_servers.py (the sanity layer) and by interop tests that point a
peer client at our server. Values are normalised to the Python form of
:attr:`peers.sclmodel.Leaf.value`:

=============================  =====================================================
SCL basic type                 Python value
=============================  =====================================================
BOOLEAN                        ``bool``
INT8 ... INT64, INT8U ... U32  ``int``
Enum                           ``int`` (the ord)
FLOAT32, FLOAT64               ``float``
Dbpos                          ``int`` 0 intermediate, 1 off, 2 on, 3 bad-state
Check, Quality                 ``int``: the bit string, bit 0 = most significant
VisString*, Unicode255         ``str``
Octet64                        ``bytes``
Timestamp                      timezone-aware ``datetime`` (UTC, millisecond precision)
=============================  =====================================================

Quirks handled here (details in tests/peers/README.md):

* pyiec61850-ng: a connection opened within ~0.2 s of importing the module is sometimes
  dead (state CONNECTED, every request fails with IED_ERROR_CONNECTION_LOST = 3):
  :func:`pyiec_connect` probes the association and reconnects.
* Rust client: no FLOAT64, MMS string (Unicode), bit-string (Dbpos, Check, Quality) or
  time writes; :func:`rust_write` raises ``NotImplementedError`` for those.

Reports (both peer clients subscribing to a server's report control blocks):

* :class:`PyiecReportClient` runs a pyiec61850-ng client in a **child process**
  (``python -m peers.clients pyiec-report-child HOST PORT [OPTIONS_JSON]``) driven by one
  JSON command per line: the binding keeps the GIL while it waits for the network and its report callback
  needs the GIL, so a blocking call made while a report arrives can hang (the child sets a
  request timeout, so that becomes a retried timeout, never a hang); an ``RCBSubscriber``
  works once per RCB reference per process and destroying it after its connection
  segfaults at GC (the child ends with ``os._exit``).
* :class:`RustReportClient` drives the async Rust client in-process; its report handler
  needs ``rpt_id`` and reports are pulled with ``poll_reports``.

Both give reports as the same plain dict (:data:`REPORT_KEYS`, JSON-able): ``values``,
``reasons`` and ``refs`` are lists over the data set members. pyiec61850-ng gives ``None`` /
``0`` / ``None`` for members not included; **the Rust client (0.14) merges every report
into a per-data-set cache**: members not included keep the value, reason and reference of
an earlier report (seen against libiec61850's server too), so with it only the included
members' entries (reason != 0 and changed) are meaningful.
Neither peer joins segmented reports: each segment arrives as a report (same SeqNum; the
members of that segment included); pyiec61850-ng does not show SubSeqNum either.
The Rust client (0.14) cannot write EntryID (object-non-existent, against libiec61850's server
too), so it cannot resynchronise a BRCB.
Control (both peer clients operating a server's controllable objects):

* :class:`PyiecControlClient` - libiec61850's ``ControlObjectClient`` in the same child
  process as the report client (JSON commands ``ctl_*``); a CommandTermination handler
  (``CommandTermHandler``/``CommandTermSubscriber``) records what
  ``ControlObjectClient_getLastApplError`` shows when one arrives: libiec61850 resets it to
  ``{error 0, addCause 0, ctlNum 0}`` on CommandTermination+ and fills it from the report on
  CommandTermination- (its examples call ``error != 0`` a CommandTermination-). The AddCause of
  a refusal comes from the LastApplError sent *before* the negative response. Creating the
  same reference twice in one process re-registers the subscriber and crashes the binding:
  :meth:`PyiecControlClient.create` once per reference. Blocking calls keep the GIL, and the
  CommandTermination handler needs it: wait for an expected termination
  (:meth:`PyiecControlClient.terminations`) before the next command.
* :class:`RustControlSession` - the Rust client (0.14) does not read ctlModel (give the
  model), sends only bool/int/float ctlVal (an APC's AnalogueValue goes out as a bare FLOAT)
  and has no operTm; ``operate`` of the enhanced models returns after the
  CommandTermination with ``(success, add_cause)`` - and when the server refused the operate
  (negative response, so no CommandTermination follows) only after its request timeout
  (5 s by default: ``request_timeout_ms``). It ignores the LastApplError that
  libiec61850's server and ours send before a negative response (with Error 0): its
  ``add_cause`` is then "unknown"; it does read the AddCause of a CommandTermination-, and of
  the [LastApplError, Oper] report its own server sends after the negative response.
* Both increment ctlNum before a select or a direct operate (``set_ctl_num(n)``: the next
  such command carries ``n + 1``); the operate of an SBO model carries the select's ctlNum.

Files (pyiec61850-ng's client; the Rust client has no file services):

* in-process functions ``pyiec_file_*`` on a connection of :func:`pyiec_connect`, and
  :class:`PyiecFileClient` (the same in the child process). Use the child when the server
  runs Python handlers in this process (py61850's ``on_file``): a blocking call of the
  binding keeps the GIL, so the server's handler thread could not answer.
* ``IedConnection_getFileDirectory`` needs ``"/"`` for the root (``""`` raises ValueError)
  and follows moreFollows itself; ``MmsConnection_downloadFile(mms, err, remote, local)``
  streams to a local path (the bundled ``pyiec61850.mms.files.download_file`` returns empty
  bytes); upload is ``IedConnection_setFile`` (ObtainFile) after
  ``IedConnection_setFilestoreBasepath``, whose base path is **prefixed verbatim** to the
  server's FileOpen name (no separator added: it must end with ``/``);
  rename is ``MmsConnection_fileRename`` (no IedConnection function).
* Failures raise :class:`PyiecFileError` with libiec61850's code: ``kind`` ``"ied"`` (an
  ``IedClientError``: directory, delete, upload) or ``"mms"`` (an ``MmsError``:
  download, rename, open/close; file errors are 90 + the MMS file error code).

RCB values are a dict with the keys of :data:`RCB_KEYS`; TrgOps/OptFlds/ReasonCode are the
masks both peers use (and py61850: IEC bit n -> ``1 << (n - 1)``).
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import json
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Optional

from .sclmodel import Leaf

log = logging.getLogger("py61850.tests.peers.clients")

_UTC = _dt.timezone.utc

# ------------------------------------------------------------------------- pyiec61850-ng


def _pyiec() -> Any:
    import pyiec61850.pyiec61850 as L  # noqa: N812 - imported lazily: heavy, and optional

    return L


def pyiec_fc(fc: str) -> int:
    """``"MX"`` -> ``IEC61850_FC_MX``."""
    return getattr(_pyiec(), f"IEC61850_FC_{fc}")


def pyiec_connect(host: str, port: int, attempts: int = 5, local_address: Optional[str] = None,
                  max_pdu_size: Optional[int] = None) -> Any:
    """Open a pyiec61850-ng ``IedConnection`` that is known to work.

    :param local_address: bind the client socket to this address first (``127.0.0.2``:
        a client with another address than the others on loopback)
    :param max_pdu_size: the MMS PDU size to propose (localDetailCalling)
    :raises ConnectionError: no working association after ``attempts`` tries
    """
    L = _pyiec()
    last = None
    for i in range(attempts):
        con = L.IedConnection_create()
        if local_address:
            L.IedConnection_setLocalAddress(con, local_address, 0)
        if max_pdu_size:
            L.MmsConnection_setLocalDetail(L.IedConnection_getMmsConnection(con), int(max_pdu_size))
        _, err = L.IedConnection_connect(con, host, port)
        if err == L.IED_ERROR_OK:
            names, err = L.IedConnection_getServerDirectory(con, False)
            if err == L.IED_ERROR_OK:
                L.LinkedList_destroy(names)
                return con
        last = err
        L.IedConnection_close(con)
        L.IedConnection_destroy(con)
        log.info("pyiec61850 connect attempt %d to %s:%d failed (error %s)", i + 1, host, port, err)
        time.sleep(0.05 * (i + 1))
    raise ConnectionError(f"pyiec61850-ng: cannot associate with {host}:{port} (IedClientError {last})")


def pyiec_close(con: Any) -> None:
    L = _pyiec()
    L.IedConnection_close(con)
    L.IedConnection_destroy(con)


def pyiec_string_list(linked_list: Any) -> list[str]:
    """Convert (and free) a libiec61850 ``LinkedList`` of C strings."""
    L = _pyiec()
    out = []
    el = L.LinkedList_getNext(linked_list)
    while el:
        out.append(L.toCharP(el.data))
        el = L.LinkedList_getNext(el)
    L.LinkedList_destroy(linked_list)
    return out


def pyiec_logical_devices(con: Any) -> list[str]:
    L = _pyiec()
    lst, err = L.IedConnection_getLogicalDeviceList(con)
    if err != L.IED_ERROR_OK:
        raise IOError(f"getLogicalDeviceList: IedClientError {err}")
    return pyiec_string_list(lst)


def pyiec_domain_variables(con: Any, ld: str) -> list[str]:
    """GetNameList(namedVariable) of a domain, in server order."""
    L = _pyiec()
    lst, err = L.IedConnection_getLogicalDeviceVariables(con, ld)
    if err != L.IED_ERROR_OK:
        raise IOError(f"getLogicalDeviceVariables({ld}): IedClientError {err}")
    return pyiec_string_list(lst)


def pyiec_to_python(value: Any, btype: str) -> Any:
    """Convert a libiec61850 ``MmsValue`` of a leaf to the normalised Python value."""
    L = _pyiec()
    t = L.MmsValue_getType(value)
    if t == L.MMS_BOOLEAN:
        return bool(L.MmsValue_getBoolean(value))
    if t == L.MMS_INTEGER:
        return int(L.MmsValue_toInt64(value))
    if t == L.MMS_UNSIGNED:
        return int(L.MmsValue_toUint32(value))
    if t == L.MMS_FLOAT:
        return float(L.MmsValue_toDouble(value)) if btype == "FLOAT64" else float(L.MmsValue_toFloat(value))
    if t in (L.MMS_VISIBLE_STRING, L.MMS_STRING):
        return L.MmsValue_toString(value)
    if t == L.MMS_BIT_STRING:
        return int(L.MmsValue_getBitStringAsIntegerBigEndian(value))
    if t == L.MMS_OCTET_STRING:
        n = L.MmsValue_getOctetStringSize(value)
        return bytes(L.MmsValue_getOctetStringOctet(value, i) for i in range(n))
    if t == L.MMS_UTC_TIME:
        ms = L.MmsValue_getUtcTimeInMs(value)
        return _dt.datetime.fromtimestamp(ms / 1000, _UTC)
    raise TypeError(f"pyiec_to_python: MMS type {t} for {btype}")


def pyiec_read(con: Any, leaf: Leaf) -> Any:
    """Read one leaf with ``IedConnection_readObject``; raises ``IOError`` on failure."""
    L = _pyiec()
    value, err = L.IedConnection_readObject(con, leaf.ref, pyiec_fc(leaf.fc))
    if err != L.IED_ERROR_OK or value is None:
        raise IOError(f"readObject({leaf.ref} [{leaf.fc}]): IedClientError {err}")
    try:
        return pyiec_to_python(value, leaf.btype)
    finally:
        L.MmsValue_delete(value)


def pyiec_mms_value(btype: str, value: Any) -> Any:
    """A new ``MmsValue`` of the MMS type libiec61850 uses for an SCL basic type."""
    L = _pyiec()
    if btype == "BOOLEAN":
        return L.MmsValue_newBoolean(bool(value))
    if btype in ("INT8", "Enum"):
        return L.MmsValue_newIntegerFromInt8(int(value))
    if btype == "INT16":
        return L.MmsValue_newIntegerFromInt16(int(value))
    if btype == "INT32":
        return L.MmsValue_newIntegerFromInt32(int(value))
    if btype == "INT64":
        return L.MmsValue_newIntegerFromInt64(int(value))
    if btype in ("INT8U", "INT16U", "INT32U"):
        v = L.MmsValue_newUnsigned({"INT8U": 8, "INT16U": 16, "INT32U": 32}[btype])
        L.MmsValue_setUint32(v, int(value))
        return v
    if btype == "FLOAT32":
        return L.MmsValue_newFloat(float(value))
    if btype == "FLOAT64":
        return L.MmsValue_newDouble(float(value))
    if btype in ("Dbpos", "Check"):
        # 2-bit string, bit 0 = most significant bit of the value (Dbpos on = 10)
        v = L.MmsValue_newBitString(2)
        L.MmsValue_setBitStringBit(v, 0, bool(int(value) & 2))
        L.MmsValue_setBitStringBit(v, 1, bool(int(value) & 1))
        return v
    if btype.startswith("VisString"):
        return L.MmsValue_newVisibleString(str(value))
    if btype == "Unicode255":
        return L.MmsValue_newMmsString(str(value))
    if btype == "Octet64":
        raw = bytes(value)
        v = L.MmsValue_newOctetString(len(raw), 64)
        for i, b in enumerate(raw):
            L.MmsValue_setOctetStringOctet(v, i, b)
        return v
    if btype == "Timestamp":
        if not isinstance(value, _dt.datetime) or value.tzinfo is None:
            raise TypeError("Timestamp values are timezone-aware datetimes")
        v = L.MmsValue_newUtcTimeByMsTime(round(value.timestamp() * 1000))
        L.MmsValue_setUtcTimeQuality(v, 0x8A)  # leap seconds known, 10-bit accuracy
        return v
    raise TypeError(f"no MmsValue for bType {btype}")


def _pyiec_octets(raw: bytes) -> Any:
    L = _pyiec()
    v = L.MmsValue_newOctetString(len(raw), 64)
    for i, b in enumerate(raw):
        L.MmsValue_setOctetStringOctet(v, i, b)
    return v


def pyiec_ctl_value(value: Any) -> Any:
    """A new ``MmsValue`` for a control value given as JSON: ``bool`` (SPC/DPC) ->
    BOOLEAN, ``int`` (INC/ENC) -> INTEGER 32, ``float`` -> FLOAT32, ``{"f": x}`` /
    ``{"i": n}`` / both -> an AnalogueValue structure (APC; components in that order),
    ``{"bits": "10"}`` -> a bit string (tap command)."""
    L = _pyiec()
    if isinstance(value, bool):
        return L.MmsValue_newBoolean(value)
    if isinstance(value, int):
        return L.MmsValue_newIntegerFromInt32(value)
    if isinstance(value, float):
        return L.MmsValue_newFloat(value)
    if isinstance(value, dict) and "bits" in value:
        bits = str(value["bits"])
        v = L.MmsValue_newBitString(len(bits))
        for i, ch in enumerate(bits):
            L.MmsValue_setBitStringBit(v, i, ch == "1")
        return v
    if isinstance(value, dict) and value and set(value) <= {"f", "i"}:
        parts = []
        if "i" in value:
            parts.append(L.MmsValue_newIntegerFromInt32(int(value["i"])))
        if "f" in value:
            parts.append(L.MmsValue_newFloat(float(value["f"])))
        v = L.MmsValue_createEmptyStructure(len(parts))
        for i, part in enumerate(parts):
            L.MmsValue_setElement(v, i, part)
        return v
    raise TypeError(f"no control value for {value!r}")


def pyiec_write(con: Any, leaf: Leaf, value: Any) -> int:
    """Write one leaf with ``IedConnection_writeObject``; returns the IedClientError (0 = OK)."""
    L = _pyiec()
    mv = pyiec_mms_value(leaf.btype, value)
    try:
        _, err = L.IedConnection_writeObject(con, leaf.ref, pyiec_fc(leaf.fc), mv)
    finally:
        L.MmsValue_delete(mv)
    return int(err)


# ------------------------------------------------------------------------- iec61850 (Rust)


def _bits_to_int(raw: bytes, nbits: int) -> int:
    """Bit string octets (bit 0 = MSB of the first octet) -> int over ``nbits`` bits."""
    v = int.from_bytes(raw, "big") if raw else 0
    total = 8 * len(raw)
    return v >> (total - nbits) if total >= nbits else v << (nbits - total)


async def rust_read(conn: Any, leaf: Leaf) -> Any:
    """Read one leaf with the Rust client (an ``iec61850.IedConnection``), normalised."""
    if leaf.btype == "Timestamp":
        ts = await conn.read_timestamp(leaf.ref, leaf.fc)
        return ts.astimezone(_UTC) if ts.tzinfo else ts.replace(tzinfo=_UTC)
    raw = await conn.read(leaf.ref, leaf.fc)
    if leaf.btype in ("Dbpos", "Check"):
        return _bits_to_int(bytes(raw), 2)
    if leaf.btype == "Quality":
        return _bits_to_int(bytes(raw), 13)
    if leaf.btype == "Octet64":
        return bytes(raw)
    if leaf.btype in ("FLOAT32", "FLOAT64"):
        return float(raw)
    if leaf.btype == "BOOLEAN":
        return bool(raw)
    return raw


async def rust_write(conn: Any, leaf: Leaf, value: Any) -> None:
    """Write one leaf with the Rust client; raises its ``IedError`` subclasses on failure.

    :raises NotImplementedError: a type the Rust client cannot encode
    """
    b = leaf.btype
    if b == "BOOLEAN":
        await conn.write_bool(leaf.ref, leaf.fc, bool(value))
    elif b in ("INT8", "INT16", "INT32", "Enum"):
        await conn.write_int32(leaf.ref, leaf.fc, int(value))
    elif b == "INT64":
        await conn.write(leaf.ref, leaf.fc, int(value))
    elif b in ("INT8U", "INT16U", "INT32U"):
        await conn.write_uint32(leaf.ref, leaf.fc, int(value))
    elif b == "FLOAT32":
        await conn.write_float(leaf.ref, leaf.fc, float(value))
    elif b.startswith("VisString"):
        await conn.write_visible_string(leaf.ref, leaf.fc, str(value))
    elif b == "Octet64":
        await conn.write_octet_string(leaf.ref, leaf.fc, bytes(value))
    else:
        raise NotImplementedError(f"the iec61850 0.14 client cannot write {b}")


#: Basic types :func:`rust_write` supports.
RUST_WRITABLE_BTYPES = frozenset(
    {"BOOLEAN", "INT8", "INT16", "INT32", "INT64", "Enum", "INT8U", "INT16U", "INT32U", "FLOAT32", "Octet64"}
    | {f"VisString{n}" for n in (32, 64, 65, 129, 255)}
)


# ------------------------------------------------------------------------- reports: common

#: Keys of a normalised report dict.
REPORT_KEYS = ("rcb_ref", "rpt_id", "seq_num", "sub_seq_num", "more_segments", "timestamp_ms",
               "dataset", "buf_ovfl", "entry_id", "conf_rev", "values", "reasons", "refs")
#: Keys of a normalised RCB dict (read) and of the values a ``set_rcb`` accepts (all but
#: conf_rev, sq_num, time_of_entry_ms and owner). ``entry_id`` and ``owner`` are hex strings.
RCB_KEYS = ("rpt_id", "rpt_ena", "resv", "dataset", "conf_rev", "opt_flds", "buf_tm", "sq_num",
            "trg_ops", "intg_pd", "gi", "purge_buf", "entry_id", "time_of_entry_ms", "resv_tms",
            "owner")
_SETTABLE = ("rpt_id", "rpt_ena", "resv", "dataset", "opt_flds", "buf_tm", "trg_ops", "intg_pd",
             "gi", "purge_buf", "entry_id", "resv_tms")


def included(report: dict[str, Any]) -> list[int]:
    """Indexes of the members a normalised report marks as included (reason != 0)."""
    return [i for i, r in enumerate(report["reasons"]) if r]


def seq_gaps(seq_nums: list[int], modulo: int) -> list[tuple[int, int]]:
    """Pairs ``(previous, next)`` of consecutive sequence numbers that are not +1 (mod ``modulo``)."""
    return [(a, b) for a, b in zip(seq_nums, seq_nums[1:]) if (a + 1) % modulo != b]


# ------------------------------------------------------------------------- reports: pyiec61850-ng


def pyiec_json_value(mv: Any) -> Any:
    """Any libiec61850 ``MmsValue`` as a JSON-able value: structures/arrays as lists, bit
    strings as ints (bit 0 = most significant), octet strings as hex, times as ms since 1970."""
    L = _pyiec()
    if mv is None:
        return None
    t = L.MmsValue_getType(mv)
    if t in (L.MMS_STRUCTURE, L.MMS_ARRAY):
        return [pyiec_json_value(L.MmsValue_getElement(mv, i)) for i in range(L.MmsValue_getArraySize(mv))]
    if t == L.MMS_BOOLEAN:
        return bool(L.MmsValue_getBoolean(mv))
    if t == L.MMS_INTEGER:
        return int(L.MmsValue_toInt64(mv))
    if t == L.MMS_UNSIGNED:
        return int(L.MmsValue_toUint32(mv))
    if t == L.MMS_FLOAT:
        return float(L.MmsValue_toDouble(mv))
    if t in (L.MMS_VISIBLE_STRING, L.MMS_STRING):
        return L.MmsValue_toString(mv)
    if t == L.MMS_BIT_STRING:
        return int(L.MmsValue_getBitStringAsIntegerBigEndian(mv))
    if t == L.MMS_OCTET_STRING:
        n = L.MmsValue_getOctetStringSize(mv)
        return bytes(L.MmsValue_getOctetStringOctet(mv, i) for i in range(n)).hex()
    if t == L.MMS_UTC_TIME:
        return int(L.MmsValue_getUtcTimeInMs(mv))
    if t == L.MMS_BINARY_TIME:
        return int(L.MmsValue_getBinaryTimeAsUtcMs(mv))
    return f"<MMS type {t}>"


def _pyiec_report_dict(r: Any) -> dict[str, Any]:
    """A libiec61850 ``ClientReport`` (valid during the callback only) as a normalised dict."""
    L = _pyiec()
    vals = L.ClientReport_getDataSetValues(r)
    n = L.MmsValue_getArraySize(vals) if vals is not None else 0
    has_refs = bool(L.ClientReport_hasDataReference(r))
    values: list[Any] = []
    reasons: list[int] = []
    refs: list[Optional[str]] = []
    for i in range(n):
        reason = int(L.ClientReport_getReasonForInclusion(r, i))
        reasons.append(reason)
        if reason == L.IEC61850_REASON_NOT_INCLUDED:
            values.append(None)
            refs.append(None)
        else:
            values.append(pyiec_json_value(L.MmsValue_getElement(vals, i)))
            refs.append(L.ClientReport_getDataReference(r, i) if has_refs else None)
    entry = L.ClientReport_getEntryId(r)
    segmented = bool(L.ClientReport_hasSubSeqNum(r))
    return {
        "rcb_ref": L.ClientReport_getRcbReference(r),
        "rpt_id": L.ClientReport_getRptId(r),
        "seq_num": int(L.ClientReport_getSeqNum(r)) if L.ClientReport_hasSeqNum(r) else None,
        "sub_seq_num": int(L.ClientReport_getSubSeqNum(r)) if segmented else None,
        "more_segments": bool(L.ClientReport_getMoreSeqmentsFollow(r)) if segmented else None,
        "timestamp_ms": int(L.ClientReport_getTimestamp(r)) if L.ClientReport_hasTimestamp(r) else None,
        "dataset": L.ClientReport_getDataSetName(r) if L.ClientReport_hasDataSetName(r) else None,
        "buf_ovfl": bool(L.ClientReport_getBufOvfl(r)) if L.ClientReport_hasBufOvfl(r) else None,
        "entry_id": pyiec_json_value(entry) if entry is not None else None,
        "conf_rev": int(L.ClientReport_getConfRev(r)) if L.ClientReport_hasConfRev(r) else None,
        "values": values,
        "reasons": reasons,
        "refs": refs,
    }


def _pyiec_rcb_dict(rcb: Any) -> dict[str, Any]:
    L = _pyiec()
    buffered = bool(L.ClientReportControlBlock_isBuffered(rcb))
    owner = L.ClientReportControlBlock_getOwner(rcb)
    entry = L.ClientReportControlBlock_getEntryId(rcb) if buffered else None
    return {
        "rpt_id": L.ClientReportControlBlock_getRptId(rcb),
        "rpt_ena": bool(L.ClientReportControlBlock_getRptEna(rcb)),
        "resv": None if buffered else bool(L.ClientReportControlBlock_getResv(rcb)),
        "dataset": L.ClientReportControlBlock_getDataSetReference(rcb),
        "conf_rev": int(L.ClientReportControlBlock_getConfRev(rcb)),
        "opt_flds": int(L.ClientReportControlBlock_getOptFlds(rcb)),
        "buf_tm": int(L.ClientReportControlBlock_getBufTm(rcb)),
        "sq_num": int(L.ClientReportControlBlock_getSqNum(rcb)),
        "trg_ops": int(L.ClientReportControlBlock_getTrgOps(rcb)),
        "intg_pd": int(L.ClientReportControlBlock_getIntgPd(rcb)),
        "gi": bool(L.ClientReportControlBlock_getGI(rcb)),
        "purge_buf": bool(L.ClientReportControlBlock_getPurgeBuf(rcb)) if buffered else None,
        "entry_id": pyiec_json_value(entry) if entry is not None else None,
        "time_of_entry_ms": int(L.ClientReportControlBlock_getEntryTime(rcb)) if buffered else None,
        "resv_tms": (int(L.ClientReportControlBlock_getResvTms(rcb))
                     if L.ClientReportControlBlock_hasResvTms(rcb) else None),
        "owner": pyiec_json_value(owner) if owner is not None else None,
    }


_PYIEC_ELEMENT = {  # settable key -> RCB_ELEMENT_* name
    "rpt_id": "RPT_ID", "rpt_ena": "RPT_ENA", "resv": "RESV", "dataset": "DATSET",
    "opt_flds": "OPT_FLDS", "buf_tm": "BUF_TM", "trg_ops": "TRG_OPS", "intg_pd": "INTG_PD",
    "gi": "GI", "purge_buf": "PURGE_BUF", "entry_id": "ENTRY_ID", "resv_tms": "RESV_TMS",
}
_PYIEC_SETTER = {
    "rpt_id": "RptId", "rpt_ena": "RptEna", "resv": "Resv", "dataset": "DataSetReference",
    "opt_flds": "OptFlds", "buf_tm": "BufTm", "trg_ops": "TrgOps", "intg_pd": "IntgPd",
    "gi": "GI", "purge_buf": "PurgeBuf", "resv_tms": "ResvTms",
}
#: Request timeout of the pyiec61850-ng child (ms). A blocking call that a report callback
#: holds up (GIL) fails with IED_ERROR_TIMEOUT after this instead of hanging; it is retried.
PYIEC_CHILD_REQUEST_TIMEOUT_MS = 2000


# ------------------------------------------------------------------------- pyiec61850-ng: ctypes
# Where SWIG cannot pass an argument (the bool* moreFollows of the log queries, the uint8_t[6]
# of PhyComAddress_create, the setting group handler function pointers), the functions are
# called with ctypes on the libiec61850 shared library the extension itself loaded.

_C_LIB: Optional[ctypes.CDLL] = None
_VP = ctypes.c_void_p


def pyiec_clib() -> ctypes.CDLL:
    """The wheel's libiec61850 shared library (the same handle the SWIG extension uses),
    with the prototypes used here declared."""
    global _C_LIB
    if _C_LIB is not None:
        return _C_LIB
    import glob

    L = _pyiec()
    libs = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(L.__file__))), "pyiec61850_ng.libs")
    found = sorted(glob.glob(os.path.join(libs, "libiec61850*.so*")))
    if not found:
        raise RuntimeError(f"no libiec61850 shared library in {libs}")
    lib = ctypes.CDLL(found[0])
    protos: dict[str, tuple[Any, list[Any]]] = {
        "IedConnection_queryLogByTime": (_VP, [_VP, ctypes.POINTER(ctypes.c_int), ctypes.c_char_p, ctypes.c_uint64,
                                               ctypes.c_uint64, ctypes.POINTER(ctypes.c_bool)]),
        "IedConnection_queryLogAfter": (_VP, [_VP, ctypes.POINTER(ctypes.c_int), ctypes.c_char_p, _VP, ctypes.c_uint64,
                                              ctypes.POINTER(ctypes.c_bool)]),
        "LinkedList_getNext": (_VP, [_VP]),
        "LinkedList_getData": (_VP, [_VP]),
        "LinkedList_destroyDeep": (None, [_VP, _VP]),
        "MmsJournalEntry_getEntryID": (_VP, [_VP]),
        "MmsJournalEntry_getOccurenceTime": (_VP, [_VP]),
        "MmsJournalEntry_getJournalVariables": (_VP, [_VP]),
        "MmsJournalVariable_getTag": (ctypes.c_char_p, [_VP]),
        "MmsJournalVariable_getValue": (_VP, [_VP]),
        "MmsValue_getType": (ctypes.c_int, [_VP]),
        "MmsValue_getBoolean": (ctypes.c_bool, [_VP]),
        "MmsValue_toInt64": (ctypes.c_int64, [_VP]),
        "MmsValue_toUint32": (ctypes.c_uint32, [_VP]),
        "MmsValue_toDouble": (ctypes.c_double, [_VP]),
        "MmsValue_toString": (ctypes.c_char_p, [_VP]),
        "MmsValue_getBitStringSize": (ctypes.c_int, [_VP]),
        "MmsValue_getBitStringBit": (ctypes.c_bool, [_VP, ctypes.c_int]),
        "MmsValue_getOctetStringSize": (ctypes.c_uint16, [_VP]),
        "MmsValue_getOctetStringBuffer": (ctypes.POINTER(ctypes.c_uint8), [_VP]),
        "MmsValue_getUtcTimeInMs": (ctypes.c_uint64, [_VP]),
        "MmsValue_getBinaryTimeAsUtcMs": (ctypes.c_uint64, [_VP]),
        "MmsValue_getArraySize": (ctypes.c_uint32, [_VP]),
        "MmsValue_getElement": (_VP, [_VP, ctypes.c_int]),
        "MmsValue_newOctetString": (_VP, [ctypes.c_int, ctypes.c_int]),
        "MmsValue_setOctetString": (None, [_VP, ctypes.POINTER(ctypes.c_uint8), ctypes.c_int]),
        "MmsValue_delete": (None, [_VP]),
    }
    for name, (restype, argtypes) in protos.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    _C_LIB = lib
    return lib


def pyiec_ptr(swig_obj: Any) -> int:
    """The C pointer behind a SWIG object (a proxy class or a bare ``SwigPyObject``)."""
    return int(getattr(swig_obj, "this", swig_obj))


def _c_bits(lib: ctypes.CDLL, mv: int) -> list[bool]:
    return [bool(lib.MmsValue_getBitStringBit(mv, i)) for i in range(lib.MmsValue_getBitStringSize(mv))]


def _c_json_value(lib: ctypes.CDLL, mv: Optional[int]) -> Any:
    """An ``MmsValue*`` (ctypes) as JSON, in the form of :func:`pyiec_json_value`."""
    if not mv:
        return None
    L = _pyiec()
    t = lib.MmsValue_getType(mv)
    if t in (L.MMS_STRUCTURE, L.MMS_ARRAY):
        return [_c_json_value(lib, lib.MmsValue_getElement(mv, i)) for i in range(lib.MmsValue_getArraySize(mv))]
    if t == L.MMS_BOOLEAN:
        return bool(lib.MmsValue_getBoolean(mv))
    if t == L.MMS_INTEGER:
        return int(lib.MmsValue_toInt64(mv))
    if t == L.MMS_UNSIGNED:
        return int(lib.MmsValue_toUint32(mv))
    if t == L.MMS_FLOAT:
        return float(lib.MmsValue_toDouble(mv))
    if t in (L.MMS_VISIBLE_STRING, L.MMS_STRING):
        raw = lib.MmsValue_toString(mv)
        return raw.decode("utf-8", "replace") if raw is not None else ""
    if t == L.MMS_BIT_STRING:
        return sum(1 << (len(bits) - 1 - i) for bits in [_c_bits(lib, mv)] for i, b in enumerate(bits) if b)
    if t == L.MMS_OCTET_STRING:
        n = lib.MmsValue_getOctetStringSize(mv)
        buf = lib.MmsValue_getOctetStringBuffer(mv)
        return bytes(buf[i] for i in range(n)).hex()
    if t == L.MMS_UTC_TIME:
        return int(lib.MmsValue_getUtcTimeInMs(mv))
    if t == L.MMS_BINARY_TIME:
        return int(lib.MmsValue_getBinaryTimeAsUtcMs(mv))
    return f"<MMS type {t}>"


def reason_bits_to_mask(bits: list[bool]) -> int:
    """A ReasonCode BIT STRING (bit 0 reserved, bit 1 data-change ... bit 6 application
    trigger) as the mask py61850 and libiec61850 use: IEC bit n -> ``1 << (n - 1)``."""
    return sum(1 << (i - 1) for i, b in enumerate(bits) if b and i >= 1)


class PeerServiceError(IOError):
    """A peer client's request failed.

    :ivar code: libiec61850's ``IedClientError`` value (from the Rust client: mapped by
        :func:`rust_error_code`)
    """

    def __init__(self, op: str, code: int, detail: str = "") -> None:
        super().__init__(f"{op}: IedClientError {code}{' (' + detail + ')' if detail else ''}")
        self.code = int(code)


def _pyiec_journal(lib: ctypes.CDLL, lst: int) -> list[dict[str, Any]]:
    """A libiec61850 LinkedList of MmsJournalEntry as normalised entries (and frees it)."""
    L = _pyiec()
    out: list[dict[str, Any]] = []
    el = lib.LinkedList_getNext(lst)
    while el:
        entry = lib.LinkedList_getData(el)
        variables: list[dict[str, Any]] = []
        vel = lib.LinkedList_getNext(lib.MmsJournalEntry_getJournalVariables(entry))
        while vel:
            var = lib.LinkedList_getData(vel)
            tag_raw = lib.MmsJournalVariable_getTag(var)
            tag = tag_raw.decode("utf-8", "replace") if tag_raw is not None else ""
            mv = lib.MmsJournalVariable_getValue(var)
            if tag == "ReasonCode" and variables and mv and lib.MmsValue_getType(mv) == L.MMS_BIT_STRING:
                variables[-1]["reason"] = reason_bits_to_mask(_c_bits(lib, mv))
            else:
                variables.append({"ref": tag, "value": _c_json_value(lib, mv), "reason": None})
            vel = lib.LinkedList_getNext(vel)
        eid = lib.MmsJournalEntry_getEntryID(entry)
        occ = lib.MmsJournalEntry_getOccurenceTime(entry)
        out.append({
            "entry_id": _c_json_value(lib, eid) if eid else None,
            "time_ms": _c_json_value(lib, occ) if occ else None,
            "variables": variables,
        })
        el = lib.LinkedList_getNext(el)
    lib.LinkedList_destroyDeep(lst, ctypes.cast(lib.MmsJournalEntry_destroy, _VP))
    return out


def pyiec_query_log_by_time(con: Any, log_ref: str, start_ms: int, end_ms: int) -> tuple[list[dict[str, Any]], bool]:
    """QueryLogByTime (``IedConnection_queryLogByTime``): ``(entries, more_follows)``.

    Entries: ``{"entry_id": hex, "time_ms": int, "variables": [{"ref", "value", "reason"}]}``
    (values as :func:`pyiec_json_value`; ``reason``: the ReasonCode variable that follows the
    value, as a mask IEC bit n -> ``1 << (n - 1)``, or None).

    :raises PeerServiceError: with the IedClientError
    """
    lib = pyiec_clib()
    err = ctypes.c_int(0)
    more = ctypes.c_bool(False)
    lst = lib.IedConnection_queryLogByTime(pyiec_ptr(con), ctypes.byref(err), log_ref.encode(), int(start_ms),
                                           int(end_ms), ctypes.byref(more))
    if err.value != 0 or not lst:
        if lst:
            lib.LinkedList_destroyDeep(lst, ctypes.cast(lib.MmsJournalEntry_destroy, _VP))
        raise PeerServiceError(f"queryLogByTime({log_ref})", err.value or _pyiec().IED_ERROR_UNKNOWN)
    return _pyiec_journal(lib, lst), bool(more.value)


def pyiec_query_log_after(con: Any, log_ref: str, entry_id: bytes | str,
                          time_ms: int) -> tuple[list[dict[str, Any]], bool]:
    """QueryLogAfter (``IedConnection_queryLogAfter``): the entries after ``entry_id`` (with
    its time ``time_ms``), as :func:`pyiec_query_log_by_time`."""
    lib = pyiec_clib()
    raw = bytes.fromhex(entry_id) if isinstance(entry_id, str) else bytes(entry_id)
    mv = lib.MmsValue_newOctetString(len(raw), len(raw))
    lib.MmsValue_setOctetString(mv, (ctypes.c_uint8 * max(1, len(raw)))(*raw), len(raw))
    err = ctypes.c_int(0)
    more = ctypes.c_bool(False)
    try:
        lst = lib.IedConnection_queryLogAfter(pyiec_ptr(con), ctypes.byref(err), log_ref.encode(), mv, int(time_ms),
                                              ctypes.byref(more))
    finally:
        lib.MmsValue_delete(mv)
    if err.value != 0 or not lst:
        if lst:
            lib.LinkedList_destroyDeep(lst, ctypes.cast(lib.MmsJournalEntry_destroy, _VP))
        raise PeerServiceError(f"queryLogAfter({log_ref})", err.value or _pyiec().IED_ERROR_UNKNOWN)
    return _pyiec_journal(lib, lst), bool(more.value)



# ------------------------------------------------------------------------- LCB, SGCB, GoCB, SVCB: pyiec61850-ng
# In-process functions on a connection of pyiec_connect (they raise PeerServiceError with the
# IedClientError); PyiecServiceClient runs the same in the child process.

#: Keys of a normalised LCB dict; a key is None when the server has no such attribute.
LCB_KEYS = ("log_ena", "log_ref", "dataset", "old_entry_time_ms", "new_entry_time_ms", "old_entry", "new_entry",
            "trg_ops", "intg_pd")
#: LCB attribute names per key; libiec61850 1.6 names OldEnt/NewEnt "OldEntr"/"NewEntr".
_LCB_ATTRS = {"log_ena": ("LogEna",), "log_ref": ("LogRef",), "dataset": ("DatSet",),
              "old_entry_time_ms": ("OldEntrTm",), "new_entry_time_ms": ("NewEntrTm",),
              "old_entry": ("OldEnt", "OldEntr"), "new_entry": ("NewEnt", "NewEntr"), "trg_ops": ("TrgOps",),
              "intg_pd": ("IntgPd",)}
#: Keys of a normalised SGCB dict (``lact_tm_ms``: ms since 1970; ``resv_tms``: None if absent).
SGCB_KEYS = ("num_of_sg", "act_sg", "edit_sg", "cnf_edit", "lact_tm_ms", "resv_tms")
_SGCB_ATTRS = {"num_of_sg": "NumOfSG", "act_sg": "ActSG", "edit_sg": "EditSG", "cnf_edit": "CnfEdit",
               "lact_tm_ms": "LActTm", "resv_tms": "ResvTms"}
#: Keys of a normalised GoCB dict; ``dst_address`` is {"mac": "01-0C-CD-01-00-01", "appid",
#: "vlan_id", "vlan_priority"}.
GOCB_KEYS = ("go_ena", "go_id", "dataset", "conf_rev", "nds_com", "dst_address", "min_time", "max_time", "fixed_offs")
#: Keys of a normalised SVCB dict (``resv`` None for an MSVCB; ``opt_flds``: bit i = 1 << i,
#: 0 refresh-time, 1 sample-synchronized, 2 sample-rate, 3 data-set, 4 security).
SVCB_KEYS = ("multicast", "sv_ena", "resv", "sv_id", "dataset", "conf_rev", "smp_rate", "opt_flds", "smp_mod",
             "dst_address", "no_asdu")


def sgcb_ref(ld: str) -> str:
    """``"TESTLD0"`` or ``"TESTLD0/LLN0"`` -> ``"TESTLD0/LLN0.SGCB"``."""
    ld = ld.strip()
    if ld.endswith("/LLN0"):
        ld = ld[: -len("/LLN0")]
    return f"{ld}/LLN0.SGCB"


def mask_to_bits(mask: int, nbits: int) -> list[bool]:
    """The inverse of :func:`reason_bits_to_mask` for TrgOps/ReasonCode: mask bit k -> IEC bit k + 1."""
    return [i >= 1 and bool(mask & (1 << (i - 1))) for i in range(nbits)]


def mac_text(raw: bytes) -> str:
    return "-".join(f"{b:02X}" for b in raw)


def mac_bytes(text: str) -> bytes:
    raw = bytes(int(x, 16) for x in text.replace(":", "-").split("-"))
    if len(raw) != 6:
        raise ValueError(f"not a MAC address: {text!r}")
    return raw


def pyiec_bits(mv: Any) -> list[bool]:
    L = _pyiec()
    return [bool(L.MmsValue_getBitStringBit(mv, i)) for i in range(L.MmsValue_getBitStringSize(mv))]


def _pyiec_read_raw(con: Any, ref: str, fc: str) -> tuple[Any, int]:
    """readObject: ``(MmsValue or None, IedClientError)``; a DataAccessError value counts as
    an error (IED_ERROR_OBJECT_DOES_NOT_EXIST when libiec61850 gives no better code)."""
    L = _pyiec()
    mv, err = L.IedConnection_readObject(con, ref, pyiec_fc(fc))
    if err == L.IED_ERROR_OK and mv is not None and L.MmsValue_getType(mv) == L.MMS_DATA_ACCESS_ERROR:
        L.MmsValue_delete(mv)
        return None, int(L.IED_ERROR_OBJECT_DOES_NOT_EXIST)
    if err != L.IED_ERROR_OK and mv is not None:
        L.MmsValue_delete(mv)
        mv = None
    return mv, int(err)


def pyiec_read_value(con: Any, ref: str, fc: str) -> Any:
    """Read ``ref`` [``fc``] as JSON (:func:`pyiec_json_value`). :raises PeerServiceError:"""
    mv, err = _pyiec_read_raw(con, ref, fc)
    if mv is None:
        raise PeerServiceError(f"readObject({ref} [{fc}])", err or _pyiec().IED_ERROR_UNKNOWN)
    try:
        return pyiec_json_value(mv)
    finally:
        _pyiec().MmsValue_delete(mv)


def pyiec_write_value(con: Any, ref: str, fc: str, btype: str, value: Any) -> None:
    """Write ``value`` of SCL basic type ``btype`` to ``ref`` [``fc``] (an SE setting, a setpoint).
    :raises PeerServiceError:"""
    err = pyiec_write(con, Leaf(ref, fc, btype, None), value)
    if err != 0:
        raise PeerServiceError(f"writeObject({ref} [{fc}])", err)


def _pyiec_write_mv(con: Any, ref: str, fc: str, mv: Any) -> None:
    L = _pyiec()
    try:
        _, err = L.IedConnection_writeObject(con, ref, pyiec_fc(fc), mv)
    finally:
        L.MmsValue_delete(mv)
    if err != L.IED_ERROR_OK:
        raise PeerServiceError(f"writeObject({ref} [{fc}])", int(err))


def pyiec_read_lcb(con: Any, ref: str) -> dict[str, Any]:
    """Read an LCB (``LD/LN.name``) attribute by attribute (plain reads with FC LG): a dict with
    :data:`LCB_KEYS` (None where the server has no such attribute); ``trg_ops`` as the mask
    dchg 1, qchg 2, dupd 4, integrity 8, gi 16; entries as hex; times as ms.

    :raises PeerServiceError: not even LogEna could be read
    """
    L = _pyiec()
    out: dict[str, Any] = {}
    first_err = 0
    for key, names in _LCB_ATTRS.items():
        out[key] = None
        for name in names:
            mv, err = _pyiec_read_raw(con, f"{ref}.{name}", "LG")
            if mv is None:
                first_err = first_err or err
                continue
            try:
                out[key] = (reason_bits_to_mask(pyiec_bits(mv)) if key == "trg_ops"
                            else pyiec_json_value(mv))
            finally:
                L.MmsValue_delete(mv)
            break
    if out["log_ena"] is None:
        raise PeerServiceError(f"read LCB {ref}", first_err or L.IED_ERROR_UNKNOWN)
    return out


def pyiec_set_lcb(con: Any, ref: str, **values: Any) -> None:
    """Write LCB attributes one by one (``log_ena`` bool, ``log_ref``/``dataset`` str,
    ``trg_ops`` mask as :func:`pyiec_read_lcb`, ``intg_pd`` ms). :raises PeerServiceError:
    on the first refusal"""
    L = _pyiec()
    for key, v in values.items():
        if key == "log_ena":
            mv = L.MmsValue_newBoolean(bool(v))
        elif key in ("log_ref", "dataset"):
            mv = L.MmsValue_newVisibleString(str(v))
        elif key == "trg_ops":
            bits = mask_to_bits(int(v), 6)
            mv = L.MmsValue_newBitString(len(bits))
            for i, b in enumerate(bits):
                L.MmsValue_setBitStringBit(mv, i, b)
        elif key == "intg_pd":
            mv = L.MmsValue_newUnsignedFromUint32(int(v))
        else:
            raise ValueError(f"not a settable LCB attribute: {key}")
        _pyiec_write_mv(con, f"{ref}.{_LCB_ATTRS[key][0]}", "LG", mv)


def pyiec_read_sgcb(con: Any, ld: str) -> dict[str, Any]:
    """Read the SGCB of ``ld`` attribute by attribute (FC SP): :data:`SGCB_KEYS` (None where
    the server has no such attribute). :raises PeerServiceError: NumOfSG not readable"""
    L = _pyiec()
    ref = sgcb_ref(ld)
    out: dict[str, Any] = {}
    for key, name in _SGCB_ATTRS.items():
        mv, err = _pyiec_read_raw(con, f"{ref}.{name}", "SP")
        if mv is None:
            if key == "num_of_sg":
                raise PeerServiceError(f"read SGCB {ref}", err or L.IED_ERROR_UNKNOWN)
            out[key] = None
            continue
        try:
            out[key] = pyiec_json_value(mv)
        finally:
            L.MmsValue_delete(mv)
    return out


def _pyiec_u8(n: int) -> Any:
    L = _pyiec()
    mv = L.MmsValue_newUnsigned(8)
    L.MmsValue_setUint8(mv, int(n))
    return mv


def pyiec_select_active_sg(con: Any, ld: str, sg: int) -> None:
    """SelectActiveSG: write ActSG (INT8U). :raises PeerServiceError:"""
    _pyiec_write_mv(con, f"{sgcb_ref(ld)}.ActSG", "SP", _pyiec_u8(sg))


def pyiec_select_edit_sg(con: Any, ld: str, sg: int) -> None:
    """SelectEditSG: write EditSG (INT8U; 0 releases). :raises PeerServiceError:"""
    _pyiec_write_mv(con, f"{sgcb_ref(ld)}.EditSG", "SP", _pyiec_u8(sg))


def pyiec_confirm_edit_sg(con: Any, ld: str) -> None:
    """ConfirmEditSGValues: write CnfEdit TRUE. :raises PeerServiceError:"""
    _pyiec_write_mv(con, f"{sgcb_ref(ld)}.CnfEdit", "SP", _pyiec().MmsValue_newBoolean(True))


def _pyiec_phy_address(addr: Any) -> dict[str, Any]:
    """A SWIG ``PhyComAddress`` (its dstAddress is an ``unsigned char *`` into the struct)."""
    mac = bytes((ctypes.c_uint8 * 6).from_address(pyiec_ptr(addr.dstAddress)))
    return {"mac": mac_text(mac), "appid": int(addr.appId), "vlan_id": int(addr.vlanId),
            "vlan_priority": int(addr.vlanPriority)}


def pyiec_read_gocb(con: Any, ref: str) -> dict[str, Any]:
    """GetGoCBValues (``IedConnection_getGoCBValues`` + ``ClientGooseControlBlock``):
    :data:`GOCB_KEYS`. :raises PeerServiceError:"""
    L = _pyiec()
    gocb = L.ClientGooseControlBlock_create(ref)
    try:
        out, err = L.IedConnection_getGoCBValues(con, ref, gocb)
        if err != L.IED_ERROR_OK:
            raise PeerServiceError(f"getGoCBValues({ref})", int(err))
        addr = L.ClientGooseControlBlock_getDstAddress_addr(gocb)
        return {
            "go_ena": bool(L.ClientGooseControlBlock_getGoEna(gocb)),
            "go_id": L.ClientGooseControlBlock_getGoID(gocb),
            "dataset": L.ClientGooseControlBlock_getDatSet(gocb),
            "conf_rev": int(L.ClientGooseControlBlock_getConfRev(gocb)),
            "nds_com": bool(L.ClientGooseControlBlock_getNdsComm(gocb)),
            "dst_address": {
                "mac": mac_text(bytes.fromhex(pyiec_json_value(addr))) if addr is not None else None,
                "appid": int(L.ClientGooseControlBlock_getDstAddress_appid(gocb)),
                "vlan_id": int(L.ClientGooseControlBlock_getDstAddress_vid(gocb)),
                "vlan_priority": int(L.ClientGooseControlBlock_getDstAddress_priority(gocb)),
            },
            "min_time": int(L.ClientGooseControlBlock_getMinTime(gocb)),
            "max_time": int(L.ClientGooseControlBlock_getMaxTime(gocb)),
            "fixed_offs": bool(L.ClientGooseControlBlock_getFixedOffs(gocb)),
        }
    finally:
        L.ClientGooseControlBlock_destroy(gocb)


def pyiec_set_gocb(con: Any, ref: str, single: bool = True, **values: Any) -> None:
    """SetGoCBValues of ``go_ena``, ``go_id``, ``dataset``, ``dst_address`` (dict as read)
    through ``IedConnection_setGoCBValues`` with the matching GOCB_ELEMENT_* mask.
    :raises PeerServiceError:"""
    L = _pyiec()
    gocb = L.ClientGooseControlBlock_create(ref)
    keep: list[Any] = []
    try:
        mask = 0
        for key, v in values.items():
            if key == "go_ena":
                L.ClientGooseControlBlock_setGoEna(gocb, bool(v))
                mask |= L.GOCB_ELEMENT_GO_ENA
            elif key == "go_id":
                L.ClientGooseControlBlock_setGoID(gocb, str(v))
                mask |= L.GOCB_ELEMENT_GO_ID
            elif key == "dataset":
                L.ClientGooseControlBlock_setDatSet(gocb, str(v))
                mask |= L.GOCB_ELEMENT_DATSET
            elif key == "dst_address":
                mac = _pyiec_octets(mac_bytes(v["mac"]))
                keep.append(mac)
                L.ClientGooseControlBlock_setDstAddress_addr(gocb, mac)
                L.ClientGooseControlBlock_setDstAddress_appid(gocb, int(v["appid"]))
                L.ClientGooseControlBlock_setDstAddress_vid(gocb, int(v["vlan_id"]))
                L.ClientGooseControlBlock_setDstAddress_priority(gocb, int(v["vlan_priority"]))
                mask |= L.GOCB_ELEMENT_DST_ADDRESS
            else:
                raise ValueError(f"not a settable GoCB attribute: {key}")
        out = L.IedConnection_setGoCBValues(con, gocb, mask, bool(single))
        err = out[1] if isinstance(out, (tuple, list)) else out
        if err != L.IED_ERROR_OK:
            raise PeerServiceError(f"setGoCBValues({ref})", int(err))
    finally:
        L.ClientGooseControlBlock_destroy(gocb)
        for mv in keep:
            L.MmsValue_delete(mv)


def pyiec_read_svcb(con: Any, ref: str) -> dict[str, Any]:
    """An SVCB through ``ClientSVControlBlock`` (one read per attribute): :data:`SVCB_KEYS`.
    :raises PeerServiceError: ClientSVControlBlock_create failed (no such SVCB)"""
    L = _pyiec()
    sv = L.ClientSVControlBlock_create(con, ref)
    if sv is None:
        raise PeerServiceError(f"ClientSVControlBlock_create({ref})", L.IED_ERROR_OBJECT_DOES_NOT_EXIST)
    try:
        multicast = bool(L.ClientSVControlBlock_isMulticast(sv))
        out: dict[str, Any] = {"multicast": multicast}
        getters = {"sv_ena": ("SvEna", bool), "resv": ("Resv", bool), "sv_id": ("MsvID", str),
                   "dataset": ("DatSet", str), "conf_rev": ("ConfRev", int), "smp_rate": ("SmpRate", int),
                   "opt_flds": ("OptFlds", int), "smp_mod": ("SmpMod", int), "no_asdu": ("NoASDU", int)}
        for key, (name, conv) in getters.items():
            if key == "resv" and multicast:
                out[key] = None
                continue
            v = getattr(L, f"ClientSVControlBlock_get{name}")(sv)
            err = int(L.ClientSVControlBlock_getLastComError(sv))
            out[key] = conv(v) if err == 0 and v is not None else None
        addr = L.ClientSVControlBlock_getDstAddress(sv)
        out["dst_address"] = (_pyiec_phy_address(addr)
                              if int(L.ClientSVControlBlock_getLastComError(sv)) == 0 else None)
        if all(out[k] is None for k in ("sv_ena", "sv_id", "dataset")):
            raise PeerServiceError(f"read SVCB {ref}", int(L.ClientSVControlBlock_getLastComError(sv)) or 1)
        return out
    finally:
        L.ClientSVControlBlock_destroy(sv)


def pyiec_set_svcb(con: Any, ref: str, **values: Any) -> None:
    """``sv_ena`` / ``resv`` (USVCB) through ``ClientSVControlBlock_setSvEna``/``setResv``
    (libiec61850's client has no other SVCB writes). :raises PeerServiceError:"""
    L = _pyiec()
    sv = L.ClientSVControlBlock_create(con, ref)
    if sv is None:
        raise PeerServiceError(f"ClientSVControlBlock_create({ref})", L.IED_ERROR_OBJECT_DOES_NOT_EXIST)
    try:
        for key, v in values.items():
            if key == "sv_ena":
                ok = L.ClientSVControlBlock_setSvEna(sv, bool(v))
            elif key == "resv":
                ok = L.ClientSVControlBlock_setResv(sv, bool(v))
            else:
                raise ValueError(f"not a settable SVCB attribute: {key}")
            if not ok:
                raise PeerServiceError(f"set SVCB {ref} {key}", int(L.ClientSVControlBlock_getLastComError(sv)) or 1)
    finally:
        L.ClientSVControlBlock_destroy(sv)


#: The in-process functions :class:`PyiecServiceClient` calls in the child (name -> function).
_PYIEC_SERVICES = {
    "read_value": pyiec_read_value, "write_value": pyiec_write_value,
    "read_lcb": pyiec_read_lcb, "set_lcb": pyiec_set_lcb,
    "query_log_by_time": pyiec_query_log_by_time, "query_log_after": pyiec_query_log_after,
    "read_sgcb": pyiec_read_sgcb, "select_active_sg": pyiec_select_active_sg,
    "select_edit_sg": pyiec_select_edit_sg, "confirm_edit_sg": pyiec_confirm_edit_sg,
    "read_gocb": pyiec_read_gocb, "set_gocb": pyiec_set_gocb,
    "read_svcb": pyiec_read_svcb, "set_svcb": pyiec_set_svcb,
}



class _PyiecChild:
    """The command loop of ``python -m peers.clients pyiec-report-child HOST PORT``."""

    def __init__(self, host: str, port: int, local_address: Optional[str] = None,
                 max_pdu_size: Optional[int] = None) -> None:
        self.L = _pyiec()
        self.con = pyiec_connect(host, port, local_address=local_address, max_pdu_size=max_pdu_size)
        self.L.IedConnection_setRequestTimeout(self.con, PYIEC_CHILD_REQUEST_TIMEOUT_MS)
        self.cond = threading.Condition()
        self.reports: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.subscribers: dict[str, tuple[Any, Any]] = {}  # kept alive until os._exit
        # control objects by reference, with their CommandTermination subscriber and handler
        self.controls: dict[str, tuple[Any, Any, Any]] = {}
        self.terminations: list[dict[str, Any]] = []

    def _retry(self, fn: Any, *args: Any) -> Any:
        """Call a blocking libiec61850 function, retrying a timeout (see PYIEC_CHILD_REQUEST_TIMEOUT_MS)."""
        L = self.L
        for _ in range(5):
            out = fn(*args)
            err = out[1] if isinstance(out, (tuple, list)) else out
            if err != L.IED_ERROR_TIMEOUT:
                return out
            time.sleep(0.05)  # lets a held-up report callback run
        return out

    def _rcb(self, ref: str) -> tuple[Any, int]:
        L = self.L
        rcb = L.ClientReportControlBlock_create(ref)
        out, err = self._retry(L.IedConnection_getRCBValues, self.con, ref, rcb)
        return (out if out is not None else rcb), int(err)

    def cmd_read(self, ref: str) -> dict[str, Any]:
        rcb, err = self._rcb(ref)
        return {"err": err, "rcb": _pyiec_rcb_dict(rcb) if err == 0 else None}

    def cmd_set(self, ref: str, values: dict[str, Any], single: bool = True) -> dict[str, Any]:
        L = self.L
        rcb, err = self._rcb(ref)
        if err != 0:
            return {"err": err, "stage": "read"}
        mask = 0
        for key, v in values.items():
            mask |= getattr(L, f"RCB_ELEMENT_{_PYIEC_ELEMENT[key]}")
            if key == "entry_id":
                raw = bytes.fromhex(v)
                mv = L.MmsValue_newOctetString(len(raw), len(raw))
                for i, b in enumerate(raw):
                    L.MmsValue_setOctetStringOctet(mv, i, b)
                L.ClientReportControlBlock_setEntryId(rcb, mv)
                L.MmsValue_delete(mv)
            else:
                getattr(L, f"ClientReportControlBlock_set{_PYIEC_SETTER[key]}")(rcb, v)
        out = self._retry(L.IedConnection_setRCBValues, self.con, rcb, mask, bool(single))
        err = out[1] if isinstance(out, (tuple, list)) else out
        return {"err": int(err)}

    def cmd_subscribe(self, ref: str, rpt_id: Optional[str] = None) -> dict[str, Any]:
        L = self.L
        child = self

        class Handler(L.RCBHandler):  # type: ignore[misc, name-defined]
            def trigger(self) -> None:
                try:
                    rep = _pyiec_report_dict(self._client_report)
                except Exception as exc:  # never let an exception into the SWIG director
                    with child.cond:
                        child.errors.append(repr(exc))
                    return
                with child.cond:
                    child.reports.append(rep)
                    child.cond.notify_all()

        handler = Handler()
        sub = L.RCBSubscriber()
        sub.setIedConnection(self.con)
        sub.setRcbReference(ref)
        if rpt_id:
            sub.setRcbRptId(rpt_id)
        sub.setEventHandler(handler)
        sub.subscribe()
        self.subscribers[ref] = (sub, handler)
        return {"err": 0}

    def cmd_unsubscribe(self, ref: str) -> dict[str, Any]:
        self.L.IedConnection_uninstallReportHandler(self.con, ref)  # local: never blocks
        return {"err": 0}

    def cmd_gi(self, ref: str) -> dict[str, Any]:
        out = self._retry(self.L.IedConnection_triggerGIReport, self.con, ref)
        err = out[1] if isinstance(out, (tuple, list)) else out
        return {"err": int(err)}

    def cmd_reports(self, count: int = 1, wait: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + wait
        with self.cond:
            while len(self.reports) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)  # releases the GIL: callbacks run meanwhile
            out, self.reports = self.reports, []
            errors, self.errors = self.errors, []
        return {"err": 0, "reports": out, "errors": errors}

    def cmd_state(self) -> dict[str, Any]:
        return {"err": 0, "state": int(self.L.IedConnection_getState(self.con))}

    # ---- control (ControlObjectClient_*); never retried: a repeated operate is another command

    def _co(self, ref: str) -> Any:
        co = self.controls.get(ref)
        if co is None:
            raise KeyError(f"no control object {ref}: send ctl_create first")
        return co[0]

    def _ctl_result(self, co: Any, ok: Any) -> dict[str, Any]:
        L = self.L
        lae = L.ControlObjectClient_getLastApplError(co)
        return {"err": 0, "ok": bool(ok), "last_error": int(L.ControlObjectClient_getLastError(co)),
                "appl_error": {"error": int(lae.error), "add_cause": int(lae.addCause), "ctl_num": int(lae.ctlNum)}}

    def cmd_ctl_create(self, ref: str) -> dict[str, Any]:
        """ControlObjectClient_create (reads ctlModel and the Oper type) and a
        CommandTermination handler recording what getLastApplError says when one arrives."""
        L = self.L
        child = self
        try:
            co = L.ControlObjectClient_create(ref, self.con)
        except RuntimeError as exc:  # NULL: e.g. status-only, or the reads failed
            return {"err": 0, "created": False, "error": repr(exc)}
        if co is None:
            return {"err": 0, "created": False, "error": "NULL"}

        class Handler(L.CommandTermHandler):  # type: ignore[misc, name-defined]
            def trigger(self) -> None:
                try:
                    lae = L.ControlObjectClient_getLastApplError(self._libiec61850_control_object_client)
                    rec = {"ref": ref, "error": int(lae.error), "add_cause": int(lae.addCause),
                           "ctl_num": int(lae.ctlNum), "at": time.time()}
                except Exception as exc:  # never let an exception into the SWIG director
                    rec = {"ref": ref, "exception": repr(exc), "at": time.time()}
                with child.cond:
                    child.terminations.append(rec)
                    child.cond.notify_all()

        handler = Handler()
        sub = L.CommandTermSubscriber()
        sub.setLibiec61850ControlObjectClient(co)
        sub.setEventHandler(handler)
        sub.subscribe()
        self.controls[ref] = (co, sub, handler)
        return {"err": 0, "created": True, "model": int(L.ControlObjectClient_getControlModel(co)),
                "ctl_val_type": int(L.ControlObjectClient_getCtlValType(co))}

    def cmd_ctl_params(self, ref: str, or_cat: Optional[int] = None, or_ident: Optional[str] = None,
                       ctl_num: Optional[int] = None, test: Optional[bool] = None,
                       interlock_check: Optional[bool] = None, synchro_check: Optional[bool] = None,
                       constant_t: Optional[bool] = None) -> dict[str, Any]:
        L = self.L
        co = self._co(ref)
        if or_cat is not None or or_ident is not None:
            L.ControlObjectClient_setOrigin(co, or_ident or "", int(or_cat or 0))
        if ctl_num is not None:
            L.ControlObjectClient_setCtlNum(co, int(ctl_num))
        if test is not None:
            L.ControlObjectClient_setTestMode(co, bool(test))
        if interlock_check is not None:
            L.ControlObjectClient_setInterlockCheck(co, bool(interlock_check))
        if synchro_check is not None:
            L.ControlObjectClient_setSynchroCheck(co, bool(synchro_check))
        if constant_t is not None:
            L.ControlObjectClient_useConstantT(co, bool(constant_t))
        return {"err": 0}

    def cmd_ctl_select(self, ref: str) -> dict[str, Any]:
        co = self._co(ref)
        return self._ctl_result(co, self.L.ControlObjectClient_select(co))

    def cmd_ctl_select_with_value(self, ref: str, value: Any) -> dict[str, Any]:
        L = self.L
        co = self._co(ref)
        mv = pyiec_ctl_value(value)
        try:
            ok = L.ControlObjectClient_selectWithValue(co, mv)
        finally:
            L.MmsValue_delete(mv)
        return self._ctl_result(co, ok)

    def cmd_ctl_operate(self, ref: str, value: Any, oper_time_ms: int = 0) -> dict[str, Any]:
        L = self.L
        co = self._co(ref)
        mv = pyiec_ctl_value(value)
        try:
            ok = L.ControlObjectClient_operate(co, mv, int(oper_time_ms))
        finally:
            L.MmsValue_delete(mv)
        return self._ctl_result(co, ok)

    def cmd_ctl_cancel(self, ref: str) -> dict[str, Any]:
        co = self._co(ref)
        return self._ctl_result(co, self.L.ControlObjectClient_cancel(co))

    def cmd_ctl_terminations(self, count: int = 1, wait: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + wait
        with self.cond:
            while len(self.terminations) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)  # releases the GIL: the handler runs meanwhile
            out, self.terminations = self.terminations, []
        return {"err": 0, "terminations": out}

    def cmd_write_oper(self, ref: str, value: Any) -> dict[str, Any]:
        """A raw Write of ``<ref>.Oper`` [CO] (ctlVal, origin {3, "raw"}, ctlNum 1, T now,
        Test false, Check 00): what a client does without a ControlObjectClient."""
        L = self.L
        oper = L.MmsValue_createEmptyStructure(6)
        parts = [pyiec_ctl_value(value), L.MmsValue_createEmptyStructure(2), L.MmsValue_newUnsigned(8),
                 L.MmsValue_newUtcTimeByMsTime(int(time.time() * 1000)), L.MmsValue_newBoolean(False),
                 L.MmsValue_newBitString(2)]
        L.MmsValue_setElement(parts[1], 0, L.MmsValue_newIntegerFromInt8(3))
        L.MmsValue_setElement(parts[1], 1, _pyiec_octets(b"raw"))
        L.MmsValue_setUint8(parts[2], 1)
        for i, part in enumerate(parts):
            L.MmsValue_setElement(oper, i, part)
        try:
            _, err = L.IedConnection_writeObject(self.con, f"{ref}.Oper", L.IEC61850_FC_CO, oper)
        finally:
            L.MmsValue_delete(oper)
        return {"err": 0, "write_error": int(err)}

    # ---- files (see pyiec_file_* / PyiecFileClient)

    def _file(self, fn: Any, *args: Any) -> dict[str, Any]:
        try:
            return {"err": 0, "result": fn(self.con, *args)}
        except PyiecFileError as exc:
            return {"err": 0, "fail": [exc.kind, exc.code, str(exc)]}

    def cmd_file_dir(self, directory: str = "/") -> dict[str, Any]:
        return self._file(pyiec_file_directory, directory)

    def cmd_file_download(self, remote: str, local: str) -> dict[str, Any]:
        return self._file(pyiec_download_file, remote, local)

    def cmd_file_upload(self, basepath: str, local: str, remote: str, timeout_ms: int = 60000) -> dict[str, Any]:
        self.L.IedConnection_setRequestTimeout(self.con, int(timeout_ms))
        try:
            return self._file(pyiec_upload_file, basepath, local, remote)
        finally:
            self.L.IedConnection_setRequestTimeout(self.con, PYIEC_CHILD_REQUEST_TIMEOUT_MS)

    def cmd_file_delete(self, name: str) -> dict[str, Any]:
        return self._file(pyiec_delete_file, name)

    def cmd_file_rename(self, old: str, new: str) -> dict[str, Any]:
        return self._file(pyiec_rename_file, old, new)

    def cmd_file_open(self, name: str) -> dict[str, Any]:
        return self._file(pyiec_file_open, name)

    def cmd_file_close(self, frsm: int) -> dict[str, Any]:
        return self._file(pyiec_file_close, frsm)

    # ---- LCB, logs, SGCB, GoCB, SVCB (see PyiecServiceClient)

    def cmd_svc(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            result = _PYIEC_SERVICES[name](self.con, **args)
        except PeerServiceError as exc:
            return {"err": 0, "fail": [exc.code, str(exc)]}
        return {"err": 0, "result": result}

    def cmd_close(self) -> dict[str, Any]:
        for ref in list(self.subscribers):
            self.L.IedConnection_uninstallReportHandler(self.con, ref)
        self.L.IedConnection_close(self.con)
        return {"err": 0}


def _pyiec_child_main(host: str, port: int, options: dict[str, Any]) -> None:
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the binding prints to stdout; keep the channel clean
    try:
        child = _PyiecChild(host, port, **options)
    except Exception as exc:
        out.write(json.dumps({"err": -1, "error": f"connect: {exc!r}"}) + "\n")
        out.flush()
        os._exit(1)
    out.write(json.dumps({"err": 0, "ready": True}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        name = ""
        try:
            cmd = json.loads(line)
            name = cmd.pop("cmd")
            reply = getattr(child, f"cmd_{name}")(**cmd)
        except Exception as exc:
            reply = {"err": -1, "error": repr(exc)}
        out.write(json.dumps(reply) + "\n")
        out.flush()
        if name == "close":
            break
    out.flush()
    os._exit(0)  # no interpreter finalisation: destroying subscribers segfaults


TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class PeerClientError(RuntimeError):
    """The peer client process failed (died, timed out or answered garbage)."""


class PyiecReportClient:
    """A pyiec61850-ng client in a child process, subscribing to report control blocks.

    Every method sends one command and waits for its answer (``timeout`` seconds, then
    :class:`PeerClientError` with the child's stderr). Error codes are libiec61850's
    ``IedClientError`` values (0 = OK)::

        with PyiecReportClient("127.0.0.1", port) as c:
            c.subscribe("LD/LLN0.RP.urcb01", "Events")
            assert c.set_rcb("LD/LLN0.RP.urcb01", resv=True, rpt_ena=True, gi=True) == 0
            reports = c.reports(count=1, timeout=5)
    """

    def __init__(self, host: str, port: int, timeout: float = 30.0, local_address: Optional[str] = None,
                 max_pdu_size: Optional[int] = None) -> None:
        """:param local_address: the address the child's client binds to (see :func:`pyiec_connect`)
        :param max_pdu_size: the MMS PDU size the child's client proposes"""
        self.timeout = timeout
        options = {"local_address": local_address, "max_pdu_size": max_pdu_size}
        self._stderr = tempfile.TemporaryFile()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([TESTS_DIR, *filter(None, [env.get("PYTHONPATH")])])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "peers.clients", "pyiec-report-child", host, str(port), json.dumps(options)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env,
            cwd=TESTS_DIR,
        )
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True, name="pyiec-child-reader")
        self._reader.start()
        first = self._answer(self.timeout)
        if not first.get("ready"):
            self._kill()
            raise PeerClientError(f"pyiec61850-ng child did not connect: {first} {self.stderr_text()}")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def _answer(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise PeerClientError(f"pyiec61850-ng child: no answer in {timeout} s\n{self.stderr_text()}") from None
        if line is None:
            raise PeerClientError(f"pyiec61850-ng child died (exit {self.proc.poll()})\n{self.stderr_text()}")
        try:
            out = json.loads(line)
        except ValueError:
            raise PeerClientError(f"pyiec61850-ng child answered {line!r}") from None
        if out.get("err") == -1:
            raise PeerClientError(f"pyiec61850-ng child: {out.get('error')}\n{self.stderr_text()}")
        return out

    def call(self, cmd: str, timeout: Optional[float] = None, **args: Any) -> dict[str, Any]:
        """Send one command (see ``_PyiecChild.cmd_*``) and return its answer."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise PeerClientError(f"pyiec61850-ng child is gone: {exc}\n{self.stderr_text()}") from None
        return self._answer(self.timeout if timeout is None else timeout)

    def read_rcb(self, ref: str) -> dict[str, Any]:
        """GetRCBValues: the RCB as a dict (:data:`RCB_KEYS`).

        :raises PeerClientError: the read failed (with its IedClientError)
        """
        out = self.call("read", ref=ref)
        if out["err"] != 0:
            raise PeerClientError(f"getRCBValues({ref}): IedClientError {out['err']}")
        return out["rcb"]

    def set_rcb(self, ref: str, single: bool = True, **values: Any) -> int:
        """SetRCBValues of ``values`` (keys of :data:`RCB_KEYS` that are writable; entry_id as
        hex); returns the IedClientError (0 = OK)."""
        unknown = set(values) - set(_SETTABLE)
        if unknown:
            raise ValueError(f"not settable: {sorted(unknown)}")
        return int(self.call("set", ref=ref, values=values, single=single)["err"])

    def subscribe(self, ref: str, rpt_id: Optional[str] = None) -> None:
        """Install a report handler (RCBHandler + RCBSubscriber) for ``ref`` (once per ref)."""
        self.call("subscribe", ref=ref, rpt_id=rpt_id)

    def unsubscribe(self, ref: str) -> None:
        """Uninstall the report handler (do this before disabling: see the module docstring)."""
        self.call("unsubscribe", ref=ref)

    def trigger_gi(self, ref: str) -> int:
        """Write GI = TRUE; returns the IedClientError."""
        return int(self.call("gi", ref=ref)["err"])

    def reports(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The reports received since the last call: waits until at least ``count`` arrived
        or ``timeout`` seconds passed (then returns what there is).

        :raises PeerClientError: the child's report handler failed to convert a report
        """
        out = self.call("reports", timeout=timeout + self.timeout, count=count, wait=timeout)
        if out.get("errors"):
            raise PeerClientError(f"pyiec61850-ng report handler failed: {out['errors']}")
        return list(out["reports"])

    def state(self) -> int:
        """IedConnectionState of the child's connection (2 = connected)."""
        return int(self.call("state")["state"])

    def close(self) -> None:
        """Uninstall the handlers, close the connection and end the child (idempotent)."""
        if self.proc.poll() is None:
            try:
                self.call("close", timeout=10)
            except PeerClientError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._kill()
        if not self._stderr.closed:
            self._stderr.close()

    def _kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> "PyiecReportClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PyiecControlClient(PyiecReportClient):
    """:class:`PyiecReportClient` driving libiec61850's ``ControlObjectClient`` (in the same
    child process). Every command answers a dict::

        {"ok": bool,                 # what ControlObjectClient_* returned
         "last_error": int,          # ControlObjectClient_getLastError (IedClientError)
         "appl_error": {"error": int, "add_cause": int, "ctl_num": int}}
                                     # ControlObjectClient_getLastApplError (as it is after
                                     # the call: a LastApplError only updates it)

    Control values are JSON (:func:`pyiec_ctl_value`). CommandTerminations are collected by a
    handler installed at :meth:`create`; :meth:`terminations` returns them with the
    LastApplError libiec61850 shows in the handler (its own examples call ``error != 0`` a
    CommandTermination-). Wait for an expected CommandTermination before the next command:
    the handler needs the GIL, which a blocking call of the binding holds.
    """

    def create(self, ref: str) -> dict[str, Any]:
        """ControlObjectClient_create: ``{"created": True, "model": ctlModel, "ctl_val_type": MmsType}``
        or ``{"created": False, "error": ...}`` (libiec61850 refuses status-only objects)."""
        return self.call("ctl_create", ref=ref)

    def set_params(self, ref: str, **params: Any) -> None:
        """Origin (``or_cat``, ``or_ident``), ``ctl_num``, ``test``, ``interlock_check``,
        ``synchro_check``, ``constant_t``."""
        self.call("ctl_params", ref=ref, **params)

    def select(self, ref: str) -> dict[str, Any]:
        return self.call("ctl_select", ref=ref)

    def select_with_value(self, ref: str, value: Any) -> dict[str, Any]:
        return self.call("ctl_select_with_value", ref=ref, value=value)

    def operate(self, ref: str, value: Any, oper_time_ms: int = 0) -> dict[str, Any]:
        return self.call("ctl_operate", ref=ref, value=value, oper_time_ms=oper_time_ms)

    def cancel(self, ref: str) -> dict[str, Any]:
        return self.call("ctl_cancel", ref=ref)

    def terminations(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """CommandTerminations received since the last call (waits until ``count`` or
        ``timeout``): ``{"ref", "error", "add_cause", "ctl_num", "at"}`` (``at`` = time.time())."""
        out = self.call("ctl_terminations", timeout=timeout + self.timeout, count=count, wait=timeout)
        return list(out["terminations"])

    def write_oper(self, ref: str, value: Any) -> int:
        """A plain Write of ``<ref>.Oper``; returns the IedClientError."""
        return int(self.call("write_oper", ref=ref, value=value)["write_error"])


# ------------------------------------------------------------------------- files: pyiec61850-ng

#: libiec61850's MmsError of a file error: 90 + the MMS file error code (ServiceError class file)
PYIEC_MMS_FILE_ERROR_BASE = 90
#: MmsError of a Reject with unrecognized-service (a server without the service)
PYIEC_MMS_REJECT_UNRECOGNIZED_SERVICE = 103


class PyiecFileError(IOError):
    """A pyiec61850-ng file service failed.

    :ivar kind: ``"ied"`` (``code`` is an IedClientError) or ``"mms"`` (an MmsError)
    :ivar code: libiec61850's error code
    """

    def __init__(self, op: str, name: str, kind: str, code: int) -> None:
        super().__init__(f"pyiec61850-ng {op}({name!r}): {'IedClientError' if kind == 'ied' else 'MmsError'} {code}")
        self.kind = kind
        self.code = int(code)

    @property
    def file_error(self) -> Optional[int]:
        """The MMS file error code (0..9) of an MmsError in the file class, else None."""
        if self.kind == "mms" and PYIEC_MMS_FILE_ERROR_BASE <= self.code <= PYIEC_MMS_FILE_ERROR_BASE + 9:
            return self.code - PYIEC_MMS_FILE_ERROR_BASE
        return None


def _mms_error(err: Any) -> int:
    return int(_pyiec().MmsError_getValue(err))


def pyiec_file_directory(con: Any, directory: str = "/") -> list[dict[str, Any]]:
    """FileDirectory (all pages): ``[{"name", "size", "mtime_ms"}]`` in server order.

    :raises PyiecFileError: with the IedClientError
    """
    L = _pyiec()
    lst, err = L.IedConnection_getFileDirectory(con, directory or "/")
    if err != L.IED_ERROR_OK or lst is None:
        raise PyiecFileError("getFileDirectory", directory, "ied", err if err else L.IED_ERROR_UNKNOWN)
    out = []
    el = L.LinkedList_getNext(lst)
    while el:
        e = L.toFileDirectoryEntry(L.LinkedList_getData(el))
        out.append({"name": L.FileDirectoryEntry_getFileName(e), "size": int(L.FileDirectoryEntry_getFileSize(e)),
                    "mtime_ms": int(L.FileDirectoryEntry_getLastModified(e))})
        L.FileDirectoryEntry_destroy(e)
        el = L.LinkedList_getNext(el)
    L.LinkedList_destroyStatic(lst)  # the entries were destroyed above
    return out


def pyiec_download_file(con: Any, remote: str, local: str) -> None:
    """FileOpen/FileRead/FileClose of ``remote`` streamed into the local path ``local``
    (``MmsConnection_downloadFile``).

    :raises PyiecFileError: with the MmsError
    """
    L = _pyiec()
    err = L.MmsError_create()
    ok = L.MmsConnection_downloadFile(L.IedConnection_getMmsConnection(con), err, remote, local)
    code = _mms_error(err)
    if not ok or code != 0:
        raise PyiecFileError("downloadFile", remote, "mms", code or 1)


def pyiec_upload_file(con: Any, basepath: str, local: str, remote: str) -> None:
    """ObtainFile: the server fetches ``local`` (a name below ``basepath``) from this client
    and stores it as ``remote`` (``IedConnection_setFile``).

    :raises PyiecFileError: with the IedClientError
    """
    L = _pyiec()
    base = basepath if basepath.endswith("/") else basepath + "/"  # prefixed verbatim by libiec61850
    L.IedConnection_setFilestoreBasepath(con, base)
    out = L.IedConnection_setFile(con, local, remote)
    err = out[1] if isinstance(out, (tuple, list)) else out
    if err != L.IED_ERROR_OK:
        raise PyiecFileError("setFile", f"{local} -> {remote}", "ied", err)


def pyiec_delete_file(con: Any, name: str) -> None:
    """FileDelete. :raises PyiecFileError: with the IedClientError"""
    L = _pyiec()
    out = L.IedConnection_deleteFile(con, name)
    err = out[1] if isinstance(out, (tuple, list)) else out
    if err != L.IED_ERROR_OK:
        raise PyiecFileError("deleteFile", name, "ied", err)


def pyiec_rename_file(con: Any, old: str, new: str) -> None:
    """FileRename. :raises PyiecFileError: with the MmsError"""
    L = _pyiec()
    err = L.MmsError_create()
    L.MmsConnection_fileRename(L.IedConnection_getMmsConnection(con), err, old, new)
    code = _mms_error(err)
    if code != 0:
        raise PyiecFileError("fileRename", f"{old} -> {new}", "mms", code)


def pyiec_file_open(con: Any, name: str) -> int:
    """FileOpen at position 0: the server's FRSM id (leave it open, close with
    :func:`pyiec_file_close`). :raises PyiecFileError: with the MmsError"""
    L = _pyiec()
    err = L.MmsError_create()
    frsm = L.MmsConnection_fileOpen(L.IedConnection_getMmsConnection(con), err, name, 0, None, None)
    code = _mms_error(err)
    if code != 0:
        raise PyiecFileError("fileOpen", name, "mms", code)
    return int(frsm)


def pyiec_file_close(con: Any, frsm: int) -> None:
    """FileClose. :raises PyiecFileError: with the MmsError"""
    L = _pyiec()
    err = L.MmsError_create()
    L.MmsConnection_fileClose(L.IedConnection_getMmsConnection(con), err, int(frsm))
    code = _mms_error(err)
    if code != 0:
        raise PyiecFileError("fileClose", str(frsm), "mms", code)


class PyiecFileClient(PyiecReportClient):
    """The ``pyiec_file_*`` functions run by a pyiec61850-ng client in a child process (for
    a server with Python handlers in this process, see the module docstring). Same
    arguments, results and :class:`PyiecFileError` as the functions::

        with PyiecFileClient("127.0.0.1", port) as c:
            names = [e["name"] for e in c.directory()]
            c.download("sub/nested.txt", str(tmp_path / "nested.txt"))
    """

    def _file(self, cmd: str, timeout: Optional[float] = None, **args: Any) -> Any:
        out = self.call(cmd, timeout=timeout, **args)
        if "fail" in out:
            kind, code, text = out["fail"]
            exc = PyiecFileError("x", "", kind, code)
            exc.args = (text,)
            raise exc
        return out.get("result")

    def directory(self, directory: str = "/") -> list[dict[str, Any]]:
        return list(self._file("file_dir", directory=directory))

    def download(self, remote: str, local: str, timeout: Optional[float] = None) -> None:
        self._file("file_download", timeout=timeout, remote=remote, local=local)

    def upload(self, basepath: str, local: str, remote: str, timeout: float = 60.0) -> None:
        self._file("file_upload", timeout=timeout + self.timeout, basepath=basepath, local=local, remote=remote,
                   timeout_ms=int(timeout * 1000))

    def delete(self, name: str) -> None:
        self._file("file_delete", name=name)

    def rename(self, old: str, new: str) -> None:
        self._file("file_rename", old=old, new=new)

    def open(self, name: str) -> int:
        return int(self._file("file_open", name=name))

    def close_file(self, frsm: int) -> None:
        self._file("file_close", frsm=frsm)


class PyiecServiceClient(PyiecReportClient):
    """The pyiec61850-ng functions for LCBs, logs, setting groups, GoCBs and SVCBs
    (``pyiec_read_lcb`` ...) run in the child process, for a server with Python handlers in
    this process (py61850's ``on_setting_group``: a blocking call of the binding keeps the
    GIL). Same arguments and results as the functions (entry ids may be bytes or hex);
    failures raise :class:`PeerServiceError` with libiec61850's IedClientError::

        with PyiecServiceClient("127.0.0.1", port) as c:
            c.select_active_sg("TESTLD0", 2)
            assert c.read_value("TESTLD0/PTOC1.OpDlTmms.setVal", "SG") == 200
    """

    def _svc(self, name: str, timeout: Optional[float] = None, **args: Any) -> Any:
        out = self.call("svc", timeout=timeout, name=name, args=args)
        if "fail" in out:
            code, text = out["fail"]
            exc = PeerServiceError(name, code)
            exc.args = (text,)
            raise exc
        return out.get("result")

    def read_value(self, ref: str, fc: str) -> Any:
        return self._svc("read_value", ref=ref, fc=fc)

    def write_value(self, ref: str, fc: str, btype: str, value: Any) -> None:
        self._svc("write_value", ref=ref, fc=fc, btype=btype, value=value)

    def read_lcb(self, ref: str) -> dict[str, Any]:
        return dict(self._svc("read_lcb", ref=ref))

    def set_lcb(self, ref: str, **values: Any) -> None:
        self._svc("set_lcb", ref=ref, **values)

    def query_log_by_time(self, log_ref: str, start_ms: int, end_ms: int) -> tuple[list[dict[str, Any]], bool]:
        entries, more = self._svc("query_log_by_time", log_ref=log_ref, start_ms=start_ms, end_ms=end_ms)
        return list(entries), bool(more)

    def query_log_after(self, log_ref: str, entry_id: bytes | str, time_ms: int) -> tuple[list[dict[str, Any]], bool]:
        eid = entry_id if isinstance(entry_id, str) else bytes(entry_id).hex()
        entries, more = self._svc("query_log_after", log_ref=log_ref, entry_id=eid, time_ms=time_ms)
        return list(entries), bool(more)

    def read_sgcb(self, ld: str) -> dict[str, Any]:
        return dict(self._svc("read_sgcb", ld=ld))

    def select_active_sg(self, ld: str, sg: int) -> None:
        self._svc("select_active_sg", ld=ld, sg=sg)

    def select_edit_sg(self, ld: str, sg: int) -> None:
        self._svc("select_edit_sg", ld=ld, sg=sg)

    def confirm_edit_sg(self, ld: str) -> None:
        self._svc("confirm_edit_sg", ld=ld)

    def read_gocb(self, ref: str) -> dict[str, Any]:
        return dict(self._svc("read_gocb", ref=ref))

    def set_gocb(self, ref: str, single: bool = True, **values: Any) -> None:
        self._svc("set_gocb", ref=ref, single=single, **values)

    def read_svcb(self, ref: str) -> dict[str, Any]:
        return dict(self._svc("read_svcb", ref=ref))

    def set_svcb(self, ref: str, **values: Any) -> None:
        self._svc("set_svcb", ref=ref, **values)


# ------------------------------------------------------------------------- LCB, logs, SGCB: Rust client


def rust_reason_to_mask(octet: int) -> int:
    """The Rust stack's ``reason_code`` (the first octet of the ReasonCode BIT STRING, IEC bit
    n = ``0x80 >> n``: data-change 0x40) as the mask IEC bit n -> ``1 << (n - 1)``."""
    return sum(1 << (n - 1) for n in range(1, 8) if int(octet) & (0x80 >> n))


def mask_to_rust_reason(mask: int) -> int:
    """The inverse of :func:`rust_reason_to_mask` (what ``IedServer.log_value(reason_code=)`` takes)."""
    return sum(0x80 >> n for n in range(1, 8) if int(mask) & (1 << (n - 1)))


def rust_journal_entry(e: Any) -> dict[str, Any]:
    """An ``iec61850.JournalEntry`` as the normalised entry of :func:`pyiec_query_log_by_time`."""
    return {
        "entry_id": bytes(e.entry_id).hex(),
        "time_ms": int(e.time_ms),
        "variables": [{"ref": v.data_ref, "value": _rust_json_value(v.value),
                       "reason": rust_reason_to_mask(v.reason_code)} for v in e.variables],
    }


def mms_time_ms(raw: bytes) -> Optional[int]:
    """A time attribute the Rust client reads as bytes, in ms since 1970: UtcTime (8 octets:
    seconds, 24-bit fraction, quality) or BINARY_TIME (6 octets: ms of day, days since
    1984-01-01); None for anything else."""
    raw = bytes(raw)
    if len(raw) == 8:
        secs = int.from_bytes(raw[:4], "big")
        frac = int.from_bytes(raw[4:7], "big")
        return secs * 1000 + (frac * 1000 >> 24)
    if len(raw) == 6:
        ms_of_day = int.from_bytes(raw[:4], "big")
        days = int.from_bytes(raw[4:6], "big")
        return (5113 + days) * 86400000 + ms_of_day  # 1984-01-01 is day 5113 after 1970-01-01
    return None


class RustServiceSession:
    """The Rust-based ``iec61850`` client (0.14) for logs and setting groups, synchronous (a
    private event loop), with the method names and results of :class:`PyiecServiceClient`:
    ``query_log_by_time`` / ``query_log_after`` (``query_journal_by_time`` /
    ``query_journal_after_entry``), ``read_lcb`` (plain reads with FC LG),
    ``read_sgcb`` (plain reads with FC SP), ``select_active_sg`` / ``select_edit_sg``
    (``write_uint32`` of ActSG/EditSG: its generic ``write`` of an int encodes INT32, which
    libiec61850 refuses for INT8U), ``confirm_edit_sg`` (``write_bool`` CnfEdit),
    ``read_value`` / ``write_value``. It has no GoCB/SVCB client (``NotImplementedError``).
    Failures raise :class:`PeerServiceError` (code from :func:`rust_error_code`).
    """

    def __init__(self, host: str, port: int, request_timeout_ms: Optional[int] = None) -> None:
        import asyncio

        import iec61850

        self._loop = asyncio.new_event_loop()
        self.conn = self._loop.run_until_complete(
            iec61850.IedConnection.connect(f"{host}:{port}", request_timeout_ms=request_timeout_ms))

    def _run(self, op: str, coro: Any) -> Any:
        import iec61850

        try:
            return self._loop.run_until_complete(coro)
        except iec61850.IedError as exc:
            raise PeerServiceError(op, rust_error_code(exc), str(exc)) from exc

    def read_value(self, ref: str, fc: str) -> Any:
        return _rust_json_value(self._run(f"read({ref} [{fc}])", self.conn.read(ref, fc)))

    def write_value(self, ref: str, fc: str, btype: str, value: Any) -> None:
        self._run(f"write({ref} [{fc}])", rust_write(self.conn, Leaf(ref, fc, btype, None), value))

    def _read_opt(self, ref: str, fc: str) -> Any:
        try:
            return self.read_value(ref, fc)
        except PeerServiceError:
            return None

    def read_lcb(self, ref: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, names in _LCB_ATTRS.items():
            out[key] = None
            for name in names:
                v = self._read_opt(f"{ref}.{name}", "LG")
                if v is not None:
                    out[key] = v
                    break
        if out["log_ena"] is None:
            self.read_value(f"{ref}.LogEna", "LG")  # raises with the server's error
        for key in ("old_entry_time_ms", "new_entry_time_ms"):  # times come back as bytes (hex here)
            if isinstance(out[key], str):
                out[key] = mms_time_ms(bytes.fromhex(out[key]))
        if isinstance(out["trg_ops"], str):  # a bit string comes back as bytes (hex here)
            raw = bytes.fromhex(out["trg_ops"])
            out["trg_ops"] = reason_bits_to_mask([bool(raw[i // 8] & (0x80 >> (i % 8))) for i in range(8 * len(raw))])
        return out

    def set_lcb(self, ref: str, **values: Any) -> None:
        """Plain writes of ``log_ena`` (write_bool), ``intg_pd`` (write_uint32), ``log_ref`` /
        ``dataset`` (write_visible_string); the client cannot write a bit string (TrgOps)."""
        for key, v in values.items():
            attr = f"{ref}.{_LCB_ATTRS[key][0]}" if key in _LCB_ATTRS else key
            if key == "log_ena":
                self._run(f"write {attr}", self.conn.write_bool(attr, "LG", bool(v)))
            elif key == "intg_pd":
                self._run(f"write {attr}", self.conn.write_uint32(attr, "LG", int(v)))
            elif key in ("log_ref", "dataset"):
                self._run(f"write {attr}", self.conn.write_visible_string(attr, "LG", str(v)))
            else:
                raise NotImplementedError(f"the iec61850 0.14 client cannot write LCB {key}")

    def query_log_by_time(self, log_ref: str, start_ms: int, end_ms: int) -> tuple[list[dict[str, Any]], bool]:
        entries, more = self._run(f"query_journal_by_time({log_ref})",
                                  self.conn.query_journal_by_time(log_ref, int(start_ms), int(end_ms)))
        return [rust_journal_entry(e) for e in entries], bool(more)

    def query_log_after(self, log_ref: str, entry_id: bytes | str, time_ms: int) -> tuple[list[dict[str, Any]], bool]:
        raw = bytes.fromhex(entry_id) if isinstance(entry_id, str) else bytes(entry_id)
        entries, more = self._run(f"query_journal_after_entry({log_ref})",
                                  self.conn.query_journal_after_entry(log_ref, int(time_ms), raw))
        return [rust_journal_entry(e) for e in entries], bool(more)

    def read_sgcb(self, ld: str) -> dict[str, Any]:
        ref = sgcb_ref(ld)
        out = {key: self._read_opt(f"{ref}.{name}", "SP") for key, name in _SGCB_ATTRS.items()}
        if out["num_of_sg"] is None:
            self.read_value(f"{ref}.NumOfSG", "SP")  # raises with the server's error
        if isinstance(out["lact_tm_ms"], str):  # UtcTime comes back as bytes (hex here)
            out["lact_tm_ms"] = mms_time_ms(bytes.fromhex(out["lact_tm_ms"]))
        return out

    def select_active_sg(self, ld: str, sg: int) -> None:
        self._run("SelectActiveSG", self.conn.write_uint32(f"{sgcb_ref(ld)}.ActSG", "SP", int(sg)))

    def select_edit_sg(self, ld: str, sg: int) -> None:
        self._run("SelectEditSG", self.conn.write_uint32(f"{sgcb_ref(ld)}.EditSG", "SP", int(sg)))

    def confirm_edit_sg(self, ld: str) -> None:
        self._run("ConfirmEditSGValues", self.conn.write_bool(f"{sgcb_ref(ld)}.CnfEdit", "SP", True))

    def read_gocb(self, ref: str) -> dict[str, Any]:
        raise NotImplementedError("the iec61850 0.14 client has no GoCB services")

    def read_svcb(self, ref: str) -> dict[str, Any]:
        raise NotImplementedError("the iec61850 0.14 client has no SVCB services")

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._loop.run_until_complete(self.conn.disconnect())
        except Exception as exc:  # the server may be gone already
            log.info("Rust client close: %s", exc)
        finally:
            self._loop.close()

    def __enter__(self) -> "RustServiceSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------- control: Rust client

#: AddCause names (IEC 61850-7-2 / PROTOCOL.md, the numbering of libiec61850 1.6) -> value
ADD_CAUSES = {name: i for i, name in enumerate((
    "unknown", "not-supported", "blocked-by-switching-hierarchy", "select-failed", "invalid-position",
    "position-reached", "parameter-change-in-execution", "step-limit", "blocked-by-mode",
    "blocked-by-process", "blocked-by-interlocking", "blocked-by-synchrocheck",
    "command-already-in-execution", "blocked-by-health", "one-of-n-control", "abortion-by-cancel",
    "time-limit-over", "abortion-by-trip", "object-not-selected", "object-already-selected",
    "no-access-authority", "ended-with-overshoot", "abortion-due-to-deviation",
    "abortion-by-communication-loss", "blocked-by-command", "none", "inconsistent-parameters",
    "locked-by-other-client"))}


def add_cause_value(cause: Any) -> Optional[int]:
    """The Rust client's AddCause (a ``ControlAddCause`` / kebab-case string) as its number;
    ``None`` stays ``None``; an unknown name gives -1."""
    if cause is None:
        return None
    text = str(getattr(cause, "value", cause))
    return ADD_CAUSES.get(text, -1)


class RustControlSession:
    """The Rust-based ``iec61850`` client's ``ControlObjectClient`` with a synchronous API (a
    private event loop). The Rust client does not read the control model: give it
    (``"direct-normal"``, ``"sbo-normal"``, ``"direct-enhanced"``, ``"sbo-enhanced"``,
    ``"status-only"``). Values: ``bool``, ``int``, ``float`` (it cannot send a structure, so
    no AnalogueValue for an APC). ``operate`` of the enhanced models waits for the
    CommandTermination. Results are dicts::

        {"ok": bool, "add_cause": int | None, "error": str | None}

    (``select`` of sbo-normal gives a bool only: ``add_cause`` is then None; a command the
    client raises for gives ``ok`` False and the exception text as ``error``.)
    """

    def __init__(self, host: str, port: int, request_timeout_ms: Optional[int] = None) -> None:
        """:param request_timeout_ms: the client's request timeout (its default: 5000 ms); it
            also bounds the wait for a CommandTermination after a refused enhanced operate"""
        import asyncio

        import iec61850

        self._loop = asyncio.new_event_loop()
        self.conn = self._run(iec61850.IedConnection.connect(f"{host}:{port}", request_timeout_ms=request_timeout_ms))
        self.controls: dict[str, Any] = {}

    def _run(self, coro: Any) -> Any:
        return self._loop.run_until_complete(coro)

    def create(self, ref: str, model: str) -> Any:
        import iec61850

        co = self.conn.create_control_object(ref, iec61850.ControlModel(model))
        self.controls[ref] = co
        return co

    def set_params(self, ref: str, or_cat: Optional[int] = None, or_ident: Optional[str] = None,
                   ctl_num: Optional[int] = None, test: Optional[bool] = None,
                   interlock_check: Optional[bool] = None, synchro_check: Optional[bool] = None) -> None:
        import iec61850

        co = self.controls[ref]
        if or_cat is not None or or_ident is not None:
            co.set_origin(iec61850.OriginValue(int(or_cat or 0), (or_ident or "").encode()))
        if ctl_num is not None:
            co.set_ctl_num(int(ctl_num))
        if test is not None:
            co.set_test(bool(test))
        if interlock_check is not None:
            co.set_interlock_check(bool(interlock_check))
        if synchro_check is not None:
            co.set_synchro_check(bool(synchro_check))

    def _outcome(self, coro: Any) -> dict[str, Any]:
        import iec61850

        try:
            out = self._run(coro)
        except iec61850.IedError as exc:
            log.info("Rust control: %s: %s", type(exc).__name__, exc)
            return {"ok": False, "add_cause": None, "error": f"{type(exc).__name__}: {exc}"}
        if isinstance(out, bool):
            return {"ok": out, "add_cause": None, "error": None}
        return {"ok": bool(out.success), "add_cause": add_cause_value(out.add_cause), "error": None}

    def select(self, ref: str) -> dict[str, Any]:
        return self._outcome(self.controls[ref].select())

    def select_with_value(self, ref: str, value: Any) -> dict[str, Any]:
        return self._outcome(self.controls[ref].select_with_value(value))

    def operate(self, ref: str, value: Any) -> dict[str, Any]:
        return self._outcome(self.controls[ref].operate(value))

    def cancel(self, ref: str, value: Any) -> dict[str, Any]:
        return self._outcome(self.controls[ref].cancel(value))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self.conn.disconnect())
        except Exception as exc:  # the server may be gone already
            log.info("Rust client close: %s", exc)
        finally:
            self._loop.close()

    def __enter__(self) -> "RustControlSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------- reports: Rust client


def _rust_json_value(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, (list, tuple)):
        return [_rust_json_value(x) for x in v]
    if isinstance(v, _dt.datetime):
        return int(v.timestamp() * 1000)
    return v


def _reason_mask(reason: Any) -> int:
    if reason is None:
        return 0
    names = ("data_change", "quality_change", "data_update", "integrity", "general_interrogation",
             "", "application_trigger")
    return sum(1 << i for i, n in enumerate(names) if n and getattr(reason, n, False))


def rust_report_dict(rep: Any) -> dict[str, Any]:
    """An ``iec61850.ClientReport`` as a normalised dict (see the module docstring for the
    Rust client's per-data-set cache). The Rust client gives no segment fields and delivers
    each segment of a segmented report as a report of its own (so does pyiec61850-ng)."""
    entry = rep.entry_id
    return {
        "rcb_ref": rep.rcb_reference,
        "rpt_id": rep.rpt_id,
        "seq_num": rep.sequence_number,
        "sub_seq_num": None,
        "more_segments": None,
        "timestamp_ms": rep.timestamp_ms,
        "dataset": rep.dataset_name,
        "buf_ovfl": rep.buffer_overflow,
        "entry_id": bytes(entry).hex() if entry is not None else None,
        "conf_rev": rep.conf_rev,
        "values": [_rust_json_value(e.value) for e in rep.entries],
        "reasons": [_reason_mask(e.reason) for e in rep.entries],
        "refs": [e.ref for e in rep.entries],
    }


def _rust_rcb_dict(h: Any) -> dict[str, Any]:
    owner = h.owner
    entry = h.entry_id if h.is_buffered else None
    return {
        "rpt_id": h.rpt_id,
        "rpt_ena": bool(h.rpt_ena),
        "resv": None if h.is_buffered else bool(h.resv),
        "dataset": h.dataset,
        "conf_rev": int(h.conf_rev),
        "opt_flds": int(h.opt_flds.to_bits()),
        "buf_tm": int(h.buf_time_ms),
        "sq_num": int(h.sq_num),
        "trg_ops": int(h.trigger_options.to_bits()),
        "intg_pd": int(h.integrity_period_ms),
        "gi": bool(h.gi),
        "purge_buf": bool(h.purge_buf) if h.is_buffered else None,
        "entry_id": bytes(entry).hex() if entry is not None else None,
        "time_of_entry_ms": int(h.time_of_entry_ms) if h.is_buffered else None,
        "resv_tms": int(h.resv_tms) if h.has_resv_tms else None,
        "owner": bytes(owner).hex() if owner is not None else None,
    }


_RUST_MASK = {  # settable key -> RcbWriteMask field, RcbHandle attribute
    "rpt_id": ("rpt_id", "rpt_id"), "rpt_ena": ("rpt_ena", "rpt_ena"), "resv": ("resv", "resv"),
    "dataset": ("dataset", "dataset"), "opt_flds": ("opt_flds", "opt_flds"),
    "buf_tm": ("buf_time", "buf_time_ms"), "trg_ops": ("trigger_options", "trigger_options"),
    "intg_pd": ("integrity_period", "integrity_period_ms"), "gi": ("gi", "gi"),
    "purge_buf": ("purge_buf", "purge_buf"), "entry_id": ("entry_id", "entry_id"),
    "resv_tms": ("resv_tms", "resv_tms"),
}


class RustReportClient:
    """The Rust-based ``iec61850`` client subscribing to report control blocks (async)::

        c = await RustReportClient.connect("127.0.0.1:102")
        await c.subscribe("LD/LLN0.RP.urcb01", "Events")
        await c.set_rcb("LD/LLN0.RP.urcb01", resv=True, rpt_ena=True, gi=True)
        reports = await c.reports(count=1, timeout=5)
        await c.close()

    Errors of the server raise the client's ``iec61850.IedError`` subclasses.
    """

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._reports: list[dict[str, Any]] = []
        self._errors: list[str] = []

    @classmethod
    async def connect(cls, addr: str, max_pdu_size: Optional[int] = None) -> "RustReportClient":
        import iec61850

        return cls(await iec61850.IedConnection.connect(addr, local_max_pdu_size=max_pdu_size))

    async def read_rcb(self, ref: str) -> dict[str, Any]:
        return _rust_rcb_dict(await self.conn.get_rcb_values(ref))

    async def set_rcb(self, ref: str, single: bool = True, **values: Any) -> None:
        """SetRCBValues of ``values`` (keys as for :meth:`PyiecReportClient.set_rcb`)."""
        import iec61850

        h = await self.conn.get_rcb_values(ref)
        fields = []
        for key, v in values.items():
            field_name, attr = _RUST_MASK[key]
            fields.append(field_name)
            if key == "opt_flds":
                v = iec61850.ReportOptFlds.from_bits(int(v))
            elif key == "trg_ops":
                v = iec61850.TriggerOptions.from_bits(int(v))
            elif key == "entry_id":
                v = bytes.fromhex(v)
            setattr(h, attr, v)
        await self.conn.set_rcb_values(h, iec61850.RcbWriteMask.fields(*fields), single_request=single)

    async def subscribe(self, ref: str, rpt_id: str) -> None:
        """Install the report handler (``rpt_id`` is required: without it the Rust client
        delivers nothing)."""

        def on_report(rep: Any) -> None:
            try:
                self._reports.append(rust_report_dict(rep))
            except Exception as exc:
                self._errors.append(repr(exc))

        await self.conn.install_report_handler(ref, on_report, rpt_id=rpt_id)

    async def unsubscribe(self, ref: str) -> None:
        await self.conn.uninstall_report_handler(ref)

    async def trigger_gi(self, ref: str) -> None:
        await self.conn.trigger_gi(ref)

    async def reports(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The reports received since the last call: polls until at least ``count`` arrived
        or ``timeout`` seconds passed."""
        deadline = time.monotonic() + timeout
        while len(self._reports) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            await self.conn.poll_reports(max(1, min(100, int(left * 1000))))
        if self._errors:
            raise PeerClientError(f"Rust report handler failed: {self._errors}")
        out, self._reports = self._reports, []
        return out

    async def close(self) -> None:
        await self.conn.disconnect()


#: DataAccessError names in the Rust client's messages -> libiec61850 IedClientError values.
_RUST_ACCESS_ERRORS = {
    "ObjectInvalidated": 33, "HardwareFault": 29, "TemporarilyUnavailable": 26,
    "ObjectAccessDenied": 21, "ObjectUndefined": 27, "InvalidAddress": 28, "TypeUnsupported": 30,
    "TypeInconsistent": 25, "ObjectAttributeInconsistent": 31, "ObjectAccessUnsupported": 24,
    "ObjectNonExistent": 22, "ObjectValueInvalid": 32,
}


def rust_error_code(exc: BaseException) -> int:
    """An ``iec61850.IedError`` as the libiec61850 ``IedClientError`` value pyiec61850-ng would
    give (data access errors by name; ServiceError access: 1 -> 24 object-access-unsupported,
    2 -> 22 object-non-existent, 3 -> 21 object-access-denied; 20 timeout; 99 anything else)."""
    text = str(exc)
    if "data access error" in text:
        for name, code in _RUST_ACCESS_ERRORS.items():
            if text.rstrip().endswith(name):
                return code
    # a ServiceError of class access (ReadJournal of an unknown journal: object-non-existent)
    for access, code in (("class=Access(1)", 24), ("class=Access(2)", 22), ("class=Access(3)", 21)):
        if access in text:
            return code
    if type(exc).__name__ == "IedTimeoutError":
        return 20
    return 99


class RustReportSession:
    """:class:`RustReportClient` with a synchronous API (a private event loop), shaped like
    :class:`PyiecReportClient`: ``set_rcb`` and ``trigger_gi`` return an IedClientError value
    (:func:`rust_error_code`, 0 = OK) instead of raising."""

    def __init__(self, host: str, port: int, max_pdu_size: Optional[int] = None) -> None:
        import asyncio

        self._loop = asyncio.new_event_loop()
        self.client = self._run(RustReportClient.connect(f"{host}:{port}", max_pdu_size))

    def _run(self, coro: Any) -> Any:
        return self._loop.run_until_complete(coro)

    def read_rcb(self, ref: str) -> dict[str, Any]:
        return self._run(self.client.read_rcb(ref))

    def set_rcb(self, ref: str, single: bool = True, **values: Any) -> int:
        import iec61850

        try:
            self._run(self.client.set_rcb(ref, single, **values))
        except iec61850.IedError as exc:
            log.info("Rust client set_rcb(%s, %s): %s", ref, values, exc)
            return rust_error_code(exc)
        return 0

    def subscribe(self, ref: str, rpt_id: Optional[str] = None) -> None:
        if not rpt_id:
            raise ValueError("the Rust client needs the RptID to deliver reports")
        self._run(self.client.subscribe(ref, rpt_id))

    def unsubscribe(self, ref: str) -> None:
        self._run(self.client.unsubscribe(ref))

    def trigger_gi(self, ref: str) -> int:
        import iec61850

        try:
            self._run(self.client.trigger_gi(ref))
        except iec61850.IedError as exc:
            return rust_error_code(exc)
        return 0

    def reports(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        return self._run(self.client.reports(count, timeout))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self.client.close())
        except Exception as exc:  # the server may be gone already
            log.info("Rust client close: %s", exc)
        finally:
            self._loop.close()

    def __enter__(self) -> "RustReportSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) in (3, 4) and args[0] == "pyiec-report-child":
        _pyiec_child_main(args[1], int(args[2]), json.loads(args[3]) if len(args) == 4 else {})
        return 0
    sys.stderr.write("usage: python -m peers.clients pyiec-report-child HOST PORT [OPTIONS_JSON]\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
