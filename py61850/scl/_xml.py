"""XML layer: safe parsing with lxml, element names, and error locations."""

from __future__ import annotations

import re
from typing import Any, NoReturn

from lxml import etree

from ._errors import SclError, SclErrorKind

SCL_NS = "http://www.iec.ch/61850/2003/SCL"
_SCL_PREFIX = "{" + SCL_NS + "}"

# Attributes that identify an element among its siblings, in predicate order.
_KEYS: dict[str, tuple[str, ...]] = {
    "IED": ("name",),
    "AccessPoint": ("name",),
    "ServerAt": ("apName",),
    "LDevice": ("inst",),
    "LN": ("prefix", "lnClass", "inst"),
    "DOI": ("name", "ix"),
    "SDI": ("name", "ix"),
    "DAI": ("name", "ix"),
    "Val": ("sGroup",),
    "DataSet": ("name",),
    "ReportControl": ("name",),
    "LogControl": ("name",),
    "GSEControl": ("name",),
    "SampledValueControl": ("name",),
    "Log": ("name",),
    "LNodeType": ("id",),
    "DOType": ("id",),
    "DAType": ("id",),
    "EnumType": ("id",),
    "DO": ("name",),
    "SDO": ("name",),
    "DA": ("name",),
    "BDA": ("name",),
    "EnumVal": ("ord",),
    "SubNetwork": ("name",),
    "ConnectedAP": ("iedName", "apName"),
    "GSE": ("ldInst", "cbName"),
    "SMV": ("ldInst", "cbName"),
    "P": ("type",),
    "Substation": ("name",),
}

# Comments, CDATA, processing instructions, the DOCTYPE (with an internal subset)
# and start tags, in document order. '<' never occurs raw in attribute values or text.
_TOKEN_RE = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE(?:[^\[>]|\[.*?\])*>|<([^\s/>!?][^\s/>]*)",
    re.S,
)


def parse_bytes(data: bytes, filename: str, *, force_utf8: bool = False) -> Any:
    """Parse ``data`` into an lxml element tree without touching the network or entities.

    :raises SclError: kind ``XmlSyntax`` with the parser's line and column.
    """
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=False,
        encoding="utf-8" if force_utf8 else None,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        msg = exc.msg or str(exc)
        msg = re.sub(r", line \d+, column \d+$", "", msg)
        raise SclError(
            msg, kind=SclErrorKind.XML_SYNTAX, file=filename,
            line=line if line else None, column=column if column else None,
        ) from None
    except ValueError as exc:  # e.g. an empty document
        raise SclError(str(exc), kind=SclErrorKind.XML_SYNTAX, file=filename) from None
    if root is None:
        raise SclError("empty document", kind=SclErrorKind.XML_SYNTAX, file=filename)
    return root


def local(el: Any) -> str | None:
    """Local name of an SCL element; ``None`` for comments, PIs and foreign namespaces."""
    tag = el.tag
    if not isinstance(tag, str):
        return None
    if tag[0] == "{":
        if not tag.startswith(_SCL_PREFIX):
            return None
        return tag[len(_SCL_PREFIX):]
    return tag


def children(el: Any, name: str | None = None) -> list[Any]:
    """The SCL child elements of ``el`` (those named ``name`` if given), in order."""
    if name is not None:
        return list(el.iterchildren(_SCL_PREFIX + name, name))
    return [c for c in el.iterchildren(etree.Element)
            if c.tag[0] != "{" or c.tag.startswith(_SCL_PREFIX)]


def tagged_children(el: Any) -> list[tuple[str, Any]]:
    """``(local name, element)`` for the SCL child elements of ``el``, in order."""
    out = []
    n = len(_SCL_PREFIX)
    for c in el.iterchildren(etree.Element):
        tag = c.tag
        if tag[0] != "{":
            out.append((tag, c))
        elif tag.startswith(_SCL_PREFIX):
            out.append((tag[n:], c))
    return out


def child(el: Any, name: str) -> Any | None:
    """The first SCL child element called ``name``, or ``None``."""
    return next(el.iterchildren(_SCL_PREFIX + name, name), None)


def _segment(el: Any) -> str:
    name = local(el) or str(el.tag)
    keys = _KEYS.get(name, ())
    preds = []
    for k in keys:
        v = el.get(k)
        if v is None or (v == "" and k in ("prefix", "ix", "sGroup")):
            continue
        preds.append(f'[@{k}="{v}"]')
    parent = el.getparent()
    if parent is not None:
        same = [s for s in parent if local(s) == name and all(
            s.get(k) == el.get(k) for k in keys)]
        if len(same) > 1:
            preds.append(f"[{same.index(el) + 1}]")
    return name + "".join(preds)


def element_path(el: Any) -> str:
    """XPath-like path of ``el`` without namespaces, e.g. ``SCL/IED[@name="X"]/...``."""
    parts = []
    cur = el
    while cur is not None:
        parts.append(_segment(cur))
        cur = cur.getparent()
    return "/".join(reversed(parts))


class Locator:
    """Turns elements into (line, column) using the source text.

    lxml's ``sourceline`` is the line where a start tag *ends*; the column is
    not known at all. The source is scanned (only when an error is raised) to
    find where each start tag begins.
    """

    def __init__(self, data: bytes | None, root: Any, filename: str) -> None:
        self._data = data
        self._root = root
        self.filename = filename
        self._starts: list[tuple[int, int, str]] | None = None
        self._failed = False

    def _scan(self) -> None:
        if self._starts is not None or self._failed:
            return
        try:
            assert self._data is not None
            enc = self._root.getroottree().docinfo.encoding or "utf-8"
            text = self._data.decode(enc, errors="replace")
            if text.startswith("\ufeff"):
                text = text[1:]
        except (LookupError, AssertionError, AttributeError):
            self._failed = True
            return
        starts: list[tuple[int, int, str]] = []
        line = 1
        last_nl = -1
        pos = 0
        for m in _TOKEN_RE.finditer(text):
            if m.group(1) is None:
                continue
            s = m.start()
            line += text.count("\n", pos, s)
            nl = text.rfind("\n", pos, s)
            if nl != -1:
                last_nl = nl
            pos = s
            name = m.group(1)
            starts.append((line, s - last_nl, name.rsplit(":", 1)[-1]))
        self._starts = starts

    def position(self, el: Any) -> tuple[int | None, int | None]:
        """(line, column) of the ``<`` of ``el``'s start tag, 1-based."""
        sourceline = getattr(el, "sourceline", None)
        self._scan()
        if self._starts:
            index = None
            for i, e in enumerate(self._root.iter(etree.Element)):
                if e is el:
                    index = i
                    break
            if index is not None and index < len(self._starts):
                line, col, name = self._starts[index]
                tag = el.tag if isinstance(el.tag, str) else ""
                lname = tag.rsplit("}", 1)[-1]
                if name == lname and (sourceline is None or line <= sourceline):
                    return line, col
        return sourceline, None

    def error(self, el: Any, kind: SclErrorKind, message: str,
              attribute: str | None = None) -> SclError:
        """Build an :class:`SclError` pointing at ``el``."""
        if el is None:
            return SclError(message, kind=kind, file=self.filename, attribute=attribute)
        line, col = self.position(el)
        return SclError(message, kind=kind, file=self.filename, line=line, column=col,
                        element_path=element_path(el), attribute=attribute)

    def fail(self, el: Any, kind: SclErrorKind, message: str,
             attribute: str | None = None) -> NoReturn:
        """Raise :meth:`error`."""
        raise self.error(el, kind, message, attribute)
