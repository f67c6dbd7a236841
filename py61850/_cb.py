"""Log, GOOSE, sampled value and setting group control blocks, client side.

:class:`LogControlBlock`, :class:`GooseControlBlock`, :class:`SVControlBlock`
and :class:`SettingGroupControlBlock` are client-side copies of a server's
control block, read with one MMS Read of all attributes
(:meth:`IedConnection.read_lcb`, :meth:`~IedConnection.read_gocb`,
:meth:`~IedConnection.read_svcb`, :meth:`~IedConnection.read_sgcb`). They wrap
lib61850's ``i61_cb``: setting a property changes the local copy and marks the
attribute changed; ``set_*_values`` writes the changed attributes (the enable
attribute last when it is being set TRUE, first when FALSE). Attributes the
server does not have read ``None`` (Edition 1 blocks, peers that omit
optional attributes).

Also here: :class:`PhyComAddress` (the ``DstAddress`` of GoCBs and SVCBs) and
the enums :class:`SVOptions`, :class:`SmpMod` and the attribute flags
:class:`LcbElement`, :class:`GoCBElement`, :class:`SVCBElement`,
:class:`SGCBElement` (``1 << attribute``, as in ``element_changed``).
"""
from __future__ import annotations

import datetime as _dt
import logging
import re
import threading
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING, Any, ClassVar, Optional, Union

from . import _ffi
from ._enums import IedClientError, MmsType, ReportTriggerOptions
from ._errors import (
    IedConnectionException,
    InvalidArgumentError,
    ObjectReferenceInvalidError,
    describe_code,
    exception_for,
)
from ._values import BitString, MmsValue, Timestamp

if TYPE_CHECKING:  # pragma: no cover
    from ._connection import IedConnection

__all__ = [
    "GoCBElement",
    "GooseControlBlock",
    "LcbElement",
    "LogControlBlock",
    "PhyComAddress",
    "SGCBElement",
    "SVCBElement",
    "SVControlBlock",
    "SVOptions",
    "SettingGroupControlBlock",
    "SmpMod",
]

log = logging.getLogger("py61850.client.cb")

Reference = Union[str, bytes]

# i61_cb_kind
KIND_LCB, KIND_GOCB, KIND_MSVCB, KIND_USVCB, KIND_SGCB = 1, 2, 3, 4, 5

#: Longest VisibleString129 attribute value (LogRef, DatSet, GoID, MsvID/UsvID).
_VSTRING_MAX = 129


# --------------------------------------------------------------------- enums


class SVOptions(IntFlag):
    """``OptFlds`` of a sampled value control block: which optional fields the
    sampled value messages carry (bit *n* of the 5-bit string is ``1 << n``)."""

    NONE = 0
    #: refresh-time (the sample's time stamp)
    REFRESH_TIME = 1
    #: sample-synchronized (Edition 1; reserved in Edition 2)
    SAMPLE_SYNCHRONIZED = 2
    #: sample-rate
    SAMPLE_RATE = 4
    #: data-set name
    DATA_SET = 8
    #: security
    SECURITY = 16


class SmpMod(IntEnum):
    """``SmpMod`` of a sampled value control block: the unit of ``SmpRate``."""

    SAMPLES_PER_PERIOD = 0
    SAMPLES_PER_SECOND = 1
    SECONDS_PER_SAMPLE = 2

    def __str__(self) -> str:
        return self.name


class LcbElement(IntFlag):
    """Attributes of a log control block (``1 << i61_lcb_attr``)."""

    NONE = 0
    LOG_ENA = 1 << 0
    LOG_REF = 1 << 1
    DATSET = 1 << 2
    OLD_ENTR_TM = 1 << 3
    NEW_ENTR_TM = 1 << 4
    OLD_ENT = 1 << 5
    NEW_ENT = 1 << 6
    TRG_OPS = 1 << 7
    INTG_PD = 1 << 8


class GoCBElement(IntFlag):
    """Attributes of a GOOSE control block (``1 << i61_gocb_attr``)."""

    NONE = 0
    GO_ENA = 1 << 0
    GO_ID = 1 << 1
    DATSET = 1 << 2
    CONF_REV = 1 << 3
    NDS_COM = 1 << 4
    DST_ADDRESS = 1 << 5
    MIN_TIME = 1 << 6
    MAX_TIME = 1 << 7
    FIXED_OFFS = 1 << 8


class SVCBElement(IntFlag):
    """Attributes of a sampled value control block (``1 << i61_svcb_attr``)."""

    NONE = 0
    SV_ENA = 1 << 0
    RESV = 1 << 1
    SV_ID = 1 << 2
    DATSET = 1 << 3
    CONF_REV = 1 << 4
    SMP_RATE = 1 << 5
    OPT_FLDS = 1 << 6
    SMP_MOD = 1 << 7
    DST_ADDRESS = 1 << 8
    NO_ASDU = 1 << 9


class SGCBElement(IntFlag):
    """Attributes of a setting group control block (``1 << i61_sgcb_attr``)."""

    NONE = 0
    NUM_OF_SG = 1 << 0
    ACT_SG = 1 << 1
    EDIT_SG = 1 << 2
    CNF_EDIT = 1 << 3
    L_ACT_TM = 1 << 4
    RESV_TMS = 1 << 5


# ------------------------------------------------------------ PhyComAddress

_MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}([-:.]?)[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}$")
_ADDR_RE = re.compile(
    r"^\s*(?P<mac>\S+)(?:\s+APPID\s+(?P<appid>\S+))?(?:\s+VLAN\s+(?P<vlan>\S+))?"
    r"(?:\s+prio(?:rity)?\s+(?P<prio>\S+))?\s*$",
    re.IGNORECASE,
)


def _mac_bytes(mac: Union[bytes, bytearray, str]) -> bytes:
    if isinstance(mac, (bytes, bytearray, memoryview)):
        raw = bytes(mac)
    elif isinstance(mac, str):
        text = mac.strip()
        if not _MAC_RE.match(text):
            raise ValueError(f"{mac!r} is not a MAC address (01-0C-CD-01-00-01)")
        raw = bytes.fromhex(re.sub(r"[-:.]", "", text))
    else:
        raise TypeError(f"a MAC address is bytes or str, got {type(mac).__name__}")
    if len(raw) != 6:
        raise ValueError(f"a MAC address has 6 octets, got {len(raw)}")
    return raw


def _small_int(value: Any, lo: int, hi: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise ValueError(f"{what} {value} is out of range {lo}..{hi}")
    return int(value)


@dataclass(frozen=True, init=False)
class PhyComAddress:
    """A physical communication address (``DstAddress`` of GoCBs and SVCBs).

    :param mac: destination MAC address, 6 octets or text such as
        ``"01-0C-CD-01-00-01"`` (``:`` separators work too)
    :param appid: APPID 0..65535
    :param vlan_id: VLAN identifier 0..4095
    :param vlan_priority: VLAN (user) priority 0..7
    :raises ValueError: a field out of range, a malformed MAC address

    ``str(addr)`` is ``"01-0C-CD-01-00-01 APPID 0x1001 VLAN 5 prio 4"``;
    :meth:`parse` reads that text back.
    """

    #: destination MAC address (6 octets)
    mac: bytes
    #: APPID
    appid: int
    #: VLAN identifier
    vlan_id: int
    #: VLAN priority
    vlan_priority: int

    def __init__(self, mac: Union[bytes, str], appid: int = 0, vlan_id: int = 0, vlan_priority: int = 4) -> None:
        object.__setattr__(self, "mac", _mac_bytes(mac))
        object.__setattr__(self, "appid", _small_int(appid, 0, 0xFFFF, "APPID"))
        object.__setattr__(self, "vlan_id", _small_int(vlan_id, 0, 0xFFF, "VLAN id"))
        object.__setattr__(self, "vlan_priority", _small_int(vlan_priority, 0, 7, "VLAN priority"))

    @property
    def mac_str(self) -> str:
        """The MAC address as ``"01-0C-CD-01-00-01"``."""
        return "-".join(f"{b:02X}" for b in self.mac)

    def __str__(self) -> str:
        return f"{self.mac_str} APPID 0x{self.appid:04X} VLAN {self.vlan_id} prio {self.vlan_priority}"

    @classmethod
    def parse(cls, text: str) -> "PhyComAddress":
        """Read the ``str()`` form back: ``"01-0C-CD-01-00-01 APPID 0x1001 VLAN 5 prio 4"``
        (APPID, VLAN and prio are optional; numbers are decimal or ``0x`` hex).

        :raises ValueError: malformed text
        """
        m = _ADDR_RE.match(text)
        if m is None:
            raise ValueError(f"{text!r} is not an address (01-0C-CD-01-00-01 APPID 0x1001 VLAN 5 prio 4)")

        def num(group: str, default: int) -> int:
            s = m.group(group)
            if s is None:
                return default
            try:
                return int(s, 0)
            except ValueError:
                raise ValueError(f"{text!r}: {s!r} is not a number") from None

        return cls(m.group("mac"), num("appid", 0), num("vlan", 0), num("prio", 4))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ``{"mac": "01-0C-CD-01-00-01", "appid": 4097, ...}``."""
        return {"mac": self.mac_str, "appid": self.appid, "vlan_id": self.vlan_id,
                "vlan_priority": self.vlan_priority}


# ---------------------------------------------------------------- references


def _text(ref: Any, what: str = "reference") -> str:
    if isinstance(ref, (bytes, bytearray)):
        ref = bytes(ref).decode("utf-8", errors="replace")
    elif not isinstance(ref, str):
        raise TypeError(f"{what} must be str or bytes, got {type(ref).__name__}")
    if "\x00" in ref:
        raise InvalidArgumentError(f"{what} contains a NUL character", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return ref.strip()


def split_cb_reference(ref: Reference, fcs: tuple[str, ...], what: str) -> tuple[str, str, Optional[str], str]:
    """``"LD/LN.name"``, ``"LD/LN.FC.name"`` or ``"LD/LN$FC$name"`` -> ``(ld, ln, fc or None, name)``.

    :param fcs: the FCs allowed for this kind of control block
    :raises ObjectReferenceInvalidError: another shape, or another FC
    """
    text = _text(ref)
    ld, sep, rest = text.partition("/")
    parts = rest.replace("$", ".").split(".")
    ok = bool(sep and ld) and all(parts) and len(parts) in (2, 3)
    fc: Optional[str] = None
    if ok and len(parts) == 3:
        fc = parts[1].upper()
        ok = fc in fcs
    if not ok:
        forms = " or ".join(f"LD/LN.{f}.name" for f in fcs)
        raise ObjectReferenceInvalidError(
            f"{text!r} is not a {what} reference (LD/LN.name or {forms}) (OBJECT_REFERENCE_INVALID)",
            IedClientError.OBJECT_REFERENCE_INVALID, text,
        )
    return ld, parts[0], fc, parts[-1]


def sgcb_ld(ld: Reference) -> str:
    """The LD name of an SGCB argument: ``"TESTLD0"``, ``"TESTLD0/LLN0"`` or
    ``"TESTLD0/LLN0.SGCB"`` (also ``LLN0.SP.SGCB`` / ``LLN0$SP$SGCB``)."""
    text = _text(ld, "logical device")
    name, sep, rest = text.partition("/")
    if sep:
        parts = rest.replace("$", ".").split(".")
        if parts[0] != "LLN0" or parts[1:] not in ([], ["SGCB"], ["SP", "SGCB"]):
            name = ""
    if not name or any(ch in name for ch in ".$ "):
        raise ObjectReferenceInvalidError(
            f"{text!r} is not a logical device (\"LD\" or \"LD/LLN0\") (OBJECT_REFERENCE_INVALID)",
            IedClientError.OBJECT_REFERENCE_INVALID, text,
        )
    return name


# ------------------------------------------------------------- base class


def _as_datetime(value: Any) -> Optional[_dt.datetime]:
    return value if isinstance(value, _dt.datetime) else None


class _ControlBlock:
    """What every client-side control block copy shares (wraps an ``i61_cb``)."""

    __slots__ = ("_conn", "_ptr", "_lock", "_ref", "_kind", "__weakref__")

    #: attribute index -> Python property name (in i61 attribute order)
    _PROPS: ClassVar[tuple[str, ...]] = ()
    #: flag enum of the attributes
    _ELEMENT: ClassVar[Any] = None
    #: i61 kinds this class wraps
    _CREATOR: ClassVar[str] = "IedConnection"

    def __init__(self) -> None:
        raise TypeError(f"use {self._CREATOR}() to get a {type(self).__name__}")

    @classmethod
    def _own(cls, conn: "IedConnection", ptr: Any) -> Any:
        ffi, lib = _ffi.load()
        self = object.__new__(cls)
        self._conn = conn
        self._ptr = ffi.gc(ptr, lib.i61_cb_free)
        self._lock = threading.Lock()
        p = lib.i61_cb_reference(ptr)
        self._ref = ffi.string(p).decode("utf-8", "replace") if p != ffi.NULL else ""
        self._kind = int(lib.i61_cb_get_kind(ptr))
        return self

    # ---------------------------------------------------------------- general

    @property
    def reference(self) -> str:
        """``"LD/LN.FC.name"`` (an SGCB: ``"LD/LLN0.SP.SGCB"``)."""
        return self._ref

    @property
    def connection(self) -> "IedConnection":
        """The connection it was read with."""
        return self._conn

    @property
    def element_changed(self) -> Any:
        """Attributes set locally since the last read or write (flags)."""
        _, lib = _ffi.load()
        with self._lock:
            return self._ELEMENT(int(lib.i61_cb_changed(self._ptr)) & ((1 << len(self._PROPS)) - 1))

    def clear_element_changed(self) -> None:
        """Forget the local changes' marks (the values stay)."""
        _, lib = _ffi.load()
        with self._lock:
            lib.i61_cb_clear_changed(self._ptr)

    def _attr_index(self, attr: Any) -> int:
        if isinstance(attr, str):
            key = attr.strip()
            if key in self._PROPS:
                return self._PROPS.index(key)
            for i in range(len(self._PROPS)):
                if key.lower() == self._wire_name(i).lower():
                    return i
            raise ValueError(f"{type(self).__name__} has no attribute {attr!r}")
        if isinstance(attr, self._ELEMENT):
            n = int(attr)
            i = n.bit_length() - 1
            if i >= 0 and n == 1 << i:
                return i
        raise ValueError(f"has() takes one {self._ELEMENT.__name__} or an attribute name, got {attr!r}")

    def has(self, attr: Any) -> bool:
        """True when the server's block has this attribute.

        :param attr: one flag of the block's element enum (``LcbElement.INTG_PD``),
            a property name (``"intg_pd"``) or the attribute's MMS name (``"IntgPd"``)
        """
        _, lib = _ffi.load()
        i = self._attr_index(attr)
        with self._lock:
            return bool(lib.i61_cb_has(self._ptr, i))

    def _wire_name(self, attr: int) -> str:
        ffi, lib = _ffi.load()
        p = lib.i61_cb_attr_name(self._kind, attr)
        return ffi.string(p).decode("ascii", "replace") if p != ffi.NULL else self._PROPS[attr]

    # --------------------------------------------------------------- internals

    def _value(self, attr: int) -> Optional[MmsValue]:
        """An independent copy of the attribute's MMS value (``None`` when absent)."""
        ffi, lib = _ffi.load()
        with self._lock:
            p = lib.i61_cb_get(self._ptr, attr)
            if p == ffi.NULL:
                return None
            return MmsValue._own(lib.i61_value_clone(p))

    def _get(self, attr: int) -> Any:
        ffi, lib = _ffi.load()
        with self._lock:
            p = lib.i61_cb_get(self._ptr, attr)
            if p == ffi.NULL:
                return None
            v = MmsValue._view(p, self)  # type: ignore[arg-type]  # converted before the lock is left
            if v.data_access_error is not None:
                return None
            return v.to_python()

    def _type_of(self, attr: int) -> Optional[MmsType]:
        ffi, lib = _ffi.load()
        with self._lock:
            p = lib.i61_cb_get(self._ptr, attr)
            return None if p == ffi.NULL else MmsType(lib.i61_value_type(p))

    def _bits(self, attr: int, default_size: int, offset: int) -> tuple[Optional[int], int]:
        """(mask, bit size) of a bit-string attribute; bit ``n`` is ``1 << (n - offset)``."""
        ffi, lib = _ffi.load()
        with self._lock:
            p = lib.i61_cb_get(self._ptr, attr)
            if p == ffi.NULL or lib.i61_value_type(p) != MmsType.BIT_STRING:
                return None, default_size
            bits = MmsValue._view(p, self).to_bit_string()  # type: ignore[arg-type]
        mask = 0
        for i, on in enumerate(bits):
            if on and i >= offset:
                mask |= 1 << (i - offset)
        return mask, bits.size or default_size

    def _fail(self, err: int, attr: int) -> IedConnectionException:
        name = self._wire_name(attr)
        if err == IedClientError.TYPE_INCONSISTENT:
            text = f"{self._ref}.{name}: value of the wrong type"
        else:
            text = f"{self._ref}.{name}: cannot set"
        return exception_for(err, f"{text} ({describe_code(err)})", f"{self._ref}.{name}")

    def _set(self, attr: int, value: MmsValue) -> None:
        _, lib = _ffi.load()
        with self._lock:
            err = int(lib.i61_cb_set(self._ptr, attr, value._ptr))
        if err != 0:
            raise self._fail(err, attr)

    def _bad(self, attr: int, text: str) -> InvalidArgumentError:
        name = self._wire_name(attr)
        return InvalidArgumentError(f"{self._ref}.{name}: {text}", IedClientError.USER_PROVIDED_INVALID_ARGUMENT,
                                    f"{self._ref}.{name}")

    def _set_bool(self, attr: int, value: Any) -> None:
        self._set(attr, MmsValue.boolean(bool(value)))

    def _set_str(self, attr: int, value: Reference) -> None:
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("ascii", errors="replace")
        if not isinstance(value, str):
            raise TypeError(f"{self._wire_name(attr)} is a string, got {type(value).__name__}")
        if len(value) > _VSTRING_MAX:
            raise self._bad(attr, f"{len(value)} characters, at most {_VSTRING_MAX} fit")
        self._set(attr, MmsValue.visible_string(value))

    def _set_int(self, attr: int, value: Any, lo: int, hi: int, signed: bool = False) -> None:
        """An integer attribute, sent with the MMS type the server used for it
        (INTEGER or UNSIGNED; ``signed`` decides when it did not say)."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{self._wire_name(attr)} is an integer, got {type(value).__name__}")
        if not lo <= value <= hi:
            raise self._bad(attr, f"{value} is out of range {lo}..{hi}")
        t = self._type_of(attr)
        use_signed = t == MmsType.INTEGER if t in (MmsType.INTEGER, MmsType.UNSIGNED) else signed
        if use_signed:
            mv = MmsValue.int32(value) if -(1 << 31) <= value < (1 << 31) else MmsValue.int64(value)
        else:
            mv = MmsValue.uint32(value)
        self._set(attr, mv)

    def _set_bits(self, attr: int, flags: Any, default_size: int, offset: int) -> None:
        flags = int(flags)
        _, size = self._bits(attr, default_size, offset)
        if flags < 0 or flags >> max(size - offset, 0):
            raise self._bad(attr, f"flags 0x{flags:x} do not fit {size} bits")
        bits = [False] * offset + [bool(flags & (1 << (i - offset))) for i in range(offset, size)]
        self._set(attr, MmsValue.bit_string(bits))

    def _dst_address(self, attr: int) -> Optional[PhyComAddress]:
        v = self._get(attr)
        if not isinstance(v, list) or len(v) < 4:
            return None
        mac, prio, vid, appid = v[:4]
        try:
            return PhyComAddress(bytes(mac), int(appid) & 0xFFFF, int(vid) & 0xFFF, int(prio) & 7)
        except (TypeError, ValueError):
            log.warning("%s: DstAddress %r is not an address", self._ref, v)
            return None

    def _set_dst_address(self, attr: int, addr: Union[PhyComAddress, str]) -> None:
        if isinstance(addr, str):
            addr = PhyComAddress.parse(addr)
        if not isinstance(addr, PhyComAddress):
            raise TypeError(f"DstAddress is a PhyComAddress, got {type(addr).__name__}")
        cur = self._value(attr)
        types: list[Optional[MmsType]] = [None] * 4
        if cur is not None and cur.type == MmsType.STRUCTURE and len(cur) >= 4:
            types = [el.type for el in cur[:4]]

        def num(x: int, t: Optional[MmsType]) -> MmsValue:
            return MmsValue.int32(x) if t == MmsType.INTEGER else MmsValue.uint32(x)

        self._set(attr, MmsValue.structure([
            MmsValue.octet_string(addr.mac),
            num(addr.vlan_priority, types[1]),
            num(addr.vlan_id, types[2]),
            num(addr.appid, types[3]),
        ]))

    # ----------------------------------------------------------------- output

    def attributes(self) -> dict[str, Any]:
        """The attributes the server has, by MMS name (``{"GoEna": False,
        "GoID": "...", ...}``), in attribute order, with the values of the
        properties (flags, :class:`PhyComAddress`, datetimes...)."""
        _, lib = _ffi.load()
        out: dict[str, Any] = {}
        for i, name in enumerate(self._PROPS):
            with self._lock:
                present = bool(lib.i61_cb_has(self._ptr, i))
            if present:
                out[self._wire_name(i)] = getattr(self, name)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The attributes the server has, as JSON-serialisable data (property
        name -> value: flags as lists of names, times as ISO 8601, octets as hex,
        addresses as dicts)."""
        out: dict[str, Any] = {"reference": self._ref}
        for name in self._PROPS:
            out[name] = _jsonable(getattr(self, name))
        return out

    def __repr__(self) -> str:
        try:
            shown = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._PROPS[:3])
            return f"<{type(self).__name__} {self._ref} {shown}>"
        except Exception:  # repr must never fail
            return f"<{type(self).__name__} {self._ref}>"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str, float)):
        return value
    if isinstance(value, IntFlag):
        return [m.name for m in type(value) if m.value and m in value]  # type: ignore[misc]
    if isinstance(value, IntEnum):
        return value.name
    if isinstance(value, int):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, PhyComAddress):
        return value.to_dict()
    if isinstance(value, BitString):
        return str(value)
    if isinstance(value, Timestamp):
        return value.datetime.isoformat()
    return str(value)


# ------------------------------------------------------------------- LCB

# i61_lcb_attr
(_LOG_ENA, _LOG_REF, _L_DATSET, _OLD_ENTR_TM, _NEW_ENTR_TM, _OLD_ENT, _NEW_ENT, _L_TRG_OPS,
 _L_INTG_PD) = range(9)
_TRG_OPS_BITS = 6


class LogControlBlock(_ControlBlock):
    """Client-side copy of a log control block (LCB), from :meth:`IedConnection.read_lcb`.

    Setting a property changes the local copy and marks the attribute changed
    (:attr:`element_changed`); :meth:`IedConnection.set_lcb_values` writes the
    changed ones (LogEna last when enabling, first when disabling). Properties
    of attributes the server does not have read ``None``. The object keeps its
    connection alive; use it from one thread at a time.

    The log itself is read with :meth:`IedConnection.query_log_by_time` /
    :meth:`~IedConnection.query_log_after` using :attr:`log_ref`.
    """

    __slots__ = ()
    _PROPS = ("log_ena", "log_ref", "dataset", "old_entry_time", "new_entry_time", "old_entry",
              "new_entry", "trg_ops", "intg_pd")
    _ELEMENT = LcbElement
    _CREATOR = "IedConnection.read_lcb"

    @property
    def log_ena(self) -> Optional[bool]:
        """LogEna: logging enabled."""
        return self._get(_LOG_ENA)

    @log_ena.setter
    def log_ena(self, value: bool) -> None:
        self._set_bool(_LOG_ENA, value)

    @property
    def log_ref(self) -> Optional[str]:
        """LogRef: the log this LCB writes to (``"LD/LLN0$EventLog"``)."""
        return self._get(_LOG_REF)

    @log_ref.setter
    def log_ref(self, value: Reference) -> None:
        self._set_str(_LOG_REF, value)

    @property
    def dataset(self) -> Optional[str]:
        """DatSet: the data set whose members are logged (``"LD/LLN0$Events"``)."""
        return self._get(_L_DATSET)

    @dataset.setter
    def dataset(self, value: Reference) -> None:
        self._set_str(_L_DATSET, value)

    @property
    def old_entry_time(self) -> Optional[_dt.datetime]:
        """OldEntrTm: time of the oldest entry in the log (read only)."""
        return _as_datetime(self._get(_OLD_ENTR_TM))

    @property
    def new_entry_time(self) -> Optional[_dt.datetime]:
        """NewEntrTm: time of the newest entry in the log (read only)."""
        return _as_datetime(self._get(_NEW_ENTR_TM))

    @property
    def old_entry(self) -> Optional[bytes]:
        """OldEnt: EntryID of the oldest entry (read only)."""
        v = self._get(_OLD_ENT)
        return bytes(v) if isinstance(v, (bytes, bytearray)) else None

    @property
    def new_entry(self) -> Optional[bytes]:
        """NewEnt: EntryID of the newest entry (read only)."""
        v = self._get(_NEW_ENT)
        return bytes(v) if isinstance(v, (bytes, bytearray)) else None

    @property
    def trg_ops(self) -> Optional[ReportTriggerOptions]:
        """TrgOps: what makes an entry (data change, quality change, update, integrity)."""
        mask, _ = self._bits(_L_TRG_OPS, _TRG_OPS_BITS, 1)
        return None if mask is None else ReportTriggerOptions(mask)

    @trg_ops.setter
    def trg_ops(self, value: Union[ReportTriggerOptions, int]) -> None:
        self._set_bits(_L_TRG_OPS, value, _TRG_OPS_BITS, 1)

    @property
    def intg_pd(self) -> Optional[int]:
        """IntgPd: integrity period in ms (0: none)."""
        return self._get(_L_INTG_PD)

    @intg_pd.setter
    def intg_pd(self, value: int) -> None:
        self._set_int(_L_INTG_PD, value, 0, 0xFFFFFFFF)

    def enable(self) -> None:
        """LogEna = True (with the other changed attributes) on the server."""
        self.log_ena = True
        self._conn.set_lcb_values(self)

    def disable(self) -> None:
        """LogEna = False on the server."""
        self.log_ena = False
        self._conn.set_lcb_values(self)


# ------------------------------------------------------------------ GoCB

# i61_gocb_attr
(_GO_ENA, _GO_ID, _G_DATSET, _G_CONF_REV, _NDS_COM, _G_DST, _MIN_TIME, _MAX_TIME,
 _FIXED_OFFS) = range(9)


class GooseControlBlock(_ControlBlock):
    """Client-side copy of a GOOSE control block (GoCB), from :meth:`IedConnection.read_gocb`.

    ``go_ena``, ``go_id``, ``dataset`` and ``dst_address`` are writable
    (servers accept configuration changes only while GoEna is FALSE);
    :meth:`IedConnection.set_gocb_values` writes what was changed, GoEna last
    when enabling and first when disabling.
    """

    __slots__ = ()
    _PROPS = ("go_ena", "go_id", "dataset", "conf_rev", "nds_com", "dst_address", "min_time",
              "max_time", "fixed_offs")
    _ELEMENT = GoCBElement
    _CREATOR = "IedConnection.read_gocb"

    @property
    def go_ena(self) -> Optional[bool]:
        """GoEna: publishing enabled."""
        return self._get(_GO_ENA)

    @go_ena.setter
    def go_ena(self, value: bool) -> None:
        self._set_bool(_GO_ENA, value)

    @property
    def go_id(self) -> Optional[str]:
        """GoID: the identifier in the GOOSE messages."""
        return self._get(_GO_ID)

    @go_id.setter
    def go_id(self, value: Reference) -> None:
        self._set_str(_GO_ID, value)

    @property
    def dataset(self) -> Optional[str]:
        """DatSet: the published data set (``"LD/LLN0$Events"``)."""
        return self._get(_G_DATSET)

    @dataset.setter
    def dataset(self, value: Reference) -> None:
        self._set_str(_G_DATSET, value)

    @property
    def conf_rev(self) -> Optional[int]:
        """ConfRev: configuration revision (read only)."""
        return self._get(_G_CONF_REV)

    @property
    def nds_com(self) -> Optional[bool]:
        """NdsCom: needs commissioning (read only)."""
        return self._get(_NDS_COM)

    @property
    def dst_address(self) -> Optional[PhyComAddress]:
        """DstAddress: destination MAC address, APPID, VLAN id and priority."""
        return self._dst_address(_G_DST)

    @dst_address.setter
    def dst_address(self, value: Union[PhyComAddress, str]) -> None:
        self._set_dst_address(_G_DST, value)

    @property
    def min_time(self) -> Optional[int]:
        """MinTime: ms between the first repetitions after a change (read only)."""
        return self._get(_MIN_TIME)

    @property
    def max_time(self) -> Optional[int]:
        """MaxTime: ms between repetitions in a steady state (read only)."""
        return self._get(_MAX_TIME)

    @property
    def fixed_offs(self) -> Optional[bool]:
        """FixedOffs: fixed-offset encoding of the messages (read only)."""
        return self._get(_FIXED_OFFS)

    def enable(self) -> None:
        """GoEna = True (with the other changed attributes) on the server."""
        self.go_ena = True
        self._conn.set_gocb_values(self)

    def disable(self) -> None:
        """GoEna = False on the server."""
        self.go_ena = False
        self._conn.set_gocb_values(self)


# ------------------------------------------------------------------ SVCB

# i61_svcb_attr
(_SV_ENA, _RESV, _SV_ID, _S_DATSET, _S_CONF_REV, _SMP_RATE, _OPT_FLDS, _SMP_MOD, _S_DST,
 _NO_ASDU) = range(10)
_SV_OPT_BITS = 5


class SVControlBlock(_ControlBlock):
    """Client-side copy of a sampled value control block, multicast (MSVCB, FC MS)
    or unicast (USVCB, FC US), from :meth:`IedConnection.read_svcb`.

    Writable: ``sv_ena``, ``resv`` (USVCB), ``sv_id``, ``dataset``, ``smp_rate``,
    ``opt_flds``, ``smp_mod``, ``dst_address``, ``no_asdu`` (as far as the server
    allows); :meth:`IedConnection.set_svcb_values` writes the changed ones.
    """

    __slots__ = ()
    _PROPS = ("sv_ena", "resv", "sv_id", "dataset", "conf_rev", "smp_rate", "opt_flds", "smp_mod",
              "dst_address", "no_asdu")
    _ELEMENT = SVCBElement
    _CREATOR = "IedConnection.read_svcb"

    @property
    def multicast(self) -> bool:
        """True for an MSVCB, False for a USVCB."""
        return self._kind == KIND_MSVCB

    @property
    def sv_ena(self) -> Optional[bool]:
        """SvEna: publishing enabled."""
        return self._get(_SV_ENA)

    @sv_ena.setter
    def sv_ena(self, value: bool) -> None:
        self._set_bool(_SV_ENA, value)

    @property
    def resv(self) -> Optional[bool]:
        """Resv: reserved by a client (USVCB only)."""
        return self._get(_RESV)

    @resv.setter
    def resv(self, value: bool) -> None:
        self._set_bool(_RESV, value)

    @property
    def sv_id(self) -> Optional[str]:
        """MsvID / UsvID: the identifier in the sampled value messages."""
        return self._get(_SV_ID)

    @sv_id.setter
    def sv_id(self, value: Reference) -> None:
        self._set_str(_SV_ID, value)

    @property
    def dataset(self) -> Optional[str]:
        """DatSet: the published data set."""
        return self._get(_S_DATSET)

    @dataset.setter
    def dataset(self, value: Reference) -> None:
        self._set_str(_S_DATSET, value)

    @property
    def conf_rev(self) -> Optional[int]:
        """ConfRev: configuration revision (read only)."""
        return self._get(_S_CONF_REV)

    @property
    def smp_rate(self) -> Optional[int]:
        """SmpRate: samples per period / per second, or seconds per sample (:attr:`smp_mod`)."""
        return self._get(_SMP_RATE)

    @smp_rate.setter
    def smp_rate(self, value: int) -> None:
        self._set_int(_SMP_RATE, value, 0, 0xFFFF)

    @property
    def opt_flds(self) -> Optional[SVOptions]:
        """OptFlds: the optional fields of the messages."""
        mask, _ = self._bits(_OPT_FLDS, _SV_OPT_BITS, 0)
        return None if mask is None else SVOptions(mask & 0x1F)

    @opt_flds.setter
    def opt_flds(self, value: Union[SVOptions, int]) -> None:
        self._set_bits(_OPT_FLDS, value, _SV_OPT_BITS, 0)

    @property
    def smp_mod(self) -> Optional[Union[SmpMod, int]]:
        """SmpMod: unit of :attr:`smp_rate` (an int when the server sends an unknown value)."""
        v = self._get(_SMP_MOD)
        if v is None:
            return None
        try:
            return SmpMod(v)
        except ValueError:
            return int(v)

    @smp_mod.setter
    def smp_mod(self, value: Union[SmpMod, int]) -> None:
        self._set_int(_SMP_MOD, int(value), -128, 127, signed=True)

    @property
    def dst_address(self) -> Optional[PhyComAddress]:
        """DstAddress: destination MAC address, APPID, VLAN id and priority."""
        return self._dst_address(_S_DST)

    @dst_address.setter
    def dst_address(self, value: Union[PhyComAddress, str]) -> None:
        self._set_dst_address(_S_DST, value)

    @property
    def no_asdu(self) -> Optional[int]:
        """noASDU: ASDUs (samples) per message."""
        return self._get(_NO_ASDU)

    @no_asdu.setter
    def no_asdu(self, value: int) -> None:
        self._set_int(_NO_ASDU, value, 0, 0xFFFF)

    def enable(self) -> None:
        """SvEna = True (with the other changed attributes) on the server."""
        self.sv_ena = True
        self._conn.set_svcb_values(self)

    def disable(self) -> None:
        """SvEna = False on the server."""
        self.sv_ena = False
        self._conn.set_svcb_values(self)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["multicast"] = self.multicast
        return out


# ------------------------------------------------------------------ SGCB

# i61_sgcb_attr
_NUM_OF_SG, _ACT_SG, _EDIT_SG, _CNF_EDIT, _L_ACT_TM, _SG_RESV_TMS = range(6)


class SettingGroupControlBlock(_ControlBlock):
    """Client-side copy of a logical device's setting group control block
    (``LD/LLN0.SP.SGCB``), from :meth:`IedConnection.read_sgcb`. Read only:
    change it with :meth:`IedConnection.select_active_sg`,
    :meth:`~IedConnection.select_edit_sg` and
    :meth:`~IedConnection.confirm_edit_sg_values`, then read it again
    (:meth:`refresh`)."""

    __slots__ = ()
    _PROPS = ("num_of_sg", "act_sg", "edit_sg", "cnf_edit", "lact_tm", "resv_tms")
    _ELEMENT = SGCBElement
    _CREATOR = "IedConnection.read_sgcb"

    @property
    def ld(self) -> str:
        """The logical device (``"TESTLD0"``)."""
        return self._ref.split("/", 1)[0]

    @property
    def num_of_sg(self) -> Optional[int]:
        """NumOfSG: number of setting groups (1..NumOfSG)."""
        return self._get(_NUM_OF_SG)

    @property
    def act_sg(self) -> Optional[int]:
        """ActSG: the active setting group."""
        return self._get(_ACT_SG)

    @property
    def edit_sg(self) -> Optional[int]:
        """EditSG: the group being edited (0: none)."""
        return self._get(_EDIT_SG)

    @property
    def cnf_edit(self) -> Optional[bool]:
        """CnfEdit: reads FALSE (TRUE is written to confirm an edit)."""
        return self._get(_CNF_EDIT)

    @property
    def lact_tm(self) -> Optional[_dt.datetime]:
        """LActTm: when the active group was last changed."""
        return _as_datetime(self._get(_L_ACT_TM))

    @property
    def resv_tms(self) -> Optional[int]:
        """ResvTms (Edition 2): seconds left of the edit reservation; ``None`` when
        the server has no ResvTms."""
        return self._get(_SG_RESV_TMS)

    def refresh(self) -> None:
        """Read every attribute again from the server."""
        update_cb(self._conn, self, "read_sgcb")

    def __repr__(self) -> str:
        try:
            return (f"<SettingGroupControlBlock {self._ref} num_of_sg={self.num_of_sg} act_sg={self.act_sg} "
                    f"edit_sg={self.edit_sg}>")
        except Exception:  # repr must never fail
            return f"<SettingGroupControlBlock {self._ref}>"


# ------------------------------------------------------------- services


def read_cb(conn: "IedConnection", op: str, ref_text: str, ref_c: str, kind: int, cls: Any) -> Any:
    """One ``i61_client_read_cb``; ``ref_text`` names the block in errors."""
    ffi, lib = conn._ffi, conn._lib
    out = ffi.new("i61_cb **")
    conn._call(op, ref_text, None, lib.i61_client_read_cb, ref_c.encode("utf-8"), kind, out)
    return cls._own(conn, out[0])


def update_cb(conn: "IedConnection", cb: _ControlBlock, op: str) -> None:
    lib = conn._lib

    def locked(c: Any) -> int:
        with cb._lock:
            return int(lib.i61_client_update_cb(c, cb._ptr))

    conn._call(op, cb.reference, None, locked)


def set_cb(conn: "IedConnection", cb: _ControlBlock, single_request: bool, op: str) -> None:
    """Write the changed attributes; the exception names the refused attribute."""
    ffi, lib = conn._ffi, conn._lib
    failed = ffi.new("int *", -1)
    c = conn._enter()
    try:
        slots = conn._acquire_slot(op, cb.reference, None)
        try:
            with cb._lock:
                err = int(lib.i61_client_set_cb(c, cb._ptr, 1 if single_request else 0, failed))
        finally:
            if slots is not None:
                slots.release()
        if err != 0:
            exc = conn._fail(c, err, op, cb.reference)
            if failed[0] >= 0:
                exc.reference = f"{cb.reference}.{cb._wire_name(int(failed[0]))}"
            raise exc
    finally:
        conn._leave()


def check_sg(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} must be an int, got {type(n).__name__}")
    if not 0 <= n <= 255:
        raise InvalidArgumentError(f"{what} {n} is out of range 0..255", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return int(n)

