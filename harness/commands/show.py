"""``harness show RUN``: a run's (or a folder of runs') case table in the terminal."""

from __future__ import annotations

import argparse

import pandas as pd

from harness.errors import EXIT_OK

COLUMNS = [
    ("case_label", "case", None), ("repeat", "rep", None), ("status", "status", None),
    ("samples_per_s", "examples/s", "{:,.0f}"), ("step_ms_p50", "step p50 ms", "{:.3f}"),
    ("train_s", "train s", "{:.2f}"), ("compile_s", "compile s", "{:.2f}"),
    ("test_accuracy", "test acc", "{:.4f}"), ("time_to_target_s", "to target s", "{:.2f}"),
    ("energy_j", "energy J", "{:.1f}"), ("energy_source", "energy source", None), ("error", "error", None),
]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="print a run's table")
    p.add_argument("run", help="a run folder, or a results folder (every run in it)")
    p.add_argument("--all-columns", action="store_true", help="print every column of cases.parquet")
    p.set_defaults(func=cmd_show)


def format_cases(cases: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=cases.index)
    for col, title, fmt in COLUMNS:
        series = cases[col]
        if fmt is None:
            out[title] = series.astype(object).where(series.notna(), "")
        else:
            out[title] = [fmt.format(v) if pd.notna(v) else "NaN" for v in series]
    out["error"] = out["error"].astype(str).str.slice(0, 60)
    return out


def cmd_show(args: argparse.Namespace) -> int:
    from harness.results.store import find_runs, load_runs

    runs = load_runs(args.run, skip_bad=True)
    if not runs and find_runs(args.run):
        from harness.results.store import load_run

        load_run(find_runs(args.run)[0])  # raises the clear error of the damaged run
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
        for run in runs:
            print(f"run {run.run_id}  suite {run.meta.suite.name}  "
                  f"status {run.meta.status}  cases {len(run.cases)}")
            if run.cases.empty:
                print("  (no finished cases)")
                continue
            table = run.cases if args.all_columns else format_cases(run.cases)
            print(table.to_string(index=False))
            for line in _drift_lines(run.cases):
                print(line)
    return EXIT_OK


def _drift_lines(cases: pd.DataFrame) -> list[str]:
    """Flags for repeats whose figures trend with their worker's age (harness.regression.drift)."""
    from harness.regression import drift

    return drift.describe(drift.repeat_trends(cases))
