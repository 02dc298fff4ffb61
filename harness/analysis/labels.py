"""One label per configuration, built once from every axis that varies and used verbatim everywhere.

The label (column ``series``) joins the values of the axes that take more than
one value among the cases being reported: optimizer, schedule, engine,
strategy, replicas, workers, device, precision, batch size, learning rate,
epochs, dataset, machine and, when combined runs hold the same configuration,
the run. Numbers carry their axis name ("lr 0.001", "bs 128", "2 replicas"),
so that "adam / constant / lr 0.001 / 5 ep" and "adam / constant / lr 0.002 /
6 ep" can never be confused. Every table that lists configurations carries
``series``, unique per row, and every figure's legend and axis ticks use it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from harness.analysis.frames import AXIS_KEYS, varying

RUN = "run_id"
SERIES = "series"
# Axes that belong to the optimizer (its hyperparameters): never a "problem" of the profile.
SOLVER_AXES: tuple[str, ...] = ("optimizer_label", "learning_rate")


def _num(value: object) -> str:
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):
        return str(value)


def _int(value: object) -> str:
    try:
        return str(int(value))
    except (TypeError, ValueError):
        return str(value)


# How one axis value is written inside a label (plain text for named axes).
FORMATS: dict[str, Callable[[object], str]] = {
    "num_replicas": lambda v: f"{_int(v)} replica{'s' if _int(v) != '1' else ''}",
    "num_workers": lambda v: f"{_int(v)} worker{'s' if _int(v) != '1' else ''}",
    "batch_size": lambda v: f"bs {_int(v)}",
    "learning_rate": lambda v: f"lr {_num(v)}",
    "epochs": lambda v: f"{_int(v)} ep",
    RUN: lambda v: f"run {v}",
}


def label_keys(cases: pd.DataFrame) -> list[str]:
    """The axes that tell configurations apart: ``optimizer_label``, every varying axis, and the
    run when one configuration (by those axes) appears in more than one run."""
    keys = ["optimizer_label", *[k for k in varying(cases, AXIS_KEYS) if k != "optimizer_label"]]
    if RUN in cases.columns and cases[RUN].nunique(dropna=True) > 1 and not cases.empty:
        runs_per_config = cases.groupby(keys, dropna=False)[RUN].nunique()
        if (runs_per_config > 1).any():
            keys.append(RUN)
    return keys


def join_label(df: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """Per row: the values of ``keys`` written with :data:`FORMATS` and joined with ' / '."""
    if not keys:
        return pd.Series(["all"] * len(df), index=df.index, dtype="string")
    parts = []
    for key in keys:
        fmt = FORMATS.get(key, str)
        parts.append(df[key].map(lambda v, f=fmt: "?" if pd.isna(v) else f(v)).astype("string"))
    label = parts[0]
    for part in parts[1:]:
        label = label + " / " + part
    return label


def series_keys(cases: pd.DataFrame) -> list[str]:
    """The axes behind ``series``: remembered by :func:`labelled`, else found again."""
    return list(cases.attrs.get("series_keys") or label_keys(cases))


def labelled(cases: pd.DataFrame) -> pd.DataFrame:
    """``cases`` with ``series`` (kept when already there: a label is built once, over every case
    of the report, and then filtered rows keep it) and its axes remembered in ``attrs``."""
    if SERIES in cases.columns:
        return cases
    keys = label_keys(cases)
    out = cases.assign(**{SERIES: join_label(cases, keys)})
    out.attrs["series_keys"] = keys
    return out


def problem_keys(cases: pd.DataFrame) -> list[str]:
    """Every series axis that is not a solver axis: what defines a *problem* of the profile."""
    return [k for k in series_keys(cases) if k not in SOLVER_AXES]
