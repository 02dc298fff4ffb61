"""Results in TensorBoard: scalars, an HParams experiment and profiler traces in one logdir.

One TensorBoard run per case x repeat (``<harness run>/<case label>/repeat-<k>``)
holds the per-epoch curves (loss, accuracies, the learning rate in force, epoch
and cumulative training time, energy with the estimate's label in the tag when
estimated), the case's results as ``result/*`` scalars, its HParams session and,
for profiled cases, its trace under ``plugins/profile/`` (the Profile tab).

- :func:`export_runs`: ``harness export RUN... --tensorboard LOGDIR``
- :class:`LiveTensorBoard`: ``harness run SUITE --tensorboard LOGDIR`` (as cases finish)

Importing this package does not import TensorFlow; writing does (once).
"""

from __future__ import annotations

from harness.tensorboard.live import LiveTensorBoard
from harness.tensorboard.logdir import check_logdir
from harness.tensorboard.logdir_export import ExportSummary, export_runs

__all__ = ["ExportSummary", "LiveTensorBoard", "check_logdir", "export_runs"]
