"""IedConnection: the synchronous MMS client over lib61850's ``i61_client``."""
from __future__ import annotations

import logging
import os
import queue
import threading
import weakref
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterable, NamedTuple, Optional, Sequence, Union

from . import _cb, _ffi, _files, _log
from ._control import ControlObject, LastApplError, _ControlRouter, free_controls
from ._enums import (
    ACSIClass,
    ControlModel,
    FunctionalConstraint,
    IedClientError,
    IedConnectionState,
    MmsType,
    RcbElement,
    ReportOptions,
    ReportTriggerOptions,
)
from ._errors import (
    ConnectionTimeoutError,
    IedConnectionException,
    InvalidArgumentError,
    NotConnectedError,
    ObjectAccessUnsupportedError,
    ObjectDoesNotExistError,
    ObjectUndefinedError,
    UnexpectedValueError,
    code_for_data_access_error,
    describe_code,
    exception_for,
)
from ._cb import GooseControlBlock, LogControlBlock, SettingGroupControlBlock, SVControlBlock
from ._files import FileDirectoryEntry
from ._log import JournalEntry, LogPage
from ._report import (
    Report,
    ReportControlBlock,
    _ReportPump,
    _ReportRouter,
    canonical_rcb_reference,
    mms_member_reference,
    split_rcb_reference,
)
from ._model import (
    DeviceModel,
    LogicalDevice,
    VariableSpec,
    logical_node_from_spec,
    spec_from_c,
)
from ._values import (
    _INT32,
    _INT64,
    _UINT32,
    MmsValue,
    Quality,
    Timestamp,
    _check_range,
)

__all__ = ["DeviceIdentity", "IedConnection", "ServerStatus"]

log = logging.getLogger("py61850.client")

Reference = Union[str, bytes]
FcLike = Union[FunctionalConstraint, int, str]

_DISPATCH_QUEUE_MAX = 1024

# Set while a thread runs inside a C callback (the lib61850 I/O thread); shared
# with the other modules' callbacks (see _ffi.io_callback).
_in_io_callback = _ffi.io_callback

# Rule for everything the I/O thread runs (the state callback): never wait for
# anything Python-level. Another thread may be inside i61_client_free (called
# by a finalizer that the garbage collector ran at an arbitrary point, even
# while that thread starts up or holds a lock), and i61_client_free waits for
# the I/O thread. So the callback only puts into a queue.SimpleQueue (C code,
# never blocks), starts no threads and takes no Python locks. A client
# collected there is freed on the reaper thread (_ffi.reap_later).


class DeviceIdentity(NamedTuple):
    """Answer of the MMS Identify service."""

    #: Vendor name
    vendor: str
    #: Model name
    model: str
    #: Revision
    revision: str


class ServerStatus(NamedTuple):
    """Answer of the MMS Status service."""

    #: VMD logical status (0 state changes allowed, 1 no state changes allowed,
    #: 2 limited services permitted, 3 support services allowed)
    logical: int
    #: VMD physical status (0 operational, 1 partially operational,
    #: 2 inoperable, 3 needs commissioning)
    physical: int


# --------------------------------------------------------------------- helpers


def _ref_bytes(ref: Reference, what: str = "reference") -> bytes:
    if isinstance(ref, str):
        b = ref.encode("utf-8")
    elif isinstance(ref, (bytes, bytearray)):
        b = bytes(ref)
    else:
        raise TypeError(f"{what} must be str or bytes, got {type(ref).__name__}")
    if b"\x00" in b:
        raise InvalidArgumentError(f"{what} contains a NUL character", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return b


def _ref_str(ref: Reference) -> str:
    return ref.decode("utf-8", errors="replace") if isinstance(ref, (bytes, bytearray)) else str(ref)


def _fc(fc: FcLike) -> FunctionalConstraint:
    if isinstance(fc, FunctionalConstraint):
        return fc
    if isinstance(fc, bytes):
        fc = fc.decode("ascii", errors="replace")
    if isinstance(fc, str):
        try:
            return FunctionalConstraint[fc.strip().upper()]
        except KeyError:
            raise InvalidArgumentError(
                f"unknown functional constraint {fc!r}", IedClientError.USER_PROVIDED_INVALID_ARGUMENT
            ) from None
    try:
        return FunctionalConstraint(int(fc))
    except (ValueError, TypeError):
        raise InvalidArgumentError(
            f"unknown functional constraint {fc!r}", IedClientError.USER_PROVIDED_INVALID_ARGUMENT
        ) from None


def _timeout_ms(ms: int, what: str) -> int:
    ms = int(ms)
    if not 0 <= ms <= 0xFFFFFFFF:
        raise InvalidArgumentError(f"{what} must be 0..{0xFFFFFFFF} ms", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return ms


# ------------------------------------------------------------------ dispatcher


class _Dispatcher:
    """Delivers connection events to user callbacks on a thread of its own.

    The thread is started from a user thread when a callback is registered and
    ends when the connection is destroyed. ``post`` runs on the lib61850 I/O
    thread and never waits: it puts into a bounded queue (overflow is counted
    and logged by the delivery thread).
    """

    def __init__(self) -> None:
        self._queue: "queue.SimpleQueue[Optional[tuple[int, int]]]" = queue.SimpleQueue()
        self._lock = threading.Lock()  # user threads only (start)
        self._thread: Optional[threading.Thread] = None
        self._stopped = False
        self.dropped = 0
        self._dropped_reported = 0
        # Only a weak reference to the connection, and no user callbacks here:
        # this object is reachable from the connection's finalizer, so anything
        # it held strongly would keep the connection alive forever.
        self.conn_ref: Optional[weakref.ReferenceType] = None
        self.enabled = False  # a callback is registered

    def start(self) -> None:
        """Start the delivery thread (call from a user thread)."""
        with self._lock:
            if self._thread is None and not self._stopped:
                t = threading.Thread(target=self._run, name="py61850-client-events", daemon=True)
                t.start()
                self._thread = t

    def post(self, item: tuple[int, int]) -> None:
        """Queue an event (I/O thread: no locks, no waiting)."""
        if self._stopped or self._thread is None or not self.enabled:
            return
        if self._queue.qsize() >= _DISPATCH_QUEUE_MAX:
            self.dropped += 1
            return
        self._queue.put(item)

    def stop(self) -> None:
        """Let the delivery thread end after the events already queued (never waits)."""
        self._stopped = True
        self._queue.put(None)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            dropped = self.dropped - self._dropped_reported
            if dropped:
                self._dropped_reported += dropped
                log.warning("%d connection state events were dropped (queue full)", dropped)
            self._deliver(*item)

    def _deliver(self, prev: int, new: int) -> None:
        conn = self.conn_ref() if self.conn_ref is not None else None
        if conn is None:
            return
        try:
            state = IedConnectionState(new)
        except ValueError:
            log.warning("unknown connection state %d from lib61850", new)
            return
        state_cb, closed_cb = conn._state_cb, conn._closed_cb
        if state_cb is not None:
            try:
                state_cb(conn, state)
            except Exception:
                log.exception("exception in the connection state callback %r", state_cb)
        if (
            closed_cb is not None
            and state == IedConnectionState.CLOSED
            and prev in (IedConnectionState.CONNECTED, IedConnectionState.CLOSING)
        ):
            try:
                closed_cb(conn)
            except Exception:
                log.exception("exception in the connection closed callback %r", closed_cb)


# ---------------------------------------------------------------------- handle


class _ClientHandle:
    """Owns the ``i61_client *`` and what the C side calls back into.

    It holds no reference to the :class:`IedConnection`, so that the
    connection can be collected; its ``destroy`` is the connection's finalizer
    (also run at interpreter exit).
    """

    def __init__(self, ffi: Any, lib: Any) -> None:
        self.ffi = ffi
        self.lib = lib
        ptr = lib.i61_client_new()
        if ptr == ffi.NULL:
            raise MemoryError("i61_client_new failed")
        self.ptr: Any = ptr
        self.lock = threading.Lock()
        self.active = 0
        self.dispatcher = _Dispatcher()
        self.reports = _ReportPump(self)  # reports and CommandTerminations
        #: live _ControlHandle objects: freed before the client
        self.controls: set = set()
        self.last_state = int(IedConnectionState.CLOSED)
        self.connected_once = False  # connect() succeeded since the last connect attempt
        self.user_closing = False  # close/abort/release was called since
        self.slots: Optional[threading.BoundedSemaphore] = None
        self.request_timeout_s = 5.0
        self.cb_handle: Any = ffi.new_handle(self)
        lib.i61_client_set_state_handler(ptr, lib._py61850_state_cb, self.cb_handle)

    def enter(self) -> Any:
        with self.lock:
            ptr = self.ptr
            if ptr is None:
                raise NotConnectedError("the connection object has been destroyed", IedClientError.NOT_CONNECTED)
            self.active += 1
            return ptr

    def leave(self) -> None:
        with self.lock:
            self.active -= 1

    def on_state(self, new_state: int) -> None:
        """Runs on the I/O thread: record and hand over, never block."""
        prev = self.last_state
        self.last_state = new_state
        self.dispatcher.post((prev, new_state))

    def destroy(self) -> None:
        """Finalizer: abort and free the C client. Never raises."""
        if _ffi.on_io_thread():
            # Collected on the I/O thread (inside a callback): freeing here
            # would wait for this very thread. Hand it to the reaper thread.
            _ffi.reap_later(self.destroy)
            return
        try:
            # End the report thread first: it leaves the C wait at once (interrupt)
            # and is joined unless the finalizer runs on it.
            self.reports.stop()
            with self.lock:
                ptr = self.ptr
                if ptr is None:
                    return
                busy = self.active > 0
                if not busy:
                    free_controls(self)  # control objects go before their client
                    self.ptr = None
            self.lib.i61_client_set_state_handler(ptr, self.ffi.NULL, self.ffi.NULL)
            self.dispatcher.stop()
            if busy:
                # Another (daemon) thread is still inside a call at interpreter
                # exit: end the association but leave the memory alone.
                self.lib.i61_client_abort(ptr)
                log.debug("client still in use at destruction: aborted, not freed")
                return
            self.lib.i61_client_free(ptr)
            self.cb_handle = None
        except Exception:  # finalizers must not raise
            log.exception("error while destroying a client connection")


def _install_callbacks(ffi: Any, lib: Any) -> None:
    @ffi.def_extern()
    def _py61850_state_cb(userdata: Any, new_state: int) -> None:
        _in_io_callback.active = True
        try:
            handle = ffi.from_handle(userdata)
            handle.on_state(int(new_state))
        except BaseException:  # never let an exception reach C
            log.exception("error in the connection state handler")
        finally:
            _in_io_callback.active = False


_ffi.on_load(_install_callbacks)


# ------------------------------------------------------------------ connection


class IedConnection:
    """A client connection (MMS association) to an IEC 61850 server.

    All methods block until the server answered or the timeout expired, then
    return plain Python values or raise an
    :class:`~py61850.client.IedConnectionException` subclass. Other Python
    threads keep running meanwhile, and one connection may be used from several
    threads at once (requests are pipelined up to the negotiated number of
    outstanding calls; further callers wait for a free slot). References and
    string arguments may be ``str`` or ``bytes``; results are ``str``.

    :param hostname: default host for :meth:`connect` and ``with`` blocks
    :param port: default TCP port (102)

    Used as a context manager the connection is connected on entry (when a
    hostname was given and it is not connected yet) and closed on exit::

        with IedConnection("192.168.1.10") as conn:
            print(conn.get_logical_devices())
    """

    def __init__(self, hostname: Optional[Reference] = None, port: int = 102) -> None:
        ffi, lib = _ffi.load()
        self._ffi = ffi
        self._lib = lib
        self._hostname: Optional[str] = _ref_str(hostname) if hostname is not None else None
        self._port = int(port)
        _ffi.start_reaper()
        self._state_cb: Optional[Callable[["IedConnection", IedConnectionState], None]] = None
        self._closed_cb: Optional[Callable[["IedConnection"], None]] = None
        self._report_router = _ReportRouter()
        self._report_error_hook: Optional[Callable[[BaseException, Report], None]] = None
        self._control_router = _ControlRouter()
        self._h = _ClientHandle(ffi, lib)
        self._filestore_base: Optional[bytes] = None  # set_filestore_basepath (resolved)
        self._h.dispatcher.conn_ref = weakref.ref(self)
        self._h.reports.conn_ref = weakref.ref(self)
        self._finalizer = weakref.finalize(self, self._h.destroy)

    # ---------------------------------------------------------------- plumbing

    def _enter(self) -> Any:
        return self._h.enter()

    def _leave(self) -> None:
        self._h.leave()

    def _acquire_slot(self, op: str, ref: Optional[str], fc: Optional[FunctionalConstraint]) -> Optional[threading.BoundedSemaphore]:
        slots = self._h.slots
        if slots is None:
            return None
        if not slots.acquire(timeout=self._h.request_timeout_s):
            raise ConnectionTimeoutError(
                self._message(op, ref, fc, "no free request slot within the request timeout", IedClientError.TIMEOUT),
                IedClientError.TIMEOUT,
                ref,
                fc,
            )
        return slots

    @staticmethod
    def _message(op: str, ref: Optional[str], fc: Optional[FunctionalConstraint], text: str, code: Any) -> str:
        if ref is not None and ref in text:
            return f"{text} ({describe_code(code)})"
        target = ""
        if ref is not None:
            target = f" {ref}" + (f" [{fc.name}]" if fc is not None and fc != FunctionalConstraint.NONE else "")
        return f"{op}{target}: {text} ({describe_code(code)})"

    def _fail(self, c: Any, err: int, op: str, ref: Optional[str] = None, fc: Optional[FunctionalConstraint] = None) -> IedConnectionException:
        """Build the exception for a failed C call (call right after it, same thread)."""
        ffi, lib = self._ffi, self._lib
        text = ""
        p = lib.i61_client_last_error_text(c)
        if p != ffi.NULL:
            text = ffi.string(p).decode("utf-8", errors="replace").strip()
        return self._fail_code(err, text, op, ref, fc)

    def _fail_code(self, err: int, text: str, op: str, ref: Optional[str] = None,
                   fc: Optional[FunctionalConstraint] = None) -> IedConnectionException:
        """Build the exception for error ``err`` with the C side's ``text``."""
        cause = self._ffi.string(self._lib.i61_err_str(err)).decode("utf-8", errors="replace")
        if cause not in text:  # empty, or left over from an earlier failure
            text = cause
        code = err
        if err == IedClientError.NOT_CONNECTED and self._h.connected_once and not self._h.user_closing:
            code = IedClientError.CONNECTION_LOST
            text = f"{text} (the connection was lost)"
        return exception_for(code, self._message(op, ref, fc, text, code), ref, fc)

    def _call(self, op: str, ref: Optional[str], fc: Optional[FunctionalConstraint], fn: Callable[..., int], *args: Any) -> None:
        """Run ``fn(client, *args)`` holding a request slot; raise on error."""
        c = self._enter()
        try:
            slots = self._acquire_slot(op, ref, fc)
            try:
                err = fn(c, *args)
            finally:
                if slots is not None:
                    slots.release()
            if err != 0:
                raise self._fail(c, err, op, ref, fc)
        finally:
            self._leave()

    def _strlist(self, op: str, ref: Optional[str], fn: Callable[..., int], *args: Any) -> list[str]:
        ffi, lib = self._ffi, self._lib
        out = ffi.new("i61_strlist **")
        self._call(op, ref, None, fn, *args, out)
        lst = out[0]
        if lst == ffi.NULL:
            return []
        try:
            n = lib.i61_strlist_count(lst)
            return [ffi.string(lib.i61_strlist_get(lst, i)).decode("utf-8", errors="replace") for i in range(n)]
        finally:
            lib.i61_strlist_free(lst)

    # --------------------------------------------------------------- lifecycle

    def connect(self, hostname: Optional[Reference] = None, port: Optional[int] = None) -> None:
        """Connect and associate (TCP, ISO layers, MMS Initiate).

        :param hostname: host name or address; default: the one given to the constructor
        :param port: TCP port; default: the one given to the constructor (102)
        :raises ConnectionRejectedError: TCP connection refused or association rejected
        :raises ConnectionTimeoutError: no association within the connect timeout
        :raises AlreadyConnectedError: the connection is already open
        :raises InvalidArgumentError: no hostname, or it does not resolve
        """
        host = _ref_str(hostname) if hostname is not None else self._hostname
        if host is None:
            raise InvalidArgumentError("connect needs a hostname", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        p = self._port if port is None else int(port)
        if not 0 < p < 65536:
            raise InvalidArgumentError(f"invalid port {p}", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        self._hostname, self._port = host, p
        h = self._h
        c = self._enter()
        try:
            err = self._lib.i61_client_connect(c, _ref_bytes(host, "hostname"), p)
            if err == 0:
                h.connected_once = True
                h.user_closing = False
                n = int(self._lib.i61_client_max_outstanding(c))
                h.slots = threading.BoundedSemaphore(n) if n > 0 else None
                h.reports.resume()
                if self._report_router.active() or self._control_router.targets_all():
                    h.reports.ensure_running()
            else:
                if err != IedClientError.ALREADY_CONNECTED:
                    h.connected_once = False
                raise self._fail(c, err, "connect", f"{host}:{p}")
        finally:
            self._leave()
        log.debug("connected to %s:%d (max PDU %d)", host, p, self.max_pdu_size)

    def close(self) -> None:
        """Close the connection: release it, or abort if the release fails.

        Never raises for a connection that is already closed; the connection
        is CLOSED afterwards and may be connected again.
        """
        h = self._h
        with h.lock:
            if h.ptr is None:
                return
        c = self._enter()
        try:
            h.user_closing = True
            err = self._lib.i61_client_close(c)
            if err not in (0, IedClientError.NOT_CONNECTED):
                log.debug("close: %s", describe_code(err))
        finally:
            self._leave()
        h.reports.interrupt()

    def abort(self) -> None:
        """Abort the association (ACSE abort, unanswered) and close TCP.

        Does nothing if the connection is not open.
        """
        c = self._enter()
        try:
            self._h.user_closing = True
            err = self._lib.i61_client_abort(c)
            if err not in (0, IedClientError.NOT_CONNECTED):
                raise self._fail(c, err, "abort")
        finally:
            self._leave()
            self._h.reports.interrupt()

    def release(self) -> None:
        """Release the association (MMS Conclude, ACSE release), then close TCP.

        :raises IedConnectionException: the release failed (for instance the
            server refused it); :meth:`close` or :meth:`abort` always close
        """
        c = self._enter()
        try:
            self._h.user_closing = True
            err = self._lib.i61_client_release(c)
            if err != 0:
                raise self._fail(c, err, "release")
        finally:
            self._leave()
        self._h.reports.interrupt()

    def __enter__(self) -> "IedConnection":
        if self._hostname is not None and self.state == IedConnectionState.CLOSED:
            self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<IedConnection {self._hostname}:{self._port} {self.state.name}>"

    @property
    def state(self) -> IedConnectionState:
        """Current :class:`~py61850.client.IedConnectionState`."""
        h = self._h
        with h.lock:
            ptr = h.ptr
            if ptr is None:
                return IedConnectionState.CLOSED
            h.active += 1
        try:
            return IedConnectionState(self._lib.i61_client_state(ptr))
        finally:
            h.leave()

    @property
    def status(self) -> IedConnectionState:
        """Same as :attr:`state`."""
        return self.state

    @property
    def max_pdu_size(self) -> int:
        """Negotiated maximum MMS PDU size in octets (0 before the first connect)."""
        c = self._enter()
        try:
            return int(self._lib.i61_client_max_pdu_size(c))
        finally:
            self._leave()

    def set_connect_timeout(self, timeout: int) -> None:
        """Set the connect timeout (TCP connect plus association) in ms (default 10000)."""
        ms = _timeout_ms(timeout, "connect timeout")
        c = self._enter()
        try:
            self._lib.i61_client_set_connect_timeout(c, ms)
        finally:
            self._leave()

    def set_request_timeout(self, timeout: int) -> None:
        """Set the timeout of each request in ms (default 5000)."""
        ms = _timeout_ms(timeout, "request timeout")
        c = self._enter()
        try:
            self._lib.i61_client_set_request_timeout(c, ms)
            self._h.request_timeout_s = ms / 1000.0
        finally:
            self._leave()

    def set_max_pdu_size(self, octets: int) -> None:
        """Set the proposed maximum MMS PDU size (default 65000), used from the next connect."""
        n = int(octets)
        if not 0 < n <= 0xFFFFFFFF:
            raise InvalidArgumentError("max PDU size must be positive", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        c = self._enter()
        try:
            self._lib.i61_client_set_max_pdu_size(c, n)
        finally:
            self._leave()

    def on_connection_state_change(
        self, fn: Optional[Callable[["IedConnection", IedConnectionState], None]]
    ) -> None:
        """Set the callback called with ``(connection, new_state)`` on every state change
        (``None`` removes it).

        Callbacks run on a thread owned by this connection, in order, never on
        the network thread: they may call back into the connection. Exceptions
        they raise are logged to the ``py61850.client`` logger.
        """
        self._state_cb = fn
        self._update_dispatcher()

    def on_connection_closed(self, fn: Optional[Callable[["IedConnection"], None]]) -> None:
        """Set the callback called with ``(connection)`` when an open connection
        becomes CLOSED, whatever the cause (``None`` removes it). Same
        threading rules as :meth:`on_connection_state_change`."""
        self._closed_cb = fn
        self._update_dispatcher()

    def _update_dispatcher(self) -> None:
        d = self._h.dispatcher
        d.enabled = self._state_cb is not None or self._closed_cb is not None
        if d.enabled:
            d.start()

    # ----------------------------------------------------------------- server

    def identify(self) -> DeviceIdentity:
        """MMS Identify: vendor, model and revision of the server."""
        ffi, lib = self._ffi, self._lib
        out = ffi.new("char *[3]")
        self._call("identify", None, None, lib.i61_client_identify, out + 0, out + 1, out + 2)
        vals = []
        for i in range(3):
            p = out[i]
            if p == ffi.NULL:
                vals.append("")
            else:
                vals.append(ffi.string(p).decode("utf-8", errors="replace"))
                lib.i61_free(p)
        return DeviceIdentity(*vals)

    def get_server_status(self) -> ServerStatus:
        """MMS Status: the logical and physical status of the server."""
        ffi, lib = self._ffi, self._lib
        out = ffi.new("int[2]")
        self._call("status", None, None, lib.i61_client_status, out + 0, out + 1)
        return ServerStatus(int(out[0]), int(out[1]))

    # -------------------------------------------------------------- directories

    def get_logical_devices(self) -> list[str]:
        """Names of the logical devices (MMS domains), e.g. ``["TESTGenericIO", "TESTLD0"]``."""
        return self._strlist("get_logical_devices", None, self._lib.i61_client_get_domain_names)

    def get_logical_nodes(self, logical_device_name: Reference) -> list[str]:
        """Names of the logical nodes of a logical device, e.g. ``["GGIO1", "LLN0", "LPHD1"]``."""
        ld = _ref_bytes(logical_device_name)
        return self._strlist("get_logical_nodes", _ref_str(logical_device_name), self._lib.i61_client_get_logical_nodes, ld)

    def get_logical_node_directory(self, logical_node_reference: Reference, acsi_class: ACSIClass) -> list[str]:
        """Names of the objects of one ACSI class in a logical node.

        :param logical_node_reference: ``"LD/LN"``
        :param acsi_class: which objects (data objects, data sets, report control blocks, ...)
        """
        ref = _ref_bytes(logical_node_reference)
        return self._strlist(
            "get_logical_node_directory",
            _ref_str(logical_node_reference),
            self._lib.i61_client_get_ln_directory,
            ref,
            int(ACSIClass(acsi_class)),
        )

    def get_logical_device_variables(self, logical_device_name: Reference) -> list[str]:
        """All MMS variable names of a logical device (``GGIO1$MX$AnIn1$mag$f``, ...)."""
        ld = _ref_bytes(logical_device_name)
        return self._strlist(
            "get_logical_device_variables", _ref_str(logical_device_name), self._lib.i61_client_get_variable_names, ld
        )

    def get_logical_node_variables(self, logical_node_reference: Reference) -> list[str]:
        """MMS variable names below a logical node, relative to it (``MX``, ``MX$AnIn1``, ...).

        :param logical_node_reference: ``"LD/LN"``
        """
        ref = _ref_str(logical_node_reference)
        ld, sep, ln = ref.partition("/")
        if not sep or not ld or not ln:
            raise InvalidArgumentError(
                f"logical node reference {ref!r} is not LD/LN", IedClientError.OBJECT_REFERENCE_INVALID
            )
        prefix = ln + "$"
        return [n[len(prefix):] for n in self.get_logical_device_variables(ld) if n.startswith(prefix)]

    def get_logical_device_datasets(self, logical_device_name: Reference) -> list[str]:
        """Names of the data sets of a logical device (``LLN0$Events``, ...)."""
        ld = _ref_bytes(logical_device_name)
        return self._strlist(
            "get_logical_device_datasets", _ref_str(logical_device_name), self._lib.i61_client_get_nvl_names, ld
        )

    def get_data_directory(self, data_reference: Reference) -> list[str]:
        """Names of the attributes / sub data objects of a data object (all FCs).

        :param data_reference: ``"LD/LN.DO[.SDO...]"``
        """
        ref = _ref_bytes(data_reference)
        return self._strlist(
            "get_data_directory", _ref_str(data_reference), self._lib.i61_client_get_data_directory,
            ref, int(FunctionalConstraint.ALL), 0,
        )

    def get_data_directory_fc(self, data_reference: Reference) -> list[str]:
        """Like :meth:`get_data_directory`, each name followed by its FC: ``"q[ST]"``."""
        ref = _ref_bytes(data_reference)
        return self._strlist(
            "get_data_directory_fc", _ref_str(data_reference), self._lib.i61_client_get_data_directory,
            ref, int(FunctionalConstraint.ALL), 1,
        )

    def get_data_directory_by_fc(self, data_reference: Reference, fc: FcLike) -> list[str]:
        """Like :meth:`get_data_directory`, only the attributes with functional constraint ``fc``."""
        ref = _ref_bytes(data_reference)
        return self._strlist(
            "get_data_directory_by_fc", _ref_str(data_reference), self._lib.i61_client_get_data_directory,
            ref, int(_fc(fc)), 0,
        )

    def get_variable_specification(self, object_reference: Reference, fc: FcLike) -> VariableSpec:
        """The MMS type of an object (GetVariableAccessAttributes) as a :class:`VariableSpec` tree.

        :param object_reference: ``"LD/LN.DO[.DA...]"``; with ``FunctionalConstraint.NONE``
            also ``"LD/LN"`` (the whole logical node) or an MMS name ``"LD/LN$FC$..."``
        :param fc: functional constraint of the object
        """
        ffi, lib = self._ffi, self._lib
        ref_s = _ref_str(object_reference)
        f = _fc(fc)
        out = ffi.new("i61_typespec **")
        self._call("get_variable_specification", ref_s, f, lib.i61_client_get_variable_spec, _ref_bytes(object_reference), int(f), out)
        spec = out[0]
        if spec == ffi.NULL:
            raise UnexpectedValueError(
                self._message("get_variable_specification", ref_s, f, "no type in the answer", IedClientError.UNEXPECTED_VALUE_RECEIVED),
                IedClientError.UNEXPECTED_VALUE_RECEIVED, ref_s, f,
            )
        try:
            name = ref_s.replace("/", ".").replace("$", ".").split(".")[-1]
            return spec_from_c(self._ffi, self._lib, spec, name)
        finally:
            lib.i61_typespec_free(spec)

    def get_device_model(self) -> DeviceModel:
        """The whole data model of the server in one call: LD -> LN -> DO -> DA
        with functional constraints and MMS types, plus data set and control
        block names.

        Costs per logical device one variable name list and one data set name
        list, and per logical node one GetVariableAccessAttributes.
        """
        model = DeviceModel()
        for ld in self.get_logical_devices():
            names = self.get_logical_device_variables(ld)
            ln_names = [n for n in names if "$" not in n]
            try:
                ds_names = self.get_logical_device_datasets(ld)
            except (IedConnectionException) as exc:
                if exc.error_code not in (IedClientError.SERVICE_NOT_SUPPORTED, IedClientError.OBJECT_DOES_NOT_EXIST,
                                          IedClientError.ACCESS_DENIED):
                    raise
                ds_names = []
            ds_by_ln: dict[str, list[str]] = {}
            for ds in ds_names:
                ln, sep, rest = ds.partition("$")
                if sep:
                    ds_by_ln.setdefault(ln, []).append(rest)
            dev = LogicalDevice(ld)
            for ln in ln_names:
                spec = self.get_variable_specification(f"{ld}/{ln}", FunctionalConstraint.NONE)
                dev.logical_nodes.append(logical_node_from_spec(ln, spec, ds_by_ln.get(ln)))
            model.logical_devices.append(dev)
        return model

    # -------------------------------------------------------------------- reads

    def _read(self, ref: Reference, fc: FcLike, op: str) -> tuple[MmsValue, str, FunctionalConstraint]:
        ffi, lib = self._ffi, self._lib
        ref_s = _ref_str(ref)
        f = _fc(fc)
        out = ffi.new("i61_value **")
        self._call(op, ref_s, f, lib.i61_client_read_value, _ref_bytes(ref), int(f), out)
        return MmsValue._own(out[0]), ref_s, f

    def _unexpected(self, op: str, ref: str, fc: FunctionalConstraint, text: str) -> UnexpectedValueError:
        code = IedClientError.UNEXPECTED_VALUE_RECEIVED
        return UnexpectedValueError(self._message(op, ref, fc, text, code), code, ref, fc)

    def _typed(self, ref: Reference, fc: FcLike, op: str, types: Sequence[MmsType]) -> tuple[MmsValue, str, FunctionalConstraint]:
        v, ref_s, f = self._read(ref, fc, op)
        t = v.type
        if t not in types:
            want = " or ".join(x.name for x in types)
            raise self._unexpected(op, ref_s, f, f"the server sent {t.name}, expected {want}")
        return v, ref_s, f

    def _read_scalar(self, ref: Reference, fc: FcLike, op: str, ctype: str, fn: Callable[..., int]) -> Any:
        """One typed C read (no MmsValue in between): the fast path of the typed readers.
        The C reader checks the MMS type and answers UNEXPECTED_VALUE_RECEIVED for another one."""
        out = self._ffi.new(ctype)
        self._call(op, _ref_str(ref), _fc(fc), fn, _ref_bytes(ref), int(_fc(fc)), out)
        return out[0]

    def _read_int(self, ref: Reference, fc: FcLike, op: str, bounds: tuple[int, int], label: str) -> int:
        if bounds[0] < 0:
            x = int(self._read_scalar(ref, fc, op, "int64_t *", self._lib.i61_client_read_int64))
        else:
            x = int(self._read_scalar(ref, fc, op, "uint64_t *", self._lib.i61_client_read_uint64))
        if not bounds[0] <= x <= bounds[1]:
            raise self._unexpected(op, _ref_str(ref), _fc(fc), f"value {x} does not fit {label}")
        return x

    def read_value(
        self, object_reference: Reference, fc: FcLike, *, index: Optional[int] = None, component: Optional[Reference] = None
    ) -> MmsValue:
        """Read a functionally constrained data attribute (FCDA) or data object (FCD).

        :param object_reference: ``"LD/LN.DO.DA"``; an array element may be
            addressed in the reference (``"LD/LN.DO.arr(2)"``, ``"...arr(2).x"``)
            or with ``index``
        :param fc: functional constraint (``FunctionalConstraint.MX``, ``"MX"``, ...)
        :param index: element of the array ``object_reference`` to read
        :param component: with ``index``: a component path inside that element
            (``"a.b"`` or ``"a$b"``)
        :returns: the value with its MMS type
        :raises ObjectDoesNotExistError: no such object (and similar, by the server's answer)
        """
        if index is None:
            if component is not None:
                raise InvalidArgumentError("component needs index", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
            return self._read(object_reference, fc, "read")[0]
        ffi, lib = self._ffi, self._lib
        idx = _check_range(index, _UINT32, "an array index")
        ref_s = _ref_str(object_reference)
        f = _fc(fc)
        comp = _ref_bytes(component, "component") if component is not None else ffi.NULL
        out = ffi.new("i61_value **")
        self._call(
            "read", f"{ref_s}({idx})" + (f".{_ref_str(component)}" if component is not None else ""), f,
            lib.i61_client_read_array_element, _ref_bytes(object_reference), int(f), idx, comp, out,
        )
        return MmsValue._own(out[0])

    def read_boolean(self, object_reference: Reference, fc: FcLike) -> bool:
        """Read a BOOLEAN attribute.

        :raises UnexpectedValueError: the attribute is not a BOOLEAN
        """
        return bool(self._read_scalar(object_reference, fc, "read_boolean", "int *", self._lib.i61_client_read_bool))

    def read_int32(self, object_reference: Reference, fc: FcLike) -> int:
        """Read an integer attribute that fits INT32 (INTEGER or UNSIGNED on the wire).

        :raises UnexpectedValueError: not an integer, or out of the INT32 range
        """
        return self._read_int(object_reference, fc, "read_int32", _INT32, "INT32")

    def read_int64(self, object_reference: Reference, fc: FcLike) -> int:
        """Read an integer attribute that fits INT64."""
        return self._read_int(object_reference, fc, "read_int64", _INT64, "INT64")

    def read_uint32(self, object_reference: Reference, fc: FcLike) -> int:
        """Read an integer attribute that fits INT32U (0..4294967295)."""
        return self._read_int(object_reference, fc, "read_uint32", _UINT32, "INT32U")

    def read_float(self, object_reference: Reference, fc: FcLike) -> float:
        """Read a FLOAT attribute (32 or 64 bit)."""
        return float(self._read_scalar(object_reference, fc, "read_float", "double *", self._lib.i61_client_read_double))

    def read_string(self, object_reference: Reference, fc: FcLike) -> str:
        """Read a VISIBLE-STRING or MMSString (Unicode) attribute."""
        v = self._typed(object_reference, fc, "read_string", (MmsType.VISIBLE_STRING, MmsType.STRING))[0]
        return str(v.to_python())

    def read_octet_string(self, object_reference: Reference, fc: FcLike) -> bytes:
        """Read an OCTET-STRING attribute."""
        return bytes(self._typed(object_reference, fc, "read_octet_string", (MmsType.OCTET_STRING,))[0].to_python())

    def read_timestamp(self, object_reference: Reference, fc: FcLike) -> Timestamp:
        """Read a UtcTime attribute (``t``, ``T``, ...) as a :class:`Timestamp`."""
        return self._typed(object_reference, fc, "read_timestamp", (MmsType.UTC_TIME,))[0].to_timestamp()

    def read_quality(self, object_reference: Reference, fc: FcLike) -> Quality:
        """Read a quality attribute (``q``) as a :class:`Quality`."""
        return self._typed(object_reference, fc, "read_quality", (MmsType.BIT_STRING,))[0].to_quality()

    def read_values(self, items: Iterable[tuple[Reference, FcLike]]) -> list[Union[MmsValue, IedConnectionException]]:
        """Read many attributes in one MMS Read.

        :param items: ``(reference, fc)`` pairs
        :returns: one entry per item, in order: the :class:`MmsValue`, or, for an
            element the server could not read, an (unraised)
            :class:`~py61850.client.IedConnectionException` subclass such as
            :class:`~py61850.client.ObjectDoesNotExistError` naming the reference
        :raises IedConnectionException: the request as a whole failed
        """
        ffi, lib = self._ffi, self._lib
        pairs = [(_ref_str(r), _ref_bytes(r), _fc(f)) for r, f in items]
        if not pairs:
            return []
        keep = [ffi.new("char[]", b) for _, b, _ in pairs]
        refs = ffi.new("const char *[]", keep)
        fcs = ffi.new("int[]", [int(f) for _, _, f in pairs])
        out = ffi.new("i61_value **")
        first = pairs[0][0] if len(pairs) == 1 else f"{pairs[0][0]} (+{len(pairs) - 1} more)"
        self._call("read_values", first, None, lib.i61_client_read_values, refs, fcs, len(pairs), out)
        arr = MmsValue._own(out[0])
        n = len(arr)
        if n != len(pairs):
            raise self._unexpected("read_values", first, FunctionalConstraint.NONE, f"{n} results for {len(pairs)} references")
        results: list[Union[MmsValue, IedConnectionException]] = []
        for (ref_s, _, f), v in zip(pairs, arr):
            dae = v.data_access_error
            if dae is None:
                results.append(v)
            else:
                code = code_for_data_access_error(dae)
                name = getattr(dae, "name", str(dae))
                results.append(exception_for(code, self._message("read", ref_s, f, f"data access error {name}", code), ref_s, f))
        return results

    # ------------------------------------------------------------------- writes

    def write_value(self, object_reference: Reference, fc: FcLike, value: MmsValue) -> None:
        """Write an FCDA or FCD. The value's MMS type must be the server's.

        :raises AccessDeniedError: the server does not allow writing it
        :raises TypeInconsistentError: the server holds another type
        """
        if not isinstance(value, MmsValue):
            raise TypeError(f"write_value needs an MmsValue, got {type(value).__name__}")
        ref_s = _ref_str(object_reference)
        f = _fc(fc)
        self._call("write", ref_s, f, self._lib.i61_client_write_value, _ref_bytes(object_reference), int(f), value._ptr)

    def write_values(
        self, items: Iterable[tuple[Reference, FcLike, MmsValue]]
    ) -> list[Optional[IedConnectionException]]:
        """Write many attributes in one MMS Write.

        :param items: ``(reference, fc, value)`` triples
        :returns: per item ``None`` (written) or an unraised exception for that element
        :raises IedConnectionException: the request as a whole failed
        """
        ffi, lib = self._ffi, self._lib
        triples = [(_ref_str(r), _ref_bytes(r), _fc(f), v) for r, f, v in items]
        if not triples:
            return []
        for *_, v in triples:
            if not isinstance(v, MmsValue):
                raise TypeError(f"write_values needs MmsValue values, got {type(v).__name__}")
        keep = [ffi.new("char[]", b) for _, b, _, _ in triples]
        refs = ffi.new("const char *[]", keep)
        fcs = ffi.new("int[]", [int(f) for _, _, f, _ in triples])
        vals = ffi.new("const i61_value *[]", [v._ptr for *_, v in triples])
        results = ffi.new("int[]", len(triples))
        first = triples[0][0] if len(triples) == 1 else f"{triples[0][0]} (+{len(triples) - 1} more)"
        self._call("write_values", first, None, lib.i61_client_write_values, refs, fcs, vals, len(triples), results)
        out: list[Optional[IedConnectionException]] = []
        for i, (ref_s, _, f, _) in enumerate(triples):
            err = int(results[i])
            if err == 0:
                out.append(None)
            else:
                text = ffi.string(lib.i61_err_str(err)).decode("utf-8", errors="replace")
                out.append(exception_for(err, self._message("write", ref_s, f, text, err), ref_s, f))
        return out

    def write_boolean(self, object_reference: Reference, fc: FcLike, value: bool) -> None:
        """Write a BOOLEAN."""
        self.write_value(object_reference, fc, MmsValue.boolean(value))

    def write_int32(self, object_reference: Reference, fc: FcLike, value: int) -> None:
        """Write an INTEGER (the value must fit INT32)."""
        self.write_value(object_reference, fc, MmsValue.int32(value))

    def write_int64(self, object_reference: Reference, fc: FcLike, value: int) -> None:
        """Write an INTEGER (the value must fit INT64)."""
        self.write_value(object_reference, fc, MmsValue.int64(value))

    def write_uint32(self, object_reference: Reference, fc: FcLike, value: int) -> None:
        """Write an UNSIGNED (the value must fit INT32U), e.g. for INT8U/INT32U attributes."""
        self.write_value(object_reference, fc, MmsValue.uint32(value))

    def write_float(self, object_reference: Reference, fc: FcLike, value: float) -> None:
        """Write a 32-bit FLOAT."""
        self.write_value(object_reference, fc, MmsValue.float32(value))

    def write_string(self, object_reference: Reference, fc: FcLike, value: Reference) -> None:
        """Write a VISIBLE-STRING (use ``write_value(ref, fc, MmsValue.mms_string(s))``
        for Unicode attributes)."""
        self.write_value(object_reference, fc, MmsValue.visible_string(value))

    def write_octet_string(self, object_reference: Reference, fc: FcLike, value: bytes) -> None:
        """Write an OCTET-STRING."""
        self.write_value(object_reference, fc, MmsValue.octet_string(value))

    # ---------------------------------------------------------------- data sets
    # (CreateDataSet, DeleteDataSet, GetDataSetDirectory, GetDataSetValues,
    # SetDataSetValues; DataSet lives in _dataset.py)

    def create_dataset(self, dataset_reference: Reference, fcdas: Iterable[Reference]) -> None:
        """Create a data set on the server (MMS DefineNamedVariableList).

        :param dataset_reference: ``"LD/LN.name"`` for a persistent data set of a
            logical device, ``"@name"`` for one that belongs to this association
            (the server deletes it when the association closes), or ``"LN.name"``
            without a logical device for a VMD-specific one
        :param fcdas: member references ``"LD/LN.DO[.DA...][FC]"`` (FCDAs or FCDs),
            an array element as ``"LD/LN.DO.arr(2)[FC]"``
        :raises ObjectExistsError: a data set of that name exists
        :raises ObjectUndefinedError: a member (or the logical node) does not exist
            (the server's answer; libiec61850 and the Rust server may answer differently)
        """
        ffi, lib = self._ffi, self._lib
        ref_s = _ref_str(dataset_reference)
        members = [_ref_bytes(m, "member reference") for m in fcdas]
        keep = [ffi.new("char[]", b) for b in members]
        arr = ffi.new("const char *[]", keep) if keep else ffi.NULL
        self._call("create_dataset", ref_s, None, lib.i61_client_create_dataset,
                   _ref_bytes(dataset_reference, "data set reference"), arr, len(members))

    def delete_dataset(self, dataset_reference: Reference) -> None:
        """Delete a deletable data set (MMS DeleteNamedVariableList).

        :raises ObjectDoesNotExistError: the server has no such data set
        :raises AccessDeniedError: the server did not delete it (a data set from
            the configuration, or one in use by an enabled report control block)
        """
        ref_s = _ref_str(dataset_reference)
        self._call("delete_dataset", ref_s, None, self._lib.i61_client_delete_dataset,
                   _ref_bytes(dataset_reference, "data set reference"))

    def _dataset_directory(self, dataset_reference: Reference) -> tuple[list[str], bool]:
        ffi, lib = self._ffi, self._lib
        out = ffi.new("i61_strlist **")
        deletable = ffi.new("int *")
        self._call("get_dataset_directory", _ref_str(dataset_reference), None,
                   lib.i61_client_get_dataset_directory,
                   _ref_bytes(dataset_reference, "data set reference"), out, deletable)
        lst = out[0]
        try:
            n = lib.i61_strlist_count(lst)
            names = [ffi.string(lib.i61_strlist_get(lst, i)).decode("utf-8", errors="replace") for i in range(n)]
        finally:
            lib.i61_strlist_free(lst)
        return names, bool(deletable[0])

    def get_dataset_directory(self, dataset_reference: Reference) -> list[str]:
        """Member references of a data set, in order (MMS GetNamedVariableListAttributes).

        :param dataset_reference: ``"LD/LN.name"`` or ``"@name"``
        :returns: ``["LD/LN.DO.DA[FC]", ...]``
        """
        return self._dataset_directory(dataset_reference)[0]

    def is_dataset_deletable(self, dataset_reference: Reference) -> bool:
        """The server's mmsDeletable flag of a data set (``False`` for configured ones)."""
        return self._dataset_directory(dataset_reference)[1]

    def _read_dataset_values(self, ref_s: str, ref_b: bytes) -> list[MmsValue]:
        out = self._ffi.new("i61_value **")
        self._call("read_dataset", ref_s, None, self._lib.i61_client_read_dataset, ref_b, out)
        return list(MmsValue._own(out[0]))

    def read_dataset(self, dataset_reference: Reference) -> "DataSet":
        """Read all values of a data set in one request (MMS Read of the named
        variable list).

        :param dataset_reference: ``"LD/LN.name"`` or ``"@name"``
        :returns: a :class:`~py61850.client.DataSet`; members the server could not
            read hold a DataAccessError value (see :meth:`DataSet.errors`)
        :raises ObjectDoesNotExistError: no such data set
        """
        from ._dataset import DataSet

        ref_s = _ref_str(dataset_reference)
        values = self._read_dataset_values(ref_s, _ref_bytes(dataset_reference, "data set reference"))
        return DataSet(self, ref_s, values)

    def update_dataset_values(self, dataset: "DataSet") -> None:
        """Read the values of ``dataset`` again and store them in it."""
        from ._dataset import DataSet

        if not isinstance(dataset, DataSet):
            raise TypeError(f"update_dataset_values needs a DataSet, got {type(dataset).__name__}")
        dataset._set_values(self._read_dataset_values(dataset.reference, _ref_bytes(dataset.reference)))

    def write_dataset_values(
        self, dataset_reference: Reference, values: Sequence[MmsValue]
    ) -> list[Optional[IedConnectionException]]:
        """Write the members of a data set in one request (MMS Write of the named
        variable list); one value per member, in member order, each of the
        member's MMS type.

        :returns: per member ``None`` (written) or an unraised exception
            (e.g. :class:`~py61850.client.AccessDeniedError` for an ST member)
        :raises IedConnectionException: the request as a whole failed
        """
        ffi, lib = self._ffi, self._lib
        vals = list(values)
        for v in vals:
            if not isinstance(v, MmsValue):
                raise TypeError(f"write_dataset_values needs MmsValue values, got {type(v).__name__}")
        if not vals:
            raise InvalidArgumentError("write_dataset_values needs at least one value",
                                       IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        ref_s = _ref_str(dataset_reference)
        arr = ffi.new("const i61_value *[]", [v._ptr for v in vals])
        results = ffi.new("int[]", len(vals))
        self._call("write_dataset_values", ref_s, None, lib.i61_client_write_dataset,
                   _ref_bytes(dataset_reference, "data set reference"), arr, len(vals), results)
        out: list[Optional[IedConnectionException]] = []
        for i in range(len(vals)):
            err = int(results[i])
            if err == 0:
                out.append(None)
            else:
                text = ffi.string(lib.i61_err_str(err)).decode("utf-8", errors="replace")
                out.append(exception_for(err, self._message("write_dataset_values", f"{ref_s} member {i}", None, text, err), ref_s, None))
        return out

    # ---------------------------------------------------------------- reporting
    # (GetURCBValues/GetBRCBValues, SetURCBValues/SetBRCBValues, report
    # delivery; ReportControlBlock, Report and the dispatcher live in _report.py)

    def read_rcb(self, rcb_reference: Reference) -> ReportControlBlock:
        """Read a report control block (all attributes in one request).

        :param rcb_reference: ``"LD/LN.RP.name"`` (URCB) or ``"LD/LN.BR.name"``
            (BRCB); the MMS form ``"LD/LN$RP$name"`` works too
        :returns: a :class:`~py61850.client.ReportControlBlock` holding its values
        :raises ObjectReferenceInvalidError: not an RCB reference
        :raises ObjectDoesNotExistError: the server has no such RCB (or similar,
            by the server's answer)
        """
        ffi, lib = self._ffi, self._lib
        ref_s = _ref_str(rcb_reference)
        split_rcb_reference(ref_s)
        out = ffi.new("i61_rcb **")
        self._call("read_rcb", ref_s, None, lib.i61_client_read_rcb, _ref_bytes(rcb_reference), out)
        return ReportControlBlock._own(self, out[0])

    def update_rcb_values(self, rcb: ReportControlBlock) -> None:
        """Read all attributes of ``rcb`` again from the server (forgets local changes)."""
        if not isinstance(rcb, ReportControlBlock):
            raise TypeError(f"update_rcb_values needs a ReportControlBlock, got {type(rcb).__name__}")
        lib = self._lib

        def locked(c: Any) -> int:
            with rcb._lock:
                return int(lib.i61_client_update_rcb(c, rcb._ptr))

        self._call("update_rcb_values", rcb.reference, None, locked)

    def set_rcb_values(self, rcb: ReportControlBlock, single_request: bool = True) -> None:
        """Write the attributes of ``rcb`` changed since it was read (see
        :attr:`ReportControlBlock.element_changed`), in the order IEC 61850-8-1
        requires (RptEna = False first, RptEna = True and then GI last).

        :param single_request: one MMS Write with all of them (the server applies
            them in order); ``False``: one Write per attribute, stopping at the
            first refusal
        :raises IedConnectionException: the subclass of the server's answer for
            the first refused attribute; its ``reference`` is
            ``"<rcb reference>.<attribute>"`` (e.g. ``...urcbEvents01.RptEna``
            with :class:`~py61850.client.TemporarilyUnavailableError` when another
            client owns the RCB)
        """
        if not isinstance(rcb, ReportControlBlock):
            raise TypeError(f"set_rcb_values needs a ReportControlBlock, got {type(rcb).__name__}")
        ffi, lib = self._ffi, self._lib
        changed = rcb.element_changed
        enabling = bool(changed & RcbElement.RPT_ENA) and bool(rcb.rpt_ena)
        failed = ffi.new("int *", -1)
        c = self._enter()
        try:
            slots = self._acquire_slot("set_rcb_values", rcb.reference, None)
            try:
                with rcb._lock:
                    err = int(lib.i61_client_set_rcb(c, rcb._ptr, 1 if single_request else 0, failed))
            finally:
                if slots is not None:
                    slots.release()
            if err != 0:
                exc = self._fail(c, err, "set_rcb_values", rcb.reference)
                if failed[0] >= 0:
                    p = lib.i61_rcb_attr_name(failed[0])
                    if p != ffi.NULL:
                        exc.reference = f"{rcb.reference}.{ffi.string(p).decode('ascii', 'replace')}"
                raise exc
        finally:
            self._leave()
        if enabling:
            reg = self._report_router.get(rcb.reference)
            if reg is not None:
                reg.reset_seq()

    def trigger_gi(self, rcb: Union[ReportControlBlock, Reference]) -> None:
        """Ask for a general interrogation: the server sends one report with all
        members (reason GI). The RCB must be enabled by this client.

        :param rcb: a :class:`ReportControlBlock` (its other pending changes are
            written too) or an RCB reference (one Write of ``GI``, nothing read)
        """
        if isinstance(rcb, ReportControlBlock):
            rcb.gi = True
            self.set_rcb_values(rcb)
            return
        ref_s = _ref_str(rcb)
        ld, ln, fc, name = split_rcb_reference(ref_s)
        value = MmsValue.boolean(True)
        self._call("trigger_gi", f"{canonical_rcb_reference(ref_s)}.GI", None, self._lib.i61_client_write_value,
                   f"{ld}/{ln}${fc}${name}$GI".encode("utf-8"), int(FunctionalConstraint.NONE), value._ptr)

    def register_report_handler(
        self, rcb_reference: Reference, rpt_id: Optional[Reference], callback: Callable[[Report], None]
    ) -> None:
        """Call ``callback(report)`` for every report of an RCB (replaces an
        earlier handler of the same RCB).

        Reports are routed by RptID: a report belongs to this RCB when its RptID
        equals ``rpt_id``, or equals the RCB reference (servers send it when the
        RCB's RptID is empty; both the ``.RP.`` and the ``$RP$`` form match).
        Callbacks run on the connection's ``py61850-reports`` thread, one at a
        time, in arrival order; they may call back into this connection (read,
        write, disable the RCB). An exception is logged to
        ``py61850.client.reports`` (and passed to :meth:`on_report_error`); the
        next reports are delivered as usual.

        :param rcb_reference: ``"LD/LN.RP.name"`` / ``"LD/LN.BR.name"``
        :param rpt_id: the RCB's RptID (``None`` or empty: route by reference only)
        """
        if not callable(callback):
            raise TypeError("callback must be callable")
        ref_s = _ref_str(rcb_reference)
        rid = _ref_str(rpt_id) if rpt_id else None
        reg = self._report_router.ensure(ref_s, rid)
        reg.callback = callback
        self._h.reports.ensure_running()

    def unregister_report_handler(self, rcb_reference: Reference) -> None:
        """Remove the report handler of an RCB (its reports are then counted as
        unrouted). Does not disable the RCB on the server."""
        reg = self._report_router.get(_ref_str(rcb_reference))
        if reg is not None:
            reg.callback = None
            self._report_router.drop_if_unused(reg)

    def on_report_error(self, fn: Optional[Callable[[BaseException, Report], None]]) -> None:
        """Set a hook called as ``fn(exception, report)`` when a report callback
        raises (after the exception was logged); ``None`` removes it."""
        self._report_error_hook = fn

    def create_rcb_and_subscribe(
        self,
        rcb_reference: Reference,
        callback: Callable[[Report], None],
        trg_ops: Optional[Union[ReportTriggerOptions, int]] = None,
        intg_pd: Optional[int] = None,
        opt_flds: Optional[Union[ReportOptions, int]] = None,
        *,
        buf_tm: Optional[int] = None,
        gi: bool = False,
        entry_id: Optional[bytes] = None,
    ) -> ReportControlBlock:
        """Read an RCB, configure it, register ``callback`` and enable it.

        Steps: read the RCB; for a URCB reserve it (Resv = True); apply the given
        ``trg_ops``, ``intg_pd`` (ms), ``opt_flds``, ``buf_tm`` (ms) and, for a
        BRCB, ``entry_id``; register ``callback`` for its RptID; RptEna = True,
        all in one SetRCBValues; then a general interrogation if ``gi``. When
        another subscription of this connection already uses the same RptID
        (instances of one ReportControl share it), the RptID is set to the RCB
        reference so that the reports can be told apart.

        To resume a BRCB after a reconnect, pass the :attr:`Report.entry_id` of
        the last report seen as ``entry_id``: the server then sends the entries
        buffered after it (those it still holds).

        :returns: the :class:`ReportControlBlock` (disable it with
            :meth:`ReportControlBlock.disable` when done)
        :raises IedConnectionException: reading or enabling failed (the handler
            is removed again); e.g.
            :class:`~py61850.client.TemporarilyUnavailableError` when another
            client has the RCB
        """
        rcb = self.read_rcb(rcb_reference)
        ref = rcb.reference
        if not rcb.is_buffered and rcb.has(RcbElement.RESV):
            rcb.resv = True
        if trg_ops is not None:
            rcb.trg_ops = trg_ops
        if intg_pd is not None:
            rcb.intg_pd = intg_pd
        if opt_flds is not None:
            rcb.opt_flds = opt_flds
        if buf_tm is not None:
            rcb.buf_tm = buf_tm
        if entry_id is not None:
            if not rcb.is_buffered:
                raise InvalidArgumentError(f"{ref}: entry_id is for buffered RCBs",
                                           IedClientError.USER_PROVIDED_INVALID_ARGUMENT, ref)
            rcb.entry_id = entry_id
        if rcb.rpt_id and self._report_router.others_with_rpt_id(ref, rcb.rpt_id):
            # Instances of one ReportControl often share an RptID: give this one its own
            # (its reference; an empty RptID would do by the standard, but the Rust-based
            # server then sends an empty RptID), so the reports can be told apart.
            log.info("%s: RptID %r is in use by another subscription here; using %r", ref, rcb.rpt_id, ref)
            rcb.rpt_id = ref
        existed = self._report_router.get(ref) is not None
        self.register_report_handler(ref, rcb.rpt_id or ref, callback)
        reg = self._report_router.get(ref)
        opts = rcb.opt_flds
        if reg is not None and opts is not None and not opts & ReportOptions.DATA_REFERENCE:
            reg.members = self._rcb_members(rcb)
        try:
            rcb.rpt_ena = True
            self.set_rcb_values(rcb)
            if gi:
                self.trigger_gi(rcb)
        except BaseException:
            if not existed:
                self.unregister_report_handler(ref)
            raise
        return rcb

    def _rcb_members(self, rcb: ReportControlBlock) -> Optional[list[str]]:
        """Member references (MMS form) of the RCB's data set, or None."""
        ds = rcb.dataset
        if not ds:
            return None
        if "/" not in ds:  # the Rust server answers "LLN0$Events"
            ds = f"{split_rcb_reference(rcb.reference)[0]}/{ds}"
        try:
            return [mms_member_reference(m) for m in self.get_dataset_directory(ds)]
        except IedConnectionException as exc:
            log.debug("%s: data set directory of %s not available: %s", rcb.reference, ds, exc)
            return None

    def _attach_pull_queue(self, rcb_reference: str, rpt_id: Optional[str], q: "queue.Queue[Any]") -> None:
        reg = self._report_router.ensure(rcb_reference, rpt_id)
        with self._report_router.lock:
            reg.queues.append(q)
        pump = self._h.reports
        pump.ensure_running()
        if pump.stopped:
            from ._report import _CLOSED

            q.put(_CLOSED)

    def _detach_pull_queue(self, rcb_reference: str, q: "queue.Queue[Any]") -> None:
        reg = self._report_router.get(rcb_reference)
        if reg is None:
            return
        with self._report_router.lock:
            if q in reg.queues:
                reg.queues.remove(q)
        self._report_router.drop_if_unused(reg)

    def _counter(self, fn: Callable[[Any], int]) -> int:
        c = self._enter()
        try:
            return int(fn(c))
        finally:
            self._leave()

    @property
    def reports_dropped(self) -> int:
        """Reports lost because the report queue was full (the callbacks were too
        slow for too long); a warning is logged when it grows."""
        return self._counter(self._lib.i61_client_reports_dropped)

    @property
    def reports_malformed(self) -> int:
        """Reports discarded because they could not be decoded or their segments
        did not join up (the association stays up)."""
        return self._counter(self._lib.i61_client_reports_malformed)

    @property
    def reports_unrouted(self) -> int:
        """Reports received for which no handler or iterator was registered."""
        return self._h.reports.unrouted

    def set_report_queue_size(self, n: int) -> None:
        """Bound of the queue between the network thread and the report callbacks
        (default 65536 reports)."""
        n = int(n)
        if not 0 < n <= 0xFFFFFFFF:
            raise InvalidArgumentError("report queue size must be positive", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        c = self._enter()
        try:
            self._lib.i61_client_set_report_queue_size(c, n)
        finally:
            self._leave()

    # ------------------------------------------------------------------ control
    # (ControlObject, LastApplError, CommandTermination and the termination
    # dispatcher live in _control.py)

    def create_control_object(
        self, object_reference: Reference, model: Optional[Union[ControlModel, int]] = None
    ) -> ControlObject:
        """A :class:`~py61850.client.ControlObject` for a controllable data object.

        Unless ``model`` is given, reads ``ctlModel`` [CF]; unless the object is
        status-only, reads the type of its ``Oper`` structure (the ctlVal type,
        and whether it has ``operTm`` and ``Check``). Nothing else is sent.

        :param object_reference: the data object, ``"LD/LN.DO"`` (e.g.
            ``"TESTGenericIO/GGIO1.SPCSO1"``)
        :param model: the control model to use instead of reading ``ctlModel``
        :raises ObjectDoesNotExistError: no such object (or no ``ctlModel`` /
            ``Oper``: not controllable)
        :raises UnexpectedValueError: ``ctlModel`` is not 0..4, or ``Oper`` is not
            a control structure
        """
        ffi, lib = self._ffi, self._lib
        ref_s = _ref_str(object_reference)
        m = -1
        if model is not None:
            try:
                m = int(ControlModel(int(model)))
            except ValueError:
                raise InvalidArgumentError(f"unknown control model {model!r}",
                                           IedClientError.USER_PROVIDED_INVALID_ARGUMENT, ref_s) from None
        out = ffi.new("i61_control **")
        self._call("create_control_object", ref_s, None, lib.i61_client_control_new, _ref_bytes(object_reference),
                   m, out)
        if out[0] == ffi.NULL:
            raise UnexpectedValueError(f"create_control_object {ref_s}: no control object returned",
                                       IedClientError.UNEXPECTED_VALUE_RECEIVED, ref_s)
        ctl = ControlObject._create(self, out[0])
        log.debug("control object %s: %s", ctl.object_reference, ctl.control_model.name)
        return ctl

    def read_control(self, object_reference: Reference) -> ControlObject:
        """Same as :meth:`create_control_object` with the model read from the server."""
        return self.create_control_object(object_reference)

    def get_last_appl_error(self) -> Optional[LastApplError]:
        """The last LastApplError this connection received with a refused command
        or a CommandTermination- (of any control object), ``None`` if none."""
        return self._control_router.last_appl_error

    @property
    def control_events_dropped(self) -> int:
        """CommandTerminations lost because their queue was full."""
        return self._counter(self._lib.i61_client_control_events_dropped)

    # -------------------------------------------------------------------- files
    # (the transfer loops live in _files.py)

    def get_files(self, directory: Optional[Reference] = None) -> list[FileDirectoryEntry]:
        """The files of the server's file store (MMS FileDirectory).

        Long listings come in several answers; they are all fetched (the
        server's ``moreFollows`` / ``continueAfter``) and returned as one list.

        :param directory: a directory of the file store (``"COMTRADE"``); ``None``
            or ``""``: the root. What a server lists is its choice: libiec61850
            lists every file below the directory, with its path
            (``"COMTRADE/rec1.cfg"``); some servers want ``"/"`` for the root.
        :returns: one :class:`~py61850.client.FileDirectoryEntry` (name, size,
            last modification time) per file
        :raises ObjectDoesNotExistError: no such directory
        :raises AccessDeniedError: the server refused the listing
        :raises ServiceNotSupportedError: the server has no file services
        """
        return _files.get_files(self, directory)

    def download_file(
        self,
        remote: Reference,
        local: Optional[Union[str, bytes, "os.PathLike[str]", BinaryIO]] = None,
        *,
        progress: Optional[Callable[[int, Optional[int]], None]] = None,
    ) -> Union[bytes, int]:
        """Download a file (MMS FileOpen, FileRead until the end, FileClose).

        :param remote: the server's file name, as :meth:`get_files` lists it
        :param local: where the data goes:

            * ``None``: the content is returned as ``bytes``;
            * a path: the file is written there chunk by chunk (never held in
              memory). The data goes to ``<path>.part`` first, which is renamed
              to ``<path>`` once the whole file arrived; on any failure the
              ``.part`` file is removed and an existing ``<path>`` is left as
              it was;
            * a binary file object (anything with ``write``): each chunk is
              written to it as it arrives; after a failure it holds the data
              received so far (the exception's message says how many octets).

        :param progress: called as ``progress(done, total)`` on the calling
            thread, once after FileOpen with ``done = 0`` and after every chunk:
            ``done`` octets received so far, ``total`` the size the server
            announced (``None`` when unknown: a file of 4 GiB or more does not
            fit the protocol's 32-bit size; the download does not depend on it).
            An exception raised by the callback stops the download and is
            re-raised.
        :returns: the content (``local=None``) or the number of octets written
        :raises ObjectDoesNotExistError: no such file
        :raises AccessDeniedError: the server refused to open it
        :raises ConnectionLostError: the connection broke during the transfer
        :raises UnexpectedValueError: the server ended the file before the size
            it announced

        The remote file is closed on every way out (an error, an exception from
        ``progress``, Ctrl-C) while the connection is up; a connection that is
        gone takes the server's handle with it.
        """
        return _files.download(self, remote, local, progress)

    def upload_file(
        self,
        local: Union[str, bytes, "os.PathLike[str]"],
        remote: Reference,
        *,
        progress: Optional[Callable[[int, Optional[int]], None]] = None,
    ) -> int:
        """Upload a file: ask the server to fetch it from this client (MMS ObtainFile).

        The server then reads ``local`` from us over the same connection
        (FileOpen/FileRead/FileClose in the other direction) and stores it as
        ``remote``; the call returns when the server answered the ObtainFile.
        Only that file is readable by the server, and only while the call runs.

        :param local: a path relative to the base path set with
            :meth:`set_filestore_basepath` (default: the current directory), or
            an absolute path inside it; ``..``, symbolic links leading out of
            the base path and anything but a regular file are refused
            (:class:`~py61850.client.AccessDeniedError`) before anything is sent
        :param remote: the file name on the server
        :param progress: ``progress(done, total)``, called on the calling thread
            while the server reads (about every 50 ms when something changed,
            and once at the end)
        :returns: the size of the uploaded file in octets
        :raises ObjectDoesNotExistError: ``local`` does not exist
        :raises AccessDeniedError: ``local`` is outside the base path, or the
            server refused (e.g. the destination exists on libiec61850)
        :raises ServiceNotSupportedError: the server does not implement ObtainFile

        MMS cannot cancel an ObtainFile: an exception raised by ``progress``
        (or Ctrl-C) while the server reads aborts the association, then is
        re-raised.
        """
        return _files.upload(self, local, remote, progress)

    def set_filestore_basepath(self, path: Union[str, bytes, "os.PathLike[str]"]) -> None:
        """Set the local directory that :meth:`upload_file` serves files from.

        :param path: an existing directory (resolved now, symbolic links
            included); ``""``: back to the current working directory at the
            time of each upload
        :raises InvalidArgumentError: not a directory
        """
        p = os.fsencode(path)
        if b"\x00" in p:
            raise InvalidArgumentError("filestore base path contains a NUL character",
                                       IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
        c = self._enter()
        try:
            err = self._lib.i61_client_set_filestore_basepath(c, p)
            if err != 0:
                raise self._fail(c, err, "set_filestore_basepath", os.fsdecode(p))
        finally:
            self._leave()
        self._filestore_base = os.path.realpath(p) if p else None

    def delete_file(self, remote: Reference) -> None:
        """Delete a file of the server's file store (MMS FileDelete).

        :raises ObjectDoesNotExistError: no such file
        :raises AccessDeniedError: the server refused (a directory, a file in use, ...)
        """
        name = _files._name_bytes(remote, "file name")
        self._call("delete_file", _ref_str(remote), None, self._lib.i61_client_delete_file, name)

    def rename_file(self, old: Reference, new: Reference) -> None:
        """Rename a file of the server's file store (MMS FileRename).

        :raises ObjectDoesNotExistError: no file ``old``
        :raises ObjectExistsError: ``new`` exists
        :raises ServiceNotSupportedError: the server does not implement
            FileRename (libiec61850 rejects it)
        """
        a = _files._name_bytes(old, "file name")
        b = _files._name_bytes(new, "new file name")
        self._call("rename_file", _ref_str(old), None, self._lib.i61_client_rename_file, a, b)

    # --------------------------------------------------- logs (LCB, journals)
    # (LogControlBlock lives in _cb.py, the ReadJournal paging in _log.py)

    def get_logical_device_logs(self, logical_device_name: Reference) -> list[str]:
        """Names of the logs (MMS journals) of a logical device (``["LLN0$EventLog"]``)."""
        ld = _ref_bytes(logical_device_name)
        return self._strlist(
            "get_logical_device_logs", _ref_str(logical_device_name), self._lib.i61_client_get_journal_names, ld
        )

    def read_lcb(self, lcb_reference: Reference) -> LogControlBlock:
        """Read a log control block (all attributes in one request).

        :param lcb_reference: ``"LD/LLN0.EventLog"``, ``"LD/LLN0.LG.EventLog"``
            or ``"LD/LLN0$LG$EventLog"``
        :returns: a :class:`~py61850.client.LogControlBlock`
        :raises ObjectReferenceInvalidError: not an LCB reference
        :raises ObjectDoesNotExistError: the server has no such LCB
        """
        ld, ln, _fc_name, name = _cb.split_cb_reference(lcb_reference, ("LG",), "log control block")
        ref = f"{ld}/{ln}.LG.{name}"
        return _cb.read_cb(self, "read_lcb", _ref_str(lcb_reference).strip(), ref, _cb.KIND_LCB, LogControlBlock)

    def update_lcb_values(self, lcb: LogControlBlock) -> None:
        """Read all attributes of ``lcb`` again from the server (forgets local changes)."""
        if not isinstance(lcb, LogControlBlock):
            raise TypeError(f"update_lcb_values needs a LogControlBlock, got {type(lcb).__name__}")
        _cb.update_cb(self, lcb, "update_lcb_values")

    def set_lcb_values(self, lcb: LogControlBlock, single_request: bool = True) -> None:
        """Write the attributes of ``lcb`` changed since it was read (LogEna
        last when enabling, first when disabling).

        :param single_request: one MMS Write with all of them; ``False``: one
            Write per attribute, stopping at the first refusal
        :raises IedConnectionException: the subclass of the server's answer for
            the first refused attribute; its ``reference`` is
            ``"<lcb reference>.<attribute>"``
        """
        if not isinstance(lcb, LogControlBlock):
            raise TypeError(f"set_lcb_values needs a LogControlBlock, got {type(lcb).__name__}")
        _cb.set_cb(self, lcb, single_request, "set_lcb_values")

    def query_log_by_time(
        self,
        log_ref: Reference,
        start: Optional[_log.TimeLike] = None,
        end: Optional[_log.TimeLike] = None,
        *,
        max_entries: int = _log.MAX_ENTRIES,
    ) -> list[JournalEntry]:
        """All entries of a log made between ``start`` and ``end`` (QueryLogByTime,
        MMS ReadJournal), oldest first. A server sends long answers in parts
        (``moreFollows``): they are all fetched, each continuing after the last
        entry received. Only the first request carries ``end``; the later ones
        continue after an entry alone (the Rust-based ``iec61850`` server refuses
        both together) and the client drops the entries made after ``end``.

        :param log_ref: the log, ``"LD/LN$LogName"`` (an LCB's
            :attr:`~py61850.client.LogControlBlock.log_ref`) or ``"LD/LN.LogName"``
        :param start: an aware datetime (naive = UTC), a Timestamp or int ms since
            1970; ``None`` (or a time before 1984, the protocol's epoch): from the
            oldest entry
        :param end: same forms; ``None``: up to the newest entry
        :param max_entries: stop with :class:`~py61850.client.UnexpectedValueError`
            beyond this many entries (its ``entries`` attribute holds them)
        :returns: list of :class:`~py61850.client.JournalEntry`
        :raises ObjectDoesNotExistError: no such log
        :raises UnexpectedValueError: the server said more entries follow but
            sent none (the loop would not end)
        """
        return _log.all_by_time(self, log_ref, start, end, max_entries)

    def query_log_after(
        self,
        log_ref: Reference,
        entry_id: bytes,
        time: _log.TimeLike,
        *,
        max_entries: int = _log.MAX_ENTRIES,
    ) -> list[JournalEntry]:
        """All entries of a log after the entry ``entry_id`` made at ``time``
        (QueryLogAfter, MMS ReadJournal entryToStartAfter), oldest first, all
        parts fetched. Pass the :attr:`~py61850.client.JournalEntry.entry_id` and
        :attr:`~py61850.client.JournalEntry.time` of the last entry seen to get
        only what is new.

        :param entry_id: EntryID octets (or their hex text)
        :param time: the time of that entry (datetime, Timestamp or int ms)
        :raises ObjectDoesNotExistError: no such log
        """
        return _log.all_after(self, log_ref, entry_id, time, None, max_entries)

    def query_log_page_by_time(
        self, log_ref: Reference, start: Optional[_log.TimeLike] = None, end: Optional[_log.TimeLike] = None
    ) -> LogPage:
        """One answer of QueryLogByTime: the first entries between ``start`` and
        ``end`` the server sends at once, and whether more follow (continue with
        :meth:`query_log_page_after` from the last entry).

        :returns: a :class:`~py61850.client.LogPage`
        """
        return _log.page_by_time(self, log_ref, start, end)

    def query_log_page_after(
        self, log_ref: Reference, entry_id: bytes, time: _log.TimeLike, end: Optional[_log.TimeLike] = None
    ) -> LogPage:
        """One answer of QueryLogAfter: entries after ``entry_id`` (made at
        ``time``). The request carries no end: with ``end`` the client drops the
        entries made after it, and ``more_follows`` is ``False`` once one was
        seen (entries come in time order). To walk a by-time query page by page,
        pass the same ``end`` on every page.

        :returns: a :class:`~py61850.client.LogPage`
        """
        return _log.page_after(self, log_ref, entry_id, time, end)

    # ---------------------------------------------------------- setting groups

    def read_sgcb(self, ld: Reference) -> SettingGroupControlBlock:
        """Read the setting group control block of a logical device.

        :param ld: ``"TESTLD0"`` (or ``"TESTLD0/LLN0"``)
        :returns: a :class:`~py61850.client.SettingGroupControlBlock`
        :raises ObjectDoesNotExistError: the logical device has no SGCB
        """
        name = _cb.sgcb_ld(ld)
        return _cb.read_cb(self, "read_sgcb", f"{name}/LLN0.SP.SGCB", name, _cb.KIND_SGCB, SettingGroupControlBlock)

    def _sg_call(self, op: str, ld: Reference, attr: str, fn: Callable[..., int], *args: Any) -> None:
        name = _cb.sgcb_ld(ld)
        self._call(op, f"{name}/LLN0.SP.SGCB.{attr}", None, fn, name.encode("utf-8"), *args)

    def select_active_sg(self, ld: Reference, sg: int) -> None:
        """Make setting group ``sg`` (1..NumOfSG) the active one (SelectActiveSG:
        writes ActSG).

        :raises AccessDeniedError: the server refused (no such group, a veto)
        """
        self._sg_call("select_active_sg", ld, "ActSG", self._lib.i61_client_select_active_sg,
                      _cb.check_sg(sg, "setting group"))

    def select_edit_sg(self, ld: Reference, sg: int) -> None:
        """Reserve setting group ``sg`` for editing (SelectEditSG: writes EditSG);
        its values are then written with FC SE (``write_value(ref, FC.SE, v)``)
        and applied with :meth:`confirm_edit_sg_values`. ``sg = 0`` releases the
        reservation without applying anything.

        :raises TemporarilyUnavailableError: another client is editing (server dependent)
        :raises AccessDeniedError: the server refused
        """
        self._sg_call("select_edit_sg", ld, "EditSG", self._lib.i61_client_select_edit_sg,
                      _cb.check_sg(sg, "setting group"))

    def confirm_edit_sg_values(self, ld: Reference) -> None:
        """Apply the SE values written to the group being edited
        (ConfirmEditSGValues: writes CnfEdit TRUE)."""
        self._sg_call("confirm_edit_sg_values", ld, "CnfEdit", self._lib.i61_client_confirm_edit_sg)

    # -------------------------------------------------------------- GoCB, SVCB

    def read_gocb(self, gocb_reference: Reference) -> GooseControlBlock:
        """Read a GOOSE control block (all attributes in one request).

        :param gocb_reference: ``"LD/LLN0.gcbEvents"``, ``"LD/LLN0.GO.gcbEvents"``
            or ``"LD/LLN0$GO$gcbEvents"``
        :returns: a :class:`~py61850.client.GooseControlBlock`
        :raises ObjectDoesNotExistError: the server has no such GoCB
        """
        ld, ln, _fc_name, name = _cb.split_cb_reference(gocb_reference, ("GO",), "GOOSE control block")
        ref = f"{ld}/{ln}.GO.{name}"
        return _cb.read_cb(self, "read_gocb", _ref_str(gocb_reference).strip(), ref, _cb.KIND_GOCB,
                           GooseControlBlock)

    def update_gocb_values(self, gocb: GooseControlBlock) -> None:
        """Read all attributes of ``gocb`` again from the server (forgets local changes)."""
        if not isinstance(gocb, GooseControlBlock):
            raise TypeError(f"update_gocb_values needs a GooseControlBlock, got {type(gocb).__name__}")
        _cb.update_cb(self, gocb, "update_gocb_values")

    def set_gocb_values(self, gocb: GooseControlBlock, single_request: bool = True) -> None:
        """Write the attributes of ``gocb`` changed since it was read (GoEna
        last when enabling, first when disabling). Servers accept changes of
        GoID, DatSet and DstAddress only while GoEna is FALSE.

        :raises IedConnectionException: the subclass of the server's answer for
            the first refused attribute; its ``reference`` is
            ``"<gocb reference>.<attribute>"``
        """
        if not isinstance(gocb, GooseControlBlock):
            raise TypeError(f"set_gocb_values needs a GooseControlBlock, got {type(gocb).__name__}")
        _cb.set_cb(self, gocb, single_request, "set_gocb_values")

    def read_svcb(self, svcb_reference: Reference) -> SVControlBlock:
        """Read a sampled value control block (all attributes in one request).

        :param svcb_reference: ``"LD/LLN0.MS.svcbMeas"`` (multicast),
            ``"LD/LLN0.US.name"`` (unicast), or ``"LD/LLN0.svcbMeas"``: then MS is
            tried first, US second
        :returns: a :class:`~py61850.client.SVControlBlock`
        :raises ObjectDoesNotExistError: the server has neither
        """
        ld, ln, fc_name, name = _cb.split_cb_reference(svcb_reference, ("MS", "US"),
                                                       "sampled value control block")
        shown = _ref_str(svcb_reference).strip()
        if fc_name is not None:
            kind = _cb.KIND_MSVCB if fc_name == "MS" else _cb.KIND_USVCB
            return _cb.read_cb(self, "read_svcb", shown, f"{ld}/{ln}.{fc_name}.{name}", kind, SVControlBlock)
        try:
            return _cb.read_cb(self, "read_svcb", shown, f"{ld}/{ln}.MS.{name}", _cb.KIND_MSVCB, SVControlBlock)
        except (ObjectDoesNotExistError, ObjectUndefinedError, ObjectAccessUnsupportedError) as first:
            try:
                return _cb.read_cb(self, "read_svcb", shown, f"{ld}/{ln}.US.{name}", _cb.KIND_USVCB,
                                   SVControlBlock)
            except (ObjectDoesNotExistError, ObjectUndefinedError, ObjectAccessUnsupportedError):
                raise first from None

    def update_svcb_values(self, svcb: SVControlBlock) -> None:
        """Read all attributes of ``svcb`` again from the server (forgets local changes)."""
        if not isinstance(svcb, SVControlBlock):
            raise TypeError(f"update_svcb_values needs an SVControlBlock, got {type(svcb).__name__}")
        _cb.update_cb(self, svcb, "update_svcb_values")

    def set_svcb_values(self, svcb: SVControlBlock, single_request: bool = True) -> None:
        """Write the attributes of ``svcb`` changed since it was read (Resv
        first, SvEna last when enabling and first when disabling).

        :raises IedConnectionException: the subclass of the server's answer for
            the first refused attribute; its ``reference`` is
            ``"<svcb reference>.<attribute>"``
        """
        if not isinstance(svcb, SVControlBlock):
            raise TypeError(f"set_svcb_values needs an SVControlBlock, got {type(svcb).__name__}")
        _cb.set_cb(self, svcb, single_request, "set_svcb_values")


if TYPE_CHECKING:  # pragma: no cover
    from ._dataset import DataSet
