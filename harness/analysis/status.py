"""How many cases ran, finished, failed or were skipped, and why."""

from __future__ import annotations

import pandas as pd

from harness.schema import STATUSES


def status_summary(cases: pd.DataFrame) -> pd.DataFrame:
    """Per run: ``rows`` (case x repeat rows recorded) and a count per status."""
    keys = ["run_id", "suite", "machine"]
    if cases.empty:
        return pd.DataFrame(columns=[*keys, "rows", *STATUSES])
    counts = pd.crosstab(
        [cases[k].fillna("?") for k in keys], cases["status"].fillna("?")
    )
    for status in STATUSES:
        if status not in counts.columns:
            counts[status] = 0
    other = [c for c in counts.columns if c not in STATUSES]
    counts = counts[[*STATUSES, *other]]
    counts.insert(0, "rows", counts.sum(axis=1))
    counts.columns.name = None
    return counts.reset_index()


def problems(cases: pd.DataFrame) -> pd.DataFrame:
    """Every row whose status is not ``ok``, with its reason (the recorded error or skip reason)."""
    cols = ["run_id", "case_label", "repeat", "status", "error"]
    bad = cases[cases["status"] != "ok"]
    out = bad[cols].copy()
    out["error"] = out["error"].fillna("(no reason recorded)")
    return out.sort_values(["status", "run_id", "case_label", "repeat"], kind="stable").reset_index(drop=True)
