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
from harness.analysis.ops import REPORT_TOP_N  # noqa: E402

DPI = 90
_LINESTYLES = ("-", "--", ":", "-.")


def palette(labels: Iterable[str]) -> dict[str, str]:
    """A fixed colour per optimizer label: :func:`harness.report.style.palette`."""
    from harness.report.style import palette as _palette

    return _palette(labels)


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _legend(ax: plt.Axes, n: int) -> None:
    if n:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def learning_rate_figure(lr: pd.DataFrame) -> bytes | None:
    """The learning rate in force per epoch for each schedule (band: min-max over cases)."""
    if lr.empty:
        return None
    from harness.report.style import NEUTRAL, styles

    fig, ax = plt.subplots(figsize=(7, 3.4))
    looks = styles(lr["series"].astype(str))  # colour means optimizer elsewhere: schedules get styles
    for series, group in lr.groupby("series", sort=True):
        ls, marker = looks[str(series)]
        ax.plot(group["epoch"], group["learning_rate_in_force_median"], marker=marker, linestyle=ls, color=NEUTRAL,
                markersize=4, label=str(series))
        ax.fill_between(group["epoch"], group["learning_rate_in_force_min"], group["learning_rate_in_force_max"], color=NEUTRAL,
                        alpha=0.1)
    positive = lr["learning_rate_in_force_median"] > 0
    if positive.all() and lr["learning_rate_in_force_median"].max() > 10 * lr["learning_rate_in_force_median"].min():
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="learning rate in force (dimensionless)")
    _legend(ax, lr["series"].nunique())
    return _png(fig)


def energy_figure(energy: pd.DataFrame) -> bytes | None:
    """Energy per case by source (stacked CPU package, DRAM, GPU) and J per example; estimates hatched."""
    if energy.empty or energy["energy_j"].isna().all() and energy["cpu_energy_j"].isna().all():
        return None
    labels = [str(x) for x in energy["series" if "series" in energy.columns else "case_label"]]
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
    per_example_mj = 1e3 * energy["energy_per_sample_j"].fillna(0).astype(float)  # mJ: readable ticks
    _bars(axes[1], y, per_example_mj, 0, "tab:purple", est, None)
    axes[1].set_xlabel("energy per example [mJ/example] (hatched: estimated)")
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
    """CPU and GPU power over each case's whole session (compilation, training, evaluation), one line
    per case x repeat with data (first ``max_cases``), its training windows shaded; a sampling gap
    (> 3 x the median period) breaks the line instead of joining it."""
    if series.empty or series[["cpu_power_w", "gpu_power_w"]].isna().all().all():
        return None
    has_data = series.groupby(["run_id", "case_id", "repeat"], sort=False)[["cpu_power_w", "gpu_power_w"]]
    keep = has_data.transform(lambda c: c.notna().any()).any(axis=1)
    series = _break_gaps(series[keep])
    fig, ax = plt.subplots(figsize=(9, 3.4))
    cmap = plt.get_cmap("tab20")
    for i, ((_, _, rep), group) in enumerate(series.groupby(["run_id", "case_id", "repeat"], sort=False)):
        if i >= max_cases:
            break
        label = f"{group['series' if 'series' in group.columns else 'case_label'].iloc[0]} #{rep}"
        est = any(is_estimated(s) for s in group["cpu_power_source"].dropna())
        ax.plot(group["t_s"], group["cpu_power_w"], color=cmap(i % 20), linestyle="--" if est else "-",
                label=f"{label} CPU{' (est.)' if est else ''}")
        if group["gpu_power_w"].notna().any():
            ax.plot(group["t_s"], group["gpu_power_w"], color=cmap(i % 20), linestyle=":", label=f"{label} GPU")
        for start, end in _train_spans(group):
            ax.axvspan(start, end, color=cmap(i % 20), alpha=0.08, linewidth=0)
    ax.set(xlabel="time since the case's measurement started [s] (shaded: training windows)",
           ylabel="power [W]")
    _legend(ax, 1)
    return _png(fig)


def _train_spans(group: pd.DataFrame) -> list[tuple[float, float]]:
    """(start, end) in s of the runs of consecutive samples in the ``train`` phase."""
    if "phase" not in group.columns:
        return []
    rows = group.dropna(subset=["t_s"]).sort_values("t_s")
    spans, start, last = [], None, None
    for t, phase in zip(rows["t_s"], rows["phase"], strict=True):
        if phase == "train":
            start, last = (t if start is None else start), t
        elif start is not None:
            spans.append((start, t))
            start = None
    if start is not None:
        spans.append((start, last))
    return spans


def _break_gaps(series: pd.DataFrame) -> pd.DataFrame:
    """Insert a NaN row after each sampling gap longer than 3x the median period of its series."""
    parts = []
    for _, group in series.groupby(["run_id", "case_id", "repeat"], sort=False):
        group = group.sort_values("t_s")
        dt = group["t_s"].diff()
        period = dt.median()
        parts.append(group)
        if np.isfinite(period) and period > 0 and (dt > 3 * period).any():
            gaps = group[dt > 3 * period].assign(cpu_power_w=np.nan, gpu_power_w=np.nan)
            gaps["t_s"] = gaps["t_s"] - period
            parts.append(gaps)
    out = pd.concat(parts) if parts else series
    return out.sort_values(["run_id", "case_id", "repeat", "t_s"], kind="stable")


def plot_top_ops(top: pd.DataFrame, n: int = REPORT_TOP_N) -> plt.Figure | None:
    """Horizontal bars: per case, its ``n`` op types with the most self time per update (us)."""
    if top.empty:
        return None
    labels = sorted(top["case_label"].unique())
    fig, axes = plt.subplots(len(labels), 1, figsize=(7.5, 1.1 + 0.28 * n * len(labels)), squeeze=False)
    for ax, label in zip(axes[:, 0], labels, strict=True):
        rows = top[top["case_label"] == label].nlargest(n, "us_per_step").iloc[::-1]
        ax.barh([f"{t} ({c})" for t, c in zip(rows["op_type"], rows["category"], strict=True)],
                rows["us_per_step"], color="tab:blue")
        ax.set_title(label, fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("self time per update (us)")
    fig.tight_layout()
    return fig


def top_ops_figure(tables: Mapping[str, pd.DataFrame], colors: object = None) -> bytes | None:
    """:func:`plot_top_ops` as PNG bytes (the signature of a report section's figure)."""
    fig = plot_top_ops(tables.get("top_ops", pd.DataFrame()))
    return None if fig is None else _png(fig)
