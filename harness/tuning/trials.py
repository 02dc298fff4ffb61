"""Trials and final seeds as ordinary cases (``stage``, ``trial``, ``tuned_params`` set).

Every case the matrix gives becomes the longest budget's trials: a sampled
``learning_rate`` becomes the case's rate, any other sampled keyword joins the
optimizer's parameters (so it is part of the case's identity, like a value
written in the suite). The winners of a selection come back as ``final``
cases: the winner's values with the seeds ``seed + 1 ... seed + final_seeds``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from harness.axis import AxisValue
from harness.components import catalog
from harness.errors import SuiteError
from harness.tuning.space import Dim, sample, space_for

TRIAL, FINAL = "trial", "final"


def trial_cases(spec: Any, cases: list[Any]) -> list[Any]:
    """The trials of every case of ``spec`` (a :class:`harness.suite.SuiteSpec`), in case then trial order."""
    tuning = spec.settings["tuning"]
    labels = {c.optimizer.display for c in cases}
    for label in tuning["per_optimizer"]:
        if label not in labels:
            raise SuiteError(spec.path, f"tuning.space.{label}",
                             f"no optimizer of the suite is labelled {label!r}; known: {', '.join(sorted(labels))}")
    out, n = [], max(tuning["budgets"])
    for case in cases:
        space = space_for(tuning, case.optimizer.display)
        _check_space(spec.path, case, space)
        points = ([_defaults(case, space)] if tuning["one_shot"] else []) + \
            sample(space, n - int(tuning["one_shot"]), tuning["sampler"])
        out += [_trial(case, k, values) for k, values in enumerate(points)]
    return out


def _check_space(f: str, case: Any, space: dict[str, Dim]) -> None:
    opt = case.optimizer
    accepted = catalog.optimizer_keywords(opt.name)
    for key in space:
        where = f"tuning.space.{key}"
        if key in opt.params:
            raise SuiteError(f, where, f"{key!r} is both tuned and fixed in optimizer {opt.display!r}'s table; "
                             "which value wins would be a guess: remove one")
        if key != "learning_rate" and accepted is not None and key not in accepted:
            kws = ", ".join(sorted(k for k in accepted if k != "name"))
            raise SuiteError(f, where, f"optimizer {opt.display!r} ({opt.name}) takes no keyword {key!r}; "
                             f"it accepts: {kws}")


def _defaults(case: Any, space: dict[str, Dim]) -> dict[str, Any]:
    """Trial 0 of a one-shot budget: the optimizer's own defaults for the searched keys (the
    learning rate of its Keras class; the case's when unknown)."""
    accepted = catalog.optimizer_keywords(case.optimizer.name) or {}
    values = {k: accepted[k] for k in space if accepted.get(k) is not None}
    values.setdefault("learning_rate", accepted.get("learning_rate") or case.learning_rate)
    return values


def _trial(case: Any, k: int, values: dict[str, Any]) -> Any:
    lr = float(values.get("learning_rate", case.learning_rate))
    extra = {key: v for key, v in values.items() if key != "learning_rate"}
    opt = case.optimizer
    optimizer = AxisValue(opt.name, opt.label, {**opt.params, **extra}) if extra else opt
    return replace(case, learning_rate=lr, optimizer=optimizer, stage=TRIAL, trial=k,
                   tuned_params=json.dumps(values, sort_keys=True), label=f"{case.label}/trial {k}")


def final_cases(trial: Any, seeds: int) -> list[Any]:
    """``seeds`` reruns of a winning trial case with the new seeds ``seed + 1 ... seed + seeds``."""
    base = trial.label.rsplit("/trial ", 1)[0]
    return [replace(trial, seed=trial.seed + i, stage=FINAL, label=f"{base}/final seed {trial.seed + i}")
            for i in range(1, seeds + 1)]


def trial_values(tuned_params: str | None) -> dict[str, Any]:
    """The sampled values of a row's ``tuned_params`` (JSON), {} when none."""
    if not tuned_params:
        return {}
    return json.loads(tuned_params)
