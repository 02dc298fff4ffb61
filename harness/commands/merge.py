"""``harness merge DIR... --out DIR``: the shard runs of one sweep as one run folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.errors import EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("merge", help="combine the shard runs of one sweep into one run folder",
                       description="Combine shard runs (run folders, or folders holding them) of one suite, "
                                   "run with --shard, into the new run folder OUT, which every command reads "
                                   "like any other run. See docs/distributed.md.",
                       epilog="Exit codes: 0 merged, 2 shards that do not fit together or case runs missing "
                              "(named), 4 a damaged shard or an unwritable OUT. Nothing is written on error.")
    p.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="shard run folders or folders holding them")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="the merged run folder (must be new)")
    p.add_argument("--allow-partial", action="store_true",
                   help="merge despite missing case runs; the run is marked partial and lists them")
    p.set_defaults(func=cmd_merge)


def cmd_merge(args: argparse.Namespace) -> int:
    from harness.results.merge import merge
    from harness.runner.parent.plan import expected_tasks

    summary = merge(args.dirs, args.out, expected_tasks, allow_partial=args.allow_partial)
    state = f"partial: {len(summary.missing)} case run(s) missing" if summary.partial else "complete"
    print(f"merged {len(summary.shards)} shard(s), {summary.runs} case run(s) ({state}): {summary.out}")
    print(f"report with: harness report {summary.out}")
    return EXIT_OK
