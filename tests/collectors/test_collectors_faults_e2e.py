"""A counter reset during a real case: real TensorFlow training through the worker's ``execute``,
its collectors reading a fake powercap tree that a thread advances at 55 W in real time."""

from __future__ import annotations

import math
import threading
import time

import pytest

from harness.collectors import CollectorConfig
from harness.runner.worker.execute import WorkerState, execute
from harness.suite import parse_suite
from tests.helpers.collectors_fakes import FakePowercap

pytestmark = pytest.mark.slow

SUITE = """
[suite]
name = "reset"
[defaults]
dataset = { name = "synthetic", n_train = 2048, n_test = 256 }
epochs = 3
batch_size = 64
learning_rate = 0.01
engine = "fast"
"""
WATTS = 55.0


class Feeder(threading.Thread):
    """Writes 55 W x elapsed time into the zone every ~1 ms; with ``reset_every_s``, restarts it at 0."""

    def __init__(self, pc: FakePowercap, reset_every_s: float | None) -> None:
        super().__init__(daemon=True)
        self.pc, self.reset_every_s, self.stop = pc, reset_every_s, threading.Event()

    def run(self) -> None:
        t0 = base = time.perf_counter()
        while not self.stop.wait(0.001):
            now = time.perf_counter()
            if self.reset_every_s and now - base > self.reset_every_s:
                base = now
            self.pc.set_uj("intel-rapl:0", 3_000_000_000 + round(WATTS * (now - base) * 1e6) if base == t0
                           else round(WATTS * (now - base) * 1e6))


def _case(powercap, reset_every_s):
    powercap.zone("intel-rapl:0", "package-0", start_uj=3_000_000_000)
    feeder = Feeder(powercap, reset_every_s)
    feeder.start()
    try:
        state = WorkerState(run_id="t", collector_config=CollectorConfig(names=("rapl",), sample_period_s=0.05))
        return execute(parse_suite(SUITE).cases[0], 0, state).case
    finally:
        feeder.stop.set()
        feeder.join()


def test_a_reset_during_a_real_case_is_nan_with_its_reason(powercap):
    row = _case(powercap, reset_every_s=0.2)
    assert row["status"] == "ok", row.get("error")
    assert row["cpu_energy_source"] == "rapl" and math.isnan(row["cpu_energy_j"])
    assert "counter reset at t = " in row["cpu_energy_reason"], row["cpu_energy_reason"]
    assert math.isnan(row["energy_j"]) and row["energy_source"] == "unavailable"
    assert math.isnan(row["cpu_power_mean_w"])


def test_the_same_case_without_a_reset_is_measured(powercap):
    row = _case(powercap, reset_every_s=None)
    assert row["status"] == "ok", row.get("error")
    assert row["cpu_energy_source"] == "rapl" and row["cpu_energy_reason"] == "", row["cpu_energy_reason"]
    # the counter is 55 W x real time, however late the feeder thread runs: only its staleness (ms) is error
    assert row["cpu_power_mean_w"] == pytest.approx(WATTS, rel=0.1)
