"""Machine and software facts stored with every run (pytest-benchmark's machine_info/commit_info)."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

import psutil

from harness.collectors.cpu_estimate import cpu_model
from harness.collectors.environment import gpu_inventory, version

ENV_PREFIXES = ("TF_", "XLA_", "CUDA_", "OMP_", "MKL_", "KMP_", "OPENBLAS_", "NVIDIA_", "HARNESS_", "KERAS_")


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
        "cpu_count_physical": psutil.cpu_count(logical=False), "cpu_affinity": len(os.sched_getaffinity(0)),
        "memory_bytes": vm.total, "gpus": gpu["gpus"], "gpu_driver": gpu.get("driver"),
    }


def software_info() -> dict[str, Any]:
    from harness import __version__

    return {
        "harness": __version__, "python": platform.python_version(),
        **{p: version(p) for p in ("tensorflow", "keras", "numpy", "pandas", "pyarrow", "nvidia-ml-py", "psutil")},
    }


def environment_variables() -> dict[str, str]:
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith(ENV_PREFIXES)}
