"""What a multi-process case's supervision produces, declared: its outcome and one ``workers`` row per process.

:class:`ClusterOutcome` is the cluster's counterpart of the pool's
:class:`~harness.runner.parent.pool.Outcome`; :class:`WorkerRow` declares exactly the
columns of :data:`harness.schema.WORKER_COLUMNS` (a test keeps them equal).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

OUTCOME_KINDS = ("result", "timeout", "crashed")


@dataclass
class ClusterWindow:
    """Whether the reporting process's timed window started, and whether it was closed."""

    started: bool = False
    ended: bool = False


@dataclass
class ClusterOutcome:
    """How supervising a cluster ended: ``result`` (the reporter wrote its result), ``timeout``, or
    ``crashed`` (``who``: the process that died; else ``error`` says why the cluster never ran)."""

    kind: str  # one of OUTCOME_KINDS
    window: ClusterWindow = field(default_factory=ClusterWindow)
    who: Any = None  # the cluster.Proc that died first (crashed)
    error: str = "cluster failed"


@dataclass
class WorkerRow:
    """One row of the ``workers`` table: a process of a multi-process case (NaN: not measured)."""

    run_id: str | None = None
    case_id: str | None = None
    repeat: int | None = None
    task_type: str = ""
    task_index: int = 0
    host: str = ""
    pid: int | None = None
    samples_per_s: float = math.nan  # examples/s
    train_s: float = math.nan  # s
    train_cpu_s: float | None = None  # s
    eval_cpu_s: float | None = None  # s
    cpu_ms_per_update: float | None = None  # ms
    cpu_time_source: str | None = None
    step_ms_p50: float | None = math.nan  # ms
    step_ms_p90: float | None = math.nan  # ms
    status: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The row as the store writes it (the ``workers`` table's columns)."""
        return dataclasses.asdict(self)
