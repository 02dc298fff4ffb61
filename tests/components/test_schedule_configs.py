"""Each Keras schedule's configuration as built, written out in full (what serialising the optimizer keeps).

lr0 = 0.1, 10 updates an epoch, 6 epochs. A default the values alone cannot show (``staircase``
and ``cycle`` off, no warm-up target without a warm-up) is visible here.
"""

from __future__ import annotations

import pytest

pytest.importorskip("keras")

from harness.components import schedules  # noqa: E402

SPE = 10
LR0 = 0.1


def config(name, params, epochs=6):
    rate, ctl = schedules.build({"name": name, "params": params}, LR0, SPE, epochs)
    assert ctl is None
    cfg = rate.get_config()
    cfg.pop("name", None)
    return cfg


def test_exponential_and_inverse_time_defaults():
    # decay 1 epoch = 10 updates; rates 0.9 and 0.5; staircase off (False, not a falsy stand-in)
    assert config("exponential", {}) == {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9,
                                         "staircase": False}
    assert config("inverse_time", {}) == {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5,
                                          "staircase": False}
    assert config("exponential", {"staircase": True, "decay_epochs": 2})["staircase"] is True
    assert config("inverse_time", {"staircase": True, "decay_steps": 7})["decay_steps"] == 7


def test_polynomial_defaults():
    # decay = 6 epochs x 10 = 60 updates; end lr0 / 100 = 0.001; power 1; no cycle
    assert config("polynomial", {}) == {"initial_learning_rate": 0.1, "decay_steps": 60,
                                        "end_learning_rate": 0.001, "power": 1.0, "cycle": False}
    assert config("polynomial", {"cycle": True})["cycle"] is True


def test_cosine_with_and_without_warm_up():
    # no warm-up: starts at lr0, no warm-up target, 0 warm-up updates; decay 60 updates
    assert config("cosine", {}) == {"initial_learning_rate": 0.1, "decay_steps": 60, "alpha": 0.0,
                                    "warmup_target": None, "warmup_steps": 0}
    # warm-up of 1 epoch = 10 updates from lr0 / 10 = 0.01 to lr0
    assert config("cosine", {"warmup_epochs": 1}) == {"initial_learning_rate": 0.01, "decay_steps": 60, "alpha": 0.0,
                                                      "warmup_target": 0.1, "warmup_steps": 10}
    # 0.5 epoch = 5 updates, to a target of 0.3, decay 2 epochs = 20 updates
    assert config("cosine", {"warmup_epochs": 0.5, "warmup_target": 0.3, "decay_epochs": 2, "alpha": 0.1}) == {
        "initial_learning_rate": 0.01, "decay_steps": 20, "alpha": 0.1, "warmup_target": 0.3, "warmup_steps": 5}


def test_cosine_restarts_and_piecewise_defaults():
    # first period max(1, 6 / 3) = 2 epochs = 20 updates
    assert config("cosine_restarts", {}) == {"initial_learning_rate": 0.1, "first_decay_steps": 20, "t_mul": 2.0,
                                             "m_mul": 1.0, "alpha": 0.0}
    # boundary at 6 // 2 = 3 epochs = 30 updates; values lr0 x 1, lr0 x 0.1
    cfg = config("piecewise_constant", {})
    assert cfg["boundaries"] == [30]
    assert cfg["values"] == pytest.approx([0.1, 0.01])
