"""Learning curves (per epoch and against training time) and learning rates per schedule."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from harness.analysis.frames import attach_case_axes, config_keys, timing_rows, varying


def series_label(df: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """One display name per row, joining the values of ``keys`` with ' / '."""
    if not keys:
        return pd.Series(["all"] * len(df), index=df.index, dtype="string")
    parts = [df[k].astype("string").fillna("?") for k in keys]
    label = parts[0]
    for part in parts[1:]:
        label = label + " / " + part
    return label


def learning_curves(
    cases: pd.DataFrame,
    epochs: pd.DataFrame,
    *,
    by: Sequence[str] | None = None,
    include_profiled: bool = False,
) -> pd.DataFrame:
    """Loss and test accuracy per epoch, averaged over repeats, per configuration.

    Columns: the configuration keys, ``series`` (their joined label), ``epoch``,
    ``repeats``, ``loss_mean``, ``test_accuracy_mean`` (fraction),
    ``test_accuracy_min``/``_max`` (spread over repeats) and ``cum_train_s_mean``
    (s; the x axis of the curve against wall time). Only ``ok`` and ``diverged``
    repeats count (a diverged curve is worth seeing); profiled repeats are left
    out unless ``include_profiled`` (their time axis is perturbed).
    """
    keys = list(by) if by else config_keys(cases)
    rows = cases[cases["status"].isin(["ok", "diverged"])]
    if not include_profiled:
        rows = rows[~rows["profiled"].fillna(False).astype(bool)]
    joined = attach_case_axes(epochs, rows, keys)
    if joined.empty:
        return pd.DataFrame(columns=[*keys, "series", "epoch", "repeats", "loss_mean",
                                     "test_accuracy_mean", "test_accuracy_min",
                                     "test_accuracy_max", "cum_train_s_mean"])
    curves = (
        joined.groupby([*keys, "epoch"], dropna=False, sort=True)
        .agg(
            repeats=("repeat", "size"),
            loss_mean=("loss", "mean"),
            test_accuracy_mean=("test_accuracy", "mean"),
            test_accuracy_min=("test_accuracy", "min"),
            test_accuracy_max=("test_accuracy", "max"),
            cum_train_s_mean=("cum_train_s", "mean"),
        )
        .reset_index()
    )
    curves.insert(len(keys), "series", series_label(curves, keys))
    return curves


def learning_rates(cases: pd.DataFrame, epochs: pd.DataFrame) -> pd.DataFrame:
    """The learning rate in force at each epoch (``learning_rate_in_force``), per schedule.

    Grouped by ``schedule_label`` plus the axes that change a schedule's course
    where they vary (the case's initial ``learning_rate``, batch size, epochs,
    dataset). ``learning_rate_in_force_median`` is the curve; ``_min``/``_max``
    show where it differs between the cases of one schedule (adaptive schedules
    such as ``reduce_on_plateau`` depend on the optimizer's losses). Dimensionless.
    """
    rows = cases[cases["status"].isin(["ok", "diverged"])]
    extra = varying(rows, ("learning_rate", "batch_size", "epochs", "dataset"))
    keys = ["schedule_label", *extra]
    col = "learning_rate_in_force"
    joined = attach_case_axes(epochs, rows, keys)
    joined = joined[joined[col].notna()]
    if joined.empty:
        return pd.DataFrame(columns=[*keys, "series", "epoch", "cases", f"{col}_median",
                                     f"{col}_min", f"{col}_max"])
    lr = (
        joined.groupby([*keys, "epoch"], dropna=False, sort=True)
        .agg(**{"cases": ("case_id", "nunique"), f"{col}_median": (col, "median"),
                f"{col}_min": (col, "min"), f"{col}_max": (col, "max")})
        .reset_index()
    )
    lr.insert(len(keys), "series", series_label(lr, keys))
    return lr


__all__ = ["learning_curves", "learning_rates", "series_label", "timing_rows"]
