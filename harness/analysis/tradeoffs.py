"""Trade-off tables: learning-rate sensitivity, and the accuracy / energy / time Pareto front.

Both are built from configurations (``series``), never from pooled groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.analysis.frames import timing_rows
from harness.analysis.labels import SERIES, join_label, labelled, series_keys


def lr_sensitivity(cases: pd.DataFrame, *, include_profiled: bool = False) -> pd.DataFrame:
    """Final test accuracy against the initial learning rate, per optimizer (when rates vary).

    One row per configuration of an optimizer label that ran at two or more
    initial rates: ``line`` (the configuration without its rate: one curve of
    the plot), ``learning_rate``, ``repeats``, ``test_accuracy_median``,
    ``_min`` and ``_max`` (fraction, over the ok repeats). Empty when no
    optimizer label ran at several rates.
    """
    cases = labelled(cases)
    keys = [SERIES, *series_keys(cases)]
    columns = ["line", *keys, "repeats", "test_accuracy_median", "test_accuracy_min", "test_accuracy_max"]
    rows = timing_rows(cases, include_profiled)
    if rows.empty or "learning_rate" not in keys:
        return pd.DataFrame(columns=columns)
    line_keys = [k for k in keys if k not in (SERIES, "learning_rate")]
    rows = rows.assign(line=join_label(rows, line_keys))
    several = rows.groupby("line")["learning_rate"].transform("nunique") > 1
    rows = rows[several]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    table = (
        rows.groupby(["line", *keys], dropna=False, sort=True)
        .agg(repeats=("status", "size"), test_accuracy_median=("test_accuracy", "median"),
             test_accuracy_min=("test_accuracy", "min"), test_accuracy_max=("test_accuracy", "max"))
        .reset_index()
        .sort_values(["line", "learning_rate"], kind="stable")
    )
    return table[columns].reset_index(drop=True)


def pareto_front(cost: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """True where no other point has cost <= and gain >= with one of them strict (NaN: False)."""
    cost = np.asarray(cost, dtype=float)
    gain = np.asarray(gain, dtype=float)
    ok = np.isfinite(cost) & np.isfinite(gain)
    out = np.zeros(cost.shape, dtype=bool)
    for i in np.flatnonzero(ok):
        others = ok.copy()
        others[i] = False
        dominated = (cost[others] <= cost[i]) & (gain[others] >= gain[i]) & (
            (cost[others] < cost[i]) | (gain[others] > gain[i]))
        out[i] = not dominated.any()
    return out


def tradeoffs(board: pd.DataFrame) -> pd.DataFrame:
    """Per configuration of the leaderboard: accuracy, time, end-to-end time and energy to target.

    ``pareto_energy`` marks the configurations on the front of energy to target
    (lower) against final test accuracy (higher); ``pareto_time`` the same with
    wall time to target. Configurations that never reached the target (or whose
    energy was not measured) are on no front. Empty when no energy is known.
    """
    start = list(board.columns).index("series")
    keys = list(board.columns[start:list(board.columns).index("rows")])
    cols = [*keys, "test_accuracy_median", "time_to_target_s_median",
            "wall_to_target_s_median", "energy_to_target_j_median", "energy_source"]
    rows = board[board["repeats"] > 0][cols].reset_index(drop=True)
    finite = rows.replace([np.inf, -np.inf], np.nan)
    if rows.empty or finite[["energy_to_target_j_median", "time_to_target_s_median"]].isna().all().all():
        return pd.DataFrame(columns=[*cols, "pareto_energy", "pareto_time"])
    acc = finite["test_accuracy_median"].to_numpy(float)
    rows["pareto_energy"] = pareto_front(finite["energy_to_target_j_median"].to_numpy(float), acc)
    rows["pareto_time"] = pareto_front(finite["wall_to_target_s_median"].to_numpy(float), acc)
    return rows
