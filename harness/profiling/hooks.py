"""Engine hooks that capture a bounded window of a case with the TensorFlow profiler.

:class:`ProfilerHooks` wraps the worker's other hooks (the collectors): it
forwards every call, starts ``tf.profiler.experimental`` right after the timed
window opens (warm-up and XLA compilation are already done; or after
``skip_steps`` more updates, for engines without a warm-up such as ``eager``),
marks every host call as a profiler *step* (so XProf's overview and step-time
tools see steps), and stops at the first host call that brings the profiled
updates to ``steps`` (or at the window's end). TensorFlow's profiler is imported only here, only for a profiled
case: an unprofiled run never imports or starts it.

Step markers: a step span opens when the window opens and after every host call,
and closes after the next host call; no span is opened after an epoch's last
host call (the epoch's evaluation would otherwise fall into it), so the first
host call of each later epoch is captured in the trace but not marked as a step.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STEP_NAME = "harness_step"


class ProfilerHooks:
    """Forwards to ``inner`` and profiles the first ``steps`` updates of the window into ``logdir``."""

    def __init__(self, inner: Any, logdir: Path, steps: int, steps_per_epoch: int, skip_steps: int = 0) -> None:
        self.inner, self.logdir, self.steps = inner, Path(logdir), steps
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.skip_steps = skip_steps  # updates of the window to let pass before the profiler starts
        self.start_step = 0
        self.done = False
        self.active = False
        self.error: str | None = None
        self.profiled_steps = 0
        self.marked_steps = 0
        self.window_s = float("nan")  # wall time between profiler start and stop
        self._marker: Any = None
        self._t0 = 0
        self._tf: Any = None

    # ---------------------------------------------------------------- hooks
    def on_phase(self, phase: str) -> None:
        self.inner.on_phase(phase)

    def on_window_start(self) -> None:
        self.inner.on_window_start()
        if self.skip_steps <= 0:
            self._start(0)

    def _start(self, total_steps: int) -> None:
        self.done = True  # one profiler window per case
        self.start_step = total_steps
        try:
            import tensorflow as tf

            self._tf = tf
            self.logdir.mkdir(parents=True, exist_ok=True)
            tf.profiler.experimental.start(str(self.logdir))
        except Exception as exc:  # a profiler that cannot start must not fail the case
            self.error = f"profiler did not start: {type(exc).__name__}: {exc}"
            log.warning("%s", self.error)
            return
        self.active = True
        self._t0 = time.perf_counter_ns()
        if total_steps % self.steps_per_epoch == 0 and total_steps > 0:
            return  # the epoch ends next: its evaluation must not fall into a step span
        self._open_step()

    def after_steps(self, total_steps: int) -> None:
        self.inner.after_steps(total_steps)
        if not self.active:
            if not self.done and total_steps >= self.skip_steps:
                self._start(total_steps)
            return
        self._close_step()
        self.profiled_steps = total_steps - self.start_step
        if self.profiled_steps >= self.steps:
            self._stop()
        elif total_steps % self.steps_per_epoch:  # not the epoch's last call: the next call is a step
            self._open_step()

    def on_epoch_end(self, epoch: int) -> None:
        self._close_step()
        self.inner.on_epoch_end(epoch)

    def on_window_end(self) -> None:
        self._stop()
        self.inner.on_window_end()

    def finish(self, row: dict, result: Any, examples: int, epochs: int, target_epoch: int | None) -> None:
        self.inner.finish(row, result, examples, epochs, target_epoch)

    # ---------------------------------------------------------------- internals
    def _open_step(self) -> None:
        self._marker = self._tf.profiler.experimental.Trace(STEP_NAME, step_num=self.marked_steps, _r=1)
        self._marker.__enter__()
        self.marked_steps += 1

    def _close_step(self) -> None:
        if self._marker is not None:
            self._marker.__exit__(None, None, None)
            self._marker = None

    def _stop(self) -> None:
        if not self.active:
            return
        self._close_step()
        self.active = False
        self.window_s = (time.perf_counter_ns() - self._t0) / 1e9
        try:
            self._tf.profiler.experimental.stop()
        except Exception as exc:
            self.error = f"profiler did not stop cleanly: {type(exc).__name__}: {exc}"
            log.warning("%s", self.error)
