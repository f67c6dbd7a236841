"""Scripted fake MMS servers for the fault tests.

A :class:`ScriptedServer` listens on 127.0.0.1 (ephemeral port) and runs one
behaviour for every accepted connection, on a thread of its own:

``silent``
    accept the TCP connection, read whatever comes, never answer
    (a hung device: the client's connect timeout must fire).
``handshake_then_silent``
    complete the association with the golden frames 002 (COTP CC) and 004
    (session AC / presentation CPA / AARE / MMS Initiate-Response), then read
    requests and never answer them (the request timeout must fire).
``handshake_then_reply``
    complete the association, then answer the first request with the frame
    ``reply`` (for example a malformed one) and keep the socket open.
``handshake_then_respond``
    complete the association, then pass the MMS PDU of every request to
    ``responder(pdu) -> Optional[bytes]`` and send back the MMS PDU it returns
    (wrapped by :func:`mms_frame`), or nothing for ``None``; MMS Conclude and the
    ACSE release are answered with the golden frames 135 and 137.

Frames are read by the TPKT length (RFC 1006). The handshake answers are the
golden frames byte for byte, except that the CC's DST-REF echoes the SRC-REF of
the client's CR (COTP requires it; the golden CR used 1).
"""
from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path
from typing import Callable, Optional

log = logging.getLogger("py61850.tests.fakes")

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "vendor" / "lib61850" / "tests" / "golden"


def golden(name: str) -> bytes:
    """One golden TPKT frame (``vendor/lib61850/tests/golden/<name>.hex``) as bytes."""
    return bytes.fromhex((GOLDEN_DIR / f"{name}.hex").read_text().strip())


def data_frame(user_data: bytes) -> bytes:
    """TPKT + COTP DT (EOT) + session GT/DT around ``user_data`` (a presentation PDU)."""
    body = b"\x02\xf0\x80\x01\x00\x01\x00" + user_data
    return b"\x03\x00" + (len(body) + 4).to_bytes(2, "big") + body


def _ber_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82]) + n.to_bytes(2, "big")


def mms_frame(mms_pdu: bytes) -> bytes:
    """A complete data frame carrying ``mms_pdu`` in presentation context 3."""
    pdv = b"\x02\x01\x03\xa0" + _ber_len(len(mms_pdu)) + mms_pdu
    seq = b"\x30" + _ber_len(len(pdv)) + pdv
    return data_frame(b"\x61" + _ber_len(len(seq)) + seq)


def ber_tlv(data: bytes, off: int = 0) -> tuple[int, int, int]:
    """``(tag octet, content start, content end)`` of the BER TLV at ``off``
    (one-octet tags, definite lengths: enough for the frames used here)."""
    tag = data[off]
    n = data[off + 1]
    start = off + 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[start:start + k], "big")
        start += k
    end = start + n
    if end > len(data):
        raise ValueError(f"TLV at {off} runs past the end")
    return tag, start, end


def mms_pdu_of(frame: bytes) -> bytes:
    """The MMS PDU inside a data frame (TPKT, COTP DT, session GT+DT, presentation)."""
    li = frame[4]
    off = 4 + 1 + li
    if frame[off:off + 4] != b"\x01\x00\x01\x00":
        raise ValueError(f"not a session GT/DT data frame: {frame[:16].hex()}")
    off += 4
    _, s, _ = ber_tlv(frame, off)          # 61 fully-encoded-data
    _, s, _ = ber_tlv(frame, s)            # 30 PDV-list
    _, _, e = ber_tlv(frame, s)            # 02 01 03 context id
    tag, s, e = ber_tlv(frame, e)          # a0 single-ASN1-type
    return frame[s:e]


def invoke_id_of(pdu: bytes) -> int:
    """invokeID of a confirmed-RequestPDU (``a0 L 02 n <id> ...``)."""
    tag, s, _ = ber_tlv(pdu)
    if tag != 0xA0:
        raise ValueError(f"not a confirmed-RequestPDU: {pdu[:8].hex()}")
    t, s2, e2 = ber_tlv(pdu, s)
    if t != 0x02:
        raise ValueError("no invokeID")
    return int.from_bytes(pdu[s2:e2], "big")


def read_response(invoke_id: int, *data: bytes) -> bytes:
    """confirmed-ResponsePDU of a Read with the given encoded Data elements."""
    results = b"".join(data)
    inner = b"\xa1" + _ber_len(len(results)) + results
    read = b"\xa4" + _ber_len(len(inner)) + inner
    iid = invoke_id.to_bytes(max(1, (invoke_id.bit_length() + 8) // 8), "big")
    body = b"\x02" + bytes([len(iid)]) + iid + read
    return b"\xa1" + _ber_len(len(body)) + body


def recv_tpkt(sock: socket.socket) -> Optional[bytes]:
    """Read one whole TPKT frame; ``None`` at EOF."""
    head = _recv_exact(sock, 4)
    if head is None:
        return None
    length = int.from_bytes(head[2:4], "big")
    if head[0] != 3 or length < 4:
        raise ValueError(f"not a TPKT header: {head.hex()}")
    rest = _recv_exact(sock, length - 4)
    if rest is None:
        return None
    return head + rest


def _recv_exact(sock: socket.socket, n: int) -> Optional[bytes]:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


class ScriptedServer:
    """A fake server; use as a context manager (``with ScriptedServer("silent") as srv``).

    :param behaviour: ``silent``, ``handshake_then_silent`` or ``handshake_then_reply``
    :param reply: the frame sent in answer to the first request (``handshake_then_reply``)

    .. attribute:: port

       The TCP port it listens on.

    .. attribute:: received

       Every TPKT frame received, in order (all connections).

    .. attribute:: errors

       Exceptions raised by connection threads (a test should expect none).
    """

    BEHAVIOURS = ("silent", "handshake_then_silent", "handshake_then_reply", "handshake_then_respond")

    def __init__(
        self,
        behaviour: str,
        reply: Optional[bytes] = None,
        responder: Optional[Callable[[bytes], Optional[bytes]]] = None,
    ) -> None:
        if behaviour not in self.BEHAVIOURS:
            raise ValueError(behaviour)
        if behaviour == "handshake_then_reply" and reply is None:
            raise ValueError("handshake_then_reply needs a reply frame")
        if behaviour == "handshake_then_respond" and responder is None:
            raise ValueError("handshake_then_respond needs a responder")
        self.behaviour = behaviour
        self.reply = reply
        self.responder = responder
        self.received: list[bytes] = []
        self.errors: list[BaseException] = []
        self.handshakes_done = threading.Event()
        self.reply_sent = threading.Event()
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind(("127.0.0.1", 0))
        self._lsock.listen(8)
        self._lsock.settimeout(0.1)
        self.port: int = self._lsock.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, name="fake-accept", daemon=True)
        self._acceptor.start()

    # ------------------------------------------------------------------ plumbing

    def __enter__(self) -> "ScriptedServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting, close every connection, join the threads."""
        self._stop.set()
        self._acceptor.join(2)
        self._lsock.close()
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        for t in threads:
            t.join(2)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            t = threading.Thread(target=self._serve, args=(conn,), name="fake-conn", daemon=True)
            with self._lock:
                self._conns.append(conn)
                self._threads.append(t)
            t.start()

    def _recv(self, conn: socket.socket) -> Optional[bytes]:
        frame = recv_tpkt(conn)
        if frame is not None:
            with self._lock:
                self.received.append(frame)
        return frame

    # ---------------------------------------------------------------- behaviours

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.behaviour == "silent":
                while not self._stop.is_set() and self._recv(conn) is not None:
                    pass
                return
            if not self._handshake(conn):
                return
            self.handshakes_done.set()
            if self.behaviour == "handshake_then_reply":
                if self._recv(conn) is None:
                    return
                conn.sendall(self.reply)  # type: ignore[arg-type]
                self.reply_sent.set()
            if self.behaviour == "handshake_then_respond":
                while not self._stop.is_set():
                    frame = self._recv(conn)
                    if frame is None:
                        return
                    if self._release_step(conn, frame):
                        continue
                    answer = self.responder(mms_pdu_of(frame))  # type: ignore[misc]
                    if answer is not None:
                        conn.sendall(mms_frame(answer))
            while not self._stop.is_set() and self._recv(conn) is not None:
                pass  # silent from here on
        except OSError:
            pass  # the client closed or the test tears down
        except BaseException as exc:  # recorded for the test
            log.exception("fake server connection failed")
            self.errors.append(exc)

    def _release_step(self, conn: socket.socket, frame: bytes) -> bool:
        """Answer MMS Conclude and the ACSE release with the golden frames 135 and
        137 (``handshake_then_respond``); True if ``frame`` was one of them."""
        off = 4 + 1 + frame[4]
        if frame[off:off + 1] == b"\x09":  # session FINISH carrying the ACSE RLRQ
            conn.sendall(golden("137_release_rlre"))
            return True
        if mms_pdu_of(frame) == b"\x8b\x00":  # MMS conclude-RequestPDU
            conn.sendall(golden("135_conclude_response"))
            return True
        return False

    def _handshake(self, conn: socket.socket) -> bool:
        cr = self._recv(conn)
        if cr is None:
            return False
        if len(cr) < 11 or cr[5] & 0xF0 != 0xE0:
            raise ValueError(f"expected a COTP CR, got {cr.hex()}")
        cc = bytearray(golden("002_cotp_cc"))
        cc[6:8] = cr[8:10]  # DST-REF := the client's SRC-REF
        conn.sendall(bytes(cc))
        cn = self._recv(conn)
        if cn is None:
            return False
        if len(cn) < 8 or cn[7] != 0x0D:
            raise ValueError(f"expected a session CONNECT, got {cn[:16].hex()}")
        conn.sendall(golden("004_initiate_response"))
        return True
