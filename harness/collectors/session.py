"""The measurement layer: one session per case x repeat, one background sampler thread.

Every source is read at ``start()``, each phase boundary (``mark_phase()``,
``mark_epoch()``), each sampler tick (``sample_period_s``, default 0.1 s,
shortened when a RAPL counter could wrap twice between ticks) and ``stop()``.
Each read is timestamped next to that source's call, and at ``stop()`` every
source's readings are interpolated to the snapshots' instants
(:mod:`harness.collectors.align`), so a slow source does not shift its window.
A snapshot holds cumulative figures, so an interval's energy is the difference
of two snapshots. A source that raises is marked failed (NaN from then on, its
message in the row's reason) and the others go on; a sampler that stops makes
every figure NaN with the reason (wraps after it could be missed).

Phases: the engine marks where warm-up/compilation (``compile``), training
updates (``train``), evaluation (``eval``) and host work in between (``host``)
begin. The case's energy columns cover the ``train`` intervals only; each
snapshot is labelled with the phase of the interval it closes (its trailing
power belongs to that interval). The derived columns are computed in
:mod:`harness.collectors.derive`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from harness.collectors import align, rows
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
        self.failed: dict[str, str] = {}  # source name -> why it stopped being read
        self.sampler_failed = ""
        self._keys: dict[str, tuple[str, ...]] = {}  # source name -> the keys it reads
        self._cost: dict[str, float] = {}  # source name -> how long its last read took (s)
        self._lock = threading.Lock()  # the snapshots, the phase, the edges
        # one lock per device read (sources sharing a process group share one): a phase edge can
        # read the fast counters while a sampler tick is still in a slow source's read
        groups: dict[int, threading.Lock] = {}
        self._source_locks = {src.name: groups.setdefault(id(getattr(src, "group", src)), threading.Lock())
                              for src in plan.sources}
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
            try:
                source.start(t)
            except Exception as exc:  # as in _read: that source is failed, the others go on
                self._fail(source, t, exc)
        self.phase = phase
        self.start_index = self._take(opens=True)
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
        self.snapshots = align.align(self.snapshots, self._keys)
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
        self._tick()

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

    def _take(self, next_phase: str | None = None, at: float | None = None, opens: bool = False) -> int:
        """Read every source and append a snapshot; with ``next_phase``, that phase begins at it.

        The snapshot's ``t`` is the instant it stands for: when asked, for an edge
        closing a training interval; after the readings, for one opening a window
        (their cost stays outside it); ``at``, for an edge seen late. Each reading
        keeps its own time; :func:`harness.collectors.align.align` moves it to ``t``.
        """
        asked = self.clock()  # before waiting for a sampler tick in progress
        with self._lock:
            if at is not None and self.snapshots and at < self.snapshots[-1].t:
                k = self._insert_late(at, next_phase)  # from the snapshots around it: no reading needed
                if k is not None:
                    return k
            last = self.snapshots[-1].t if self.snapshots else -math.inf
            t = max(self.clock(), last)
            opens = opens or (next_phase == "train" and self.phase != "train")
            values, times = self._read(t, slowest_first=opens)
            if opens:
                t = max(self.clock(), last)
            elif next_phase is not None and self.phase == "train":
                t = max(asked, last)  # it closed when asked, not when the lock was free
            if at is not None:
                t = max(min(at, t), last)
            self.snapshots.append(Snapshot(t, self.phase, values, times))
            if next_phase is not None:
                self.phase = next_phase
            return len(self.snapshots) - 1

    def _tick(self) -> int:
        """A sampler tick: read every source without holding the snapshots' lock (an edge that comes
        meanwhile reads and appends first), then append a snapshot stamped after the reads."""
        values, times = self._read(self.clock())
        with self._lock:
            t = max(self.clock(), self.snapshots[-1].t if self.snapshots else -math.inf)
            self.snapshots.append(Snapshot(t, self.phase, values, times))
            return len(self.snapshots) - 1

    def _read(self, now: float, slowest_first: bool = False) -> tuple[dict[str, float], dict[str, float]]:
        """Every source's readings and the time of each read (the midpoint of its call, s).

        Sources are read fastest first (by their last read's cost), so that the fast
        counters are read next to the snapshot's instant when it is taken before the
        reads (a window closes when asked); ``slowest_first`` for an instant taken
        after them (a window opens after the reads). A source that raises is marked
        failed (its message goes in the row's reason) and reads NaN from then on;
        the other sources go on being read. ``read()`` gets the time of its own call,
        except for sources that share the process group (``shares_instant``): they get
        ``now``, one instant per snapshot, so that the group is read once
        (:meth:`harness.collectors.process_stats.ProcessGroup.read` caches by it).
        """
        values: dict[str, float] = {}
        times: dict[str, float] = {}
        order = sorted(self.plan.sources, key=lambda src: self._cost.get(src.name, 0.0), reverse=slowest_first)
        for source in order:
            with self._source_locks[source.name]:
                before = self.clock()
                got = self._read_one(source, now if source.shares_instant else before, before)
                after = self.clock()
            if got is None:  # failed: a NaN reading, so that nothing is interpolated across the failure
                times[source.name] = before
                values.update(dict.fromkeys(self._keys.get(source.name, ()), math.nan))
                continue
            times[source.name], self._cost[source.name] = 0.5 * (before + after), after - before
            self._keys[source.name] = tuple(got)
            values.update(got)
        return values, times

    def _read_one(self, source: Any, now: float, before: float) -> dict[str, float] | None:
        """``source.read(now)``, or None once the source has failed (marked at its first exception)."""
        if source.name in self.failed:
            return None
        try:
            return source.read(now)
        except Exception as exc:  # one failing source must not stop the others
            self._fail(source, before, exc)
            return None

    def _fail(self, source: Any, t: float, exc: BaseException) -> None:
        t0 = self.snapshots[0].t if self.snapshots else t
        self.failed[source.name] = (f"collector {source.name} failed at t = {t - t0:.3f} s: "
                                    f"{type(exc).__name__}: {exc}; its figures are NaN from then on")
        log.warning("%s", self.failed[source.name], exc_info=exc)

    def _insert_late(self, at: float, next_phase: str | None) -> int | None:
        """A boundary at ``at``, earlier than samples already taken: inserted in time order.

        Its readings are interpolated between the readings around ``at`` (at stop()); the
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
        # no reading of its own: align() interpolates every source's readings to `at` at stop()
        self.snapshots.insert(k, Snapshot(at, after.phase, dict(after.values)))
        if next_phase is not None:
            for i in range(k + 1, len(self.snapshots)):
                self.snapshots[i] = dataclasses.replace(self.snapshots[i], phase=next_phase)
            self.phase = next_phase
        return k

    def _run(self) -> None:
        period = self.plan.sample_period_s
        while not self._stop_event.wait(period):
            try:
                self._tick()
            except BaseException as exc:  # the case goes on; every figure the sampler covered is void
                t0 = self.snapshots[0].t if self.snapshots else 0.0
                self.sampler_failed = (f"the background sampler stopped at t = {self.clock() - t0:.3f} s "
                                       f"({type(exc).__name__}: {exc}): counter wraps after it may be missed")
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
