"""Time `harness publish` from scratch and after one more run; page weights (docs/regression.md, "Publishing").

    python scripts/bench_publish.py [--runs 200] [--cases 10] [--jobs 1] [--no-run-reports] [--results DIR]

Writes synthetic runs (tests/helpers/synthetic_runs.py: the results store, no
training) into a temporary folder, publishes them with the CLI in a fresh
process (imports included, as a user or CI would run it), adds one run and
publishes again. Prints wall times, what was rendered and the weight of each
kind of page.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout: harness, and the test tools in tests.helpers

from tests.helpers.synthetic_runs import write_run  # noqa: E402


def publish(results: Path, site: Path, extra: list[str]) -> tuple[float, str]:
    """Wall seconds of one `harness publish` in a fresh process, and its output with its CPU seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "harness", "publish", str(results), "--out", str(site), *extra],
                         check=True, capture_output=True, text=True, env=env).stdout  # fmt: skip
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, f"CPU {cpu:.1f} s; {out.strip()}"


def weights(site: Path) -> str:
    kinds = {"index": [site / "index.html"], "series": list((site / "series").glob("*.html")),
             "run": list((site / "runs").glob("*.html")), "regressions": [site / "regressions.html"]}  # fmt: skip
    total = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    parts = [f"{k} {max(p.stat().st_size for p in v) / 1024:.0f} KiB (largest of {len(v)})" for k, v in kinds.items() if v]
    return "; ".join(parts) + f"; whole site {total / 2**20:.1f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--cases", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--no-run-reports", action="store_true")
    ap.add_argument("--keep", type=Path, help="keep the site here (a folder that does not exist)")
    ap.add_argument("--results", type=Path, help="the synthetic store: reused when it holds --runs runs, else written")
    args = ap.parse_args()
    extra = ["--jobs", str(args.jobs)] + (["--no-run-reports"] if args.no_run_reports else [])
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        results, site = args.results or Path(tmp) / "results", args.keep or Path(tmp) / "site"
        if results.is_dir():  # a store from an earlier bench: back to --runs runs
            for extra_run in sorted(results.iterdir())[args.runs:]:
                shutil.rmtree(extra_run)
        t = time.perf_counter()
        for i in range(len(list(results.glob("run-*"))) if results.is_dir() else 0, args.runs):
            write_run(results, i, n_cases=args.cases, slowdown=1.12 if i >= args.runs - 30 else 1.0)
        print(f"store of {args.runs} runs x {args.cases} cases ready in {time.perf_counter() - t:.1f} s")
        full, out = publish(results, site, extra)
        print(f"from scratch: {full:.1f} s  ({out})")
        write_run(results, args.runs, n_cases=args.cases, slowdown=1.12)
        inc, out = publish(results, site, extra)
        print(f"after one more run: {inc:.1f} s  ({out})")
        print(f"page weight: {weights(site)}")
        print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
