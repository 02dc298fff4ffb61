"""Session behaviour without hardware: the TDP estimate, NaN with reasons, the contract."""

from __future__ import annotations

import math
import subprocess
import sys
import time

import pytest

from harness import schema
from harness.collectors import (
    CollectorConfig,
    available_collectors,
    collectors_table,
    cpu_estimate,
    measure_idle,
    open_session,
)
from harness.errors import ConfigError
from tests.helpers import ROOT

ENERGY_COLS = ("cpu_energy_j", "gpu_energy_j", "energy_j")


@pytest.fixture
def bare(tmp_path, monkeypatch, no_nvml):
    """A machine like this one: no powercap, no NVML."""
    monkeypatch.setenv("HARNESS_POWERCAP_ROOT", str(tmp_path / "none"))


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _measure(config: CollectorConfig, seconds: float = 0.4, epochs: int = 2):
    s = open_session(config)
    s.start()
    for e in range(1, epochs + 1):
        _busy(seconds / epochs)
        s.mark_epoch(e)
    s.stop()
    return s


def test_estimate_with_a_user_tdp(bare):
    s = _measure(CollectorConfig(tdp_w=64.0, tdp_origin="suite"))
    cols = s.case_columns(1000, 2, 1)
    assert cols["cpu_energy_source"] == "estimate_tdp" and cols["energy_source"] == "estimated"
    assert cols["cpu_tdp_w"] == 64.0 and cols["cpu_tdp_origin"] == "suite"
    assert "estimated" in cols["cpu_energy_reason"] and "no powercap" in cols["cpu_energy_reason"]
    assert cols["cpu_energy_j"] > 0  # the process did burn CPU time
    # 64 W over the logical CPUs, times this process's CPU seconds: never more than 64 W
    assert cols["cpu_power_mean_w"] <= 64.0 * 1.05
    assert cols["energy_j"] == cols["cpu_energy_j"]
    assert cols["gpu_energy_source"] == "unavailable" and math.isnan(cols["gpu_energy_j"])
    epochs = s.epoch_columns()
    assert sum(e["epoch_cpu_energy_j"] for e in epochs.values()) == pytest.approx(epochs[2]["cum_energy_j"])
    assert epochs[2]["cum_energy_j"] <= cols["cpu_energy_j"]  # stop() comes after the last mark
    assert cols["energy_to_target_j"] == pytest.approx(epochs[1]["cum_energy_j"])
    # not short; an edge_bias flag may come and go with the scheduler (how late the edges were read)
    assert not (cols["energy_window_flag"] or "").startswith("short_window")
    rows = s.samples()
    assert rows and all(r["cpu_power_source"] == "estimate_tdp" for r in rows)
    schema.frame("cases", [cols])
    schema.frame("samples", rows)


def test_no_tdp_and_no_counter_gives_a_generic_estimate_or_nan_when_strict(bare, monkeypatch):
    monkeypatch.setattr(cpu_estimate, "cpu_model", lambda *a: "Intel(R) Xeon(R) Processor")
    cols = _measure(CollectorConfig()).case_columns(1000, 2, None)
    assert cols["cpu_energy_source"] == "estimate_generic" and cols["energy_source"] == "estimated"
    assert "Xeon(R) Processor" in cols["cpu_energy_reason"] and "no powercap" in cols["cpu_energy_reason"]
    assert cols["cpu_thread_power_w"] == 4.0 and cols["cpu_energy_j"] > 0
    assert cols["cpu_energy_low_j"] == pytest.approx(cols["cpu_energy_j"] / 2)
    assert cols["cpu_energy_high_j"] == pytest.approx(cols["cpu_energy_j"] * 3)
    assert math.isnan(cols["cpu_dynamic_energy_j"]) and "no idle/dynamic split" in cols["cpu_dynamic_reason"]
    assert cols["memory_energy_source"] == "estimate_generic" and cols["memory_energy_j"] > 0
    strict = _measure(CollectorConfig(strict=True), seconds=0.1).case_columns(1000, 2, None)
    assert math.isnan(strict["cpu_energy_j"]) and strict["cpu_energy_source"] == "unavailable"
    assert "strict energy" in strict["cpu_energy_reason"]
    assert math.isnan(strict["energy_j"]) and math.isnan(strict["energy_per_sample_j"])
    assert strict["energy_source"] == "unavailable" and strict["energy_reason"]


def test_tdp_from_the_table(bare, monkeypatch):
    monkeypatch.setattr(cpu_estimate, "cpu_model", lambda *a: "AMD EPYC 7763 64-Core Processor")
    cols = _measure(CollectorConfig(), seconds=0.2).case_columns(1, 1, None)
    assert cols["cpu_tdp_origin"].startswith("table:EPYC 7763") and cols["cpu_tdp_w"] == 280.0


def test_table_lookup_is_whole_word():
    assert cpu_estimate.lookup("Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz")[0] == "Core i7-8700"
    assert cpu_estimate.lookup("Intel(R) Core(TM) i7-8700K CPU") is None
    assert cpu_estimate.resolve_tdp(-5, "cli", 2)[0] is None


def test_collectors_disabled(bare):
    s = _measure(CollectorConfig(names=()), seconds=0.1)
    cols = s.case_columns(10, 2, None)
    assert cols["collectors"] == ""
    assert cols["cpu_energy_source"] == "unavailable" and cols["cpu_energy_reason"] == "collectors disabled"
    assert math.isnan(cols["energy_j"]) and "process_cpu_util_pct" not in cols
    assert s._thread is None  # nothing sampled in the background
    assert s.samples() == []


def test_process_figures(bare):
    s = _measure(CollectorConfig(names=("process",), sample_period_s=0.02), seconds=0.4)
    cols = s.case_columns(1, 1, None)
    assert 0 < cols["process_cpu_util_pct"] <= 100.0
    assert 0 < cols["system_cpu_util_pct"] <= 100.0
    assert s.peak_rss > 10 * 2**20 and cols["system_mem_used_peak_bytes"] > 0
    assert "peak_rss_bytes" not in cols  # the row's memory part owns it (harness.runner.worker.case_memory.CaseMemory)
    rows = s.samples()
    assert len(rows) >= 8 and rows[-1]["rss_bytes"] > 0
    assert any(r["process_cpu_pct"] > 0 for r in rows)


def test_nothing_is_zero_unless_measured(bare):
    """On a machine without counters, each energy is a labelled figure or NaN with a reason."""
    for config in (CollectorConfig(), CollectorConfig(tdp_w=50.0, tdp_origin="cli"), CollectorConfig(names=())):
        cols = _measure(config, seconds=0.1).case_columns(100, 2, None)
        for part in ("cpu", "gpu"):
            value, source = cols[f"{part}_energy_j"], cols[f"{part}_energy_source"]
            if math.isnan(value):
                assert source == "unavailable" and cols[f"{part}_energy_reason"]
            else:
                assert source in ("rapl", "estimate_tdp", "estimate_generic", "nvml_counter", "nvml_power")


def test_on_this_host_whatever_it_has():
    cols = _measure(CollectorConfig(), seconds=0.2).case_columns(100, 2, None)
    for part in ("cpu", "gpu"):
        if math.isnan(cols[f"{part}_energy_j"]):
            assert cols[f"{part}_energy_source"] == "unavailable" and cols[f"{part}_energy_reason"]


def test_measure_idle(bare):
    # an estimate charges only the benchmark's CPU-seconds: it has no idle power to measure
    idle = measure_idle(CollectorConfig(tdp_w=40.0, tdp_origin="cli"), 0.3)
    assert "cpu_power_w" not in idle and "gpu_power_w" not in idle
    # and in estimate mode the idle/dynamic split is NaN with its reason, even with an idle given
    s = _measure(CollectorConfig(tdp_w=40.0, tdp_origin="cli", idle={"cpu_power_w": 3.0}), seconds=0.1)
    cols = s.case_columns(1, 1, None)
    assert math.isnan(cols["cpu_dynamic_energy_j"]) and math.isnan(cols["cpu_idle_power_w"])
    assert "estimate" in cols["cpu_dynamic_reason"]
    with pytest.raises(ConfigError):
        measure_idle(CollectorConfig(), 0)


def test_contract_order_and_bad_names(bare):
    with pytest.raises(ConfigError, match="Received: collectors=\\['rapl', 'watts'\\]"):
        open_session(CollectorConfig(names=("rapl", "watts")))
    s = open_session(CollectorConfig(names=("process",)))
    with pytest.raises(RuntimeError):
        s.mark_epoch(1)
    s.start()
    with pytest.raises(RuntimeError):
        s.case_columns(1, 1, None)
    s.stop()
    s.stop()  # idempotent


def test_available_and_table(bare):
    avail = available_collectors()
    assert set(avail) == {"rapl", "cpu_estimate", "nvml", "process"}
    assert avail["process"][0] and not avail["rapl"][0] and not avail["nvml"][0]
    rows = collectors_table(CollectorConfig(tdp_w=10.0, tdp_origin="cli"))
    assert {r["collector"]: r["available"] for r in rows}["cpu_estimate"] is True


def test_no_tensorflow_import():
    code = ("import sys, harness.collectors, harness.commands.env;"
            "from harness.collectors import describe_environment; describe_environment();"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_sampler_tick_is_cheap(bare):
    """The overhead budget: one tick of every source must cost < 1 % of the default period."""
    config = CollectorConfig(tdp_w=50.0, tdp_origin="cli")
    s = open_session(config, background=False)
    s.start()
    costs = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(50):
            s.sample_now()
        costs.append((time.perf_counter() - t) / 50)
    s.stop()
    assert min(costs) < 0.01 * config.sample_period_s


def test_background_sampler_period(bare):
    s = open_session(CollectorConfig(names=("process",), sample_period_s=0.05))
    s.start()
    t0 = time.monotonic()
    end = t0 + 30.0
    while len(s.snapshots) < 6 and time.monotonic() < end:  # the start's snapshot and 5 ticks
        time.sleep(0.01)
    elapsed = time.monotonic() - t0
    s.stop()
    ts = [r["t_s"] for r in s.samples()]
    assert ts == sorted(ts) and len(ts) >= 6
    # never faster than the period (a loaded machine may make the sampler later, never earlier): at most
    # one tick per period over the time waited, plus the start's and the stop's snapshots
    assert len(ts) <= elapsed / 0.05 + 3
    ticks = [b - a for a, b in zip(ts[:-2], ts[1:-1], strict=True)]  # between the start and the last tick
    assert min(ticks) >= 0.05 * 0.9


def test_nvml_check_script_without_gpu():
    script = ROOT / "scripts" / "nvml_check.py"
    out = subprocess.run([sys.executable, str(script), "--seconds", "1"],
                         capture_output=True, text=True, timeout=60, env={"PATH": "", "HARNESS_POWERCAP_ROOT": "/nonexistent",
                                                                          "CUDA_VISIBLE_DEVICES": ""})
    assert out.returncode == 0 and "no GPU measured" in out.stdout
