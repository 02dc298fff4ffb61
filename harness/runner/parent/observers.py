"""Observers of a run: told when it starts, as each case x repeat is journaled, and when it ends.

They run in the runner's parent process between cases (never while a case is
measured). An observer that fails is logged and ignored: it must not cost the
benchmark its results. ``harness run --tensorboard`` is one
(:class:`harness.tensorboard.LiveTensorBoard`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from harness.results.store import CaseResult
from harness.run_meta import RunMeta

log = logging.getLogger(__name__)


class RunObserver(Protocol):
    def run_started(self, run_dir: Path, meta: RunMeta, planned: Sequence[Mapping[str, Any]],
                    done: Sequence[CaseResult]) -> None:
        """``planned``: the identity and axis columns of every case x repeat still to run."""

    def case_finished(self, run_dir: Path, result: CaseResult) -> None:
        """``result`` has just been journaled (it is safe on disk)."""

    def run_finished(self, run_dir: Path, meta: RunMeta) -> None:
        """The run's tables and run.json are final."""


def notify(observers: Sequence[RunObserver], method: str, *args: Any) -> None:
    """Call ``method`` on every observer; log (never raise) what fails."""
    for observer in observers:
        try:
            getattr(observer, method)(*args)
        except Exception:
            log.warning("run observer %s.%s failed; the run goes on", type(observer).__name__, method,
                        exc_info=True)
