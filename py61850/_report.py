"""Reporting, client side: :class:`ReportControlBlock`, :class:`Report` and the
per-connection report dispatcher.

How reports reach Python (see DESIGN.md): lib61850's I/O thread decodes every
InformationReport "RPT" into an ``i61_report`` (segments already joined) and
queues it in a bounded per-connection queue. One thread per connection,
``py61850-reports``, started when the first report handler or pull iterator is
registered, takes them in batches (``i61_client_wait_events``, then
``i61_client_next_reports``; cffi releases the GIL while it waits), wraps each
in a :class:`Report`, routes it by RptID to the registration of its report
control block and calls the callback. The same thread delivers the
CommandTerminations of the connection's control objects (their own C queue,
served by the same wait; see :mod:`py61850._control`). A slow
callback delays only later deliveries of this connection, never the wire; a
callback may call back into the connection. Reports the C queue could not take
are counted (:attr:`IedConnection.reports_dropped`), reports no registration
wanted too (:attr:`IedConnection.reports_unrouted`).
"""
from __future__ import annotations

import datetime as _dt
import logging
import queue
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from . import _ffi
from ._enums import (
    FunctionalConstraint,
    IedClientError,
    IedConnectionState,
    RcbElement,
    ReasonForInclusion,
    ReportOptions,
    ReportTriggerOptions,
)
from ._errors import (
    InvalidArgumentError,
    NotConnectedError,
    ObjectReferenceInvalidError,
    describe_code,
    exception_for,
)
from ._values import BitString, MmsValue, Timestamp

if TYPE_CHECKING:  # pragma: no cover
    from ._connection import IedConnection

__all__ = ["Report", "ReportControlBlock", "ReportIterator"]

log = logging.getLogger("py61850.client.reports")

_UTC = _dt.timezone.utc
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_UTC)

#: Reports taken from the C queue per call.
_BATCH = 256
#: How long one wait for reports lasts (the thread is woken by interrupts and
#: by the connection closing, so this only bounds an idle wait).
_WAIT_MS = 60_000
#: Default bound of a pull iterator's queue (:meth:`ReportControlBlock.reports`).
PULL_QUEUE_SIZE = 10_000

# i61_rcb_attr values
_RPT_ID, _RPT_ENA, _RESV, _DATSET, _CONF_REV, _OPT_FLDS, _BUF_TM, _SQ_NUM = range(8)
_TRG_OPS, _INTG_PD, _GI, _PURGE_BUF, _ENTRY_ID, _TIME_OF_ENTRY, _RESV_TMS, _OWNER = range(8, 16)

_ATTR_NAMES = (
    "RptID", "RptEna", "Resv", "DatSet", "ConfRev", "OptFlds", "BufTm", "SqNum",
    "TrgOps", "IntgPd", "GI", "PurgeBuf", "EntryID", "TimeofEntry", "ResvTms", "Owner",
)

#: Bits of the OptFlds / TrgOps bit strings when the RCB did not tell (IEC 61850-8-1).
_OPT_FLDS_BITS = 10
_TRG_OPS_BITS = 6


# ------------------------------------------------------------------ references


def split_rcb_reference(ref: str) -> tuple[str, str, str, str]:
    """``"LD/LN.RP.name"`` or ``"LD/LN$RP$name"`` -> ``(ld, ln, fc, name)``.

    :raises ObjectReferenceInvalidError: not an RCB reference (FC RP or BR)
    """
    ld, sep, rest = ref.strip().partition("/")
    parts = rest.replace("$", ".").split(".")
    if not sep or not ld or len(parts) != 3 or parts[1] not in ("RP", "BR") or not parts[0] or not parts[2]:
        raise ObjectReferenceInvalidError(
            f"{ref!r} is not a report control block reference (LD/LN.RP.name or LD/LN.BR.name) "
            f"(OBJECT_REFERENCE_INVALID)",
            IedClientError.OBJECT_REFERENCE_INVALID, ref,
        )
    return ld, parts[0], parts[1], parts[2]


def canonical_rcb_reference(ref: str) -> str:
    """The ``"LD/LN.RP.name"`` form of an RCB reference (either form accepted)."""
    ld, ln, fc, name = split_rcb_reference(ref)
    return f"{ld}/{ln}.{fc}.{name}"


def _try_canonical(ref: str) -> Optional[str]:
    try:
        return canonical_rcb_reference(ref)
    except ObjectReferenceInvalidError:
        return None


def mms_member_reference(ref: str) -> str:
    """A member reference as a report's data reference: ``"LD/LN.DO.DA[FC]"`` ->
    ``"LD/LN$FC$DO$DA"``; MMS-style references are returned as they are."""
    ref = ref.strip()
    if ref.endswith("]") and "[" in ref:
        body, fc = ref[:-1].rsplit("[", 1)
        ld, sep, rest = body.partition("/")
        ln, dot, path = rest.partition(".")
        if sep and dot:
            return f"{ld}/{ln}${fc.strip()}${path.replace('.', '$')}"
        if sep:
            return f"{ld}/{ln}${fc.strip()}"
    return ref


# ---------------------------------------------------------------------- values


def jsonable(value: Any) -> Any:
    """A plain Python value (from :meth:`MmsValue.to_python`) as JSON-serialisable data:
    bytes -> hex text, bit strings -> ``"0101"``, datetimes -> ISO 8601, errors -> text."""
    if isinstance(value, MmsValue):
        value = value.to_python()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, BitString):
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Timestamp):
        return value.datetime.isoformat()
    return str(value)


# ---------------------------------------------------------------------- Report


class Report:
    """One received report (a snapshot: keep it as long as you like, from any thread).

    Segmented reports arrive already joined. Member data are indexed by data set
    member: :attr:`values` has one entry per member (``None`` where the member is
    not in this report); ``report[i]`` is the same, ``report["LD/LN.DO.DA[FC]"]``
    or ``report["LD/LN$FC$DO$DA"]`` looks a member up by reference (from the
    report's data references, or from the data set directory when the
    subscription fetched it). ``len(report)`` is the data set size.
    """

    __slots__ = (
        "_ptr", "_rcb_reference", "_members", "_rpt_id", "_opt", "_decoded",
        "_values", "_refs", "_reasons", "_included", "__weakref__",
    )

    def __init__(self) -> None:
        raise TypeError("reports are created by the connection")

    @classmethod
    def _own(cls, ptr: Any) -> "Report":
        ffi, lib = _ffi.load()
        self = object.__new__(cls)
        self._ptr = ffi.gc(ptr, lib.i61_report_free)
        self._rcb_reference = None
        self._members = None
        self._rpt_id = None
        self._opt = None
        self._decoded = False
        self._values = self._refs = self._reasons = self._included = None
        return self

    # ----------------------------------------------------------------- header

    @property
    def rcb_reference(self) -> Optional[str]:
        """Reference of the report control block whose registration received it
        (``"LD/LN.RP.name"``), ``None`` for a report no registration wanted."""
        return self._rcb_reference

    @property
    def rpt_id(self) -> str:
        """RptID as received (the RCB reference when the RCB's RptID is empty)."""
        r = self._rpt_id
        if r is None:
            ffi, lib = _ffi.load()
            p = lib.i61_report_rpt_id(self._ptr)
            r = self._rpt_id = ffi.string(p).decode("utf-8", "replace") if p != ffi.NULL else ""
        return r

    @property
    def opt_flds(self) -> ReportOptions:
        """The optional fields this report carries."""
        o = self._opt
        if o is None:
            _, lib = _ffi.load()
            o = self._opt = ReportOptions(int(lib.i61_report_opt_flds(self._ptr)) & 0x1FF)
        return o

    @property
    def has_seq_num(self) -> bool:
        """True if the report carries a sequence number."""
        return bool(self.opt_flds & ReportOptions.SEQ_NUM)

    @property
    def has_timestamp(self) -> bool:
        """True if the report carries a time stamp (TimeOfEntry)."""
        return bool(self.opt_flds & ReportOptions.TIME_STAMP)

    @property
    def has_reason_for_inclusion(self) -> bool:
        """True if the report carries a reason code per member."""
        return bool(self.opt_flds & ReportOptions.REASON_FOR_INCLUSION)

    @property
    def has_dataset_name(self) -> bool:
        """True if the report carries the data set name."""
        return bool(self.opt_flds & ReportOptions.DATA_SET)

    @property
    def has_data_reference(self) -> bool:
        """True if the report carries a data reference per member."""
        return bool(self.opt_flds & ReportOptions.DATA_REFERENCE)

    @property
    def has_buf_ovfl(self) -> bool:
        """True if the report carries the buffer-overflow flag (BRCB)."""
        return bool(self.opt_flds & ReportOptions.BUFFER_OVERFLOW)

    @property
    def has_entry_id(self) -> bool:
        """True if the report carries an EntryID (BRCB)."""
        return bool(self.opt_flds & ReportOptions.ENTRY_ID)

    @property
    def has_conf_rev(self) -> bool:
        """True if the report carries the configuration revision."""
        return bool(self.opt_flds & ReportOptions.CONF_REV)

    @property
    def has_sub_seq_num(self) -> bool:
        """True if the report was sent segmented (SubSeqNum/MoreSegmentsFollow)."""
        return bool(self.opt_flds & ReportOptions.SEGMENTATION)

    @property
    def seq_num(self) -> int:
        """Sequence number (0 when the report carries none, see :attr:`has_seq_num`)."""
        _, lib = _ffi.load()
        return int(lib.i61_report_seq_num(self._ptr))

    @property
    def sub_seq_num(self) -> int:
        """SubSeqNum of the last segment (0 when not segmented)."""
        _, lib = _ffi.load()
        return int(lib.i61_report_sub_seq_num(self._ptr))

    @property
    def more_segments_follow(self) -> bool:
        """Always False for a delivered report (segments are joined)."""
        _, lib = _ffi.load()
        return bool(lib.i61_report_more_segments_follow(self._ptr))

    @property
    def segments(self) -> int:
        """Number of segments (PDUs) this report was joined from (1 if not segmented)."""
        _, lib = _ffi.load()
        return int(lib.i61_report_segments(self._ptr))

    @property
    def timestamp(self) -> Optional[_dt.datetime]:
        """TimeOfEntry as an aware UTC datetime, ``None`` when absent."""
        if not self.has_timestamp:
            return None
        _, lib = _ffi.load()
        return _EPOCH + _dt.timedelta(milliseconds=int(lib.i61_report_time_ms(self._ptr)))

    @property
    def dataset_name(self) -> Optional[str]:
        """Data set ``"LD/LN$name"`` when the report carries it, else ``None``."""
        ffi, lib = _ffi.load()
        p = lib.i61_report_dataset(self._ptr)
        return ffi.string(p).decode("utf-8", "replace") if p != ffi.NULL else None

    @property
    def buf_ovfl(self) -> bool:
        """The buffer-overflow flag (False when absent)."""
        _, lib = _ffi.load()
        return bool(lib.i61_report_buf_ovfl(self._ptr))

    @property
    def entry_id(self) -> Optional[bytes]:
        """EntryID octets (8), ``None`` when absent. Give it back as
        ``entry_id=`` to :meth:`IedConnection.create_rcb_and_subscribe` (or set
        :attr:`ReportControlBlock.entry_id`) to resume a BRCB after it."""
        ffi, lib = _ffi.load()
        n = ffi.new("size_t *")
        p = lib.i61_report_entry_id(self._ptr, n)
        return bytes(ffi.buffer(p, n[0])) if p != ffi.NULL else None

    @property
    def conf_rev(self) -> int:
        """Configuration revision (0 when absent)."""
        _, lib = _ffi.load()
        return int(lib.i61_report_conf_rev(self._ptr))

    # ---------------------------------------------------------------- members

    def _decode(self) -> None:
        if self._decoded:
            return
        ffi, lib = _ffi.load()
        p = self._ptr
        size = int(lib.i61_report_dataset_size(p))
        values: list[Optional[MmsValue]] = [None] * size
        refs: list[Optional[str]] = [None] * size
        reasons: list[ReasonForInclusion] = [ReasonForInclusion.NOT_INCLUDED] * size
        included: list[int] = []
        for i in range(int(lib.i61_report_count(p))):
            idx = int(lib.i61_report_member_index(p, i))
            if not 0 <= idx < size:  # the C side checks this; stay safe anyway
                continue
            included.append(idx)
            v = lib.i61_report_member_value(p, i)
            if v != ffi.NULL:
                values[idx] = MmsValue._view(v, self)  # type: ignore[arg-type]  # keeps the report alive
            r = lib.i61_report_member_ref(p, i)
            if r != ffi.NULL:
                refs[idx] = ffi.string(r).decode("utf-8", "replace")
            code = int(lib.i61_report_member_reason(p, i))
            reasons[idx] = ReasonForInclusion.UNKNOWN if code < 0 else ReasonForInclusion(code & 0x7F)
        members = self._members
        if members is not None and len(members) == size:
            for i in range(size):
                if refs[i] is None:
                    refs[i] = members[i]
        self._values, self._refs, self._reasons, self._included = values, refs, reasons, included
        self._decoded = True

    @property
    def values(self) -> list[Optional[MmsValue]]:
        """One entry per data set member: its value, ``None`` where not included."""
        self._decode()
        return list(self._values)  # type: ignore[arg-type]

    @property
    def included(self) -> list[int]:
        """Indexes of the members included in this report, ascending."""
        self._decode()
        return list(self._included)  # type: ignore[arg-type]

    @property
    def data_references(self) -> list[Optional[str]]:
        """Per member ``"LD/LN$FC$DO$DA"`` (from the report's data references, or
        the data set directory the subscription fetched), else ``None``."""
        self._decode()
        return list(self._refs)  # type: ignore[arg-type]

    @property
    def reasons(self) -> list[ReasonForInclusion]:
        """Per member the reason for inclusion (``NOT_INCLUDED``; ``UNKNOWN``
        when the report carries no reason codes)."""
        self._decode()
        return list(self._reasons)  # type: ignore[arg-type]

    def get_data_reference(self, element_index: int) -> Optional[str]:
        """Data reference of member ``element_index`` (``None`` if unknown)."""
        self._decode()
        return self._refs[element_index]  # type: ignore[index]

    def get_reason_for_inclusion(self, element_index: int) -> ReasonForInclusion:
        """Reason for inclusion of member ``element_index``."""
        self._decode()
        return self._reasons[element_index]  # type: ignore[index]

    def index_of(self, reference: Union[str, bytes]) -> int:
        """Index of the member with this reference (``"LD/LN.DO.DA[FC]"`` or
        ``"LD/LN$FC$DO$DA"``).

        :raises KeyError: no member has it (or the report carries no references)
        """
        key = reference.decode("utf-8") if isinstance(reference, (bytes, bytearray)) else str(reference)
        want = mms_member_reference(key)
        self._decode()
        for i, r in enumerate(self._refs):  # type: ignore[arg-type]
            if r is not None and r == want:
                return i
        raise KeyError(key)

    def __getitem__(self, key: Union[int, str, bytes]) -> Optional[MmsValue]:
        if isinstance(key, bool):
            raise TypeError("a report is indexed by member position or reference")
        self._decode()
        if isinstance(key, int):
            return self._values[key]  # type: ignore[index]
        if isinstance(key, (str, bytes, bytearray)):
            return self._values[self.index_of(key)]  # type: ignore[index]
        raise TypeError("a report is indexed by member position or reference")

    def __len__(self) -> int:
        _, lib = _ffi.load()
        return int(lib.i61_report_dataset_size(self._ptr))

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-serialisable data (values via :func:`jsonable`)."""
        self._decode()
        members = []
        for i in self._included:  # type: ignore[union-attr]
            v = self._values[i]  # type: ignore[index]
            reason = self._reasons[i]  # type: ignore[index]
            members.append({
                "index": i,
                "reference": self._refs[i],  # type: ignore[index]
                "value": jsonable(v) if v is not None else None,
                "reason": _flag_names(reason),
            })
        ts = self.timestamp
        return {
            "rcb": self.rcb_reference,
            "rpt_id": self.rpt_id,
            "seq_num": self.seq_num if self.has_seq_num else None,
            "sub_seq_num": self.sub_seq_num if self.has_sub_seq_num else None,
            "segments": self.segments,
            "timestamp": ts.isoformat() if ts is not None else None,
            "dataset": self.dataset_name,
            "buf_ovfl": self.buf_ovfl if self.has_buf_ovfl else None,
            "entry_id": self.entry_id.hex() if self.entry_id is not None else None,
            "conf_rev": self.conf_rev if self.has_conf_rev else None,
            "members": members,
        }

    def __repr__(self) -> str:
        try:
            seq = f" seq={self.seq_num}" if self.has_seq_num else ""
            return f"<Report {self.rpt_id!r}{seq} members={self.included}>"
        except Exception as exc:  # repr must never fail
            return f"<Report (unprintable: {exc})>"


def _flag_names(flag: ReasonForInclusion) -> list[str]:
    if not flag:
        return [ReasonForInclusion.NOT_INCLUDED.name]  # type: ignore[list-item]
    return [m.name for m in ReasonForInclusion if m and m in flag]  # type: ignore[misc]


# --------------------------------------------------------- report control block


class ReportControlBlock:
    """Client-side copy of a report control block (URCB or BRCB), from
    :meth:`IedConnection.read_rcb`.

    Setting a property changes the local copy and marks the attribute changed
    (:attr:`element_changed`); :meth:`IedConnection.set_rcb_values` writes the
    changed ones, in the order the standard requires. Properties of attributes
    the server's RCB does not have (``resv`` on a BRCB, ``resv_tms``/``owner``
    in Edition 1, ...) read ``None``; setting them raises
    :class:`~py61850.client.ObjectDoesNotExistError`. The object keeps its
    connection alive; use it from one thread at a time (it is locked anyway).
    """

    __slots__ = ("_conn", "_ptr", "_lock", "_ref", "_buffered", "__weakref__")

    def __init__(self) -> None:
        raise TypeError("use IedConnection.read_rcb() to get a ReportControlBlock")

    @classmethod
    def _own(cls, conn: "IedConnection", ptr: Any) -> "ReportControlBlock":
        ffi, lib = _ffi.load()
        self = object.__new__(cls)
        self._conn = conn
        self._ptr = ffi.gc(ptr, lib.i61_rcb_free)
        self._lock = threading.Lock()
        self._ref = ffi.string(lib.i61_rcb_reference(ptr)).decode("utf-8", "replace")
        self._buffered = bool(lib.i61_rcb_is_buffered(ptr))
        return self

    # ---------------------------------------------------------------- general

    @property
    def reference(self) -> str:
        """``"LD/LN.RP.name"`` or ``"LD/LN.BR.name"``."""
        return self._ref

    @property
    def is_buffered(self) -> bool:
        """True for a BRCB, False for a URCB."""
        return self._buffered

    @property
    def connection(self) -> "IedConnection":
        """The connection it was read with."""
        return self._conn

    @property
    def element_changed(self) -> RcbElement:
        """Attributes set locally since the last read or write."""
        _, lib = _ffi.load()
        with self._lock:
            return RcbElement(int(lib.i61_rcb_changed(self._ptr)) & 0xFFFF)

    def clear_element_changed(self) -> None:
        """Forget the local changes' marks (the values stay)."""
        _, lib = _ffi.load()
        with self._lock:
            lib.i61_rcb_clear_changed(self._ptr)

    def has(self, element: RcbElement) -> bool:
        """True when the server's RCB has this attribute (e.g. ``RcbElement.OWNER``)."""
        _, lib = _ffi.load()
        attr = int(element).bit_length() - 1
        if attr < 0 or int(element) != 1 << attr:
            raise ValueError("has() takes a single RcbElement")
        with self._lock:
            return bool(lib.i61_rcb_has(self._ptr, attr))

    # --------------------------------------------------------------- internals

    def _get(self, attr: int) -> Any:
        ffi, lib = _ffi.load()
        with self._lock:
            p = lib.i61_rcb_get(self._ptr, attr)
            if p == ffi.NULL:
                return None
            return MmsValue._view(p, self).to_python()  # type: ignore[arg-type]

    def _bits(self, attr: int, default_size: int) -> tuple[Optional[int], int]:
        """(mask, bit size) of a bit-string attribute (mask None when absent)."""
        ffi, lib = _ffi.load()
        with self._lock:
            p = lib.i61_rcb_get(self._ptr, attr)
            if p == ffi.NULL:
                return None, default_size
            bits = MmsValue._view(p, self).to_bit_string()  # type: ignore[arg-type]
        mask = 0
        for i, on in enumerate(bits):
            if on and i > 0:
                mask |= 1 << (i - 1)
        return mask, bits.size

    def _set(self, attr: int, value: MmsValue) -> None:
        _, lib = _ffi.load()
        with self._lock:
            err = int(lib.i61_rcb_set(self._ptr, attr, value._ptr))
        if err != 0:
            name = _ATTR_NAMES[attr]
            if err == IedClientError.OBJECT_DOES_NOT_EXIST:
                text = f"{self._ref} has no {name}"
            elif err == IedClientError.TYPE_INCONSISTENT:
                text = f"{self._ref}.{name}: value of the wrong type"
            else:
                text = f"{self._ref}.{name}: cannot set ({describe_code(err)})"
            raise exception_for(err, f"{text} ({describe_code(err)})", self._ref)

    def _set_bits(self, attr: int, flags: int, default_size: int) -> None:
        flags = int(flags)
        _, size = self._bits(attr, default_size)
        if flags < 0 or flags >> (size - 1):
            raise InvalidArgumentError(
                f"{self._ref}.{_ATTR_NAMES[attr]}: flags 0x{flags:x} do not fit {size} bits",
                IedClientError.USER_PROVIDED_INVALID_ARGUMENT, self._ref,
            )
        bits = [False] + [bool(flags & (1 << (i - 1))) for i in range(1, size)]
        self._set(attr, MmsValue.bit_string(bits))

    # -------------------------------------------------------------- attributes

    @property
    def rpt_id(self) -> Optional[str]:
        """RptID (reports carry it; empty: the server sends the RCB reference)."""
        return self._get(_RPT_ID)

    @rpt_id.setter
    def rpt_id(self, value: Union[str, bytes]) -> None:
        self._set(_RPT_ID, MmsValue.visible_string(value))

    @property
    def rpt_ena(self) -> Optional[bool]:
        """RptEna: reporting enabled."""
        return self._get(_RPT_ENA)

    @rpt_ena.setter
    def rpt_ena(self, value: bool) -> None:
        self._set(_RPT_ENA, MmsValue.boolean(bool(value)))

    @property
    def resv(self) -> Optional[bool]:
        """Resv: reserved by a client (URCB only)."""
        return self._get(_RESV)

    @resv.setter
    def resv(self, value: bool) -> None:
        self._set(_RESV, MmsValue.boolean(bool(value)))

    @property
    def dataset(self) -> Optional[str]:
        """DatSet: the data set reference (``"LD/LN$name"``; some servers omit ``LD/``)."""
        return self._get(_DATSET)

    @dataset.setter
    def dataset(self, value: Union[str, bytes]) -> None:
        self._set(_DATSET, MmsValue.visible_string(value))

    @property
    def conf_rev(self) -> Optional[int]:
        """ConfRev (read only)."""
        return self._get(_CONF_REV)

    @property
    def opt_flds(self) -> Optional[ReportOptions]:
        """OptFlds: optional fields of the reports."""
        mask, _ = self._bits(_OPT_FLDS, _OPT_FLDS_BITS)
        return None if mask is None else ReportOptions(mask)

    @opt_flds.setter
    def opt_flds(self, value: Union[ReportOptions, int]) -> None:
        self._set_bits(_OPT_FLDS, value, _OPT_FLDS_BITS)

    @property
    def buf_tm(self) -> Optional[int]:
        """BufTm: buffer time in ms."""
        return self._get(_BUF_TM)

    @buf_tm.setter
    def buf_tm(self, value: int) -> None:
        self._set(_BUF_TM, MmsValue.uint32(value))

    @property
    def sq_num(self) -> Optional[int]:
        """SqNum: sequence number of the next report (read only)."""
        return self._get(_SQ_NUM)

    @property
    def trg_ops(self) -> Optional[ReportTriggerOptions]:
        """TrgOps: trigger options."""
        mask, _ = self._bits(_TRG_OPS, _TRG_OPS_BITS)
        return None if mask is None else ReportTriggerOptions(mask)

    @trg_ops.setter
    def trg_ops(self, value: Union[ReportTriggerOptions, int]) -> None:
        self._set_bits(_TRG_OPS, value, _TRG_OPS_BITS)

    @property
    def intg_pd(self) -> Optional[int]:
        """IntgPd: integrity period in ms."""
        return self._get(_INTG_PD)

    @intg_pd.setter
    def intg_pd(self, value: int) -> None:
        self._set(_INTG_PD, MmsValue.uint32(value))

    @property
    def gi(self) -> Optional[bool]:
        """GI: writing True starts a general interrogation."""
        return self._get(_GI)

    @gi.setter
    def gi(self, value: bool) -> None:
        self._set(_GI, MmsValue.boolean(bool(value)))

    @property
    def purge_buf(self) -> Optional[bool]:
        """PurgeBuf (BRCB): writing True discards the buffered reports."""
        return self._get(_PURGE_BUF)

    @purge_buf.setter
    def purge_buf(self, value: bool) -> None:
        self._set(_PURGE_BUF, MmsValue.boolean(bool(value)))

    @property
    def entry_id(self) -> Optional[bytes]:
        """EntryID (BRCB): writing the EntryID of the last report seen, before
        enabling, resumes the buffered reports after it."""
        return self._get(_ENTRY_ID)

    @entry_id.setter
    def entry_id(self, value: bytes) -> None:
        self._set(_ENTRY_ID, MmsValue.octet_string(value))

    @property
    def time_of_entry(self) -> Optional[_dt.datetime]:
        """TimeofEntry (BRCB, read only)."""
        return self._get(_TIME_OF_ENTRY)

    @property
    def resv_tms(self) -> Optional[int]:
        """ResvTms (Edition 2): reservation time in s (-1 reserved by configuration)."""
        return self._get(_RESV_TMS)

    @resv_tms.setter
    def resv_tms(self, value: int) -> None:
        self._set(_RESV_TMS, MmsValue.int32(value))

    @property
    def owner(self) -> Optional[bytes]:
        """Owner (Edition 2, read only): the address of the owning client."""
        return self._get(_OWNER)

    # ---------------------------------------------------------- conveniences

    @property
    def seq_gaps(self) -> int:
        """Sequence number discontinuities seen by this connection's registration
        for this RCB (0 without a registration)."""
        reg = self._conn._report_router.get(self._ref)
        return reg.seq_gaps if reg is not None else 0

    @property
    def reports_missed(self) -> int:
        """Reports missing by sequence number for this RCB's registration."""
        reg = self._conn._report_router.get(self._ref)
        return reg.missed if reg is not None else 0

    def on_report(self, callback: Callable[[Report], None]) -> None:
        """Call ``callback(report)`` for every report of this RCB (routed by its
        current RptID, or its reference when RptID is empty)."""
        self._conn.register_report_handler(self._ref, self.rpt_id or self._ref, callback)

    def enable(self, gi: bool = False) -> None:
        """RptEna = True (with the other changed attributes) on the server, then
        GI if asked. A URCB is reserved too (Resv = True: some servers refuse
        RptEna from a client that has not reserved it)."""
        if not self._buffered and self._get(_RESV) is False:
            self.resv = True
        self.rpt_ena = True
        self._conn.set_rcb_values(self)
        if gi:
            self.gi = True
            self._conn.set_rcb_values(self)

    def disable(self) -> None:
        """RptEna = False on the server; a URCB reserved by this client is also
        released (Resv = False)."""
        self.rpt_ena = False
        if not self._buffered and self._get(_RESV):
            self.resv = False
        self._conn.set_rcb_values(self)

    def reports(self, timeout: float = 10.0, max_queue: int = PULL_QUEUE_SIZE) -> "ReportIterator":
        """Pull-style delivery: iterate over this RCB's reports as they arrive.

        Reports are collected from the moment of this call (call it before
        enabling the RCB so that nothing is missed). The iteration ends when no
        report arrived for ``timeout`` seconds or the connection closed. Up to
        ``max_queue`` reports wait for the consumer; beyond that they are
        dropped and counted (:attr:`queue_dropped`, a warning is logged)::

            it = rcb.reports(timeout=5)
            rcb.enable(gi=True)
            for report in it:
                print(report.seq_num, report.values)

        :returns: a :class:`ReportIterator` (also a context manager; closing it
            stops the collection)
        """
        if timeout is None or timeout < 0:
            raise InvalidArgumentError("reports() needs a timeout >= 0 s",
                                       IedClientError.USER_PROVIDED_INVALID_ARGUMENT, self._ref)
        return ReportIterator(self._conn, self._ref, self.rpt_id or self._ref, float(timeout), max_queue)

    @property
    def queue_dropped(self) -> int:
        """Reports dropped because a pull iterator's queue was full."""
        reg = self._conn._report_router.get(self._ref)
        return reg.pull_dropped if reg is not None else 0

    def __repr__(self) -> str:
        kind = "BRCB" if self._buffered else "URCB"
        try:
            return f"<ReportControlBlock {kind} {self._ref} rpt_id={self.rpt_id!r} rpt_ena={self.rpt_ena}>"
        except Exception:  # repr must never fail
            return f"<ReportControlBlock {kind} {self._ref}>"


class ReportIterator:
    """Iterator over the reports of one RCB (see :meth:`ReportControlBlock.reports`).

    Ends when no report arrived for ``timeout`` seconds or the connection closed;
    :meth:`close` (or leaving a ``with`` block) stops collecting.
    """

    def __init__(self, conn: "IedConnection", ref: str, rpt_id: str, timeout: float, max_queue: int) -> None:
        self._conn = conn
        self._ref = ref
        self._timeout = timeout
        self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=max(1, int(max_queue)))
        self._closed = False
        conn._attach_pull_queue(ref, rpt_id, self._queue)

    def __iter__(self) -> "ReportIterator":
        return self

    def __next__(self) -> Report:
        if self._closed:
            raise StopIteration
        try:
            item = self._queue.get(timeout=self._timeout)
        except queue.Empty:
            self.close()
            raise StopIteration from None
        if item is _CLOSED:
            self.close()
            raise StopIteration
        return item

    def close(self) -> None:
        """Stop collecting (reports still queued are discarded)."""
        if not self._closed:
            self._closed = True
            self._conn._detach_pull_queue(self._ref, self._queue)

    def __enter__(self) -> "ReportIterator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if _ffi.on_io_thread():  # no Python locks on the network thread
                _ffi.reap_later(self.close)
            else:
                self.close()
        except Exception:  # finalizers must not raise
            pass


# ------------------------------------------------------------------- routing

_CLOSED = object()  # pull queue sentinel: the connection closed


class _Registration:
    """What one connection does with the reports of one RCB."""

    __slots__ = ("rcb_ref", "rpt_id", "callback", "queues", "wrap", "last_seq", "seq_gaps",
                 "missed", "received", "pull_dropped", "members", "_pull_warned")

    def __init__(self, rcb_ref: str, rpt_id: Optional[str], buffered: bool) -> None:
        self.rcb_ref = rcb_ref
        self.rpt_id = rpt_id
        self.callback: Optional[Callable[[Report], None]] = None
        self.queues: list["queue.Queue[Any]"] = []
        self.wrap = 1 << 16 if buffered else 1 << 8
        self.last_seq: Optional[int] = None
        self.seq_gaps = 0
        self.missed = 0
        self.received = 0
        self.pull_dropped = 0
        self.members: Optional[list[str]] = None
        self._pull_warned = 0

    def reset_seq(self) -> None:
        self.last_seq = None

    def account(self, report: Report) -> None:
        self.received += 1
        if not report.has_seq_num:
            return
        seq = report.seq_num
        last = self.last_seq
        self.last_seq = seq
        if last is None:
            return
        step = (seq - last) % self.wrap
        if step == 1:
            return
        if seq == 0 and last >= 127 and (last + 1) & last == 0:
            return  # wrapped early (the Rust-based server wraps a URCB's SqNum after 127)
        self.seq_gaps += 1
        if 1 < step < self.wrap // 2:
            self.missed += step - 1
        log.warning("%s: sequence number %d after %d", self.rcb_ref, seq, last)


class _ReportRouter:
    """Registrations of one connection by RCB reference; routes reports by RptID."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._by_ref: dict[str, _Registration] = {}
        self._by_id: dict[str, _Registration] = {}  # RptID -> first registration using it

    def _reindex(self) -> None:  # with self.lock
        by_id: dict[str, _Registration] = {}
        for reg in self._by_ref.values():
            if reg.rpt_id:
                by_id.setdefault(reg.rpt_id, reg)
        self._by_id = by_id

    def get(self, ref: str) -> Optional[_Registration]:
        key = _try_canonical(ref) or ref
        with self.lock:
            return self._by_ref.get(key)

    def others_with_rpt_id(self, ref: str, rpt_id: str) -> list[str]:
        """References of the other registrations routed by ``rpt_id``."""
        key = _try_canonical(ref) or ref
        with self.lock:
            return [r.rcb_ref for r in self._by_ref.values() if r.rcb_ref != key and r.rpt_id == rpt_id]

    def ensure(self, ref: str, rpt_id: Optional[str]) -> _Registration:
        key = canonical_rcb_reference(ref)
        with self.lock:
            reg = self._by_ref.get(key)
            if reg is None:
                reg = _Registration(key, rpt_id, split_rcb_reference(key)[2] == "BR")
                self._by_ref[key] = reg
            elif rpt_id:
                reg.rpt_id = rpt_id
            self._reindex()
            owner = self._by_id.get(rpt_id) if rpt_id else None
        if owner is not None and owner is not reg:
            log.warning("%s and %s have the same RptID %r: its reports go to %s", key, owner.rcb_ref,
                        rpt_id, owner.rcb_ref)
        return reg

    def drop_if_unused(self, reg: _Registration) -> None:
        with self.lock:
            if reg.callback is None and not reg.queues and self._by_ref.get(reg.rcb_ref) is reg:
                del self._by_ref[reg.rcb_ref]
                self._reindex()

    def all(self) -> list[_Registration]:
        with self.lock:
            return list(self._by_ref.values())

    def active(self) -> bool:
        with self.lock:
            return any(r.callback is not None or r.queues for r in self._by_ref.values())

    def route(self, rpt_id: str) -> Optional[_Registration]:
        reg = self._by_id.get(rpt_id)  # a dict read needs no lock
        if reg is not None:
            return reg
        if "$" not in rpt_id and "." not in rpt_id:
            return None
        key = _try_canonical(rpt_id)  # empty RptID: the server sent the RCB reference
        return self._by_ref.get(key) if key is not None else None


class _ReportPump:
    """The ``py61850-reports`` thread of one connection (lives on the client handle):
    reports, and the CommandTerminations of its control objects.

    Holds no strong reference to the connection or to user callbacks (it is
    reachable from the connection's finalizer); it finds both through
    ``conn_ref`` for each batch.
    """

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.conn_ref: Optional["weakref.ReferenceType[IedConnection]"] = None
        self.lock = threading.Lock()
        self.thread: Optional[threading.Thread] = None
        self.stopped = False
        self.interrupted = False
        self.unrouted = 0
        self.dropped_seen = 0
        self.malformed_seen = 0
        self.ctl_dropped_seen = 0
        self.ctl_malformed_seen = 0

    # user threads -----------------------------------------------------------

    def ensure_running(self) -> None:
        with self.lock:
            if self.stopped or self.thread is not None:
                return
            t = threading.Thread(target=self._run, name="py61850-reports", daemon=True)
            self.thread = t
            t.start()

    def _c_call(self, fn_name: str) -> None:
        h = self.handle
        try:
            c = h.enter()
        except NotConnectedError:
            return
        try:
            getattr(h.lib, fn_name)(c)
        finally:
            h.leave()

    def interrupt(self) -> None:
        """After close(): let the thread deliver what is queued, then end."""
        with self.lock:
            self.interrupted = True
            self._c_call("i61_client_interrupt_reports")

    def resume(self) -> None:
        """After a successful connect()."""
        with self.lock:
            self.interrupted = False
            self._c_call("i61_client_resume_reports")

    def stop(self) -> None:
        """Finalizer: end the thread for good (never waits for itself)."""
        with self.lock:
            self.stopped = True
            t = self.thread
            self._c_call("i61_client_interrupt_reports")
        if t is not None and t is not threading.current_thread() and not _ffi.on_io_thread():
            t.join(2.0)

    # the thread ----------------------------------------------------------------

    def _run(self) -> None:
        from ._control import _Event, deliver_terminations

        h = self.handle
        ffi, lib = h.ffi, h.lib
        out = ffi.new("i61_report *[]", _BATCH)
        events_out = ffi.new("i61_ctl_event *[]", _BATCH)
        n = ffi.new("size_t *")
        ready = ffi.new("int *")
        spurious = 0
        try:
            while not self.stopped:
                try:
                    c = h.enter()
                except NotConnectedError:
                    break
                got: list[Report] = []
                events: list[Any] = []
                try:
                    ready[0] = 0
                    err = int(lib.i61_client_wait_events(c, _WAIT_MS, ready))
                    if err == 0:
                        if ready[0] & lib.I61_READY_REPORTS:
                            n[0] = 0
                            if lib.i61_client_next_reports(c, 0, out, _BATCH, n) == 0:
                                got = [Report._own(out[i]) for i in range(int(n[0]))]
                        if ready[0] & lib.I61_READY_CONTROL_EVENTS:
                            n[0] = 0
                            if lib.i61_client_next_control_events(c, 0, events_out, _BATCH, n) == 0:
                                events = [_Event(events_out[i]) for i in range(int(n[0]))]
                        counts = (int(lib.i61_client_reports_dropped(c)), int(lib.i61_client_reports_malformed(c)),
                                  int(lib.i61_client_control_events_dropped(c)),
                                  int(lib.i61_client_control_events_malformed(c)))
                    state = int(lib.i61_client_state(c))
                finally:
                    h.leave()
                if err == 0:
                    spurious = 0
                    self._check_counters(*counts)
                    if got:
                        self._deliver(got)
                    if events:
                        conn = self.conn_ref() if self.conn_ref is not None else None
                        if conn is not None:
                            deliver_terminations(conn, events)
                    del got, events
                    continue
                if err == IedClientError.TIMEOUT:
                    continue
                if err != IedClientError.NOT_CONNECTED:
                    log.error("waiting for reports failed: %s", describe_code(err))
                    break
                with self.lock:
                    # Closed, or interrupted by close()/the finalizer: end, unless a
                    # connect() came in between (then resume() cleared the flag).
                    if not self.stopped and not self.interrupted and state == IedConnectionState.CONNECTED \
                            and spurious < 100:
                        spurious += 1
                        continue
                    self.thread = None
                    break
        except BaseException:  # pragma: no cover - keep the process alive, say why
            log.exception("report dispatcher failed")
        finally:
            with self.lock:
                if self.thread is threading.current_thread():
                    self.thread = None
            self._notify_closed()

    def _check_counters(self, dropped: int, malformed: int, ctl_dropped: int = 0, ctl_malformed: int = 0) -> None:
        if dropped > self.dropped_seen:
            log.warning("%d reports dropped: the report queue was full (%d in total)",
                        dropped - self.dropped_seen, dropped)
            self.dropped_seen = dropped
        if malformed > self.malformed_seen:
            log.warning("%d malformed or incomplete reports discarded (%d in total)",
                        malformed - self.malformed_seen, malformed)
            self.malformed_seen = malformed
        if ctl_dropped > self.ctl_dropped_seen:
            log.warning("%d command terminations dropped: their queue was full (%d in total)",
                        ctl_dropped - self.ctl_dropped_seen, ctl_dropped)
            self.ctl_dropped_seen = ctl_dropped
        if ctl_malformed > self.ctl_malformed_seen:
            log.warning("%d malformed control reports discarded (%d in total)",
                        ctl_malformed - self.ctl_malformed_seen, ctl_malformed)
            self.ctl_malformed_seen = ctl_malformed

    def _notify_closed(self) -> None:
        conn = self.conn_ref() if self.conn_ref is not None else None
        if conn is None:
            return
        for ctl in conn._control_router.targets_all():
            ctl._wake()  # wait_for_termination returns
        for reg in conn._report_router.all():
            for q in list(reg.queues):
                try:
                    q.put_nowait(_CLOSED)
                except queue.Full:
                    try:  # make room: the consumer must learn that the connection closed
                        q.get_nowait()
                        q.put_nowait(_CLOSED)
                    except (queue.Empty, queue.Full):
                        pass

    def _deliver(self, reports: list[Report]) -> None:
        conn = self.conn_ref() if self.conn_ref is not None else None
        if conn is None:
            return
        router = conn._report_router
        for rep in reports:
            reg = router.route(rep.rpt_id)
            if reg is None:
                self.unrouted += 1
                log.debug("report with RptID %r: no handler registered", rep.rpt_id)
                continue
            rep._rcb_reference = reg.rcb_ref
            rep._members = reg.members
            reg.account(rep)
            for q in list(reg.queues):
                try:
                    q.put_nowait(rep)
                except queue.Full:
                    reg.pull_dropped += 1
                    if reg.pull_dropped >= 2 * reg._pull_warned:
                        reg._pull_warned = reg.pull_dropped
                        log.warning("%s: pull queue full, %d reports dropped", reg.rcb_ref, reg.pull_dropped)
            cb = reg.callback
            if cb is None:
                continue
            try:
                cb(rep)
            except Exception as exc:
                log.exception("exception in the report callback %r for %s", cb, reg.rcb_ref)
                hook = conn._report_error_hook
                if hook is not None:
                    try:
                        hook(exc, rep)
                    except Exception:
                        log.exception("exception in the report error hook %r", hook)


def rcb_fc(ref: str) -> FunctionalConstraint:
    """FC (RP/BR) of an RCB reference."""
    return FunctionalConstraint[split_rcb_reference(ref)[2]]

