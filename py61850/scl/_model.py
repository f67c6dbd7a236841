"""The resolved, instantiated model of one IED / access point.

These dataclasses are what a server builder consumes: logical devices (MMS
domains), logical nodes, data objects and data attributes in template order
(the MMS component order), with functional constraints, initial values, data
sets and control blocks. They come from :meth:`SclDocument.model` or from
:meth:`IedModel.from_dict` (the same checks run on both paths).
"""

from __future__ import annotations

import logging
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from typing import Any, Callable, ClassVar, Iterator, Mapping, Union

from ._btypes import BTYPES, FCS, ValueProblem, check_python
from ._errors import SclError, SclErrorKind

log = logging.getLogger("py61850.scl")

__all__ = [
    "TriggerOptions", "OptionalFields", "DataAttribute", "DataObject", "FCDA", "DataSet",
    "ReportControl", "LogControl", "GSEControl", "SVControl", "SettingControl",
    "LogicalNode", "LogicalDevice", "IedModel",
]

#: Longest MMS domain / item name (Ed2; Ed1 allowed 32).
MAX_MMS_NAME = 64


# --------------------------------------------------------------------------- options

@dataclass
class TriggerOptions:
    """Trigger conditions of a report or log control block (SCL ``TrgOps``)."""

    dchg: bool = False
    qchg: bool = False
    dupd: bool = False
    period: bool = False
    gi: bool = True

    _BITS: ClassVar[tuple[tuple[str, int], ...]] = (
        ("dchg", 1), ("qchg", 2), ("dupd", 3), ("period", 4), ("gi", 5))

    def bit_mask(self) -> int:
        """TrgOps as an integer: IEC bit *n* (bit 0 = first bit on the wire) is ``1 << n``.

        dchg = bit 1, qchg = 2, dupd = 3, integrity (period) = 4, GI = 5.
        """
        return sum(1 << b for n, b in self._BITS if getattr(self, n))

    def names(self) -> list[str]:
        """The set flags, in bit order (e.g. ``["dchg", "qchg", "gi"]``)."""
        return [n for n, _ in self._BITS if getattr(self, n)]


@dataclass
class OptionalFields:
    """Optional report fields of a report control block (SCL ``OptFields``)."""

    seq_num: bool = False
    time_stamp: bool = False
    reason_code: bool = False
    data_set: bool = False
    data_ref: bool = False
    buf_ovfl: bool = False
    entry_id: bool = False
    config_ref: bool = False
    segmentation: bool = False

    _BITS: ClassVar[tuple[tuple[str, int], ...]] = (
        ("seq_num", 1), ("time_stamp", 2), ("reason_code", 3), ("data_set", 4),
        ("data_ref", 5), ("buf_ovfl", 6), ("entry_id", 7), ("config_ref", 8),
        ("segmentation", 9))

    def bit_mask(self) -> int:
        """OptFlds as an integer: IEC bit *n* is ``1 << n`` (sequence-number = bit 1 ... segmentation = 9)."""
        return sum(1 << b for n, b in self._BITS if getattr(self, n))

    def names(self) -> list[str]:
        """The set flags, in bit order."""
        return [n for n, _ in self._BITS if getattr(self, n)]


# --------------------------------------------------------------------------- data

@dataclass
class DataAttribute:
    """A data attribute (DA), or a component of a constructed one (BDA).

    :ivar name: attribute name (``stVal``, ``mag``, ``f``...).
    :ivar fc: functional constraint; components of a Struct carry their parent's FC.
    :ivar btype: SCL basic type (``BOOLEAN``, ``INT32``, ``FLOAT32``, ``Enum``, ``Struct``, ``Quality``...).
    :ivar type: DAType id (Struct) or EnumType id (Enum), else ``None``.
    :ivar count: array size (0 = not an array); ``children``/``value`` describe one element.
    :ivar children: components of a Struct, in DAType order.
    :ivar value: initial value (``Val``), converted: bool (BOOLEAN), int (INTn, INTnU; Enum,
        Dbpos and Tcmd as their ordinal), float (FLOAT32/64), str (VisString*, Unicode255,
        ObjRef, and the raw text of Quality, Check, EntryTime, ...), bytes (Octet*: the Val
        text UTF-8 encoded), a UTC :class:`datetime.datetime` (Timestamp; a Val without
        offset is taken as UTC); a list (``None`` for unset elements) for arrays;
        ``None`` = the type's default.
        For attributes with ``sgroup_values`` it is the active group's value.
    :ivar value_text: the literal the value came from (the EnumVal text for enumerations).
    :ivar sgroup_values: per setting group values ``{group: value}`` from ``Val sGroup="n"``.
    :ivar dchg: data-change trigger (components inherit their parent's flags).
    :ivar qchg: quality-change trigger.
    :ivar dupd: data-update trigger.
    :ivar value_kind: SCL ``valKind`` (``Spec``, ``Conf``, ``RO``, ``Set``; default ``Set``).
    :ivar val_import: SCL ``valImport``.
    :ivar s_addr: SCL ``sAddr`` (short address), if any.
    """

    KIND: ClassVar[str] = "DA"

    name: str
    fc: str
    btype: str
    type: str | None = None
    count: int = 0
    children: list[DataAttribute] = field(default_factory=list)
    value: Any = None
    value_text: str | None = None
    sgroup_values: dict[int, Any] = field(default_factory=dict)
    dchg: bool = False
    qchg: bool = False
    dupd: bool = False
    value_kind: str = "Set"
    val_import: bool = False
    s_addr: str | None = None
    desc: str | None = None

    def child(self, name: str) -> DataAttribute:
        """The component called ``name``.

        :raises KeyError: if there is none.
        """
        for c in self.children:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def is_struct(self) -> bool:
        """True for a constructed attribute (``bType="Struct"``)."""
        return self.btype == "Struct"


@dataclass
class DataObject:
    """A data object (DO) or sub data object (SDO).

    :ivar children: SDOs (:class:`DataObject`) and DAs (:class:`DataAttribute`) in DOType order.
    :ivar count: array size for SDO arrays (Ed2.1), else 0.
    """

    KIND: ClassVar[str] = "DO"

    name: str
    cdc: str | None = None
    type: str | None = None
    children: list[DataObject | DataAttribute] = field(default_factory=list)
    count: int = 0
    transient: bool = False
    desc: str | None = None

    def child(self, name: str) -> DataObject | DataAttribute:
        """The SDO or DA called ``name``.

        :raises KeyError: if there is none.
        """
        for c in self.children:
            if c.name == name:
                return c
        raise KeyError(name)

    def iter_attributes(self, prefix: str = "") -> Iterator[tuple[str, DataAttribute]]:
        """Every DA below this DO (depth first, template order) as ``(dotted path, DA)``.

        Paths are relative to this DO (``"stVal"``, ``"mag.f"``, ``"phsA.cVal.mag.f"``).
        """
        for c in self.children:
            path = f"{prefix}{c.name}"
            if isinstance(c, DataObject):
                yield from c.iter_attributes(path + ".")
            else:
                yield path, c
                yield from _iter_components(c, path + ".")

    def fcs(self) -> list[str]:
        """The functional constraints present below this DO, sorted."""
        return sorted({da.fc for _, da in self.iter_attributes()})


def _iter_components(da: DataAttribute, prefix: str) -> Iterator[tuple[str, DataAttribute]]:
    for c in da.children:
        yield f"{prefix}{c.name}", c
        yield from _iter_components(c, f"{prefix}{c.name}.")


@dataclass
class FCDA:
    """A data set member (functionally constrained data / data attribute).

    ``do_name`` may contain dots for SDOs (``A.phsA``), ``da_name`` for components
    (``mag.f``); ``da_name`` is ``None`` for a whole-DO member (FCD). ``domain`` is
    filled in when the model is resolved (the MMS domain of ``ld_inst``).
    """

    ld_inst: str
    ln_class: str
    fc: str
    do_name: str
    prefix: str = ""
    ln_inst: str = ""
    da_name: str | None = None
    ix: int | None = None
    domain: str = ""

    @property
    def ln_name(self) -> str:
        """``prefix + lnClass + lnInst`` (``GGIO1``)."""
        return f"{self.prefix}{self.ln_class}{self.ln_inst}"

    @property
    def mms_domain(self) -> str:
        """MMS domain (logical device name) of the member."""
        return self.domain

    @property
    def mms_item(self) -> str:
        """MMS item name ``LN$FC$DO[$SDO][$DA...]`` (``GGIO1$ST$Ind1$stVal``)."""
        parts = [self.ln_name, self.fc, *self.do_name.split(".")]
        if self.da_name:
            parts.extend(self.da_name.split("."))
        return "$".join(parts)

    @property
    def reference(self) -> str:
        """ACSI object reference ``LD/LN.DO.DA`` (without the FC)."""
        ref = f"{self.domain}/{self.ln_name}.{self.do_name}"
        return f"{ref}.{self.da_name}" if self.da_name else ref


@dataclass
class DataSet:
    """A persistent data set of a logical node (MMS named variable list ``LN$name``)."""

    name: str
    members: list[FCDA] = field(default_factory=list)
    desc: str | None = None


# --------------------------------------------------------------------------- control blocks

@dataclass
class ReportControl:
    """A report control block as configured (SCL ``ReportControl``).

    ``instance_names`` are the RCB instances a server exposes. With ``indexed``
    (the default) they are ``name01`` .. ``nameNN`` for ``max_instances`` = NN
    (``RptEnabled max``, default 1), so ``max 1`` still gives ``name01``: the
    IEC 61850-6 Ed2 rule and the libiec61850 convention. With ``indexed=False``
    the single instance is called ``name``.

    ``dataset_ref`` is the DatSet value a server reports (``IEDLD/LLN0$Events``),
    filled in at resolution.
    """

    name: str
    dataset: str | None = None
    buffered: bool = False
    rpt_id: str | None = None
    conf_rev: int = 0
    buf_time: int = 0
    intg_pd: int = 0
    trg_ops: TriggerOptions = field(default_factory=TriggerOptions)
    opt_fields: OptionalFields = field(default_factory=OptionalFields)
    indexed: bool = True
    max_instances: int = 1
    instance_names: list[str] = field(default_factory=list)
    client_lns: list[str] = field(default_factory=list)
    desc: str | None = None
    dataset_ref: str | None = None

    @property
    def fc(self) -> str:
        """``BR`` for a buffered RCB, ``RP`` for an unbuffered one."""
        return "BR" if self.buffered else "RP"


@dataclass
class LogControl:
    """A log control block (SCL ``LogControl``); the log is ``log_ref`` (``LD/LN$logName``)."""

    name: str
    log_name: str
    dataset: str | None = None
    intg_pd: int = 0
    buf_time: int = 0
    log_ena: bool = True
    reason_code: bool = True
    trg_ops: TriggerOptions = field(default_factory=TriggerOptions)
    ld_inst: str | None = None
    prefix: str = ""
    ln_class: str = "LLN0"
    ln_inst: str = ""
    desc: str | None = None
    dataset_ref: str | None = None
    log_ref: str | None = None


@dataclass
class GSEControl:
    """A GOOSE (or GSSE) control block; ``address`` holds the Communication ``GSE`` P values."""

    name: str
    app_id: str
    dataset: str | None = None
    conf_rev: int = 0
    type: str = "GOOSE"
    fixed_offs: bool = False
    security_enable: str | None = None
    ied_names: list[str] = field(default_factory=list)
    address: dict[str, str] = field(default_factory=dict)
    min_time: int | None = None
    max_time: int | None = None
    desc: str | None = None
    dataset_ref: str | None = None


@dataclass
class SVControl:
    """A sampled value control block; ``address`` holds the Communication ``SMV`` P values."""

    name: str
    smv_id: str
    dataset: str | None = None
    conf_rev: int = 0
    multicast: bool = True
    smp_rate: int = 0
    nof_asdu: int = 0
    smp_mod: str = "SmpPerPeriod"
    security_enable: str | None = None
    opts: dict[str, bool] = field(default_factory=dict)
    address: dict[str, str] = field(default_factory=dict)
    desc: str | None = None
    dataset_ref: str | None = None


@dataclass
class SettingControl:
    """The setting group control block of an LLN0 (``LLN0$SP$SGCB``)."""

    num_of_sgs: int
    act_sg: int = 1
    resv_tms: int | None = None
    desc: str | None = None


# --------------------------------------------------------------------------- containers

@dataclass
class LogicalNode:
    """A logical node instance; ``name`` is ``prefix + ln_class + inst`` (``LLN0`` for LN0)."""

    ln_class: str
    inst: str = ""
    prefix: str = ""
    ln_type: str | None = None
    desc: str | None = None
    data_objects: list[DataObject] = field(default_factory=list)
    data_sets: list[DataSet] = field(default_factory=list)
    report_controls: list[ReportControl] = field(default_factory=list)
    log_controls: list[LogControl] = field(default_factory=list)
    gse_controls: list[GSEControl] = field(default_factory=list)
    sv_controls: list[SVControl] = field(default_factory=list)
    setting_control: SettingControl | None = None
    logs: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The LN name used in MMS item names (``GGIO1``, ``LLN0``)."""
        return f"{self.prefix}{self.ln_class}{self.inst}"

    def data_object(self, name: str) -> DataObject:
        """The DO called ``name``.

        :raises KeyError: if there is none.
        """
        for d in self.data_objects:
            if d.name == name:
                return d
        raise KeyError(name)

    def data_set(self, name: str) -> DataSet:
        """The data set called ``name``.

        :raises KeyError: if there is none.
        """
        for d in self.data_sets:
            if d.name == name:
                return d
        raise KeyError(name)


@dataclass
class LogicalDevice:
    """A logical device; ``domain_name`` (its MMS domain) is ``ld_name`` or IED name + ``inst``."""

    inst: str
    ld_name: str | None = None
    domain_name: str = ""
    desc: str | None = None
    logical_nodes: list[LogicalNode] = field(default_factory=list)

    def logical_node(self, name: str) -> LogicalNode:
        """The LN called ``name`` (``LLN0``, ``GGIO1``).

        :raises KeyError: if there is none.
        """
        for ln in self.logical_nodes:
            if ln.name == name:
                return ln
        raise KeyError(name)


@dataclass
class IedModel:
    """The instantiated data model of one IED's server (one access point).

    :ivar name: IED name.
    :ivar access_point: the access point the model was taken from.
    :ivar ip: IP address from the Communication section (``None`` if absent).
    :ivar port: MMS port from ``P type="MMS-Port"`` (``None``: the default, 102).
    :ivar enum_types: every EnumType of the document, ``{id: {ord: literal}}``.
    :ivar source: file the model came from (``None`` for a dict spec).
    :ivar edition: SCL edition of the document the model came from (``"1"``,
        ``"2"``, ``"2.1"``, as :attr:`SclDocument.edition`); ``None`` when unknown
        (a dict spec without it). Servers expose the Edition 1 form of report
        control blocks (no ``Owner``/``ResvTms``) only for ``"1"``.
    """

    name: str
    logical_devices: list[LogicalDevice] = field(default_factory=list)
    access_point: str | None = None
    desc: str | None = None
    manufacturer: str | None = None
    ied_type: str | None = None
    config_version: str | None = None
    ip: str | None = None
    port: int | None = None
    enum_types: dict[str, dict[int, str]] = field(default_factory=dict)
    source: str | None = None
    edition: str | None = None

    def logical_device(self, inst_or_domain: str) -> LogicalDevice:
        """The LD with this ``inst`` or MMS domain name.

        :raises KeyError: if there is none.
        """
        for ld in self.logical_devices:
            if ld.inst == inst_or_domain or ld.domain_name == inst_or_domain:
                return ld
        raise KeyError(inst_or_domain)

    def find(self, reference: str) -> LogicalNode | DataObject | DataAttribute:
        """Look up ``LD/LN[.DO[.SDO][.DA[.BDA]]]``; ``LD`` is an inst or a domain name.

        :raises KeyError: if a part does not exist.
        """
        ld_part, _, rest = reference.partition("/")
        if not rest:
            raise KeyError(reference)
        ld = self.logical_device(ld_part)
        parts = rest.split(".")
        node: Any = ld.logical_node(parts[0])
        for p in parts[1:]:
            node = node.data_object(p) if isinstance(node, LogicalNode) else node.child(p)
        assert isinstance(node, (LogicalNode, DataObject, DataAttribute))
        return node

    def summary(self) -> str:
        """Canonical text summary (see :meth:`SclDocument.summary`)."""
        from ._summary import model_summary
        return "\n".join(model_summary(self, indent=0)) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict of the model (DOs/DAs tagged ``"kind": "DO"/"DA"``).

        ``IedModel.from_dict(m.to_dict()) == m``. Values stay Python values, so the
        dict is JSON-serialisable unless it holds bytes (Octet*) or datetimes
        (Timestamp); :meth:`from_dict` also accepts their SCL text forms.
        """
        out = _to_plain(self)
        assert isinstance(out, dict)
        return out

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> IedModel:
        """Build and check a model from a dict shaped like :meth:`to_dict`'s output.

        Only ``name`` is required at the top; every omitted field takes its
        default; derived fields (``domain_name``, ``instance_names``, ``dataset_ref``,
        ``FCDA.domain``...) are computed. An item of a DO's ``children`` is a DA
        if it has ``"kind": "DA"`` or a ``btype`` key. Values may be Python values
        or SCL literals (strings), and are checked against the ``btype``.

        :raises SclError: kinds ``InvalidSpec``, ``MissingAttribute``, ``DuplicateName``,
            ``UnresolvedReference``, ``InvalidValue``, ``InvalidAttribute``,
            ``MissingElement``; ``file`` is ``"<dict>"`` and ``element_path`` a path
            like ``logical_devices[0].logical_nodes[1].data_objects[0]``.
        """
        model: IedModel = _build(cls, spec, "")
        if model.port is not None and not 0 < model.port < 65536:
            raise _dict_error(model, SclErrorKind.INVALID_VALUE,
                              f"port {model.port} is out of range", "port")
        resolve_model(model, _dict_error, check_values=True)
        return model


# --------------------------------------------------------------------------- to_dict / from_dict

def _to_plain(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        d: dict[str, Any] = {}
        if isinstance(obj, (DataObject, DataAttribute)):
            d["kind"] = obj.KIND
        if isinstance(obj, LogicalNode):
            d["name"] = obj.name
        for f in fields(obj):
            d[f.name] = _to_plain(getattr(obj, f.name))
        return d
    if isinstance(obj, list):
        return [_to_plain(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _to_plain(v) for k, v in obj.items()}
    return obj


def _spec_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _dict_error(obj: Any, kind: SclErrorKind, message: str,
                attribute: str | None = None) -> SclError:
    path = obj if isinstance(obj, str) else getattr(obj, "_src", None)
    if not isinstance(path, str):
        path = None
    return SclError(message, kind=kind, file="<dict>", element_path=path or "<root>",
                    attribute=attribute)


_TYPE_NAMES = {bool: "a bool", int: "an int", float: "a number", str: "a str"}


def _convert(tp: Any, v: Any, path: str, attr: str) -> Any:
    if tp is Any:
        return v
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if v is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        if set(non_none) == {DataObject, DataAttribute}:
            if not isinstance(v, Mapping):
                raise _dict_error(path, SclErrorKind.INVALID_SPEC, "expected a dict")
            kind = v.get("kind")
            if kind is None:
                kind = "DA" if "btype" in v else "DO"
            if kind not in ("DO", "DA"):
                raise _dict_error(path, SclErrorKind.INVALID_SPEC,
                                  f"kind must be 'DO' or 'DA', not {kind!r}", "kind")
            return _build(DataAttribute if kind == "DA" else DataObject, v, path)
        if len(non_none) == 1:
            return _convert(non_none[0], v, path, attr)
        raise _dict_error(path, SclErrorKind.INVALID_SPEC, f"unsupported type {tp}")
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(v, (list, tuple)):
            raise _dict_error(path, SclErrorKind.INVALID_SPEC, "expected a list", attr)
        return [_convert(item, x, _spec_path(path, i), attr) for i, x in enumerate(v)]
    if origin is dict:
        kt, vt = typing.get_args(tp)
        if not isinstance(v, Mapping):
            raise _dict_error(path, SclErrorKind.INVALID_SPEC, "expected a dict", attr)
        out = {}
        for k, x in v.items():
            if kt is int and isinstance(k, str):
                try:
                    k = int(k)
                except ValueError:
                    raise _dict_error(path, SclErrorKind.INVALID_SPEC,
                                      f"key {k!r} is not an integer", attr) from None
            elif kt is int and (isinstance(k, bool) or not isinstance(k, int)):
                raise _dict_error(path, SclErrorKind.INVALID_SPEC,
                                  f"key {k!r} is not an integer", attr)
            elif kt is str and not isinstance(k, str):
                raise _dict_error(path, SclErrorKind.INVALID_SPEC, f"key {k!r} is not a str", attr)
            out[k] = _convert(vt, x, _spec_path(path, str(k)), attr)
        return out
    if isinstance(tp, type) and is_dataclass(tp):
        return _build(tp, v, path)
    if tp in _TYPE_NAMES:
        ok = isinstance(v, tp) and not (tp is int and isinstance(v, bool))
        if tp is float and isinstance(v, int) and not isinstance(v, bool):
            ok, v = True, float(v)
        if not ok:
            raise _dict_error(path, SclErrorKind.INVALID_SPEC,
                              f"{attr} must be {_TYPE_NAMES[tp]}, not {v!r}", attr)
        return v
    raise _dict_error(path, SclErrorKind.INVALID_SPEC, f"unsupported type {tp}")  # pragma: no cover


_HINTS: dict[type, dict[str, Any]] = {}


def _build(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, Mapping):
        raise _dict_error(path, SclErrorKind.INVALID_SPEC,
                          f"expected a dict for {cls.__name__}, not {type(data).__name__}")
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls) if f.init}
    extra = set(data) - set(known)
    if cls in (DataObject, DataAttribute):
        extra.discard("kind")
    if cls is LogicalNode:
        extra.discard("name")
    if extra:
        raise _dict_error(path, SclErrorKind.INVALID_SPEC,
                          f"unknown key(s) for {cls.__name__}: {', '.join(sorted(map(str, extra)))}",
                          sorted(map(str, extra))[0])
    kwargs = {}
    for name, f in known.items():
        if name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise _dict_error(path, SclErrorKind.MISSING_ATTRIBUTE,
                                  f"{cls.__name__} needs {name!r}", name)
            continue
        kwargs[name] = _convert(hints[name], data[name], _spec_path(path, name), name)
    obj = cls(**kwargs)
    object.__setattr__(obj, "_src", path or "<root>")
    if cls is LogicalNode and "name" in data and data["name"] != obj.name:
        raise _dict_error(path, SclErrorKind.INVALID_SPEC,
                          f"name {data['name']!r} does not match prefix+ln_class+inst {obj.name!r}",
                          "name")
    return obj


# --------------------------------------------------------------------------- resolution

ErrorFactory = Callable[..., SclError]


def _check_name(err: ErrorFactory, obj: Any, name: str, what: str, attr: str = "name") -> None:
    if not name:
        raise err(obj, SclErrorKind.MISSING_ATTRIBUTE, f"{what} without a name", attr)
    if len(name) > MAX_MMS_NAME:
        raise err(obj, SclErrorKind.INVALID_ATTRIBUTE,
                  f"{what} name {name!r} is longer than {MAX_MMS_NAME} characters", attr)
    if "$" in name or "." in name or "/" in name or " " in name:
        raise err(obj, SclErrorKind.INVALID_ATTRIBUTE,
                  f"{what} name {name!r} contains a character not allowed in MMS names", attr)


def _unique(err: ErrorFactory, items: list[Any], key: Callable[[Any], str], what: str,
            attr: str = "name") -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for it in items:
        k = key(it)
        if k in seen:
            raise err(it, SclErrorKind.DUPLICATE_NAME, f"duplicate {what} {k!r}", attr)
        seen[k] = it
    return seen


def _check_da(err: ErrorFactory, da: DataAttribute, enums: Mapping[str, dict[int, str]],
              check_values: bool, sg_count: int | None, depth: int) -> None:
    if depth > 32:
        raise err(da, SclErrorKind.CYCLIC_TYPE_REFERENCE, "attributes nested more than 32 levels")
    if not da.name:
        raise err(da, SclErrorKind.MISSING_ATTRIBUTE, "attribute without a name", "name")
    if da.fc not in FCS:
        raise err(da, SclErrorKind.INVALID_ATTRIBUTE, f"unknown functional constraint {da.fc!r}", "fc")
    if da.btype not in BTYPES:
        raise err(da, SclErrorKind.INVALID_ATTRIBUTE, f"unknown bType {da.btype!r}", "btype")
    if da.count < 0:
        raise err(da, SclErrorKind.INVALID_ATTRIBUTE, "count must be >= 0", "count")
    if da.btype == "Struct":
        if not da.children:
            raise err(da, SclErrorKind.MISSING_ELEMENT, f"Struct attribute {da.name!r} has no components")
    elif da.children:
        raise err(da, SclErrorKind.INVALID_SPEC, f"{da.btype} attribute {da.name!r} cannot have components")
    _unique(err, da.children, lambda c: c.name, "attribute")
    if check_values:
        enum: dict[str, int] | None = None
        if da.btype == "Enum" and da.type is not None:
            if da.type not in enums:
                raise err(da, SclErrorKind.MISSING_TEMPLATE, f"EnumType {da.type!r} not found", "type")
            enum = {lit: o for o, lit in enums[da.type].items()}
        try:
            if da.count and isinstance(da.value, list):
                if len(da.value) > da.count:
                    raise ValueProblem(f"{len(da.value)} values for an array of {da.count}")
                da.value = [check_python(da.btype, v, enum) for v in da.value]
            else:
                da.value = check_python(da.btype, da.value, enum)
            da.sgroup_values = {g: check_python(da.btype, v, enum) for g, v in da.sgroup_values.items()}
        except ValueProblem as exc:
            raise err(da, SclErrorKind.INVALID_VALUE, str(exc), "value") from None
    if da.sgroup_values:
        if da.fc not in ("SG", "SE"):
            log.warning("%s: setting group values on %s (FC %s, not SG)", getattr(da, "_src", ""),
                        da.name, da.fc)
        for g in da.sgroup_values:
            if g < 1 or (sg_count is not None and g > sg_count):
                raise err(da, SclErrorKind.INVALID_VALUE,
                          f"setting group {g} outside 1..{sg_count or '?'}", "sGroup")
    for c in da.children:
        _check_da(err, c, enums, check_values, sg_count, depth + 1)


def _check_do(err: ErrorFactory, do: DataObject, enums: Mapping[str, dict[int, str]],
              check_values: bool, sg_count: int | None, depth: int) -> None:
    if depth > 32:
        raise err(do, SclErrorKind.CYCLIC_TYPE_REFERENCE, "data objects nested more than 32 levels")
    _check_name(err, do, do.name, "data object")
    _unique(err, do.children, lambda c: c.name, "SDO/DA")
    for c in do.children:
        if isinstance(c, DataObject):
            _check_do(err, c, enums, check_values, sg_count, depth + 1)
        else:
            _check_da(err, c, enums, check_values, sg_count, depth + 1)


def _has_fc(node: DataObject | DataAttribute, fc: str) -> bool:
    if isinstance(node, DataAttribute):
        return node.fc == fc
    return any(da.fc == fc for _, da in node.iter_attributes())


def _resolve_fcda(err: ErrorFactory, model: IedModel, here: LogicalDevice, m: FCDA) -> None:
    ld_inst = m.ld_inst or here.inst
    try:
        ld = next(x for x in model.logical_devices if x.inst == ld_inst)
    except StopIteration:
        raise err(m, SclErrorKind.UNRESOLVED_REFERENCE,
                  f"data set member: no logical device {ld_inst!r}", "ldInst") from None
    m.ld_inst = ld_inst
    m.domain = ld.domain_name
    if m.fc not in FCS:
        raise err(m, SclErrorKind.INVALID_ATTRIBUTE, f"unknown functional constraint {m.fc!r}", "fc")
    try:
        ln = ld.logical_node(m.ln_name)
    except KeyError:
        raise err(m, SclErrorKind.UNRESOLVED_REFERENCE,
                  f"data set member: no logical node {m.ln_name!r} in {ld_inst!r}", "lnClass") from None
    if not m.do_name:
        raise err(m, SclErrorKind.MISSING_ATTRIBUTE, "data set member without doName", "doName")
    node: DataObject | DataAttribute
    do_parts = m.do_name.split(".")
    try:
        node = ln.data_object(do_parts[0])
        for p in do_parts[1:]:
            node = node.child(p)
            if not isinstance(node, DataObject):
                raise KeyError(p)
    except KeyError:
        raise err(m, SclErrorKind.UNRESOLVED_REFERENCE,
                  f"data set member: no data object {m.do_name!r} in {m.ln_name}", "doName") from None
    if m.da_name:
        try:
            for p in m.da_name.split("."):
                node = node.child(p)
            if not isinstance(node, DataAttribute):
                raise KeyError(m.da_name)
        except KeyError:
            raise err(m, SclErrorKind.UNRESOLVED_REFERENCE,
                      f"data set member: no attribute {m.da_name!r} in {m.ln_name}.{m.do_name}",
                      "daName") from None
    if not _has_fc(node, m.fc):
        raise err(m, SclErrorKind.UNRESOLVED_REFERENCE,
                  f"data set member {m.ln_name}.{m.do_name}{'.' + m.da_name if m.da_name else ''}"
                  f" has no attribute with FC {m.fc}", "fc")


def _check_dataset_ref(err: ErrorFactory, cb: Any, ln: LogicalNode, ld: LogicalDevice,
                       datasets: Mapping[str, DataSet]) -> None:
    if cb.dataset:
        if cb.dataset not in datasets:
            raise err(cb, SclErrorKind.UNRESOLVED_REFERENCE,
                      f"control block {cb.name!r}: no data set {cb.dataset!r} in {ln.name}", "datSet")
        cb.dataset_ref = f"{ld.domain_name}/{ln.name}${cb.dataset}"
    else:
        cb.dataset_ref = None


def resolve_model(model: IedModel, err: ErrorFactory, *, check_values: bool) -> None:
    """Check a model's invariants and fill in its derived fields.

    :param err: ``err(obj, kind, message, attribute=None) -> SclError`` locating ``obj``.
    :param check_values: also check every value against its bType (the SCL path has
        already converted them).
    """
    _check_name(err, model, model.name, "IED")
    _unique(err, model.logical_devices, lambda ld: ld.inst, "logical device inst", "inst")
    domains: dict[str, LogicalDevice] = {}
    for ld in model.logical_devices:
        if not ld.inst and not ld.ld_name:
            raise err(ld, SclErrorKind.MISSING_ATTRIBUTE, "logical device without inst", "inst")
        ld.domain_name = ld.ld_name or model.name + ld.inst
        _check_name(err, ld, ld.domain_name, "logical device (MMS domain)",
                    "ldName" if ld.ld_name else "inst")
        if ld.domain_name in domains:
            raise err(ld, SclErrorKind.DUPLICATE_NAME,
                      f"duplicate logical device name (MMS domain) {ld.domain_name!r}",
                      "ldName" if ld.ld_name else "inst")
        domains[ld.domain_name] = ld
        if not ld.logical_nodes or ld.logical_nodes[0].ln_class != "LLN0":
            raise err(ld, SclErrorKind.MISSING_ELEMENT,
                      f"logical device {ld.inst!r} must start with LLN0")
        _unique(err, ld.logical_nodes, lambda ln: ln.name, "logical node", "lnClass")
        lln0 = ld.logical_nodes[0]
        sg_count = lln0.setting_control.num_of_sgs if lln0.setting_control else None
        for ln in ld.logical_nodes:
            if not ln.ln_class:
                raise err(ln, SclErrorKind.MISSING_ATTRIBUTE, "logical node without lnClass", "lnClass")
            _check_name(err, ln, ln.name, "logical node", "lnClass")
            if ln.setting_control is not None:
                sgc = ln.setting_control
                if ln is not lln0:
                    raise err(ln, SclErrorKind.INVALID_SPEC, "a SettingControl belongs in LLN0 only")
                if sgc.num_of_sgs < 1:
                    raise err(sgc, SclErrorKind.INVALID_ATTRIBUTE, "numOfSGs must be >= 1", "numOfSGs")
                if not 1 <= sgc.act_sg <= sgc.num_of_sgs:
                    raise err(sgc, SclErrorKind.INVALID_ATTRIBUTE,
                              f"actSG {sgc.act_sg} outside 1..{sgc.num_of_sgs}", "actSG")
            _unique(err, ln.data_objects, lambda d: d.name, "data object")
            for do in ln.data_objects:
                _check_do(err, do, model.enum_types, check_values, sg_count, 0)
    for ld in model.logical_devices:
        for ln in ld.logical_nodes:
            _resolve_ln_blocks(err, model, ld, ln)


def _resolve_ln_blocks(err: ErrorFactory, model: IedModel, ld: LogicalDevice,
                       ln: LogicalNode) -> None:
    datasets = _unique(err, ln.data_sets, lambda d: d.name, "data set")
    for ds in ln.data_sets:
        _check_name(err, ds, ds.name, "data set")
        for m in ds.members:
            _resolve_fcda(err, model, ld, m)
    _unique(err, ln.report_controls, lambda c: c.name, "report control")
    instances: dict[str, ReportControl] = {}
    for rc in ln.report_controls:
        _check_name(err, rc, rc.name, "report control")
        if rc.max_instances < 1 or rc.max_instances > 99:
            raise err(rc, SclErrorKind.INVALID_ATTRIBUTE,
                      f"RptEnabled max {rc.max_instances} outside 1..99", "max")
        if not rc.indexed and rc.max_instances > 1:
            raise err(rc, SclErrorKind.INVALID_ATTRIBUTE,
                      f"report control {rc.name!r}: indexed=false allows one instance, not "
                      f"{rc.max_instances}", "indexed")
        if not rc.instance_names:
            rc.instance_names = ([f"{rc.name}{i:02d}" for i in range(1, rc.max_instances + 1)]
                                 if rc.indexed else [rc.name])
        for inst in rc.instance_names:
            _check_name(err, rc, inst, "report control instance")
            if inst in instances:
                raise err(rc, SclErrorKind.DUPLICATE_NAME,
                          f"report control instance {inst!r} defined twice in {ln.name}", "name")
            instances[inst] = rc
        _check_dataset_ref(err, rc, ln, ld, datasets)
    _unique(err, ln.log_controls, lambda c: c.name, "log control")
    for lc in ln.log_controls:
        _check_name(err, lc, lc.name, "log control")
        _check_dataset_ref(err, lc, ln, ld, datasets)
        if not lc.log_name:
            raise err(lc, SclErrorKind.MISSING_ATTRIBUTE, "log control without logName", "logName")
        target_inst = lc.ld_inst or ld.inst
        target = next((x for x in model.logical_devices if x.inst == target_inst), None)
        if target is None:
            raise err(lc, SclErrorKind.UNRESOLVED_REFERENCE,
                      f"log control {lc.name!r}: no logical device {target_inst!r}", "ldInst")
        lc.log_ref = f"{target.domain_name}/{lc.prefix}{lc.ln_class}{lc.ln_inst}${lc.log_name}"
    _unique(err, ln.gse_controls, lambda c: c.name, "GSE control")
    for gc in ln.gse_controls:
        _check_name(err, gc, gc.name, "GSE control")
        _check_dataset_ref(err, gc, ln, ld, datasets)
    _unique(err, ln.sv_controls, lambda c: c.name, "sampled value control")
    for sc in ln.sv_controls:
        _check_name(err, sc, sc.name, "sampled value control")
        _check_dataset_ref(err, sc, ln, ld, datasets)
