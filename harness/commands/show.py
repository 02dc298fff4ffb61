"""``harness show RUN``: a run's (or a folder of runs') case table in the terminal."""

from __future__ import annotations

import argparse

import pandas as pd

from harness.errors import EXIT_OK, ConfigError

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
    _per_update_column(out, cases)
    from harness.analysis import validity

    marked = validity.annotate_rows(cases)[validity.MARKED].to_numpy()
    out["energy J"] = [f"{v} {validity.MARK}" if m and v != "NaN" else v
                       for v, m in zip(out["energy J"], marked, strict=True)]
    return out


def _per_update_column(out: pd.DataFrame, cases: pd.DataFrame) -> None:
    """The p50 time per update under the name :mod:`harness.timing_names` gives it (step or chunk)."""
    from harness import timing_names

    kinds = [timing_names.kind(b) for b in cases.get("step_time_basis", pd.Series([""] * len(cases)))]
    values = [timing_names.per_update(row)[0] for _, row in cases.iterrows()]
    one = len(set(kinds)) == 1
    title = f"{kinds[0]} p50 ms" if one and kinds else "p50 ms per update"
    values = [("NaN" if v != v else f"{v:.3f}") + ("" if one else f" ({k})") for v, k in zip(values, kinds, strict=True)]
    position = list(out.columns).index("step p50 ms")
    del out["step p50 ms"]
    out.insert(position, title, values)


def validity_lines(cases: pd.DataFrame) -> list[str]:
    """The legend under the table: why each marked energy figure is not to be trusted."""
    from harness.analysis import validity

    rows = validity.annotate_rows(cases)
    if not rows[validity.TO_TARGET_MARKED].any():
        return []
    table = validity.legend(rows)
    lines = [f"  {table}"]
    for label, rep, why in zip(rows["case_label"], rows["repeat"], rows[validity.VALIDITY], strict=True):
        if why:
            lines.append(f"  {validity.MARK} {label} #{rep}: {why}")
    return lines


def cmd_show(args: argparse.Namespace) -> int:
    from harness.results.store import find_runs, load_runs

    runs = load_runs(args.run, skip_bad=True)  # a missing folder: ConfigError (exit 2)
    if not runs and find_runs(args.run):
        from harness.results.store import load_run

        load_run(find_runs(args.run)[0])  # raises the clear error of the damaged run
    if not runs:  # an empty folder: bad input (exit 2), as in every command
        raise ConfigError(f"{args.run}: no harness run found (a run folder holds run.json)")
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
        for run in runs:
            print(f"run {run.run_id}  suite {run.meta.suite.name}  "
                  f"status {run.meta.status}  cases {len(run.cases)}")
            if run.cases.empty:
                print("  (no finished cases)")
                continue
            table = run.cases if args.all_columns else format_cases(run.cases)
            print(table.to_string(index=False))
            for line in ([] if args.all_columns else validity_lines(run.cases)) + _drift_lines(run.cases):
                print(line)
    return EXIT_OK


def _drift_lines(cases: pd.DataFrame) -> list[str]:
    """Flags for repeats whose figures trend with their worker's age (harness.regression.drift)."""
    from harness.regression import drift

    return drift.describe(drift.repeat_trends(cases))
