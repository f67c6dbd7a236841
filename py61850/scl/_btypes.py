"""SCL basic types (``bType``), functional constraints and ``Val`` conversion."""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any, Mapping

Value = Any  # bool | int | float | str | bytes | list[...] | None

#: Functional constraints accepted on a DA (IEC 61850-7-2 / -8-1).
FCS: frozenset[str] = frozenset({
    "ST", "MX", "SP", "SV", "CF", "DC", "SG", "SE", "SR", "OR", "BL", "EX", "CO",
    "US", "MS", "RP", "BR", "LG", "GO", "GS",
})

INT_RANGES: dict[str, tuple[int, int]] = {
    "INT8": (-(1 << 7), (1 << 7) - 1),
    "INT16": (-(1 << 15), (1 << 15) - 1),
    "INT24": (-(1 << 23), (1 << 23) - 1),
    "INT32": (-(1 << 31), (1 << 31) - 1),
    "INT64": (-(1 << 63), (1 << 63) - 1),
    "INT128": (-(1 << 127), (1 << 127) - 1),
    "INT8U": (0, (1 << 8) - 1),
    "INT16U": (0, (1 << 16) - 1),
    "INT24U": (0, (1 << 24) - 1),
    "INT32U": (0, (1 << 32) - 1),
}

#: Maximum length in characters.
STRING_LENGTHS: dict[str, int] = {
    "VisString32": 32, "VisString64": 64, "VisString65": 65, "VisString129": 129,
    "VisString255": 255, "Unicode255": 255, "ObjRef": 129,
}

#: Maximum length in octets. A Val is the text, UTF-8 encoded (the convention of the
#: project's example files; SCL defines no octet-string literal).
OCTET_LENGTHS: dict[str, int] = {"Octet64": 64, "Octet6": 6, "Octet16": 16, "EntryID": 8}

#: Coded enumerations with fixed literals (value = ordinal).
FIXED_ENUMS: dict[str, dict[str, int]] = {
    # Dbpos: intermediate-state(0), off(1), on(2), bad-state(3)
    "Dbpos": {"intermediate": 0, "intermediate-state": 0, "off": 1, "on": 2,
              "bad": 3, "bad-state": 3},
    # Tcmd: stop(0), lower(1), higher(2), reserved(3)
    "Tcmd": {"stop": 0, "lower": 1, "higher": 2, "reserved": 3},
}

#: bTypes whose Val is kept as the raw text (no common SCL value syntax).
RAW_TEXT: frozenset[str] = frozenset({
    "Quality", "EntryTime", "Check", "TrgOps", "OptFlds", "SvOptFlds",
    "LogOptFlds", "PhyComAddr", "Currency",
})

BTYPES: frozenset[str] = frozenset(
    {"BOOLEAN", "FLOAT32", "FLOAT64", "Enum", "Struct", "Timestamp"}
    | set(INT_RANGES) | set(STRING_LENGTHS) | set(OCTET_LENGTHS) | set(FIXED_ENUMS) | RAW_TEXT
)

_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_FLOAT32_MAX = 3.4028234663852886e38


class ValueProblem(ValueError):
    """A Val text (or Python value) does not fit its bType."""


def convert_text(btype: str, text: str | None,
                 enum: Mapping[str, int] | None = None) -> tuple[Value, str | None]:
    """Convert a ``Val`` text to a Python value.

    :param btype: the SCL ``bType``.
    :param text: the element text (``None`` for ``<Val/>``).
    :param enum: for ``Enum``, the EnumType's literal -> ordinal map.
    :returns: ``(value, text)``; ``text`` is the literal kept for enumerations
        (``("on" -> 2, "on")``), else the raw text.
    :raises ValueProblem: when the text does not fit ``btype``.
    """
    raw = "" if text is None else text
    s = raw.strip()
    if btype == "BOOLEAN":
        if s in ("true", "1"):
            return True, raw
        if s in ("false", "0"):
            return False, raw
        raise ValueProblem(f"{raw!r} is not a BOOLEAN (true/false/1/0)")
    if btype in INT_RANGES:
        if not _INT_RE.match(s):
            raise ValueProblem(f"{raw!r} is not an integer ({btype})")
        return check_python(btype, int(s)), raw
    if btype in ("FLOAT32", "FLOAT64"):
        low = s.lower()
        if low in ("inf", "+inf", "-inf", "nan"):
            v = float(low)
        else:
            try:
                v = float(s)
            except ValueError:
                raise ValueProblem(f"{raw!r} is not a number ({btype})") from None
            if not re.match(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", s):
                raise ValueProblem(f"{raw!r} is not a number ({btype})")
        return check_python(btype, v), raw
    if btype == "Enum":
        if enum is None:
            raise ValueProblem("Enum without an EnumType")
        if s in enum:
            return enum[s], s
        if _INT_RE.match(s) and int(s) in enum.values():
            ordv = int(s)
            lit = next(k for k, o in enum.items() if o == ordv)
            return ordv, lit
        allowed = ", ".join(sorted(enum, key=lambda k: enum[k]))
        raise ValueProblem(f"{raw!r} is not a literal of the EnumType (allowed: {allowed})")
    if btype in FIXED_ENUMS:
        table = FIXED_ENUMS[btype]
        if s in table:
            return table[s], s
        if _INT_RE.match(s) and 0 <= int(s) <= 3:
            return int(s), s
        raise ValueProblem(f"{raw!r} is not a {btype} literal ({', '.join(table)})")
    if btype in STRING_LENGTHS:
        return check_python(btype, raw), raw
    if btype in OCTET_LENGTHS:
        return check_python(btype, s.encode("utf-8")), raw
    if btype == "Timestamp":
        try:
            ts = _dt.datetime.fromisoformat(s)
        except ValueError:
            raise ValueProblem(f"{raw!r} is not an ISO 8601 date and time (Timestamp)") from None
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=_dt.timezone.utc)
        return ts.astimezone(_dt.timezone.utc), raw
    if btype == "Struct":
        raise ValueProblem("a Struct attribute cannot have a Val (give values to its components)")
    if btype in RAW_TEXT:
        return raw, raw
    raise ValueProblem(f"unknown bType {btype!r}")


def check_python(btype: str, value: Value, enum: Mapping[str, int] | None = None) -> Value:
    """Check (and normalise) a Python value for ``btype``; return it.

    Strings are accepted for every type and converted with :func:`convert_text`.

    :raises ValueProblem: when the value does not fit.
    """
    if value is None:
        return None
    if btype == "BOOLEAN":
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return convert_text(btype, value)[0]
        raise ValueProblem(f"{value!r} is not a bool")
    if btype in INT_RANGES or btype in FIXED_ENUMS or btype == "Enum":
        if isinstance(value, str):
            return convert_text(btype, value, enum)[0]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueProblem(f"{value!r} is not an int ({btype})")
        if btype in INT_RANGES:
            lo, hi = INT_RANGES[btype]
            if not lo <= value <= hi:
                raise ValueProblem(f"{value} is out of range for {btype} ({lo}..{hi})")
        elif btype in FIXED_ENUMS:
            if not 0 <= value <= 3:
                raise ValueProblem(f"{value} is out of range for {btype} (0..3)")
        elif enum is not None and value not in enum.values():
            raise ValueProblem(f"{value} is not an ordinal of the EnumType")
        return value
    if btype in ("FLOAT32", "FLOAT64"):
        if isinstance(value, str):
            return convert_text(btype, value)[0]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueProblem(f"{value!r} is not a number ({btype})")
        v = float(value)
        if btype == "FLOAT32" and math.isfinite(v) and abs(v) > _FLOAT32_MAX:
            raise ValueProblem(f"{value} is out of range for FLOAT32")
        return v
    if btype in STRING_LENGTHS:
        if not isinstance(value, str):
            raise ValueProblem(f"{value!r} is not a str ({btype})")
        if len(value) > STRING_LENGTHS[btype]:
            raise ValueProblem(
                f"string of {len(value)} characters is too long for {btype}"
                f" (max {STRING_LENGTHS[btype]})")
        return value
    if btype == "Timestamp":
        if isinstance(value, str):
            return convert_text(btype, value)[0]
        if not isinstance(value, _dt.datetime):
            raise ValueProblem(f"{value!r} is not a datetime (Timestamp)")
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.astimezone(_dt.timezone.utc)
    if btype in OCTET_LENGTHS:
        if isinstance(value, str):
            return convert_text(btype, value)[0]
        if not isinstance(value, (bytes, bytearray)):
            raise ValueProblem(f"{value!r} is not bytes ({btype})")
        if len(value) > OCTET_LENGTHS[btype]:
            raise ValueProblem(
                f"{len(value)} octets is too long for {btype} (max {OCTET_LENGTHS[btype]})")
        return bytes(value)
    if btype == "Struct":
        raise ValueProblem("a Struct attribute cannot have a value (give values to its components)")
    if btype in RAW_TEXT:
        if not isinstance(value, str):
            raise ValueProblem(f"{value!r}: {btype} values are kept as SCL text (str)")
        return value
    raise ValueProblem(f"unknown bType {btype!r}")
