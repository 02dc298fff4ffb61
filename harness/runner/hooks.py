"""Bridge between an engine's window hooks and a collectors session (see harness.collectors.base)."""

from __future__ import annotations

import dataclasses
from typing import Any

from harness.collectors import open_session
from harness.collectors.base import CollectorConfig


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

    def on_window_end(self) -> None:
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
