"""Run a suite: preflight, a run folder, worker processes, one result written per finished case.

Nothing is written for a suite that fails validation. A case that fails, crashes
(segfault, ``os._exit``, OOM kill) or times out becomes a row with that status
and the suite goes on in a fresh worker. SIGINT/SIGTERM stop the current case,
keep what is finished, mark the run ``interrupted`` and say how to resume.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.collectors.base import CollectorConfig
from harness.components import strategies
from harness.errors import EXIT_INTERRUPTED, HarnessError, SuiteError
from harness.results import env, store
from harness.runner.execute import base_row
from harness.runner.plan import Task, make_tasks, time_limit_s, worker_key
from harness.runner.worker import Worker
from harness.suite import Suite, parse_suite

log = logging.getLogger(__name__)


class Interrupted(HarnessError):
    exit_code = EXIT_INTERRUPTED


@dataclass
class RunOptions:
    results_dir: Path = Path("results")
    repeats: int | None = None
    filters: list[str] = field(default_factory=list)
    shard: str | None = None
    time_limit_s: float | None = None
    progress: bool = True
    collectors: list[str] | None = None  # overrides the suite's list
    tdp_w: float | None = None
    idle_baseline_s: float | None = None
    resume: Path | None = None
    profile_steps: int | None = None  # updates to capture per profiled case (CLI or suite)
    profile_skip_steps: int = 0  # updates of the window to let pass before the profiler starts


@dataclass
class RunSummary:
    run_dir: Path
    counts: dict[str, int]
    results: list[store.CaseResult]


def new_run_dir(results_dir: Path, suite_name: str) -> Path:
    """A fresh, unique folder; concurrent runs never share one (mkdir is atomic)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in suite_name)[:40]
    while True:
        path = results_dir / f"{stamp}-{safe}-{secrets.token_hex(3)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def run_metadata(suite: Suite, run_dir: Path, opts: RunOptions) -> dict[str, Any]:
    from harness import schema

    return {
        "schema_version": schema.SCHEMA_VERSION, "run_id": run_dir.name, "status": "running",
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"), "ended_utc": None,
        "harness_version": env.software_info()["harness"], "machine": env.machine_info(),
        "software": env.software_info(), "git": env.git_info(Path(__file__).resolve().parent),
        "environment": env.environment_variables(), "argv": sys.argv,
        "suite": {"name": suite.name, "description": suite.description, "path": suite.path,
                  "sha256": suite.sha256, "text": suite.text, "settings": suite.settings},
        "options": {"repeats": opts.repeats, "filters": opts.filters, "shard": opts.shard,
                    "time_limit_s": opts.time_limit_s, "collectors": opts.collectors},
        "resumed_utc": [],
    }


def collector_config(suite: Suite, opts: RunOptions, idle: dict[str, float]) -> CollectorConfig:
    names = opts.collectors if opts.collectors is not None else suite.settings.get("collectors")
    tdp = opts.tdp_w or suite.settings.get("tdp_w")
    origin = "cli" if opts.tdp_w else "suite" if suite.settings.get("tdp_w") else None
    return CollectorConfig(names=None if names is None else tuple(names),
                           sample_period_s=suite.settings.get("sample_period_s", 0.1),
                           tdp_w=tdp, tdp_origin=origin, idle=idle,
                           cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"))


def run_suite(suite: Suite, opts: RunOptions | None = None) -> RunSummary:
    opts = opts or RunOptions()
    done: list[store.CaseResult] = []
    if opts.resume:
        meta = store.read_run_json(opts.resume)
        suite = parse_suite(meta["suite"]["text"], meta["suite"]["path"])
        o = meta.get("options", {})
        opts.repeats = opts.repeats or o.get("repeats")
        opts.filters = opts.filters or o.get("filters") or []
        opts.shard = opts.shard or o.get("shard")
        done = store.load_parts(opts.resume)
    tasks = make_tasks(suite.cases, filters=opts.filters, shard=opts.shard, repeats=opts.repeats)
    if not tasks:
        raise SuiteError(suite.path, "--filter/--shard", "no case is selected")
    done_keys = {r.key for r in done}
    todo = [t for t in tasks if t.key not in done_keys]

    cfg = collector_config(suite, opts, {})
    workers = WorkerPool(Path(os.environ.get("TMPDIR", "/tmp")) / f"harness-{os.getpid()}", "", cfg)
    try:
        if not opts.resume:
            _preflight(suite, tasks, workers)
        if opts.resume:
            run_dir = Path(opts.resume)
            meta["resumed_utc"].append(datetime.now(UTC).isoformat(timespec="seconds"))
            meta["status"] = "running"
        else:
            run_dir = new_run_dir(Path(opts.results_dir), suite.name)
            meta = run_metadata(suite, run_dir, opts)
        store.atomic_write_json(run_dir / store.RUN_JSON, meta)
        idle = _idle_baseline(suite, opts, cfg)
        if idle:
            meta["idle_baseline"] = idle
        workers.retarget(run_dir / "logs", run_dir.name, collector_config(suite, opts, idle))
        results = _run_tasks(todo, done, run_dir, workers, opts, meta)
    finally:
        workers.close()
    meta.update(status="complete", ended_utc=datetime.now(UTC).isoformat(timespec="seconds"),
                worker_runtime=workers.info)
    store.atomic_write_json(run_dir / store.RUN_JSON, meta)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.case["status"]] = counts.get(r.case["status"], 0) + 1
    return RunSummary(run_dir, counts, results)


def _preflight(suite: Suite, tasks: list[Task], workers: WorkerPool) -> None:
    cases = list({t.case.case_id: t.case for t in tasks}.values())
    out = workers.get(worker_key(cases[0])).request(("preflight", cases), timeout_s=600)
    if out.kind != "result":
        raise HarnessError(f"preflight worker {out.kind}: {out.detail}")
    if out.payload:
        label, key, msg = out.payload[0]
        more = f" (and {len(out.payload) - 1} more problem(s))" if len(out.payload) > 1 else ""
        raise SuiteError(suite.path, f"case {label}: {key}", msg + more)


def _idle_baseline(suite: Suite, opts: RunOptions, cfg: CollectorConfig) -> dict[str, float]:
    seconds = opts.idle_baseline_s if opts.idle_baseline_s is not None else suite.settings.get("idle_baseline_s", 0)
    if not seconds or cfg.names == ():
        return {}
    try:
        from harness.collectors import measure_idle
    except ImportError as exc:
        log.warning("idle baseline not measured: %s", exc)
        return {}
    log.info("measuring idle power for %.1f s", seconds)
    return measure_idle(cfg, seconds)


def _run_tasks(todo: list[Task], done: list[store.CaseResult], run_dir: Path, workers: WorkerPool,
               opts: RunOptions, meta: dict) -> list[store.CaseResult]:
    from tqdm import tqdm

    results = list(done)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    bar = tqdm(total=len(todo), unit="case", file=sys.stderr, disable=not opts.progress, dynamic_ncols=True)
    try:
        for task in todo:
            bar.set_description(f"{task.case.label}#{task.repeat}"[:60])
            result = _run_one(task, run_dir, workers, opts)
            store.write_part(run_dir, result)
            results.append(result)
            store.write_tables(run_dir, results)
            bar.update(1)
    except KeyboardInterrupt:
        workers.close(kill=True)
        store.write_tables(run_dir, results)
        meta.update(status="interrupted", ended_utc=datetime.now(UTC).isoformat(timespec="seconds"))
        store.atomic_write_json(run_dir / store.RUN_JSON, meta)
        raise Interrupted(f"interrupted; {len(results)} finished case(s) kept in {run_dir}. "
                          f"Resume with: harness run --resume {run_dir}") from None
    finally:
        bar.close()
        signal.signal(signal.SIGTERM, previous)
    return results


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _run_one(task: Task, run_dir: Path, workers: WorkerPool, opts: RunOptions) -> store.CaseResult:
    limit = time_limit_s(task.case, opts.time_limit_s)
    if strategies.is_multi_process(task.case):
        from harness.runner.cluster import run_cluster_case

        return run_cluster_case(task, run_dir, limit, workers.cfg)
    worker = workers.get(worker_key(task.case))
    t0 = time.perf_counter()
    msg: tuple = ("run", task.case, task.repeat)
    if task.case.profile:  # the worker needs where to write the trace and how long to capture
        from harness.profiling import DEFAULT_PROFILE_STEPS, ProfileSettings

        msg += (ProfileSettings(str(run_dir / "profiles"), opts.profile_steps or DEFAULT_PROFILE_STEPS,
                                opts.profile_skip_steps),)
    out = worker.request(msg, timeout_s=limit)
    elapsed = time.perf_counter() - t0
    if out.kind == "result":
        result: store.CaseResult = out.payload
        result.case["overhead_s"] = max(0.0, elapsed - (result.case.get("wall_s") or 0.0))
        return result
    row = base_row(task.case, task.repeat, run_dir.name)
    tail = worker.stderr_tail()
    workers.discard(worker)
    if out.kind == "timeout":
        row.update(status="timeout", error=f"exceeded its time limit of {limit:.0f} s", stderr_tail=tail)
    else:
        row.update(status="crashed", error=out.detail, stderr_tail=tail)
    row["wall_s"] = elapsed
    return store.CaseResult(case=row)


class WorkerPool:
    """At most one live worker; replaced when a case needs another device configuration."""

    def __init__(self, log_dir: Path, run_id: str, cfg: CollectorConfig) -> None:
        self.log_dir, self.run_id, self.cfg = log_dir, run_id, cfg
        self.current: Worker | None = None
        self.info: dict[str, Any] = {}

    def retarget(self, log_dir: Path, run_id: str, cfg: CollectorConfig) -> None:
        """New settings for the run, passed on to the live (preflight) worker so it is reused."""
        self.log_dir, self.run_id, self.cfg = log_dir, run_id, cfg
        live = self.current is not None and self.current.proc.is_alive()
        if live and self.current.request(("setup", run_id, cfg), timeout_s=60).kind != "result":
            self.close(kill=True)

    def get(self, key: Any) -> Worker:
        if self.current is not None and (self.current.device != key or not self.current.proc.is_alive()):
            self.close()
        if self.current is None:
            self.current = Worker(key, self.log_dir, self.run_id, self.cfg)
        return self.current

    def discard(self, worker: Worker) -> None:
        worker.stop(kill=True)
        if worker is self.current:
            self.current = None

    def close(self, kill: bool = False) -> None:
        if self.current is not None:
            if self.current.info:
                self.info = self.current.info
            self.current.stop(kill=kill)
            self.current = None
