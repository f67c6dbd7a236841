"""MMS file services of the client: directory listings, downloads, uploads.

:class:`IedConnection` (``_connection.py``) exposes them as ``get_files``,
``download_file``, ``upload_file``, ``delete_file``, ``rename_file`` and
``set_filestore_basepath``; the work is done here.

Downloads run the FileOpen / FileRead / FileClose loop of lib61850 step by
step on the caller's thread (``i61_client_file_open`` / ``_read`` /
``_close``): every chunk goes straight to its destination, a progress callback
runs between two requests, and a ``finally`` closes the remote file whatever
happened (an error, an exception from the callback, Ctrl-C) as long as the
association is up. Uploads (ObtainFile) are one blocking C call during which
the server reads the file from us; it runs on a helper thread so that the
caller's thread can report progress and react to Ctrl-C.
"""
from __future__ import annotations

import datetime as _dt
import logging
import os
import threading
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional, Union

from ._enums import IedClientError, IedConnectionState
from ._errors import InvalidArgumentError, exception_for

if TYPE_CHECKING:  # pragma: no cover
    from ._connection import IedConnection

__all__ = ["FileDirectoryEntry", "ProgressCallback"]

log = logging.getLogger("py61850.client.files")

#: ``progress(done, total)``: octets transferred so far, and the file size the
#: server announced (``None`` when unknown).
ProgressCallback = Callable[[int, Optional[int]], None]

#: sizeOfFile is an Unsigned32 on the wire: this value means "4 GiB or more" for
#: some servers, others send the size modulo 2**32.
_SIZE_UNKNOWN = 0xFFFFFFFF
#: Empty FileRead answers that say "more follows", in a row, before giving up.
_EMPTY_CHUNKS_MAX = 16
#: Seconds between two looks at an upload's progress.
_UPLOAD_POLL_S = 0.05

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


class FileDirectoryEntry(NamedTuple):
    """One file of a server's file store (an entry of :meth:`IedConnection.get_files`)."""

    #: The server's file name, with its directories (``"COMTRADE/rec1.cfg"``);
    #: pass it to :meth:`~IedConnection.download_file` as it is.
    name: str
    #: Size in octets as the server reports it (the field has 32 bits: a file of
    #: 4 GiB or more shows a wrong size; downloads do not depend on it).
    size: int
    #: Last modification time (timezone-aware, UTC), ``None`` when the server sent none.
    last_modified: Optional[_dt.datetime]

    @property
    def filepath(self) -> str:
        """Same as :attr:`name` (the name used by older py61850 versions)."""
        return self.name


def time_from_ms(ms: int) -> Optional[_dt.datetime]:
    """Milliseconds since 1970 (UTC) -> aware datetime; ``None`` for -1 or out of range."""
    if ms < 0:
        return None
    try:
        return _EPOCH + _dt.timedelta(milliseconds=int(ms))
    except OverflowError:
        return None


def _name_bytes(name: Any, what: str) -> bytes:
    if isinstance(name, str):
        b = name.encode("utf-8")
    elif isinstance(name, (bytes, bytearray)):
        b = bytes(name)
    else:
        raise TypeError(f"{what} must be str or bytes, got {type(name).__name__}")
    if not b:
        raise InvalidArgumentError(f"{what} is empty", IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    if any(ch < 0x20 or ch == 0x7F for ch in b):
        raise InvalidArgumentError(f"{what} {b!r} contains control characters",
                                   IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    return b


def _name_str(name: Any) -> str:
    return name.decode("utf-8", errors="replace") if isinstance(name, (bytes, bytearray)) else str(name)


def _write_all(f: Any, data: Any) -> None:
    """``f.write(data)`` until all of it is written (raw files may write less)."""
    n = f.write(data)
    if n is None or n >= len(data):
        return
    view = memoryview(data)
    while n < len(view):
        k = f.write(view[n:])
        if k is None:
            return
        if k <= 0:
            raise OSError(f"write to {f!r} wrote nothing")
        n += k


def file_error(conn: "IedConnection", c: Any, err: int, op: str, name: str, *also: str,
               prefix: Optional[str] = None) -> Exception:
    """The exception for a failed file call (call right after it, same thread).

    The C side leaves a text naming the file(s) and the cause for every failure
    of a file service; it is used as it is (``prefix``, default ``"<op>
    <name>"``, is put in front when it names neither ``name`` nor any of ``also``).
    """
    ffi, lib = conn._ffi, conn._lib
    p = lib.i61_client_last_error_text(c)
    text = ffi.string(p).decode("utf-8", errors="replace").strip() if p != ffi.NULL else ""
    if not text:
        return conn._fail_code(err, "", op, name)
    code = err
    h = conn._h
    if err == IedClientError.NOT_CONNECTED and h.connected_once and not h.user_closing:
        code = IedClientError.CONNECTION_LOST
        text = f"{text} (the connection was lost)"
    if not any(n and n in text for n in (name, *also)):
        text = f"{prefix or f'{op} {name}'}: {text}"
    try:
        code_name = IedClientError(code).name
    except ValueError:
        code_name = str(code)
    return exception_for(code, f"{text} ({code_name})", name)


# ------------------------------------------------------------------- listing


def get_files(conn: "IedConnection", directory: Optional[Any]) -> list[FileDirectoryEntry]:
    ffi, lib = conn._ffi, conn._lib
    if directory is None or directory in ("", b""):
        spec = ffi.NULL
        shown = None
    else:
        spec = _name_bytes(directory, "directory name")
        shown = _name_str(directory)
    out = ffi.new("i61_file_list **")
    conn._call("get_files", shown, None, lib.i61_client_get_files, spec, out)
    lst = out[0]
    if lst == ffi.NULL:
        return []
    try:
        entries = []
        for i in range(int(lib.i61_file_list_count(lst))):
            p = lib.i61_file_list_name(lst, i)
            name = ffi.string(p).decode("utf-8", errors="replace") if p != ffi.NULL else ""
            entries.append(FileDirectoryEntry(name, int(lib.i61_file_list_size(lst, i)),
                                              time_from_ms(int(lib.i61_file_list_mtime_ms(lst, i)))))
        return entries
    finally:
        lib.i61_file_list_free(lst)


# ------------------------------------------------------------------ download


class _Step:
    """One C call of a download: holds a request slot around it, raises on error."""

    def __init__(self, conn: "IedConnection", c: Any, name: str) -> None:
        self.conn = conn
        self.c = c
        self.name = name

    def __call__(self, op: str, fn: Callable[..., int], *args: Any) -> None:
        slots = self.conn._acquire_slot(op, self.name, None)
        try:
            err = int(fn(self.c, *args))
        finally:
            if slots is not None:
                slots.release()
        if err != 0:
            raise file_error(self.conn, self.c, err, op, self.name)


def download(conn: "IedConnection", remote: Any, local: Any, progress: Optional[ProgressCallback]) -> Union[bytes, int]:
    name_b = _name_bytes(remote, "file name")
    name = _name_str(remote)
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable")
    if local is None:
        chunks: list[bytes] = []
        _transfer(conn, name_b, name, chunks.append, progress)
        return b"".join(chunks)
    if isinstance(local, (str, bytes, os.PathLike)):
        return _download_to_path(conn, name_b, name, os.fsdecode(local), progress)
    write = getattr(local, "write", None)
    if not callable(write):
        raise TypeError(f"local must be a path, a binary file object or None, got {type(local).__name__}")
    return _transfer(conn, name_b, name, lambda data: _write_all(local, data), progress)


def _download_to_path(conn: "IedConnection", name_b: bytes, name: str, target: str,
                      progress: Optional[ProgressCallback]) -> int:
    """Download into ``target + ".part"``, renamed to ``target`` once complete; removed on failure."""
    if os.path.isdir(target):
        raise IsADirectoryError(f"download_file {name}: {target!r} is a directory")
    part = target + ".part"
    f = open(part, "wb")
    try:
        with f:
            if progress is None:   # the whole loop in C, writing straight to the file
                n = _transfer_to_fd(conn, name_b, name, f.fileno(), part)
            else:
                n = _transfer(conn, name_b, name, lambda data: _write_all(f, data), progress, copy=False)
        os.replace(part, target)
    except BaseException:
        try:
            os.unlink(part)
        except OSError:
            pass
        raise
    return n


def _transfer_to_fd(conn: "IedConnection", name_b: bytes, name: str, fd: int, local: str) -> int:
    """One ``i61_client_download`` with the library's file-descriptor sink: FileOpen,
    every FileRead and FileClose run in C without the GIL (the remote file is
    closed on every exit path there). Returns the number of octets received."""
    ffi, lib = conn._ffi, conn._lib
    c = conn._enter()
    try:
        size_p = ffi.new("uint64_t *")
        received = ffi.new("uint64_t *")
        slots = conn._acquire_slot("download_file", name, None)
        try:
            err = int(lib.i61_client_download(c, name_b, ffi.addressof(lib, "i61_file_sink_fd"),
                                              ffi.cast("void *", fd), size_p, ffi.NULL, received))
        finally:
            if slots is not None:
                slots.release()
        done = int(received[0])
        if err:
            if err == IedClientError.HARDWARE_FAULT and b"stopped by the sink" in ffi.string(
                    lib.i61_client_last_error_text(c)):
                raise OSError(f"download_file {name}: writing {local!r} failed after {done} octets")
            raise file_error(conn, c, err, "download_file", name,
                             prefix=f"download_file {name} (after {done} octets)")
        announced = int(size_p[0])
        if announced != _SIZE_UNKNOWN and done < announced:
            raise exception_for(
                IedClientError.UNEXPECTED_VALUE_RECEIVED,
                f"download_file {name}: the server ended the file after {done} of the {announced} octets it "
                f"announced (UNEXPECTED_VALUE_RECEIVED)", name)
        log.debug("downloaded %s: %d octets", name, done)
        return done
    finally:
        conn._leave()


def _transfer(conn: "IedConnection", name_b: bytes, name: str, sink: Callable[[Any], Any],
              progress: Optional[ProgressCallback], copy: bool = True) -> int:
    """FileOpen, FileRead until the server says the file ends, FileClose; every
    chunk goes to ``sink``: a ``bytes`` copy, or with ``copy=False`` a view of the
    receive buffer that is only valid during the call (for sinks of ours that
    consume it at once). Returns the number of octets received."""
    ffi, lib = conn._ffi, conn._lib
    c = conn._enter()
    try:
        step = _Step(conn, c, name)
        frsm = ffi.new("int32_t *")
        size_p = ffi.new("uint64_t *")
        mtime_p = ffi.new("int64_t *")
        step("download_file", lib.i61_client_file_open, name_b, 0, frsm, size_p, mtime_p)
        fid = int(frsm[0])
        announced = int(size_p[0])
        total: Optional[int] = None if announced == _SIZE_UNKNOWN else announced
        closed = False
        done = 0
        try:
            cap = int(lib.i61_client_file_chunk_max(c))
            buf = ffi.new("uint8_t[]", cap)
            n_p = ffi.new("size_t *")
            more_p = ffi.new("int *")
            buffer = ffi.buffer
            if progress is not None:
                progress(0, total)
            empties = 0
            read = lib.i61_client_file_read
            acquire = conn._acquire_slot
            while True:
                slots = acquire("download_file", name, None)
                try:
                    err = read(c, fid, buf, cap, n_p, more_p)
                finally:
                    if slots is not None:
                        slots.release()
                if err:
                    size_txt = f" of {total}" if total is not None else ""
                    raise file_error(conn, c, err, "download_file", name,
                                     prefix=f"download_file {name} (after {done}{size_txt} octets)")
                n = int(n_p[0])
                more = bool(more_p[0])
                if n:
                    empties = 0
                    sink(buffer(buf, n)[:] if copy else memoryview(buffer(buf, n)))
                    done += n
                    if progress is not None:
                        if total is not None and done > total:
                            total = None  # the 32-bit size was wrong (4 GiB or more), or the file grew
                        progress(done, total)
                elif more:
                    empties += 1
                    if empties > _EMPTY_CHUNKS_MAX:
                        raise exception_for(
                            IedClientError.MALFORMED_MESSAGE,
                            f"download_file {name}: the server sends empty chunks and says more follow "
                            f"(after {done} octets) (MALFORMED_MESSAGE)", name)
                if not more:
                    break
            closed = True
            step("download_file (FileClose)", lib.i61_client_file_close, fid)
        except BaseException:
            if not closed:
                _close_quietly(conn, c, fid, name)
            raise
        if total is not None and done < total:
            raise exception_for(
                IedClientError.UNEXPECTED_VALUE_RECEIVED,
                f"download_file {name}: the server ended the file after {done} of the {total} octets it "
                f"announced (UNEXPECTED_VALUE_RECEIVED)", name)
        log.debug("downloaded %s: %d octets", name, done)
        return done
    finally:
        conn._leave()


def _close_quietly(conn: "IedConnection", c: Any, fid: int, name: str) -> None:
    """FileClose after a failed or interrupted transfer (errors are logged only)."""
    lib = conn._lib
    if int(lib.i61_client_state(c)) != IedConnectionState.CONNECTED:
        log.debug("%s: not closing FRSM %d, the connection is gone", name, fid)
        return
    err = int(lib.i61_client_file_close(c, fid))
    if err:
        log.warning("%s: FileClose of FRSM %d after an interrupted download failed: %s", name, fid,
                    file_error(conn, c, err, "FileClose", name))


# -------------------------------------------------------------------- upload


def upload(conn: "IedConnection", local: Any, remote: Any, progress: Optional[ProgressCallback]) -> int:
    ffi, lib = conn._ffi, conn._lib
    if isinstance(local, os.PathLike):
        local = os.fspath(local)
    local_b = os.fsencode(local) if isinstance(local, str) else _name_bytes(local, "local file name")
    if not local_b or b"\x00" in local_b:
        raise InvalidArgumentError(f"upload_file: invalid local file name {local!r}",
                                   IedClientError.USER_PROVIDED_INVALID_ARGUMENT)
    remote_b = _name_bytes(remote, "remote file name")
    remote_s = _name_str(remote)
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable")
    result: dict[str, Any] = {}
    finished = threading.Event()

    def work() -> None:
        try:
            c = conn._enter()
        except BaseException as exc:
            result["exc"] = exc
            finished.set()
            return
        try:
            slots = conn._acquire_slot("upload_file", remote_s, None)
            try:
                err = int(lib.i61_client_upload_file(c, local_b, remote_b))
            finally:
                if slots is not None:
                    slots.release()
            if err:
                result["exc"] = file_error(conn, c, err, "upload_file", remote_s, os.fsdecode(local_b))
        except BaseException as exc:  # pragma: no cover - reported to the caller
            result["exc"] = exc
        finally:
            conn._leave()
            finished.set()

    worker = threading.Thread(target=work, name="py61850-upload", daemon=True)
    done_p = ffi.new("uint64_t *")
    total_p = ffi.new("uint64_t *")
    last: Optional[tuple[int, int]] = None
    total = 0
    try:
        worker.start()
        while not finished.wait(_UPLOAD_POLL_S):
            if progress is None:
                continue
            c = conn._enter()
            try:
                running = lib.i61_client_upload_progress(c, done_p, total_p)
            finally:
                conn._leave()
            if running:
                now = (int(done_p[0]), int(total_p[0]))
                total = now[1]
                if now != last:
                    last = now
                    progress(*now)
    except BaseException:
        # MMS cannot cancel a pending ObtainFile: the only way to stop the server
        # reading from us is to end the association.
        log.warning("upload of %s interrupted: aborting the association", remote_s)
        try:
            conn.abort()
        except Exception as exc:  # pragma: no cover - best effort
            log.debug("abort after an interrupted upload: %s", exc)
        finished.wait(10.0)
        raise
    exc = result.get("exc")
    if exc is not None:
        raise exc
    if progress is not None:
        size = total if total else _local_size(conn, local_b)
        if last is None or last[0] != size:
            progress(size, size)
    else:
        size = _local_size(conn, local_b)
    log.debug("uploaded %s as %s (%d octets)", os.fsdecode(local_b), remote_s, size)
    return size


def _local_size(conn: "IedConnection", local_b: bytes) -> int:
    """Size of the uploaded file as the C side resolves it (best effort, 0 if unknown)."""
    base = getattr(conn, "_filestore_base", None)
    path = local_b if local_b.startswith(b"/") else os.path.join(base or os.getcwdb(), local_b)
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
