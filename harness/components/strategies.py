"""tf.distribute strategies by name. Built inside the process that trains, after devices.configure().

Single-process strategies (``default``, ``one_device``, ``mirrored``,
``central_storage``, ``tpu``) run in an ordinary worker. Multi-process ones
(``multi_worker_mirrored``, ``parameter_server``) run as a cluster of processes
started by :mod:`harness.runner.cluster`; each process finds its role in
``TF_CONFIG``, which the harness writes (loopback) or the user gives (a real cluster).
"""

from __future__ import annotations

import json
import os
from typing import Any, Protocol

from harness.axis import AxisValue
from harness.errors import SkipCase


class StrategyCase(Protocol):
    """What this module reads of a :class:`harness.suite.Case` (the suite layer sits above components)."""

    strategy: AxisValue
    device: str

MULTI_PROCESS = ("multi_worker_mirrored", "parameter_server")
# Why some engines adapt under some strategies (recorded in the row's strategy_notes); which engine runs
# under which strategy at all is decided by harness.components.compat.
NO_XLA_REASON = ("XLA cannot access variables placed on another device "
                 "(https://www.tensorflow.org/xla/known_issues#tfvariable_on_a_different_device)")

def replicas_needed(strategy: AxisValue) -> int:
    """Logical devices a single-process strategy needs (decides the worker's device config)."""
    if strategy.name in ("mirrored", "central_storage"):
        return int(strategy.params.get("replicas", 2))
    return 1


def is_multi_process(case: StrategyCase) -> bool:
    """True for cases that run as a cluster of processes (see harness.runner.cluster)."""
    return case.strategy.name in MULTI_PROCESS


def cluster_shape(strategy: AxisValue) -> dict[str, int]:
    """Processes per task type of a loopback cluster: {"worker": W, "ps": P, "chief": C}."""
    p = strategy.params
    if strategy.name == "multi_worker_mirrored":
        return {"worker": int(p.get("workers", 2))}
    if strategy.name == "parameter_server":
        return {"chief": 1, "worker": int(p.get("workers", 2)), "ps": int(p.get("ps", 1))}
    return {}


def local_devices(kind: str, replicas: int) -> list[str]:
    """Device names for ``replicas`` replicas on this host (GPUs, else logical CPUs)."""
    import tensorflow as tf

    if kind == "gpu":
        found = [d.name for d in tf.config.list_logical_devices("GPU")]
    else:
        found = [d.name for d in tf.config.list_logical_devices("CPU")]
    if len(found) < replicas:
        raise SkipCase(f"{replicas} replicas need {replicas} {kind.upper()} devices; this process has "
                       f"{len(found)} ({', '.join(found) or 'none'})")
    return found[:replicas]


def build(case: StrategyCase) -> Any:
    """The strategy object for ``case``, or None for ``default``."""
    import tensorflow as tf

    name, params = case.strategy.name, case.strategy.params
    kind = case.device.partition(":")[0]
    if name == "default":
        return None
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(local_devices(kind, 1)[0])
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(local_devices(kind, replicas_needed(case.strategy)))
    if name == "central_storage":
        devices = local_devices(kind, replicas_needed(case.strategy))
        return tf.distribute.experimental.CentralStorageStrategy(devices, parameter_device="/cpu:0")
    if name == "multi_worker_mirrored":
        _require_tf_config(name)
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "parameter_server":
        _require_tf_config(name)
        resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
        return tf.distribute.experimental.ParameterServerStrategy(resolver)
    if name == "tpu":
        return _tpu(params)
    raise SkipCase(f"strategy {name!r} is not known to this build of the harness")


def _require_tf_config(name: str) -> None:
    if "TF_CONFIG" not in os.environ:
        raise RuntimeError(f"strategy {name!r} runs as a cluster of processes; this process has no TF_CONFIG "
                           "(it must be started by harness.runner.cluster)")
    json.loads(os.environ["TF_CONFIG"])


def _tpu(params: dict[str, Any]) -> Any:
    import tensorflow as tf

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=params.get("tpu", ""))
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as exc:
        raise SkipCase(f"no TPU on this host (TPUClusterResolver: {str(exc).splitlines()[0][:200]})") from None
    return tf.distribute.TPUStrategy(resolver)


def describe(strategy: Any) -> dict[str, Any]:
    """Columns about a built strategy: replicas in sync and workers."""
    if strategy is None:
        return {"num_replicas": 1, "num_workers": 1}
    workers = 1
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is not None and resolver.cluster_spec().as_dict():
        workers = len(resolver.cluster_spec().as_dict().get("worker", [])) or 1
    return {"num_replicas": strategy.num_replicas_in_sync, "num_workers": workers}
