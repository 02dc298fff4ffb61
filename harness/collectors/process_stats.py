"""Process and system figures: CPU time, RSS, system CPU and memory.

CPU time comes from the kernel's per-process CPU clocks (ns resolution,
:class:`harness.collectors.cpu_clocks.ProcessTimes`), so a short phase (one
evaluation of a few ms) is not rounded to 0 or 10 ms as psutil's
``/proc/<pid>/stat`` ticks would; RSS from psutil (``statm``). Cheap enough
for a 10 Hz sampler.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import psutil

from harness.collectors.cpu_clocks import ProcessTimes

log = logging.getLogger(__name__)


class ProcessGroup:
    """The processes whose CPU time and memory are attributed to the case."""

    def __init__(self, pids: tuple[int, ...] = ()) -> None:
        self.pids = pids or (os.getpid(),)
        self.procs: dict[int, psutil.Process] = {}
        self.cpu = ProcessTimes(self.pids)
        self.last_rss: dict[int, float] = {}
        self._cached_t: float | None = None
        self._cached = (math.nan, math.nan)
        for pid in self.pids:
            try:
                self.procs[pid] = psutil.Process(pid)
            except psutil.Error as exc:  # ProcessTimes has warned already
                log.debug("process %d: no memory figures: %s", pid, exc)

    def read(self, t: float | None = None) -> tuple[float, float]:
        """(CPU seconds user+system, RSS bytes) summed over the processes.

        A process that has exited keeps its last figures, so cumulative CPU
        time never goes backwards. Readings for the same instant ``t`` are
        cached, so two sources sharing the group cost one read.
        """
        if t is not None and t == self._cached_t:
            return self._cached
        self._cached_t, self._cached = t, self._read()
        return self._cached

    def _read(self) -> tuple[float, float]:
        cpu_s = self.cpu.read()
        for pid, proc in self.procs.items():
            try:
                self.last_rss[pid] = float(proc.memory_info().rss)
            except psutil.Error:
                self.last_rss[pid] = 0.0  # gone: no resident memory any more
        if not self.last_rss:
            return math.nan, math.nan
        return cpu_s, sum(self.last_rss.values())

    def peak_rss(self) -> float:
        """Sum of the processes' lifetime peak RSS (``VmHWM``), bytes; NaN if unreadable."""
        total = 0.0
        for pid in self.procs:
            hwm = _vm_hwm(pid)
            if math.isnan(hwm):
                return math.nan
            total += hwm
        return total if self.procs else math.nan


def _vm_hwm(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    return math.nan


def system_memory_used() -> float:
    """Memory used by the whole system, bytes."""
    return float(psutil.virtual_memory().used)


def logical_cpus() -> int:
    return psutil.cpu_count(logical=True) or os.cpu_count() or 1
