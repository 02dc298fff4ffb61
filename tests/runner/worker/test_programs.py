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


def _tuned(optimizer: str, line: str) -> list:
    return parse_suite(tiny_suite_text("programs", TUNING + line + "\n", n_train=256, n_test=64,
                                       optimizer=optimizer)).cases


def test_another_momentum_is_another_program():
    cases = _tuned("sgd", "momentum = { uniform = [0.0, 0.9] }")
    assert len({share_key(c) for c in cases}) == 3  # SGD branches on momentum while tracing: one program each


@pytest.mark.parametrize(("optimizer", "line"), [("adam", "beta_1 = { uniform = [0.5, 0.99] }"),
                                                 ("rmsprop", "rho = { uniform = [0.5, 0.99] }")])
def test_keywords_used_in_arithmetic_only_are_variables_of_one_program(optimizer, line):
    cases = _tuned(optimizer, line)
    key = line.split()[0]
    assert len({c.optimizer.params[key] for c in cases}) == 3
    assert len({share_key(c) for c in cases}) == 1


def test_a_keyword_left_to_the_class_default_is_kept_apart_from_one_written_out():
    from dataclasses import replace

    from harness.axis import AxisValue

    case = _trials(optimizer="adam")[0]
    written = replace(case, optimizer=AxisValue("adam", "adam", {"beta_1": 0.9}))
    assert share_key(written) != share_key(case)


@pytest.mark.parametrize("defaults", [{"engine": "keras_fit"}, {"precision": "mixed_float16"},
                                      {"schedule": "exponential"}])
def test_cases_whose_program_holds_more_are_not_shared(defaults):
    assert share_key(_trials(**defaults)[0]) is None


def _compare(shared: list, fresh: list, rtol: float) -> None:
    for s, f in zip(shared, fresh, strict=True):
        assert s.case["status"] == f.case["status"] == "ok", (s.case["error"], f.case["error"])
        for key in ("loss", "train_accuracy", "validation_loss", "validation_accuracy", "test_accuracy"):
            np.testing.assert_allclose([e[key] for e in s.epochs], [e[key] for e in f.epochs], rtol=rtol,
                                       err_msg=key)


@pytest.mark.slow
def test_a_reused_program_trains_as_a_fresh_one():
    """Trials in one worker state that keeps the program, against each case in a fresh state, epoch by
    epoch, each configuration traced once. Learning rate and seed (a final): the same figures. beta_1 as a
    variable: within float32 rounding (1 - beta_1 is computed in float32, not in double and then rounded)."""
    from dataclasses import replace

    from harness.runner.worker.execute import WorkerState, execute

    lr_only = _trials(optimizer="adam", epochs=2, batch_size=32)
    lr_only.append(replace(lr_only[1], seed=lr_only[1].seed + 1, stage="final", label="final"))
    betas = parse_suite(tiny_suite_text("programs", TUNING.replace("trials = 3", "trials = 2")
                                        + "beta_1 = { uniform = [0.5, 0.99] }\n", n_train=256, n_test=64,
                                        optimizer="adam", epochs=2, batch_size=32)).cases
    for cases, rtol in ((lr_only, 1e-6), (betas, 1e-4)):
        kept = WorkerState(run_id="t", programs=Programs())
        shared = [execute(c, 0, kept) for c in cases]
        _compare(shared, [execute(c, 0, WorkerState(run_id="t")) for c in cases], rtol)
        notes = [r.case["strategy_notes"] or "" for r in shared]
        assert "reused" not in notes[0] and all("compiled program reused" in n for n in notes[1:])
        assert kept.programs.last.uses == len(cases) - 1 and kept.programs.last.trainer.tracing_count() == 1
        assert len({r.case["learning_rate"] for r in shared}) == len({c.learning_rate for c in cases})
    assert float(kept.programs.last.optimizer.beta_1.numpy()) == pytest.approx(betas[-1].optimizer.params["beta_1"])
