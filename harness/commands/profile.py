"""``harness profile RUN``: the profiled cases of a run: step breakdown, top ops, op comparisons."""

from __future__ import annotations

import argparse

import pandas as pd

from harness.errors import EXIT_OK, ConfigError, ResultsError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="top ops and step breakdown of a run's profiled cases",
                       description="Tables from ops.parquet and cases.parquet of a run profiled with "
                                   "`harness run --profile` (see docs/profiling.md). Times are per optimizer update.")
    p.add_argument("run", help="a run folder")
    p.add_argument("--top", type=int, default=8, metavar="N", help="op types per case (default 8)")
    p.add_argument("--case", action="append", default=[], metavar="LABEL", help="only these case labels")
    p.add_argument("--diff", nargs=2, metavar=("BASE", "OTHER"),
                   help="ops OTHER adds to BASE per update (case labels, e.g. minibatch_sgd/eager adam/eager)")
    p.add_argument("--all-threads", action="store_true", help="top ops include runtime rows (dispatch, executor)")
    p.set_defaults(func=cmd_profile)


def cmd_profile(args: argparse.Namespace) -> int:
    from harness.analysis import ops as ap
    from harness.results.store import find_runs, is_run_dir, load_run

    if not is_run_dir(args.run) and not find_runs(args.run):  # missing or empty: exit 2, as everywhere
        raise ConfigError(f"{args.run}: no harness run found (a run folder holds run.json)")
    run = load_run(args.run)
    ops, cases = run.ops, run.cases
    if args.case:
        ops, cases = ops[ops["case_label"].isin(args.case)], cases[cases["case_label"].isin(args.case)]
    if not cases["profiled"].fillna(False).astype(bool).any():
        raise ResultsError(f"{args.run}: no profiled case; run with `harness run SUITE --profile`")
    cats = None if args.all_threads else ap.OP_CATEGORIES
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200,
                           "display.float_format", "{:,.3f}".format):
        print("step breakdown (shares of the marked steps' time; a step = one host call)")
        print(ap.breakdown(cases).to_string(index=False))
        if ops.empty:
            print("\nno op rows (see profile_error above)")
            return EXIT_OK
        print("\nPython thread: share of the profiled window outside ops (dispatch, runtime, Python)")
        print(ap.host_share(ops).to_string())
        print(f"\ntop {args.top} op types per case (us of self time per update)")
        print(ap.top_ops(ops, args.top, categories=cats).to_string(index=False))
        print("\nop types x cases (us per update)")
        print(ap.compare_ops(ops).to_string())
        if args.diff:
            print(f"\nwhat {args.diff[1]} adds to {args.diff[0]} (us per update)")
            print(ap.op_delta(ops, *args.diff).head(args.top * 2).to_string())
    return EXIT_OK
