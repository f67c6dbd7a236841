"""The exception raised for every SCL problem, and the kinds of problems."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

__all__ = ["SclError", "SclErrorKind"]


class SclErrorKind(StrEnum):
    """What went wrong. A :class:`str` subclass: ``e.kind == "XmlSyntax"`` works."""

    #: The file could not be read (missing, unreadable).
    IO_ERROR = "IoError"
    #: The text is not well-formed XML; line and column come from the XML parser.
    XML_SYNTAX = "XmlSyntax"
    #: Well-formed XML, but the root element is not ``SCL``.
    NOT_SCL = "NotScl"
    #: A required attribute is absent (or empty).
    MISSING_ATTRIBUTE = "MissingAttribute"
    #: An attribute has a value outside its type or range (``count="x"``, unknown ``bType``, FC...).
    INVALID_ATTRIBUTE = "InvalidAttribute"
    #: A required child element is absent (``LDevice`` without ``LN0``...).
    MISSING_ELEMENT = "MissingElement"
    #: Two siblings share a name that must be unique (LN, DO, LDevice, DataSet, type id...).
    DUPLICATE_NAME = "DuplicateName"
    #: An instance (``LN``/``LN0`` ``lnType``) names an ``LNodeType`` that does not exist.
    UNRESOLVED_TYPE_REFERENCE = "UnresolvedTypeReference"
    #: A template (``DO``/``SDO``/``DA``/``BDA`` ``type``) names a DOType/DAType/EnumType that does not exist.
    MISSING_TEMPLATE = "MissingTemplate"
    #: Templates that contain themselves (directly or through others).
    CYCLIC_TYPE_REFERENCE = "CyclicTypeReference"
    #: An instance element names something that does not exist: a ``DOI``/``SDI``/``DAI`` not in the
    #: type, an ``FCDA`` member that cannot be found, a control block's unknown ``datSet``...
    UNRESOLVED_REFERENCE = "UnresolvedReference"
    #: A ``Val`` (or a dict ``value``) that does not fit the attribute's ``bType``.
    INVALID_VALUE = "InvalidValue"
    #: ``model(ied_name=...)`` names no IED of the document.
    UNKNOWN_IED = "UnknownIed"
    #: ``model()`` without ``ied_name`` on a document with several IEDs.
    AMBIGUOUS_IED = "AmbiguousIed"
    #: ``model(access_point=...)`` names no access point of the IED.
    UNKNOWN_ACCESS_POINT = "UnknownAccessPoint"
    #: ``model()`` without ``access_point`` and several access points have a server.
    AMBIGUOUS_ACCESS_POINT = "AmbiguousAccessPoint"
    #: The selected IED / access point has no ``Server``.
    NO_SERVER = "NoServer"
    #: :meth:`IedModel.from_dict` got a key it does not know or a value of the wrong type.
    INVALID_SPEC = "InvalidSpec"


class SclError(Exception):
    """An SCL document (or a model dict) that cannot be used.

    Every error carries the place it was found: ``file``, ``line`` and ``column``
    (1-based; ``None`` when unknown, e.g. for a model built from a dict), the
    ``element_path`` of the offending element
    (``SCL/IED[@name="TEST"]/AccessPoint[@name="AP1"]/Server/LDevice[@inst="LD0"]/LN0``,
    an XPath without namespaces; for a dict spec, a path like
    ``logical_devices[0].logical_nodes[1]``), the ``attribute`` concerned (or ``None``),
    the ``kind`` (:class:`SclErrorKind`) and the bare ``message``.

    ``str(e)`` reads ``file:line:column: Kind: message (at element_path @attribute)``.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: SclErrorKind | str,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        element_path: str | None = None,
        attribute: str | None = None,
    ) -> None:
        self.message: str = message
        self.kind: SclErrorKind | str = _as_kind(kind)
        self.file: str | None = file
        self.line: int | None = line
        self.column: int | None = column
        self.element_path: str | None = element_path
        self.attribute: str | None = attribute
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file if self.file is not None else "<unknown>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.kind}: {self.message}"
        if self.element_path:
            text += f" (at {self.element_path}"
            if self.attribute:
                text += f" @{self.attribute}"
            text += ")"
        elif self.attribute:
            text += f" (@{self.attribute})"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (self.message, str(self.kind), self.file, self.line, self.column,
             self.element_path, self.attribute),
        )


def _as_kind(kind: SclErrorKind | str) -> SclErrorKind | str:
    try:
        return SclErrorKind(kind)
    except ValueError:
        return kind


def _rebuild(message: str, kind: str, file: str | None, line: int | None, column: int | None,
             element_path: str | None, attribute: str | None) -> SclError:
    return SclError(message, kind=kind, file=file, line=line, column=column,
                    element_path=element_path, attribute=attribute)
