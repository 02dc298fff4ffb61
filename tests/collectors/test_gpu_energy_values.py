"""GPU energy through a whole session, against values worked out by hand (pynvml and powercap faked at the boundary).

The fake NVML's counter reads 5e6 mJ + 1000 x the GPU's cumulative joules; its power
reading is the instantaneous power in mW. A counter gives the energy exactly; power
samples are integrated with the trapezoid rule, exact for power linear in time.
"""

from __future__ import annotations

import json

import pytest

from harness.collectors import CollectorConfig, open_session
from tests.helpers.collectors_fakes import FakeGpu


def _ramp(t):
    return 100.0 + 50.0 * (t - 100.0)  # W: 100 W at t = 100 s, 200 W at t = 102 s


def _run(clock, powercap, config, seconds=2.0, step=0.5):
    s = open_session(config, clock=clock, background=False)
    s.start("compile")
    powercap.add("intel-rapl:0", 5.0)
    clock.advance(0.5)  # compile, 0.5 s: not charged
    s.mark_phase("train")
    for _ in range(round(seconds / step)):
        powercap.add("intel-rapl:0", 10.0 * step)  # 10 W of CPU package
        clock.advance(step)
        s.sample_now()
    s.stop()
    return s.case_columns(400, 1, None)


def test_counter_and_power_integration_per_gpu(fake_nvml, clock, powercap, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    powercap.zone("intel-rapl:0", "package-0")
    clock.t = 99.5
    fake_nvml([FakeGpu("GPU-ctr", "H100", lambda t: 250.0, energy_j=lambda t: 250.0 * (t - 99.5)),
               FakeGpu("GPU-pwr", "T4", lambda t: _ramp(max(t, 100.0)))])
    config = CollectorConfig(names=("rapl", "nvml"), gpus=(0, 1), idle={
        "rapl_power_w:intel-rapl:0": 4.0, "gpu_power_w:GPU-ctr": 50.0, "gpu_power_w:GPU-pwr": 25.0})
    cols = _run(clock, powercap, config)
    # training from t = 100 s to 102 s
    # counter GPU: 250 W x 2 s = 500 J exactly; power GPU: integral of 100 + 50 u over u in [0, 2] = 200 + 100 J
    details = json.loads(cols["gpu_details"])
    assert details["GPU-ctr"]["energy_j"] == 500.0 and details["GPU-ctr"]["source"] == "nvml_counter"
    assert details["GPU-ctr"]["power_integral_j"] == 500.0  # constant power: the samples agree with the counter
    assert details["GPU-pwr"]["energy_j"] == 300.0 and details["GPU-pwr"]["source"] == "nvml_power"
    assert details["GPU-pwr"]["power_mean_w"] == 150.0 and details["GPU-pwr"]["power_max_w"] == 200.0
    assert (details["GPU-ctr"]["index"], details["GPU-pwr"]["index"]) == (0, 1)
    assert cols["gpu_count"] == 2 and cols["gpu_energy_source"] == "nvml_power"
    assert cols["gpu_energy_j"] == 800.0 and cols["gpu_power_mean_w"] == 400.0
    assert cols["gpu_power_max_w"] == 450.0  # 250 + 200 W at t = 102 s
    assert cols["gpu_idle_power_w"] == 75.0 and cols["gpu_dynamic_energy_j"] == 650.0  # 800 - 75 W x 2 s
    assert cols["cpu_energy_j"] == pytest.approx(20.0, abs=1e-9)  # 10 W x 2 s; the compile's 5 J apart
    assert cols["cpu_dynamic_energy_j"] == pytest.approx(12.0, abs=1e-9)  # 20 J - 4 W x 2 s
    assert cols["energy_j"] == pytest.approx(820.0, abs=1e-9) and cols["energy_source"] == "measured"
    assert cols["energy_per_sample_j"] == pytest.approx(2.05, abs=1e-12)  # 820 J / 400 examples
    # compile, t = 99.5 s to 100 s: CPU 5 J, counter GPU 250 W x 0.5 s, power GPU 100 W x 0.5 s
    assert cols["compile_energy_j"] == pytest.approx(5.0 + 125.0 + 50.0, abs=1e-9)


def test_only_the_gpu_the_case_uses_is_charged(fake_nvml, clock, powercap, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    powercap.zone("intel-rapl:0", "package-0")
    fake_nvml([FakeGpu(f"GPU-{i}", "A100", lambda t, w=w: w, energy_j=lambda t, w=w: w * t)
               for i, w in enumerate((100.0, 300.0, 700.0))])
    config = CollectorConfig(names=("rapl", "nvml"), gpus=(1,), idle={
        "gpu_power_w:GPU-0": 10.0, "gpu_power_w:GPU-1": 30.0, "gpu_power_w:GPU-2": 70.0})
    cols = _run(clock, powercap, config)
    assert list(json.loads(cols["gpu_details"])) == ["GPU-1"]
    assert cols["gpu_count"] == 1
    assert cols["gpu_energy_j"] == pytest.approx(600.0, abs=1e-9)  # 300 W x 2 s, not 1100 W x 2 s
    assert cols["gpu_idle_power_w"] == 30.0  # GPU 1's baseline only
    assert cols["gpu_dynamic_energy_j"] == pytest.approx(540.0, abs=1e-9)  # 600 J - 30 W x 2 s
    assert cols["energy_j"] == pytest.approx(620.0, abs=1e-9)
