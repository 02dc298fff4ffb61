"""Window-edge CPU time, hardware counters and contention (issue 17).

The kernel is faked only at its boundaries: a ``/proc/stat`` rewritten in place
(``HARNESS_PROC_STAT``) and the ``perf_event_open`` syscall (a fake
:class:`~harness.collectors.perf.Syscalls`); the process clocks are real.
"""

from __future__ import annotations

import errno
import math
import os
import struct
import subprocess
import sys
import time

import pytest

from harness.collectors import cpu_clocks, perf
from harness.collectors.cpu_phases import WindowMeter, contention_columns

HZ = os.sysconf("SC_CLK_TCK")


def _write_stat(path, user, system, idle, steal=0):
    line = f"cpu  {user} 0 {system} {idle} 0 0 0 {steal} 0 0\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:  # in place, fixed width, as procfs presents it
        os.pwrite(fd, line.ljust(120).encode() + b"\ncpu0 1 2 3 4\n", 0)
    finally:
        os.close(fd)


class FakePerf(perf.Syscalls):
    """The syscall boundary: counters that advance by a fixed amount per read, or a refusal."""

    def __init__(self, refuse: int | None = None, running_share: float = 1.0, fail_read: bool = False):
        self.refuse, self.share, self.fail_read = refuse, running_share, fail_read
        self.opened: list[tuple[bytes, int]] = []
        self.closed: list[int] = []
        self.reads = 0

    def perf_event_open(self, attr, tid, cpu=-1, group_fd=-1):
        if self.refuse is not None:
            raise OSError(self.refuse, os.strerror(self.refuse))
        self.opened.append((attr, tid))
        return 1000 + len(self.opened)

    def read(self, fd):
        if self.fail_read:
            raise OSError(errno.EIO, "I/O error")
        self.reads += 1
        enabled = 1000 * self.reads
        return struct.pack("QQQ", 100 * self.reads, enabled, int(enabled * self.share))

    def close(self, fd):
        self.closed.append(fd)


def _busy(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_attr_layout_and_multiplex_scaling():
    attr = perf.build_attr(perf.EVENTS["instructions"])
    assert len(attr) == perf.ATTR_SIZE
    typ, size, config = struct.unpack_from("IIQ", attr, 0)
    assert (typ, size, config) == (perf.PERF_TYPE_HARDWARE, perf.ATTR_SIZE, 1)
    flags = struct.unpack_from("Q", attr, 40)[0]
    assert flags & (1 << 5) and flags & (1 << 1) and not flags & 1  # user-space, inherit, counting
    assert perf.parse_value(struct.pack("QQQ", 500, 10, 10)) == 500.0
    assert perf.parse_value(struct.pack("QQQ", 500, 10, 5)) == 1000.0  # half the time on the PMU
    assert math.isnan(perf.parse_value(struct.pack("QQQ", 0, 10, 0)))  # enabled, never scheduled


def test_counters_sum_over_threads_and_close():
    fake = FakePerf()
    c = perf.PerfCounters(fake).open()
    assert c.source == "perf_event" and c.reason == ""
    tids = {tid for _, tid in fake.opened}
    assert os.getpid() in tids and len(fake.opened) == 2 * len(tids)  # instructions and cycles per thread
    r = c.read()
    assert r.instructions > 0 and r.cycles > 0
    c.close()
    assert sorted(fake.closed) == sorted(1000 + i for i in range(1, len(fake.opened) + 1))


@pytest.mark.parametrize("code, words", [(errno.ENOENT, "ENOENT"), (errno.EACCES, "perf_event_paranoid"),
                                         (errno.EOPNOTSUPP, "not supported")])
def test_refused_counters_are_nan_with_the_reason(code, words):
    c = perf.PerfCounters(FakePerf(refuse=code)).open()
    assert c.source == "unavailable" and words in c.reason and "instructions" in c.reason
    r = c.read()
    assert math.isnan(r.instructions) and math.isnan(r.cycles)


def test_meter_with_fake_counters_gives_instructions_per_update():
    meter = WindowMeter(counters=perf.PerfCounters(FakePerf(running_share=0.5)).open())
    meter.enter("train")
    meter.enter(None)
    cols = meter.columns(steps=10, eval_passes=0)
    assert cols["hw_counter_source"] == "perf_event" and cols["hw_counter_reason"] is None
    assert cols["train_instructions"] > 0 and cols["instructions_per_update"] == cols["train_instructions"] / 10
    bad = WindowMeter(counters=perf.PerfCounters(FakePerf(fail_read=True)).open())
    bad.enter("train")
    bad.enter(None)
    cols = bad.columns(10, 0)
    assert cols["hw_counter_source"] == "unavailable" and "reading the counters failed" in cols["hw_counter_reason"]
    assert math.isnan(cols["train_instructions"])


def test_this_machine_either_counts_or_says_why():
    c = perf.PerfCounters().open()
    r = c.read()
    if c.source == "perf_event":
        _busy(0.02)
        assert c.read().instructions > r.instructions
    else:
        assert c.reason.startswith("perf_event_open(") and math.isnan(r.instructions)
    c.close()


def test_phases_sum_their_segments_and_exclude_the_gaps():
    meter = WindowMeter(counters=perf.PerfCounters.unavailable("test"))
    meter.enter("train")
    _busy(0.05)
    meter.enter(None)  # an epoch mark: not counted
    _busy(0.05)
    meter.enter("eval")
    _busy(0.02)
    meter.enter("train")
    _busy(0.05)
    meter.enter(None)
    cols = meter.columns(steps=4, eval_passes=1)
    assert cols["cpu_time_source"] == "process_clock"
    assert 0.1 <= cols["train_cpu_s"] < 0.14, cols  # two 50 ms segments; the 50 ms gap is excluded
    assert 0.02 <= cols["eval_cpu_s"] < 0.04
    assert cols["cpu_ms_per_update"] == pytest.approx(cols["train_cpu_s"] * 1000 / 4)
    assert cols["eval_cpu_ms_per_pass"] == pytest.approx(cols["eval_cpu_s"] * 1000)
    assert 0 < cols["train_cpu_cores"] <= os.cpu_count()
    assert cols["hw_counter_reason"] == "test"
    with pytest.raises(ValueError, match="unknown phase 'warmup'"):
        meter.enter("warmup")


def test_no_window_is_nan_not_zero():
    cols = WindowMeter(counters=perf.PerfCounters.unavailable("x")).columns(0, 0)
    assert math.isnan(cols["train_cpu_s"]) and math.isnan(cols["cpu_ms_per_update"])
    assert cols["cpu_time_source"] == "unavailable" and cols["contended"] is None


def test_contention_from_a_fake_proc_stat(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    monkeypatch.setenv("HARNESS_PROC_STAT", str(stat))
    _write_stat(stat, 1000, 500, 8000)
    meter = WindowMeter(counters=perf.PerfCounters.unavailable("x"), clock=iter([0.0, 2.0]).__next__)
    meter.enter("train")
    # 2 s on 2 CPUs = 4 CPU-s of capacity: 2.2 busy (this process used ~0), 0.2 stolen
    _write_stat(stat, 1000 + 2 * HZ, 500 + HZ // 5, 8000 + 8 * HZ // 5, steal=HZ // 5)
    meter.enter(None)
    cols = meter.columns(1, 0)
    assert cols["contention_source"] == "proc_stat"
    assert cols["other_cpu_share"] == pytest.approx(2.2 / 4.0, abs=0.01)
    assert cols["steal_share"] == pytest.approx(0.05)
    assert cols["contended"] is True


def test_quiet_window_is_not_contended():
    from harness.collectors.cpu_phases import PhaseTotals

    quiet = PhaseTotals(wall_s=1, process_s=0.9, machine_busy_s=0.95, machine_total_s=2.0, segments=1)
    cols = contention_columns(quiet)
    assert cols["other_cpu_share"] == pytest.approx(0.025) and cols["contended"] is False
    stolen = PhaseTotals(wall_s=1, process_s=0.9, machine_busy_s=0.9, machine_total_s=2.0, steal_s=0.1, segments=1)
    assert contention_columns(stolen)["contended"] is True  # 5 % stolen


def test_unreadable_proc_stat_leaves_cpu_time_and_says_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_PROC_STAT", str(tmp_path / "missing"))
    meter = WindowMeter(counters=perf.PerfCounters.unavailable("x"))
    meter.enter("train")
    _busy(0.01)
    meter.enter(None)
    cols = meter.columns(1, 0)
    assert cols["train_cpu_s"] > 0 and cols["contention_source"] == "unavailable"
    assert math.isnan(cols["other_cpu_share"]) and cols["contended"] is None


def test_a_real_hog_shows_as_other_processes():
    hog = subprocess.Popen([sys.executable, "-c", "import time\nt=time.time()\nwhile time.time()-t<0.6: pass"])
    try:
        time.sleep(0.1)
        meter = WindowMeter(counters=perf.PerfCounters.unavailable("x"))
        meter.enter("train")
        time.sleep(0.4)  # this process idles while the hog burns a CPU
        meter.enter(None)
    finally:
        hog.wait()
    cols = meter.columns(1, 0)
    assert cols["train_cpu_s"] < 0.05
    assert cols["other_cpu_share"] >= 0.3 / os.cpu_count(), cols  # a whole CPU of the machine, minus slack
    assert cols["contended"] is True


def test_other_process_clock_is_exact_and_survives_exit():
    child = subprocess.Popen([sys.executable, "-c", "import sys, time\nt=time.thread_time()\n"
                              "while time.thread_time()-t<0.3: pass\nprint(flush=True)\nsys.stdin.read()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    procs = cpu_clocks.ProcessTimes([child.pid])
    assert procs.source == "process_clock"
    child.stdout.readline()  # the child has burnt its 0.3 s and now waits
    busy = procs.read()
    child.stdin.close()
    child.wait()
    assert 0.3 <= busy < 1.0
    assert procs.read() >= busy  # reaped: the last figure stands, never NaN or 0
    child.stdout.close()


def test_the_collectors_sampler_thread_is_not_the_workload():
    import threading

    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            _busy(0.005)

    t = threading.Thread(target=sampler, name="harness-sampler")
    t.start()
    try:
        meter = WindowMeter(counters=perf.PerfCounters.unavailable("x"))
        meter.enter("train")
        _busy(0.05)
        time.sleep(0.1)  # the sampler keeps burning while the workload waits
        meter.enter(None)
    finally:
        stop.set()
        t.join()
    train = meter.totals["train"]
    assert train.harness_s > 0.03, train
    assert 0.045 <= train.process_s < 0.08, train  # the workload's 50 ms, the sampler's time left out
