"""Our client against our server: file services end to end (issue 6).

The server's file store is a sandbox: names that leave the root (``..``, absolute
names, symbolic links pointing out, NUL and control characters) are refused and nothing
outside the root is read, written or removed. Also here: the open-file limit per
association, a transfer cut by a dropped connection (no handle left open on the server,
a clear error on the client), uploads that fail leaving nothing behind, files of 4 GiB
and more, and :meth:`IedServer.on_file` deciding operations.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from fakes.scripted_server import _ber_len, golden, mms_frame, mms_pdu_of, recv_tpkt
from peers.process import DEFAULT_SCL
from py61850 import cli
from py61850.client import (
    AccessDeniedError,
    ConnectionLostError,
    IedConnection,
    InvalidArgumentError,
    ObjectDoesNotExistError,
    ObjectExistsError,
    TemporarilyUnavailableError,
)
from py61850.server import FileError, FileOperation, FileRejected, FileRequest, IedServer

MIB = 1 << 20
UTC = dt.timezone.utc


def wait_until(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def snapshot(root: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every entry below ``root`` (links not followed): type/size/mtime/content digest."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        if p.is_symlink():
            out[str(p)] = (0, 0, os.readlink(p).encode())
        elif p.is_file():
            out[str(p)] = (st.st_size, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).digest())
        else:
            out[str(p)] = (-1, 0, b"")
    return out


@pytest.fixture
def area(tmp_path: Path) -> Path:
    """``store/`` (the file store) next to ``outside/`` (what must never be touched)."""
    store = tmp_path / "store"
    outside = tmp_path / "outside"
    (store / "sub").mkdir(parents=True)
    outside.mkdir()
    (store / "a.txt").write_bytes(b"alpha")
    (store / "sub" / "b.txt").write_bytes(b"bravo")
    (outside / "secret.txt").write_bytes(b"secret")
    (tmp_path / "beside.txt").write_bytes(b"beside the store")
    (store / "link_out.txt").symlink_to(outside / "secret.txt")          # a file link out of the root
    (store / "linkdir").symlink_to(outside, target_is_directory=True)     # a directory link out
    (store / "link_in.txt").symlink_to(store / "a.txt")                   # a link inside: not served either
    return tmp_path


@pytest.fixture
def server(area: Path) -> Iterator[IedServer]:
    srv = IedServer.from_scl(DEFAULT_SCL, filestore=area / "store")
    srv.start(0, "127.0.0.1")
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def conn(server: IedServer) -> Iterator[IedConnection]:
    with IedConnection("127.0.0.1", server.port) as c:
        yield c


# ------------------------------------------------------------------ round trip


def test_files_round_trip(server: IedServer, conn: IedConnection, area: Path) -> None:
    store = area / "store"
    entries = conn.get_files()
    assert [e.name for e in entries] == ["a.txt", "sub/b.txt"]  # links are not listed
    for e in entries:
        st = (store / e.name).stat()
        assert e.size == st.st_size
        assert e.last_modified is not None and e.last_modified.tzinfo is not None
        assert abs(e.last_modified.timestamp() - st.st_mtime) < 1.0
    assert [e.name for e in conn.get_files("sub")] == ["sub/b.txt"]

    assert conn.download_file("a.txt") == b"alpha"
    seen: list[tuple[int, Optional[int]]] = []
    target = area / "got.txt"
    assert conn.download_file("sub/b.txt", target, progress=lambda d, t: seen.append((d, t))) == 5
    assert target.read_bytes() == b"bravo" and seen[0] == (0, 5) and seen[-1] == (5, 5)
    buf = io.BytesIO()
    assert conn.download_file("a.txt", buf) == 5 and buf.getvalue() == b"alpha"

    local = area / "client"
    local.mkdir()
    (local / "up.bin").write_bytes(os.urandom(200_000))
    conn.set_filestore_basepath(local)
    assert conn.upload_file("up.bin", "sub/up.bin") == 200_000
    assert (store / "sub" / "up.bin").read_bytes() == (local / "up.bin").read_bytes()
    assert conn.upload_file(local / "up.bin", "up2.bin") == 200_000  # absolute, inside the base path

    conn.rename_file("sub/up.bin", "sub/renamed.bin")
    assert (store / "sub" / "renamed.bin").exists() and not (store / "sub" / "up.bin").exists()
    conn.delete_file("sub/renamed.bin")
    assert not (store / "sub" / "renamed.bin").exists()

    with pytest.raises(ObjectDoesNotExistError, match="missing.txt"):
        conn.download_file("missing.txt")
    with pytest.raises(ObjectDoesNotExistError, match="missing.txt"):
        conn.delete_file("missing.txt")
    with pytest.raises(ObjectExistsError, match="a.txt"):
        conn.rename_file("up2.bin", "a.txt")
    stats = server.file_stats
    assert (stats.opened, stats.obtained, stats.renamed, stats.deleted) == (3, 2, 1, 1)
    assert stats.octets_read == 15 and stats.octets_obtained == 400_000 and stats.open_now == 0


# ------------------------------------------------------------------ sandbox


ESCAPES = [
    "..",
    "../outside/secret.txt",
    "../beside.txt",
    "sub/../../beside.txt",
    "sub/../a.txt",  # inside after all, but ".." is refused as such
    "./a.txt",
    "sub//b.txt",
    "/etc/passwd",
    "link_out.txt",
    "link_in.txt",
    "linkdir/secret.txt",
    "linkdir",
    "sub\\b.txt",
]


def test_path_escapes_are_refused(server: IedServer, conn: IedConnection, area: Path) -> None:
    store = area / "store"
    absolute = str(area / "outside" / "secret.txt")
    before = snapshot(area)
    local = area / "client"
    local.mkdir()
    (local / "payload.bin").write_bytes(b"payload")
    conn.set_filestore_basepath(local)
    refused = 0
    for name in ESCAPES + [absolute, str(store / "a.txt")]:
        for what, call in (
            ("download", lambda n: conn.download_file(n)),
            ("delete", lambda n: conn.delete_file(n)),
            ("rename from", lambda n: conn.rename_file(n, "moved.txt")),
            ("rename to", lambda n: conn.rename_file("a.txt", n)),
            ("upload to", lambda n: conn.upload_file("payload.bin", n)),
        ):
            # renaming onto an existing link: duplicate-filename is fine too (the name exists)
            expected: Any = ((AccessDeniedError, ObjectExistsError)
                             if what == "rename to" and os.path.islink(store / name) else AccessDeniedError)
            with pytest.raises(expected) as exc:
                call(name)
            refused += 1
            assert name in str(exc.value) or what.startswith("rename"), (what, name, exc.value)
        if name not in ("linkdir", "sub/../a.txt", "./a.txt", "sub//b.txt", "link_in.txt", "link_out.txt",
                        "sub\\b.txt"):
            with pytest.raises((AccessDeniedError, ObjectDoesNotExistError)):
                conn.get_files(name)
            refused += 1
    with pytest.raises(AccessDeniedError):
        conn.get_files("linkdir")
    assert snapshot(area) == {**before, **{k: v for k, v in snapshot(area).items() if "/client" in k}}
    assert not list(store.rglob(".i61-obtain-*"))
    assert server.file_stats.refused >= refused
    assert (server.file_stats.opened, server.file_stats.deleted, server.file_stats.renamed,
            server.file_stats.obtained) == (0, 0, 0, 0)
    assert conn.download_file("a.txt") == b"alpha"  # the association is still fine


# raw MMS requests with names our client refuses to send (NUL, control characters)


def _graphic(name: bytes) -> bytes:
    return b"\x19" + _ber_len(len(name)) + name


def _confirmed(invoke_id: int, service: bytes) -> bytes:
    body = b"\x02\x01" + bytes([invoke_id]) + service
    return b"\xa0" + _ber_len(len(body)) + body


def file_open_request(invoke_id: int, name: bytes) -> bytes:
    fname = _graphic(name)
    inner = b"\xa0" + _ber_len(len(fname)) + fname + b"\x81\x01\x00"
    return _confirmed(invoke_id, b"\xbf\x48" + _ber_len(len(inner)) + inner)


def file_delete_request(invoke_id: int, name: bytes) -> bytes:
    fname = _graphic(name)
    return _confirmed(invoke_id, b"\xbf\x4c" + _ber_len(len(fname)) + fname)


def file_directory_request(invoke_id: int, name: bytes) -> bytes:
    fname = _graphic(name)
    inner = b"\xa0" + _ber_len(len(fname)) + fname
    return _confirmed(invoke_id, b"\xbf\x4d" + _ber_len(len(inner)) + inner)


def file_rename_request(invoke_id: int, old: bytes, new: bytes) -> bytes:
    a, b = _graphic(old), _graphic(new)
    inner = b"\xa0" + _ber_len(len(a)) + a + b"\xa1" + _ber_len(len(b)) + b
    return _confirmed(invoke_id, b"\xbf\x4b" + _ber_len(len(inner)) + inner)


def raw_association(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(golden("001_cotp_cr"))
    assert recv_tpkt(s) is not None
    s.sendall(golden("003_initiate_request"))
    assert recv_tpkt(s) is not None
    return s


def file_error_of(pdu: bytes) -> Optional[int]:
    """The MMS file error code of a confirmed-ErrorPDU (``... 8b 01 <code>``), None otherwise."""
    if not pdu or pdu[0] != 0xA2:
        return None
    i = pdu.find(b"\x8b\x01")
    return pdu[i + 2] if i >= 0 else None


NASTY = [b"a\x00.txt", b"a.txt\x00", b"sub\x00/b.txt", b"a\x01.txt", b"\x1b[2Ja.txt", b"a\n.txt", b"a\x7f.txt",
         b"../beside.txt", b"/etc/passwd", b"", b"x" * 300]


def test_nul_and_control_characters_are_refused_on_the_wire(server: IedServer, area: Path) -> None:
    before = snapshot(area)
    s = raw_association(server.port)
    try:
        iid = 1
        for name in NASTY:
            for make in (file_open_request, file_delete_request, file_directory_request,
                         lambda i, n: file_rename_request(i, b"a.txt", n),
                         lambda i, n: file_rename_request(i, n, b"moved.txt")):
                s.sendall(mms_frame(make(iid, name)))
                frame = recv_tpkt(s)
                assert frame is not None, name
                pdu = mms_pdu_of(frame)
                code = file_error_of(pdu)
                if make is file_directory_request and name == b"":
                    continue  # an empty name is the root, as "/"
                assert code in (FileError.FILE_ACCESS_DENIED, FileError.FILENAME_SYNTAX_ERROR), (name, pdu.hex())
                iid = iid % 120 + 1
        # still serving this association
        s.sendall(mms_frame(file_open_request(iid, b"a.txt")))
        frame = recv_tpkt(s)
        assert frame is not None and mms_pdu_of(frame)[0] == 0xA1
    finally:
        s.close()
    assert wait_until(lambda: server.file_stats.open_now == 0)
    assert snapshot(area) == before
    assert server.file_stats.opened == 1


def test_links_created_while_running_are_not_followed(server: IedServer, conn: IedConnection, area: Path) -> None:
    """A link swapped in for a directory after a listing is still not followed."""
    store = area / "store"
    assert conn.download_file("sub/b.txt") == b"bravo"
    (store / "sub" / "b.txt").unlink()
    (store / "sub").rmdir()
    (store / "sub").symlink_to(area / "outside", target_is_directory=True)
    with pytest.raises(AccessDeniedError):
        conn.download_file("sub/secret.txt")
    with pytest.raises(AccessDeniedError):
        conn.delete_file("sub/secret.txt")
    assert (area / "outside" / "secret.txt").read_bytes() == b"secret"


# ------------------------------------------------------------------ open files


def test_open_file_limit_per_association(area: Path) -> None:
    (area / "store" / "big.bin").write_bytes(os.urandom(2 * MIB))
    with IedServer.from_scl(DEFAULT_SCL, filestore=area / "store", max_open_files=1, max_pdu_size=1024) as srv:
        srv.start(0, "127.0.0.1")
        with IedConnection("127.0.0.1", srv.port) as c, IedConnection("127.0.0.1", srv.port) as other:
            started, release = threading.Event(), threading.Event()
            result: dict[str, Any] = {}

            def hold(done: int, total: Optional[int]) -> None:
                if done > 0 and not started.is_set():
                    started.set()
                    release.wait(10)

            def slow() -> None:
                try:
                    result["n"] = c.download_file("big.bin", progress=hold)
                except BaseException as exc:  # pragma: no cover - reported below
                    result["exc"] = exc

            t = threading.Thread(target=slow)
            t.start()
            try:
                assert started.wait(10)
                assert srv.file_stats.open_now == 1
                with pytest.raises(TemporarilyUnavailableError, match="a.txt"):  # file-busy
                    c.download_file("a.txt")
                assert other.download_file("a.txt") == b"alpha"  # the limit is per association
            finally:
                release.set()
                t.join(20)
            assert len(result.get("n", b"")) == 2 * MIB, result.get("exc")
            assert c.download_file("a.txt") == b"alpha"
        assert wait_until(lambda: srv.file_stats.open_now == 0)


# ------------------------------------------------------------------ interrupted transfers


class CuttableProxy:
    """A TCP relay between a client and the server that can cut both sides at once."""

    def __init__(self, port: int) -> None:
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.port = self.lsock.getsockname()[1]
        self.target = port
        self.socks: list[socket.socket] = []
        self.relayed = 0
        self.threads: list[threading.Thread] = []
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)

    def _accept(self) -> None:
        try:
            a, _ = self.lsock.accept()
        except OSError:
            return
        b = socket.create_connection(("127.0.0.1", self.target))
        self.socks += [a, b]
        for src, dst in ((a, b), (b, a)):
            t = threading.Thread(target=self._pump, args=(src, dst), daemon=True)
            t.start()
            self.threads.append(t)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.relayed += len(data)
                dst.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self.lsock.close()


@pytest.mark.parametrize("to", ["path", "file"])
def test_dropped_connection_mid_download(area: Path, to: str) -> None:
    size = 16 * MIB
    (area / "store" / "big.bin").write_bytes(os.urandom(size))
    with IedServer.from_scl(DEFAULT_SCL, filestore=area / "store", max_pdu_size=512) as srv:
        srv.start(0, "127.0.0.1")
        proxy = CuttableProxy(srv.port)
        target = area / "big.local"
        with IedConnection("127.0.0.1", proxy.port) as c:
            def cut_midway(done: int, total: Optional[int]) -> None:
                if done >= MIB and proxy.socks:
                    proxy.cut()

            with pytest.raises(ConnectionLostError, match="big.bin") as exc:
                if to == "path":
                    c.download_file("big.bin", target, progress=cut_midway)
                else:
                    with open(target, "wb") as f:
                        c.download_file("big.bin", f, progress=cut_midway)
            assert "octets" in str(exc.value)  # says how far it got
        if to == "path":
            assert not target.exists() and not Path(str(target) + ".part").exists()
        else:
            assert MIB <= target.stat().st_size < size
        assert wait_until(lambda: srv.file_stats.open_now == 0)
        assert wait_until(lambda: srv.connection_count == 0)
        assert srv.file_stats.octets_read < size


def test_server_stopped_mid_download(area: Path) -> None:
    (area / "store" / "big.bin").write_bytes(os.urandom(8 * MIB))
    with IedServer.from_scl(DEFAULT_SCL, filestore=area / "store", max_pdu_size=512) as srv:
        srv.start(0, "127.0.0.1")
        with IedConnection("127.0.0.1", srv.port) as c:
            def stop_midway(done: int, total: Optional[int]) -> None:
                if done >= MIB and srv.is_running:
                    threading.Thread(target=srv.stop).start()

            with pytest.raises(ConnectionLostError, match="big.bin"):
                c.download_file("big.bin", area / "x.bin", progress=stop_midway)
        assert wait_until(lambda: not srv.is_running)
        assert srv.file_stats.open_now == 0


def test_progress_exception_closes_the_remote_file(server: IedServer, conn: IedConnection, area: Path) -> None:
    (area / "store" / "mid.bin").write_bytes(os.urandom(MIB))

    def boom(done: int, total: Optional[int]) -> None:
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        conn.download_file("mid.bin", progress=boom)
    assert server.file_stats.open_now == 0
    assert conn.download_file("a.txt") == b"alpha"


def test_interrupted_upload_leaves_nothing(area: Path) -> None:
    store = area / "store"
    local = area / "client"
    local.mkdir()
    (local / "big.bin").write_bytes(os.urandom(8 * MIB))
    (store / "big.bin").write_bytes(b"the old version")
    with IedServer.from_scl(DEFAULT_SCL, filestore=store, max_pdu_size=512) as srv:
        srv.start(0, "127.0.0.1")
        with IedConnection("127.0.0.1", srv.port) as c:
            c.set_filestore_basepath(local)

            def stop(done: int, total: Optional[int]) -> None:
                if done >= MIB:
                    raise KeyboardInterrupt

            with pytest.raises(KeyboardInterrupt):
                c.upload_file("big.bin", "big.bin", progress=stop)
        assert wait_until(lambda: srv.connection_count == 0)
        assert wait_until(lambda: not list(store.rglob(".i61-obtain-*")))
        assert (store / "big.bin").read_bytes() == b"the old version"
        assert srv.file_stats.obtained == 0


# ------------------------------------------------------------------ 4 GiB


def test_file_of_4_gib_is_listed_and_refused(server: IedServer, conn: IedConnection, area: Path) -> None:
    huge = area / "store" / "huge.bin"
    with open(huge, "wb") as f:
        f.truncate(4 << 30)  # sparse
    entries = {e.name: e for e in conn.get_files()}
    assert entries["huge.bin"].size == 0xFFFFFFFF
    with pytest.raises(AccessDeniedError, match="huge.bin"):
        conn.download_file("huge.bin")
    assert server.file_stats.open_now == 0


# ------------------------------------------------------------------ on_file


def test_on_file_decides(server: IedServer, area: Path) -> None:
    store = area / "store"
    seen: list[FileRequest] = []

    def policy(req: FileRequest) -> Any:
        seen.append(req)
        if req.operation == FileOperation.DIRECTORY and req.path == "sub":
            return False
        if req.operation == "delete":
            raise FileRejected(FileError.FILE_BUSY, "in use")
        if req.operation == "rename":
            return FileError.FILE_ACCESS_DENIED
        if req.operation == "obtain" and not req.path.startswith("uploads/"):
            return False
        return True

    server.on_file(policy)
    # connected after on_file: the requests carry the client's address (see ClientConnection)
    conn = IedConnection()
    conn.connect("127.0.0.1", server.port)
    assert [e.name for e in conn.get_files()] == ["a.txt", "sub/b.txt"]
    with pytest.raises(AccessDeniedError):
        conn.get_files("sub")
    assert conn.download_file("a.txt") == b"alpha"
    with pytest.raises(TemporarilyUnavailableError, match="a.txt"):
        conn.delete_file("a.txt")
    with pytest.raises(AccessDeniedError, match="a.txt"):
        conn.rename_file("a.txt", "c.txt")
    local = area / "client"
    local.mkdir()
    (local / "f.bin").write_bytes(b"upload")
    conn.set_filestore_basepath(local)
    with pytest.raises(AccessDeniedError):
        conn.upload_file("f.bin", "f.bin")
    (store / "uploads").mkdir()
    conn.upload_file("f.bin", "uploads/f.bin")
    assert (store / "uploads" / "f.bin").read_bytes() == b"upload"
    assert not (store / "f.bin").exists() and (store / "a.txt").exists() and not (store / "c.txt").exists()
    assert [(r.operation, r.path, r.new_path, r.source) for r in seen] == [
        (FileOperation.DIRECTORY, "", None, None),
        (FileOperation.DIRECTORY, "sub", None, None),
        (FileOperation.OPEN, "a.txt", None, None),
        (FileOperation.DELETE, "a.txt", None, None),
        (FileOperation.RENAME, "a.txt", "c.txt", None),
        (FileOperation.OBTAIN, "f.bin", None, "f.bin"),
        (FileOperation.OBTAIN, "uploads/f.bin", None, "f.bin"),
    ]
    assert all(r.connection.host == "127.0.0.1" for r in seen)
    assert seen[3].local_path == str(store / "a.txt")
    assert server.file_stats.refused >= 4
    conn.close()


def test_on_file_slow_handler_times_out(area: Path) -> None:
    with IedServer.from_scl(DEFAULT_SCL, filestore=area / "store", hook_timeout=0.3) as srv:
        srv.on_file(lambda req: time.sleep(1.0))
        srv.start(0, "127.0.0.1")
        with IedConnection("127.0.0.1", srv.port) as c:
            with pytest.raises(AccessDeniedError):
                c.download_file("a.txt")
            time.sleep(0.8)  # the late answer is ignored
            srv.on_file(None)
            assert c.download_file("a.txt") == b"alpha"
        assert srv.file_stats.open_now == 0


def test_on_file_handler_exception_refuses(server: IedServer, conn: IedConnection,
                                           caplog: pytest.LogCaptureFixture) -> None:
    def broken(req: FileRequest) -> None:
        raise ValueError("bug in the handler")

    server.on_file(broken)
    with pytest.raises(AccessDeniedError):
        conn.download_file("a.txt")
    assert server.handler_failures == 1
    assert "bug in the handler" in caplog.text
    with pytest.raises(TypeError):
        server.on_file("not callable")  # type: ignore[arg-type]


# ------------------------------------------------------------------ without a file store / after close


def test_without_filestore_the_services_are_unsupported(area: Path) -> None:
    from py61850.client import ServiceNotSupportedError

    with IedServer.from_scl(DEFAULT_SCL) as srv:
        srv.start(0, "127.0.0.1")
        with IedConnection("127.0.0.1", srv.port) as c:
            with pytest.raises(ServiceNotSupportedError):
                c.get_files()
            with pytest.raises(ServiceNotSupportedError):
                c.download_file("a.txt")
            srv.set_filestore(area / "store")
            assert c.download_file("a.txt") == b"alpha"
            assert srv.filestore == str(area / "store")
    srv.close()
    assert srv.file_stats.opened == 1 and srv.file_stats.octets_read == 5  # kept after close
    with pytest.raises(InvalidArgumentError):
        IedServer.from_scl(DEFAULT_SCL, filestore=area / "store" / "a.txt")  # a file, not a directory


def test_demo_downloads_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    def demo_dirs() -> set[str]:
        return {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("py61850-demo-")}

    before = demo_dirs()
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "9. Files" in out and "COMTRADE/DEMO_fault_001.cfg" in out
    assert "downloaded COMTRADE/DEMO_fault_001.cfg and .dat" in out and "trip at t = 24 ms" in out
    assert demo_dirs() <= before  # the demo's file store is removed
