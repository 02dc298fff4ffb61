"""Commands that need no SciPy, matplotlib or TensorFlow do not import them (issue 19).

Each command runs in a fresh interpreter (imports are per process); start-up
*times* are printed by scripts/bench_plans.py, not asserted here.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

from harness import commands
from harness.cli import build_parser

HEAVY = ("scipy", "matplotlib", "tensorflow", "keras")
PROBE = ("import sys\nfrom harness.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
         f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")


@pytest.mark.parametrize("argv", [["--help"], ["list", "engines"], ["run", "quick", "--dry-run"],
                                  ["compare", "--help"], ["show", "RUN"]])
def test_light_commands_do_not_import_heavy_libraries(argv, tmp_path):
    if argv == ["show", "RUN"]:
        from harness import schema
        from harness.results import store

        store.atomic_write_json(tmp_path / "run.json", {"schema_version": schema.SCHEMA_VERSION})
        argv = ["show", str(tmp_path)]
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=300)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("HEAVY=")]
    assert line == ["HEAVY="], f"harness {' '.join(argv)} imported {line}: {out.stderr[-2000:]}"


def test_every_command_is_in_the_lazy_table():
    """The CLI imports a command's module only when chosen: the table must name them all."""
    parser = build_parser()  # imports every module
    registered = set(parser._subparsers._group_actions[0].choices)  # noqa: SLF001
    assert registered == set(commands.COMMANDS), "update harness/commands/__init__.py COMMANDS"
    for name, (module, _help) in commands.COMMANDS.items():
        mod = importlib.import_module(f"harness.commands.{module}")
        assert hasattr(mod, "register"), name
    names = {m.name for m in pkgutil.iter_modules(commands.__path__)}
    assert {m for m, _h in commands.COMMANDS.values()} <= names
    lazy = build_parser(["list"])
    assert set(lazy._subparsers._group_actions[0].choices) == registered  # noqa: SLF001
