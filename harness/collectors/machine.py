"""Machine and software facts: the one module that knows them (run.json, ``harness env``).

Reads the device layer (NVML inventory, the CPU model) but measures nothing;
pytest-benchmark's ``machine_info``/``commit_info`` are built from the same facts.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

import psutil

from harness.collectors import nvml
from harness.collectors.cpu_estimate import cpu_model

# packages whose versions are recorded with every run and shown by `harness env`
PACKAGES = ("tensorflow", "keras", "numpy", "pandas", "pyarrow", "nvidia-ml-py", "psutil")
ENV_PREFIXES = ("TF_", "XLA_", "CUDA_", "OMP_", "MKL_", "KMP_", "OPENBLAS_", "NVIDIA_", "HARNESS_", "KERAS_")


def version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


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


def git_info(path: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True,
                                  timeout=5, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    when = git("show", "-s", "--format=%cI", "HEAD")  # committer date: the order of `harness history`
    return {"commit": commit, "dirty": bool(status) if status is not None else None,
            "branch": git("rev-parse", "--abbrev-ref", "HEAD"), "commit_utc": _utc(when)}


def _utc(iso: str | None) -> str | None:
    """An ISO-8601 time with offset -> UTC ISO-8601 (so that strings sort in time order)."""
    if not iso:
        return None
    from datetime import UTC, datetime

    try:
        return datetime.fromisoformat(iso).astimezone(UTC).isoformat(timespec="seconds")
    except ValueError:
        return None


def machine_info() -> dict[str, Any]:
    gpu = gpu_inventory(os.environ.get("CUDA_VISIBLE_DEVICES"))
    vm = psutil.virtual_memory()
    uname = platform.uname()
    return {
        "host": socket.gethostname(), "os": uname.system, "kernel": uname.release, "arch": uname.machine,
        "cpu_model": cpu_model() or platform.processor() or platform.machine(), "cpu_count_logical": psutil.cpu_count(),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_bytes": vm.total, "gpus": gpu["gpus"], "gpu_driver": gpu.get("driver"),
    }


@functools.cache
def where_am_i() -> dict[str, str]:
    """``host`` and ``machine`` for every result row (once per process).

    ``machine`` is what reports use as the machine axis: ``HARNESS_MACHINE`` when
    set (name your machines: ``a100-node``, ``ci-ubuntu``), else the hardware
    (CPU model, CPUs usable, GPUs), so that the pods or nodes of a homogeneous
    cluster count as one machine and different hardware stays apart.
    """
    label = os.environ.get("HARNESS_MACHINE", "").strip() or hardware_label(machine_info())
    return {"host": socket.gethostname(), "machine": label}


def hardware_label(info: dict[str, Any]) -> str:
    cpus = info.get("cpu_affinity") or info.get("cpu_count_logical")
    label = f"{info.get('cpu_model') or 'unknown CPU'} ({cpus} CPUs)"
    names: dict[str, int] = {}
    for gpu in info.get("gpus") or []:
        name = str(gpu.get("name") or "GPU") if isinstance(gpu, dict) else str(gpu)
        names[name] = names.get(name, 0) + 1
    return label + "".join(f" + {n}x {name}" for name, n in names.items())


def software_info() -> dict[str, Any]:
    from harness import __version__

    return {
        "harness": __version__, "python": platform.python_version(),
        **{p: version(p) for p in PACKAGES},
    }


def environment_variables() -> dict[str, str]:
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith(ENV_PREFIXES)}
