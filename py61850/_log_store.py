"""SQLite storage of the logs of an :class:`~py61850.server.IedServer`
(``log_storage=PATH``).

The C server keeps every log in memory (``log_max_entries`` entries each) and
answers ReadJournal from there. With a storage file, every entry is also
written to an SQLite database, and the database is read back when a server is
created on it, so that a log survives a restart and its entry ids keep
counting up.

How entries get there: the server queues an ``I61_SEV_LOG`` event when a log
got entries (at most one pending per log); the server's handler thread takes it
and copies the entries after the last stored one
(``i61_server_log_export``) into the database, one transaction per batch, then
drops the oldest rows beyond ``log_max_entries``. Whatever is still in memory
only is copied when the server is closed.

The database (format ``py61850 log storage``, version 1)::

    py61850_meta(key TEXT PRIMARY KEY, value TEXT)   -- 'format', 'version'
    log_entry(log_ref TEXT, entry_id INTEGER, time_ms INTEGER, data BLOB,
              PRIMARY KEY (log_ref, entry_id))

``log_ref`` is the log (``LD/LN$LogName``), ``entry_id`` the 8-octet entry id
as an integer, ``time_ms`` the entry's time (ms since 1970, UTC) and ``data``
the entry as the MMS JournalEntry it is sent as (BER). A file that is not an
SQLite database, or a database of something else, is refused with
:class:`LogStorageError`; it is never changed.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
from typing import Any, Iterable, Optional, Union

__all__ = ["LogStorageError", "LogStore", "split_journal_entries"]

log = logging.getLogger("py61850.server.logs")

FORMAT = "py61850 log storage"
VERSION = "1"

#: ms from 1970-01-01 to 1984-01-01 (the epoch of MMS TimeOfDay)
_MS_1984 = 441763200000
#: Octets the first export buffer has (it grows for a larger entry)
_EXPORT_CAP = 65536
#: Entries one database transaction takes at most
_BATCH = 2000
#: Seconds a write waits for another process's lock on the file before it fails (and is
#: tried again with the next entries): the writes run on the server's handler thread.
_BUSY_TIMEOUT_S = 2.0
_I61_ERR_INVALID_ARGUMENT = 10  # i61_err: the next entry does not fit the buffer

_SCHEMA = (
    "CREATE TABLE py61850_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE log_entry (log_ref TEXT NOT NULL, entry_id INTEGER NOT NULL, time_ms INTEGER NOT NULL, "
    "data BLOB NOT NULL, PRIMARY KEY (log_ref, entry_id)) WITHOUT ROWID",
)
_COLUMNS = ("log_ref", "entry_id", "time_ms", "data")


class LogStorageError(Exception):
    """The log storage file cannot be used: it is not an SQLite database, it is
    a database of something else or of another version, it is damaged, or it
    cannot be opened or created."""


# ----------------------------------------------------------------- BER walking


def _tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """``(tag, start of content, end of content)`` of the TLV at ``pos`` (one-octet
    tags only, definite lengths of at most 4 octets).

    :raises ValueError: it does not fit before ``end``
    """
    if pos + 2 > end:
        raise ValueError("truncated TLV")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-octet tag")
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or pos + k > end:
            raise ValueError("bad length")
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    if pos + n > end:
        raise ValueError("length past the end")
    return tag, pos, pos + n


def _entry_fields(buf: bytes, start: int, end: int) -> tuple[int, int]:
    """``(entry id, time ms)`` of the JournalEntry content ``buf[start:end]``."""
    entry_id: Optional[int] = None
    time_ms: Optional[int] = None
    pos = start
    while pos < end:
        tag, c0, c1 = _tlv(buf, pos, end)
        if tag == 0x80:  # [0] entryIdentifier
            if c1 - c0 > 8:
                raise ValueError("entry id longer than 8 octets")
            entry_id = int.from_bytes(buf[c0:c1], "big")
        elif tag == 0xA2:  # [2] entryContent
            t, d0, d1 = _tlv(buf, c0, c1)
            if t == 0x80 and d1 - d0 in (4, 6):  # [0] occurrenceTime TimeOfDay
                ms = int.from_bytes(buf[d0:d0 + 4], "big")
                days = int.from_bytes(buf[d0 + 4:d1], "big") if d1 - d0 == 6 else 0
                time_ms = _MS_1984 + days * 86400000 + ms
        pos = c1
    if entry_id is None or time_ms is None:
        raise ValueError("JournalEntry without entry id or occurrence time")
    return entry_id, time_ms


def split_journal_entries(buf: bytes) -> list[tuple[int, int, bytes]]:
    """The JournalEntry TLVs (``30 ...``) of ``buf``, one after the other, as
    ``(entry id, time ms since 1970, TLV octets)``.

    :raises ValueError: ``buf`` is not a sequence of JournalEntry TLVs
    """
    out = []
    pos, end = 0, len(buf)
    while pos < end:
        tag, c0, c1 = _tlv(buf, pos, end)
        if tag != 0x30:
            raise ValueError(f"tag {tag:#04x} where a JournalEntry (0x30) was expected")
        eid, ms = _entry_fields(buf, c0, c1)
        out.append((eid, ms, bytes(buf[pos:c1])))
        pos = c1
    return out


# ----------------------------------------------------------------- the store


class LogStore:
    """The SQLite mirror of a server's logs (used by :class:`~py61850.server.IedServer`).

    Thread-safe: one lock around the database and the export buffer.

    :param path: the database file (created when missing)
    :param max_entries: rows kept per log
    :raises LogStorageError: see the class
    """

    def __init__(self, path: Union[str, os.PathLike], max_entries: int) -> None:
        self.path = os.fspath(path)
        self.max_entries = int(max_entries)
        self.lock = threading.Lock()
        self.last_id: dict[str, int] = {}  # newest entry id stored, per log
        self.failures = 0  # failed writes (each logged)
        self._buf: Any = None
        self._cap = 0
        try:
            con = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        except (sqlite3.Error, OSError, ValueError) as exc:
            raise LogStorageError(f"log storage {self.path!r}: cannot open it ({exc})") from exc
        self.con: Optional[sqlite3.Connection] = con
        try:
            self._check_schema()
        except BaseException:
            self.close()
            raise

    def _check_schema(self) -> None:
        con = self.con
        assert con is not None
        where = f"log storage {self.path!r}"
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                con.execute("BEGIN IMMEDIATE")
                try:
                    for stmt in _SCHEMA:
                        con.execute(stmt)
                    con.executemany("INSERT INTO py61850_meta (key, value) VALUES (?, ?)",
                                    (("format", FORMAT), ("version", VERSION)))
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                log.info("log storage %s created", self.path)
                return
            if "py61850_meta" not in tables:
                raise LogStorageError(f"{where}: an SQLite database of something else (tables "
                                      f"{', '.join(sorted(tables))}), not a py61850 log storage")
            meta = dict(con.execute("SELECT key, value FROM py61850_meta"))
            if meta.get("format") != FORMAT:
                raise LogStorageError(f"{where}: not a py61850 log storage (format {meta.get('format')!r})")
            if meta.get("version") != VERSION:
                raise LogStorageError(f"{where}: version {meta.get('version')!r} of the log storage "
                                      f"format is not supported (this py61850 reads version {VERSION})")
            cols = tuple(r[1] for r in con.execute("PRAGMA table_info(log_entry)"))
            if cols != _COLUMNS:
                raise LogStorageError(f"{where}: table log_entry has columns {cols}, expected {_COLUMNS}")
        except sqlite3.DatabaseError as exc:
            raise LogStorageError(f"{where}: not a usable SQLite database ({exc})") from exc

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self.lock:
            con, self.con = self.con, None
        if con is not None:
            try:
                con.close()
            except sqlite3.Error:
                log.exception("closing the log storage %s", self.path)

    # ---- reload

    def stored_logs(self) -> list[str]:
        """The logs that have rows in the database."""
        with self.lock:
            con = self._con()
            try:
                return [r[0] for r in con.execute("SELECT DISTINCT log_ref FROM log_entry ORDER BY log_ref")]
            except sqlite3.DatabaseError as exc:
                raise LogStorageError(f"log storage {self.path!r}: cannot be read ({exc})") from exc

    def load(self, ffi: Any, lib: Any, ptr: Any, log_ref: str) -> int:
        """Put the stored entries of ``log_ref`` (the newest ``max_entries``) into
        the server's log with ``i61_server_log_import``; returns how many.

        :raises LogStorageError: the database cannot be read or holds a damaged entry
        """
        where = f"log storage {self.path!r}"
        with self.lock:
            con = self._con()
            try:
                rows = con.execute("SELECT entry_id, data FROM log_entry WHERE log_ref = ? "
                                   "ORDER BY entry_id DESC LIMIT ?", (log_ref, self.max_entries)).fetchall()
            except sqlite3.DatabaseError as exc:
                raise LogStorageError(f"{where}: cannot be read ({exc})") from exc
            rows.reverse()
            if not rows:
                self.last_id[log_ref] = 0
                return 0
            for eid, data in rows:
                if not isinstance(data, bytes) or not isinstance(eid, int):
                    raise LogStorageError(f"{where}: entry {eid!r} of log {log_ref} is damaged (not a blob)")
            blob = b"".join(r[1] for r in rows)
            n = ffi.new("size_t *")
            err = lib.i61_server_log_import(ptr, log_ref.encode(), blob, len(blob), n)
            if err != 0:
                text = ffi.string(lib.i61_err_str(err)).decode("utf-8", "replace")
                raise LogStorageError(f"{where}: the entries of log {log_ref} cannot be loaded ({text}; "
                                      f"{int(n[0])} of {len(rows)} were); the file is damaged or not from "
                                      "this py61850")
            self.last_id[log_ref] = int(rows[-1][0])
            return int(n[0])

    # ---- copy from the server

    def sync(self, ffi: Any, lib: Any, ptr: Any, log_ref: str) -> int:
        """Copy the entries of ``log_ref`` newer than the last stored one from the
        server into the database and trim it; returns the entries written.
        Never raises: failures are logged and counted (:attr:`failures`), the
        entries stay in memory and are tried again at the next sync."""
        with self.lock:
            if self.con is None:
                return 0
            try:
                return self._sync(ffi, lib, ptr, log_ref)
            except Exception:
                self.failures += 1
                log.exception("log %s: entries not written to %s", log_ref, self.path)
                return 0

    def _sync(self, ffi: Any, lib: Any, ptr: Any, log_ref: str) -> int:
        ref_b = log_ref.encode()
        after = self.last_id.get(log_ref, 0)
        used = ffi.new("size_t *")
        n = ffi.new("size_t *")
        last = ffi.new("uint64_t *")
        written = 0
        batch: list[tuple[int, int, bytes]] = []
        if self._buf is None:
            self._cap = _EXPORT_CAP
            self._buf = ffi.new("uint8_t[]", self._cap)
        while True:
            err = lib.i61_server_log_export(ptr, ref_b, after, self._buf, self._cap, used, n, last)
            if err == _I61_ERR_INVALID_ARGUMENT and int(used[0]) > self._cap:
                self._cap = int(used[0])
                self._buf = ffi.new("uint8_t[]", self._cap)
                continue
            if err != 0:
                text = ffi.string(lib.i61_err_str(err)).decode("utf-8", "replace")
                raise RuntimeError(f"i61_server_log_export: {text}")
            if n[0] == 0:
                break
            batch.extend(split_journal_entries(bytes(ffi.buffer(self._buf, int(used[0])))))
            after = int(last[0])
            if len(batch) >= _BATCH:
                written += self._write(log_ref, batch)
                batch = []
        if batch:
            written += self._write(log_ref, batch)
        return written

    def _write(self, log_ref: str, batch: list[tuple[int, int, bytes]]) -> int:
        con = self._con()
        rows = [(log_ref, eid, ms, data) for eid, ms, data in batch if eid < 2**63]
        if len(rows) != len(batch):
            log.error("log %s: entry ids beyond 2**63-1 cannot be stored; %d left out", log_ref,
                      len(batch) - len(rows))
        con.execute("BEGIN IMMEDIATE")
        try:
            con.executemany("INSERT OR REPLACE INTO log_entry (log_ref, entry_id, time_ms, data) "
                            "VALUES (?, ?, ?, ?)", rows)
            # keep the newest max_entries rows of this log
            con.execute("DELETE FROM log_entry WHERE log_ref = ? AND entry_id <= (SELECT entry_id FROM "
                        "log_entry WHERE log_ref = ? ORDER BY entry_id DESC LIMIT 1 OFFSET ?)",
                        (log_ref, log_ref, self.max_entries))
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise
        self.last_id[log_ref] = max(self.last_id.get(log_ref, 0), max(b[0] for b in batch))
        return len(rows)

    def _con(self) -> sqlite3.Connection:
        if self.con is None:
            raise LogStorageError(f"log storage {self.path!r} is closed")
        return self.con


def sync_all(store: LogStore, ffi: Any, lib: Any, ptr: Any, logs: Iterable[str]) -> None:
    """:meth:`LogStore.sync` of every log."""
    for ref in logs:
        store.sync(ffi, lib, ptr, ref)
