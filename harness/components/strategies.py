"""tf.distribute strategies by name. Built inside the process that trains, after devices.configure().

Single-process strategies (``default``, ``one_device``, ``mirrored``,
``central_storage``, ``tpu``) run in an ordinary worker. Multi-process ones
(``multi_worker_mirrored``, ``parameter_server``) run as a cluster of processes
started by :mod:`harness.runner.cluster.supervise`; each process finds its role in
``TF_CONFIG``, which the harness writes (loopback) or the user gives (a real cluster).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
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

@dataclass(frozen=True)
class Driver:
    """How the ``fast`` engine drives the K-update loop under a strategy (row columns ``engine_driver``,
    ``xla_scope``; ``note`` goes to ``strategy_notes``)."""

    name: str  # xla_loop | graph_loop+xla_gradients | graph_loop | coordinator
    xla_scope: str  # loop | gradients | none
    note: str


XLA_LOOP = Driver("xla_loop", "loop", "the whole K-update loop is one XLA computation"
                  " (strategy.run inside it: the replica's variables and compute share one device)")
XLA_GRADIENTS = Driver("graph_loop+xla_gradients", "gradients",
                       "graph loop around strategy.run; XLA compiles the forward/backward pass, all-reduce"
                       " and update run outside XLA (a cross-device merge_call cannot run inside XLA)")
GRAPH_LOOP = Driver("graph_loop", "none", "graph loop around strategy.run, no XLA")
COORDINATOR = Driver("coordinator", "none", "asynchronous updates via ClusterCoordinator; no XLA: " + NO_XLA_REASON)

# The fast engine's driver per (strategy, placement, device kind): the one table. "one_device": every
# replica's variables and compute on one device (1 replica, and under central_storage the parameter
# device is the compute device); "several_devices" otherwise. Multi-device choices were measured side
# by side by scripts/bench_strategies.py (see docs/distributed.md); GPU rows are not measured here.
FAST_DRIVERS: dict[tuple[str, str, str], tuple[Driver, str]] = {
    **{(s, "one_device", k): (XLA_LOOP, "") for s in ("default", "one_device", "mirrored", "central_storage",
                                                     "multi_worker_mirrored") for k in ("cpu", "gpu")},
    ("mirrored", "several_devices", "cpu"): (GRAPH_LOOP, "measured: no XLA beats XLA on the gradients on"
                                             " logical CPUs (the XLA launches per replica and step cost more"
                                             " than they save)"),
    ("mirrored", "several_devices", "gpu"): (XLA_GRADIENTS, "not measured on this machine (no GPU)"),
    ("central_storage", "several_devices", "cpu"): (GRAPH_LOOP, "no XLA: " + NO_XLA_REASON),
    ("central_storage", "several_devices", "gpu"): (GRAPH_LOOP, "no XLA: " + NO_XLA_REASON),
    ("multi_worker_mirrored", "several_devices", "cpu"): (XLA_GRADIENTS, "measured: XLA on the gradients"
                                                          " 1.08x no XLA with 2 worker processes"),
    ("multi_worker_mirrored", "several_devices", "gpu"): (XLA_GRADIENTS, "not measured on this machine (no GPU)"),
    ("tpu", "several_devices", "tpu"): (GRAPH_LOOP, "TPUStrategy compiles the replica function itself"),
    ("tpu", "one_device", "tpu"): (GRAPH_LOOP, "TPUStrategy compiles the replica function itself"),
}
JIT_OFF = "jit_compile = false: no XLA"
DRIVERS = {d.name: d for d in (XLA_LOOP, XLA_GRADIENTS, GRAPH_LOOP, COORDINATOR)}


def fast_driver(name: str, strategy: Any, jit_compile: bool | None, forced: str | None = None) -> tuple[Driver, str]:
    """The ``fast`` engine's driver for the built ``strategy`` (registry ``name``), and why.
    ``forced``: the strategy's ``driver`` parameter, set to measure the drivers against each other."""
    if name == "parameter_server":
        return COORDINATOR, ""
    if forced:
        if forced not in DRIVERS or forced == COORDINATOR.name:
            raise ValueError(f"strategy driver={forced!r}: not a synchronous driver; "
                             f"known: {', '.join(n for n in DRIVERS if n != COORDINATOR.name)}")
        return DRIVERS[forced], "driver set by the strategy's driver parameter"
    if jit_compile is False:
        return GRAPH_LOOP, JIT_OFF
    key = (name, placement(strategy), device_kind(strategy))
    if key not in FAST_DRIVERS:
        return GRAPH_LOOP, f"no driver measured for {key}; the plain graph loop is the safe choice"
    return FAST_DRIVERS[key]


def placement(strategy: Any) -> str:
    """"one_device" when every replica's variables and compute live on one device, else "several_devices"."""
    if strategy is None:
        return "one_device"
    if strategy.num_replicas_in_sync != 1:
        return "several_devices"
    devices = set(strategy.extended.worker_devices)
    devices |= set(getattr(strategy.extended, "parameter_devices", ()) or ())  # central_storage's variables
    return "one_device" if len({_device_id(d) for d in devices}) == 1 else "several_devices"


def _device_id(name: str) -> tuple[str, int]:
    import tensorflow as tf

    spec = tf.DeviceSpec.from_string(name)
    return (spec.device_type or "CPU").upper(), spec.device_index or 0


def device_kind(strategy: Any) -> str:
    """cpu, gpu or tpu: the kind of the replicas' devices."""
    import tensorflow as tf

    if strategy is None:
        return "gpu" if tf.config.list_logical_devices("GPU") else "cpu"
    kinds = {tf.DeviceSpec.from_string(d).device_type for d in strategy.extended.worker_devices}
    return (kinds.pop() if len(kinds) == 1 else "several").lower()


def replicas_needed(strategy: AxisValue) -> int:
    """Logical devices a single-process strategy needs (decides the worker's device config)."""
    if strategy.name in ("mirrored", "central_storage"):
        return int(strategy.params.get("replicas", 2))
    return 1


def is_multi_process(case: StrategyCase) -> bool:
    """True for cases that run as a cluster of processes (see harness.runner.cluster.supervise)."""
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
                           "(it must be started by harness.runner.cluster.supervise)")
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
