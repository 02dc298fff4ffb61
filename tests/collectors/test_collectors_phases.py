"""Phases, counter sanity and whose energy: real sessions fed by a powercap tree and /proc/stat rewritten in place."""

from __future__ import annotations

import math
import os

import pytest

from harness.collectors import CollectorConfig, open_session, rapl
from harness.runner.worker.hooks import CollectorHooks

RAPL = CollectorConfig(names=("rapl",), sample_period_s=0.1)
HZ = os.sysconf("SC_CLK_TCK")


def _session(clock, config=RAPL):
    return open_session(config, clock=clock, background=False)


def _spend(pc, clock, joules, seconds, s, steps=5):
    for _ in range(steps):
        pc.add("intel-rapl:0", joules / steps)
        clock.advance(seconds / steps)
        s.sample_now()


def test_energy_covers_only_the_training_updates(powercap, clock):
    """The issue's case: each epoch is followed by an evaluation; energy_j must not include it."""
    powercap.zone("intel-rapl:0", "package-0")
    s = _session(clock)
    s.start("compile")
    _spend(powercap, clock, 50.0, 2.0, s)  # warm-up and XLA compile: 25 W for 2 s
    s.mark_phase("host")
    for epoch in (1, 2, 3):
        s.mark_phase("train")
        _spend(powercap, clock, 20.0, 1.0, s)  # 20 W training
        s.mark_epoch(epoch, phase="eval")
        _spend(powercap, clock, 3.0, 0.25, s)  # 12 W evaluation
        s.mark_phase("host")
        powercap.add("intel-rapl:0", 0.1)
        clock.advance(0.01)
    s.stop()
    cols = s.case_columns(3000, 3, 2)
    assert cols["energy_window_s"] == pytest.approx(3.0)
    assert cols["energy_j"] == pytest.approx(60.0) and cols["cpu_energy_j"] == pytest.approx(60.0)
    assert cols["eval_energy_j"] == pytest.approx(9.0)
    assert cols["compile_energy_j"] == pytest.approx(50.0)
    assert cols["cpu_power_mean_w"] == pytest.approx(20.0)
    assert cols["cpu_power_max_w"] == pytest.approx(20.0, rel=0.01)  # never the eval's or compile's power
    assert cols["energy_per_sample_j"] == pytest.approx(0.02)
    assert cols["energy_to_target_j"] == pytest.approx(40.0)
    assert cols["cpu_energy_low_j"] == cols["cpu_energy_high_j"] == cols["cpu_energy_j"]  # measured
    epochs = s.epoch_columns()
    assert [epochs[e]["epoch_energy_j"] for e in (1, 2, 3)] == pytest.approx([20.0, 20.0, 20.0])
    assert [epochs[e]["cum_energy_j"] for e in (1, 2, 3)] == pytest.approx([20.0, 40.0, 60.0])
    assert [epochs[e]["eval_energy_j"] for e in (1, 2, 3)] == pytest.approx([3.0, 3.0, 3.0])
    phases = [r["phase"] for r in s.samples()]
    assert phases[0] == "compile" and {"compile", "train", "eval", "host"} == set(phases)
    assert phases.count("train") == 3 * 5 + 3  # ticks inside training + the epoch marks closing it


def test_unknown_phase_is_refused(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0")
    s = _session(clock)
    with pytest.raises(ValueError, match="unknown phase 'warmup'"):
        s.start("warmup")


def test_a_counter_that_does_not_advance_is_nan_not_zero(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0", start_uj=777)
    s = _session(clock)
    s.start()
    for _ in range(10):
        clock.advance(0.1)
        s.sample_now()
    s.stop()
    cols = s.case_columns(100, 1, None)
    assert cols["cpu_energy_source"] == "rapl"
    assert math.isnan(cols["cpu_energy_j"]) and math.isnan(cols["cpu_package_energy_j"])
    assert "did not advance for 1 s from t = 0 s" in cols["cpu_energy_reason"] and "intel-rapl:0" in cols["cpu_energy_reason"]
    assert math.isnan(cols["energy_j"]) and cols["energy_source"] == "unavailable" and cols["energy_reason"]
    assert math.isnan(cols["cpu_power_max_w"])
    assert all(math.isnan(r["cpu_power_w"]) for r in s.samples())


def test_sampling_period_is_checked_against_the_counter_range(powercap, clock, caplog):
    # the case: range 40 J and a 3 s period would let the counter wrap twice at 20 W
    powercap.zone("intel-rapl:0", "package-0", max_range_uj=40_000_000)
    s = _session(clock, CollectorConfig(names=("rapl",), sample_period_s=3.0))
    assert s.plan.sample_period_s == pytest.approx(40.0 / rapl.PLAUSIBLE_MAX_W["package"] / 2)
    assert "shortened from 3 s" in caplog.text
    s.start()
    _spend(powercap, clock, 30.0, 1.5, s, steps=30)  # 20 W, polled at the shortened period: 1 J per poll
    _spend(powercap, clock, 30.0, 1.5, s, steps=30)
    s.stop()
    cols = s.case_columns(1, 1, None)
    assert cols["cpu_energy_j"] == pytest.approx(60.0)  # wrapped once, counted
    assert "shortened from 3 s" in cols["cpu_energy_reason"]
    assert math.isnan(cols["sample_period_s"])  # no background sampler in this test: NaN, not the plan


def test_a_range_too_small_to_poll_is_refused_with_the_reason(powercap, clock, monkeypatch):
    powercap.zone("intel-rapl:0", "package-0", max_range_uj=1_000)  # 1 mJ: wraps in 2 us at 500 W
    s = _session(clock, CollectorConfig(names=("rapl", "cpu_estimate"), tdp_w=65.0, tdp_threads=8))
    s.start()
    s.stop()
    cols = s.case_columns(1, 1, None)
    assert cols["cpu_energy_source"] == "estimate_tdp"
    assert "RAPL refused" in cols["cpu_energy_reason"] and "cannot be polled safely" in cols["cpu_energy_reason"]


def _write_stat(path, busy_ticks, idle_ticks):
    line = f"cpu  {busy_ticks} 0 0 {idle_ticks} 0 0 0 0 0 0".ljust(100) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        os.pwrite(fd, line.encode(), 0)
    finally:
        os.close(fd)


def test_whose_energy_share_of_machine_cpu_time(powercap, clock, tmp_path, monkeypatch):
    """Other processes keep the machine busy during the window: the share says so."""
    stat = tmp_path / "stat"
    monkeypatch.setenv("HARNESS_PROC_STAT", str(stat))
    _write_stat(stat, 1000, 1000)
    powercap.zone("intel-rapl:0", "package-0")
    s = _session(clock)
    s.start("train")
    busy = 1000
    for _ in range(10):
        busy += 2 * HZ  # 2 CPU-seconds of someone's work per step
        _write_stat(stat, busy, 1000)
        powercap.add("intel-rapl:0", 1.0)
        clock.advance(0.1)
        s.sample_now()
    s.stop()
    cols = s.case_columns(1, 1, None)
    proc_s = s.snapshots[-1].values["proc_cpu_s"] - s.snapshots[0].values["proc_cpu_s"]
    assert cols["benchmark_cpu_share"] == pytest.approx(proc_s / 20.0)
    assert cols["benchmark_cpu_share"] < 0.5

    from harness.analysis.energy import shared_flag

    assert "RAPL measures the whole package" in shared_flag(cols["benchmark_cpu_share"], "rapl")
    assert shared_flag(0.97, "rapl") == ""


def test_hooks_start_at_compile_and_close_an_unfinished_window(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0")
    hooks = CollectorHooks(CollectorConfig(names=("rapl",), sample_period_s=0), "cpu")
    hooks.on_phase("compile")
    assert hooks.session.phase == "compile"
    hooks.on_window_start()
    hooks.on_phase("train")
    hooks.on_epoch_end(1)
    hooks.on_window_end()
    hooks.on_window_end()  # idempotent
    assert [p for _, p in hooks.session.bounds] == ["compile", "host", "train", "host"]
    assert hooks.session.plan.gpu_reason == "the case uses no GPU"


def test_phase_edges_seen_late_take_interpolated_readings(powercap, clock):
    """A supervisor forwards its training process's events up to a poll later: two edges handled
    in one poll (eval began, train began again) must still enclose the eval's energy, estimated by
    interpolating the counter between the previous reading and the late one, not ~0 J."""
    powercap.zone("intel-rapl:0", "package-0")
    s = _session(clock)
    s.start("train")
    _spend(powercap, clock, 20.0, 1.0, s)  # 20 W for 1 s, sampled
    t_eval = clock()  # the eval begins now, but the supervisor sees it 0.25 s later, with the next edge
    powercap.add("intel-rapl:0", 1.0)  # eval: 10 W for 0.1 s
    clock.advance(0.1)
    t_train = clock()
    powercap.add("intel-rapl:0", 3.0)  # training again: 20 W for 0.15 s
    clock.advance(0.15)
    s.mark_epoch(1, phase="eval", at=t_eval)
    s.mark_phase("train", at=t_train)
    _spend(powercap, clock, 20.0, 1.0, s)
    s.stop()
    cols = s.case_columns(2000, 2, None)
    assert cols["energy_window_s"] == pytest.approx(2.15)
    # the 4 J read late spread over the 0.25 s it covers: eval 0.1 s -> 1.6 J (true 1.0), not 0
    assert cols["eval_energy_j"] == pytest.approx(1.6)
    assert cols["energy_j"] == pytest.approx(20.0 + 2.4 + 20.0)  # nothing lost: the total is exact


def test_a_late_edge_older_than_samples_already_taken_is_inserted_in_time_order(powercap, clock):
    """The sampler ticked between the event and the supervisor seeing it: the edge goes before that
    sample, the training window keeps its true length, and the later sample is relabelled."""
    powercap.zone("intel-rapl:0", "package-0")
    s = _session(clock)
    s.start("train")
    _spend(powercap, clock, 20.0, 1.0, s)  # 20 W
    t_eval = clock()
    powercap.add("intel-rapl:0", 1.0)  # eval: 10 W for 0.1 s
    clock.advance(0.1)
    s.sample_now()  # the sampler's tick, before the supervisor saw the eval edge
    t_train = clock()
    powercap.add("intel-rapl:0", 0.4)  # training again: 20 W for 0.02 s
    clock.advance(0.02)
    s.mark_epoch(1, phase="eval", at=t_eval)  # seen now, 0.12 s late
    s.mark_phase("train", at=t_train)
    _spend(powercap, clock, 20.0, 1.0, s)
    s.stop()
    cols = s.case_columns(2000, 2, None)
    assert cols["energy_window_s"] == pytest.approx(2.02)  # 1 + 0.02 + 1 s: not stretched or cut
    assert cols["eval_energy_j"] == pytest.approx(1.0)  # the eval's own readings, exactly
    assert cols["energy_j"] == pytest.approx(40.4)
    # the tick inside the eval (relabelled from train) and the train edge both close eval intervals
    assert [r["phase"] for r in s.samples()].count("eval") == 2
