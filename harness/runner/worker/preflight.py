"""Checks that need the worker's libraries (Keras, user modules, dataset files) but no training.

Run once before a run folder is created, so a bad optimizer parameter, a custom
class that does not import or a malformed dataset file is reported as bad input
(exit 2) with nothing written.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError
from harness.suite import Case

if TYPE_CHECKING:
    from harness.runner.worker.execute import WorkerState


def preflight(cases: list[Case], state: WorkerState) -> list[tuple[str, str, str]]:
    """[(case label, key, message)] for every problem found; empty when all is well."""
    from harness.components import optimizers, schedules

    problems: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for case in cases:
        checks = (
            ("dataset", case.dataset, lambda c=case: state.dataset(c.dataset)),
            ("schedule", case.schedule, lambda c=case: schedules.build(c.schedule, c.learning_rate, 10, c.epochs)),
            ("optimizer", case.optimizer, lambda c=case: optimizers.build(c.optimizer, c.learning_rate)),
            ("model", _ModelOnData(case.model, case.dataset), lambda c=case: _build_model(c, state)),
        )
        for key, value, check in checks:
            ident = key + json.dumps(value.identity(), sort_keys=True, default=str)
            if ident in seen:
                continue
            seen.add(ident)
            try:
                check()
            except HarnessError as exc:
                problems.append((case.label, key, str(exc)))
            except Exception as exc:  # a user's class may raise anything
                problems.append((case.label, key, f"{type(exc).__name__}: {exc}"))
        problems += _batch_problems(case, state)
    return problems


def _batch_problems(case: Case, state: WorkerState) -> list[tuple[str, str, str]]:
    """The batch-size rule (harness.components.batching) against the loaded data."""
    from harness.components import batching

    try:
        n_train = len(state.dataset(case.dataset).x_train)
    except Exception:  # reported by the dataset check above
        return []
    problem = batching.batch_size_problem(case.optimizer.name, case.batch_size, n_train, case.dataset.name)
    return [(case.label, "batch_size", problem)] if problem else []


class _ModelOnData:
    """What a model check depends on: the model and the dataset it must take (its shape and classes)."""

    def __init__(self, model: Any, dataset: Any) -> None:
        self.model, self.dataset = model, dataset

    def identity(self) -> dict[str, Any]:
        return {"model": self.model.identity(), "dataset": self.dataset.identity()}


def _build_model(case: Case, state: WorkerState) -> None:
    """Build the case's model for its dataset: it imports, builds, outputs one logit per class and
    does not end in a softmax (:func:`harness.components.models.check`)."""
    from harness.components import models

    try:
        ds = state.dataset(case.dataset)
    except Exception:  # reported by the dataset check
        return
    try:
        models.build(case.model, ds.input_shape, ds.num_classes, case.seed, "float32")
    except models.ModelError as exc:
        raise models.ModelError(f"{exc} (dataset {case.dataset.name!r}: examples of shape "
                                f"{ds.input_shape}, {ds.num_classes} classes)") from exc
