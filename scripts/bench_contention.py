"""Which metric can a gate trust on a shared machine? The CI suite twice beside a CPU hog.

Starts ``--hog`` busy-loop processes (default one: a neighbour taking one core),
each bounded by ``--hog-max-s`` and killed when the runs end, runs the suite
twice with this checkout (an A/A pair: the same code both times) beside them,
and prints per metric and case:

* the repeat-to-repeat CV of each run (standard deviation / mean, and the
  robust CV the decision uses: 1.4826 MAD / median);
* the A/A verdict of ``harness compare``'s own decision code (run A as the
  baseline, run B as the candidate);
* over ``--trials`` simulated builds made of copies of those real rows (each
  side a resample, with replacement, of its run's repeats): the false-alarm
  rate with nothing planted, and the detection rate of a ``--slowdown``
  planted in every copied row of the candidate side (the metric made worse by
  that factor) — the noise is the rows' own.

Also the contention the rows recorded (``other_cpu_share``, ``contended``).

    python scripts/bench_contention.py                    # suites/ci.toml, one-core hog
    python scripts/bench_contention.py --hog 0 --json quiet.json   # the same without a neighbour
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import harness  # noqa: E402
from harness.regression import stats  # noqa: E402
from harness.regression.compare import Side, compare_sides  # noqa: E402
from harness.regression.decide import Settings  # noqa: E402
from harness.regression.gates import METRICS, GateSet  # noqa: E402

METRIC_NAMES = ("train_s", "samples_per_s", "step_ms_p50", "train_cpu_s", "cpu_ms_per_update",
                "instructions_per_update")
HOG = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end:\n    pass\n"


def start_hogs(n: int, max_s: float) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", HOG.format(s=max_s)]) for _ in range(n)]


def stop_hogs(hogs: list[subprocess.Popen]) -> None:
    for h in hogs:
        h.kill()
    for h in hogs:
        h.wait()


def run_suite(suite: str, out: Path, repeats: int | None, worker_mode: str = "fork") -> Path:
    cmd = [sys.executable, "-m", "harness", "run", suite, "--results-dir", str(out), "--no-progress",
           "--worker-mode", worker_mode]
    cmd += ["--repeats", str(repeats)] if repeats else []
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    runs = sorted(p for p in out.iterdir() if (p / "run.json").exists())
    return runs[-1]


def side(path: Path) -> Side:
    run = harness.load_run(path)
    return Side(str(path), run.cases, run.meta)


def cv(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.std(x, ddof=1) / np.mean(x)) if x.size > 1 and np.mean(x) else float("nan")


def planted(df: pd.DataFrame, metric: str, factor: float) -> pd.DataFrame:
    """Copies of the rows with ``metric`` made worse by ``factor`` (1.10: 10 % slower)."""
    out = df.copy()
    worse = 1.0 / factor if METRICS[metric].higher_is_better else factor
    out[metric] = pd.to_numeric(out[metric], errors="coerce") * worse
    return out


def resample(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    parts = [g.iloc[rng.integers(0, len(g), len(g))] for _, g in df.groupby("case_id", sort=False)]
    return pd.concat(parts, ignore_index=True)


def simulate(a: Side, b: Side, metric: str, factor: float, trials: int, seed: int) -> dict[str, float]:
    """Share of simulated builds with a regression verdict per case (nothing planted if factor == 1)."""
    rng = np.random.default_rng(seed)
    gates, settings = GateSet.from_strings(primary=metric, report=False), Settings()
    hits: dict[str, int] = {}
    for _ in range(trials):
        cur = planted(resample(b.cases, rng), metric, factor)
        cmp = compare_sides(Side("a", resample(a.cases, rng), a.meta), Side("b", cur, b.meta), gates, settings)
        for _, r in cmp.rows[cmp.rows["metric"] == metric].iterrows():
            hits[r["case"]] = hits.get(r["case"], 0) + int(r["verdict"] == "regression")
    return {case: n / trials for case, n in hits.items()}


def report(a: Side, b: Side, metrics: list[str], args: argparse.Namespace) -> list[dict]:
    out = []
    for metric in metrics:
        aa = compare_sides(a, b, GateSet.from_strings(primary=metric, report=False), Settings())
        verdicts = {r["case"]: (r["verdict"], r.get("reason", "")) for _, r in aa.rows.iterrows()
                    if r["metric"] == metric}
        false = simulate(a, b, metric, 1.0, args.trials, 1)
        found = simulate(a, b, metric, 1.0 + args.slowdown, args.trials, 2)
        for case_id, ga in a.cases.groupby("case_id", sort=False):
            gb = b.cases[b.cases["case_id"] == case_id]
            va, vb = (pd.to_numeric(g[metric], errors="coerce").to_numpy(float) for g in (ga, gb))
            name = str(ga["case_label"].iloc[0])
            out.append({
                "metric": metric, "case": name, "median_a": float(np.nanmedian(va)), "median_b": float(np.nanmedian(vb)),
                "cv_a": cv(va), "cv_b": cv(vb), "robust_cv_a": stats.robust_cv(va[np.isfinite(va)]),
                "robust_cv_b": stats.robust_cv(vb[np.isfinite(vb)]),
                "aa_verdict": verdicts.get(name, ("-", ""))[0], "aa_reason": verdicts.get(name, ("-", ""))[1],
                "false_alarms": false.get(name, float("nan")), "detected": found.get(name, float("nan")),
            })
    return out


def contention(s: Side) -> str:
    c = s.cases
    share = pd.to_numeric(c.get("other_cpu_share"), errors="coerce")
    flagged = c.get("contended").astype("boolean").sum() if "contended" in c else 0
    return f"other processes' CPU share median {share.median():.0%} (max {share.max():.0%}); {flagged}/{len(c)} rows contended"


def print_table(rows: list[dict], slowdown: float, trials: int) -> None:
    head = (f"{'metric':<24}{'case':<12}{'CV A':>7}{'CV B':>7}{'rCV A':>7}{'rCV B':>7}  {'A/A verdict':<13}"
            f"{'false alarms':>13}{f'+{slowdown:.0%} found':>12}")
    print(head)
    for r in rows:
        print(f"{r['metric']:<24}{r['case']:<12}{r['cv_a']:>7.1%}{r['cv_b']:>7.1%}{r['robust_cv_a']:>7.1%}"
              f"{r['robust_cv_b']:>7.1%}  {r['aa_verdict']:<13}{r['false_alarms']:>13.1%}{r['detected']:>12.1%}")
    print(f"(false alarms and detection: {trials} simulated builds of resampled real rows each, "
          "the decision of `harness compare` with its defaults)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--suite", default="suites/ci.toml")
    p.add_argument("--repeats", type=int, help="repeats per case (default: the suite's)")
    p.add_argument("--worker-mode", choices=("fork", "reuse"), default="fork", help="harness run --worker-mode")
    p.add_argument("--hog", type=int, default=1, help="busy-loop processes beside the runs (1: one core)")
    p.add_argument("--hog-max-s", type=float, default=1200.0, help="each hog ends by itself after this")
    p.add_argument("--slowdown", type=float, default=0.10, help="planted slowdown (0.10 = 10 %%)")
    p.add_argument("--trials", type=int, default=100)
    p.add_argument("--out", type=Path, default=Path("results/bench-contention"))
    p.add_argument("--runs", nargs=2, type=Path, metavar="RUN", help="analyse two existing runs instead")
    p.add_argument("--metrics", nargs="+", default=list(METRIC_NAMES), help="metrics to analyse")
    p.add_argument("--json", type=Path, help="write the table as JSON")
    args = p.parse_args(argv)
    if args.runs:
        paths = list(args.runs)
    else:
        hogs = start_hogs(args.hog, args.hog_max_s)
        t0 = time.monotonic()
        try:
            paths = [run_suite(args.suite, args.out / name, args.repeats, args.worker_mode) for name in ("a", "b")]
        finally:
            stop_hogs(hogs)
        print(f"two runs of {args.suite} beside {args.hog} hog(s) in {time.monotonic() - t0:.0f} s: "
              f"{paths[0]}, {paths[1]}")
    a, b = side(paths[0]), side(paths[1])
    for name, s in (("A", a), ("B", b)):
        print(f"run {name}: {contention(s)}")
    metrics = [m for m in args.metrics if m in a.cases and pd.to_numeric(a.cases[m], errors="coerce").notna().any()]
    rows = report(a, b, metrics, args)
    print_table(rows, args.slowdown, args.trials)
    if args.json:
        args.json.write_text(json.dumps({"runs": [str(x) for x in paths], "hogs": args.hog, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
