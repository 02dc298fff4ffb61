"""Compiled programs shared by consecutive cases of one configuration (a tuning sweep's trials).

Trials of one configuration differ in their learning rate (and the finals in their
seed) only. A Keras optimizer's learning rate is a variable and the initial weights
are values, so the XLA program the ``fast`` engine traces and compiles for the first
trial is the same for the others: a worker that runs cases in its own process
(``--worker-mode reuse``, ``harness tune``'s default) keeps the last configuration's
model, optimizer and compiled chunk, and before the next case of the same
configuration assigns the seed's initial weights (built once per seed), the
optimizer's state before any update (iterations, slots as the class initialises
them), and the case's learning rate. The case then runs exactly as a fresh one would
(same program, same initial state, same data order: tests/runner/worker/
test_programs.py compares the losses), minus the trace and compile.

Not shared (each such case builds and compiles its own, as before): other engines,
strategies, mixed precision, profiled cases, a learning-rate schedule (its constants
are traced into the program), and cases that differ in any other hyperparameter:
``momentum``, ``beta_1`` and the like are Python floats that Keras reads while tracing
(SGD even decides from ``momentum != 0`` whether it keeps slots), so two values need
two programs. The row says when its program was reused (``strategy_notes``:
:data:`harness.engines.fast.PROGRAM_REUSED`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

SEEDS_KEPT = 16  # initial weights kept per configuration (one entry per seed: final seeds are few)


def share_key(case: Any) -> str | None:
    """The identity of the program ``case`` compiles, without the values a reused program takes as
    variables (learning rate, seed) or that don't reach it (labels, tuning bookkeeping, limits);
    None where the case's program is not shared (see the module's docstring)."""
    if (case.engine != "fast" or case.strategy.name != "default" or case.precision != "float32"
            or case.profile or case.cluster or case.schedule.name != "constant"):
        return None
    base = replace(case, learning_rate=0.0, seed=0, repeats=1, label="", stage=None, trial=None,
                   tuned_params=None, time_limit_s=None, target_accuracy=0.0)
    d = base.to_dict()
    d["optimizer"] = {k: v for k, v in d["optimizer"].items() if k != "label"}  # A/A: one program
    return json.dumps(d, sort_keys=True, default=str)


@dataclass
class Program:
    """One configuration's model, optimizer and (once the engine built it) compiled trainer."""

    key: str
    model: Any
    optimizer: Any
    fresh_optimizer: list[np.ndarray]
    weights: dict[int, list[np.ndarray]] = field(default_factory=dict)
    trainer: Any = None  # the engine's compiled pieces (harness.engines.fast.Trainer)
    uses: int = 0

    def reset(self, seed: int, learning_rate: float, build_model: Callable[[], Any]) -> None:
        """The state a fresh case of ``seed`` and ``learning_rate`` starts from."""
        if seed not in self.weights:
            if len(self.weights) >= SEEDS_KEPT:
                self.weights.pop(next(iter(self.weights)))
            self.weights[seed] = [w.copy() for w in build_model().get_weights()]
        self.model.set_weights(self.weights[seed])
        for var, value in zip(self.optimizer.variables, self.fresh_optimizer, strict=True):
            var.assign(value)
        self.optimizer.learning_rate = learning_rate
        self.uses += 1


class Programs:
    """The last configuration's :class:`Program` of a worker process (one kept: trials of a
    configuration run one after another, and a kept program holds its data's device copies)."""

    def __init__(self) -> None:
        self.last: Program | None = None

    def lookup(self, case: Any) -> Program | None:
        key = share_key(case)
        if key is None or self.last is None or self.last.key != key:
            return None
        return self.last

    def keep(self, case: Any, seed: int, model: Any, optimizer: Any) -> Program | None:
        """Remember a freshly built model and optimizer (the optimizer built now, before any update,
        so its initial state can be restored); None, and nothing kept, when ``case`` shares nothing."""
        key = share_key(case)
        self.last = None
        if key is None:
            return None
        optimizer.build(model.trainable_variables)
        self.last = Program(key, model, optimizer, [v.numpy() for v in optimizer.variables],
                            {seed: [w.copy() for w in model.get_weights()]})
        return self.last
