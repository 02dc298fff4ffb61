"""Idle baselines per device: a case is charged the idle power of exactly the devices it uses."""

from __future__ import annotations

import math

import pytest

from harness.collectors import CollectorConfig, idle, measure_idle, open_session
from tests.helpers.collectors_fakes import FakeGpu

IDLE_W = {"GPU-000": 100.0, "GPU-111": 250.0}
PKG_IDLE_W = {"intel-rapl:0": 10.0, "intel-rapl:1": 15.0}


class Rig:
    """Two GPUs (idle 100 W and 250 W) and two packages (idle 10 W and 15 W) on the fake clock;
    ``load`` adds watts per device while a case runs."""

    def __init__(self, fake_nvml, clock, powercap, monkeypatch):
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
        self.clock, self.powercap = clock, powercap
        self.energy = dict.fromkeys(IDLE_W, 0.0)
        self.load: dict[str, float] = {}
        fake_nvml([FakeGpu(u, "A100", lambda t, u=u: IDLE_W[u] + self.load.get(u, 0.0),
                           energy_j=lambda t, u=u: self.energy[u]) for u in IDLE_W])
        for zone, name in (("intel-rapl:0", "package-0"), ("intel-rapl:1", "package-1")):
            powercap.zone(zone, name)

    def run(self, seconds: float, step: float = 0.1, session=None) -> None:
        for _ in range(round(seconds / step)):
            for u, w in IDLE_W.items():
                self.energy[u] += (w + self.load.get(u, 0.0)) * step
            for zone, w in PKG_IDLE_W.items():
                self.powercap.add(zone, (w + self.load.get(zone, 0.0)) * step)
            self.clock.advance(step)
            if session is not None:
                session.sample_now()

    def idle(self) -> dict[str, float]:
        config = CollectorConfig(names=("rapl", "nvml"))
        return measure_idle(config, 1.0, clock=self.clock, sleep=lambda s: self.run(s))

    def case(self, baseline: dict[str, float], gpus=(1,), seconds=2.0):
        s = open_session(CollectorConfig(names=("rapl", "nvml"), gpus=gpus, idle=baseline),
                         clock=self.clock, background=False)
        s.start()
        self.run(seconds, session=s)
        s.stop()
        return s.case_columns(100, 1, None)


@pytest.fixture
def rig(fake_nvml, clock, powercap, monkeypatch) -> Rig:
    return Rig(fake_nvml, clock, powercap, monkeypatch)


def test_the_idle_baseline_is_measured_per_device(rig):
    base = rig.idle()
    assert base["gpu_power_w:GPU-000"] == pytest.approx(100.0) and base["gpu_power_w:GPU-111"] == pytest.approx(250.0)
    assert base["rapl_power_w:intel-rapl:0"] == pytest.approx(10.0)
    assert base["rapl_power_w:intel-rapl:1"] == pytest.approx(15.0)
    assert base["gpu_power_w"] == pytest.approx(350.0) and base["cpu_power_w"] == pytest.approx(25.0)


def test_a_gpu1_case_is_charged_gpu1s_idle_only(rig):
    """The issue's case: idle 100 W and 250 W; a gpu:1 case at 250 + 300 W for 2 s has 600 J dynamic, not -210 J."""
    base = rig.idle()
    rig.load = {"GPU-111": 300.0, "intel-rapl:0": 30.0, "intel-rapl:1": 20.0}
    cols = rig.case(base)
    assert cols["gpu_energy_j"] == pytest.approx(1100.0)
    assert cols["gpu_idle_power_w"] == pytest.approx(250.0)
    assert cols["gpu_dynamic_energy_j"] == pytest.approx(600.0, rel=0.01) and cols["gpu_dynamic_reason"] == ""
    assert cols["cpu_idle_power_w"] == pytest.approx(25.0)  # both packages: a CPU figure charges every package
    assert cols["cpu_dynamic_energy_j"] == pytest.approx(100.0, rel=0.01) and cols["cpu_dynamic_reason"] == ""
    assert cols["dynamic_energy_flag"] is None


def test_both_gpus_are_charged_both_idles(rig):
    base = rig.idle()
    rig.load = {"GPU-000": 50.0, "GPU-111": 50.0}
    cols = rig.case(base, gpus=(0, 1))
    assert cols["gpu_idle_power_w"] == pytest.approx(350.0)
    assert cols["gpu_dynamic_energy_j"] == pytest.approx(200.0, rel=0.01)


def test_a_negative_dynamic_energy_is_flagged_with_its_reason(rig):
    base = rig.idle()
    rig.load = {"GPU-111": -50.0}  # the case ran in a deeper power state than the idle measurement saw
    cols = rig.case(base)
    assert cols["gpu_dynamic_energy_j"] == pytest.approx(-100.0)
    assert cols["gpu_dynamic_reason"].startswith("negative: the idle baseline 250 W is above the window's mean GPU power 200 W")
    assert cols["dynamic_energy_flag"] == "negative_dynamic: gpu"


def test_a_gpu_without_its_own_baseline_has_no_dynamic_energy(rig):
    cols = rig.case({"gpu_power_w:GPU-000": 100.0, "cpu_power_w": 25.0})
    assert math.isnan(cols["gpu_dynamic_energy_j"]) and math.isnan(cols["gpu_idle_power_w"])
    assert cols["gpu_dynamic_reason"] == "no idle baseline for GPU(s) 1 (GPU-111)"
    assert cols["gpu_energy_j"] == pytest.approx(500.0)  # the energy itself is unaffected


def test_a_total_over_all_gpus_is_not_split(rig):
    cols = rig.case({"gpu_power_w": 350.0})
    assert math.isnan(cols["gpu_dynamic_energy_j"]) and cols["gpu_dynamic_reason"] == "the idle baseline is not per GPU"


def test_no_baseline_says_so(rig):
    cols = rig.case({})
    assert math.isnan(cols["gpu_dynamic_energy_j"]) and cols["gpu_dynamic_reason"] == idle.NOT_MEASURED
    assert math.isnan(cols["cpu_dynamic_energy_j"]) and cols["cpu_dynamic_reason"] == idle.NOT_MEASURED


def test_dynamic_and_flag_contracts():
    assert idle.dynamic(10.0, 2.0, 3.0, "", "CPU") == (4.0, "")
    value, why = idle.dynamic(10.0, 5.0, 3.0, "", "CPU")
    assert value == -5.0 and why.startswith("negative: the idle baseline 5 W is above the window's mean CPU power 3.333 W")
    assert idle.dynamic(math.nan, 5.0, 3.0, "", "GPU") == (pytest.approx(math.nan, nan_ok=True), "no GPU energy")
    assert idle.flag("negative: x", "negative: y") == "negative_dynamic: cpu, gpu" and idle.flag("", "") is None


def test_a_baseline_whose_counter_stalled_records_no_device_keys(rig):
    """A package counter frozen during the idle measurement: no per-zone keys (never 0 W)."""
    rig.powercap.add = lambda zone, joules: None  # the counters stop moving
    base = measure_idle(CollectorConfig(names=("rapl",)), 1.0, clock=rig.clock,
                        sleep=lambda s: rig.run(s, session=None))
    assert not any(k.startswith(idle.ZONE_KEY) for k in base) and "cpu_power_w" not in base
