"""Run a suite, as a pipeline: plan -> execute -> record.

1. plan (:func:`harness.runner.parent.run_plan.plan_run`, made once): select, shard, balance, order;
2. execute: preflight in a worker, then each task in the worker pool (:mod:`harness.runner.parent.pool`,
   the worker side in :mod:`harness.runner.worker`) or as a cluster (:mod:`harness.runner.cluster.supervise`);
3. record: each finished case journaled at once, the tables and run.json written (:mod:`harness.results`).

Nothing is written for a suite that fails validation (including the preflight
in the first worker). A case that fails, crashes (segfault, ``os._exit``, OOM
kill) or times out becomes a row with that status; its worker's process group
is killed and the suite goes on in a fresh worker. Each finished case is
journaled at once (``parts/``), so ``kill -9`` loses only the case in progress
and ``--resume`` continues where the run stopped. SIGINT/SIGTERM/SIGHUP stop the
current case, keep what is finished, mark the run ``interrupted`` and say how to
resume (exit 130). A results write that fails (disk full) stops the run with a
ResultsError (exit 4) that says how to resume. See docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.components import strategies
from harness.errors import EXIT_INTERRUPTED, HarnessError, ResultsError, SuiteError
from harness.results import store
from harness.run_meta import RunMeta
from harness.runner.case_row import CaseRow
from harness.runner.exits import signal_name
from harness.runner.parent import peak_probe
from harness.runner.parent.collector_setup import collector_config, idle_baseline
from harness.runner.parent.observers import notify
from harness.runner.parent.options import RunOptions
from harness.runner.parent.plan import Task, time_limit_s, worker_key
from harness.runner.parent.pool import RecyclePolicy, WorkerPool
from harness.runner.parent.run_folder import new_run_dir
from harness.runner.parent.run_plan import plan_run
from harness.runner.parent.run_record import new_run_meta, now_utc
from harness.suite import Suite

log = logging.getLogger(__name__)


class Interrupted(HarnessError):
    """SIGINT/SIGTERM/SIGHUP stopped the run; finished cases are kept (exit code 130)."""

    exit_code = EXIT_INTERRUPTED


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
PREFLIGHT_TIMEOUT_S = 600.0
TABLE_REFRESH_S = 5.0


@dataclass
class RunSummary:
    run_dir: Path
    counts: dict[str, int]
    results: list[store.CaseResult]


def run_suite(suite: Suite | None, opts: RunOptions | None = None) -> RunSummary:
    """Run (or, with ``opts.resume``, continue) ``suite``; see the module docstring for guarantees."""
    opts = opts or RunOptions()
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in _STOP_SIGNALS}
    try:
        return _run_suite(suite, opts)
    except KeyboardInterrupt:  # before a run folder existed: nothing was written
        raise Interrupted("interrupted before any case ran; nothing was written") from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_suite(suite: Suite | None, opts: RunOptions) -> RunSummary:
    """The pipeline: the plan, made once (select, shard, balance, order) -> execution (preflight,
    the worker pool, clusters) -> the record (journal, tables, run.json)."""
    plan = plan_run(suite, opts)
    suite, tasks, meta = plan.suite, plan.tasks, plan.resumed
    scratch = Path(tempfile.mkdtemp(prefix="harness-preflight-"))
    workers = WorkerPool(scratch, "", collector_config(suite, opts, {}), recycle_policy(opts))
    lock: store.RunLock | None = None
    run_dir: Path | None = None
    try:
        if opts.resume:
            run_dir = Path(opts.resume)
            lock = store.lock_run(run_dir)
            store.remove_temp_files(run_dir)
            done = _finished(run_dir, tasks)
            todo = [t for t in tasks if t.key not in {r.key for r in done}]
            if todo:
                _preflight(suite, todo, workers)
        else:
            done, todo = [], tasks
            _preflight(suite, tasks, workers)
            run_dir = new_run_dir(Path(opts.results_dir), suite.name)
            lock = store.lock_run(run_dir)
            meta = new_run_meta(suite, run_dir, opts)
            meta.shard = plan.shard
        assert meta is not None
        return _execute(suite, todo, done, run_dir, workers, opts, meta)
    except (KeyboardInterrupt, Interrupted):
        _quiet_signals()  # a second Ctrl-C must not cut the clean-up short
        workers.close(kill=True)
        if meta is None or run_dir is None or not (run_dir / store.RUN_JSON).exists():
            raise Interrupted("interrupted before any case ran; nothing was written") from None
        n = _close_run(run_dir, meta, "interrupted")
        raise Interrupted(f"interrupted; {n} finished case run(s) kept in {run_dir}. "
                          f"Resume with: harness run --resume {run_dir}") from None
    except Exception as exc:
        _quiet_signals()
        workers.close(kill=True)
        if run_dir is None or meta is None or not (run_dir / store.RUN_JSON).exists():
            raise
        with contextlib.suppress(HarnessError, OSError):
            _close_run(run_dir, meta, "failed", error=f"{type(exc).__name__}: {exc}")
        if isinstance(exc, ResultsError):
            raise ResultsError(f"{exc}. Cases finished before this are intact in {run_dir}; "
                               f"make room, then resume with: harness run --resume {run_dir}") from exc
        raise
    finally:
        workers.close(kill=True)
        _keep_logs(scratch, run_dir)
        if lock is not None:
            lock.release()


def recycle_policy(opts: RunOptions) -> RecyclePolicy:
    """The workers' mode and recycling limits from the run's options (``None`` or 0 switches a limit off)."""
    rss = opts.worker_max_rss_mib
    return RecyclePolicy(max_cases=opts.worker_max_cases or None,
                         max_rss_bytes=int(rss * 2**20) if rss else None, mode=opts.worker_mode)


def _keep_logs(scratch: Path, run_dir: Path | None) -> None:
    """Move the preflight worker's log into the run (or drop it: a failed validation writes nothing)."""
    if run_dir is not None and (run_dir / store.RUN_JSON).exists():
        with contextlib.suppress(OSError):
            (run_dir / "logs").mkdir(exist_ok=True)
            for f in scratch.glob("*.log"):
                shutil.copyfile(f, run_dir / "logs" / f.name)
    elif run_dir is not None and not any(p.name != store.LOCK for p in run_dir.iterdir()):
        shutil.rmtree(run_dir, ignore_errors=True)  # created, then stopped before run.json
    shutil.rmtree(scratch, ignore_errors=True)


def _execute(suite: Suite, todo: list[Task], done: list[store.CaseResult], run_dir: Path,
             workers: WorkerPool, opts: RunOptions, meta: RunMeta) -> RunSummary:
    if opts.resume:
        meta.resumed_utc.append(now_utc())
        meta.status, meta.ended_utc = "running", None
        log.info("resuming %s: %d case run(s) done, %d to go", run_dir, len(done), len(todo))
    store.write_run_json(run_dir, meta)
    cfg = workers.cfg
    if todo:
        idle = idle_baseline(suite, opts, cfg)
        if idle:
            meta.idle_baseline = idle
        workers.retarget(run_dir / "logs", run_dir.name, collector_config(suite, opts, idle))
        meta.peak_probe = peak_probe.probe_devices(todo, workers, meta.peak_probe)
        store.write_run_json(run_dir, meta)
    notify(opts.observers, "run_started", run_dir, meta,
           [CaseRow.for_case(t.case, t.repeat, run_dir.name) for t in todo], done)
    results = _run_tasks(todo, done, run_dir, workers, opts, meta.peak_probe or {})
    workers.close()
    meta.worker_runtime = workers.info or meta.worker_runtime
    meta.worker_policy = workers.describe()
    _close_run(run_dir, meta, "complete", results=results)
    notify(opts.observers, "run_finished", run_dir, meta)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.case["status"]] = counts.get(r.case["status"], 0) + 1
    return RunSummary(run_dir, counts, results)


def _finished(run_dir: Path, tasks: list[Task]) -> list[store.CaseResult]:
    done = store.load_parts(run_dir)
    keys = {t.key for t in tasks}
    stray = [r.key for r in done if r.key not in keys]
    if stray:
        log.warning("%s: %d finished part(s) match no case of the suite as this harness expands it "
                    "(harness version changed?); kept as they are: %s", run_dir, len(stray), ", ".join(stray[:5]))
    return done


def _close_run(run_dir: Path, meta: RunMeta, status: str, *, error: str | None = None,
               results: list[store.CaseResult] | None = None) -> int:
    """Rebuild the tables from the journal and mark the run; later signals are only logged."""
    _quiet_signals()
    results = store.load_parts(run_dir) if results is None else results
    store.write_tables(run_dir, results)
    meta.status, meta.ended_utc = status, now_utc()
    if error:
        meta.error = error
    store.write_run_json(run_dir, meta)
    return len(results)


def _quiet_signals() -> None:
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _late_signal)


def _late_signal(signum: int, frame: Any) -> None:
    log.warning("%s received while saving the run's results; finishing that first", signal_name(signum))


def _preflight(suite: Suite, tasks: list[Task], workers: WorkerPool) -> None:
    """Build every distinct dataset/schedule/optimizer once in a worker; bad input -> SuiteError."""
    checked: set[str] = set()
    for task in tasks:
        c = task.case
        ident = json.dumps([c.dataset, c.schedule, c.optimizer, c.batch_size, c.learning_rate, c.epochs, c.model],
                           sort_keys=True, default=str)
        if ident in checked:
            continue
        checked.add(ident)
        worker = workers.get(worker_key(c))
        out = worker.request(("preflight", [c]), timeout_s=PREFLIGHT_TIMEOUT_S)
        if out.kind != "result":
            workers.discard(worker)
            tail = worker.stderr_tail(1500)
            raise SuiteError(suite.path, f"case {c.label}",
                             f"the worker {'timed out' if out.kind == 'timeout' else 'crashed'} while building "
                             f"its dataset, schedule and optimizer ({out.detail or out.kind}); nothing was run"
                             + (f"\n{tail}" if tail else ""))
        if out.payload:
            label, key, msg = out.payload[0]
            raise SuiteError(suite.path, f"case {label}: {key}", msg)


def _run_tasks(todo: list[Task], done: list[store.CaseResult], run_dir: Path, workers: WorkerPool,
               opts: RunOptions, peaks: dict[str, dict[str, Any]] | None = None) -> list[store.CaseResult]:
    """Run ``todo`` one by one; journal each result at once, refresh the tables now and then."""
    from tqdm import tqdm

    results = list(done)
    last_write, write_cost = time.monotonic(), 0.0
    with tqdm(total=len(todo), unit="case", file=sys.stderr, disable=not opts.progress, dynamic_ncols=True) as bar:
        for i, task in enumerate(todo):
            bar.set_description(f"{task.case.label}#{task.repeat}"[:60])
            result = _run_one(task, run_dir, workers, opts)
            peak_probe.apply(result.case, peaks or {})
            store.write_part(run_dir, result)  # from here on the case is safe
            results.append(result)
            notify(opts.observers, "case_finished", run_dir, result)  # before the next case starts
            # rewriting every table is O(run size): pace it so long sweeps stay cheap;
            # readers rebuild from the journal when the tables lag behind it
            if i == 0 or time.monotonic() - last_write >= max(TABLE_REFRESH_S, 20 * write_cost):
                t0 = time.monotonic()
                store.write_tables(run_dir, results)
                last_write, write_cost = time.monotonic(), time.monotonic() - t0
            bar.update(1)
    return results


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _run_one(task: Task, run_dir: Path, workers: WorkerPool, opts: RunOptions) -> store.CaseResult:
    limit = time_limit_s(task.case, opts.time_limit_s)
    if strategies.is_multi_process(task.case):
        from harness.runner.cluster.supervise import run_cluster_case

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
        result.case.set("outcome", overhead_s=max(0.0, elapsed - (result.case.get("wall_s") or 0.0)))
        workers.case_done(result.case)  # may recycle the worker, between cases
        return result
    workers.discard(worker)  # kills its process group: the worker and anything it started
    row = CaseRow.for_case(task.case, task.repeat, run_dir.name)
    row.set("outcome", stderr_tail=worker.stderr_tail(), wall_s=elapsed)
    if out.kind == "timeout":
        row.set("outcome", status="timeout", error=out.detail or f"exceeded its time limit of {limit:g} s; "
                "the worker and its processes were killed")
    else:
        code = out.payload
        row.set("outcome", status="crashed", error=out.detail,
                exit_code=code if isinstance(code, int) and code > 0 else None,
                exit_signal=signal_name(-code) if isinstance(code, int) and code < 0 else None)
    log.warning("case %s#%d: %s: %s", task.case.label, task.repeat, row["status"], row["error"])
    return store.CaseResult(case=row)
