"""The optimizer leaderboard and time/energy to a target accuracy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from harness.analysis.frames import config_keys, join_sources, timing_rows

# Metric column -> whether larger is better; a ``<metric>_best`` column marks the best row.
BEST_DIRECTION: dict[str, bool] = {
    "test_accuracy_mean": True,
    "time_to_target_s_mean": False,
    "energy_to_target_j_mean": False,
    "samples_per_s_mean": True,
}


def time_to_target(cases: pd.DataFrame, epochs: pd.DataFrame, target: float) -> pd.DataFrame:
    """Recompute time, epochs and energy to ``target`` test accuracy from the epochs table.

    For each case x repeat: the first epoch whose test accuracy is >= ``target``;
    its ``cum_train_s`` (s) and ``cum_energy_j`` (J). NaN where never reached.
    Returns ``cases`` with ``time_to_target_s``, ``epochs_to_target``,
    ``energy_to_target_j``, ``reached_target`` and ``target_accuracy`` replaced.
    """
    ident = ["run_id", "case_id", "repeat"]
    hit = epochs[epochs["test_accuracy"] >= target].sort_values([*ident, "epoch"])
    first = hit.drop_duplicates(ident)[[*ident, "epoch", "cum_train_s", "cum_energy_j"]]
    first = first.rename(
        columns={
            "epoch": "epochs_to_target",
            "cum_train_s": "time_to_target_s",
            "cum_energy_j": "energy_to_target_j",
        }
    )
    drop = ["epochs_to_target", "time_to_target_s", "energy_to_target_j"]
    out = cases.drop(columns=drop).merge(first, on=ident, how="left")
    out["reached_target"] = out["epochs_to_target"].notna().astype("boolean")
    out["target_accuracy"] = float(target)
    return out[list(cases.columns)]


def _best_marks(board: pd.DataFrame) -> pd.DataFrame:
    for col, larger in BEST_DIRECTION.items():
        values = board[col].astype(float)
        if values.notna().any():
            best = values.max() if larger else values.min()
            board[f"{col}_best"] = np.isclose(values, best) & values.notna()
        else:
            board[f"{col}_best"] = False
    return board


def leaderboard(
    cases: pd.DataFrame,
    *,
    by: Sequence[str] | None = None,
    include_profiled: bool = False,
) -> pd.DataFrame:
    """One row per configuration (default: optimizer label plus every axis that varies).

    Over the repeats with status ``ok``: final test accuracy mean and sample
    standard deviation (fraction; std NaN with one repeat), time to target
    (s, mean over the repeats that reached it), energy to target (J, same),
    examples/s (mean). ``repeats`` counts ok rows, ``rows`` all rows of the
    configuration, ``reached`` the ok repeats that reached the target.

    Ordering: configurations that reached the target first, fastest first; then
    the others by test accuracy, best first; configurations without an ok
    repeat last. ``<metric>_best`` columns mark the best value of each metric.
    Profiled repeats are left out unless ``include_profiled``.
    """
    keys = list(by) if by else config_keys(cases)
    ok = timing_rows(cases, include_profiled)
    reached = ok[ok["time_to_target_s"].notna()]
    grouped = ok.groupby(keys, dropna=False, sort=False)
    board = grouped.agg(
        repeats=("status", "size"),
        test_accuracy_mean=("test_accuracy", "mean"),
        test_accuracy_std=("test_accuracy", "std"),
        samples_per_s_mean=("samples_per_s", "mean"),
        target_accuracy=("target_accuracy", "max"),
        energy_source=("energy_source", join_sources),
    )
    to_target = reached.groupby(keys, dropna=False, sort=False).agg(
        reached=("status", "size"),
        time_to_target_s_mean=("time_to_target_s", "mean"),
        energy_to_target_j_mean=("energy_to_target_j", "mean"),
    )
    rows = cases.groupby(keys, dropna=False, sort=False).size().rename("rows")
    board = pd.concat([rows, board, to_target], axis=1).reset_index()
    for col in ("repeats", "reached"):
        board[col] = board[col].fillna(0).astype(int)
    board = board.sort_values(
        ["time_to_target_s_mean", "test_accuracy_mean"],
        ascending=[True, False],
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)
    board.insert(0, "rank", range(1, len(board) + 1))
    order = [
        "rank", *keys, "rows", "repeats", "test_accuracy_mean", "test_accuracy_std",
        "target_accuracy", "reached", "time_to_target_s_mean", "energy_to_target_j_mean",
        "energy_source", "samples_per_s_mean",
    ]
    return _best_marks(board[order])
