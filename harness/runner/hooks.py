"""Bridge between an engine's window hooks and a collectors session (see harness.collectors.base)."""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any

log = logging.getLogger(__name__)

DISABLED_REASON = "collectors disabled (collectors = [])"


class CollectorHooks:
    """Opens a session per case x repeat; without collectors the energy columns stay NaN with a reason."""

    def __init__(self, config: Any, device: str = "cpu", names: tuple[str, ...] | None = None) -> None:
        self.session = None
        if config is not None and names is not None:
            config = dataclasses.replace(config, names=names)
        if config is not None and device.startswith("cpu"):
            # a CPU case is not charged with the GPUs' idle power
            config = dataclasses.replace(config, cuda_visible_devices="")
        self.reason = DISABLED_REASON
        if config is not None and config.names != ():
            try:
                from harness.collectors import open_session
            except ImportError as exc:  # collectors package incomplete: say so, never fake 0
                self.reason = f"collectors unavailable: {exc}"
            else:
                self.session = open_session(config)

    def on_window_start(self) -> None:
        if self.session is not None:
            self.session.start()

    def on_epoch_end(self, epoch: int) -> None:
        if self.session is not None:
            self.session.mark_epoch(epoch)

    def after_steps(self, total_steps: int) -> None:
        pass

    def on_window_end(self) -> None:
        if self.session is not None:
            self.session.stop()

    def finish(self, row: dict, result: Any, examples: int, epochs: int, target_epoch: int | None) -> None:
        """Add the collectors' columns to the case row, the epoch rows and the samples."""
        if self.session is None:
            row.update(cpu_energy_j=math.nan, cpu_energy_source="unavailable", cpu_energy_reason=self.reason,
                       gpu_energy_j=math.nan, gpu_energy_source="unavailable", gpu_energy_reason=self.reason,
                       energy_j=math.nan, energy_source="unavailable", collectors="")
            return
        row.update(self.session.case_columns(examples, epochs, target_epoch))
        per_epoch = self.session.epoch_columns()
        for erow in result.epochs:
            erow.update(per_epoch.get(int(erow["epoch"]), {}))
        ident = {k: row[k] for k in ("run_id", "case_id", "repeat")}
        result.samples = [{**ident, **s} for s in self.session.samples()]
