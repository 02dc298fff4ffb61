"""What a measurement session holds, as types: its plan of sources and its snapshots.

Shared by :mod:`harness.collectors.session` (which takes the readings) and
:mod:`harness.collectors.derive` (which turns them into columns) without either
importing the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.collectors.base import CollectorConfig
from harness.collectors.cpu_estimate import Tdp
from harness.collectors.sources import NvmlSource, ProcessSource, Source


@dataclass
class Plan:
    """Which sources a session reads, and why the missing ones are missing."""

    cpu: Source | None = None  # RaplSource or EstimateSource
    cpu_reason: str = ""
    gpu: NvmlSource | None = None
    gpu_reason: str = ""
    gpu_count: int | None = None  # None: NVML could not say
    process: ProcessSource | None = None
    process_reason: str = ""
    tdp: Tdp | None = None  # when the estimate is used
    uses_gpu: bool = False  # the case ran on GPUs: unknown GPU energy makes energy_j unknown
    sample_period_s: float = 0.1  # after the check against the RAPL counters' range
    notes: list[str] = field(default_factory=list)  # e.g. the sampling period was shortened
    extra: list[Source] = field(default_factory=list)  # read but not listed in `collectors`

    @property
    def sources(self) -> list[Source]:
        return [s for s in (self.cpu, self.gpu, self.process, *self.extra) if s is not None]

    @property
    def gpu_uuids(self) -> list[str]:
        """UUIDs of the GPUs the session measures (empty without the NVML source)."""
        return [g.uuid for g in self.gpu.device.gpus] if self.gpu else []

    def gpu_by_uuid(self, uuid: str) -> Any:
        """The NVML inventory entry of one measured GPU (index, name, has_counter...)."""
        return next(g for g in self.gpu.device.gpus if g.uuid == uuid)


@dataclass
class Snapshot:
    t: float  # the instant the snapshot stands for (s, the session's clock)
    phase: str  # the phase of the interval this snapshot closes (the first: the phase it opens)
    values: dict[str, float]
    times: dict[str, float] = field(default_factory=dict)  # source name -> when it was read (s); {}: not read


class Readings(Protocol):
    """What :mod:`harness.collectors.derive` reads from a stopped session."""

    config: CollectorConfig
    plan: Plan
    snapshots: list[Snapshot]
    marks: dict[int, int]
    bounds: list[tuple[int, str]]  # (snapshot index, phase that begins there)
    background: bool
    start_index: int | None
    stop_index: int | None
    peak_rss: float
    failed: dict[str, str]  # source name -> why it stopped being read (its figures are NaN from then)
    sampler_failed: str  # non-empty: the background sampler stopped; every figure it covered is NaN
