"""Columns derived from a stopped session's snapshots (cases, epochs, samples rows).

Rules kept here, in one place:

* missing is NaN plus a reason, never 0;
* ``energy_j`` is CPU + GPU when the case had GPUs; on a machine without GPUs it
  is the CPU figure alone (there is no GPU energy to add, rather than an unknown one);
* powers in the time series are trailing averages over at least
  ``max(10 x the source's update period, half the sample period)``, so a
  reading taken right after another does not turn one counter tick into a spike.
"""

from __future__ import annotations

import json
import math
from typing import Any

from harness.collectors import proc
from harness.collectors.readings import Readings, Snapshot

NAN = math.nan
GPU_KEYS = ("j", "power_j", "w", "util", "mem", "temp", "sm_mhz")


def _finite(x: float) -> bool:
    return x is not None and not math.isnan(x)


def _diff(a: Snapshot, b: Snapshot, key: str) -> float:
    return b.values.get(key, NAN) - a.values.get(key, NAN)


def _nanmax(xs: list[float]) -> float:
    xs = [x for x in xs if _finite(x)]
    return max(xs) if xs else NAN


def _nanmean(xs: list[float]) -> float:
    xs = [x for x in xs if _finite(x)]
    return sum(xs) / len(xs) if xs else NAN


def _uuids(s: Readings) -> list[str]:
    return s.plan.gpu_uuids


def _gpu_energy(s: Readings, a: Snapshot, b: Snapshot) -> float:
    if s.plan.gpu is None or s.plan.gpu.failed:
        return NAN
    return sum(_diff(a, b, f"{u}|j") for u in _uuids(s))


def _gpu_sum(snap: Snapshot, uuids: list[str], key: str) -> float:
    return sum(snap.values.get(f"{u}|{key}", NAN) for u in uuids) if uuids else NAN


def _combine(s: Readings, cpu_j: float, gpu_j: float) -> tuple[float, str]:
    """energy_j and energy_source from the CPU and GPU parts."""
    cpu_kind = {"rapl": "measured", "estimate_tdp": "estimated"}.get(getattr(s.plan.cpu, "label", ""), "")
    if not _finite(cpu_j):
        return NAN, "unavailable"
    if s.plan.gpu is None:
        return cpu_j, cpu_kind
    if not _finite(gpu_j):
        return NAN, "unavailable"
    return cpu_j + gpu_j, "measured" if cpu_kind == "measured" else "mixed"


def _rates(snaps: list[Snapshot], key: str, min_dt: float, scale: float = 1.0) -> list[float]:
    """Trailing rate of the cumulative ``key`` at each snapshot (NaN until ``min_dt`` has passed)."""
    out, j = [], 0
    for i, snap in enumerate(snaps):
        while j + 1 < i and snap.t - snaps[j + 1].t >= min_dt:
            j += 1
        dt = snap.t - snaps[j].t
        out.append(scale * _diff(snaps[j], snap, key) / dt if i > j and dt >= min_dt else NAN)
    return out


def _window(s: Readings) -> list[Snapshot]:
    return s.snapshots[s.start_index : s.stop_index + 1]


def _min_dt(s: Readings, update_s: float) -> float:
    return max(10 * update_s, 0.5 * s.config.sample_period_s)


def _idle(s: Readings, key: str, estimated: bool) -> float:
    idle = s.config.idle or {}
    if key == "cpu_power_w" and float(idle.get("cpu_power_estimated", 0.0)) != float(estimated):
        return NAN  # idle measured by another source: not comparable
    return float(idle.get(key, NAN))


def _cpu_columns(s: Readings, snaps: list[Snapshot], window: float) -> dict[str, Any]:
    cpu = s.plan.cpu
    if cpu is None:
        return {"cpu_energy_j": NAN, "cpu_energy_source": "unavailable", "cpu_energy_reason": s.plan.cpu_reason}
    a, b = snaps[0], snaps[-1]
    energy = _diff(a, b, "cpu_j")
    out: dict[str, Any] = {"cpu_energy_j": energy, "cpu_energy_source": cpu.label}
    reason = s.plan.cpu_reason
    if cpu.name == "rapl":
        detail = cpu.zones_detail(a.values, b.values)
        out["rapl_zones"] = json.dumps(detail, sort_keys=True)
        for kind, col in (("package", "cpu_package_energy_j"), ("dram", "dram_energy_j"), ("psys", "psys_energy_j")):
            out[col] = _diff(a, b, f"{kind}_j")
        broken = [f"{z}: {d['error']}" for z, d in detail.items() if d["error"]]
        if not _finite(energy):
            reason = "; ".join(broken) or "RAPL counter unreadable during the window"
        elif broken:
            reason = "not included: " + "; ".join(broken)
    else:
        tdp = s.plan.tdp
        out["cpu_tdp_w"], out["cpu_tdp_origin"] = tdp.watts, tdp.origin
    out["cpu_energy_reason"] = reason
    out["cpu_power_mean_w"] = energy / window if window > 0 else NAN
    out["cpu_power_max_w"] = _nanmax(_rates(snaps, "cpu_j", _min_dt(s, cpu.update_s)))
    idle = _idle(s, "cpu_power_w", cpu.label == "estimate_tdp")
    out["cpu_idle_power_w"] = idle
    out["cpu_dynamic_energy_j"] = energy - idle * window
    return out


def _gpu_detail(s: Readings, snaps: list[Snapshot], uuid: str, window: float) -> dict[str, Any]:
    gpu = s.plan.gpu_by_uuid(uuid)
    series = {k: [sn.values.get(f"{uuid}|{k}", NAN) for sn in snaps] for k in GPU_KEYS}
    energy = _diff(snaps[0], snaps[-1], f"{uuid}|j")
    vals = {
        "energy_j": energy, "power_integral_j": _diff(snaps[0], snaps[-1], f"{uuid}|power_j"), "power_mean_w": energy / window if window > 0 else NAN,
        "power_max_w": _nanmax(series["w"]), "util_mean_pct": _nanmean(series["util"]),
        "mem_used_peak_bytes": _nanmax(series["mem"]), "temp_max_c": _nanmax(series["temp"]),
        "sm_clock_mean_mhz": _nanmean(series["sm_mhz"]),
    }
    clean = {k: (round(v, 6) if _finite(v) else None) for k, v in vals.items()}
    source = "nvml_counter" if gpu.has_counter else "nvml_power"
    return {"index": gpu.index, "name": gpu.name, "source": source, **clean}


def _gpu_columns(s: Readings, snaps: list[Snapshot], window: float) -> dict[str, Any]:
    gpu = s.plan.gpu
    if gpu is None:
        return {"gpu_count": s.plan.gpu_count, "gpu_energy_j": NAN, "gpu_energy_source": "unavailable",
                "gpu_energy_reason": s.plan.gpu_reason}
    uuids = _uuids(s)
    energy = _gpu_energy(s, snaps[0], snaps[-1])
    idle = _idle(s, "gpu_power_w", False)
    details = {u: _gpu_detail(s, snaps, u, window) for u in uuids}
    return {
        "gpu_count": len(uuids), "gpu_energy_j": energy,
        "gpu_energy_source": "unavailable" if gpu.failed else gpu.label,
        "gpu_energy_reason": gpu.failed or "",
        "gpu_power_mean_w": energy / window if window > 0 else NAN,
        "gpu_power_max_w": _nanmax([_gpu_sum(sn, uuids, "w") for sn in snaps]),
        "gpu_idle_power_w": idle, "gpu_dynamic_energy_j": energy - idle * window,
        "gpu_util_mean_pct": _nanmean([_nanmean([sn.values.get(f"{u}|util", NAN) for u in uuids]) for sn in snaps]),
        "gpu_mem_used_peak_bytes": _nanmax([_gpu_sum(sn, uuids, "mem") for sn in snaps]),
        "gpu_temp_max_c": _nanmax([sn.values.get(f"{u}|temp", NAN) for sn in snaps for u in uuids]),
        "gpu_sm_clock_mean_mhz": _nanmean([sn.values.get(f"{u}|sm_mhz", NAN) for sn in snaps for u in uuids]),
        "gpu_details": json.dumps(details, sort_keys=True),
    }


def _flags(s: Readings, window: float) -> str | None:
    flags = []
    for part, src in (("cpu", s.plan.cpu), ("gpu", s.plan.gpu)):
        if src is not None and window < 10 * src.update_s * (1 - 1e-9):
            flags.append(f"{part} {src.label} needs >= {10 * src.update_s:g} s")
    return "short_window: " + ", ".join(flags) if flags else None


def _process_columns(s: Readings, snaps: list[Snapshot], window: float) -> dict[str, Any]:
    if s.plan.process is None:
        return {}
    a, b = snaps[0], snaps[-1]
    total = _diff(a, b, "sys_total_s")
    return {
        "process_cpu_util_pct": 100.0 * _diff(a, b, "proc_cpu_s") / (window * proc.logical_cpus()) if window > 0 else NAN,
        "system_cpu_util_pct": 100.0 * _diff(a, b, "sys_busy_s") / total if total > 0 else NAN,
        "system_mem_used_peak_bytes": _nanmax([sn.values.get("sys_mem", NAN) for sn in snaps]),
        "peak_rss_bytes": s.peak_rss,
    }


def case_columns(s: Readings, samples_trained: int, epochs: int, target_epoch: int | None) -> dict[str, Any]:
    snaps = _window(s)
    window = snaps[-1].t - snaps[0].t
    out: dict[str, Any] = {"collectors": ",".join(src.name for src in s.plan.sources), "energy_window_s": window}
    out.update(_cpu_columns(s, snaps, window))
    out.update(_gpu_columns(s, snaps, window))
    energy, source = _combine(s, out["cpu_energy_j"], out["gpu_energy_j"])
    out["energy_j"], out["energy_source"] = energy, source
    out["energy_per_sample_j"] = energy / samples_trained if samples_trained and samples_trained > 0 else NAN
    out["energy_per_epoch_j"] = energy / epochs if epochs and epochs > 0 else NAN
    out["energy_to_target_j"] = NAN
    if target_epoch is not None and target_epoch in s.marks:
        end = s.snapshots[s.marks[target_epoch]]
        out["energy_to_target_j"] = _combine(s, _diff(snaps[0], end, "cpu_j"), _gpu_energy(s, snaps[0], end))[0]
    out["energy_window_flag"] = _flags(s, window)
    out.update(_process_columns(s, snaps, window))
    return out


def epoch_columns(s: Readings) -> dict[int, dict[str, Any]]:
    start = s.snapshots[s.start_index]
    out: dict[int, dict[str, Any]] = {}
    prev = start
    for epoch in sorted(s.marks):
        cur = s.snapshots[s.marks[epoch]]
        cpu = _diff(prev, cur, "cpu_j") if s.plan.cpu else NAN
        out[epoch] = {
            "cpu_energy_j": cpu,
            "gpu_energy_j": _gpu_energy(s, prev, cur),
            "cum_energy_j": _combine(s, _diff(start, cur, "cpu_j") if s.plan.cpu else NAN,
                                     _gpu_energy(s, start, cur))[0],
        }
        prev = cur
    return out


def sample_rows(s: Readings) -> list[dict[str, Any]]:
    if not s.plan.sources:
        return []  # collectors disabled: no time series
    snaps = _window(s)
    t0 = snaps[0].t
    n = len(snaps)
    cpu, uuids = s.plan.cpu, _uuids(s)
    nan_list = [NAN] * n
    cpu_w = _rates(snaps, "cpu_j", _min_dt(s, cpu.update_s)) if cpu else nan_list
    dram_w = _rates(snaps, "dram_j", _min_dt(s, cpu.update_s)) if cpu and cpu.name == "rapl" else nan_list
    proc_pct = _rates(snaps, "proc_cpu_s", _min_dt(s, 0.01), 100.0) if s.plan.process else nan_list
    busy = _rates(snaps, "sys_busy_s", _min_dt(s, 0.01)) if s.plan.process else nan_list
    total = _rates(snaps, "sys_total_s", _min_dt(s, 0.01)) if s.plan.process else nan_list
    rows = []
    for i, sn in enumerate(snaps):
        v = sn.values
        rows.append({
            "t_s": sn.t - t0, "phase": sn.phase,
            "cpu_power_w": cpu_w[i], "cpu_power_source": cpu.label if cpu else "unavailable",
            "dram_power_w": dram_w[i],
            "gpu_power_w": _gpu_sum(sn, uuids, "w"),
            "gpu_util_pct": _nanmean([v.get(f"{u}|util", NAN) for u in uuids]),
            "gpu_mem_used_bytes": _gpu_sum(sn, uuids, "mem"),
            "gpu_temp_c": _nanmax([v.get(f"{u}|temp", NAN) for u in uuids]),
            "process_cpu_pct": proc_pct[i],
            "system_cpu_pct": 100.0 * busy[i] / total[i] if _finite(total[i]) and total[i] > 0 else NAN,
            "rss_bytes": v.get("rss", NAN), "system_mem_used_bytes": v.get("sys_mem", NAN),
        })
    return rows
