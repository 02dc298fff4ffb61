"""One small figure per case for ``harness history --html``, like asv's graphs.

x: the runs in commit order (ticks: short commit ids); grey dots: every ok
repeat (the spread); line: the per-run median; a shaded band between the last
run before and the first run after each change point (red regression, green
improvement) labelled with the commit range and the change.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from harness.regression.history import History, Series  # noqa: E402

COLORS = {"regression": "#d62728", "improvement": "#2ca02c"}


def short(commit: str, run_id: str = "") -> str:
    return commit[:7] if commit else run_id[-12:]


def _axis(ax: plt.Axes, s: Series, hist: History, steps: pd.DataFrame) -> None:
    for x, v in zip(s.runs, s.values, strict=True):
        ax.plot(np.full(v.size, x), v, ".", color="0.6", ms=3, zorder=1)
    ax.plot(s.runs, s.medians, "-o", color="#1f77b4", ms=3, lw=1.2, zorder=2)
    for r in steps.itertuples():
        color = COLORS.get(r.verdict, "0.8")
        prev = hist.runs.index(next(x for x in hist.runs if x.run_id == r.previous_run_id))
        ax.axvspan(prev, r.position, color=color, alpha=0.25 if r.verdict in COLORS else 0.1, lw=0)
        label = f"{short(r.previous_commit, r.previous_run_id)}..{short(r.commit, r.run_id)} {r.change:+.1%}"
        ax.annotate(label, (r.position, 1.0), xycoords=("data", "axes fraction"), fontsize=6, color=color,
                    ha="right", va="bottom")  # fmt: skip
    ax.set_ylabel(f"{s.metric} {'↑' if s.higher_is_better else '↓'}", fontsize=7)
    ax.tick_params(labelsize=6)


def case_figure(hist: History, case_id: str) -> bytes:
    """PNG bytes: one axis per gated metric of the case."""
    series = [s for s in hist.series if s.case_id == case_id]
    fig, axes = plt.subplots(len(series), 1, figsize=(6.0, 1.7 * len(series) + 0.4), squeeze=False, sharex=True)
    steps = hist.shown()
    for ax, s in zip(axes[:, 0], series, strict=True):
        mine = steps[(steps["case_id"] == case_id) & (steps["metric"] == s.metric)] if len(steps) else steps
        _axis(ax, s, hist, mine)
    n = len(hist.runs)
    every = max(1, n // 12)
    ticks = list(range(0, n, every))
    axes[-1, 0].set_xticks(ticks, [short(hist.runs[i].commit, hist.runs[i].run_id) for i in ticks],
                           rotation=45, ha="right", fontsize=6)  # fmt: skip
    axes[0, 0].set_title(series[0].case_label, fontsize=8, loc="left")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
