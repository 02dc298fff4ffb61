"""``harness compare`` and ``harness baseline {save,list}``: regression tracking.

Exit codes of ``compare`` (harness/errors.py): 0 nothing regressed, 1 a
regression, 2 bad input, 3 inconclusive or not comparable (only with
``--fail-on-inconclusive``). See docs/regression.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from harness.analysis.compare import compare_sides
from harness.analysis.compare_inputs import load_baseline, load_side
from harness.analysis.decide import Settings
from harness.analysis.gates import DEFAULT_METRICS, METRICS, GateSet
from harness.errors import EXIT_BAD_INPUT, EXIT_OK, HarnessError
from harness.report import compare_md
from harness.results import baselines
from harness.results.store import atomic_write_bytes

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare",
        help="compare results with a baseline; exit 1 on a regression",
        description="Compare CURRENT with BASELINE (a run folder, a results folder, a saved "
        "baseline or a pytest-benchmark JSON file), case by case and metric by metric.",
        epilog="Exit codes: 0 no regression, 1 regression, 2 bad input, 3 inconclusive or not "
        "comparable (with --fail-on-inconclusive).",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="BASELINE CURRENT, or CURRENT with --baseline")
    p.add_argument("--baseline", metavar="NAME", help="use the saved baseline NAME (see `harness baseline`)")
    p.add_argument(
        "--metric", action="append", metavar="GATE",
        help="metric to compare, optionally METRIC[:median|mean][:PCT][@axis=glob]; repeatable "
        f"(default: {', '.join(DEFAULT_METRICS)}; known: {', '.join(METRICS)})",
    )  # fmt: skip
    p.add_argument(
        "--threshold", action="append", metavar="PCT",
        help="minimum effect size (default 5%%); or an override METRIC:PCT / PCT@axis=glob; repeatable",
    )  # fmt: skip
    p.add_argument("--alpha", type=float, default=0.05, help="family-wise significance level (0.05)")
    p.add_argument("--min-repeats", type=int, default=5, help="ok repeats needed per side (5)")
    p.add_argument("--max-cv", type=float, default=0.10, help="robust CV above which a side is too noisy (0.10)")
    p.add_argument("--correction", choices=("holm", "bh", "none"), default="holm",
                   help="multiple-comparison correction (holm)")  # fmt: skip
    p.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples (2000)")
    p.add_argument("--pool", action="store_true", help="pool every comparable run of a results folder")
    p.add_argument("--allow-env-mismatch", action="store_true", help="compare despite a different environment")
    p.add_argument("--fail-on-inconclusive", action="store_true",
                   help="exit 3 when the verdict is inconclusive or not comparable")  # fmt: skip
    p.add_argument("--markdown", type=Path, metavar="PATH", help="write the Markdown summary here (may be $GITHUB_STEP_SUMMARY, appended)")
    p.add_argument("--json", type=Path, metavar="PATH", help="write the full comparison as JSON")
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
    if append:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text)
    else:
        atomic_write_bytes(path, text.encode())


def cmd_compare(args: argparse.Namespace) -> int:
    if args.baseline:
        if len(args.paths) != 1:
            raise HarnessError("with --baseline NAME give exactly one PATH (the current results)")
        base = load_baseline(args.results_dir, args.baseline)
        cur_path = args.paths[0]
    else:
        if len(args.paths) != 2:
            raise HarnessError("give BASELINE and CURRENT (or --baseline NAME and CURRENT)")
        base = load_side(args.paths[0], pool=args.pool)
        cur_path = args.paths[1]
    current = load_side(cur_path, pool=args.pool)
    if not 0 < args.alpha < 1 or args.min_repeats < 2 or args.max_cv <= 0 or args.resamples < 100:
        raise HarnessError("--alpha in (0,1), --min-repeats >= 2, --max-cv > 0, --resamples >= 100")
    gates = GateSet.from_strings(args.metric, args.threshold)
    settings = Settings(alpha=args.alpha, min_repeats=args.min_repeats, max_cv=args.max_cv,
                        n_resamples=args.resamples, correction=args.correction)  # fmt: skip
    cmp = compare_sides(base, current, gates, settings, allow_env_mismatch=args.allow_env_mismatch)
    for note in cmp.notes:
        log.warning("%s", note)
    sys.stdout.write(compare_md.render_text(cmp, base.name, current.name))
    if args.markdown:
        # a job summary file is shared by steps: append to an existing one, never clobber it
        _write(args.markdown, compare_md.render_markdown(cmp, base.name, current.name), args.markdown.exists())
    if args.json:
        doc = compare_md.to_json(cmp, base.name, current.name)
        _write(args.json, json.dumps(doc, indent=2, default=str) + "\n", append=False)
    return cmp.exit_code(args.fail_on_inconclusive)


def cmd_baseline_save(args: argparse.Namespace) -> int:
    dest = baselines.save_baseline(args.run, args.results_dir, args.name)
    print(f"baseline {args.name!r} saved: {dest}")
    return EXIT_OK


def cmd_baseline_list(args: argparse.Namespace) -> int:
    items = baselines.list_baselines(args.results_dir)
    if args.json:
        print(json.dumps(items, indent=2))
    elif not items:
        print(f"no baselines under {Path(args.results_dir) / baselines.BASELINES}")
    else:
        for it in items:
            print(f"{it.get('name', '?'):<24} {it.get('kind', '?'):<17} {it.get('saved_utc', '?'):<26} {it.get('source', '')}")
    return EXIT_OK
