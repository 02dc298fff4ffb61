"""Counters that misbehave the way real ones do: each fault gives NaN (or a labelled figure) and its reason.

The powercap fake changes counters in place in the same file, as sysfs does;
the pynvml fake is a module. Each test asserts the figure AND its reason.
"""

from __future__ import annotations

import errno
import json
import math

import pytest

from harness.collectors import CollectorConfig, open_session, rapl
from tests.helpers.cli import wait_for
from tests.helpers.collectors_fakes import FakeGpu

RAPL = CollectorConfig(names=("rapl",), sample_period_s=0.1)
BOTH = CollectorConfig(names=("rapl", "nvml"), sample_period_s=0.1)
ZONE = "intel-rapl:0"


def _poll(pc, clock, s, seconds, watts=55.0, step=0.1, zone=ZONE):
    """``watts`` into the zone for ``seconds``, one poll every ``step`` s."""
    for _ in range(round(seconds / step)):
        pc.add(zone, watts * step)
        clock.advance(step)
        s.sample_now()


def _assert_nan_cpu(cols, *fragments):
    assert math.isnan(cols["cpu_energy_j"]) and math.isnan(cols["cpu_package_energy_j"])
    assert math.isnan(cols["energy_j"]) and cols["energy_source"] == "unavailable"
    assert math.isnan(cols["cpu_power_mean_w"])
    # the peak is NaN, or that of the readings before the fault: never the absurd step
    assert math.isnan(cols["cpu_power_max_w"]) or cols["cpu_power_max_w"] <= 55.0 * 1.001
    for text in fragments:
        assert text in cols["cpu_energy_reason"], cols["cpu_energy_reason"]


@pytest.mark.parametrize("max_range_uj", [2**32, 65_532_610_987, 262_143_328_850])  # 4.3 kJ, AMD, Intel
def test_a_counter_reset_is_not_counted_as_a_wrap(powercap, clock, max_range_uj):
    """The issue's case: 55 W for 1 s, the counter restarts at 0.5 s; a wrap would read 1.3-262 kJ."""
    powercap.zone(ZONE, "package-0", start_uj=3_000_000_000, max_range_uj=max_range_uj)
    s = open_session(RAPL, clock=clock, background=False)
    s.start()
    _poll(powercap, clock, s, 0.5)
    powercap.reset(ZONE, 1_000)
    _poll(powercap, clock, s, 0.5)
    s.stop()
    cols = s.case_columns(100, 1, None)
    _assert_nan_cpu(cols, "intel-rapl:0: counter reset at t = 0.600 s", "above the plausible 500 W")
    assert json.loads(cols["rapl_zones"])[ZONE]["wraps"] == 0


def test_a_real_wrap_next_to_a_reset_threshold_is_still_counted(powercap, clock):
    """The counter wraps near the top of its range: the wrapped step is plausible, so it is a wrap."""
    powercap.zone(ZONE, "package-0", start_uj=2**32 - 20_000_000)  # 20 J below the top
    s = open_session(RAPL, clock=clock, background=False)
    s.start()
    _poll(powercap, clock, s, 1.0)  # 55 J: wraps once after 0.4 s
    s.stop()
    cols = s.case_columns(100, 1, None)
    assert cols["cpu_energy_j"] == pytest.approx(55.0) and cols["cpu_energy_reason"] == ""
    assert json.loads(cols["rapl_zones"])[ZONE]["wraps"] == 1


def test_a_forward_jump_beyond_the_plausible_power_is_nan(powercap, clock):
    powercap.zone(ZONE, "package-0")
    s = open_session(RAPL, clock=clock, background=False)
    s.start()
    _poll(powercap, clock, s, 0.5)
    powercap.add(ZONE, 200.0)  # 200 J in 0.1 s: 2 kW from one package
    clock.advance(0.1)
    s.sample_now()
    _poll(powercap, clock, s, 0.4)
    s.stop()
    _assert_nan_cpu(s.case_columns(100, 1, None), "counter jumped at t = 0.600 s", "above the plausible 500 W")


def test_readings_too_far_apart_to_rule_out_a_second_wrap_are_nan(powercap, clock):
    powercap.zone(ZONE, "package-0", max_range_uj=100_000_000)  # 100 J: 0.2 s at 500 W
    s = open_session(CollectorConfig(names=("rapl",), sample_period_s=0.05), clock=clock, background=False)
    s.start()
    _poll(powercap, clock, s, 0.5, step=0.05)
    powercap.add(ZONE, 20.0)  # the sampler starved for 1 s: 20 J or 120 J or 220 J...
    clock.advance(1.0)
    s.sample_now()
    s.stop()
    _assert_nan_cpu(s.case_columns(100, 1, None), "readings too far apart at t = 1.500 s", "more than once")


def test_a_counter_that_stalls_mid_window_is_nan_with_when_and_how_long(powercap, clock):
    """Frozen at 0.5 s of 1 s: end to end it advanced (27.5 J), but it stood still for 0.5 s."""
    powercap.zone(ZONE, "package-0")
    s = open_session(RAPL, clock=clock, background=False)
    s.start()
    _poll(powercap, clock, s, 0.5)
    _poll(powercap, clock, s, 0.5, watts=0.0)
    s.stop()
    _assert_nan_cpu(s.case_columns(100, 1, None), "did not advance for 0.5 s from t = 0.5 s")


def test_a_short_pause_of_the_counter_is_not_a_stall(powercap, clock):
    """Two equal readings 50 ms apart (RAPL updates every ~1 ms, but sampling jitter happens): fine."""
    powercap.zone(ZONE, "package-0")
    s = open_session(RAPL, clock=clock, background=False)
    s.start()
    _poll(powercap, clock, s, 0.5, step=0.05)
    _poll(powercap, clock, s, 0.05, step=0.05, watts=0.0)
    _poll(powercap, clock, s, 0.5, step=0.05)
    s.stop()
    assert s.case_columns(100, 1, None)["cpu_energy_j"] == pytest.approx(55.0)


def test_a_file_that_vanishes_mid_run_is_nan(powercap, clock):
    powercap.zone(ZONE, "package-0")
    s = open_session(RAPL, clock=clock, background=False)
    s.start()
    _poll(powercap, clock, s, 0.5)
    powercap.unlink(ZONE)  # the open descriptor keeps reading the last value
    for _ in range(5):
        clock.advance(0.1)
        s.sample_now()
    s.stop()
    _assert_nan_cpu(s.case_columns(100, 1, None), "did not advance for 0.5 s from t = 0.5 s",
                    "its energy_uj no longer exists")


@pytest.mark.parametrize(("err", "text"), [(errno.EACCES, "Permission denied"), (errno.ENODEV, "No such device")])
def test_a_file_that_becomes_unreadable_mid_run_is_nan(powercap, clock, monkeypatch, err, text):
    powercap.zone(ZONE, "package-0")
    s = open_session(RAPL, clock=clock, background=False)
    s.start()
    _poll(powercap, clock, s, 0.5)
    real = rapl.read_counter

    def failing(fd):
        raise OSError(err, text)

    monkeypatch.setattr(rapl, "read_counter", failing)
    _poll(powercap, clock, s, 0.5)
    monkeypatch.setattr(rapl, "read_counter", real)
    s.stop()
    _assert_nan_cpu(s.case_columns(100, 1, None), "energy_uj became unreadable at t = 0.600 s", text)


def _gpu_session(fake_nvml, clock, powercap, monkeypatch, gpus, config=BOTH):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    module = fake_nvml(gpus)
    powercap.zone(ZONE, "package-0", max_range_uj=100_000_000)  # 100 J: wraps every 2 s at 50 W
    s = open_session(config, clock=clock, background=False)
    return module, s


def test_a_source_that_raises_is_marked_failed_and_the_others_go_on(fake_nvml, clock, powercap, monkeypatch):
    """NVML raises something that is no NVMLError at 0.5 s: the GPU is NaN with the message, while RAPL
    goes on being read and counts its wraps (4 s at 50 W: two wraps of its 100 J range)."""
    gpu = FakeGpu("GPU-aaa", "A100", lambda t: 100.0, energy_j=lambda t: 100.0 * t)
    module, s = _gpu_session(fake_nvml, clock, powercap, monkeypatch, [gpu])
    s.start()
    _poll(powercap, clock, s, 0.5, watts=50.0)

    def broken(handle):
        raise RuntimeError("driver returned garbage")

    module.nvmlDeviceGetPowerUsage = broken
    _poll(powercap, clock, s, 3.5, watts=50.0)
    s.stop()
    cols = s.case_columns(100, 1, None)
    assert cols["cpu_energy_j"] == pytest.approx(200.0) and json.loads(cols["rapl_zones"])[ZONE]["wraps"] == 2
    assert math.isnan(cols["gpu_energy_j"]) and cols["gpu_energy_source"] == "unavailable"
    why = "collector nvml failed at t = 0.600 s: RuntimeError: driver returned garbage"
    assert why in cols["gpu_energy_reason"] and why in cols["collectors_reason"]
    assert math.isnan(cols["energy_j"]) and "GPUs whose energy is unknown" in cols["energy_reason"]
    assert len(s.samples()) == 42  # every poll after the failure still taken


def test_a_source_killed_under_the_background_sampler(fake_nvml, clock, powercap, monkeypatch):
    """The same with the real sampler thread: it keeps sampling after the source dies."""
    gpu = FakeGpu("GPU-aaa", "A100", lambda t: 100.0, energy_j=lambda t: 100.0 * t)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    module = fake_nvml([gpu])
    s = open_session(CollectorConfig(names=("nvml", "process"), sample_period_s=0.01))
    s.start()
    wait_for(lambda: len(s.snapshots) >= 3, 30.0, "3 snapshots", poll_s=0.005)
    module.nvmlDeviceGetPowerUsage = lambda h: 1 / 0
    # three ticks after the failure (the real sampler thread: a loaded machine may delay it)
    wait_for(lambda: "nvml" in s.failed, 30.0, "the nvml source to fail", poll_s=0.005)
    n = len(s.snapshots)
    wait_for(lambda: len(s.snapshots) >= n + 3, 30.0, "3 snapshots after the failure", poll_s=0.005)
    s.stop()
    cols = s.case_columns(100, 1, None)
    died = s.failed["nvml"]
    assert "collector nvml failed at t = " in died and "ZeroDivisionError" in died
    assert math.isnan(cols["gpu_energy_j"]) and died in cols["gpu_energy_reason"]
    t_died = float(died.split("t = ")[1].split(" s")[0])
    later = [r for r in s.samples() if r["t_s"] > t_died]
    assert len(later) >= 2 and all(r["rss_bytes"] > 0 for r in later)  # the process source went on
    assert all(math.isnan(r["gpu_power_w"]) for r in later)


def test_a_sampler_that_stops_makes_every_figure_nan_with_the_reason(powercap, monkeypatch):
    powercap.zone(ZONE, "package-0")
    s = open_session(CollectorConfig(names=("rapl",), sample_period_s=0.01))
    s.start()

    def dead(*args, **kwargs):
        raise MemoryError("no memory for a snapshot")

    monkeypatch.setattr(s, "_tick", dead)
    s._thread.join(timeout=5)  # it stops at its next tick
    monkeypatch.undo()
    powercap.add(ZONE, 5.0)
    s.stop()
    cols = s.case_columns(100, 1, None)
    assert not s._thread.is_alive()
    _assert_nan_cpu(cols, "the background sampler stopped at t = ", "MemoryError: no memory for a snapshot")
    assert "background sampler stopped" in cols["collectors_reason"]


def _nvml_window(fake_nvml, clock, monkeypatch, energy_j, seconds=2.0):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fake_nvml([FakeGpu("GPU-bbb", "H100", lambda t: 300.0, energy_j=energy_j)])
    s = open_session(CollectorConfig(names=("nvml",)), clock=clock, background=False)
    s.start()
    for _ in range(round(seconds / 0.1)):
        clock.advance(0.1)
        s.sample_now()
    s.stop()
    return s.case_columns(100, 1, None)


def test_an_nvml_counter_that_jumps_backwards_is_nan(fake_nvml, clock, monkeypatch):
    """The issue's case: the counter goes back 6,900 J at 1 s (a driver reload): NaN, not -6,900 J."""
    t0 = clock()
    cols = _nvml_window(fake_nvml, clock, monkeypatch,
                        lambda t: 300.0 * (t - t0) - (6900.0 if t - t0 > 1.05 else 0.0) + 7000.0)
    assert math.isnan(cols["gpu_energy_j"]) and cols["gpu_energy_source"] == "unavailable"
    assert "GPU 0 (GPU-bbb) energy counter reset at t = 1.100 s" in cols["gpu_energy_reason"]
    assert "went backwards" in cols["gpu_energy_reason"]
    assert math.isnan(cols["gpu_dynamic_energy_j"])


def test_an_nvml_counter_that_jumps_forwards_is_nan(fake_nvml, clock, monkeypatch):
    t0 = clock()
    cols = _nvml_window(fake_nvml, clock, monkeypatch,
                        lambda t: 300.0 * (t - t0) + (5000.0 if t - t0 > 1.05 else 0.0))
    assert math.isnan(cols["gpu_energy_j"])
    assert "counter jumped at t = 1.100 s" in cols["gpu_energy_reason"]
    assert "above the plausible 1500 W" in cols["gpu_energy_reason"]


def test_an_nvml_counter_that_stalls_is_nan(fake_nvml, clock, monkeypatch):
    t0 = clock()
    cols = _nvml_window(fake_nvml, clock, monkeypatch, lambda t: 300.0 * min(t - t0, 0.5), seconds=2.0)
    assert math.isnan(cols["gpu_energy_j"])
    assert "did not advance for 1.5 s from t = 0.5 s" in cols["gpu_energy_reason"]


def test_a_failing_cpu_source_is_nan_with_its_message(powercap, clock, monkeypatch):
    powercap.zone(ZONE, "package-0")
    s = open_session(CollectorConfig(names=("rapl", "process")), clock=clock, background=False)
    s.start()
    _poll(powercap, clock, s, 0.5)

    def broken(self, t):
        raise RuntimeError("zone table changed under us")

    monkeypatch.setattr(rapl.RaplDevice, "poll", broken)
    _poll(powercap, clock, s, 0.5)
    s.stop()
    cols = s.case_columns(100, 1, None)
    _assert_nan_cpu(cols, "collector rapl failed at t = 0.600 s: RuntimeError: zone table changed under us")
    assert "collector rapl failed" in cols["collectors_reason"]
    assert cols["system_mem_used_peak_bytes"] > 0  # the process source went on


def test_a_reset_after_the_last_training_interval_keeps_the_training_figure(powercap, clock):
    powercap.zone(ZONE, "package-0", start_uj=3_000_000_000)
    s = open_session(RAPL, clock=clock, background=False)
    s.start()
    _poll(powercap, clock, s, 1.0)  # training: 55 J
    s.mark_epoch(1, phase="eval")
    powercap.reset(ZONE, 1_000)  # during the evaluation
    _poll(powercap, clock, s, 0.3)
    s.stop()
    cols = s.case_columns(100, 1, None)
    assert cols["cpu_energy_j"] == pytest.approx(55.0)
    assert cols["cpu_energy_reason"].startswith("not included: intel-rapl:0: counter reset at t = 1.100 s")
    assert math.isnan(cols["eval_energy_j"])
