"""What a per-update time is called: one function for the stored tables and every view.

An engine that times each update (``step_time_basis = "per_step"``) gives
step times: ``step_ms_p50/p90/p99``. An engine that runs K updates per host
call (``per_chunk/K``) or a whole epoch asynchronously (``per_epoch/async``)
only sees chunk (or epoch) averages: those are stored as
``chunk_ms_p50/p90/p99`` and ``step_ms_*`` stays NaN. Runs written before
this split stored chunk averages under ``step_ms_*``; :func:`split_stored`
moves them when such a run is read. ``harness show``, ``compare``, the report,
TensorBoard and the schema's descriptions take their names from here.
No pandas at import time: the worker imports this.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

LEVELS = ("p50", "p90", "p99")
STEP, CHUNK = "step", "chunk"


def kind(basis: object) -> str:
    """``step`` when single updates were timed (``per_step``), else ``chunk`` (``per_chunk/K``,
    ``per_epoch/async``); an unknown basis counts as ``step`` (old rows: shown as recorded)."""
    text = basis if isinstance(basis, str) else ""
    return CHUNK if text.startswith(("per_chunk", "per_epoch")) else STEP


def column(level: str, basis: object) -> str:
    """The stored column of percentile ``level`` (``p50``) for rows of this ``basis``."""
    return f"{kind(basis)}_ms_{level}"


def title(basis: object, level: str = "p50") -> str:
    """A short human title: ``step p50 ms`` or ``chunk p50 ms (÷K)``."""
    text = basis if isinstance(basis, str) else ""
    if kind(text) == STEP:
        return f"step {level} ms"
    k = text.split("/", 1)[1] if "/" in text else "?"
    return f"chunk {level} ms (÷{k})" if k.isdigit() else f"{k} {level} ms per update"


def describe(basis: object) -> str:
    """One sentence for descriptions (TensorBoard, reports): what the figure is an average of."""
    if kind(basis) == STEP:
        return "time of single updates"
    return f"chunk averages (a host call's time / its updates, {basis}), not single updates"


def stored(values: dict[str, float], basis: object) -> dict[str, float]:
    """``{"step_ms_p50": ...}`` from an engine -> the columns to store for ``basis`` (the other
    kind's columns NaN)."""
    out: dict[str, float] = {}
    for level in LEVELS:
        value = values.get(f"step_ms_{level}", math.nan)
        out[f"step_ms_{level}"] = value if kind(basis) == STEP else math.nan
        out[f"chunk_ms_{level}"] = value if kind(basis) == CHUNK else math.nan
    return out


def split_stored(cases: pd.DataFrame) -> pd.DataFrame:
    """Rows of older runs that stored chunk averages as ``step_ms_*``: moved to ``chunk_ms_*``."""
    if "step_time_basis" not in cases.columns or "step_ms_p50" not in cases.columns:
        return cases
    chunk = cases["step_time_basis"].map(kind) == CHUNK
    if not chunk.any():
        return cases
    out = cases.copy()
    for level in LEVELS:
        old, new = f"step_ms_{level}", f"chunk_ms_{level}"
        if new not in out.columns:
            out[new] = float("nan")
        move = chunk & out[new].isna() & out[old].notna()
        out.loc[move, new] = out.loc[move, old]
        out.loc[chunk, old] = float("nan")
    return out


def per_update(row: Any, level: str = "p50") -> tuple[float, str]:
    """(value, title) of a row's per-update percentile, whichever kind it recorded."""
    basis = row.get("step_time_basis")
    value = row.get(column(level, basis))
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    return number, title(basis, level)
