"""The protocol reproduces a well-known fact (issue 25, "Done when"): on the real MNIST sample, with the
learning rate log-uniform over [1e-4, 1] and selection on validation accuracy, the rate selected for
plain SGD is larger than Adam's (SGD needs steps of 0.1-1 here, Adam's normalised steps want ~1e-3)."""

from __future__ import annotations

import pytest

from harness.analysis.tuning import select
from harness.cli import main
from harness.results import find_runs, load_run

SUITE = """
[suite]
name = "sgd-vs-adam"
collectors = []
[defaults]
dataset = "mnist-sample"
epochs = 2
batch_size = 128
engine = "fast"
[matrix]
optimizer = [{ name = "minibatch_sgd", label = "sgd" }, "adam"]
[tuning]
trials = 8
[tuning.space]
learning_rate = { log_uniform = [1e-4, 1.0] }
"""


@pytest.mark.slow
def test_selected_learning_rate_of_sgd_is_larger_than_adams(tmp_path):
    (tmp_path / "s.toml").write_text(SUITE)
    assert main(["tune", str(tmp_path / "s.toml"), "--stage", "trials", "--results-dir", str(tmp_path / "r"),
                 "--no-progress"]) == 0
    cases = load_run(find_runs(tmp_path / "r")[-1]).cases
    assert (cases["status"] == "ok").all() and len(cases) == 16
    chosen = {s.optimizer: s.values["learning_rate"] for s in select(cases, "validation_accuracy", [8])}
    assert chosen["sgd"] > chosen["adam"], chosen
    # both trial sequences are the same Sobol points: the difference is the selection, not the sampling
    rates = cases.groupby("optimizer_label")["learning_rate"].apply(sorted)
    assert rates["sgd"] == rates["adam"]
