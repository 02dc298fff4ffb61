"""The size of a suite's plan, computed from its matrix before anything is expanded.

``cases = product of the axes - combinations an exclude matches + includes``,
counted without building a single case: each exclude matches a sub-box of the
matrix (a set of values per axis it names), and the union of those boxes is
measured by splitting the first axis into classes of values covered by the
same boxes (exact, and quick for any realistic number of excludes). Runs weight
each combination by its ``repeats``. A million-case matrix is sized in
milliseconds, which is what lets ``harness run`` refuse it before spending
minutes expanding it (issue 19).
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from typing import Any

from harness.axis import AxisValue
from harness.suite import IDENTITY_AXES, SuiteSpec, _canonical, _matches, make_case

SAMPLE = 2000  # combinations drawn to estimate the time of a plan too large to expand


@dataclass(frozen=True)
class PlanSize:
    cases: int
    runs: int
    exact: bool = True  # False: an upper bound (values equal as configurations that excludes tell apart)


def value_names(v: Any) -> set[str]:
    """What a ``--filter AXIS=NAME`` may call a value: a component's label or name, else its text."""
    return {v.name, v.label} - {None} if isinstance(v, AxisValue) else {str(v)}


def restrict(spec: SuiteSpec, filters: dict[str, set[str]]) -> SuiteSpec:
    """``spec`` with the matrix values and includes that no filter can select dropped.

    Conservative (the exact filter runs on the expanded cases): ``learning_rate``
    is left alone, since an optimizer's own rate becomes the case's.
    """
    axes = dict(spec.axes)
    nothing = False
    for key, wanted in filters.items():
        if key == "learning_rate":
            continue
        if key in axes:
            axes[key] = [v for v in axes[key] if value_names(v) & wanted]
            nothing = nothing or not axes[key]
        elif not value_names(spec.base[key]) & wanted:
            nothing = True
    if nothing:
        axes = {k: [] for k in axes} or {"seed": []}
    includes = [inc for inc in spec.includes
                if all(k == "learning_rate" or value_names({**spec.base, **inc}[k]) & w for k, w in filters.items())]
    return SuiteSpec(spec.name, spec.description, spec.path, spec.text, spec.settings, spec.base, axes,
                     spec.excludes, includes, spec.cluster)


def _ident(key: str, v: Any) -> str:
    """What tells two values of an axis apart as configurations (labels, repeats... do not)."""
    if key not in IDENTITY_AXES and key not in ("collectors", "model"):
        return ""
    if isinstance(v, AxisValue):
        return _canonical(v.identity())
    return _canonical(v)


def _collapsed(spec: SuiteSpec) -> tuple[dict[str, list[Any]], bool]:
    """Each axis without values equal, as a configuration, to an earlier one (expansion drops those).

    Values are merged only when the same excludes match them; otherwise the
    count is an upper bound (``exact`` False).
    """
    out, exact = {}, True
    for k, values in spec.axes.items():
        seen: dict[tuple, Any] = {}
        for v in values:
            hits = tuple(i for i, ex in enumerate(spec.excludes) if k in ex and _matches({k: v}, {k: ex[k]}))
            seen.setdefault((_ident(k, v), hits), v)
        out[k] = list(seen.values())
        exact = exact and len({ident for ident, _ in seen}) == len(seen)
    return out, exact


def plan_size(spec: SuiteSpec, repeats: int | None = None) -> PlanSize:
    """Cases and runs of ``spec`` (after :func:`restrict`, if filtered), without expanding it."""
    axes, exact = _collapsed(spec)
    ones = [[1] * len(v) for v in axes.values()]
    boxes = _boxes(spec, axes)
    n_matrix = math.prod(len(v) for v in axes.values()) - round(_covered(tuple(map(tuple, ones)), boxes))
    if repeats or "repeats" not in axes:
        per = repeats or spec.base["repeats"]
        runs_matrix = n_matrix * per
    else:
        weights = tuple(tuple(v if k == "repeats" else 1 for v in vals) for k, vals in axes.items())
        runs_matrix = math.prod(sum(w) for w in weights) - round(_covered(weights, boxes))
    extra = _new_includes(spec, axes)
    runs_extra = sum(repeats or inc.get("repeats", spec.base["repeats"]) for inc in extra)
    trials = max(spec.settings["tuning"]["budgets"]) if "tuning" in spec.settings else 1  # each case: its trials
    return PlanSize((n_matrix + len(extra)) * trials, (runs_matrix + runs_extra) * trials, exact)


def _boxes(spec: SuiteSpec, axes: dict[str, list[Any]]) -> tuple[tuple[frozenset[int] | None, ...], ...]:
    """Each exclude as the set of value indices it matches per axis (None: every value)."""
    out = []
    for ex in spec.excludes:
        if any(k not in axes and not _matches({k: spec.base[k]}, {k: w}) for k, w in ex.items()):
            continue  # it names a fixed key whose value it does not match: it excludes nothing
        box = tuple(frozenset(i for i, v in enumerate(vals) if _matches({k: v}, {k: ex[k]})) if k in ex else None
                    for k, vals in axes.items())
        if all(b is None or b for b in box):
            out.append(box)
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _covered(weights: tuple[tuple[int, ...], ...], boxes: tuple) -> float:
    """Weighted size of the union of ``boxes`` in the product space ``weights`` (one tuple per axis)."""
    if not boxes:
        return 0.0
    if not weights or any(all(b is None for b in box) for box in boxes):
        return float(math.prod(sum(w) for w in weights))
    classes: dict[tuple[int, ...], int] = {}
    for i, w in enumerate(weights[0]):
        members = tuple(j for j, box in enumerate(boxes) if box[0] is None or i in box[0])
        classes[members] = classes.get(members, 0) + w
    return sum(w * _covered(weights[1:], tuple(boxes[j][1:] for j in members))
               for members, w in classes.items() if members)


def _new_includes(spec: SuiteSpec, axes: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Includes that are not a matrix case already (nor an earlier include)."""
    keys = IDENTITY_AXES + ("collectors", "model")
    seen, out = set(), []
    for inc in spec.includes:
        combo = {**spec.base, **inc}
        ident = tuple(_ident(k, combo[k]) for k in keys)
        if ident in seen or _in_matrix(spec, axes, combo):
            continue
        seen.add(ident)
        out.append(inc)
    return out


def _in_matrix(spec: SuiteSpec, axes: dict[str, list[Any]], combo: dict[str, Any]) -> bool:
    for k in IDENTITY_AXES + ("collectors", "model"):
        values = axes.get(k, [spec.base[k]])
        if _ident(k, combo[k]) not in {_ident(k, v) for v in values}:
            return False
    picked = {**spec.base, **{k: next(v for v in vals if _ident(k, v) == _ident(k, combo[k]))
                              for k, vals in axes.items()}}
    return not any(_matches(picked, ex) for ex in spec.excludes)


def sample_cases(spec: SuiteSpec, k: int = SAMPLE, seed: int = 0) -> list[Any]:
    """Up to ``k`` matrix cases drawn uniformly (deterministically) plus every include, for estimates."""
    rng = random.Random(seed)
    out = []
    keys = list(spec.axes)
    if all(spec.axes.values()):
        for _ in range(k * 4):
            combo = {**spec.base, **{key: rng.choice(spec.axes[key]) for key in keys}}
            if not any(_matches(combo, ex) for ex in spec.excludes):
                out.append(make_case(spec, combo, []))
            if len(out) >= k:
                break
    return out
