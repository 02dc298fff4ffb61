"""WindowMeter at its edges: when it reads, opens and closes the counters, which ``/proc/stat`` it
reads, and whose measurement-thread CPU time it takes out (this process's only). The measurement
threads' CPU clocks summed over every sampler thread, and none when the clocks fail."""

from __future__ import annotations

import os
import threading
import time

import pytest

from harness.collectors import cpu_phases
from harness.collectors.perf import PerfReading


class FakeCounters:
    """Counters that record what the meter asks of them; 100 instructions, 300 cycles per read."""

    source, reason = "perf_event", None
    made: list[FakeCounters] = []

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.reads = 0
        FakeCounters.made.append(self)

    def open(self) -> FakeCounters:
        self.calls.append("open")
        return self

    def read(self) -> PerfReading:
        self.calls.append("read")
        self.reads += 1
        return PerfReading(instructions=100.0 * self.reads, cycles=300.0 * self.reads)

    def close(self) -> None:
        self.calls.append("close")


@pytest.fixture
def fake_counters(monkeypatch):
    FakeCounters.made = []
    monkeypatch.setattr(cpu_phases, "PerfCounters", FakeCounters)
    return FakeCounters.made


class Clock:
    def __init__(self, *times: float) -> None:
        self.times, self.calls = list(times), 0

    def __call__(self) -> float:
        self.calls += 1
        return self.times.pop(0)


def write_stat(path, user_ticks: int) -> None:
    path.write_text(f"cpu  {user_ticks} 0 0 1000 0 0 0 0 0 0\n")


def test_a_window_never_opened_reads_nothing(fake_counters, tmp_path):
    clock = Clock()
    m = cpu_phases.WindowMeter(clock=clock, stat_path=tmp_path / "stat")
    m.enter(None)  # closing a window that was never opened: no reading, no counters
    assert clock.calls == 0 and fake_counters == [] and m.phase is None


def test_counters_open_on_the_first_phase_and_close_at_the_end(fake_counters, tmp_path):
    stat = tmp_path / "stat"
    hz = os.sysconf("SC_CLK_TCK")
    write_stat(stat, 0)
    m = cpu_phases.WindowMeter(clock=Clock(10.0, 12.0, 13.0), stat_path=stat)
    m.enter("train")
    assert len(fake_counters) == 1 and fake_counters[0].calls == ["open", "read"]
    write_stat(stat, 2 * hz)  # 2 busy seconds in the train segment
    m.enter("eval")
    write_stat(stat, 3 * hz)  # 1 more in the eval pass
    m.enter(None)
    assert fake_counters[0].calls == ["open", "read", "read", "read", "close"] and len(fake_counters) == 1
    train, ev = m.totals["train"], m.totals["eval"]
    assert (train.wall_s, train.machine_busy_s, train.instructions, train.cycles) == (2.0, 2.0, 100.0, 300.0)
    assert (ev.wall_s, ev.machine_busy_s, ev.segments) == (1.0, 1.0, 1)
    assert m.columns(steps=4, eval_passes=1)["instructions_per_update"] == 25.0  # 100 / 4


def test_given_counters_are_not_reopened(fake_counters, tmp_path):
    given = FakeCounters()
    m = cpu_phases.WindowMeter(counters=given, clock=Clock(0.0, 1.0), stat_path=tmp_path / "stat")
    m.enter("train")
    m.enter(None)
    assert given.calls == ["read", "read", "close"] and fake_counters == [given]


def _burn(seconds: float) -> float:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return time.thread_time()


class Sampler:
    """A thread named like the harness's sampler (or not) that burns ``seconds`` of CPU, then waits."""

    def __init__(self, name: str, seconds: float) -> None:
        self.burnt = threading.Event()
        self.stop = threading.Event()
        self.cpu_s = 0.0
        self.seconds = seconds
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()
        assert self.burnt.wait(10)

    def _run(self) -> None:
        self.cpu_s = _burn(self.seconds)
        self.burnt.set()
        self.stop.wait(10)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)


@pytest.fixture
def threads():
    made: list[Sampler] = []

    def start(name: str, seconds: float) -> Sampler:
        made.append(Sampler(name, seconds))
        return made[-1]

    yield start
    for s in made:
        s.close()


def test_measurement_threads_are_summed_and_others_left_out(threads):
    assert cpu_phases.measurement_threads_s() == 0.0  # no sampler thread: exactly nothing
    a = threads("harness-sampler", 0.03)
    b = threads("harness-sampler-2", 0.03)
    threads("worker-thread", 0.05)  # not a measurement thread
    got = cpu_phases.measurement_threads_s()
    # both samplers' clocks (each >= 30 ms), not the last one alone, not the worker's 50 ms
    assert got == pytest.approx(a.cpu_s + b.cpu_s, abs=0.01) and got >= 0.06


@pytest.mark.parametrize("error", [OSError(22, "Invalid argument"), AttributeError("no thread clocks")])
def test_a_thread_clock_that_fails_counts_nothing(threads, monkeypatch, error):
    threads("harness-sampler", 0.0)

    def refuse(ident):
        raise error

    monkeypatch.setattr(time, "pthread_getcpuclockid", refuse)
    assert cpu_phases.measurement_threads_s() == 0.0


def test_another_process_is_not_charged_this_processs_sampler(threads, fake_counters, tmp_path):
    # the meter watches the parent process: the samplers burning CPU here are not its threads
    write_stat(tmp_path / "stat", 0)
    other = cpu_phases.WindowMeter(pids=(os.getppid(),), clock=Clock(0.0, 1.0), stat_path=tmp_path / "stat")
    assert other.own_process is False
    other.enter("train")
    threads("harness-sampler", 0.03)
    other.enter(None)
    assert other.totals["train"].harness_s == 0.0
    # this process's own meter takes the sampler's 30 ms out
    mine = cpu_phases.WindowMeter(clock=Clock(0.0, 1.0), stat_path=tmp_path / "stat")
    assert mine.own_process is True
    mine.enter("train")
    threads("harness-sampler-3", 0.03)
    mine.enter(None)
    assert mine.totals["train"].harness_s >= 0.03
