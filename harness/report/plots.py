"""Figures of the report, drawn with matplotlib's Agg backend and returned as PNG bytes.

Colours are assigned once per optimizer label (:func:`palette`) and reused by
every figure. Estimated energy is drawn hatched and lighter than measured
energy. Each function returns ``None`` when its table has nothing to draw.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from harness.analysis import is_estimated  # noqa: E402

DPI = 90
_LINESTYLES = ("-", "--", ":", "-.")


def palette(labels: Iterable[str]) -> dict[str, tuple[float, float, float, float]]:
    """A fixed colour per optimizer label (sorted, tab10 then tab20 then a spread of hues)."""
    names = sorted({str(x) for x in labels})
    if len(names) <= 10:
        cmap = plt.get_cmap("tab10")
        return {n: cmap(i) for i, n in enumerate(names)}
    if len(names) <= 20:
        cmap = plt.get_cmap("tab20")
        return {n: cmap(i) for i, n in enumerate(names)}
    cmap = plt.get_cmap("hsv")
    return {n: cmap(i / len(names)) for i, n in enumerate(names)}


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _legend(ax: plt.Axes, n: int) -> None:
    if n:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def leaderboard_figure(board: pd.DataFrame, colors: Mapping[str, object]) -> bytes | None:
    """Bars: final test accuracy (mean ± std) and time to target (s) per configuration."""
    board = board[board["repeats"] > 0]
    if board.empty:
        return None
    labels = _config_labels(board)
    col = [colors.get(str(o), "grey") for o in board["optimizer_label"]]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.35 * len(board) + 1.5), sharey=True)
    y = np.arange(len(board))
    axes[0].barh(y, board["test_accuracy_mean"], xerr=board["test_accuracy_std"].fillna(0), color=col)
    axes[0].set_xlabel("final test accuracy [fraction] (mean ± std over repeats)")
    lo = float(np.nanmin(board["test_accuracy_mean"])) if board["test_accuracy_mean"].notna().any() else 0
    axes[0].set_xlim(max(0.0, lo - 0.05), 1.0)
    axes[1].barh(y, board["time_to_target_s_mean"].fillna(0), color=col)
    axes[1].set_xlabel("time to target accuracy [s] (empty: not reached)")
    axes[0].set_yticks(y, labels, fontsize=7)
    axes[0].invert_yaxis()
    return _png(fig)


def _config_labels(df: pd.DataFrame) -> list[str]:
    keys = [c for c in df.columns if c in ("optimizer_label", "schedule_label", "engine", "strategy",
                                           "device", "precision", "batch_size", "machine")]
    return [" / ".join(str(r[k]) for k in keys) for _, r in df.iterrows()]


def curves_figure(curves: pd.DataFrame, colors: Mapping[str, object]) -> bytes | None:
    """Loss and test accuracy by epoch, and test accuracy against training time."""
    if curves.empty:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    style: dict[str, int] = {}
    for series, group in curves.groupby("series", sort=True):
        opt = str(group["optimizer_label"].iloc[0])
        ls = _LINESTYLES[style.setdefault(opt, 0) % len(_LINESTYLES)]
        style[opt] += 1
        kw = {"color": colors.get(opt, "grey"), "linestyle": ls, "marker": ".", "label": str(series)}
        axes[0].plot(group["epoch"], group["loss_mean"], **kw)
        axes[1].plot(group["epoch"], group["test_accuracy_mean"], **kw)
        axes[2].plot(group["cum_train_s_mean"], group["test_accuracy_mean"], **kw)
    axes[0].set(xlabel="epoch", ylabel="training loss (mean over repeats)")
    axes[1].set(xlabel="epoch", ylabel="test accuracy [fraction]")
    axes[2].set(xlabel="cumulative training time [s]", ylabel="test accuracy [fraction]")
    if (curves["loss_mean"] > 0).all() and curves["loss_mean"].max() > 20 * curves["loss_mean"].min():
        axes[0].set_yscale("log")
    _legend(axes[2], curves["series"].nunique())
    fig.tight_layout()
    return _png(fig)


def learning_rate_figure(lr: pd.DataFrame) -> bytes | None:
    """The learning rate in force per epoch for each schedule (band: min-max over cases)."""
    if lr.empty:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.4))
    cmap = plt.get_cmap("tab10")
    for i, (series, group) in enumerate(lr.groupby("series", sort=True)):
        c = cmap(i % 10)
        ax.plot(group["epoch"], group["learning_rate_in_force_median"], marker=".", color=c, label=str(series))
        ax.fill_between(group["epoch"], group["learning_rate_in_force_min"], group["learning_rate_in_force_max"], color=c, alpha=0.15)
    positive = lr["learning_rate_in_force_median"] > 0
    if positive.all() and lr["learning_rate_in_force_median"].max() > 10 * lr["learning_rate_in_force_median"].min():
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="learning rate in force (dimensionless)")
    _legend(ax, lr["series"].nunique())
    return _png(fig)


def _group_labels(df: pd.DataFrame, skip: Iterable[str]) -> list[str]:
    keys = [c for c in df.columns if df[c].dtype == object or str(df[c].dtype) == "string"]
    keys = [k for k in keys if k not in skip]
    return [" / ".join(str(r[k]) for k in keys) for _, r in df.iterrows()]


def throughput_figure(table: pd.DataFrame) -> bytes | None:
    """Examples/s (median, whiskers min-max) and step time p50/p90/p99 per group."""
    if table.empty:
        return None
    labels = _group_labels(table, ())
    y = np.arange(len(table))
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.4 * len(table) + 1.6), sharey=True)
    med = table["samples_per_s_median"].astype(float)
    err = np.vstack([med - table["samples_per_s_min"], table["samples_per_s_max"] - med]).clip(min=0)
    axes[0].barh(y, med, xerr=err, color="tab:blue")
    for yi, (m, s) in enumerate(zip(med, table["speedup"], strict=True)):
        if np.isfinite(m) and np.isfinite(s):
            axes[0].annotate(f"{s:.2f}×", (m, yi), xytext=(4, 0), textcoords="offset points", va="center", fontsize=7)
    axes[0].set_xlabel("examples/s (median; whiskers min-max)")
    h = 0.27
    for i, (col, c) in enumerate((("step_ms_p50", "tab:green"), ("step_ms_p90", "tab:orange"), ("step_ms_p99", "tab:red"))):
        axes[1].barh(y + (i - 1) * h, table[col], height=h, color=c, label=col.removeprefix("step_ms_"))
    axes[1].set_xlabel("time per update [ms]")
    axes[1].legend(fontsize=7)
    axes[0].set_yticks(y, labels, fontsize=7)
    axes[0].invert_yaxis()
    return _png(fig)


def scaling_figure(table: pd.DataFrame) -> bytes | None:
    """Examples/s against parallel units (replicas or workers), one line per strategy."""
    if table.empty or table["parallel_units"].nunique() < 2 and table["strategy"].nunique() < 2:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    groups = [c for c in table.columns if c in ("machine", "device", "engine", "precision", "strategy")]
    # one colour per strategy, one line style per other context (engine, device...): no colour repeats
    strategies = sorted(table["strategy"].astype(str).unique())
    palette = {s: plt.get_cmap("tab20")(i % 20) for i, s in enumerate(strategies)}
    others = [c for c in groups if c != "strategy"]
    contexts = sorted({tuple(map(str, r)) for r in table[others].itertuples(index=False)}) if others else [()]
    styles = {c: ("-", "--", ":", "-.")[i % 4] for i, c in enumerate(contexts)}
    for name, group in table.groupby(groups, sort=True):
        g = group.sort_values("parallel_units")
        key = dict(zip(groups, map(str, name if isinstance(name, tuple) else (name,)), strict=True))
        label = " / ".join(key.values())
        ax.plot(g["parallel_units"], g["samples_per_s_median"], marker="o", label=label,
                color=palette[key["strategy"]], linestyle=styles[tuple(key[c] for c in others)])
    ax.set(xlabel="replicas or workers (max of the two)", ylabel="examples/s (median)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    _legend(ax, len(groups))
    return _png(fig)


def profile_figure(profile: pd.DataFrame, colors: Mapping[str, object]) -> bytes | None:
    """Dolan-Moré performance profile: fraction of problems within tau of the best time."""
    if profile.empty or not (profile["fraction"] > 0).any():
        return None
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for opt, group in profile.groupby("optimizer_label", sort=True):
        ax.step(group["tau"], group["fraction"], where="post", color=colors.get(str(opt), "grey"), label=str(opt))
    ax.set(xlabel="τ: time to target within τ × the best [×]", ylabel="fraction of problems", ylim=(-0.02, 1.02))
    if profile["tau"].max() > 10:
        ax.set_xscale("log")
    _legend(ax, profile["optimizer_label"].nunique())
    return _png(fig)


def energy_figure(energy: pd.DataFrame) -> bytes | None:
    """Energy per case by source (stacked CPU package, DRAM, GPU) and J per example; estimates hatched."""
    if energy.empty or energy["energy_j"].isna().all() and energy["cpu_energy_j"].isna().all():
        return None
    labels = [str(x) for x in energy["case_label"]]
    y = np.arange(len(energy))
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.35 * len(energy) + 1.6), sharey=True)
    cpu_pkg = energy["cpu_package_energy_j"].fillna(energy["cpu_energy_j"]).fillna(0).astype(float)
    dram = energy["dram_energy_j"].fillna(0).astype(float)
    gpu = energy["gpu_energy_j"].fillna(0).astype(float)
    cpu_est = [is_estimated(s) for s in energy["cpu_energy_source"]]
    gpu_est = [is_estimated(s) for s in energy["gpu_energy_source"]]
    _bars(axes[0], y, cpu_pkg, 0, "tab:blue", cpu_est, "CPU package")
    _bars(axes[0], y, dram, cpu_pkg, "tab:cyan", cpu_est, "DRAM")
    _bars(axes[0], y, gpu, cpu_pkg + dram, "tab:green", gpu_est, "GPU")
    axes[0].set_xlabel("energy in the training window [J] (hatched: estimated)")
    axes[0].legend(fontsize=7)
    est = [is_estimated(s) for s in energy["energy_source"]]
    _bars(axes[1], y, energy["energy_per_sample_j"].fillna(0).astype(float), 0, "tab:purple", est, None)
    axes[1].set_xlabel("energy per example [J/example] (hatched: estimated)")
    axes[0].set_yticks(y, labels, fontsize=7)
    axes[0].invert_yaxis()
    return _png(fig)


def _bars(ax, y, width, left, color, estimated, label) -> None:
    bars = ax.barh(y, width, left=left, color=color, label=label, edgecolor="black", linewidth=0.3)
    for bar, est in zip(bars, estimated, strict=True):
        if est:
            bar.set_hatch("///")
            bar.set_alpha(0.55)


def power_figure(series: pd.DataFrame, max_cases: int = 12) -> bytes | None:
    """CPU and GPU power over the training window, one line per case x repeat (first ``max_cases``)."""
    if series.empty or series[["cpu_power_w", "gpu_power_w"]].isna().all().all():
        return None
    fig, ax = plt.subplots(figsize=(9, 3.4))
    cmap = plt.get_cmap("tab20")
    for i, ((_, _, rep), group) in enumerate(series.groupby(["run_id", "case_id", "repeat"], sort=False)):
        if i >= max_cases:
            break
        label = f"{group['case_label'].iloc[0]} #{rep}"
        est = any(is_estimated(s) for s in group["cpu_power_source"].dropna())
        ax.plot(group["t_s"], group["cpu_power_w"], color=cmap(i % 20), linestyle="--" if est else "-",
                label=f"{label} CPU{' (est.)' if est else ''}")
        if group["gpu_power_w"].notna().any():
            ax.plot(group["t_s"], group["gpu_power_w"], color=cmap(i % 20), linestyle=":", label=f"{label} GPU")
    ax.set(xlabel="time since the start of the training window [s]", ylabel="power [W]")
    _legend(ax, 1)
    return _png(fig)
