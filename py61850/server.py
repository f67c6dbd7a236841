"""IEC 61850 server (MMS) on lib61850.

Build an :class:`IedServer` from an SCL file (:meth:`IedServer.from_scl`) or
from a dict (:meth:`IedServer.from_dict`), start it, and keep its values up to
date from Python; clients read them without any Python code running (the C
fast path). Python handlers can be attached to chosen objects: they approve or
refuse writes (:meth:`IedServer.on_write`), produce values on demand
(:meth:`IedServer.on_read`), decide control commands
(:meth:`IedServer.on_control`), allow or refuse file operations on the file
store (``filestore=DIR``, :meth:`IedServer.on_file`), veto setting group
changes and receive confirmed setting edits (:meth:`IedServer.on_setting_group`)
and watch clients come and go (:meth:`IedServer.on_connection`). Logs
(LogControl) fill themselves from value changes and can be kept in an SQLite
file (``log_storage=PATH``); GOOSE and sampled value control blocks are served
as data.

Example::

    from py61850.server import DataAccessError, IedServer, Timestamp

    with IedServer.from_scl("examples/simple_io.icd") as server:
        server.start(port=10102)
        server.update_value("TESTGenericIO/GGIO1.AnIn1.mag.f", 42.5)
        with server.lock():                  # seen together by every client
            server.update_boolean("TESTGenericIO/GGIO1.Ind1.stVal", True)
            server.update_timestamp("TESTGenericIO/GGIO1.Ind1.t", Timestamp.now())

        def check(request):
            if request.value > 100:
                return DataAccessError.OBJECT_VALUE_INVALID
            # None: accept, the server stores the value

        server.on_write("TESTGenericIO/GGIO1.IntSet1.setVal", check)
        ...

References are what clients use: ``"LD/LN.DO.DA[.BDA...]"`` (``LD`` = the MMS
domain, for example ``TESTGenericIO``) with an optional functional constraint
where the reference alone designates attributes of one FC only, or the MMS
form ``"LD/LN$FC$DO$DA"``.

Threads. The library serves every client on its own I/O thread (shared with
the client connections of the process), which never runs Python code and never
waits for the GIL. A request for an object with a handler, and a client
connecting or leaving, become events on a bounded queue of the server; one
thread of the server (``py61850-server-handlers``) takes them in order, runs
the handlers and connection callbacks, and the MMS answer is sent when the
handler returns. Meanwhile every other request and association keeps being
served, also while Python threads are busy. A handler that raises is logged
(logger ``py61850.server``) and the client gets :attr:`IedServer.handler_error`
(default ``temporarily-unavailable``: the failure is the server's, not the
request's, and a client may retry; it is also what the library answers for a
handler that does not answer within the hook timeout, default 10 s, and for a
request that finds the queue full, see :attr:`IedServer.dropped_requests`).
Objects without a handler never involve Python.

Errors of the server API raise the exception classes of :mod:`py61850.client`
chosen by their :class:`~py61850.client.IedClientError` code (for example
:class:`~py61850.client.ObjectDoesNotExistError` for an unknown reference,
:class:`~py61850.client.TypeInconsistentError` for a value of the wrong MMS
type, :class:`~py61850.client.InvalidArgumentError` - a :class:`ValueError` -
for a Python value that does not fit).
"""
from __future__ import annotations

import atexit
import contextlib
import copy
import dataclasses
import datetime as _dt
import enum
import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence, Union

from . import __version__, _ffi
from ._enums import AddCause, ControlModel, DataAccessError, FunctionalConstraint, IedClientError, MmsType, OrCat
from ._errors import (
    InvalidArgumentError,
    TypeInconsistentError,
    exception_for,
)
from ._model import VariableSpec
from ._model import spec_from_c as spec_of
from ._log_store import LogStorageError, LogStore, sync_all
from ._server_model import DEFAULT_LOG_MAX_ENTRIES, DEFAULT_REPORT_BUFFER_SIZE, BuiltModel, build_model, fc_arg, to_mms
from ._server_model import _name_bytes as _ascii
from ._values import BitString, MmsValue, Quality, TimeQuality, Timestamp

__all__ = [
    "AddCause",
    "ClientConnection",
    "ControlAction",
    "ControlModel",
    "ControlRefused",
    "ControlStage",
    "OrCat",
    "DataAccessError",
    "DataAccessRejected",
    "FileError",
    "FileOperation",
    "FileRejected",
    "FileRequest",
    "FileStats",
    "FunctionalConstraint",
    "IedServer",
    "LogInfo",
    "LogStorageError",
    "ReadRequest",
    "SettingGroupChange",
    "SettingGroupEdit",
    "SettingGroupRefused",
    "SettingGroupState",
    "WriteRequest",
    "BitString",
    "MmsValue",
    "Quality",
    "TimeQuality",
    "Timestamp",
]

log = logging.getLogger("py61850.server")

Reference = Union[str, bytes]
FcLike = Union[FunctionalConstraint, str, int, None]

_HOOK_ACCEPT = -1
# i61_server_event_kind
_SEV_CONNECTED = 1
_SEV_DISCONNECTED = 2
_SEV_WRITE = 3
_SEV_READ = 4
_SEV_CONTROL_CHECK = 5
_SEV_CONTROL_WAIT = 6
_SEV_CONTROL_OPERATE = 7
_SEV_FILE = 8
_SEV_LOG = 9
_SEV_SG_ACTIVATE = 10
_SEV_SG_CONFIRM = 11
#: Bound of the server's event queue (requests waiting for a Python handler and
#: connection events): beyond it the library refuses a request at once with
#: temporarily-unavailable, or drops a connection event, and counts it.
_EVENT_QUEUE_MAX = 4096
#: The thread that runs the handlers and connection callbacks of a server.
_DISPATCHER_NAME = "py61850-server-handlers"
#: Longest wait of the dispatcher inside the library before it checks that it is
#: still the server's dispatcher (it is woken at once by events and by stop()).
_WAIT_MS = 5000
_JOIN_TIMEOUT_S = 5.0


# ------------------------------------------------------------------ public types


@dataclass(frozen=True)
class ClientConnection:
    """A client association of the server.

    :ivar id: the library's connection id (unique while the server runs)
    :ivar peer: ``"address:port"`` of the client (``""`` for a client that
        connected before the first connection callback or handler was set:
        until then the server does not track connections in Python; also
        when the event queue was full as it connected)
    """

    id: int
    peer: str

    @property
    def host(self) -> str:
        """The client's address."""
        return self.peer.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        """The client's TCP port (0 if unknown)."""
        try:
            return int(self.peer.rsplit(":", 1)[1])
        except (IndexError, ValueError):
            return 0


@dataclass(frozen=True)
class WriteRequest:
    """A client's write of an object that has a write handler.

    :ivar reference: the written variable in client style (``LD/LN.DO.DA``);
        it is the handler's object, something inside it, or a variable
        containing it
    :ivar fc: its functional constraint
    :ivar mms_value: the value written, with its MMS type
    :ivar connection: the client
    :ivar handler_reference: the reference the handler was registered with
    """

    reference: str
    fc: FunctionalConstraint
    mms_value: MmsValue
    connection: ClientConnection
    handler_reference: str

    @property
    def value(self) -> Any:
        """The written value as plain Python (see :meth:`MmsValue.to_python`)."""
        return self.mms_value.to_python()


@dataclass(frozen=True)
class ReadRequest:
    """A client's read of an object that has a read handler.

    :ivar reference: the read variable in client style (``LD/LN`` for a whole LN)
    :ivar fc: its functional constraint (``NONE`` for a whole LN)
    :ivar connection: the client
    :ivar handler_reference: the reference the handler was registered with
    """

    reference: str
    fc: FunctionalConstraint
    connection: ClientConnection
    handler_reference: str


class DataAccessRejected(Exception):
    """Raise from a read or write handler to refuse the access with ``error``
    (logged at debug level only: this is an answer, not a failure).

    :param error: the DataAccessError the client receives
    :param message: optional reason (for the log)
    """

    def __init__(self, error: DataAccessError, message: str = "") -> None:
        super().__init__(message or error.name)
        self.error = DataAccessError(error)


class ControlStage(str, enum.Enum):
    """The stage of a control command a control handler is called for."""

    #: static tests (interlocking, mode, ...) at select and at operate
    CHECK = "check"
    #: dynamic tests (synchrocheck, ...) at operate, after CHECK
    WAIT = "wait"
    #: the execution of an operate
    OPERATE = "operate"


@dataclass(frozen=True)
class ControlAction:
    """A client's control command, as a control handler sees it
    (see :meth:`IedServer.on_control`).

    :ivar reference: the controlled data object, ``"LD/LN.DO"``
    :ivar stage: the stage the handler is called for
    :ivar ctl_model: the object's control model
    :ivar is_select: the command is a select (a Read of ``SBO`` or a Write of
        ``SBOw``); only the CHECK stage sees selects
    :ivar ctl_num: ``ctlNum`` of the command (0..255)
    :ivar or_cat: ``origin.orCat`` (an :class:`OrCat`, or the int received when
        it is outside the list)
    :ivar or_ident: ``origin.orIdent`` as sent (octets)
    :ivar t: ``T``, the time the client sent the command (``None`` for the
        select of an sbo-normal object, which carries no parameters)
    :ivar oper_time: ``operTm`` of a time-activated operate, else ``None``
    :ivar test: the ``Test`` flag: the command is a test, the process must not
        be changed (the server does not update ``stVal`` in test mode)
    :ivar interlock_check: the client asks for the interlocking check (``Check`` bit 1)
    :ivar synchro_check: the client asks for the synchrocheck (``Check`` bit 0)
    :ivar peer: ``"address:port"`` of the client
    :ivar connection: the client's association
    :ivar mms_value: ``ctlVal`` with its MMS type (``None`` when the command has no value)
    """

    reference: str
    stage: ControlStage
    ctl_model: ControlModel
    is_select: bool
    ctl_num: int
    or_cat: Union[OrCat, int]
    or_ident: bytes
    t: Optional[Timestamp]
    oper_time: Optional[Timestamp]
    test: bool
    interlock_check: bool
    synchro_check: bool
    peer: str
    connection: ClientConnection
    mms_value: Optional[MmsValue] = None

    @property
    def or_ident_text(self) -> str:
        """``origin.orIdent`` decoded as UTF-8 (undecodable octets replaced)."""
        return self.or_ident.decode("utf-8", "replace")


class ControlRefused(Exception):
    """Raise from a control handler to refuse the command with ``add_cause``
    (logged at debug level only: this is an answer, not a failure).

    :param add_cause: the :class:`AddCause` the client receives in the
        LastApplError (enhanced models) or that the server logs (normal models)
    :param message: optional reason (for the log)
    """

    def __init__(self, add_cause: Union[AddCause, int] = AddCause.UNKNOWN, message: str = "") -> None:
        cause = int(add_cause)
        if not 0 <= cause <= 255:
            raise ValueError("an AddCause is 0..255")
        #: the AddCause (an :class:`AddCause`, or the int when it is not in the list)
        self.add_cause: Union[AddCause, int] = AddCause(cause) if cause in AddCause._value2member_map_ else cause
        super().__init__(message or getattr(self.add_cause, "name", str(cause)))


#: Handler of one stage of a control command: ``handler(action, value)``.
ControlHandler = Callable[[ControlAction, Any], Any]


class FileOperation(str, enum.Enum):
    """A file operation a file handler is asked about (see :meth:`IedServer.on_file`).
    The members compare equal to their strings (``request.operation == "open"``)."""

    #: FileOpen: a client starts to download ``path`` (its FileRead and
    #: FileClose are not asked again)
    OPEN = "open"
    #: FileDelete of ``path``
    DELETE = "delete"
    #: FileRename of ``path`` to ``new_path``
    RENAME = "rename"
    #: FileDirectory of ``path`` (``""`` = the root)
    DIRECTORY = "directory"
    #: ObtainFile: the server is asked to fetch the client's file ``source``
    #: and store it as ``path`` (an upload)
    OBTAIN = "obtain"


#: i61_file_op -> FileOperation
_FILE_OPS = {1: FileOperation.OPEN, 2: FileOperation.DELETE, 3: FileOperation.RENAME,
             4: FileOperation.DIRECTORY, 5: FileOperation.OBTAIN}


class FileError(enum.IntEnum):
    """The MMS file errors (ServiceError class file) a server answers with."""

    OTHER = 0
    FILENAME_AMBIGUOUS = 1
    FILE_BUSY = 2
    FILENAME_SYNTAX_ERROR = 3
    CONTENT_TYPE_INVALID = 4
    POSITION_INVALID = 5
    FILE_ACCESS_DENIED = 6
    FILE_NON_EXISTENT = 7
    DUPLICATE_FILENAME = 8
    INSUFFICIENT_SPACE = 9


@dataclass(frozen=True)
class FileRequest:
    """A client's file operation, as a file handler sees it (see :meth:`IedServer.on_file`).

    Names are relative to the file store root, components separated by
    ``/`` (``"COMTRADE/rec1.cfg"``; ``""`` is the root); they were already
    checked against the sandbox (no ``..``, no absolute path, no link, no
    control character) when the handler is asked.

    :ivar operation: what the client asks for
    :ivar path: the file (the listed directory for ``directory``, the
        destination for ``obtain``)
    :ivar new_path: the new name of a ``rename`` (``None`` for the other operations)
    :ivar source: the client's own file name of an ``obtain`` (``None`` otherwise)
    :ivar connection: the client
    :ivar root: the file store root the names are relative to
    """

    operation: FileOperation
    path: str
    new_path: Optional[str]
    source: Optional[str]
    connection: ClientConnection
    root: str = ""

    @property
    def local_path(self) -> str:
        """``path`` as a path of this host (below :attr:`root`)."""
        return os.path.join(self.root, *self.path.split("/")) if self.path else self.root


class FileRejected(Exception):
    """Raise from a file handler to refuse the operation with ``error``
    (logged at debug level only: this is an answer, not a failure).

    :param error: the :class:`FileError` the client receives (default file-access-denied)
    :param message: optional reason (for the log)
    """

    def __init__(self, error: Union[FileError, int] = FileError.FILE_ACCESS_DENIED, message: str = "") -> None:
        self.error = FileError(int(error))
        super().__init__(message or self.error.name)


@dataclass(frozen=True)
class FileStats:
    """Counters of the file services since the server was created
    (see :attr:`IedServer.file_stats`).

    :ivar opened: files opened for download (FileOpen that succeeded)
    :ivar octets_read: file octets sent to clients (FileRead)
    :ivar deleted: files deleted (FileDelete)
    :ivar renamed: files renamed (FileRename)
    :ivar obtained: files uploaded by clients (ObtainFile that completed)
    :ivar octets_obtained: file octets received by ObtainFile
    :ivar refused: file requests answered with an error
    :ivar open_now: files open at this moment, all clients together
    """

    opened: int = 0
    octets_read: int = 0
    deleted: int = 0
    renamed: int = 0
    obtained: int = 0
    octets_obtained: int = 0
    refused: int = 0
    open_now: int = 0


#: Handler of file operations: ``handler(request)``.
FileHandler = Callable[[FileRequest], Any]

_UTC = _dt.timezone.utc


def _utc_ms(ms: int) -> _dt.datetime:
    return _dt.datetime(1970, 1, 1, tzinfo=_UTC) + _dt.timedelta(milliseconds=int(ms))


@dataclass(frozen=True)
class LogInfo:
    """What a log of the server holds (see :meth:`IedServer.log_info`).

    :ivar log_ref: the log, ``"LD/LN$LogName"``
    :ivar count: entries held now (at most ``log_max_entries``)
    :ivar oldest_entry_id: the 8-octet id of the oldest entry (``None`` when empty)
    :ivar newest_entry_id: the id of the newest entry, also the last id given
    :ivar oldest_time: the time of the oldest entry (UTC)
    :ivar newest_time: the time of the newest entry (UTC)
    :ivar dropped: entries dropped because the log was full, since the server was created
    """

    log_ref: str
    count: int
    oldest_entry_id: Optional[bytes]
    newest_entry_id: Optional[bytes]
    oldest_time: Optional[_dt.datetime]
    newest_time: Optional[_dt.datetime]
    dropped: int = 0


@dataclass(frozen=True)
class SettingGroupState:
    """The state of a logical device's setting group control block (SGCB),
    see :meth:`IedServer.sgcb`.

    :ivar ld: the logical device (MMS domain)
    :ivar num_of_sg: setting groups (NumOfSG)
    :ivar act_sg: the active group (ActSG), 1..NumOfSG
    :ivar edit_sg: the group being edited (EditSG), 0 = none
    :ivar cnf_edit: CnfEdit: the edit was confirmed
    :ivar lact_tm: when the active group was last changed (LActTm, UTC)
    :ivar resv_tms: seconds an edit reservation lasts without a confirm (ResvTms)
    :ivar edit_connection_id: the connection id (:attr:`ClientConnection.id`) of
        the client holding the edit reservation, 0 = none
    """

    ld: str
    num_of_sg: int
    act_sg: int
    edit_sg: int
    cnf_edit: bool
    lact_tm: _dt.datetime
    resv_tms: int
    edit_connection_id: int = 0


@dataclass(frozen=True)
class SettingGroupChange:
    """A client selects another active setting group (SelectActiveSG), as an
    ``on_activate`` handler sees it (see :meth:`IedServer.on_setting_group`).

    :ivar ld: the logical device (MMS domain)
    :ivar old_sg: the active group now
    :ivar new_sg: the group the client selects
    :ivar connection: the client
    """

    ld: str
    old_sg: int
    new_sg: int
    connection: ClientConnection


@dataclass(frozen=True)
class SettingGroupEdit:
    """A client confirms its edit of a setting group (ConfirmEditSGValues), as an
    ``on_confirm`` handler sees it (see :meth:`IedServer.on_setting_group`).

    :ivar ld: the logical device (MMS domain)
    :ivar sg: the edited group (EditSG)
    :ivar connection: the client
    :ivar values: the values to be confirmed, every basic attribute with FC SG of
        the LD by reference (``"LD/LN.DO.DA"``, for example
        ``"TESTLD0/PTOC1.StrVal.setMag.f"``) as plain Python (its FC SE value)
    """

    ld: str
    sg: int
    connection: ClientConnection
    values: dict[str, Any]


class SettingGroupRefused(Exception):
    """Raise from a setting group handler to refuse the change or the confirm
    (logged at debug level only: this is an answer, not a failure).

    :param error: the DataAccessError the client receives (default
        ``object-access-denied``)
    :param message: optional reason (for the log)
    """

    def __init__(self, error: DataAccessError = DataAccessError.OBJECT_ACCESS_DENIED, message: str = "") -> None:
        super().__init__(message or DataAccessError(error).name)
        self.error = DataAccessError(error)


#: ``handler(change)`` of :meth:`IedServer.on_setting_group`
SettingGroupHandler = Callable[[Any], Any]

WriteHandler = Callable[[WriteRequest], Any]
ReadHandler = Callable[[ReadRequest], Any]
ConnectionHandler = Callable[[ClientConnection, bool], Any]


# ------------------------------------------------------------------ C side


class _Hook:
    """One read or write handler registration; ``id`` is its C userdata."""

    __slots__ = ("id", "callback", "reference", "fc", "is_write")

    def __init__(self, hook_id: int, callback: Callable[[Any], Any], reference: str, fc: int, is_write: bool) -> None:
        self.id = hook_id
        self.callback = callback
        self.reference = reference
        self.fc = fc
        self.is_write = is_write


class _ControlHook:
    """One :meth:`IedServer.on_control` registration; ``id`` is its C userdata."""

    __slots__ = ("id", "reference", "handlers", "ctl_val_spec", "spec_done")

    def __init__(self, hook_id: int, reference: str, handlers: dict[ControlStage, ControlHandler]) -> None:
        self.id = hook_id
        self.reference = reference
        self.handlers = handlers
        self.ctl_val_spec: Optional[VariableSpec] = None  # Oper.ctlVal, fetched at the first command
        self.spec_done = False


class _SgHook:
    """One :meth:`IedServer.on_setting_group` registration; ``id`` is its C userdata."""

    __slots__ = ("id", "ld", "on_activate", "on_confirm")

    def __init__(self, hook_id: int, ld: str, on_activate: Optional[SettingGroupHandler],
                 on_confirm: Optional[SettingGroupHandler]) -> None:
        self.id = hook_id
        self.ld = ld
        self.on_activate = on_activate
        self.on_confirm = on_confirm


#: i61_server_event_kind of a control event -> its stage
_CONTROL_STAGES = {
    _SEV_CONTROL_CHECK: ControlStage.CHECK,
    _SEV_CONTROL_WAIT: ControlStage.WAIT,
    _SEV_CONTROL_OPERATE: ControlStage.OPERATE,
}
#: i61_control_stage mask bit of each stage
_STAGE_BITS = {ControlStage.CHECK: 1, ControlStage.WAIT: 2, ControlStage.OPERATE: 4}
#: The AddCause of a handler that returns False
_REFUSAL_CAUSE = {
    ControlStage.CHECK: AddCause.BLOCKED_BY_INTERLOCKING,
    ControlStage.WAIT: AddCause.BLOCKED_BY_SYNCHROCHECK,
    ControlStage.OPERATE: AddCause.UNKNOWN,
}


class _Core:
    """Owns the ``i61_server *``, its handlers and its dispatcher thread.

    The C server queues the requests of objects with a handler (queued hooks)
    and the connection events; the dispatcher thread takes them with
    ``i61_server_next_event`` (cffi releases the GIL while it waits), calls the
    Python handlers and answers with ``i61_server_complete_*``. No Python code
    runs on the library's I/O thread.

    It holds no reference to the :class:`IedServer`, so a stopped server can be
    collected.
    """

    def __init__(self, ffi: Any, lib: Any, ptr: Any) -> None:
        self.ffi = ffi
        self.lib = lib
        self.ptr: Any = ptr
        # ptr against free: calls into the C server run between enter() and leave();
        # free() waits until none runs.
        self.c_lock = threading.Lock()
        self.idle = threading.Condition(self.c_lock)
        self.active = 0
        self.locked = threading.local()  # depth of IedServer.lock() per thread
        # Every handler registration by id (the C userdata of its queued hook). Kept
        # until the server is freed: requests queued before a handler was replaced
        # or removed still reach it.
        self.hooks_by_id: dict[int, _Hook] = {}
        self.next_hook_id = 1
        self.hooks: dict[tuple[bool, int, int], _Hook] = {}  # current handler per object
        self.controls: dict[str, _ControlHook] = {}  # current control handlers per DO reference
        self.peers: dict[int, ClientConnection] = {}  # dispatcher thread only
        self.conn_callbacks: list[ConnectionHandler] = []
        self.file_handler: Optional[FileHandler] = None
        self.sg_hooks: dict[str, _SgHook] = {}  # current setting group handlers per LD
        self.sg_leaves: dict[str, list[str]] = {}  # LD -> its basic attributes with FC SG
        self.log_store: Optional[LogStore] = None  # SQLite mirror of the logs
        self.logs: list[str] = []  # the log references of the model
        self.filestore = ""  # the root the file names are relative to
        self.files_final = FileStats()  # the file counters when the C server was freed
        self.handler_error = DataAccessError.TEMPORARILY_UNAVAILABLE
        self.handler_failures = 0
        self.tracking = False
        self.thread: Optional[threading.Thread] = None  # the current dispatcher
        self.stopping = False  # requests still queued at stop() are no longer answerable
        self.dropped_seen = 0
        self.dropped_final = 0  # the count when the C server was freed
        self.reports_final = (0, 0, 0)  # reports sent / entries overflowed / dropped when freed
        self.dropped_logged_at = 0.0
        lib.i61_server_set_event_queue_size(ptr, _EVENT_QUEUE_MAX)

    def enter(self) -> Any:
        """The C server, marked in use until :meth:`leave`.

        :raises RuntimeError: the server is closed
        """
        with self.c_lock:
            if self.ptr is None:
                raise RuntimeError("the server is closed")
            self.active += 1
            return self.ptr

    def leave(self) -> None:
        with self.c_lock:
            self.active -= 1
            if self.active == 0:
                self.idle.notify_all()

    @contextlib.contextmanager
    def use(self) -> Iterator[Any]:
        ptr = self.enter()
        try:
            yield ptr
        finally:
            self.leave()

    def check_not_locked(self, what: str) -> None:
        if getattr(self.locked, "depth", 0):
            raise RuntimeError(f"{what} cannot be called inside server.lock()")
        if _ffi.on_io_thread():
            raise RuntimeError(f"{what} cannot be called from a library callback")

    def track_connections(self) -> None:
        """Queue connection events (from the first connection callback or
        handler on: requests then carry the client's address)."""
        with self.c_lock:
            if self.tracking or self.ptr is None:
                return
            self.lib.i61_server_set_queue_connection_events(self.ptr, 1)
            self.tracking = True

    def new_hook(self, callback: Callable[[Any], Any], reference: str, fc: int, is_write: bool) -> _Hook:
        with self.c_lock:
            hook = _Hook(self.next_hook_id, callback, reference, fc, is_write)
            self.next_hook_id += 1
            self.hooks_by_id[hook.id] = hook
        return hook

    def new_sg_hook(self, ld: str, on_activate: Optional[SettingGroupHandler],
                    on_confirm: Optional[SettingGroupHandler]) -> _SgHook:
        with self.c_lock:
            hook = _SgHook(self.next_hook_id, ld, on_activate, on_confirm)
            self.next_hook_id += 1
            self.hooks_by_id[hook.id] = hook  # type: ignore[assignment]
        return hook

    def new_control_hook(self, reference: str, handlers: dict[ControlStage, ControlHandler]) -> _ControlHook:
        with self.c_lock:
            hook = _ControlHook(self.next_hook_id, reference, handlers)
            self.next_hook_id += 1
            self.hooks_by_id[hook.id] = hook  # type: ignore[assignment]
        return hook

    # ---- dispatcher thread

    def start_dispatcher(self) -> None:
        """Start the dispatcher of a run (after ``i61_server_start``, which re-arms
        ``i61_server_next_event`` after an interrupt)."""
        self.stopping = False
        t = threading.Thread(target=self.dispatch, name=_DISPATCHER_NAME, daemon=True)
        self.thread = t
        t.start()

    def stop_dispatcher(self) -> None:
        """Wait for the dispatcher to end (after ``i61_server_interrupt_events``):
        it delivers the connection events still queued, then returns."""
        t = self.thread
        if t is None or t is threading.current_thread():
            return
        t.join(_JOIN_TIMEOUT_S)
        if t.is_alive():
            log.warning("a server handler is still running after %.0f s; left behind", _JOIN_TIMEOUT_S)

    def dispatch(self) -> None:
        ffi, lib = self.ffi, self.lib
        me = threading.current_thread()
        out = ffi.new("i61_server_event **")
        while self.thread is me:
            try:
                ptr = self.enter()
            except RuntimeError:  # freed
                return
            try:
                rc = lib.i61_server_next_event(ptr, _WAIT_MS, out)
                dropped = int(lib.i61_server_events_dropped(ptr))
            finally:
                self.leave()
            if dropped != self.dropped_seen:
                self._report_drops(dropped)
            if rc == IedClientError.TIMEOUT:
                continue
            if rc != 0:  # interrupted (stop or close) and nothing left in the queue
                return
            ev = out[0]
            try:
                self.handle_event(ev)
            except Exception:  # the handlers catch their own errors; this is a last resort
                log.exception("unexpected error while dispatching a server event")
            finally:
                lib.i61_server_event_free(ev)

    def _report_drops(self, dropped: int) -> None:
        new = dropped - self.dropped_seen
        self.dropped_seen = dropped
        now = time.monotonic()
        if now - self.dropped_logged_at >= 1.0:
            self.dropped_logged_at = now
            log.warning("the server's event queue is full: %d request(s) refused with temporarily-unavailable "
                        "or connection event(s) dropped (%d so far)", new, dropped)

    def handle_event(self, ev: Any) -> None:
        ffi = self.ffi
        kind = int(ev.kind)
        conn_id = int(ev.conn_id)
        ref = ffi.string(ev.ref).decode("utf-8", "replace")
        if kind in (_SEV_CONNECTED, _SEV_DISCONNECTED):
            connected = kind == _SEV_CONNECTED
            if connected:
                conn = ClientConnection(conn_id, ref)
                self.peers[conn_id] = conn
            else:
                conn = self.peers.pop(conn_id, None) or ClientConnection(conn_id, ref)
            for cb in list(self.conn_callbacks):
                try:
                    cb(conn, connected)
                except Exception:
                    log.exception("exception in the connection callback %r", cb)
            return
        if kind in _CONTROL_STAGES:
            self.handle_control(ev, _CONTROL_STAGES[kind], conn_id, ref)
            return
        if kind == _SEV_FILE:
            self.handle_file(ev, conn_id)
            return
        if kind == _SEV_LOG:
            self.handle_log(ref)
            return
        if kind in (_SEV_SG_ACTIVATE, _SEV_SG_CONFIRM):
            self.handle_sg(ev, kind == _SEV_SG_ACTIVATE, conn_id, ref)
            return
        if kind not in (_SEV_WRITE, _SEV_READ):
            log.debug("ignoring a server event of unknown kind %d", kind)
            return
        is_write = kind == _SEV_WRITE
        token = int(ev.token)
        if self.stopping:  # stop() dropped the request: there is nobody to answer
            log.debug("%s of %s dropped: the server stopped", "write" if is_write else "read", ref)
            return
        hook = self.hooks_by_id.get(int(ffi.cast("uintptr_t", ev.userdata)))
        if hook is None:  # cannot happen: every registration is kept until free
            self.complete(is_write, token, int(DataAccessError.TEMPORARILY_UNAVAILABLE), ref)
            return
        conn = self.peers.get(conn_id) or ClientConnection(conn_id, "")
        try:
            f = FunctionalConstraint(int(ev.fc))
        except ValueError:
            f = FunctionalConstraint.NONE
        if is_write:
            try:
                if ev.value == ffi.NULL:
                    raise MemoryError("no value in the write event")
                mv = MmsValue._own(self.lib.i61_value_clone(ev.value))
            except MemoryError:
                log.error("write of %s refused: out of memory", ref)
                self.complete(True, token, int(DataAccessError.TEMPORARILY_UNAVAILABLE), ref)
                return
            req: Any = WriteRequest(ref, f, mv, conn, hook.reference)
        else:
            req = ReadRequest(ref, f, conn, hook.reference)
        self.run_hook(hook, token, req)

    def handle_control(self, ev: Any, stage: ControlStage, conn_id: int, ref: str) -> None:
        """One stage of a control command: build the :class:`ControlAction`, run
        the handler, answer with ``i61_server_complete_control``."""
        ffi, lib = self.ffi, self.lib
        token = int(ev.token)
        if self.stopping:
            log.debug("control of %s dropped: the server stopped", ref)
            return
        hook = self.hooks_by_id.get(int(ffi.cast("uintptr_t", ev.userdata)))
        handler = hook.handlers.get(stage) if isinstance(hook, _ControlHook) else None
        if handler is None:  # removed meanwhile: the stage accepts, as without a handler
            self.complete_control(token, _HOOK_ACCEPT, ref, stage)
            return
        mv: Optional[MmsValue] = None
        if ev.value != ffi.NULL:
            try:
                mv = MmsValue._own(lib.i61_value_clone(ev.value))
            except MemoryError:
                log.error("control of %s refused: out of memory", ref)
                self.complete_control(token, int(AddCause.UNKNOWN), ref, stage)
                return
        try:
            action = self.control_action(ev.ctl, stage, conn_id, ref, mv)
            value = self.control_value(hook, mv)
        except Exception:  # a malformed event: refuse rather than guess
            log.exception("control of %s: cannot decode the command", ref)
            self.complete_control(token, int(AddCause.UNKNOWN), ref, stage)
            return
        try:
            result = self.control_answer(stage, handler(action, value))
        except ControlRefused as rej:
            log.debug("%s of %s refused by the handler: %s", stage.value, ref, rej)
            result = int(rej.add_cause)
        except Exception:
            self.handler_failures += 1
            log.exception("exception in the %s handler of %s (client %s): refused with AddCause unknown",
                          stage.value, ref, action.peer)
            result = int(AddCause.UNKNOWN)
        self.complete_control(token, result, ref, stage)

    def handle_log(self, log_ref: str) -> None:
        """A log got entries: copy them into the log storage."""
        store = self.log_store
        if store is None:
            return
        try:
            ptr = self.enter()
        except RuntimeError:  # freed: free() copied what was left
            return
        try:
            store.sync(self.ffi, self.lib, ptr, log_ref)
        finally:
            self.leave()

    def sgcb_state(self, ld: str) -> SettingGroupState:
        ffi, lib = self.ffi, self.lib
        out = ffi.new("i61_sgcb_state *")
        with self.use() as ptr:
            err = lib.i61_server_get_sgcb(ptr, _ref_bytes(ld), out)
        if err != 0:
            raise exception_for(err, f"{ld}: no setting group control block", ld)
        return SettingGroupState(ld=ld, num_of_sg=int(out.num_of_sg), act_sg=int(out.act_sg),
                                 edit_sg=int(out.edit_sg), cnf_edit=bool(out.cnf_edit),
                                 lact_tm=_utc_ms(out.lact_tm_ms), resv_tms=int(out.resv_tms_s),
                                 edit_connection_id=int(out.edit_conn_id))

    def se_values(self, ld: str) -> dict[str, Any]:
        """The FC SE values of every SG attribute of ``ld``, as plain Python."""
        ffi, lib = self.ffi, self.lib
        values: dict[str, Any] = {}
        out = ffi.new("i61_value **")
        with self.use() as ptr:
            model = lib.i61_server_model(ptr)
            for ref in self.sg_leaves.get(ld, ()):
                err = lib.i61_model_get_value(model, ref.encode(), int(FunctionalConstraint.SE), out)
                if err != 0:
                    log.debug("%s [SE]: not readable (error %d)", ref, err)
                    continue
                values[ref] = MmsValue._own(out[0]).to_python()
        return values

    def handle_sg(self, ev: Any, activate: bool, conn_id: int, ref: str) -> None:
        """SelectActiveSG or ConfirmEditSGValues of a client: run the handler,
        answer with ``i61_server_complete_sg``."""
        ffi = self.ffi
        token = int(ev.token)
        what = f"{'SelectActiveSG' if activate else 'ConfirmEditSGValues'} of {ref}"
        if self.stopping:
            log.debug("%s dropped: the server stopped", what)
            return
        hook = self.hooks_by_id.get(int(ffi.cast("uintptr_t", ev.userdata)))
        ld = ref.split("/", 1)[0]
        handler = None
        if isinstance(hook, _SgHook):
            handler = hook.on_activate if activate else hook.on_confirm
        if handler is None:  # removed meanwhile: accepted, as without a handler
            self.complete_sg(token, _HOOK_ACCEPT, what)
            return
        conn = self.peers.get(conn_id) or ClientConnection(conn_id, "")
        try:
            group = int(MmsValue._own(self.lib.i61_value_clone(ev.value)).to_python()) if ev.value != ffi.NULL else 0
            if activate:
                req: Any = SettingGroupChange(ld, self.sgcb_state(ld).act_sg, group, conn)
            else:
                req = SettingGroupEdit(ld, group, conn, self.se_values(ld))
        except Exception:
            log.exception("%s: cannot decode the request", what)
            self.complete_sg(token, int(DataAccessError.TEMPORARILY_UNAVAILABLE), what)
            return
        try:
            result = self.sg_answer(handler(req))
        except SettingGroupRefused as rej:
            log.debug("%s refused by the handler: %s", what, rej)
            result = int(rej.error)
        except DataAccessRejected as rej:
            log.debug("%s refused by the handler: %s", what, rej)
            result = int(rej.error)
        except Exception:
            self.handler_failures += 1
            log.exception("exception in the setting group handler of %s (client %s): answered "
                          "temporarily-unavailable", what, conn.peer)
            result = int(DataAccessError.TEMPORARILY_UNAVAILABLE)
        self.complete_sg(token, result, what)

    @staticmethod
    def sg_answer(out: Any) -> int:
        if out is None or out is True:
            return _HOOK_ACCEPT
        if out is False:
            return int(DataAccessError.OBJECT_ACCESS_DENIED)
        if isinstance(out, DataAccessError):
            return int(out)
        raise TypeError(f"a setting group handler returns None/True (accept), False or a DataAccessError "
                        f"(refuse), not {out!r}")

    def complete_sg(self, token: int, result: int, what: str) -> None:
        self.finish(self.lib.i61_server_complete_sg, token, result, what, "the client got temporarily-unavailable")

    def handle_file(self, ev: Any, conn_id: int) -> None:
        """A file operation: build the :class:`FileRequest`, run the file handler,
        answer with ``i61_server_complete_file``."""
        ffi, lib = self.ffi, self.lib
        token = int(ev.token)
        path = ffi.string(lib.i61_server_event_file_path(ev)).decode("utf-8", "replace")
        new_path = ffi.string(lib.i61_server_event_file_new_path(ev)).decode("utf-8", "replace")
        op = _FILE_OPS.get(int(ev.fc))
        what = f"file {op.value if op else int(ev.fc)} of {path!r}"
        if self.stopping:
            log.debug("%s dropped: the server stopped", what)
            return
        handler = self.file_handler
        if handler is None or op is None:  # removed meanwhile: allowed, as without a handler
            self.complete_file(token, _HOOK_ACCEPT if op is not None else int(FileError.FILE_ACCESS_DENIED), what)
            return
        conn = self.peers.get(conn_id) or ClientConnection(conn_id, "")
        if op is FileOperation.OBTAIN:  # the C event: path = the client's file, new_path = the destination
            req = FileRequest(op, new_path, None, path, conn, self.filestore)
        else:
            req = FileRequest(op, path, new_path if op is FileOperation.RENAME else None, None, conn, self.filestore)
        try:
            result = self.file_answer(handler(req))
        except FileRejected as rej:
            log.debug("%s refused by the file handler: %s", what, rej)
            result = int(rej.error)
        except DataAccessRejected as rej:
            log.debug("%s refused by the file handler: %s", what, rej)
            result = int(FileError.FILE_ACCESS_DENIED)
        except Exception:
            self.handler_failures += 1
            log.exception("exception in the file handler for %s (client %s): refused with file-access-denied",
                          what, conn.peer)
            result = int(FileError.FILE_ACCESS_DENIED)
        self.complete_file(token, result, what)

    @staticmethod
    def file_answer(out: Any) -> int:
        if out is None or out is True:
            return _HOOK_ACCEPT
        if out is False:
            return int(FileError.FILE_ACCESS_DENIED)
        if isinstance(out, FileError):
            return int(out)
        raise TypeError(f"a file handler returns None/True (allow), False or a FileError (refuse), not {out!r}")

    def complete_file(self, token: int, result: int, what: str) -> None:
        self.finish(self.lib.i61_server_complete_file, token, result, what, "the client got file-access-denied")

    def file_stats(self, ptr: Any) -> FileStats:
        st = self.ffi.new("i61_server_file_stats *")
        self.lib.i61_server_get_file_stats(ptr, st)
        return FileStats(int(st.opened), int(st.octets_read), int(st.deleted), int(st.renamed), int(st.obtained),
                         int(st.octets_obtained), int(st.refused), int(st.open_now))

    def control_action(self, c: Any, stage: ControlStage, conn_id: int, ref: str,
                       mv: Optional[MmsValue]) -> ControlAction:
        ffi = self.ffi
        peer = ffi.string(c.peer).decode("utf-8", "replace")
        conn = self.peers.get(conn_id) or ClientConnection(conn_id, peer)
        n = min(int(c.or_ident_len), 64)
        or_ident = bytes(ffi.buffer(c.or_ident))[:n]
        or_cat = int(c.or_cat)
        model = int(c.ctl_model)
        ctl_model: Any = ControlModel(model) if model in ControlModel._value2member_map_ else model
        is_select = bool(c.is_select)
        no_params = is_select and mv is None  # the Read of SBO (sbo-normal) carries nothing
        return ControlAction(
            reference=ref,
            stage=stage,
            ctl_model=ctl_model,
            is_select=is_select,
            ctl_num=int(c.ctl_num),
            or_cat=OrCat(or_cat) if or_cat in OrCat._value2member_map_ else or_cat,
            or_ident=or_ident,
            t=None if no_params else Timestamp.from_bytes(bytes(ffi.buffer(c.t))),
            oper_time=Timestamp.from_bytes(bytes(ffi.buffer(c.oper_tm))) if c.has_oper_tm else None,
            test=bool(c.test),
            interlock_check=bool(c.interlock_check),
            synchro_check=bool(c.synchro_check),
            peer=peer or conn.peer,
            connection=conn,
            mms_value=mv,
        )

    def control_value(self, hook: _ControlHook, mv: Optional[MmsValue]) -> Any:
        """ctlVal as plain Python; structures (APC's AnalogueValue) as dicts by component name."""
        if mv is None:
            return None
        if not hook.spec_done:
            hook.spec_done = True
            try:
                with self.use() as ptr:
                    hook.ctl_val_spec = self.spec(self.lib.i61_server_model(ptr), f"{hook.reference}.Oper.ctlVal",
                                                  int(FunctionalConstraint.CO))
            except Exception as exc:  # names are still correct without it: components become a list
                log.debug("no type of %s.Oper.ctlVal: %s", hook.reference, exc)
        return _plain(mv, hook.ctl_val_spec)

    @staticmethod
    def control_answer(stage: ControlStage, out: Any) -> int:
        if out is None or out is True:
            return _HOOK_ACCEPT
        if out is False:
            return int(_REFUSAL_CAUSE[stage])
        if isinstance(out, AddCause):
            return int(out)
        raise TypeError(f"a control handler returns None/True (accept), False or an AddCause (refuse), not {out!r}")

    def complete_control(self, token: int, result: int, ref: str, stage: ControlStage) -> None:
        self.finish(self.lib.i61_server_complete_control, token, result, f"{stage.value} of {ref}",
                    "the client got AddCause time-limit-over")

    def run_hook(self, hook: _Hook, token: int, req: Any) -> None:
        try:
            result = self._answer(hook, req)
        except DataAccessRejected as rej:
            log.debug("%s %s refused by the handler: %s", "write" if hook.is_write else "read", req.reference, rej)
            result = int(rej.error)
        except Exception:
            self.handler_failures += 1
            log.exception(
                "exception in the %s handler of %s (client %s): answered %s",
                "write" if hook.is_write else "read", hook.reference, req.connection.peer, self.handler_error.name,
            )
            result = int(self.handler_error)
        self.complete(hook.is_write, token, result, req.reference)

    def _answer(self, hook: _Hook, req: Any) -> int:
        out = hook.callback(req)
        if isinstance(out, DataAccessError):
            return int(out)
        if hook.is_write:
            if out is None or out is True:
                return _HOOK_ACCEPT
            if out is False:
                return int(DataAccessError.OBJECT_ACCESS_DENIED)
            raise TypeError(f"a write handler returns None/True (accept), False or a DataAccessError, not {out!r}")
        if out is None:
            return _HOOK_ACCEPT
        # A read handler's value for its object: store it, then answer from the model.
        self.update(hook.reference, hook.fc, out)
        return _HOOK_ACCEPT

    def update(self, ref: str, fc: int, value: Any) -> None:
        with self.use() as ptr:
            model = self.lib.i61_server_model(ptr)
            spec = self.spec(model, ref, fc)
            mv = to_mms(spec, value, ref)
            err = self.lib.i61_model_set_value(model, ref.encode(), fc, mv._ptr)
        if err != 0:
            raise exception_for(err, f"cannot store the value of {ref}")

    def spec(self, model: Any, ref: str, fc: int) -> VariableSpec:
        ffi, lib = self.ffi, self.lib
        out = ffi.new("i61_typespec **")
        err = lib.i61_model_get_typespec(model, ref.encode(), fc, out)
        if err != 0:
            raise exception_for(err, f"{ref}: no such object")
        try:
            return spec_of(ffi, lib, out[0], ref)
        finally:
            lib.i61_typespec_free(out[0])

    def complete(self, is_write: bool, token: int, result: int, ref: str) -> None:
        self.finish(self.lib.i61_server_complete_write if is_write else self.lib.i61_server_complete_read,
                    token, result, f"{'write' if is_write else 'read'} of {ref}",
                    "the client got temporarily-unavailable")

    def finish(self, complete_fn: Callable[[Any, int, int], int], token: int, result: int, what: str,
               late: str) -> None:
        """Answer a deferred request with the C ``i61_server_complete_*`` function
        ``complete_fn``; ``late`` says what the client got if the answer came too late."""
        with self.c_lock:
            if self.ptr is None:
                return
            err = complete_fn(self.ptr, token, result)
            running = bool(self.lib.i61_server_is_running(self.ptr))
        self.log_completion(err, running, what, late)

    @staticmethod
    def log_completion(err: int, running: bool, what: str, late: str) -> None:
        if err != 0 and not running:
            log.debug("%s: the server stopped before the handler answered", what)
        elif err == IedClientError.OBJECT_DOES_NOT_EXIST:
            log.warning("%s: the handler answered too late (%s)", what, late)
        elif err == IedClientError.CONNECTION_LOST:
            log.debug("%s: the client left before the handler answered", what)
        elif err != 0:
            log.error("completing the %s failed: error %d", what, err)

    # ---- lifetime

    def interrupt(self) -> None:
        """Let the dispatcher finish: it drains the queue, then returns."""
        with self.c_lock:
            if self.ptr is not None:
                self.lib.i61_server_interrupt_events(self.ptr)

    def free(self) -> None:
        """Stop and free the C server (idempotent, never raises)."""
        if _ffi.on_io_thread():
            _ffi.reap_later(self.free)
            return
        try:
            with self.c_lock:
                ptr = self.ptr
                self.ptr = None
                if ptr is None:
                    return
                self.stopping = True
                # the dispatcher (inside i61_server_next_event, counted in `active`)
                # returns at once; it finds the server closed and ends
                self.lib.i61_server_interrupt_events(ptr)
                idle = self.idle.wait_for(lambda: self.active == 0, timeout=_JOIN_TIMEOUT_S)
            self.lib.i61_server_stop(ptr)
            self.stop_dispatcher()
            if not idle:
                # another thread is still inside a call (stuck on the model lock?):
                # stopped, but the memory is left alone rather than freed under it
                log.error("a server is still in use by another thread; stopped but not freed")
                return
            store, self.log_store = self.log_store, None
            if store is not None:  # what the events did not copy yet
                sync_all(store, self.ffi, self.lib, ptr, self.logs)
                store.close()
            self.dropped_final = int(self.lib.i61_server_events_dropped(ptr))
            files = self.file_stats(ptr)
            self.files_final = dataclasses.replace(files, open_now=0)
            self.reports_final = (int(self.lib.i61_server_reports_sent(ptr)),
                                  int(self.lib.i61_server_report_entries_overflowed(ptr)),
                                  int(self.lib.i61_server_reports_dropped(ptr)))
            self.lib.i61_server_free(ptr)
            self.hooks_by_id.clear()
            self.hooks.clear()
            self.controls.clear()
            self.conn_callbacks.clear()
            self.file_handler = None
            self.sg_hooks.clear()
        except Exception:  # finalizers must not raise
            log.exception("error while freeing a server")

# Running servers are kept alive (like running threads) until stopped; they are
# stopped at interpreter exit.
_running: set["IedServer"] = set()
_running_lock = threading.Lock()


@atexit.register
def _stop_all() -> None:
    with _running_lock:
        servers = list(_running)
    for s in servers:
        try:
            s.close()
        except Exception:
            log.exception("error while stopping a server at exit")


class _Target:
    __slots__ = ("node", "fc", "spec")

    def __init__(self, node: Any, fc: int, spec: VariableSpec) -> None:
        self.node = node
        self.fc = fc
        self.spec = spec


# ------------------------------------------------------------------ IedServer


class IedServer:
    """An IEC 61850 server publishing one IED's data model over MMS.

    Create it with :meth:`from_scl` or :meth:`from_dict` (or from an
    :class:`~py61850.scl.IedModel`), then :meth:`start` it. Values are set
    with :meth:`update_value` and the typed ``update_*`` methods, which may be
    called from any thread, before or while the server runs.

    Services: Initiate/Conclude, Identify, Status, GetNameList,
    GetVariableAccessAttributes, Read and Write of every data attribute,
    constructed attribute, data object (per FC) and logical node. Writes follow
    the FC policy of :meth:`set_write_access` (SP, SV, SE writable; CF, DC, ...
    denied; ST and MX never). Data sets and reporting: see below.

    Reporting. Every SCL ``ReportControl`` (``report_controls`` of a logical
    node in the dict form) becomes report control blocks of its LN: the
    instances ``<name>01`` .. ``<name>NN`` for ``RptEnabled max="NN"`` (one,
    ``<name>01``, without ``RptEnabled``), or exactly ``<name>`` with
    ``indexed="false"``; buffered ones (``buffered="true"``) are BRCBs
    (``LD/LN.BR.name``), the others URCBs (``LD/LN.RP.name``). Their initial
    RptID, DatSet (``LD/LN$dataset``), ConfRev, OptFlds, TrgOps, BufTm and
    IntgPd come from the SCL; clients configure and enable them with MMS
    Write, and the library serves them without Python: reservation
    (Resv/ResvTms/Owner), data change, quality change, data update, integrity
    and GI reports, BufTm coalescing, segmentation, the BRCB buffer
    (``report_buffer_size`` octets per BRCB) with EntryID, resynchronisation
    and PurgeBuf. Edition 2 RCBs (``Owner``; BRCB ``ResvTms``) are served
    unless the SCL file is Edition 1 (no ``version="2007"`` on its root; a
    dict model with ``"edition": "1"``).

    As libiec61850's server does: a BRCB buffers from the moment the server
    starts; enabled without an EntryID it sends its whole buffer, the first
    report flagged BufOvfl (the client did not say what it already has);
    enabled after writing the EntryID of the last report a client saw, it
    sends what followed that entry (an EntryID no longer buffered is refused
    with ``object-value-invalid``); writing DatSet, BufTm, TrgOps, IntgPd or
    RptID purges the buffer. SqNum restarts at 0 on every enable. Owner is the
    client's IP address; a URCB reservation ends with its association, a BRCB
    one (ResvTms) is kept ResvTms seconds for the same client address.

    Control. Every data object with an ``Oper`` [CO] structure is
    controllable with the model of its ``ctlModel`` [CF] (direct-normal when
    it has none), ``sboTimeout`` and ``sboClass``: Write ``Oper`` (operate),
    Read ``SBO`` (sbo-normal select), Write ``SBOw`` (sbo-enhanced select),
    Write ``Cancel``, with LastApplError and CommandTermination for the
    enhanced models. Without Python it accepts the commands its model allows
    and sets ``stVal`` from ``ctlVal``; :meth:`on_control` adds interlocking,
    synchrocheck and execution handlers.

    Values set with :meth:`update_value` and friends trigger the reports: an
    attribute triggers by the ``dchg``/``qchg``/``dupd`` flags of its SCL DA
    (components inherit them); attributes without any flag keep the defaults
    (``q`` quality-change, ``t`` nothing, any other data change). A value
    stored again unchanged is a data update (``dupd``), a new value a data or
    quality change.

    Files. With a file store (``filestore=DIR``, or :meth:`set_filestore`)
    clients list, download, upload (ObtainFile), delete and rename the files
    below that directory, and nothing outside it; :meth:`on_file` lets Python
    allow or refuse each operation. See :meth:`set_filestore`.

    Logs. Every SCL ``Log`` of a logical node is a log (MMS journal
    ``LD/LN$LogName``) of ``log_max_entries`` entries (the oldest are dropped),
    and every ``LogControl`` a log control block (``LD/LN.LG.name``) writing
    to its ``logName`` log: while the server runs and LogEna is TRUE (as BRCBs
    buffer from the start of the server), a change of a member of its
    data set (through :meth:`update_value` and friends, or a client's write)
    that matches its TrgOps adds an entry with the member's reference, value
    and reason code; TrgOps integrity with IntgPd adds every member
    periodically. Entry ids count up from 1. Clients read the LCB, enable or
    reconfigure it with MMS Write, and query the log with ReadJournal (by time
    range or after an entry, in pages). With ``log_storage=PATH`` every entry
    is also written to an SQLite file, reloaded when a server is created on it:
    the logs survive a restart and their entry ids keep counting. See
    :meth:`log_info`.

    Setting groups. The ``SettingControl`` of an LLN0 is the LD's setting group
    control block (``LLN0.SP.SGCB``); each attribute with FC SG has one value
    per group (SCL ``Val sGroup="n"``, :meth:`set_sg_value`), FC SG shows the
    active group and FC SE the group being edited. Clients select the active
    group (SelectActiveSG), reserve a group for editing (SelectEditSG, for
    ResvTms seconds or until the client leaves), write SE values and confirm
    them (ConfirmEditSGValues); :meth:`on_setting_group` lets Python refuse a
    change and receive confirmed values. See :meth:`sgcb`.

    GOOSE and sampled values. Every ``GSEControl`` (GOOSE) is a GoCB
    (``LLN0.GO.name``) and every ``SampledValueControl`` an MSVCB
    (``LLN0.MS.name``) or USVCB (``LLN0.US.name``) with the attributes of
    IEC 61850-8-1 (GoEna, GoID, DatSet, ConfRev, NdsCom, DstAddress from the
    ``GSE``/``SMV`` address of the Communication section, MinTime, MaxTime,
    FixedOffs; SvEna, MsvID/UsvID, SmpRate, OptFlds, SmpMod, noASDU ...).
    Clients read and write them (GoEna/SvEna always; GoID, DatSet and
    DstAddress while disabled). The server does not publish GOOSE or SV
    messages itself.

    :param model: the data model: an :class:`~py61850.scl.IedModel`, or a dict
        as for :meth:`from_dict`
    :param vendor: Identify vendor name (default: the IED's ``manufacturer``, else ``"py61850"``)
    :param model_name: Identify model name (default: the IED's ``type``, else ``"py61850 server"``)
    :param revision: Identify revision (default: the IED's ``configVersion``, else the py61850 version)
    :param report_buffer_size: octets of report entries each buffered RCB
        keeps for its client (default 65536); when it is full the oldest
        entries are dropped and the next report sent carries BufOvfl (see
        :attr:`report_entries_overflowed`)
    :param filestore: a directory to serve as the file store (default: no
        file services), see :meth:`set_filestore`
    :param log_storage: an SQLite file that keeps every log entry and is
        reloaded at construction (created when missing); ``None`` (default):
        the logs are in memory only
    :param log_max_entries: entries each log keeps, in memory and in the
        storage file (default 10000; the oldest are dropped)
    :param options: limits, see :meth:`configure`
    :raises LogStorageError: ``log_storage`` is not a usable log storage file
        (not an SQLite database, a database of something else, damaged)

    Used as a context manager, the server is closed (stopped and freed) on exit.
    """

    def __init__(
        self,
        model: Any,
        *,
        vendor: Optional[str] = None,
        model_name: Optional[str] = None,
        revision: Optional[str] = None,
        report_buffer_size: int = DEFAULT_REPORT_BUFFER_SIZE,
        filestore: Union[str, os.PathLike, None] = None,
        log_storage: Union[str, os.PathLike, None] = None,
        log_max_entries: int = DEFAULT_LOG_MAX_ENTRIES,
        **options: Any,
    ) -> None:
        ffi, lib = _ffi.load()
        self._ffi, self._lib = ffi, lib
        if isinstance(model, Mapping):
            from .scl import IedModel

            model = IedModel.from_dict(model)
        self._scl_model = model
        info = BuiltModel()
        m = build_model(model, report_buffer_size=report_buffer_size, log_max_entries=log_max_entries, info=info)
        store: Optional[LogStore] = None
        if log_storage is not None:
            try:
                store = LogStore(log_storage, log_max_entries)
            except BaseException:
                lib.i61_model_free(m)
                raise
        ptr = lib.i61_server_new(m)
        if ptr == ffi.NULL:
            if store is not None:
                store.close()
            raise MemoryError("i61_server_new failed")
        _ffi.start_reaper()
        self._core = _Core(ffi, lib, ptr)
        self._finalizer = weakref.finalize(self, self._core.free)
        self._core.logs = list(info.logs)
        self._core.sg_leaves = {ld: list(refs) for ld, refs in info.sgcbs.items()}
        self._built = info
        self._log_storage = os.path.abspath(os.fspath(log_storage)) if log_storage is not None else None
        if store is not None:
            try:
                self._load_logs(store)
            except BaseException:
                store.close()
                self._finalizer()
                raise
        self._targets: dict[tuple[str, int], _Target] = {}
        self._host = ""
        self.set_identity(
            vendor if vendor is not None else (getattr(model, "manufacturer", None) or "py61850"),
            model_name if model_name is not None else (getattr(model, "ied_type", None) or "py61850 server"),
            revision if revision is not None else (getattr(model, "config_version", None) or __version__),
        )
        if options:
            self.configure(**options)
        if filestore is not None:
            self.set_filestore(filestore)

    def _load_logs(self, store: LogStore) -> None:
        """Reload the stored entries into the logs, then have the logs' new
        entries copied into the store (I61_SEV_LOG events)."""
        ffi, lib, core = self._ffi, self._lib, self._core
        known = set(core.logs)
        for ref in store.stored_logs():
            if ref not in known:
                log.warning("log storage %s holds entries of log %s, which this model does not have: "
                            "kept in the file, not served", store.path, ref)
        with core.use() as ptr:
            for ref in core.logs:
                n = store.load(ffi, lib, ptr, ref)
                if n:
                    log.info("log %s: %d entries reloaded from %s", ref, n, store.path)
                err = lib.i61_server_set_log_events(ptr, ref.encode(), 1, ffi.NULL)
                if err != 0:
                    raise exception_for(err, f"log {ref}: its entries cannot be followed for the storage", ref)
        core.log_store = store

    # ---------------------------------------------------------------- factories

    @classmethod
    def from_scl(
        cls,
        path: Union[str, os.PathLike],
        ied_name: Optional[str] = None,
        access_point: Optional[str] = None,
        **kwargs: Any,
    ) -> "IedServer":
        """A server for one IED of an SCL file (ICD, CID, SCD, IID).

        :param path: the SCL file
        :param ied_name: the IED to serve; may be omitted when the file has one
        :param access_point: the access point whose server to take; may be
            omitted when exactly one has a server
        :param kwargs: as for :class:`IedServer` (identity, ``report_buffer_size``,
            ``filestore``, ``log_storage``, ``log_max_entries``, limits)
        :raises py61850.scl.SclError: the file cannot be read or is invalid
        """
        from .scl import load_scl

        model = load_scl(path).model(ied_name, access_point)
        return cls(model, **kwargs)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], **kwargs: Any) -> "IedServer":
        """A server for a model given as a dict, shaped like
        :meth:`py61850.scl.IedModel.to_dict` (see :meth:`py61850.scl.IedModel.from_dict`)::

            IedServer.from_dict({
                "name": "DEV",
                "logical_devices": [{"inst": "LD0", "logical_nodes": [
                    {"ln_class": "GGIO", "inst": "1", "data_objects": [
                        {"name": "AnIn1", "children": [
                            {"name": "mag", "fc": "MX", "btype": "Struct", "children": [
                                {"name": "f", "fc": "MX", "btype": "FLOAT32", "value": 1.5}]},
                            {"name": "q", "fc": "MX", "btype": "Quality"},
                            {"name": "t", "fc": "MX", "btype": "Timestamp"}]}]}]}]})

        Data sets and report control blocks are entries of a logical node, as
        in SCL (LLN0 here)::

            {"ln_class": "LLN0", "data_objects": [...],
             "data_sets": [{"name": "Meas", "members": [
                 {"ld_inst": "LD0", "ln_class": "GGIO", "ln_inst": "1",
                  "do_name": "AnIn1", "da_name": "mag.f", "fc": "MX"}]}],
             "report_controls": [
                 {"name": "urcbMeas", "dataset": "Meas", "rpt_id": "Meas", "conf_rev": 1,
                  "buf_time": 50, "intg_pd": 1000, "max_instances": 2,
                  "trg_ops": {"dchg": True, "period": True, "gi": True},
                  "opt_fields": {"seq_num": True, "time_stamp": True, "reason_code": True,
                                 "data_set": True, "data_ref": True, "config_ref": True}},
                 {"name": "brcbMeas", "dataset": "Meas", "buffered": True, "indexed": False,
                  "opt_fields": {"seq_num": True, "entry_id": True}}]}

        A DA's trigger options are its ``dchg``/``qchg``/``dupd`` keys; the
        model's ``"edition"`` (``"1"``) selects Edition 1 RCBs.

        Logs, setting groups and GOOSE/SV control blocks are entries of a
        logical node too::

            {"ln_class": "LLN0", ...,
             "logs": ["EventLog"],
             "log_controls": [{"name": "EventLog", "log_name": "EventLog", "dataset": "Events",
                               "trg_ops": {"dchg": True, "qchg": True}}],
             "setting_control": {"num_of_sgs": 2, "act_sg": 1},
             "gse_controls": [{"name": "gcb1", "app_id": "DEV/gcb1", "dataset": "Events", "conf_rev": 1,
                               "address": {"MAC-Address": "01-0C-CD-01-00-01", "APPID": "1001",
                                           "VLAN-ID": "005", "VLAN-PRIORITY": "4"},
                               "min_time": 4, "max_time": 1000}],
             "sv_controls": [{"name": "msv1", "smv_id": "DEV/msv1", "dataset": "Meas", "smp_rate": 80,
                              "nof_asdu": 1, "multicast": True, "address": {...}}]}

        and an attribute with FC SG has its per-group values in ``"sgroup_values"``
        (``{1: 1.5, 2: 2.5}``).

        :param kwargs: as for :class:`IedServer` (identity, ``report_buffer_size``,
            ``filestore``, ``log_storage``, ``log_max_entries``, limits)
        :raises py61850.scl.SclError: the spec is invalid (with the path of the bad entry)
        """
        from .scl import IedModel

        return cls(IedModel.from_dict(spec), **kwargs)

    # ---------------------------------------------------------------- configuration

    @property
    def model(self) -> Any:
        """The :class:`~py61850.scl.IedModel` this server publishes."""
        return self._scl_model

    @property
    def ied_name(self) -> str:
        """The IED name."""
        return str(self._scl_model.name)

    @property
    def logical_devices(self) -> list[str]:
        """The logical device (MMS domain) names."""
        return [ld.domain_name for ld in self._scl_model.logical_devices]

    def set_identity(self, vendor: str, model: str, revision: str) -> None:
        """Set the answer to MMS Identify.

        :raises InvalidArgumentError: a string is too long or not ASCII
        """
        args = (_ascii(vendor, "vendor"), _ascii(model, "model"), _ascii(revision, "revision"))
        with self._core.use() as ptr:
            err = self._lib.i61_server_set_identity(ptr, *args)
        if err != 0:
            raise exception_for(err, "invalid identity (strings must be short, printable ASCII)")
        self._identity = (vendor, model, revision)

    @property
    def identity(self) -> tuple[str, str, str]:
        """``(vendor, model, revision)`` answered to Identify."""
        return self._identity

    def configure(
        self,
        *,
        max_connections: Optional[int] = None,
        max_pdu_size: Optional[int] = None,
        max_outstanding: Optional[int] = None,
        handshake_timeout: Optional[float] = None,
        idle_timeout: Optional[float] = None,
        hook_timeout: Optional[float] = None,
        handler_error: Optional[DataAccessError] = None,
        max_open_files: Optional[int] = None,
    ) -> None:
        """Set limits (``None`` leaves a setting unchanged).

        :param max_connections: simultaneous associations (default 100); takes
            effect at the next :meth:`start`
        :param max_pdu_size: largest MMS PDU in octets, 512..65000 (default 65000)
        :param max_outstanding: requests a client may have in flight (default 10)
        :param handshake_timeout: seconds a new connection has to complete the
            association (default 10); then it is closed
        :param idle_timeout: seconds of silence after which an association is
            closed (default 0 = never)
        :param hook_timeout: seconds a read/write handler may take before the
            client is answered ``temporarily-unavailable`` (default 10); a
            control handler that takes longer refuses with AddCause
            time-limit-over, a file handler with file-access-denied
        :param handler_error: the DataAccessError answered when a handler raises
            (default ``TEMPORARILY_UNAVAILABLE``)
        :param max_open_files: files one client may have open at once for
            download, 1..1024 (default 8); a FileOpen beyond is refused with
            file-busy. A client's files are closed when its association ends.
        """
        if max_open_files is not None:
            n = int(max_open_files)
            if not 1 <= n <= 1024:
                raise InvalidArgumentError("max_open_files must be 1..1024", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        with self._core.use() as ptr:
            self._configure(ptr, max_connections, max_pdu_size, max_outstanding, handshake_timeout, idle_timeout,
                            hook_timeout)
            if max_open_files is not None:
                self._lib.i61_server_set_max_open_files(ptr, int(max_open_files))
        if handler_error is not None:
            self._core.handler_error = DataAccessError(handler_error)

    def _configure(self, ptr: Any, max_connections: Optional[int], max_pdu_size: Optional[int],
                   max_outstanding: Optional[int], handshake_timeout: Optional[float],
                   idle_timeout: Optional[float], hook_timeout: Optional[float]) -> None:
        lib = self._lib
        if max_connections is not None:
            lib.i61_server_set_max_connections(ptr, _positive(max_connections, "max_connections"))
        if max_pdu_size is not None:
            n = int(max_pdu_size)
            if not 512 <= n <= 65000:
                raise InvalidArgumentError("max_pdu_size must be 512..65000", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
            lib.i61_server_set_max_pdu_size(ptr, n)
        if max_outstanding is not None:
            lib.i61_server_set_max_outstanding(ptr, _positive(max_outstanding, "max_outstanding"))
        if handshake_timeout is not None or idle_timeout is not None:
            hs = self._timeouts[0] if handshake_timeout is None else _ms(handshake_timeout, "handshake_timeout")
            idle = self._timeouts[1] if idle_timeout is None else _ms(idle_timeout, "idle_timeout")
            lib.i61_server_set_timeouts(ptr, hs, idle)
            self._timeouts = (hs, idle)
        if hook_timeout is not None:
            lib.i61_server_set_hook_timeout(ptr, _ms(hook_timeout, "hook_timeout"))

    _timeouts: tuple[int, int] = (10000, 0)

    @property
    def handler_error(self) -> DataAccessError:
        """The DataAccessError a client gets when a read/write handler raises."""
        return self._core.handler_error

    @handler_error.setter
    def handler_error(self, value: DataAccessError) -> None:
        self._core.handler_error = DataAccessError(value)

    def set_write_access(self, fc: FcLike, allow: bool) -> None:
        """Allow or deny MMS Write for attributes of one functional constraint.

        Defaults: SP, SV, SE allowed; CF, DC, SG, SR, OR, BL, EX denied. ST and MX
        are never writable; CO, RP, BR, LG, GO, US, MS only through their services.

        :raises AccessDeniedError: the FC cannot be made writable
        """
        f = fc_arg(fc)
        with self._core.use() as ptr:
            err = self._lib.i61_server_set_write_access(ptr, f, 1 if allow else 0)
        if err != 0:
            raise exception_for(err, f"write access of FC {FunctionalConstraint(f).name} cannot be changed")

    # ---------------------------------------------------------------- lifecycle

    def start(self, port: int = 102, host: str = "0.0.0.0") -> "IedServer":
        """Listen on ``host:port`` and serve on the library's I/O thread.

        :param port: TCP port; 0 picks a free one (see :attr:`port`)
        :param host: address to listen on (``"0.0.0.0"`` or ``""``: all IPv4
            interfaces, ``"127.0.0.1"``: loopback only)
        :returns: the server itself (``IedServer.from_scl(p).start(0)``)
        :raises RuntimeError: the server is already running or closed
        :raises OSError: the port cannot be bound (in use, no permission)
        """
        lib, core = self._lib, self._core
        port = int(port)
        if not 0 <= port <= 65535:
            raise InvalidArgumentError("port must be 0..65535", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        host_b = _ascii(host or "", "host")
        with core.use() as ptr:
            if lib.i61_server_is_running(ptr):
                raise RuntimeError("the server is already running")
            err = lib.i61_server_start(ptr, host_b, port)
            if err == 0:
                core.start_dispatcher()
        if err != 0:
            if err == IedClientError.ALREADY_CONNECTED:
                raise RuntimeError("the server is already running")
            if err == IedClientError.USER_PROVIDED_INVALID_ARGUMENT:
                raise InvalidArgumentError(f"cannot listen on {host!r}: the address does not resolve", err)
            raise OSError(f"cannot listen on {host or '*'}:{port} (port in use or not permitted)")
        self._host = host
        with _running_lock:
            _running.add(self)
        log.info("IED %s serving on %s:%d", self.ied_name, host or "*", self.port)
        return self

    def stop(self) -> None:
        """Close every association and stop listening. Requests waiting for a
        handler are dropped; the connection callbacks of the associations it
        closes have run when it returns (unless it is called from a handler or
        callback). The server can be started again."""
        core = self._core
        core.check_not_locked("stop()")
        try:
            ptr = core.enter()
        except RuntimeError:  # closed: nothing runs
            ptr = None
        if ptr is not None:
            try:
                if self._lib.i61_server_is_running(ptr):
                    core.stopping = True  # requests still queued are dropped with the run
                self._lib.i61_server_stop(ptr)
                # the dispatcher delivers the queued connection events (the
                # disconnections of this stop among them), then ends
                self._lib.i61_server_interrupt_events(ptr)
            finally:
                core.leave()
            core.stop_dispatcher()
            core.peers.clear()
        with _running_lock:
            _running.discard(self)

    def close(self) -> None:
        """Stop the server and free it (and its model). Idempotent.

        Waits (up to 5 s) for calls of other threads into this server to end.
        """
        self.stop()
        self._finalizer()

    def __enter__(self) -> "IedServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _query(self, fn: Callable[[Any], int]) -> int:
        try:
            ptr = self._core.enter()
        except RuntimeError:
            return 0
        try:
            return int(fn(ptr))
        finally:
            self._core.leave()

    @property
    def is_running(self) -> bool:
        """True while listening."""
        return bool(self._query(self._lib.i61_server_is_running))

    @property
    def port(self) -> int:
        """The TCP port listened on (0 when not running)."""
        return self._query(self._lib.i61_server_port)

    @property
    def host(self) -> str:
        """The address given to :meth:`start`."""
        return self._host

    @property
    def connection_count(self) -> int:
        """Open associations (TCP connections accepted and not yet closed)."""
        return self._query(self._lib.i61_server_connection_count)

    @property
    def handler_failures(self) -> int:
        """How many times a read, write or control handler raised (each was logged)."""
        return self._core.handler_failures

    @property
    def dropped_requests(self) -> int:
        """Requests refused with ``temporarily-unavailable`` because the event
        queue of the handlers was full (4096 waiting requests and connection
        events), plus connection events dropped for the same reason. Each
        overflow is also logged (logger ``py61850.server``, at most once a second)."""
        if self._core.ptr is None:
            return self._core.dropped_final
        return self._query(self._lib.i61_server_events_dropped)

    @property
    def reports_sent(self) -> int:
        """Reports sent to clients since the server was created (report PDUs:
        each segment of a segmented report counts as one)."""
        if self._core.ptr is None:
            return self._core.reports_final[0]
        return self._query(self._lib.i61_server_reports_sent)

    @property
    def report_entries_overflowed(self) -> int:
        """Report entries dropped because a BRCB's buffer was full (see
        ``report_buffer_size``); the client sees BufOvfl in its next report."""
        if self._core.ptr is None:
            return self._core.reports_final[1]
        return self._query(self._lib.i61_server_report_entries_overflowed)

    @property
    def reports_dropped(self) -> int:
        """Reports of unbuffered RCBs dropped because their client did not read
        them fast enough (more than 4 MiB waiting for it); that client sees a gap
        in the sequence numbers. Buffered RCBs keep such reports in their buffer."""
        if self._core.ptr is None:
            return self._core.reports_final[2]
        return self._query(self._lib.i61_server_reports_dropped)

    @property
    def file_stats(self) -> FileStats:
        """Counters of the file services (:class:`FileStats`): files opened,
        octets sent, deletions, renames, uploads, refusals, and the files open
        right now (``open_now``: 0 once every download was closed, by its
        client or by the end of its association)."""
        try:
            ptr = self._core.enter()
        except RuntimeError:
            return self._core.files_final
        try:
            return self._core.file_stats(ptr)
        finally:
            self._core.leave()

    def __repr__(self) -> str:
        if self._core.ptr is None:
            state = "closed"
        else:
            port = self.port
            state = f"running on port {port}" if port else "stopped"
        return f"<IedServer {self.ied_name} {state}>"

    # ---------------------------------------------------------------- values

    @contextlib.contextmanager
    def lock(self) -> Iterator["IedServer"]:
        """Make several updates atomic for the clients::

            with server.lock():
                server.update_value(ref_mag, 12.5)
                server.update_quality(ref_q, Quality())
                server.update_timestamp(ref_t, Timestamp.now())

        Clients are not answered while the lock is held: keep the block short,
        and do not call :meth:`stop` or :meth:`close` inside it. Re-entrant.
        """
        lib, core = self._lib, self._core
        ptr = core.enter()
        m = lib.i61_server_model(ptr)
        lib.i61_model_lock(m)
        core.locked.depth = getattr(core.locked, "depth", 0) + 1
        try:
            yield self
        finally:
            core.locked.depth -= 1
            lib.i61_model_unlock(m)
            core.leave()

    def _target(self, ref: Reference, fc: FcLike) -> tuple[str, _Target]:
        ref_s = ref.decode("utf-8", "replace") if isinstance(ref, (bytes, bytearray)) else str(ref)
        f = fc_arg(fc)
        key = (ref_s, f)
        t = self._targets.get(key)
        if t is not None:
            return ref_s, t
        ffi, lib = self._ffi, self._lib
        node = ffi.new("i61_mnode **")
        fc_out = ffi.new("int *")
        spec_out = ffi.new("i61_typespec **")
        ref_b = _ref_bytes(ref_s)
        with self._core.use() as ptr:
            m = lib.i61_server_model(ptr)
            err = lib.i61_model_find(m, ref_b, f, node, fc_out)
            if err == 0:
                err = lib.i61_model_get_typespec(m, ref_b, f, spec_out)
        if err != 0:
            if err == IedClientError.OBJECT_REFERENCE_INVALID and f == FunctionalConstraint.NONE:
                raise exception_for(err, f"{ref_s}: invalid or ambiguous reference (give the functional constraint)", ref_s)
            raise exception_for(err, f"{ref_s}{_fc_txt(f)}: no such object in the model", ref_s)
        try:
            spec = spec_of(ffi, lib, spec_out[0], ref_s)
        finally:
            lib.i61_typespec_free(spec_out[0])
        t = _Target(node[0], int(fc_out[0]), spec)
        if len(self._targets) < 65536:
            self._targets[key] = t
        return ref_s, t

    def variable_spec(self, ref: Reference, fc: FcLike = None) -> VariableSpec:
        """The MMS type of an object, as clients see it with GetVariableAccessAttributes.

        :raises ObjectDoesNotExistError: no such object
        """
        return copy.deepcopy(self._target(ref, fc)[1].spec)

    def resolve_fc(self, ref: Reference, fc: FcLike = None) -> FunctionalConstraint:
        """The functional constraint a reference designates (``NONE`` for a whole LN).

        :raises ObjectReferenceInvalidError: the reference needs an FC (several FCs
            below it) or is malformed
        """
        return FunctionalConstraint(self._target(ref, fc)[1].fc)

    def _set(self, ref_s: str, t: _Target, mv: MmsValue) -> None:
        lib, core = self._lib, self._core
        ptr = core.enter()
        try:
            err = lib.i61_model_set_node_value(lib.i61_server_model(ptr), t.node, t.fc, mv._ptr)
        finally:
            core.leave()
        if err != 0:
            if err == IedClientError.TYPE_INCONSISTENT:
                raise TypeInconsistentError(
                    f"{ref_s}{_fc_txt(t.fc)}: {mv!r} does not match the attribute's type", err, ref_s)
            raise exception_for(err, f"cannot update {ref_s}{_fc_txt(t.fc)}", ref_s)

    def _current(self, t: _Target) -> Callable[[], MmsValue]:
        def get() -> MmsValue:
            return self._get(t)

        return get

    def _get(self, t: _Target) -> MmsValue:
        ffi, lib, core = self._ffi, self._lib, self._core
        out = ffi.new("i61_value **")
        ptr = core.enter()
        try:
            err = lib.i61_model_get_node_value(lib.i61_server_model(ptr), t.node, t.fc, out)
        finally:
            core.leave()
        if err != 0:
            raise exception_for(err, "cannot read the value")
        return MmsValue._own(out[0])

    def update_value(self, ref: Reference, value: Any, fc: FcLike = None) -> None:
        """Set the value of an attribute (or of a constructed attribute, a data
        object restricted to one FC, or an array).

        :param ref: ``"LD/LN.DO.DA[.BDA...]"`` or ``"LD/LN$FC$DO$DA..."``
        :param value: an :class:`MmsValue`, or a Python value converted to the
            attribute's MMS type: bool, int, float, str, bytes,
            :class:`BitString` / :class:`Quality` / ``"0101"`` / int (bit
            strings), aware datetime / :class:`Timestamp` / POSIX seconds (UtcTime),
            a sequence or a mapping by component name (structures; components
            missing from a mapping keep their value), a sequence (arrays)
        :param fc: functional constraint; optional when the reference designates
            attributes of one FC only
        :raises ObjectDoesNotExistError: no such object
        :raises ObjectReferenceInvalidError: the reference is ambiguous without ``fc``
        :raises InvalidArgumentError: the value does not fit the attribute's type
        :raises TypeInconsistentError: an :class:`MmsValue` of another type
        """
        ref_s, t = self._target(ref, fc)
        mv = to_mms(t.spec, value, ref_s, self._current(t))
        self._set(ref_s, t, mv)

    def _typed(self, ref: Reference, fc: FcLike, value: Any, types: Sequence[MmsType], what: str) -> None:
        ref_s, t = self._target(ref, fc)
        if t.spec.type not in types:
            raise TypeInconsistentError(
                f"{ref_s}{_fc_txt(t.fc)} is {t.spec.type.name}, not {what}", IedClientError.TYPE_INCONSISTENT, ref_s)
        self._set(ref_s, t, to_mms(t.spec, value, ref_s))

    def update_boolean(self, ref: Reference, value: bool, fc: FcLike = None) -> None:
        """Set a BOOLEAN attribute."""
        self._typed(ref, fc, bool(value), (MmsType.BOOLEAN,), "BOOLEAN")

    def update_int32(self, ref: Reference, value: int, fc: FcLike = None) -> None:
        """Set an INTEGER (INT8..INT32, Enum) or UNSIGNED attribute from an int in the INT32 range."""
        v = int(value)
        if not -(1 << 31) <= v < (1 << 31):
            raise InvalidArgumentError(f"{v} does not fit INT32", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        self._typed(ref, fc, v, (MmsType.INTEGER, MmsType.UNSIGNED), "an integer")

    def update_int64(self, ref: Reference, value: int, fc: FcLike = None) -> None:
        """Set an INTEGER or UNSIGNED attribute (the value must fit its width)."""
        self._typed(ref, fc, int(value), (MmsType.INTEGER, MmsType.UNSIGNED), "an integer")

    def update_uint32(self, ref: Reference, value: int, fc: FcLike = None) -> None:
        """Set an UNSIGNED (INT8U..INT32U) or INTEGER attribute from an int in 0..2**32-1."""
        v = int(value)
        if not 0 <= v < (1 << 32):
            raise InvalidArgumentError(f"{v} does not fit INT32U", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        self._typed(ref, fc, v, (MmsType.UNSIGNED, MmsType.INTEGER), "an integer")

    def update_float(self, ref: Reference, value: float, fc: FcLike = None) -> None:
        """Set a FLOAT32 or FLOAT64 attribute."""
        self._typed(ref, fc, float(value), (MmsType.FLOAT,), "FLOAT")

    def update_string(self, ref: Reference, value: str, fc: FcLike = None) -> None:
        """Set a visible string or MMS (Unicode) string attribute."""
        self._typed(ref, fc, value, (MmsType.VISIBLE_STRING, MmsType.STRING), "a string")

    def update_octet_string(self, ref: Reference, value: bytes, fc: FcLike = None) -> None:
        """Set an octet string attribute."""
        self._typed(ref, fc, value, (MmsType.OCTET_STRING,), "an octet string")

    def update_bit_string(self, ref: Reference, value: Union[BitString, Sequence[bool], str, int], fc: FcLike = None) -> None:
        """Set a bit string attribute (Dbpos, Check, ...): a :class:`BitString`,
        a sequence of bools, ``"01"`` or an int over the string's bits (bit 0 = most significant)."""
        self._typed(ref, fc, value, (MmsType.BIT_STRING,), "a bit string")

    def update_quality(self, ref: Reference, value: Quality, fc: FcLike = None) -> None:
        """Set a quality attribute from a :class:`Quality`."""
        if not isinstance(value, Quality):
            raise TypeError(f"update_quality needs a Quality, got {type(value).__name__}")
        self._typed(ref, fc, value, (MmsType.BIT_STRING,), "a quality")

    def update_timestamp(
        self, ref: Reference, value: Union[Timestamp, _dt.datetime, float, None] = None, fc: FcLike = None
    ) -> None:
        """Set a UtcTime attribute (``t``) from a :class:`Timestamp`, an aware
        datetime or POSIX seconds; ``None`` means now."""
        if value is None:
            value = Timestamp.now()
        self._typed(ref, fc, value, (MmsType.UTC_TIME,), "a UtcTime")

    def get_mms_value(self, ref: Reference, fc: FcLike = None) -> MmsValue:
        """The current value of an object with its MMS type (a copy)."""
        return self._get(self._target(ref, fc)[1])

    def get_value(self, ref: Reference, fc: FcLike = None) -> Any:
        """The current value of an object as plain Python
        (see :meth:`~py61850.client.MmsValue.to_python`; structures are lists)."""
        return self.get_mms_value(ref, fc).to_python()

    # ---------------------------------------------------------------- handlers

    def _set_hook(self, ref: Reference, fc: FcLike, callback: Optional[Callable[[Any], Any]], is_write: bool) -> None:
        ffi, lib = self._ffi, self._lib
        ref_s, t = self._target(ref, fc)
        core = self._core
        key = (is_write, int(ffi.cast("uintptr_t", t.node)), t.fc)
        setter = lib.i61_server_set_queued_write_hook if is_write else lib.i61_server_set_queued_read_hook
        ref_b = _ref_bytes(ref_s)
        f = fc_arg(fc)
        if callback is None:
            with core.use() as ptr:
                err = setter(ptr, ref_b, f, 0, ffi.NULL)
            if err != 0:
                raise exception_for(err, f"cannot remove the handler of {ref_s}", ref_s)
            core.hooks.pop(key, None)  # requests already queued still reach it (core.hooks_by_id)
            return
        if not callable(callback):
            raise TypeError("the handler must be callable (or None to remove it)")
        core.track_connections()  # requests carry the client's address
        hook = core.new_hook(callback, ref_s, t.fc, is_write)
        with core.use() as ptr:
            err = setter(ptr, ref_b, f, 1, ffi.cast("void *", hook.id))
        if err != 0:
            raise exception_for(err, f"cannot set the handler of {ref_s}", ref_s)
        core.hooks[key] = hook

    def on_write(self, ref: Reference, callback: Optional[WriteHandler], fc: FcLike = None) -> None:
        """Call ``callback(request: WriteRequest)`` for every client write of the
        object, of anything inside it, or of a variable containing it.

        The callback runs on the server's handler thread; the client is
        answered when it returns:

        * ``None`` or ``True``: accept (the server stores the value);
        * ``False``: refuse with ``object-access-denied``;
        * a :class:`DataAccessError`: refuse with it (or raise
          :class:`DataAccessRejected`);
        * an exception: logged, refused with :attr:`handler_error`.

        The write access policy (:meth:`set_write_access`) is checked first: a
        write the policy denies never reaches the callback.
        One write handler per object; ``callback=None`` removes it.
        """
        self._set_hook(ref, fc, callback, True)

    def on_read(self, ref: Reference, callback: Optional[ReadHandler], fc: FcLike = None) -> None:
        """Call ``callback(request: ReadRequest)`` for every client read of the
        object, of anything inside it, or of a variable containing it.

        The callback runs on the server's handler thread; the client is
        answered from the model when it returns:

        * ``None``: answer with the current value (the callback may have
          updated it);
        * a :class:`DataAccessError`: refuse with it (or raise
          :class:`DataAccessRejected`);
        * any other value: stored into the handler's object (as
          :meth:`update_value` would), then answered;
        * an exception: logged, refused with :attr:`handler_error`.

        One read handler per object; ``callback=None`` removes it.
        """
        self._set_hook(ref, fc, callback, False)

    def on_connection(self, callback: Optional[ConnectionHandler]) -> None:
        """Call ``callback(connection: ClientConnection, connected: bool)`` when a
        client connects (``True``, TCP connection accepted) and when it goes
        (``False``). Runs on the server's handler thread, in order with the
        read/write handlers (a client's connection comes before its requests).
        ``callback=None`` removes every connection callback."""
        if callback is None:
            self._core.conn_callbacks.clear()
            return
        if not callable(callback):
            raise TypeError("the callback must be callable")
        self._core.conn_callbacks.append(callback)
        self._core.track_connections()

    # ---------------------------------------------------------------- files

    @property
    def filestore(self) -> Optional[str]:
        """The file store root (an absolute path), ``None`` without file services."""
        return self._core.filestore or None

    def set_filestore(self, path: Union[str, os.PathLike, None]) -> None:
        """Serve the files below directory ``path`` (or no files: ``None``).

        Clients then list (FileDirectory), download (FileOpen/FileRead/
        FileClose), upload (ObtainFile: the server fetches the file from the
        client), delete (FileDelete) and rename (FileRename) files by names
        relative to this root, ``/`` separating directories. The root is a
        sandbox: names with ``..`` or ``.`` components, absolute names, names
        with NUL, control characters or ``\\``, and symbolic links (never
        followed, never listed) are refused with file-access-denied; only
        regular files are served, written or removed, never anything outside
        the root.

        Like libiec61850's server, a directory listing is recursive: every
        regular file below the listed directory, named by its path from the
        root (``"COMTRADE/rec1.cfg"``, also when listing ``"COMTRADE"``),
        sorted by name, paged when it does not fit one answer. Uploads are written to a hidden temporary file
        (``.i61-obtain-*``) and renamed into place when complete: a failed or
        interrupted upload leaves nothing behind. Files of 4 GiB and more
        (the size is an Unsigned32 in MMS) are listed with size 4294967295
        and refused at FileOpen.

        May be called while the server runs (operations in progress finish on
        the former root). Without a file store the server rejects the file
        services as unsupported.

        :raises InvalidArgumentError: ``path`` is not a directory that can be opened
        """
        root = "" if path is None else os.path.abspath(os.fsdecode(os.fspath(path)))
        if "\x00" in root:
            raise InvalidArgumentError("the filestore path contains NUL", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        ffi, lib = self._ffi, self._lib
        with self._core.use() as ptr:
            err = lib.i61_server_set_filestore(ptr, os.fsencode(root) if root else ffi.NULL)
        if err != 0:
            raise exception_for(err, f"filestore {root!r}: not a directory that can be opened", root)
        self._core.filestore = root
        log.info("file store %s", root or "removed")

    def on_file(self, callback: Optional[FileHandler]) -> None:
        """Call ``callback(request: FileRequest)`` for every file operation of a
        client: ``open`` (a download starts), ``delete``, ``rename``,
        ``directory`` and ``obtain`` (an upload), after its names passed the
        sandbox checks and before anything is done.

        The callback runs on the server's handler thread; the client is
        answered when it returns:

        * ``None`` or ``True``: allow (the library carries out the operation);
        * ``False``: refuse with file-access-denied;
        * a :class:`FileError`: refuse with it (or raise :class:`FileRejected`;
          :class:`DataAccessRejected` also refuses with file-access-denied);
        * an exception: logged, refused with file-access-denied (counted in
          :attr:`handler_failures`).

        A callback that does not answer within the hook timeout
        (:meth:`configure`) refuses with file-access-denied. The FileRead and
        FileClose requests of an allowed download are not asked again.
        One file handler per server; ``callback=None`` removes it (every
        operation is then allowed).
        """
        ffi, lib, core = self._ffi, self._lib, self._core
        if callback is None:
            with core.use() as ptr:
                lib.i61_server_set_queued_file_hook(ptr, 0, ffi.NULL)
            core.file_handler = None
            return
        if not callable(callback):
            raise TypeError("the file handler must be callable (or None to remove it)")
        core.track_connections()  # requests carry the client's address
        core.file_handler = callback
        with core.use() as ptr:
            lib.i61_server_set_queued_file_hook(ptr, 1, ffi.NULL)

    # ---------------------------------------------------------------- control

    def on_control(
        self,
        ref: Reference,
        *,
        check: Optional[ControlHandler] = None,
        wait: Optional[ControlHandler] = None,
        operate: Optional[ControlHandler] = None,
        update_status: bool = True,
    ) -> None:
        """Handle the control commands of a controllable data object in Python.

        Every stage of a command with a handler calls ``handler(action, value)``
        on the server's handler thread (``action`` a :class:`ControlAction`,
        ``value`` the ``ctlVal`` as plain Python: bool for SPC/DPC, int for
        INC/ENC, a :class:`BitString` for a tap command, a dict by component
        name for APC's AnalogueValue such as ``{"f": 12.5}``; ``None`` for the
        select of an sbo-normal object, which carries no value):

        * ``check``: static tests (interlocking, mode, ...), at every select
          (``action.is_select``) and operate, before the client is answered;
        * ``wait``: dynamic tests (synchrocheck, ...) at operate, after
          ``check``; in the enhanced models after the positive response;
        * ``operate``: the execution; normal models answer the client after
          it, enhanced models send CommandTermination+ (or - with the AddCause)
          after it.

        A handler accepts by returning ``None`` or ``True``; it refuses by
        returning ``False`` (AddCause blocked-by-interlocking for ``check``,
        blocked-by-synchrocheck for ``wait``, unknown for ``operate``), by
        returning an :class:`AddCause`, or by raising :class:`ControlRefused`
        ``(add_cause)``. The client sees the AddCause in the LastApplError the
        server sends (enhanced models) with the negative response or the
        CommandTermination-. A handler that raises anything else is logged and
        refuses with AddCause unknown; one that takes longer than the hook
        timeout (:meth:`configure`) refuses with time-limit-over.

        Stages without a handler accept. A controllable DO with no handler at
        all accepts every command its control model allows. After an accepted
        operate that is not a test the server stores ``stVal := ctlVal`` (for
        a DPC: on/off), ``t``, and ``ctlNum``/``origin`` of the object where
        it has them; ``update_status=False`` leaves ``stVal`` to the
        ``operate`` handler (for example a breaker that reaches its position
        later, set with :meth:`update_value`).

        The select state machine (sboTimeout, operate-once/operate-many, one
        client at a time), Cancel, ctlNum checks, test mode, CommandTermination,
        LastApplError and time-activated operate (``operTm``: the check runs at
        once, wait and operate at that time) are the library's: handlers only
        decide.

        Calling ``on_control(ref)`` without handlers removes them. One
        registration per object; a new one replaces the previous.

        :param ref: the data object, ``"LD/LN.DO"``
        :raises ObjectDoesNotExistError: no such object, or it is not
            controllable (no ``Oper`` [CO])
        """
        ref_s = ref.decode("utf-8", "replace") if isinstance(ref, (bytes, bytearray)) else str(ref)
        handlers: dict[ControlStage, ControlHandler] = {}
        for stage, fn in ((ControlStage.CHECK, check), (ControlStage.WAIT, wait), (ControlStage.OPERATE, operate)):
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"the {stage.value} handler must be callable (or None)")
                handlers[stage] = fn
        mask = sum(_STAGE_BITS[st] for st in handlers)
        ffi, lib, core = self._ffi, self._lib, self._core
        ref_b = _ref_bytes(ref_s)
        hook = core.new_control_hook(ref_s, handlers) if handlers else None
        userdata = ffi.cast("void *", hook.id) if hook is not None else ffi.NULL
        with core.use() as ptr:
            err = lib.i61_server_set_control_handler(ptr, ref_b, mask, 1 if update_status else 0, userdata)
        if err != 0:
            if err == IedClientError.OBJECT_DOES_NOT_EXIST:
                raise exception_for(err, f"{ref_s}: no controllable data object (LD/LN.DO with Oper [CO])", ref_s)
            raise exception_for(err, f"cannot set the control handlers of {ref_s}", ref_s)
        if hook is None:
            core.controls.pop(ref_s, None)  # commands already queued still reach it (core.hooks_by_id)
        else:
            core.controls[ref_s] = hook

    def control_model(self, ref: Reference) -> Optional[ControlModel]:
        """The control model the server applies to a data object (``"LD/LN.DO"``),
        or ``None`` when it is not controllable."""
        ref_s = ref.decode("utf-8", "replace") if isinstance(ref, (bytes, bytearray)) else str(ref)
        ref_b = _ref_bytes(ref_s)
        with self._core.use() as ptr:
            m = int(self._lib.i61_server_control_model(ptr, ref_b))
        return ControlModel(m) if m in ControlModel._value2member_map_ else None

    def set_control_model(
        self,
        ref: Reference,
        model: Union[ControlModel, int],
        *,
        sbo_timeout: float = 30.0,
        operate_many: bool = False,
    ) -> None:
        """Declare a data object's control model (instead of its ``ctlModel``
        [CF] attribute), with the select timeout and class of the SBO models;
        also stores ``ctlModel``/``sboTimeout``/``sboClass`` [CF] where the
        object has them. Use it before :meth:`start` (a select in progress
        keeps the former settings).

        :param ref: the data object, ``"LD/LN.DO"``
        :param model: the :class:`ControlModel`
        :param sbo_timeout: seconds a selection stays valid without an operate
        :param operate_many: sboClass operate-many (the selection survives an
            operate until it times out) instead of operate-once
        :raises ObjectDoesNotExistError: no such data object
        :raises InvalidArgumentError: no ``Oper`` [CO] (every model but
            status-only needs it), or a value out of range
        """
        ref_s = ref.decode("utf-8", "replace") if isinstance(ref, (bytes, bytearray)) else str(ref)
        m = int(model)
        if m not in ControlModel._value2member_map_:
            raise InvalidArgumentError(f"control model {m} is not 0..4", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        ms = _ms(sbo_timeout, "sbo_timeout")
        if ms <= 0:
            raise InvalidArgumentError("sbo_timeout must be positive", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        with self._core.use() as ptr:
            err = self._lib.i61_model_set_control(self._lib.i61_server_model(ptr), _ref_bytes(ref_s), m, ms,
                                                  1 if operate_many else 0)
        if err != 0:
            raise exception_for(err, f"cannot make {ref_s} {ControlModel(m).name}", ref_s)


    # ---------------------------------------------------------------- logs

    @property
    def logs(self) -> list[str]:
        """The logs of the model (``"LD/LN$LogName"``, the names ReadJournal takes)."""
        return list(self._core.logs)

    @property
    def log_control_blocks(self) -> list[str]:
        """The log control blocks of the model (``"LD/LN.LG.name"``)."""
        return list(self._built.lcbs)

    @property
    def log_storage(self) -> Optional[str]:
        """The SQLite file the logs are kept in (absolute path), ``None`` for memory only."""
        return self._log_storage

    @property
    def log_storage_failures(self) -> int:
        """Batches of log entries that could not be written to the storage file
        (each was logged; the entries are tried again with the next ones)."""
        store = self._core.log_store
        return store.failures if store is not None else 0

    def log_info(self, log_ref: Reference) -> LogInfo:
        """What a log holds: entry count, oldest and newest entry id and time,
        entries dropped because it was full.

        :param log_ref: ``"LD/LN$LogName"`` (also ``"LD/LN.LogName"``)
        :raises ObjectDoesNotExistError: no such log
        """
        ref = _log_ref(log_ref)
        out = self._ffi.new("i61_log_info *")
        with self._core.use() as ptr:
            err = self._lib.i61_server_log_info(ptr, _ref_bytes(ref), out)
        if err != 0:
            raise exception_for(err, f"{ref}: no such log", ref)
        empty = int(out.count) == 0
        return LogInfo(
            log_ref=ref,
            count=int(out.count),
            oldest_entry_id=None if empty else int(out.oldest_id).to_bytes(8, "big"),
            newest_entry_id=None if int(out.newest_id) == 0 else int(out.newest_id).to_bytes(8, "big"),
            oldest_time=None if empty else _utc_ms(out.oldest_ms),
            newest_time=None if empty else _utc_ms(out.newest_ms),
            dropped=int(out.dropped),
        )

    # ---------------------------------------------------------------- setting groups

    @property
    def setting_group_lds(self) -> list[str]:
        """The logical devices (MMS domains) with a setting group control block."""
        return list(self._built.sgcbs)

    def _sg_ld(self, ld: Reference) -> str:
        """The MMS domain of an LD argument (``"LD0"`` inst, ``"TESTLD0"`` domain,
        ``"TESTLD0/LLN0"``)."""
        text = ld.decode("utf-8", "replace") if isinstance(ld, (bytes, bytearray)) else str(ld)
        name = text.split("/", 1)[0].strip()
        if text.count("/") and text.split("/", 1)[1] not in ("LLN0", ""):
            raise InvalidArgumentError(f"{text!r}: a setting group control block is in LLN0 "
                                       "(give the LD, or LD/LLN0)", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        for d in self._scl_model.logical_devices:
            if name in (d.domain_name, d.inst):
                return str(d.domain_name)
        return name

    def sgcb(self, ld: Reference) -> SettingGroupState:
        """The state of a logical device's setting group control block.

        :param ld: the LD (MMS domain ``"TESTLD0"``, its inst ``"LD0"``, or ``"TESTLD0/LLN0"``)
        :raises ObjectDoesNotExistError: the LD has no SGCB
        """
        return self._core.sgcb_state(self._sg_ld(ld))

    def select_active_sg(self, ld: Reference, sg: int) -> None:
        """Make group ``sg`` the active one (local: no handler is asked): its
        values become the SG values, ActSG and LActTm change.

        :raises ObjectDoesNotExistError: the LD has no SGCB
        :raises InvalidArgumentError: ``sg`` is not 1..NumOfSG
        """
        name = self._sg_ld(ld)
        with self._core.use() as ptr:
            err = self._lib.i61_server_select_active_sg(ptr, _ref_bytes(name), int(sg))
        if err != 0:
            raise exception_for(err, f"{name}: setting group {sg} cannot be activated", name)

    def set_sg_value(self, ref: Reference, sg: int, value: Any) -> None:
        """Set the value of an attribute with FC SG in setting group ``sg``
        (also its SG value when ``sg`` is the active group).

        :param ref: ``"LD/LN.DO.DA"`` (FC SG)
        :param value: as for :meth:`update_value`
        :raises ObjectDoesNotExistError: no such attribute with FC SG, or no such group
        :raises InvalidArgumentError: the value does not fit the attribute's type
        """
        ref_s, t = self._target(ref, FunctionalConstraint.SG)
        mv = to_mms(t.spec, value, ref_s, lambda: self._sg_get(ref_s, sg))
        with self._core.use() as ptr:
            err = self._lib.i61_model_set_sg_value(self._lib.i61_server_model(ptr), _ref_bytes(ref_s), int(sg),
                                                   mv._ptr)
        if err != 0:
            raise exception_for(err, f"cannot set {ref_s} [SG] of setting group {sg}", ref_s)

    def _sg_get(self, ref_s: str, sg: int) -> MmsValue:
        out = self._ffi.new("i61_value **")
        with self._core.use() as ptr:
            err = self._lib.i61_model_get_sg_value(self._lib.i61_server_model(ptr), _ref_bytes(ref_s), int(sg), out)
        if err != 0:
            raise exception_for(err, f"cannot read {ref_s} [SG] of setting group {sg}", ref_s)
        return MmsValue._own(out[0])

    def get_sg_value(self, ref: Reference, sg: int) -> Any:
        """The value of an attribute with FC SG in setting group ``sg``, as plain
        Python (structures as dicts by component name).

        :raises ObjectDoesNotExistError: no such attribute with FC SG, or no such group
        """
        ref_s, t = self._target(ref, FunctionalConstraint.SG)
        return _plain(self._sg_get(ref_s, sg), t.spec)

    def on_setting_group(
        self,
        ld: Reference,
        on_activate: Optional[SettingGroupHandler] = None,
        on_confirm: Optional[SettingGroupHandler] = None,
    ) -> None:
        """Decide the setting group services of a logical device in Python.

        * ``on_activate(change: SettingGroupChange)`` is called when a client
          selects another active group (SelectActiveSG), before anything changes;
        * ``on_confirm(edit: SettingGroupEdit)`` when a client confirms its
          edited values (ConfirmEditSGValues), before they are copied into the
          group; ``edit.values`` holds them by reference.

        They run on the server's handler thread, and the client is answered when
        they return: ``None`` or ``True`` accepts; ``False`` or raising
        :class:`SettingGroupRefused` refuses (the client gets
        ``object-access-denied``, or the :class:`DataAccessError` given to the
        exception or returned); any other exception is logged and answered
        ``temporarily-unavailable``, as is a handler that does not answer within
        the hook timeout (:meth:`configure`).

        Without handlers every valid request is accepted; calling it with neither
        handler removes them. :meth:`select_active_sg` (local) asks no handler.

        :param ld: the LD (MMS domain ``"TESTLD0"``, its inst, or ``"TESTLD0/LLN0"``)
        :raises ObjectDoesNotExistError: the LD has no setting group control block
        """
        for fn, what in ((on_activate, "on_activate"), (on_confirm, "on_confirm")):
            if fn is not None and not callable(fn):
                raise TypeError(f"{what} must be callable (or None)")
        name = self._sg_ld(ld)
        ffi, lib, core = self._ffi, self._lib, self._core
        mask = (1 if on_activate is not None else 0) | (2 if on_confirm is not None else 0)
        hook = core.new_sg_hook(name, on_activate, on_confirm) if mask else None
        if hook is not None:
            core.track_connections()  # requests carry the client's address
        userdata = ffi.cast("void *", hook.id) if hook is not None else ffi.NULL
        with core.use() as ptr:
            err = lib.i61_server_set_sg_handler(ptr, _ref_bytes(name), mask, userdata)
        if err != 0:
            raise exception_for(err, f"{name}: cannot set the setting group handlers (no SGCB?)", name)
        if hook is None:
            core.sg_hooks.pop(name, None)  # requests already queued still reach it (core.hooks_by_id)
        else:
            core.sg_hooks[name] = hook

    # ---------------------------------------------------------------- GOOSE / SV

    @property
    def goose_control_blocks(self) -> list[str]:
        """The GOOSE control blocks of the model (``"LD/LLN0.GO.name"``)."""
        return list(self._built.gocbs)

    @property
    def sv_control_blocks(self) -> list[str]:
        """The sampled value control blocks of the model (``"LD/LLN0.MS.name"`` / ``".US."``)."""
        return list(self._built.svcbs)


# ------------------------------------------------------------------ helpers


def _log_ref(ref: Reference) -> str:
    """``"LD/LN$LogName"`` from that form or ``"LD/LN.LogName"``."""
    text = ref.decode("utf-8", "replace") if isinstance(ref, (bytes, bytearray)) else str(ref)
    ld, sep, rest = text.partition("/")
    if sep and "$" not in rest and "." in rest:
        ln, _, name = rest.rpartition(".")
        return f"{ld}/{ln}${name}"
    return text


def _plain(mv: MmsValue, spec: Optional[VariableSpec]) -> Any:
    """A value as plain Python, structures as dicts when ``spec`` names their components."""
    t = mv.type
    if t == MmsType.STRUCTURE:
        kids = list(mv)
        if spec is not None and spec.type == MmsType.STRUCTURE and len(spec.children) == len(kids):
            return {c.name: _plain(v, c) for c, v in zip(spec.children, kids)}
        return [_plain(v, None) for v in kids]
    if t == MmsType.ARRAY:
        el = spec.element if spec is not None else None
        return [_plain(v, el) for v in mv]
    return mv.to_python()


def _ref_bytes(ref: str) -> bytes:
    b = ref.encode("utf-8")
    if b"\x00" in b:
        raise InvalidArgumentError("the reference contains NUL", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return b


def _fc_txt(fc: int) -> str:
    try:
        f = FunctionalConstraint(fc)
    except ValueError:
        return ""
    return "" if f in (FunctionalConstraint.NONE, FunctionalConstraint.ALL) else f" [{f.name}]"


def _positive(n: Any, what: str) -> int:
    v = int(n)
    if v <= 0:
        raise InvalidArgumentError(f"{what} must be positive", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return v


def _ms(seconds: Any, what: str) -> int:
    s = float(seconds)
    if not 0 <= s <= 4_000_000:
        raise InvalidArgumentError(f"{what} must be 0..4000000 s", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return int(round(s * 1000))

