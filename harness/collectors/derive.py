"""Columns derived from a stopped session's snapshots (cases and epochs rows).

Rules kept here, in one place:

* the energy columns cover the ``train`` phase only (the timed training
  updates); ``eval_energy_j`` and ``compile_energy_j`` are their own columns;
* missing is NaN plus a reason, never 0; a counter that stood still (anywhere in
  the session), stepped implausibly (reset, jump: see :mod:`counters`), or whose
  source failed or whose sampler stopped, is missing, with when and why;
* dynamic energy subtracts the idle power of exactly the charged devices
  (:mod:`harness.collectors.idle`); a negative one is kept with a reason and a flag;
* ``energy_j`` is CPU + the GPUs the case used; when any device the case used
  has unknown energy, ``energy_j`` is NaN and ``energy_reason`` says which (the
  parts stay in their own columns); on a CPU case the GPUs are not charged;
* estimates carry low/high bounds; an estimate has no idle/dynamic split;
* powers in the time series are trailing averages over at least
  ``max(10 x the source's update period, half the sample period)``
  (:mod:`harness.collectors.samples`).
"""

from __future__ import annotations

import functools
import json
import math
import weakref
from collections.abc import Callable
from typing import Any

from harness.collectors import cpu_estimate, phases, process_stats
from harness.collectors import idle as idle_mod
from harness.collectors.readings import Readings
from harness.schema import MEASURED_SOURCES, is_estimated

NAN = math.nan
SPLIT_ESTIMATE = ("no idle/dynamic split for an estimate: it charges only the benchmark's own "
                  "CPU-seconds, so it has no idle part to subtract")


def _finite(x: Any) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _nanmax(xs: list[float]) -> float:
    xs = [x for x in xs if _finite(x)]
    return max(xs) if xs else NAN


def _nanmean(xs: list[float]) -> float:
    xs = [x for x in xs if _finite(x)]
    return sum(xs) / len(xs) if xs else NAN


def uuids(s: Readings) -> list[str]:
    return s.plan.gpu_uuids


def cpu_kind(s: Readings) -> str:
    label = getattr(s.plan.cpu, "label", "")
    return "measured" if label in MEASURED_SOURCES else "estimated" if is_estimated(label) else ""


def _memo(fn: Callable[[Readings], str]) -> Callable[[Readings], str]:
    """Cache a verdict on a stopped session (its snapshots no longer change; the stall scan is O(n))."""
    cache: weakref.WeakKeyDictionary[Any, tuple[int, str]] = weakref.WeakKeyDictionary()

    @functools.wraps(fn)
    def wrapper(s: Readings) -> str:
        key = len(s.snapshots)
        hit = cache.get(s)
        if hit is None or hit[0] != key:
            hit = (key, fn(s))
            cache[s] = hit
        return hit[1]

    return wrapper


def _cpu_stuck(s: Readings) -> str:
    """Why the CPU figure is void as a whole, or '': the sampler stopped, the CPU source failed,
    or a package or DRAM zone stood still while the session was open."""
    if s.sampler_failed:
        return s.sampler_failed
    if s.plan.cpu is not None and s.plan.cpu.name in s.failed:
        return s.failed[s.plan.cpu.name]
    if getattr(s.plan.cpu, "name", "") != "rapl":
        return ""
    first = s.snapshots[s.start_index].values
    for z in s.plan.cpu.device.zones:
        if z.kind in ("package", "dram") and _finite(first.get(f"zone:{z.zone_id}", NAN)):
            why = phases.stuck(s, f"zone:{z.zone_id}", "rapl")
            if why:
                gone = "" if (z.path / "energy_uj").exists() else "; its energy_uj no longer exists"
                return f"RAPL zone {z.zone_id} ({z.name}): {why}{gone}"
    return ""


def _gpu_stuck(s: Readings) -> str:
    """Why the GPU figure is void as a whole, or '': the sampler stopped, NVML failed, a counter
    stepped implausibly (backwards, a jump) or stood still while the session was open."""
    if s.plan.gpu is None:
        return ""
    if s.sampler_failed:
        return s.sampler_failed
    if s.plan.gpu.failed or "nvml" in s.failed:
        return s.plan.gpu.failed or s.failed["nvml"]
    for g in s.plan.gpu.device.gpus:
        if g.broken:
            return g.broken
        why = phases.stuck(s, f"{g.uuid}|j", "nvml_counter") if g.has_counter else ""
        if why:
            return f"GPU {g.index} ({g.uuid}) energy counter: {why}"
    return ""


# memoised by assignment, not with a decorator: mutmut leaves decorated functions unmutated,
# and these two verdicts void whole energy figures (scripts/mutation.py, docs/testing.md)
cpu_stuck = _memo(_cpu_stuck)
gpu_stuck = _memo(_gpu_stuck)


def cpu_energy(s: Readings, pairs: list[phases.Pair]) -> float:
    if s.plan.cpu is None or cpu_stuck(s):
        return NAN
    return phases.total(s, pairs, "cpu_j")


def gpu_energy(s: Readings, pairs: list[phases.Pair]) -> float:
    if s.plan.gpu is None or gpu_stuck(s):
        return NAN
    return sum(phases.total(s, pairs, f"{u}|j") for u in uuids(s))


def combine(s: Readings, cpu_j: float, gpu_j: float) -> tuple[float, str, str]:
    """(energy_j, energy_source, energy_reason) from the CPU and GPU parts."""
    kind = cpu_kind(s)
    if not _finite(cpu_j):
        return NAN, "unavailable", "CPU energy unknown (see cpu_energy_reason)"
    gpu_used = s.plan.gpu is not None or s.plan.uses_gpu
    if not gpu_used:
        return cpu_j, kind, ""
    if not _finite(gpu_j):
        return NAN, "unavailable", "the case used GPUs whose energy is unknown (see gpu_energy_reason)"
    return cpu_j + gpu_j, "measured" if kind == "measured" else "mixed", ""


def _bounds(s: Readings, energy: float) -> tuple[float, float]:
    tdp = s.plan.tdp
    if not _finite(energy):
        return NAN, NAN
    if tdp is None:  # measured
        return energy, energy
    return energy * tdp.low_factor, energy * tdp.high_factor


def _rapl_columns(s: Readings, pairs: list[phases.Pair], energy: float) -> dict[str, Any]:
    cpu = s.plan.cpu
    a, b = s.snapshots[s.start_index], s.snapshots[s.stop_index]
    detail = cpu.zones_detail(a.values, b.values)
    for zone_id in detail:
        detail[zone_id]["energy_j"] = _round(phases.total(s, pairs, f"zone:{zone_id}"))
    out: dict[str, Any] = {"rapl_zones": json.dumps(detail, sort_keys=True)}
    for kind, col in (("package", "cpu_package_energy_j"), ("dram", "dram_energy_j"), ("psys", "psys_energy_j")):
        out[col] = phases.total(s, pairs, f"{kind}_j")
    broken = [f"{z}: {d['error']}" for z, d in detail.items() if d["error"]]
    stuck = cpu_stuck(s)
    reasons = list(s.plan.notes)
    if stuck:
        reasons.insert(0, stuck)
        out["cpu_package_energy_j"] = out["dram_energy_j"] = NAN
    elif not _finite(energy):
        reasons.insert(0, "; ".join(broken) or "RAPL counter unreadable during the window")
    elif broken:
        reasons.append("not included: " + "; ".join(broken))
    out["cpu_energy_reason"] = "; ".join(reasons)
    return out


def _round(x: float) -> float | None:
    return round(x, 6) if _finite(x) else None


def cpu_columns(s: Readings, pairs: list[phases.Pair], window: float) -> dict[str, Any]:
    cpu = s.plan.cpu
    if cpu is None:
        return {"cpu_energy_j": NAN, "cpu_energy_source": "unavailable", "cpu_energy_reason": s.plan.cpu_reason,
                "cpu_dynamic_reason": "no CPU energy"}
    energy = cpu_energy(s, pairs)
    low, high = _bounds(s, energy)
    out: dict[str, Any] = {"cpu_energy_j": energy, "cpu_energy_low_j": low, "cpu_energy_high_j": high,
                           "cpu_energy_source": cpu.label, "cpu_energy_reason": s.plan.cpu_reason}
    if cpu.name == "rapl":
        out.update(_rapl_columns(s, pairs, energy))
        idle, why = idle_mod.cpu_idle_w(s.config.idle, s.plan.cpu.device.zones)
        out["cpu_idle_power_w"] = idle
        out["cpu_dynamic_energy_j"], out["cpu_dynamic_reason"] = idle_mod.dynamic(energy, idle, window, why, "CPU")
    else:
        tdp = s.plan.tdp
        out["cpu_tdp_w"], out["cpu_tdp_origin"] = tdp.watts, tdp.origin
        out["cpu_tdp_threads"], out["cpu_thread_power_w"] = tdp.threads, tdp.watts_per_thread
        out["cpu_idle_power_w"], out["cpu_dynamic_energy_j"] = NAN, NAN
        out["cpu_dynamic_reason"] = SPLIT_ESTIMATE
        out["cpu_energy_reason"] = "; ".join(r for r in (cpu_stuck(s), s.plan.cpu_reason) if r)
    out["cpu_power_mean_w"] = energy / window if window > 0 else NAN
    return out


def memory_columns(s: Readings, pairs: list[phases.Pair], window: float) -> dict[str, Any]:
    """A labelled estimate of memory power (Green Algorithms: W per GiB resident), estimate mode only."""
    if cpu_kind(s) != "estimated":
        why = "measured by RAPL (dram zones, in cpu_energy_j)" if cpu_kind(s) == "measured" else "no CPU figure"
        return {"memory_energy_j": NAN, "memory_energy_source": "unavailable: " + why}
    if s.plan.process is None:
        return {"memory_energy_j": NAN, "memory_energy_source": "unavailable: process collector not selected"}
    rss = _nanmean([s.snapshots[k].values.get("rss", NAN) for k in phases.indices(s, pairs)])
    energy = cpu_estimate.MEMORY_W_PER_GIB * rss / 2**30 * window
    return {"memory_energy_j": energy, "memory_energy_source": "estimate_generic"}


def gpu_columns(s: Readings, pairs: list[phases.Pair], window: float) -> dict[str, Any]:
    gpu = s.plan.gpu
    if gpu is None:
        return {"gpu_count": s.plan.gpu_count, "gpu_energy_j": NAN, "gpu_energy_source": "unavailable",
                "gpu_energy_reason": s.plan.gpu_reason}
    ids = uuids(s)
    energy = gpu_energy(s, pairs)
    idle, why = idle_mod.gpu_idle_w(s.config.idle, [s.plan.gpu_by_uuid(u) for u in ids])
    dynamic, dyn_reason = idle_mod.dynamic(energy, idle, window, why, "GPU")
    snaps = [s.snapshots[k] for k in phases.indices(s, pairs)]
    details = {u: _gpu_detail(s, pairs, u, window) for u in ids}
    return {
        "gpu_count": len(ids), "gpu_energy_j": energy,
        "gpu_energy_source": "unavailable" if gpu_stuck(s) else gpu.label,
        "gpu_energy_reason": gpu_stuck(s),
        "gpu_power_mean_w": energy / window if window > 0 else NAN,
        "gpu_power_max_w": _nanmax([_gpu_sum(sn.values, ids, "w") for sn in snaps]),
        "gpu_idle_power_w": idle, "gpu_dynamic_energy_j": dynamic, "gpu_dynamic_reason": dyn_reason,
        "gpu_util_mean_pct": _nanmean([_nanmean([sn.values.get(f"{u}|util", NAN) for u in ids]) for sn in snaps]),
        "gpu_mem_used_peak_bytes": _nanmax([_gpu_sum(sn.values, ids, "mem") for sn in snaps]),
        "gpu_temp_max_c": _nanmax([sn.values.get(f"{u}|temp", NAN) for sn in snaps for u in ids]),
        "gpu_sm_clock_mean_mhz": _nanmean([sn.values.get(f"{u}|sm_mhz", NAN) for sn in snaps for u in ids]),
        "gpu_details": json.dumps(details, sort_keys=True),
    }


def _gpu_sum(values: dict[str, float], ids: list[str], key: str) -> float:
    return sum(values.get(f"{u}|{key}", NAN) for u in ids) if ids else NAN


def _gpu_detail(s: Readings, pairs: list[phases.Pair], uuid: str, window: float) -> dict[str, Any]:
    gpu = s.plan.gpu_by_uuid(uuid)
    snaps = [s.snapshots[k] for k in phases.indices(s, pairs)]
    series = {k: [sn.values.get(f"{uuid}|{k}", NAN) for sn in snaps] for k in ("w", "util", "mem", "temp", "sm_mhz")}
    energy = phases.total(s, pairs, f"{uuid}|j")
    vals = {
        "energy_j": energy, "power_integral_j": phases.total(s, pairs, f"{uuid}|power_j"),
        "power_mean_w": energy / window if window > 0 else NAN,
        "power_max_w": _nanmax(series["w"]), "util_mean_pct": _nanmean(series["util"]),
        "mem_used_peak_bytes": _nanmax(series["mem"]), "temp_max_c": _nanmax(series["temp"]),
        "sm_clock_mean_mhz": _nanmean(series["sm_mhz"]),
    }
    source = "nvml_counter" if gpu.has_counter else "nvml_power"
    return {"index": gpu.index, "name": gpu.name, "source": source, **{k: _round(v) for k, v in vals.items()}}


def process_columns(s: Readings, pairs: list[phases.Pair], window: float) -> dict[str, Any]:
    """CPU utilisation and whose energy: the benchmark's share of the machine's busy CPU time."""
    if not s.plan.sources:
        return {}
    proc_s = phases.total(s, pairs, "proc_cpu_s")
    busy = phases.total(s, pairs, "sys_busy_s")
    total = phases.total(s, pairs, "sys_total_s")
    share = min(1.0, proc_s / busy) if _finite(busy) and busy > 0 and _finite(proc_s) else NAN
    out = {
        "benchmark_cpu_share": share,
        "process_cpu_util_pct": 100.0 * proc_s / (window * process_stats.logical_cpus()) if window > 0 else NAN,
        "system_cpu_util_pct": min(100.0, 100.0 * busy / total) if _finite(total) and total > 0 else NAN,
    }
    if s.plan.process is not None:
        snaps = [s.snapshots[k] for k in phases.indices(s, pairs)]
        out["system_mem_used_peak_bytes"] = _nanmax([sn.values.get("sys_mem", NAN) for sn in snaps])
        # the sampled peak RSS (s.peak_rss) is not a collectors column: the runner's CaseMemory owns
        # peak_rss_bytes and falls back to it (CollectorHooks.peak_rss) when VmHWM cannot be reset
    return out
