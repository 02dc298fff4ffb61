"""Figures that compare configurations: leaderboard, learning curves, throughput, scaling.

Every series is named by its ``series`` label (the one of the tables), coloured by
its optimizer (:func:`harness.report.style.palette`) and styled by the next
varying axis; a figure that would hold more than eight series becomes small
multiples. Intervals are min-max over repeats; one repeat draws a point only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from harness.analysis.labels import join_label  # noqa: E402
from harness.report import style  # noqa: E402
from harness.report.plots import _png  # noqa: E402

CONFIG_KEYS = ("optimizer_label", "schedule_label", "engine", "strategy", "num_replicas", "num_workers",
               "device", "precision", "batch_size", "learning_rate", "epochs", "dataset", "machine", "run_id")


def _keys(df: pd.DataFrame) -> list[str]:
    return [k for k in CONFIG_KEYS if k in df.columns]


def _encoder(df: pd.DataFrame, colors: Mapping[str, object]):
    """series -> matplotlib kwargs: colour by optimizer; line style and marker by the rest of the
    configuration (the axes that vary within one optimizer label; axes that only change with the
    optimizer, like its own learning rate, add nothing), the same rest drawn alike everywhere."""
    per_opt = df.groupby("optimizer_label", dropna=False)
    rest = [k for k in _keys(df) if k != "optimizer_label" and per_opt[k].nunique(dropna=False).max() > 1]
    first = df.drop_duplicates("series").set_index("series")
    tags = first[rest].astype(str).agg(" / ".join, axis=1) if rest else pd.Series("", index=first.index)
    looks = style.styles(tags)

    def kw(series: str) -> dict[str, object]:
        ls, marker = looks[tags.loc[series]]
        return {"color": colors.get(str(first.loc[series, "optimizer_label"]), style.NEUTRAL),
                "linestyle": ls, "marker": marker, "label": str(series)}

    return kw


def _legend(ax: plt.Axes) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _range(ax: plt.Axes, y: np.ndarray, med, lo, hi, colours: Sequence[object], markers: Sequence[str]) -> None:
    """Median dots with min-max whiskers (a point only where min == max)."""
    med, lo, hi = (np.asarray(a, dtype=float) for a in (med, lo, hi))
    for yi, m, a, b, c, mk in zip(y, med, lo, hi, colours, markers, strict=True):
        if not np.isfinite(m):
            continue
        b = b if np.isfinite(b) else m
        ax.plot([a, b], [yi, yi], color=c, linewidth=2, solid_capstyle="butt", alpha=0.7)
        ax.plot([m], [yi], marker=mk, color=c, markersize=6, markeredgecolor="black", markeredgewidth=0.4)


def _not_reached(ax: plt.Axes, y: np.ndarray, values: pd.Series) -> None:
    trans = ax.get_yaxis_transform()
    for yi, v in zip(y, values.astype(float), strict=True):
        if not np.isfinite(v):
            ax.text(0.99, yi, "not reached", transform=trans, ha="right", va="center", fontsize=7, color="#a00")


def _log_if_wide(ax: plt.Axes, values: pd.Series, ratio: float = 10.0) -> None:
    v = values.astype(float).replace([np.inf, -np.inf], np.nan).dropna()
    v = v[v > 0]
    if len(v) and v.max() > ratio * v.min():
        style.log_axis(ax)


def leaderboard_figure(board: pd.DataFrame, colors: Mapping[str, object]) -> bytes | None:
    """Final accuracy, time to target (training clock) and end-to-end time to target per
    configuration: median dots, min-max whiskers over repeats, ``=`` marks a tie."""
    board = board[board["repeats"] > 0].reset_index(drop=True)
    if board.empty:
        return None
    kw = _encoder(board, colors)
    looks = [kw(s) for s in board["series"]]
    col = [k["color"] for k in looks]
    mk = [k["marker"] for k in looks]
    y = np.arange(len(board))
    fig, axes = plt.subplots(1, 3, figsize=(13, 0.32 * len(board) + 1.6), sharey=True)
    panels = (("test_accuracy", "final test accuracy [fraction]"),
              ("time_to_target_s", "time to target, training clock [s]"),
              ("wall_to_target_s", "time to target incl. compile + eval [s]"))
    for ax, (base, title) in zip(axes, panels, strict=True):
        _range(ax, y, board[f"{base}_median"], board[f"{base}_min"], board[f"{base}_max"], col, mk)
        ax.set_xlabel(title, fontsize=8)
        ax.grid(axis="x", alpha=0.3)
        if base != "test_accuracy":
            _log_if_wide(ax, board[f"{base}_max"])
            _not_reached(ax, y, board[f"{base}_median"])
    ticks = [f"#{r}{'=' if t else ''} {s}" for r, t, s in zip(board["rank"], board["tied"], board["series"], strict=True)]
    axes[0].set_yticks(y, ticks, fontsize=7)
    axes[0].invert_yaxis()
    fig.suptitle("median over repeats; whiskers min–max; = tied (intervals overlap)", fontsize=8)
    style.tidy(fig)
    return _png(fig)


def curves_figure(curves: pd.DataFrame, colors: Mapping[str, object]) -> bytes | None:
    """Training loss and test accuracy per epoch (median, quartile band), small multiples beyond 8."""
    if curves.empty:
        return None
    panels = style.facets(curves, _keys(curves))
    kw = _encoder(curves, colors)
    fig, axes = plt.subplots(len(panels), 2, figsize=(12, 3.2 * len(panels)), squeeze=False)
    log_loss = (curves["loss_median"] > 0).all() and curves["loss_median"].max() > 20 * curves["loss_median"].min()
    for (title, df), (ax_loss, ax_acc) in zip(panels, axes, strict=True):
        for series, g in df.groupby("series", sort=True):
            k = kw(str(series))
            ax_loss.plot(g["epoch"], g["loss_median"], markersize=3, **k)
            ax_acc.plot(g["epoch"], g["test_accuracy_median"], markersize=3, **k)
            ax_acc.fill_between(g["epoch"], g["test_accuracy_q25"], g["test_accuracy_q75"], color=k["color"], alpha=0.15)
        ax_loss.set(xlabel="epoch", ylabel="training loss (median)", title=title)
        ax_acc.set(xlabel="epoch", ylabel="test accuracy [fraction]", title=title)
        for ax in (ax_loss, ax_acc):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        if log_loss:
            style.log_axis(ax_loss, "y")
        _legend(ax_acc)
    style.tidy(fig)
    return _png(fig)


def wall_curves_figure(curves: pd.DataFrame, colors: Mapping[str, object]) -> bytes | None:
    """Test accuracy against total wall time (compile + train + eval so far), log time axis."""
    curves = curves[np.isfinite(curves["cum_wall_s_median"].astype(float))]
    if curves.empty:
        return None
    panels = style.facets(curves, _keys(curves))
    rows, cols = style.grid(len(panels), 1)  # legends sit to the right: one column
    fig, axes = plt.subplots(rows, cols, figsize=(8, 3.2 * rows), squeeze=False)
    kw = _encoder(curves, colors)
    for (title, df), ax in zip(panels, axes.flat, strict=False):
        for series, g in df.groupby("series", sort=True):
            ax.plot(g["cum_wall_s_median"], g["test_accuracy_median"], markersize=3, **kw(str(series)))
        style.log_axis(ax)
        ax.set(xlabel="total wall time: compile + train + eval [s] (log)", ylabel="test accuracy [fraction]", title=title)
        ax.grid(alpha=0.3, which="both")
        _legend(ax)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    style.tidy(fig)
    return _png(fig)


def throughput_figure(table: pd.DataFrame, colors: Mapping[str, object]) -> bytes | None:
    """Examples/s per configuration (median, min-max) with its speed-up, and time per update:
    filled markers per update, hollow ones chunk-based (K updates per host call)."""
    table = table[table["samples_per_s_median"].notna()].reset_index(drop=True)
    if table.empty:
        return None
    kw = _encoder(table, colors)
    col = [kw(s)["color"] for s in table["series"]]
    y = np.arange(len(table))
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.32 * len(table) + 1.6), sharey=True)
    _range(axes[0], y, table["samples_per_s_median"], table["samples_per_s_min"], table["samples_per_s_max"],
           col, ["o"] * len(table))
    if "speedup_vs_baseline" in table.columns:
        marks = zip(table["samples_per_s_median"], table["speedup_vs_baseline"], table["baseline"], strict=True)
        for yi, (m, s, is_base) in enumerate(marks):
            if np.isfinite(m) and (is_base or np.isfinite(s)):
                text = "baseline" if is_base else f"{s:.2f}×"
                axes[0].annotate(text, (m, yi), xytext=(6, 0), textcoords="offset points", va="center", fontsize=7)
    style.thousands(axes[0])
    axes[0].set_xlabel("examples/s (median; whiskers min–max; × = speed-up vs baseline)", fontsize=8)
    for p, marker in (("p50", "o"), ("p90", "^"), ("p99", "s")):
        for prefix, filled in (("step_ms", True), ("chunk_ms", False)):
            if f"{prefix}_{p}" not in table.columns:
                continue
            values = table[f"{prefix}_{p}"].astype(float)
            axes[1].scatter(values, y, marker=marker, c=col if filled else "none", edgecolors=col,
                            label=f"{p} {'per update' if filled else 'chunk-based'}" if values.notna().any() else None)
    axes[1].set_xlabel("time per update [ms] (hollow: over chunk averages)", fontsize=8)
    timed = table[[c for c in table.columns if c[:8] in ("step_ms_", "chunk_ms")]].stack()
    _log_if_wide(axes[1], timed)
    if axes[1].get_legend_handles_labels()[0]:
        axes[1].legend(fontsize=7)
    else:
        axes[1].text(0.5, 0.5, "no time per update recorded", transform=axes[1].transAxes, ha="center")
        axes[1].set_xticks([])
    axes[0].set_yticks(y, table["series"].astype(str), fontsize=7)
    axes[0].invert_yaxis()
    for ax in axes:
        ax.grid(axis="x", alpha=0.3)
    style.tidy(fig)
    return _png(fig)


def scaling_figure(table: pd.DataFrame, colors: Mapping[str, object]) -> bytes | None:
    """Examples/s against replicas or workers for each configuration run at several units, with
    its ideal line (its default strategy's examples/s x units), and the efficiency panel (1.0 =
    ideal); small multiples beyond 8 lines. Single-unit configurations stay in the table."""
    table = table[table["samples_per_s_median"].notna()]
    line_keys = [k for k in _keys(table) if k not in ("num_replicas", "num_workers")]
    table = table.assign(series=join_label(table, line_keys))
    table = table[table.groupby("series")["parallel_units"].transform("nunique") > 1]
    if table.empty:
        return None
    panels = style.facets(table, line_keys)
    axis = style.second_axis(table, line_keys) or "strategy"
    looks = style.styles(table[axis].astype(str))
    fig, axes = plt.subplots(len(panels), 2, figsize=(12, 3.6 * len(panels)), squeeze=False)
    for (title, df), (ax_t, ax_e) in zip(panels, axes, strict=True):
        for name, g in df.groupby("series", sort=True):
            g = g.sort_values("parallel_units")
            ls, marker = looks[str(g[axis].iloc[0])]
            c = colors.get(str(g["optimizer_label"].iloc[0]), style.NEUTRAL)
            ax_t.plot(g["parallel_units"], g["samples_per_s_median"], color=c, linestyle=ls, marker=marker, label=str(name))
            ax_e.plot(g["parallel_units"], g["efficiency"], color=c, linestyle=ls, marker=marker)
            base = (g["samples_per_s_median"] / g["speedup_vs_default"]).dropna()
            if len(base):
                units = g["parallel_units"].to_numpy(dtype=float)
                ax_t.plot(units, base.iloc[0] * units, color="black", linewidth=0.8, linestyle=(0, (2, 2)))
        ax_t.plot([], [], color="black", linewidth=0.8, linestyle=(0, (2, 2)), label="ideal: default strategy × units")
        ax_e.axhline(1.0, color="black", linewidth=0.8, linestyle=(0, (2, 2)))
        ax_t.set(xlabel="replicas or workers", ylabel="examples/s (median)", title=title)
        style.thousands(ax_t, "y")
        ax_e.set(xlabel="replicas or workers", ylabel="efficiency (speed-up vs default / units)", ylim=(0, None),
                 title=title)
        for ax in (ax_t, ax_e):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        ax_e.legend(*ax_t.get_legend_handles_labels(), fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                    frameon=False)
    style.tidy(fig)
    return _png(fig)
