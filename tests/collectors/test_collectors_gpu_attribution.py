"""Devices charged are the devices used: a fake pynvml with four GPUs, MIG, and no NVML at all."""

from __future__ import annotations

import json
import math

import pytest

from harness.collectors import CollectorConfig
from harness.runner.worker.hooks import CollectorHooks, used_gpus
from tests.helpers.collectors_fakes import FakeGpu

WATTS = (100.0, 200.0, 300.0, 400.0)


def _four(fake_nvml, mig=()):
    gpus = [FakeGpu(f"GPU-{i}{i}{i}", "A100", lambda t, w=w: w, energy_j=lambda t, w=w: w * t)
            for i, w in enumerate(WATTS)]
    for i in mig:
        gpus[i].mig = True
    return fake_nvml(gpus)


def _case(clock, powercap, device, replicas=1, visible=None, seconds=2.0):
    """A case's hooks as the worker opens them; 10 W of CPU package and `seconds` of training."""
    powercap.zone("intel-rapl:0", "package-0")
    config = CollectorConfig(names=("rapl", "nvml"), sample_period_s=0, cuda_visible_devices=visible)
    hooks = CollectorHooks(config, device, replicas=replicas)
    hooks.session.clock = clock
    hooks.on_window_start()
    hooks.on_phase("train")
    powercap.add("intel-rapl:0", 10.0 * seconds)
    clock.advance(seconds)
    hooks.on_epoch_end(1)
    hooks.on_window_end()
    return hooks.session.case_columns(100, 1, None)


@pytest.mark.parametrize(("device", "replicas", "visible", "charged"), [
    ("gpu:2", 1, None, [2]),          # a case on GPU 2 of a 4-GPU host: that GPU only
    ("gpu", 1, None, [0]),            # TensorFlow places one replica on the first GPU
    ("gpu", 3, None, [0, 1, 2]),      # a mirrored strategy's three replicas
    ("gpu:1", 1, "3,1", [1]),         # gpu:1 of CUDA_VISIBLE_DEVICES=3,1 is NVML GPU 1
    ("gpu:0", 1, "GPU-333", [3]),     # by UUID
])
def test_only_the_gpus_used_are_charged(fake_nvml, clock, powercap, monkeypatch, device, replicas, visible, charged):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    _four(fake_nvml)
    cols = _case(clock, powercap, device, replicas, visible)
    assert cols["gpu_count"] == len(charged)
    assert sorted(g["index"] for g in json.loads(cols["gpu_details"]).values()) == charged
    assert cols["gpu_energy_j"] == pytest.approx(2.0 * sum(WATTS[i] for i in charged))
    assert cols["energy_j"] == pytest.approx(20.0 + cols["gpu_energy_j"]) and cols["energy_source"] == "measured"


def test_a_cpu_case_is_not_charged_for_gpus(fake_nvml, clock, powercap):
    _four(fake_nvml)
    cols = _case(clock, powercap, "cpu")
    assert math.isnan(cols["gpu_energy_j"]) and cols["gpu_energy_reason"] == "the case uses no GPU"
    assert cols["energy_j"] == pytest.approx(20.0) and cols["energy_reason"] == ""


def test_a_gpu_beyond_the_visible_ones(fake_nvml, clock, powercap):
    _four(fake_nvml)
    cols = _case(clock, powercap, "gpu:1", visible="2")
    assert "only 1 GPU(s) are visible" in cols["gpu_energy_reason"]
    assert math.isnan(cols["energy_j"]) and cols["cpu_energy_j"] == pytest.approx(20.0)


def test_mig_is_nan_with_the_reason_and_the_total_is_unknown(fake_nvml, clock, powercap, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    _four(fake_nvml, mig=(1,))
    cols = _case(clock, powercap, "gpu:1")
    assert math.isnan(cols["gpu_energy_j"]) and "MIG mode" in cols["gpu_energy_reason"]
    assert math.isnan(cols["energy_j"]) and cols["energy_source"] == "unavailable"
    assert "GPUs whose energy is unknown" in cols["energy_reason"]
    assert cols["cpu_energy_j"] == pytest.approx(20.0)  # the part stays visible


def test_mig_instance_in_cuda_visible_devices(fake_nvml, clock, powercap):
    _four(fake_nvml)
    cols = _case(clock, powercap, "gpu:0", visible="MIG-4f7c2b2e-1111-2222-3333-444455556666")
    assert "names MIG instances" in cols["gpu_energy_reason"] and math.isnan(cols["energy_j"])


def test_no_pynvml_on_a_gpu_case_makes_the_total_unknown(no_nvml, clock, powercap):
    cols = _case(clock, powercap, "gpu:0")
    assert "pynvml" in cols["gpu_energy_reason"]
    assert math.isnan(cols["energy_j"]) and cols["energy_source"] == "unavailable"
    assert cols["cpu_energy_j"] == pytest.approx(20.0) and math.isnan(cols["energy_per_sample_j"])


def test_used_gpus():
    assert used_gpus("cpu", 4) == () and used_gpus("cpu:2") == ()
    assert used_gpus("gpu:3", 1) == (3,) and used_gpus("gpu", 2) == (0, 1) and used_gpus("gpu") == (0,)
