"""A small reader for the project's own example SCL files.

This is **not** a general SCL parser (the product parser is ``py61850.scl``).  It reads the
subset of SCL that ``examples/*.icd`` use - one IED, ``LDevice``/``LN0``/``LN``, ``DOI``/
``SDI``/``DAI`` initial values (also per setting group: ``Val sGroup="n"``),
``DataTypeTemplates`` with ``LNodeType``/``DOType``/``DAType``/``EnumType``, ``DataSet``,
``ReportControl``, ``LogControl`` with its ``Log``, ``GSEControl`` and ``SampledValueControl``
with their ``GSE``/``SMV`` addresses from ``Communication``, and ``SettingControl`` - and fails
loudly on anything else it would misinterpret (arrays, unknown basic types, unsupported
``Val`` forms, a log in another LN, per-group values without a ``SettingControl``...).

It is used by the peer server scripts (to build the libiec61850 model, to re-declare data
sets and report control blocks on the Rust-based server) and by the tests (the expected
logical devices, leaves, initial values and MMS variable names).

Naming follows IEC 61850-8-1 as summarised in PROTOCOL.md section 10: the MMS domain is
IED name + LD inst, the MMS variables are ``LN``, ``LN$FC``, ``LN$FC$DO``, ``LN$FC$DO$DA``...
"""

from __future__ import annotations

import dataclasses
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
#: MMS components of a log control block (IEC 61850-8-1), in the order libiec61850 lists them.
LCB_ATTRIBUTES = ("LogEna", "LogRef", "DatSet", "OldEntrTm", "NewEntrTm", "OldEnt", "NewEnt", "TrgOps", "IntgPd")
#: LCB components as libiec61850 1.6 names them (``OldEntr``/``NewEntr`` for OldEnt/NewEnt).
LIBIEC_LCB_ATTRIBUTES = ("LogEna", "LogRef", "DatSet", "OldEntrTm", "NewEntrTm", "OldEntr", "NewEntr", "TrgOps",
                         "IntgPd")
#: MMS components of a GOOSE control block (IEC 61850-8-1, Edition 2).
GOCB_ATTRIBUTES = ("GoEna", "GoID", "DatSet", "ConfRev", "NdsCom", "DstAddress", "DstAddress$Addr",
                   "DstAddress$PRIORITY", "DstAddress$VID", "DstAddress$APPID", "MinTime", "MaxTime",
                   "FixedOffs")
#: MMS components of a multicast sampled value control block (IEC 61850-8-1, Edition 2).
MSVCB_ATTRIBUTES = ("SvEna", "MsvID", "DatSet", "ConfRev", "SmpRate", "OptFlds", "SmpMod", "DstAddress",
                    "DstAddress$Addr", "DstAddress$PRIORITY", "DstAddress$VID", "DstAddress$APPID", "noASDU")
#: MMS components of a unicast sampled value control block (IEC 61850-8-1, Edition 2).
USVCB_ATTRIBUTES = ("SvEna", "Resv", "UsvID", "DatSet", "ConfRev", "SmpRate", "OptFlds", "SmpMod", "DstAddress",
                    "DstAddress$Addr", "DstAddress$PRIORITY", "DstAddress$VID", "DstAddress$APPID", "noASDU")
#: MMS components of the setting group control block ``LLN0$SP$SGCB`` (Edition 2: with ResvTms).
SGCB_ATTRIBUTES = ("NumOfSG", "ActSG", "EditSG", "CnfEdit", "LActTm", "ResvTms")

#: ``SmvOpts`` attributes -> bit of the SVCB OptFlds value (bit i = ``1 << i``, IEC 61850-8-1).
SMV_OPTS_BITS = {"refreshTime": 0, "sampleSynchronized": 1, "sampleRate": 2, "dataSet": 3, "security": 4}
#: ``smpMod`` literals -> SmpMod value.
SMP_MODS = {"SmpPerPeriod": 0, "SmpPerSec": 1, "SecPerSmp": 2}


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


def _xs_bool(text: str) -> bool:
    """An xs:boolean attribute value."""
    t = text.strip()
    if t in ("true", "1"):
        return True
    if t in ("false", "0"):
        return False
    raise ValueError(f"not an xs:boolean: {text!r}")


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
    :ivar value: initial value as a Python value, or None (no ``Val``); for an attribute with
        per-group values, the value of the active group (``SettingControl actSG``)
    :ivar sg_values: per setting group values (``Val sGroup="n"``), index 0 = group 1, or None
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
    sg_values: tuple | None = None
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


@dataclass(frozen=True)
class SclPhyAddress:
    """A ``GSE``/``SMV`` address of the ``Communication`` section.

    :ivar mac: destination MAC address (6 octets)
    :ivar appid: APPID (the SCL text is hexadecimal)
    :ivar vlan_id: VLAN-ID (hexadecimal in SCL)
    :ivar vlan_priority: VLAN-PRIORITY (0..7)
    """

    mac: bytes
    appid: int
    vlan_id: int
    vlan_priority: int

    @property
    def mac_text(self) -> str:
        """``01-0C-CD-01-00-01``."""
        return "-".join(f"{b:02X}" for b in self.mac)


@dataclass
class SclLogControl:
    """A ``LogControl`` element; its log is ``log_name`` on the same LN."""

    name: str
    dataset: str
    log_name: str
    log_ena: bool
    reason_code: bool
    intg_pd: int
    buf_time: int
    trg_ops: frozenset[str]


@dataclass
class SclGSEControl:
    """A ``GSEControl`` element with its ``GSE`` address and MinTime/MaxTime (ms) if the
    ``Communication`` section has them."""

    name: str
    dataset: str
    conf_rev: int
    app_id: str
    gse_type: str
    fixed_offs: bool
    address: SclPhyAddress | None
    min_time: int | None
    max_time: int | None


@dataclass
class SclSVControl:
    """A ``SampledValueControl`` element with its ``SMV`` address.

    :ivar smp_mod: 0 samples per period, 1 samples per second, 2 seconds per sample
    :ivar opt_fields: OptFlds value (:data:`SMV_OPTS_BITS`)
    """

    name: str
    dataset: str
    conf_rev: int
    smv_id: str
    multicast: bool
    smp_rate: int
    nof_asdu: int
    smp_mod: int
    opt_fields: int
    address: SclPhyAddress | None

    @property
    def fc(self) -> str:
        return "MS" if self.multicast else "US"


@dataclass
class SclSettingControl:
    """A ``SettingControl`` element (on LLN0): groups 1..``num_of_sgs``, active ``act_sg``."""

    num_of_sgs: int
    act_sg: int


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
    #: names of the ``Log`` elements (MMS journals ``LN$name``)
    logs: list[str] = field(default_factory=list)
    log_controls: list[SclLogControl] = field(default_factory=list)
    gse_controls: list[SclGSEControl] = field(default_factory=list)
    sv_controls: list[SclSVControl] = field(default_factory=list)
    setting_control: SclSettingControl | None = None

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

    @property
    def setting_control(self) -> SclSettingControl | None:
        """The ``SettingControl`` of this LD's LLN0, if any."""
        for ln in self.lns:
            if ln.setting_control is not None:
                return ln.setting_control
        return None


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
    :ivar sg_values: FC SG leaves with ``Val sGroup``: the value of each group (index 0 =
        group 1); ``value`` is then the active group's value
    """

    ref: str
    fc: str
    btype: str
    value: object | None
    enum_type: str | None = None
    under_struct: bool = False
    sg_values: tuple | None = None

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


#: (address, MinTime ms, MaxTime ms) of a GSE/SMV element
_Address = tuple[SclPhyAddress | None, int | None, int | None]


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
        #: (ldInst, cbName) -> (GSE/SMV element, address, min_time ms, max_time ms) of this IED
        self._addresses = self._read_addresses(root)
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

    def leaves(self, se_twins: bool = False) -> list[Leaf]:
        """All basic-type attributes of all LDs (file/type order).

        :param se_twins: also the FC SE twin of each FC SG attribute of an LD with a
            ``SettingControl`` (right after it; same value and per-group values), as
            libiec61850 and py61850's server expose them (the Rust-based server does not list
            them)
        """
        if not se_twins:
            return list(self._iter_leaves())
        out: list[Leaf] = []
        for lf in self._iter_leaves():
            out.append(lf)
            if lf.fc == "SG" and self.ld(lf.domain).setting_control is not None:
                out.append(dataclasses.replace(lf, fc="SE"))
        return out

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

    def log_controls(self, ld: str) -> list[tuple[str, SclLogControl]]:
        """``(LN name, log control)`` pairs of an LD."""
        return [(ln.name, lc) for ln in self.ld(ld).lns for lc in ln.log_controls]

    def logs(self, ld: str) -> list[str]:
        """The logs (MMS journals) of an LD as ``LN$name``."""
        return [f"{ln.name}${name}" for ln in self.ld(ld).lns for name in ln.logs]

    def gse_controls(self, ld: str) -> list[tuple[str, SclGSEControl]]:
        """``(LN name, GSE control)`` pairs of an LD."""
        return [(ln.name, gc) for ln in self.ld(ld).lns for gc in ln.gse_controls]

    def sv_controls(self, ld: str) -> list[tuple[str, SclSVControl]]:
        """``(LN name, sampled value control)`` pairs of an LD."""
        return [(ln.name, sc) for ln in self.ld(ld).lns for sc in ln.sv_controls]

    def setting_control(self, ld: str) -> SclSettingControl | None:
        """The ``SettingControl`` of an LD (on its LLN0), or None."""
        return self.ld(ld).setting_control

    def sg_leaves(self, ld: str | None = None) -> list[Leaf]:
        """The FC SG leaves (of one LD, or of all), each with its per-group values."""
        return [lf for lf in self._iter_leaves() if lf.fc == "SG" and (ld is None or self.ld(ld) is self.ld(lf.domain))]

    def mms_names(self, ld: str, control_blocks: str = "full", case_sensitive: bool = False,
                  owner: bool = False, setting_groups: bool = True, se_twins: bool = True,
                  sgcb_attributes: tuple[str, ...] = SGCB_ATTRIBUTES, log_blocks: bool = True,
                  gse_blocks: bool = True, lcb_attributes: tuple[str, ...] = LCB_ATTRIBUTES) -> list[str]:
        """The named variables GetNameList(namedVariable, domain) should return, sorted.

        :param ld: MMS domain name (or LD inst)
        :param control_blocks: ``"full"``: ``LN$RP``/``LN$BR``/``LN$LG``/``LN$GO``/``LN$MS``/
            ``LN$US``, each control block and its components (what libiec61850 lists, and
            IEC 61850-8-1); ``"names"``: only the block names ``LN$RP$name01``,
            ``LN$LG$name`` (what the Rust-based server lists); ``"none"``: data only (and the
            SGCB)
        :param case_sensitive: sort by code point (the Rust-based server) instead of
            libiec61850's case-insensitive order (see :func:`mms_sort_key`)
        :param owner: with ``"full"``, every RCB also has the Edition 2 ``Owner`` component
            (py61850's server; libiec61850 1.6 leaves it out)
        :param setting_groups: an LD with a ``SettingControl`` has ``LLN0$SP``,
            ``LLN0$SP$SGCB`` and its components ``sgcb_attributes`` (:data:`SGCB_ATTRIBUTES`;
            the Rust-based server has no ``ResvTms``)
        :param se_twins: with ``setting_groups``, the FC SE twin of every FC SG attribute
            (``LN$SE...``); the Rust-based server lists none
        :param log_blocks: the LCBs (``"full"``: with their components ``lcb_attributes``,
            :data:`LCB_ATTRIBUTES` per IEC 61850-8-1, or :data:`LIBIEC_LCB_ATTRIBUTES`)
        :param gse_blocks: the GoCBs and SVCBs (:data:`GOCB_ATTRIBUTES`,
            :data:`MSVCB_ATTRIBUTES`, :data:`USVCB_ATTRIBUTES`); the Rust-based server has none
        """
        if control_blocks not in ("full", "names", "none"):
            raise ValueError(f"control_blocks={control_blocks!r}")
        names: set[str] = set()
        the_ld = self.ld(ld)
        with_sg = setting_groups and the_ld.setting_control is not None
        for ln in the_ld.lns:
            names.add(ln.name)
            fcs = ln.fcs()
            if with_sg and se_twins and "SG" in fcs:
                fcs = fcs | {"SE"}
            for fc in fcs:
                names.add(f"{ln.name}${fc}")
                for do in ln.dos:
                    do_fcs = do.fcs()
                    if fc in do_fcs:
                        self._add_names(names, f"{ln.name}${fc}${do.name}", do, fc)
                    elif fc == "SE" and "SG" in do_fcs:
                        self._add_names(names, f"{ln.name}$SE${do.name}", do, "SG")
            if with_sg and ln.setting_control is not None:
                names.add(f"{ln.name}$SP")
                names.add(f"{ln.name}$SP$SGCB")
                names.update(f"{ln.name}$SP$SGCB${a}" for a in sgcb_attributes)
            if control_blocks == "none":
                continue
            blocks: list[tuple[str, str, tuple[str, ...]]] = []
            for rc in ln.report_controls:
                for inst in rc.instances():
                    if rc.buffered:
                        blocks.append(("BR", inst, BRCB_ATTRIBUTES + (("Owner",) if owner else ())))
                    else:
                        blocks.append(("RP", inst, URCB_ATTRIBUTES + (("Owner",) if owner else ())))
            if log_blocks:
                blocks += [("LG", lc.name, tuple(lcb_attributes)) for lc in ln.log_controls]
            if gse_blocks:
                blocks += [("GO", gc.name, GOCB_ATTRIBUTES) for gc in ln.gse_controls]
                blocks += [(sc.fc, sc.name, MSVCB_ATTRIBUTES if sc.multicast else USVCB_ATTRIBUTES)
                           for sc in ln.sv_controls]
            for fc, name, attrs in blocks:
                names.add(f"{ln.name}${fc}${name}")
                if control_blocks == "full":
                    names.add(f"{ln.name}${fc}")
                    names.update(f"{ln.name}${fc}${name}${a}" for a in attrs)
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
            yield Leaf(ref, da.fc, da.btype, da.value, enum, under_struct, da.sg_values)

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
            ln.logs = [lg.get("name", "") for lg in el.findall("s:Log", _NS)]
            for lc_el in el.findall("s:LogControl", _NS):
                ln.log_controls.append(self._read_lc(lc_el, ln, inst))
            is_ln0 = tag == "LN0"
            for gc_el in el.findall("s:GSEControl", _NS):
                self._only_ln0(gc_el, is_ln0)
                ln.gse_controls.append(self._read_gc(gc_el, inst))
            for sc_el in el.findall("s:SampledValueControl", _NS):
                self._only_ln0(sc_el, is_ln0)
                ln.sv_controls.append(self._read_sc(sc_el, inst))
            for sgc_el in el.findall("s:SettingControl", _NS):
                self._only_ln0(sgc_el, is_ln0)
                if ln.setting_control is not None:
                    raise SclModelError(f"{_where(self.path, sgc_el)}: a second SettingControl")
                ln.setting_control = self._read_sgc(sgc_el)
            self._check_names(ln, el)
            ld.lns.append(ln)
        self._check_setting_groups(ld, ldev)
        return ld

    # ---- control blocks other than RCBs

    def _only_ln0(self, el: etree._Element, is_ln0: bool) -> None:
        if not is_ln0:
            raise SclModelError(f"{_where(self.path, el)}: allowed on LLN0 only")

    def _check_names(self, ln: SclLN, el: etree._Element) -> None:
        seen: set[tuple[str, str]] = set()
        for name in [*(lc.name for lc in ln.log_controls), *(gc.name for gc in ln.gse_controls),
                     *(sc.name for sc in ln.sv_controls), *ln.logs]:
            if not name:
                raise SclModelError(f"{_where(self.path, el)}: a log or control block without a name")
        for kind, names in (("Log", ln.logs), ("LogControl", [lc.name for lc in ln.log_controls]),
                            ("GSEControl", [gc.name for gc in ln.gse_controls]),
                            ("SampledValueControl", [sc.name for sc in ln.sv_controls])):
            for name in names:
                if (kind, name) in seen:
                    raise SclModelError(f"{_where(self.path, el)}: two <{kind}> named {name!r}")
                seen.add((kind, name))
        datasets = {ds.name for ds in ln.datasets}
        for kind, cbs in (("LogControl", ln.log_controls), ("GSEControl", ln.gse_controls),
                          ("SampledValueControl", ln.sv_controls)):
            for cb in cbs:
                if cb.dataset and cb.dataset not in datasets:
                    raise SclModelError(f"{_where(self.path, el)}: <{kind} {cb.name}> datSet {cb.dataset!r} "
                                        "is not a data set of this LN")

    def _read_lc(self, el: etree._Element, ln: SclLN, ld_inst: str) -> SclLogControl:
        where = _where(self.path, el)
        # the log's LN (schema defaults: this LD, no prefix, LLN0); logs in another LN: not supported
        target = (el.get("ldInst", ld_inst), el.get("prefix", ""), el.get("lnClass", "LLN0"), el.get("lnInst", ""))
        if target != (ld_inst, ln.prefix, ln.ln_class, ln.inst):
            raise SclModelError(f"{where}: a log in another logical node is not supported")
        log_name = el.get("logName")
        if not log_name:
            raise SclModelError(f"{where}: LogControl without logName")
        if log_name not in ln.logs:
            raise SclModelError(f"{where}: logName {log_name!r} is not a <Log> of this LN")
        trg = el.find("s:TrgOps", _NS)
        try:
            return SclLogControl(
                name=el.get("name", ""),
                dataset=el.get("datSet", ""),
                log_name=log_name,
                log_ena=_xs_bool(el.get("logEna", "true")),
                reason_code=_xs_bool(el.get("reasonCode", "true")),
                intg_pd=int(el.get("intgPd", "0")),
                buf_time=int(el.get("bufTime", "0")),
                trg_ops=frozenset(k for k, v in (trg.attrib.items() if trg is not None else []) if _xs_bool(v)),
            )
        except ValueError as exc:
            raise SclModelError(f"{where}: {exc}") from exc

    def _address(self, el: etree._Element, ld_inst: str, kind: str) -> _Address:
        """The GSE/SMV address of a control block (None, None, None when there is none)."""
        return self._addresses.get((kind, ld_inst, el.get("name", "")), (None, None, None))

    def _read_gc(self, el: etree._Element, ld_inst: str) -> SclGSEControl:
        where = _where(self.path, el)
        gse_type = el.get("type", "GOOSE")
        if gse_type != "GOOSE":
            raise SclModelError(f"{where}: GSEControl type {gse_type!r} is not supported (GOOSE only)")
        addr, min_time, max_time = self._address(el, ld_inst, "GSE")
        try:
            return SclGSEControl(
                name=el.get("name", ""),
                dataset=el.get("datSet", ""),
                conf_rev=int(el.get("confRev", "0")),
                app_id=el.get("appID", ""),
                gse_type=gse_type,
                fixed_offs=_xs_bool(el.get("fixedOffs", "false")),
                address=addr,
                min_time=min_time,
                max_time=max_time,
            )
        except ValueError as exc:
            raise SclModelError(f"{where}: {exc}") from exc

    def _read_sc(self, el: etree._Element, ld_inst: str) -> SclSVControl:
        where = _where(self.path, el)
        opts = el.find("s:SmvOpts", _NS)
        opt_fields = 0
        for k, v in (opts.attrib.items() if opts is not None else []):
            if k not in SMV_OPTS_BITS:
                raise SclModelError(f"{where}: unknown SmvOpts attribute {k!r}")
            if _xs_bool(v):
                opt_fields |= 1 << SMV_OPTS_BITS[k]
        smp_mod = el.get("smpMod", "SmpPerPeriod")
        if smp_mod not in SMP_MODS:
            raise SclModelError(f"{where}: unknown smpMod {smp_mod!r}")
        addr, _, _ = self._address(el, ld_inst, "SMV")
        try:
            return SclSVControl(
                name=el.get("name", ""),
                dataset=el.get("datSet", ""),
                conf_rev=int(el.get("confRev", "0")),
                smv_id=el.get("smvID", ""),
                multicast=_xs_bool(el.get("multicast", "true")),
                smp_rate=int(el.get("smpRate", "0")),
                nof_asdu=int(el.get("nofASDU", "0")),
                smp_mod=SMP_MODS[smp_mod],
                opt_fields=opt_fields,
                address=addr,
            )
        except ValueError as exc:
            raise SclModelError(f"{where}: {exc}") from exc

    def _read_sgc(self, el: etree._Element) -> SclSettingControl:
        where = _where(self.path, el)
        try:
            num = int(el.get("numOfSGs", ""))
            act = int(el.get("actSG", "1"))
        except ValueError as exc:
            raise SclModelError(f"{where}: {exc}") from exc
        if num < 1 or not 1 <= act <= num:
            raise SclModelError(f"{where}: numOfSGs={num} actSG={act}")
        return SclSettingControl(num_of_sgs=num, act_sg=act)

    def _check_setting_groups(self, ld: SclLD, ldev: etree._Element) -> None:
        """Per-group values need a SettingControl on the LD and a value for every group; the
        initial value of an FC SG leaf is the active group's."""
        sgc = ld.setting_control

        def walk(node: SclDO | SclDA, ref: str) -> None:
            for ch in node.children:
                if isinstance(ch, SclDO):
                    walk(ch, f"{ref}.{ch.name}")
                elif ch.is_struct:
                    walk(ch, f"{ref}.{ch.name}")
                elif ch.sg_values is not None:
                    where = f"{self.path}: {ld.domain}/{ref}.{ch.name}"
                    if sgc is None:
                        raise SclModelError(f"{where}: Val sGroup without a SettingControl in the LD")
                    if ch.fc != "SG":
                        raise SclModelError(f"{where}: Val sGroup on an attribute with FC {ch.fc} (SG only)")
                    if len(ch.sg_values) != sgc.num_of_sgs or any(v is None for v in ch.sg_values):
                        raise SclModelError(f"{where}: needs a Val for each of the {sgc.num_of_sgs} setting groups")
                    ch.value = ch.sg_values[sgc.act_sg - 1]

        for ln in ld.lns:
            for do in ln.dos:
                walk(do, f"{ln.name}.{do.name}")

    def _read_addresses(self, root: etree._Element) -> dict[tuple[str, str, str], _Address]:
        out: dict[tuple[str, str, str], _Address] = {}
        for cap in root.iterfind("s:Communication/s:SubNetwork/s:ConnectedAP", _NS):
            if cap.get("iedName") != self.ied_name:
                continue
            for kind in ("GSE", "SMV"):
                for el in cap.findall(f"s:{kind}", _NS):
                    key = (kind, el.get("ldInst", ""), el.get("cbName", ""))
                    if key in out:
                        raise SclModelError(f"{_where(self.path, el)}: a second {kind} for {key[1]}/{key[2]}")
                    addr_el = el.find("s:Address", _NS)
                    addr = self._read_phy_address(addr_el) if addr_el is not None else None
                    out[key] = (addr, self._read_ms(el.find("s:MinTime", _NS)),
                                self._read_ms(el.find("s:MaxTime", _NS)))
        return out

    def _read_phy_address(self, el: etree._Element) -> SclPhyAddress:
        ps = {p.get("type"): (p.text or "").strip() for p in el.findall("s:P", _NS)}
        where = _where(self.path, el)
        try:
            mac = bytes(int(x, 16) for x in ps["MAC-Address"].split("-"))
            if len(mac) != 6:
                raise ValueError(f"MAC-Address {ps['MAC-Address']!r}")
            addr = SclPhyAddress(mac=mac, appid=int(ps["APPID"], 16), vlan_id=int(ps.get("VLAN-ID", "0"), 16),
                                 vlan_priority=int(ps.get("VLAN-PRIORITY", "4"), 10))
        except (KeyError, ValueError) as exc:
            raise SclModelError(f"{where}: bad address: {exc}") from exc
        if not (0 <= addr.appid <= 0xFFFF and 0 <= addr.vlan_id <= 0xFFF and 0 <= addr.vlan_priority <= 7):
            raise SclModelError(f"{where}: address out of range: {addr}")
        return addr

    def _read_ms(self, el: etree._Element | None) -> int | None:
        """MinTime/MaxTime in ms (``unit="s"``, multiplier ``m`` or none)."""
        if el is None:
            return None
        where = _where(self.path, el)
        if el.get("unit", "s") != "s" or el.get("multiplier", "m") not in ("m", ""):
            raise SclModelError(f"{where}: only unit s with multiplier m (or none) is supported")
        try:
            v = float((el.text or "").strip())
        except ValueError as exc:
            raise SclModelError(f"{where}: {exc}") from exc
        return round(v if el.get("multiplier", "m") == "m" else v * 1000)

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
        dai = inst_values.get(path)
        vals = dai.findall("s:Val", _NS) if dai is not None else []
        if not vals:
            vals = el.findall("s:Val", _NS)
        plain = [v for v in vals if v.get("sGroup") is None]
        grouped = [v for v in vals if v.get("sGroup") is not None]
        if len(plain) > 1:
            raise SclModelError(f"{_where(self.path, plain[1])}: more than one Val without sGroup")
        if plain:
            da.value = self._convert(plain[0], btype, da.type_id)
        if grouped:
            if plain:
                raise SclModelError(f"{_where(self.path, plain[0])}: Val with and without sGroup")
            by_group: dict[int, object] = {}
            for v in grouped:
                try:
                    g = int(v.get("sGroup", ""))
                except ValueError:
                    g = 0
                if g < 1 or g in by_group:
                    raise SclModelError(f"{_where(self.path, v)}: bad or repeated sGroup {v.get('sGroup')!r}")
                by_group[g] = self._convert(v, btype, da.type_id)
            da.sg_values = tuple(by_group.get(g) for g in range(1, max(by_group) + 1))
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
