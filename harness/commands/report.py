"""``harness report RUN ...`` and ``harness energy RUN ...``: render results as pages and tables."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from harness.errors import EXIT_OK

log = logging.getLogger(__name__)


def _factor_args(parser: argparse.ArgumentParser) -> None:
    from harness.analysis import EnergyFactors

    d = EnergyFactors()
    g = parser.add_argument_group("energy factors (report-time; see docs/reports.md for the sources)")
    g.add_argument("--region", default=None, metavar="CODE",
                   help="where the machine draws its power: an ISO 3166-1 country code (DE, FRA) or "
                        "provider:region (gcp:europe-west3); its grid intensity comes from the table "
                        "shipped with the harness (source and year shown; default: the suites' region, "
                        "else the world average)")
    g.add_argument("--carbon-intensity", type=float, default=None, metavar="G_PER_KWH",
                   help=f"grid carbon intensity in gCO2e/kWh; overrides --region (default: by region, "
                        f"else {d.carbon_intensity_g_per_kwh:g}, the world average)")
    g.add_argument("--pue", type=float, default=d.pue, metavar="X",
                   help=f"power usage effectiveness >= 1 (default {d.pue:g}: energy at the machine)")
    g.add_argument("--price", type=float, default=None, metavar="PER_KWH",
                   help=f"electricity price per kWh (default {d.price_per_kwh:g})")
    g.add_argument("--currency", default=d.currency, help=f"currency of --price (default {d.currency})")


def _common(parser: argparse.ArgumentParser, formats: list[str], default: str) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN", type=Path,
                        help="a run folder (results/<run-id>) or a folder of runs; several are combined")
    parser.add_argument("--format", choices=formats, default=default, help=f"output format (default {default})")
    parser.add_argument("--out", type=Path, default=None,
                        help="output file (a folder for csv); default under reports/")
    parser.add_argument("--title", default=None, help="report title (default: suites and machines)")
    parser.add_argument("--target", type=float, default=None, metavar="ACC",
                        help="recompute time/energy to this test accuracy from the epochs table")
    parser.add_argument("--include-profiled", action="store_true",
                        help="keep profiled repeats in timing tables (their timings are perturbed)")
    _factor_args(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="render runs as HTML, Markdown, CSV or LaTeX",
                              description="Render one or more runs (combined) as a report.")
    _common(p, ["html", "md", "markdown", "csv", "latex"], "html")
    p.add_argument("--baseline", default=None, metavar="KEY=VALUE[,KEY=VALUE]",
                   help="speed-up baseline: each configuration is compared with the one that has these "
                        "values and otherwise the same axes, in the same run unless run_id or machine is "
                        "named (default: strategy=default where strategies vary, else engine=keras_fit)")
    p.set_defaults(func=run_report, energy_only=False)
    e = subparsers.add_parser("energy", help="the energy report of runs (Markdown to stdout by default)",
                              description="Energy per case by source, power, idle vs dynamic, carbon and cost.")
    _common(e, ["md", "markdown", "html", "csv", "latex"], "md")
    e.set_defaults(func=run_report, energy_only=True, baseline=None)


def run_report(args: argparse.Namespace) -> int:
    from harness.report import (
        ENERGY_SECTIONS,
        ReportOptions,
        build_tables,
        default_out,
        render,
        write,
    )
    from harness.report.factors import report_factors
    from harness.report.tables import load

    runs = load(args.runs)
    factors = report_factors(runs, args.region, args.carbon_intensity, args.pue, args.price, args.currency)
    options = ReportOptions(baseline=args.baseline, include_profiled=args.include_profiled,
                            target=args.target, factors=factors)
    tables = build_tables(runs, options)
    sections = ENERGY_SECTIONS if args.energy_only else None
    rendered = render(tables, args.format, factors=factors, title=args.title, sections=sections)
    if args.energy_only and args.format in ("md", "markdown") and args.out is None:
        sys.stdout.write(rendered[""])
        return EXIT_OK
    out = args.out or default_out(tables, args.format, prefix="energy-" if args.energy_only else "")
    path = write(rendered, out)
    log.debug("wrote %s", path)
    print(path)
    return EXIT_OK
