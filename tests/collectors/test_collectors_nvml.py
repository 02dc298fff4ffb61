"""GPU collection through a fake pynvml module."""

from __future__ import annotations

import json
import math

import pytest

from harness.collectors import CollectorConfig, available_collectors, open_session
from tests.helpers.collectors_fakes import FakeGpu, sine_energy_j, sine_power

GPU_ONLY = CollectorConfig(names=("nvml",), sample_period_s=0.1, cuda_visible_devices=None)


def _window(clock, config=GPU_ONLY, seconds=10.0, step=0.1):
    s = open_session(config, clock=clock, background=False)
    s.start()
    for _ in range(round(seconds / step)):
        clock.advance(step)
        s.sample_now()
    s.stop()
    return s


def test_energy_counter_is_preferred(fake_nvml, clock, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fake_nvml([FakeGpu("GPU-aaa", "H100", sine_power, energy_j=lambda t: sine_energy_j(100.0, t))])
    cols = _window(clock).case_columns(1000, 1, None)
    assert cols["gpu_energy_source"] == "nvml_counter"
    assert cols["gpu_count"] == 1
    assert cols["gpu_energy_j"] == pytest.approx(sine_energy_j(100.0, 110.0), rel=1e-4)
    details = json.loads(cols["gpu_details"])
    assert details["GPU-aaa"]["source"] == "nvml_counter" and details["GPU-aaa"]["name"] == "H100"
    # the integral of the sampled power is kept beside the counter (scripts/nvml_check.py compares them)
    assert details["GPU-aaa"]["power_integral_j"] == pytest.approx(details["GPU-aaa"]["energy_j"], rel=0.005)
    assert cols["gpu_util_mean_pct"] == 80 and cols["gpu_temp_max_c"] == 60
    assert cols["gpu_mem_used_peak_bytes"] == 2 * 2**30 and cols["gpu_sm_clock_mean_mhz"] == 1500
    assert cols["gpu_power_max_w"] == pytest.approx(300.0, abs=0.5)


def test_power_integration_matches_a_known_integral(fake_nvml, clock, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fake_nvml([FakeGpu("GPU-bbb", "T4", sine_power, energy_j=None)])
    s = _window(clock)
    cols = s.case_columns(1000, 1, None)
    assert cols["gpu_energy_source"] == "nvml_power"
    truth = sine_energy_j(100.0, 110.0)  # 2000 + 100 (1 - cos 10) J
    assert cols["gpu_energy_j"] == pytest.approx(truth, rel=0.005)
    assert cols["gpu_power_mean_w"] == pytest.approx(truth / 10.0, rel=0.005)
    assert cols["energy_window_flag"] is None  # 10 s >= 10 x the 1 s power average
    rows = s.samples()
    assert rows[10]["gpu_power_w"] == pytest.approx(sine_power(101.0), abs=0.01)


def test_power_integration_flags_short_windows(fake_nvml, clock, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fake_nvml([FakeGpu("GPU-bbb", "T4", lambda t: 100.0)])
    cols = _window(clock, seconds=2.0).case_columns(1, 1, None)
    assert cols["gpu_energy_j"] == pytest.approx(200.0)
    assert "gpu nvml_power" in cols["energy_window_flag"]


def _two_gpus(fake_nvml):
    return fake_nvml([FakeGpu("GPU-aaa-1", "A100", lambda t: 100.0, energy_j=lambda t: 100.0 * t),
                      FakeGpu("GPU-bbb-2", "A100", lambda t: 50.0, energy_j=lambda t: 50.0 * t)])


@pytest.mark.parametrize(("visible", "expected"), [
    (None, ["GPU-aaa-1", "GPU-bbb-2"]),
    ("1", ["GPU-bbb-2"]),
    ("GPU-bbb", ["GPU-bbb-2"]),  # UUID prefix, as CUDA accepts
    ("0,7,1", ["GPU-aaa-1"]),  # CUDA stops at the first invalid entry
])
def test_cuda_visible_devices_selects_gpus_by_uuid(fake_nvml, clock, visible, expected, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    _two_gpus(fake_nvml)
    config = CollectorConfig(names=("nvml",), cuda_visible_devices=visible)
    cols = _window(clock, config, seconds=2.0).case_columns(1, 1, None)
    assert sorted(json.loads(cols["gpu_details"])) == expected
    power = {"GPU-aaa-1": 100.0, "GPU-bbb-2": 50.0}
    assert cols["gpu_energy_j"] == pytest.approx(2.0 * sum(power[u] for u in expected))


def test_environment_variable_is_honoured(fake_nvml, clock, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    _two_gpus(fake_nvml)
    cols = _window(clock, CollectorConfig(names=("nvml",)), seconds=1.0).case_columns(1, 1, None)
    assert list(json.loads(cols["gpu_details"])) == ["GPU-bbb-2"]


def test_empty_cuda_visible_devices_means_no_gpu(fake_nvml, clock):
    _two_gpus(fake_nvml)
    cols = _window(clock, CollectorConfig(names=("nvml",), cuda_visible_devices=""), 1.0).case_columns(1, 1, None)
    assert math.isnan(cols["gpu_energy_j"]) and cols["gpu_energy_source"] == "unavailable"
    assert "CUDA_VISIBLE_DEVICES" in cols["gpu_energy_reason"]
    assert cols["gpu_count"] == 0


def test_unsupported_query_leaves_that_figure_nan(fake_nvml, clock, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    gpu = FakeGpu("GPU-ccc", "V100", lambda t: 100.0, energy_j=lambda t: 100.0 * t)
    module = fake_nvml([gpu])
    gpu.fail["nvmlDeviceGetTemperature"] = module.NVML_ERROR_NOT_SUPPORTED
    s = _window(clock, seconds=2.0)
    cols = s.case_columns(1, 1, None)
    assert math.isnan(cols["gpu_temp_max_c"])
    assert cols["gpu_energy_j"] == pytest.approx(200.0)
    assert module.calls.count("nvmlDeviceGetTemperature") == 1  # not retried every sample


def test_gpu_lost_mid_window(fake_nvml, clock, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    gpu = FakeGpu("GPU-ddd", "A10", lambda t: 100.0, energy_j=lambda t: 100.0 * t)
    module = fake_nvml([gpu])
    s = open_session(GPU_ONLY, clock=clock, background=False)
    s.start()
    clock.advance(1.0)
    s.sample_now()
    gpu.fail["nvmlDeviceGetPowerUsage"] = module.NVML_ERROR_GPU_IS_LOST
    clock.advance(1.0)
    s.stop()
    cols = s.case_columns(1, 1, None)
    assert math.isnan(cols["gpu_energy_j"]) and cols["gpu_energy_source"] == "unavailable"
    assert "GPU is lost" in cols["gpu_energy_reason"]


@pytest.mark.parametrize(("code", "text"), [
    ("NVML_ERROR_LIBRARY_NOT_FOUND", "library not found"),
    ("NVML_ERROR_DRIVER_NOT_LOADED", "driver not loaded"),
    ("NVML_ERROR_NO_PERMISSION", "permission denied"),
    ("NVML_ERROR_UNKNOWN", "NVML error 999"),
])
def test_init_errors_are_mapped(fake_nvml, clock, code, text):
    import tests.helpers.collectors_fakes as collectors_fakes

    fake_nvml([], init_error=getattr(collectors_fakes.make_fake_nvml([], clock), code))
    ok, reason = available_collectors(GPU_ONLY)["nvml"]
    assert not ok and text in reason and reason.startswith("unavailable")
    cols = _window(clock, seconds=1.0).case_columns(1, 1, None)
    assert cols["gpu_energy_source"] == "unavailable" and text in cols["gpu_energy_reason"]


def test_no_nvml(no_nvml, clock):
    ok, reason = available_collectors(GPU_ONLY)["nvml"]
    assert not ok and "not installed" in reason
    s = _window(clock, seconds=1.0)
    cols = s.case_columns(1, 1, None)
    assert math.isnan(cols["gpu_energy_j"]) and cols["gpu_energy_source"] == "unavailable"
    assert cols["gpu_count"] is None
    assert all(math.isnan(r["gpu_power_w"]) for r in s.samples())


def test_no_gpu_on_the_bus(fake_nvml, clock):
    fake_nvml([])
    cols = _window(clock, seconds=1.0).case_columns(1, 1, None)
    assert cols["gpu_count"] == 0 and "no GPU" in cols["gpu_energy_reason"]


def test_energy_sums_cpu_and_gpu(fake_nvml, clock, powercap, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fake_nvml([FakeGpu("GPU-eee", "L4", lambda t: 70.0, energy_j=lambda t: 70.0 * t)])
    powercap.zone("intel-rapl:0", "package-0")
    s = open_session(CollectorConfig(names=("rapl", "nvml")), clock=clock, background=False)
    s.start()
    for _ in range(10):  # polled every second (10 s unpolled could hide a second wrap: NaN)
        powercap.add("intel-rapl:0", 30.0)
        clock.advance(1.0)
        s.sample_now()
    s.stop()
    cols = s.case_columns(1000, 2, None)
    assert cols["energy_j"] == pytest.approx(1000.0) and cols["energy_source"] == "measured"
    assert cols["energy_per_sample_j"] == pytest.approx(1.0)
