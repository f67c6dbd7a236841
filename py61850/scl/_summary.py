"""Canonical text summaries: one line per IED/AP/LD/LN/DO/DA/data set/control block."""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from ._model import DataAttribute, DataObject, IedModel, LogicalNode

_STEP = "  "


def fmt(v: Any) -> str:
    """Stable one-line rendering of a value or attribute."""
    if v is None:
        return "<None>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=True)
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex()
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, _dt.datetime):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ",".join(fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{fmt(x)}" for k, x in sorted(v.items())) + "}"
    return str(v)


def _line(indent: int, tag: str, **kv: Any) -> str:
    # str values are printed as given (identifiers, or text already quoted by fmt)
    parts = [tag] + [f"{k}={v if isinstance(v, str) else fmt(v)}" for k, v in kv.items()]
    return _STEP * indent + " ".join(parts)


def _da_lines(da: DataAttribute, indent: int, tag: str, out: list[str]) -> None:
    trg = ",".join(n for n in ("dchg", "qchg", "dupd") if getattr(da, n)) or "-"
    kv: dict[str, Any] = {"name": da.name, "fc": da.fc, "btype": da.btype}
    if da.type:
        kv["type"] = da.type
    if da.count:
        kv["count"] = da.count
    kv["trg"] = trg
    if da.value_kind != "Set":
        kv["val_kind"] = da.value_kind
    if da.value is not None:
        kv["value"] = fmt(da.value)
        if da.btype in ("Enum", "Dbpos", "Tcmd") and da.value_text is not None:
            kv["text"] = fmt(da.value_text)
    if da.sgroup_values:
        kv["sg"] = fmt(da.sgroup_values)
    if da.s_addr:
        kv["s_addr"] = fmt(da.s_addr)
    out.append(_line(indent, tag, **kv))
    for c in da.children:
        _da_lines(c, indent + 1, "BDA", out)


def _do_lines(do: DataObject, indent: int, tag: str, out: list[str]) -> None:
    kv: dict[str, Any] = {"name": do.name, "cdc": do.cdc, "type": do.type}
    if do.count:
        kv["count"] = do.count
    out.append(_line(indent, tag, **kv))
    for c in do.children:
        if isinstance(c, DataObject):
            _do_lines(c, indent + 1, "SDO", out)
        else:
            _da_lines(c, indent + 1, "DA", out)


def _ln_lines(ln: LogicalNode, indent: int, out: list[str]) -> None:
    out.append(_line(indent, "LN", name=ln.name, ln_class=ln.ln_class, prefix=ln.prefix, inst=ln.inst,
                     type=ln.ln_type, dos=len(ln.data_objects), datasets=len(ln.data_sets),
                     rcbs=len(ln.report_controls), lcbs=len(ln.log_controls),
                     gocbs=len(ln.gse_controls), svcbs=len(ln.sv_controls)))
    i = indent + 1
    for do in ln.data_objects:
        _do_lines(do, i, "DO", out)
    for ds in ln.data_sets:
        out.append(_line(i, "DS", name=ds.name, members=len(ds.members)))
        for m in ds.members:
            kv: dict[str, Any] = {}
            if m.ix is not None:
                kv["ix"] = m.ix
            out.append(_line(i + 1, "FCDA " + f"{m.mms_domain}/{m.mms_item}", **kv))
    for rc in ln.report_controls:
        out.append(_line(i, "RCB", name=rc.name, buffered=fmt(rc.buffered),
                         instances=",".join(rc.instance_names), dataset=fmt(rc.dataset),
                         rpt_id=fmt(rc.rpt_id), conf_rev=rc.conf_rev, buf_time=rc.buf_time,
                         intg_pd=rc.intg_pd, trg_ops=",".join(rc.trg_ops.names()) or "-",
                         opt_fields=",".join(rc.opt_fields.names()) or "-",
                         indexed=fmt(rc.indexed)))
    for lc in ln.log_controls:
        out.append(_line(i, "LCB", name=lc.name, log=fmt(lc.log_ref), dataset=fmt(lc.dataset),
                         intg_pd=lc.intg_pd, buf_time=lc.buf_time, log_ena=fmt(lc.log_ena),
                         reason_code=fmt(lc.reason_code), trg_ops=",".join(lc.trg_ops.names()) or "-"))
    for gc in ln.gse_controls:
        out.append(_line(i, "GOCB", name=gc.name, type=gc.type, app_id=fmt(gc.app_id),
                         dataset=fmt(gc.dataset), conf_rev=gc.conf_rev, fixed_offs=fmt(gc.fixed_offs),
                         address=fmt(gc.address)))
    for sc in ln.sv_controls:
        out.append(_line(i, "SVCB", name=sc.name, smv_id=fmt(sc.smv_id), dataset=fmt(sc.dataset),
                         conf_rev=sc.conf_rev, multicast=fmt(sc.multicast), smp_rate=sc.smp_rate,
                         nof_asdu=sc.nof_asdu, smp_mod=sc.smp_mod, address=fmt(sc.address)))
    if ln.setting_control is not None:
        s = ln.setting_control
        out.append(_line(i, "SGCB", num_of_sgs=s.num_of_sgs, act_sg=s.act_sg, resv_tms=fmt(s.resv_tms)))
    if ln.logs:
        for name in ln.logs:
            out.append(_line(i, "LOG", name=name))


def model_body(model: IedModel, indent: int) -> list[str]:
    """LD/LN/... lines of a model."""
    out: list[str] = []
    for ld in model.logical_devices:
        out.append(_line(indent, "LD", inst=ld.inst, ld_name=fmt(ld.ld_name) if ld.ld_name is None
                         else ld.ld_name, domain=ld.domain_name, lns=len(ld.logical_nodes)))
        for ln in ld.logical_nodes:
            _ln_lines(ln, indent + 1, out)
    return out


def ied_line(name: str, manufacturer: str | None, ied_type: str | None, config_version: str | None,
             indent: int = 0, **extra: Any) -> str:
    """The ``IED`` line."""
    return _line(indent, "IED", name=name, manufacturer=fmt(manufacturer), type=fmt(ied_type),
                 config_version=fmt(config_version), **extra)


def ap_line(name: str | None, indent: int, **kv: Any) -> str:
    """The ``AP`` line."""
    return _line(indent, "AP", name=fmt(name) if name is None else name, **kv)


def model_summary(model: IedModel, indent: int = 0) -> list[str]:
    """Summary lines of one model: IED, AP, then its logical devices."""
    out = [ied_line(model.name, model.manufacturer, model.ied_type, model.config_version, indent)]
    out.append(ap_line(model.access_point, indent + 1, server="yes", ip=fmt(model.ip),
                       port=fmt(model.port), lds=len(model.logical_devices)))
    out.extend(model_body(model, indent + 2))
    return out
