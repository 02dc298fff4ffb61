"""Checks that need the worker's libraries (Keras, user modules, dataset files) but no training.

Run once before a run folder is created, so a bad optimizer parameter, a custom
class that does not import or a malformed dataset file is reported as bad input
(exit 2) with nothing written.
"""

from __future__ import annotations

import json
from typing import Any

from harness.errors import HarnessError


def preflight(cases: list[Any], state: Any) -> list[tuple[str, str, str]]:
    """[(case label, key, message)] for every problem found; empty when all is well."""
    from harness.components import optimizers, schedules

    problems: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for case in cases:
        checks = (
            ("dataset", case.dataset, lambda c=case: state.dataset(c.dataset)),
            ("schedule", case.schedule, lambda c=case: schedules.build(c.schedule, c.learning_rate, 10, c.epochs)),
            ("optimizer", case.optimizer, lambda c=case: optimizers.build(c.optimizer, c.learning_rate)),
        )
        for key, value, check in checks:
            ident = key + json.dumps(value, sort_keys=True, default=str)
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


def _batch_problems(case: Any, state: Any) -> list[tuple[str, str, str]]:
    """Mini-batch semantics need batch_size <= the training examples (known once the data is loaded)."""
    from harness.components import optimizers

    try:
        n_train = len(state.dataset(case.dataset).x_train)
    except Exception:  # reported by the dataset check above
        return []
    if optimizers.regime(case.optimizer["name"]) == "minibatch" and case.batch_size > n_train:
        return [(case.label, "batch_size", f"batch_size={case.batch_size} is larger than the {n_train} "
                 f"training examples of dataset {case.dataset['name']!r}; expected batch_size <= {n_train}")]
    return []
