"""The rows of a multi-process case: the case row (global figures) and one ``workers`` row per process."""

from __future__ import annotations

import dataclasses
import math
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ResultsError
from harness.results.journal import read_part
from harness.results.store import CaseResult
from harness.runner.case_row import CaseRow
from harness.runner.cluster.outcome import ClusterOutcome, ClusterWindow, WorkerRow
from harness.schema import TRAINED

NO_WINDOW = "no timed window was reached (the case ended before training)"


@dataclass
class ClusterContext:
    cluster: dict[str, list[str]]
    kind: str  # loopback | external
    reporter: tuple[str, int]
    limit_s: float
    elapsed_s: float


def read_result(p: Any) -> CaseResult | None:
    try:
        return read_part(Path(p.result_path))
    except ResultsError:
        return None


def tail(path: Path, n: int = 4000) -> str:
    from harness.runner.exits import is_noise as _noise

    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(ln for ln in lines if not _noise(ln))[-n:]


def assemble(row: CaseRow, procs: list[Any], outcome: ClusterOutcome, hooks: Any, ctx: ClusterContext) -> CaseResult:
    """One CaseResult: the reporting process's row made global, plus per-process rows."""
    from harness.runner.exits import describe_exit

    row = row if isinstance(row, CaseRow) else CaseRow.adopt(row)
    results = {p.name: read_result(p) for p in procs}
    trainers = [p for p in procs if p.role == "train" and results[p.name] is not None]
    main = next((results[p.name] for p in trainers if (p.task_type, p.index) == ctx.reporter), None)
    if main is None and trainers:
        main = results[trainers[0].name]
    kind = outcome.kind
    if kind == "result" and main is not None:
        result = main
        row = result.case = CaseRow.adopt(result.case)
        bad = [(p, results[p.name].case) for p in trainers if results[p.name].case.get("status") in ("failed",)]
        if bad and row.get("status") == "ok":
            p, other = bad[0]
            row.set("outcome", status="failed", error=f"{p.name}: {other.get('error')}",
                    stderr_tail=other.get("stderr_tail"))
    else:
        result = CaseResult(case=row)
        if kind == "timeout":
            row.set("outcome", status="timeout", error=f"exceeded its time limit of {ctx.limit_s:.0f} s")
        elif outcome.who is not None:
            who = outcome.who
            row.set("outcome", status="crashed", stderr_tail=tail(who.log_path),
                    error=f"{who.name} (pid {who.popen.pid}) {describe_exit(who.popen.returncode)}")
        else:
            row.set("outcome", status="crashed", error=outcome.error)
        if kind == "timeout" and procs:
            row.set("outcome", stderr_tail=tail(procs[0].log_path))
    workers = len(ctx.cluster.get("worker", [])) or 1
    row.set("setup", num_workers=workers, cluster=ctx.kind)
    row.set("outcome", wall_s=row.get("wall_s") or ctx.elapsed_s)
    row.set("outcome", overhead_s=max(0.0, ctx.elapsed_s - (row.get("wall_s") or 0.0)))
    _collector_columns(row, result, hooks, outcome.window)
    rows = [_worker_row(row, p, results[p.name], outcome, workers) for p in procs]
    _cpu_columns(row, rows, getattr(hooks, "meter", None), procs, len(result.epochs))
    result.workers = [w.to_dict() for w in rows]
    return result


PROCESS_CPU = ("train_cpu_s", "eval_cpu_s", "cpu_ms_per_update", "cpu_time_source")


def _cpu_columns(row: CaseRow, workers: list[WorkerRow], meters: Any, procs: list[Any], passes: int) -> None:
    """Each process's CPU time (its own edges where it trained, else the supervisor's), the case's
    sum over them, and the contention of the whole case (every process subtracted)."""
    steps = int(row.get("steps") or 0)
    for w, p in zip(workers, procs, strict=True):
        if not _finite(w.train_cpu_s) and meters is not None and w.status in TRAINED:
            cols = meters.each[p.name].columns(steps, passes)
            for k in PROCESS_CPU:
                setattr(w, k, cols[k])
            if w.cpu_time_source != "unavailable":
                w.cpu_time_source = "supervisor"
    if meters is None or row.get("status") not in TRAINED:
        return
    sources = {w.cpu_time_source for w in workers}
    if not all(_finite(w.train_cpu_s) for w in workers):
        row.set("cpu_time", train_cpu_s=math.nan, eval_cpu_s=math.nan, cpu_ms_per_update=math.nan,
                train_cpu_cores=math.nan, cpu_time_source="unavailable")
    else:
        train = sum(w.train_cpu_s for w in workers)  # type: ignore[misc]  # all finite, checked above
        evals = sum(w.eval_cpu_s for w in workers if _finite(w.eval_cpu_s))
        train_s = row.get("train_s") or math.nan
        row.set("cpu_time", train_cpu_s=train, eval_cpu_s=evals,
                cpu_ms_per_update=train * 1e3 / steps if steps else math.nan,
                train_cpu_cores=train / train_s if _finite(train_s) and train_s > 0 else math.nan,
                cpu_time_source="+".join(sorted(s for s in sources if s)))
    from harness.collectors.cpu_phases import contention_columns

    row.set("cpu_time", **contention_columns(meters.all.totals["train"]), train_instructions=math.nan,
            train_cycles=math.nan, instructions_per_update=math.nan, hw_counter_source="unavailable",
            hw_counter_reason="multi-process case: hardware counters are not summed over processes")


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and math.isfinite(x)


def _collector_columns(row: CaseRow, result: CaseResult, hooks: Any, window: ClusterWindow) -> None:
    if hooks is not None and window.started and row.get("status") in TRAINED:
        examples = int(row.get("steps") or 0) * int(row.get("batch_size") or 0)
        target = row.get("epochs_to_target")
        hooks.finish(row, result, examples, len(result.epochs), None if target is None else int(target))
        peak = float(getattr(hooks, "peak_rss", math.nan))  # the collectors' peak of every process of the case
        if math.isfinite(peak):
            row.set("memory", peak_rss_bytes=int(peak), peak_rss_source="sampled")
        return
    reason = "collectors disabled (collectors = [])" if hooks is not None and hooks.disabled else NO_WINDOW
    for k in ("cpu", "gpu"):
        row.set("collectors", **{f"{k}_energy_j": math.nan, f"{k}_energy_source": "unavailable",
                                 f"{k}_energy_reason": reason})
    row.set("collectors", energy_j=math.nan, energy_source="unavailable", energy_reason=reason)


def _worker_row(case_row: dict, p: Any, res: CaseResult | None, outcome: ClusterOutcome, workers: int) -> WorkerRow:
    from harness.runner.exits import describe_exit

    out = WorkerRow(run_id=case_row.get("run_id"), case_id=case_row.get("case_id"), repeat=case_row.get("repeat"),
                    task_type=p.task_type, task_index=p.index, host=socket.gethostname(),
                    pid=p.popen.pid or os.getpid())
    if res is not None:
        c = res.case
        share = (c.get("steps") or 0) * (c.get("batch_size") or 0) / (workers if c.get("strategy") != "parameter_server" else 1)
        train_s = c.get("train_s") or math.nan
        out = dataclasses.replace(out, status=c.get("status"), error=c.get("error"), train_s=train_s,
                                  step_ms_p50=c.get("step_ms_p50"), step_ms_p90=c.get("step_ms_p90"),
                                  **{k: c.get(k) for k in PROCESS_CPU})
        if p.task_type == "chief":
            out.error = out.error or "coordinator: dispatches the steps to the workers; trains none itself"
        elif train_s and math.isfinite(train_s) and train_s > 0:
            out.samples_per_s = share / train_s
    elif outcome.who is p:
        out.status, out.error = "crashed", describe_exit(p.popen.returncode)
    elif p.role == "serve" and outcome.kind == "result":
        what = "parameter server: holds the variables" if p.task_type == "ps" else \
            "worker server: ClusterCoordinator sends steps to any worker, so per-worker throughput is not observable"
        out.status = case_row.get("status") or "ok"
        out.error = what if out.status == "ok" else f"stopped with the case ({out.status})"
    else:
        out.status = outcome.kind if outcome.kind != "result" else "failed"
        out.error = "stopped with the case" if outcome.kind != "result" else "no result written"
    return out
