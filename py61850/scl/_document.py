"""``SclDocument``: a parsed and cross-checked SCL file."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from typing import Any, Iterator

from ._comm import Communication, ConnectedAP, ControlBlockAddress, SubNetwork
from ._errors import SclError, SclErrorKind
from ._instantiate import Instantiator
from ._model import IedModel
from ._raw import Raw, Reader, communication, header, ieds, public, templates
from ._summary import ap_line, fmt, ied_line, model_body
from ._templates import check_templates, enum_maps
from ._xml import SCL_NS, Locator, local, parse_bytes

log = logging.getLogger("py61850.scl")

__all__ = ["SclDocument", "load_scl", "parse_scl"]


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic GC while building many small objects (halves the time on big SCDs).

    Nothing built here forms reference cycles that need collecting.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_scl(path: str | os.PathLike[str]) -> SclDocument:
    """Read and check an SCL file (ICD, CID, SCD, IID; Edition 1 or 2).

    :param path: file to read.
    :returns: the parsed document.
    :raises SclError: kind ``IoError`` if the file cannot be read, else any parse error
        (``XmlSyntax``, ``DuplicateName``, ``UnresolvedTypeReference``, ``MissingTemplate``...)
        with file, line, column and element path.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise SclError(f"cannot read the file: {exc.strerror or exc}", kind=SclErrorKind.IO_ERROR,
                       file=name) from exc
    return parse_scl(data, filename=name)


def parse_scl(text_or_bytes: str | bytes, filename: str = "<string>") -> SclDocument:
    """Parse and check SCL from memory.

    Runs both stages: XML syntax (lxml, no entity expansion, no network, no huge
    trees), then the cross-element checks (names, type references, template values).

    :param text_or_bytes: the document; ``bytes`` are decoded as the XML declaration
        says, a ``str`` is taken as already decoded (its declared encoding is ignored).
    :param filename: the name used in error messages.
    :raises SclError: on any problem.
    """
    if isinstance(text_or_bytes, str):
        data = text_or_bytes.encode("utf-8")
        force_utf8 = True
    elif isinstance(text_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(text_or_bytes)
        force_utf8 = False
    else:
        raise TypeError(f"parse_scl() needs str or bytes, not {type(text_or_bytes).__name__}")
    with _no_gc():
        root = parse_bytes(data, filename, force_utf8=force_utf8)
        return SclDocument(root, data, filename)


class SclDocument:
    """A parsed SCL document.

    Construct it with :func:`load_scl` or :func:`parse_scl`. The document is
    checked on construction: syntax, required attributes, unique names, template
    references (and cycles) and every template ``Val``. Instance values (``DAI``),
    data set members and control block references are checked when a model is
    built (:meth:`model`, :meth:`summary`, :meth:`validate`).

    :ivar filename: the file name given at load time.
    :ivar version: root ``version`` attribute (``"2007"`` for Ed2, ``None`` for Ed1).
    :ivar revision: root ``revision`` attribute.
    :ivar release: root ``release`` attribute (int), if any.
    """

    def __init__(self, root: Any, data: bytes | None, filename: str) -> None:
        self.filename = filename
        self._loc = Locator(data, root, filename)
        r = self._r = Reader(self._loc)
        if local(root) != "SCL" or (isinstance(root.tag, str) and root.tag.startswith("{")
                                     and not root.tag.startswith("{" + SCL_NS + "}")):
            raise SclError(f"the root element is {root.tag!r}, not SCL (namespace {SCL_NS})",
                           kind=SclErrorKind.NOT_SCL, file=filename, line=root.sourceline,
                           element_path=str(root.tag))
        if isinstance(root.tag, str) and not root.tag.startswith("{"):
            log.warning("%s: the SCL root element has no namespace (expected %s)", filename, SCL_NS)
        self.version: str | None = root.get("version")
        self.revision: str | None = root.get("revision")
        self.release: int | None = r.i(root, "release", minimum=0)
        self._header = header(r, root)
        self._tpl = templates(r, root)
        self._enums = enum_maps(r, self._tpl)
        check_templates(r, self._tpl, self._enums)
        self._ieds = ieds(r, root)
        self._comm = communication(r, root)
        self._check_instances()

    # ------------------------------------------------------------------ checks

    def _check_instances(self) -> None:
        r = self._r
        seen_ied: dict[str, Raw] = {}
        for ied in self._ieds:
            if ied["name"] in seen_ied:
                r.fail(ied["_el"], SclErrorKind.DUPLICATE_NAME, f"IED {ied['name']!r} defined twice", "name")
            seen_ied[ied["name"]] = ied
            aps = {}
            for ap in ied["access_points"]:
                if ap["name"] in aps:
                    r.fail(ap["_el"], SclErrorKind.DUPLICATE_NAME,
                           f"access point {ap['name']!r} defined twice in IED {ied['name']!r}", "name")
                aps[ap["name"]] = ap
            for ap in ied["access_points"]:
                sat = ap["server_at"]
                if sat is not None and (sat["ap_name"] not in aps or aps[sat["ap_name"]]["server"] is None):
                    r.fail(sat["_el"], SclErrorKind.UNRESOLVED_REFERENCE,
                           f"ServerAt: access point {sat['ap_name']!r} with a Server not found", "apName")
                srv = ap["server"]
                if srv is None:
                    continue
                lds: dict[str, Raw] = {}
                for ld in srv["logical_devices"]:
                    if ld["inst"] in lds:
                        r.fail(ld["_el"], SclErrorKind.DUPLICATE_NAME,
                               f"LDevice inst {ld['inst']!r} defined twice", "inst")
                    lds[ld["inst"]] = ld
                    self._check_lns(ld)

    def _check_lns(self, ld: Raw) -> None:
        r = self._r
        lns: dict[str, Raw] = {}
        for ln in ld["logical_nodes"]:
            name = f"{ln['prefix']}{ln['ln_class']}{ln['inst']}"
            if name in lns:
                r.fail(ln["_el"], SclErrorKind.DUPLICATE_NAME,
                       f"logical node {name!r} defined twice in LDevice {ld['inst']!r}", "inst")
            lns[name] = ln
            if ln["ln_type"] not in self._tpl["ln_node_types"]:
                r.fail(ln["_el"], SclErrorKind.UNRESOLVED_TYPE_REFERENCE,
                       f"LNodeType {ln['ln_type']!r} not found in DataTypeTemplates", "lnType")
            for key, what in (("data_sets", "DataSet"), ("report_controls", "ReportControl"),
                              ("log_controls", "LogControl"), ("gse_controls", "GSEControl"),
                              ("sv_controls", "SampledValueControl")):
                names: set[str] = set()
                for item in ln[key]:
                    if item["name"] in names:
                        r.fail(item["_el"], SclErrorKind.DUPLICATE_NAME,
                               f"{what} {item['name']!r} defined twice in {name}", "name")
                    names.add(item["name"])

    # ------------------------------------------------------------------ views

    @property
    def edition(self) -> str:
        """``"1"`` (no version attribute), ``"2"`` (2007A) or ``"2.1"`` (2007B and later)."""
        if not self.version:
            return "1"
        if self.version == "2007":
            return "2" if (self.revision or "A") == "A" else "2.1"
        return self.version

    @property
    def header(self) -> dict[str, Any] | None:
        """The ``Header`` attributes (id, version, revision, tool_id, name_structure), if any."""
        out: dict[str, Any] | None = public(self._header)
        return out

    def ieds(self) -> list[str]:
        """Names of the IEDs, in document order."""
        return [i["name"] for i in self._ieds]

    def access_points(self, ied_name: str | None = None) -> list[str]:
        """Names of the access points of an IED (the only one if ``ied_name`` is ``None``)."""
        return [a["name"] for a in self._ied(ied_name)["access_points"]]

    def to_dict(self) -> dict[str, Any]:
        """The document as nested plain dicts and lists, mirroring the SCL.

        Keys: ``version``, ``revision``, ``release``, ``edition``, ``header``,
        ``communication`` (``sub_networks``), ``ieds`` (``access_points`` ->
        ``server`` -> ``logical_devices`` -> ``logical_nodes`` with ``dois``,
        ``data_sets``, ``report_controls``, ...), and ``data_type_templates`` with
        ``ln_node_types``, ``do_types``, ``da_types``, ``enum_types`` keyed by id.
        Type references stay strings (``ln["ln_type"]`` indexes ``ln_node_types``).
        Attribute names are snake_case; ``Val`` elements are ``values`` lists of
        ``{"s_group", "text"}``. A fresh copy each call.
        """
        return {
            "version": self.version, "revision": self.revision, "release": self.release,
            "edition": self.edition, "header": public(self._header),
            "communication": public(self._comm), "ieds": public(self._ieds),
            "data_type_templates": public(self._tpl),
        }

    def communication(self) -> Communication:
        """The Communication section: subnetworks and connected access points."""
        out = Communication()
        for sn in self._comm["sub_networks"]:
            br = sn["bit_rate"]
            bit_rate = None
            if br is not None:
                bit_rate = f"{br['value']} {br['multiplier']}{br['unit']}".strip()
            s = SubNetwork(name=sn["name"], type=sn["type"], desc=sn["desc"], bit_rate=bit_rate)
            for c in sn["connected_aps"]:
                s.connected_aps.append(ConnectedAP(
                    ied_name=c["ied_name"], ap_name=c["ap_name"], address=dict(c["address"]),
                    gse=[ControlBlockAddress(g["ld_inst"], g["cb_name"], dict(g["address"]),
                                             g["min_time"], g["max_time"]) for g in c["gse"]],
                    smv=[ControlBlockAddress(g["ld_inst"], g["cb_name"], dict(g["address"]))
                         for g in c["smv"]],
                    desc=c["desc"]))
            out.sub_networks.append(s)
        return out

    # ------------------------------------------------------------------ models

    def _ied(self, ied_name: str | None) -> Raw:
        if ied_name is None:
            if len(self._ieds) == 1:
                return self._ieds[0]
            if not self._ieds:
                raise SclError("the document has no IED", kind=SclErrorKind.UNKNOWN_IED,
                               file=self.filename)
            raise SclError(f"the document has {len(self._ieds)} IEDs ({', '.join(self.ieds())}): "
                           "pass ied_name", kind=SclErrorKind.AMBIGUOUS_IED, file=self.filename)
        for ied in self._ieds:
            if ied["name"] == ied_name:
                return ied
        raise SclError(f"no IED {ied_name!r} (IEDs: {', '.join(self.ieds()) or 'none'})",
                       kind=SclErrorKind.UNKNOWN_IED, file=self.filename)

    def _select(self, ied: Raw, access_point: str | None) -> tuple[Raw, Raw]:
        aps = ied["access_points"]
        if access_point is None:
            with_server = [a for a in aps if a["server"] is not None]
            if not with_server:
                raise self._loc.error(ied["_el"], SclErrorKind.NO_SERVER,
                                      f"IED {ied['name']!r} has no access point with a Server")
            if len(with_server) > 1:
                raise self._loc.error(
                    ied["_el"], SclErrorKind.AMBIGUOUS_ACCESS_POINT,
                    f"IED {ied['name']!r} has servers on access points "
                    f"{', '.join(a['name'] for a in with_server)}: pass access_point")
            ap = with_server[0]
            return ap, ap["server"]
        for ap in aps:
            if ap["name"] == access_point:
                if ap["server"] is not None:
                    return ap, ap["server"]
                if ap["server_at"] is not None:
                    target = next(a for a in aps if a["name"] == ap["server_at"]["ap_name"])
                    return ap, target["server"]
                raise self._loc.error(ap["_el"], SclErrorKind.NO_SERVER,
                                      f"access point {access_point!r} has no Server")
        raise SclError(f"IED {ied['name']!r} has no access point {access_point!r} "
                       f"(access points: {', '.join(a['name'] for a in aps) or 'none'})",
                       kind=SclErrorKind.UNKNOWN_ACCESS_POINT, file=self.filename)

    def model(self, ied_name: str | None = None, access_point: str | None = None) -> IedModel:
        """The resolved, instantiated model of one IED's server.

        Templates are expanded in template order, ``DOI``/``SDI``/``DAI`` values
        override template values, data set members and control block data sets
        are resolved, RCB instance names are generated. Each call builds a new,
        independent model.

        :param ied_name: IED to take; may be omitted when the document has one IED.
        :param access_point: access point whose ``Server`` to take (an access point
            with ``ServerAt`` takes the server it points to); may be omitted when
            exactly one access point has a server.
        :raises SclError: ``UnknownIed``, ``AmbiguousIed``, ``UnknownAccessPoint``,
            ``AmbiguousAccessPoint``, ``NoServer``, or an instance error
            (``UnresolvedReference``, ``InvalidValue``, ``DuplicateName``...).
        """
        ied = self._ied(ied_name)
        ap, server = self._select(ied, access_point)
        inst = Instantiator(self._r, self._tpl, self._enums, self._comm)
        with _no_gc():
            model = inst.model(ied, ap, server)
        model.edition = self.edition
        return model

    def validate(self) -> None:
        """Build the model of every server of every IED, raising the first error."""
        for ied in self._ieds:
            for ap in ied["access_points"]:
                if ap["server"] is not None:
                    self.model(ied["name"], ap["name"])

    def summary(self, ied_name: str | None = None) -> str:
        """Canonical text summary of one IED, one line per element.

        Lines (indented by two spaces per level): ``IED``, ``AP`` (one per access
        point), ``LD``, ``LN``, ``DO``/``SDO``, ``DA``/``BDA`` (FC, bType, triggers,
        value), ``DS`` with its ``FCDA`` members (``domain/LN$FC$DO$DA``), ``RCB``,
        ``LCB``, ``GOCB``, ``SVCB``, ``SGCB``. Order is document/template order;
        the text depends only on the document, so it works as a diff oracle.

        :param ied_name: may be omitted when the document has one IED.
        :raises SclError: as :meth:`model`.
        """
        ied = self._ied(ied_name)
        out = [ied_line(ied["name"], ied["manufacturer"], ied["type"], ied["config_version"],
                        aps=len(ied["access_points"]))]
        for ap in ied["access_points"]:
            if ap["server"] is None:
                at = ap["server_at"]
                out.append(ap_line(ap["name"], 1, server=f"at:{at['ap_name']}" if at else "no"))
                continue
            m = self.model(ied["name"], ap["name"])
            out.append(ap_line(ap["name"], 1, server="yes", ip=fmt(m.ip), port=fmt(m.port),
                               lds=len(m.logical_devices)))
            out.extend(model_body(m, 2))
        return "\n".join(out) + "\n"

    def __repr__(self) -> str:
        return f"<SclDocument {self.filename!r} edition={self.edition} ieds={self.ieds()}>"
