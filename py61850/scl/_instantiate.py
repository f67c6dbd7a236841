"""Build the :class:`IedModel` of one IED access point from the checked raw document."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from ._errors import SclError, SclErrorKind
from ._model import (
    FCDA, DataAttribute, DataObject, DataSet, GSEControl, IedModel, LogControl, LogicalDevice,
    LogicalNode, OptionalFields, ReportControl, SettingControl, SVControl, TriggerOptions,
    resolve_model,
)
from ._raw import Raw, Reader
from ._templates import convert_vals

log = logging.getLogger("py61850.scl")


def _src(obj: Any, el: Any) -> Any:
    object.__setattr__(obj, "_src", el)
    return obj


class Instantiator:
    """Instantiates templates for one IED; ``comm`` is the raw Communication section."""

    def __init__(self, r: Reader, tpl: Raw, enums: Mapping[str, dict[int, str]], comm: Raw) -> None:
        self.r = r
        self.tpl = tpl
        self.enums = enums
        self.comm = comm
        self._cur_ld: str | None = None  # LDevice inst being built (for GSE/SMV addresses)

    # ---------------------------------------------------------------- templates

    def _da(self, a: Raw, fc: str, trg: tuple[bool, bool, bool], depth: int) -> DataAttribute:
        da = DataAttribute(
            name=a["name"], fc=fc, btype=a["btype"], type=a["type"], count=a["count"],
            value=_copy(a["_value"]), value_text=a["_text"], sgroup_values=dict(a["_sg"]),
            dchg=trg[0], qchg=trg[1], dupd=trg[2], value_kind=a["val_kind"] or "Set",
            val_import=a["val_import"], s_addr=a["s_addr"], desc=a["desc"])
        _src(da, a["_el"])
        if a["btype"] == "Struct":
            for b in self.tpl["da_types"][a["type"]]["bdas"]:
                child = self._da(b, fc, trg, depth + 1)
                if b["val_kind"] is None:
                    child.value_kind = da.value_kind
                da.children.append(child)
        return da

    def _do(self, name: str, type_id: str, el: Any, count: int = 0, desc: str | None = None,
            transient: bool = False) -> DataObject:
        t = self.tpl["do_types"][type_id]
        do = DataObject(name=name, cdc=t["cdc"], type=type_id, count=count, transient=transient,
                        desc=desc)
        _src(do, el)
        for c in t["children"]:
            if c["kind"] == "SDO":
                do.children.append(self._do(c["name"], c["type"], c["_el"], c["count"], c["desc"]))
            else:
                do.children.append(self._da(c, c["fc"], (c["dchg"], c["qchg"], c["dupd"]), 0))
        return do

    # ---------------------------------------------------------------- instance values

    def _apply_items(self, items: list[Raw], node: DataObject | DataAttribute, sg: tuple[int, int] | None,
                     ) -> None:
        for it in items:
            try:
                target = node.child(it["name"])
            except KeyError:
                where = node.name
                self.r.fail(it["_el"], SclErrorKind.UNRESOLVED_REFERENCE,
                            f"{it['kind']} {it['name']!r}: {where!r} has no such "
                            f"{'attribute' if it['kind'] == 'DAI' else 'sub data object or attribute'}",
                            "name")
            if it["desc"]:
                target.desc = it["desc"]
            if it["kind"] == "SDI":
                if isinstance(target, DataAttribute) and not target.is_struct:
                    self.r.fail(it["_el"], SclErrorKind.UNRESOLVED_REFERENCE,
                                f"SDI {it['name']!r} names the simple attribute {target.btype}; use DAI",
                                "name")
                if it["ix"] is not None:
                    log.debug("%s: per-element values of arrays of structures are not kept (SDI ix=%s)",
                              it["name"], it["ix"])
                    continue
                self._apply_items(it["children"], target, sg)
            else:
                if not isinstance(target, DataAttribute):
                    self.r.fail(it["_el"], SclErrorKind.UNRESOLVED_REFERENCE,
                                f"DAI {it['name']!r} names a data object, not an attribute", "name")
                self._apply_dai(it, target, sg)

    def _apply_dai(self, it: Raw, da: DataAttribute, sg: tuple[int, int] | None) -> None:
        if it["s_addr"] is not None:
            da.s_addr = it["s_addr"]
        if it["val_kind"] is not None:
            da.value_kind = it["val_kind"]
        if it["val_import"] is not None:
            da.val_import = it["val_import"]
        if not it["values"]:
            return
        if da.is_struct:
            self.r.fail(it["values"][0]["_el"], SclErrorKind.INVALID_VALUE,
                        "a Struct attribute cannot have a Val (give values to its components)")
        ix = it["ix"]
        if ix is not None and (not da.count or ix >= da.count):
            self.r.fail(it["_el"], SclErrorKind.INVALID_ATTRIBUTE,
                        f"ix={ix} but {da.name!r} is {'an array of ' + str(da.count) if da.count else 'not an array'}",
                        "ix")
        value, text, sgv, _ = convert_vals(self.r, it["_el"], da.btype, da.type, da.count,
                                           it["values"], self.enums, ix)
        for g, v in sgv.items():
            if sg is None:
                log.warning("%s: Val sGroup=%d but the logical device has no SettingControl",
                            da.name, g)
            elif g > sg[0]:
                bad = next(x for x in it["values"] if x["s_group"] == g)
                self.r.fail(bad["_el"], SclErrorKind.INVALID_VALUE,
                            f"sGroup {g} outside 1..{sg[0]} (SettingControl numOfSGs)", "sGroup")
            da.sgroup_values[g] = v
        if value is not None or any(x["s_group"] is None for x in it["values"]):
            if ix is not None:
                cur = da.value if isinstance(da.value, list) else []
                cur = (cur + [None] * da.count)[:da.count]
                cur[ix] = value
                da.value = cur
            else:
                da.value = value
                da.value_text = text
        if sgv and not any(x["s_group"] is None for x in it["values"]):
            self._active_group_value(da, sg)

    @staticmethod
    def _active_group_value(da: DataAttribute, sg: tuple[int, int] | None) -> None:
        if not da.sgroup_values:
            return
        g = sg[1] if sg is not None and sg[1] in da.sgroup_values else min(da.sgroup_values)
        da.value = _copy(da.sgroup_values[g])

    # ---------------------------------------------------------------- logical nodes

    def _ln(self, ln_raw: Raw, sg: tuple[int, int] | None, ap: tuple[str, str]) -> LogicalNode:
        el = ln_raw["_el"]
        lnt = self.tpl["ln_node_types"].get(ln_raw["ln_type"])
        if lnt is None:
            self.r.fail(el, SclErrorKind.UNRESOLVED_TYPE_REFERENCE,
                        f"LNodeType {ln_raw['ln_type']!r} not found", "lnType")
        if lnt["ln_class"] != ln_raw["ln_class"]:
            log.warning("%s:%s: %s%s%s uses LNodeType %r of class %s", self.r.loc.filename,
                        el.sourceline, ln_raw["prefix"], ln_raw["ln_class"], ln_raw["inst"],
                        lnt["id"], lnt["ln_class"])
        ln = LogicalNode(ln_class=ln_raw["ln_class"], inst=ln_raw["inst"], prefix=ln_raw["prefix"],
                         ln_type=ln_raw["ln_type"], desc=ln_raw["desc"], logs=list(ln_raw["logs"]))
        _src(ln, el)
        for d in lnt["dos"]:
            ln.data_objects.append(self._do(d["name"], d["type"], d["_el"], desc=d["desc"],
                                            transient=d["transient"]))
        for do in ln.data_objects:
            for _, da in do.iter_attributes():
                if da.sgroup_values and da.value is None:
                    self._active_group_value(da, sg)
        seen_doi: dict[str, Raw] = {}
        for doi in ln_raw["dois"]:
            if doi["name"] in seen_doi and doi["ix"] == seen_doi[doi["name"]]["ix"]:
                self.r.fail(doi["_el"], SclErrorKind.DUPLICATE_NAME,
                            f"DOI {doi['name']!r} appears twice", "name")
            seen_doi[doi["name"]] = doi
            try:
                do = ln.data_object(doi["name"])
            except KeyError:
                self.r.fail(doi["_el"], SclErrorKind.UNRESOLVED_REFERENCE,
                            f"DOI {doi['name']!r}: LNodeType {lnt['id']!r} has no such DO", "name")
            if doi["desc"]:
                do.desc = doi["desc"]
            self._apply_items(doi["children"], do, sg)
        for ds in ln_raw["data_sets"]:
            members = []
            for f in ds["fcdas"]:
                if not f["do_name"]:
                    self.r.fail(f["_el"], SclErrorKind.MISSING_ATTRIBUTE, "FCDA without doName", "doName")
                m = FCDA(ld_inst=f["ld_inst"] or "", ln_class=f["ln_class"], fc=f["fc"],
                         do_name=f["do_name"], prefix=f["prefix"], ln_inst=f["ln_inst"],
                         da_name=f["da_name"], ix=f["ix"])
                members.append(_src(m, f["_el"]))
            ln.data_sets.append(_src(DataSet(name=ds["name"], members=members, desc=ds["desc"]), ds["_el"]))
        for rc in ln_raw["report_controls"]:
            rpt = rc["rpt_enabled"]
            ln.report_controls.append(_src(ReportControl(
                name=rc["name"], dataset=rc["dat_set"], buffered=rc["buffered"], rpt_id=rc["rpt_id"],
                conf_rev=rc["conf_rev"], buf_time=rc["buf_time"], intg_pd=rc["intg_pd"],
                trg_ops=TriggerOptions(**rc["trg_ops"]), opt_fields=OptionalFields(**rc["opt_fields"]),
                indexed=rc["indexed"], max_instances=rpt["max"] if rpt else 1,
                client_lns=[_client_ln(c) for c in rpt["client_lns"]] if rpt else [],
                desc=rc["desc"]), rc["_el"]))
        for lc in ln_raw["log_controls"]:
            ln.log_controls.append(_src(LogControl(
                name=lc["name"], log_name=lc["log_name"], dataset=lc["dat_set"], intg_pd=lc["intg_pd"],
                buf_time=lc["buf_time"], log_ena=lc["log_ena"], reason_code=lc["reason_code"],
                trg_ops=TriggerOptions(**lc["trg_ops"]), ld_inst=lc["ld_inst"], prefix=lc["prefix"],
                ln_class=lc["ln_class"], ln_inst=lc["ln_inst"], desc=lc["desc"]), lc["_el"]))
        for gc in ln_raw["gse_controls"]:
            addr = self._cb_address(ap, "gse", gc["name"])
            ln.gse_controls.append(_src(GSEControl(
                name=gc["name"], app_id=gc["app_id"], dataset=gc["dat_set"], conf_rev=gc["conf_rev"],
                type=gc["type"] or "GOOSE", fixed_offs=gc["fixed_offs"],
                security_enable=gc["security_enable"], ied_names=list(gc["ied_names"]),
                address=dict(addr["address"]) if addr else {},
                min_time=addr["min_time"] if addr else None, max_time=addr["max_time"] if addr else None,
                desc=gc["desc"]), gc["_el"]))
        for sc in ln_raw["sv_controls"]:
            addr = self._cb_address(ap, "smv", sc["name"])
            ln.sv_controls.append(_src(SVControl(
                name=sc["name"], smv_id=sc["smv_id"], dataset=sc["dat_set"], conf_rev=sc["conf_rev"],
                multicast=sc["multicast"], smp_rate=sc["smp_rate"], nof_asdu=sc["nof_asdu"],
                smp_mod=sc["smp_mod"] or "SmpPerPeriod", security_enable=sc["security_enable"],
                opts=dict(sc["smv_opts"]), address=dict(addr["address"]) if addr else {},
                desc=sc["desc"]), sc["_el"]))
        if ln_raw["setting_control"] is not None:
            s = ln_raw["setting_control"]
            ln.setting_control = _src(SettingControl(num_of_sgs=s["num_of_sgs"], act_sg=s["act_sg"],
                                                     resv_tms=s["resv_tms"], desc=s["desc"]), s["_el"])
        return ln

    def _connected_ap(self, ied: str, ap: str) -> Raw | None:
        for sn in self.comm["sub_networks"]:
            for cap in sn["connected_aps"]:
                if cap["ied_name"] == ied and cap["ap_name"] == ap:
                    return dict(cap)
        return None

    def _cb_address(self, ap: tuple[str, str], kind: str, cb_name: str) -> Raw | None:
        cap = self._connected_ap(*ap)
        if cap is None:
            return None
        for g in cap[kind]:
            if g["cb_name"] == cb_name and g["ld_inst"] == self._cur_ld:
                return dict(g)
        return None

    # ---------------------------------------------------------------- IED

    def model(self, ied: Raw, ap: Raw, server: Raw) -> IedModel:
        """The resolved model of ``server`` (the server of ``ap`` or of its ServerAt target)."""
        cap = self._connected_ap(ied["name"], ap["name"])
        ip = port = None
        if cap is not None:
            ip = cap["address"].get("IP") or None
            p = cap["address"].get("MMS-Port") or cap["address"].get("TCP-Port")
            if p:
                if not p.isdigit() or not 0 < int(p) < 65536:
                    self.r.fail(cap["_el"], SclErrorKind.INVALID_VALUE, f"bad MMS port {p!r}")
                port = int(p)
        model = IedModel(name=ied["name"], access_point=ap["name"], desc=ied["desc"],
                         manufacturer=ied["manufacturer"], ied_type=ied["type"],
                         config_version=ied["config_version"], ip=ip, port=port,
                         enum_types={k: dict(v) for k, v in self.enums.items()},
                         source=self.r.loc.filename)
        _src(model, ied["_el"])
        for ld_raw in server["logical_devices"]:
            self._cur_ld = ld_raw["inst"]
            ld = _src(LogicalDevice(inst=ld_raw["inst"], ld_name=ld_raw["ld_name"], desc=ld_raw["desc"]),
                      ld_raw["_el"])
            ln0 = ld_raw["logical_nodes"][0]
            sgc = ln0["setting_control"]
            sg = (sgc["num_of_sgs"], sgc["act_sg"]) if sgc else None
            for ln_raw in ld_raw["logical_nodes"]:
                ld.logical_nodes.append(self._ln(ln_raw, sg, (ied["name"], ap["name"])))
            model.logical_devices.append(ld)
        self._cur_ld = None
        loc = self.r.loc

        def err(obj: Any, kind: SclErrorKind, message: str, attribute: str | None = None) -> SclError:
            return loc.error(getattr(obj, "_src", None), kind, message, attribute)

        resolve_model(model, err, check_values=False)
        return model


def _client_ln(c: Mapping[str, str]) -> str:
    ln = f"{c.get('prefix', '')}{c.get('ln_class', '')}{c.get('ln_inst', '')}"
    return "/".join(x for x in (c.get("ied_name", ""), c.get("ld_inst", ""), ln) if x)


def _copy(v: Any) -> Any:
    return list(v) if isinstance(v, list) else v
