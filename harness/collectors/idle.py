"""Idle baselines per device, and a case's dynamic energy: pure functions.

:func:`harness.collectors.measure_idle` measures every visible device while
nothing runs and records, besides the totals (``cpu_power_w``, ``dram_power_w``,
``psys_power_w``, ``gpu_power_w``), one key per device (W):

* ``rapl_power_w:<zone id>`` for each RAPL package and DRAM zone;
* ``gpu_power_w:<uuid>`` for each GPU.

A case is charged for some devices only (``gpu:1`` charges GPU 1, not every
visible GPU), so its idle power is the sum of exactly those devices' baselines
(:func:`cpu_idle_w`, :func:`gpu_idle_w`), and its dynamic energy is
``energy_j - idle_w x window_s`` (:func:`dynamic`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

NAN = math.nan
NOT_MEASURED = "no idle baseline measured (idle_baseline_s)"
ZONE_KEY, GPU_KEY = "rapl_power_w:", "gpu_power_w:"


def charged_zones(zones: Iterable[Any]) -> list[Any]:
    """The RAPL zones a CPU figure sums: every package zone and the readable DRAM zones."""
    return [z for z in zones if z.kind == "package" or (z.kind == "dram" and not z.error)]


def cpu_idle_w(idle: dict[str, float], zones: Iterable[Any]) -> tuple[float, str]:
    """(idle W of the charged RAPL zones, '' or why NaN).

    Per-zone keys when the baseline has them; else the total ``cpu_power_w`` (it
    covers the same zones: a CPU figure always charges every package), unless it
    came from an estimate (``cpu_power_estimated``), which has no idle power.
    """
    if not idle:
        return NAN, NOT_MEASURED
    if float(idle.get("cpu_power_estimated", 0.0)):
        return NAN, "the idle baseline was an estimate, not comparable with a measured figure"
    charged = charged_zones(zones)
    if any(k.startswith(ZONE_KEY) for k in idle):
        missing = [z.zone_id for z in charged if ZONE_KEY + z.zone_id not in idle]
        if missing:
            return NAN, f"no idle baseline for RAPL zone(s) {', '.join(missing)}"
        return sum(float(idle[ZONE_KEY + z.zone_id]) for z in charged), ""
    if "cpu_power_w" in idle:
        return float(idle["cpu_power_w"]), ""
    return NAN, NOT_MEASURED


def gpu_idle_w(idle: dict[str, float], gpus: Iterable[Any]) -> tuple[float, str]:
    """(idle W of exactly the GPUs charged, '' or why NaN); ``gpus`` have ``index`` and ``uuid``.

    Only per-GPU keys count: a total over the visible GPUs cannot be split among them.
    """
    gpus = list(gpus)
    if not any(k.startswith(GPU_KEY) for k in idle):
        why = "the idle baseline is not per GPU" if "gpu_power_w" in idle else NOT_MEASURED
        return NAN, why
    missing = [f"{g.index} ({g.uuid})" for g in gpus if GPU_KEY + g.uuid not in idle]
    if missing:
        return NAN, f"no idle baseline for GPU(s) {', '.join(missing)}"
    return sum(float(idle[GPU_KEY + g.uuid]) for g in gpus), ""


def dynamic(energy_j: float, idle_w: float, window_s: float, why: str, device: str) -> tuple[float, str]:
    """(dynamic J = ``energy_j - idle_w x window_s``, reason).

    NaN with ``why`` when the idle power is unknown, NaN without a new reason when
    the energy is. A negative result is kept (it says by how much the baseline was
    above the window's mean power) with a reason that starts ``negative:``; the
    row's ``dynamic_energy_flag`` names it (:func:`flag`).
    """
    if not math.isfinite(energy_j):
        return NAN, f"no {device} energy"
    if not math.isfinite(idle_w):
        return NAN, why
    dyn = energy_j - idle_w * window_s
    if dyn >= 0:
        return dyn, ""
    mean = energy_j / window_s if window_s > 0 else NAN
    return dyn, (f"negative: the idle baseline {idle_w:.4g} W is above the window's mean {device} power "
                 f"{mean:.4g} W (the idle state drew more than the case did: another load during the baseline, "
                 "or a deeper power state while the case ran)")


def flag(cpu_reason: str, gpu_reason: str) -> str | None:
    """``negative_dynamic: cpu, gpu`` naming the parts whose dynamic energy is below zero; None if none."""
    parts = [p for p, r in (("cpu", cpu_reason), ("gpu", gpu_reason)) if r.startswith("negative:")]
    return "negative_dynamic: " + ", ".join(parts) if parts else None


def per_device(cols: dict[str, Any], window_s: float) -> dict[str, float]:
    """Per-device idle keys (W) from an idle session's columns (``rapl_zones``, ``gpu_details`` JSON)."""
    out: dict[str, float] = {}
    if window_s <= 0:
        return out
    cpu_ok = cols.get("cpu_energy_source") == "rapl" and _finite(cols.get("cpu_energy_j"))
    zones = json.loads(cols.get("rapl_zones") or "{}") if cpu_ok else {}
    for zone_id, d in zones.items():
        if d.get("kind") in ("package", "dram") and d.get("energy_j") is not None:
            out[ZONE_KEY + zone_id] = d["energy_j"] / window_s
    if cols.get("gpu_energy_source") in ("nvml_counter", "nvml_power") and _finite(cols.get("gpu_energy_j")):
        for uuid, d in json.loads(cols.get("gpu_details") or "{}").items():
            if d.get("energy_j") is not None:
                out[GPU_KEY + uuid] = d["energy_j"] / window_s
    return out


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
