"""SCL (IEC 61850-6) parsing: ICD, CID, SCD and IID files, Edition 1 and 2.

Two views of a document:

* the document itself: :func:`load_scl` / :func:`parse_scl` return an
  :class:`SclDocument` with :meth:`~SclDocument.ieds`, :meth:`~SclDocument.to_dict`
  (plain dicts mirroring the SCL, type references kept as strings),
  :meth:`~SclDocument.communication` and :meth:`~SclDocument.summary` (a canonical
  text, one line per element, usable as a diff oracle);
* the resolved, instantiated model of one IED's server:
  :meth:`SclDocument.model` returns an :class:`IedModel` (logical devices as MMS
  domains, logical nodes, data objects and attributes in MMS component order with
  FCs and initial values, data sets, report/log/GOOSE/SV/setting-group control
  blocks), also buildable from a dict with :meth:`IedModel.from_dict`.

Every problem raises :class:`SclError` with ``file``, ``line``, ``column``,
``element_path``, ``attribute``, ``kind`` and ``message``.

Example::

    from py61850.scl import load_scl
    doc = load_scl("examples/simple_io.icd")
    model = doc.model()                       # the only IED / server
    ggio = model.logical_device("GenericIO").logical_node("GGIO1")
    da = model.find("GenericIO/GGIO1.SPCSO1.ctlModel")
    print(da.fc, da.btype, da.value, da.value_text)

This package needs only ``lxml``; it does not load the C extension.
"""

from ._comm import Communication, ConnectedAP, ControlBlockAddress, SubNetwork
from ._document import SclDocument, load_scl, parse_scl
from ._errors import SclError, SclErrorKind
from ._model import (
    FCDA,
    DataAttribute,
    DataObject,
    DataSet,
    GSEControl,
    IedModel,
    LogControl,
    LogicalDevice,
    LogicalNode,
    OptionalFields,
    ReportControl,
    SettingControl,
    SVControl,
    TriggerOptions,
)

__all__ = [
    "load_scl", "parse_scl", "SclDocument", "SclError", "SclErrorKind",
    "IedModel", "LogicalDevice", "LogicalNode", "DataObject", "DataAttribute",
    "DataSet", "FCDA", "ReportControl", "LogControl", "GSEControl", "SVControl",
    "SettingControl", "TriggerOptions", "OptionalFields",
    "Communication", "SubNetwork", "ConnectedAP", "ControlBlockAddress",
]
