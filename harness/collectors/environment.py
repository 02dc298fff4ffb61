"""What ``harness env`` shows: the machine and what can be measured on it."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import socket
import sys
from typing import Any

import psutil

from harness.collectors import cpu_estimate, nvml, rapl
from harness.collectors.base import CollectorConfig

PACKAGES = ("tensorflow", "keras", "numpy", "pandas", "pyarrow", "psutil", "nvidia-ml-py")


def version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _rapl() -> dict[str, Any]:
    device = rapl.discover()
    zones = [
        {"zone": z.zone_id, "name": z.name, "kind": z.kind, "parent": z.parent,
         "max_energy_range_uj": z.max_range_uj, "readable": not z.error, "error": z.error or None}
        for z in device.zones
    ]
    return {"root": str(device.root), "zones": zones, "reason": device.reason or None}


def gpu_inventory(visible: str | None) -> dict[str, Any]:
    """GPUs NVML sees (honouring ``visible``), the driver, or the reason there are none."""
    try:
        module = nvml.load()
    except nvml.NvmlError as exc:
        return {"available": False, "reason": str(exc), "gpus": []}
    try:
        driver = module.nvmlSystemGetDriverVersion()
        device = nvml.NvmlDevice(module, visible)
        gpus = device.describe()
        reason = device.reason or None
        device.close()
    except (nvml.NvmlError, module.NVMLError) as exc:
        return {"available": False, "reason": str(exc), "gpus": []}
    driver = driver.decode() if isinstance(driver, bytes) else str(driver)
    return {"available": bool(gpus), "reason": reason, "driver": driver, "gpus": gpus}


def describe(config: CollectorConfig) -> dict[str, Any]:
    from harness.collectors import available_collectors

    model = cpu_estimate.cpu_model()
    logical = psutil.cpu_count(logical=True)
    per_package = cpu_estimate.threads_per_package()
    tdp, tdp_reason = cpu_estimate.resolve_tdp(config.tdp_w, config.tdp_origin, per_package, model,
                                               config.tdp_threads)
    used = tdp or (cpu_estimate.GENERIC if config.tdp_w is None and config.tdp_threads is None else None)
    visible = config.cuda_visible_devices if config.cuda_visible_devices is not None else os.environ.get("CUDA_VISIBLE_DEVICES")
    return {
        "host": socket.gethostname(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "packages": {p: version(p) for p in PACKAGES},
        "cpu": {
            "model": model or None, "machine": platform.machine(),
            "logical_cpus": logical, "physical_cores": psutil.cpu_count(logical=False),
            "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "threads_per_package": per_package,
            "tdp_w": tdp.watts if tdp else None, "tdp_origin": tdp.origin if tdp else None,
            "tdp_threads": tdp.threads if tdp else None, "tdp_reason": tdp_reason or None,
            "estimate": (f"{used.label}: {used.describe()}" if used else f"none: {tdp_reason}"),
            "w_per_thread": used.watts_per_thread if used else float("nan"),
            "estimate_warning": (used.warning() or None) if used else None,
        },
        "memory_total_bytes": psutil.virtual_memory().total,
        "powercap": _rapl(),
        "nvml": {"cuda_visible_devices": visible, **gpu_inventory(visible)},
        "collectors": {k: {"available": ok, "reason": why} for k, (ok, why) in available_collectors(config).items()},
    }
