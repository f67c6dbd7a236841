"""Peer server: libiec61850 (PyPI ``pyiec61850-ng``) serving one of our example SCL files.

Usage::

    python tests/peers/libiec_server.py --scl examples/simple_io.icd [--ied TEST] --port 10102 [--filestore DIR]

pyiec61850-ng has no SCL loader, so the model is built with libiec61850's dynamic-model API
from :class:`peers.sclmodel.SclModel` (the quirks are in PEERS.md and tests/peers/README.md):
logical devices/nodes/data objects/attributes, initial values from the SCL ``Val`` elements,
data sets (``LN$name``), report control blocks (``<name>01..NN``), and for every controllable
DO (one with ``Oper``) a control handler that accepts the command and mirrors ``ctlVal``
into ``stVal``/``t`` (an APC's ``ctlVal.f`` into ``mxVal.f``), plus a check handler; the
commands ``interlock <ref> on|off`` and ``opfail <ref> on|off`` make them refuse
(:class:`peers.process.ControlSwitches`).

Write policy: SP allowed, CF and DC denied (explicitly set; see README for the defaults).

File services: with ``--filestore DIR`` the server's MMS file store is ``DIR``
(``IedServer_setFilestoreBasepath`` before the start; libiec61850 joins the base path and the
file name by plain concatenation, so a ``/`` is appended). Without it libiec61850 uses its
default ``./vmd-filestore/`` relative to the working directory (the repository root).

Protocol with the parent process: exactly one line ``READY <port>`` on stdout once the
server listens on 127.0.0.1:<port>; afterwards fd 1 is redirected to /dev/null (the SWIG
binding prints a line per control command, which would otherwise fill an unread pipe) and
the original stdout pipe carries only the answers to the commands read from stdin
(``set``/``blast``, see :class:`peers.process.PeerCommands`). Value updates take
``IedServer_lockDataModel`` and use the typed ``IedServer_update*`` calls, so reports follow
as for a real process value. Runs until SIGTERM/SIGINT (or until its parent process exits),
then stops the server and exits 0. Errors go to stderr, exit 1.
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import glob
import logging
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pyiec61850.pyiec61850 as L  # noqa: E402

from peers.clients import pyiec_mms_value, pyiec_to_python  # noqa: E402
from peers.process import ControlCommands, ControlSwitches, SettingGroupSwitches  # noqa: E402
from peers.sclmodel import Leaf, SclDA, SclDO, SclLD, SclLN, SclModel, SclPhyAddress  # noqa: E402

log = logging.getLogger("py61850.tests.peers.libiec_server")

_BTYPE = {
    "BOOLEAN": L.IEC61850_BOOLEAN,
    "INT8": L.IEC61850_INT8,
    "INT16": L.IEC61850_INT16,
    "INT32": L.IEC61850_INT32,
    "INT64": L.IEC61850_INT64,
    "INT8U": L.IEC61850_INT8U,
    "INT16U": L.IEC61850_INT16U,
    "INT32U": L.IEC61850_INT32U,
    "FLOAT32": L.IEC61850_FLOAT32,
    "FLOAT64": L.IEC61850_FLOAT64,
    "Enum": L.IEC61850_ENUMERATED,
    "Dbpos": L.IEC61850_CODEDENUM,
    "Quality": L.IEC61850_QUALITY,
    "Timestamp": L.IEC61850_TIMESTAMP,
    "VisString32": L.IEC61850_VISIBLE_STRING_32,
    "VisString64": L.IEC61850_VISIBLE_STRING_64,
    "VisString65": L.IEC61850_VISIBLE_STRING_65,
    "VisString129": L.IEC61850_VISIBLE_STRING_129,
    "VisString255": L.IEC61850_VISIBLE_STRING_255,
    "Unicode255": L.IEC61850_UNICODE_STRING_255,
    "Octet64": L.IEC61850_OCTET_STRING_64,
    "Check": L.IEC61850_CHECK,
    "Struct": L.IEC61850_CONSTRUCTED,
}

_TRG_OPS = {
    "dchg": L.TRG_OPT_DATA_CHANGED,
    "qchg": L.TRG_OPT_QUALITY_CHANGED,
    "dupd": L.TRG_OPT_DATA_UPDATE,
    "period": L.TRG_OPT_INTEGRITY,
    "gi": L.TRG_OPT_GI,
}

_OPT_FIELDS = {
    "seqNum": L.RPT_OPT_SEQ_NUM,
    "timeStamp": L.RPT_OPT_TIME_STAMP,
    "dataSet": L.RPT_OPT_DATA_SET,
    "reasonCode": L.RPT_OPT_REASON_FOR_INCLUSION,
    "dataRef": L.RPT_OPT_DATA_REFERENCE,
    "bufOvfl": L.RPT_OPT_BUFFER_OVERFLOW,
    "entryID": L.RPT_OPT_ENTRY_ID,
    "configRef": L.RPT_OPT_CONF_REV,
}


def _fc(fc: str) -> int:
    return getattr(L, f"IEC61850_FC_{fc}")


# ---------------------------------------------------------------------- ctypes (see README)
# SWIG has no director for the setting group handlers and cannot pass the uint8_t[6] of
# PhyComAddress_create: both are called with ctypes on the libiec61850 the extension loaded.

_ACT_SG_HANDLER = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint8, ctypes.c_void_p)
_EDIT_SG_HANDLER = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint8, ctypes.c_void_p)
_CONFIRM_SG_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint8)
_C_LIB: ctypes.CDLL | None = None


def _clib() -> ctypes.CDLL:
    """The libiec61850 shared library the SWIG extension uses (the wheel's own copy)."""
    global _C_LIB
    if _C_LIB is None:
        libs = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(L.__file__))), "pyiec61850_ng.libs")
        found = sorted(glob.glob(os.path.join(libs, "libiec61850*.so*")))
        if not found:
            raise RuntimeError(f"no libiec61850 shared library in {libs}")
        lib = ctypes.CDLL(found[0])  # already loaded by the extension: the same handle
        lib.IedServer_setActiveSettingGroupChangedHandler.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, _ACT_SG_HANDLER, ctypes.c_void_p]
        lib.IedServer_setEditSettingGroupChangedHandler.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, _EDIT_SG_HANDLER, ctypes.c_void_p]
        lib.IedServer_setEditSettingGroupConfirmationHandler.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, _CONFIRM_SG_HANDLER, ctypes.c_void_p]
        lib.PhyComAddress_create.argtypes = [ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint16,
                                             ctypes.POINTER(ctypes.c_uint8)]
        lib.PhyComAddress_create.restype = ctypes.c_void_p
        lib.GSEControlBlock_addPhyComAddress.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.SVControlBlock_addPhyComAddress.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        _C_LIB = lib
    return _C_LIB


def _ptr(swig_obj: object) -> int:
    """The C pointer behind a SWIG proxy."""
    inner = getattr(swig_obj, "this", swig_obj)  # proxy class or a bare SwigPyObject
    return int(inner)  # type: ignore[call-overload]


def _phy_address(addr: SclPhyAddress) -> int:
    lib = _clib()
    mac = (ctypes.c_uint8 * 6)(*addr.mac)
    return lib.PhyComAddress_create(addr.vlan_priority, addr.vlan_id, addr.appid, mac)


def _with_fc(da: SclDA, fc: str) -> SclDA:
    """A copy of ``da`` (and its components) with another FC (the SE twin of an SG attribute)."""
    return dataclasses.replace(da, fc=fc, children=[_with_fc(c, fc) for c in da.children])


class _SettingGroups:
    """The per-group values of one LD's SGCB (libiec61850 keeps only the SG/SE values in
    the model; the application switches them in its handlers)."""

    def __init__(self, server: "LibiecPeerServer", ld: SclLD, sgcb: object) -> None:
        self.server = server
        self.ld = ld
        self.sgcb = sgcb
        sgc = ld.setting_control
        assert sgc is not None
        #: "LN.DO.DA" -> [value of group 1, 2, ...] for every FC SG leaf of the LD
        self.groups: dict[str, list[object]] = {}
        self.btypes: dict[str, str] = {}
        for lf in server.model.sg_leaves(ld.domain):
            if lf.sg_values is not None:
                self.groups[lf.path] = list(lf.sg_values)
            else:  # no Val sGroup: every group starts with the plain value (or none)
                self.groups[lf.path] = [lf.value] * sgc.num_of_sgs
            self.btypes[lf.path] = lf.btype
        self.activations: list[tuple[int, int]] = []  # (old, new) accepted
        self.confirmed: list[int] = []
        self._keep: list[object] = []

    def _set(self, path: str, fc: str, value: object) -> None:
        if value is None:
            return
        attr = self.server.attrs[(self.ld.domain, path, fc)]
        mv = pyiec_mms_value(self.btypes[path], value)
        try:
            L.DataAttribute_setValue(attr, mv)  # copies; takes no lock
        finally:
            L.MmsValue_delete(mv)

    def load(self, sg: int, fc: str) -> None:
        """Group ``sg``'s values into the FC ``fc`` (SG or SE) attributes."""
        for path, values in self.groups.items():
            self._set(path, fc, values[sg - 1])

    def install(self, ied_server: object) -> None:
        lib = _clib()

        def on_act(_param: int, _sgcb: int, new_sg: int, _conn: int) -> bool:
            try:
                if self.server.sg_switches.refuses(self.ld.domain, "activate"):
                    return False
                old = int(self.sgcb.actSG)  # type: ignore[attr-defined]
                self.load(new_sg, "SG")
                self.activations.append((old, int(new_sg)))
                return True
            except Exception:  # never into the C thread
                log.exception("activate handler failed")
                return False

        def on_edit(_param: int, _sgcb: int, new_sg: int, _conn: int) -> bool:
            try:
                if self.server.sg_switches.refuses(self.ld.domain, "edit"):
                    return False
                if new_sg:
                    self.load(new_sg, "SE")
                return True
            except Exception:
                log.exception("edit handler failed")
                return False

        def on_confirm(_param: int, _sgcb: int, edit_sg: int) -> None:
            try:
                for path in self.groups:
                    attr = self.server.attrs[(self.ld.domain, path, "SE")]
                    mv = L.IedServer_getAttributeValue(self.server.ied_server, attr)
                    if mv is not None:
                        self.groups[path][edit_sg - 1] = pyiec_to_python(mv, self.btypes[path])
                if int(edit_sg) == int(self.sgcb.actSG):  # type: ignore[attr-defined]
                    self.load(edit_sg, "SG")
                self.confirmed.append(int(edit_sg))
            except Exception:
                log.exception("confirm handler failed")

        handlers = (_ACT_SG_HANDLER(on_act), _EDIT_SG_HANDLER(on_edit), _CONFIRM_SG_HANDLER(on_confirm))
        self._keep.extend(handlers)  # the C side keeps the pointers: keep the objects alive
        srv, sgcb = _ptr(ied_server), _ptr(self.sgcb)
        lib.IedServer_setActiveSettingGroupChangedHandler(srv, sgcb, handlers[0], None)
        lib.IedServer_setEditSettingGroupChangedHandler(srv, sgcb, handlers[1], None)
        lib.IedServer_setEditSettingGroupConfirmationHandler(srv, sgcb, handlers[2], None)

    def state(self) -> str:
        """``act=N edit=N cnf=0|1 num=N``: the SGCB as the model holds it."""
        sg = self.sgcb
        return (f"act={int(sg.actSG)} edit={int(sg.editSG)} cnf={int(bool(sg.cnfEdit))} "  # type: ignore[attr-defined]
                f"num={int(sg.numOfSGs)}")  # type: ignore[attr-defined]




class _InterlockCheckHandler(L.CheckHandlerForPython):
    """Refuses select/operate with blocked-by-interlocking while ``interlock <ref> on``."""

    def __init__(self, server: "LibiecPeerServer", ref: str) -> None:
        L.CheckHandlerForPython.__init__(self)
        self._server = server
        self._ref = ref

    def trigger(self) -> None:  # called on a libiec61850 thread
        try:
            if self._ref in self._server.switches.interlocked:
                L.ControlAction_setAddCause(self._libiec61850_control_action, L.ADD_CAUSE_BLOCKED_BY_INTERLOCKING)
                self._libiec61850_check_handler_result = L.CONTROL_OBJECT_ACCESS_DENIED
            else:
                self._libiec61850_check_handler_result = L.CONTROL_ACCEPTED
        except Exception:  # never let an exception escape into the C thread
            log.exception("check handler failed")
            self._libiec61850_check_handler_result = L.CONTROL_OBJECT_ACCESS_DENIED


class _MirrorControlHandler(L.ControlHandlerForPython):
    """Accepts every Operate and mirrors ctlVal into stVal (and t) of the same DO;
    fails it with blocked-by-process while ``opfail <ref> on``."""

    def __init__(self, server: "LibiecPeerServer", ref: str, st_val: object | None, st_btype: str | None,
                 t: object | None):
        L.ControlHandlerForPython.__init__(self)
        self._server = server
        self._ref = ref
        self._st_val = st_val
        self._st_btype = st_btype
        self._t = t

    def trigger(self) -> None:  # called on a libiec61850 thread
        try:
            if self._ref in self._server.switches.failing:
                L.ControlAction_setAddCause(self._libiec61850_control_action, L.ADD_CAUSE_BLOCKED_BY_PROCESS)
                self._libiec61850_control_handler_result = L.CONTROL_RESULT_FAILED
                return
            srv = self._server.ied_server
            ctl = self._libiec61850_mms_value
            if self._st_val is not None and ctl is not None:
                if self._st_btype == "BOOLEAN":
                    L.IedServer_updateBooleanAttributeValue(srv, self._st_val, L.MmsValue_getBoolean(ctl))
                elif self._st_btype == "Dbpos":
                    pos = L.DBPOS_ON if L.MmsValue_getBoolean(ctl) else L.DBPOS_OFF
                    L.IedServer_updateDbposValue(srv, self._st_val, pos)
                elif self._st_btype in ("INT8", "INT16", "INT32", "Enum"):
                    L.IedServer_updateInt32AttributeValue(srv, self._st_val, L.MmsValue_toInt32(ctl))
                elif self._st_btype == "APC" and L.MmsValue_getType(ctl) == L.MMS_STRUCTURE:
                    f = L.MmsValue_getElement(ctl, 0)
                    if f is not None and L.MmsValue_getType(f) == L.MMS_FLOAT:
                        L.IedServer_updateFloatAttributeValue(srv, self._st_val, L.MmsValue_toFloat(f))
            if self._t is not None:
                L.IedServer_updateUTCTimeAttributeValue(srv, self._t, int(time.time() * 1000))
            self._libiec61850_control_handler_result = L.CONTROL_RESULT_OK
        except Exception:  # never let an exception escape into the C thread
            log.exception("control handler failed")
            self._libiec61850_control_handler_result = L.CONTROL_RESULT_FAILED


class LibiecPeerServer:
    """Builds and runs a libiec61850 server from an :class:`SclModel`."""

    def __init__(self, model: SclModel, filestore: str | None = None) -> None:
        self.model = model
        #: absolute file store directory with a trailing "/", or None (libiec61850's default)
        self.filestore = os.path.join(os.path.abspath(filestore), "") if filestore else None
        self.ied_model = L.IedModel_create(model.ied_name)
        self.ied_server = None
        self._controls: list[tuple[str, object, object | None, str | None, object | None]] = []
        self.switches = ControlSwitches(model)
        self.sg_switches = SettingGroupSwitches(model)
        self._keep: list[object] = []  # SWIG objects that must outlive the server
        #: (domain, "LN.DO.DA", FC) -> DataAttribute of every basic-type leaf (FC SE twins too)
        self.attrs: dict[tuple[str, str, str], object] = {}
        #: domain -> the SGCB and its group values
        self.setting_groups: dict[str, _SettingGroups] = {}
        for ld in model.lds:
            ldev = L.LogicalDevice_create(ld.inst, self.ied_model)
            self._with_se = ld.setting_control is not None
            for ln in ld.lns:
                lnode = self._build_ln(ln, ldev, ld.domain)
                if ln.setting_control is not None:
                    sgc = ln.setting_control
                    sgcb = L.SettingGroupControlBlock_create(lnode, sgc.act_sg, sgc.num_of_sgs)
                    self.setting_groups[ld.domain] = _SettingGroups(self, ld, sgcb)

    # ------------------------------------------------------------------ model building

    def _build_ln(self, ln: SclLN, ldev: object, domain: str) -> object:
        lnode = L.LogicalNode_create(ln.name, ldev)
        for do in ln.dos:
            self._build_do(do, L.toModelNode(lnode), domain, f"{ln.name}.{do.name}")
        for ds in ln.datasets:
            dset = L.DataSet_create(ds.name, lnode)
            for m in ds.members:
                L.DataSetEntry_create(dset, m.mms_name(), -1, None)
        for rc in ln.report_controls:
            trg = 0
            for k in rc.trg_ops:
                trg |= _TRG_OPS.get(k, 0)
            opt = 0
            for k in rc.opt_fields:
                opt |= _OPT_FIELDS.get(k, 0)
            for inst in rc.instances():
                L.ReportControlBlock_create(
                    inst, lnode, rc.rpt_id or None, rc.buffered, rc.dataset, rc.conf_rev, trg, opt,
                    rc.buf_time, rc.intg_pd,
                )
        ld_inst = domain[len(self.model.ied_name):] if domain.startswith(self.model.ied_name) else domain
        for name in ln.logs:
            L.Log_create(name, lnode)
        for lc in ln.log_controls:
            trg = 0
            for k in lc.trg_ops:
                trg |= _TRG_OPS.get(k, 0)
            # the log reference without the IED name: libiec61850 prefixes it in LogRef
            L.LogControlBlock_create(lc.name, lnode, lc.dataset or None, f"{ld_inst}/{ln.name}${lc.log_name}", trg,
                                     lc.intg_pd, lc.log_ena, lc.reason_code)
        for gc in ln.gse_controls:
            gse = L.GSEControlBlock_create(gc.name, lnode, gc.app_id or None, gc.dataset or None, gc.conf_rev,
                                           gc.fixed_offs, gc.min_time if gc.min_time is not None else -1,
                                           gc.max_time if gc.max_time is not None else -1)
            if gc.address is not None:
                _clib().GSEControlBlock_addPhyComAddress(_ptr(gse), _phy_address(gc.address))
        for sc in ln.sv_controls:
            svcb = L.SVControlBlock_create(sc.name, lnode, sc.smv_id or None, sc.dataset or None, sc.conf_rev,
                                           sc.smp_mod, sc.smp_rate, sc.opt_fields, not sc.multicast)
            svcb.noASDU = sc.nof_asdu  # SVControlBlock_create leaves it uninitialised
            if sc.address is not None:
                _clib().SVControlBlock_addPhyComAddress(_ptr(svcb), _phy_address(sc.address))
        return lnode

    def _build_do(self, do: SclDO, parent_node: object, domain: str, path: str) -> None:
        dobj = L.DataObject_create(do.name, parent_node, 0)
        do_node = L.toModelNode(dobj)
        created: dict[str, object] = {}
        for ch in do.children:
            if isinstance(ch, SclDO):
                self._build_do(ch, do_node, domain, f"{path}.{ch.name}")
            else:
                created[ch.name] = self._build_da(ch, do_node, domain, f"{path}.{ch.name}")
                if ch.fc == "SG" and self._with_se:  # the SE twin SelectEditSG/ConfirmEditSGValues use
                    self._build_da(_with_fc(ch, "SE"), do_node, domain, f"{path}.{ch.name}")
        if any(isinstance(ch, SclDA) and ch.name == "Oper" and ch.fc == "CO" for ch in do.children):
            st = next((c for c in do.children if isinstance(c, SclDA) and c.name == "stVal"), None)
            target, btype = created.get("stVal"), st.btype if st is not None else None
            mx_f = self.attrs.get((domain, f"{path}.mxVal.f", "MX"))
            if st is None and mx_f is not None:  # APC: ctlVal.f goes to mxVal.f
                target, btype = mx_f, "APC"
            self._controls.append((f"{domain}/{path}", dobj, target, btype, created.get("t")))

    def _build_da(self, da: SclDA, parent_node: object, domain: str, path: str) -> object:
        trg = 0
        if da.dchg:
            trg |= L.TRG_OPT_DATA_CHANGED
        if da.qchg:
            trg |= L.TRG_OPT_QUALITY_CHANGED
        if da.dupd:
            trg |= L.TRG_OPT_DATA_UPDATE
        attr = L.DataAttribute_create(da.name, parent_node, _BTYPE[da.btype], _fc(da.fc), trg, 0, 0)
        if da.is_struct:
            # there is no toModelNode(DataAttribute*): fetch the node by name and FC
            node = L.ModelNode_getChildWithFc(parent_node, da.name, _fc(da.fc))
            for ch in da.children:
                self._build_da(ch, node, domain, f"{path}.{ch.name}")
        else:
            self.attrs[(domain, path, da.fc)] = attr
            if da.value is not None:
                mv = pyiec_mms_value(da.btype, da.value)
                L.DataAttribute_setValue(attr, mv)  # stores a copy
                L.MmsValue_delete(mv)
        return attr

    # ------------------------------------------------------------------ value updates

    def update(self, leaf: Leaf, value: object) -> None:
        """Set a leaf as the local process would (under the data model lock): libiec61850
        emits the reports its trigger options ask for. Raises on an unknown leaf/type."""
        attr = self.attrs[(leaf.domain, leaf.path, leaf.fc)]
        srv = self.ied_server
        if srv is None:
            raise RuntimeError("server not running")
        b = leaf.btype
        L.IedServer_lockDataModel(srv)
        try:
            if b == "BOOLEAN":
                L.IedServer_updateBooleanAttributeValue(srv, attr, bool(value))
            elif b in ("INT8", "INT16", "INT32", "Enum"):
                L.IedServer_updateInt32AttributeValue(srv, attr, int(value))
            elif b == "INT64":
                L.IedServer_updateInt64AttributeValue(srv, attr, int(value))
            elif b in ("INT8U", "INT16U", "INT32U"):
                L.IedServer_updateUnsignedAttributeValue(srv, attr, int(value))
            elif b == "FLOAT32":
                L.IedServer_updateFloatAttributeValue(srv, attr, float(value))
            elif b == "Dbpos":
                L.IedServer_updateDbposValue(srv, attr, int(value))
            elif b == "Quality":
                L.IedServer_updateQuality(srv, attr, int(value))
            elif b == "Timestamp":
                L.IedServer_updateUTCTimeAttributeValue(srv, attr, round(value.timestamp() * 1000))
            elif b.startswith("VisString"):
                L.IedServer_updateVisibleStringAttributeValue(srv, attr, str(value))
            else:  # FLOAT64, Unicode255, Octet64, Check: a whole MmsValue of the exact type
                mv = pyiec_mms_value(b, value)
                try:
                    L.IedServer_updateAttributeValue(srv, attr, mv)
                finally:
                    L.MmsValue_delete(mv)
        finally:
            L.IedServer_unlockDataModel(srv)

    # ------------------------------------------------------------------ commands

    def commands(self) -> dict[str, object]:
        """The server-specific command verbs (see tests/peers/README.md)."""

        def sgcb(rest: str) -> str:
            return f"OK {self._sgs(rest).state()}"

        def sgvalue(rest: str) -> str:
            ref, sg = rest.split()
            ld, _, path = ref.partition("/")
            sgs = self._sgs(ld)
            values = sgs.groups.get(path)
            if values is None:
                raise KeyError(f"no FC SG attribute {ref}")
            return f"OK {values[int(sg) - 1]!r}"

        return {"sg": sgcb, "sgveto": self.sg_switches.handle, "sgvalue": sgvalue}

    def _sgs(self, ld: str) -> "_SettingGroups":
        domain = self.sg_switches.domain(ld)
        if domain not in self.setting_groups:
            raise KeyError(f"{domain} has no SGCB")
        return self.setting_groups[domain]

    # ------------------------------------------------------------------ lifecycle

    def start(self, port: int, host: str = "127.0.0.1") -> bool:
        self.ied_server = L.IedServer_create(self.ied_model)
        if self.filestore is not None:
            L.IedServer_setFilestoreBasepath(self.ied_server, self.filestore)
        # GoEna=TRUE makes libiec61850 publish GOOSE (raw Ethernet): keep it on the loopback
        L.IedServer_setGooseInterfaceId(self.ied_server, "lo")
        L.IedServer_setWriteAccessPolicy(self.ied_server, L.IEC61850_FC_SP, L.ACCESS_POLICY_ALLOW)
        L.IedServer_setWriteAccessPolicy(self.ied_server, L.IEC61850_FC_CF, L.ACCESS_POLICY_DENY)
        L.IedServer_setWriteAccessPolicy(self.ied_server, L.IEC61850_FC_DC, L.ACCESS_POLICY_DENY)
        for sgs in self.setting_groups.values():
            sgs.install(self.ied_server)
        for ref, dobj, st_val, st_btype, t in self._controls:
            handler = _MirrorControlHandler(self, ref, st_val, st_btype, t)
            check = _InterlockCheckHandler(self, ref)
            sub = L.ControlSubscriberForPython()
            sub.setIedServer(self.ied_server)
            sub.setControlObject(dobj)
            sub.setControlHandler(handler)
            sub.setCheckHandler(check)
            sub.subscribe()
            self._keep += [handler, check, sub]
        L.IedServer_setLocalIpAddress(self.ied_server, host)
        L.IedServer_start(self.ied_server, port)
        return bool(L.IedServer_isRunning(self.ied_server))

    def stop(self) -> None:
        if self.ied_server is not None:
            L.IedServer_stop(self.ied_server)
            L.IedServer_destroy(self.ied_server)
            self.ied_server = None
        # the model is left to the process exit: destroying it while SWIG proxies of its
        # nodes are alive is not worth the risk in a test helper


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scl", required=True, help="SCL file (one of examples/*.icd)")
    ap.add_argument("--ied", default=None, help="IED name in the SCL (default: the first)")
    ap.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (> 0)")
    ap.add_argument("--filestore", default=None, metavar="DIR", help="directory served by the MMS file services")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="libiec_server: %(message)s")
    if args.port <= 0:
        print("libiec_server: --port must be > 0 (libiec61850 cannot report an OS-chosen port)", file=sys.stderr)
        return 2

    parent = os.getppid()
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.filestore is not None and not os.path.isdir(args.filestore):
        print(f"libiec_server: --filestore {args.filestore}: not a directory", file=sys.stderr)
        return 2
    model = SclModel(args.scl, args.ied)
    server = LibiecPeerServer(model, args.filestore)
    if not server.start(args.port):
        print(f"libiec_server: cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    sys.stdout.write(f"READY {args.port}\n")
    sys.stdout.flush()
    # from now on, everything written to fd 1 (C or Python) goes nowhere; the original
    # stdout carries the command answers only
    ControlCommands(model, server.update, server.switches, server.commands()).start()
    while not stop.wait(0.2):
        if os.getppid() != parent:  # the test run that started us is gone
            log.info("parent process exited")
            break
    server.stop()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    rc = main()
    sys.stderr.flush()
    # skip interpreter finalisation: SWIG proxies of C objects are not torn down in order
    os._exit(rc)
