"""Per-phase CPU figures from hand-made window edges: sums, per-update figures, and contention
exactly at its limits (10 % other processes, 2 % steal)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from harness.collectors import cpu_clocks as cputime
from harness.collectors import cpu_phases as cpuwindow
from harness.collectors.perf import PerfReading


def edge(t, proc, busy, total, steal=0.0, harness=0.0, instr=0.0, cycles=0.0):
    idle = total - busy - steal
    m = cputime.MachineTimes(busy, 0.0, 0.0, idle, 0.0, 0.0, 0.0, steal)
    return cpuwindow.Edge(cputime.CpuReading(t, proc, m), PerfReading(instructions=instr, cycles=cycles), harness)


def totals(*segments) -> cpuwindow.PhaseTotals:
    p = cpuwindow.PhaseTotals()
    for a, b in segments:
        p.add(a, b)
    return p


def test_segments_sum_and_the_harness_threads_are_taken_out():
    p = totals((edge(0.0, 0.0, 0.0, 0.0, instr=4, cycles=2),
                edge(2.0, 3.0, 3.5, 4.0, steal=0.1, harness=0.5, instr=14, cycles=22)),
               (edge(5.0, 10.0, 10.0, 10.0, harness=1.0), edge(6.0, 11.5, 12.0, 12.0, harness=1.25, instr=5)))
    assert p.segments == 2
    assert p.wall_s == 3.0  # 2 + 1; the gap 2..5 is not in
    assert p.process_s == pytest.approx(2.5 + 1.25)  # (3 - 0.5) + (1.5 - 0.25)
    assert p.harness_s == pytest.approx(0.75)
    assert p.machine_busy_s == pytest.approx(5.5) and p.machine_total_s == pytest.approx(6.0)
    assert p.steal_s == pytest.approx(0.1)
    assert (p.instructions, p.cycles) == (15.0, 20.0)


def test_cpu_columns_by_hand():
    train = totals((edge(0.0, 0.0, 0.0, 0.0), edge(2.0, 3.0, 4.0, 4.0)))
    ev = totals((edge(0.0, 0.0, 0.0, 0.0), edge(1.0, 0.5, 1.0, 2.0)))
    cols = cpuwindow.cpu_columns({"train": train, "eval": ev}, steps=6, eval_passes=2, source="process_clock")
    assert cols == {"train_cpu_s": 3.0, "eval_cpu_s": 0.5, "cpu_ms_per_update": 500.0,
                    "eval_cpu_ms_per_pass": 250.0, "train_cpu_cores": 1.5, "cpu_time_source": "process_clock"}
    none = cpuwindow.cpu_columns({"train": cpuwindow.PhaseTotals(), "eval": cpuwindow.PhaseTotals()}, 6, 2, "x")
    assert math.isnan(none["train_cpu_s"]) and math.isnan(none["cpu_ms_per_update"])
    assert math.isnan(none["train_cpu_cores"]) and none["cpu_time_source"] == "unavailable"
    assert math.isnan(none["eval_cpu_s"]) and math.isnan(none["eval_cpu_ms_per_pass"])
    unread = cpuwindow.PhaseTotals(wall_s=1.0, process_s=math.nan, segments=1)  # segments but no CPU time
    assert cpuwindow.cpu_columns({"train": unread, "eval": ev}, 6, 2, "x")["cpu_time_source"] == "unavailable"
    zero = cpuwindow.cpu_columns({"train": train, "eval": ev}, steps=0, eval_passes=0, source="x")
    assert math.isnan(zero["cpu_ms_per_update"]) and math.isnan(zero["eval_cpu_ms_per_pass"])


def test_counter_columns_by_hand():
    train = totals((edge(0, 0, 0, 0), edge(1, 1, 1, 1, instr=3000.0, cycles=6000.0)))
    ok = SimpleNamespace(source="perf_event", reason=None)
    assert cpuwindow.counter_columns(train, 10, ok) == {
        "train_instructions": 3000.0, "train_cycles": 6000.0, "instructions_per_update": 300.0,
        "hw_counter_source": "perf_event", "hw_counter_reason": None}
    refused = cpuwindow.counter_columns(train, 10, SimpleNamespace(source="unavailable", reason="paranoid 3"))
    assert refused["hw_counter_source"] == "unavailable" and refused["hw_counter_reason"] == "paranoid 3"
    assert math.isnan(refused["instructions_per_update"])
    assert cpuwindow.counter_columns(train, 10, None)["hw_counter_reason"] == "no timed window"
    assert set(refused) == {"train_instructions", "train_cycles", "instructions_per_update", "hw_counter_source",
                            "hw_counter_reason"}


def contention(busy, process, harness, total, steal):
    p = cpuwindow.PhaseTotals(wall_s=1.0, process_s=process, harness_s=harness, machine_busy_s=busy,
                              machine_total_s=total, steal_s=steal, segments=1)
    return cpuwindow.contention_columns(p)


def test_contention_exactly_at_its_limits():
    # other = (busy - process - harness) / total
    c = contention(busy=4.5, process=3.0, harness=0.5, total=10.0, steal=0.0)
    assert (c["other_cpu_share"], c["contended"], c["contention_source"]) == (0.1, True, "proc_stat")
    c = contention(busy=4.25, process=3.0, harness=0.5, total=10.0, steal=0.0)
    assert (c["other_cpu_share"], c["contended"]) == (0.075, False)
    c = contention(busy=3.5, process=3.0, harness=0.5, total=10.0, steal=0.25)  # 2.5 % steal
    assert (c["steal_share"], c["contended"]) == (0.025, True)
    c = contention(busy=3.5, process=3.0, harness=0.5, total=16.0, steal=0.25)  # 1.5625 %
    assert (c["steal_share"], c["contended"]) == (0.015625, False)
    c = contention(busy=3.0, process=3.0, harness=0.5, total=8.0, steal=-1.0)  # counters ticked apart
    assert (c["other_cpu_share"], c["steal_share"], c["contended"]) == (0.0, 0.0, False)
    assert cpuwindow.OTHER_SHARE_LIMIT == 0.10 and cpuwindow.STEAL_SHARE_LIMIT == 0.02


def test_steal_exactly_two_percent_is_contended():
    c = contention(busy=3.5, process=3.0, harness=0.5, total=50.0, steal=1.0)
    assert c["steal_share"] == 0.02 and c["contended"] is True


def test_no_capacity_is_unknown_not_zero():
    c = contention(busy=1.0, process=1.0, harness=0.0, total=0.0, steal=0.0)
    assert math.isnan(c["other_cpu_share"]) and c["contended"] is None
    assert c["contention_source"] == "unavailable"
    assert set(c) == {"other_cpu_share", "steal_share", "contended", "contention_source"}
    assert contention(1.0, 1.0, 0.0, math.nan, 0.0)["contention_source"] == "unavailable"
