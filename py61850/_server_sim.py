"""A value simulator for :class:`~py61850.server.IedServer` (``py61850 serve --simulate``
and ``py61850 demo``): measurands wander around their initial value, indications
toggle now and then, and the time stamps (``t``) and qualities (``q``) of the data
objects that changed follow.

What is simulated is found in the server's model: every FLOAT attribute with FC
MX (``mag.f``, ``cVal.mag.f``, ...) is a measurand, every BOOLEAN ``stVal`` with FC
ST an indication.
"""
from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from ._values import Quality, Timestamp

log = logging.getLogger("py61850.server.simulator")

__all__ = ["Simulator"]


@dataclass
class _Measurand:
    ref: str
    base: float
    value: float
    step: float
    t_ref: Optional[str] = None
    q_ref: Optional[str] = None


@dataclass
class _Indication:
    ref: str
    value: bool
    t_ref: Optional[str] = None
    q_ref: Optional[str] = None


@dataclass
class _Found:
    measurands: list[_Measurand] = field(default_factory=list)
    indications: list[_Indication] = field(default_factory=list)


def _walk_dos(model: Any) -> Iterator[tuple[str, Any]]:
    """``(reference, DO)`` for every data object and sub data object."""
    for ld in model.logical_devices:
        for ln in ld.logical_nodes:
            stack = [(f"{ld.domain_name}/{ln.name}.{do.name}", do) for do in ln.data_objects]
            while stack:
                ref, do = stack.pop(0)
                yield ref, do
                stack.extend((f"{ref}.{c.name}", c) for c in do.children if getattr(c, "KIND", "") == "DO")


def _direct(do: Any, name: str, fc: str, btype: str) -> bool:
    return any(getattr(c, "KIND", "") == "DA" and c.name == name and c.fc == fc and c.btype == btype
               for c in do.children)


def _scan(model: Any) -> _Found:
    found = _Found()
    for ref, do in _walk_dos(model):
        for fc in ("MX", "ST"):
            t_ref = f"{ref}.t" if _direct(do, "t", fc, "Timestamp") else None
            q_ref = f"{ref}.q" if _direct(do, "q", fc, "Quality") else None
            for c in do.children:
                if getattr(c, "KIND", "") != "DA" or c.count:
                    continue
                for path, da in _leaves(c, c.name):
                    if da.fc != fc or da.count:
                        continue
                    if fc == "MX" and da.btype in ("FLOAT32", "FLOAT64"):
                        base = float(da.value) if isinstance(da.value, (int, float)) else 0.0
                        step = max(abs(base) * 0.002, 0.01)
                        found.measurands.append(_Measurand(f"{ref}.{path}", base, base, step, t_ref, q_ref))
                    elif fc == "ST" and da.btype == "BOOLEAN" and path == "stVal":
                        found.indications.append(_Indication(f"{ref}.{path}", bool(da.value), t_ref, q_ref))
    return found


def _leaves(da: Any, path: str) -> Iterator[tuple[str, Any]]:
    if da.children:
        for c in da.children:
            if not c.count:
                yield from _leaves(c, f"{path}.{c.name}")
    else:
        yield path, da


class Simulator:
    """Changes a server's values periodically on a thread of its own.

    :param server: the :class:`~py61850.server.IedServer`
    :param interval: seconds between two steps
    :param toggle_probability: chance per step that one indication toggles
    :param seed: seed of the random generator (reproducible runs)
    """

    def __init__(self, server: Any, interval: float = 0.5, toggle_probability: float = 0.3,
                 seed: Optional[int] = None) -> None:
        self.server = server
        self.interval = float(interval)
        self.toggle_probability = float(toggle_probability)
        self._rng = random.Random(seed)
        found = _scan(server.model)
        self.measurands = found.measurands
        self.indications = found.indications
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.steps = 0

    def step(self) -> None:
        """One step: every measurand moves, maybe one indication toggles;
        all under the server's lock (clients see a step as a whole)."""
        now = Timestamp.now()
        good = Quality()
        changed_t: set[str] = set()
        rng = self._rng
        with self.server.lock():
            for m in self.measurands:
                # a random walk pulled back towards the initial value
                m.value += rng.gauss(0.0, m.step) + (m.base - m.value) * 0.1
                self.server.update_value(m.ref, m.value)
                for extra in (m.t_ref, m.q_ref):
                    if extra:
                        changed_t.add(extra)
            if self.indications and rng.random() < self.toggle_probability:
                ind = rng.choice(self.indications)
                ind.value = not ind.value
                self.server.update_value(ind.ref, ind.value)
                for extra in (ind.t_ref, ind.q_ref):
                    if extra:
                        changed_t.add(extra)
            for ref in changed_t:
                if ref.endswith(".t"):
                    self.server.update_timestamp(ref, now)
                else:
                    self.server.update_quality(ref, good)
        self.steps += 1

    def start(self) -> "Simulator":
        """Run :meth:`step` every :attr:`interval` seconds until :meth:`stop`."""
        if self._thread is not None:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="py61850-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread (waits for the current step)."""
        self._stop.set()
        t, self._thread = self._thread, None
        if t is not None and t is not threading.current_thread():
            t.join(5.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                if not self.server.is_running and self._stop.is_set():
                    return
                log.exception("simulation step failed")
            self._stop.wait(self.interval)
