"""Control, client side: :class:`ControlObject`, :class:`LastApplError`,
:class:`CommandTermination` and the per-connection termination dispatcher.

A :class:`ControlObject` wraps lib61850's ``i61_control``: the C side builds
the Oper/SBOw/Cancel structures, keeps ctlNum and T, and attaches the
LastApplError a server sends just before a negative answer to the command it
belongs to. This module converts Python values to the object's ctlVal type,
turns refusals into :class:`~py61850.client.ControlRefusedError` (with the
AddCause the server sent) and delivers CommandTerminations.

How terminations reach Python: lib61850's I/O thread decodes every
CommandTermination into an ``i61_ctl_event`` and queues it (bounded, per
connection). The connection's report thread (``py61850-reports``,
:class:`py61850._report._ReportPump`), started when the first termination
callback is registered or an enhanced-security command is sent, waits for
reports and control events at once (``i61_client_wait_events``; cffi releases
the GIL while it waits), and hands the events to :func:`deliver_terminations`,
which routes each by object reference to the control objects of that
connection and calls their callbacks.
"""
from __future__ import annotations

import datetime as _dt
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional, Union

from . import _ffi
from ._enums import AddCause, ControlError, ControlModel, IedClientError, MmsType, OrCat
from ._errors import (
    ControlRefusedError,
    IedConnectionException,
    InvalidArgumentError,
    NotConnectedError,
    describe_code,
    exception_for,
)
from ._model import VariableSpec, spec_from_c
from ._values import BitString, MmsValue, Timestamp

if TYPE_CHECKING:  # pragma: no cover
    from ._connection import IedConnection

__all__ = ["CommandTermination", "ControlObject", "LastApplError"]

log = logging.getLogger("py61850.client.control")

CtlValue = Union[MmsValue, bool, int, float, str, BitString, dict, list, tuple]

#: Codes of a command the server answered negatively (a Write/Read failure it
#: sent, or an sbo-normal select that read back an empty SBO); other codes
#: (timeouts, a lost connection, local argument errors) are raised as they are.
_REFUSAL_CODES = frozenset(
    int(c)
    for c in (
        IedClientError.ACCESS_DENIED,
        IedClientError.OBJECT_DOES_NOT_EXIST,
        IedClientError.OBJECT_ACCESS_UNSUPPORTED,
        IedClientError.TYPE_INCONSISTENT,
        IedClientError.TEMPORARILY_UNAVAILABLE,
        IedClientError.OBJECT_UNDEFINED,
        IedClientError.INVALID_ADDRESS,
        IedClientError.HARDWARE_FAULT,
        IedClientError.TYPE_UNSUPPORTED,
        IedClientError.OBJECT_ATTRIBUTE_INCONSISTENT,
        IedClientError.OBJECT_VALUE_INVALID,
        IedClientError.OBJECT_INVALIDATED,
    )
)

#: Tap change command (BSC/BAC ctlVal, a 2-bit coded enum).
_TCMD = {"stop": 0, "lower": 1, "higher": 2, "reserved": 3}
#: Double point position (Dbpos, coded enum) by name.
_DBPOS = {"intermediate-state": 0, "intermediate": 0, "off": 1, "on": 2, "bad-state": 3, "bad": 3}

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


# -------------------------------------------------------------------- records


def _or_cat(v: int) -> Union[OrCat, int]:
    try:
        return OrCat(v)
    except ValueError:
        return int(v)


class LastApplError(NamedTuple):
    """A LastApplError the server sent (IEC 61850-8-1): why a control command
    was refused or failed. A CommandTermination+ is recorded as
    ``error=NO_ERROR, add_cause=UNKNOWN``."""

    #: ctlNum of the command it is about
    ctl_num: int
    #: :class:`~py61850.client.ControlError` (libiec61850 sends ``NO_ERROR``
    #: even with a refusal; :attr:`add_cause` carries the reason)
    error: ControlError
    #: :class:`~py61850.client.AddCause`: the reason
    add_cause: AddCause
    #: CntrlObj as sent, e.g. ``"IED1LD1/GGIO1$CO$SPCSO2$Oper"``
    control_object: str
    #: originator category of the command (an :class:`~py61850.client.OrCat`)
    or_cat: Union[OrCat, int]
    #: originator identification of the command
    or_ident: bytes

    @classmethod
    def _from_c(cls, ffi: Any, rec: Any) -> "LastApplError":
        n = min(int(rec.or_ident_len), 64)
        return cls(
            ctl_num=int(rec.ctl_num),
            error=ControlError(int(rec.error)),
            add_cause=AddCause(int(rec.add_cause)),
            control_object=ffi.string(rec.control_object, 130).decode("utf-8", "replace"),
            or_cat=_or_cat(int(rec.or_cat)),
            or_ident=bytes(ffi.buffer(rec.or_ident, n)) if n > 0 else b"",
        )


class _Event:
    """Owner of one ``i61_ctl_event`` (freed when no snapshot uses it)."""

    __slots__ = ("ptr", "__weakref__")

    def __init__(self, ptr: Any) -> None:
        ffi, lib = _ffi.load()
        self.ptr = ffi.gc(ptr, lib.i61_ctl_event_free)


class CommandTermination:
    """A CommandTermination received for an enhanced-security control (a
    snapshot: keep it as long as you like, from any thread).

    ``success`` is True for CommandTermination+ (the operation completed), False
    for CommandTermination- (it failed; :attr:`add_cause` says why).
    """

    __slots__ = ("control_object", "success", "add_cause", "ctl_num", "ctl_val", "oper", "last_appl_error")

    def __init__(
        self,
        control_object: str,
        success: bool,
        add_cause: AddCause = AddCause.UNKNOWN,
        ctl_num: int = -1,
        ctl_val: Optional[MmsValue] = None,
        oper: Optional[MmsValue] = None,
        last_appl_error: Optional[LastApplError] = None,
    ) -> None:
        #: Reference of the control object, ``"LD/LN.DO"``
        self.control_object: str = control_object
        #: True for CommandTermination+
        self.success: bool = success
        #: :class:`~py61850.client.AddCause` of a CommandTermination- (``UNKNOWN`` for +)
        self.add_cause: AddCause = add_cause
        #: ctlNum of the Oper structure the server sent back (-1 if none)
        self.ctl_num: int = ctl_num
        #: ctlVal of that Oper structure (an :class:`MmsValue`), or ``None``
        self.ctl_val: Optional[MmsValue] = ctl_val
        #: The whole Oper structure sent back (an :class:`MmsValue`), or ``None``
        self.oper: Optional[MmsValue] = oper
        #: The :class:`LastApplError` of a CommandTermination-, ``None`` for +
        self.last_appl_error: Optional[LastApplError] = last_appl_error

    @classmethod
    def _from_event(cls, ev: _Event) -> "CommandTermination":
        ffi, lib = _ffi.load()
        p = ev.ptr
        r = lib.i61_ctl_event_reference(p)
        ref = ffi.string(r).decode("utf-8", "replace") if r != ffi.NULL else ""
        success = bool(lib.i61_ctl_event_success(p))
        oper_p = lib.i61_ctl_event_oper(p)
        val_p = lib.i61_ctl_event_ctl_val(p)
        lae = None
        rec = ffi.new("i61_last_appl_error *")
        if lib.i61_ctl_event_last_appl_error(p, rec):
            lae = LastApplError._from_c(ffi, rec)
        return cls(
            control_object=ref,
            success=success,
            add_cause=AddCause(int(lib.i61_ctl_event_add_cause(p))) if not success else AddCause.UNKNOWN,
            ctl_num=int(lib.i61_ctl_event_ctl_num(p)),
            ctl_val=MmsValue._view(val_p, ev) if val_p != ffi.NULL else None,  # type: ignore[arg-type]
            oper=MmsValue._view(oper_p, ev) if oper_p != ffi.NULL else None,  # type: ignore[arg-type]
            last_appl_error=lae,
        )

    def __repr__(self) -> str:
        sign = "+" if self.success else "-"
        try:
            val = self.ctl_val.to_python() if self.ctl_val is not None else None
        except Exception:  # repr must never fail
            val = "?"
        extra = "" if self.success else f" add_cause={self.add_cause.name}"
        return f"<CommandTermination{sign} {self.control_object} ctl_num={self.ctl_num} ctl_val={val!r}{extra}>"


# ------------------------------------------------------------ value conversion


def _coded_enum(value: Any, names: dict[str, int], what: str) -> BitString:
    """A 2-bit coded enum (Dbpos, Tcmd): the value's high bit is bit 0 on the wire."""
    if isinstance(value, str):
        key = value.strip().lower()
        if key not in names:
            raise InvalidArgumentError(
                f"{value!r} is not a {what} value ({', '.join(names)})", IedClientError.USER_PROVIDED_INVALID_ARGUMENT
            )
        v = names[key]
    elif isinstance(value, bool):
        v = 2 if value else 1  # on / off, higher / lower
    elif isinstance(value, int):
        v = int(value)
        if not 0 <= v <= 3:
            raise InvalidArgumentError(f"{what} value {v} is not 0..3", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    else:
        raise TypeError(f"a {what} control value must be str, bool or int, got {type(value).__name__}")
    return BitString.from_bools([bool(v & 2), bool(v & 1)])


def _number(value: Any, spec: VariableSpec) -> MmsValue:
    if isinstance(value, bool):
        value = int(value)
    if spec.type == MmsType.FLOAT:
        if not isinstance(value, (int, float)):
            raise TypeError(f"a FLOAT control value must be a number, got {type(value).__name__}")
        return MmsValue.float64(value) if spec.size == 64 else MmsValue.float32(value)
    if not isinstance(value, int):
        raise TypeError(f"an integer control value must be int, got {type(value).__name__}")
    if spec.type == MmsType.UNSIGNED:
        if value < 0:
            raise InvalidArgumentError(f"{value} is negative; the ctlVal is unsigned",
                                       IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        return MmsValue.uint32(value)
    return MmsValue.int64(value)


def ctl_value(value: CtlValue, spec: Optional[VariableSpec]) -> MmsValue:
    """Convert a Python control value into an :class:`MmsValue` of the ctlVal type ``spec``.

    * BOOLEAN (SPC, DPC): ``bool`` (``0``/``1`` too)
    * INTEGER/UNSIGNED (INC, ISC, ENC): ``int`` (an ``IntEnum`` member is an int)
    * FLOAT: a number
    * a 2-bit BIT STRING (BSC/BAC tap command, Dbpos): ``"lower"``/``"higher"``/``"stop"``,
      ``"on"``/``"off"``, the coded integer 0..3, or a :class:`BitString`
    * a structure (APC AnalogueValue): a number goes into ``f`` (or ``i`` when there
      is no ``f``), a dict sets components by name (``{"f": 1.5, "i": 15}``), a
      sequence sets them in order
    * an :class:`MmsValue` is sent as it is (lib61850 adapts integer/float widths)

    :raises TypeError: the value does not fit the ctlVal type
    :raises InvalidArgumentError: it is out of range
    """
    if isinstance(value, MmsValue):
        return value
    if spec is None:  # ctlVal type unknown: the natural MMS type
        if isinstance(value, bool):
            return MmsValue.boolean(value)
        if isinstance(value, int):
            return MmsValue.int64(value)
        if isinstance(value, float):
            return MmsValue.float32(value)
        if isinstance(value, BitString):
            return MmsValue.bit_string(value)
        raise TypeError(f"cannot send a {type(value).__name__} as ctlVal (the ctlVal type is unknown)")
    t = spec.type
    if t == MmsType.BOOLEAN:
        if isinstance(value, bool):
            return MmsValue.boolean(value)
        if isinstance(value, int) and value in (0, 1):
            return MmsValue.boolean(bool(value))
        if isinstance(value, str) and value.strip().lower() in ("on", "off", "true", "false"):
            return MmsValue.boolean(value.strip().lower() in ("on", "true"))
        raise TypeError(f"the ctlVal is BOOLEAN: give True or False, not {value!r}")
    if t in (MmsType.INTEGER, MmsType.UNSIGNED, MmsType.FLOAT):
        return _number(value, spec)
    if t == MmsType.BIT_STRING:
        if isinstance(value, BitString):
            return MmsValue.bit_string(value)
        if abs(spec.size) == 2:
            names = _DBPOS if isinstance(value, str) and value.strip().lower() in _DBPOS else _TCMD
            return MmsValue.bit_string(_coded_enum(value, names, "coded enum"))
        raise TypeError(f"the ctlVal is a BIT STRING({spec.size}): give a BitString")
    if t == MmsType.STRUCTURE:
        comps = spec.children
        if isinstance(value, dict):
            names = {c.name for c in comps}
            unknown = set(value) - names
            if unknown:
                raise InvalidArgumentError(
                    f"the ctlVal structure has no component {', '.join(sorted(map(str, unknown)))} "
                    f"(it has {', '.join(c.name for c in comps)})", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
            items = [(c, value[c.name]) for c in comps if c.name in value]
        elif isinstance(value, (list, tuple)):
            if len(value) > len(comps):
                raise InvalidArgumentError(f"{len(value)} values for a ctlVal of {len(comps)} components",
                                           IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
            items = list(zip(comps, value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            by_name = {c.name: c for c in comps}
            first = "i" if isinstance(value, int) and "i" in by_name else "f"
            if first not in by_name:
                first = "i" if "i" in by_name else ""
            if not first:
                raise TypeError("the ctlVal structure has neither 'f' nor 'i': give a dict or an MmsValue")
            items = [(by_name[first], value)]
        else:
            raise TypeError(f"the ctlVal is a structure: give a number, a dict or a sequence, not {value!r}")
        if len(items) != len(comps):
            # every component present in the Oper type must be sent: fill the others
            # from the given one (AnalogueValue f/i carry the same quantity)
            given = {c.name: v for c, v in items}
            src = next(iter(given.values()), None)
            items = [(c, given.get(c.name, src)) for c in comps]
        return MmsValue.structure([ctl_value(v, c) for c, v in items])
    if t == MmsType.VISIBLE_STRING:
        return MmsValue.visible_string(value)  # type: ignore[arg-type]
    if t == MmsType.STRING:
        return MmsValue.mms_string(value)  # type: ignore[arg-type]
    if t == MmsType.OCTET_STRING:
        return MmsValue.octet_string(value)  # type: ignore[arg-type]
    raise TypeError(f"ctlVal type {t.name} is not supported; give an MmsValue")


def _oper_time_ms(oper_time: Union[int, float, _dt.datetime, Timestamp, None]) -> int:
    if oper_time is None:
        return 0
    if isinstance(oper_time, Timestamp):
        oper_time = oper_time.datetime
    if isinstance(oper_time, _dt.datetime):
        if oper_time.tzinfo is None:
            raise InvalidArgumentError("oper_time must be an aware datetime (with a time zone)",
                                       IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        return round((oper_time - _EPOCH).total_seconds() * 1000)
    if isinstance(oper_time, bool) or not isinstance(oper_time, (int, float)):
        raise TypeError(f"oper_time must be ms since 1970 or a datetime, got {type(oper_time).__name__}")
    ms = int(oper_time)
    if ms < 0:
        raise InvalidArgumentError("oper_time must not be negative", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return ms


# --------------------------------------------------------------- C ownership


class _ControlHandle:
    """Owns one ``i61_control *``. It must be freed before its client: the
    client handle keeps the live ones in ``controls`` and frees them first."""

    __slots__ = ("client", "ptr", "__weakref__")

    def __init__(self, client: Any, ptr: Any) -> None:
        self.client = client
        self.ptr = ptr

    def free(self) -> None:
        """Finalizer of the :class:`ControlObject`. Never raises."""
        if _ffi.on_io_thread():
            _ffi.reap_later(self.free)
            return
        try:
            ch = self.client
            with ch.lock:
                ptr, self.ptr = self.ptr, None
                ch.controls.discard(self)
                if ptr is not None and ch.ptr is not None:
                    # under the client lock: the client cannot be freed meanwhile
                    ch.lib.i61_control_free(ptr)
        except Exception:  # finalizers must not raise
            log.exception("error while freeing a control object")


def free_controls(client_handle: Any) -> None:
    """Free the control objects still alive (call with ``client_handle.lock``
    held, before ``i61_client_free``)."""
    for h in list(client_handle.controls):
        ptr, h.ptr = h.ptr, None
        if ptr is not None:
            client_handle.lib.i61_control_free(ptr)
    client_handle.controls.clear()


# -------------------------------------------------------------- dispatching


class _ControlRouter:
    """Control objects of one connection by reference (weakly held)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._by_ref: dict[str, "weakref.WeakSet[ControlObject]"] = {}
        self.last_appl_error: Optional[LastApplError] = None
        self.unrouted = 0

    def add(self, ctl: "ControlObject") -> None:
        with self.lock:
            self._by_ref.setdefault(ctl._ref, weakref.WeakSet()).add(ctl)

    def targets_all(self) -> list["ControlObject"]:
        with self.lock:
            return [c for objs in self._by_ref.values() for c in objs]

    def targets(self, ref: str) -> list["ControlObject"]:
        with self.lock:
            objs = self._by_ref.get(ref)
            if objs is None:
                return []
            found = list(objs)
            if not found:
                del self._by_ref[ref]
            return found


def deliver_terminations(conn: "IedConnection", events: list[_Event]) -> None:
    """Report thread: route each CommandTermination to the control objects of its reference."""
    router = conn._control_router
    for ev in events:
        term = CommandTermination._from_event(ev)
        if term.last_appl_error is not None:
            router.last_appl_error = term.last_appl_error
        targets = router.targets(term.control_object)
        if not targets:
            router.unrouted += 1
            log.debug("command termination for %s: no control object here", term.control_object)
            continue
        for ctl in targets:
            ctl._terminated(term)


# ------------------------------------------------------------ ControlObject


class ControlObject:
    """A controllable data object of a server (SPC, DPC, INC, ENC, BSC, APC, ...).

    Create it with :meth:`IedConnection.create_control_object
    <py61850.client.IedConnection.create_control_object>` (or
    :meth:`~py61850.client.IedConnection.read_control`). It reads the control
    model and the ctlVal type from the server once; then every command is one
    request:

    * :meth:`operate` - Write ``Oper`` (every model but status-only)
    * :meth:`select` - Read ``SBO`` (sbo-with-normal-security)
    * :meth:`select_with_value` - Write ``SBOw`` (sbo-with-enhanced-security)
    * :meth:`cancel` - Write ``Cancel``

    Each returns True when the server accepted the command and raises
    :class:`~py61850.client.ControlRefusedError` when it refused (its
    ``add_cause`` is the AddCause of the LastApplError the server sent);
    timeouts and connection failures raise the usual
    :class:`~py61850.client.IedConnectionException` subclasses. With the
    enhanced-security models the end of the operation is reported later by a
    CommandTermination: see :meth:`on_termination` and :meth:`wait_for_termination`.

    ctlNum starts at 1 and advances with each control sequence (a direct
    operate, a select or a select-with-value; the operate and cancel after a
    select use the select's number). The object keeps its connection alive.
    Use one object from one thread at a time (calls are serialised).
    """

    def __init__(self) -> None:
        raise TypeError("use IedConnection.create_control_object(ref) to create a ControlObject")

    @classmethod
    def _create(cls, conn: "IedConnection", ptr: Any) -> "ControlObject":
        ffi, lib = conn._ffi, conn._lib
        self = object.__new__(cls)
        self._conn = conn
        self._ffi, self._lib = ffi, lib
        h = _ControlHandle(conn._h, ptr)
        with conn._h.lock:
            conn._h.controls.add(h)
        self._h = h
        self._finalizer = weakref.finalize(self, h.free)
        self._lock = threading.RLock()
        self._ref = ffi.string(lib.i61_control_reference(ptr)).decode("utf-8", "replace")
        self._model = ControlModel(int(lib.i61_control_model(ptr)))
        ts = lib.i61_control_ctl_val_type(ptr)
        self._spec: Optional[VariableSpec] = spec_from_c(ffi, lib, ts, "ctlVal") if ts != ffi.NULL else None
        self._has_oper_tm = bool(lib.i61_control_has_oper_tm(ptr))
        self._has_check = bool(lib.i61_control_has_check(ptr))
        self._last_error = IedClientError.OK
        self._callback: Optional[Callable[[CommandTermination], None]] = None
        self._cond = threading.Condition(threading.Lock())
        self._terminations: list[CommandTermination] = []  # since the last operate
        conn._control_router.add(self)
        return self

    # -------------------------------------------------------------- properties

    @property
    def object_reference(self) -> str:
        """Reference of the controllable data object, ``"LD/LN.DO"``."""
        return self._ref

    @property
    def control_model(self) -> ControlModel:
        """The control model (read from ``ctlModel`` [CF] unless given at creation)."""
        return self._model

    @property
    def connection(self) -> "IedConnection":
        """The connection the object sends its commands on."""
        return self._conn

    @property
    def ctl_val_type(self) -> Optional[VariableSpec]:
        """MMS type of ctlVal in the server's ``Oper`` structure (``None`` when unknown)."""
        return self._spec

    @property
    def supports_time_activated_operate(self) -> bool:
        """True when the ``Oper`` structure has ``operTm`` (``operate(..., oper_time=...)``)."""
        return self._has_oper_tm

    @property
    def has_check(self) -> bool:
        """True when ``Oper`` carries ``Check`` (interlock/synchro-check flags)."""
        return self._has_check

    def _ptr(self) -> Any:
        ptr = self._h.ptr
        if ptr is None:
            raise NotConnectedError("the connection of this control object has been destroyed",
                                    IedClientError.NOT_CONNECTED, self._ref)
        return ptr

    @property
    def ctl_num(self) -> int:
        """ctlNum of the last command sent (0 before any). Setting it chooses the
        ctlNum of the next control sequence (0..255); later ones continue from it."""
        with self._lock:
            return int(self._lib.i61_control_ctl_num(self._ptr()))

    @ctl_num.setter
    def ctl_num(self, value: int) -> None:
        v = int(value)
        if not 0 <= v <= 255:
            raise InvalidArgumentError("ctlNum must be 0..255", IedClientError.USER_PROVIDED_INVALID_ARGUMENT, self._ref)
        with self._lock:
            err = int(self._lib.i61_control_set_ctl_num(self._ptr(), v))
        if err != 0:
            raise exception_for(err, f"{self._ref}: cannot set ctlNum {v} ({describe_code(err)})", self._ref)

    # ---------------------------------------------------------------- settings

    def set_origin(self, or_ident: Union[str, bytes], or_cat: Union[OrCat, int] = OrCat.NOT_SUPPORTED) -> None:
        """Set the originator sent with every command (``origin``).

        :param or_ident: originator identification (at most 64 octets)
        :param or_cat: originator category (:class:`~py61850.client.OrCat`)
        """
        if isinstance(or_ident, str):
            ident = or_ident.encode("utf-8")
        elif isinstance(or_ident, (bytes, bytearray)):
            ident = bytes(or_ident)
        else:
            raise TypeError(f"or_ident must be str or bytes, got {type(or_ident).__name__}")
        if len(ident) > 64:
            raise InvalidArgumentError(f"or_ident has {len(ident)} octets; at most 64 fit",
                                       IedClientError.USER_PROVIDED_INVALID_ARGUMENT, self._ref)
        cat = int(or_cat)
        if not 0 <= cat <= 127:
            raise InvalidArgumentError(f"orCat {cat} is out of range", IedClientError.USER_PROVIDED_INVALID_ARGUMENT,
                                       self._ref)
        buf = self._ffi.from_buffer("uint8_t[]", ident) if ident else self._ffi.NULL
        with self._lock:
            err = int(self._lib.i61_control_set_origin(self._ptr(), cat, buf, len(ident)))
        if err != 0:
            raise exception_for(err, f"{self._ref}: cannot set the origin ({describe_code(err)})", self._ref)

    def _flag(self, fn: Any, on: bool) -> None:
        with self._lock:
            fn(self._ptr(), 1 if on else 0)

    def set_test_mode(self, value: bool) -> None:
        """Send the next commands with ``Test`` = ``value`` (a server in a
        matching mode executes them without acting on the process)."""
        self._flag(self._lib.i61_control_set_test, value)

    def set_interlock_check(self, value: bool) -> None:
        """Ask the server to check interlocks (``Check`` bit interlock-check)."""
        self._flag(self._lib.i61_control_set_interlock_check, value)

    def set_synchro_check(self, value: bool) -> None:
        """Ask the server to check synchronism (``Check`` bit synchrocheck)."""
        self._flag(self._lib.i61_control_set_synchro_check, value)

    def use_constant_t(self, use_constant_t: bool) -> None:
        """Send the same ``T`` with every command of one control sequence (the
        select's time is reused by the operate and cancel that follow it)."""
        self._flag(self._lib.i61_control_use_constant_t, use_constant_t)

    # ---------------------------------------------------------------- commands

    def _refused_locally(self, op: str) -> ControlRefusedError:
        self._last_error = IedClientError.SERVICE_NOT_SUPPORTED
        return ControlRefusedError(
            f"{op} {self._ref}: the object is status-only (ctlModel 0): it accepts no commands; nothing was sent",
            IedClientError.SERVICE_NOT_SUPPORTED, self._ref, None, AddCause.NOT_SUPPORTED, None,
        )

    def _command(self, op: str, fn: Any, *args: Any) -> bool:
        ffi, lib = self._ffi, self._lib
        if self._model == ControlModel.STATUS_ONLY:
            raise self._refused_locally(op)
        conn = self._conn
        enhanced = self._model in (ControlModel.DIRECT_ENHANCED, ControlModel.SBO_ENHANCED)
        if enhanced and op in ("operate", "select_with_value"):
            conn._h.reports.ensure_running()
        with self._lock:
            conn._enter()  # the client stays allocated during the call
            try:
                ptr = self._ptr()
                if op == "operate":
                    with self._cond:
                        self._terminations.clear()
                slots = conn._acquire_slot(op, self._ref, None)
                try:
                    err = int(fn(ptr, *args))
                finally:
                    if slots is not None:
                        slots.release()
                if err == 0:
                    self._last_error = IedClientError.OK
                    log.debug("%s %s: accepted (ctlNum %d)", op, self._ref, int(lib.i61_control_ctl_num(ptr)))
                    return True
                p = lib.i61_control_last_error_text(ptr)
                text = ffi.string(p).decode("utf-8", "replace").strip() if p != ffi.NULL else ""
                rec = ffi.new("i61_last_appl_error *")
                lae = LastApplError._from_c(ffi, rec) if lib.i61_control_op_appl_error(ptr, rec) else None
                ctl_num = int(lib.i61_control_ctl_num(ptr))
            finally:
                conn._leave()
        try:
            self._last_error = IedClientError(err)
        except ValueError:
            self._last_error = IedClientError.UNKNOWN
        if lae is not None:
            conn._control_router.last_appl_error = lae
        raise self._error(op, err, text, lae, ctl_num)

    def _error(self, op: str, err: int, text: str, lae: Optional[LastApplError],
               ctl_num: int) -> IedConnectionException:
        name = describe_code(err)
        if lae is None and err not in _REFUSAL_CODES:
            return self._conn._fail_code(err, text, op, self._ref)
        if lae is not None:
            msg = f"{op} {self._ref}: refused by the server: {lae.add_cause.name} ({name}, ctlNum {ctl_num})"
            cause = lae.add_cause
        else:
            cause = AddCause.UNKNOWN
            detail = text or name
            at = detail.find(self._ref)
            if at >= 0:  # lib61850's text repeats "<op> <ref> (ctlNum n): "; keep what follows
                rest = detail[at + len(self._ref):].lstrip()
                if rest.startswith("(ctlNum"):
                    rest = rest.partition(")")[2]
                rest = rest.lstrip(": ").strip()
                detail = rest or detail
            msg = f"{op} {self._ref}: refused by the server without an AddCause (ctlNum {ctl_num}): {detail}"
        return ControlRefusedError(msg, err, self._ref, None, cause, lae)

    def select(self) -> bool:
        """Select the object (sbo-with-normal-security: Read ``SBO``; the server
        answers the object reference when the selection succeeded).

        :returns: True
        :raises ControlRefusedError: the server refused the selection (an
            empty ``SBO``: already selected by another client, blocked, ...)
        :raises InvalidArgumentError: the object is not sbo-with-normal-security
        """
        if self._model not in (ControlModel.SBO_NORMAL, ControlModel.STATUS_ONLY):
            raise self._wrong_model("select", "sbo-with-normal-security (for sbo-with-enhanced-security "
                                    "use select_with_value)")
        return self._command("select", self._lib.i61_control_select)

    def select_with_value(self, ctl_val: CtlValue) -> bool:
        """Select the object with the value to operate later
        (sbo-with-enhanced-security: Write ``SBOw``).

        :param ctl_val: the control value (see :meth:`operate`)
        :returns: True
        :raises ControlRefusedError: the server refused the selection
        :raises InvalidArgumentError: the object is not sbo-with-enhanced-security
        """
        if self._model not in (ControlModel.SBO_ENHANCED, ControlModel.STATUS_ONLY):
            raise self._wrong_model("select_with_value", "sbo-with-enhanced-security (for sbo-with-normal-security "
                                    "use select)")
        v = ctl_value(ctl_val, self._spec)
        return self._command("select_with_value", self._lib.i61_control_select_with_value, v._ptr)

    def operate(self, ctl_val: CtlValue, oper_time: Union[int, float, _dt.datetime, Timestamp, None] = 0) -> bool:
        """Operate (Write ``Oper``). For the SBO models, :meth:`select` or
        :meth:`select_with_value` must have succeeded first (the server refuses
        otherwise, typically with AddCause ``OBJECT_NOT_SELECTED``).

        :param ctl_val: the control value, converted to the object's ctlVal type:
            ``bool`` for SPC/DPC, ``int`` for INC/ISC/ENC, ``"lower"``/``"higher"``
            for a tap changer (BSC/BAC), a number (into ``f``) or
            ``{"f": ..., "i": ...}`` for APC, or an :class:`MmsValue`
        :param oper_time: time-activated operate: when the server shall execute
            it, as ms since 1970 (UTC) or an aware datetime; 0 = at once. Needs an
            ``Oper`` with ``operTm`` (:attr:`supports_time_activated_operate`)
        :returns: True when the server accepted the command (with the enhanced
            models the execution result follows as a CommandTermination)
        :raises ControlRefusedError: the server refused the command
            (``add_cause`` says why); also for a status-only object, without
            sending anything
        """
        ms = _oper_time_ms(oper_time)
        if ms and not self._has_oper_tm and self._model != ControlModel.STATUS_ONLY:
            raise InvalidArgumentError(
                f"operate {self._ref}: oper_time given, but the Oper structure has no operTm "
                f"(the object does not support time-activated operation)",
                IedClientError.USER_PROVIDED_INVALID_ARGUMENT, self._ref,
            )
        v = ctl_value(ctl_val, self._spec) if self._model != ControlModel.STATUS_ONLY else None
        return self._command("operate", self._lib.i61_control_operate, v._ptr if v is not None else self._ffi.NULL,
                             ms)

    def cancel(self) -> bool:
        """Cancel a selection (or a time-activated operate still waiting): Write
        ``Cancel`` with the values of the last select-with-value/operate.

        :returns: True
        :raises ControlRefusedError: the server refused the cancel
        """
        return self._command("cancel", self._lib.i61_control_cancel)

    def _wrong_model(self, op: str, needs: str) -> InvalidArgumentError:
        self._last_error = IedClientError.USER_PROVIDED_INVALID_ARGUMENT
        return InvalidArgumentError(
            f"{op} {self._ref}: the object is {self._model.name.lower().replace('_', '-')}; {op} is for {needs}",
            IedClientError.USER_PROVIDED_INVALID_ARGUMENT, self._ref,
        )

    # ------------------------------------------------------------ results

    def get_last_error(self) -> IedClientError:
        """Error code of the last select/select-with-value/operate/cancel (``OK`` after a success)."""
        return self._last_error

    def get_last_appl_error(self) -> Optional[LastApplError]:
        """The last LastApplError received for this object (with a refusal or
        a CommandTermination-; a CommandTermination+ records ``NO_ERROR``), or
        ``None`` when there was none yet."""
        ffi, lib = self._ffi, self._lib
        rec = ffi.new("i61_last_appl_error *")
        with self._lock:
            got = lib.i61_control_last_appl_error(self._ptr(), rec)
        return LastApplError._from_c(ffi, rec) if got else None

    # -------------------------------------------------------- terminations

    def on_termination(self, callback: Optional[Callable[[CommandTermination], None]]) -> None:
        """Call ``callback(termination)`` for every CommandTermination (+ or -)
        received for this object (``None`` removes it).

        Callbacks run on the connection's event thread (``py61850-reports``,
        which also delivers reports), in arrival order; they may call back into
        the connection. Exceptions are logged to ``py61850.client.control``.
        """
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable")
        self._callback = callback
        if callback is not None:
            self._conn._h.reports.ensure_running()

    def wait_for_termination(self, timeout: float = 10.0) -> Optional[CommandTermination]:
        """Wait for the CommandTermination of the last :meth:`operate` (enhanced
        models) and return it; ``None`` when none arrived within ``timeout``
        seconds or the connection closed.

        A termination that arrived before this call (after the operate) is
        returned at once.
        """
        with self._cond:
            self._cond.wait_for(lambda: bool(self._terminations) or self._conn_closed(), timeout)
            return self._terminations[0] if self._terminations else None

    def _conn_closed(self) -> bool:
        from ._enums import IedConnectionState

        return self._conn.state != IedConnectionState.CONNECTED

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _terminated(self, term: CommandTermination) -> None:
        """Pump thread: one termination for this object."""
        with self._cond:
            self._terminations.append(term)
            del self._terminations[:-8]
            self._cond.notify_all()
        cb = self._callback
        if cb is None:
            return
        try:
            cb(term)
        except Exception:
            log.exception("exception in the termination callback %r for %s", cb, self._ref)

    def __repr__(self) -> str:
        return f"<ControlObject {self._ref} {self._model.name}>"
