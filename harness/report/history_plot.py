"""One small figure per case for ``harness history --html``, like asv's graphs.

x: the commit time (UTC); runs that share a commit time (a nightly job, a
machine comparison) are spread over a small slice after it in the order they
started, and each tick reads the commit *and* the run's start, so they stay
apart; y: the metric with its unit; grey dots: every ok repeat (the spread);
line: the per-run median; a shaded band between the last run before and the
first run after each change point (red regression, green improvement)
labelled with the commit range and the change. The case's name is the page's
heading, not repeated in the figure.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from harness.regression.history import History, RunInfo, Series  # noqa: E402
from harness.schema import units  # noqa: E402

COLORS = {"regression": "#d62728", "improvement": "#2ca02c"}


def short(commit: str, run_id: str = "") -> str:
    return commit[:7] if commit else run_id[-12:]


def positions(runs: list[RunInfo]) -> np.ndarray:
    """x of every run in days (commit time, else its place): runs sharing a time spread after it by start."""
    when = pd.to_datetime(pd.Series([r.when for r in runs], dtype="string"), utc=True, errors="coerce", format="ISO8601")
    days = np.array([(t - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1) if pd.notna(t) else np.nan for t in when])
    days = np.where(np.isnan(days), np.arange(len(runs), dtype=float), days)
    distinct = np.unique(days)
    width = 0.6 * float(np.min(np.diff(distinct))) if distinct.size > 1 else 0.05
    started = [str(r.meta.started_utc or "") if r.meta else "" for r in runs]
    out = days.copy()
    for t in distinct:
        tied = sorted(np.flatnonzero(days == t), key=lambda i: (started[i], runs[i].run_id))
        for k, i in enumerate(tied):
            out[i] = t + width * k / len(tied)
    return out


def spaced(xs: np.ndarray, most: int = 10) -> list[int]:
    """Runs to put a tick at: in x order, each at least 1/``most`` of the span after the previous tick."""
    order = np.argsort(xs, kind="stable")
    gap = (float(xs.max()) - float(xs.min())) / most if len(xs) else 0.0
    out: list[int] = []
    for i in order:
        if not out or xs[i] - xs[out[-1]] >= gap:
            out.append(int(i))
    return out


def tick_label(run: RunInfo) -> str:
    """The commit and the run (its start, else its id): two runs of one commit read differently."""
    started = str(run.meta.started_utc or "") if run.meta else ""
    return f"{short(run.commit, run.run_id)}\n{started[5:16].replace('T', ' ') if started else run.run_id[-12:]}"


def _axis(ax: plt.Axes, s: Series, hist: History, steps: pd.DataFrame, xs: np.ndarray) -> None:
    for i, v in zip(s.runs, s.values, strict=True):
        ax.plot(np.full(v.size, xs[i]), v, ".", color="0.6", ms=3, zorder=1)
    ax.plot(xs[s.runs], s.medians, "-o", color="#1f77b4", ms=3, lw=1.2, zorder=2)
    ids = [r.run_id for r in hist.runs]
    for r in steps.itertuples():
        color = COLORS.get(r.verdict, "0.8")
        prev, at = xs[ids.index(r.previous_run_id)], xs[ids.index(r.run_id)]
        ax.axvspan(prev, at, color=color, alpha=0.25 if r.verdict in COLORS else 0.1, lw=0)
        label = f"{short(r.previous_commit, r.previous_run_id)}..{short(r.commit, r.run_id)} {r.change:+.1%}"
        ax.annotate(label, (at, 1.0), xycoords=("data", "axes fraction"), fontsize=6, color=color,
                    ha="right", va="bottom")  # fmt: skip
    unit = units("cases").get(s.metric, "")
    ax.set_ylabel(f"{s.metric}{f' ({unit})' if unit else ''} {'↑' if s.higher_is_better else '↓'}", fontsize=7)
    ax.tick_params(labelsize=6)


def case_figure(hist: History, case_id: str) -> bytes:
    """PNG bytes: one axis per gated metric of the case."""
    series = [s for s in hist.series if s.case_id == case_id]
    fig, axes = plt.subplots(len(series), 1, figsize=(6.0, 1.7 * len(series) + 0.4), squeeze=False, sharex=True)
    steps = hist.shown()
    xs = positions(hist.runs)
    for ax, s in zip(axes[:, 0], series, strict=True):
        mine = steps[(steps["case_id"] == case_id) & (steps["metric"] == s.metric)] if len(steps) else steps
        _axis(ax, s, hist, mine, xs)
    ticks = spaced(xs)
    axes[-1, 0].set_xticks(xs[ticks], [tick_label(hist.runs[i]) for i in ticks], rotation=30, ha="right", fontsize=6)
    axes[-1, 0].set_xlabel("commit time (UTC); tick: commit and run start (MM-DD hh:mm)", fontsize=7)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
