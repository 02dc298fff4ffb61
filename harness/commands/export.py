"""``harness export RUN --pytest-benchmark FILE``: a run in pytest-benchmark's JSON format.

Each case becomes one benchmark; a round is one repeat, timed by its
``train_s``; ``extra_info`` carries examples/s, energy per example, accuracy,
status and every repeat's figures (see :mod:`harness.results.pytest_benchmark`).
The file can be put into a pytest-benchmark storage folder
(``.benchmarks/<machine>/0001_name.json``) and used with ``--benchmark-compare``,
or passed to ``harness compare``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.errors import EXIT_BAD_INPUT, EXIT_OK, HarnessError
from harness.results import store
from harness.results.pytest_benchmark import run_to_pytest_benchmark


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("export", help="export a run to other formats (pytest-benchmark JSON)")
    p.add_argument("run", type=Path, metavar="RUN", help="a run folder (results/<run-id>)")
    p.add_argument("--pytest-benchmark", type=Path, metavar="FILE", help="write pytest-benchmark JSON here")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    if not args.pytest_benchmark:
        print("harness export: choose a format (--pytest-benchmark FILE)")
        return EXIT_BAD_INPUT
    run = store.load_run(args.run)
    if run.cases.empty:
        raise HarnessError(f"{args.run}: the run has no case rows to export")
    doc = run_to_pytest_benchmark(run.meta, run.cases)
    if not doc["benchmarks"]:
        raise HarnessError(f"{args.run}: no case has an ok repeat with train_s; nothing to export")
    store.atomic_write_json(args.pytest_benchmark, json.loads(json.dumps(doc, default=str)))
    print(f"{len(doc['benchmarks'])} benchmarks written to {args.pytest_benchmark}")
    return EXIT_OK
