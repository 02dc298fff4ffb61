"""The measurement layer: one session per case x repeat, one background sampler thread.

Every source is read at the same instants: ``start()``, each ``mark_epoch()``,
each sampler tick (``sample_period_s``, default 0.1 s) and ``stop()``. A
reading is a snapshot of cumulative figures, so a window's energy is the
difference of two snapshots, and RAPL counters are polled often enough that at
most one wrap happens between two polls (every wrap is counted). The derived
columns are computed in :mod:`harness.collectors.derive`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from harness.collectors import derive
from harness.collectors.base import CollectorConfig
from harness.collectors.readings import Plan, Snapshot

log = logging.getLogger(__name__)


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
        self.background = background and bool(plan.sources) and config.sample_period_s > 0
        self.snapshots: list[Snapshot] = []
        self.marks: dict[int, int] = {}
        self.start_index: int | None = None
        self.stop_index: int | None = None
        self.phase = "train"
        self.peak_rss = float("nan")
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the contract -------------------------------------------------------
    def start(self) -> None:
        if self.start_index is not None:
            raise RuntimeError("session already started")
        t = self.clock()
        for source in self.plan.sources:
            source.start(t)
        self.start_index = self._take()
        if self.background:
            self._thread = threading.Thread(target=self._run, name="harness-sampler", daemon=True)
            self._thread.start()

    def mark_epoch(self, epoch: int) -> None:
        """Record the end of ``epoch`` (1-based); its energy is from the previous mark."""
        self._require_started()
        self.marks[int(epoch)] = self._take()

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
        self, samples_trained: int, epochs: int, target_epoch: int | None
    ) -> dict[str, Any]:
        self._require_stopped()
        return derive.case_columns(self, samples_trained, epochs, target_epoch)

    def epoch_columns(self) -> dict[int, dict[str, Any]]:
        self._require_stopped()
        return derive.epoch_columns(self)

    def samples(self) -> list[dict[str, Any]]:
        self._require_stopped()
        return derive.sample_rows(self)

    # -- extensions ---------------------------------------------------------
    def set_phase(self, phase: str) -> None:
        """Label the following samples (``train``, ``eval`` or ``idle``); energy is unaffected."""
        self.phase = phase

    def sample_now(self) -> None:
        """Take one sample (what the sampler thread does each period)."""
        self._take()

    def __enter__(self) -> MeasurementSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals ----------------------------------------------------------
    def _take(self) -> int:
        with self._lock:
            t = self.clock()
            values: dict[str, float] = {}
            for source in self.plan.sources:
                values.update(source.read(t))
            self.snapshots.append(Snapshot(t, self.phase, values))
            return len(self.snapshots) - 1

    def _run(self) -> None:
        period = self.config.sample_period_s
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
