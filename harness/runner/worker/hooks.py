"""Bridges between an engine's window hooks and the measurements: the collectors session
(see harness.collectors.base) and the window-edge CPU meter (harness.collectors.cpu_phases)."""

from __future__ import annotations

import dataclasses
from typing import Any

from harness.collectors import open_session
from harness.collectors.base import CollectorConfig
from harness.collectors.cpu_phases import WindowMeter


class CollectorHooks:
    """Opens a collectors session per case x repeat (``collectors = []``: a session that measures
    nothing and reports every energy column as NaN with the reason "collectors disabled").

    The session starts at the engine's first phase mark (``compile``, or the timed window's
    start) and charges only the devices the case uses: none of the GPUs on a CPU case,
    GPU K on ``gpu:K``, the first R visible GPUs for R replicas on ``gpu``.
    ``at`` (a time of ``time.perf_counter``) places a boundary seen late (cluster events).
    """

    def __init__(self, config: CollectorConfig | None, device: str = "cpu",
                 names: tuple[str, ...] | None = None, replicas: int = 1) -> None:
        config = config or CollectorConfig(names=())  # in-process runs without a run config measure nothing
        if names is not None:
            config = dataclasses.replace(config, names=names)
        config = dataclasses.replace(config, gpus=used_gpus(device, replicas))
        if device.startswith("cpu"):
            # a CPU case is not charged with the GPUs' idle power
            config = dataclasses.replace(config, cuda_visible_devices="")
        self.disabled = config.names == ()
        self.session = open_session(config)

    def _started(self) -> bool:
        return self.session.start_index is not None

    def on_phase(self, phase: str, at: float | None = None) -> None:
        if not self._started():
            self.session.start(phase)
        elif self.session.stop_index is None:
            self.session.mark_phase(phase, at=at)

    def on_window_start(self, at: float | None = None) -> None:
        self.on_phase("host", at=at)

    def on_epoch_end(self, epoch: int, at: float | None = None) -> None:
        if self._started() and self.session.stop_index is None:
            self.session.mark_epoch(epoch, phase="host", at=at)

    def after_steps(self, total_steps: int) -> None:
        pass

    def on_window_end(self) -> None:
        if self._started():
            self.session.stop()

    @property
    def peak_rss(self) -> float:
        """Peak RSS (bytes) of the measured process group; NaN when the process collector did not run."""
        return float(getattr(self.session, "peak_rss", float("nan")))

    def finish(self, row: Any, result: Any, examples: int, epochs: int, target_epoch: int | None) -> None:
        """Add the collectors' columns to the case row (its ``collectors`` part), the epoch rows and the samples."""
        row.set("collectors", **self.session.case_columns(examples, epochs, target_epoch))
        per_epoch = self.session.epoch_columns()
        for erow in result.epochs:
            erow.update(per_epoch.get(int(erow["epoch"]), {}))
        ident = row.ident("run_id", "case_id", "repeat")
        result.samples = [{**ident, **s} for s in self.session.samples()]


def used_gpus(device: str, replicas: int = 1) -> tuple[int, ...]:
    """Positions in the visible GPU list that a case on ``device`` with ``replicas`` replicas uses.

    ``gpu:K`` -> (K,) (the worker makes only GPU K visible to TensorFlow);
    ``gpu`` -> the first ``replicas`` GPUs (TensorFlow places a single replica on
    GPU 0; a strategy's replicas on GPUs 0..R-1); anything else -> () (no GPU).
    """
    kind, _, arg = device.partition(":")
    if kind != "gpu":
        return ()
    if arg:
        return (int(arg),)
    return tuple(range(max(1, replicas)))


class MeteredHooks:
    """Forwards to ``inner`` and reads the CPU meter at every phase edge of the window.

    Around a train segment the meter reads outside the collectors' reading (see
    :meth:`on_phase`). Phases are the engines' (compile, train, eval, host); the
    meter reports train and eval.
    """

    def __init__(self, inner: Any, meter: WindowMeter | None = None) -> None:
        self.inner = inner
        self.meter = meter or WindowMeter()

    def on_window_start(self, at: float | None = None) -> None:
        self.inner.on_window_start(**_at(at))
        self.meter.enter("host")

    def on_epoch_end(self, epoch: int, at: float | None = None) -> None:
        self.inner.on_epoch_end(epoch, **_at(at))
        self.meter.enter("host")

    def after_steps(self, total_steps: int) -> None:
        self.inner.after_steps(total_steps)

    def on_phase(self, phase: str, at: float | None = None) -> None:
        """The same phases as the collectors' energy window: train CPU time = the train intervals.

        The collectors' reading is innermost around a train segment (taken last when it
        opens, first when it closes), so the energy window matches the engine's train_s
        to within microseconds; the meter's train segment includes that reading (about
        0.1-1 ms of CPU per edge)."""
        if phase == "train":
            self.meter.enter(phase)
            self.inner.on_phase(phase, **_at(at))
        else:
            self.inner.on_phase(phase, **_at(at))
            self.meter.enter(phase)

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


def _at(at: float | None) -> dict[str, float]:
    """``at`` for hooks that place a boundary seen late (the cluster supervisor's); engines pass none."""
    return {} if at is None else {"at": at}
