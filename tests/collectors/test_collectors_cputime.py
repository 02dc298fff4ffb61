"""The shared window-edge CPU time helper: a fake /proc/stat rewritten in place, real processes."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time

import pytest

from harness.collectors import cpu_clocks

HZ = os.sysconf("SC_CLK_TCK")


def _write_stat(path, user, system, idle, steal=0, nice=0, iowait=0, irq=0, softirq=0):
    line = f"cpu  {user} {nice} {system} {idle} {iowait} {irq} {softirq} {steal} 0 0\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:  # in place, fixed width, as procfs presents it
        os.pwrite(fd, line.ljust(120).encode() + b"\ncpu0 1 2 3 4\n", 0)
    finally:
        os.close(fd)


@pytest.fixture
def stat(tmp_path, monkeypatch):
    path = tmp_path / "stat"
    monkeypatch.setenv("HARNESS_PROC_STAT", str(path))
    _write_stat(path, 1000, 500, 8000, steal=10)
    return path


def test_machine_times_and_share(stat):
    procs = cpu_clocks.ProcessTimes()
    a = cpu_clocks.read(procs, clock=lambda: 10.0)
    assert a.machine.busy_s == pytest.approx(1500 / HZ)
    assert a.machine.total_s == pytest.approx(9510 / HZ)
    # 2 s of wall on a 2-CPU machine: 3 CPU-s busy, 0.5 s stolen; this process burns a little
    _write_stat(stat, 1000 + 2 * HZ, 500 + HZ, 8000 + HZ // 2, steal=10 + HZ // 2)
    b = cpu_clocks.read(procs, clock=lambda: 12.0)
    w = cpu_clocks.window(a, b)
    assert w.wall_s == 2.0
    assert w.machine_busy_s == pytest.approx(3.0)
    assert w.steal_s == pytest.approx(0.5)
    assert w.steal_share == pytest.approx(0.5 / 4.0)
    assert w.process_s >= 0
    assert w.benchmark_share == pytest.approx(w.process_s / 3.0)


def test_share_of_a_real_busy_process_against_the_real_machine(monkeypatch):
    monkeypatch.delenv("HARNESS_PROC_STAT", raising=False)
    child = subprocess.Popen([sys.executable, "-c", "import time\nt=time.time()\nwhile time.time()-t<0.6: pass"])
    procs = cpu_clocks.ProcessTimes([child.pid])
    a = cpu_clocks.read(procs)
    while child.poll() is None:
        b = cpu_clocks.read(procs)
        time.sleep(0.05)
    after = cpu_clocks.read(procs)  # reaped: its last reading stands, never NaN or 0
    assert after.process_s == b.process_s
    w = cpu_clocks.window(a, b)
    assert w.process_s > 0.05, w  # the 2-core machine is shared: the child gets what it gets
    assert 0 < w.benchmark_share <= 1.0
    assert w.machine_busy_s >= w.process_s * 0.5  # the machine's count includes the child's work


def test_unreadable_stat_gives_nan(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_PROC_STAT", str(tmp_path / "missing"))
    w = cpu_clocks.window(cpu_clocks.read(cpu_clocks.ProcessTimes()), cpu_clocks.read(cpu_clocks.ProcessTimes()))
    assert math.isnan(w.machine_busy_s) and math.isnan(w.benchmark_share) and math.isnan(w.steal_share)
    (tmp_path / "missing").write_text("intr 1 2 3\n")
    assert math.isnan(cpu_clocks.read_machine().busy_s)
    assert math.isnan(cpu_clocks.MachineReader().read().busy_s)


def test_reader_kept_open_sees_in_place_rewrites(stat):
    reader = cpu_clocks.MachineReader()
    a = reader.read()
    _write_stat(stat, 1000 + HZ, 500, 8000)
    assert reader.read().busy_s - a.busy_s == pytest.approx(1.0)
    reader.close()


def test_vanished_process_is_nan_not_zero():
    procs = cpu_clocks.ProcessTimes([2**22 + 12345])  # no such pid
    assert math.isnan(procs.read())
