"""The peers' clients against OUR server: libiec61850's client (pyiec61850-ng) and the
Rust-based ``iec61850`` client, with our server serving ``examples/simple_io.icd``.

Every answer is compared with what the same client gets from libiec61850's own server
(tests/peers, the ``libiec_server`` fixture) for the same model, and with the SCL values.
Known, deliberate differences (checked explicitly, not skipped):

* our RCBs have the Edition 2 ``Owner`` component, which libiec61850 1.6 leaves out, so
  GetNameList lists one more name per RCB;
* Identify answers the IED's manufacturer/type/configVersion (libiec61850: its own name).

Our server runs in a child process (``python -m py61850 serve``): pyiec61850-ng keeps
the GIL while it waits for the network, so an in-process server could not answer it.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from typing import Any

import iec61850
import pytest

import py61850
from peers.clients import (
    RUST_WRITABLE_BTYPES,
    pyiec_close,
    pyiec_connect,
    pyiec_domain_variables,
    pyiec_fc,
    pyiec_logical_devices,
    pyiec_read,
    pyiec_string_list,
    pyiec_write,
    rust_read,
    rust_write,
)
from peers.process import DEFAULT_SCL
from peers.sclmodel import SclModel

import pyiec61850.pyiec61850 as L  # noqa: N812  (after the peers import, as the peers do)

UTC = dt.timezone.utc
PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(py61850.__file__)))


class OurServer:
    """``py61850 serve SCL --port 0`` in a child process."""

    def __init__(self, scl: str = DEFAULT_SCL) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([PKG_PARENT, *filter(None, [env.get("PYTHONPATH")])])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "py61850", "serve", scl, "--port", "0", "--host", "127.0.0.1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env,
            cwd=os.path.dirname(PKG_PARENT) or "/",
        )
        self.host = "127.0.0.1"
        self.port = 0
        self.model = SclModel(scl)
        deadline = time.monotonic() + 20
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("listening on"):
                self.port = int(line.split()[2].rsplit(":", 1)[1])
                return
        self.proc.kill()
        raise RuntimeError(f"our server did not start: {self.proc.stderr.read() if self.proc.stderr else ''}")

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.communicate()


@pytest.fixture(scope="module")
def ours():
    srv = OurServer()
    yield srv
    srv.stop()


@pytest.fixture
def fresh_ours():
    srv = OurServer()
    yield srv
    srv.stop()


def readable_leaves(model: SclModel):
    return [lf for lf in model.leaves() if lf.fc != "CO"]


# ------------------------------------------------------------------ pyiec61850-ng helpers


def pyiec_tree(value: Any) -> Any:
    """Any libiec61850 MmsValue as comparable plain Python (type tag + content)."""
    t = L.MmsValue_getType(value)
    if t in (L.MMS_STRUCTURE, L.MMS_ARRAY):
        return (t, [pyiec_tree(L.MmsValue_getElement(value, i)) for i in range(L.MmsValue_getArraySize(value))])
    if t == L.MMS_BOOLEAN:
        return (t, bool(L.MmsValue_getBoolean(value)))
    if t == L.MMS_INTEGER:
        return (t, int(L.MmsValue_toInt64(value)))
    if t == L.MMS_UNSIGNED:
        return (t, int(L.MmsValue_toUint32(value)))
    if t == L.MMS_FLOAT:
        return (t, float(L.MmsValue_toDouble(value)))
    if t in (L.MMS_VISIBLE_STRING, L.MMS_STRING):
        return (t, L.MmsValue_toString(value))
    if t == L.MMS_BIT_STRING:
        return (t, L.MmsValue_getBitStringSize(value), int(L.MmsValue_getBitStringAsIntegerBigEndian(value)))
    if t == L.MMS_OCTET_STRING:
        return (t, bytes(L.MmsValue_getOctetStringOctet(value, i) for i in range(L.MmsValue_getOctetStringSize(value))))
    if t == L.MMS_UTC_TIME:
        return (t, int(L.MmsValue_getUtcTimeInMs(value)))
    if t == L.MMS_DATA_ACCESS_ERROR:
        return (t, int(L.MmsValue_getDataAccessError(value)))
    return (t, None)


def pyiec_read_tree(con: Any, ref: str, fc: str) -> Any:
    value, err = L.IedConnection_readObject(con, ref, pyiec_fc(fc))
    if err != L.IED_ERROR_OK:
        return ("error", int(err))
    try:
        return pyiec_tree(value)
    finally:
        L.MmsValue_delete(value)


def pyiec_spec(spec: Any, depth: int = 0) -> Any:
    """A libiec61850 MmsVariableSpecification as (type, size, [(name, child)...])."""
    t = L.MmsVariableSpecification_getType(spec)
    kids = []
    if t == L.MMS_STRUCTURE and depth < 16:
        for i in range(L.MmsVariableSpecification_getSize(spec)):
            ch = L.MmsVariableSpecification_getChildSpecificationByIndex(spec, i)
            kids.append((L.MmsVariableSpecification_getName(ch), pyiec_spec(ch, depth + 1)))
    return (t, L.MmsVariableSpecification_getSize(spec), kids)


def pyiec_get_spec(con: Any, ref: str, fc: str) -> Any:
    spec, err = L.IedConnection_getVariableSpecification(con, ref, pyiec_fc(fc))
    if err != L.IED_ERROR_OK:
        return ("error", int(err))
    try:
        return pyiec_spec(spec)
    finally:
        L.MmsVariableSpecification_destroy(spec)


def pyiec_list(con: Any, fn: Any, *args: Any) -> Any:
    lst, err = fn(con, *args)
    if err != L.IED_ERROR_OK:
        return ("error", int(err))
    return pyiec_string_list(lst)


def pyiec_identify(con: Any) -> tuple[str, str, str]:
    mms = L.IedConnection_getMmsConnection(con)
    err = L.MmsError_create()
    ident = L.MmsConnection_identify(mms, err)
    assert ident is not None and L.MmsError_getValue(err) == 0
    try:
        return ident.vendorName, ident.modelName, ident.revision
    finally:
        L.MmsServerIdentity_destroy(ident)


def do_refs(model: SclModel) -> list[tuple[str, str]]:
    """(DO reference, FC) for every data object and each of its FCs."""
    out = []
    for ld in model.lds:
        for ln in ld.lns:
            for do in ln.dos:
                for fc in sorted(do.fcs()):
                    out.append((f"{ld.domain}/{ln.name}.{do.name}", fc))
    return out


# ------------------------------------------------------------------ pyiec61850-ng -> ours


def test_pyiec_identify(ours):
    con = pyiec_connect(ours.host, ours.port)
    try:
        assert pyiec_identify(con) == ("py61850", "SimpleIO", "1.0")
    finally:
        pyiec_close(con)


def test_pyiec_browse_like_libiec(ours, libiec_server):
    a = pyiec_connect(ours.host, ours.port)
    b = pyiec_connect(libiec_server.host, libiec_server.port)
    try:
        assert pyiec_logical_devices(a) == pyiec_logical_devices(b)
        model = ours.model
        for ld in model.logical_devices:
            # libiec61850 1.6 names the LCB attributes OldEnt/NewEnt "OldEntr"/"NewEntr"
            theirs = [re.sub(r"\$(Old|New)Entr$", r"$\1Ent", n) for n in pyiec_domain_variables(b, ld)]
            mine = pyiec_domain_variables(a, ld)
            # the same list as libiec61850's, plus the Edition 2 Owner of each RCB
            assert [n for n in mine if not n.endswith("$Owner")] == theirs, ld
            assert mine == model.mms_names(ld, owner=True)
            assert pyiec_list(a, L.IedConnection_getLogicalDeviceDirectory, ld) == \
                pyiec_list(b, L.IedConnection_getLogicalDeviceDirectory, ld)
            for ln in model.logical_nodes(ld):
                ref = f"{ld}/{ln}"
                assert pyiec_list(a, L.IedConnection_getLogicalNodeDirectory, ref, L.ACSI_CLASS_DATA_OBJECT) == \
                    pyiec_list(b, L.IedConnection_getLogicalNodeDirectory, ref, L.ACSI_CLASS_DATA_OBJECT), ref
                for do in model.data_objects(ld, ln):
                    dref = f"{ref}.{do}"
                    assert pyiec_list(a, L.IedConnection_getDataDirectoryFC, dref) == \
                        pyiec_list(b, L.IedConnection_getDataDirectoryFC, dref), dref
    finally:
        pyiec_close(a)
        pyiec_close(b)


def test_pyiec_variable_specifications_like_libiec(ours, libiec_server):
    a = pyiec_connect(ours.host, ours.port)
    b = pyiec_connect(libiec_server.host, libiec_server.port)
    try:
        checked = 0
        for ref, fc in do_refs(ours.model):
            assert pyiec_get_spec(a, ref, fc) == pyiec_get_spec(b, ref, fc), f"{ref} [{fc}]"
            checked += 1
        for leaf in ours.model.leaves():
            assert pyiec_get_spec(a, leaf.ref, leaf.fc) == pyiec_get_spec(b, leaf.ref, leaf.fc), leaf.ref
        assert checked >= 30
    finally:
        pyiec_close(a)
        pyiec_close(b)


def test_pyiec_reads_every_leaf_like_libiec(ours, libiec_server):
    a = pyiec_connect(ours.host, ours.port)
    b = pyiec_connect(libiec_server.host, libiec_server.port)
    try:
        leaves = readable_leaves(ours.model)
        assert len(leaves) > 150
        diff = []
        for leaf in leaves:
            mine, theirs = pyiec_read(a, leaf), pyiec_read(b, leaf)
            if mine != theirs:
                diff.append((leaf.ref, leaf.fc, mine, theirs))
            if leaf.value is not None and leaf.btype not in ("Timestamp",):
                assert mine == leaf.value, leaf.ref
        assert diff == []
        # whole data objects (per FC), also with their MMS types
        for ref, fc in do_refs(ours.model):
            if fc == "CO":
                continue
            mine, theirs = pyiec_read_tree(a, ref, fc), pyiec_read_tree(b, ref, fc)
            assert mine == theirs, f"{ref} [{fc}]"
    finally:
        pyiec_close(a)
        pyiec_close(b)


def test_pyiec_read_errors_like_libiec(ours, libiec_server):
    a = pyiec_connect(ours.host, ours.port)
    b = pyiec_connect(libiec_server.host, libiec_server.port)
    try:
        cases = [
            ("TESTGenericIO/GGIO1.AnIn9.mag.f", "MX"),    # no such DO
            ("TESTGenericIO/GGIO1.AnIn1.mag.f", "ST"),    # wrong FC
            ("TESTGenericIO/GGIO1.AnIn1.mag.g", "MX"),    # no such component
            ("NOSUCHLD/GGIO1.AnIn1.mag.f", "MX"),         # no such domain
            ("TESTGenericIO/XXXX1.AnIn1.mag.f", "MX"),    # no such LN
        ]
        for ref, fc in cases:
            mine, theirs = pyiec_read_tree(a, ref, fc), pyiec_read_tree(b, ref, fc)
            # libiec61850's client returns the DataAccessError as a value (or an error code)
            assert mine[0] in ("error", L.MMS_DATA_ACCESS_ERROR), (ref, fc, mine)
            assert mine == theirs, (ref, fc, mine, theirs)
        # the association is still fine afterwards
        assert pyiec_read_tree(a, "TESTGenericIO/GGIO1.AnIn1.mag.f", "MX") == (L.MMS_FLOAT, 12.5)
    finally:
        pyiec_close(a)
        pyiec_close(b)


def new_value(leaf):
    """A new value per basic type, as the peers' clients write it."""
    b = leaf.btype
    if b == "BOOLEAN":
        return not bool(leaf.value)
    if b in ("INT8", "INT16", "INT32", "INT64"):
        return -5 if (leaf.value or 0) != -5 else 6
    if b == "Enum":
        return 2 if leaf.value != 2 else 3
    if b in ("INT8U", "INT16U", "INT32U"):
        return 7 if leaf.value != 7 else 8
    if b in ("FLOAT32", "FLOAT64"):
        return 0.75 if leaf.value != 0.75 else 1.25
    if b == "Dbpos":
        return 1 if leaf.value != 1 else 2
    if b == "Check":
        return 3
    if b.startswith("VisString"):
        return "written"
    if b == "Unicode255":
        return "geschrieben ü"
    if b == "Octet64":
        return b"\x01\x02\x03"
    if b == "Timestamp":
        return dt.datetime(2025, 6, 1, 12, 30, 15, 250000, tzinfo=UTC)
    raise AssertionError(b)


def test_pyiec_writes_like_libiec(fresh_ours, start_peer_server):
    peer = start_peer_server("libiec")
    a = pyiec_connect(fresh_ours.host, fresh_ours.port)
    b = pyiec_connect(peer.host, peer.port)
    try:
        written = 0
        for leaf in fresh_ours.model.leaves():
            if leaf.fc == "CO" or leaf.btype == "Quality":
                continue
            value = new_value(leaf)
            err_a, err_b = pyiec_write(a, leaf, value), pyiec_write(b, leaf, value)
            assert err_a == err_b, (leaf.ref, leaf.fc, err_a, err_b)
            assert pyiec_read(a, leaf) == pyiec_read(b, leaf), (leaf.ref, leaf.fc)
            if err_a == L.IED_ERROR_OK:
                assert pyiec_read(a, leaf) == value
                written += 1
        assert written >= 20
        # a value of the wrong type
        leaf = fresh_ours.model.leaf("TESTGenericIO/GGIO1.IntSet1.setVal", "SP")
        mv = L.MmsValue_newFloat(1.5)
        try:
            _, err_a = L.IedConnection_writeObject(a, leaf.ref, pyiec_fc("SP"), mv)
            _, err_b = L.IedConnection_writeObject(b, leaf.ref, pyiec_fc("SP"), mv)
        finally:
            L.MmsValue_delete(mv)
        assert err_a == err_b == L.IED_ERROR_TYPE_INCONSISTENT
    finally:
        pyiec_close(a)
        pyiec_close(b)


# ------------------------------------------------------------------ iec61850 (Rust) -> ours


async def _rust_snapshot(addr: str, model: SclModel) -> dict[str, Any]:
    conn = await iec61850.IedConnection.connect(addr)
    try:
        out: dict[str, Any] = {"server": sorted(await conn.get_server_directory())}
        for ld in model.logical_devices:
            out[ld] = sorted(await conn.get_logical_device_directory(ld))
            for ln in model.logical_nodes(ld):
                for do in model.data_objects(ld, ln):
                    ref = f"{ld}/{ln}.{do}"
                    out[ref] = sorted(await conn.get_data_directory(ref))
        for leaf in readable_leaves(model):
            out[f"{leaf.ref}[{leaf.fc}]"] = await rust_read(conn, leaf)
        return out
    finally:
        await conn.disconnect()


def test_rust_browse_and_reads_like_libiec(ours, libiec_server):
    mine = asyncio.run(_rust_snapshot(ours.addr, ours.model))
    theirs = asyncio.run(_rust_snapshot(libiec_server.addr, ours.model))
    assert mine.keys() == theirs.keys()
    diff = {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}
    assert diff == {}
    assert mine["server"] == sorted(ours.model.logical_devices)
    assert mine["TESTGenericIO/GGIO1.AnIn1.mag.f[MX]"] == 12.5


def test_rust_variable_specification_and_read_multiple(ours, libiec_server):
    async def run(addr: str) -> Any:
        conn = await iec61850.IedConnection.connect(addr)
        try:
            specs = [dict(await conn.get_variable_specification(ref, fc)) for ref, fc in
                     [("TESTGenericIO/GGIO1.AnIn1", "MX"), ("TESTLD0/GGIO2.TypST", "ST")]]
            fc = iec61850.FC
            values = await conn.read_multiple([("TESTGenericIO/GGIO1.AnIn1.mag.f", fc.MX),
                                               ("TESTGenericIO/GGIO1.Ind1.stVal", fc.ST),
                                               ("TESTLD0/GGIO2.TypSP.int32Val", fc.SP),
                                               ("TESTGenericIO/GGIO1.Nope.stVal", fc.ST)], strict=False)
            return repr(specs), repr(values)
        finally:
            await conn.disconnect()

    mine, theirs = asyncio.run(run(ours.addr)), asyncio.run(run(libiec_server.addr))
    assert mine == theirs
    assert "12.5" in mine[1] and "ObjectNonExistent" in mine[1]


def test_rust_writes_like_libiec(fresh_ours, start_peer_server):
    peer = start_peer_server("libiec")
    targets = [lf for lf in fresh_ours.model.leaves()
               if lf.fc == "SP" and lf.btype in RUST_WRITABLE_BTYPES and lf.value is not None]
    assert len(targets) >= 15

    async def run(addr: str) -> list:
        conn = await iec61850.IedConnection.connect(addr)
        results = []
        try:
            for leaf in targets:
                value = new_value(leaf)
                try:
                    await rust_write(conn, leaf, value)
                    results.append((leaf.ref, "ok", await rust_read(conn, leaf)))
                except iec61850.IedError as exc:
                    results.append((leaf.ref, type(exc).__name__, None))
            for ref, fc in [("TESTLD0/GGIO2.TypCF.int32Val", "CF"), ("TESTGenericIO/GGIO1.Ind1.stVal", "ST")]:
                try:
                    await conn.write_int32(ref, fc, 5)
                    results.append((ref, "ok", None))
                except iec61850.IedError as exc:
                    results.append((ref, type(exc).__name__, None))
            return results
        finally:
            await conn.disconnect()

    mine, theirs = asyncio.run(run(fresh_ours.addr)), asyncio.run(run(peer.addr))
    assert mine == theirs
    assert sum(1 for r in mine if r[1] == "ok") == len(targets)
    assert [r[1] for r in mine[-2:]] == ["IedDataAccessError", "IedDataAccessError"]


def test_rust_errors_like_libiec(ours, libiec_server):
    async def run(addr: str) -> list:
        conn = await iec61850.IedConnection.connect(addr)
        out = []
        try:
            for ref, fc in [("TESTGenericIO/GGIO1.AnIn9.mag.f", "MX"), ("TESTGenericIO/GGIO1.AnIn1.mag.f", "ST"),
                            ("NOSUCHLD/GGIO1.AnIn1.mag.f", "MX")]:
                try:
                    await conn.read(ref, fc)
                    out.append("ok")
                except iec61850.IedError as exc:
                    out.append(type(exc).__name__)
            out.append(await conn.read_float("TESTGenericIO/GGIO1.AnIn1.mag.f", "MX"))
            return out
        finally:
            await conn.disconnect()

    mine, theirs = asyncio.run(run(ours.addr)), asyncio.run(run(libiec_server.addr))
    assert mine == theirs
    assert "ok" not in mine and mine[-1] == 12.5


def test_our_server_survived(ours):
    assert ours.alive()
