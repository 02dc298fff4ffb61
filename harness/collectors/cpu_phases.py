"""CPU time, hardware counters and contention of the timed window's phases, read at their edges.

The one place where the worker reads CPU figures at window edges. An engine's
timed window alternates phases (``train`` segments, one ``eval`` pass after
each epoch); :meth:`WindowMeter.enter` closes the phase in force and opens the
next, taking one reading at the edge: this process's CPU clock (user + system,
every thread, ns), the machine's ``/proc/stat`` and, where the kernel allows,
user-space instructions and cycles (:mod:`harness.collectors.perf`). A
phase's figures are the sums of its segments' differences; nothing is sampled
or integrated. The CPU time of the harness's own measurement threads (the
collectors' sampler, :data:`MEASUREMENT_THREADS`) is read from their thread
clocks and left out: it grows with wall time, so keeping it would carry the
wall clock's noise into the CPU figures.

Contention is what the machine did besides the measured process(es) during
the train segments: ``other_cpu_share`` = (machine busy − process CPU) /
machine CPU capacity, and ``steal_share`` = steal / capacity, capacity being the
``/proc/stat`` total (idle and steal included) over the same segments. A row is
``contended`` when either reaches its limit below.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.collectors import cpu_clocks
from harness.collectors.perf import PerfCounters, PerfReading

NAN = math.nan
OTHER_SHARE_LIMIT = 0.10  # other processes used >= 10 % of the machine's CPU capacity
STEAL_SHARE_LIMIT = 0.02  # the hypervisor took >= 2 % of it
PHASES = ("compile", "train", "eval", "host")  # the engines' phases; train and eval are reported
MEASUREMENT_THREADS = ("harness-sampler",)  # thread-name prefixes whose CPU time is not the workload's


def measurement_threads_s() -> float:
    """CPU seconds so far of this process's live measurement threads (their pthread CPU clocks)."""
    total = 0.0
    for t in threading.enumerate():
        if t.ident is not None and t.is_alive() and t.name.startswith(MEASUREMENT_THREADS):
            with contextlib.suppress(OSError, AttributeError):  # ended meanwhile, or no thread clocks here
                total += time.clock_gettime(time.pthread_getcpuclockid(t.ident))
    return total


@dataclass
class PhaseTotals:
    """Sums over a phase's segments (seconds, counts)."""

    wall_s: float = 0.0
    process_s: float = 0.0  # the workload: the processes' CPU time minus the measurement threads'
    harness_s: float = 0.0  # the measurement threads' CPU time
    machine_busy_s: float = 0.0
    machine_total_s: float = 0.0
    steal_s: float = 0.0
    instructions: float = 0.0
    cycles: float = 0.0
    segments: int = 0

    def add(self, a: Edge, b: Edge) -> None:
        w = cpu_clocks.window(a.cpu, b.cpu)
        own = b.harness_s - a.harness_s
        self.wall_s += w.wall_s
        self.process_s += w.process_s - own
        self.harness_s += own
        self.machine_busy_s += w.machine_busy_s
        self.machine_total_s += w.machine_total_s
        self.steal_s += w.steal_s
        self.instructions += b.perf.instructions - a.perf.instructions
        self.cycles += b.perf.cycles - a.perf.cycles
        self.segments += 1


@dataclass(frozen=True)
class Edge:
    cpu: cpu_clocks.CpuReading
    perf: PerfReading
    harness_s: float = 0.0


class WindowMeter:
    """Per-phase CPU figures of the processes ``pids`` (default: this one)."""

    def __init__(self, pids: tuple[int, ...] = (), counters: PerfCounters | None = None,
                 clock: Callable[[], float] = time.perf_counter, stat_path: Path | None = None) -> None:
        self.processes = cpu_clocks.ProcessTimes(pids)
        self.own_process = self.processes.pids == (os.getpid(),)
        self.counters = counters
        self.clock, self.stat_path = clock, stat_path
        self.totals = {p: PhaseTotals() for p in PHASES}
        self.phase: str | None = None
        self._edge: Edge | None = None

    def enter(self, phase: str | None) -> None:
        """Close the phase in force (if any) and open ``phase`` (None: the window is over)."""
        if phase is not None and phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}; known: {PHASES}")
        if self.phase is None and phase is None:
            return
        if self.counters is None and phase is not None:
            self.counters = PerfCounters().open()  # lazily: threads started since count
        own = measurement_threads_s() if self.own_process else 0.0
        edge = Edge(cpu_clocks.read(self.processes, self.clock, self.stat_path),
                    self.counters.read() if self.counters is not None else PerfReading(), own)
        if self.phase is not None and self._edge is not None:
            self.totals[self.phase].add(self._edge, edge)
        self.phase, self._edge = phase, edge
        if phase is None and self.counters is not None:
            self.counters.close()

    def columns(self, steps: int, eval_passes: int) -> dict[str, Any]:
        """The cases-row columns (see ``CPU_TIME`` in :mod:`harness.schema`)."""
        return {**cpu_columns(self.totals, steps, eval_passes, self.processes.source),
                **counter_columns(self.totals["train"], steps, self.counters),
                **contention_columns(self.totals["train"])}


def _per(total: float, n: int, scale: float = 1.0) -> float:
    return total * scale / n if n and math.isfinite(total) else NAN


def cpu_columns(totals: dict[str, PhaseTotals], steps: int, eval_passes: int, source: str) -> dict[str, Any]:
    train, ev = totals["train"], totals["eval"]
    train_s = train.process_s if train.segments else NAN
    eval_s = ev.process_s if ev.segments else NAN
    return {
        "train_cpu_s": train_s, "eval_cpu_s": eval_s,
        "cpu_ms_per_update": _per(train_s, steps, 1e3),
        "eval_cpu_ms_per_pass": _per(eval_s, eval_passes, 1e3),
        "train_cpu_cores": train_s / train.wall_s if train.wall_s > 0 else NAN,
        "cpu_time_source": source if train.segments and math.isfinite(train_s) else "unavailable",
    }


def counter_columns(train: PhaseTotals, steps: int, counters: PerfCounters | None) -> dict[str, Any]:
    ok = counters is not None and counters.source == "perf_event" and train.segments
    if not ok:
        reason = counters.reason if counters is not None else "no timed window"
        return {"train_instructions": NAN, "train_cycles": NAN, "instructions_per_update": NAN,
                "hw_counter_source": "unavailable", "hw_counter_reason": reason}
    return {"train_instructions": train.instructions, "train_cycles": train.cycles,
            "instructions_per_update": _per(train.instructions, steps),
            "hw_counter_source": "perf_event", "hw_counter_reason": None}


def contention_columns(train: PhaseTotals) -> dict[str, Any]:
    """``other_cpu_share``, ``steal_share``, ``contended`` of the train segments (NaN/NA when unknown)."""
    cap = train.machine_total_s
    if not (train.segments and math.isfinite(cap) and cap > 0):
        return {"other_cpu_share": NAN, "steal_share": NAN, "contended": None, "contention_source": "unavailable"}
    other = max(0.0, train.machine_busy_s - train.process_s - train.harness_s) / cap
    steal = max(0.0, train.steal_s) / cap
    return {"other_cpu_share": other, "steal_share": steal,
            "contended": bool(other >= OTHER_SHARE_LIMIT or steal >= STEAL_SHARE_LIMIT),
            "contention_source": "proc_stat"}
