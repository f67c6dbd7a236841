"""libiec61850's client (pyiec61850-ng) against OUR server's file store (issue 6).

The Rust-based stack has no file services, so pyiec61850-ng is the only peer client here.
Our server runs in this process while no Python handler is set (it then answers from C,
on its own I/O thread, while the binding holds the GIL); the tests of :meth:`on_file`
drive the peer client in a child process (:class:`peers.clients.PyiecFileClient`), since
the handler needs the GIL the binding keeps while it waits. ``py61850 serve --filestore``
runs as a real child process.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

import py61850
from peers.clients import (
    PYIEC_MMS_FILE_ERROR_BASE,
    PyiecFileClient,
    PyiecFileError,
    pyiec_close,
    pyiec_connect,
    pyiec_delete_file,
    pyiec_download_file,
    pyiec_file_close,
    pyiec_file_directory,
    pyiec_file_open,
    pyiec_rename_file,
    pyiec_upload_file,
)
from peers.process import DEFAULT_SCL
from py61850.server import FileError, FileOperation, FileRejected, FileRequest, IedServer

import pyiec61850.pyiec61850 as L  # noqa: N812  (after the peers import, as the peers do)

MIB = 1 << 20
PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(py61850.__file__)))


def mms_file_error(code: FileError) -> int:
    """libiec61850's MmsError for an MMS file error."""
    return PYIEC_MMS_FILE_ERROR_BASE + int(code)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return h.hexdigest()


def wait_until(cond, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


@pytest.fixture(scope="module")
def big_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Files of 0 octets, 1 octet, 1 MiB and 64 MiB (random), made once."""
    d = tmp_path_factory.mktemp("big")
    files = {"empty.bin": b"", "one.bin": b"\x5a"}
    out = {}
    for name, data in files.items():
        (d / name).write_bytes(data)
        out[name] = d / name
    (d / "1mib.bin").write_bytes(os.urandom(MIB))
    out["1mib.bin"] = d / "1mib.bin"
    with open(d / "64mib.bin", "wb") as f:
        for _ in range(64):
            f.write(os.urandom(MIB))
    out["64mib.bin"] = d / "64mib.bin"
    return out


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A file store: a few files at the root and in nested directories."""
    root = tmp_path / "store"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "COMTRADE").mkdir()
    (root / "a.txt").write_bytes(b"alpha")
    (root / "sub" / "nested.txt").write_bytes(b"nested file")
    (root / "sub" / "deeper" / "x.bin").write_bytes(bytes(range(256)) * 4)
    (root / "COMTRADE" / "rec1.cfg").write_text("Feeder,TEST,1999\r\n")
    (root / "COMTRADE" / "rec1.dat").write_bytes(bytes(5000))
    return root


@pytest.fixture
def server(store: Path) -> Iterator[IedServer]:
    srv = IedServer.from_scl(DEFAULT_SCL, filestore=store)
    srv.start(0, "127.0.0.1")
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def con(server: IedServer) -> Iterator[object]:
    c = pyiec_connect("127.0.0.1", server.port)
    try:
        yield c
    finally:
        pyiec_close(c)


def listing(store: Path, below: Path | None = None) -> dict[str, int]:
    """What the store holds below a directory: relative name -> size (regular files, recursive)."""
    base = below or store
    return {p.relative_to(base).as_posix(): p.stat().st_size
            for p in base.rglob("*") if p.is_file() and not p.is_symlink()}


# ------------------------------------------------------------------ directory


def test_directory_lists_subdirectories_recursively(server: IedServer, con: object, store: Path) -> None:
    entries = pyiec_file_directory(con, "/")
    names = [e["name"] for e in entries]
    assert {e["name"]: e["size"] for e in entries} == listing(store)
    assert "sub/deeper/x.bin" in names and "COMTRADE/rec1.dat" in names
    assert names == sorted(names)  # sorted bytewise, as libiec61850's server
    for e in entries:  # lastModified: the file's mtime (GeneralizedTime, milliseconds)
        st = (store / e["name"]).stat()
        assert abs(e["mtime_ms"] - st.st_mtime_ns // 1_000_000) <= 1000, e


def test_directory_of_a_subdirectory_and_of_a_file(server: IedServer, con: object, store: Path) -> None:
    # as libiec61850's server: names from the root, usable with FileOpen as they are
    expected = {f"sub/{k}": v for k, v in listing(store, store / "sub").items()}
    for spec in ("sub", "sub/"):
        assert {e["name"]: e["size"] for e in pyiec_file_directory(con, spec)} == expected
    one = pyiec_file_directory(con, "COMTRADE/rec1.cfg")
    assert [(e["name"], e["size"]) for e in one] == [("COMTRADE/rec1.cfg", 18)]


def test_directory_pages_are_followed(server: IedServer, con: object, store: Path) -> None:
    """Far more entries than one 65000-octet answer holds: moreFollows / continueAfter."""
    many = store / "many"
    many.mkdir()
    for i in range(2500):
        (many / f"disturbance_record_with_a_long_name_{i:05d}.dat").write_bytes(b"x" * (i % 7))
    entries = pyiec_file_directory(con, "many")
    assert len(entries) == 2500
    assert [e["name"] for e in entries] == sorted(f"many/{k}" for k in listing(store, many))
    assert all(e["size"] == int(e["name"][-9:-4]) % 7 for e in entries)


def test_directory_errors(server: IedServer, con: object) -> None:
    with pytest.raises(PyiecFileError) as exc:
        pyiec_file_directory(con, "no-such-dir")
    assert exc.value.code == L.IED_ERROR_OBJECT_DOES_NOT_EXIST
    with pytest.raises(PyiecFileError) as exc:
        pyiec_file_directory(con, "../")
    assert exc.value.code == L.IED_ERROR_ACCESS_DENIED


# ------------------------------------------------------------------ download


@pytest.mark.parametrize("name", ["empty.bin", "one.bin", "1mib.bin", "64mib.bin"])
def test_download_with_checksum(big_files: dict[str, Path], tmp_path: Path, name: str) -> None:
    src = big_files[name]
    with IedServer.from_scl(DEFAULT_SCL, filestore=src.parent) as srv:
        srv.start(0, "127.0.0.1")
        c = pyiec_connect("127.0.0.1", srv.port)
        try:
            local = tmp_path / f"got-{name}"
            t0 = time.perf_counter()
            pyiec_download_file(c, name, str(local))
            dt = time.perf_counter() - t0
        finally:
            pyiec_close(c)
        assert local.stat().st_size == src.stat().st_size
        assert sha256_file(local) == sha256_file(src)
        stats = srv.file_stats
        assert stats.opened == 1 and stats.octets_read == src.stat().st_size
        assert wait_until(lambda: srv.file_stats.open_now == 0)
    if src.stat().st_size >= 64 * MIB:
        print(f"pyiec61850-ng downloaded 64 MiB from our server at {64 / dt:.0f} MiB/s")


def test_download_errors(server: IedServer, con: object, store: Path, tmp_path: Path) -> None:
    def fail(name: str) -> int:
        with pytest.raises(PyiecFileError) as exc:
            pyiec_download_file(con, name, str(tmp_path / "out"))
        return exc.value.code

    assert fail("missing.bin") == mms_file_error(FileError.FILE_NON_EXISTENT)
    assert fail("sub") == mms_file_error(FileError.FILE_ACCESS_DENIED)  # a directory
    assert fail("../store/a.txt") == mms_file_error(FileError.FILE_ACCESS_DENIED)
    assert fail("/etc/passwd") == mms_file_error(FileError.FILE_ACCESS_DENIED)
    assert fail("sub/../a.txt") == mms_file_error(FileError.FILE_ACCESS_DENIED)
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"secret")
    (store / "link.txt").symlink_to(outside)
    assert fail("link.txt") == mms_file_error(FileError.FILE_ACCESS_DENIED)
    assert "link.txt" not in [e["name"] for e in pyiec_file_directory(con, "/")]
    assert server.file_stats.opened == 0 and server.file_stats.refused >= 6


# ------------------------------------------------------------------ open files


def test_open_file_limit_and_cleanup_on_disconnect(store: Path) -> None:
    with IedServer.from_scl(DEFAULT_SCL, filestore=store, max_open_files=2) as srv:
        srv.start(0, "127.0.0.1")
        c = pyiec_connect("127.0.0.1", srv.port)
        try:
            f1 = pyiec_file_open(c, "a.txt")
            f2 = pyiec_file_open(c, "sub/nested.txt")
            assert f1 != f2
            with pytest.raises(PyiecFileError) as exc:
                pyiec_file_open(c, "COMTRADE/rec1.cfg")
            assert exc.value.file_error == FileError.FILE_BUSY
            assert srv.file_stats.open_now == 2
            pyiec_file_close(c, f1)
            assert srv.file_stats.open_now == 1
            f3 = pyiec_file_open(c, "COMTRADE/rec1.cfg")
            with pytest.raises(PyiecFileError) as exc:
                pyiec_file_close(c, 12345)  # not an open file
            other = pyiec_connect("127.0.0.1", srv.port)  # the limit is per association
            try:
                f4 = pyiec_file_open(other, "a.txt")
                assert srv.file_stats.open_now == 3
                pyiec_file_close(other, f4)
            finally:
                pyiec_close(other)
            assert srv.file_stats.open_now == 2
            del f3
        finally:
            pyiec_close(c)  # two files still open: the end of the association closes them
        assert wait_until(lambda: srv.file_stats.open_now == 0)
        assert srv.file_stats.opened == 4


def test_client_killed_mid_download_leaves_no_open_file(big_files: dict[str, Path], tmp_path: Path) -> None:
    """The peer client's process dies in the middle of a 64 MiB download: the server
    closes the file with the association."""
    src = big_files["64mib.bin"]
    # small PDUs: the download takes seconds, so it is surely cut in the middle
    with IedServer.from_scl(DEFAULT_SCL, filestore=src.parent, max_pdu_size=512) as srv:
        srv.start(0, "127.0.0.1")
        c = PyiecFileClient("127.0.0.1", srv.port)
        try:
            assert c.proc.stdin is not None
            c.proc.stdin.write(json.dumps({"cmd": "file_download", "remote": src.name,
                                           "local": str(tmp_path / "partial.bin")}) + "\n")
            c.proc.stdin.flush()
            assert wait_until(lambda: srv.file_stats.octets_read > MIB, timeout=20)
            assert srv.file_stats.open_now == 1
        finally:
            c._kill()
            c.close()
        assert wait_until(lambda: srv.file_stats.open_now == 0)
        assert srv.file_stats.octets_read < src.stat().st_size
        assert srv.connection_count == 0


# ------------------------------------------------------------------ upload (ObtainFile)


def test_upload_with_obtain_file(server: IedServer, con: object, store: Path, big_files: dict[str, Path],
                                 tmp_path: Path) -> None:
    local = tmp_path / "client-files"
    (local / "records").mkdir(parents=True)
    data = os.urandom(3 * MIB + 17)
    (local / "records" / "upload.dat").write_bytes(data)
    pyiec_upload_file(con, str(local), "records/upload.dat", "COMTRADE/upload.dat")
    assert (store / "COMTRADE" / "upload.dat").read_bytes() == data
    # an existing file is replaced
    (local / "small.cfg").write_bytes(b"replacement")
    pyiec_upload_file(con, str(local), "small.cfg", "COMTRADE/upload.dat")
    assert (store / "COMTRADE" / "upload.dat").read_bytes() == b"replacement"
    # empty file
    pyiec_upload_file(con, str(big_files["empty.bin"].parent), "empty.bin", "empty.bin")
    assert (store / "empty.bin").read_bytes() == b""
    stats = server.file_stats
    assert stats.obtained == 3 and stats.octets_obtained == len(data) + len(b"replacement")
    assert not list(store.rglob(".i61-obtain-*"))


def test_upload_failures_leave_nothing_behind(server: IedServer, con: object, store: Path, tmp_path: Path) -> None:
    local = tmp_path / "client-files"
    local.mkdir()
    (local / "f.bin").write_bytes(b"payload")
    before = listing(store)
    for remote in ("no-such-dir/f.bin", "../f.bin", "/tmp/f.bin", "sub"):
        with pytest.raises(PyiecFileError) as exc:
            pyiec_upload_file(con, str(local), "f.bin", remote)
        assert exc.value.code in (L.IED_ERROR_ACCESS_DENIED, L.IED_ERROR_OBJECT_DOES_NOT_EXIST), remote
    with pytest.raises(PyiecFileError):  # the client has no such file: its error ends the transfer
        pyiec_upload_file(con, str(local), "missing.bin", "missing.bin")
    assert listing(store) == before
    assert not list(store.rglob(".i61-obtain-*"))
    assert not (tmp_path / "f.bin").exists() and not Path("/tmp/f.bin").exists()
    assert server.file_stats.obtained == 0


# ------------------------------------------------------------------ delete, rename


def test_delete(server: IedServer, con: object, store: Path) -> None:
    pyiec_delete_file(con, "sub/nested.txt")
    assert not (store / "sub" / "nested.txt").exists()
    with pytest.raises(PyiecFileError) as exc:
        pyiec_delete_file(con, "sub/nested.txt")
    assert exc.value.code == L.IED_ERROR_OBJECT_DOES_NOT_EXIST
    for name in ("sub", "../store/a.txt", "/etc/hostname", "sub/deeper/../../a.txt"):
        with pytest.raises(PyiecFileError) as exc:
            pyiec_delete_file(con, name)
        assert exc.value.code == L.IED_ERROR_ACCESS_DENIED, name
    assert (store / "a.txt").exists() and (store / "sub").is_dir()
    assert server.file_stats.deleted == 1


def test_rename(server: IedServer, con: object, store: Path) -> None:
    pyiec_rename_file(con, "a.txt", "sub/deeper/a-renamed.txt")
    assert not (store / "a.txt").exists()
    assert (store / "sub" / "deeper" / "a-renamed.txt").read_bytes() == b"alpha"

    def fail(old: str, new: str) -> int | None:
        with pytest.raises(PyiecFileError) as exc:
            pyiec_rename_file(con, old, new)
        return exc.value.file_error

    assert fail("sub/nested.txt", "COMTRADE/rec1.cfg") == FileError.DUPLICATE_FILENAME
    assert fail("missing.txt", "other.txt") == FileError.FILE_NON_EXISTENT
    assert fail("sub/nested.txt", "../escaped.txt") == FileError.FILE_ACCESS_DENIED
    assert fail("sub/nested.txt", "no-dir/x.txt") in (FileError.FILE_NON_EXISTENT, FileError.FILE_ACCESS_DENIED)
    assert not (store.parent / "escaped.txt").exists()
    assert (store / "sub" / "nested.txt").read_bytes() == b"nested file"
    assert server.file_stats.renamed == 1


# ------------------------------------------------------------------ without a file store


def test_no_filestore_rejects_the_file_services(store: Path) -> None:
    with IedServer.from_scl(DEFAULT_SCL) as srv:
        assert srv.filestore is None
        srv.start(0, "127.0.0.1")
        c = pyiec_connect("127.0.0.1", srv.port)
        try:
            with pytest.raises(PyiecFileError) as exc:
                pyiec_file_directory(c, "/")
            # a Reject (unrecognized-service); libiec61850's getFileDirectory reports it as UNKNOWN
            assert exc.value.code in (L.IED_ERROR_SERVICE_NOT_SUPPORTED, L.IED_ERROR_UNKNOWN)
            srv.set_filestore(store)  # while running
            assert {e["name"] for e in pyiec_file_directory(c, "/")} == set(listing(store))
            srv.set_filestore(None)
            with pytest.raises(PyiecFileError):
                pyiec_file_directory(c, "/")
        finally:
            pyiec_close(c)


def test_filestore_must_be_a_directory(tmp_path: Path) -> None:
    from py61850.client import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="not a directory"):
        IedServer.from_scl(DEFAULT_SCL, filestore=tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgumentError):
        IedServer.from_dict({"name": "D", "logical_devices": [{"inst": "LD0", "logical_nodes": [
            {"ln_class": "LLN0", "data_objects": []}]}]}, filestore=tmp_path / "file")
    with pytest.raises(InvalidArgumentError):
        IedServer.from_scl(DEFAULT_SCL, max_open_files=0)


# ------------------------------------------------------------------ on_file (peer client in a child)


def test_on_file_allows_and_denies(server: IedServer, store: Path, tmp_path: Path) -> None:
    seen: list[FileRequest] = []

    def policy(req: FileRequest):
        seen.append(req)
        if req.operation == FileOperation.DELETE:
            return False
        if req.operation == "rename":
            raise FileRejected(FileError.FILE_BUSY, "busy now")
        if req.operation == "open" and req.path.startswith("COMTRADE/"):
            raise RuntimeError("handler bug")  # logged, refused with file-access-denied
        return None

    server.on_file(policy)
    local = tmp_path / "client"
    local.mkdir()
    (local / "up.txt").write_bytes(b"uploaded")
    with PyiecFileClient("127.0.0.1", server.port) as c:
        assert {e["name"] for e in c.directory()} == set(listing(store))
        c.download("sub/nested.txt", str(tmp_path / "nested.txt"))
        assert (tmp_path / "nested.txt").read_bytes() == b"nested file"
        with pytest.raises(PyiecFileError) as exc:
            c.delete("a.txt")
        assert exc.value.code == L.IED_ERROR_ACCESS_DENIED
        with pytest.raises(PyiecFileError) as exc:
            c.rename("a.txt", "b.txt")
        assert exc.value.file_error == FileError.FILE_BUSY
        with pytest.raises(PyiecFileError) as exc:
            c.download("COMTRADE/rec1.cfg", str(tmp_path / "rec1.cfg"))
        assert exc.value.file_error == FileError.FILE_ACCESS_DENIED
        c.upload(str(local), "up.txt", "sub/up.txt")
    assert (store / "a.txt").exists() and not (store / "b.txt").exists()
    assert (store / "sub" / "up.txt").read_bytes() == b"uploaded"
    ops = [(r.operation.value, r.path, r.new_path, r.source) for r in seen]
    assert ops == [
        ("directory", "", None, None),
        ("open", "sub/nested.txt", None, None),
        ("delete", "a.txt", None, None),
        ("rename", "a.txt", "b.txt", None),
        ("open", "COMTRADE/rec1.cfg", None, None),
        ("obtain", "sub/up.txt", None, "up.txt"),
    ]
    assert all(r.connection.host == "127.0.0.1" and r.connection.port > 0 for r in seen)
    assert seen[2].local_path == str(store / "a.txt")
    assert server.handler_failures == 1
    # removed: every operation is allowed again
    server.on_file(None)
    with PyiecFileClient("127.0.0.1", server.port) as c:
        c.delete("a.txt")
    assert not (store / "a.txt").exists()


def test_on_file_does_not_see_refused_names(server: IedServer) -> None:
    """The sandbox comes first: a name that escapes the root never reaches the handler."""
    seen: list[FileRequest] = []
    server.on_file(lambda r: seen.append(r))
    with PyiecFileClient("127.0.0.1", server.port) as c:
        for name in ("../x", "/etc/passwd", "a/./b"):
            with pytest.raises(PyiecFileError) as exc:
                c.delete(name)
            assert exc.value.code == L.IED_ERROR_ACCESS_DENIED
    assert seen == []


# ------------------------------------------------------------------ py61850 serve --filestore


def test_cli_serve_with_filestore(store: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=PKG_PARENT, PYTHONUNBUFFERED="1", COLUMNS="200")
    proc = subprocess.Popen(
        [sys.executable, "-P", "-m", "py61850", "serve", DEFAULT_SCL, "--port", "0", "--host", "127.0.0.1",
         "--filestore", str(store)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        lines = []
        port = 0
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("listening on"):
                port = int(line.split()[2].rsplit(":", 1)[1])
                break
        assert port, (lines, proc.poll())
        assert any(f"file store {store}" in ln for ln in lines), lines
        c = pyiec_connect("127.0.0.1", port)
        try:
            assert {e["name"] for e in pyiec_file_directory(c, "/")} == set(listing(store))
            pyiec_download_file(c, "COMTRADE/rec1.cfg", str(tmp_path / "rec1.cfg"))
        finally:
            pyiec_close(c)
        assert (tmp_path / "rec1.cfg").read_bytes() == (store / "COMTRADE" / "rec1.cfg").read_bytes()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


def test_cli_serve_with_a_bad_filestore(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=PKG_PARENT)
    res = subprocess.run(
        [sys.executable, "-P", "-m", "py61850", "serve", DEFAULT_SCL, "--port", "0", "--filestore",
         str(tmp_path / "missing")], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=30)
    assert res.returncode == 1
    assert "missing" in res.stderr and "Traceback" not in res.stderr
