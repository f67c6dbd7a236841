"""Our client's file services against libiec61850's server (pyiec61850-ng) with a file
store in a temporary directory: directory listings (subdirectories, paging), downloads of
0 B / 1 B / 1 MiB / 64 MiB files with checksums (bytes, path, file object), uploads via
ObtainFile, delete, rename (rejected by libiec61850), errors, interrupted transfers.

libiec61850 1.6.1 facts used here (tests/peers/README.md, PEERS.md): the listing is
recursive (``sub/nested.txt``); an association may hold at most 5 open files (the 6th
FileOpen is refused) - which is how the tests see that an interrupted download closed
its remote file; FileRename is rejected (unrecognized-service); ObtainFile refuses an
existing destination (duplicate-filename).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import threading
import tracemalloc
from pathlib import Path

import pytest

from peers.process import start_peer
from py61850.client import (
    AccessDeniedError,
    ConnectionLostError,
    FileDirectoryEntry,
    IedClientError,
    IedConnection,
    IedConnectionState,
    InvalidArgumentError,
    ObjectDoesNotExistError,
    ObjectExistsError,
    ServiceNotSupportedError,
)

MIB = 1 << 20
UTC = dt.timezone.utc
#: libiec61850's limit of open files per association (CONFIG_MMS_MAX_NUMBER_OF_OPEN_FILES_PER_CONNECTION)
LIBIEC_OPEN_FILES = 5
#: entries in the "many" directory: far more than one FileDirectory answer holds
MANY = 1500


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


def make_store(root: Path) -> dict[str, bytes]:
    """The served files; returns name -> content for the small ones."""
    files = {
        "empty.bin": b"",
        "one.bin": b"\x5a",
        "mib.bin": os.urandom(MIB),
        "sub/nested.txt": b"nested file\n",
        "sub/deeper/leaf.cfg": b"leaf\r\n" * 10,
        "COMTRADE/rec1.cfg": b"station,rec1,1999\n",
        "COMTRADE/rec1.dat": os.urandom(3000),
    }
    for name, data in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    (root / "many").mkdir()
    for i in range(MANY):
        (root / "many" / f"disturbance_record_with_a_long_name_{i:05d}.dat").write_bytes(b"x" * (i % 7))
    with open(root / "big64.bin", "wb") as f:
        for _ in range(64):
            f.write(os.urandom(MIB))
    return files


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    root = tmp_path_factory.mktemp("filestore")
    return root, make_store(root)


@pytest.fixture(scope="module")
def server(store):
    srv = start_peer("libiec", filestore=store[0])
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def conn(server):
    c = IedConnection()
    c.set_request_timeout(10000)
    c.connect(server.host, server.port)
    try:
        yield c
    finally:
        c.close()


def local_listing(root: Path, sub: str = "") -> dict[str, os.stat_result]:
    base = root / sub if sub else root
    out = {}
    for p in base.rglob("*"):
        if p.is_file():
            out[p.relative_to(root).as_posix()] = p.stat()
    return out


# ------------------------------------------------------------------ directory


def test_root_listing_has_every_file_with_size_and_time(conn, store):
    root, _ = store
    entries = conn.get_files()
    assert all(isinstance(e, FileDirectoryEntry) for e in entries)
    by_name = {e.name: e for e in entries}
    expected = local_listing(root)
    assert set(by_name) == set(expected)  # recursive: sub/nested.txt, sub/deeper/leaf.cfg, many/...
    assert "sub/deeper/leaf.cfg" in by_name and "COMTRADE/rec1.dat" in by_name
    for name, st in expected.items():
        e = by_name[name]
        assert e.size == st.st_size, name
        assert e.last_modified is not None and e.last_modified.tzinfo is not None
        # GeneralizedTime with (at best) milliseconds
        assert abs(e.last_modified.timestamp() - st.st_mtime) < 1.0, name
    assert entries[0].filepath == entries[0].name
    assert {e.name for e in conn.get_files("")} == set(by_name)


def test_subdirectory_listing(conn, store):
    root, _ = store
    names = {e.name for e in conn.get_files("sub")}
    assert names == {"sub/nested.txt", "sub/deeper/leaf.cfg"}
    assert {e.name for e in conn.get_files("COMTRADE")} == {"COMTRADE/rec1.cfg", "COMTRADE/rec1.dat"}
    assert {e.name for e in conn.get_files(b"sub/deeper")} == {"sub/deeper/leaf.cfg"}


def test_long_directory_is_fetched_across_answers(conn, store):
    root, _ = store
    entries = conn.get_files("many")
    names = [e.name for e in entries]
    assert len(names) == MANY and len(set(names)) == MANY
    assert set(names) == set(local_listing(root, "many"))
    # the names alone are larger than the 65000-octet PDU: several answers were needed
    assert sum(len(n) for n in names) > 65000
    sizes = {e.name: e.size for e in entries}
    assert sizes["many/disturbance_record_with_a_long_name_00013.dat"] == 13 % 7


def test_missing_directory(conn):
    with pytest.raises(ObjectDoesNotExistError) as ei:
        conn.get_files("no/such/dir")
    assert "no/such/dir" in str(ei.value) and ei.value.reference == "no/such/dir"


# ------------------------------------------------------------------ download


@pytest.mark.parametrize("name", ["empty.bin", "one.bin", "mib.bin", "sub/nested.txt"])
def test_download_as_bytes_and_to_a_path(conn, store, tmp_path, name):
    _, files = store
    want = files[name]
    seen: list[tuple[int, int]] = []
    data = conn.download_file(name, progress=lambda done, total: seen.append((done, total)))
    assert isinstance(data, bytes) and sha256(data) == sha256(want)
    assert seen[0] == (0, len(want)) and seen[-1] == (len(want), len(want))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    target = tmp_path / "out" / Path(name).name
    target.parent.mkdir()
    n = conn.download_file(name, target)
    assert n == len(want)
    assert target.read_bytes() == want
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no .part left


def test_download_to_a_file_object_and_str_name_or_bytes_name(conn, store):
    _, files = store
    buf = io.BytesIO()
    assert conn.download_file(b"COMTRADE/rec1.dat", buf) == 3000
    assert buf.getvalue() == files["COMTRADE/rec1.dat"]


class ChunkRecorder:
    """A binary file object that hashes what it gets and records the size of each write."""

    def __init__(self) -> None:
        self.h = hashlib.sha256()
        self.sizes: list[int] = []

    def write(self, data: bytes) -> int:
        self.h.update(data)
        self.sizes.append(len(data))
        return len(data)


def test_download_64_mib_is_streamed_chunk_by_chunk(conn, store):
    root, _ = store
    rec = ChunkRecorder()
    calls = []
    n = conn.download_file("big64.bin", rec, progress=lambda d, t: calls.append(d))
    assert n == 64 * MIB
    assert rec.h.hexdigest() == file_sha256(root / "big64.bin")
    # every write is one FileRead answer (bounded by the negotiated PDU size), none is the whole file
    assert max(rec.sizes) <= conn.max_pdu_size
    assert len(rec.sizes) >= 64 * MIB // conn.max_pdu_size
    assert len(calls) == len(rec.sizes) + 1  # once after FileOpen, then after every chunk


def test_download_64_mib_to_a_path_never_holds_the_file(conn, store, tmp_path):
    root, _ = store
    target = tmp_path / "big.bin"
    tracemalloc.start()
    try:
        n = conn.download_file("big64.bin", target)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 64 * MIB
    assert peak < 2 * MIB, f"peak Python allocation {peak} octets while downloading 64 MiB"
    assert file_sha256(target) == file_sha256(root / "big64.bin")


def test_download_missing_file_names_it_and_leaves_local_files_alone(conn, tmp_path):
    with pytest.raises(ObjectDoesNotExistError) as ei:
        conn.download_file("COMTRADE/nope.cfg")
    exc = ei.value
    assert "COMTRADE/nope.cfg" in str(exc) and exc.reference == "COMTRADE/nope.cfg"
    assert exc.error_code == IedClientError.OBJECT_DOES_NOT_EXIST

    existing = tmp_path / "keep.cfg"
    existing.write_bytes(b"old content")
    with pytest.raises(ObjectDoesNotExistError):
        conn.download_file("nope.cfg", existing)
    assert existing.read_bytes() == b"old content"
    with pytest.raises(ObjectDoesNotExistError):
        conn.download_file("nope.cfg", tmp_path / "new.cfg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.cfg"]
    # (not tested: FileOpen of a directory - libiec61850 1.6.1 accepts it and answers the
    # FileRead with 4096 octets of its buffer, whatever it held)


def test_bad_names_are_refused_before_sending(conn, tmp_path):
    with pytest.raises(InvalidArgumentError):
        conn.download_file("")
    with pytest.raises(InvalidArgumentError):
        conn.download_file("a\nb.txt")
    with pytest.raises(TypeError):
        conn.download_file(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        conn.download_file("one.bin", 3.5)  # type: ignore[arg-type]
    with pytest.raises(IsADirectoryError):
        conn.download_file("one.bin", tmp_path)
    assert conn.download_file("one.bin") == b"\x5a"  # the connection is fine


class Stop(Exception):
    pass


def test_interrupted_downloads_close_the_remote_file(conn, store, tmp_path):
    """A progress callback raising (or Ctrl-C) stops the download; the remote file is
    closed each time: libiec61850 refuses a 6th open file per association, and here
    twice as many downloads are interrupted on one association."""
    def stop_after_first_chunk(done, total):
        if done > 0:
            raise Stop(f"stopped at {done}")

    for i in range(2 * LIBIEC_OPEN_FILES + 1):
        with pytest.raises(Stop):
            conn.download_file("mib.bin", progress=stop_after_first_chunk)
    target = tmp_path / "mib.bin"
    with pytest.raises(Stop):
        conn.download_file("mib.bin", target, progress=stop_after_first_chunk)
    assert list(tmp_path.iterdir()) == []  # neither the target nor a .part file

    def ctrl_c(done, total):
        if done > 0:
            raise KeyboardInterrupt

    for _ in range(LIBIEC_OPEN_FILES):
        with pytest.raises(KeyboardInterrupt):
            conn.download_file("big64.bin", io.BytesIO(), progress=ctrl_c)

    # the sink failing (disk full, ...) closes it too
    class Full(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            raise OSError(28, "No space left on device")

    for _ in range(LIBIEC_OPEN_FILES):
        with pytest.raises(OSError, match="No space"):
            conn.download_file("mib.bin", Full())

    # nothing leaked: the association can still open LIBIEC_OPEN_FILES files at once
    ffi, lib = conn._ffi, conn._lib
    frsm = ffi.new("int32_t *")
    opened = []
    try:
        for _ in range(LIBIEC_OPEN_FILES):
            assert lib.i61_client_file_open(conn._h.ptr, b"one.bin", 0, frsm, ffi.NULL, ffi.NULL) == 0, \
                ffi.string(lib.i61_client_last_error_text(conn._h.ptr))
            opened.append(frsm[0])
        # the limit is real: one more is refused (so the check above means something)
        assert lib.i61_client_file_open(conn._h.ptr, b"one.bin", 0, frsm, ffi.NULL, ffi.NULL) != 0
    finally:
        for fid in opened:
            lib.i61_client_file_close(conn._h.ptr, fid)
    assert sha256(conn.download_file("mib.bin")) == sha256(store[1]["mib.bin"])


def test_dropped_connection_mid_download(start_peer_server, store, tmp_path):
    """The server dies during a 64 MiB download: ConnectionLostError naming the file and
    how far it got; the target is not created and no .part file stays behind."""
    peer = start_peer_server("libiec", filestore=store[0])
    conn = IedConnection()
    conn.connect(peer.host, peer.port)
    target = tmp_path / "big.bin"
    killed = threading.Event()

    def kill_at_8_mib(done, total):
        if done >= 8 * MIB and not killed.is_set():
            killed.set()
            peer.proc.kill()
            peer.proc.wait()

    try:
        with pytest.raises(ConnectionLostError) as ei:
            conn.download_file("big64.bin", target, progress=kill_at_8_mib)
        msg = str(ei.value)
        assert killed.is_set()
        assert "big64.bin" in msg and "after" in msg, msg
        assert ei.value.reference == "big64.bin"
        assert list(tmp_path.iterdir()) == []
        assert conn.state is IedConnectionState.CLOSED
        # into a file object: what arrived stays there (the message says how much)
        with pytest.raises((ConnectionLostError,)):
            conn.download_file("big64.bin", io.BytesIO())
    finally:
        conn.close()


# ------------------------------------------------------------------ upload, delete, rename


def test_upload_via_obtain_file(conn, store, tmp_path):
    root, _ = store
    local = tmp_path / "outbox"
    (local / "recs").mkdir(parents=True)
    payload = os.urandom(300_000)
    (local / "recs" / "r1.dat").write_bytes(payload)
    (local / "r2.cfg").write_bytes(b"cfg\n")
    conn.set_filestore_basepath(local)
    seen = []
    try:
        n = conn.upload_file("recs/r1.dat", "uploaded_r1.dat", progress=lambda d, t: seen.append((d, t)))
        assert n == len(payload)
        assert (root / "uploaded_r1.dat").read_bytes() == payload
        assert seen and seen[-1] == (len(payload), len(payload))
        # an absolute path inside the base path works too
        assert conn.upload_file(str(local / "r2.cfg"), "uploaded_r2.cfg") == 4
        assert (root / "uploaded_r2.cfg").read_bytes() == b"cfg\n"
        names = {e.name for e in conn.get_files()}
        assert {"uploaded_r1.dat", "uploaded_r2.cfg"} <= names
        assert conn.download_file("uploaded_r1.dat") == payload
    finally:
        for name in ("uploaded_r1.dat", "uploaded_r2.cfg"):
            (root / name).unlink(missing_ok=True)


def test_upload_errors(conn, store, tmp_path):
    root, _ = store
    base = tmp_path / "base"
    base.mkdir()
    (base / "ok.txt").write_bytes(b"ok")
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"secret")
    (base / "link.txt").symlink_to(outside)
    (base / "adir").mkdir()
    conn.set_filestore_basepath(base)
    with pytest.raises(ObjectDoesNotExistError) as ei:
        conn.upload_file("missing.txt", "x.txt")
    assert "missing.txt" in str(ei.value)
    for bad in ("../outside.txt", str(outside), "link.txt", "adir"):
        with pytest.raises(AccessDeniedError):
            conn.upload_file(bad, "x.txt")
    assert not (root / "x.txt").exists()
    # libiec61850 refuses to overwrite: duplicate-filename
    with pytest.raises(ObjectExistsError) as ei:
        conn.upload_file("ok.txt", "one.bin")
    assert "one.bin" in str(ei.value)
    assert (root / "one.bin").read_bytes() == b"\x5a"
    with pytest.raises(InvalidArgumentError):
        conn.set_filestore_basepath(tmp_path / "no-such-dir")
    # the association survived all of it
    assert conn.download_file("one.bin") == b"\x5a"


def test_delete_file(conn, store):
    root, _ = store
    (root / "sub" / "to_delete.txt").write_bytes(b"bye")
    assert "sub/to_delete.txt" in {e.name for e in conn.get_files("sub")}
    conn.delete_file("sub/to_delete.txt")
    assert not (root / "sub" / "to_delete.txt").exists()
    assert "sub/to_delete.txt" not in {e.name for e in conn.get_files("sub")}
    with pytest.raises(ObjectDoesNotExistError) as ei:
        conn.delete_file("sub/to_delete.txt")
    assert "sub/to_delete.txt" in str(ei.value)
    with pytest.raises(AccessDeniedError):
        conn.delete_file("sub")  # a directory
    assert (root / "sub" / "nested.txt").exists()


def test_rename_is_rejected_by_libiec(conn, store):
    root, _ = store
    with pytest.raises(ServiceNotSupportedError) as ei:
        conn.rename_file("one.bin", "two.bin")
    assert "one.bin" in str(ei.value) and "two.bin" in str(ei.value)
    assert ei.value.error_code == IedClientError.SERVICE_NOT_SUPPORTED
    assert (root / "one.bin").exists() and not (root / "two.bin").exists()
    assert conn.download_file("one.bin") == b"\x5a"


def test_interrupted_upload_aborts_the_association(server, store, tmp_path):
    """MMS cannot cancel a pending ObtainFile: an exception from the progress callback
    aborts the association and is re-raised; a new connection works."""
    root, _ = store
    (tmp_path / "big_up.bin").write_bytes(os.urandom(64 * MIB))
    conn = IedConnection()
    conn.connect(server.host, server.port)
    conn.set_filestore_basepath(tmp_path)
    calls = []

    def stop(done, total):
        calls.append((done, total))
        raise Stop("enough")

    try:
        with pytest.raises(Stop):
            conn.upload_file("big_up.bin", "big_up.bin", progress=stop)
        assert calls and calls[0][1] == 64 * MIB and calls[0][0] < 64 * MIB
        assert conn.state is IedConnectionState.CLOSED
        conn.connect(server.host, server.port)
        assert conn.download_file("one.bin") == b"\x5a"
    finally:
        conn.close()
        (root / "big_up.bin").unlink(missing_ok=True)  # what libiec61850 wrote before the abort
