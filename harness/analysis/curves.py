"""Learning curves (per epoch and against training time) and learning rates per schedule."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from harness import schema
from harness.analysis.frames import attach_case_axes, timing_rows, varying
from harness.analysis.labels import SERIES, labelled, series_keys
from harness.analysis.leaderboard import eval_per_epoch_s


def series_label(df: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """One display name per row, joining the values of ``keys`` with ' / '."""
    if not keys:
        return pd.Series(["all"] * len(df), index=df.index, dtype="string")
    parts = [df[k].astype("string").fillna("?") for k in keys]
    label = parts[0]
    for part in parts[1:]:
        label = label + " / " + part
    return label


def _q(p: float):
    def quantile(values: pd.Series) -> float:
        return float(values.quantile(p)) if values.notna().any() else float("nan")

    quantile.__name__ = f"q{int(p * 100)}"
    return quantile


def learning_curves(
    cases: pd.DataFrame,
    epochs: pd.DataFrame,
    *,
    include_profiled: bool = False,
) -> pd.DataFrame:
    """Loss and test accuracy per epoch per configuration: median and quartiles over repeats.

    DeepOBS style: ``test_accuracy_median`` with the band ``test_accuracy_q25`` to
    ``_q75`` (fraction; a single repeat gives a band of width 0), ``loss_median``,
    ``cum_train_s_median`` (s, training clock) and ``cum_wall_s_median`` (s, end
    to end: compilation + training + the evaluations so far, the x axis of
    accuracy against total wall time). ``series`` is the configuration label
    shared with every other table. Only ``ok`` and ``diverged`` repeats count;
    profiled repeats are left out unless ``include_profiled``.
    """
    cases = labelled(cases)
    keys = [SERIES, *series_keys(cases)]
    rows = cases[cases["status"].isin(schema.TRAINED)]
    if not include_profiled:
        rows = rows[~rows["profiled"].fillna(False).astype(bool)]
    rows = rows.assign(_eval_per_epoch=eval_per_epoch_s(rows))
    joined = attach_case_axes(epochs, rows, [*keys, "compile_s", "_eval_per_epoch"])
    columns = [*keys, "epoch", "repeats", "loss_median", "test_accuracy_median", "test_accuracy_q25",
               "test_accuracy_q75", "cum_train_s_median", "cum_wall_s_median"]
    if joined.empty:
        return pd.DataFrame(columns=columns)
    joined["cum_wall_s"] = (joined["compile_s"].astype(float) + joined["cum_train_s"].astype(float)
                            + joined["epoch"].astype(float) * joined["_eval_per_epoch"])
    curves = (
        joined.groupby([*keys, "epoch"], dropna=False, sort=True)
        .agg(
            repeats=("repeat", "size"),
            loss_median=("loss", "median"),
            test_accuracy_median=("test_accuracy", "median"),
            test_accuracy_q25=("test_accuracy", _q(0.25)),
            test_accuracy_q75=("test_accuracy", _q(0.75)),
            cum_train_s_median=("cum_train_s", "median"),
            cum_wall_s_median=("cum_wall_s", "median"),
        )
        .reset_index()
    )
    return curves[columns]


def learning_rates(cases: pd.DataFrame, epochs: pd.DataFrame) -> pd.DataFrame:
    """The learning rate in force at each epoch (``learning_rate_in_force``), per schedule.

    Grouped by ``schedule_label`` plus the axes that change a schedule's course
    where they vary (the case's initial ``learning_rate``, batch size, epochs,
    dataset). ``learning_rate_in_force_median`` is the curve; ``_min``/``_max``
    show where it differs between the cases of one schedule (adaptive schedules
    such as ``reduce_on_plateau`` depend on the optimizer's losses). Dimensionless.
    """
    rows = cases[cases["status"].isin(schema.TRAINED)]
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
