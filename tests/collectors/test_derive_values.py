"""The derived columns (harness.collectors.derive) from readings written by hand, against values worked out by hand.

A stopped session is what derive reads (readings.Readings): a plan of sources and the
snapshots of cumulative figures. Here the snapshots are written directly, so every
column's arithmetic is checked on known numbers. Five snapshots at t = 0..4 s, phases:

    snapshot  0 ---- 1 ============ 3 ---- 4
              compile    train (2 s)   eval

so the training window is the pair (1, 3), 2 s, and its peaks and means read snapshots 2 and 3.
"""

from __future__ import annotations

import json
import math
import types
from dataclasses import dataclass, field

import pytest

from harness.collectors import CollectorConfig, derive, nvml, phases, rapl, sources
from harness.collectors.cpu_estimate import MEMORY_W_PER_GIB, Tdp
from harness.collectors.readings import Plan, Snapshot

NAN = math.nan
GIB = 2**30
T = [0.0, 1.0, 2.0, 3.0, 4.0]
BOUNDS = [(0, "compile"), (1, "train"), (3, "eval")]
STALL = ("(stuck, its file vanished, or not updated on this machine)")


@dataclass(eq=False)  # hashable by identity, as a session is (derive caches verdicts per session)
class Stopped:
    plan: Plan
    snapshots: list[Snapshot]
    bounds: list = field(default_factory=lambda: list(BOUNDS))
    marks: dict = field(default_factory=dict)
    config: CollectorConfig = field(default_factory=CollectorConfig)
    background: bool = False
    start_index: int = 0
    stop_index: int = 4
    peak_rss: float = NAN
    failed: dict = field(default_factory=dict)
    sampler_failed: str = ""


def _snaps(times=T, **series):
    """Snapshots at ``times``, the value of each key its list's entry (keys with ':' or '|' passed as a dict)."""
    extra = series.pop("keys", {})
    series.update(extra)
    return [Snapshot(t, "train", {k: v[i] for k, v in series.items()}) for i, t in enumerate(times)]


def _train(s):
    pairs = phases.intervals(s, "train")
    assert pairs == [(1, 3)]
    return pairs


# ------------------------------------------------------------------ RAPL
def _zone(tmp_path, zone_id, name, **kw):
    path = tmp_path / zone_id
    path.mkdir()
    (path / "energy_uj").write_text("0\n")
    zone = rapl.Zone(zone_id, name, rapl._kind(name), path, 2**32)
    zone.parent = kw.pop("parent", None)
    for k, v in kw.items():
        setattr(zone, k, v)
    return zone


PKG = [0.0, 10.0, 60.0, 110.0000004, 115.0]  # train: 100.0000004 J (rounded to 6 places in rapl_zones: 100.0)
DRAM = [0.0, 1.0, 6.0, 11.0, 12.0]  # train: 10 J
PSYS = [0.0, 30.0, 130.0, 230.0, 240.0]  # train: 200 J
CORE = [0.0, 5.0, 35.0, 65.0, 66.0]  # train: 60 J, part of the package: never added


def _rapl_readings(tmp_path, pkg=PKG, dram=DRAM, cpu=None, notes=(), idle=None, zone_kw=None):
    """Readings of RAPL zones package-0, core, dram and psys; ``zone_kw``: zone attributes by name."""
    zone_kw = zone_kw or {}
    tmp_path = tmp_path / f"powercap{len(list(tmp_path.iterdir()))}"  # a fresh tree for each call
    tmp_path.mkdir()
    zones = [_zone(tmp_path, "intel-rapl:0", "package-0", wraps=2, **zone_kw.get("package-0", {})),
             _zone(tmp_path, "intel-rapl:0:0", "core", parent="intel-rapl:0", **zone_kw.get("core", {})),
             _zone(tmp_path, "intel-rapl:0:1", "dram", parent="intel-rapl:0", **zone_kw.get("dram", {})),
             _zone(tmp_path, "intel-rapl:1", "psys", **zone_kw.get("psys", {}))]
    plan = Plan(cpu=sources.RaplSource(rapl.RaplDevice(tmp_path, zones)), cpu_reason="; ".join(notes),
                notes=list(notes))
    cpu = cpu or [p + d for p, d in zip(pkg, dram, strict=True)]
    snaps = _snaps(cpu_j=cpu, package_j=pkg, dram_j=dram, psys_j=PSYS,
                   keys={"zone:intel-rapl:0": pkg, "zone:intel-rapl:0:0": CORE, "zone:intel-rapl:0:1": dram,
                         "zone:intel-rapl:1": PSYS})
    return Stopped(plan, snaps, config=CollectorConfig(idle=idle or {}))


def test_rapl_columns_over_the_training_window(tmp_path):
    idle = {"rapl_power_w:intel-rapl:0": 20.0, "rapl_power_w:intel-rapl:0:1": 2.5}
    s = _rapl_readings(tmp_path, notes=("sample period shortened from 5 s to 1 s",), idle=idle)
    cols = derive.cpu_columns(s, _train(s), 2.0)
    assert cols["cpu_energy_j"] == pytest.approx(110.0000004, abs=1e-9)  # package 100.0000004 + dram 10
    assert cols["cpu_energy_low_j"] == cols["cpu_energy_high_j"] == cols["cpu_energy_j"]  # measured: no range
    assert cols["cpu_energy_source"] == "rapl"
    assert cols["cpu_package_energy_j"] == pytest.approx(100.0000004, abs=1e-9)
    assert cols["dram_energy_j"] == 10.0 and cols["psys_energy_j"] == 200.0
    assert cols["cpu_energy_reason"] == "sample period shortened from 5 s to 1 s"
    assert cols["cpu_idle_power_w"] == 22.5  # 20 W package + 2.5 W dram
    assert cols["cpu_dynamic_energy_j"] == pytest.approx(65.0000004, abs=1e-9)  # 110.0000004 - 22.5 W x 2 s
    assert cols["cpu_dynamic_reason"] == ""
    assert cols["cpu_power_mean_w"] == pytest.approx(55.0000002, abs=1e-9)  # 110.0000004 J / 2 s
    assert json.loads(cols["rapl_zones"]) == {
        "intel-rapl:0": {"name": "package-0", "kind": "package", "parent": None, "energy_j": 100.0, "wraps": 2,
                         "error": None},
        "intel-rapl:0:0": {"name": "core", "kind": "other", "parent": "intel-rapl:0", "energy_j": 60.0,
                           "wraps": 0, "error": None},
        "intel-rapl:0:1": {"name": "dram", "kind": "dram", "parent": "intel-rapl:0", "energy_j": 10.0, "wraps": 0,
                           "error": None},
        "intel-rapl:1": {"name": "psys", "kind": "psys", "parent": None, "energy_j": 200.0, "wraps": 0,
                         "error": None},
    }


def test_rapl_mean_power_without_a_window_is_nan(tmp_path):
    s = _rapl_readings(tmp_path)
    assert math.isnan(derive.cpu_columns(s, _train(s), 0.0)["cpu_power_mean_w"])


def test_a_stuck_package_voids_the_cpu_figure(tmp_path):
    stuck = [0.0, 10.0, 10.0, 10.0, 15.0]  # still from t = 1 s to 3 s: 2 s >= 0.1 s
    s = _rapl_readings(tmp_path, pkg=stuck, notes=("a note",))
    why = f"RAPL zone intel-rapl:0 (package-0): counter did not advance for 2 s from t = 1 s {STALL}"
    assert derive.cpu_stuck(s) == why
    cols = derive.cpu_columns(s, _train(s), 2.0)
    assert math.isnan(cols["cpu_energy_j"]) and math.isnan(cols["cpu_energy_low_j"])
    assert math.isnan(cols["cpu_package_energy_j"]) and math.isnan(cols["dram_energy_j"])
    assert cols["psys_energy_j"] == 200.0  # not a CPU figure: kept
    assert cols["cpu_energy_reason"] == f"{why}; a note"
    assert math.isnan(cols["cpu_dynamic_energy_j"]) and cols["cpu_dynamic_reason"] == "no CPU energy"


def test_a_stuck_counter_whose_file_vanished_says_so(tmp_path):
    s = _rapl_readings(tmp_path, dram=[0.0, 1.0, 1.0, 1.0, 1.0])
    (s.plan.cpu.device.zones[2].path / "energy_uj").unlink()
    assert derive.cpu_stuck(s) == (f"RAPL zone intel-rapl:0:1 (dram): counter did not advance for 3 s from "
                                   f"t = 1 s {STALL}; its energy_uj no longer exists")


def test_only_package_and_dram_zones_can_be_stuck(tmp_path):
    s = _rapl_readings(tmp_path)
    for snap in s.snapshots:  # psys and core stand still: not CPU figures
        snap.values["zone:intel-rapl:1"] = snap.values["zone:intel-rapl:0:0"] = 5.0
    assert derive.cpu_stuck(s) == ""


def test_a_zone_never_read_is_not_stuck(tmp_path):
    s = _rapl_readings(tmp_path, dram=[NAN] * 5)  # dram failed to open: never read, NaN throughout
    assert derive.cpu_stuck(s) == ""
    s = _rapl_readings(tmp_path, dram=[NAN, 1.0, 1.0, 1.0, 1.0])  # first reading NaN: not checked
    assert derive.cpu_stuck(s) == ""


def test_sampler_and_source_failures_void_the_cpu_figure(tmp_path):
    s = _rapl_readings(tmp_path)
    s.failed = {"rapl": "collector rapl failed at t = 1.000 s: OSError: gone"}
    assert derive.cpu_stuck(s) == "collector rapl failed at t = 1.000 s: OSError: gone"
    s = _rapl_readings(tmp_path)
    s.failed = {"nvml": "collector nvml failed"}  # another source's failure: the CPU figure stands
    assert derive.cpu_stuck(s) == ""
    s.snapshots.append(s.snapshots[-1])  # a new verdict once the snapshots change (the cache is per length)
    s.sampler_failed = "the background sampler stopped at t = 2.000 s"
    assert derive.cpu_stuck(s) == "the background sampler stopped at t = 2.000 s"


def test_the_stuck_verdict_is_cached_per_number_of_snapshots(tmp_path):
    s = _rapl_readings(tmp_path)
    assert derive.cpu_stuck(s) == ""
    s.sampler_failed = "changed after the verdict"  # a stopped session does not change: the verdict stands
    assert derive.cpu_stuck(s) == ""
    other = _rapl_readings(tmp_path)
    other.sampler_failed = "the other session's sampler"  # same length, another session: its own verdict
    assert derive.cpu_stuck(other) == "the other session's sampler"


def test_a_broken_zone_in_the_cpu_figure_names_itself(tmp_path):
    dram = [0.0, 1.0, NAN, NAN, NAN]  # broke after t = 1 s: the CPU sum is NaN from then
    s = _rapl_readings(tmp_path, dram=dram, cpu=[0.0, 11.0, NAN, NAN, NAN], notes=("n",),
                       zone_kw={"dram": {"broken": "counter jumped at t = 1.500 s"}})
    cols = derive.cpu_columns(s, _train(s), 2.0)
    assert math.isnan(cols["cpu_energy_j"])
    assert cols["cpu_energy_reason"] == "intel-rapl:0:1: counter jumped at t = 1.500 s; n"
    assert json.loads(cols["rapl_zones"])["intel-rapl:0:1"]["error"] == "counter jumped at t = 1.500 s"
    assert json.loads(cols["rapl_zones"])["intel-rapl:0:1"]["energy_j"] is None


def test_an_unknown_cpu_figure_without_a_broken_zone(tmp_path):
    s = _rapl_readings(tmp_path, cpu=[0.0, 11.0, NAN, 121.0, 127.0])
    s.snapshots[3].values["cpu_j"] = NAN  # the window's end unread
    cols = derive.cpu_columns(s, _train(s), 2.0)
    assert math.isnan(cols["cpu_energy_j"])
    assert cols["cpu_energy_reason"] == "RAPL counter unreadable during the window"


def test_a_broken_zone_outside_the_cpu_figure_is_noted(tmp_path):
    s = _rapl_readings(tmp_path, zone_kw={"psys": {"error": "unavailable: permission denied"}}, notes=("n",))
    cols = derive.cpu_columns(s, _train(s), 2.0)
    assert cols["cpu_energy_j"] == pytest.approx(110.0000004, abs=1e-9)
    assert cols["cpu_energy_reason"] == "n; not included: intel-rapl:1: unavailable: permission denied"


def test_rapl_idle_unknown(tmp_path):
    s = _rapl_readings(tmp_path)
    cols = derive.cpu_columns(s, _train(s), 2.0)
    assert math.isnan(cols["cpu_idle_power_w"]) and math.isnan(cols["cpu_dynamic_energy_j"])
    assert cols["cpu_dynamic_reason"] == "no idle baseline measured (idle_baseline_s)"


# ------------------------------------------------------------------ estimates and no CPU figure
TDP = Tdp(100.0, "suite", 8, "table", 0.5, 1.5)  # 12.5 W per thread, range x0.5-x1.5


def _estimate_readings(process=True, rss=None):
    plan = Plan(cpu=sources.EstimateSource(TDP, None), cpu_reason="estimated: TDP 100 W", tdp=TDP,
                process=sources.ProcessSource(None) if process else None)
    rss = rss or [NAN, 1 * GIB, 2 * GIB, 4 * GIB, 8 * GIB]
    return Stopped(plan, _snaps(cpu_j=[0.0, 5.0, 30.0, 55.0, 60.0], rss=rss))


def test_estimate_columns():
    s = _estimate_readings()
    cols = derive.cpu_columns(s, _train(s), 2.0)
    assert cols["cpu_energy_j"] == 50.0  # 55 - 5
    assert (cols["cpu_energy_low_j"], cols["cpu_energy_high_j"]) == (25.0, 75.0)  # x0.5, x1.5
    assert cols["cpu_energy_source"] == "estimate_tdp"
    assert (cols["cpu_tdp_w"], cols["cpu_tdp_origin"], cols["cpu_tdp_threads"], cols["cpu_thread_power_w"]) == (
        100.0, "suite", 8, 12.5)
    assert math.isnan(cols["cpu_idle_power_w"]) and math.isnan(cols["cpu_dynamic_energy_j"])
    assert cols["cpu_dynamic_reason"] == derive.SPLIT_ESTIMATE
    assert cols["cpu_energy_reason"] == "estimated: TDP 100 W"
    assert cols["cpu_power_mean_w"] == 25.0
    assert "rapl_zones" not in cols and "cpu_package_energy_j" not in cols


def test_estimate_with_a_stopped_sampler():
    s = _estimate_readings()
    s.sampler_failed = "the background sampler stopped at t = 2.000 s"
    cols = derive.cpu_columns(s, _train(s), 2.0)
    assert math.isnan(cols["cpu_energy_j"]) and math.isnan(cols["cpu_energy_high_j"])
    assert cols["cpu_energy_reason"] == "the background sampler stopped at t = 2.000 s; estimated: TDP 100 W"


def test_no_cpu_source():
    s = Stopped(Plan(cpu_reason="collectors disabled"), _snaps(cpu_j=[NAN] * 5))
    cols = derive.cpu_columns(s, _train(s), 2.0)
    assert math.isnan(cols.pop("cpu_energy_j"))
    assert cols == {"cpu_energy_source": "unavailable", "cpu_energy_reason": "collectors disabled",
                    "cpu_dynamic_reason": "no CPU energy"}
    assert derive.cpu_kind(s) == "" and derive.cpu_stuck(s) == "" and math.isnan(derive.cpu_energy(s, [(1, 3)]))


def test_memory_estimate_is_watts_per_gib_of_mean_rss():
    s = _estimate_readings()
    # mean RSS at snapshots 2 and 3: (2 + 4) / 2 = 3 GiB; 0.3725 W/GiB x 3 GiB x 2 s = 2.235 J
    assert MEMORY_W_PER_GIB == 0.3725
    cols = derive.memory_columns(s, _train(s), 2.0)
    assert cols == {"memory_energy_j": pytest.approx(2.235, abs=1e-12), "memory_energy_source": "estimate_generic"}
    s = _estimate_readings(rss=[NAN, 1 * GIB, NAN, 4 * GIB, 8 * GIB])  # a missed reading is left out
    assert derive.memory_columns(s, _train(s), 2.0)["memory_energy_j"] == pytest.approx(2.98, abs=1e-12)


@pytest.mark.parametrize(("kind", "why"), [
    ("rapl", "unavailable: measured by RAPL (dram zones, in cpu_energy_j)"),
    ("none", "unavailable: no CPU figure"),
    ("no_process", "unavailable: process collector not selected"),
])
def test_memory_estimate_unavailable(tmp_path, kind, why):
    s = {"rapl": lambda: _rapl_readings(tmp_path), "none": lambda: Stopped(Plan(), _snaps(cpu_j=[NAN] * 5)),
         "no_process": lambda: _estimate_readings(process=False)}[kind]()
    cols = derive.memory_columns(s, _train(s), 2.0)
    assert math.isnan(cols["memory_energy_j"]) and cols["memory_energy_source"] == why


# ------------------------------------------------------------------ GPUs
def _gpus(counter_a=True):
    a = nvml.Gpu(1, "GPU-aaa", "A100", None, has_counter=counter_a)
    b = nvml.Gpu(3, "GPU-bbb", "T4", None, has_counter=False)
    return [a, b]


GPU_SERIES = {
    # GPU-aaa (NVML index 1, energy counter): train 400 J; its power integral 398 J
    "GPU-aaa|j": [0.0, 50.0, 250.0, 450.0, 460.0], "GPU-aaa|power_j": [0.0, 49.0, 248.0, 447.0, 455.0],
    "GPU-aaa|w": [NAN, 50.0, 220.0, 180.0, 900.0], "GPU-aaa|util": [0.0, 0.0, 80.0, 100.0, 0.0],
    "GPU-aaa|mem": [0.0, 0.0, 2.0 * GIB, 3.0 * GIB, 9.0 * GIB], "GPU-aaa|temp": [99.0, 99.0, 60.0, 65.0, 99.0],
    "GPU-aaa|sm_mhz": [0.0, 0.0, 1500.0, 1400.0, 0.0],
    # GPU-bbb (NVML index 3, power only): train 200 J
    "GPU-bbb|j": [0.0, 20.0, 120.0, 220.0, 225.0], "GPU-bbb|power_j": [0.0, 20.0, 120.0, 220.0, 225.0],
    "GPU-bbb|w": [NAN, 20.0, 100.0, 110.0, 900.0], "GPU-bbb|util": [0.0, 0.0, 40.0, 60.0, 0.0],
    "GPU-bbb|mem": [0.0, 0.0, 1.0 * GIB, 0.5 * GIB, 9.0 * GIB], "GPU-bbb|temp": [99.0, 99.0, 70.0, 68.0, 99.0],
    "GPU-bbb|sm_mhz": [0.0, 0.0, 1200.0, 1300.0, 0.0],
}


def _gpu_readings(gpus=None, cpu=None, idle=None, uses_gpu=True, series=None, times=T):
    gpus = gpus if gpus is not None else _gpus()
    plan = Plan(cpu=cpu, gpu=sources.NvmlSource(types.SimpleNamespace(gpus=gpus)), gpu_count=4, uses_gpu=uses_gpu)
    return Stopped(plan, _snaps(times, cpu_j=[0.0, 1.0, 6.0, 11.0, 12.0], keys=dict(series or GPU_SERIES)),
                   config=CollectorConfig(idle=idle or {}))


def test_gpu_columns_per_gpu_and_together():
    s = _gpu_readings(idle={"gpu_power_w:GPU-aaa": 30.0, "gpu_power_w:GPU-bbb": 20.0, "gpu_power_w:GPU-zzz": 99.0})
    cols = derive.gpu_columns(s, _train(s), 2.0)
    details = json.loads(cols.pop("gpu_details"))
    assert cols == {
        "gpu_count": 2, "gpu_energy_j": 600.0,  # 400 + 200 J
        "gpu_energy_source": "nvml_power",  # not every GPU has a counter
        "gpu_energy_reason": "",
        "gpu_power_mean_w": 300.0,  # 600 J / 2 s
        "gpu_power_max_w": 320.0,  # max(220 + 100, 180 + 110) W: the eval's 1800 W is outside
        "gpu_idle_power_w": 50.0,  # 30 + 20 W: the GPUs used only
        "gpu_dynamic_energy_j": 500.0, "gpu_dynamic_reason": "",  # 600 J - 50 W x 2 s
        "gpu_util_mean_pct": 70.0,  # mean of (80 + 40) / 2 and (100 + 60) / 2
        "gpu_mem_used_peak_bytes": 3.5 * GIB,  # max(2 + 1, 3 + 0.5) GiB
        "gpu_temp_max_c": 70.0,
        "gpu_sm_clock_mean_mhz": 1350.0,  # (1500 + 1400 + 1200 + 1300) / 4
    }
    assert details == {
        "GPU-aaa": {"index": 1, "name": "A100", "source": "nvml_counter", "energy_j": 400.0,
                    "power_integral_j": 398.0, "power_mean_w": 200.0, "power_max_w": 220.0,
                    "util_mean_pct": 90.0, "mem_used_peak_bytes": 3.0 * GIB, "temp_max_c": 65.0,
                    "sm_clock_mean_mhz": 1450.0},
        "GPU-bbb": {"index": 3, "name": "T4", "source": "nvml_power", "energy_j": 200.0,
                    "power_integral_j": 200.0, "power_mean_w": 100.0, "power_max_w": 110.0,
                    "util_mean_pct": 50.0, "mem_used_peak_bytes": 1.0 * GIB, "temp_max_c": 70.0,
                    "sm_clock_mean_mhz": 1250.0},
    }


def test_gpu_source_is_the_counter_when_every_gpu_has_one():
    gpus = _gpus()
    gpus[1].has_counter = True
    s = _gpu_readings(gpus)
    cols = derive.gpu_columns(s, _train(s), 2.0)
    assert cols["gpu_energy_source"] == "nvml_counter"
    assert json.loads(cols["gpu_details"])["GPU-bbb"]["source"] == "nvml_counter"


def test_gpu_figures_rounded_and_nan_as_none():
    series = dict(GPU_SERIES)
    series["GPU-aaa|j"] = [0.0, 50.0, 250.0, 450.0000004, 460.0]  # 400.0000004 J: 400.0 in the details
    series["GPU-bbb|w"] = [NAN] * 5  # no power reading at all
    s = _gpu_readings(series=series)
    cols = derive.gpu_columns(s, _train(s), 0.0)  # no window: no mean power
    details = json.loads(cols["gpu_details"])
    assert details["GPU-aaa"]["energy_j"] == 400.0 and details["GPU-aaa"]["power_mean_w"] is None
    assert details["GPU-bbb"]["power_max_w"] is None
    assert cols["gpu_energy_j"] == pytest.approx(600.0000004, abs=1e-9)
    assert math.isnan(cols["gpu_power_mean_w"])
    assert math.isnan(cols["gpu_power_max_w"])  # any GPU unread: the sum is unknown
    assert math.isnan(cols["gpu_dynamic_energy_j"])
    assert cols["gpu_dynamic_reason"] == "no idle baseline measured (idle_baseline_s)"


def test_a_stuck_gpu_counter_voids_the_gpu_figure():
    series = dict(GPU_SERIES)
    series["GPU-aaa|j"] = [0.0, 50.0, 50.0, 50.0, 60.0]  # still from t = 1 s to 3 s: 2 s >= 1 s
    series["GPU-bbb|j"] = [0.0, 20.0, 20.0, 20.0, 20.0]  # power-only: a flat integral is no counter
    s = _gpu_readings(series=series)
    why = f"GPU 1 (GPU-aaa) energy counter: counter did not advance for 2 s from t = 1 s {STALL}"
    assert derive.gpu_stuck(s) == why
    cols = derive.gpu_columns(s, _train(s), 2.0)
    assert math.isnan(cols["gpu_energy_j"]) and math.isnan(cols["gpu_power_mean_w"])
    assert cols["gpu_energy_source"] == "unavailable" and cols["gpu_energy_reason"] == why
    assert json.loads(cols["gpu_details"])["GPU-aaa"]["energy_j"] == 0.0  # the part is still shown


def test_a_power_only_gpu_may_stand_still():
    series = dict(GPU_SERIES)
    series["GPU-bbb|j"] = [0.0, 20.0, 20.0, 20.0, 20.0]
    assert derive.gpu_stuck(_gpu_readings(series=series)) == ""


def test_a_stall_of_exactly_a_second_is_stuck():
    series = dict(GPU_SERIES)
    series["GPU-aaa|j"] = [0.0, 50.0, 50.0, 450.0, 460.0]  # equal for exactly 1 s: stuck at >= 1 s
    assert derive.gpu_stuck(_gpu_readings(series=series)).startswith("GPU 1 (GPU-aaa) energy counter: counter "
                                                                     "did not advance for 1 s from t = 1 s")


@pytest.mark.parametrize("where", ["broken", "source", "failed", "sampler"])
def test_gpu_failures_void_the_gpu_figure(where):
    gpus = _gpus()
    s = _gpu_readings(gpus)
    if where == "broken":
        gpus[1].broken = "GPU 3 (GPU-bbb) energy counter reset at t = 1.000 s"
        why = gpus[1].broken
    elif where == "source":
        s.plan.gpu.failed = why = "unavailable: nvmlDeviceGetPowerUsage on GPU-aaa: GPU is lost (fell off the bus)"
    elif where == "failed":
        s.failed = {"rapl": "the CPU's", "nvml": "collector nvml failed at t = 2.000 s"}
        why = "collector nvml failed at t = 2.000 s"
    else:
        s.sampler_failed = why = "the background sampler stopped at t = 2.000 s"
    assert derive.gpu_stuck(s) == why
    assert math.isnan(derive.gpu_energy(s, [(1, 3)]))
    cols = derive.gpu_columns(s, _train(s), 2.0)
    assert cols["gpu_energy_source"] == "unavailable" and cols["gpu_energy_reason"] == why


def test_no_gpu_source():
    plan = Plan(gpu_reason="the case uses no GPU", gpu_count=4)
    s = Stopped(plan, _snaps(cpu_j=[0.0] * 5))
    s.sampler_failed = "the sampler stopped"  # says nothing about GPUs that were not measured
    assert derive.gpu_stuck(s) == "" and derive.uuids(s) == []
    cols = derive.gpu_columns(s, _train(s), 2.0)
    assert math.isnan(cols.pop("gpu_energy_j"))
    assert cols == {"gpu_count": 4, "gpu_energy_source": "unavailable", "gpu_energy_reason": "the case uses no GPU"}
    assert math.isnan(derive.gpu_energy(s, [(1, 3)]))


def test_a_gpu_source_without_gpus():
    s = _gpu_readings(gpus=[])
    cols = derive.gpu_columns(s, _train(s), 2.0)
    assert cols["gpu_count"] == 0 and cols["gpu_energy_j"] == 0
    assert math.isnan(cols["gpu_power_max_w"]) and math.isnan(cols["gpu_mem_used_peak_bytes"])
    assert derive._gpu_sum({}, [], "w") != derive._gpu_sum({}, [], "w")  # NaN: no GPU, no sum


def test_gpu_energy_sums_the_gpus_used_over_the_pairs():
    s = _gpu_readings()
    assert derive.gpu_energy(s, [(1, 3)]) == 600.0
    assert derive.gpu_energy(s, [(0, 1), (3, 4)]) == 85.0  # (50 + 20) + (10 + 5)
    assert math.isnan(derive.gpu_energy(s, []))


# ------------------------------------------------------------------ energy_j: CPU + GPUs
def test_combine(tmp_path):
    rapl_gpu = _gpu_readings(cpu=sources.RaplSource(rapl.RaplDevice(tmp_path, [])))
    assert derive.cpu_kind(rapl_gpu) == "measured"
    assert derive.combine(rapl_gpu, 10.0, 600.0) == (610.0, "measured", "")
    gpu_nan = derive.combine(rapl_gpu, 10.0, NAN)
    assert math.isnan(gpu_nan[0]) and gpu_nan[1:] == (
        "unavailable", "the case used GPUs whose energy is unknown (see gpu_energy_reason)")
    assert derive.combine(rapl_gpu, 10.0, None)[1:] == ("unavailable", "the case used GPUs whose energy is unknown "
                                                                       "(see gpu_energy_reason)")
    cpu_nan = derive.combine(rapl_gpu, NAN, 600.0)
    assert math.isnan(cpu_nan[0]) and cpu_nan[1:] == ("unavailable", "CPU energy unknown (see cpu_energy_reason)")
    assert derive.combine(rapl_gpu, None, 600.0)[1] == "unavailable"

    est_gpu = _gpu_readings(cpu=sources.EstimateSource(TDP, None))
    assert derive.cpu_kind(est_gpu) == "estimated"
    assert derive.combine(est_gpu, 10.0, 600.0) == (610.0, "mixed", "")

    # no NVML source, but the case ran on GPUs: their energy is unknown, so is the total
    est_only = Stopped(Plan(cpu=sources.EstimateSource(TDP, None), uses_gpu=True), _snaps(cpu_j=[0.0] * 5))
    assert derive.combine(est_only, 10.0, NAN)[1] == "unavailable"
    est_only.plan.uses_gpu = False  # a CPU case: GPUs are not charged
    assert derive.combine(est_only, 10.0, NAN) == (10.0, "estimated", "")
    assert derive.combine(est_only, 0.0, NAN) == (0.0, "estimated", "")  # zero is a figure

    # an NVML source on a case that uses no GPU (a tool measuring the whole machine): still charged
    whole = _gpu_readings(cpu=sources.RaplSource(rapl.RaplDevice(tmp_path, [])), uses_gpu=False)
    assert derive.combine(whole, 10.0, 600.0) == (610.0, "measured", "")


def test_bounds():
    s = _estimate_readings()
    assert derive._bounds(s, 50.0) == (25.0, 75.0)
    low, high = derive._bounds(s, NAN)
    assert math.isnan(low) and math.isnan(high)
    s.plan.tdp = None
    assert derive._bounds(s, 50.0) == (50.0, 50.0)


def test_nan_aware_helpers():
    assert derive._nanmax([1.0, NAN, None, 3.0, 2.0]) == 3.0
    assert derive._nanmean([1.0, NAN, None, 3.0, 2.0]) == 2.0
    assert derive._nanmax([-5.0, -2.0]) == -2.0 and derive._nanmean([0.0, 0.0]) == 0.0
    for fn in (derive._nanmax, derive._nanmean):
        assert math.isnan(fn([])) and math.isnan(fn([NAN, None]))
    assert derive._finite(0.0) and derive._finite(0) and derive._finite(math.inf)
    assert not derive._finite(None) and not derive._finite(NAN)
    assert derive._round(1.23456789) == 1.234568 and derive._round(NAN) is None and derive._round(0.0) == 0.0


# ------------------------------------------------------------------ whose energy
def _process_readings(process=True, times=T, **over):
    series = {"proc_cpu_s": [0.0, 1.0, 3.0, 5.0, 6.0],  # train: 4 CPU-seconds of the benchmark
              "sys_busy_s": [0.0, 2.0, 6.0, 10.0, 11.0],  # 8 busy CPU-seconds of the machine
              "sys_total_s": [0.0, 8.0, 24.0, 40.0, 44.0],  # 32 CPU-seconds in all
              "sys_mem": [9.0, 9.0, 5.0, 7.0, 9.0]}
    series.update(over)
    plan = Plan(process=sources.ProcessSource(None) if process else None,
                extra=[types.SimpleNamespace(name="cputime")])
    return Stopped(plan, _snaps(times, **series))


def test_process_columns(monkeypatch):
    monkeypatch.setattr(derive.process_stats, "logical_cpus", lambda: 4)
    s = _process_readings()
    assert derive.process_columns(s, _train(s), 2.0) == {
        "benchmark_cpu_share": 0.5,  # 4 / 8
        "process_cpu_util_pct": 50.0,  # 100 x 4 s / (2 s x 4 CPUs)
        "system_cpu_util_pct": 25.0,  # 100 x 8 / 32
        "system_mem_used_peak_bytes": 7.0,  # max at snapshots 2, 3
    }
    s = _process_readings(process=False)
    assert "system_mem_used_peak_bytes" not in derive.process_columns(s, _train(s), 2.0)


def test_process_columns_caps_and_gaps(monkeypatch):
    monkeypatch.setattr(derive.process_stats, "logical_cpus", lambda: 4)
    s = _process_readings(proc_cpu_s=[0.0, 1.0, 9.0, 13.0, 14.0], sys_total_s=[0.0, 1.0, 3.0, 5.0, 6.0])
    cols = derive.process_columns(s, _train(s), 0.0)
    assert cols["benchmark_cpu_share"] == 1.0  # 12 > 8 busy CPU-seconds (clocks read apart): capped
    assert cols["system_cpu_util_pct"] == 100.0  # 8 busy of 4 in all: capped
    assert math.isnan(cols["process_cpu_util_pct"])  # no window
    s = _process_readings(sys_busy_s=[0.0, 2.0, 2.0, 2.0, 2.0], sys_total_s=[0.0, 8.0, 8.0, 8.0, 8.0])
    cols = derive.process_columns(s, _train(s), 2.0)
    assert math.isnan(cols["benchmark_cpu_share"]) and math.isnan(cols["system_cpu_util_pct"])  # 0 of 0
    s = _process_readings(sys_busy_s=[0.0, 2.0, 6.0, NAN, 11.0], proc_cpu_s=[0.0, 1.0, 3.0, NAN, 6.0],
                          sys_total_s=[0.0, 8.0, 24.0, NAN, 44.0])
    cols = derive.process_columns(s, _train(s), 2.0)
    assert math.isnan(cols["benchmark_cpu_share"]) and math.isnan(cols["system_cpu_util_pct"])
    s = _process_readings(proc_cpu_s=[0.0, 1.0, 3.0, NAN, 6.0])
    assert math.isnan(derive.process_columns(s, _train(s), 2.0)["benchmark_cpu_share"])


def test_no_sources_no_process_columns():
    s = Stopped(Plan(), _snaps(cpu_j=[0.0] * 5))
    assert derive.process_columns(s, _train(s), 2.0) == {}


def test_process_columns_in_a_window_under_a_second(monkeypatch):
    monkeypatch.setattr(derive.process_stats, "logical_cpus", lambda: 2)
    quarter = [t / 4 for t in T]  # training from 0.25 s to 0.75 s: 0.5 s
    s = _process_readings(times=quarter, proc_cpu_s=[0.0, 0.1, 0.2, 0.35, 0.4],  # 0.25 CPU-s of the benchmark
                          sys_busy_s=[0.0, 0.1, 0.3, 0.6, 0.7],  # 0.5 busy CPU-s
                          sys_total_s=[0.0, 0.2, 0.6, 1.0, 1.2])  # 0.8 CPU-s in all (2 CPUs x 0.5 s, less steal)
    cols = derive.process_columns(s, _train(s), 0.5)
    assert cols["benchmark_cpu_share"] == pytest.approx(0.5, abs=1e-12)  # 0.25 / 0.5
    assert cols["process_cpu_util_pct"] == pytest.approx(25.0, abs=1e-9)  # 100 x 0.25 / (0.5 s x 2 CPUs)
    assert cols["system_cpu_util_pct"] == pytest.approx(62.5, abs=1e-9)  # 100 x 0.5 / 0.8


# ------------------------------------------------------------------ more of the same columns
def test_gpu_figures_in_a_window_under_a_second():
    s = _gpu_readings(times=[t / 4 for t in T])  # training from 0.25 s to 0.75 s
    cols = derive.gpu_columns(s, _train(s), 0.5)
    assert cols["gpu_power_mean_w"] == 1200.0  # 600 J / 0.5 s
    details = json.loads(cols["gpu_details"])
    assert (details["GPU-aaa"]["power_mean_w"], details["GPU-bbb"]["power_mean_w"]) == (800.0, 400.0)


def test_a_gpu_source_that_failed_at_its_first_read():
    # the session never learnt the source's keys: its snapshots have no GPU figure at all
    s = _gpu_readings(series={"other": [0.0] * 5})
    s.failed = {"nvml": "collector nvml failed at t = 0.000 s: RuntimeError: boom"}
    cols = derive.gpu_columns(s, _train(s), 2.0)
    assert cols["gpu_energy_reason"] == "collector nvml failed at t = 0.000 s: RuntimeError: boom"
    for key in ("gpu_energy_j", "gpu_power_max_w", "gpu_util_mean_pct", "gpu_mem_used_peak_bytes",
                "gpu_temp_max_c", "gpu_sm_clock_mean_mhz"):
        assert math.isnan(cols[key]), key
    assert json.loads(cols["gpu_details"])["GPU-aaa"]["energy_j"] is None


def test_json_columns_are_written_with_sorted_keys(tmp_path):
    s = _rapl_readings(tmp_path)
    text = derive.cpu_columns(s, _train(s), 2.0)["rapl_zones"]
    assert text.startswith('{"intel-rapl:0": {"energy_j": 100.0, "error": null, "kind": "package", "name": '
                           '"package-0", "parent": null, "wraps": 2}, "intel-rapl:0:0": {')
    s = _gpu_readings(gpus=list(reversed(_gpus())))  # listed GPU-bbb first: written GPU-aaa first
    text = derive.gpu_columns(s, _train(s), 2.0)["gpu_details"]
    assert text.startswith('{"GPU-aaa": {"energy_j": 400.0, "index": 1, "mem_used_peak_bytes": 3221225472.0, '
                           '"name": "A100", "power_integral_j": 398.0, ')


def test_several_broken_zones_are_all_named(tmp_path):
    s = _rapl_readings(tmp_path, cpu=[0.0, 11.0, NAN, NAN, NAN], dram=[0.0, 1.0, NAN, NAN, NAN],
                       zone_kw={"package-0": {"broken": "counter reset"}, "dram": {"broken": "counter jumped"}})
    assert derive.cpu_columns(s, _train(s), 2.0)["cpu_energy_reason"] == (
        "intel-rapl:0: counter reset; intel-rapl:0:1: counter jumped")
    s = _rapl_readings(tmp_path, zone_kw={"psys": {"error": "unavailable: no energy_uj"},
                                          "core": {"broken": "counter jumped"}})
    assert derive.cpu_columns(s, _train(s), 2.0)["cpu_energy_reason"] == (
        "not included: intel-rapl:0:0: counter jumped; intel-rapl:1: unavailable: no energy_uj")


RAPL_COLUMNS = {"cpu_energy_j", "cpu_energy_low_j", "cpu_energy_high_j", "cpu_energy_source", "cpu_energy_reason",
                "rapl_zones", "cpu_package_energy_j", "dram_energy_j", "psys_energy_j", "cpu_idle_power_w",
                "cpu_dynamic_energy_j", "cpu_dynamic_reason", "cpu_power_mean_w"}
ESTIMATE_COLUMNS = {"cpu_energy_j", "cpu_energy_low_j", "cpu_energy_high_j", "cpu_energy_source",
                    "cpu_energy_reason", "cpu_tdp_w", "cpu_tdp_origin", "cpu_tdp_threads", "cpu_thread_power_w",
                    "cpu_idle_power_w", "cpu_dynamic_energy_j", "cpu_dynamic_reason", "cpu_power_mean_w"}


def test_the_cpu_columns_written(tmp_path):
    s = _rapl_readings(tmp_path)
    assert set(derive.cpu_columns(s, _train(s), 2.0)) == RAPL_COLUMNS
    s = _estimate_readings()
    assert set(derive.cpu_columns(s, _train(s), 2.0)) == ESTIMATE_COLUMNS


def test_memo_caches_per_session_and_number_of_snapshots(tmp_path):
    calls = []

    def verdict(s):
        calls.append(s)
        return f"verdict {len(calls)}"

    cached = derive._memo(verdict)
    a, b = _estimate_readings(), _estimate_readings()
    assert (cached(a), cached(a), cached(b), cached(b)) == ("verdict 1", "verdict 1", "verdict 2", "verdict 2")
    a.snapshots.append(a.snapshots[-1])
    assert (cached(a), cached(a)) == ("verdict 3", "verdict 3")
    assert calls == [a, b, a] and cached.__name__ == "verdict"
