"""Access to the compiled cffi extension ``py61850._lib61850``.

The extension is imported lazily so that the pure-Python parts of the package
(enums, exceptions, quality and time helpers) work without it; any use of a C
object raises a clear :class:`ImportError` when the extension is missing or
does not link.
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Optional

__all__ = ["load", "available", "on_load", "io_callback", "on_io_thread"]

#: Thread-local flag shared by every ``extern "Python"`` callback of the
#: package: set ``io_callback.active = True`` while a callback runs on the
#: lib61850 I/O thread. Finalizers check :func:`on_io_thread` and must not call
#: a C ``*_free`` that waits for the I/O thread from there.
io_callback = threading.local()


def on_io_thread() -> bool:
    """True while the current thread runs a C callback (the lib61850 I/O thread)."""
    return bool(getattr(io_callback, "active", False))

_lock = threading.Lock()
_mod: Optional[Any] = None
_error: Optional[BaseException] = None
_hooks: list = []


def load() -> tuple[Any, Any]:
    """Return ``(ffi, lib)`` of the extension, importing it on first use.

    :raises ImportError: the extension is not built or does not link
    """
    global _mod, _error
    mod = _mod
    if mod is not None:
        return mod.ffi, mod.lib
    with _lock:
        if _mod is None:
            if _error is not None:
                raise ImportError(f"py61850._lib61850 is not usable: {_error}") from _error
            try:
                from . import _lib61850 as m  # type: ignore[attr-defined]
            except ImportError as exc:  # not built, or undefined symbols
                _error = exc
                raise ImportError(f"py61850._lib61850 is not usable: {exc}") from exc
            for hook in _hooks:
                hook(m.ffi, m.lib)
            _mod = m
        return _mod.ffi, _mod.lib


def on_load(hook) -> None:
    """Register ``hook(ffi, lib)``, called once when the extension is loaded
    (used to define the ``extern "Python"`` callbacks)."""
    with _lock:
        _hooks.append(hook)
        if _mod is not None:
            hook(_mod.ffi, _mod.lib)


def available() -> bool:
    """True if the extension can be loaded."""
    try:
        load()
    except ImportError:
        return False
    return True


# A C object collected on the library's I/O thread (inside a callback) must not
# be freed there: freeing waits for that very thread. Its finalizer hands the
# free to this reaper thread instead; only SimpleQueue.put (C code, never
# blocks) runs on the I/O thread.
_reaper_queue: "queue.SimpleQueue[Callable[[], None]]" = queue.SimpleQueue()
_reaper_lock = threading.Lock()
_reaper_thread: Optional[threading.Thread] = None


def start_reaper() -> None:
    """Start the reaper thread; call from a user thread when a C object is created."""
    global _reaper_thread
    with _reaper_lock:
        if _reaper_thread is None:
            t = threading.Thread(target=_reaper_loop, name="py61850-reaper", daemon=True)
            t.start()
            _reaper_thread = t


def reap_later(free: Callable[[], None]) -> None:
    """Run ``free()`` on the reaper thread (safe to call on the I/O thread)."""
    _reaper_queue.put(free)


def _reaper_loop() -> None:
    while True:
        _reaper_queue.get()()
