"""Derived energy figures against values computed by hand (RAPL faked at the powercap boundary).

Only behaviour that any counter handling must keep: a wrap at a plausible delta is
corrected to the exact energy, a counter at exactly its range's last value has not
wrapped, and energy, power and energy per example cover the training window only.
"""

from __future__ import annotations

import json

import pytest

from harness.collectors import CollectorConfig, open_session

RAPL = CollectorConfig(names=("rapl",), sample_period_s=0.1)
RANGE_UJ = 100_000_000  # a 100 J counter range


def _session(clock):
    return open_session(RAPL, clock=clock, background=False)


def _train(pc, clock, s, steps):
    """Each step: joules into the package zone, 0.1 s, one poll."""
    for joules in steps:
        pc.add("intel-rapl:0", joules)
        clock.advance(0.1)
        s.sample_now()


def test_wrap_to_exactly_zero_is_corrected_exactly(powercap, clock):
    # 80 J into a 100 J range; +20 J reads exactly 0 (a wrap of 200 W over 0.1 s: plausible)
    powercap.zone("intel-rapl:0", "package-0", start_uj=80_000_000, max_range_uj=RANGE_UJ)
    s = _session(clock)
    s.start()
    _train(powercap, clock, s, [20.0, 20.0, 5.0])
    s.stop()
    cols = s.case_columns(450, 1, None)
    assert cols["cpu_energy_j"] == pytest.approx(45.0, abs=1e-9)  # 20 + 20 + 5
    assert json.loads(cols["rapl_zones"])["intel-rapl:0"]["wraps"] == 1
    assert cols["cpu_power_mean_w"] == pytest.approx(150.0, abs=1e-6)  # 45 J / 0.3 s
    assert cols["energy_per_sample_j"] == pytest.approx(0.1, abs=1e-12)  # 45 J / 450 examples


def test_counter_at_the_last_value_of_its_range_has_not_wrapped(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0", start_uj=0, max_range_uj=RANGE_UJ)
    s = _session(clock)
    s.start()
    _train(powercap, clock, s, [49.999999, 50.0])  # reads 49_999_999, then 99_999_999 (range - 1)
    s.stop()
    cols = s.case_columns(100, 1, None)
    assert cols["cpu_energy_j"] == pytest.approx(99.999999, abs=1e-9)
    assert json.loads(cols["rapl_zones"])["intel-rapl:0"]["wraps"] == 0


def test_one_more_microjoule_reads_zero_and_is_a_wrap(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0", start_uj=RANGE_UJ - 1, max_range_uj=RANGE_UJ)
    s = _session(clock)
    s.start()
    _train(powercap, clock, s, [0.000001, 10.0])  # reads exactly 0, then 10_000_000
    s.stop()
    cols = s.case_columns(100, 1, None)
    assert cols["cpu_energy_j"] == pytest.approx(10.000001, abs=1e-9)
    assert json.loads(cols["rapl_zones"])["intel-rapl:0"]["wraps"] == 1


def test_energy_power_and_per_example_cover_the_training_window_only(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0", max_range_uj=2**40)
    s = _session(clock)
    s.start("compile")
    _train(powercap, clock, s, [10.0] * 4)  # compile: 40 J in 0.4 s
    for epoch in (1, 2):
        s.mark_phase("train")
        _train(powercap, clock, s, [3.0] * 5)  # 15 J in 0.5 s: 30 W
        s.mark_epoch(epoch, phase="eval")
        _train(powercap, clock, s, [1.0] * 2)  # eval: 2 J in 0.2 s
    s.stop()
    cols = s.case_columns(600, 2, 2)
    assert cols["energy_window_s"] == pytest.approx(1.0, abs=1e-9)
    assert cols["energy_j"] == pytest.approx(30.0, abs=1e-9)
    assert cols["compile_energy_j"] == pytest.approx(40.0, abs=1e-9)
    assert cols["eval_energy_j"] == pytest.approx(4.0, abs=1e-9)
    assert cols["cpu_power_mean_w"] == pytest.approx(30.0, abs=1e-6)
    assert cols["energy_per_sample_j"] == pytest.approx(0.05, abs=1e-12)  # 30 J / 600 examples
    assert cols["energy_to_target_j"] == pytest.approx(30.0, abs=1e-9)  # target at epoch 2
    epochs = s.epoch_columns()
    assert [epochs[e]["cum_energy_j"] for e in (1, 2)] == pytest.approx([15.0, 30.0], abs=1e-9)
