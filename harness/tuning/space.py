"""The ``[tuning]`` table of a suite: validated, and its search space sampled. No TensorFlow here.

Shape::

    [tuning]
    trials = [1, 4, 16]          # a budget, or budgets: prefixes of one trial sequence
    sampler = "quasi_random"     # scrambled Sobol (scipy.stats.qmc, fixed seed); or "grid"
    one_shot = true              # trial 0 = the optimizer's own defaults
    select_on = "validation_accuracy"   # or validation_loss, time_to_target
    final_seeds = 5              # reruns of each winner with new seeds

    [tuning.space]               # shared by every optimizer
    learning_rate = { log_uniform = [1e-5, 1.0] }

    [tuning.space.momentum]      # per optimizer (its label): added to / overriding the shared space
    momentum = { uniform = [0.0, 0.99] }

Trial *k* is the same on every machine: the sequence depends only on the
space (its keys in sorted order) and :data:`SOBOL_SEED`.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Any

from harness.errors import SuiteError

TUNING_KEYS = {"trials", "sampler", "space", "one_shot", "select_on", "final_seeds"}
SAMPLERS = ("quasi_random", "grid")
SELECT_ON = ("validation_accuracy", "validation_loss", "time_to_target")
DISTRIBUTIONS = ("log_uniform", "uniform", "choice")
SOBOL_SEED = 25  # fixed: trial k is the same everywhere
DEFAULT_FINAL_SEEDS = 5


@dataclass(frozen=True)
class Dim:
    """One searched hyperparameter: ``kind`` in DISTRIBUTIONS; ``values`` = (lo, hi) or the choices."""

    key: str
    kind: str
    values: tuple[Any, ...]

    def at(self, u: float) -> Any:
        """The value at ``u`` in [0, 1): log-uniform maps in log10 space."""
        if self.kind == "choice":
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        lo, hi = self.values
        if self.kind == "log_uniform":
            return float(10 ** (math.log10(lo) + u * (math.log10(hi) - math.log10(lo))))
        return float(lo + u * (hi - lo))


def check_tuning(f: str, raw: Any, axes: dict[str, list[Any]]) -> dict[str, Any]:
    """The validated ``[tuning]`` table: budgets, sampler, shared and per-optimizer spaces, rules."""
    if not isinstance(raw, dict):
        raise SuiteError(f, "tuning", f"expected a table, got {raw!r}")
    for k in raw:
        if k not in TUNING_KEYS:
            raise SuiteError(f, f"tuning.{k}", f"unknown key; known: {', '.join(sorted(TUNING_KEYS))}")
    budgets = _budgets(f, raw.get("trials", 8))
    sampler = raw.get("sampler", "quasi_random")
    if sampler not in SAMPLERS:
        raise SuiteError(f, "tuning.sampler", f"unknown sampler {sampler!r}; known: {', '.join(SAMPLERS)}")
    select_on = raw.get("select_on", "validation_accuracy")
    if select_on not in SELECT_ON:
        raise SuiteError(f, "tuning.select_on", f"unknown criterion {select_on!r}; known: {', '.join(SELECT_ON)}")
    one_shot = raw.get("one_shot", False)
    if not isinstance(one_shot, bool):
        raise SuiteError(f, "tuning.one_shot", f"expected true or false, got {one_shot!r}")
    seeds = raw.get("final_seeds", DEFAULT_FINAL_SEEDS)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 0:
        raise SuiteError(f, "tuning.final_seeds", f"expected an integer >= 0. Received: final_seeds={seeds!r}")
    shared, per = _space(f, raw.get("space", {}))
    if not shared and not per and not one_shot:
        raise SuiteError(f, "tuning.space", "empty search space: name at least one hyperparameter "
                         "(e.g. learning_rate = { log_uniform = [1e-5, 1.0] })")
    tuned = set(shared) | {k for dims in per.values() for k in dims}
    for key in sorted(tuned & set(axes)):
        raise SuiteError(f, f"matrix.{key}", f"{key!r} is both tuned ([tuning.space]) and fixed in the "
                         "matrix; which value wins would be a guess: remove one")
    return {"budgets": budgets, "sampler": sampler, "select_on": select_on, "one_shot": one_shot,
            "final_seeds": seeds, "space": shared, "per_optimizer": per}


def _budgets(f: str, v: Any) -> list[int]:
    items = v if isinstance(v, list) else [v]
    if not items:
        raise SuiteError(f, "tuning.trials", "empty list: give a budget (number of trials) or a list of them")
    for b in items:
        if isinstance(b, bool) or not isinstance(b, int) or b < 1:
            raise SuiteError(f, "tuning.trials", f"a budget is an integer >= 1. Received: trials={b!r}")
    return sorted(set(items))


def _space(f: str, raw: Any) -> tuple[dict[str, Dim], dict[str, dict[str, Dim]]]:
    if not isinstance(raw, dict):
        raise SuiteError(f, "tuning.space", f"expected a table, got {raw!r}")
    shared: dict[str, Dim] = {}
    per: dict[str, dict[str, Dim]] = {}
    for key, v in raw.items():
        if isinstance(v, dict) and v and not (set(v) & set(DISTRIBUTIONS)):  # an optimizer's own table
            per[key] = {k: _dim(f, f"tuning.space.{key}.{k}", k, d) for k, d in v.items()}
        else:
            shared[key] = _dim(f, f"tuning.space.{key}", key, v)
    return shared, per


def _dim(f: str, where: str, key: str, v: Any) -> Dim:
    if not isinstance(v, dict) or len(v) != 1 or next(iter(v)) not in DISTRIBUTIONS:
        raise SuiteError(f, where, f"expected one of {{ log_uniform = [lo, hi] }}, {{ uniform = [lo, hi] }}, "
                         f"{{ choice = [...] }}; got {v!r}")
    kind, values = next(iter(v.items()))
    if not isinstance(values, list) or not values:
        raise SuiteError(f, where, f"{kind} needs a non-empty list, got {values!r}")
    if kind == "choice":
        return Dim(key, kind, tuple(values))
    if len(values) != 2 or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in values):
        raise SuiteError(f, where, f"{kind} needs [lo, hi] (two numbers), got {values!r}")
    lo, hi = float(values[0]), float(values[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise SuiteError(f, where, f"{kind} bounds must be finite with lo < hi. Received: {values!r}")
    if kind == "log_uniform" and lo <= 0:
        raise SuiteError(f, where, f"log_uniform bounds must be > 0. Received: {values!r}")
    return Dim(key, kind, (lo, hi))


def space_for(tuning: dict[str, Any], optimizer_label: str) -> dict[str, Dim]:
    """The space of one optimizer: the shared one, its own table on top (keys in sorted order)."""
    space = {**tuning["space"], **tuning["per_optimizer"].get(optimizer_label, {})}
    return dict(sorted(space.items()))


def sample(space: dict[str, Dim], n: int, sampler: str = "quasi_random") -> list[dict[str, Any]]:
    """The first ``n`` points of the space's trial sequence (a prefix of any longer one)."""
    dims = list(space.values())
    if not dims or n <= 0:
        return [{} for _ in range(max(n, 0))]
    if sampler == "grid":
        units = _grid(len(dims), n)
    else:
        from scipy.stats import qmc

        engine = qmc.Sobol(len(dims), scramble=True, seed=SOBOL_SEED)
        with warnings.catch_warnings():  # balance properties want 2^m points; prefixes are what we need
            warnings.simplefilter("ignore", UserWarning)
            units = engine.random(n).tolist()
    return [{d.key: d.at(u) for d, u in zip(dims, point, strict=True)} for point in units]


def _grid(d: int, n: int) -> list[list[float]]:
    """A full grid with ``ceil(n^(1/d))`` points per dimension (ends included), first ``n`` of it."""
    m = max(1, math.ceil(n ** (1 / d) - 1e-9))
    axis = [0.5] if m == 1 else [i / (m - 1) * (1 - 1e-12) for i in range(m)]
    return [list(p) for p in itertools.islice(itertools.product(axis, repeat=d), n)]
