"""CPU time of the benchmark's processes and of the whole machine, read at window edges.

Both are cumulative counters, so a window's figures are the difference of two
readings taken at its edges (:func:`read` at the start, :func:`read` at the
end, :func:`window` of the two). Shared by the energy attribution ("whose
energy": the benchmark's share of the machine's busy CPU time) and by the
per-window CPU time of the timing columns.

Machine times come from ``/proc/stat`` (its first ``cpu`` line, in USER_HZ
ticks, usually 10 ms), read from ``$HARNESS_PROC_STAT`` when set, so that tests
can rewrite a fake file in place. Linux counts guest time inside ``user`` and
``nice``, so it is not added again. Process times are user + system of each
process (all its threads) from the kernel's per-process CPU clocks (ns; psutil's
10 ms ticks where those clocks are missing); a process that has exited keeps its
last figure, so a window never sees CPU time go backwards.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

log = logging.getLogger(__name__)

NAN = math.nan
PROC_STAT = "/proc/stat"
_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def proc_stat_path() -> Path:
    """``$HARNESS_PROC_STAT`` or ``/proc/stat``."""
    return Path(os.environ.get("HARNESS_PROC_STAT") or PROC_STAT)


def _ticks_per_s() -> float:
    try:
        return float(os.sysconf("SC_CLK_TCK"))
    except (AttributeError, ValueError, OSError):
        return 100.0


@dataclass(frozen=True)
class MachineTimes:
    """Cumulative CPU seconds of the whole machine, summed over its logical CPUs.

    ``busy_s`` is work done by this machine's CPUs for anyone (user, nice,
    system, irq, softirq); ``steal_s`` is time the hypervisor gave to other
    guests; ``total_s`` includes idle, iowait and steal. All NaN when unreadable.
    """

    user_s: float = NAN
    nice_s: float = NAN
    system_s: float = NAN
    idle_s: float = NAN
    iowait_s: float = NAN
    irq_s: float = NAN
    softirq_s: float = NAN
    steal_s: float = NAN

    @property
    def busy_s(self) -> float:
        return self.user_s + self.nice_s + self.system_s + self.irq_s + self.softirq_s

    @property
    def total_s(self) -> float:
        return self.busy_s + self.idle_s + self.iowait_s + self.steal_s


def read_machine(path: Path | None = None) -> MachineTimes:
    """The machine's cumulative CPU times from ``/proc/stat`` (NaN fields when unreadable)."""
    path = path or proc_stat_path()
    try:
        with open(path, "rb") as fh:
            return parse_first_line(fh.readline(), path)
    except OSError as exc:
        log.debug("cannot read %s: %s", path, exc)
        return MachineTimes()


class MachineReader:
    """``/proc/stat`` kept open and re-read in place (a 10 Hz sampler's cheap path)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or proc_stat_path()
        self.fd: int | None = None

    def read(self) -> MachineTimes:
        try:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_RDONLY)
            head = os.pread(self.fd, 512, 0)
        except OSError as exc:
            log.debug("cannot read %s: %s", self.path, exc)
            return MachineTimes()
        return parse_first_line(head.split(b"\n", 1)[0], self.path)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def parse_first_line(line: bytes, path: Path) -> MachineTimes:
    """The aggregate ``cpu`` line of /proc/stat as seconds."""
    first = line.decode(errors="replace").split()
    if not first or first[0] != "cpu":
        log.warning("%s: first line is not the aggregate 'cpu' line: %r", path, " ".join(first))
        return MachineTimes()
    try:
        ticks = [float(x) for x in first[1 : 1 + len(_FIELDS)]]
    except ValueError:
        log.warning("%s: non-numeric cpu line %r", path, " ".join(first))
        return MachineTimes()
    ticks += [0.0] * (len(_FIELDS) - len(ticks))  # old kernels have fewer columns
    hz = _ticks_per_s()
    return MachineTimes(**{f"{name}_s": v / hz for name, v in zip(_FIELDS, ticks, strict=True)})


def process_clock_s(pid: int) -> float:
    """CPU seconds (user + system, every thread) of process ``pid`` from the kernel's CPU clock.

    Nanosecond resolution, where ``/proc/<pid>/stat`` counts 10 ms ticks: the
    clock of this process is ``CLOCK_PROCESS_CPUTIME_ID``, another process's is
    the clock id Linux derives from its pid (``clock_getcpuclockid``, which
    Python does not wrap: ``(~pid << 3) | CPUCLOCK_SCHED``). Raises OSError
    when the process is gone (EINVAL) or the platform has no such clocks.
    """
    if pid == os.getpid():
        return time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)
    if not sys.platform.startswith("linux"):
        raise OSError(errno.ENOTSUP, "per-process CPU clocks of other processes are Linux-only")
    return time.clock_gettime(((~pid) << 3) | 2)


class ProcessTimes:
    """Cumulative user + system CPU seconds of a fixed set of processes (default: this one).

    ``source`` says how: ``process_clock`` (the kernel's per-process CPU clock,
    ns resolution) or ``proc_pid_stat`` (psutil, 10 ms ticks) where the clock
    is not available; one source per object, never mixed between readings.
    """

    def __init__(self, pids: Iterable[int] = ()) -> None:
        self.pids = tuple(pids) or (os.getpid(),)
        self._procs: dict[int, psutil.Process] = {}
        self._last: dict[int, float] = {}
        self.source = "process_clock"
        for pid in self.pids:
            try:
                self._procs[pid] = psutil.Process(pid)
                process_clock_s(pid)
            except psutil.Error as exc:
                log.warning("process %d cannot be measured: %s", pid, exc)
            except OSError:
                self.source = "proc_pid_stat"

    def read(self) -> float:
        """CPU seconds so far, summed over the processes; NaN when none could ever be read."""
        for pid in self.pids:
            self._read_one(pid)
        return sum(self._last.values()) if self._last else NAN

    def per_process(self) -> dict[int, float]:
        """The last reading of each process (seconds), as of the latest :meth:`read`."""
        return dict(self._last)

    def _read_one(self, pid: int) -> None:
        if pid not in self._procs:
            return
        try:
            if self.source == "process_clock":
                self._last[pid] = process_clock_s(pid)
            else:
                t = self._procs[pid].cpu_times()
                self._last[pid] = t.user + t.system
        except (OSError, psutil.Error):
            pass  # exited: keeps its last figure


@dataclass(frozen=True)
class CpuReading:
    """One reading at a window edge: a clock (s), the processes' and the machine's CPU times."""

    t_s: float
    process_s: float
    machine: MachineTimes


@dataclass(frozen=True)
class CpuWindow:
    """CPU time spent between two readings (seconds)."""

    wall_s: float
    process_s: float
    machine_busy_s: float
    machine_total_s: float
    steal_s: float

    @property
    def benchmark_share(self) -> float:
        """Share of the machine's busy CPU time used by the benchmark's processes (0..1).

        1.0: nothing else ran; 0.5: other processes used as much CPU as the
        benchmark. NaN when the machine was not seen busy (unreadable, or a window
        shorter than a tick). Capped at 1: the two counters tick separately.
        """
        if not (self.machine_busy_s > 0 and math.isfinite(self.process_s)):
            return NAN
        return min(1.0, self.process_s / self.machine_busy_s)

    @property
    def steal_share(self) -> float:
        """Share of the machine's CPU time stolen by the hypervisor (0..1; NaN when unknown)."""
        return self.steal_s / self.machine_total_s if self.machine_total_s > 0 else NAN


def read(processes: ProcessTimes, clock: Callable[[], float] = time.perf_counter,
         stat_path: Path | None = None) -> CpuReading:
    """Read the clock, the processes' CPU time and the machine's CPU times, in that order."""
    t = clock()
    return CpuReading(t, processes.read(), read_machine(stat_path))


def window(a: CpuReading, b: CpuReading) -> CpuWindow:
    """What happened between readings ``a`` and ``b``."""
    return CpuWindow(
        wall_s=b.t_s - a.t_s,
        process_s=b.process_s - a.process_s,
        machine_busy_s=b.machine.busy_s - a.machine.busy_s,
        machine_total_s=b.machine.total_s - a.machine.total_s,
        steal_s=b.machine.steal_s - a.machine.steal_s,
    )
