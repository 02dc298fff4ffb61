"""``harness export RUN... --pytest-benchmark FILE | --tensorboard LOGDIR``: runs in other tools' formats.

``--pytest-benchmark``: each case becomes one benchmark; a round is one repeat,
timed by its ``train_s``; ``extra_info`` carries examples/s, energy per example,
accuracy, status and every repeat's figures (see
:mod:`harness.results.pytest_benchmark`). The file can be put into a
pytest-benchmark storage folder (``.benchmarks/<machine>/0001_name.json``) and
used with ``--benchmark-compare``, or passed to ``harness compare``.

``--tensorboard``: one TensorBoard run per case x repeat with its per-epoch
scalars, an HParams experiment over the case axes and results, and profiled
cases' traces (see :mod:`harness.tensorboard`). Several runs, or a merged
run, go into one logdir side by side; exporting a run again replaces it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.errors import EXIT_BAD_INPUT, EXIT_OK, HarnessError
from harness.results import store
from harness.results.pytest_benchmark import run_to_pytest_benchmark


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("export", help="export runs to other tools (pytest-benchmark JSON, TensorBoard)")
    p.add_argument("runs", type=Path, nargs="+", metavar="RUN",
                   help="run folders (results/<run-id>), or folders holding runs (--tensorboard)")
    p.add_argument("--pytest-benchmark", type=Path, metavar="FILE", help="write pytest-benchmark JSON here")
    p.add_argument("--tensorboard", type=Path, metavar="LOGDIR",
                   help="write a TensorBoard logdir here: scalars, HParams, profiles (replaces earlier exports)")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    if not args.pytest_benchmark and not args.tensorboard:
        print("harness export: choose a format (--pytest-benchmark FILE, --tensorboard LOGDIR)")
        return EXIT_BAD_INPUT
    if args.pytest_benchmark:
        export_pytest_benchmark(args.runs, args.pytest_benchmark)
    if args.tensorboard:
        export_tensorboard(args.runs, args.tensorboard)
    return EXIT_OK


def export_pytest_benchmark(runs: list[Path], out: Path) -> None:
    if len(runs) != 1:
        raise HarnessError(f"--pytest-benchmark takes one run folder, got {len(runs)}: "
                           + " ".join(map(str, runs)))
    run = store.load_run(runs[0])
    if run.cases.empty:
        raise HarnessError(f"{runs[0]}: the run has no case rows to export")
    doc = run_to_pytest_benchmark(run.meta, run.cases)
    if not doc["benchmarks"]:
        raise HarnessError(f"{runs[0]}: no case has an ok repeat with train_s; nothing to export")
    store.atomic_write_json(out, json.loads(json.dumps(doc, default=str)))
    print(f"{len(doc['benchmarks'])} benchmarks written to {out}")


def export_tensorboard(runs: list[Path], logdir: Path) -> None:
    from harness.tensorboard import export_runs

    summary = export_runs(runs, logdir)
    for source, name in summary.runs.items():
        print(f"{source} -> {summary.logdir / name}")
    print(f"{summary.sessions} TensorBoard runs ({summary.profiles} with a profiler trace) from "
          f"{len(summary.runs)} harness run(s) in {summary.logdir}")
    print(f"view with: tensorboard --logdir {summary.logdir}")
