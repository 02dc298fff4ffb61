"""How long `harness merge` takes on a large sweep: shards holding 10,000 case rows (issue 14).

    python scripts/bench_merge.py [--cases 2500] [--repeats 4] [--shards 10] [--epochs 5]

Writes the shard runs of a synthetic suite (cases x repeats rows, ``--epochs`` epoch
rows per case run, 20 samples per case run) straight through the results store —
no training — then times ``harness merge`` on them in a fresh process and in this
one (load and check the shards, re-expand the suite's plan, write the merged run).
Target: seconds, not minutes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.results import store
from harness.results.merge import merge
from harness.runner.case_row import CaseRow
from harness.runner.parent.options import RunOptions
from harness.runner.parent.plan import expected_tasks, make_tasks, shard_record
from harness.runner.parent.run_folder import new_run_dir
from harness.runner.parent.run_record import new_run_meta
from harness.runner.parent.shards import ShardSpec
from harness.suite import parse_suite


def suite_text(cases: int, repeats: int) -> str:
    seeds = ", ".join(str(i) for i in range(cases // 10))
    return (f'[suite]\nname = "merge-bench"\n[defaults]\ndataset = {{ name = "synthetic", n_train = 1024 }}\n'
            f"repeats = {repeats}\n[matrix]\nseed = [{seeds}]\n"
            'optimizer = ["adam", "rmsprop", "nadam", "adamax", "lion", "adagrad", "ftrl", "lamb", "adadelta", "adamw"]\n')


def write_shard(root: Path, suite, index: int, count: int, epochs: int) -> None:
    run_dir = new_run_dir(root, suite.name)
    meta = new_run_meta(suite, run_dir, RunOptions(results_dir=root, shard=f"{index}/{count}"))
    meta.shard = shard_record(suite.cases, ShardSpec(index, count))
    meta.status = "complete"
    results = []
    for t in make_tasks(suite.cases, only=set(meta.shard.case_ids or [])):
        ident = {"run_id": run_dir.name, "case_id": t.case.case_id, "repeat": t.repeat}
        row = {**CaseRow.for_case(t.case, t.repeat, run_dir.name), "status": "ok", "wall_s": 1.0, "samples_per_s": 1e5,
               "host": f"node{index}"}
        results.append(store.CaseResult(
            case=row, epochs=[{**ident, "epoch": e + 1, "loss": 1.0 / (e + 1)} for e in range(epochs)],
            samples=[{**ident, "t_s": 0.1 * k, "phase": "train", "cpu_power_w": 10.0} for k in range(20)]))
    store.write_tables(run_dir, results)
    store.atomic_write_json(run_dir / store.RUN_JSON, meta)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=2500)
    ap.add_argument("--repeats", type=int, default=4)
    ap.add_argument("--shards", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=5)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-merge-"))
    suite = parse_suite(suite_text(a.cases, a.repeats), str(tmp / "bench.toml"))
    t0 = time.perf_counter()
    for i in range(1, a.shards + 1):
        write_shard(tmp / "shards", suite, i, a.shards, a.epochs)
    rows = len(suite.cases) * a.repeats
    print(f"wrote {a.shards} shards: {rows:,} case rows, {rows * a.epochs:,} epoch rows, {rows * 20:,} samples "
          f"({time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "harness", "merge", str(tmp / "shards"), "--out",
                           str(tmp / "merged-cli")], capture_output=True, text=True)
    print(f"harness merge (fresh process, imports included): {time.perf_counter() - t0:.2f} s, exit "
          f"{proc.returncode}: {proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else proc.stderr[-300:]}")
    t0 = time.perf_counter()
    summary = merge([tmp / "shards"], tmp / "merged", expected_tasks)
    print(f"merge() in process: {time.perf_counter() - t0:.2f} s for {summary.runs:,} case rows")
    run = store.load_run(tmp / "merged")
    assert len(run.cases) == rows and run.meta.status == "complete"
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
