"""Logs, client side: QueryLogByTime / QueryLogAfter (MMS ReadJournal).

:class:`IedConnection` (``_connection.py``) exposes them as
``query_log_by_time``, ``query_log_after`` (every entry, following the
server's ``moreFollows``) and ``query_log_page_by_time``,
``query_log_page_after`` (one answer each); the work is done here on top of
lib61850's ``i61_client_read_journal``.

Each answer becomes plain Python objects (:class:`JournalEntry`,
:class:`JournalVariable`, :class:`LogPage`); the logged values are
:class:`MmsValue` views into the C journal of their answer, which is freed
when the last of them is garbage-collected. Entries can be kept as long as
one likes, from any thread, after the page, the list and the connection are
gone; a page's C memory stays allocated while any of its values lives.

An end time is sent to the server only in the first request of a by-time
query (rangeStart and rangeStop). The requests that continue after an entry
(the pages after the first, and QueryLogAfter) carry entryToStartAfter alone:
the Rust-based ``iec61850`` server refuses entryToStartAfter together with
rangeStop. The client applies the end itself instead: it drops entries made
after it and, entries coming in time order, stops following the server's
``moreFollows`` once it has seen one.
"""
from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, Union

from ._enums import IedClientError, ReasonForInclusion
from ._errors import InvalidArgumentError, UnexpectedValueError
from ._values import MmsValue, Timestamp

if TYPE_CHECKING:  # pragma: no cover
    from ._connection import IedConnection

__all__ = ["JournalEntry", "JournalVariable", "LogPage"]

log = logging.getLogger("py61850.client.log")

Reference = Union[str, bytes]
#: A time argument: an aware datetime (naive = UTC), a :class:`Timestamp`, or
#: int milliseconds since 1970-01-01 UTC.
TimeLike = Union[_dt.datetime, Timestamp, int]

_UTC = _dt.timezone.utc
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_UTC)
#: TimeOfDay (the time of a journal query) counts days from 1984-01-01: the
#: earliest time a query can carry, in ms since 1970.
EPOCH_1984_MS = 441_763_200_000
#: The latest time a TimeOfDay carries (day 65535 after 1984-01-01, 23:59:59.999).
MAX_TIME_OF_DAY_MS = EPOCH_1984_MS + 65_535 * 86_400_000 + 86_399_999
#: query_log_by_time / query_log_after stop with an error beyond this many entries.
MAX_ENTRIES = 1_000_000


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class JournalVariable:
    """One logged value of a :class:`JournalEntry`."""

    #: the data reference as the server tagged it (``"TESTGenericIO/GGIO1$ST$Ind1$stVal"``)
    reference: str
    #: the logged value, with its MMS type (it keeps the C memory of the whole answer it
    #: came in alive; :meth:`MmsValue.clone` makes a copy of its own)
    value: MmsValue
    #: why it was logged (the entry's ReasonCode), ``None`` when the log has no reason codes
    reason: Optional[ReasonForInclusion] = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (see :meth:`JournalEntry.to_dict`)."""
        from ._report import jsonable

        return {
            "reference": self.reference,
            "value": jsonable(self.value),
            "reason": _reason_names(self.reason),
        }


@dataclass(frozen=True)
class JournalEntry:
    """One entry of a log (MMS journal entry)."""

    #: EntryID (8 octets from IEC 61850 servers); give it to
    #: :meth:`IedConnection.query_log_after` (with :attr:`time`) to continue after it
    entry_id: bytes
    #: when the entry was made (aware, UTC)
    time: _dt.datetime
    #: the logged values
    variables: list[JournalVariable] = field(default_factory=list)

    @property
    def time_ms(self) -> int:
        """:attr:`time` as ms since 1970-01-01 UTC."""
        return _ms_of(self.time)

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON-serialisable data: entry id in hex, time in ISO 8601,
        per variable its reference, value (via :func:`py61850._report.jsonable`)
        and reason names (``None`` without a reason code)."""
        return {
            "entry_id": self.entry_id.hex(),
            "time": self.time.isoformat(),
            "variables": [v.to_dict() for v in self.variables],
        }

    def __repr__(self) -> str:
        refs = ", ".join(v.reference for v in self.variables)
        return f"<JournalEntry {self.entry_id.hex()} {self.time.isoformat()} [{refs}]>"


@dataclass(frozen=True)
class LogPage:
    """One answer of a log query (one MMS ReadJournal response)."""

    #: the entries of this answer, oldest first (as the server sent them)
    entries: list[JournalEntry]
    #: True when the server has more entries: continue with
    #: :meth:`IedConnection.query_log_page_after` from the last entry
    more_follows: bool

    def __len__(self) -> int:
        return len(self.entries)


def _reason_names(reason: Optional[ReasonForInclusion]) -> Optional[list[str]]:
    if reason is None:
        return None
    if not reason:
        return [ReasonForInclusion.NOT_INCLUDED.name]  # type: ignore[list-item]
    return [m.name for m in ReasonForInclusion if m and m in reason]  # type: ignore[misc]


# ------------------------------------------------------------------ times


def _ms_of(when: _dt.datetime) -> int:
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def time_ms(value: Any, what: str) -> int:
    """A time argument -> ms since 1970-01-01 UTC.

    :raises InvalidArgumentError: negative, or not a time
    """
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a datetime or int ms, got bool")
    if isinstance(value, Timestamp):
        value = value.datetime
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=_UTC)  # naive = UTC
        ms = _ms_of(value)
    elif isinstance(value, int):
        ms = int(value)
    else:
        raise TypeError(f"{what} must be a datetime or int ms since 1970, got {type(value).__name__}")
    if ms < 0:
        raise InvalidArgumentError(f"{what} is before 1970 ({ms} ms)", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return ms


def time_from_ms(ms: int) -> _dt.datetime:
    try:
        return _EPOCH + _dt.timedelta(0, 0, 0, int(ms))  # positional: faster than milliseconds=
    except OverflowError:
        return _EPOCH


def _log_ref(ref: Reference) -> tuple[str, bytes]:
    """``(text, bytes for C)`` of a log reference; checks its shape ``LD/LN$Name``
    or ``LD/LN.Name`` (journal names may have more parts: the Rust-based server
    names them ``LN$LG$LCBName``)."""
    if isinstance(ref, (bytes, bytearray)):
        text = bytes(ref).decode("utf-8", errors="replace")
    elif isinstance(ref, str):
        text = ref
    else:
        raise TypeError(f"log reference must be str or bytes, got {type(ref).__name__}")
    text = text.strip()
    ld, sep, rest = text.partition("/")
    parts = rest.replace("$", ".").split(".")
    if not sep or not ld or len(parts) < 2 or not all(parts) or "\x00" in text:
        from ._errors import ObjectReferenceInvalidError

        raise ObjectReferenceInvalidError(
            f"{text!r} is not a log reference (LD/LN$LogName, e.g. the LCB's LogRef) (OBJECT_REFERENCE_INVALID)",
            IedClientError.OBJECT_REFERENCE_INVALID, text,
        )
    return text, text.encode("utf-8")


def _entry_id(entry_id: Any) -> bytes:
    if isinstance(entry_id, str):
        try:
            entry_id = bytes.fromhex(entry_id)
        except ValueError:
            raise InvalidArgumentError(f"entry id {entry_id!r} is not hex",
                                       IedClientError.USER_PROVIDED_INVALID_ARGUMENT) from None
    if not isinstance(entry_id, (bytes, bytearray, memoryview)):
        raise TypeError(f"entry id must be bytes, got {type(entry_id).__name__}")
    raw = bytes(entry_id)
    if not 0 < len(raw) <= 16:
        raise InvalidArgumentError(f"entry id of {len(raw)} octets (1..16)", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return raw


# --------------------------------------------------------------- requests

#: ReasonCode mask -> member, filled as codes are met (building an IntFlag
#: member costs more than a dict look-up; at most 128 keys)
_REASONS: dict[int, ReasonForInclusion] = {}

#: "no end": no entry is dropped by the client
_NO_END = -1


def _page(conn: "IedConnection", op: str, ref: str, ref_b: bytes, start_ms: int, stop_ms: int,
          after_id: Optional[bytes], after_ms: int, end_ms: int = _NO_END) -> tuple[LogPage, bool]:
    """One ReadJournal (``start_ms``/``stop_ms``/``after_id``: -1/None = absent
    from the request); entries made after ``end_ms`` (>= 0) are dropped.

    :returns: the page (``more_follows`` False once an entry after ``end_ms``
        was seen) and whether one was seen
    """
    ffi, lib = conn._ffi, conn._lib
    out = ffi.new("i61_journal **")
    more = ffi.new("int *", 0)
    aid = ffi.from_buffer("uint8_t[]", after_id) if after_id else ffi.NULL
    alen = len(after_id) if after_id else 0
    conn._call(op, ref, None, lib.i61_client_read_journal, ref_b, start_ms, stop_ms, aid, alen, after_ms, out, more)
    j = out[0]
    if j == ffi.NULL:
        return LogPage([], bool(more[0])), False
    # The values are views into the journal: it is freed with the last of them.
    owner = ffi.gc(j, lib.i61_journal_free)
    entries, past_end = _entries(ffi, lib, owner, end_ms)
    return LogPage(entries, bool(more[0]) and not past_end), past_end


def _entries(ffi: Any, lib: Any, j: Any, end_ms: int = _NO_END) -> tuple[list[JournalEntry], bool]:
    """The entries of journal ``j`` (a cdata that stays alive as the values' owner),
    and whether one made after ``end_ms`` (>= 0) was dropped."""
    # The hot loop of a log read: the whole journal comes in one C call
    # (i61_journal_views: variables without a value are left out), then one
    # datetime per distinct time, one str per distinct reference, reason
    # members cached.
    count = lib.i61_journal_count(j)
    if not count:
        return [], False
    total = lib.i61_journal_var_total(j)
    ents = ffi.new("i61_journal_entry_view[]", count)
    vars_ = ffi.new("i61_journal_var_view[]", total or 1)
    rc = lib.i61_journal_views(j, ents, count, vars_, total)
    if rc != 0:  # pragma: no cover - the arrays are sized from j
        raise UnexpectedValueError(f"i61_journal_views failed ({rc})", IedClientError.UNKNOWN)
    null, buffer, string = ffi.NULL, ffi.buffer, ffi.string
    epoch, timedelta = _EPOCH, _dt.timedelta
    view, reasons = MmsValue._view, _REASONS
    refs: dict[bytes, str] = {}
    entries: list[JournalEntry] = []
    append = entries.append
    past_end = False
    last_ms: Optional[int] = None
    when = _EPOCH
    all_vars = ffi.unpack(vars_, total)
    for e in ffi.unpack(ents, count):
        ms = e.time_ms
        if 0 <= end_ms < ms:
            past_end = True
            continue
        if ms != last_ms:
            try:
                when = epoch + timedelta(0, 0, 0, ms)
            except OverflowError:
                when = epoch
            last_ms = ms
        eid = buffer(e.id, e.id_len)[:]
        variables: list[JournalVariable] = []
        first = e.first_var
        for v in all_vars[first:first + e.nvars]:
            r = v.ref
            raw = string(r) if r != null else b""
            reference = refs.get(raw)
            if reference is None:
                reference = refs[raw] = raw.decode("utf-8", "replace")
            code = v.reason
            if code < 0:
                reason = None
            else:
                reason = reasons.get(code)
                if reason is None:
                    reason = reasons.setdefault(code, ReasonForInclusion(code & 0x7F))
            variables.append(JournalVariable(reference, view(v.value, j), reason))  # type: ignore[arg-type]
        append(JournalEntry(eid, when, variables))
    return entries, past_end


def _start_ms(start: Optional[TimeLike]) -> int:
    # Sent always (libiec61850 servers answer a by-time query only with both
    # bounds). TimeOfDay cannot carry a time before 1984: such a start (and
    # None) means "from the oldest entry", i.e. 1984-01-01.
    if start is None:
        return EPOCH_1984_MS
    return max(time_ms(start, "start"), EPOCH_1984_MS)


def _end_ms(end: Optional[TimeLike]) -> int:
    # None: the latest time TimeOfDay can carry (no end).
    if end is None:
        return MAX_TIME_OF_DAY_MS
    ms = time_ms(end, "end")
    if ms < EPOCH_1984_MS:
        raise InvalidArgumentError("end is before 1984-01-01, the earliest time a log query can carry",
                                   IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return min(ms, MAX_TIME_OF_DAY_MS)


def _filter_ms(end: Optional[TimeLike]) -> int:
    """The end the client applies to the entries it receives: -1 when None."""
    return _NO_END if end is None else _end_ms(end)


def _after_ms(time: TimeLike) -> int:
    ms = time_ms(time, "time")
    if ms < EPOCH_1984_MS:
        raise InvalidArgumentError("time is before 1984-01-01, the earliest time a log query can carry",
                                   IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return ms


def page_by_time(conn: "IedConnection", log_ref: Reference, start: Optional[TimeLike],
                 end: Optional[TimeLike]) -> LogPage:
    """One QueryLogByTime answer: rangeStart and rangeStop are both sent (``None``:
    1984-01-01 and the last TimeOfDay); entries after ``end`` are dropped should
    the server send any."""
    ref, ref_b = _log_ref(log_ref)
    s, e = _start_ms(start), _end_ms(end)
    if e < s:
        raise InvalidArgumentError("end is before start", IedClientError.USER_PROVIDED_INVALID_ARGUMENT, ref)
    return _page(conn, "query_log_by_time", ref, ref_b, s, e, None, -1, _filter_ms(end))[0]


def page_after(conn: "IedConnection", log_ref: Reference, entry_id: Any, time: TimeLike,
               end: Optional[TimeLike] = None) -> LogPage:
    """One QueryLogAfter answer. The request carries entryToStartAfter alone,
    also with an ``end``: the client drops the entries made after ``end``, and
    the page's ``more_follows`` is False once it has seen one (entries come in
    time order, so none of the following would be kept)."""
    ref, ref_b = _log_ref(log_ref)
    eid, t, e = _entry_id(entry_id), _after_ms(time), _filter_ms(end)
    return _page(conn, "query_log_after", ref, ref_b, -1, -1, eid, t, e)[0]


def _follow(conn: "IedConnection", op: str, ref: str, ref_b: bytes, first: tuple[LogPage, bool],
            cursor: Optional[tuple[bytes, int]], end_ms: int, max_entries: int) -> list[JournalEntry]:
    """Collect ``first`` and the pages after it while the server says more follow
    and no entry after ``end_ms`` (-1: none) was seen."""
    out: list[JournalEntry] = []
    page, past_end = first
    pages = 1
    while True:
        entries = page.entries
        if cursor is not None and entries and (entries[0].entry_id, entries[0].time_ms) == cursor:
            entries = entries[1:]  # a server that repeats the entry it started after
        out.extend(entries)
        if len(out) > max_entries:
            exc = UnexpectedValueError(
                f"{op} {ref}: more than {max_entries} entries; query page by page "
                f"(query_log_page_after) or narrow the time range (UNEXPECTED_VALUE_RECEIVED)",
                IedClientError.UNEXPECTED_VALUE_RECEIVED, ref,
            )
            exc.entries = out[:max_entries]  # type: ignore[attr-defined]
            raise exc
        if past_end:
            log.debug("%s %s: an entry after the end on page %d; done", op, ref, pages)
            return out
        if not page.more_follows:
            return out
        if not entries:
            exc = UnexpectedValueError(
                f"{op} {ref}: the server says more entries follow but sent none after entry "
                f"{cursor[0].hex() if cursor else '-'} (page {pages}); stopped (UNEXPECTED_VALUE_RECEIVED)",
                IedClientError.UNEXPECTED_VALUE_RECEIVED, ref,
            )
            exc.entries = out  # type: ignore[attr-defined]
            raise exc
        last = entries[-1]
        if cursor is not None and (last.entry_id, last.time_ms) == cursor:
            exc = UnexpectedValueError(
                f"{op} {ref}: the server sent entry {last.entry_id.hex()} again instead of the entries after it "
                f"(page {pages}); stopped (UNEXPECTED_VALUE_RECEIVED)",
                IedClientError.UNEXPECTED_VALUE_RECEIVED, ref,
            )
            exc.entries = out  # type: ignore[attr-defined]
            raise exc
        cursor = (last.entry_id, last.time_ms)
        if not last.entry_id:
            exc = UnexpectedValueError(f"{op} {ref}: an entry without EntryID; cannot continue after it "
                                       f"(UNEXPECTED_VALUE_RECEIVED)", IedClientError.UNEXPECTED_VALUE_RECEIVED, ref)
            exc.entries = out  # type: ignore[attr-defined]
            raise exc
        pages += 1
        log.debug("%s %s: page %d after entry %s", op, ref, pages, last.entry_id.hex())
        # entryToStartAfter alone (no rangeStop: see the module docstring)
        page, past_end = _page(conn, op, ref, ref_b, -1, -1, last.entry_id, max(cursor[1], EPOCH_1984_MS), end_ms)


def all_by_time(conn: "IedConnection", log_ref: Reference, start: Optional[TimeLike], end: Optional[TimeLike],
                max_entries: int = MAX_ENTRIES) -> list[JournalEntry]:
    ref, ref_b = _log_ref(log_ref)
    s, e = _start_ms(start), _end_ms(end)
    if e < s:
        raise InvalidArgumentError("end is before start", IedClientError.USER_PROVIDED_INVALID_ARGUMENT, ref)
    stop = _filter_ms(end)
    first = _page(conn, "query_log_by_time", ref, ref_b, s, e, None, -1, stop)
    return _follow(conn, "query_log_by_time", ref, ref_b, first, None, stop, max_entries)


def all_after(conn: "IedConnection", log_ref: Reference, entry_id: Any, time: TimeLike,
              end: Optional[TimeLike] = None, max_entries: int = MAX_ENTRIES) -> list[JournalEntry]:
    ref, ref_b = _log_ref(log_ref)
    eid, t = _entry_id(entry_id), _after_ms(time)
    stop = _filter_ms(end)
    first = _page(conn, "query_log_after", ref, ref_b, -1, -1, eid, t, stop)
    return _follow(conn, "query_log_after", ref, ref_b, first, (eid, t), stop, max_entries)
