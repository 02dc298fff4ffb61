"""`harness history --html`'s figure: runs sharing a commit stay apart, ticks name commit and run, y has a unit."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from harness.regression.decide import Settings
from harness.regression.gates import GateSet
from harness.regression.history import RunInfo, analyse
from harness.report import history_plot
from tests.regression.test_history import synthetic


def _nightly() -> list[RunInfo]:
    """Three runs of one commit (a nightly job), then one of the next commit."""
    runs = [RunInfo(f"run-{i}", "ab" * 20, "2026-01-01T00:00:00+00:00", {"started_utc": f"2026-01-0{2 + i}T03:00:00"})
            for i in range(3)]  # fmt: skip
    return runs + [RunInfo("run-3", "cd" * 20, "2026-01-02T00:00:00+00:00", {"started_utc": "2026-01-06T03:00:00"})]


def test_runs_of_one_commit_get_distinct_places_and_ticks():
    runs = _nightly()
    xs = history_plot.positions(runs)
    assert len(set(xs.tolist())) == 4 and list(np.argsort(xs)) == [0, 1, 2, 3]  # by commit time, then start
    assert xs[3] - xs[0] == 1.0 and xs[2] < xs[3]  # placed by commit time (days)
    labels = [history_plot.tick_label(r) for r in runs]
    assert len(set(labels)) == 4 and labels[0] == "abababa\n01-02 03:00"
    assert history_plot.spaced(xs) == [0, 1, 2, 3] and history_plot.spaced(xs, most=2) == [0, 3]  # no overlap


def test_axis_has_the_unit_and_the_figure_no_repeated_title():
    runs, cases = synthetic([1.0] * 6, cases=1)
    hist = analyse(runs, cases, GateSet.from_strings(report=False), Settings(min_repeats=2))
    fig, ax = plt.subplots()
    history_plot._axis(ax, hist.series[0], hist, hist.shown(), history_plot.positions(hist.runs))
    assert ax.get_ylabel() == "samples_per_s (examples/s) ↑" and ax.get_title() == ""
    plt.close(fig)
    assert history_plot.case_figure(hist, "c0").startswith(b"\x89PNG")
