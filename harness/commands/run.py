"""``harness run SUITE``: run a suite (or resume a run) and print where the results are."""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

from harness.errors import EXIT_OK, UsageError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a suite (a path, or a name from suites/)",
                       description="Run every case of a suite in worker processes; results go to "
                                   "RESULTS_DIR/<run-id>/ (run.json, cases/epochs/samples.parquet).")
    p.add_argument("suite", nargs="?", help="suite file or name (omit with --resume)")
    p.add_argument("--results-dir", type=Path, default=Path("results"), help="default: results/")
    p.add_argument("--repeats", type=int, help="override every case's repeats")
    p.add_argument("--filter", action="append", default=[], metavar="AXIS=V[,V]",
                   help="select cases by axis values (repeatable; all must match)")
    p.add_argument("--dry-run", action="store_true", help="list the cases and exit")
    p.add_argument("--shard", metavar="I/N", help="run only the I-th of N shards of the suite's cases")
    p.add_argument("--time-limit", type=float, metavar="S", help="per-case time limit in seconds")
    p.add_argument("--collectors", help="comma-separated collectors ('' for none); default: the suite's")
    p.add_argument("--tdp-w", "--tdp", dest="tdp", type=float, metavar="W",
                   help="CPU TDP in watts for the estimate_tdp energy estimate (origin: cli)")
    p.add_argument("--idle-baseline", type=float, metavar="S", help="seconds of idle power measurement")
    p.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue an interrupted run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--report", action="store_true", help="also write the HTML report (under reports/)")
    p.add_argument("--interleave-with", metavar="REF",
                   help="also run the suite with the code of git REF, alternating (ABBA) with this checkout; "
                        "then compare them (see docs/regression.md)")
    p.add_argument("--rounds", type=int, default=2, help="with --interleave-with: alternations (default 2)")
    p.add_argument("--profile", action="store_true", help="profile every case (TensorFlow profiler; see docs/profiling.md)")
    p.add_argument("--profile-filter", action="append", default=[], metavar="AXIS=V[,V]",
                   help="profile the cases these select (repeatable; all must match)")
    p.add_argument("--profile-steps", type=int, metavar="N",
                   help="updates to capture per profiled case (default: suite profile_steps, else 20)")
    p.add_argument("--profile-skip", type=int, default=0, metavar="N",
                   help="updates of the timed window to let pass before profiling (e.g. eager's first calls)")
    p.set_defaults(func=cmd_run)


def validate_cli_options(args: argparse.Namespace) -> None:
    """`harness run`'s options: ranges and conflicts, as UsageError (exit 2) before anything runs."""
    def positive(flag: str, value: float | None, strict: bool = True) -> None:
        if value is not None and (not math.isfinite(value) or value < 0 or (strict and value == 0)):
            raise UsageError(flag, str(value), f"must be a finite number {'>' if strict else '>='} 0")

    if args.repeats is not None and args.repeats < 1:
        raise UsageError("--repeats", str(args.repeats), "must be >= 1")
    positive("--time-limit", args.time_limit)
    positive("--tdp", args.tdp)
    positive("--idle-baseline", args.idle_baseline, strict=False)
    if args.resume:
        given = [flag for flag, v in (("SUITE", args.suite), ("--filter", args.filter), ("--shard", args.shard),
                                      ("--repeats", args.repeats is not None),
                                      ("--collectors", args.collectors is not None)) if v]
        if given:
            raise UsageError("--resume", str(args.resume),
                             f"conflicts with {', '.join(given)}: a resumed run keeps its suite and its "
                             "original case selection (only --time-limit may change)")


def cmd_run(args: argparse.Namespace) -> int:
    from harness.runner.plan import make_tasks
    from harness.runner.runner import RunOptions, run_suite
    from harness.suite import load_suite, parse_suite

    validate_cli_options(args)
    if args.resume:
        from harness.results.store import read_run_json

        meta = read_run_json(args.resume)
        suite = parse_suite(meta["suite"]["text"], meta["suite"].get("abspath") or meta["suite"]["path"])
    elif args.suite:
        suite = load_suite(args.suite)
    else:
        raise UsageError("SUITE", "", "missing: give a suite file or name, or --resume RUN_DIR")
    from harness.profiling.select import check_steps, mark_profiled

    suite.cases = mark_profiled(suite.cases, args.profile, args.profile_filter)
    profile_steps = check_steps(args.profile_steps) or suite.settings.get("profile_steps")
    if args.profile_skip < 0:
        raise UsageError("--profile-skip", str(args.profile_skip), "must be >= 0")
    if args.interleave_with:
        return cmd_interleave(args, suite)
    if args.dry_run:
        tasks = make_tasks(suite.cases, filters=args.filter, shard=args.shard, repeats=args.repeats)
        for case in {t.case.case_id: t.case for t in tasks}.values():
            n = sum(1 for t in tasks if t.case.case_id == case.case_id)
            print(f"{case.case_id}  x{n}  {case.label}" + ("  (profiled)" if case.profile else ""))
        print(f"{len({t.case.case_id for t in tasks})} case(s), {len(tasks)} run(s) of suite {suite.name!r}")
        return EXIT_OK
    collectors = None
    if args.collectors is not None:
        collectors = [c for c in args.collectors.split(",") if c]
    opts = RunOptions(results_dir=args.results_dir, repeats=args.repeats, filters=args.filter,
                      shard=args.shard, time_limit_s=args.time_limit, progress=not args.no_progress,
                      collectors=collectors, tdp_w=args.tdp, idle_baseline_s=args.idle_baseline,
                      resume=args.resume, profile_steps=profile_steps,
                      profile_skip_steps=args.profile_skip)
    summary = run_suite(suite, opts)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(summary.counts.items()))
    print(f"results: {summary.run_dir}  ({counts})")
    print(f"show with: harness show {summary.run_dir}")
    if args.report:
        print(f"report: {write_report(summary.run_dir)}")
    return EXIT_OK


def cmd_interleave(args: argparse.Namespace, suite) -> int:
    from harness.runner.interleave import interleave

    if args.resume or args.dry_run:
        raise UsageError("--interleave-with", args.interleave_with, "cannot be combined with --resume or --dry-run")
    repeats = args.repeats or max(c.repeats for c in suite.cases)
    per_round = max(1, -(-repeats // args.rounds))
    extra = [f"--filter={f}" for f in args.filter] + ([f"--shard={args.shard}"] if args.shard else [])
    base, head = interleave(Path(suite.path), args.interleave_with, args.rounds, per_round,
                            args.results_dir, extra)
    print(f"baseline ({args.interleave_with}): {base}")
    print(f"candidate (this checkout): {head}")
    print(f"compare with: harness compare --pool {base} {head}")
    return EXIT_OK


def write_report(run_dir: Path) -> Path:
    """The run's HTML report at its default place (``reports/<run-id>.html``)."""
    from harness.report import ReportOptions, build_tables, default_out, render, write

    tables = build_tables([run_dir], ReportOptions())
    return write(render(tables, "html"), default_out(tables, "html"))
