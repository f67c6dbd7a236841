"""The client's file services against a scripted fake server (tests/fakes/): what the peer
servers cannot show - a size of 4 GiB or more (sizeOfFile 0xFFFFFFFF or modulo 2**32), a
file shorter than announced, read errors in the middle of a file, empty chunks, a failing
FileClose, directory paging with continueAfter, a connection dropped mid-transfer - and
that the remote file is closed (with the FRSM the server gave) on every way out.

The fake answers each MMS request with a PDU built here (BER by hand, tags from ISO 9506:
FileOpen [72], FileRead [73], FileClose [74], FileRename [75], FileDelete [76],
FileDirectory [77]; layouts as in the golden frames 108-121).
"""
from __future__ import annotations

import datetime as dt
import io
import socket
from typing import Callable, Optional

import pytest

from fakes.scripted_server import ScriptedServer
from py61850._files import FileDirectoryEntry as PrivateEntry, time_from_ms
from py61850.client import (
    AccessDeniedError,
    ConnectionLostError,
    FileDirectoryEntry,
    IedConnection,
    IedConnectionState,
    InvalidArgumentError,
    MalformedMessageError,
    ObjectExistsError,
    TemporarilyUnavailableError,
    UnexpectedValueError,
)

UTC = dt.timezone.utc

OPEN, READ, CLOSE, RENAME, DELETE, DIRECTORY = 72, 73, 74, 75, 76, 77
FILE_BUSY, ACCESS_DENIED, DUPLICATE = 2, 6, 8


# ------------------------------------------------------------------ BER by hand


def tlv(tag: bytes, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = bytes([0x81, n])
    else:
        ln = bytes([0x82]) + n.to_bytes(2, "big")
    return tag + ln + content


def integer(v: int) -> bytes:
    """Minimal two's complement content of a non-negative INTEGER."""
    return v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")


def read_tlv(data: bytes, off: int) -> tuple[int, int, int, int]:
    """(tag number, constructed flag, content start, content end) at ``off``."""
    first = data[off]
    off += 1
    num = first & 0x1F
    if num == 0x1F:
        num = 0
        while True:
            b = data[off]
            off += 1
            num = (num << 7) | (b & 0x7F)
            if not b & 0x80:
                break
    n = data[off]
    off += 1
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[off:off + k], "big")
        off += k
    return num, first & 0x20, off, off + n


def parse_request(pdu: bytes) -> tuple[int, int, bytes]:
    """(invokeID, service tag number, service content) of a confirmed-RequestPDU."""
    tag, _, s, e = read_tlv(pdu, 0)
    assert pdu[0] == 0xA0, pdu.hex()
    _, _, s2, e2 = read_tlv(pdu, s)
    iid = int.from_bytes(pdu[s2:e2], "big")
    svc, _, s3, e3 = read_tlv(pdu, e2)
    return iid, svc, pdu[s3:e3]


def strings_in(content: bytes) -> list[str]:
    """Every GraphicString (tag 0x19) found one or two levels down (file names)."""
    out = []
    off = 0
    while off < len(content):
        num, cons, s, e = read_tlv(content, off)
        if content[off] == 0x19:
            out.append(content[s:e].decode())
        elif cons:
            out += strings_in(content[s:e])
        off = e
    return out


def response(iid: int, service: bytes) -> bytes:
    return tlv(b"\xa1", b"\x02" + bytes([len(integer(iid))]) + integer(iid) + service)


def file_error(iid: int, code: int) -> bytes:
    """confirmed-ErrorPDU with serviceError errorClass file(11) = code."""
    err = tlv(b"\xa2", tlv(b"\xa0", b"\x8b\x01" + bytes([code])))
    return tlv(b"\xa2", b"\x80" + bytes([len(integer(iid))]) + integer(iid) + err)


def open_response(iid: int, frsm: int, size: int, mtime: Optional[str] = "20261121071357.000Z") -> bytes:
    attrs = tlv(b"\x80", integer(size))
    if mtime is not None:
        attrs += tlv(b"\x81", mtime.encode())
    return response(iid, tlv(b"\xbf\x48", tlv(b"\x80", integer(frsm)) + tlv(b"\xa1", attrs)))


def read_response(iid: int, data: bytes, more: bool) -> bytes:
    return response(iid, tlv(b"\xbf\x49", tlv(b"\x80", data) + b"\x81\x01" + (b"\xff" if more else b"\x00")))


def null_response(iid: int, svc: int) -> bytes:
    return response(iid, b"\x9f" + bytes([svc]) + b"\x00")


def dir_response(iid: int, entries: list[tuple[str, int]], more: bool) -> bytes:
    items = b"".join(
        tlv(b"\x30", tlv(b"\xa0", tlv(b"\x19", n.encode()))
            + tlv(b"\xa1", tlv(b"\x80", integer(sz)) + tlv(b"\x81", b"20261121071357.000Z")))
        for n, sz in entries)
    body = tlv(b"\xa0", tlv(b"\x30", items)) + (b"\x81\x01\xff" if more else b"")
    return response(iid, tlv(b"\xbf\x4d", body))


# ------------------------------------------------------------------ a scripted file server


class FakeFile:
    """Serves one file: FileOpen answers ``frsm``/``announced``; FileRead hands out
    ``chunks`` in order, the last one again and again (each ``answer(invoke_id)``, or an
    int = that file error code); every request is recorded as (service, content)."""

    def __init__(self, chunks: list, announced: int, frsm: int = 7, close_error: Optional[int] = None) -> None:
        self.chunks = list(chunks)
        self.announced = announced
        self.frsm = frsm
        self.close_error = close_error
        self.requests: list[tuple[int, bytes]] = []
        self.server: Optional[ScriptedServer] = None
        self.reads = 0

    def __call__(self, pdu: bytes) -> Optional[bytes]:
        iid, svc, content = parse_request(pdu)
        self.requests.append((svc, content))
        if svc == OPEN:
            return open_response(iid, self.frsm, self.announced)
        if svc == READ:
            assert int.from_bytes(content, "big") == self.frsm
            self.reads += 1
            item = self.chunks.pop(0) if len(self.chunks) > 1 else self.chunks[0]
            if isinstance(item, int):
                return file_error(iid, item)
            return item(iid)
        if svc == CLOSE:
            assert int.from_bytes(content, "big") == self.frsm
            if self.close_error is not None:
                return file_error(iid, self.close_error)
            return null_response(iid, CLOSE)
        raise AssertionError(f"unexpected service {svc}")

    def services(self) -> list[int]:
        return [svc for svc, _ in self.requests]


def chunks_then_end(*parts: bytes) -> list:
    """FileRead answers: every part with moreFollows TRUE except the last."""
    out: list = []
    for i, p in enumerate(parts):
        last = i == len(parts) - 1
        out.append(lambda iid, p=p, last=last: read_response(iid, p, more=not last))
    return out


def run(fake: Callable[[bytes], Optional[bytes]], fn: Callable[[IedConnection], object]) -> object:
    with ScriptedServer("handshake_then_respond", responder=fake) as srv:
        if isinstance(fake, FakeFile):
            fake.server = srv
        conn = IedConnection("127.0.0.1", srv.port)
        conn.set_request_timeout(3000)
        with conn:
            result = fn(conn)
        assert not srv.errors, srv.errors
        return result


# ------------------------------------------------------------------ tests


def test_entry_type_and_times():
    assert FileDirectoryEntry is PrivateEntry
    e = FileDirectoryEntry("COMTRADE/a.cfg", 12, None)
    assert e == ("COMTRADE/a.cfg", 12, None) and e.name == e.filepath == "COMTRADE/a.cfg"
    assert time_from_ms(-1) is None
    assert time_from_ms(0) == dt.datetime(1970, 1, 1, tzinfo=UTC)
    assert time_from_ms(1795260184123) == dt.datetime(2026, 11, 21, 11, 23, 4, 123000, tzinfo=UTC)
    assert time_from_ms(1 << 62) is None


def test_unknown_size_streams_until_the_server_says_the_end():
    """sizeOfFile 0xFFFFFFFF (a server's way to say "4 GiB or more"): progress has no
    total, the download does not rely on it."""
    parts = [bytes([i]) * 1000 for i in range(3)]
    fake = FakeFile(chunks_then_end(*parts), announced=0xFFFFFFFF)
    seen = []
    data = run(fake, lambda c: c.download_file("big.dat", progress=lambda d, t: seen.append((d, t))))
    assert data == b"".join(parts)
    assert seen == [(0, None), (1000, None), (2000, None), (3000, None)]
    assert fake.services() == [OPEN, READ, READ, READ, CLOSE]
    assert strings_in(fake.requests[0][1]) == ["big.dat"]


def test_size_modulo_4_gib_is_not_trusted():
    """A server that sends sizeOfFile modulo 2**32 announces less than it sends: all the
    data is taken, the total turns to None once passed."""
    fake = FakeFile(chunks_then_end(b"a" * 1000, b"b" * 1000), announced=1500)
    seen = []
    data = run(fake, lambda c: c.download_file("wrapped.dat", progress=lambda d, t: seen.append((d, t))))
    assert data == b"a" * 1000 + b"b" * 1000
    assert seen == [(0, 1500), (1000, 1500), (2000, None)]


def test_file_shorter_than_announced_fails_loudly(tmp_path):
    fake = FakeFile(chunks_then_end(b"x" * 1000), announced=5000)
    target = tmp_path / "short.dat"
    with pytest.raises(UnexpectedValueError) as ei:
        run(fake, lambda c: c.download_file("short.dat", target))
    assert "short.dat" in str(ei.value) and "1000" in str(ei.value) and "5000" in str(ei.value)
    assert fake.services() == [OPEN, READ, CLOSE]
    assert list(tmp_path.iterdir()) == []


def test_progress_exception_closes_the_frsm_the_server_gave():
    fake = FakeFile(chunks_then_end(b"1" * 100, b"2" * 100, b"3" * 100), announced=300, frsm=7)

    def boom(done, total):
        if done == 200:
            raise RuntimeError("user stop")

    with pytest.raises(RuntimeError, match="user stop"):
        run(fake, lambda c: c.download_file("f.dat", progress=boom))
    assert fake.services() == [OPEN, READ, READ, CLOSE]
    assert fake.requests[-1][1] == b"\x07"  # FileClose frsmID 7


def test_read_error_in_the_middle_names_file_and_position():
    fake = FakeFile([lambda iid: read_response(iid, b"z" * 1000, True), ACCESS_DENIED], announced=4000)
    buf = io.BytesIO()
    with pytest.raises(AccessDeniedError) as ei:
        run(fake, lambda c: c.download_file("rec.dat", buf))
    msg = str(ei.value)
    assert "rec.dat" in msg and "after 1000 of 4000 octets" in msg, msg
    assert ei.value.reference == "rec.dat"
    assert buf.getvalue() == b"z" * 1000  # what arrived stays in a caller's file object
    assert fake.services() == [OPEN, READ, READ, CLOSE]


def test_empty_chunks_forever_are_refused():
    fake = FakeFile([lambda iid: read_response(iid, b"", True)], announced=10)
    with pytest.raises(MalformedMessageError) as ei:
        run(fake, lambda c: c.download_file("empty.dat"))
    assert "empty chunks" in str(ei.value)
    assert fake.services()[-1] == CLOSE
    assert 2 < fake.reads < 40


def test_failing_file_close_fails_the_download(tmp_path):
    fake = FakeFile(chunks_then_end(b"data"), announced=4, close_error=FILE_BUSY)
    target = tmp_path / "x.dat"
    with pytest.raises(TemporarilyUnavailableError) as ei:
        run(fake, lambda c: c.download_file("x.dat", target))
    assert "x.dat" in str(ei.value)
    assert fake.services() == [OPEN, READ, CLOSE]
    assert list(tmp_path.iterdir()) == []


def test_connection_dropped_mid_transfer(tmp_path):
    fake_ref: list = []

    def drop(iid):
        for s in list(fake_ref[0].server._conns):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return None

    fake = FakeFile([lambda iid: read_response(iid, b"q" * 1000, True), drop], announced=10_000)
    fake_ref.append(fake)
    target = tmp_path / "lost.dat"

    def go(c: IedConnection):
        with pytest.raises(ConnectionLostError) as ei:
            c.download_file("lost.dat", target)
        assert "lost.dat" in str(ei.value) and "after 1000" in str(ei.value)
        assert c.state is IedConnectionState.CLOSED

    run(fake, go)
    assert CLOSE not in fake.services()
    assert list(tmp_path.iterdir()) == []


def test_directory_paging_with_continue_after():
    page1 = [(f"rec{i:03d}.dat", i) for i in range(40)]
    page2 = [(f"rec{i:03d}.dat", i) for i in range(40, 55)]
    asked: list[list[str]] = []

    def responder(pdu: bytes) -> bytes:
        iid, svc, content = parse_request(pdu)
        assert svc == DIRECTORY
        names = strings_in(content)
        asked.append(names)
        if len(asked) == 1:
            return dir_response(iid, page1, more=True)
        return dir_response(iid, page2, more=False)

    entries = run(responder, lambda c: c.get_files("COMTRADE"))
    assert [(e.name, e.size) for e in entries] == page1 + page2
    assert entries[0].last_modified == dt.datetime(2026, 11, 21, 7, 13, 57, tzinfo=UTC)
    # the second request repeats the directory and continues after the last name seen
    assert asked == [["COMTRADE"], ["COMTRADE", "rec039.dat"]]


def test_root_listing_sends_no_file_specification():
    asked = []

    def responder(pdu: bytes) -> bytes:
        iid, svc, content = parse_request(pdu)
        asked.append(strings_in(content))
        return dir_response(iid, [("a", 1)], more=False)

    assert run(responder, lambda c: (c.get_files(), c.get_files(""))) == (
        [FileDirectoryEntry("a", 1, dt.datetime(2026, 11, 21, 7, 13, 57, tzinfo=UTC))],) * 2
    assert asked == [[], []]


def test_delete_and_rename_errors_map_to_exceptions():
    def responder(pdu: bytes) -> bytes:
        iid, svc, content = parse_request(pdu)
        if svc == RENAME:
            assert strings_in(content) == ["old.cfg", "new.cfg"]
            return file_error(iid, DUPLICATE)
        if svc == DELETE:
            assert strings_in(content) == ["busy.cfg"]
            return file_error(iid, FILE_BUSY)
        raise AssertionError(svc)

    def go(c: IedConnection):
        with pytest.raises(ObjectExistsError) as ei:
            c.rename_file("old.cfg", "new.cfg")
        assert "old.cfg" in str(ei.value) and "new.cfg" in str(ei.value)
        with pytest.raises(TemporarilyUnavailableError) as ei:
            c.delete_file("busy.cfg")
        assert "busy.cfg" in str(ei.value) and ei.value.reference == "busy.cfg"
        for bad in ("", "x\ty", b"a\x00b"):
            with pytest.raises(InvalidArgumentError):
                c.delete_file(bad)

    run(responder, go)


def test_delete_and_rename_success_and_bytes_names():
    seen = []

    def responder(pdu: bytes) -> bytes:
        iid, svc, content = parse_request(pdu)
        seen.append((svc, strings_in(content)))
        return null_response(iid, svc)

    run(responder, lambda c: (c.delete_file(b"a.cfg"), c.rename_file("b.cfg", b"c.cfg")))
    assert seen == [(DELETE, ["a.cfg"]), (RENAME, ["b.cfg", "c.cfg"])]
