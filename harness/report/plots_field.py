"""The plots the field expects: the performance profile (log2 tau, AlgoPerf score in the legend),
the accuracy / time / energy Pareto plots and the learning-rate sensitivity plot."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from harness.analysis import is_estimated  # noqa: E402
from harness.report import style  # noqa: E402
from harness.report.plots import _png  # noqa: E402
from harness.report.plots_config import _encoder, _keys, _legend  # noqa: E402


def profile_figure(profile: pd.DataFrame, scores: pd.DataFrame, colors: Mapping[str, object]) -> bytes | None:
    """rho_s(tau) on a log2 tau axis, one step curve per solver; the legend gives AlgoPerf's score.
    More than eight solvers: panels of eight, best score first."""
    if profile.empty:
        return None
    score = dict(zip(scores["solver"], scores["score"], strict=True)) if not scores.empty else {}
    solvers = sorted(profile["solver"].astype(str).unique(), key=lambda s: (-score.get(s, 0.0), s))
    looks = style.styles(solvers) if profile["solver"].nunique() > profile["optimizer_label"].nunique() else {}
    n = style.MAX_PER_PANEL
    groups = [solvers[i:i + n] for i in range(0, len(solvers), n)]
    fig, axes = plt.subplots(len(groups), 1, figsize=(7.5, 3.6 * len(groups)), squeeze=False)
    top = max(float(profile["tau"].max()), 4.0)
    for k, (group, ax) in enumerate(zip(groups, axes[:, 0], strict=True)):
        for solver in group:
            g = profile[profile["solver"] == solver].sort_values("tau")
            s = score.get(solver, np.nan)
            ax.step(g["tau"], g["fraction"], where="post", linestyle=looks.get(solver, ("-", ""))[0], linewidth=1.6,
                    color=colors.get(str(g["optimizer_label"].iloc[0]), style.NEUTRAL),
                    label=f"{solver} (score {s:.2f})" if np.isfinite(s) else solver)
        style.log_axis(ax, base=2)
        ax.set_xlim(1, top)
        ax.axvline(4.0, color="grey", linewidth=0.6, linestyle=":")
        title = f"solvers {k * n + 1}–{k * n + len(group)} of {len(solvers)}, best score first" if len(groups) > 1 else ""
        ax.set(xlabel="τ: time to target within τ × the best on the problem [×] (log₂)",
               ylabel="fraction of problems ρ(τ)", ylim=(-0.02, 1.02), title=title)
        ax.grid(alpha=0.3, which="both")
        _legend(ax)
    style.tidy(fig)
    return _png(fig)


def _front(ax: plt.Axes, x: pd.Series, y: pd.Series, on: pd.Series) -> None:
    pts = pd.DataFrame({"x": x, "y": y})[on.to_numpy(bool)].sort_values("x")
    if len(pts) > 1:
        ax.step(pts["x"], pts["y"], where="post", color="black", linewidth=0.8, alpha=0.6, zorder=1)


def _points(ax: plt.Axes, df: pd.DataFrame, x: str, y: str, kw, xs: float = 1.0) -> None:
    for _, row in df.iterrows():
        k = kw(str(row["series"]))
        est = is_estimated(row.get("energy_source")) and "energy" in x + y
        ax.scatter([row[x] / xs if "energy" in x else row[x]], [row[y] / xs if "energy" in y else row[y]],
                   marker=k["marker"], s=36, color="none" if est else k["color"], edgecolors=k["color"],
                   linewidths=1.2, label=k["label"], zorder=2)


def pareto_figure(trade: pd.DataFrame, colors: Mapping[str, object]) -> bytes | None:
    """Final accuracy against end-to-end time and energy to target, and time against energy;
    the black step is the Pareto front; hollow markers are estimated energy."""
    df = trade.replace([np.inf, -np.inf], np.nan).dropna(subset=["wall_to_target_s_median"])
    if df.empty:
        return None
    kw = _encoder(df, colors)
    energy = df["energy_to_target_j_median"].notna().any()
    fig, axes = plt.subplots(1, 3 if energy else 1, figsize=(15 if energy else 6.5, 3.8), squeeze=False)
    ax = axes[0][0]
    _points(ax, df, "wall_to_target_s_median", "test_accuracy_median", kw)
    _front(ax, df["wall_to_target_s_median"], df["test_accuracy_median"], df["pareto_time"])
    ax.set(xlabel="time to target incl. compile + eval [s]", ylabel="final test accuracy [fraction]")
    style.log_axis(ax)
    if energy:
        e = df.dropna(subset=["energy_to_target_j_median"])
        factor, unit = style.scale(e["energy_to_target_j_median"], "J")
        _points(axes[0][1], e, "energy_to_target_j_median", "test_accuracy_median", kw, factor)
        _front(axes[0][1], e["energy_to_target_j_median"] / factor, e["test_accuracy_median"], e["pareto_energy"])
        axes[0][1].set(xlabel=f"energy to target [{unit}] (hollow: estimated)", ylabel="final test accuracy [fraction]")
        _points(axes[0][2], e, "wall_to_target_s_median", "energy_to_target_j_median", kw, factor)
        axes[0][2].set(xlabel="time to target incl. compile + eval [s]", ylabel=f"energy to target [{unit}]")
        style.log_axis(axes[0][2])
    for a in axes[0]:
        a.grid(alpha=0.3, which="both")
    _legend(axes[0][-1])
    style.tidy(fig)
    return _png(fig)


def lr_sensitivity_figure(table: pd.DataFrame, colors: Mapping[str, object]) -> bytes | None:
    """Final test accuracy against the initial learning rate (log), one line per optimizer
    configuration; whiskers min-max over repeats."""
    if table.empty:
        return None
    lines = table.assign(series=table["line"])
    kw = _encoder(lines, colors)
    panels = style.facets(lines, _keys(lines))
    rows, cols = style.grid(len(panels), 1)  # legends sit to the right: one column
    fig, axes = plt.subplots(rows, cols, figsize=(8, 3.2 * rows), squeeze=False)
    for (title, df), ax in zip(panels, axes.flat, strict=False):
        for line, g in df.groupby("line", sort=True):
            g = g.sort_values("learning_rate")
            k = kw(str(line))
            ax.plot(g["learning_rate"], g["test_accuracy_median"], **k)
            ax.vlines(g["learning_rate"], g["test_accuracy_min"], g["test_accuracy_max"], color=k["color"], alpha=0.6)
        style.log_axis(ax)
        ax.set(xlabel="initial learning rate (log)", ylabel="final test accuracy [fraction]", title=title)
        ax.grid(alpha=0.3, which="both")
        _legend(ax)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    style.tidy(fig)
    return _png(fig)
