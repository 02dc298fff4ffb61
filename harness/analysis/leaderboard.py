"""The optimizer leaderboard and time/energy to a target accuracy, with intervals and ties."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.analysis.composition import contended_counts
from harness.analysis.frames import join_sources, timing_rows
from harness.analysis.intervals import interval_text, overlaps, ranks_with_ties
from harness.analysis.labels import SERIES, labelled, series_keys

# Metric column -> whether larger is better; a ``<metric>_best`` column marks the best row.
BEST_DIRECTION: dict[str, bool] = {
    "test_accuracy_median": True,
    "time_to_target_s_median": False,
    "wall_to_target_s_median": False,
    "energy_to_target_j_median": False,
    "samples_per_s_median": True,
}
SPREAD = ("test_accuracy", "time_to_target_s", "wall_to_target_s")


def time_to_target(cases: pd.DataFrame, epochs: pd.DataFrame, target: float) -> pd.DataFrame:
    """Recompute time, epochs and energy to ``target`` accuracy from the epochs table.

    For each case x repeat: the first epoch whose validation accuracy (test accuracy in
    runs without a validation part, ``target_basis``) is >= ``target``;
    its ``cum_train_s`` (s) and ``cum_energy_j`` (J). NaN where never reached.
    Returns ``cases`` with ``time_to_target_s``, ``epochs_to_target``,
    ``energy_to_target_j``, ``reached_target`` and ``target_accuracy`` replaced.
    """
    ident = ["run_id", "case_id", "repeat"]
    acc = epochs["test_accuracy"]  # validation accuracy where the epoch has it (issue 25), else test
    if "validation_accuracy" in epochs.columns:
        acc = epochs["validation_accuracy"].fillna(acc)
    hit = epochs[acc >= target].sort_values([*ident, "epoch"])
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
    out.attrs = dict(cases.attrs)
    return out[list(cases.columns)]


def eval_per_epoch_s(cases: pd.DataFrame) -> pd.Series:
    """Seconds of test-set evaluation per epoch (s): ``eval_s`` / epochs (one evaluation per epoch)."""
    return cases["eval_s"].astype(float) / cases["epochs"].astype(float)


def wall_to_target(cases: pd.DataFrame) -> pd.Series:
    """End-to-end time to the target (s): compilation + training + evaluations up to the target epoch.

    ``compile_s + time_to_target_s + epochs_to_target x eval_s / epochs``: what
    a user waits for from the first traced call to the evaluation that showed the
    target was reached (AlgoPerf's time-to-result counts compilation too).
    Setup (data loading, model construction) is left out: a reused worker
    shares it between cases. NaN where not reached or compile time unknown.
    """
    reached = cases["epochs_to_target"].astype(float)
    return (
        cases["compile_s"].astype(float)
        + cases["time_to_target_s"].astype(float)
        + reached * eval_per_epoch_s(cases)
    )


def _best_marks(board: pd.DataFrame) -> pd.DataFrame:
    for col, larger in BEST_DIRECTION.items():
        values = board[col].astype(float).replace([np.inf, -np.inf], np.nan)
        if values.notna().any():
            best = values.max() if larger else values.min()
            board[f"{col}_best"] = np.isclose(values, best) & values.notna()
        else:
            board[f"{col}_best"] = False
    return board


def _per_repeat(ok: pd.DataFrame) -> pd.DataFrame:
    """Per ok repeat: time and wall time to target, infinite where the target was not reached."""
    t = ok["time_to_target_s"].astype(float)
    wall = wall_to_target(ok)
    return ok.assign(
        _reached=ok["reached_target"].fillna(False).astype(bool).astype(int),
        time_to_target_s=t.fillna(np.inf),
        wall_to_target_s=wall.where(t.notna(), np.inf),
    )


WORKLOAD = "model_label"  # where the model varies, ranks are per workload


def _rank(board: pd.DataFrame) -> pd.DataFrame:
    """Rank on time to target where reached (median finite), else on accuracy; overlaps tie."""
    t_med = board["time_to_target_s_median"].astype(float)
    fast = np.isfinite(t_med.to_numpy())
    ranked = board["repeats"].to_numpy() > 0
    rank = np.full(len(board), np.nan)
    tie = np.zeros(len(board), dtype=bool)
    lo_t, hi_t = board["time_to_target_s_min"].to_numpy(float), board["time_to_target_s_max"].to_numpy(float)
    idx = np.flatnonzero(fast)
    rank[idx] = ranks_with_ties(lo_t[idx], hi_t[idx], smaller_is_better=True)
    tie[idx] = overlaps(lo_t[idx], hi_t[idx])
    slow = np.flatnonzero(~fast & ranked)
    lo_a, hi_a = board["test_accuracy_min"].to_numpy(float), board["test_accuracy_max"].to_numpy(float)
    rank[slow] = len(idx) + ranks_with_ties(lo_a[slow], hi_a[slow], smaller_is_better=False)
    tie[slow] = overlaps(lo_a[slow], hi_a[slow])
    return board.assign(rank=pd.array(rank, dtype="Int64"), tied=tie)


def leaderboard(cases: pd.DataFrame, *, include_profiled: bool = False) -> pd.DataFrame:
    """One row per configuration (``series``: optimizer label plus every axis that varies).

    Over the repeats with status ``ok`` (profiled ones left out unless
    ``include_profiled``): final test accuracy, time to target on the training
    clock and ``wall_to_target_s`` (compilation and evaluation included, see
    :func:`wall_to_target`), each as the median with the min and max over the
    repeats (a repeat that missed the target counts as infinite time);
    compilation time, energy to target and examples/s (medians). ``repeats``
    counts ok rows, ``rows`` all rows, ``reached`` the ok repeats that reached
    the target; ``interval`` says how the interval was obtained.

    Where the model varies, each workload (``model_label``) is ranked on its own
    and the board is grouped by it (times to target of different models do not
    compare). Ordering and ``rank``: configurations whose median repeat reached the
    target, fastest first; then the others by accuracy; configurations
    without an ok repeat last (no rank). Intervals that overlap share a rank
    and are marked ``tied``. ``<metric>_best`` columns mark the best medians (of each workload).
    """
    cases = labelled(cases)
    keys = [SERIES, *series_keys(cases)]
    ok = _per_repeat(timing_rows(cases, include_profiled))
    stats = {f"{c}_{s}": (c, s) for c in SPREAD for s in ("median", "min", "max")}
    board = ok.groupby(keys, dropna=False, sort=False).agg(
        repeats=("status", "size"),
        reached=("_reached", "sum"),
        target_accuracy=("target_accuracy", "max"),
        **stats,
        compile_s_median=("compile_s", "median"),
        energy_to_target_j_median=("energy_to_target_j", "median"),
        energy_source=("energy_source", join_sources),
        samples_per_s_median=("samples_per_s", "median"),
    )
    rows = cases.groupby(keys, dropna=False, sort=False).size().rename("rows")
    board = pd.concat([rows, board], axis=1).reset_index()
    board[["repeats", "reached"]] = board[["repeats", "reached"]].fillna(0).astype(int)
    board["interval"] = board["repeats"].map(interval_text)
    contended = contended_counts(ok, keys)
    if contended is not None:
        board = board.merge(contended, on=keys, how="left")
    by = ["_workload"] if WORKLOAD in keys else []  # each workload ranked on its own, in suite order
    if by:
        order = {w: i for i, w in enumerate(pd.unique(board[WORKLOAD]))}
        board = pd.concat([_rank(g) for _, g in board.groupby(WORKLOAD, sort=False, dropna=False)])
        board["_workload"] = board[WORKLOAD].map(order)
    board = (board if by else _rank(board)).sort_values(
        [*by, "rank", "time_to_target_s_median", "test_accuracy_median"],
        ascending=[*[True] * len(by), True, True, False], na_position="last", kind="stable",
    ).reset_index(drop=True)
    order = [
        "rank", "tied", *keys, "rows", "repeats", "reached", "target_accuracy",
        *[f"time_to_target_s_{s}" for s in ("median", "min", "max")],
        *[f"wall_to_target_s_{s}" for s in ("median", "min", "max")],
        "compile_s_median",
        *[f"test_accuracy_{s}" for s in ("median", "min", "max")],
        "energy_to_target_j_median", "energy_source", "samples_per_s_median", "interval",
        *(["contended_repeats"] if contended is not None else []),
    ]
    board = board[order]
    if by:  # the best of each workload: times and accuracies of different models do not compare
        return pd.concat([_best_marks(g.copy()) for _, g in board.groupby(WORKLOAD, sort=False, dropna=False)])
    return _best_marks(board)


def single_repeat_warning(board: pd.DataFrame) -> str:
    """A banner when the ranking rests on configurations measured once ('' otherwise)."""
    ranked = board[board["repeats"] > 0]
    single = int((ranked["repeats"] == 1).sum())
    if ranked.empty or single == 0:
        return ""
    return (
        f"This ranking rests on a single repeat for {single} of {len(ranked)} configurations: "
        "their differences may be noise (no interval can be given). Rerun with --repeats 3 or more."
    )
