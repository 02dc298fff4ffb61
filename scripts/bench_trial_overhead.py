"""Per-trial overhead of a tuning sweep (issue 25, item 6): time outside training and evaluation.

    python scripts/bench_trial_overhead.py [--trials 32] [--worker-mode fork|reuse]

Runs ``harness tune SUITE --stage trials`` on a sweep of ``--trials`` trials (Adam,
learning rate log-uniform, synthetic 512 examples, 1 epoch, collectors on: the
suite's defaults), twice: without and with the persistent XLA compilation cache
``harness tune`` shares between its workers (``--no-xla-cache`` vs the default).
Per trial it reports (whole run's wall time - sum of train_s + eval_s) / trials
and its parts: setup_s, compile_s, the rest inside the worker, the runner's side.
Both variants run in one invocation, one after the other: state the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from harness.cli import main as harness_main
from harness.results import find_runs, load_run

SUITE = """
[suite]
name = "trial-overhead"
[defaults]
dataset = {{ name = "synthetic", n_train = 512, n_test = 128 }}
epochs = 1
batch_size = 64
optimizer = "adam"
[tuning]
trials = {trials}
[tuning.space]
learning_rate = {{ log_uniform = [1e-4, 1e-1] }}
"""


def sweep(trials: int, mode: str, cache: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp) / "sweep.toml"
        suite.write_text(SUITE.format(trials=trials))
        argv = ["tune", str(suite), "--stage", "trials", "--results-dir", tmp, "--no-progress",
                "--worker-mode", mode] + ([] if cache else ["--no-xla-cache"])
        t0 = time.perf_counter()
        code = harness_main(argv)
        total = time.perf_counter() - t0
        if code:
            raise SystemExit(code)
        c = load_run(find_runs(tmp)[-1]).cases
    inside = (c.wall_s - (c.setup_s + c.compile_s + c.train_s + c.eval_s).fillna(0)).mean()
    return {"trials": len(c), "total_s": total, "per_trial_s": (total - (c.train_s + c.eval_s).sum()) / len(c),
            "setup_s": c.setup_s.mean(), "compile_s": c.compile_s.mean(), "worker_rest_s": inside,
            "runner_s": c.overhead_s.mean(), "train_eval_s": (c.train_s + c.eval_s).mean()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=32)
    ap.add_argument("--worker-mode", choices=("fork", "reuse"), default="fork")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    for name, cache in (("before (no XLA cache)", False), ("after (shared XLA cache)", True)):
        r = sweep(args.trials, args.worker_mode, cache)
        print(f"{name}: {r['trials']} trials in {r['total_s']:.1f} s; outside train+eval per trial "
              f"{r['per_trial_s']:.2f} s = setup {r['setup_s']:.2f} + compile {r['compile_s']:.2f} + rest in worker "
              f"{r['worker_rest_s']:.2f} + runner {r['runner_s']:.2f} (+ start-up, preflight, writing; "
              f"train+eval {r['train_eval_s']:.3f} s per trial)")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
