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

Hyperparameters other than the learning rate are Python floats that Keras reads while
tracing. Those the update only uses in arithmetic (:data:`VARIABLE_KEYWORDS`: Adam's, AdamW's,
Nadam's, Adamax's and Lion's ``beta_1``/``beta_2``, RMSprop's and Adadelta's ``rho``)
become ``tf.Variable`` attributes of the kept optimizer, so trials that differ in them
share the program too. The figures then agree with a fresh build's within float32
rounding, not bit for bit: with a Python float Keras computes ``1 - beta_1`` in double
and rounds once; with a variable it computes it in float32 (measured: 2.8e-6 relative
in the loss after 2 epochs of a diverging trial; tested at 1e-4). Learning rate and
seed changes give the fresh build's figures exactly (the learning rate already is a
variable). The others need one program per value: SGD
decides from ``momentum != 0`` whether it keeps slots and branches on it inside the
update (a variable there fails: "using a tf.Tensor as a Python bool"); a keyword left
to the class default is kept apart from one written out.

Not shared at all (each such case builds and compiles its own, as before): other
engines, strategies, mixed precision, profiled cases, a learning-rate schedule (its
constants are traced into the program). The row says when its program was reused
(``strategy_notes``: :data:`harness.engines.fast.PROGRAM_REUSED`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

# keywords a Keras optimizer class reads in arithmetic only, never in a Python branch: a tf.Variable
# in their place gives one program for every value (checked per class on this machine: same losses
# within float32 rounding; see the module docstring)
VARIABLE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "Adam": ("beta_1", "beta_2"), "AdamW": ("beta_1", "beta_2"), "Nadam": ("beta_1", "beta_2"), "Adamax": ("beta_1", "beta_2"),
    "Lion": ("beta_1", "beta_2"), "RMSprop": ("rho",), "Adadelta": ("rho",),
}
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
    variable = variable_values(case)
    d["optimizer"]["params"] = {k: ("variable" if k in variable else v) for k, v in d["optimizer"]["params"].items()}
    return json.dumps(d, sort_keys=True, default=str)


def variable_values(case: Any) -> dict[str, float]:
    """The case's optimizer keywords that a kept program holds as variables (written in the case, of a
    class in :data:`VARIABLE_KEYWORDS`), with their values."""
    from harness.components import catalog

    entry = catalog.optimizer_entries().get(case.optimizer.name)
    keys = VARIABLE_KEYWORDS.get(entry.keras_class, ()) if entry is not None else ()
    params = case.optimizer.params
    return {k: float(params[k]) for k in keys if isinstance(params.get(k), (int, float))}


@dataclass
class Program:
    """One configuration's model, optimizer and (once the engine built it) compiled trainer."""

    key: str
    model: Any
    optimizer: Any
    fresh_optimizer: list[np.ndarray]  # the optimizer's variables before any update
    weights: dict[int, list[np.ndarray]] = field(default_factory=dict)  # initial weights by seed
    trainer: Any = None  # the engine's compiled pieces (harness.engines.fast.Trainer)
    uses: int = 0

    def reset(self, case: Any, seed: int, learning_rate: float, build_model: Callable[[], Any]) -> None:
        """The state a fresh ``case`` of ``seed`` and ``learning_rate`` starts from."""
        from harness.engines.base import restore

        if seed not in self.weights:
            if len(self.weights) >= SEEDS_KEPT:
                self.weights.pop(next(iter(self.weights)))
            self.weights[seed] = build_model().get_weights()  # NumPy copies
        restore(self.model, self.optimizer, (self.weights[seed], self.fresh_optimizer))
        self.optimizer.learning_rate = learning_rate
        for key, value in variable_values(case).items():
            getattr(self.optimizer, key).assign(value)
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
        import tensorflow as tf

        from harness.engines.base import snapshot

        optimizer.build(model.trainable_variables)
        for k, value in variable_values(case).items():  # not tracked: optimizer.variables stays as Keras made it
            setattr(optimizer, k, tf.Variable(value, trainable=False, dtype=tf.float32, name=f"tuned_{k}"))
        weights, fresh = snapshot(model, optimizer)
        self.last = Program(key, model, optimizer, fresh, {seed: weights})
        return self.last
