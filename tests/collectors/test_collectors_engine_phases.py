"""Every engine marks its phases: real TensorFlow training, the collectors' real session, this machine.

The energy window must be the training updates alone (``energy_window_s`` within
1 % + 10 ms of ``train_s``), evaluation energy its own column, samples labelled.
"""

from __future__ import annotations

import math

import pytest

from harness.collectors import CollectorConfig
from harness.runner.worker.execute import WorkerState, execute
from harness.suite import parse_suite
from tests.helpers.suites import tiny_suite_text

pytestmark = pytest.mark.slow

SUITE = tiny_suite_text("phases", """
[matrix]
engine = ["fast", "keras_fit", "eager"]
""", collectors=None, n_train=1024, n_test=512, epochs=2, batch_size=64, learning_rate=0.01)


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("HARNESS_POWERCAP_ROOT", str(tmp_path_factory.mktemp("none") / "powercap"))  # the estimate path
    state = WorkerState(run_id="t", collector_config=CollectorConfig(
        names=("rapl", "cpu_estimate", "process"), sample_period_s=0.02))
    out = {c.engine: execute(c, 0, state) for c in parse_suite(SUITE).cases}
    mp.undo()
    return out


@pytest.mark.parametrize("engine", ["fast", "keras_fit", "eager"])
def test_energy_window_is_the_training_window(rows, engine):
    res = rows[engine]
    row = res.case
    assert row["status"] == "ok", row.get("error")
    assert abs(row["energy_window_s"] - row["train_s"]) <= 0.01 * row["train_s"] + 0.010, (
        row["energy_window_s"], row["train_s"], row["eval_s"])
    assert row["cpu_energy_source"] == "estimate_generic" and row["energy_source"] == "estimated"
    # the evaluations are measured apart (the estimate counts CPU time in 10 ms ticks: a short pass may be 0)
    assert row["energy_j"] > 0 and row["eval_energy_j"] >= 0 and not math.isnan(row["compile_energy_j"] if engine != "eager" else 0.0)
    assert row["cpu_energy_low_j"] < row["energy_j"] < row["cpu_energy_high_j"]
    assert 0 < row["benchmark_cpu_share"] <= 1
    phases = {s["phase"] for s in res.samples}
    assert {"train", "eval", "host"} <= phases and ("compile" in phases) == (engine != "eager")
    cum = [e["cum_energy_j"] for e in res.epochs]
    assert cum == sorted(cum) and cum[-1] == pytest.approx(row["energy_j"], rel=1e-9)
    assert all(e["eval_energy_j"] >= 0 and e["epoch_energy_j"] > 0 for e in res.epochs)
