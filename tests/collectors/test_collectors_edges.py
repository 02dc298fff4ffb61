"""Phase edges stamped where the counters were read: a slow NVML source and many short segments.

A fake machine on a fake clock (:class:`collectors_fakes.FakeMachine`): each NVML
energy read costs 14 ms of machine time, the counter sampled halfway through
the call; 160 training segments of 5 ms with 1 ms of host work between them.
"""

from __future__ import annotations

import math

import pytest

from harness.collectors import CollectorConfig, open_session
from harness.collectors.align import lerp, value_at
from tests.helpers.collectors_fakes import FakeMachine, make_fake_nvml, train_in_segments

REL = 0.005  # the target: within 0.5 %


def _machine(clock, powercap, monkeypatch, train_w, host_w, read_s=0.014):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    powercap.zone("intel-rapl:0", "package-0")
    machine = FakeMachine(clock, powercap, "intel-rapl:0", {"train": train_w[0], "host": host_w[0]},
                          {"train": train_w[1], "host": host_w[1]})
    module = make_fake_nvml([machine.gpu()], clock)
    machine.slow_nvml(module, read_s)
    monkeypatch.setitem(__import__("sys").modules, "pynvml", module)
    return machine


def _train(clock, machine):
    s = open_session(CollectorConfig(names=("rapl", "nvml")), clock=clock, background=False)
    train_in_segments(s, machine, 160, 0.005, 0.001)
    return s.case_columns(1, 1, None)


def test_a_slow_source_does_not_stretch_the_window(clock, powercap, monkeypatch):
    """Constant power: CPU and GPU energy and the window within 0.5 % (the old stamping read +134 %)."""
    machine = _machine(clock, powercap, monkeypatch, (64.0, 300.0), (64.0, 300.0))
    cols = _train(clock, machine)
    truth = machine.truth["train"]
    assert cols["energy_window_s"] == pytest.approx(truth["s"], rel=REL)
    assert cols["cpu_energy_j"] == pytest.approx(truth["cpu_j"], rel=REL)
    assert cols["gpu_energy_j"] == pytest.approx(truth["gpu_j"], rel=REL)
    assert cols["cpu_power_mean_w"] == pytest.approx(64.0, rel=REL)
    assert cols["cpu_power_max_w"] == pytest.approx(64.0, rel=0.01)


def test_power_steps_at_the_edges_fast_counter_exact_slow_one_flagged(clock, powercap, monkeypatch):
    """Power that steps at every edge (train 64/300 W, host 20/60 W): RAPL is read next to each edge
    (fastest first when a window closes, last when it opens), so the CPU figure stays within 0.5 %;
    NVML's 14-ms read cannot resolve 5-ms segments, which the row flags as edge_bias."""
    machine = _machine(clock, powercap, monkeypatch, (64.0, 300.0), (20.0, 60.0))
    cols = _train(clock, machine)
    truth = machine.truth["train"]
    assert cols["cpu_energy_j"] == pytest.approx(truth["cpu_j"], rel=REL)
    assert cols["gpu_energy_j"] < truth["gpu_j"]  # interpolated across the host power around each edge
    assert "edge_bias: gpu nvml_counter read 7 ms from the edges on average" in cols["energy_window_flag"]
    assert "cpu" not in cols["energy_window_flag"].split("edge_bias:")[1]


def test_a_fast_source_is_not_flagged(clock, powercap, monkeypatch):
    machine = _machine(clock, powercap, monkeypatch, (64.0, 300.0), (20.0, 60.0), read_s=0.0)
    cols = _train(clock, machine)
    assert cols["gpu_energy_j"] == pytest.approx(machine.truth["train"]["gpu_j"], rel=REL)
    assert "edge_bias" not in (cols["energy_window_flag"] or "")


def test_interpolation_contracts():
    assert lerp(1.5, 1.0, 10.0, 2.0, 20.0) == 15.0
    assert lerp(1.5, 1.0, 10.0, 1.0, 20.0) == 10.0  # no span: the earlier value
    assert value_at(0.5, [1.0, 2.0], [10.0, 20.0]) == 10.0  # clamped before the first reading
    assert value_at(3.0, [1.0, 2.0], [10.0, 20.0]) == 20.0  # and after the last
    assert value_at(2.0, [1.0, 2.0, 3.0], [10.0, 20.0, float("nan")]) == 20.0
    assert math.isnan(value_at(2.5, [1.0, 2.0, 3.0], [10.0, 20.0, math.nan]))  # a broken counter stays broken
    assert math.isnan(value_at(1.0, [], []))
