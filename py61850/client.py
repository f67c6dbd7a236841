"""IEC 61850 client API.

Connect with :class:`IedConnection`, browse the server's model, read and write
data attributes. Every service either returns a plain Python value (or an
:class:`MmsValue` where the exact MMS type matters) or raises an
:class:`IedConnectionException` subclass chosen by its
:class:`IedClientError` code.

Example::

    from py61850.client import IedConnection, FunctionalConstraint as FC

    with IedConnection("127.0.0.1", 102) as conn:
        for ld in conn.get_logical_devices():
            print(ld, conn.get_logical_nodes(ld))
        print(conn.read_float("TESTGenericIO/GGIO1.AnIn1.mag.f", FC.MX))

A report monitor (callbacks run on the connection's ``py61850-reports``
thread and may call back into the connection)::

    import time
    from py61850.client import IedConnection

    def on_report(report):
        for i in report.included:
            print(report.seq_num, report.get_data_reference(i), report.values[i].to_python(),
                  report.get_reason_for_inclusion(i).name)

    with IedConnection("127.0.0.1", 102) as conn:
        rcb = conn.create_rcb_and_subscribe("TESTGenericIO/LLN0.RP.urcbEvents01", on_report, gi=True)
        time.sleep(60)
        rcb.disable()

Pull style: ``for report in rcb.reports(timeout=5): ...``.

Downloading the disturbance records of an IED (each file streamed to disk;
the remote file is closed whatever happens)::

    from pathlib import Path
    from py61850.client import IedConnection

    target = Path("records")
    target.mkdir(exist_ok=True)
    with IedConnection("127.0.0.1", 102) as conn:
        for entry in conn.get_files("COMTRADE"):
            conn.download_file(entry.name, target / Path(entry.name).name)
            print(entry.name, entry.size, entry.last_modified)

Operating a switch (the control model is read from the server; a refusal
raises :class:`ControlRefusedError` with the server's AddCause)::

    from py61850.client import IedConnection, ControlRefusedError

    with IedConnection("127.0.0.1", 102) as conn:
        ctl = conn.create_control_object("TESTGenericIO/GGIO1.SPCSO1")
        try:
            ctl.operate(True)
        except ControlRefusedError as exc:
            print("refused:", exc.add_cause.name)

Reading an IED's event log (the last hour), and switching its setting group::

    import datetime as dt
    from py61850.client import IedConnection, FunctionalConstraint as FC

    with IedConnection("127.0.0.1", 102) as conn:
        lcb = conn.read_lcb("TESTGenericIO/LLN0.EventLog")
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
        for entry in conn.query_log_by_time(lcb.log_ref, since):
            for var in entry.variables:
                print(entry.time, var.reference, var.value.to_python(), var.reason)
        conn.select_active_sg("TESTLD0", 2)
        print(conn.read_sgcb("TESTLD0").act_sg, conn.read_float("TESTLD0/PTOC1.StrVal.setMag.f", FC.SG))
"""
from __future__ import annotations

from ._connection import DeviceIdentity, IedConnection, ServerStatus
from ._control import CommandTermination, ControlObject, LastApplError
from ._cb import (
    GoCBElement,
    GooseControlBlock,
    LcbElement,
    LogControlBlock,
    PhyComAddress,
    SettingGroupControlBlock,
    SGCBElement,
    SmpMod,
    SVCBElement,
    SVControlBlock,
    SVOptions,
)
from ._dataset import DataSet
from ._files import FileDirectoryEntry
from . import _enums, _errors
from ._enums import *  # noqa: F401,F403  (names in _enums.__all__)
from ._errors import *  # noqa: F401,F403  (names in _errors.__all__)
from ._model import (
    DataAttribute,
    DataObject,
    DeviceModel,
    LogicalDevice,
    LogicalNode,
    ModelLeaf,
    VariableSpec,
)
from ._log import JournalEntry, JournalVariable, LogPage
from ._report import Report, ReportControlBlock
from ._values import BitString, MmsValue, Quality, Source, TimeQuality, Timestamp, Validity

__all__ = [
    # connection
    "IedConnection",
    "DeviceIdentity",
    "ServerStatus",
    "DataSet",
    "FileDirectoryEntry",
    "Report",
    "ReportControlBlock",
    "ControlObject",
    "CommandTermination",
    "LastApplError",
    # logs, setting groups, GOOSE and sampled value control blocks
    "LogControlBlock",
    "JournalEntry",
    "JournalVariable",
    "LogPage",
    "SettingGroupControlBlock",
    "GooseControlBlock",
    "SVControlBlock",
    "PhyComAddress",
    "SVOptions",
    "SmpMod",
    "LcbElement",
    "GoCBElement",
    "SVCBElement",
    "SGCBElement",
    # values
    "BitString",
    "MmsValue",
    "Quality",
    "Source",
    "TimeQuality",
    "Timestamp",
    "Validity",
    # model
    "DataAttribute",
    "DataObject",
    "DeviceModel",
    "LogicalDevice",
    "LogicalNode",
    "ModelLeaf",
    "VariableSpec",
]
__all__ += _enums.__all__   # ACSIClass, FunctionalConstraint, IedClientError, the reporting flags...
__all__ += _errors.__all__  # IedConnectionException and its subclasses, error_class, exception_for

# The exceptions live in a private module; present them (tracebacks, repr,
# pickling) as members of this module.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and issubclass(_obj, BaseException):
        _obj.__module__ = __name__
del _name, _obj
