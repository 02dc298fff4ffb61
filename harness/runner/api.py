"""Run one case in *this* process (pytest-benchmark's plugin, notebooks).

Suites run through :func:`harness.runner.runner.run_suite` isolate each case in
a worker process; this entry point trades that isolation for pytest-benchmark's
in-process rounds. The TensorFlow device settings of the case must already suit
this process (the default CPU configuration does).
"""

from __future__ import annotations

import functools
from typing import Any

from harness.runner.worker.execute import WorkerState, execute
from harness.suite import Case


@functools.cache
def _state(run_id: str) -> WorkerState:
    """One state per process and run id, so datasets load once across rounds."""
    return WorkerState(run_id=run_id)


def run_case(case: Case, repeat: int, run_id: str = "pytest") -> dict[str, Any]:
    """Train ``case`` once (repeat index ``repeat``) and return its cases row."""
    return execute(case, repeat, _state(run_id)).case
