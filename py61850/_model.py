"""Type specifications and the device model tree returned by the client."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from ._enums import ACSIClass, FunctionalConstraint, IedClientError, MmsType
from ._errors import UnexpectedValueError

__all__ = [
    "DataAttribute",
    "DataObject",
    "DeviceModel",
    "LogicalDevice",
    "LogicalNode",
    "ModelLeaf",
    "VariableSpec",
    "spec_from_c",
]

#: Deepest type specification converted (lib61850 decodes at most 20 levels)
_MAX_SPEC_DEPTH = 64


@dataclass
class VariableSpec:
    """The MMS type of a variable (GetVariableAccessAttributes), as a tree.

    :ivar name: component name (for the root: the last part of the reference)
    :ivar type: the MMS type
    :ivar size: bits for integers/unsigned; 32 or 64 for floats; for bit, octet,
        visible and MMS strings the size (negative = variable length of at most
        ``-size``); for arrays the number of elements; 0 otherwise
    :ivar children: structure components, in order
    :ivar element: the element type of an array
    """

    name: str
    type: MmsType
    size: int = 0
    children: list["VariableSpec"] = field(default_factory=list)
    element: Optional["VariableSpec"] = None

    def child(self, name: str) -> "VariableSpec":
        """The structure component called ``name``.

        :raises KeyError: there is none
        """
        for c in self.children:
            if c.name == name:
                return c
        raise KeyError(name)

    def walk(self, prefix: str = "") -> Iterator[tuple[str, "VariableSpec"]]:
        """Yield ``(path, spec)`` for this node and every component below it;
        paths are ``$``-separated and relative to this node ("" for itself)."""
        yield prefix, self
        for c in self.children:
            yield from c.walk(f"{prefix}${c.name}" if prefix else c.name)



def spec_from_c(ffi: Any, lib: Any, ts: Any, name: str, depth: int = 0) -> VariableSpec:
    """Convert an ``i61_typespec *`` into a :class:`VariableSpec` tree (``ts`` is not freed).

    :raises UnexpectedValueError: an unknown type kind, or nesting deeper than 64
    """
    if depth > _MAX_SPEC_DEPTH:
        raise UnexpectedValueError("type specification nested too deeply", IedClientError.UNEXPECTED_VALUE_RECEIVED)
    kind = int(lib.i61_typespec_kind(ts))
    try:
        mtype = MmsType(kind)
    except ValueError:
        raise UnexpectedValueError(f"unknown type kind {kind}", IedClientError.UNEXPECTED_VALUE_RECEIVED) from None
    node = VariableSpec(name=name, type=mtype, size=int(lib.i61_typespec_size(ts)))
    n = int(lib.i61_typespec_count(ts))
    if mtype == MmsType.ARRAY:
        if n >= 1:
            el = lib.i61_typespec_child(ts, 0)
            if el != ffi.NULL:
                node.element = spec_from_c(ffi, lib, el, "", depth + 1)
    elif mtype == MmsType.STRUCTURE:
        for i in range(n):
            ch = lib.i61_typespec_child(ts, i)
            if ch == ffi.NULL:
                continue
            p = lib.i61_typespec_name(ch)
            cname = ffi.string(p).decode("utf-8", "replace") if p != ffi.NULL else ""
            node.children.append(spec_from_c(ffi, lib, ch, cname, depth + 1))
    return node

@dataclass
class DataAttribute:
    """A node below a data object, with one functional constraint: a data
    attribute, a component of a constructed attribute, or a sub data object
    (MMS does not tell a sub data object from a constructed attribute; both
    appear as structures here).

    :ivar name: the name
    :ivar fc: the functional constraint
    :ivar type: the MMS type
    :ivar size: see :attr:`VariableSpec.size`
    :ivar children: components of a structure
    :ivar element: element type of an array
    """

    name: str
    fc: FunctionalConstraint
    type: MmsType
    size: int = 0
    children: list["DataAttribute"] = field(default_factory=list)
    element: Optional[VariableSpec] = None

    def child(self, name: str) -> "DataAttribute":
        """The component called ``name``.

        :raises KeyError: there is none
        """
        for c in self.children:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass
class DataObject:
    """A data object of a logical node with its attributes of every FC.

    :ivar name: the data object name (``Mod``, ``AnIn1``, ...)
    :ivar attributes: one entry per (attribute name, FC), in server order, FC by FC
    """

    name: str
    attributes: list[DataAttribute] = field(default_factory=list)

    def attribute(self, name: str, fc: Optional[FunctionalConstraint] = None) -> DataAttribute:
        """The attribute called ``name`` (with ``fc``, if given).

        :raises KeyError: there is none
        """
        for a in self.attributes:
            if a.name == name and (fc is None or a.fc == fc):
                return a
        raise KeyError(name if fc is None else f"{name}[{FunctionalConstraint(fc).name}]")

    @property
    def functional_constraints(self) -> list[FunctionalConstraint]:
        """The FCs this data object has attributes of, in order."""
        out: list[FunctionalConstraint] = []
        for a in self.attributes:
            if a.fc not in out:
                out.append(a.fc)
        return out


@dataclass
class LogicalNode:
    """A logical node.

    :ivar name: the LN name (``LLN0``, ``GGIO1``, ...)
    :ivar data_objects: the data objects, in server order
    :ivar data_sets: names of the data sets this LN holds (without ``LN$``)
    :ivar control_blocks: control block names by kind (URCB from FC RP, BRCB from
        BR, LCB from LG, GOCB from GO, GSCB from GS, MSVCB from MS, USVCB from US,
        SGCB for ``SP$SGCB``)
    """

    name: str
    data_objects: list[DataObject] = field(default_factory=list)
    data_sets: list[str] = field(default_factory=list)
    control_blocks: dict[ACSIClass, list[str]] = field(default_factory=dict)

    def data_object(self, name: str) -> DataObject:
        """The data object called ``name``.

        :raises KeyError: there is none
        """
        for d in self.data_objects:
            if d.name == name:
                return d
        raise KeyError(name)


@dataclass
class LogicalDevice:
    """A logical device (an MMS domain).

    :ivar name: the LD name as on the wire (IED name + LD instance, e.g. ``TESTGenericIO``)
    :ivar logical_nodes: the logical nodes, in server order
    """

    name: str
    logical_nodes: list[LogicalNode] = field(default_factory=list)

    def logical_node(self, name: str) -> LogicalNode:
        """The logical node called ``name``.

        :raises KeyError: there is none
        """
        for ln in self.logical_nodes:
            if ln.name == name:
                return ln
        raise KeyError(name)


@dataclass(frozen=True)
class ModelLeaf:
    """A leaf attribute of a :class:`DeviceModel` (see :meth:`DeviceModel.leaves`).

    :ivar reference: ``LD/LN.DO.DA[.BDA...]``
    :ivar fc: functional constraint
    :ivar type: MMS type
    :ivar size: see :attr:`VariableSpec.size`
    """

    reference: str
    fc: FunctionalConstraint
    type: MmsType
    size: int


@dataclass
class DeviceModel:
    """The data model of a server: LD -> LN -> DO -> DA.

    :ivar logical_devices: the logical devices, in server order
    """

    logical_devices: list[LogicalDevice] = field(default_factory=list)

    def logical_device(self, name: str) -> LogicalDevice:
        """The logical device called ``name``.

        :raises KeyError: there is none
        """
        for ld in self.logical_devices:
            if ld.name == name:
                return ld
        raise KeyError(name)

    def leaves(self) -> Iterator[ModelLeaf]:
        """Every attribute that has no components (arrays count as leaves)."""
        for ld in self.logical_devices:
            for ln in ld.logical_nodes:
                for do in ln.data_objects:
                    base = f"{ld.name}/{ln.name}.{do.name}"
                    for da in do.attributes:
                        yield from _leaves(f"{base}.{da.name}", da)


def _leaves(ref: str, da: DataAttribute) -> Iterator[ModelLeaf]:
    if da.type == MmsType.STRUCTURE:
        for c in da.children:
            yield from _leaves(f"{ref}.{c.name}", c)
    else:
        yield ModelLeaf(ref, da.fc, da.type, da.size)


# ------------------------------------------------------------------ building

_CB_CLASS_BY_FC = {
    "RP": ACSIClass.URCB,
    "BR": ACSIClass.BRCB,
    "LG": ACSIClass.LCB,
    "GO": ACSIClass.GOCB,
    "GS": ACSIClass.GSCB,
    "MS": ACSIClass.MSVCB,
    "US": ACSIClass.USVCB,
}


def _attribute(spec: VariableSpec, fc: FunctionalConstraint) -> DataAttribute:
    return DataAttribute(
        name=spec.name,
        fc=fc,
        type=spec.type,
        size=spec.size,
        children=[_attribute(c, fc) for c in spec.children],
        element=spec.element,
    )


def logical_node_from_spec(name: str, spec: VariableSpec, data_sets: Optional[list[str]] = None) -> LogicalNode:
    """Build a :class:`LogicalNode` from the type specification of the whole LN
    variable (a structure of FC structures, IEC 61850-8-1)."""
    ln = LogicalNode(name=name, data_sets=list(data_sets or []))
    dos: dict[str, DataObject] = {}
    for fc_spec in spec.children:
        cb_class = _CB_CLASS_BY_FC.get(fc_spec.name)
        if cb_class is not None:
            ln.control_blocks.setdefault(cb_class, []).extend(c.name for c in fc_spec.children)
            continue
        try:
            fc = FunctionalConstraint[fc_spec.name]
        except KeyError:
            continue  # not an FC component: not part of the ACSI model
        if fc in (FunctionalConstraint.ALL, FunctionalConstraint.NONE):
            continue
        for do_spec in fc_spec.children:
            if fc == FunctionalConstraint.SP and do_spec.name == "SGCB" and name == "LLN0":
                ln.control_blocks.setdefault(ACSIClass.SGCB, []).append("SGCB")
                continue
            do = dos.get(do_spec.name)
            if do is None:
                do = dos[do_spec.name] = DataObject(do_spec.name)
                ln.data_objects.append(do)
            if do_spec.type == MmsType.STRUCTURE:
                do.attributes.extend(_attribute(c, fc) for c in do_spec.children)
            else:  # not expected from IEC 61850 servers; keep it visible
                do.attributes.append(_attribute(do_spec, fc))
    return ln
