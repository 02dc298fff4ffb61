"""What every engine shares: the spec it gets, the hooks it calls, the result it returns,
and the per-epoch bookkeeping (evaluation, learning rate in force, divergence, plateau).

An engine only decides *how the training loop is driven*; the model, optimizer,
schedule and the one train step (:mod:`harness.engines.step`) come from outside.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


@dataclass
class TrainSpec:
    """One case as an engine sees it (already resolved: effective batch, steps per epoch)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    batch_size: int
    epochs: int
    seed: int
    target_accuracy: float
    steps_per_execution: int | None = None
    jit_compile: bool | None = None
    strategy: Any = None  # a tf.distribute.Strategy, or None
    strategy_name: str = "default"  # its registry name (harness.components.strategies)
    driver: str | None = None  # the strategy's ``driver`` parameter: forces the fast engine's driver
    x_val: np.ndarray | None = None  # the validation part (harness.components.validation); None: none
    y_val: np.ndarray | None = None
    program: Any = None  # a kept compiled program to reuse (harness.runner.worker.programs.Program); None: build

    @property
    def has_validation(self) -> bool:
        return self.x_val is not None and len(self.x_val) > 0

    @property
    def steps_per_epoch(self) -> int:
        return len(self.x_train) // self.batch_size


class Hooks(Protocol):
    """Called by the engine; implemented by the worker (collectors live behind it).

    The engine marks its phases, in this order: ``on_phase("compile")`` before
    warm-up (engines that compile nothing skip it), ``on_window_start()`` once
    the timed window begins (host work until the first update), then per epoch
    ``on_phase("train")`` right before its timed updates and ``on_epoch_end``
    right after them (evaluation follows: :class:`EpochLoop` marks ``eval`` and
    then ``host``), and ``on_window_end()``. Energy figures cover ``train`` only.
    """

    def on_phase(self, phase: str) -> None:
        """``phase`` (compile, train, eval, host) begins now."""

    def on_window_start(self) -> None: ...

    def on_epoch_end(self, epoch: int) -> None: ...

    def after_steps(self, total_steps: int) -> None:
        """After each host call (a chunk, a step, a Keras batch): updates done so far in the window."""

    def on_window_end(self) -> None: ...


class NoHooks:
    def on_phase(self, phase: str) -> None:
        pass

    def on_window_start(self) -> None:
        pass

    def on_epoch_end(self, epoch: int) -> None:
        pass

    def after_steps(self, total_steps: int) -> None:
        pass

    def on_window_end(self) -> None:
        pass


@dataclass
class EngineResult:
    status: str = "ok"  # ok | diverged
    error: str = ""
    compile_s: float = math.nan
    train_s: float = 0.0
    eval_s: float = 0.0
    eval_passes: int = 0
    steps: int = 0
    examples: int = 0
    step_ms: list[float] = field(default_factory=list)  # one entry per update (chunk time / K)
    step_time_basis: str = "per_step"
    initial_loss: float = math.nan
    retraces: int | None = None
    epochs: list[dict[str, Any]] = field(default_factory=list)
    target_epoch: int | None = None
    notes: str = ""  # how the engine adapted to the strategy (XLA scope, metric sources)
    driver: str = ""  # the path that drove the loop (harness.components.strategies.Driver, or keras_fit's)
    xla_scope: str = ""  # what XLA compiled: loop, gradients, train_step or none
    target_basis: str = "test"  # the accuracy time-to-target reads: validation (a split exists) or test


class EpochLoop:
    """Bookkeeping after each epoch's training; engines call :meth:`end_epoch`.

    ``evaluate()`` returns (test loss, test accuracy); ``validate()`` the same on the
    validation part (the engine's own evaluation function on other arrays, see
    :func:`evaluator`). The target is reached on validation accuracy when there is a
    validation part, else (no split) on test accuracy (``target_basis``).
    """

    def __init__(self, spec: TrainSpec, optimizer: Any, evaluate: Any, hooks: Hooks,
                 controller: Any = None, validate: Any = None) -> None:
        self.spec, self.optimizer, self.evaluate, self.hooks = spec, optimizer, evaluate, hooks
        self.controller, self.validate = controller, validate
        self.result = EngineResult()
        self.result.target_basis = "validation" if validate is not None else "test"

    def end_epoch(self, epoch: int, loss: float, accuracy: float, steps: int, epoch_s: float) -> bool:
        """Record the epoch; returns True when training must stop (diverged)."""
        self.hooks.on_epoch_end(epoch)  # first: the epoch's training ended when epoch_s was read
        r = self.result
        r.train_s += epoch_s
        r.steps += steps
        r.examples += steps * self.spec.batch_size
        lr = learning_rate_at(self.optimizer, r.steps - 1)
        self.hooks.on_phase("eval")
        t0 = time.perf_counter_ns()
        test_loss, test_acc = self.evaluate()
        val_loss, val_acc = self.validate() if self.validate is not None else (math.nan, math.nan)
        r.eval_s += (time.perf_counter_ns() - t0) / 1e9
        r.eval_passes += 1
        self.hooks.on_phase("host")
        r.epochs.append({
            "epoch": epoch, "loss": loss, "train_accuracy": accuracy, "test_loss": test_loss,
            "test_accuracy": test_acc, "validation_loss": val_loss, "validation_accuracy": val_acc,
            "learning_rate_in_force": lr, "epoch_s": epoch_s, "cum_train_s": r.train_s, "epoch_steps": steps,
        })
        target_acc = val_acc if self.validate is not None else test_acc
        if r.target_epoch is None and target_acc >= self.spec.target_accuracy:
            r.target_epoch = epoch
        if not math.isfinite(loss):
            r.status, r.error = "diverged", f"training loss became {loss} in epoch {epoch}"
            return True
        if self.controller is not None:
            watched = {"loss": loss, "test_loss": test_loss}[getattr(self.controller, "monitor", "loss")]
            self.controller.on_epoch_end(self.optimizer, watched)
        return False


def evaluator(evaluate: Any, x: np.ndarray | None, y: np.ndarray | None) -> Any:
    """``() -> (loss, accuracy)`` of the engine's compiled ``evaluate(x, y)`` on fixed arrays (converted
    to tensors once), or None when there are none (no validation part)."""
    if x is None or not len(x):
        return None
    import tensorflow as tf

    xt, yt = tf.constant(x), tf.constant(y)
    return lambda: tuple(float(v) for v in evaluate(xt, yt))


def learning_rate_at(optimizer: Any, update: int) -> float:
    """The rate in force at ``update``; under a strategy the rate variable is a distributed
    variable (a MirroredVariable, or one on a parameter server), read through ``numpy()``."""
    from harness.components.schedules import rate_at

    try:
        return rate_at(optimizer, update)
    except TypeError:
        return float(np.asarray(optimizer.learning_rate.value.numpy()))


def snapshot(model: Any, optimizer: Any) -> tuple[list, list]:
    """Weights and optimizer state, to undo warm-up updates."""
    return [w.copy() for w in model.get_weights()], [v.numpy() for v in optimizer.variables]


def restore(model: Any, optimizer: Any, state: tuple[list, list]) -> None:
    weights, opt_vars = state
    model.set_weights(weights)
    for var, value in zip(optimizer.variables, opt_vars, strict=True):
        var.assign(value)


def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """The seeded reshuffle of the training set for ``epoch`` (like model.fit's shuffle)."""
    return np.random.default_rng((seed, epoch)).permutation(n).astype(np.int32)
