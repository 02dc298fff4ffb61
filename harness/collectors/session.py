"""The measurement layer: one session per case x repeat, one background sampler thread.

Every source is read at the same instants: ``start()``, each phase boundary
(``mark_phase()``, ``mark_epoch()``), each sampler tick (``sample_period_s``,
default 0.1 s, shortened when a RAPL counter could wrap twice between ticks)
and ``stop()``. A reading is a snapshot of cumulative figures, so an
interval's energy is the difference of two snapshots, and RAPL counters are
polled often enough that at most one wrap happens between two polls (every
wrap is counted).

Phases: the engine marks where warm-up/compilation (``compile``), training
updates (``train``), evaluation (``eval``) and host work in between (``host``)
begin. The case's energy columns cover the ``train`` intervals only; each
snapshot is labelled with the phase of the interval it closes (its trailing
power belongs to that interval). The derived columns are computed in
:mod:`harness.collectors.derive`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from harness.collectors import rows
from harness.collectors.base import CollectorConfig
from harness.collectors.readings import Plan, Snapshot

log = logging.getLogger(__name__)


PHASES = ("compile", "train", "eval", "host", "idle")


class MeasurementSession:
    """Implements :class:`harness.collectors.base.Session`."""

    def __init__(
        self,
        config: CollectorConfig,
        plan: Plan,
        clock: Callable[[], float] = time.perf_counter,
        background: bool = True,
    ) -> None:
        self.config, self.plan, self.clock = config, plan, clock
        self.background = background and bool(plan.sources) and plan.sample_period_s > 0
        self.snapshots: list[Snapshot] = []
        self.marks: dict[int, int] = {}
        self.bounds: list[tuple[int, str]] = []  # (snapshot index, phase that begins there)
        self.start_index: int | None = None
        self.stop_index: int | None = None
        self.phase = "train"
        self.peak_rss = float("nan")
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the contract -------------------------------------------------------
    def start(self, phase: str = "train") -> None:
        """Open the sources; ``phase`` is the phase that begins now (``compile`` when warm-up is measured)."""
        if self.start_index is not None:
            raise RuntimeError("session already started")
        _check_phase(phase)
        t = self.clock()
        for source in self.plan.sources:
            source.start(t)
        self.phase = phase
        self.start_index = self._take()
        self.bounds.append((self.start_index, phase))
        if self.background:
            self._thread = threading.Thread(target=self._run, name="harness-sampler", daemon=True)
            self._thread.start()

    def mark_epoch(self, epoch: int, phase: str | None = None, at: float | None = None) -> None:
        """Record the end of ``epoch``'s training (1-based); with ``phase``, that phase begins here.

        The epoch's energy is that of the ``train`` intervals since the previous mark.
        """
        self._require_started()
        self.marks[int(epoch)] = self._boundary(phase, at)

    def mark_phase(self, phase: str, at: float | None = None) -> None:
        """``phase`` begins now (or at ``at``, a time of this session's clock, when the event
        was seen late: a multi-process case's supervisor forwards its training process's events)."""
        self._require_started()
        self._boundary(phase, at)

    def stop(self) -> None:
        self._require_started()
        if self.stop_index is not None:
            return
        self._stop_event.set()
        if self._thread is not None:  # at most one tick in flight; no sample after stop
            self._thread.join()
        self.stop_index = self._take()
        if self.plan.process is not None:
            self.peak_rss = self.plan.process.group.peak_rss()
        for source in self.plan.sources:
            try:
                source.close()
            except Exception:  # closing must not lose the measurement
                log.exception("closing collector %s", source.name)

    def case_columns(
        self, samples_trained: int, epochs: int, target_epoch: int | None, phase: str = "train"
    ) -> dict[str, Any]:
        """The cases-row columns; energy figures cover ``phase`` (the timed training updates)."""
        self._require_stopped()
        return rows.case_columns(self, samples_trained, epochs, target_epoch, phase)

    def epoch_columns(self) -> dict[int, dict[str, Any]]:
        self._require_stopped()
        return rows.epoch_columns(self)

    def samples(self) -> list[dict[str, Any]]:
        self._require_stopped()
        return rows.sample_rows(self)

    # -- extensions ---------------------------------------------------------
    def set_phase(self, phase: str) -> None:
        """Before ``start()``: the phase the session starts in; after: :meth:`mark_phase`."""
        if self.start_index is None:
            _check_phase(phase)
            self.phase = phase
        else:
            self.mark_phase(phase)

    def sample_now(self) -> None:
        """Take one sample (what the sampler thread does each period)."""
        self._take()

    def __enter__(self) -> MeasurementSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals ----------------------------------------------------------
    def _boundary(self, phase: str | None, at: float | None) -> int:
        if phase is not None:
            _check_phase(phase)
        if self.stop_index is not None:
            raise RuntimeError("session already stopped")
        index = self._take(phase, at)
        if phase is not None:
            self.bounds.append((index, phase))
        return index

    def _take(self, next_phase: str | None = None, at: float | None = None) -> int:
        asked = self.clock()  # before waiting for a sampler tick in progress
        with self._lock:
            if at is not None and self.snapshots and at < self.snapshots[-1].t:
                k = self._insert_late(at, next_phase)  # from the snapshots around it: no reading needed
                if k is not None:
                    return k
            t = self.clock()
            values: dict[str, float] = {}
            for source in self.plan.sources:
                values.update(source.read(t))
            if next_phase == "train" and self.phase != "train":
                t = self.clock()  # a train interval opens after this reading: its cost stays outside
            elif next_phase is not None and self.phase == "train" and self.snapshots:
                t = max(asked, self.snapshots[-1].t)  # it closed when asked, not when the lock was free
            if at is not None and self.snapshots:  # between the last snapshot and this reading
                when = max(min(at, t), self.snapshots[-1].t)
                values = _interpolate(self.snapshots[-1], t, values, when)
                t = when
            self.snapshots.append(Snapshot(t, self.phase, values))
            if next_phase is not None:
                self.phase = next_phase
            return len(self.snapshots) - 1

    def _insert_late(self, at: float, next_phase: str | None) -> int | None:
        """A boundary at ``at``, earlier than samples already taken: inserted in time order.

        Its readings are interpolated between the two snapshots around ``at``; the
        samples after it close intervals of ``next_phase`` and are relabelled. Never
        before the last boundary or epoch mark (events arrive in order): None when
        nothing was sampled since that, so the caller places it after the last snapshot.
        """
        floor = max([i for i, _ in self.bounds] + list(self.marks.values()) + [0])
        k = next((i for i in range(floor + 1, len(self.snapshots)) if self.snapshots[i].t > at), None)
        if k is None:
            return None
        at = max(at, self.snapshots[k - 1].t)
        after = self.snapshots[k]
        values = _interpolate(self.snapshots[k - 1], after.t, after.values, at)
        self.snapshots.insert(k, Snapshot(at, after.phase, values))
        if next_phase is not None:
            for i in range(k + 1, len(self.snapshots)):
                self.snapshots[i] = Snapshot(self.snapshots[i].t, next_phase, self.snapshots[i].values)
            self.phase = next_phase
        return k

    def _run(self) -> None:
        period = self.plan.sample_period_s
        while not self._stop_event.wait(period):
            try:
                self._take()
            except Exception:  # a failing sampler must not kill the case; the stop reading still counts
                log.exception("collector sampler failed; sampling stopped for this case")
                return

    def _require_started(self) -> None:
        if self.start_index is None:
            raise RuntimeError("session not started: call start() first")

    def _require_stopped(self) -> None:
        if self.stop_index is None:
            raise RuntimeError("session not stopped: call stop() first")


def _check_phase(phase: str) -> None:
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; known: {', '.join(PHASES)}")


def _interpolate(prev: Snapshot, t: float, values: dict[str, float], when: float) -> dict[str, float]:
    """The readings at ``when`` (between ``prev.t`` and ``t``), linear between ``prev`` and ``values`` read at ``t``.

    A boundary seen late (a supervisor forwards its training processes' events up
    to a poll period after they happened) must not take the readings of the moment
    it was seen: two phase edges handled in one poll would then enclose ~0 s of
    counters, and what happened in between would be charged to the phase before.
    The counters are only known at ``prev.t`` and ``t``, so the value at the event
    is their linear interpolation (an estimate within one poll period).
    """
    span = t - prev.t
    if not span > 0 or when >= t:
        return values
    frac = (when - prev.t) / span
    out = dict(values)
    for key, now in values.items():
        before = prev.values.get(key)
        if before is not None and math.isfinite(before) and math.isfinite(now):
            out[key] = before + frac * (now - before)
    return out
