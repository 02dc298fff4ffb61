"""The tuned comparison's figures: sensitivity (each trial a point, winner marked) and the expected
best validation accuracy against the number of trials (Dodge et al.), per problem."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from harness.report import style  # noqa: E402
from harness.report.plots import _png  # noqa: E402

TEXT = (
    "Optimizers compared after tuning (harness tune): per problem (every axis but the optimizer's own "
    "and the tuned keys) and budget, the trial selected on validation figures only (the rule is in "
    "run.json), then its final seeds: validation and test accuracy (median, min–max), time and energy "
    "to the validation target, the tuning's cost (wall time and energy of the budget's trials) and "
    "tuneability (the share of trials that reached the target). rank and versus come from exact "
    "one-sided rank-sum tests on the final seeds' test accuracy with Holm's correction over the "
    "problem's pairs: better, worse or tied, never a rank the data cannot support (min_p_reachable in "
    "the ranking table says how small a p-value the seeds allow). The figures: each trial's validation "
    "accuracy against its learning rate (★ the winner of the largest budget), and the expected best "
    "validation accuracy of k trials drawn from the sweep (without replacement: it ends at the best "
    "trial), ± one standard deviation."
)


def _per_problem(frame: pd.DataFrame, colors: Mapping[str, object], draw, xlabel: str, ylabel: str,
                 log_x: bool = False) -> bytes | None:
    """One panel per problem, one colour per optimizer; ``draw(ax, group, color)`` draws a group."""
    if frame.empty:
        return None
    names = list(dict.fromkeys(frame["problem"]))
    fig, axes = plt.subplots(len(names), 1, figsize=(7.5, 3.4 * len(names)), squeeze=False)
    for name, ax in zip(names, axes[:, 0], strict=True):
        rows = frame[frame["problem"] == name]
        for label, g in rows.groupby("optimizer_label", sort=False):
            draw(ax, g, colors.get(str(label), style.NEUTRAL))
        if log_x:
            style.log_axis(ax)
        ax.set(xlabel=xlabel, ylabel=ylabel, title="" if name == "all" else name)
        ax.grid(alpha=0.3, which="both" if log_x else "major")
        ax.legend(fontsize=7)
    style.tidy(fig)
    return _png(fig)


def sensitivity_figure(trials: pd.DataFrame, colors: Mapping[str, object]) -> bytes | None:
    """Validation accuracy against learning rate (log axis), one panel per problem."""

    def draw(ax, g: pd.DataFrame, c: object) -> None:
        ax.scatter(g["learning_rate"], g["validation_accuracy"].fillna(0.0), s=18, color=c, alpha=0.8,
                   label=str(g["optimizer_label"].iloc[0]))
        w = g[g["winner"].astype(bool)]
        ax.scatter(w["learning_rate"], w["validation_accuracy"], s=140, marker="*", color=c,
                   edgecolor="black", linewidth=0.6, zorder=3)

    return _per_problem(trials, colors, draw, "learning rate (log)", "validation accuracy [fraction]", log_x=True)


def expected_best_figure(expected: pd.DataFrame, colors: Mapping[str, object]) -> bytes | None:
    """Expected best validation accuracy against the number of trials k, with ± 1 sd bands."""

    def draw(ax, g: pd.DataFrame, c: object) -> None:
        ax.plot(g["k"], g["expected_best"], color=c, marker="o", markersize=3,
                label=str(g["optimizer_label"].iloc[0]))
        ax.fill_between(g["k"], g["expected_best"] - g["expected_best_sd"],
                        g["expected_best"] + g["expected_best_sd"], color=c, alpha=0.15)

    return _per_problem(expected, colors, draw, "trials k", "expected best validation accuracy [fraction]")
