"""Values: :class:`MmsValue` (a C ``i61_value`` owned from Python) and the
pure-Python helpers :class:`BitString`, :class:`Quality`, :class:`Timestamp`
and :class:`TimeQuality`.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional, Sequence, Union, overload

from . import _ffi
from ._enums import DataAccessError, IedClientError, MmsType, _NamedIntEnum
from ._errors import (
    IedConnectionException,
    InvalidArgumentError,
    UnexpectedValueError,
    code_for_data_access_error,
    exception_for,
)

__all__ = [
    "BitString",
    "MmsValue",
    "Quality",
    "Source",
    "TimeQuality",
    "Timestamp",
    "Validity",
]

_UTC = _dt.timezone.utc
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_UTC)
_EPOCH_1984 = _dt.datetime(1984, 1, 1, tzinfo=_UTC)
_FRACTION_ONE = 1 << 24


# --------------------------------------------------------------------- BitString


class BitString:
    """An immutable MMS bit string.

    Bit 0 is the first bit on the wire (the most significant bit of the first
    octet), as in IEC 61850 (quality, TrgOps, OptFlds, ...).

    :param size: number of bits (0 or more)
    :param data: ``(size + 7) // 8`` octets holding the bits MSB first; ``None``
        means all bits clear. Bits beyond ``size`` in the last octet are ignored.
    :raises ValueError: ``size`` is negative or ``data`` has the wrong length
    """

    __slots__ = ("_size", "_data")

    def __init__(self, size: int, data: Optional[bytes] = None) -> None:
        size = int(size)
        if size < 0:
            raise ValueError("bit string size must not be negative")
        nbytes = (size + 7) // 8
        if data is None:
            raw = bytearray(nbytes)
        else:
            raw = bytearray(data)
            if len(raw) != nbytes:
                raise ValueError(f"a {size}-bit string needs {nbytes} octets, got {len(raw)}")
        unused = nbytes * 8 - size
        if unused:
            raw[-1] &= (0xFF << unused) & 0xFF
        self._size = size
        self._data = bytes(raw)

    @classmethod
    def from_bools(cls, bits: Iterable[Any]) -> "BitString":
        """Build from a sequence of truth values (bit 0 first)."""
        flags = [bool(b) for b in bits]
        raw = bytearray((len(flags) + 7) // 8)
        for i, on in enumerate(flags):
            if on:
                raw[i >> 3] |= 0x80 >> (i & 7)
        return cls(len(flags), bytes(raw))

    @classmethod
    def from_str(cls, text: str) -> "BitString":
        """Build from a string of ``'0'``/``'1'`` characters, bit 0 first."""
        if any(ch not in "01" for ch in text):
            raise ValueError("a bit string text contains only '0' and '1'")
        return cls.from_bools(ch == "1" for ch in text)

    @property
    def size(self) -> int:
        """Number of bits."""
        return self._size

    @property
    def data(self) -> bytes:
        """The bits as octets, MSB first (unused trailing bits are zero)."""
        return self._data

    def to_bools(self) -> tuple[bool, ...]:
        """All bits as a tuple of bools, bit 0 first."""
        return tuple(self)

    def with_bit(self, index: int, value: bool) -> "BitString":
        """A copy with bit ``index`` set to ``value``."""
        if not 0 <= index < self._size:
            raise IndexError("bit index out of range")
        raw = bytearray(self._data)
        mask = 0x80 >> (index & 7)
        if value:
            raw[index >> 3] |= mask
        else:
            raw[index >> 3] &= ~mask & 0xFF
        return BitString(self._size, bytes(raw))

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: int) -> bool:
        if index < 0:
            index += self._size
        if not 0 <= index < self._size:
            raise IndexError("bit index out of range")
        return bool(self._data[index >> 3] & (0x80 >> (index & 7)))

    def __iter__(self) -> Iterator[bool]:
        for i in range(self._size):
            yield bool(self._data[i >> 3] & (0x80 >> (i & 7)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BitString):
            return NotImplemented
        return self._size == other._size and self._data == other._data

    def __hash__(self) -> int:
        return hash((self._size, self._data))

    def __str__(self) -> str:
        return "".join("1" if b else "0" for b in self)

    def __repr__(self) -> str:
        return f"BitString.from_str({str(self)!r})"


# ------------------------------------------------------------------------ Quality


class Validity(_NamedIntEnum):
    """Validity of a :class:`Quality` (bits 0-1; bit 0 is the high bit)."""

    GOOD = 0
    INVALID = 1
    RESERVED = 2
    QUESTIONABLE = 3


class Source(_NamedIntEnum):
    """Source of a :class:`Quality` (bit 10)."""

    PROCESS = 0
    SUBSTITUTED = 1


_QUALITY_FLAGS = (
    # (bit, field name)
    (2, "overflow"),
    (3, "out_of_range"),
    (4, "bad_reference"),
    (5, "oscillatory"),
    (6, "failure"),
    (7, "old_data"),
    (8, "inconsistent"),
    (9, "inaccurate"),
    (11, "test"),
    (12, "operator_blocked"),
    (13, "derived"),
)


@dataclass(frozen=True)
class Quality:
    """IEC 61850 quality (a 13-bit bit string; 14 bits with ``derived``).

    Bits: 0-1 validity, 2 overflow, 3 outOfRange, 4 badReference,
    5 oscillatory, 6 failure, 7 oldData, 8 inconsistent, 9 inaccurate,
    10 source, 11 test, 12 operatorBlocked, 13 derived.
    """

    validity: Validity = Validity.GOOD
    overflow: bool = False
    out_of_range: bool = False
    bad_reference: bool = False
    oscillatory: bool = False
    failure: bool = False
    old_data: bool = False
    inconsistent: bool = False
    inaccurate: bool = False
    source: Source = Source.PROCESS
    test: bool = False
    operator_blocked: bool = False
    derived: bool = False

    @property
    def is_good(self) -> bool:
        """True when validity is GOOD."""
        return self.validity == Validity.GOOD

    @classmethod
    def from_bit_string(cls, bits: Union[BitString, Sequence[bool]]) -> "Quality":
        """Decode a quality bit string (bits missing from a short string are clear;
        bits beyond 13 are ignored)."""
        flags = list(bits)
        flags += [False] * max(0, 14 - len(flags))
        validity = Validity((int(flags[0]) << 1) | int(flags[1]))
        kw: dict[str, Any] = {name: bool(flags[bit]) for bit, name in _QUALITY_FLAGS}
        return cls(validity=validity, source=Source(int(flags[10])), **kw)

    def to_bit_string(self, size: Optional[int] = None) -> BitString:
        """Encode as a bit string.

        :param size: number of bits; default 13, or 14 when ``derived`` is set
        :raises ValueError: ``size`` is below 13, or 13 while ``derived`` is set
        """
        if size is None:
            size = 14 if self.derived else 13
        if size < 13 or (size < 14 and self.derived):
            raise ValueError(f"quality needs at least {14 if self.derived else 13} bits")
        flags = [False] * size
        v = int(Validity(self.validity))
        flags[0] = bool(v & 2)
        flags[1] = bool(v & 1)
        for bit, name in _QUALITY_FLAGS:
            if bit < size:
                flags[bit] = bool(getattr(self, name))
        flags[10] = Source(self.source) == Source.SUBSTITUTED
        return BitString.from_bools(flags)


# --------------------------------------------------------------------- time


@dataclass(frozen=True)
class TimeQuality:
    """TimeQuality octet of an MMS UtcTime.

    ``accuracy`` is the number of significant bits of the fraction (0-24);
    31 means unspecified.
    """

    leap_seconds_known: bool = False
    clock_failure: bool = False
    clock_not_synchronized: bool = False
    accuracy: int = 0

    def __post_init__(self) -> None:
        if not 0 <= int(self.accuracy) <= 31:
            raise ValueError("time accuracy is 0..31")

    @property
    def accuracy_unspecified(self) -> bool:
        """True when ``accuracy`` is 31 (unspecified)."""
        return self.accuracy == 31

    @classmethod
    def from_byte(cls, octet: int) -> "TimeQuality":
        """Decode the quality octet."""
        octet &= 0xFF
        return cls(
            leap_seconds_known=bool(octet & 0x80),
            clock_failure=bool(octet & 0x40),
            clock_not_synchronized=bool(octet & 0x20),
            accuracy=octet & 0x1F,
        )

    def to_byte(self) -> int:
        """Encode as the quality octet."""
        return (
            (0x80 if self.leap_seconds_known else 0)
            | (0x40 if self.clock_failure else 0)
            | (0x20 if self.clock_not_synchronized else 0)
            | (int(self.accuracy) & 0x1F)
        )


@dataclass(frozen=True)
class Timestamp:
    """An MMS UtcTime: seconds since 1970-01-01 UTC, a 24-bit binary fraction of
    a second and a :class:`TimeQuality`.

    The fields keep the exact wire value; :attr:`datetime` rounds the fraction
    to the nearest microsecond.
    """

    seconds: int
    fraction: int = 0
    quality: TimeQuality = TimeQuality()

    def __post_init__(self) -> None:
        if not 0 <= int(self.seconds) <= 0xFFFFFFFF:
            raise ValueError("UtcTime seconds must fit in 32 bits (1970..2106)")
        if not 0 <= int(self.fraction) < _FRACTION_ONE:
            raise ValueError("UtcTime fraction must fit in 24 bits")

    @property
    def datetime(self) -> _dt.datetime:
        """Timezone-aware (UTC) :class:`datetime.datetime`."""
        us = (self.fraction * 1_000_000 + (1 << 23)) >> 24
        return _EPOCH + _dt.timedelta(seconds=self.seconds, microseconds=us)

    @property
    def timestamp(self) -> float:
        """Seconds since the epoch as a float (POSIX time)."""
        return self.seconds + self.fraction / _FRACTION_ONE

    @classmethod
    def from_datetime(cls, when: _dt.datetime, quality: Optional[TimeQuality] = None) -> "Timestamp":
        """Convert a timezone-aware datetime (the fraction is truncated to 24 bits).

        :raises ValueError: ``when`` is naive or outside 1970..2106
        """
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("a timezone-aware datetime is required (e.g. tzinfo=timezone.utc)")
        delta = when - _EPOCH
        seconds = delta.days * 86400 + delta.seconds
        fraction = (delta.microseconds << 24) // 1_000_000
        return cls(seconds, fraction, quality if quality is not None else TimeQuality())

    @classmethod
    def now(cls, quality: Optional[TimeQuality] = None) -> "Timestamp":
        """The current time."""
        return cls.from_datetime(_dt.datetime.now(_UTC), quality)

    @classmethod
    def from_bytes(cls, octets: bytes) -> "Timestamp":
        """Decode the 8 UtcTime octets (seconds BE, fraction BE, quality).

        :raises ValueError: not exactly 8 octets
        """
        if len(octets) != 8:
            raise ValueError("UtcTime has 8 octets")
        return cls(
            int.from_bytes(octets[0:4], "big"),
            int.from_bytes(octets[4:7], "big"),
            TimeQuality.from_byte(octets[7]),
        )

    def to_bytes(self) -> bytes:
        """Encode as the 8 UtcTime octets."""
        return (
            int(self.seconds).to_bytes(4, "big")
            + int(self.fraction).to_bytes(3, "big")
            + bytes([self.quality.to_byte()])
        )


def _binary_time_to_python(octets: bytes) -> Union[_dt.time, _dt.datetime]:
    ms = int.from_bytes(octets[0:4], "big")
    if len(octets) == 6:
        days = int.from_bytes(octets[4:6], "big")
        return _EPOCH_1984 + _dt.timedelta(days=days, milliseconds=ms)
    ms %= 86_400_000
    return _dt.time(ms // 3_600_000, (ms // 60_000) % 60, (ms // 1000) % 60, (ms % 1000) * 1000, tzinfo=_UTC)


def _oid_to_str(octets: bytes) -> str:
    arcs: list[int] = []
    acc = 0
    for o in octets:
        acc = (acc << 7) | (o & 0x7F)
        if not o & 0x80:
            arcs.append(acc)
            acc = 0
    if not arcs:
        return ""
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(a) for a in head + arcs[1:])


# ----------------------------------------------------------------------- MmsValue

_INT32 = (-(1 << 31), (1 << 31) - 1)
_INT64 = (-(1 << 63), (1 << 63) - 1)
_UINT32 = (0, (1 << 32) - 1)


def _check_range(v: int, bounds: tuple[int, int], what: str) -> int:
    if isinstance(v, bool):
        raise TypeError(f"{what} needs an int, got bool")
    if not isinstance(v, int):
        try:
            v = v.__index__()  # numpy integers and the like
        except AttributeError:
            raise TypeError(f"{what} needs an int, got {type(v).__name__}") from None
    if not bounds[0] <= v <= bounds[1]:
        raise InvalidArgumentError(
            f"{v} does not fit {what} ({bounds[0]}..{bounds[1]})",
            IedClientError.USER_PROVIDED_INVALID_ARGUMENT,
        )
    return v


def _text_bytes(s: Union[str, bytes], what: str, ascii_only: bool) -> bytes:
    if isinstance(s, str):
        try:
            b = s.encode("ascii" if ascii_only else "utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidArgumentError(
                f"{what} must be ASCII: {exc}", IedClientError.USER_PROVIDED_INVALID_ARGUMENT
            ) from None
    elif isinstance(s, (bytes, bytearray, memoryview)):
        b = bytes(s)
    else:
        raise TypeError(f"{what} needs str or bytes, got {type(s).__name__}")
    if b"\x00" in b:
        raise InvalidArgumentError(
            f"{what} must not contain NUL characters", IedClientError.USER_PROVIDED_INVALID_ARGUMENT
        )
    return b


class MmsValue:
    """An MMS Data value held by lib61850 (an ``i61_value``), with its exact MMS type.

    Build values with the class methods (:meth:`boolean`, :meth:`int32`,
    :meth:`float32`, :meth:`visible_string`, :meth:`structure`, ...); values
    read from a server are returned by
    :meth:`~py61850.client.IedConnection.read_value`. Structures and arrays
    support ``len()``, indexing and iteration; their elements are views that
    keep the whole value alive. Two values are equal when their MMS types and
    contents are equal (floats also compare their width).

    The C memory is freed when the Python object is garbage-collected.
    """

    __slots__ = ("_ptr", "_parent", "__weakref__")

    def __init__(self) -> None:
        raise TypeError("use the MmsValue class methods (MmsValue.boolean(...), ...) to build values")

    # --------------------------------------------------------------- internals

    @classmethod
    def _own(cls, ptr: Any) -> "MmsValue":
        """Take ownership of a new ``i61_value *`` (freed when collected)."""
        ffi, lib = _ffi.load()
        if ptr == ffi.NULL:
            raise MemoryError("lib61850 could not allocate the value")
        self = object.__new__(cls)
        self._ptr = ffi.gc(ptr, lib.i61_value_free)
        self._parent = None
        return self

    @classmethod
    def _view(cls, ptr: Any, parent: "MmsValue") -> "MmsValue":
        """A borrowed element of ``parent`` (keeps the parent alive)."""
        self = object.__new__(cls)
        self._ptr = ptr
        self._parent = parent
        return self

    def _raw(self) -> bytes:
        ffi, lib = _ffi.load()
        n = ffi.new("size_t *")
        p = lib.i61_value_get_bytes(self._ptr, n)
        if p == ffi.NULL:
            return b""
        return bytes(ffi.buffer(p, n[0]))

    # ------------------------------------------------------------ constructors

    @classmethod
    def boolean(cls, value: bool) -> "MmsValue":
        """A BOOLEAN."""
        _, lib = _ffi.load()
        return cls._own(lib.i61_value_new_boolean(1 if value else 0))

    @classmethod
    def int32(cls, value: int) -> "MmsValue":
        """An INTEGER in the INT32 range.

        :raises InvalidArgumentError: the value does not fit 32 bits
        """
        _, lib = _ffi.load()
        return cls._own(lib.i61_value_new_integer(_check_range(value, _INT32, "INT32")))

    @classmethod
    def int64(cls, value: int) -> "MmsValue":
        """An INTEGER in the INT64 range."""
        _, lib = _ffi.load()
        return cls._own(lib.i61_value_new_integer(_check_range(value, _INT64, "INT64")))

    @classmethod
    def uint32(cls, value: int) -> "MmsValue":
        """An UNSIGNED in the INT32U range."""
        _, lib = _ffi.load()
        return cls._own(lib.i61_value_new_unsigned(_check_range(value, _UINT32, "INT32U")))

    @classmethod
    def float32(cls, value: float) -> "MmsValue":
        """A 32-bit FLOAT."""
        _, lib = _ffi.load()
        return cls._own(lib.i61_value_new_float(float(value)))

    @classmethod
    def float64(cls, value: float) -> "MmsValue":
        """A 64-bit FLOAT."""
        _, lib = _ffi.load()
        return cls._own(lib.i61_value_new_double(float(value)))

    @classmethod
    def visible_string(cls, value: Union[str, bytes]) -> "MmsValue":
        """A VISIBLE-STRING (ASCII, no NUL)."""
        _, lib = _ffi.load()
        return cls._own(lib.i61_value_new_visible_string(_text_bytes(value, "a visible string", True)))

    @classmethod
    def mms_string(cls, value: Union[str, bytes]) -> "MmsValue":
        """An MMSString (UTF-8, no NUL)."""
        _, lib = _ffi.load()
        return cls._own(lib.i61_value_new_mms_string(_text_bytes(value, "an MMS string", False)))

    @classmethod
    def octet_string(cls, value: bytes) -> "MmsValue":
        """An OCTET-STRING."""
        ffi, lib = _ffi.load()
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"an octet string needs bytes, got {type(value).__name__}")
        data = bytes(value)
        buf = ffi.from_buffer("uint8_t[]", data) if data else ffi.NULL
        return cls._own(lib.i61_value_new_octet_string(buf, len(data)))

    @classmethod
    def bit_string(cls, value: Union[BitString, Sequence[bool]]) -> "MmsValue":
        """A BIT-STRING from a :class:`BitString` or a sequence of bools (bit 0 first)."""
        ffi, lib = _ffi.load()
        bits = value if isinstance(value, BitString) else BitString.from_bools(value)
        buf = ffi.from_buffer("uint8_t[]", bits.data) if bits.data else ffi.NULL
        return cls._own(lib.i61_value_new_bit_string(bits.size, buf))

    @classmethod
    def quality(cls, value: Quality) -> "MmsValue":
        """A quality BIT-STRING (13 bits, 14 with ``derived``)."""
        return cls.bit_string(value.to_bit_string())

    @classmethod
    def utc_time(
        cls, value: Union[_dt.datetime, Timestamp], quality: Optional[TimeQuality] = None
    ) -> "MmsValue":
        """A UtcTime.

        :param value: an aware datetime or a :class:`Timestamp`
        :param quality: the time quality; for a :class:`Timestamp` the default is its own
        """
        ffi, lib = _ffi.load()
        if isinstance(value, Timestamp):
            ts = value if quality is None else Timestamp(value.seconds, value.fraction, quality)
        elif isinstance(value, _dt.datetime):
            ts = Timestamp.from_datetime(value, quality)
        else:
            raise TypeError(f"utc_time needs a datetime or a Timestamp, got {type(value).__name__}")
        return cls._own(lib.i61_value_new_utc_time(ffi.new("uint8_t[8]", ts.to_bytes())))

    @classmethod
    def structure(cls, elements: Iterable["MmsValue"]) -> "MmsValue":
        """A structure of copies of ``elements`` (in component order)."""
        return cls._constructed(elements, structure=True)

    @classmethod
    def array(cls, elements: Iterable["MmsValue"]) -> "MmsValue":
        """An array of copies of ``elements``."""
        return cls._constructed(elements, structure=False)

    @classmethod
    def _constructed(cls, elements: Iterable["MmsValue"], structure: bool) -> "MmsValue":
        ffi, lib = _ffi.load()
        items = list(elements)
        for el in items:
            if not isinstance(el, MmsValue):
                raise TypeError(f"elements must be MmsValue, got {type(el).__name__}")
        new = lib.i61_value_new_structure if structure else lib.i61_value_new_array
        result = cls._own(new(len(items)))
        for i, el in enumerate(items):
            child = lib.i61_value_clone(el._ptr)
            if child == ffi.NULL:
                raise MemoryError("lib61850 could not copy the value")
            err = lib.i61_value_set_element(result._ptr, i, child)
            if err != 0:
                raise exception_for(err, f"cannot set element {i}")
        return result

    def clone(self) -> "MmsValue":
        """An independent deep copy."""
        _, lib = _ffi.load()
        return MmsValue._own(lib.i61_value_clone(self._ptr))

    # -------------------------------------------------------------- accessors

    @property
    def type(self) -> MmsType:
        """The MMS type."""
        _, lib = _ffi.load()
        return MmsType(lib.i61_value_type(self._ptr))

    @property
    def bit_size(self) -> int:
        """Width in bits: 32/64 for floats, the received size for integers,
        the number of bits of a bit string, 0 for other types."""
        _, lib = _ffi.load()
        return int(lib.i61_value_bit_size(self._ptr))

    @property
    def data_access_error(self) -> Optional[DataAccessError]:
        """The DataAccessError of a failed element (``None`` for data)."""
        _, lib = _ffi.load()
        code = lib.i61_value_get_data_access_error(self._ptr)
        if code < 0:
            return None
        try:
            return DataAccessError(code)
        except ValueError:
            return code  # type: ignore[return-value]

    @property
    def error(self) -> Optional[IedConnectionException]:
        """For a DataAccessError element: the matching exception (not raised); else ``None``."""
        dae = self.data_access_error
        if dae is None:
            return None
        name = dae.name if isinstance(dae, DataAccessError) else str(dae)
        return exception_for(code_for_data_access_error(dae), f"data access error {name}")

    def __bool__(self) -> bool:  # a value is always true, even a scalar (no len())
        return True

    def __len__(self) -> int:
        t = self.type
        if t not in (MmsType.STRUCTURE, MmsType.ARRAY):
            raise TypeError(f"an MMS {t.name} has no elements")
        _, lib = _ffi.load()
        return int(lib.i61_value_count(self._ptr))

    @overload
    def __getitem__(self, index: int) -> "MmsValue": ...
    @overload
    def __getitem__(self, index: slice) -> list["MmsValue"]: ...

    def __getitem__(self, index):
        n = len(self)
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(n))]
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("element index out of range")
        ffi, lib = _ffi.load()
        child = lib.i61_value_element(self._ptr, index)
        if child == ffi.NULL:
            raise IndexError("empty element")
        return MmsValue._view(child, self)

    def __iter__(self) -> Iterator["MmsValue"]:
        for i in range(len(self)):
            yield self[i]

    def to_python(self) -> Any:
        """Convert to plain Python.

        BOOLEAN -> bool, INTEGER/UNSIGNED/BCD -> int, FLOAT -> float,
        VISIBLE-STRING/MMSString -> str, OCTET-STRING -> bytes,
        BIT-STRING -> :class:`BitString`, UtcTime -> aware datetime (UTC; the time
        quality is available with :meth:`to_timestamp`), BinaryTime -> aware
        datetime (6 octets) or :class:`datetime.time` (4 octets),
        GeneralizedTime -> str, ObjectIdentifier -> dotted str,
        structure/array -> list, DataAccessError -> an (unraised)
        :class:`~py61850.client.IedConnectionException`.
        """
        ffi, lib = _ffi.load()
        p = self._ptr
        t = lib.i61_value_type(p)
        if t == MmsType.BOOLEAN:
            out_b = ffi.new("int *")
            lib.i61_value_get_boolean(p, out_b)
            return bool(out_b[0])
        if t in (MmsType.INTEGER, MmsType.BCD):
            out_i = ffi.new("int64_t *")
            err = lib.i61_value_get_int64(p, out_i)
            if err != 0:
                raise exception_for(err, "integer value does not fit 64 bits")
            return int(out_i[0])
        if t == MmsType.UNSIGNED:
            out_u = ffi.new("uint64_t *")
            err = lib.i61_value_get_uint64(p, out_u)
            if err != 0:
                raise exception_for(err, "unsigned value does not fit 64 bits")
            return int(out_u[0])
        if t == MmsType.FLOAT:
            out_d = ffi.new("double *")
            lib.i61_value_get_double(p, out_d)
            return float(out_d[0])
        if t in (MmsType.VISIBLE_STRING, MmsType.STRING):
            return self._raw().decode("utf-8", errors="replace")
        if t == MmsType.OCTET_STRING:
            return self._raw()
        if t == MmsType.BIT_STRING:
            return self.to_bit_string()
        if t == MmsType.UTC_TIME:
            return self.to_timestamp().datetime
        if t == MmsType.BINARY_TIME:
            raw = self._raw()
            if len(raw) not in (4, 6):
                raise UnexpectedValueError(
                    f"binary time of {len(raw)} octets", IedClientError.UNEXPECTED_VALUE_RECEIVED
                )
            return _binary_time_to_python(raw)
        if t == MmsType.GENERALIZED_TIME:
            return self._raw().decode("ascii", errors="replace")
        if t == MmsType.OBJ_ID:
            return _oid_to_str(self._raw())
        if t in (MmsType.STRUCTURE, MmsType.ARRAY):
            return [el.to_python() for el in self]
        if t == MmsType.DATA_ACCESS_ERROR:
            return self.error
        raise UnexpectedValueError(f"unknown MMS type {t}", IedClientError.UNEXPECTED_VALUE_RECEIVED)

    def to_timestamp(self) -> Timestamp:
        """The :class:`Timestamp` of a UtcTime value (with its time quality).

        :raises UnexpectedValueError: the value is not a UtcTime
        """
        self._expect(MmsType.UTC_TIME)
        return Timestamp.from_bytes(self._raw())

    def to_bit_string(self) -> BitString:
        """The :class:`BitString` of a BIT-STRING value.

        :raises UnexpectedValueError: the value is not a bit string
        """
        self._expect(MmsType.BIT_STRING)
        size = self.bit_size
        raw = self._raw()
        return BitString(size, raw[: (size + 7) // 8])

    def to_quality(self) -> Quality:
        """The :class:`Quality` of a quality BIT-STRING value."""
        return Quality.from_bit_string(self.to_bit_string())

    def _expect(self, t: MmsType) -> None:
        actual = self.type
        if actual != t:
            raise UnexpectedValueError(
                f"expected an MMS {t.name}, got {actual.name}",
                IedClientError.UNEXPECTED_VALUE_RECEIVED,
            )

    # ------------------------------------------------------------- comparison

    def _key(self) -> Any:
        t = self.type
        if t in (MmsType.STRUCTURE, MmsType.ARRAY):
            return (t, tuple(el._key() for el in self))
        if t == MmsType.FLOAT:
            return (t, self.bit_size, self.to_python())
        if t == MmsType.DATA_ACCESS_ERROR:
            return (t, int(self.data_access_error))  # type: ignore[arg-type]
        if t in (MmsType.UTC_TIME, MmsType.BINARY_TIME, MmsType.GENERALIZED_TIME, MmsType.OBJ_ID):
            return (t, self._raw())
        return (t, self.to_python())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MmsValue):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def _type_label(self) -> str:
        t = self.type
        if t == MmsType.FLOAT:
            return f"FLOAT{self.bit_size}"
        return t.name

    def __repr__(self) -> str:
        try:
            t = self.type
            if t in (MmsType.STRUCTURE, MmsType.ARRAY):
                inner = ", ".join(repr(el) for el in self)
                return f"MmsValue({t.name}, [{inner}])"
            if t == MmsType.DATA_ACCESS_ERROR:
                dae = self.data_access_error
                return f"MmsValue(DATA_ACCESS_ERROR, {getattr(dae, 'name', dae)})"
            if t == MmsType.UTC_TIME:
                return f"MmsValue(UTC_TIME, {self.to_timestamp()!r})"
            return f"MmsValue({self._type_label()}, {self.to_python()!r})"
        except Exception as exc:  # repr must never fail
            return f"<MmsValue (unprintable: {exc})>"
