"""A case's own memory, read from the kernel at the case's edges in the process that runs it.

That process is a child forked from the worker (``fork`` mode) or the worker
itself (``reuse``), which serves many cases, so its lifetime peak
(``ru_maxrss``) says nothing about one case. Linux lets a process reset its resident-set high-water mark:
writing ``5`` to ``/proc/self/clear_refs`` sets ``VmHWM`` back to the current
``VmRSS`` (proc(5), since Linux 4.0). The worker does that when a case starts
and reads ``VmHWM`` when it ends, so ``peak_rss_bytes`` is the worker's peak
resident set *during that case* (source ``vmhwm_reset``). Where the reset is
refused, the collectors' sampled peak of the process group is used instead
(``sampled``), else the value is missing with the reason.

``case_mem_bytes`` is that peak minus the resident set before the case: what
the case needed on top of what the process already held (in ``fork`` mode this
includes starting TensorFlow's runtime). ``worker_rss_before_bytes``
and ``worker_rss_after_bytes`` show what a case left behind (their difference,
summed over a worker's cases, is the worker's growth).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

PROC_SELF = Path("/proc/self")


def _status_kib(field: str, proc: Path = PROC_SELF) -> int | None:
    """A ``kB`` field of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``) in KiB, or None."""
    try:
        for line in (proc / "status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def rss_bytes(proc: Path = PROC_SELF) -> int | None:
    kib = _status_kib("VmRSS", proc)
    return None if kib is None else kib * 1024


def reset_peak(proc: Path = PROC_SELF) -> str | None:
    """Reset the process's ``VmHWM``; returns None on success, else why it could not."""
    try:
        (proc / "clear_refs").write_text("5")
    except OSError as exc:
        return f"/proc/self/clear_refs refused the reset ({exc.strerror or exc})"
    return None


@dataclass
class CaseMemory:
    """Reads at a case's start (:meth:`start`) and end (:meth:`columns`)."""

    proc: Path = PROC_SELF
    before: int | None = None
    reset_error: str | None = None

    def start(self) -> CaseMemory:
        self.before = rss_bytes(self.proc)
        self.reset_error = reset_peak(self.proc)
        return self

    def columns(self, sampled_peak_bytes: float = math.nan) -> dict[str, object]:
        """``peak_rss_bytes`` and its source, ``case_mem_bytes``, RSS before and after the case."""
        after = rss_bytes(self.proc)
        if self.reset_error is None and (hwm := _status_kib("VmHWM", self.proc)) is not None:
            peak, source = hwm * 1024, "vmhwm_reset"
        elif math.isfinite(sampled_peak_bytes):
            peak, source = int(sampled_peak_bytes), "sampled"
        else:
            peak = None
            source = f"unavailable: {self.reset_error or 'no VmHWM'}; no sampled peak (collectors off)"
        grew = None if peak is None or self.before is None else max(0, peak - self.before)
        return {"peak_rss_bytes": peak, "peak_rss_source": source, "case_mem_bytes": grew,
                "worker_rss_before_bytes": self.before, "worker_rss_after_bytes": after}
