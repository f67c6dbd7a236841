"""Internals of :mod:`py61850.server`: the lib61850 data model built from an
:class:`~py61850.scl.IedModel`, type specifications, and the conversion of
Python values to :class:`~py61850.client.MmsValue` for a given MMS type.

Basic types map onto MMS types as IEC 61850-8-1 and the common stacks do
(quality a variable bit string of at most 13 bits, Dbpos a 2-bit string, Enum
an 8-bit INTEGER, VisString\\ *n* a variable visible string of at most *n*
characters, ...); see :data:`BTYPE_MMS`.
"""
from __future__ import annotations

import datetime as _dt
import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from . import _ffi
from ._enums import FunctionalConstraint, IedClientError, MmsType
from ._errors import InvalidArgumentError, exception_for
from ._model import VariableSpec
from ._values import BitString, MmsValue, Quality, TimeQuality, Timestamp

log = logging.getLogger("py61850.server")

__all__ = ["BTYPE_MMS", "DEFAULT_LOG_MAX_ENTRIES", "DEFAULT_REPORT_BUFFER_SIZE", "BuiltModel", "build_model",
           "to_mms", "mms_type_of_btype", "parse_phy_address"]

_UTC = _dt.timezone.utc
_EPOCH_1984 = _dt.datetime(1984, 1, 1, tzinfo=_UTC)

#: Octets of report entries a buffered RCB keeps by default.
DEFAULT_REPORT_BUFFER_SIZE = 65536
#: Entries a log keeps by default (memory and SQLite storage alike).
DEFAULT_LOG_MAX_ENTRIES = 10000

# SCL smpMod -> i61_svcb_config.smp_mod
_SMP_MOD = {"SmpPerPeriod": 0, "SmpPerSec": 1, "SecPerSmp": 2}
# SCL SmvOpts (snake case) -> i61_svcb_config.opt_flds bit
_SMV_OPTS = (("refresh_time", 1), ("sample_synchronized", 2), ("sample_rate", 4), ("data_set", 8),
             ("security", 16))

# i61_trg_ops masks of the SCL DA trigger flags
_DA_TRIGGERS = (("dchg", 1), ("qchg", 2), ("dupd", 4))

#: SCL basic type -> (MMS type, size as in ``i61_model_add_da``).
BTYPE_MMS: dict[str, tuple[MmsType, int]] = {
    "BOOLEAN": (MmsType.BOOLEAN, 0),
    "INT8": (MmsType.INTEGER, 8),
    "INT16": (MmsType.INTEGER, 16),
    "INT24": (MmsType.INTEGER, 32),
    "INT32": (MmsType.INTEGER, 32),
    "INT64": (MmsType.INTEGER, 64),
    "INT128": (MmsType.INTEGER, 64),
    "INT8U": (MmsType.UNSIGNED, 8),
    "INT16U": (MmsType.UNSIGNED, 16),
    "INT24U": (MmsType.UNSIGNED, 24),
    "INT32U": (MmsType.UNSIGNED, 32),
    "FLOAT32": (MmsType.FLOAT, 32),
    "FLOAT64": (MmsType.FLOAT, 64),
    "Enum": (MmsType.INTEGER, 8),
    "Dbpos": (MmsType.BIT_STRING, 2),
    "Tcmd": (MmsType.BIT_STRING, 2),
    "Check": (MmsType.BIT_STRING, -2),
    "Quality": (MmsType.BIT_STRING, -13),
    "TrgOps": (MmsType.BIT_STRING, -6),
    "OptFlds": (MmsType.BIT_STRING, -10),
    "SvOptFlds": (MmsType.BIT_STRING, -5),
    "LogOptFlds": (MmsType.BIT_STRING, -1),
    "Timestamp": (MmsType.UTC_TIME, 0),
    "EntryTime": (MmsType.BINARY_TIME, 6),
    "VisString32": (MmsType.VISIBLE_STRING, -32),
    "VisString64": (MmsType.VISIBLE_STRING, -64),
    "VisString65": (MmsType.VISIBLE_STRING, -65),
    "VisString129": (MmsType.VISIBLE_STRING, -129),
    "VisString255": (MmsType.VISIBLE_STRING, -255),
    "ObjRef": (MmsType.VISIBLE_STRING, -129),
    "Currency": (MmsType.VISIBLE_STRING, -3),
    "Unicode255": (MmsType.STRING, -255),
    "Octet64": (MmsType.OCTET_STRING, -64),
    "Octet16": (MmsType.OCTET_STRING, -16),
    "Octet6": (MmsType.OCTET_STRING, -6),
    "PhyComAddr": (MmsType.OCTET_STRING, -6),
    "EntryID": (MmsType.OCTET_STRING, 8),
    "Struct": (MmsType.STRUCTURE, 0),
}


def mms_type_of_btype(btype: str) -> tuple[MmsType, int]:
    """MMS type and size used for an SCL basic type.

    :raises InvalidArgumentError: unknown basic type
    """
    try:
        return BTYPE_MMS[btype]
    except KeyError:
        raise InvalidArgumentError(
            f"basic type {btype!r} has no MMS mapping", IedClientError.USER_PROVIDED_INVALID_ARGUMENT
        ) from None


def _check(err: int, what: str) -> None:
    if err != 0:
        _, lib = _ffi.load()
        text = _ffi.load()[0].string(lib.i61_err_str(err)).decode("ascii", "replace")
        raise exception_for(err, f"{what}: {text}")


# ----------------------------------------------------------------- model building


@dataclass
class BuiltModel:
    """What :func:`build_model` added besides the data (for the server's Python side).

    :ivar logs: the log references ``LD/LN$LogName`` in the model
    :ivar lcbs: the log control blocks ``LD/LN.LG.name`` in the model
    :ivar sgcbs: LD (MMS domain) -> the references (``LD/LN.DO.DA``) of the basic
        attributes with FC SG of that LD, for every LD with an SGCB
    :ivar gocbs: the GOOSE control blocks ``LD/LLN0.GO.name``
    :ivar svcbs: the sampled value control blocks ``LD/LLN0.MS.name`` / ``.US.``
    """

    logs: list[str] = field(default_factory=list)
    lcbs: list[str] = field(default_factory=list)
    sgcbs: dict[str, list[str]] = field(default_factory=dict)
    gocbs: list[str] = field(default_factory=list)
    svcbs: list[str] = field(default_factory=list)


def parse_phy_address(address: Mapping[str, str], where: str = "") -> tuple[bytes, int, int, int]:
    """``(mac, appid, vlan_id, vlan_priority)`` of the P values of an SCL ``GSE``/``SMV``
    ``Address`` (``MAC-Address`` ``01-0C-CD-01-00-01``, ``APPID`` 4 hex digits,
    ``VLAN-ID`` 3 hex digits, ``VLAN-PRIORITY`` 0..7; IEC 61850-8-1/-6). Absent
    values are 0 (a MAC of six zero octets).

    :raises ValueError: a value that does not parse or is out of range
    """
    pre = f"{where}: " if where else ""
    mac = bytes(6)
    text = (address.get("MAC-Address") or "").strip()
    if text:
        parts = re.split(r"[-:]", text)
        if len(parts) != 6 or not all(re.fullmatch(r"[0-9A-Fa-f]{1,2}", p) for p in parts):
            raise ValueError(f"{pre}MAC-Address {text!r} is not six hex octets (01-0C-CD-01-00-01)")
        mac = bytes(int(p, 16) for p in parts)

    def num(key: str, base: int, top: int) -> int:
        t = (address.get(key) or "").strip()
        if not t:
            return 0
        try:
            v = int(t, base)
        except ValueError:
            raise ValueError(f"{pre}{key} {t!r} is not a number") from None
        if not 0 <= v <= top:
            raise ValueError(f"{pre}{key} {t!r} is outside 0..{top:#x}" if base == 16 else
                             f"{pre}{key} {t!r} is outside 0..{top}")
        return v

    return mac, num("APPID", 16, 0xFFFF), num("VLAN-ID", 16, 0xFFF), num("VLAN-PRIORITY", 10, 7)


class _Builder:
    """Adds the objects of an :class:`~py61850.scl.IedModel` to a new ``i61_model``."""

    def __init__(self, ffi: Any, lib: Any, model: Any, report_buffer_size: int = DEFAULT_REPORT_BUFFER_SIZE,
                 log_max_entries: int = DEFAULT_LOG_MAX_ENTRIES) -> None:
        self.ffi = ffi
        self.lib = lib
        self.model = model  # py61850.scl.IedModel
        self.report_buffer_size = report_buffer_size
        self.log_max_entries = log_max_entries
        self.info = BuiltModel()
        # (reference, DA) of every basic attribute with FC SG, in model order
        self.sg_leaves: list[tuple[str, Any]] = []
        self.m = ffi.NULL
        # (node, fc, value, description) of every attribute with an initial value
        self.values: list[tuple[Any, int, Any, Callable[[Any], Any], str]] = []
        # (node, fc, i61_trg_ops mask, description) of every attribute with SCL trigger options
        self.triggers: list[tuple[Any, int, int, str]] = []
        self.data_sets: set[str] = set()  # "LD/LN$name" of the data sets added

    def build(self) -> Any:
        ffi, lib = self.ffi, self.lib
        name = self.model.name
        self.m = lib.i61_model_new(_name_bytes(name, "IED name"))
        if self.m == ffi.NULL:
            raise InvalidArgumentError(
                f"invalid IED name {name!r} (or out of memory)", IedClientError.USER_PROVIDED_INVALID_ARGUMENT
            )
        try:
            out = ffi.new("i61_mnode **")
            for ld in self.model.logical_devices:
                ld_name = _name_bytes(ld.ld_name, "LD name") if ld.ld_name else ffi.NULL
                _check(lib.i61_model_add_ld(self.m, _name_bytes(ld.inst, "LD inst"), ld_name, out),
                       f"logical device {ld.domain_name or ld.inst}")
                ld_node = out[0]
                for ln in ld.logical_nodes:
                    path = f"{ld.domain_name}/{ln.name}"
                    _check(lib.i61_model_add_ln(ld_node, _name_bytes(ln.name, "LN name"), out), f"logical node {path}")
                    ln_node = out[0]
                    for do in ln.data_objects:
                        self._add_do(ln_node, do, f"{path}.{do.name}")
            self._add_data_sets()
            self._add_report_controls()
            self._apply_triggers()
            self._apply_values()
            # after the initial values: they are no log entries
            self._add_setting_groups()
            self._add_logs()
            self._add_gse_controls()
            self._add_sv_controls()
        except BaseException:
            lib.i61_model_free(self.m)
            self.m = ffi.NULL
            raise
        return self.m

    def _add_data_sets(self) -> None:
        """The SCL data sets as persistent (not deletable) MMS named variable
        lists ``LD/LN$name``. A data set whose members are not all in the model
        (an attribute that was left out) is left out too, with a warning."""
        ffi, lib = self.ffi, self.lib
        for ld in self.model.logical_devices:
            for ln in ld.logical_nodes:
                for ds in getattr(ln, "data_sets", ()):
                    ref = f"{ld.domain_name}/{ln.name}.{ds.name}"
                    if any(getattr(f, "ix", None) is not None for f in ds.members):
                        log.warning("data set %s: array element members are not supported; left out", ref)
                        continue
                    keep = [ffi.new("char[]", _name_bytes(f"{f.mms_domain}/{f.mms_item}", "data set member"))
                            for f in ds.members]
                    rc = lib.i61_model_add_dataset(self.m, _name_bytes(ref, "data set"),
                                                   ffi.new("const char *[]", keep), len(keep))
                    if rc != 0:
                        text = ffi.string(lib.i61_err_str(rc)).decode("utf-8", "replace")
                        log.warning("data set %s: %s; left out", ref, text)
                    else:
                        self.data_sets.add(f"{ld.domain_name}/{ln.name}${ds.name}")

    def _add_report_controls(self) -> None:
        """Every SCL ``ReportControl`` as report control blocks of its LN: the
        instances ``name01`` .. ``nameNN`` (``RptEnabled max`` = NN) or exactly
        ``name`` with ``indexed="false"`` (:attr:`ReportControl.instance_names`).
        Edition 2 RCBs (any model not from an Edition 1 SCL file) expose
        ``Owner``, and BRCBs ``ResvTms``. An RCB whose data set was left out is
        left out too, with a warning."""
        ffi, lib = self.ffi, self.lib
        ed2 = rcb_edition2(self.model)
        for ld in self.model.logical_devices:
            for ln in ld.logical_nodes:
                ln_ref = f"{ld.domain_name}/{ln.name}"
                for rc in getattr(ln, "report_controls", ()):
                    if rc.dataset_ref and rc.dataset_ref not in self.data_sets:
                        log.warning("report control %s.%s: its data set %s was left out; left out too",
                                    ln_ref, rc.name, rc.dataset_ref)
                        continue
                    keep = []  # the C strings must outlive the calls

                    def cstr(text: Optional[str], what: str) -> Any:
                        if not text:
                            return ffi.NULL
                        b = ffi.new("char[]", _name_bytes(text, what))
                        keep.append(b)
                        return b

                    cfg = ffi.new("i61_rcb_config *")
                    cfg.rpt_id = cstr(rc.rpt_id, "RptID")
                    cfg.dataset = cstr(rc.dataset_ref, "DatSet")
                    cfg.conf_rev = _u32(rc.conf_rev, "confRev", rc.name)
                    cfg.opt_flds = opt_flds_mask(rc.opt_fields)
                    cfg.trg_ops = trg_ops_mask(rc.trg_ops)
                    cfg.buf_tm = _u32(rc.buf_time, "bufTime", rc.name)
                    cfg.intg_pd = _u32(rc.intg_pd, "intgPd", rc.name)
                    cfg.buffer_size = self.report_buffer_size if rc.buffered else 0
                    cfg.with_owner = 1 if ed2 else 0
                    cfg.with_resv_tms = 1 if ed2 and rc.buffered else 0
                    ln_b = _name_bytes(ln_ref, "LN reference")
                    for inst in rc.instance_names:
                        _check(lib.i61_model_add_rcb(self.m, ln_b, _name_bytes(inst, "RCB name"),
                                                     1 if rc.buffered else 0, cfg),
                               f"report control block {ln_ref}.{rc.fc}.{inst}")

    def _warn(self, err: int, what: str) -> None:
        text = self.ffi.string(self.lib.i61_err_str(err)).decode("utf-8", "replace")
        log.warning("%s: %s; left out", what, text)

    def _cstr(self, keep: list[Any], text: Optional[str], what: str) -> Any:
        if not text:
            return self.ffi.NULL
        b = self.ffi.new("char[]", _name_bytes(text, what))
        keep.append(b)
        return b

    def _dataset_ok(self, ref: Optional[str], what: str) -> bool:
        if ref and ref not in self.data_sets:
            log.warning("%s: its data set %s was left out; left out too", what, ref)
            return False
        return True

    def _add_setting_groups(self) -> None:
        """The SCL ``SettingControl`` of each LLN0 as the LD's SGCB, and the
        per-group values (``Val sGroup``) of its attributes with FC SG. An
        attribute without a value for some group keeps its current value there."""
        ffi, lib = self.ffi, self.lib
        for ld in self.model.logical_devices:
            lln0 = ld.logical_nodes[0] if ld.logical_nodes else None
            sgc = getattr(lln0, "setting_control", None)
            if sgc is None:
                continue
            ln_ref = f"{ld.domain_name}/{lln0.name}"
            resv = int(sgc.resv_tms or 0)
            if not 0 <= resv < 2**32:
                resv = 0
            err = lib.i61_model_add_sgcb(self.m, _name_bytes(ln_ref, "LN reference"), int(sgc.num_of_sgs),
                                         int(sgc.act_sg), resv)
            if err != 0:
                self._warn(err, f"setting group control block {ln_ref}")
                continue
            prefix = f"{ld.domain_name}/"
            leaves = [(ref, da) for ref, da in self.sg_leaves if ref.startswith(prefix)]
            self.info.sgcbs[ld.domain_name] = [ref for ref, _ in leaves]
            for ref, da in leaves:
                for g, v in sorted(getattr(da, "sgroup_values", {}).items()):
                    if not 1 <= g <= sgc.num_of_sgs:
                        continue
                    mv = scl_value_to_mms(da.btype, v, da.name)
                    if mv is None:
                        continue
                    err = lib.i61_model_set_sg_value(self.m, _name_bytes(ref, "reference"), int(g), mv._ptr)
                    if err != 0:
                        log.warning("%s: value %r of setting group %d not applied (%s)", ref, v, g,
                                    ffi.string(lib.i61_err_str(err)).decode("utf-8", "replace"))

    def _add_logs(self) -> None:
        """Every SCL ``Log`` of a LN as a log of ``log_max_entries`` entries, then
        every ``LogControl`` as an LCB writing to its ``logName`` log (which is
        added, with a warning, when the LN that should hold it has no such ``Log``)."""
        ffi, lib = self.ffi, self.lib
        logs: set[str] = set()  # added
        declared: set[str] = set()  # in the SCL

        def add_log(ln_ref: str, name: str) -> bool:
            err = lib.i61_model_add_log(self.m, _name_bytes(ln_ref, "LN reference"), _name_bytes(name, "log name"),
                                        self.log_max_entries)
            if err != 0:
                self._warn(err, f"log {ln_ref}${name}")
                return False
            logs.add(f"{ln_ref}${name}")
            self.info.logs.append(f"{ln_ref}${name}")
            return True

        for ld in self.model.logical_devices:
            for ln in ld.logical_nodes:
                for name in getattr(ln, "logs", ()):
                    ref = f"{ld.domain_name}/{ln.name}${name}"
                    if name and ref not in declared:
                        declared.add(ref)
                        add_log(f"{ld.domain_name}/{ln.name}", name)
        for ld in self.model.logical_devices:
            for ln in ld.logical_nodes:
                ln_ref = f"{ld.domain_name}/{ln.name}"
                for lc in getattr(ln, "log_controls", ()):
                    what = f"log control block {ln_ref}.LG.{lc.name}"
                    if not self._dataset_ok(lc.dataset_ref, what):
                        continue
                    log_ref = lc.log_ref or f"{ln_ref}${lc.log_name}"
                    if log_ref in declared and log_ref not in logs:
                        log.warning("%s: its log %s was left out; left out too", what, log_ref)
                        continue
                    if log_ref not in logs:
                        declared.add(log_ref)
                        target, _, name = log_ref.rpartition("$")
                        log.warning("%s: its log %s is not declared (no Log element); added", what, log_ref)
                        if not add_log(target, name):
                            continue
                    keep: list[Any] = []
                    cfg = ffi.new("i61_lcb_config *")
                    cfg.dataset = self._cstr(keep, lc.dataset_ref, "DatSet")
                    cfg.log_ref = self._cstr(keep, log_ref, "LogRef")
                    cfg.trg_ops = trg_ops_mask(lc.trg_ops) & 0xF  # dchg qchg dupd integrity (no GI)
                    cfg.intg_pd = _u32(lc.intg_pd, "intgPd", lc.name)
                    cfg.log_ena = 1 if lc.log_ena else 0
                    cfg.reason_code = 1 if lc.reason_code else 0
                    err = lib.i61_model_add_lcb(self.m, _name_bytes(ln_ref, "LN reference"),
                                                _name_bytes(lc.name, "LCB name"), cfg)
                    if err != 0:
                        self._warn(err, what)
                    else:
                        self.info.lcbs.append(f"{ln_ref}.LG.{lc.name}")

    def _phy(self, cfg_dst: Any, address: Mapping[str, str], what: str) -> None:
        try:
            mac, appid, vid, prio = parse_phy_address(address, what)
        except ValueError as exc:
            log.warning("%s; the address is left all zero", exc)
            mac, appid, vid, prio = bytes(6), 0, 0, 0
        for i, b in enumerate(mac):
            cfg_dst.mac[i] = b
        cfg_dst.appid = appid
        cfg_dst.vid = vid
        cfg_dst.priority = prio

    def _add_gse_controls(self) -> None:
        """Every SCL ``GSEControl`` of type GOOSE as a GoCB (``LLN0$GO$name``) with
        its ``GSE`` address and MinTime/MaxTime from the Communication section;
        GoEna starts FALSE (publishing is not done by this server)."""
        ffi, lib = self.ffi, self.lib
        for ld in self.model.logical_devices:
            for ln in ld.logical_nodes:
                ln_ref = f"{ld.domain_name}/{ln.name}"
                for gc in getattr(ln, "gse_controls", ()):
                    what = f"GOOSE control block {ln_ref}.GO.{gc.name}"
                    if str(gc.type or "GOOSE").upper() != "GOOSE":
                        log.warning("%s: type %s is not supported; left out", what, gc.type)
                        continue
                    if not self._dataset_ok(gc.dataset_ref, what):
                        continue
                    keep: list[Any] = []
                    cfg = ffi.new("i61_gocb_config *")
                    cfg.go_id = self._cstr(keep, gc.app_id, "GoID")
                    cfg.dataset = self._cstr(keep, gc.dataset_ref, "DatSet")
                    cfg.conf_rev = _u32(gc.conf_rev, "confRev", gc.name)
                    cfg.go_ena = 0
                    cfg.nds_com = 0
                    cfg.fixed_offs = 1 if gc.fixed_offs else 0
                    cfg.min_time = _u32(gc.min_time, "MinTime", gc.name)
                    cfg.max_time = _u32(gc.max_time, "MaxTime", gc.name)
                    self._phy(cfg.dst, gc.address, what)
                    err = lib.i61_model_add_gocb(self.m, _name_bytes(ln_ref, "LN reference"),
                                                 _name_bytes(gc.name, "GoCB name"), cfg)
                    if err != 0:
                        self._warn(err, what)
                    else:
                        self.info.gocbs.append(f"{ln_ref}.GO.{gc.name}")

    def _add_sv_controls(self) -> None:
        """Every SCL ``SampledValueControl`` as an MSVCB (``LLN0$MS$name``,
        multicast) or USVCB (``LLN0$US$name``) with its ``SMV`` address; SvEna
        starts FALSE."""
        ffi, lib = self.ffi, self.lib
        for ld in self.model.logical_devices:
            for ln in ld.logical_nodes:
                ln_ref = f"{ld.domain_name}/{ln.name}"
                for sc in getattr(ln, "sv_controls", ()):
                    fc = "MS" if sc.multicast else "US"
                    what = f"sampled value control block {ln_ref}.{fc}.{sc.name}"
                    if not self._dataset_ok(sc.dataset_ref, what):
                        continue
                    keep: list[Any] = []
                    cfg = ffi.new("i61_svcb_config *")
                    cfg.sv_id = self._cstr(keep, sc.smv_id, "SvID")
                    cfg.dataset = self._cstr(keep, sc.dataset_ref, "DatSet")
                    cfg.conf_rev = _u32(sc.conf_rev, "confRev", sc.name)
                    cfg.sv_ena = 0
                    rate = int(sc.smp_rate or 0)
                    cfg.smp_rate = rate if 0 <= rate <= 0xFFFF else 0
                    opts = getattr(sc, "opts", {}) or {}
                    cfg.opt_flds = sum(bit for key, bit in _SMV_OPTS if opts.get(key))
                    mod = _SMP_MOD.get(str(sc.smp_mod or "SmpPerPeriod"))
                    if mod is None:
                        log.warning("%s: smpMod %r is unknown; SmpPerPeriod used", what, sc.smp_mod)
                        mod = 0
                    cfg.smp_mod = mod
                    n = int(sc.nof_asdu or 0)
                    cfg.no_asdu = n if 0 <= n <= 0xFFFF else 0
                    self._phy(cfg.dst, sc.address, what)
                    err = lib.i61_model_add_svcb(self.m, _name_bytes(ln_ref, "LN reference"),
                                                 _name_bytes(sc.name, "SVCB name"), 1 if sc.multicast else 0, cfg)
                    if err != 0:
                        self._warn(err, what)
                    else:
                        self.info.svcbs.append(f"{ln_ref}.{fc}.{sc.name}")

    def _apply_triggers(self) -> None:
        """SCL trigger options (``dchg``/``qchg``/``dupd`` of a DA, inherited by its
        components) of every attribute that has one; attributes without any keep
        the library's defaults (``q`` quality-change, ``t`` nothing, others data-change)."""
        lib = self.lib
        for node, fc, mask, path in self.triggers:
            _check(lib.i61_model_set_trigger_options(node, fc, mask), f"trigger options of {path}")

    def _add_do(self, parent: Any, do: Any, path: str) -> None:
        ffi, lib = self.ffi, self.lib
        if getattr(do, "count", 0):
            log.warning("%s: arrays of data objects are not supported; left out", path)
            return
        out = ffi.new("i61_mnode **")
        _check(lib.i61_model_add_do(parent, _name_bytes(do.name, "DO name"), out), f"data object {path}")
        node = out[0]
        for child in do.children:
            cpath = f"{path}.{child.name}"
            if getattr(child, "KIND", "DA") == "DO":
                self._add_do(node, child, cpath)
            else:
                self._add_da(node, child, cpath, None)

    def _add_da(self, parent: Any, da: Any, path: str, parent_fc: Optional[int], in_array: bool = False) -> None:
        ffi, lib = self.ffi, self.lib
        fc = lib.i61_fc_from_name(str(da.fc).encode("ascii", "replace"))
        if fc < 0:
            log.warning("%s: functional constraint %s is not supported; left out", path, da.fc)
            return
        mtype, size = mms_type_of_btype(da.btype)
        if mtype == MmsType.STRUCTURE and not da.children:
            log.warning("%s: constructed attribute without components; left out", path)
            return
        out = ffi.new("i61_mnode **")
        _check(
            lib.i61_model_add_da(parent, _name_bytes(da.name, "DA name"), fc if parent_fc is None else -1,
                                 int(mtype), size, int(da.count or 0), out),
            f"data attribute {path} [{da.fc}]",
        )
        node = out[0]
        if parent_fc is None:
            mask = da_trigger_mask(da)
            if mask:
                self.triggers.append((node, fc, mask, path))
        below_array = in_array or bool(da.count)
        if mtype == MmsType.STRUCTURE:
            for c in da.children:
                self._add_da(node, c, f"{path}.{c.name}", fc, below_array)
        if in_array:
            return  # the enclosing array's entry applies the values
        if da.count:
            if self._array_has_values(da):
                self.values.append((node, fc, da, self._array_value, path))
        elif mtype != MmsType.STRUCTURE and da.value is not None:
            self.values.append((node, fc, da, self._scalar_value, path))
        if mtype != MmsType.STRUCTURE and not da.count and str(da.fc) == "SG":
            self.sg_leaves.append((path, da))

    @staticmethod
    def _array_has_values(da: Any) -> bool:
        if isinstance(da.value, list) and any(v is not None for v in da.value):
            return True
        return da.is_struct and any(_has_leaf_value(c) for c in da.children)

    def _scalar_value(self, da: Any, _current: Any = None) -> Optional[MmsValue]:
        return scl_value_to_mms(da.btype, da.value, da.name)

    def _array_value(self, da: Any, current: MmsValue) -> Optional[MmsValue]:
        """The array DA's value: its current (default) value with the SCL values applied."""
        ffi, lib = self.ffi, self.lib
        n = len(current)
        if isinstance(da.value, list) and not da.is_struct:
            for i, v in enumerate(da.value[:n]):
                if v is None:
                    continue
                mv = scl_value_to_mms(da.btype, v, da.name)
                if mv is not None:
                    lib.i61_value_set_element(current._ptr, i, lib.i61_value_clone(mv._ptr))
        elif da.is_struct:
            for i in range(n):
                el = lib.i61_value_element(current._ptr, i)
                if el != ffi.NULL:
                    self._fill_struct(el, da)
        return current

    def _fill_struct(self, sval: Any, da: Any) -> None:
        ffi, lib = self.ffi, self.lib
        for j, c in enumerate(da.children):
            if c.count:
                continue  # nested arrays keep their defaults
            if c.is_struct:
                el = lib.i61_value_element(sval, j)
                if el != ffi.NULL:
                    self._fill_struct(el, c)
            elif c.value is not None:
                mv = scl_value_to_mms(c.btype, c.value, c.name)
                if mv is not None:
                    lib.i61_value_set_element(sval, j, lib.i61_value_clone(mv._ptr))

    def _apply_values(self) -> None:
        ffi, lib = self.ffi, self.lib
        out = ffi.new("i61_value **")
        for node, fc, da, make, path in self.values:
            current = None
            if make == self._array_value:
                _check(lib.i61_model_get_node_value(self.m, node, fc, out), f"value of {path}")
                current = MmsValue._own(out[0])
            try:
                mv = make(da, current)
            except (ValueError, TypeError) as exc:
                log.warning("%s: initial value %r not applied: %s", path, da.value, exc)
                continue
            if mv is None:
                continue
            err = lib.i61_model_set_node_value(self.m, node, fc, mv._ptr)
            if err != 0:
                log.warning("%s: initial value %r not applied (%s)", path, da.value,
                            ffi.string(lib.i61_err_str(err)).decode("ascii", "replace"))


def _has_leaf_value(da: Any) -> bool:
    if da.is_struct:
        return any(_has_leaf_value(c) for c in da.children)
    return da.value is not None


def _name_bytes(name: Any, what: str) -> bytes:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, got {type(name).__name__}")
    try:
        b = name.encode("ascii")
    except UnicodeEncodeError:
        raise InvalidArgumentError(f"{what} {name!r} is not ASCII", IedClientError.USER_PROVIDED_INVALID_ARGUMENT) from None
    if b"\x00" in b:
        raise InvalidArgumentError(f"{what} contains NUL", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return b


def build_model(model: Any, *, report_buffer_size: int = DEFAULT_REPORT_BUFFER_SIZE,
                log_max_entries: int = DEFAULT_LOG_MAX_ENTRIES, info: Optional[BuiltModel] = None) -> Any:
    """A new ``i61_model *`` holding ``model`` (an :class:`~py61850.scl.IedModel`)
    with its initial values, data sets, report control blocks, trigger
    options, setting groups (SGCB and per-group values), logs and log control
    blocks, GOOSE and sampled value control blocks. The caller owns it
    (``i61_model_free`` or ``i61_server_new``).

    Initial values that do not fit are logged and left at the type's zero value;
    raw-text values (Quality, Check, TrgOps, ... given as SCL text) are not applied.

    A control block the C model refuses (or whose data set was left out) is
    left out with a warning.

    :param report_buffer_size: octets of report entries each buffered RCB keeps
    :param log_max_entries: entries each log keeps (the oldest are dropped)
    :param info: filled with what was added (:class:`BuiltModel`)
    :raises InvalidArgumentError: a name or type the C model rejects
    """
    ffi, lib = _ffi.load()
    b = _Builder(ffi, lib, model, _check_u32(report_buffer_size, "report_buffer_size", " octets"),
                 _check_u32(log_max_entries, "log_max_entries"))
    m = b.build()
    if info is not None:
        info.logs, info.lcbs, info.sgcbs = b.info.logs, b.info.lcbs, b.info.sgcbs
        info.gocbs, info.svcbs = b.info.gocbs, b.info.svcbs
    return m


def _check_u32(n: Any, what: str, unit: str = "") -> int:
    """``n`` as an int in 1..2**32-1 (``what`` names it in the error).

    :raises InvalidArgumentError: out of range or not an integer
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise InvalidArgumentError(f"{what} must be an int, not {n!r}",
                                   IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    if not 0 < n < 2**32:
        raise InvalidArgumentError(f"{what} must be 1..{2**32 - 1}{unit}, not {n}",
                                   IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return n


def da_trigger_mask(da: Any) -> int:
    """The ``i61_trg_ops`` mask (dchg 1, qchg 2, dupd 4) of an SCL data attribute's trigger flags."""
    return sum(bit for name, bit in _DA_TRIGGERS if getattr(da, name, False))


def trg_ops_mask(trg: Any) -> int:
    """An SCL :class:`~py61850.scl.TriggerOptions` as an ``i61_trg_ops`` mask
    (IEC bit *n* -> ``1 << (n - 1)``: dchg 1, qchg 2, dupd 4, integrity 8, GI 16)."""
    return int(trg.bit_mask()) >> 1


def opt_flds_mask(opt: Any) -> int:
    """An SCL :class:`~py61850.scl.OptionalFields` as an ``i61_opt_flds`` mask
    (IEC bit *n* -> ``1 << (n - 1)``: seq-num 1 ... segmentation 256)."""
    return int(opt.bit_mask()) >> 1


def rcb_edition2(model: Any) -> bool:
    """Whether the RCBs of ``model`` take their Edition 2 form (URCB and BRCB
    with ``Owner``, BRCB with ``ResvTms``).

    Rule: Edition 2 unless the model says Edition 1, i.e. it comes from an SCL
    file whose root has no ``version`` of ``2007`` or later (SCL 2003,
    :attr:`~py61850.scl.IedModel.edition` ``"1"``). Dict models without
    ``edition`` are Edition 2.
    """
    return str(getattr(model, "edition", None) or "2") != "1"


def _u32(v: Any, what: str, name: str) -> int:
    n = int(v or 0)
    if not 0 <= n < 2**32:
        raise InvalidArgumentError(f"control block {name!r}: {what} {n} is not an INT32U",
                                   IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return n


def _dbpos_bits(v: int) -> BitString:
    v = int(v)
    return BitString.from_bools([bool(v & 2), bool(v & 1)])


def scl_value_to_mms(btype: str, value: Any, name: str = "") -> Optional[MmsValue]:
    """The MMS value of an SCL initial value (as converted by :mod:`py61850.scl`);
    ``None`` when the value is kept as raw text and has no MMS meaning here."""
    if value is None:
        return None
    mtype, size = mms_type_of_btype(btype)
    if btype in ("Dbpos", "Tcmd"):
        return MmsValue.bit_string(_dbpos_bits(value))
    if isinstance(value, str) and mtype in (MmsType.BIT_STRING, MmsType.BINARY_TIME):
        text = value.strip()
        if text and all(ch in "01" for ch in text) and len(text) <= abs(size):
            return MmsValue.bit_string(BitString.from_str(text))
        log.debug("%s: %s value %r kept as text, not applied", name, btype, value)
        return None
    spec = VariableSpec(name, mtype, size)
    return to_mms(spec, value, name)


# ----------------------------------------------------------------- value conversion


def _bad(what: str, value: Any, spec: VariableSpec, path: str) -> InvalidArgumentError:
    where = f"{path}: " if path else ""
    return InvalidArgumentError(
        f"{where}{value!r} is not {what} (the attribute is {_describe(spec)})",
        IedClientError.USER_PROVIDED_INVALID_ARGUMENT,
    )


def _describe(spec: VariableSpec) -> str:
    t = spec.type
    if t in (MmsType.INTEGER, MmsType.UNSIGNED):
        return f"{t.name} {spec.size} bits"
    if t == MmsType.FLOAT:
        return f"FLOAT{spec.size}"
    if t in (MmsType.BIT_STRING, MmsType.OCTET_STRING, MmsType.VISIBLE_STRING, MmsType.STRING):
        kind = "at most " if spec.size < 0 else ""
        return f"{t.name} of {kind}{abs(spec.size)}"
    if t == MmsType.ARRAY:
        return f"ARRAY of {spec.size}"
    if t == MmsType.STRUCTURE:
        return f"STRUCTURE of {len(spec.children)} components ({', '.join(c.name for c in spec.children)})"
    return t.name


def _int(value: Any, spec: VariableSpec, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, bool):
                raise TypeError
            value = value.__index__()
        except (AttributeError, TypeError):
            raise _bad("an int", value, spec, path) from None
    return int(value)


def _bit_string(value: Any, spec: VariableSpec, path: str) -> BitString:
    nbits = abs(spec.size)
    if isinstance(value, BitString):
        return value
    if isinstance(value, Quality):
        return value.to_bit_string()  # 13 bits, 14 with derived
    if isinstance(value, str):
        try:
            return BitString.from_str(value)
        except ValueError:
            raise _bad("a bit string text ('0'/'1')", value, spec, path) from None
    if isinstance(value, int) and not isinstance(value, bool):
        if nbits == 0 or value < 0 or value >= (1 << nbits):
            raise _bad(f"an int of {nbits} bits", value, spec, path)
        return BitString.from_bools(bool(value & (1 << (nbits - 1 - i))) for i in range(nbits))
    if isinstance(value, (list, tuple)):
        return BitString.from_bools(value)
    raise _bad("a bit string (BitString, Quality, '0101', int or list of bools)", value, spec, path)


def _utc(value: Any, spec: VariableSpec, path: str) -> MmsValue:
    if isinstance(value, Timestamp):
        return MmsValue.utc_time(value)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _bad("a timezone-aware datetime", value, spec, path)
        return MmsValue.utc_time(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or not 0 <= value < 2**32:
            raise _bad("a POSIX time in 1970..2106", value, spec, path)
        secs = int(value)
        frac = int((value - secs) * (1 << 24))
        return MmsValue.utc_time(Timestamp(secs, min(frac, (1 << 24) - 1), TimeQuality()))
    raise _bad("a time (aware datetime, Timestamp or POSIX seconds)", value, spec, path)


def _binary_time(value: Any, spec: VariableSpec, path: str) -> MmsValue:
    ffi, lib = _ffi.load()
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
    elif isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _bad("a timezone-aware datetime", value, spec, path)
        delta = value - _EPOCH_1984
        if delta.days < 0 or delta.days > 0xFFFF:
            raise _bad("a date in 1984..2163", value, spec, path)
        ms = delta.seconds * 1000 + delta.microseconds // 1000
        raw = ms.to_bytes(4, "big") + (delta.days.to_bytes(2, "big") if spec.size != 4 else b"")
    else:
        raise _bad("a binary time (aware datetime or raw octets)", value, spec, path)
    if len(raw) not in (4, 6):
        raise _bad("4 or 6 octets", value, spec, path)
    return MmsValue._own(lib.i61_value_new_binary_time(ffi.from_buffer("uint8_t[]", raw), len(raw)))


def to_mms(spec: VariableSpec, value: Any, path: str = "",
           current: Optional[Callable[[], MmsValue]] = None) -> MmsValue:
    """Convert a Python value to an :class:`MmsValue` of the MMS type ``spec``.

    :param spec: the type of the target
    :param value: an :class:`MmsValue` (used as is), or a Python value:
        bool (BOOLEAN), int (INTEGER, UNSIGNED, BCD), float or int (FLOAT),
        :class:`BitString`, :class:`Quality`, ``"0101"``, an int over the string's
        bits (bit 0 = most significant) or a sequence of bools (BIT STRING),
        bytes (OCTET STRING), str (VISIBLE STRING, MMSString, GeneralizedTime),
        aware datetime / :class:`Timestamp` / POSIX seconds (UtcTime),
        a sequence in component order or a mapping by component name
        (STRUCTURE; components missing from a mapping keep their current value)
        and a sequence (ARRAY)
    :param path: reference used in error messages
    :param current: returns the target's current value (for partial mappings)
    :raises InvalidArgumentError: the value does not fit the type
    """
    if isinstance(value, MmsValue):
        return value
    ffi, lib = _ffi.load()
    t = spec.type
    if t == MmsType.BOOLEAN:
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return MmsValue.boolean(bool(value))
        raise _bad("a bool", value, spec, path)
    if t == MmsType.INTEGER:
        v = _int(value, spec, path)
        bits = spec.size or 64
        if not -(1 << (bits - 1)) <= v < (1 << (bits - 1)):
            raise _bad(f"an int of {bits} bits", value, spec, path)
        return MmsValue.int64(v)
    if t == MmsType.UNSIGNED:
        v = _int(value, spec, path)
        bits = spec.size or 64
        if not 0 <= v < (1 << bits):
            raise _bad(f"an unsigned int of {bits} bits", value, spec, path)
        return MmsValue._own(lib.i61_value_new_unsigned(v))
    if t == MmsType.BCD:
        v = _int(value, spec, path)
        if v < 0:
            raise _bad("a non-negative int", value, spec, path)
        return MmsValue._own(lib.i61_value_new_bcd(v))
    if t == MmsType.FLOAT:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)  # numpy floats, Decimal, ...
            except (TypeError, ValueError):
                raise _bad("a float", value, spec, path) from None
        return MmsValue.float64(value) if spec.size == 64 else MmsValue.float32(value)
    if t == MmsType.BIT_STRING:
        return MmsValue.bit_string(_bit_string(value, spec, path))
    if t == MmsType.OCTET_STRING:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise _bad("bytes", value, spec, path)
        return MmsValue.octet_string(bytes(value))
    if t == MmsType.VISIBLE_STRING:
        if not isinstance(value, (str, bytes)):
            raise _bad("a str", value, spec, path)
        return MmsValue.visible_string(value)
    if t == MmsType.STRING:
        if not isinstance(value, (str, bytes)):
            raise _bad("a str", value, spec, path)
        return MmsValue.mms_string(value)
    if t == MmsType.UTC_TIME:
        return _utc(value, spec, path)
    if t == MmsType.BINARY_TIME:
        return _binary_time(value, spec, path)
    if t == MmsType.GENERALIZED_TIME:
        if not isinstance(value, str):
            raise _bad("a str", value, spec, path)
        return MmsValue._own(lib.i61_value_new_generalized_time(value.encode("ascii", "replace")))
    if t == MmsType.STRUCTURE:
        return _structure(spec, value, path, current)
    if t == MmsType.ARRAY:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise _bad("a sequence", value, spec, path)
        items = list(value)
        if spec.size and len(items) != spec.size:
            raise _bad(f"a sequence of {spec.size} elements", value, spec, path)
        el = spec.element or VariableSpec("", MmsType.BOOLEAN)
        return MmsValue.array(to_mms(el, v, f"{path}({i})") for i, v in enumerate(items))
    raise _bad("a supported value", value, spec, path)


def _structure(spec: VariableSpec, value: Any, path: str,
               current: Optional[Callable[[], MmsValue]]) -> MmsValue:
    comps = spec.children
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in {c.name for c in comps}]
        if unknown:
            raise _bad(f"a mapping of components (no component {unknown[0]!r})", value, spec, path)
        cur: Optional[MmsValue] = None
        if any(c.name not in value for c in comps):
            if current is None:
                raise _bad("a mapping with every component", value, spec, path)
            cur = current()
        out: list[MmsValue] = []
        for i, c in enumerate(comps):
            if c.name in value:
                sub_cur = None
                if cur is not None:
                    sub_cur = (lambda j=i: cur[j])  # noqa: B023 - bound per component
                out.append(to_mms(c, value[c.name], f"{path}.{c.name}", sub_cur))
            else:
                assert cur is not None
                out.append(cur[i])
        return MmsValue.structure(out)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise _bad("a sequence or a mapping of components", value, spec, path)
    if len(value) != len(comps):
        raise _bad(f"a sequence of {len(comps)} components", value, spec, path)
    return MmsValue.structure(to_mms(c, v, f"{path}.{c.name}") for c, v in zip(comps, value))


def fc_arg(fc: Any) -> int:
    """An FC argument (``None``, :class:`FunctionalConstraint`, ``"MX"``, int) as an ``i61_fc``."""
    if fc is None:
        return int(FunctionalConstraint.NONE)
    if isinstance(fc, FunctionalConstraint):
        return int(fc)
    if isinstance(fc, bytes):
        fc = fc.decode("ascii", "replace")
    if isinstance(fc, str):
        try:
            return int(FunctionalConstraint[fc.strip().upper()])
        except KeyError:
            pass
    else:
        try:
            return int(FunctionalConstraint(int(fc)))
        except (ValueError, TypeError):
            pass
    raise InvalidArgumentError(f"unknown functional constraint {fc!r}", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
