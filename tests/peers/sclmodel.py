"""A small reader for the project's own example SCL files.

This is **not** a general SCL parser (the product parser is ``py61850.scl``).  It reads the
subset of SCL that ``examples/*.icd`` use - one IED, ``LDevice``/``LN0``/``LN``, ``DOI``/
``SDI``/``DAI`` initial values, ``DataTypeTemplates`` with ``LNodeType``/``DOType``/
``DAType``/``EnumType``, ``DataSet`` and ``ReportControl`` - and fails loudly on anything
else it would misinterpret (arrays, unknown basic types, unsupported ``Val`` forms).

It is used by the peer server scripts (to build the libiec61850 model, to re-declare data
sets and report control blocks on the Rust-based server) and by the tests (the expected
logical devices, leaves, initial values and MMS variable names).

Naming follows IEC 61850-8-1 as summarised in PROTOCOL.md section 10: the MMS domain is
IED name + LD inst, the MMS variables are ``LN``, ``LN$FC``, ``LN$FC$DO``, ``LN$FC$DO$DA``...
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
from dataclasses import dataclass, field
from typing import Iterator

from lxml import etree

log = logging.getLogger("py61850.tests.peers.sclmodel")

SCL_NS = "http://www.iec.ch/61850/2003/SCL"
_NS = {"s": SCL_NS}

#: Basic types this reader understands (``bType`` values of the SCL schema).
BASIC_TYPES = frozenset(
    {
        "BOOLEAN",
        "INT8",
        "INT16",
        "INT32",
        "INT64",
        "INT8U",
        "INT16U",
        "INT32U",
        "FLOAT32",
        "FLOAT64",
        "Enum",
        "Dbpos",
        "Quality",
        "Timestamp",
        "VisString32",
        "VisString64",
        "VisString65",
        "VisString129",
        "VisString255",
        "Unicode255",
        "Octet64",
        "Check",
        "Struct",
    }
)

#: Dbpos coding (IEC 61850-7-3): the 2-bit value as an integer.
DBPOS_VALUES = {"intermediate-state": 0, "off": 1, "on": 2, "bad-state": 3}

#: Integer ranges per basic type, used to validate Val text.
_INT_RANGES = {
    "INT8": (-(2**7), 2**7 - 1),
    "INT16": (-(2**15), 2**15 - 1),
    "INT32": (-(2**31), 2**31 - 1),
    "INT64": (-(2**63), 2**63 - 1),
    "INT8U": (0, 2**8 - 1),
    "INT16U": (0, 2**16 - 1),
    "INT32U": (0, 2**32 - 1),
}

#: MMS components of an unbuffered RCB as libiec61850 1.6 (Ed2 mode) exposes them.
URCB_ATTRIBUTES = (
    "RptID",
    "RptEna",
    "Resv",
    "DatSet",
    "ConfRev",
    "OptFlds",
    "BufTm",
    "SqNum",
    "TrgOps",
    "IntgPd",
    "GI",
)
#: MMS components of a buffered RCB as libiec61850 1.6 (Ed2 mode) exposes them.
BRCB_ATTRIBUTES = (
    "RptID",
    "RptEna",
    "DatSet",
    "ConfRev",
    "OptFlds",
    "BufTm",
    "SqNum",
    "TrgOps",
    "IntgPd",
    "GI",
    "PurgeBuf",
    "EntryID",
    "TimeofEntry",
    "ResvTms",
)


def mms_sort_key(name: str) -> tuple[str, str]:
    """Sort key for MMS names as libiec61850 orders GetNameList results.

    libiec61850 1.6 sorts case-insensitively (``Oper$ctlNum`` before ``Oper$T``,
    ``int16uVal`` before ``int16Val``); plain code-point order would differ.
    """
    return (name.lower(), name)


class SclModelError(ValueError):
    """The file uses SCL this reader does not support, or is inconsistent.

    The message names the file, the line and the element.
    """


def _where(path: str, el: etree._Element) -> str:
    tag = etree.QName(el).localname
    name = el.get("name") or el.get("id") or el.get("inst") or ""
    return f"{path}:{el.sourceline}: <{tag}{' ' + name if name else ''}>"


# --------------------------------------------------------------------------------- model


@dataclass
class SclDA:
    """A data attribute (or a component of a constructed one) in an instantiated LN.

    :ivar name: attribute name (``stVal``, ``mag``, ``f``)
    :ivar fc: functional constraint, inherited by components
    :ivar btype: SCL basic type (``FLOAT32``, ``Struct``...)
    :ivar type_id: ``type`` attribute (DAType id for ``Struct``, EnumType id for ``Enum``)
    :ivar dchg: trigger option data-change
    :ivar qchg: trigger option quality-change
    :ivar dupd: trigger option data-update
    :ivar value: initial value as a Python value, or None (no ``Val``)
    :ivar children: components of a ``Struct``
    """

    name: str
    fc: str
    btype: str
    type_id: str | None = None
    dchg: bool = False
    qchg: bool = False
    dupd: bool = False
    value: object | None = None
    children: list["SclDA"] = field(default_factory=list)

    @property
    def is_struct(self) -> bool:
        return self.btype == "Struct"


@dataclass
class SclDO:
    """A data object (or sub data object) in an instantiated LN."""

    name: str
    cdc: str
    children: list["SclDO | SclDA"] = field(default_factory=list)

    def fcs(self) -> set[str]:
        """Functional constraints of all attributes below this DO."""
        out: set[str] = set()
        for ch in self.children:
            if isinstance(ch, SclDO):
                out |= ch.fcs()
            else:
                out.add(ch.fc)
        return out


@dataclass
class SclFCDA:
    """One member of a data set, as written in the SCL (``ldInst`` ... ``fc``)."""

    ld_inst: str
    ln: str
    do_name: str
    da_name: str | None
    fc: str

    def mms_name(self) -> str:
        """``LN$FC$DO[$DA]`` (dots of SDO/BDA paths become ``$``)."""
        parts = [self.ln, self.fc, *self.do_name.split(".")]
        if self.da_name:
            parts += self.da_name.split(".")
        return "$".join(parts)

    def path(self) -> str:
        """``LN.DO[.DA]`` without LD, without FC."""
        s = f"{self.ln}.{self.do_name}"
        return f"{s}.{self.da_name}" if self.da_name else s


@dataclass
class SclDataSet:
    name: str
    members: list[SclFCDA]


@dataclass
class SclReportControl:
    """A ``ReportControl`` element. ``instances()`` are the RCB names (``<name>01..NN``)."""

    name: str
    rpt_id: str
    dataset: str
    conf_rev: int
    buffered: bool
    buf_time: int
    intg_pd: int
    trg_ops: frozenset[str]
    opt_fields: frozenset[str]
    max_instances: int

    def instances(self) -> list[str]:
        return [f"{self.name}{i:02d}" for i in range(1, self.max_instances + 1)]


@dataclass
class SclLN:
    """An instantiated logical node."""

    name: str
    ln_class: str
    prefix: str
    inst: str
    ln_type: str
    dos: list[SclDO] = field(default_factory=list)
    datasets: list[SclDataSet] = field(default_factory=list)
    report_controls: list[SclReportControl] = field(default_factory=list)

    def fcs(self) -> set[str]:
        out: set[str] = set()
        for do in self.dos:
            out |= do.fcs()
        return out


@dataclass
class SclLD:
    """An instantiated logical device."""

    inst: str
    domain: str
    lns: list[SclLN] = field(default_factory=list)

    def ln(self, name: str) -> SclLN:
        for ln in self.lns:
            if ln.name == name:
                return ln
        raise KeyError(f"{self.domain}: no logical node {name!r}")


@dataclass(frozen=True)
class Leaf:
    """A basic-type attribute as a client addresses it.

    :ivar ref: object reference ``LD/LN.DO[.SDO].DA[.BDA]``, e.g.
        ``TESTGenericIO/GGIO1.AnIn1.mag.f``
    :ivar fc: functional constraint (``MX``)
    :ivar btype: SCL basic type (``FLOAT32``)
    :ivar value: initial value from the SCL ``Val`` (bool/int/float/str/bytes/datetime), or None
    :ivar enum_type: EnumType id for ``Enum`` leaves
    :ivar under_struct: True when the leaf is a component of a constructed attribute
        (``mag.f``); the Rust-based peer server cannot write those
    """

    ref: str
    fc: str
    btype: str
    value: object | None
    enum_type: str | None = None
    under_struct: bool = False

    @property
    def domain(self) -> str:
        return self.ref.split("/", 1)[0]

    @property
    def path(self) -> str:
        """``LN.DO...DA`` (no LD)."""
        return self.ref.split("/", 1)[1]

    @property
    def mms_name(self) -> str:
        """MMS item name ``LN$FC$DO$DA...``."""
        ln, rest = self.path.split(".", 1)
        return "$".join([ln, self.fc, *rest.split(".")])


# --------------------------------------------------------------------------------- reader


class SclModel:
    """The instantiated data model of one IED in one of our example SCL files.

    :param path: SCL file (``.icd``/``.cid``/``.scd``)
    :param ied_name: which ``<IED>``; default: the only (or first) one
    :raises SclModelError: on SCL this reader does not support
    """

    def __init__(self, path: str | os.PathLike[str], ied_name: str | None = None) -> None:
        self.path = os.fspath(path)
        try:
            tree = etree.parse(self.path)
        except (OSError, etree.XMLSyntaxError) as exc:
            raise SclModelError(f"{self.path}: cannot parse: {exc}") from exc
        root = tree.getroot()
        ieds = root.findall("s:IED", _NS)
        if not ieds:
            raise SclModelError(f"{self.path}: no <IED>")
        if ied_name is None:
            ied = ieds[0]
        else:
            matches = [i for i in ieds if i.get("name") == ied_name]
            if not matches:
                raise SclModelError(f"{self.path}: no <IED name={ied_name!r}>")
            ied = matches[0]
        self.ied_name: str = ied.get("name")
        tmpl = root.find("s:DataTypeTemplates", _NS)
        if tmpl is None:
            raise SclModelError(f"{self.path}: no <DataTypeTemplates>")
        self._lnode_types = {e.get("id"): e for e in tmpl.findall("s:LNodeType", _NS)}
        self._do_types = {e.get("id"): e for e in tmpl.findall("s:DOType", _NS)}
        self._da_types = {e.get("id"): e for e in tmpl.findall("s:DAType", _NS)}
        self.enum_types: dict[str, dict[str, int]] = {}
        for e in tmpl.findall("s:EnumType", _NS):
            self.enum_types[e.get("id")] = {
                (v.text or "").strip(): int(v.get("ord")) for v in e.findall("s:EnumVal", _NS)
            }
        self.lds: list[SclLD] = []
        for ap in ied.findall("s:AccessPoint", _NS):
            server = ap.find("s:Server", _NS)
            if server is None:
                continue
            for ldev in server.findall("s:LDevice", _NS):
                self.lds.append(self._read_ld(ldev))
        if not self.lds:
            raise SclModelError(f"{self.path}: IED {self.ied_name} has no LDevice")

    # ------------------------------------------------------------------ public queries

    @property
    def logical_devices(self) -> list[str]:
        """MMS domain names in file order."""
        return [ld.domain for ld in self.lds]

    def ld(self, domain: str) -> SclLD:
        """The logical device whose MMS domain (or ``inst``) is ``domain``."""
        for ld in self.lds:
            if domain in (ld.domain, ld.inst):
                return ld
        raise KeyError(f"no logical device {domain!r}")

    def logical_nodes(self, ld: str) -> list[str]:
        """LN names (prefix + class + inst) of an LD, in file order."""
        return [ln.name for ln in self.ld(ld).lns]

    def data_objects(self, ld: str, ln: str) -> list[str]:
        """DO names of an LN, in type order."""
        return [do.name for do in self.ld(ld).ln(ln).dos]

    def leaves(self) -> list[Leaf]:
        """All basic-type attributes of all LDs (file/type order)."""
        return list(self._iter_leaves())

    def leaf(self, ref: str, fc: str | None = None) -> Leaf:
        """The leaf with object reference ``ref`` (and ``fc`` if the name alone is ambiguous)."""
        found = [lf for lf in self._iter_leaves() if lf.ref == ref and (fc is None or lf.fc == fc)]
        if len(found) != 1:
            raise KeyError(f"{ref} [{fc}]: {len(found)} matches")
        return found[0]

    def datasets(self, ld: str) -> list[tuple[str, SclDataSet]]:
        """``(LN name, data set)`` pairs of an LD."""
        return [(ln.name, ds) for ln in self.ld(ld).lns for ds in ln.datasets]

    def report_controls(self, ld: str) -> list[tuple[str, SclReportControl]]:
        """``(LN name, report control)`` pairs of an LD."""
        return [(ln.name, rc) for ln in self.ld(ld).lns for rc in ln.report_controls]

    def mms_names(self, ld: str, control_blocks: str = "full", case_sensitive: bool = False,
                  owner: bool = False) -> list[str]:
        """The named variables GetNameList(namedVariable, domain) should return, sorted.

        :param ld: MMS domain name (or LD inst)
        :param control_blocks: ``"full"``: ``LN$RP``/``LN$BR``, each RCB and its components
            (what libiec61850 lists, and IEC 61850-8-1); ``"names"``: only the RCB names
            ``LN$RP$name01`` (what the Rust-based server lists); ``"none"``: data only
        :param case_sensitive: sort by code point (the Rust-based server) instead of
            libiec61850's case-insensitive order (see :func:`mms_sort_key`)
        :param owner: with ``"full"``, every RCB also has the Edition 2 ``Owner`` component
            (py61850's server; libiec61850 1.6 leaves it out)
        """
        if control_blocks not in ("full", "names", "none"):
            raise ValueError(f"control_blocks={control_blocks!r}")
        names: set[str] = set()
        for ln in self.ld(ld).lns:
            names.add(ln.name)
            fcs = ln.fcs()
            for fc in fcs:
                names.add(f"{ln.name}${fc}")
                for do in ln.dos:
                    if fc in do.fcs():
                        self._add_names(names, f"{ln.name}${fc}${do.name}", do, fc)
            if control_blocks == "none":
                continue
            for rc in ln.report_controls:
                fc = "BR" if rc.buffered else "RP"
                attrs = BRCB_ATTRIBUTES if rc.buffered else URCB_ATTRIBUTES
                if control_blocks == "full":
                    names.add(f"{ln.name}${fc}")
                for inst in rc.instances():
                    names.add(f"{ln.name}${fc}${inst}")
                    if control_blocks == "full":
                        names.update(f"{ln.name}${fc}${inst}${a}" for a in attrs)
                        if owner:
                            names.add(f"{ln.name}${fc}${inst}$Owner")
        return sorted(names) if case_sensitive else sorted(names, key=mms_sort_key)

    # ------------------------------------------------------------------ internals

    def _add_names(self, names: set[str], prefix: str, node: SclDO | SclDA, fc: str) -> None:
        names.add(prefix)
        for ch in node.children:
            if isinstance(ch, SclDO):
                if fc in ch.fcs():
                    self._add_names(names, f"{prefix}${ch.name}", ch, fc)
            elif ch.fc == fc:
                self._add_names(names, f"{prefix}${ch.name}", ch, fc)

    def _iter_leaves(self) -> Iterator[Leaf]:
        for ld in self.lds:
            for ln in ld.lns:
                for do in ln.dos:
                    yield from self._do_leaves(f"{ld.domain}/{ln.name}.{do.name}", do)

    def _do_leaves(self, ref: str, node: SclDO) -> Iterator[Leaf]:
        for ch in node.children:
            if isinstance(ch, SclDO):
                yield from self._do_leaves(f"{ref}.{ch.name}", ch)
            else:
                yield from self._da_leaves(f"{ref}.{ch.name}", ch, False)

    def _da_leaves(self, ref: str, da: SclDA, under_struct: bool) -> Iterator[Leaf]:
        if da.is_struct:
            for ch in da.children:
                yield from self._da_leaves(f"{ref}.{ch.name}", ch, True)
        else:
            enum = da.type_id if da.btype == "Enum" else None
            yield Leaf(ref, da.fc, da.btype, da.value, enum, under_struct)

    def _read_ld(self, ldev: etree._Element) -> SclLD:
        inst = ldev.get("inst")
        ld_name = ldev.get("ldName")
        ld = SclLD(inst=inst, domain=ld_name or f"{self.ied_name}{inst}")
        for el in ldev:
            if not isinstance(el.tag, str):
                continue
            tag = etree.QName(el).localname
            if tag not in ("LN0", "LN"):
                continue
            prefix = el.get("prefix", "")
            ln_class = el.get("lnClass")
            ln_inst = el.get("inst", "")
            ln = SclLN(
                name=f"{prefix}{ln_class}{ln_inst}",
                ln_class=ln_class,
                prefix=prefix,
                inst=ln_inst,
                ln_type=el.get("lnType"),
            )
            ltype = self._lnode_types.get(ln.ln_type)
            if ltype is None:
                raise SclModelError(f"{_where(self.path, el)}: unknown lnType {ln.ln_type!r}")
            inst_values = self._instance_values(el)
            for do_el in ltype.findall("s:DO", _NS):
                ln.dos.append(self._build_do(do_el, inst_values, do_el.get("name")))
            for ds_el in el.findall("s:DataSet", _NS):
                ln.datasets.append(self._read_dataset(ds_el, inst))
            for rc_el in el.findall("s:ReportControl", _NS):
                ln.report_controls.append(self._read_rc(rc_el))
            for unsupported in ("LogControl", "GSEControl", "SampledValueControl", "SettingControl"):
                if el.find(f"s:{unsupported}", _NS) is not None:
                    raise SclModelError(
                        f"{_where(self.path, el)}: <{unsupported}> is not supported by this reader"
                    )
            ld.lns.append(ln)
        return ld

    def _instance_values(self, ln_el: etree._Element) -> dict[str, etree._Element]:
        """Map ``DO.SDO.DA.BDA`` paths to the ``DAI`` elements of an LN instance."""
        out: dict[str, etree._Element] = {}

        def walk(el: etree._Element, prefix: str) -> None:
            for ch in el:
                if not isinstance(ch.tag, str):
                    continue
                tag = etree.QName(ch).localname
                if tag in ("DOI", "SDI"):
                    walk(ch, f"{prefix}{ch.get('name')}.")
                elif tag == "DAI":
                    out[f"{prefix}{ch.get('name')}"] = ch

        walk(ln_el, "")
        return out

    def _build_do(self, el: etree._Element, inst_values: dict[str, etree._Element], path: str) -> SclDO:
        if el.get("count"):
            raise SclModelError(f"{_where(self.path, el)}: arrays are not supported")
        type_id = el.get("type")
        dtype = self._do_types.get(type_id)
        if dtype is None:
            raise SclModelError(f"{_where(self.path, el)}: unknown DOType {type_id!r}")
        do = SclDO(name=el.get("name"), cdc=dtype.get("cdc", ""))
        for ch in dtype:
            if not isinstance(ch.tag, str):
                continue
            tag = etree.QName(ch).localname
            if tag == "SDO":
                do.children.append(self._build_do(ch, inst_values, f"{path}.{ch.get('name')}"))
            elif tag == "DA":
                do.children.append(self._build_da(ch, ch.get("fc"), inst_values, f"{path}.{ch.get('name')}"))
        return do

    def _build_da(
        self, el: etree._Element, fc: str | None, inst_values: dict[str, etree._Element], path: str
    ) -> SclDA:
        if el.get("count") not in (None, "0"):
            raise SclModelError(f"{_where(self.path, el)}: arrays are not supported")
        btype = el.get("bType")
        if btype not in BASIC_TYPES:
            raise SclModelError(f"{_where(self.path, el)}: unsupported bType {btype!r}")
        if not fc:
            raise SclModelError(f"{_where(self.path, el)}: DA without fc")
        da = SclDA(
            name=el.get("name"),
            fc=fc,
            btype=btype,
            type_id=el.get("type"),
            dchg=el.get("dchg") == "true",
            qchg=el.get("qchg") == "true",
            dupd=el.get("dupd") == "true",
        )
        if btype == "Struct":
            dat = self._da_types.get(da.type_id)
            if dat is None:
                raise SclModelError(f"{_where(self.path, el)}: unknown DAType {da.type_id!r}")
            for bda in dat.findall("s:BDA", _NS):
                child = self._build_da(bda, fc, inst_values, f"{path}.{bda.get('name')}")
                # trigger options of a constructed DA apply to its components
                child.dchg = child.dchg or da.dchg
                child.qchg = child.qchg or da.qchg
                child.dupd = child.dupd or da.dupd
                da.children.append(child)
            return da
        if btype == "Enum" and da.type_id not in self.enum_types:
            raise SclModelError(f"{_where(self.path, el)}: unknown EnumType {da.type_id!r}")
        val_el = None
        dai = inst_values.get(path)
        if dai is not None:
            val_el = dai.find("s:Val", _NS)
        if val_el is None:
            val_el = el.find("s:Val", _NS)
        if val_el is not None:
            da.value = self._convert(val_el, btype, da.type_id)
        return da

    def _convert(self, val_el: etree._Element, btype: str, type_id: str | None) -> object:
        text = (val_el.text or "").strip()
        where = _where(self.path, val_el)
        try:
            if btype == "BOOLEAN":
                if text.lower() in ("true", "1"):
                    return True
                if text.lower() in ("false", "0"):
                    return False
                raise ValueError(text)
            if btype in _INT_RANGES:
                v = int(text, 10)
                lo, hi = _INT_RANGES[btype]
                if not lo <= v <= hi:
                    raise ValueError(f"{v} out of range for {btype}")
                return v
            if btype in ("FLOAT32", "FLOAT64"):
                return float(text)
            if btype == "Enum":
                kinds = self.enum_types[type_id]
                if text in kinds:
                    return kinds[text]
                return int(text, 10)
            if btype == "Dbpos":
                return DBPOS_VALUES[text]
            if btype.startswith("VisString"):
                limit = int(btype[len("VisString") :])
                if len(text) > limit or not text.isascii():
                    raise ValueError(f"{text!r} does not fit {btype}")
                return text
            if btype == "Unicode255":
                return text
            if btype == "Octet64":
                # convention of our example files: the text, UTF-8 encoded
                raw = text.encode("utf-8")
                if len(raw) > 64:
                    raise ValueError("more than 64 octets")
                return raw
            if btype == "Timestamp":
                ts = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
                if ts.tzinfo is None:
                    raise ValueError("Timestamp Val needs a UTC offset (e.g. Z)")
                return ts.astimezone(_dt.timezone.utc)
        except (ValueError, KeyError) as exc:
            raise SclModelError(f"{where}: bad Val for {btype}: {exc}") from exc
        raise SclModelError(f"{where}: Val not supported for bType {btype}")

    def _read_dataset(self, el: etree._Element, ld_inst: str) -> SclDataSet:
        members = []
        for f in el.findall("s:FCDA", _NS):
            if f.get("ldInst", ld_inst) != ld_inst:
                raise SclModelError(f"{_where(self.path, f)}: cross-LD data set members are not supported")
            members.append(
                SclFCDA(
                    ld_inst=f.get("ldInst", ld_inst),
                    ln=f"{f.get('prefix', '')}{f.get('lnClass')}{f.get('lnInst', '')}",
                    do_name=f.get("doName"),
                    da_name=f.get("daName"),
                    fc=f.get("fc"),
                )
            )
        return SclDataSet(name=el.get("name"), members=members)

    def _read_rc(self, el: etree._Element) -> SclReportControl:
        trg = el.find("s:TrgOps", _NS)
        opt = el.find("s:OptFields", _NS)
        en = el.find("s:RptEnabled", _NS)
        return SclReportControl(
            name=el.get("name"),
            rpt_id=el.get("rptID", ""),
            dataset=el.get("datSet", ""),
            conf_rev=int(el.get("confRev", "0")),
            buffered=el.get("buffered") == "true",
            buf_time=int(el.get("bufTime", "0")),
            intg_pd=int(el.get("intgPd", "0")),
            trg_ops=frozenset(k for k, v in (trg.attrib.items() if trg is not None else []) if v == "true"),
            opt_fields=frozenset(k for k, v in (opt.attrib.items() if opt is not None else []) if v == "true"),
            max_instances=int(en.get("max", "1")) if en is not None else 1,
        )


def default_scl() -> str:
    """Absolute path of ``examples/simple_io.icd``."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "examples", "simple_io.icd"))
