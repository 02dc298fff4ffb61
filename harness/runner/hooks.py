"""Bridges between an engine's window hooks and the measurements: the collectors session
(see harness.collectors.base) and the window-edge CPU meter (harness.collectors.cpuwindow)."""

from __future__ import annotations

import dataclasses
from typing import Any

from harness.collectors import open_session
from harness.collectors.base import CollectorConfig
from harness.collectors.cpuwindow import WindowMeter


class CollectorHooks:
    """Opens a collectors session per case x repeat (``collectors = []``: a session that measures
    nothing and reports every energy column as NaN with the reason "collectors disabled")."""

    def __init__(self, config: CollectorConfig | None, device: str = "cpu",
                 names: tuple[str, ...] | None = None) -> None:
        config = config or CollectorConfig(names=())  # in-process runs without a run config measure nothing
        if names is not None:
            config = dataclasses.replace(config, names=names)
        if device.startswith("cpu"):
            # a CPU case is not charged with the GPUs' idle power
            config = dataclasses.replace(config, cuda_visible_devices="")
        self.disabled = config.names == ()
        self.session = open_session(config)

    def on_window_start(self) -> None:
        self.session.start()

    def on_epoch_end(self, epoch: int) -> None:
        self.session.mark_epoch(epoch)

    def after_steps(self, total_steps: int) -> None:
        pass

    def on_phase(self, phase: str) -> None:
        self.session.set_phase(phase)

    def on_window_end(self) -> None:
        self.session.stop()

    def finish(self, row: dict, result: Any, examples: int, epochs: int, target_epoch: int | None) -> None:
        """Add the collectors' columns to the case row, the epoch rows and the samples."""
        row.update(self.session.case_columns(examples, epochs, target_epoch))
        per_epoch = self.session.epoch_columns()
        for erow in result.epochs:
            erow.update(per_epoch.get(int(erow["epoch"]), {}))
        ident = {k: row[k] for k in ("run_id", "case_id", "repeat")}
        result.samples = [{**ident, **s} for s in self.session.samples()]


class MeteredHooks:
    """Forwards to ``inner`` and reads the CPU meter at every phase edge of the window.

    The meter reads after ``inner`` has opened the window and before it closes
    it (or marks an epoch), so the collectors' own start, mark and stop stay
    outside the measured CPU time.
    """

    def __init__(self, inner: Any, meter: WindowMeter | None = None) -> None:
        self.inner = inner
        self.meter = meter or WindowMeter()

    def on_window_start(self) -> None:
        self.inner.on_window_start()
        self.meter.enter("train")

    def on_epoch_end(self, epoch: int) -> None:
        self.meter.enter(None)
        self.inner.on_epoch_end(epoch)

    def after_steps(self, total_steps: int) -> None:
        self.inner.after_steps(total_steps)

    def on_phase(self, phase: str) -> None:
        self.meter.enter(phase)
        if hasattr(self.inner, "on_phase"):
            self.inner.on_phase(phase)

    def on_window_end(self) -> None:
        self.meter.enter(None)
        self.inner.on_window_end()

    def finish(self, row: dict, result: Any, examples: int, epochs: int, target_epoch: int | None) -> None:
        self.inner.finish(row, result, examples, epochs, target_epoch)

    def __getattr__(self, name: str) -> Any:  # e.g. CollectorHooks.disabled
        return getattr(self.inner, name)


class ClusterMeters:
    """The supervisor's meters of a multi-process case, driven by the forwarded window events.

    ``all`` covers every process of the case (its contention figures subtract
    all of them from the machine's busy time); ``each`` has one meter per
    process, for the processes that do not measure themselves (servers). Read
    by the supervisor, so each edge is up to a poll period (~20 ms) late.
    """

    def __init__(self, pids: dict[str, int]) -> None:
        from harness.collectors.perf import PerfCounters

        off = PerfCounters.unavailable("counted only in the process that trains (perf_event_open of this process)")
        self.all = WindowMeter(tuple(pids.values()), counters=off)
        self.each = {name: WindowMeter((pid,), counters=off) for name, pid in pids.items()}

    def enter(self, phase: str | None) -> None:
        self.all.enter(phase)
        for meter in self.each.values():
            meter.enter(phase)
