"""``harness run SUITE``: run a suite (or resume a run) and print where the results are."""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

from harness.errors import EXIT_OK, EXIT_UNREACHABLE, UsageError

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
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan (count, estimated time; a summary by axis when large) and exit")
    p.add_argument("--all", action="store_true", help="with --dry-run: one line per case, however many")
    p.add_argument("--yes", action="store_true",
                   help="start a plan above the size guard (100,000 runs or a day of estimated time)")
    p.add_argument("--balance-from", type=Path, metavar="RUN",
                   help="a previous run (or folder of runs) whose measured durations replace the plan's "
                        "estimates (shard balance, dry-run totals, the size guard)")
    p.add_argument("--shard", metavar="I/N|auto",
                   help="run only the I-th of N shards, balanced by estimated cost; 'auto': I and N from "
                        "SLURM_ARRAY_TASK_*, JOB_COMPLETION_INDEX + HARNESS_SHARDS, or HARNESS_SHARD=I/N "
                        "(docs/distributed.md)")
    p.add_argument("--time-limit", type=float, metavar="S", help="per-case time limit in seconds")
    p.add_argument("--collectors", help="comma-separated collectors ('' for none); default: the suite's")
    p.add_argument("--tdp-w", "--tdp", dest="tdp", type=float, metavar="W",
                   help="the CPU package's TDP in watts (the part's spec) for the estimate_tdp energy estimate; "
                        "shared by --tdp-threads threads (origin: cli)")
    p.add_argument("--tdp-threads", type=int, metavar="N",
                   help="hardware threads per package sharing --tdp-w (default: the TDP table's entry for this "
                        "CPU, else the threads per package this machine reports; on a VM give the part's count)")
    p.add_argument("--strict-energy", action="store_true",
                   help="measured energy only: no estimate; NaN with the reason where there is no counter")
    p.add_argument("--idle-baseline", type=float, metavar="S", help="seconds of idle power measurement")
    p.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue an interrupted run")
    from harness.runner.parent.options import (
        DEFAULT_MAX_CASES,
        DEFAULT_MAX_RSS_MIB,
        DEFAULT_WORKER_MODE,
        WORKER_MODES,
    )

    p.add_argument("--worker-mode", choices=WORKER_MODES, default=DEFAULT_WORKER_MODE,
                   help="fork (default): every case in a fresh child forked from a worker that imported "
                        "TensorFlow, so no case inherits another's state; reuse: cases run in the worker "
                        "itself (faster start per case, state accumulates, consecutive cases of one configuration share "
                        "its compiled program; see docs/reliability.md)")
    p.add_argument("--worker-max-cases", type=int, default=DEFAULT_MAX_CASES, metavar="N",
                   help=f"replace a reused worker after N cases (0: never; default {DEFAULT_MAX_CASES}; "
                        "see docs/reliability.md)")
    p.add_argument("--worker-max-rss-mb", type=float, default=DEFAULT_MAX_RSS_MIB, metavar="MiB",
                   dest="worker_max_rss_mib",
                   help="replace a worker whose resident set after a case exceeds this many MiB (2**20 bytes; "
                        f"0: never; default {DEFAULT_MAX_RSS_MIB:g})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--report", action="store_true", help="also write the HTML report (under reports/)")
    p.add_argument("--region", metavar="CODE",
                   help="with --report: where the machine draws its power, an ISO 3166-1 code (DE) or "
                        "provider:region (gcp:europe-west3), for the carbon figures (overrides the suite's "
                        "region; later reports: harness report --region)")
    p.add_argument("--tensorboard", type=Path, metavar="LOGDIR",
                   help="also write scalars, the HParams experiment and profiles into this TensorBoard "
                        "logdir as cases finish (watch with: tensorboard --logdir LOGDIR)")
    p.add_argument("--interleave-with", metavar="REF",
                   help="also run the suite with the code of git REF, alternating (ABBA) with this checkout; "
                        "then compare them (see docs/regression.md)")
    p.add_argument("--rounds", type=int, default=2, help="with --interleave-with: alternations (default 2)")
    p.add_argument("--fail-on-unreachable", action="store_true",
                   help="with --interleave-with: exit 5 before running when the repeats cannot reach a "
                        "verdict for the suite's gate (see docs/regression.md)")  # fmt: skip
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
    if args.tdp_threads is not None and args.tdp_threads < 1:
        raise UsageError("--tdp-threads", str(args.tdp_threads), "must be an integer >= 1")
    positive("--idle-baseline", args.idle_baseline, strict=False)
    if getattr(args, "region", None):
        from harness import carbon

        carbon.lookup(args.region)  # an unknown region: exit 2 with the closest codes, before anything runs
    positive("--worker-max-cases", getattr(args, "worker_max_cases", None), strict=False)
    positive("--worker-max-rss-mb", getattr(args, "worker_max_rss_mib", None), strict=False)
    if args.resume:
        given = [flag for flag, v in (("SUITE", args.suite), ("--filter", args.filter), ("--shard", args.shard),
                                      ("--repeats", args.repeats is not None),
                                      ("--balance-from", args.balance_from),
                                      ("--collectors", args.collectors is not None)) if v]
        if given:
            raise UsageError("--resume", str(args.resume),
                             f"conflicts with {', '.join(given)}: a resumed run keeps its suite and its "
                             "original case selection (only --time-limit may change)")


def cmd_run(args: argparse.Namespace) -> int:
    from harness.runner.parent.plan import make_tasks

    validate_cli_options(args)
    shard = _resolve_shard(args)
    suite = _load(args)
    from harness.profiling.select import check_steps, mark_profiled

    suite.cases = mark_profiled(suite.cases, args.profile, args.profile_filter)
    profile_steps = check_steps(args.profile_steps) or suite.settings.get("profile_steps")
    if args.profile_skip < 0:
        raise UsageError("--profile-skip", str(args.profile_skip), "must be >= 0")
    if args.interleave_with:
        if args.tensorboard:
            raise UsageError("--tensorboard", str(args.tensorboard), "cannot be combined with --interleave-with; "
                             "export each side afterwards with: harness export RUN --tensorboard LOGDIR")
        return cmd_interleave(args, suite)
    if args.dry_run or not (args.yes or args.resume):
        est = _estimator(args, suite.cases)
        tasks = make_tasks(suite.cases, filters=args.filter, shard=args.shard, repeats=args.repeats,
                           estimator=est)
        if not tasks and args.filter and not args.shard:  # the same error as the real run, before it
            from harness.suite.filters import no_match_message

            raise UsageError("--filter", " ".join(args.filter), no_match_message(suite.cases, args.filter))
        if not args.yes:
            from harness.runner.parent.guard import check_tasks

            check_tasks(suite.path, tasks, est, _shards(args))
        if args.dry_run:
            from harness.runner.parent import dry_checks
            from harness.runner.parent.preview import dry_run_lines

            _static_checks(suite, [t.case for t in tasks])
            note = f", shard {args.shard} ({shard.source})" if shard else ""
            print(f"checked: {dry_checks.CHECKED}; only a real run checks: {'; '.join(dry_checks.RUNTIME_ONLY)}",
                  file=sys.stderr)  # stdout stays the plan
            print("\n".join(dry_run_lines(suite, tasks, est, every_case=args.all, shard_note=note)))
            return EXIT_OK
    from harness.runner.runner import run_suite

    live = None
    if args.tensorboard:
        from harness.tensorboard import LiveTensorBoard

        live = LiveTensorBoard(args.tensorboard)  # an unusable logdir fails here, before anything runs
    opts = run_options(args, shard, profile_steps, [live] if live else [])
    summary = run_suite(suite, opts)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(summary.counts.items()))
    print(f"results: {summary.run_dir}  ({counts})")
    print(f"show with: harness show {summary.run_dir}")
    if live:
        print_live(live, summary.run_dir)
    if args.report:
        print(f"report: {write_report(summary.run_dir, getattr(args, 'region', None))}")
    return EXIT_OK


def _static_checks(suite, cases: list) -> None:
    """--dry-run: the checks that need no TensorFlow (harness.runner.parent.dry_checks); the first problem exits 2."""
    from harness.errors import SuiteError
    from harness.runner.parent.dry_checks import static_problems

    problems = static_problems(cases)
    if problems:
        label, key, message = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SuiteError(suite.path, key, f"case {label}: {message}{more}")


def run_options(args: argparse.Namespace, shard, profile_steps: int | None, observers: list):
    """The RunOptions of `harness run`'s (and `harness tune`'s) command line."""
    from harness.runner.runner import RunOptions

    collectors = None
    if args.collectors is not None:
        collectors = [c for c in args.collectors.split(",") if c]
    return RunOptions(results_dir=args.results_dir, repeats=args.repeats, filters=args.filter,
                      shard=args.shard, time_limit_s=args.time_limit, progress=not args.no_progress,
                      collectors=collectors, tdp_w=args.tdp, idle_baseline_s=args.idle_baseline,
                      tdp_threads=args.tdp_threads, strict_energy=args.strict_energy,
                      resume=args.resume, profile_steps=profile_steps,
                      profile_skip_steps=args.profile_skip, balance_from=args.balance_from,
                      shard_source=shard.source if shard else "cli",
                      worker_max_cases=args.worker_max_cases, worker_max_rss_mib=args.worker_max_rss_mib,
                      worker_mode=args.worker_mode,
                      shard_variables=dict(shard.variables) if shard else {},
                      observers=observers)


def print_live(live, run_dir: Path) -> None:
    if live.errors:
        print(f"tensorboard: {live.path} is incomplete ({live.errors[-1]}); rebuild it with: "
              f"harness export {run_dir} --tensorboard {live.path}")
    else:
        print(f"tensorboard: {live.run_folder} ({live.sessions_written} runs; written between cases in "
              f"{live.write_s:.1f} s, plus {live.import_s:.1f} s importing TensorFlow once); "
              f"view with: tensorboard --logdir {live.path}")


def _load(args: argparse.Namespace):
    """The suite to run: the resumed run's own, or SUITE, sized (the guard) before it is expanded."""
    from harness.suite import expand, load_spec, parse_suite

    if args.resume:
        from harness.results.store import read_run_json

        meta = read_run_json(args.resume)
        return parse_suite(meta.suite.text, meta.suite.abspath or meta.suite.path)
    if not args.suite:
        raise UsageError("SUITE", "", "missing: give a suite file or name, or --resume RUN_DIR")
    spec = load_spec(args.suite)
    if not args.yes:
        from harness.runner.parent.guard import check_spec

        check_spec(spec, args.filter, args.repeats, _shards(args))
    return spec.suite(expand(spec))


def _resolve_shard(args: argparse.Namespace):
    """``--shard auto`` becomes I/N from the scheduler's variables (a clear error, exit 2, if they don't fit)."""
    from harness.runner.parent.shards import resolve

    shard = resolve(args.shard)
    if shard is not None:
        args.shard = shard.text
    return shard


def _shards(args: argparse.Namespace) -> int:
    from harness.runner.parent.plan import parse_shard

    shard = parse_shard(args.shard)
    return shard[1] if shard else 1


def _estimator(args: argparse.Namespace, cases: list):
    from harness.runner.parent.estimate import Estimator, from_run

    return from_run(args.balance_from, cases) if args.balance_from else Estimator()


def cmd_interleave(args: argparse.Namespace, suite) -> int:
    from harness.runner.parent.interleave import interleave

    if args.resume or args.dry_run:
        raise UsageError("--interleave-with", args.interleave_with, "cannot be combined with --resume or --dry-run")
    repeats = args.repeats or max(c.repeats for c in suite.cases)
    per_round = max(1, -(-repeats // args.rounds))
    if not check_gate_reachable(args, suite, per_round * args.rounds):
        return EXIT_UNREACHABLE
    extra = [f"--filter={f}" for f in args.filter] + ([f"--shard={args.shard}"] if args.shard else [])
    base, head = interleave(Path(suite.path), args.interleave_with, args.rounds, per_round,
                            args.results_dir, extra)
    print(f"baseline ({args.interleave_with}): {base}")
    print(f"candidate (this checkout): {head}")
    print(f"compare with: harness compare --pool {base} {head}")
    return EXIT_OK


def check_gate_reachable(args: argparse.Namespace, suite, repeats: int) -> bool:
    """Say whether `harness compare` can reach a verdict with these repeats; False: stop (exit 5)."""
    from harness.regression.gates import DEFAULT_THRESHOLD, parse_threshold
    from harness.regression.power import detection_estimate, reachability
    from harness.runner.parent.plan import make_tasks

    gate = suite.settings.get("gate", {})
    cases = len({t.case.case_id for t in make_tasks(suite.cases, filters=args.filter, shard=args.shard, repeats=1)})
    alpha = gate.get("alpha", 0.05)
    check = reachability(cases, 1 + len(gate.get("metrics", [])), repeats, alpha)
    print(check.message())
    if not check.reachable:
        return not args.fail_on_unreachable
    threshold = parse_threshold(gate["threshold"]) if "threshold" in gate else DEFAULT_THRESHOLD
    share = detection_estimate(check.family, repeats, threshold, alpha)
    print(f"gate: estimated by simulation (200 builds): +10 % on one case at CV 5 % is caught in "
          f"{share:.0%} of builds")
    return True


def write_report(run_dir: Path, region: str | None = None) -> Path:
    """The run's HTML report at its default place (``reports/<run-id>.html``); carbon by ``region``
    (else the suite's region, else the world average)."""
    from harness.report import ReportOptions, build_tables, default_out, render, write
    from harness.report.factors import report_factors
    from harness.report.tables import load

    runs = load([run_dir])
    factors = report_factors(runs, region)
    tables = build_tables(runs, ReportOptions(factors=factors))
    return write(render(tables, "html", factors=factors), default_out(tables, "html"))
