"""Stage 2 of parsing: walk the SCL tree into plain dicts, checking attributes.

Every dict made here keeps its element under the key ``"_el"`` (and private
results under other ``"_"`` keys); :func:`public` strips them for ``to_dict``.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from ._errors import SclErrorKind
from ._xml import Locator, child, children, local, tagged_children

Raw = dict[str, Any]

_SNAKE_RE = re.compile(r"(?<=[a-z0-9])([A-Z])|(?<=[A-Z])([A-Z][a-z])")


def snake(name: str) -> str:
    """``lnClass`` -> ``ln_class``, ``numOfSGs`` -> ``num_of_sgs``, ``appID`` -> ``app_id``."""
    out = _SNAKE_RE.sub(lambda m: "_" + (m.group(1) or m.group(2)), name).lower()
    return out


class Reader:
    """Typed attribute access that raises located :class:`SclError` s."""

    def __init__(self, loc: Locator) -> None:
        self.loc = loc

    def fail(self, el: Any, kind: SclErrorKind, msg: str, attr: str | None = None) -> NoReturn:
        self.loc.fail(el, kind, msg, attr)

    def s(self, el: Any, name: str, *, required: bool = False,
          default: str | None = None) -> str | None:
        v = el.get(name)
        if v is None:
            if required:
                self.fail(el, SclErrorKind.MISSING_ATTRIBUTE,
                          f"{local(el)} needs the attribute {name!r}", name)
            return default
        return str(v)

    def name(self, el: Any, attr: str = "name") -> str:
        v = el.get(attr)
        if v is None or not v.strip():
            self.fail(el, SclErrorKind.MISSING_ATTRIBUTE,
                      f"{local(el)} needs a non-empty {attr!r}", attr)
        return str(v).strip()

    def i(self, el: Any, name: str, default: int | None = None, *, required: bool = False,
          minimum: int | None = None, maximum: int | None = None) -> int | None:
        v = el.get(name)
        if v is None:
            if required:
                self.fail(el, SclErrorKind.MISSING_ATTRIBUTE,
                          f"{local(el)} needs the attribute {name!r}", name)
            return default
        s = v.strip()
        if not re.fullmatch(r"[+-]?[0-9]+", s):
            self.fail(el, SclErrorKind.INVALID_ATTRIBUTE, f"{name}={v!r} is not an integer", name)
        n = int(s)
        if (minimum is not None and n < minimum) or (maximum is not None and n > maximum):
            rng = f"{minimum if minimum is not None else ''}..{maximum if maximum is not None else ''}"
            self.fail(el, SclErrorKind.INVALID_ATTRIBUTE, f"{name}={n} is outside {rng}", name)
        return n

    def b(self, el: Any, name: str, default: bool) -> bool:
        v = el.get(name)
        if v is None:
            return default
        s = v.strip()
        if s in ("true", "1"):
            return True
        if s in ("false", "0"):
            return False
        self.fail(el, SclErrorKind.INVALID_ATTRIBUTE, f"{name}={v!r} is not a boolean", name)


def public(obj: Any) -> Any:
    """Deep copy of a raw structure without the private ``_`` keys."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not (isinstance(k, str) and k.startswith("_"))}
    if isinstance(obj, list):
        return [public(x) for x in obj]
    return obj


# --------------------------------------------------------------------------- values

def vals(r: Reader, el: Any) -> list[Raw]:
    out = []
    for v in children(el, "Val"):
        out.append({"s_group": r.i(v, "sGroup", minimum=1), "text": v.text or "", "_el": v})
    return out


# --------------------------------------------------------------------------- templates

def templates(r: Reader, root: Any) -> Raw:
    dtt = child(root, "DataTypeTemplates")
    out: Raw = {"ln_node_types": {}, "do_types": {}, "da_types": {}, "enum_types": {}}
    if dtt is None:
        return out
    for tag, el in tagged_children(dtt):
        if tag == "LNodeType":
            t: Raw = {"id": r.name(el, "id"), "ln_class": r.name(el, "lnClass"),
                      "ied_type": r.s(el, "iedType"), "desc": r.s(el, "desc"), "dos": [], "_el": el}
            for d in children(el, "DO"):
                t["dos"].append({"name": r.name(d), "type": r.name(d, "type"),
                                 "transient": r.b(d, "transient", False),
                                 "access_control": r.s(d, "accessControl"),
                                 "desc": r.s(d, "desc"), "_el": d})
            _put(r, out["ln_node_types"], t, el)
        elif tag == "DOType":
            t = {"id": r.name(el, "id"), "cdc": r.name(el, "cdc"), "ied_type": r.s(el, "iedType"),
                 "desc": r.s(el, "desc"), "children": [], "_el": el}
            for ct, d in tagged_children(el):
                if ct == "DA":
                    a = _attr(r, d, "DA")
                    fc = d.get("fc")
                    if fc is None or not fc.strip():
                        r.fail(d, SclErrorKind.MISSING_ATTRIBUTE, "DA needs the attribute 'fc'", "fc")
                    a["fc"] = fc.strip()
                    a["dchg"] = r.b(d, "dchg", False)
                    a["qchg"] = r.b(d, "qchg", False)
                    a["dupd"] = r.b(d, "dupd", False)
                    t["children"].append(a)
                elif ct == "SDO":
                    t["children"].append({"kind": "SDO", "name": r.name(d), "type": r.name(d, "type"),
                                          "count": r.i(d, "count", 0, minimum=0),
                                          "desc": r.s(d, "desc"), "_el": d})
            _put(r, out["do_types"], t, el)
        elif tag == "DAType":
            t = {"id": r.name(el, "id"), "ied_type": r.s(el, "iedType"), "desc": r.s(el, "desc"),
                 "bdas": [_attr(r, d, "BDA") for d in children(el, "BDA")], "_el": el}
            _put(r, out["da_types"], t, el)
        elif tag == "EnumType":
            t = {"id": r.name(el, "id"), "desc": r.s(el, "desc"), "values": [], "_el": el}
            for v in children(el, "EnumVal"):
                t["values"].append({"ord": r.i(v, "ord", required=True),
                                    "text": (v.text or "").strip(), "_el": v})
            _put(r, out["enum_types"], t, el)
    return out


def _attr(r: Reader, d: Any, kind: str) -> Raw:
    return {"kind": kind, "name": r.name(d), "btype": r.name(d, "bType"), "type": r.s(d, "type"),
            "count": r.i(d, "count", 0, minimum=0), "s_addr": r.s(d, "sAddr"),
            "val_kind": r.s(d, "valKind"), "val_import": r.b(d, "valImport", False),
            "desc": r.s(d, "desc"), "values": vals(r, d), "_el": d}


def _put(r: Reader, table: dict[str, Raw], t: Raw, el: Any) -> None:
    if t["id"] in table:
        first = table[t["id"]]["_el"]
        r.fail(el, SclErrorKind.DUPLICATE_NAME,
               f"duplicate {local(el)} id {t['id']!r} (first at line {r.loc.position(first)[0]})", "id")
    table[t["id"]] = t


# --------------------------------------------------------------------------- IEDs

def ieds(r: Reader, root: Any) -> list[Raw]:
    out = []
    for el in children(root, "IED"):
        ied: Raw = {"name": r.name(el), "type": r.s(el, "type"), "manufacturer": r.s(el, "manufacturer"),
                    "config_version": r.s(el, "configVersion"), "desc": r.s(el, "desc"),
                    "original_scl_version": r.s(el, "originalSclVersion"),
                    "original_scl_revision": r.s(el, "originalSclRevision"),
                    "access_points": [], "_el": el}
        for ap in children(el, "AccessPoint"):
            a: Raw = {"name": r.name(ap), "desc": r.s(ap, "desc"), "router": r.b(ap, "router", False),
                      "clock": r.b(ap, "clock", False), "server": None, "server_at": None, "_el": ap}
            srv = child(ap, "Server")
            if srv is not None:
                a["server"] = server(r, srv)
            sat = child(ap, "ServerAt")
            if sat is not None:
                a["server_at"] = {"ap_name": r.name(sat, "apName"), "desc": r.s(sat, "desc"), "_el": sat}
            ied["access_points"].append(a)
        out.append(ied)
    return out


def server(r: Reader, el: Any) -> Raw:
    out: Raw = {"timeout": r.i(el, "timeout", 30, minimum=0), "desc": r.s(el, "desc"),
                "logical_devices": [], "_el": el}
    for ld in children(el, "LDevice"):
        d: Raw = {"inst": r.name(ld, "inst"), "ld_name": r.s(ld, "ldName"), "desc": r.s(ld, "desc"),
                  "logical_nodes": [], "_el": ld}
        ln0 = child(ld, "LN0")
        if ln0 is None:
            r.fail(ld, SclErrorKind.MISSING_ELEMENT, "LDevice without LN0")
        d["logical_nodes"].append(logical_node(r, ln0, is_ln0=True))
        for ln in children(ld, "LN"):
            d["logical_nodes"].append(logical_node(r, ln, is_ln0=False))
        out["logical_devices"].append(d)
    return out


def logical_node(r: Reader, el: Any, *, is_ln0: bool) -> Raw:
    if is_ln0:
        ln_class = el.get("lnClass", "LLN0").strip() or "LLN0"
        if ln_class != "LLN0":
            r.fail(el, SclErrorKind.INVALID_ATTRIBUTE, f"LN0 must have lnClass LLN0, not {ln_class!r}",
                   "lnClass")
        inst = el.get("inst", "").strip()
        if inst:
            r.fail(el, SclErrorKind.INVALID_ATTRIBUTE, "LN0 must have an empty inst", "inst")
        prefix = ""
    else:
        ln_class = r.name(el, "lnClass")
        inst = (el.get("inst") or "").strip()
        prefix = (el.get("prefix") or "").strip()
    ln: Raw = {"ln_class": ln_class, "inst": inst, "prefix": prefix, "ln_type": r.name(el, "lnType"),
               "desc": r.s(el, "desc"), "dois": [], "data_sets": [], "report_controls": [],
               "log_controls": [], "gse_controls": [], "sv_controls": [], "setting_control": None,
               "logs": [], "inputs": [], "_el": el}
    for tag, c in tagged_children(el):
        if tag == "DOI":
            ln["dois"].append(_doi(r, c, "DOI"))
        elif tag == "DataSet":
            ds: Raw = {"name": r.name(c), "desc": r.s(c, "desc"), "fcdas": [], "_el": c}
            for f in children(c, "FCDA"):
                fc = f.get("fc")
                if fc is None or not fc.strip():
                    r.fail(f, SclErrorKind.MISSING_ATTRIBUTE, "FCDA needs the attribute 'fc'", "fc")
                ds["fcdas"].append({
                    "ld_inst": r.s(f, "ldInst"), "prefix": r.s(f, "prefix", default="") or "",
                    "ln_class": r.name(f, "lnClass"), "ln_inst": (r.s(f, "lnInst") or "").strip(),
                    "do_name": r.s(f, "doName"), "da_name": r.s(f, "daName") or None,
                    "fc": fc.strip(), "ix": r.i(f, "ix", minimum=0), "_el": f})
            ln["data_sets"].append(ds)
        elif tag == "ReportControl":
            ln["report_controls"].append(_report_control(r, c))
        elif tag == "LogControl":
            lc: Raw = {"name": r.name(c), "desc": r.s(c, "desc"), "dat_set": r.s(c, "datSet") or None,
                       "intg_pd": r.i(c, "intgPd", 0, minimum=0), "ld_inst": r.s(c, "ldInst"),
                       "prefix": r.s(c, "prefix", default="") or "",
                       "ln_class": r.s(c, "lnClass", default="LLN0") or "LLN0",
                       "ln_inst": r.s(c, "lnInst", default="") or "",
                       "log_name": r.name(c, "logName"), "log_ena": r.b(c, "logEna", True),
                       "reason_code": r.b(c, "reasonCode", True),
                       "buf_time": r.i(c, "bufTime", 0, minimum=0),
                       "trg_ops": _trg_ops(r, child(c, "TrgOps")), "_el": c}
            ln["log_controls"].append(lc)
        elif tag == "GSEControl" and is_ln0:
            ln["gse_controls"].append({
                "name": r.name(c), "desc": r.s(c, "desc"), "dat_set": r.s(c, "datSet") or None,
                "conf_rev": r.i(c, "confRev", 0, minimum=0), "app_id": r.s(c, "appID", default="") or "",
                "type": r.s(c, "type", default="GOOSE"), "fixed_offs": r.b(c, "fixedOffs", False),
                "security_enable": r.s(c, "securityEnable"),
                "ied_names": [(x.text or "").strip() for x in children(c, "IEDName")], "_el": c})
        elif tag == "SampledValueControl" and is_ln0:
            opts_el = child(c, "SmvOpts")
            opts = ({snake(k): r.b(opts_el, k, False) for k in sorted(opts_el.attrib)}
                    if opts_el is not None else {})
            ln["sv_controls"].append({
                "name": r.name(c), "desc": r.s(c, "desc"), "dat_set": r.s(c, "datSet") or None,
                "conf_rev": r.i(c, "confRev", 0, minimum=0), "smv_id": r.s(c, "smvID", default="") or "",
                "multicast": r.b(c, "multicast", True), "smp_rate": r.i(c, "smpRate", 0, minimum=0),
                "nof_asdu": r.i(c, "nofASDU", 0, minimum=0),
                "smp_mod": r.s(c, "smpMod", default="SmpPerPeriod"),
                "security_enable": r.s(c, "securityEnable"), "smv_opts": opts, "_el": c})
        elif tag == "SettingControl" and is_ln0:
            n = r.i(c, "numOfSGs", required=True, minimum=1)
            assert n is not None
            ln["setting_control"] = {"num_of_sgs": n,
                                     "act_sg": r.i(c, "actSG", 1, minimum=1, maximum=n),
                                     "resv_tms": r.i(c, "resvTms", minimum=0),
                                     "desc": r.s(c, "desc"), "_el": c}
        elif tag == "Log":
            ln["logs"].append(r.s(c, "name", default="") or "")
        elif tag == "Inputs":
            for x in children(c, "ExtRef"):
                ln["inputs"].append({snake(k): v for k, v in sorted(x.attrib.items())
                                     if isinstance(k, str) and not k.startswith("{")})
    return ln


def _doi(r: Reader, el: Any, kind: str) -> Raw:
    d: Raw = {"kind": kind, "name": r.name(el), "ix": r.i(el, "ix", minimum=0),
              "desc": r.s(el, "desc"), "_el": el}
    if kind == "DOI":
        d["access_control"] = r.s(el, "accessControl")
    if kind == "DAI":
        d["s_addr"] = r.s(el, "sAddr")
        d["val_kind"] = r.s(el, "valKind")
        d["val_import"] = r.b(el, "valImport", False) if el.get("valImport") is not None else None
        d["values"] = vals(r, el)
    else:
        d["children"] = [_doi(r, c, tag) for tag, c in tagged_children(el)
                         if tag == "SDI" or tag == "DAI"]
    return d


def _trg_ops(r: Reader, el: Any) -> Raw:
    if el is None:
        return {"dchg": False, "qchg": False, "dupd": False, "period": False, "gi": True}
    return {"dchg": r.b(el, "dchg", False), "qchg": r.b(el, "qchg", False),
            "dupd": r.b(el, "dupd", False), "period": r.b(el, "period", False),
            "gi": r.b(el, "gi", True)}


_OPT_FIELDS = ("seqNum", "timeStamp", "reasonCode", "dataSet", "dataRef", "bufOvfl", "entryID",
               "configRef", "segmentation")


def _report_control(r: Reader, c: Any) -> Raw:
    of = child(c, "OptFields")
    opt = {snake(k): (r.b(of, k, False) if of is not None else False) for k in _OPT_FIELDS}
    re_el = child(c, "RptEnabled")
    rpt_enabled = None
    if re_el is not None:
        rpt_enabled = {"max": r.i(re_el, "max", 1, minimum=1, maximum=99), "desc": r.s(re_el, "desc"),
                       "client_lns": [
                           {snake(k): v for k, v in sorted(x.attrib.items())
                            if isinstance(k, str) and not k.startswith("{")}
                           for x in children(re_el, "ClientLN")],
                       "_el": re_el}
    indexed = r.b(c, "indexed", True)
    if not indexed and rpt_enabled is not None and rpt_enabled["max"] > 1:
        r.fail(c, SclErrorKind.INVALID_ATTRIBUTE,
               f"indexed=false allows one instance, but RptEnabled max={rpt_enabled['max']}", "indexed")
    return {"name": r.name(c), "desc": r.s(c, "desc"), "dat_set": r.s(c, "datSet") or None,
            "rpt_id": r.s(c, "rptID"), "conf_rev": r.i(c, "confRev", 0, minimum=0),
            "buffered": r.b(c, "buffered", False), "buf_time": r.i(c, "bufTime", 0, minimum=0),
            "intg_pd": r.i(c, "intgPd", 0, minimum=0), "indexed": indexed,
            "trg_ops": _trg_ops(r, child(c, "TrgOps")), "opt_fields": opt,
            "rpt_enabled": rpt_enabled, "_el": c}


# --------------------------------------------------------------------------- communication

def communication(r: Reader, root: Any) -> Raw:
    out: Raw = {"sub_networks": []}
    comm = child(root, "Communication")
    if comm is None:
        return out
    for sn in children(comm, "SubNetwork"):
        br = child(sn, "BitRate")
        s: Raw = {"name": r.name(sn), "type": r.s(sn, "type"), "desc": r.s(sn, "desc"),
                  "bit_rate": None if br is None else {
                      "value": (br.text or "").strip(), "unit": br.get("unit", "b/s"),
                      "multiplier": br.get("multiplier", "")},
                  "connected_aps": [], "_el": sn}
        for cap in children(sn, "ConnectedAP"):
            c: Raw = {"ied_name": r.name(cap, "iedName"), "ap_name": r.name(cap, "apName"),
                      "desc": r.s(cap, "desc"), "address": _address(child(cap, "Address")),
                      "gse": [], "smv": [], "_el": cap}
            for g in children(cap, "GSE"):
                c["gse"].append({"ld_inst": r.name(g, "ldInst"), "cb_name": r.name(g, "cbName"),
                                 "address": _address(child(g, "Address")),
                                 "min_time": _time(r, child(g, "MinTime")),
                                 "max_time": _time(r, child(g, "MaxTime")), "_el": g})
            for g in children(cap, "SMV"):
                c["smv"].append({"ld_inst": r.name(g, "ldInst"), "cb_name": r.name(g, "cbName"),
                                 "address": _address(child(g, "Address")), "_el": g})
            s["connected_aps"].append(c)
        out["sub_networks"].append(s)
    return out


def _address(el: Any) -> dict[str, str]:
    if el is None:
        return {}
    return {(p.get("type") or ""): (p.text or "").strip() for p in children(el, "P")}


def _time(r: Reader, el: Any) -> int | None:
    if el is None:
        return None
    t = (el.text or "").strip()
    if not re.fullmatch(r"[0-9]+", t):
        r.fail(el, SclErrorKind.INVALID_ATTRIBUTE, f"{local(el)} {t!r} is not an integer")
    return int(t)


def header(r: Reader, root: Any) -> Raw | None:
    h = child(root, "Header")
    if h is None:
        return None
    return {"id": r.s(h, "id"), "version": r.s(h, "version"), "revision": r.s(h, "revision"),
            "tool_id": r.s(h, "toolID"), "name_structure": r.s(h, "nameStructure")}
