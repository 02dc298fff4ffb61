"""``harness tune SUITE``: trials, selection on validation only, final seeds; one run folder.

Takes `harness run`'s options. Across machines: ``harness tune SUITE --stage trials
--shard auto`` on each, ``harness merge``, then ``harness tune --finalize MERGED_RUN``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.errors import EXIT_OK, UsageError


def register(sub: argparse._SubParsersAction) -> None:
    from harness.commands import run as run_cmd

    scratch = argparse.ArgumentParser(add_help=False).add_subparsers()
    run_cmd.register(scratch)
    p = sub.add_parser("tune", parents=[scratch.choices["run"]], conflict_handler="resolve",
                       help="tune a suite's optimizers: trials, selection on validation, final seeds",
                       description="Run a suite's [tuning] trials, select one winner per optimizer and problem "
                                   "on validation figures only, run the winners' final seeds; one run folder. "
                                   "Takes `harness run`'s options.")
    p.add_argument("--stage", choices=("all", "trials"), default="all",
                   help="trials: run only the trials (e.g. one shard of them; then merge and --finalize)")
    p.add_argument("--finalize", type=Path, metavar="MERGED_RUN",
                   help="select on a (merged) trials run and run the winners' final seeds (shardable)")
    p.add_argument("--no-xla-cache", action="store_true",
                   help="don't share a persistent XLA compilation cache between the trials' worker processes")
    # trials of a configuration differ in variables only: a worker that outlives its cases keeps their
    # compiled program (harness.runner.worker.programs); --worker-mode fork gives each case a fresh process
    p.set_defaults(func=cmd_tune, worker_mode="reuse")


def cmd_tune(args: argparse.Namespace) -> int:
    from harness.runner.tune import xla_cache

    with xla_cache(enabled=not args.no_xla_cache and not args.dry_run):
        return _tune(args)


def _tune(args: argparse.Namespace) -> int:
    from harness.commands import run as run_cmd

    if args.finalize:
        return _finalize(args)
    if args.stage == "trials" or args.dry_run:
        suite = None
        if not args.resume:
            from harness.runner.tune import tuning_of

            suite = run_cmd._load(args)
            tuning_of(suite, "SUITE")
        code = run_cmd.cmd_run(args)  # the trials are the suite's cases: an ordinary run
        if args.dry_run and args.stage == "all" and suite is not None and code == EXIT_OK:
            print(finals_preview(suite))
        return code
    if args.shard:
        raise UsageError("--shard", args.shard, "a sharded tuning runs --stage trials on each machine, then "
                         "`harness merge`, then `harness tune --finalize MERGED_RUN`")
    if args.interleave_with:
        raise UsageError("--interleave-with", args.interleave_with, "not available with `harness tune`")
    run_cmd.validate_cli_options(args)
    suite = run_cmd._load(args)
    from harness.runner.tune import run_tuning

    opts = run_cmd.run_options(args, None, args.profile_steps, [])
    trials, finals = run_tuning(suite, opts)
    run_dir = (finals or trials).run_dir
    print(f"results: {run_dir}  (trials and final seeds)")
    print(f"report with: harness report {run_dir}")
    return EXIT_OK


def finals_preview(suite: Any) -> str:
    """What the final stage adds after the trials a dry run listed: its size depends on the selection,
    so a range (one winner per optimizer and problem, at most one per budget)."""
    tuning = suite.settings["tuning"]
    bases = sum(c.stage == "trial" and c.trial == 0 for c in suite.cases)  # each configuration's first trial
    seeds, budgets = tuning["final_seeds"], len(tuning["budgets"])
    low, high = bases * seeds, bases * seeds * budgets
    span = f"{low}" if low == high else f"{low} to {high}"
    return (f"then the final stage: {seeds} final seed(s) of each winner, {span} case run(s) "
            f"({bases} optimizer x problem configuration(s), one winner each"
            f"{f', up to one per budget of {budgets}' if budgets > 1 else ''}); chosen after the trials")


def _finalize(args: argparse.Namespace) -> int:
    from harness.commands import run as run_cmd
    from harness.runner.tune import finalize

    if args.resume:
        raise UsageError("--finalize", str(args.finalize), "conflicts with --resume (resume the finals run with "
                         "`harness run --resume RUN`)")
    shard = run_cmd._resolve_shard(args)
    text = None
    if args.suite:
        from harness.suite import load_spec

        text = load_spec(args.suite).text
    opts = run_cmd.run_options(args, shard, args.profile_steps, [])
    summary = finalize(args.finalize, opts, text)
    print(f"results: {summary.run_dir}  (final seeds{'' if args.shard else ' and the trials'})")
    return EXIT_OK
