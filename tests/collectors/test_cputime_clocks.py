"""The CPU clocks behind the window edges, pinned: another process's kernel clock id (the parent
process, read without spawning one), the platform refusal, the psutil fallback's sum, the tick
rate and its fallback, the kept-open /proc/stat reader's first line, and the log lines that name
the file or process that could not be read."""

from __future__ import annotations

import errno
import math
import os
import sys
import time
from types import SimpleNamespace

import psutil
import pytest

from harness.collectors import cpu_clocks


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("HARNESS_PROC_STAT", raising=False)


def test_tick_rate_and_its_fallback(monkeypatch):
    real = os.sysconf

    def sysconf(name):
        if name == "SC_CLK_TCK":
            return 250
        return real(name)

    monkeypatch.setattr(os, "sysconf", sysconf)
    assert cpu_clocks._ticks_per_s() == 250.0
    for error in (ValueError("unknown name"), OSError(errno.EINVAL, "bad"), AttributeError("no sysconf")):
        def refuse(name, error=error):
            raise error

        monkeypatch.setattr(os, "sysconf", refuse)
        assert cpu_clocks._ticks_per_s() == 100.0  # Linux's USER_HZ


def test_another_processs_kernel_clock():
    parent = os.getppid()
    t = psutil.Process(parent).cpu_times()
    got = cpu_clocks.process_clock_s(parent)
    # the same CPU time psutil counts in 10 ms ticks (the parent waits on us meanwhile)
    assert got == pytest.approx(t.user + t.system, abs=0.05)
    procs = cpu_clocks.ProcessTimes([parent])
    assert procs.source == "process_clock"
    r = procs.read()
    assert r == pytest.approx(got, abs=0.05) and procs.per_process() == {parent: r}


def test_other_processes_clocks_are_linux_only(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(OSError) as err:
        cpu_clocks.process_clock_s(os.getppid())
    assert err.value.errno == errno.ENOTSUP
    assert err.value.strerror == "per-process CPU clocks of other processes are Linux-only"
    assert cpu_clocks.process_clock_s(os.getpid()) > 0  # this process's own clock: any platform


def test_psutil_fallback_sums_user_and_system(monkeypatch):
    def no_clock(pid):
        raise OSError(errno.ENOTSUP, "no clocks")

    monkeypatch.setattr(cpu_clocks, "process_clock_s", no_clock)
    procs = cpu_clocks.ProcessTimes()
    assert procs.source == "proc_pid_stat"
    pid = os.getpid()
    procs._procs[pid] = SimpleNamespace(cpu_times=lambda: SimpleNamespace(user=1.5, system=0.25))
    assert procs.read() == 1.75  # 1.5 user + 0.25 system
    assert procs.per_process() == {pid: 1.75}
    copy = procs.per_process()
    copy[pid] = 0.0
    assert procs.per_process() == {pid: 1.75}  # a copy, not the object's own


def test_the_clock_source_reads_the_clock_not_psutil():
    procs = cpu_clocks.ProcessTimes()
    assert procs.source == "process_clock"
    pid = os.getpid()
    procs._procs[pid] = SimpleNamespace(cpu_times=lambda: SimpleNamespace(user=1000.0, system=1000.0))
    before = time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)
    got = procs.read()
    assert before <= got <= time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)


def test_a_process_that_cannot_be_measured_is_named(caplog):
    pid = 2**22 + 12345  # above any pid_max
    try:
        psutil.Process(pid)
    except psutil.Error as exc:
        why = str(exc)
    caplog.set_level("WARNING", logger=cpu_clocks.log.name)
    procs = cpu_clocks.ProcessTimes([pid])
    assert [r.getMessage() for r in caplog.records] == [f"process {pid} cannot be measured: {why}"]
    assert math.isnan(procs.read()) and procs.per_process() == {}


def test_read_takes_the_stat_file_given(tmp_path, no_env):
    hz = cpu_clocks._ticks_per_s()
    (tmp_path / "stat").write_text(f"cpu  {3 * hz:.0f} 0 {hz:.0f} {4 * hz:.0f} 0 0 0 0 0 0\n")
    r = cpu_clocks.read(cpu_clocks.ProcessTimes(), clock=lambda: 5.0, stat_path=tmp_path / "stat")
    assert (r.t_s, r.machine.busy_s, r.machine.total_s) == (5.0, 4.0, 8.0)


def test_unreadable_and_bad_files_are_named_in_the_log(tmp_path, caplog, no_env):
    caplog.set_level("DEBUG", logger=cpu_clocks.log.name)
    missing = tmp_path / "missing"
    cpu_clocks.read_machine(missing)
    reader = cpu_clocks.MachineReader(missing)
    assert math.isnan(reader.read().busy_s)
    why = f"[Errno 2] No such file or directory: '{missing}'"
    assert [r.getMessage() for r in caplog.records] == [f"cannot read {missing}: {why}"] * 2
    caplog.clear()
    bad = tmp_path / "bad"
    bad.write_text("intr 1 2\n")
    cpu_clocks.read_machine(bad)
    cpu_clocks.MachineReader(bad).read()
    assert [r.getMessage() for r in caplog.records] == [
        f"{bad}: first line is not the aggregate 'cpu' line: 'intr 1 2'"] * 2


def test_the_reader_parses_the_first_line_only(tmp_path):
    hz = cpu_clocks._ticks_per_s()
    path = tmp_path / "stat"
    # an old kernel's four columns, then per-CPU lines: those are not read as more columns
    path.write_text(f"cpu {2 * hz:.0f} 0 {hz:.0f} {hz:.0f}\ncpu0 5 5 5 5\nintr 7\n")
    m = cpu_clocks.MachineReader(path).read()
    assert (m.busy_s, m.total_s, m.steal_s) == (3.0, 4.0, 0.0)


def test_the_reader_closes_and_reopens(tmp_path):
    path = tmp_path / "stat"
    path.write_text("cpu 100 0 0 100\n")
    reader = cpu_clocks.MachineReader(path)
    reader.read()
    fd = reader.fd
    assert fd is not None
    reader.close()
    assert reader.fd is None
    with pytest.raises(OSError):
        os.fstat(fd)  # really closed
    reader.close()  # twice: nothing to do
    assert math.isfinite(reader.read().busy_s)  # opens again
    reader.close()
