"""The CLI's commands: one module per family, each with ``register(subparsers)``.

:data:`COMMANDS` is the registry the CLI builds its parser from without
importing a command's module until that command is chosen, so ``harness list``
never pays for the SciPy/matplotlib imports of ``harness compare`` (issue 19).
Every module here that registers a command must be listed (a test checks it);
a command missing from the table still works, but makes the CLI import every
command module (slow start-up).
"""

from __future__ import annotations

# command name -> (module in harness.commands, one-line help for `harness --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "baseline": ("compare", "save or list named baselines for `harness compare --baseline`"),
    "compare": ("compare", "compare results with a baseline; exit 1 on a regression"),
    "energy": ("report", "the energy report of runs (Markdown to stdout by default)"),
    "env": ("env", "show the machine and its measurement capabilities"),
    "export": ("export", "export runs to other tools (pytest-benchmark JSON, a TensorBoard logdir)"),
    "history": ("history", "change points of every case across commits; exit 1 if the newest step is a regression"),
    "list": ("list", "what can be named in a suite"),
    "merge": ("merge", "combine the shard runs of one sweep into one run folder"),
    "prune": ("history", "keep only the newest N runs of each suite and machine (commit order)"),
    "publish": ("publish", "build a static results site (index, series pages, regressions, run reports)"),
    "profile": ("profile", "top ops and step breakdown of a run's profiled cases"),
    "report": ("report", "render runs as HTML, Markdown, CSV or LaTeX"),
    "run": ("run", "run a suite (a path, or a name from suites/)"),
    "show": ("show", "print a run's table"),
    "tune": ("tune", "tune a suite's optimizers: trials, selection on validation only, final seeds"),
}
