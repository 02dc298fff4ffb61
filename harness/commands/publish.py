"""``harness publish RESULTS... --out SITE``: a static results site (index, series, regressions, runs).

Exit codes: 0 published; 2 bad input (a missing or empty results folder, a
damaged run with ``--strict``, an ``--out`` that is not a site made by
``publish``), with the previous site left as it was. See docs/regression.md.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from harness.errors import EXIT_OK, UsageError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "publish", help="build a static results site (index, series pages, regressions, run reports)",
        description="Publish the runs of one or more results folders as a static site, like asv's: an index of "
        "every suite x case x metric with its trend, a page per series with its change points, a regressions "
        "page and Atom feed, a page per run. Suites and machines are never mixed. Publishing again after new "
        "runs renders only what they change.",
        epilog="Exit codes: 0 published, 2 bad input (missing or empty folder, --out not a site, damaged run "
        "with --strict).",
    )  # fmt: skip
    p.add_argument("results", nargs="+", type=Path, metavar="RESULTS", help="results folders (e.g. one per machine)")
    p.add_argument("--out", type=Path, required=True, metavar="SITE", help="the site's folder (created or updated)")
    p.add_argument("--strict", action="store_true", help="refuse a damaged run (exit 2) instead of skipping it")
    p.add_argument("--title", default="Performance history", help="the index page's title")
    p.add_argument("--url", default=os.environ.get("HARNESS_SITE_URL", ""), metavar="URL",
                   help="where the site is served (absolute links in the Atom feed; default $HARNESS_SITE_URL)")
    p.add_argument("--no-run-reports", action="store_true",
                   help="run pages are short summaries instead of each run's `harness report` (faster)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="processes rendering run reports (default 1)")
    p.set_defaults(func=cmd_publish)


def cmd_publish(args: argparse.Namespace) -> int:
    from harness.site.publish import publish

    if args.jobs < 1:
        raise UsageError("--jobs", str(args.jobs), "must be >= 1")
    done = publish(args.results, args.out, strict=args.strict, title=args.title, base_url=args.url,
                   run_reports=not args.no_run_reports, jobs=args.jobs)  # fmt: skip
    regressions = sum(st.verdict == "regression" for s in done.data.series for st in s.steps)
    print(f"published {len(done.data.series)} series of {len(done.data.runs)} runs to {done.site}: "
          f"{len(done.written)} page(s) written, {len(done.kept)} unchanged; {done.run_pages_rendered} run "
          f"page(s) rendered; {regressions} regression change point(s)"
          + (f"; skipped {len(done.data.skipped)} damaged run(s)" if done.data.skipped else ""))  # fmt: skip
    return EXIT_OK
