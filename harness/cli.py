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


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The CLI's parser. With ``argv``, only the chosen command's module is imported.

    The other commands get a placeholder with their one-line help (from
    :data:`harness.commands.COMMANDS`), so ``harness --help`` lists them all and
    ``harness list`` does not import what ``harness compare`` needs. Without
    ``argv`` (or for a command missing from the table) every module is imported.
    """
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
    for name in _modules_to_import(argv):
        register = getattr(importlib.import_module(f"{commands_pkg.__name__}.{name}"), "register", None)
        if register is not None:
            register(sub)
    for name, (_module, help_text) in sorted(commands_pkg.COMMANDS.items()):
        if name not in sub.choices:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _modules_to_import(argv: Sequence[str] | None) -> list[str]:
    chosen = None if argv is None else _chosen_command(argv)
    if argv is not None and (chosen is None or chosen in commands_pkg.COMMANDS):
        return [commands_pkg.COMMANDS[chosen][0]] if chosen else []
    return [m.name for m in sorted(pkgutil.iter_modules(commands_pkg.__path__), key=lambda m: m.name)]


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The first argument that is not an option: the command (``harness -v run ...`` -> ``run``)."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg
    return None


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("harness").setLevel(max(level, logging.DEBUG) if verbosity else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
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
