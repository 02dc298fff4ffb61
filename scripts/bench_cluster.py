"""What the multi-process strategies cost, and how much of it is inherent, measured through the harness itself.

    python scripts/bench_cluster.py [--repeats 2] [--n-train 16384] [--epochs 2] [--before REF]

1. One run (real processes on loopback, collectors off): ``default`` and
   ``multi_worker_mirrored`` / ``parameter_server`` at 1 and 2 workers, plus
   ``multi_worker_mirrored``-2 with XLA on the gradients (the other candidate
   driver); repeats interleaved (every case once, then again). Prints each
   case's examples/s relative to ``default`` per repeat and the median, and the
   cluster rows (``workers.parquet``: each process's own examples/s).
2. One profiled run of the 2-worker cases: the profiler's shares of a marked step
   (host call): ``compute`` (a kernel running), ``idle`` (the host waits inside
   the tf.function call with no kernel running: collectives and gRPC round trips,
   i.e. the strategy's inherent coordination on this machine) and ``host``
   (Python and dispatch: the engine's own part).
3. With ``--before REF``: the 2-worker cases with the code of git REF and with
   this checkout, alternating (``harness run --interleave-with``), to show what
   the engine's changes cut.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from harness.results import load_run

SUITE = """
[suite]
name = "bench-cluster"
time_limit_s = 900
collectors = []
[defaults]
dataset = {{ name = "synthetic", n_train = {n}, n_test = 1000 }}
epochs = {epochs}
batch_size = 128
engine = "fast"
profile = {profile}
[matrix]
strategy = {strategies}
"""
ALL = ('["default", {name = "multi_worker_mirrored", workers = 1, label = "mwm-1"}, '
       '{name = "multi_worker_mirrored", workers = 2, label = "mwm-2"}, '
       '{name = "multi_worker_mirrored", workers = 2, driver = "graph_loop+xla_gradients", '
       'label = "mwm-2 xla_gradients"}, '
       '{name = "parameter_server", workers = 1, ps = 1, label = "ps-1w1ps"}, '
       '{name = "parameter_server", workers = 2, ps = 1, label = "ps-2w1ps"}]')
TWO = ('["default", {name = "multi_worker_mirrored", workers = 2, label = "mwm-2"}, '
       '{name = "parameter_server", workers = 2, ps = 1, label = "ps-2w1ps"}]')


def harness_run(suite_text: str, folder: Path, *extra: str) -> list[Path]:
    """``harness run`` in a subprocess; the run folders it made (one, or base/head with --interleave-with)."""
    folder.mkdir(parents=True, exist_ok=True)
    suite = folder / "suite.toml"
    suite.write_text(suite_text)
    cmd = [sys.executable, "-m", "harness", "run", str(suite), "--results-dir", str(folder), "--no-progress", *extra]
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    return sorted(p.parent for p in folder.rglob("run.json"))


def relative(cases: pd.DataFrame) -> str:
    ok = cases[cases.status == "ok"]
    wide = ok.pivot_table(index="repeat", columns="case_label", values="samples_per_s")
    lines = ["| case | driver | examples/s (median) | ÷ default, per repeat | ÷ default (median) | test loss |",
             "|---|---|---:|---|---:|---:|"]
    for label in wide.columns:
        per = wide[label] / wide["default"]
        row = ok[ok.case_label == label].iloc[0]
        lines.append(f"| {label} | {row.engine_driver} | {wide[label].median():,.0f} | "
                     f"{', '.join(f'{v:.2f}' for v in per)} | {np.median(per):.2f} | {row.test_loss:.4f} |")
    bad = cases[cases.status != "ok"]
    lines += [f"| {r.case_label} | {r.status}: {str(r.error)[:120]} | | | | |" for r in bad.itertuples()]
    return "\n".join(lines)


def cluster_rows(run_dir: Path) -> str:
    run = load_run(run_dir)
    if run.workers is None or run.workers.empty:
        return "(no cluster rows)"
    labels = run.cases.drop_duplicates("case_id").set_index("case_id").case_label
    w = run.workers.assign(case=lambda d: d.case_id.map(labels))
    cols = ["case", "repeat", "task_type", "task_index", "samples_per_s", "status"]
    return w[[c for c in cols if c in w.columns]].to_markdown(index=False, floatfmt=",.0f")


def shares(cases: pd.DataFrame) -> str:
    cols = ["profile_compute_share", "profile_input_share", "profile_idle_share", "profile_host_overhead_share",
            "profile_step_ms", "profiled_steps", "profile_error"]
    prof = cases[cases.profiled.fillna(False).astype(bool)]
    return prof.set_index("case_label")[[c for c in cols if c in prof.columns]].to_markdown(floatfmt=".3f")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--n-train", type=int, default=16384)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--before", metavar="REF", help="also compare the 2-worker cases with git REF's code")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: timing,profile")
    ap.add_argument("--run", type=Path, help="print the tables of an existing timing run folder and stop")
    args = ap.parse_args()
    if args.run:
        print(relative(load_run(args.run).cases))
        print(cluster_rows(args.run))
        return 0
    root = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    fmt = {"n": args.n_train, "epochs": args.epochs, "profile": "false"}
    if "timing" not in args.skip:
        run_dir = harness_run(SUITE.format(strategies=ALL, **fmt), root / "timing", "--repeats", str(args.repeats))[0]
        print("\n### Cost relative to default (same run, repeats interleaved)\n")
        print(relative(load_run(run_dir).cases))
        print("\n### Cluster rows (each process's own examples/s)\n")
        print(cluster_rows(run_dir))
    if "profile" not in args.skip:
        text = SUITE.format(strategies=TWO, **{**fmt, "profile": "true"})
        run_dir = harness_run(text, root / "profile", "--profile-steps", "400")[0]
        print("\n### Profiler shares of a marked step (host call), 2 workers\n")
        print(shares(load_run(run_dir).cases))
    if args.before:
        runs = harness_run(SUITE.format(strategies=TWO, **fmt), root / "before",
                           "--interleave-with", args.before, "--rounds", "2")
        both = pd.concat([load_run(r).cases.assign(side=args.before if r.parent.name == "base" else "this")
                          for r in runs])
        med = both[both.status == "ok"].groupby(["case_label", "side"]).samples_per_s.median().unstack()
        print(f"\n### {args.before} vs this checkout, alternating (examples/s, median)\n")
        print(med.assign(ratio=med["this"] / med[args.before]).to_markdown(floatfmt=",.2f"))
    print(f"\nresults under {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
