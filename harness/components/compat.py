"""Which engine runs under which strategy: one table, each refusal with its reason.

Read before a case starts (the runner, for multi-process cases, before any
process exists; the worker, before building the model), so a combination this
build of Keras / TensorFlow cannot run is ``skipped`` with the precise reason
and never half-runs. A combination that no rule refuses runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from harness.axis import AxisValue
from harness.components.strategies import NO_XLA_REASON


class EngineCase(Protocol):
    """What the table reads of a :class:`harness.suite.Case`."""

    engine: str
    strategy: AxisValue
    steps_per_execution: int | None
    jit_compile: bool | None


@dataclass(frozen=True)
class Conditions:
    """What a rule may depend on besides engine and strategy."""

    workers: int = 1  # worker processes of a multi-worker strategy
    steps_per_execution: int | None = None
    jit_compile: bool | None = None


@dataclass(frozen=True)
class Rule:
    engine: str
    strategies: frozenset[str]
    reason: str  # may use {strategy}: the tf.distribute class name
    applies: Callable[[Conditions], bool] = lambda c: True


EAGER_REASON = ("the eager engine is the design document's single-device loop; under a "
                "multi-replica strategy use engine = \"fast\" or \"keras_fit\"")
KERAS_FIT_PS_REASON = ("keras_fit under parameter_server: Keras 3's model.fit has no ClusterCoordinator "
                       "support (only tf_keras/Keras 2 had it; Keras 3's TensorFlow trainer never creates "
                       "a coordinator); use engine = \"fast\", which drives tf.distribute.coordinator")
KERAS_FIT_MWM_REASON = ("keras_fit under multi_worker_mirrored: Keras 3.15's model.fit fails in multi-worker mode "
                        "(Trainer._maybe_symbolic_build reduces a PerReplica batch: \"Attempt to convert a value "
                        "(PerReplica...) to a Tensor\"; bypassing it, the metric reduction fails: \"Invalid "
                        "reduction dimension 0 for input with 0 dimensions\"); known: keras-team/keras#20585, "
                        "tensorflow/tensorflow#72388. Use engine = \"fast\"")
KERAS_FIT_MIRRORED_SPE_REASON = (
    "keras_fit with steps_per_execution > 1 under MirroredStrategy: Keras 3.15's multi-step "
    "loop (a tf.while_loop whose cond checks the iterator) fails under MirroredStrategy with "
    "InvalidArgumentError \"You must feed a value for placeholder tensor "
    "'while/cond/Placeholder'\" (keras-team/keras#19246); use steps_per_execution = 1, or "
    "engine = \"fast\"")
KERAS_FIT_JIT_REASON = ("keras_fit with jit_compile = true under {strategy}: " + NO_XLA_REASON.replace("{", "{{")
                        .replace("}", "}}") + "; leave jit_compile unset (Keras picks) or false")

# tf.distribute class of each strategy (what reasons name)
STRATEGY_CLASSES = {
    "one_device": "OneDeviceStrategy", "mirrored": "MirroredStrategy",
    "central_storage": "CentralStorageStrategy", "multi_worker_mirrored": "MultiWorkerMirroredStrategy",
    "parameter_server": "ParameterServerStrategy", "tpu": "TPUStrategy",
}
MULTI_DEVICE = frozenset({"mirrored", "central_storage", "multi_worker_mirrored", "parameter_server", "tpu"})

# first matching rule wins
RULES: tuple[Rule, ...] = (
    Rule("eager", MULTI_DEVICE, EAGER_REASON),
    Rule("keras_fit", frozenset({"parameter_server"}), KERAS_FIT_PS_REASON),
    Rule("keras_fit", frozenset({"multi_worker_mirrored"}), KERAS_FIT_MWM_REASON, lambda c: c.workers > 1),
    Rule("keras_fit", frozenset({"mirrored"}), KERAS_FIT_MIRRORED_SPE_REASON,
         lambda c: (c.steps_per_execution or 1) > 1),
    Rule("keras_fit", MULTI_DEVICE - {"parameter_server"}, KERAS_FIT_JIT_REASON, lambda c: bool(c.jit_compile)),
)


def skip_reason(engine: str, strategy: str, conditions: Conditions | None = None) -> str | None:
    """Why ``engine`` cannot run under ``strategy`` (a registry name), or None when it can."""
    conditions = conditions or Conditions()
    for rule in RULES:
        if rule.engine == engine and strategy in rule.strategies and rule.applies(conditions):
            return rule.reason.format(strategy=STRATEGY_CLASSES.get(strategy, strategy))
    return None


def case_skip_reason(case: EngineCase, workers: int = 1) -> str | None:
    """:func:`skip_reason` for a :class:`harness.suite.Case` (``workers``: its worker processes)."""
    conditions = Conditions(workers, case.steps_per_execution, case.jit_compile)
    return skip_reason(case.engine, case.strategy.name, conditions)
