"""Dolan-Moré performance profiles of optimizers on time to the target accuracy, and AlgoPerf's score.

A *problem* is one setting of every axis of the configuration label except the
optimizer's own (its label and learning rate): schedule, engine, strategy,
replicas, device, precision, batch size, epochs, dataset, machine, and the run
when combined runs hold the same configuration. So adding a run adds problems
and never changes the ratios of the problems already there. The *solver* is the
optimizer label (with its learning rate where one problem holds one label at
several rates). For each problem p and solver s that ran on it, t[p, s] is the
median time to target (s) over the repeats, a repeat that did not reach the
target (or did not finish ``ok``) counting as infinite; skipped cases did not
run and are not counted. The ratio r[p, s] = t[p, s] / min_s t[p, s], and
rho_s(tau) = |{p : r[p, s] <= tau}| / |problems s ran on| (Dolan and Moré,
"Benchmarking optimization software with performance profiles", Math.
Programming 91, 2002). rho_s(1) is the share of problems where s was fastest.
The score is AlgoPerf's (Dahl et al., "Benchmarking Neural Network Training
Algorithms", 2023): the area under rho_s from tau = 1 to 4, over 3. Problems on
which fewer than two solvers ran compare nothing and are left out, by name
(:func:`profile_notes`); where no solver reached the target, every ratio is NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.analysis.labels import join_label, labelled, problem_keys

SOLVER = "optimizer_label"
TAU_MAX = 4.0  # AlgoPerf integrates the profile from tau = 1 to 4


def solver_keys(rows: pd.DataFrame, problems: list[str]) -> list[str]:
    """The optimizer label, plus its learning rate where one problem holds one label at several rates."""
    if "learning_rate" not in rows.columns or rows.empty:
        return [SOLVER]
    per = rows.groupby([*problems, SOLVER], dropna=False)["learning_rate"].nunique(dropna=False)
    return [SOLVER, "learning_rate"] if (per > 1).any() else [SOLVER]


def _prepared(cases: pd.DataFrame, include_profiled: bool) -> tuple[pd.DataFrame, list[str]]:
    cases = labelled(cases)
    rows = cases if include_profiled else cases[~cases["profiled"].fillna(False).astype(bool)]
    rows = rows[rows["status"] != "skipped"]
    keys = problem_keys(cases)
    solver = solver_keys(rows, keys)
    t = rows["time_to_target_s"].astype(float).where(rows["status"] == "ok", np.inf).fillna(np.inf)
    rows = rows.assign(_t=t, _p=join_label(rows, keys), solver=join_label(rows, solver))
    return rows, keys


def performance_ratios(cases: pd.DataFrame, *, include_profiled: bool = False) -> pd.DataFrame:
    """The problem x solver table behind the profile.

    A problem is one setting of every series axis but the optimizer's own
    (label, learning rate): schedule, engine, strategy, replicas, device,
    batch size, epochs, dataset, machine and the run where the label holds it.
    Columns: the problem keys, ``problem`` (their joined label), ``solver``
    (optimizer label, with its rate where a problem holds several),
    ``optimizer_label``, ``time_to_target_s`` (median over the repeats, inf when
    not reached) and ``ratio`` (x; inf when not reached, NaN where no solver
    reached it). Problems that only one solver ran on compare nothing and are
    left out (:func:`profile_notes` names them). Skipped cases are not counted.
    """
    rows, keys = _prepared(cases, include_profiled)
    columns = [*keys, "problem", "solver", SOLVER, "repeats", "time_to_target_s", "ratio"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    per = rows.groupby(["_p", "solver"], dropna=False, sort=True).agg(
        repeats=("_t", "size"), time_to_target_s=("_t", "median"), **{SOLVER: (SOLVER, "first")})
    table = per.reset_index()
    table = table[table.groupby("_p")["solver"].transform("nunique") > 1]
    problems = rows.drop_duplicates("_p").set_index("_p")[keys]
    table = table.merge(problems.reset_index(), on="_p", how="left").rename(columns={"_p": "problem"})
    table = table[columns[:-1]].reset_index(drop=True)
    best = table.groupby("problem")["time_to_target_s"].transform("min")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = table["time_to_target_s"] / best
    table["ratio"] = ratio.where(np.isfinite(best), np.nan)
    table.loc[np.isfinite(best) & ~np.isfinite(table["time_to_target_s"]), "ratio"] = np.inf
    return table


def profile_notes(cases: pd.DataFrame, *, include_profiled: bool = False) -> list[tuple[str, str]]:
    """(level, text): a warning when times come from single repeats; the problems left out
    because a single solver ran on them (said, not hidden)."""
    rows, _ = _prepared(cases, include_profiled)
    if rows.empty:
        return []
    solvers = rows.groupby("_p")["solver"].unique()
    alone = solvers[solvers.map(len) == 1]
    left = [f"{p!r} (only {s[0]!r} ran on it)" for p, s in alone.items()]
    notes = [("info", f"left out: problem {text}") for text in left]
    if len(left) > 3:
        notes = [("info", f"left out: {len(left)} problems a single optimizer ran on, e.g. {'; '.join(left[:3])}")]
    ratios = performance_ratios(cases, include_profiled=include_profiled)
    single = int((ratios["repeats"] == 1).sum()) if not ratios.empty else 0
    if single:
        notes.insert(0, ("warning", f"{single} of {len(ratios)} problem × solver times come from a single "
                                    "repeat: ratios near 1 may be noise."))
    return notes


def performance_profile(
    cases: pd.DataFrame,
    *,
    taus: np.ndarray | None = None,
    include_profiled: bool = False,
) -> pd.DataFrame:
    """rho_s(tau) for every solver: columns ``solver``, ``optimizer_label``, ``tau`` (x), ``fraction``.

    By default tau runs over 1, every finite ratio that occurs and 10 % past the
    largest one (at least TAU_MAX), so the step function is exact at its jumps.
    """
    ratios = performance_ratios(cases, include_profiled=include_profiled)
    if ratios.empty:
        return pd.DataFrame(columns=["solver", SOLVER, "tau", "fraction"])
    r = ratios["ratio"].to_numpy(dtype=float)
    if taus is None:
        finite = r[np.isfinite(r)]
        top = float(finite.max()) if finite.size else 1.0
        taus = np.unique(np.concatenate([[1.0], finite, [max(top * 1.1, TAU_MAX)]]))
    out = []
    for solver, group in ratios.groupby("solver", sort=True):
        values = group["ratio"].to_numpy(dtype=float)
        label = group[SOLVER].iloc[0]
        for tau in taus:
            solved = np.count_nonzero(np.isfinite(values) & (values <= tau * (1 + 1e-12)))
            out.append({"solver": solver, SOLVER: label, "tau": float(tau), "fraction": solved / len(values)})
    return pd.DataFrame(out)


def profile_scores(ratios: pd.DataFrame, tau_max: float = TAU_MAX) -> pd.DataFrame:
    """AlgoPerf's score: the area under rho_s from tau = 1 to ``tau_max``, divided by (tau_max - 1).

    1.0: fastest on every problem; 0: never within ``tau_max`` of the best.
    Exact for the step function: (1/n_s) sum_p max(0, tau_max - max(1, r_p)) / (tau_max - 1).
    Columns ``solver``, ``optimizer_label``, ``problems``, ``wins`` (rho(1) x problems), ``score``.
    """
    if ratios.empty:
        return pd.DataFrame(columns=["solver", SOLVER, "problems", "wins", "score"])
    r = ratios["ratio"].astype(float)
    gain = (tau_max - r.clip(lower=1.0)).where(np.isfinite(r), 0.0).clip(lower=0.0) / (tau_max - 1.0)
    table = ratios.assign(_gain=gain, _win=np.isclose(r.where(np.isfinite(r), np.nan), 1.0))
    out = table.groupby("solver", sort=True).agg(
        **{SOLVER: (SOLVER, "first")}, problems=("problem", "nunique"), wins=("_win", "sum"),
        score=("_gain", "mean"))
    return out.reset_index().sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
