"""mnist-bench-harness: what an optimizer, schedule, strategy or device costs.

The public API is deliberately small (pyperf-style)::

    from harness import load_suite, run_suite, load_run, load_runs
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_run", "load_runs", "load_history", "load_suite", "run_suite"]


def __getattr__(name: str):  # lazy: importing harness must not import TensorFlow
    if name in ("load_run", "load_runs", "load_history"):
        from harness.results import store

        return getattr(store, name)
    if name == "load_suite":
        from harness.suite import load_suite

        return load_suite
    if name == "run_suite":
        from harness.runner.runner import run_suite

        return run_suite
    raise AttributeError(name)
