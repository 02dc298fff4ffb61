"""Per-trial overhead of a tuning sweep (issue 25, item 6): time outside training and evaluation.

    python scripts/bench_trial_overhead.py [--trials 32] [--variants fork,fork+xla,tune]

Runs ``harness tune SUITE --stage trials`` on a sweep of ``--trials`` trials (Adam,
learning rate log-uniform, synthetic 512 examples, 1 epoch, collectors on: the
suite's defaults) once per variant, one after the other in one invocation:

* ``fork``: a fresh forked process per trial, no XLA cache (``harness run``'s way);
* ``fork+xla``: the same with the persistent XLA compilation cache shared by the workers;
* ``tune``: ``harness tune``'s default: cases in the worker process (``--worker-mode
  reuse``), trials of a configuration sharing one compiled program
  (:mod:`harness.runner.worker.programs`), and the XLA cache.

Per trial it reports the time outside training and evaluation two ways: all in (whole
command's wall time - sum of train_s + eval_s) / trials, start-up, preflight, peak probe
and the first compile included; and in the steady state (the spacing of the cases' ends
in the journal after the first, minus their mean train_s + eval_s); then the means of
setup_s, compile_s, the rest inside the worker and the runner's side. State the load
average (printed before and after).
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


VARIANTS = {"fork": ["--worker-mode", "fork", "--no-xla-cache"], "fork+xla": ["--worker-mode", "fork"], "tune": []}


def sweep(trials: int, extra: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp) / "sweep.toml"
        suite.write_text(SUITE.format(trials=trials))
        argv = ["tune", str(suite), "--stage", "trials", "--results-dir", tmp, "--no-progress", *extra]
        t0, t0_wall = time.perf_counter(), time.time()
        code = harness_main(argv)
        total = time.perf_counter() - t0
        if code:
            raise SystemExit(code)
        run_dir = find_runs(tmp)[-1]
        c = load_run(run_dir).cases
        done = sorted(f.stat().st_mtime for f in (run_dir / "parts").glob("*.json"))  # each case's end
    inside = (c.wall_s - (c.setup_s + c.compile_s + c.train_s + c.eval_s).fillna(0)).mean()
    later = (c.train_s + c.eval_s).sort_values().iloc[:-1]  # steady state: every case after the first
    steady = (done[-1] - done[0]) / (len(done) - 1) - later.mean() if len(done) > 1 else float("nan")
    return {"trials": len(c), "total_s": total, "per_trial_s": (total - (c.train_s + c.eval_s).sum()) / len(c),
            "steady_s": steady, "first_s": done[0] - t0_wall if done else float("nan"),
            "setup_s": c.setup_s.mean(), "compile_s": c.compile_s.mean(), "worker_rest_s": inside,
            "runner_s": c.overhead_s.mean(), "train_eval_s": (c.train_s + c.eval_s).mean()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=32)
    ap.add_argument("--variants", default="fork,fork+xla,tune", help=f"comma-separated, of {', '.join(VARIANTS)}")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    for name in args.variants.split(","):
        if name not in VARIANTS:
            ap.error(f"--variants: unknown variant {name!r}; known: {', '.join(VARIANTS)}")
        r = sweep(args.trials, VARIANTS[name])
        print(f"{name}: {r['trials']} trials in {r['total_s']:.1f} s; outside train+eval per trial, all in: "
              f"{r['per_trial_s']:.2f} s; per trial after the first (steady state, from the journal's times): "
              f"{r['steady_s']:.2f} s; first case done {r['first_s']:.1f} s after the start. Means per trial: "
              f"setup {r['setup_s']:.2f}, compile {r['compile_s']:.2f}, rest in worker {r['worker_rest_s']:.2f}, "
              f"runner {r['runner_s']:.2f}, train+eval {r['train_eval_s']:.3f} s")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
