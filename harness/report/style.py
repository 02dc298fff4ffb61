"""How figures encode configurations: one colour per optimizer, a line style and marker for the
next axis, small multiples when a panel would hold more than :data:`MAX_PER_PANEL` series, and
units scaled for humans (mJ, µs).

Colours come from Kelly's list of colours of maximum contrast (no paired shades
as in tab20): the same optimizer label gets the same colour in every figure of
a report, and no other quantity is ever drawn in an optimizer's colour.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

MAX_PER_PANEL = 8
# Kelly (1965), without white and black.
KELLY = (
    "#875692", "#F38400", "#BE0032", "#008856", "#0067A5", "#848482", "#F3C300", "#604E97",
    "#882D17", "#8DB600", "#E68FAC", "#654522", "#B3446C", "#E25822", "#2B3D26", "#F99379",
    "#A1CAF1", "#C2B280", "#F6A600", "#DCD300",
)  # the palest (light blue, buff, yellows) last
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
         "#bcbd22", "#17becf")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
NEUTRAL = "#444444"


def palette(labels: Iterable[str]) -> dict[str, str]:
    """A fixed colour per optimizer label (sorted): tab10 up to 10 labels, Kelly's 20 beyond,
    then repeated (small multiples keep a panel under :data:`MAX_PER_PANEL` series)."""
    names = sorted({str(x) for x in labels})
    colours = TAB10 if len(names) <= len(TAB10) else KELLY
    return {n: colours[i % len(colours)] for i, n in enumerate(names)}


def second_axis(df: pd.DataFrame, keys: Sequence[str]) -> str | None:
    """The first key after ``optimizer_label`` that varies in ``df``: drawn as line style/marker."""
    for key in keys:
        if key not in ("optimizer_label", "series") and key in df.columns and df[key].nunique() > 1:
            return key
    return None


def styles(values: Iterable[object]) -> dict[str, tuple[object, str]]:
    """Line style and marker per value of the second axis (sorted)."""
    names = sorted({str(v) for v in values})
    return {n: (LINESTYLES[i % len(LINESTYLES)], MARKERS[i % len(MARKERS)]) for i, n in enumerate(names)}


def facets(df: pd.DataFrame, keys: Sequence[str], max_per_panel: int = MAX_PER_PANEL
           ) -> list[tuple[str, pd.DataFrame]]:
    """Split ``df`` (with a ``series`` column) into panels of at most ``max_per_panel`` series.

    One panel when it fits; else one panel per value of the axis (other than the
    optimizer) that gives the fewest panels of at most ``max_per_panel`` series;
    else consecutive groups of series in label order.
    """
    series = sorted(df["series"].astype(str).unique())
    if len(series) <= max_per_panel:
        return [("", df)]
    varying = [k for k in keys if k not in ("series",) and k in df.columns and df[k].nunique() > 1]
    best: tuple[int, str] | None = None
    for key in [k for k in varying if k != "optimizer_label"]:
        sizes = df.groupby(df[key].astype(str))["series"].nunique()
        if 1 < len(sizes) <= 12 and sizes.max() <= max_per_panel and (best is None or len(sizes) < best[0]):
            best = (len(sizes), key)
    if best is not None:
        key = best[1]
        return [(f"{key} = {v}", g) for v, g in df.groupby(df[key].astype(str), sort=True)]
    chunks = [series[i:i + max_per_panel] for i in range(0, len(series), max_per_panel)]
    return [(f"series {i * max_per_panel + 1}–{i * max_per_panel + len(c)} of {len(series)}",
             df[df["series"].astype(str).isin(c)]) for i, c in enumerate(chunks)]


def grid(n: int, cols: int = 3) -> tuple[int, int]:
    """Rows and columns of a small-multiples grid for ``n`` panels."""
    cols = min(cols, n)
    return math.ceil(n / cols), cols


_PREFIXES = ((1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, ""), (1e3, "k"), (1e6, "M"))


def scale(values: Iterable[float], unit: str) -> tuple[float, str]:
    """A factor and a prefixed unit so that the typical value reads between 1 and 1000
    (2.4e-05 J -> 24 µJ). ``unit`` is the SI unit ('J', 's', 'W'); '' leaves values alone."""
    finite = np.asarray([v for v in values if v is not None], dtype=float)
    finite = np.abs(finite[np.isfinite(finite) & (finite != 0)])
    if not unit or finite.size == 0:
        return 1.0, unit
    typical = float(np.median(finite))
    factor, prefix = 1.0, ""
    for f, p in _PREFIXES:
        if typical >= f:
            factor, prefix = f, p
    if unit == "s" and factor > 1:
        factor, prefix = 1.0, ""
    return factor, prefix + unit


def log_axis(ax, which: str = "x", base: float = 10) -> None:
    """A log axis labelled in plain numbers (0.5, 2, 10), not powers (2^1, 10^0)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log", base=base)
    lo, hi = sorted(ax.get_xlim() if which == "x" else ax.get_ylim())
    decades = np.log10(hi / lo) if lo > 0 and hi > 0 else 0.0
    subs = (1.0, 1.5) if base == 2 else (1.0, 2.0, 5.0) if decades <= 2 else (1.0,)
    axis.set_major_locator(LogLocator(base=base, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def thousands(ax, which: str = "x") -> None:
    """Large counts as 120k / 1.5M with at most 6 ticks, so that labels never run together."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    def text(v: float, _: object) -> str:
        for f, p in ((1e6, "M"), (1e3, "k")):
            if abs(v) >= f:
                return f"{v / f:g}{p}"
        return f"{v:g}"

    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(MaxNLocator(6))
    axis.set_major_formatter(FuncFormatter(text))


def tidy(fig) -> None:
    """``tight_layout`` where it can be applied; long legends outside the axes may defeat it, and the
    PNG is cropped to its content anyway (``bbox_inches="tight"``), so its warning is noise."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Tight layout not applied")
        fig.tight_layout()
