"""Cross-checks of the DataTypeTemplates and ``Val`` conversion."""

from __future__ import annotations

from typing import Any, Mapping

from ._btypes import BTYPES, FCS, ValueProblem, convert_text
from ._errors import SclErrorKind
from ._raw import Raw, Reader

#: Deepest allowed nesting of DOType -> SDO -> ... or DAType -> BDA -> ... chains.
MAX_TYPE_DEPTH = 32


def enum_maps(r: Reader, tpl: Raw) -> dict[str, dict[int, str]]:
    """Check EnumTypes and return ``{id: {ord: literal}}``."""
    out: dict[str, dict[int, str]] = {}
    for tid, et in tpl["enum_types"].items():
        m: dict[int, str] = {}
        seen_text: set[str] = set()
        for v in et["values"]:
            if v["ord"] in m:
                r.fail(v["_el"], SclErrorKind.DUPLICATE_NAME,
                       f"EnumType {tid!r}: ord {v['ord']} defined twice", "ord")
            if v["text"] in seen_text and v["text"]:
                r.fail(v["_el"], SclErrorKind.DUPLICATE_NAME,
                       f"EnumType {tid!r}: literal {v['text']!r} defined twice")
            seen_text.add(v["text"])
            m[v["ord"]] = v["text"]
        out[tid] = m
    return out


def _check_ref(r: Reader, a: Raw, tpl: Raw, owner: str) -> None:
    el = a["_el"]
    bt = a["btype"]
    if bt not in BTYPES:
        r.fail(el, SclErrorKind.INVALID_ATTRIBUTE, f"unknown bType {bt!r}", "bType")
    if bt in ("Struct", "Enum"):
        want = "da_types" if bt == "Struct" else "enum_types"
        what = "DAType" if bt == "Struct" else "EnumType"
        if not a["type"]:
            r.fail(el, SclErrorKind.MISSING_ATTRIBUTE, f"{bt} attribute {a['name']!r} needs a type", "type")
        if a["type"] not in tpl[want]:
            other = "EnumType" if bt == "Struct" else "DAType"
            hint = (f" (there is an {other} with that id)"
                    if a["type"] in tpl["enum_types" if bt == "Struct" else "da_types"] else "")
            r.fail(el, SclErrorKind.MISSING_TEMPLATE,
                   f"{owner}: {what} {a['type']!r} of {a['name']!r} not found{hint}", "type")


def _unique_names(r: Reader, items: list[Raw], owner: str) -> None:
    seen: dict[str, Raw] = {}
    for it in items:
        if it["name"] in seen:
            r.fail(it["_el"], SclErrorKind.DUPLICATE_NAME,
                   f"{owner}: {it['name']!r} defined twice", "name")
        seen[it["name"]] = it


def check_templates(r: Reader, tpl: Raw, enums: Mapping[str, dict[int, str]]) -> None:
    """Check names, references, cycles and values of the templates (in place).

    Converted template values are stored in each DA/BDA dict as ``_value``,
    ``_text`` and ``_sg``.
    """
    for tid, t in tpl["ln_node_types"].items():
        _unique_names(r, t["dos"], f"LNodeType {tid!r}")
        for d in t["dos"]:
            if d["type"] not in tpl["do_types"]:
                r.fail(d["_el"], SclErrorKind.MISSING_TEMPLATE,
                       f"LNodeType {tid!r}: DOType {d['type']!r} of DO {d['name']!r} not found", "type")
    for tid, t in tpl["do_types"].items():
        _unique_names(r, t["children"], f"DOType {tid!r}")
        for c in t["children"]:
            if c["kind"] == "SDO":
                if c["type"] not in tpl["do_types"]:
                    r.fail(c["_el"], SclErrorKind.MISSING_TEMPLATE,
                           f"DOType {tid!r}: DOType {c['type']!r} of SDO {c['name']!r} not found", "type")
            else:
                if c["fc"] not in FCS:
                    r.fail(c["_el"], SclErrorKind.INVALID_ATTRIBUTE,
                           f"unknown functional constraint {c['fc']!r}", "fc")
                _check_ref(r, c, tpl, f"DOType {tid!r}")
    for tid, t in tpl["da_types"].items():
        _unique_names(r, t["bdas"], f"DAType {tid!r}")
        for c in t["bdas"]:
            _check_ref(r, c, tpl, f"DAType {tid!r}")
    _check_depth(r, tpl["do_types"], lambda t: [c for c in t["children"] if c["kind"] == "SDO"], "DOType")
    _check_depth(r, tpl["da_types"], lambda t: [c for c in t["bdas"] if c["btype"] == "Struct"], "DAType")
    for t in tpl["do_types"].values():
        for c in t["children"]:
            if c["kind"] == "DA":
                convert_attr_values(r, c, enums)
    for t in tpl["da_types"].values():
        for c in t["bdas"]:
            convert_attr_values(r, c, enums)


def _check_depth(r: Reader, types: Mapping[str, Raw], refs: Any, what: str) -> None:
    """Reject cycles and chains deeper than :data:`MAX_TYPE_DEPTH` (iteratively)."""
    depth: dict[str, int] = {}
    for start in types:
        if start in depth:
            continue
        # stack of (type id, iterator over its references, referencing element)
        stack: list[tuple[str, Any]] = [(start, iter(refs(types[start])))]
        on_path = {start}
        while stack:
            tid, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                on_path.discard(tid)
                sub = [depth.get(c["type"], 0) for c in refs(types[tid])]
                depth[tid] = 1 + max(sub, default=0)
                continue
            target = nxt["type"]
            if target in on_path:
                r.fail(nxt["_el"], SclErrorKind.CYCLIC_TYPE_REFERENCE,
                       f"{what} {target!r} contains itself (through {tid!r})", "type")
            if target in depth:
                continue
            if len(stack) >= MAX_TYPE_DEPTH:
                r.fail(nxt["_el"], SclErrorKind.INVALID_ATTRIBUTE,
                       f"{what} nesting deeper than {MAX_TYPE_DEPTH} levels", "type")
            stack.append((target, iter(refs(types[target]))))
            on_path.add(target)
        if depth[start] > MAX_TYPE_DEPTH:  # pragma: no cover - caught above
            r.fail(types[start]["_el"], SclErrorKind.INVALID_ATTRIBUTE,
                   f"{what} nesting deeper than {MAX_TYPE_DEPTH} levels")


def convert_vals(r: Reader, owner_el: Any, btype: str, type_id: str | None, count: int,
                 values: list[Raw], enums: Mapping[str, dict[int, str]],
                 ix: int | None = None) -> tuple[Any, str | None, dict[int, Any], dict[int, str]]:
    """Convert the ``Val`` children of a DA/BDA/DAI.

    :returns: ``(value, text, sgroup_values, sgroup_texts)``; ``value`` is ``None``
        when there is no plain ``Val``; for arrays (``count``) it is a list, or, with
        ``ix``, the single element value (the caller places it).
    :raises SclError: ``InvalidValue`` at the offending ``Val``.
    """
    enum = None
    if btype == "Enum" and type_id is not None:
        enum = {lit: o for o, lit in enums.get(type_id, {}).items()}
    plain: list[tuple[Any, str | None]] = []
    sg: dict[int, Any] = {}
    sg_text: dict[int, str] = {}
    for v in values:
        try:
            val, text = convert_text(btype, v["text"], enum)
        except ValueProblem as exc:
            r.fail(v["_el"], SclErrorKind.INVALID_VALUE, f"bad Val for {btype}: {exc}")
        if v["s_group"] is not None:
            if v["s_group"] in sg:
                r.fail(v["_el"], SclErrorKind.DUPLICATE_NAME,
                       f"two values for setting group {v['s_group']}", "sGroup")
            sg[v["s_group"]] = val
            sg_text[v["s_group"]] = text or ""
        else:
            plain.append((val, text))
    if not plain:
        return None, None, sg, sg_text
    if count and ix is None:
        if len(plain) > count:
            r.fail(values[-1]["_el"], SclErrorKind.INVALID_VALUE,
                   f"{len(plain)} values for an array of {count}")
        return [p[0] for p in plain], None, sg, sg_text
    if len(plain) > 1:
        extra = [v for v in values if v["s_group"] is None][1]
        r.fail(extra["_el"], SclErrorKind.INVALID_VALUE, "more than one Val for a single attribute")
    return plain[0][0], plain[0][1], sg, sg_text


def convert_attr_values(r: Reader, a: Raw, enums: Mapping[str, dict[int, str]]) -> None:
    """Convert a template DA/BDA's values into ``_value``/``_text``/``_sg``."""
    if not a["values"]:
        a["_value"], a["_text"], a["_sg"] = None, None, {}
        return
    if a["btype"] == "Struct":
        r.fail(a["values"][0]["_el"], SclErrorKind.INVALID_VALUE,
               "a Struct attribute cannot have a Val (give values to its components)")
    value, text, sg, _ = convert_vals(r, a["_el"], a["btype"], a["type"], a["count"], a["values"], enums)
    a["_value"], a["_text"], a["_sg"] = value, text, sg
