"""One name per meaning: chunk averages are stored and shown as chunk figures, single updates as steps."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from harness import timing_names as tn


@pytest.mark.parametrize(("basis", "kind"), [("per_step", "step"), ("per_chunk/31", "chunk"),
                                             ("per_epoch/async", "chunk"), ("", "step"), (None, "step")])
def test_kind(basis, kind):
    assert tn.kind(basis) == kind


def test_stored_puts_chunk_averages_under_chunk_names():
    figures = {"step_ms_p50": 1.0, "step_ms_p90": 1.1, "step_ms_p99": 1.2}
    chunk = tn.stored(figures, "per_chunk/31")
    assert chunk["chunk_ms_p50"] == 1.0 and chunk["chunk_ms_p99"] == 1.2 and math.isnan(chunk["step_ms_p50"])
    step = tn.stored(figures, "per_step")
    assert step["step_ms_p90"] == 1.1 and math.isnan(step["chunk_ms_p90"])
    assert tn.title("per_chunk/31") == "chunk p50 ms (÷31)" and tn.title("per_step", "p99") == "step p99 ms"


def test_old_rows_are_read_with_the_rename():
    old = pd.DataFrame({"step_time_basis": ["per_chunk/31", "per_step"], "step_ms_p50": [0.9, 2.0],
                        "step_ms_p90": [1.0, 2.1], "step_ms_p99": [1.1, 2.2]})
    new = tn.split_stored(old)
    assert new["chunk_ms_p50"].tolist()[0] == 0.9 and math.isnan(new["step_ms_p50"].tolist()[0])
    assert new["step_ms_p99"].tolist()[1] == 2.2 and math.isnan(new["chunk_ms_p99"].tolist()[1])
    assert tn.split_stored(new).equals(new)  # idempotent: a run read twice keeps its figures
    assert tn.per_update(new.iloc[0]) == (0.9, "chunk p50 ms (÷31)")
