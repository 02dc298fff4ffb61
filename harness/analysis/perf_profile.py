"""Dolan-Moré performance profiles of optimizers on time to the target accuracy.

A *problem* is one setting of the axes that vary independently of the
optimizer (schedule, engine, strategy, device, precision, batch size, ...,
machine); an axis whose value is fixed by the optimizer label (say a label with
its own learning rate, or a single extra case with its own batch size) belongs
to the *solver*, the optimizer label. For each problem p and optimizer s that
ran on it, t[p, s] is the median time to target (s) over the repeats, a repeat
that did not reach the target (or did not finish ``ok``) counting as infinite.
The ratio r[p, s] = t[p, s] / min_s t[p, s], and the profile
rho_s(tau) = |{p : r[p, s] <= tau}| / |problems s ran on| is the fraction of
problems an optimizer solves within a factor tau of the best (Dolan and Moré,
"Benchmarking optimization software with performance profiles", Math.
Programming 91, 2002). rho_s(1) is the share of problems where s was fastest.
Problems on which fewer than two optimizers ran compare nothing and are left
out; where no optimizer reached the target, every ratio is NaN and the
problem counts as unsolved for all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.analysis.frames import AXIS_KEYS, varying

SOLVER = "optimizer_label"


def _problem_keys(cases: pd.DataFrame) -> list[str]:
    keys = varying(cases, [k for k in AXIS_KEYS if k != SOLVER])
    if cases.empty:
        return keys
    per_solver = cases.groupby(SOLVER, dropna=False)
    return [k for k in keys if (per_solver[k].nunique(dropna=False) > 1).any()]


def _problem_label(rows: pd.DataFrame, keys: list[str]) -> pd.Series:
    if not keys:
        return pd.Series("all", index=rows.index, dtype="string")
    label = rows[keys[0]].astype("string").fillna("?")
    for k in keys[1:]:
        label = label + " / " + rows[k].astype("string").fillna("?")
    return label


def performance_ratios(cases: pd.DataFrame, *, include_profiled: bool = False) -> pd.DataFrame:
    """The problem x optimizer table behind the profile.

    Columns: the problem keys (``problem`` = their joined label), ``optimizer_label``,
    ``time_to_target_s`` (median over repeats, inf when not reached) and
    ``ratio`` (x; inf when not reached, NaN where no optimizer reached it).
    Only optimizers that ran on a problem have a row for it.
    """
    rows = cases if include_profiled else cases[~cases["profiled"].fillna(False).astype(bool)]
    keys = _problem_keys(rows)
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "problem", SOLVER, "time_to_target_s", "ratio"])
    t = rows["time_to_target_s"].astype(float).where(rows["status"] == "ok", np.inf).fillna(np.inf)
    rows = rows.assign(_t=t, _p=_problem_label(rows, keys))
    per = rows.groupby(["_p", SOLVER], dropna=False, sort=True)["_t"].median().rename("time_to_target_s")
    table = per.reset_index()
    table = table[table.groupby("_p")[SOLVER].transform("nunique") > 1]
    problems = rows.drop_duplicates("_p").set_index("_p")[keys]
    table = table.merge(problems.reset_index(), on="_p", how="left").rename(columns={"_p": "problem"})
    table = table[[*keys, "problem", SOLVER, "time_to_target_s"]].reset_index(drop=True)
    best = table.groupby("problem")["time_to_target_s"].transform("min")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = table["time_to_target_s"] / best
    table["ratio"] = ratio.where(np.isfinite(best), np.nan)
    table.loc[np.isfinite(best) & ~np.isfinite(table["time_to_target_s"]), "ratio"] = np.inf
    return table


def performance_profile(
    cases: pd.DataFrame,
    *,
    taus: np.ndarray | None = None,
    include_profiled: bool = False,
) -> pd.DataFrame:
    """rho_s(tau) for every optimizer: columns ``optimizer_label``, ``tau`` (x), ``fraction``.

    By default tau runs over 1, every finite ratio that occurs and 10 % past the
    largest one, so the step function is exact at its jumps.
    """
    ratios = performance_ratios(cases, include_profiled=include_profiled)
    if ratios.empty:
        return pd.DataFrame(columns=[SOLVER, "tau", "fraction"])
    r = ratios["ratio"].to_numpy(dtype=float)
    if taus is None:
        finite = r[np.isfinite(r)]
        top = float(finite.max()) if finite.size else 1.0
        taus = np.unique(np.concatenate([[1.0], finite, [max(top * 1.1, 1.1)]]))
    out = []
    for solver, group in ratios.groupby(SOLVER, sort=True):
        values = group["ratio"].to_numpy(dtype=float)
        for tau in taus:
            solved = np.count_nonzero(np.isfinite(values) & (values <= tau * (1 + 1e-12)))
            out.append({SOLVER: solver, "tau": float(tau), "fraction": solved / len(values)})
    return pd.DataFrame(out)
