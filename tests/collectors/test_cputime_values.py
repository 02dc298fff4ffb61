"""CPU-time window arithmetic with literal values: every /proc/stat column in its place, the
shares at their boundaries (nothing else ran: exactly 1; never above 1; no busy time: NaN)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from harness.collectors import cpu_clocks as cputime

HZ = cputime._ticks_per_s()


def machine(line: str) -> cputime.MachineTimes:
    return cputime.parse_first_line(line.encode(), Path("stat"))


def test_every_column_in_its_place():
    # user nice system idle iowait irq softirq steal guest guest_nice
    m = machine(f"cpu  {1 * HZ:.0f} {2 * HZ:.0f} {3 * HZ:.0f} {4 * HZ:.0f} {5 * HZ:.0f} {6 * HZ:.0f} "
                f"{7 * HZ:.0f} {8 * HZ:.0f} 90 90")
    assert (m.user_s, m.nice_s, m.system_s, m.idle_s, m.iowait_s, m.irq_s, m.softirq_s, m.steal_s) == (
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0)
    assert m.busy_s == 19.0  # 1 + 2 + 3 + 6 + 7 (user, nice, system, irq, softirq)
    assert m.total_s == 36.0  # busy + idle 4 + iowait 5 + steal 8 (guest time is inside user)


def test_old_kernel_with_four_columns_pads_with_zero():
    m = machine(f"cpu {2 * HZ:.0f} 0 {HZ:.0f} {HZ:.0f}")
    assert (m.busy_s, m.total_s, m.steal_s, m.iowait_s) == (3.0, 4.0, 0.0, 0.0)


@pytest.mark.parametrize("line", ["cpu0 1 2 3 4", "", "cpu a b c d", "intr 1 2"])
def test_not_the_aggregate_line_is_nan(line):
    m = machine(line)
    assert math.isnan(m.busy_s) and math.isnan(m.total_s) and math.isnan(m.steal_s)


def reading(t, proc, user, system, idle, steal=0.0):
    return cputime.CpuReading(t, proc, cputime.MachineTimes(user, 0.0, system, idle, 0.0, 0.0, 0.0, steal))


def test_window_differences_and_shares_by_hand():
    a = reading(10.0, 1.0, 100.0, 50.0, 800.0, steal=5.0)
    b = reading(12.5, 3.0, 103.0, 51.0, 801.0, steal=6.0)
    w = cputime.window(a, b)
    assert (w.wall_s, w.process_s, w.machine_busy_s, w.machine_total_s, w.steal_s) == (2.5, 2.0, 4.0, 6.0, 1.0)
    assert w.benchmark_share == 0.5  # 2 of 4 busy CPU-seconds
    assert w.steal_share == pytest.approx(1 / 6)


def test_share_boundaries():
    alone = cputime.CpuWindow(1.0, 4.0, 4.0, 8.0, 0.0)
    assert alone.benchmark_share == 1.0  # nothing else ran
    assert cputime.CpuWindow(1.0, 4.1, 4.0, 8.0, 0.0).benchmark_share == 1.0  # ticks apart: capped
    assert math.isnan(cputime.CpuWindow(1.0, 1.0, 0.0, 8.0, 0.0).benchmark_share)  # never busy
    assert math.isnan(cputime.CpuWindow(1.0, math.nan, 4.0, 8.0, 0.0).benchmark_share)
    assert math.isnan(cputime.CpuWindow(1.0, 1.0, 4.0, 0.0, 0.0).steal_share)
    assert cputime.CpuWindow(1.0, 1.0, 4.0, 8.0, 8.0).steal_share == 1.0


def test_bad_lines_are_named_in_the_log(caplog):
    caplog.set_level("WARNING", logger=cputime.log.name)
    assert math.isnan(machine("cpu0 1 2 3 4").busy_s)
    assert math.isnan(cputime.parse_first_line(b"cpu \xff 2 3 4", Path("stat")).busy_s)  # undecodable: NaN
    assert [r.getMessage() for r in caplog.records] == [
        "stat: first line is not the aggregate 'cpu' line: 'cpu0 1 2 3 4'",
        "stat: non-numeric cpu line 'cpu \ufffd 2 3 4'"]


def test_unreadable_stat_file_is_nan_and_logged(tmp_path, caplog):
    caplog.set_level("DEBUG", logger=cputime.log.name)
    m = cputime.read_machine(tmp_path / "missing")
    assert math.isnan(m.busy_s)
    assert caplog.records[-1].getMessage().startswith(f"cannot read {tmp_path / 'missing'}: ")
