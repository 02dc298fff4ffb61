"""Speed benchmark: the engines suite side by side, printed as a Markdown table with ratios.

    python scripts/bench_engines.py [--suite engines] [--results-dir results]

Runs the suite (60,000 synthetic examples, batch 128, Adam), then prints the
median examples/s of each engine over its repeats and the ratio of `fast` to
each. The README's table is this script's output.
"""

from __future__ import annotations

import argparse
import sys

from harness.cli import main as harness_main
from harness.results import find_runs, load_run


def table(cases) -> str:
    ok = cases[cases.status == "ok"]
    med = ok.groupby("engine")["samples_per_s"].agg(["median", "min", "max", "count"])
    fast = med.loc["fast", "median"] if "fast" in med.index else float("nan")
    lines = ["| engine | examples/s (median) | min | max | repeats | fast ÷ this |", "|---|---:|---:|---:|---:|---:|"]
    for engine, r in med.sort_values("median", ascending=False).iterrows():
        lines.append(f"| `{engine}` | {r['median']:,.0f} | {r['min']:,.0f} | {r['max']:,.0f} | {int(r['count'])} | "
                     f"{fast / r['median']:.1f}× |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", default="engines")
    ap.add_argument("--results-dir", default="results")
    ap.add_argument("--run", help="print the table of an existing run instead of running")
    args = ap.parse_args()
    if args.run:
        run_dir = args.run
    else:
        before = set(find_runs(args.results_dir)) if __import__("os").path.isdir(args.results_dir) else set()
        code = harness_main(["run", args.suite, "--results-dir", args.results_dir, "--no-progress"])
        if code:
            return code
        run_dir = sorted(set(find_runs(args.results_dir)) - before)[-1]
    run = load_run(run_dir)
    print(f"run {run.run_id} on {run.meta.machine.cpu_model} ({run.meta.machine.cpu_affinity} cores)")
    print(table(run.cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
