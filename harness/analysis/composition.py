"""What a reader must know before comparing the rows of a combined report (warnings, in words)."""

from __future__ import annotations

import pandas as pd


def _distinct(cases: pd.DataFrame, column: str) -> dict[str, list[str]]:
    """Run id -> the distinct values of ``column`` in that run."""
    if column not in cases.columns or cases.empty:
        return {}
    per = cases.groupby("run_id", dropna=False)[column].unique()
    return {str(run): sorted(str(v) for v in values if not pd.isna(v)) for run, values in per.items()}


def composition_warnings(cases: pd.DataFrame) -> list[str]:
    """Warnings about combining runs: different suites, different targets, different machines.

    Each run keeps its own baselines (speed-ups are matched within a run), but
    a reader comparing rows across runs should know what differs.
    """
    out: list[str] = []
    runs = cases["run_id"].nunique() if "run_id" in cases.columns else 0
    if runs > 1:
        suites = sorted({s for v in _distinct(cases, "suite").values() for s in v})
        if len(suites) > 1:
            out.append(f"{runs} runs of different suites are combined ({', '.join(suites)}): rows of "
                       "different suites may differ in data, epochs or learning rate; their labels say how.")
        machines = sorted({m for v in _distinct(cases, "machine").values() for m in v})
        if len(machines) > 1:
            out.append(f"Runs from {len(machines)} machines ({', '.join(machines)}): timings and energy "
                       "compare machines as well as configurations.")
    targets = cases["target_accuracy"].dropna().unique() if "target_accuracy" in cases.columns else []
    if len(targets) > 1:
        values = ", ".join(f"{t:g}" for t in sorted(targets))
        out.append(f"Target accuracies differ ({values}): times and energy to target answer different "
                   "questions; pass --target ACC to recompute them for one target.")
    return out


def contended_counts(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame | None:
    """Per configuration: how many of its repeats were timed under contention (``contended``,
    recorded by the CPU-time collector); None when no row recorded it."""
    if "contended" not in rows.columns or rows["contended"].isna().all():
        return None
    flag = rows["contended"].astype("boolean").fillna(False).astype(int)
    return rows.assign(_c=flag).groupby(keys, dropna=False, sort=False)["_c"].sum().rename(
        "contended_repeats").reset_index()


def contention_warning(rows: pd.DataFrame) -> str:
    """A banner when timed repeats ran while other processes used the CPU ('' otherwise)."""
    if "contended" not in rows.columns:
        return ""
    known = rows["contended"].dropna()
    bad = int(known.astype(bool).sum())
    if bad == 0:
        return ""
    share = rows.get("other_cpu_share", pd.Series(dtype=float)).astype(float)
    worst = f"; up to {share.max():.0%} of the CPU was used by other processes" if share.notna().any() else ""
    return (f"{bad} of {len(known)} timed repeats ran under contention (contended_repeats columns){worst}: "
            "their timings and energy are inflated; rerun those on a quiet machine.")
