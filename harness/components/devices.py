"""Devices and precisions: what this host can run, decided inside the worker.

``configure`` must run before TensorFlow initialises its devices (hence worker
processes): it hides GPUs for CPU cases, sets intra-op threads for ``cpu:N``,
and splits the CPU into logical devices when a strategy needs N replicas.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from harness.errors import SkipCase


@dataclass(frozen=True)
class DeviceConfig:
    """What must be fixed before TensorFlow starts; cases with equal configs share a worker."""

    kind: str  # cpu | gpu | tpu
    intra_op_threads: int | None = None
    logical_cpus: int = 1
    gpu_index: int | None = None


def device_config(device: str, replicas: int = 1) -> DeviceConfig:
    kind, _, arg = device.partition(":")
    if kind == "cpu":
        return DeviceConfig("cpu", int(arg) if arg else None, max(1, replicas))
    if kind == "gpu":
        return DeviceConfig("gpu", None, 1, int(arg) if arg else None)
    return DeviceConfig(kind)


def configure(cfg: DeviceConfig) -> None:
    """Apply ``cfg`` to TensorFlow. Call once per process, before any op runs."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if cfg.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(cfg.intra_op_threads)
    gpus = tf.config.list_physical_devices("GPU")
    if cfg.kind == "cpu" and gpus:
        tf.config.set_visible_devices([], "GPU")
    if cfg.kind == "gpu" and cfg.gpu_index is not None and cfg.gpu_index < len(gpus):
        tf.config.set_visible_devices([gpus[cfg.gpu_index]], "GPU")
    if cfg.kind == "cpu" and cfg.logical_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(cfg.logical_cpus)])


def check(device: str, precision: str) -> None:
    """Raise SkipCase when this host lacks the device, or the device lacks the precision."""
    import tensorflow as tf

    kind, _, arg = device.partition(":")
    if kind == "gpu":
        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            raise SkipCase("no GPU visible to TensorFlow on this host")
        if arg and int(arg) >= len(gpus):
            raise SkipCase(f"GPU {arg} not present ({len(gpus)} GPU(s) on this host)")
    if kind == "tpu" and not tf.config.list_logical_devices("TPU"):
        raise SkipCase("no TPU on this host (tf.config lists no TPU device)")
    if precision == "mixed_float16" and kind == "cpu":
        raise SkipCase("mixed_float16 needs a GPU (compute capability >= 7.0); "
                       "on CPU TensorFlow emulates float16 matmuls (use mixed_bfloat16 on CPU)")
    if precision == "mixed_float16" and kind == "gpu":
        details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
        cc = details.get("compute_capability", (0, 0))
        if tuple(cc) < (7, 0):
            raise SkipCase(f"mixed_float16 needs compute capability >= 7.0; this GPU has {cc}")
