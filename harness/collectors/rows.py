"""The cases, epochs and samples rows of a stopped session (figures from :mod:`derive`)."""

from __future__ import annotations

import math
from typing import Any

from harness.collectors import align, derive, idle, phases
from harness.collectors.readings import Readings, Snapshot

NAN = math.nan


def _flags(s: Readings, pairs: list[phases.Pair], window: float) -> str | None:
    """``short_window`` (shorter than 10 update periods) and ``edge_bias`` (see :func:`edge_bias`)."""
    short, slow = [], []
    for part, src in (("cpu", s.plan.cpu), ("gpu", s.plan.gpu)):
        if src is None:
            continue
        if window < 10 * src.update_s * (1 - 1e-9):
            short.append(f"{part} {src.label} needs >= {10 * src.update_s:g} s")
        offset = align.edge_offset_s(s.snapshots, pairs, src.name)
        bound = edge_bias(offset, window)
        if bound > EDGE_BIAS_MAX:
            slow.append(f"{part} {src.label} read {offset / (2 * len(pairs)) * 1e3:.3g} ms from the edges on average, "
                        f"train intervals {window / len(pairs) * 1e3:.3g} ms: up to {bound:.1%} of a power step "
                        "at the edges")
    flags = (["short_window: " + ", ".join(short)] if short else []) + (["edge_bias: " + ", ".join(slow)] if slow else [])
    return "; ".join(flags) or None


EDGE_BIAS_MAX = 0.005  # flag a source whose readings could bias the window's energy by more than this


def edge_bias(offset_s: float, window_s: float) -> float:
    """Bound on the relative bias of a window (``window_s`` s) whose edges are ``offset_s`` seconds (summed)
    from the readings that place them (:func:`harness.collectors.align.edge_offset_s`), per unit of
    power step at the edges. Aligned readings are exact under constant power; 0 when there is no window.
    """
    return offset_s / window_s if window_s > 0 else 0.0


def _phase_energy(s: Readings, phase: str) -> float:
    pairs = phases.intervals(s, phase)
    if not pairs:
        return NAN
    return derive.combine(s, derive.cpu_energy(s, pairs), derive.gpu_energy(s, pairs))[0]


def case_columns(s: Readings, samples_trained: int, epochs: int, target_epoch: int | None,
                 phase: str = "train") -> dict[str, Any]:
    """The cases-row columns; the energy figures cover the intervals of ``phase``."""
    pairs = phases.intervals(s, phase)
    window = phases.duration(s, pairs)
    named = [src.name for src in s.plan.sources if src not in s.plan.extra]
    out: dict[str, Any] = {"collectors": ",".join(named), "energy_window_s": window,
                           "sample_period_s": s.plan.sample_period_s if s.background else NAN}
    out.update(derive.cpu_columns(s, pairs, window))
    out.update(derive.gpu_columns(s, pairs, window))
    energy, source, reason = derive.combine(s, out["cpu_energy_j"], out["gpu_energy_j"])
    out.update(energy_j=energy, energy_source=source, energy_reason=reason)
    gpu = out["gpu_energy_j"] if _finite(out["gpu_energy_j"]) else 0.0
    out["energy_low_j"] = out.get("cpu_energy_low_j", NAN) + gpu if _finite(energy) else NAN
    out["energy_high_j"] = out.get("cpu_energy_high_j", NAN) + gpu if _finite(energy) else NAN
    out["energy_per_sample_j"] = energy / samples_trained if samples_trained and samples_trained > 0 else NAN
    out["energy_per_epoch_j"] = energy / epochs if epochs and epochs > 0 else NAN
    out["energy_to_target_j"] = NAN
    if target_epoch is not None and target_epoch in s.marks:
        until = phases.intervals(s, phase, until=s.marks[target_epoch])
        out["energy_to_target_j"] = derive.combine(s, derive.cpu_energy(s, until), derive.gpu_energy(s, until))[0]
    out["eval_energy_j"] = _phase_energy(s, "eval")
    out["compile_energy_j"] = _phase_energy(s, "compile")
    out["cpu_power_max_w"] = _power_max(s, pairs)
    out["energy_window_flag"] = _flags(s, pairs, window)
    out["dynamic_energy_flag"] = idle.flag(out.get("cpu_dynamic_reason", ""), out.get("gpu_dynamic_reason", ""))
    out["collectors_reason"] = "; ".join([s.sampler_failed, *s.failed.values()] if s.sampler_failed
                                         else s.failed.values())
    out.update(derive.memory_columns(s, pairs, window))
    out.update(derive.process_columns(s, pairs, window))
    return out


def _finite(x: Any) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _power_max(s: Readings, pairs: list[phases.Pair]) -> float:
    if s.plan.cpu is None or derive.cpu_stuck(s):
        return NAN
    snaps = s.snapshots[s.start_index: s.stop_index + 1]
    rates = trailing_rates(snaps, "cpu_j", min_dt(s, s.plan.cpu.update_s))
    inside = set(phases.indices(s, pairs))
    vals = [r for k, r in enumerate(rates, start=s.start_index) if k in inside and _finite(r)]
    return max(vals) if vals else NAN


def epoch_columns(s: Readings) -> dict[int, dict[str, Any]]:
    """Per epoch: its training updates' energy, the cumulative training energy, its evaluation's energy."""
    out: dict[int, dict[str, Any]] = {}
    prev = s.start_index
    marks = sorted(s.marks)
    for n, epoch in enumerate(marks):
        end = s.marks[epoch]
        nxt = s.marks[marks[n + 1]] if n + 1 < len(marks) else s.stop_index
        own, cum = phases.intervals(s, "train", prev, end), phases.intervals(s, "train", None, end)
        ev = [(i, j) for i, j in phases.intervals(s, "eval") if end <= i < nxt]
        cpu, gpu = derive.cpu_energy(s, own), derive.gpu_energy(s, own)
        out[epoch] = {
            "epoch_cpu_energy_j": cpu, "epoch_gpu_energy_j": gpu,
            "epoch_energy_j": derive.combine(s, cpu, gpu)[0],
            "cum_energy_j": derive.combine(s, derive.cpu_energy(s, cum), derive.gpu_energy(s, cum))[0],
            "eval_energy_j": derive.combine(s, derive.cpu_energy(s, ev), derive.gpu_energy(s, ev))[0] if ev else NAN,
        }
        prev = end
    return out


def min_dt(s: Readings, update_s: float) -> float:
    return max(10 * update_s, 0.5 * s.plan.sample_period_s)


def trailing_rates(snaps: list[Snapshot], key: str, dt_min: float, scale: float = 1.0) -> list[float]:
    """Trailing rate of cumulative ``key`` at each snapshot (NaN until ``dt_min`` has passed)."""
    out, j = [], 0
    for i, snap in enumerate(snaps):
        while j + 1 < i and snap.t - snaps[j + 1].t >= dt_min:
            j += 1
        dt = snap.t - snaps[j].t
        diff = snap.values.get(key, NAN) - snaps[j].values.get(key, NAN)
        out.append(scale * diff / dt if i > j and dt >= dt_min else NAN)
    return out


def sample_rows(s: Readings) -> list[dict[str, Any]]:
    """The time series from the session's start (compile phase first, when measured) to its stop."""
    if not s.plan.sources:
        return []  # collectors disabled: no time series
    snaps = s.snapshots[s.start_index: s.stop_index + 1]
    t0, n = snaps[0].t, len(snaps)
    cpu, ids = s.plan.cpu, derive.uuids(s)
    nan_list = [NAN] * n
    dead = bool(derive.cpu_stuck(s))
    cpu_w = trailing_rates(snaps, "cpu_j", min_dt(s, cpu.update_s)) if cpu and not dead else nan_list
    dram_w = trailing_rates(snaps, "dram_j", min_dt(s, cpu.update_s)) if cpu and cpu.name == "rapl" and not dead else nan_list
    proc_pct = trailing_rates(snaps, "proc_cpu_s", min_dt(s, 0.01), 100.0)
    busy = trailing_rates(snaps, "sys_busy_s", min_dt(s, 0.01))
    total = trailing_rates(snaps, "sys_total_s", min_dt(s, 0.01))
    rows = []
    for i, sn in enumerate(snaps):
        v = sn.values
        rows.append({
            "t_s": sn.t - t0, "phase": sn.phase,
            "cpu_power_w": cpu_w[i], "cpu_power_source": cpu.label if cpu else "unavailable",
            "dram_power_w": dram_w[i],
            "gpu_power_w": sum(v.get(f"{u}|w", NAN) for u in ids) if ids else NAN,
            "gpu_util_pct": derive._nanmean([v.get(f"{u}|util", NAN) for u in ids]),
            "gpu_mem_used_bytes": sum(v.get(f"{u}|mem", NAN) for u in ids) if ids else NAN,
            "gpu_temp_c": derive._nanmax([v.get(f"{u}|temp", NAN) for u in ids]),
            "process_cpu_pct": proc_pct[i],
            "system_cpu_pct": 100.0 * busy[i] / total[i] if _finite(total[i]) and total[i] > 0 else NAN,
            "rss_bytes": v.get("rss", NAN), "system_mem_used_bytes": v.get("sys_mem", NAN),
        })
    return rows
