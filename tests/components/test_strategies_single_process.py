"""Single-process strategies in real worker processes (slow: they train)."""

from __future__ import annotations

import pytest

from harness.results.store import load_run
from harness.runner.runner import RunOptions, run_suite
from harness.suite import parse_suite
from tests.helpers.suites import tiny_suite_text

pytestmark = pytest.mark.slow

SUITE = tiny_suite_text("single-process-strategies", """
[matrix]
engine = ["fast", "keras_fit"]
strategy = ["default", {name = "mirrored", replicas = 2}, {name = "central_storage", replicas = 2}]
""", collectors=None, n_train=2048, n_test=256, epochs=2, batch_size=128)


def test_synchronous_strategies_reproduce_the_default_updates(tmp_path):
    summary = run_suite(parse_suite(SUITE), RunOptions(results_dir=tmp_path, progress=False, collectors=[]))
    cases = load_run(summary.run_dir).cases
    assert set(cases.status) == {"ok"}, cases[["case_label", "error"]].to_string()
    for engine, group in cases.groupby("engine"):
        g = group.set_index("strategy")
        assert g.loc["mirrored", "num_replicas"] == 2 and g.loc["mirrored", "per_replica_batch_size"] == 64
        ref = g.loc["default", "test_loss"]
        for name in ("mirrored", "central_storage"):
            # same global batch, same seed: the same updates up to float summation order
            assert abs(g.loc[name, "test_loss"] - ref) < 2e-3, (engine, name)
            assert g.loc[name, "final_loss"] < g.loc[name, "initial_loss"]
    notes = cases.set_index(["engine", "strategy"]).strategy_notes
    assert "no XLA" in notes.loc[("fast", "central_storage")]
    assert "full pass" in notes.loc[("keras_fit", "central_storage")]
    drivers = cases.set_index(["engine", "strategy"])[["engine_driver", "xla_scope"]]
    assert tuple(drivers.loc[("fast", "default")]) == ("xla_loop", "loop")
    assert tuple(drivers.loc[("fast", "mirrored")]) == ("graph_loop", "none")  # measured faster on logical CPUs
    assert tuple(drivers.loc[("fast", "central_storage")]) == ("graph_loop", "none")
    for name in ("default", "mirrored", "central_storage"):  # Keras says why it did not use XLA
        assert tuple(drivers.loc[("keras_fit", name)]) == ("keras_fit", "none")
        assert "CPU-only host" in notes.loc[("keras_fit", name)]
