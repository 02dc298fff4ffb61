"""Do workers age? Memory and speed of reused workers across many cases (issue 20).

Runs, through the real runner (worker processes, ``--worker-mode``, recycling policy and all):

* ``repeat``: one configuration (Adam, ``fast``) repeated ``--repeats`` times in one run;
* ``suite``: ``--cases`` different configurations (optimizers x learning rates) in one run;

and prints, per run, the worker's resident set after every case, its growth per
case within each worker (least-squares slope after the first ``--skip`` cases of
a worker), how often the worker was recycled, and the rank-trend test of
throughput, compile and train time against the position in the worker
(``harness.regression.drift``, Holm-corrected). ``--max-cases 0 --max-rss-mb 0``
switches recycling off to show what a worker does when it is never replaced.

``--soak N`` is the documented soak test: N varied cases with the default
policy; it exits 1 unless no row crashed and every worker's resident set stayed
under the policy's limit plus one case's growth.

    python scripts/bench_worker_drift.py --repeats 60 --cases 100                 # fork mode (default)
    python scripts/bench_worker_drift.py --repeats 60 --cases 100 --worker-mode reuse
    python scripts/bench_worker_drift.py --repeats 60 --cases 0 --max-cases 0 --max-rss-mb 0
    python scripts/bench_worker_drift.py --soak 300
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from harness.regression import drift
from harness.results.store import load_run
from harness.runner.parent.options import RunOptions
from harness.runner.runner import run_suite
from harness.suite import parse_suite

DATA = '{ name = "synthetic", n_train = 4096, n_test = 512 }'
OPTIMIZERS = ["adam", "minibatch_sgd", "rmsprop", "adagrad", "nadam"]


def repeat_suite(repeats: int) -> str:
    return f"""[suite]
name = "drift-repeat"
collectors = []
[defaults]
dataset = {DATA}
epochs = 2
repeats = {repeats}
optimizer = "adam"
"""


def varied_suite(n_cases: int) -> str:
    per = max(1, -(-n_cases // len(OPTIMIZERS)))
    rates = ", ".join(f"{1e-3 * (1 + i / per):.6g}" for i in range(per))
    return f"""[suite]
name = "drift-suite"
collectors = []
[defaults]
dataset = {DATA}
epochs = 1
[matrix]
optimizer = {OPTIMIZERS!r}
learning_rate = [{rates}]
""".replace("'", '"')


def run(text: str, results: Path, args: argparse.Namespace, limit: int | None = None) -> pd.DataFrame:
    suite = parse_suite(text, f"<{text.split(chr(10))[1]}>")
    if limit is not None:
        suite.cases = suite.cases[:limit]
    opts = RunOptions(results_dir=results, progress=False, worker_max_cases=args.max_cases or None,
                      worker_max_rss_mib=args.max_rss_mb or None, worker_mode=args.worker_mode)
    t0 = time.perf_counter()
    summary = run_suite(suite, opts)
    wall = time.perf_counter() - t0
    loaded = load_run(summary.run_dir)
    print(f"\n== {suite.name}: {len(loaded.cases)} case runs, statuses {summary.counts}, "
          f"workers {loaded.meta.worker_policy}")
    own = loaded.cases[["setup_s", "compile_s", "train_s", "eval_s"]].sum(axis=1)
    print(f"run wall time {wall:.1f} s = {wall / len(loaded.cases):.2f} s per case run; the cases' own "
          f"setup + compile + train + eval: median {own.median():.2f} s (compile_s median "
          f"{loaded.cases['compile_s'].median():.2f} s)")
    return loaded.cases


def growth_per_case(cases: pd.DataFrame, skip: int) -> list[float]:
    """Least-squares slope of RSS after each case (MiB per case), per worker, after its first ``skip`` cases."""
    slopes = []
    for _, rows in cases.groupby("worker_pid", sort=False):
        rows = rows.sort_values("worker_case_index")
        rows = rows[rows["worker_case_index"] >= skip]
        if len(rows) >= 5:
            slopes.append(float(np.polyfit(rows["worker_case_index"], rows["worker_rss_after_bytes"] / 2**20, 1)[0]))
    return slopes


def report(cases: pd.DataFrame, skip: int) -> None:
    rss = cases["worker_rss_after_bytes"] / 2**20
    print("RSS of the process that ran the case, at its end (MiB; in fork mode the worker's child):",
          " ".join(f"{v:.0f}" for v in rss))
    print(f"RSS: first {rss.iloc[0]:.0f}, max {rss.max():.0f}, last {rss.iloc[-1]:.0f} MiB; "
          f"case's own peak over the worker (case_mem_bytes) median {cases['case_mem_bytes'].median() / 2**20:.1f} MiB")
    first = cases["worker_case_index"] == 0
    print(f"harness overhead per case (overhead_s, median): {cases.loc[first, 'overhead_s'].median():.2f} s "
          f"for a worker's first case (start-up included), {cases.loc[~first, 'overhead_s'].median():.2f} s after")
    slopes = growth_per_case(cases, skip)
    shown = ", ".join(f"{s:.1f}" for s in slopes) or "n/a (workers too short)"
    print(f"growth within each worker (MiB/case, after its first {skip} cases): {shown}")
    if cases["case_id"].nunique() > 1:  # one case each: test within an optimizer (same work per update)
        cases = cases.assign(case_id=cases["optimizer"], case_label=cases["optimizer"])
    trends = drift.repeat_trends(cases)
    for t in trends:
        print(f"trend {t.metric:>14}: Spearman rho {t.rho:+.2f}, n={t.n}, p={t.p:.3g}, Holm p={t.p_holm:.3g}"
              f"{'  FLAGGED' if t.flagged else ''}")


def soak(n: int, results: Path, args: argparse.Namespace) -> int:
    cases = run(varied_suite(n), results, args, limit=n)
    report(cases, args.skip)
    crashed = int((cases["status"] == "crashed").sum())
    limit = (args.max_rss_mb or float("inf")) * 2**20
    worst = float(cases["worker_rss_after_bytes"].max())
    step = float(cases["case_mem_bytes"].max())
    ok = crashed == 0 and worst <= limit + step
    print(f"soak: {len(cases)} case runs, {crashed} crashed, worst worker RSS {worst / 2**20:.0f} MiB "
          f"(limit {limit / 2**20:.0f} MiB + one case) -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=60)
    p.add_argument("--cases", type=int, default=100)
    p.add_argument("--worker-mode", choices=("fork", "reuse"), default="fork",
                   help="fork: each case in a child forked from the worker (default); reuse: in the worker")
    p.add_argument("--max-cases", type=int, default=50, help="recycling: cases per worker (0: never)")
    p.add_argument("--max-rss-mb", type=float, default=4096.0, help="recycling: RSS limit (0: none)")
    p.add_argument("--skip", type=int, default=3, help="cases of each worker left out of the growth slope")
    p.add_argument("--soak", type=int, default=0, metavar="N", help="run the soak test with N cases")
    p.add_argument("--results-dir", type=Path, help="keep the runs here (default: a temporary folder)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="drift-") as scratch:
        tmp = args.results_dir or scratch
        if args.soak:
            return soak(args.soak, Path(tmp), args)
        if args.repeats:
            report(run(repeat_suite(args.repeats), Path(tmp), args), args.skip)
        if args.cases:
            report(run(varied_suite(args.cases), Path(tmp), args, limit=args.cases), args.skip)
    return 0


if __name__ == "__main__":
    sys.exit(main())
