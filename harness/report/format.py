"""Cell formatting shared by the HTML, Markdown and LaTeX renderers.

A rendered table hides helper columns (``*_best``, ``baseline``) and turns them
into marks: the best value of a leaderboard column gets a star, the baseline
row of a comparison is named, and a value whose ``*_source`` says it was
estimated is prefixed with "≈", and an energy or power figure of a row the
validity rules flag (:mod:`harness.analysis.validity`) is followed by "⚠". Headers carry units: ``samples_per_s_median
[examples/s]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.analysis import is_estimated, unit, validity
from harness.analysis.frames import SOURCE_OF

EST = "≈"
BEST = "★"


@dataclass(frozen=True)
class Cell:
    """One formatted cell: its text and how it should be marked."""

    text: str
    best: bool = False
    estimated: bool = False
    numeric: bool = False
    invalid: bool = False  # an energy/power figure below its source's floor or shared (validity)


def header(column: str, currency: str = "") -> str:
    """Column name with its unit in brackets (none for dimensionless columns); money in ``currency``."""
    u = unit(column)
    if u == "currency" and currency:
        u = currency
    return f"{column} [{u}]" if u else column


def fmt_value(value: Any) -> tuple[str, bool]:
    """Text of a value, and whether it is numeric. NaN renders as 'NaN', NA as ''."""
    if value is None or value is pd.NA:
        return "", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:d}", True
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN", True
        if math.isinf(value):
            return ("∞" if value > 0 else "-∞"), True
        if value == 0:
            return "0", True
        mag = abs(value)
        if mag >= 1e4 and mag < 1e9:
            return f"{value:,.0f}", True
        return f"{value:.4g}", True
    try:  # numpy scalars
        import numpy as np

        if isinstance(value, np.integer):
            return f"{int(value):d}", True
        if isinstance(value, np.floating):
            return fmt_value(float(value))
        if isinstance(value, np.bool_):
            return fmt_value(bool(value))
    except ImportError:  # pragma: no cover
        pass
    return str(value), False


def visible_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns
            if not c.endswith("_best") and c not in ("baseline", validity.MARKED, validity.TO_TARGET_MARKED)]


def cells(df: pd.DataFrame, currency: str = "") -> tuple[list[str], list[list[Cell]]]:
    """Headers (with units; money in ``currency``) and formatted rows of ``df``."""
    cols = visible_columns(df)
    rows: list[list[Cell]] = []
    marked = validity.MARKED in df.columns
    for _, row in df.iterrows():
        out = []
        for col in cols:
            text, numeric = fmt_value(row[col])
            best = bool(row.get(f"{col}_best", False)) if f"{col}_best" in df.columns else False
            src = SOURCE_OF.get(col.removesuffix("_mean"), SOURCE_OF.get(col))
            estimated = bool(src and src in df.columns and numeric and is_estimated(row[src]))
            if col in ("rank",) and row.get("baseline") is True:
                best = False
            if "baseline" in df.columns and col == cols[0] and bool(row["baseline"]):
                text = f"{text} (baseline)"
            invalid = bool(marked and numeric and text != "NaN" and validity.marked(row, col))
            out.append(Cell(text, best, estimated, numeric, invalid))
        rows.append(out)
    return [header(c, currency) for c in cols], rows


def plain(cell: Cell) -> str:
    """Cell text with its marks as characters (for Markdown, CSV-like and LaTeX output)."""
    text = cell.text
    if cell.estimated and text not in ("", "NaN"):
        text = EST + text
    if cell.invalid:
        text = f"{text} {validity.MARK}"
    if cell.best:
        text = f"{text} {BEST}"
    return text
