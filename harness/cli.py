"""Command line: ``harness <command>``. Thin: parse, call the layers, map errors to exit codes.

Each module in :mod:`harness.commands` that defines ``register(subparsers)``
adds one or more subcommands; the function it sets as ``func`` takes the parsed
arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from harness import __version__
from harness import commands as commands_pkg
from harness.errors import EXIT_BAD_INPUT, HarnessError

log = logging.getLogger("harness")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Benchmark optimizers, schedules, strategies and devices on the MNIST dense model.",
        epilog="Exit codes: 0 ok, 1 regression (compare, history), 2 bad input, 3 inconclusive "
        "(compare --fail-on-inconclusive), 4 results store error, 5 cannot decide with these repeats, "
        "6 a case lost, 7 a case newly failing, 8 environment differs or unknown, 9 mixed --pool "
        "(compare), 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands_pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands_pkg.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("harness").setLevel(max(level, logging.DEBUG) if verbosity else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    setup_logging(args.verbose)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args))
    except HarnessError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
