"""Machine and software facts stored with every run (pytest-benchmark's machine_info/commit_info)."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

import psutil

ENV_PREFIXES = ("TF_", "XLA_", "CUDA_", "OMP_", "MKL_", "KMP_", "OPENBLAS_", "NVIDIA_", "HARNESS_", "KERAS_")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpus() -> tuple[list[dict[str, Any]], str | None]:
    """GPU models and driver via NVML; ([], None) without NVML."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:
        return [], None
    try:
        driver = pynvml.nvmlSystemGetDriverVersion()
        out = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            out.append({"index": i, "name": pynvml.nvmlDeviceGetName(h), "uuid": pynvml.nvmlDeviceGetUUID(h),
                        "memory_bytes": pynvml.nvmlDeviceGetMemoryInfo(h).total})
        return out, driver if isinstance(driver, str) else driver.decode()
    except Exception:
        return [], None
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


def git_info(path: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True,
                                  timeout=5, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None,
            "branch": git("rev-parse", "--abbrev-ref", "HEAD")}


def version(pkg: str) -> str | None:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    gpu_list, driver = gpus()
    vm = psutil.virtual_memory()
    uname = platform.uname()
    return {
        "host": socket.gethostname(), "os": uname.system, "kernel": uname.release, "arch": uname.machine,
        "cpu_model": cpu_model(), "cpu_count_logical": psutil.cpu_count(),
        "cpu_count_physical": psutil.cpu_count(logical=False), "cpu_affinity": len(os.sched_getaffinity(0)),
        "memory_bytes": vm.total, "gpus": gpu_list, "gpu_driver": driver,
    }


def software_info() -> dict[str, Any]:
    from harness import __version__

    return {
        "harness": __version__, "python": platform.python_version(),
        **{p: version(p) for p in ("tensorflow", "keras", "numpy", "pandas", "pyarrow", "nvidia-ml-py", "psutil")},
    }


def environment_variables() -> dict[str, str]:
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith(ENV_PREFIXES)}
