"""The contract between the runner/worker and the collectors.

Collectors never import TensorFlow. The worker (or, for multi-process cases, the
process that supervises the case's processes) opens one :class:`Session` per
case x repeat and calls, in order::

    session = open_session(config)          # harness.collectors.open_session
    session.start(phase)                    # "compile" before warm-up, or "train"
    session.mark_phase(phase)               # "train", "eval", "host" as they begin
    session.mark_epoch(epoch, phase)        # at the end of each epoch's training
    session.stop()                          # right after the timed window
    session.case_columns(samples_trained, epochs, target_epoch)  # -> cases row columns
    session.epoch_columns()                 # -> {epoch: {cpu_energy_j, ...}}
    session.samples()                       # -> rows of the samples table

The caller synchronises the GPU before start() and stop(). Column names are the
ones declared in :mod:`harness.schema` (``COLLECTORS``, ``SAMPLE_COLUMNS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class CollectorConfig:
    """What a session needs to know; built by the runner from the suite and CLI."""

    names: tuple[str, ...] | None = None  # None: every available collector; (): none
    sample_period_s: float = 0.1
    pids: tuple[int, ...] = ()  # processes whose CPU share is attributed; () = this process
    tdp_w: float | None = None
    tdp_origin: str | None = None
    idle: dict[str, float] = field(default_factory=dict)  # e.g. {"cpu_power_w": 3.1}
    cuda_visible_devices: str | None = None
    # GPUs the case uses, as positions in the visible list (gpu:K -> (K,); R replicas -> 0..R-1);
    # None: every visible GPU (a tool measuring the whole machine); (): the case uses no GPU.
    gpus: tuple[int, ...] | None = None
    tdp_threads: int | None = None  # hardware threads that share tdp_w (default: table, else machine)
    strict: bool = False  # measured figures only: no estimate, NaN with the reason instead


class Session(Protocol):
    def start(self, phase: str = "train") -> None: ...

    def mark_epoch(self, epoch: int, phase: str | None = None, at: float | None = None) -> None: ...

    def mark_phase(self, phase: str, at: float | None = None) -> None: ...

    def stop(self) -> None: ...

    def case_columns(
        self, samples_trained: int, epochs: int, target_epoch: int | None
    ) -> dict[str, Any]: ...

    def epoch_columns(self) -> dict[int, dict[str, Any]]: ...

    def samples(self) -> list[dict[str, Any]]: ...
