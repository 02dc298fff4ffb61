"""Shard runs written directly through the store (no training): for merge logic and its benchmark.

Rows are the runner's own identity rows (``CaseRow.for_case``) with made-up timings;
the end-to-end test (test_sweeps_schedulers.py) trains for real.
"""

from __future__ import annotations

from pathlib import Path

from harness.results import store
from harness.runner.case_row import CaseRow
from harness.runner.parent.options import RunOptions
from harness.runner.parent.plan import make_tasks, shard_record
from harness.runner.parent.run_folder import new_run_dir
from harness.runner.parent.run_record import new_run_meta
from harness.runner.parent.shards import ShardSpec
from harness.suite import Suite


def fake_shard(root: Path, suite: Suite, index: int, count: int, *, host: str = "node", skip: tuple = (),
               extra: tuple = (), repeats: int | None = None) -> Path:
    """Shard ``index``/``count`` of ``suite`` as a finished run folder; ``skip`` task keys are left out."""
    opts = RunOptions(results_dir=root, shard=f"{index}/{count}", repeats=repeats)
    run_dir = new_run_dir(Path(root), suite.name)
    meta = new_run_meta(suite, run_dir, opts)
    meta.shard = shard_record(suite.cases, ShardSpec(index, count), repeats=repeats)
    meta.status, meta.machine.host = "complete", host
    tasks = make_tasks(suite.cases, only=set(meta.shard.case_ids), repeats=repeats) + list(extra)
    results = []
    for t in tasks:
        if t.key in skip:
            continue
        row = {**CaseRow.for_case(t.case, t.repeat, run_dir.name), "status": "ok", "wall_s": 1.0 + t.repeat,
               "samples_per_s": 1000.0 * index, "host": host, "machine": f"box-{host}"}
        epochs = [{"run_id": run_dir.name, "case_id": t.case.case_id, "repeat": t.repeat, "epoch": 1, "loss": 0.5}]
        results.append(store.CaseResult(case=row, epochs=epochs))
    store.write_tables(run_dir, results)
    store.write_run_json(run_dir, meta)
    return run_dir
