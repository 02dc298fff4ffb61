"""What ``harness env`` shows: the machine (facts from :mod:`harness.collectors.machine`) and what can be measured on it."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

from harness.collectors import cpu_estimate, rapl
from harness.collectors.base import CollectorConfig
from harness.collectors.machine import PACKAGES, gpu_inventory, machine_info, version


def _rapl() -> dict[str, Any]:
    device = rapl.discover()
    zones = [
        {"zone": z.zone_id, "name": z.name, "kind": z.kind, "parent": z.parent,
         "max_energy_range_uj": z.max_range_uj, "readable": not z.error, "error": z.error or None}
        for z in device.zones
    ]
    return {"root": str(device.root), "zones": zones, "reason": device.reason or None}


def describe(config: CollectorConfig) -> dict[str, Any]:
    from harness.collectors import available_collectors

    facts = machine_info()
    model = cpu_estimate.cpu_model()
    logical = facts["cpu_count_logical"]
    per_package = cpu_estimate.threads_per_package()
    tdp, tdp_reason = cpu_estimate.resolve_tdp(config.tdp_w, config.tdp_origin, per_package, model,
                                               config.tdp_threads)
    used = tdp or (cpu_estimate.GENERIC if config.tdp_w is None and config.tdp_threads is None else None)
    visible = config.cuda_visible_devices if config.cuda_visible_devices is not None else os.environ.get("CUDA_VISIBLE_DEVICES")
    return {
        "host": facts["host"],
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "packages": {p: version(p) for p in PACKAGES},
        "cpu": {
            "model": model or None, "machine": facts["arch"],
            "logical_cpus": logical, "physical_cores": facts["cpu_count_physical"],
            "affinity": facts["cpu_affinity"],
            "threads_per_package": per_package,
            "tdp_w": tdp.watts if tdp else None, "tdp_origin": tdp.origin if tdp else None,
            "tdp_threads": tdp.threads if tdp else None, "tdp_reason": tdp_reason or None,
            "estimate": (f"{used.label}: {used.describe()}" if used else f"none: {tdp_reason}"),
            "w_per_thread": used.watts_per_thread if used else float("nan"),
            "estimate_warning": (used.warning() or None) if used else None,
        },
        "memory_total_bytes": facts["memory_bytes"],
        "powercap": _rapl(),
        "nvml": {"cuda_visible_devices": visible, **gpu_inventory(visible)},
        "collectors": {k: {"available": ok, "reason": why} for k, (ok, why) in available_collectors(config).items()},
    }
