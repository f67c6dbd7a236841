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
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from typing import Any

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


def pyiec_connect(host: str, port: int, attempts: int = 5) -> Any:
    """Open a pyiec61850-ng ``IedConnection`` that is known to work.

    :raises ConnectionError: no working association after ``attempts`` tries
    """
    L = _pyiec()
    last = None
    for i in range(attempts):
        con = L.IedConnection_create()
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
