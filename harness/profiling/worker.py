"""Worker side of profiling: wrap a case's hooks, then turn the trace into result rows."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from harness.profiling import ProfileSettings
from harness.profiling.hooks import ProfilerHooks

log = logging.getLogger(__name__)


class CaseProfiler(ProfilerHooks):
    """:class:`ProfilerHooks` whose ``finish`` also converts the trace into the case's op rows."""

    def finish(self, row: Any, result: Any, examples: int, epochs: int, target_epoch: int | None) -> None:
        super().finish(row, result, examples, epochs, target_epoch)
        from harness.profiling.convert import convert_in_subprocess

        row.set("profiling", profile_dir=str(self.logdir), profiled_steps=self.profiled_steps,
                profile_marked_steps=self.marked_steps, profile_window_s=self.window_s)
        if not self.done and not self.error:
            self.error = f"the window ended before {self.skip_steps} updates (--profile-skip); nothing profiled"
        if self.error:
            row.set("profiling", profile_error=self.error)
            return
        columns, ops, error = convert_in_subprocess(self.logdir)
        row.set("profiling", **{**columns, "profile_error": error})
        ident = row.ident("run_id", "case_id", "case_label", "repeat")
        ops = with_shares(ops, self.window_s * 1e6)
        result.ops = [{**ident, **op, "profiled_steps": self.profiled_steps} for op in ops]


def with_shares(ops: list[dict], window_us: float) -> list[dict]:
    """Add ``self_time_share`` (self time / window) and the main thread's untraced time as a row.

    The untraced row is the Python thread's time inside the window that no traced
    event covers: the interpreter running Python between TensorFlow calls.
    """
    if not ops or not window_us > 0:
        return ops
    traced = sum(o["self_time_us"] or 0.0 for o in ops if o.get("thread") == "python")
    if traced:
        ops = ops + [{"source": "trace_viewer", "host_or_device": "Host", "thread": "python",
                      "category": "untraced", "op_type": "python (untraced)", "op_name": "python (untraced)",
                      "occurrences": None, "total_time_us": max(0.0, window_us - traced),
                      "self_time_us": max(0.0, window_us - traced)}]
    return [{**o, "self_time_share": (o["self_time_us"] or 0.0) / window_us} for o in ops]


def profiler_hooks(inner: Any, case: Any, repeat: int, settings: ProfileSettings | None,
                   steps_per_epoch: int) -> CaseProfiler:
    """Hooks that profile ``case`` x ``repeat`` into ``settings.root/<case_id>-<repeat>``."""
    if settings is None:  # run without the runner's settings (e.g. execute() called directly)
        settings = ProfileSettings(root=tempfile.mkdtemp(prefix="harness-profiles-"))
        log.warning("no profile settings from the runner; trace goes to %s", settings.root)
    logdir = Path(settings.root) / f"{case.case_id}-{repeat}"
    return CaseProfiler(inner, logdir, settings.steps, steps_per_epoch, settings.skip_steps)
