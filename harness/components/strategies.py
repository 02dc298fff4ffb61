"""tf.distribute strategies by name. Built inside the worker, after devices.configure()."""

from __future__ import annotations

from typing import Any

from harness.errors import SkipCase


def replicas_needed(strategy: dict[str, Any]) -> int:
    """Logical devices a single-process strategy needs (decides the worker's device config)."""
    if strategy["name"] in ("mirrored", "central_storage"):
        return int(strategy["params"].get("replicas", 2))
    return 1


def build(case: Any) -> Any:
    """The strategy object for ``case``, or None for ``default``."""
    import tensorflow as tf

    name = case.strategy["name"]
    if name == "default":
        return None
    kind = case.device.partition(":")[0]
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if kind == "gpu" else "/cpu:0")
    if name == "tpu":
        raise SkipCase("no TPU on this host (TPUClusterResolver found none)")
    raise SkipCase(f"strategy {name!r} is not supported by this build of the harness yet")
