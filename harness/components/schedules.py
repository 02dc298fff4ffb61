"""Learning-rate schedules by name; every one is recorded per epoch as the rate in force.

A schedule is either a ``keras.optimizers.schedules.LearningRateSchedule``
(a function of the update count, passed to the optimizer) or, for the adaptive
``reduce_on_plateau``, a float plus an epoch-end controller that assigns the
optimizer's learning-rate variable. Epoch-based parameters (``decay_epochs``,
``every_epochs``...) are converted with the case's updates per epoch.
Imports Keras; used inside worker processes only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.axis import AxisValue
from harness.components.catalog import PLATEAU_MONITORS, SCHEDULES
from harness.components.optimizers import import_object
from harness.errors import ConfigError


def inverse_power(lr0: float, alpha: float, beta: float, t: float) -> float:
    """The original design's decay: lr0 / (1 + alpha * t)^beta."""
    return lr0 / (1.0 + alpha * t) ** beta


def _keras_schedules() -> dict[str, Any]:
    import keras

    s = keras.optimizers.schedules

    class InversePower(s.LearningRateSchedule):
        """lr0 / (1 + alpha * t)^beta with t = update count, or epochs completed."""

        def __init__(self, lr0: float, alpha: float, beta: float, steps_per_unit: int) -> None:
            self.lr0, self.alpha, self.beta, self.steps_per_unit = lr0, alpha, beta, steps_per_unit

        def __call__(self, step):
            t = keras.ops.floor(keras.ops.cast(step, "float32") / self.steps_per_unit)
            return self.lr0 / keras.ops.power(1.0 + self.alpha * t, self.beta)

        def get_config(self):
            return {"lr0": self.lr0, "alpha": self.alpha, "beta": self.beta, "steps_per_unit": self.steps_per_unit}

    class StepDecay(s.LearningRateSchedule):
        """lr0 * factor^floor(epoch / every_epochs)."""

        def __init__(self, lr0: float, factor: float, every_steps: int) -> None:
            self.lr0, self.factor, self.every_steps = lr0, factor, every_steps

        def __call__(self, step):
            k = keras.ops.floor(keras.ops.cast(step, "float32") / self.every_steps)
            return self.lr0 * keras.ops.power(self.factor, k)

        def get_config(self):
            return {"lr0": self.lr0, "factor": self.factor, "every_steps": self.every_steps}

    return {"s": s, "InversePower": InversePower, "StepDecay": StepDecay}


@dataclass
class PlateauController:
    """ReduceLROnPlateau for custom loops: watches the epoch's loss, scales the optimizer's rate."""

    factor: float = 0.5
    patience: int = 2  # epochs
    min_delta: float = 1e-4
    min_lr: float = 0.0
    monitor: str = "loss"  # which of the epoch's figures it watches: catalog.PLATEAU_MONITORS
    best: float = math.inf
    wait: int = 0

    def __post_init__(self) -> None:
        if self.monitor not in PLATEAU_MONITORS:
            raise ConfigError(f"schedule reduce_on_plateau: monitor must be one of {', '.join(PLATEAU_MONITORS)}. "
                              f"Received: monitor={self.monitor!r}")

    def on_epoch_end(self, optimizer: Any, value: float) -> None:
        if value < self.best - self.min_delta:
            self.best, self.wait = value, 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            lr = float(optimizer.learning_rate)
            optimizer.learning_rate = max(lr * self.factor, self.min_lr)
            self.wait = 0


def _steps(params: dict, key: str, steps_per_epoch: int, default_epochs: float = 1.0) -> int:
    if key in params:
        return int(params[key])
    epochs_key = key.replace("steps", "epochs")
    return max(1, int(round(float(params.get(epochs_key, default_epochs)) * steps_per_epoch)))


def build(config: AxisValue | Mapping[str, Any] | str, lr0: float, steps_per_epoch: int,
          epochs: int) -> tuple[Any, PlateauController | None]:
    """(learning_rate for the optimizer, optional epoch-end controller)."""
    config = AxisValue.of(config)
    name, p = config.name, dict(config.params)
    if ":" in name:
        cls = import_object(name)
        return cls(initial_learning_rate=lr0, steps_per_epoch=steps_per_epoch, **p), None
    if name == "constant":
        return float(lr0), None
    if name == "reduce_on_plateau":
        return float(lr0), PlateauController(**{k: p[k] for k in SCHEDULES[name]["params"] if k in p})
    k = _keras_schedules()
    s = k["s"]
    try:
        if name == "exponential":
            return s.ExponentialDecay(lr0, _steps(p, "decay_steps", steps_per_epoch), p.get("decay_rate", 0.9),
                                      staircase=p.get("staircase", False)), None
        if name == "inverse_time":
            return s.InverseTimeDecay(lr0, _steps(p, "decay_steps", steps_per_epoch), p.get("decay_rate", 0.5),
                                      staircase=p.get("staircase", False)), None
        if name == "piecewise_constant":
            bounds = p.get("boundaries") or [int(e * steps_per_epoch) for e in p.get("boundary_epochs", [max(1, epochs // 2)])]
            values = p.get("values") or [lr0 * f for f in p.get("factors", [1.0] + [0.1 ** (i + 1) for i in range(len(bounds))])]
            return s.PiecewiseConstantDecay(list(bounds), list(values)), None
        if name == "polynomial":
            return s.PolynomialDecay(lr0, _steps(p, "decay_steps", steps_per_epoch, epochs), p.get("end_learning_rate", lr0 / 100),
                                     power=p.get("power", 1.0), cycle=p.get("cycle", False)), None
        if name == "cosine":
            warm = _steps(p, "warmup_steps", steps_per_epoch, 0.0) if ("warmup_steps" in p or "warmup_epochs" in p) else 0
            return s.CosineDecay(lr0 if not warm else lr0 / 10, _steps(p, "decay_steps", steps_per_epoch, epochs),
                                 alpha=p.get("alpha", 0.0), warmup_target=p.get("warmup_target", lr0) if warm else None,
                                 warmup_steps=warm), None
        if name == "cosine_restarts":
            return s.CosineDecayRestarts(lr0, _steps(p, "first_decay_steps", steps_per_epoch, max(1, epochs / 3)),
                                         t_mul=p.get("t_mul", 2.0), m_mul=p.get("m_mul", 1.0), alpha=p.get("alpha", 0.0)), None
        if name == "inverse_power":
            unit = p.get("unit", "steps")
            if unit not in ("steps", "epochs"):
                raise ConfigError(f"schedule inverse_power: unit must be 'steps' or 'epochs'. Received: unit={unit!r}")
            return k["InversePower"](lr0, float(p.get("alpha", 0.01)), float(p.get("beta", 1.0)),
                                     steps_per_epoch if unit == "epochs" else 1), None
        if name == "step_decay":
            return k["StepDecay"](lr0, float(p.get("factor", 0.5)), int(p.get("every_epochs", 1)) * steps_per_epoch), None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"schedule {name!r} rejected parameters {p}: {exc}") from exc
    raise ConfigError(f"unknown schedule {name!r}")


def rate_at(optimizer: Any, update: int) -> float:
    """The learning rate in force at ``update`` (0-based): schedules evaluated, variables read."""
    import keras

    lr = optimizer._learning_rate
    if isinstance(lr, keras.optimizers.schedules.LearningRateSchedule):
        return float(lr(max(update, 0)))
    return float(optimizer.learning_rate)
