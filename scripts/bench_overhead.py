"""Overhead of the harness itself: time per case beyond the case's own setup, compile, train and eval.

    python scripts/bench_overhead.py [--cases 20] [--worker-mode fork|reuse]

Runs a suite of many tiny cases (synthetic 512 examples, 1 epoch, collectors on
and off), times the whole `harness run` from outside, and reports per case:
run time between case starts minus (setup_s + compile_s + train_s + eval_s),
for the worker's first case and, averaged, for the following ones. That is the
cost of process start-up, imports, bookkeeping and writing results.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from harness.cli import main as harness_main
from harness.results import find_runs, load_run

SUITE = """
[suite]
name = "overhead"
[defaults]
dataset = {{ name = "synthetic", n_train = 512, n_test = 128 }}
epochs = 1
batch_size = 64
optimizer = "adam"
[matrix]
seed = {seeds}
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=20)
    ap.add_argument("--worker-mode", choices=("fork", "reuse"), default="fork")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp) / "overhead.toml"
        suite.write_text(SUITE.format(seeds=list(range(args.cases))))
        t0 = time.perf_counter()
        code = harness_main(["run", str(suite), "--results-dir", tmp, "--no-progress",
                             "--worker-mode", args.worker_mode])
        total = time.perf_counter() - t0
        if code:
            return code
        cases = load_run(find_runs(tmp)[-1]).cases
    own = (cases.setup_s + cases.compile_s + cases.train_s + cases.eval_s).fillna(0)
    first_own = own.iloc[0]
    rest_own = own.iloc[1:].sum()
    n_rest = len(cases) - 1
    # the runner's side: time between sending a case and having its row, beyond the worker's wall_s
    runner_side = cases.overhead_s.iloc[1:].mean()
    in_worker = (cases.wall_s - own).iloc[1:].mean()
    print(f"{len(cases)} cases in {total:.1f} s (all statuses: {cases.status.value_counts().to_dict()})")
    print(f"own work (setup+compile+train+eval): first case {first_own:.2f} s, later cases {rest_own / n_rest:.2f} s on average")
    print(f"overhead after the worker's first case, per case: {in_worker:.3f} s inside the worker "
          f"(collectors, bookkeeping) + {runner_side:.3f} s in the runner (IPC)")
    whole = (total - own.sum()) / len(cases)
    print(f"whole-run overhead per case (process start-up, imports, preflight, writing results, all included): "
          f"{whole:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
