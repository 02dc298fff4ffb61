"""``harness history RESULTS``: change points across commits; ``harness prune RESULTS --keep N``.

Exit codes of ``history``: 0 no regression at the newest step of any series,
1 the newest change point of some case and metric is a regression, 2 bad input
(an empty folder, runs of different suites mixed, a damaged run: nothing is
written). See docs/regression.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import EXIT_OK, EXIT_REGRESSION, HarnessError
from harness.regression.gates import METRICS, PRIMARY_METRIC, GateSet

if TYPE_CHECKING:
    from harness.regression.decide import Settings
    from harness.run_meta import RunMeta

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "history", help="change points of every case across commits; exit 1 if the newest step is a regression",
        description="Order the runs of RESULTS (one suite) by commit time, find steps in every case's gated "
        "metrics with a change-point search and judge each like `harness compare`.",
        epilog="Exit codes: 0 no newest-step regression, 1 the newest step of a series is a regression, "
        "2 bad input (empty folder, suites mixed, damaged run).",
    )  # fmt: skip
    p.add_argument("results", type=Path, metavar="RESULTS", help="a results folder or baseline store of many runs")
    p.add_argument("--suite", help="only the runs of this suite (required when several are mixed)")
    p.add_argument("--metric", action="append", metavar="GATE",
                   help=f"also follow this metric (gate string); always: the primary ({PRIMARY_METRIC}); "
                        f"known: {', '.join(METRICS)}")  # fmt: skip
    p.add_argument("--primary", metavar="METRIC", help="the primary metric (default: the suite's [gate], else samples_per_s)")
    p.add_argument("--threshold", action="append", metavar="PCT", help="minimum step (default 5%%); overrides as in compare")
    p.add_argument("--alpha", type=float, help="family-wise false-alarm rate over the steps judged (0.05)")
    p.add_argument("--markdown", type=Path, metavar="PATH", help="Markdown summary (appended to an existing file)")
    p.add_argument("--html", type=Path, metavar="PATH", help="HTML page with one small plot per case")
    p.add_argument("--json", type=Path, metavar="PATH", help="change points and series as JSON")
    p.set_defaults(func=cmd_history)

    q = subparsers.add_parser("prune", help="keep only the newest N runs of each suite and machine (commit order)",
                              description="Delete all but the newest N runs (commit order) of each suite on each "
                              "machine of a results folder; another suite's or machine's runs are never counted.")  # fmt: skip
    q.add_argument("results", type=Path, metavar="RESULTS")
    q.add_argument("--keep", type=int, required=True, metavar="N", help="runs to keep per suite and machine")
    q.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")
    q.set_defaults(func=cmd_prune)


def _gates(args: argparse.Namespace, meta: RunMeta) -> tuple[GateSet, Settings]:
    from harness.regression.compare_inputs import suite_gate
    from harness.regression.decide import Settings

    table = suite_gate(meta)
    alpha = args.alpha if args.alpha is not None else table.get("alpha", 0.05)
    if not 0 < alpha < 1:
        raise HarnessError(f"--alpha must be in (0, 1). Received: alpha={alpha}")
    thresholds = ([table["threshold"]] if "threshold" in table else []) + (args.threshold or [])
    gates = GateSet.from_strings(list(table.get("metrics", [])) + (args.metric or []), thresholds,
                                 primary=args.primary or table.get("primary"), report=False)  # fmt: skip
    return gates, Settings(alpha=alpha, min_repeats=2)


def cmd_history(args: argparse.Namespace) -> int:
    # imported here: ruptures, SciPy and matplotlib are not for `harness --help` (issue 19)
    from harness.regression import strict_json
    from harness.regression.history import analyse
    from harness.regression.history_input import load_history_runs
    from harness.report import history_render
    from harness.results.store import atomic_write_bytes

    runs, cases = load_history_runs(args.results, args.suite)
    gates, settings = _gates(args, runs[-1].meta)
    hist = analyse(runs, cases, gates, settings)
    root = str(args.results)
    outputs = []  # rendered completely before the first file is written
    if args.markdown:
        outputs.append((args.markdown, history_render.render_markdown(hist, root), args.markdown.exists()))
    if args.json:
        outputs.append((args.json, strict_json.dumps(history_render.to_json(hist, root), indent=2) + "\n", False))
    if args.html:
        outputs.append((args.html, history_render.render_html(hist, root), False))
    sys.stdout.write(history_render.render_text(hist, root))
    for path, text, append in outputs:
        if append:
            with path.open("a", encoding="utf-8") as fh:
                fh.write(text)
        else:
            atomic_write_bytes(path, text.encode())
    return EXIT_REGRESSION if hist.newest_is_regression() else EXIT_OK


def cmd_prune(args: argparse.Namespace) -> int:
    from harness.results import retention

    plan = retention.prune(args.results, args.keep, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for (suite, machine), (old, kept) in plan.items():
        print(f"suite {suite} on {machine}: {verb} {len(old)} run(s), kept the newest {len(kept)}")
        for path in old:
            print(f"  {verb} {path}")
    total = sum(len(old) for old, _ in plan.values())
    print(f"{'dry run: would prune' if args.dry_run else 'pruned'} {total} run(s) from {args.results} "
          f"({len(plan)} suite/machine group(s), newest {args.keep} of each kept)")
    return EXIT_OK


