"""RAPL through a fake powercap tree whose counters the tests advance."""

from __future__ import annotations

import errno
import json
import math
import threading
import time

import pytest

from harness.collectors import CollectorConfig, available_collectors, open_session, rapl
from tests.helpers.cli import wait_for

RAPL_ONLY = CollectorConfig(names=("rapl",), sample_period_s=0.1)
REL = 0.005  # the tolerance: within 0.5 %


def _session(clock, config=RAPL_ONLY):
    return open_session(config, clock=clock, background=False)


def _run(pc, clock, steps, config=RAPL_ONLY):
    """Start, apply each {zone: joules} step followed by one poll (0.1 s apart), stop."""
    s = _session(clock, config)
    s.start()
    for step in steps:
        for zone, joules in step.items():
            pc.add(zone, joules)
        clock.advance(0.1)
        s.sample_now()
    s.stop()
    return s.case_columns(1000, 1, None)


def test_one_socket(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0", start_uj=123_456)
    cols = _run(powercap, clock, [{"intel-rapl:0": 5.0}] * 20)
    assert cols["cpu_energy_source"] == "rapl"
    assert cols["cpu_energy_j"] == pytest.approx(100.0, rel=REL)
    assert cols["cpu_package_energy_j"] == pytest.approx(100.0, rel=REL)
    assert math.isnan(cols["dram_energy_j"]) and math.isnan(cols["psys_energy_j"])
    assert cols["cpu_power_mean_w"] == pytest.approx(50.0, rel=REL)
    assert cols["energy_source"] == "measured"


def test_two_sockets_with_dram_and_psys(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0")
    powercap.zone("intel-rapl:0:0", "core")
    powercap.zone("intel-rapl:0:1", "dram")
    powercap.zone("intel-rapl:1", "package-1")
    powercap.zone("intel-rapl:1:0", "dram", nested_in="intel-rapl:1")  # nested layout also found
    powercap.zone("intel-rapl:2", "psys")
    (powercap.root / "intel-rapl").mkdir()  # the control-type folder: not a zone
    step = {"intel-rapl:0": 10.0, "intel-rapl:0:0": 6.0, "intel-rapl:0:1": 1.0,
            "intel-rapl:1": 8.0, "intel-rapl:1:0": 1.2, "intel-rapl:2": 30.0}
    cols = _run(powercap, clock, [step] * 10)
    assert cols["cpu_package_energy_j"] == pytest.approx(180.0, rel=REL)
    assert cols["dram_energy_j"] == pytest.approx(22.0, rel=REL)
    assert cols["cpu_energy_j"] == pytest.approx(202.0, rel=REL)  # packages + dram, core not added
    assert cols["psys_energy_j"] == pytest.approx(300.0, rel=REL)  # reported apart, not summed
    zones = json.loads(cols["rapl_zones"])
    assert zones["intel-rapl:0:0"]["kind"] == "other"
    assert zones["intel-rapl:1:0"]["parent"] == "intel-rapl:1"


def test_amd_layout(powercap, clock):
    amd_range = 65_532_610_987  # 2^32 x 15.26 uJ: wraps within minutes at full load
    powercap.zone("intel-rapl:0", "package-0", start_uj=amd_range - 50_000_000, max_range_uj=amd_range)
    powercap.zone("intel-rapl:0:0", "core", max_range_uj=amd_range)
    cols = _run(powercap, clock, [{"intel-rapl:0": 20.0, "intel-rapl:0:0": 15.0}] * 10)
    assert cols["cpu_energy_j"] == pytest.approx(200.0, rel=REL)  # wrapped once near the start
    assert json.loads(cols["rapl_zones"])["intel-rapl:0"]["wraps"] == 1
    assert math.isnan(cols["dram_energy_j"])


def test_mmio_duplicate_removed(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0")
    powercap.zone("intel-rapl-mmio:0", "package-0")
    cols = _run(powercap, clock, [{"intel-rapl:0": 3.0, "intel-rapl-mmio:0": 3.0}] * 10)
    assert cols["cpu_energy_j"] == pytest.approx(30.0, rel=REL)
    assert "intel-rapl-mmio:0" not in json.loads(cols["rapl_zones"])


def test_mmio_only_zone_is_kept(powercap):
    powercap.zone("intel-rapl-mmio:0", "package-0")
    device = rapl.discover()
    assert [z.zone_id for z in device.zones] == ["intel-rapl-mmio:0"]


def test_several_wraps_in_one_window(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0", start_uj=10, max_range_uj=100_000_000)  # 100 J range
    cols = _run(powercap, clock, [{"intel-rapl:0": 45.0}] * 10)  # 450 W for 1 s, 450 J: four wraps
    assert cols["cpu_energy_j"] == pytest.approx(450.0, rel=REL)
    assert json.loads(cols["rapl_zones"])["intel-rapl:0"]["wraps"] == 4


def _wait_for_snapshots(session, n: int) -> None:
    """Until the session holds ``n`` snapshots (its sampler thread runs on the real clock)."""
    wait_for(lambda: len(session.snapshots) >= n, 30.0, f"{n} snapshots", poll_s=0.001)


def test_wraps_counted_by_the_background_sampler(powercap, monkeypatch):
    # a zone that may draw 11 kW, so that the fake's 10 kW wrap a 1 kJ range every 0.1 s
    monkeypatch.setitem(rapl.PLAUSIBLE_MAX_W, "package", 11_000.0)
    powercap.zone("intel-rapl:0", "package-0", max_range_uj=1_000_000_000)
    s = open_session(CollectorConfig(names=("rapl",), sample_period_s=0.01))
    s.start()
    # the counter stands still around both edges (readings there are aligned to the edges' times by
    # interpolation: a step in flight at an edge would be split by the scheduler's delay)
    _wait_for_snapshots(s, len(s.snapshots) + 2)
    for step in range(100):  # 5 kJ in steps of 50 J; the sampler must poll before 20 steps pass
        powercap.add("intel-rapl:0", 50.0)
        time.sleep(0.005)
        if step % 5 == 4:  # every 250 J, a quarter range: wait for a poll (a loaded machine may delay it)
            _wait_for_snapshots(s, len(s.snapshots) + 1)
    _wait_for_snapshots(s, len(s.snapshots) + 2)
    s.stop()
    cols = s.case_columns(1, 1, None)
    assert cols["cpu_energy_j"] == pytest.approx(5000.0, rel=REL)
    assert json.loads(cols["rapl_zones"])["intel-rapl:0"]["wraps"] == 5
    assert threading.active_count() >= 1 and len(s.samples()) > 10


def test_missing_max_range_without_wrap_is_fine(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0", max_range_uj=None)
    cols = _run(powercap, clock, [{"intel-rapl:0": 7.0}] * 10)
    assert cols["cpu_energy_j"] == pytest.approx(70.0, rel=REL)


def test_missing_max_range_with_wrap_is_nan_with_reason(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0", start_uj=2**32 - 1_000_000, max_range_uj=None)
    cols = _run(powercap, clock, [{"intel-rapl:0": 7.0}] * 3)
    assert math.isnan(cols["cpu_energy_j"])
    assert cols["cpu_energy_source"] == "rapl"
    # without max_energy_range_uj a drop cannot be told from a reset: NaN, with when it happened
    assert "counter reset at t = 0.100 s" in cols["cpu_energy_reason"]
    assert "no range to wrap around" in cols["cpu_energy_reason"]
    assert cols["energy_source"] == "unavailable" and math.isnan(cols["energy_j"])


@pytest.fixture
def denied(powercap, monkeypatch):
    """energy_uj of package-0 unreadable. chmod 000 does not stop root, so the
    open at the file boundary (rapl.open_file) raises EACCES for that path, as
    the kernel does for a non-root user on root-only energy_uj files."""
    path = powercap.zone("intel-rapl:0", "package-0") / "energy_uj"
    path.chmod(0)
    real_open = rapl.open_file

    def open_file(p):
        if p == path:
            raise PermissionError(errno.EACCES, "Permission denied", str(p))
        return real_open(p)

    monkeypatch.setattr(rapl, "open_file", open_file)
    return path


def test_permission_denied_is_reported_with_a_hint(denied, clock):
    ok, reason = available_collectors(RAPL_ONLY)["rapl"]
    assert not ok and "permission denied" in reason and "chmod" in reason
    cols = _run(None, clock, [], config=CollectorConfig(names=("rapl",)))
    assert math.isnan(cols["cpu_energy_j"]) and cols["cpu_energy_source"] == "unavailable"
    assert "permission denied" in cols["cpu_energy_reason"]


def test_permission_denied_falls_back_to_the_estimate(denied, clock):
    s = _session(clock, CollectorConfig(names=("rapl", "cpu_estimate"), tdp_w=100.0, tdp_origin="suite"))
    s.start()
    s.stop()
    cols = s.case_columns(10, 1, None)
    assert cols["cpu_energy_source"] == "estimate_tdp"
    assert "permission denied" in cols["cpu_energy_reason"]
    assert cols["cpu_tdp_w"] == 100.0 and cols["cpu_tdp_origin"] == "suite"


def test_per_epoch_energy_and_energy_to_target(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0")
    s = _session(clock)
    s.start()
    for epoch, joules in enumerate((10.0, 20.0, 30.0), start=1):
        powercap.add("intel-rapl:0", joules)
        clock.advance(1.0)
        s.mark_epoch(epoch)
    s.stop()
    epochs = s.epoch_columns()
    assert [round(epochs[e]["epoch_cpu_energy_j"], 6) for e in (1, 2, 3)] == [10.0, 20.0, 30.0]
    assert epochs[3]["cum_energy_j"] == pytest.approx(60.0)
    cols = s.case_columns(600, 3, target_epoch=2)
    assert cols["energy_to_target_j"] == pytest.approx(30.0)
    assert cols["energy_per_epoch_j"] == pytest.approx(20.0)
    assert cols["energy_per_sample_j"] == pytest.approx(0.1)


def test_idle_gives_dynamic_energy(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0")
    config = CollectorConfig(names=("rapl",), idle={"cpu_power_w": 4.0, "cpu_power_estimated": 0.0})
    cols = _run(powercap, clock, [{"intel-rapl:0": 1.0}] * 100, config)  # 10 W for 10 s
    assert cols["cpu_idle_power_w"] == 4.0
    assert cols["cpu_dynamic_energy_j"] == pytest.approx(60.0)
    assert cols["cpu_dynamic_reason"] == "" and cols["dynamic_energy_flag"] is None


def test_samples_carry_power_and_never_spike_on_close_readings(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0")
    powercap.zone("intel-rapl:0:0", "dram")
    s = _session(clock)
    s.start()
    for _ in range(10):
        powercap.add("intel-rapl:0", 2.0)
        powercap.add("intel-rapl:0:0", 0.5)
        clock.advance(0.1)
        s.sample_now()
    powercap.add("intel-rapl:0", 0.01)  # one counter tick 1 ms after the last sample
    clock.advance(0.001)
    s.mark_epoch(1)
    s.stop()
    rows = s.samples()
    assert math.isnan(rows[0]["cpu_power_w"]) and rows[0]["t_s"] == 0.0
    assert rows[5]["cpu_power_w"] == pytest.approx(25.0, rel=REL)  # package 20 W + dram 5 W
    assert rows[5]["dram_power_w"] == pytest.approx(5.0, rel=REL)
    assert max(r["cpu_power_w"] for r in rows[1:]) < 30.0
    assert {r["cpu_power_source"] for r in rows} == {"rapl"}


def test_short_window_is_flagged(powercap, clock):
    powercap.zone("intel-rapl:0", "package-0")
    s = _session(clock)
    s.start()
    clock.advance(0.005)
    s.stop()
    assert s.case_columns(1, 1, None)["energy_window_flag"].startswith("short_window")


def test_no_powercap_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_POWERCAP_ROOT", str(tmp_path / "absent"))
    ok, reason = available_collectors(RAPL_ONLY)["rapl"]
    assert not ok and "no powercap directory" in reason
