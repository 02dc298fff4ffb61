"""``harness compare`` and ``harness baseline {save,list}``: regression tracking.

Exit codes of ``compare`` (harness/errors.py): 0 nothing regressed, 1 a
regression, 2 bad input, 3 inconclusive (``--fail-on-inconclusive``), 5 cannot
decide with these repeats, 6 a case lost, 7 a case newly failing, 8 environment
differs or unknown, 9 ``--pool`` over different suites or commits. See
docs/regression.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import EXIT_BAD_INPUT, EXIT_OK, HarnessError
from harness.regression.gates import METRICS, PRIMARY_METRIC, GateSet

if TYPE_CHECKING:
    from harness.regression.compare import Side
    from harness.regression.decide import Settings
    from harness.run_meta import RunMeta

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare",
        help="compare results with a baseline; exit 1 on a regression",
        description="Compare CURRENT with BASELINE (a run folder, a results folder, a saved "
        "baseline or a pytest-benchmark JSON file), case by case and metric by metric.",
        epilog="Exit codes: 0 no regression, 1 regression, 2 bad input, 3 inconclusive (with "
        "--fail-on-inconclusive), 4 results store error, 5 cannot decide with these repeats (with "
        "--fail-on-unreachable/--fail-on-inconclusive), 6 a case lost, 7 a case newly failing, "
        "8 environment differs or unknown, 9 --pool over different suites/commits.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="BASELINE CURRENT, or CURRENT with --baseline")
    p.add_argument("--baseline", metavar="NAME", help="use the saved baseline NAME (see `harness baseline`)")
    p.add_argument(
        "--metric", action="append", metavar="GATE",
        help="gate also on this metric: METRIC[:median|mean][:PCT][@axis=glob]; repeatable "
        f"(always gated: the primary metric, {PRIMARY_METRIC}; known: {', '.join(METRICS)})",
    )  # fmt: skip
    p.add_argument("--primary", metavar="METRIC", help=f"the metric every case gates on (default {PRIMARY_METRIC}, "
                   "or the suite's [gate] primary)")  # fmt: skip
    p.add_argument(
        "--threshold", action="append", metavar="PCT",
        help="minimum effect size (default 5%%); or an override METRIC:PCT / PCT@axis=glob; repeatable",
    )  # fmt: skip
    p.add_argument("--alpha", type=float, help="family-wise false-alarm rate per build (0.05, or the suite's)")
    p.add_argument("--min-repeats", type=int, default=3, help="ok repeats needed per side (3)")
    p.add_argument("--max-cv", type=float, default=0.10, help="robust CV above which a comparison is flagged noisy (0.10)")
    p.add_argument("--correction", choices=("holm", "bh", "none"), default="holm",
                   help="multiple-comparison correction (holm)")  # fmt: skip
    p.add_argument("--pool", action="store_true", help="pool every run of a results folder (one suite, commit, machine)")
    p.add_argument("--allow-mixed-pool", action="store_true",
                   help="with --pool: pool runs of other suites or commits too (else exit 9)")  # fmt: skip
    p.add_argument("--allow-env-mismatch", action="store_true",
                   help="compare despite a different or unknown environment (else exit 8)")  # fmt: skip
    p.add_argument("--allow-missing-cases", action="store_true", help="a baseline case may be missing (else exit 6)")
    p.add_argument("--allow-new-failures", action="store_true",
                   help="a case may newly fail, diverge, crash or time out (else exit 7)")  # fmt: skip
    p.add_argument("--fail-on-inconclusive", action="store_true",
                   help="exit 3 when the verdict is inconclusive or not comparable (5 when it cannot be decided)")
    p.add_argument("--fail-on-unreachable", action="store_true",
                   help="exit 5 when these repeats cannot reach a verdict for this family")  # fmt: skip
    p.add_argument("--markdown", type=Path, metavar="PATH", help="write the Markdown summary here (may be $GITHUB_STEP_SUMMARY, appended)")
    p.add_argument("--json", type=Path, metavar="PATH", help="write the full comparison as JSON")
    p.add_argument("--site-url", default=os.environ.get("HARNESS_SITE_URL", ""), metavar="URL",
                   help="a `harness publish` site: --markdown links each case to its series page "
                        "(default $HARNESS_SITE_URL)")  # fmt: skip
    p.add_argument("--results-dir", type=Path, default=Path("results"), help="where saved baselines live")
    p.set_defaults(func=cmd_compare)

    b = subparsers.add_parser("baseline", help="save or list named baselines for `harness compare --baseline`")
    bsub = b.add_subparsers(dest="baseline_command", metavar="ACTION")
    save = bsub.add_parser("save", help="copy a run (or a pytest-benchmark JSON) to results/baselines/NAME")
    save.add_argument("run", type=Path, metavar="RUN")
    save.add_argument("--name", required=True)
    save.add_argument("--results-dir", type=Path, default=Path("results"))
    save.set_defaults(func=cmd_baseline_save)
    lst = bsub.add_parser("list", help="list saved baselines")
    lst.add_argument("--results-dir", type=Path, default=Path("results"))
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=cmd_baseline_list)
    b.set_defaults(func=lambda args: (b.print_help(), EXIT_BAD_INPUT)[1])


def _write(path: Path, text: str, append: bool) -> None:
    from harness.results.store import atomic_write_bytes

    if append:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text)
    else:
        atomic_write_bytes(path, text.encode())


def _sides(args: argparse.Namespace) -> tuple[Side, Side]:
    from harness.regression.compare_inputs import load_baseline, load_side

    pool = {"pool": args.pool, "allow_mixed_pool": args.allow_mixed_pool}
    if args.baseline:
        if len(args.paths) != 1:
            raise HarnessError("with --baseline NAME give exactly one PATH (the current results)")
        return load_baseline(args.results_dir, args.baseline), load_side(args.paths[0], **pool)
    if len(args.paths) != 2:
        raise HarnessError("give BASELINE and CURRENT (or --baseline NAME and CURRENT)")
    return load_side(args.paths[0], **pool), load_side(args.paths[1], **pool)


def gate_config(args: argparse.Namespace, meta: RunMeta) -> tuple[GateSet, Settings]:
    """The family and the settings: the command line over the suite's [gate] table (from run.json)."""
    from harness.regression.compare_inputs import suite_gate
    from harness.regression.decide import Settings

    table = suite_gate(meta)
    alpha = args.alpha if args.alpha is not None else table.get("alpha", 0.05)
    if not 0 < alpha < 1 or args.min_repeats < 2 or args.max_cv <= 0:
        raise HarnessError(f"--alpha in (0,1), --min-repeats >= 2, --max-cv > 0. Received: alpha={alpha}, "
                           f"min_repeats={args.min_repeats}, max_cv={args.max_cv}")  # fmt: skip
    thresholds = ([table["threshold"]] if "threshold" in table else []) + (args.threshold or [])
    gates = GateSet.from_strings(list(table.get("metrics", [])) + (args.metric or []), thresholds,
                                 primary=args.primary or table.get("primary"))  # fmt: skip
    settings = Settings(alpha=alpha, min_repeats=args.min_repeats, max_cv=args.max_cv, correction=args.correction)
    return gates, settings


def cmd_compare(args: argparse.Namespace) -> int:
    # imported here: SciPy and matplotlib are not for `harness --help` or `harness list` (issue 19)
    from harness.regression import strict_json
    from harness.regression.compare import Relax, compare_sides
    from harness.report import compare_md

    base, current = _sides(args)
    gates, settings = gate_config(args, current.meta)
    relax = Relax(missing_cases=args.allow_missing_cases, new_failures=args.allow_new_failures,
                  env=args.allow_env_mismatch)  # fmt: skip
    cmp = compare_sides(base, current, gates, settings, relax=relax)
    for note in cmp.notes:
        log.warning("%s", note)
    sys.stdout.write(compare_md.render_text(cmp, base.name, current.name))
    if args.markdown:
        # a job summary file is shared by steps: append to an existing one, never clobber it
        suite = current.meta.suite.name or "?"
        md = compare_md.render_markdown(cmp, base.name, current.name, site_url=args.site_url, suite=suite)
        _write(args.markdown, md, args.markdown.exists())
    if args.json:
        doc = compare_md.to_json(cmp, base.name, current.name)
        _write(args.json, strict_json.dumps(doc, indent=2) + "\n", append=False)  # null / "Infinity", never NaN
    return cmp.exit_code(args.fail_on_inconclusive, args.fail_on_unreachable)


def cmd_baseline_save(args: argparse.Namespace) -> int:
    from harness.results import baselines

    dest = baselines.save_baseline(args.run, args.results_dir, args.name)
    print(f"baseline {args.name!r} saved: {dest}")
    return EXIT_OK


def cmd_baseline_list(args: argparse.Namespace) -> int:
    from harness.results import baselines

    items = baselines.list_baselines(args.results_dir)
    if args.json:
        print(json.dumps(items, indent=2))
    elif not items:
        print(f"no baselines under {Path(args.results_dir) / baselines.BASELINES}")
    else:
        for it in items:
            print(f"{it.get('name', '?'):<24} {it.get('kind', '?'):<17} {it.get('saved_utc', '?'):<26} {it.get('source', '')}")
    return EXIT_OK
