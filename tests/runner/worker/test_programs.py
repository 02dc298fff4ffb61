"""Trials of one configuration share one compiled program (harness.runner.worker.programs)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.runner.worker.programs import Programs, share_key
from harness.suite import parse_suite
from tests.helpers.suites import tiny_suite_text

TUNING = """
[tuning]
trials = 3
final_seeds = 1
[tuning.space]
learning_rate = { log_uniform = [1e-3, 1e-1] }
"""


def _trials(body: str = "", **defaults) -> list:
    return parse_suite(tiny_suite_text("programs", TUNING + body, n_train=256, n_test=64, **defaults)).cases


def test_trials_differing_in_learning_rate_share_a_key():
    cases = _trials(optimizer="adam")
    assert len({c.learning_rate for c in cases}) == 3
    assert len({share_key(c) for c in cases}) == 1


def test_seed_label_and_optimizer_label_do_not_change_the_key():
    from dataclasses import replace

    from harness.axis import AxisValue

    case = _trials(optimizer="adam")[0]
    other = replace(case, seed=case.seed + 1, label="x", stage="final",
                    optimizer=AxisValue(case.optimizer.name, "adam-copy", case.optimizer.params))
    assert share_key(other) == share_key(case)


def test_another_hyperparameter_value_is_another_program():
    tuning = TUNING + "momentum = { uniform = [0.0, 0.9] }\n"
    cases = parse_suite(tiny_suite_text("programs", tuning, n_train=256, n_test=64, optimizer="sgd")).cases
    assert len({share_key(c) for c in cases}) == 3  # momentum is read while tracing: one program each


@pytest.mark.parametrize("defaults", [{"engine": "keras_fit"}, {"precision": "mixed_float16"},
                                      {"schedule": "exponential"}])
def test_cases_whose_program_holds_more_are_not_shared(defaults):
    assert share_key(_trials(**defaults)[0]) is None


@pytest.mark.slow
def test_a_reused_program_trains_exactly_as_a_fresh_one():
    """Three trials (and a final seed) in one worker state that keeps the program, against each case in a
    fresh state: the same losses and accuracies epoch by epoch, traced once."""
    from dataclasses import replace

    from harness.runner.worker.execute import WorkerState, execute

    cases = _trials(optimizer="adam", epochs=2, batch_size=32)
    cases.append(replace(cases[1], seed=cases[1].seed + 1, stage="final", label="final"))
    kept = WorkerState(run_id="t", programs=Programs())
    shared = [execute(c, 0, kept) for c in cases]
    fresh = [execute(c, 0, WorkerState(run_id="t")) for c in cases]
    for s, f in zip(shared, fresh, strict=True):
        assert s.case["status"] == f.case["status"] == "ok", (s.case["error"], f.case["error"])
        for key in ("loss", "train_accuracy", "validation_loss", "validation_accuracy", "test_accuracy"):
            np.testing.assert_allclose([e[key] for e in s.epochs], [e[key] for e in f.epochs], rtol=1e-6,
                                       err_msg=key)
    notes = [r.case["strategy_notes"] or "" for r in shared]
    assert "reused" not in notes[0] and all("compiled program reused" in n for n in notes[1:])
    assert kept.programs.last.uses == 3 and kept.programs.last.trainer.tracing_count() == 1
    assert len({r.case["learning_rate"] for r in shared}) == 3  # each trial trained at its own rate
