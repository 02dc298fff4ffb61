"""Drift checks that cannot fire say so (issue 29): the smallest p against Holm's threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.regression import drift


def _rows(n_cases: int, n: int, trend: bool) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = []
    for c in range(n_cases):
        v = np.linspace(1.0, 0.5, n) if trend and c == 0 else np.exp(rng.normal(0, 0.05, n))
        frames.append(pd.DataFrame({"case_id": f"c{c}", "case_label": f"case{c}", "status": "ok",
                                    "worker_case_index": np.arange(n), "samples_per_s": 1e4 * v,
                                    "compile_s": np.exp(rng.normal(0, 0.1, n)), "train_s": 1 / v}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def test_six_repeats_cannot_flag_even_a_perfect_trend_and_say_so():
    """14 cases x 3 metrics at 6 repeats: the smallest p (exact, 2/720) is far above 0.01 / 42."""
    trends = drift.repeat_trends(_rows(14, 6, trend=True))
    assert len(trends) == 42 and not any(t.flagged for t in trends)
    assert all(not t.detectable and t.family == 42 for t in trends)
    assert min(t.min_p for t in trends) == 2 / 720
    (line,) = drift.describe(trends)
    assert "cannot detect a trend in 42 of 42" in line and "6 repeats over 42 comparisons" in line


def test_enough_repeats_detect_and_say_nothing_extra():
    trends = drift.repeat_trends(_rows(3, 40, trend=True))
    assert all(t.detectable for t in trends)
    lines = drift.describe(trends)
    assert lines and all("cannot detect" not in s for s in lines) and lines[0].startswith("drift: case0:")
