"""The run's peak probe: one matmul measurement per device, recorded in run.json, divided into each row.

Before the first case runs, a worker of each device the run uses measures the
device's matmul rate (:func:`harness.engines.peak.peak_probe`, about a second);
``run.json`` keeps the record under ``peak_probe`` (device -> rate, shape,
dtype, source), a resumed run reuses it, and every row gets
``peak_flops_per_s`` and ``flops_utilization = achieved_flops_per_s / peak``.
A probe that fails leaves the two columns NaN, with the reason in the record.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

from harness.runner.case_row import CaseRow
from harness.runner.parent.plan import Task, worker_key
from harness.runner.parent.pool import WorkerPool

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 300.0


def probe_devices(tasks: Iterable[Task], workers: WorkerPool,
                  known: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """device -> probe record, for every device of ``tasks`` not in ``known`` (kept as they are)."""
    from harness.components import strategies

    out = dict(known or {})
    for task in tasks:
        device = task.case.device
        if device in out or strategies.is_multi_process(task.case):
            continue
        worker = workers.get(worker_key(task.case))
        reply = worker.request(("peak_probe",), timeout_s=PROBE_TIMEOUT_S)
        if reply.kind == "result":
            out[device] = reply.payload
            log.info("peak probe on %s: %.1f GFLOP/s (%s %s)", device, reply.payload["flops_per_s"] / 1e9,
                     "x".join(map(str, reply.payload["shape"])), reply.payload["dtype"])
        else:
            workers.discard(worker)
            out[device] = {"flops_per_s": None, "source": f"unavailable: the probe {reply.kind} "
                           f"({reply.detail or ''})".strip()}
            log.warning("peak probe on %s failed: %s", device, out[device]["source"])
    return out


def apply(row: CaseRow, probes: dict[str, dict[str, Any]]) -> None:
    """``peak_flops_per_s`` and ``flops_utilization`` of a row from its device's probe."""
    peak = (probes.get(row.get("device") or "") or {}).get("flops_per_s")
    peak = float(peak) if peak else math.nan
    achieved = row.get("achieved_flops_per_s")
    achieved = float(achieved) if achieved is not None else math.nan
    row.set("workload", peak_flops_per_s=peak,
            flops_utilization=achieved / peak if math.isfinite(peak) and peak > 0 else math.nan)
