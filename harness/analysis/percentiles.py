"""Honest step-time percentiles: per update only where per-update times were observed.

Engines that run K updates per host call (``step_time_basis = per_chunk/K``)
time chunks, not updates: the recorded figures (``chunk_ms_p*``; ``step_ms_p*``
in runs written before :mod:`harness.timing_names` split them) are percentiles of
chunk averages (a chunk's time / its updates), and with 5 chunks p90 and p99
are both the slowest chunk. This module splits them:

- ``step_ms_p50/_p90/_p99``: per-update percentiles, only for ``per_step`` rows;
- ``chunk_ms_p50/_p90/_p99``: percentiles over chunk (or, for ``per_epoch/async``,
  epoch) averages, only for those rows;
- a percentile q needs at least 1 / (1 - q) observations per repeat (2 for p50,
  10 for p90, 100 for p99); with fewer it is NaN and ``percentile_note`` says why.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

LEVELS: dict[str, float] = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
COLUMNS = ("step_time_basis", "observations", *(f"step_ms_{p}" for p in LEVELS),
           *(f"chunk_ms_{p}" for p in LEVELS), "percentile_note")


def needed(level: float) -> int:
    """Observations a percentile needs to differ from the extreme: ceil(1 / (1 - q))."""
    return math.ceil(1.0 / (1.0 - level) - 1e-9)


def observations(basis: str, steps: float, epochs: float) -> float:
    """Timed observations behind a row's percentiles: updates, chunks or epochs (NaN if unknown)."""
    if not isinstance(basis, str) or not basis or not np.isfinite(steps):
        return float("nan")
    if basis == "per_step":
        return float(steps)
    if basis.startswith("per_chunk/"):
        try:
            k = int(basis.split("/", 1)[1])
        except ValueError:
            return float("nan")
        return float(math.ceil(steps / k))
    if basis.startswith("per_epoch"):
        return float(epochs) if np.isfinite(epochs) else float("nan")
    return float("nan")


def _float(value: object) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value)


def _row(row: pd.Series) -> dict[str, object]:
    basis = row.get("step_time_basis")
    basis = basis if isinstance(basis, str) and basis else ""
    n = observations(basis, _float(row.get("steps")), _float(row.get("epochs")))
    out: dict[str, object] = {c: np.nan for c in COLUMNS}
    out.update(step_time_basis=basis or "unknown", observations=n)
    prefix = "step_ms" if basis == "per_step" else "chunk_ms"
    short = [p for p, q in LEVELS.items() if not (n >= needed(q))]
    for p, q in LEVELS.items():
        if n >= needed(q):
            value = _float(row.get(f"{prefix}_{p}"))  # stored under chunk names since the split
            out[f"{prefix}_{p}"] = value if not math.isnan(value) else _float(row.get(f"step_ms_{p}"))
    if not basis:
        out["percentile_note"] = "step_time_basis not recorded: percentiles withheld"
    elif short:
        unit = "updates" if basis == "per_step" else "chunks" if basis.startswith("per_chunk") else "epochs"
        need = ", ".join(f"{p} needs {needed(LEVELS[p])}" for p in short)
        out["percentile_note"] = f"{n:.0f} {unit} timed per repeat: {need}"
    elif prefix == "chunk_ms":
        out["percentile_note"] = f"over {n:.0f} chunk averages ({basis}), not single updates"
    else:
        out["percentile_note"] = ""
    return out


def step_percentiles(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per configuration (``keys``): the honest percentiles, medians over its repeats (ms)."""
    per = pd.DataFrame([_row(r) for _, r in rows.iterrows()], index=rows.index)
    per = pd.concat([rows[keys], per], axis=1)
    numeric = [c for c in COLUMNS if c not in ("step_time_basis", "percentile_note")]
    agg = {c: (c, "median") for c in numeric}
    agg["observations"] = ("observations", "min")
    agg["step_time_basis"] = ("step_time_basis", lambda s: ",".join(sorted(set(s))))
    agg["percentile_note"] = ("percentile_note", lambda s: "; ".join(sorted({x for x in s if x})))
    out = per.groupby(keys, dropna=False, sort=False).agg(**agg).reset_index()
    return out[[*keys, *COLUMNS]]
