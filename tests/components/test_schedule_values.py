"""Every learning-rate schedule against values computed by hand and written as numbers.

lr0 = 0.1 and 10 updates an epoch throughout. Each expected value's arithmetic is in the
comment beside it; none is taken from the code under test (the formula test of
test_components.py compares Keras with ``schedules.inverse_power``, which would agree
with a bug made in both).
"""

from __future__ import annotations

import sys
import textwrap

import pytest

keras = pytest.importorskip("keras")

from harness.components import schedules  # noqa: E402
from harness.errors import ConfigError  # noqa: E402

SPE = 10
LR0 = 0.1


def lr(name, params, step, epochs=6):
    rate, ctl = schedules.build({"name": name, "params": params}, LR0, SPE, epochs)
    assert ctl is None
    return float(rate(step)) if callable(rate) else rate


CASES = [
    # constant
    ("constant", {}, 37, 0.1),
    # inverse_power: lr0 / (1 + alpha t)^beta
    ("inverse_power", {"alpha": 0.1, "beta": 0.5}, 5, 0.0816497),  # 0.1 / sqrt(1.5)
    ("inverse_power", {"alpha": 0.1, "beta": 2.0}, 5, 0.0444444),  # 0.1 / 1.5^2
    ("inverse_power", {}, 50, 0.0666667),  # defaults alpha 0.01, beta 1: 0.1 / 1.5
    ("inverse_power", {"alpha": 0.1, "beta": 0.5, "unit": "epochs"}, 25, 0.0912871),  # t = 2: 0.1 / sqrt(1.2)
    ("inverse_power", {"alpha": 0.1, "beta": 0.5, "unit": "epochs"}, 29, 0.0912871),  # still epoch 2
    # step_decay: lr0 * factor^floor(step / (every_epochs * SPE))
    ("step_decay", {}, 9, 0.1),  # defaults factor 0.5, every 1 epoch
    ("step_decay", {}, 10, 0.05),
    ("step_decay", {}, 25, 0.025),
    ("step_decay", {"factor": 0.1, "every_epochs": 2}, 19, 0.1),
    ("step_decay", {"factor": 0.1, "every_epochs": 2}, 20, 0.01),
    ("step_decay", {"factor": 0.1, "every_epochs": 2}, 40, 0.001),
    # exponential: lr0 * rate^(step / decay_steps); defaults rate 0.9, decay 1 epoch
    ("exponential", {}, 5, 0.0948683),  # 0.1 * 0.9^0.5
    ("exponential", {}, 25, 0.0768433),  # 0.1 * 0.9^2.5
    ("exponential", {"decay_rate": 0.5, "decay_epochs": 2}, 30, 0.0353553),  # 0.1 * 0.5^1.5
    ("exponential", {"decay_rate": 0.5, "decay_epochs": 2, "staircase": True}, 39, 0.05),  # 0.1 * 0.5^1
    ("exponential", {"decay_rate": 0.5, "decay_epochs": 2, "staircase": True}, 40, 0.025),
    ("exponential", {"decay_rate": 0.5, "decay_steps": 4}, 8, 0.025),  # 0.1 * 0.5^2
    ("exponential", {"decay_rate": 0.5, "decay_epochs": 0.01}, 3, 0.0125),  # round(0.1) = 0 -> 1 step: 0.1 * 0.5^3
    # inverse_time: lr0 / (1 + rate * step / decay_steps); defaults rate 0.5, decay 1 epoch
    ("inverse_time", {}, 5, 0.08),  # 0.1 / 1.25
    ("inverse_time", {}, 20, 0.05),  # 0.1 / 2
    ("inverse_time", {"decay_rate": 1.0, "decay_epochs": 2}, 10, 0.0666667),  # 0.1 / 1.5
    ("inverse_time", {"decay_rate": 1.0, "decay_epochs": 2, "staircase": True}, 19, 0.1),
    ("inverse_time", {"decay_rate": 1.0, "decay_epochs": 2, "staircase": True}, 25, 0.05),  # floor 1
    # piecewise_constant: values[i] after boundary i (step > boundary)
    ("piecewise_constant", {}, 20, 0.1),  # epochs 5: boundary 5 // 2 = 2 epochs = 20 updates
    ("piecewise_constant", {}, 21, 0.01),  # default factors 1, 0.1
    ("piecewise_constant", {"boundary_epochs": [1, 2], "factors": [1, 0.5, 0.25]}, 10, 0.1),
    ("piecewise_constant", {"boundary_epochs": [1, 2], "factors": [1, 0.5, 0.25]}, 11, 0.05),
    ("piecewise_constant", {"boundary_epochs": [1, 2], "factors": [1, 0.5, 0.25]}, 21, 0.025),
    ("piecewise_constant", {"boundary_epochs": [1, 2]}, 21, 0.001),  # default factors 1, 0.1, 0.01
    ("piecewise_constant", {"boundaries": [5], "values": [0.3, 0.2]}, 5, 0.3),
    ("piecewise_constant", {"boundaries": [5], "values": [0.3, 0.2]}, 6, 0.2),
    # polynomial: (lr0 - end) (1 - step/decay)^power + end; defaults decay = epochs, end lr0/100, power 1
    ("polynomial", {}, 30, 0.0505),  # 0.099 * 0.5 + 0.001 (6 epochs = 60 updates)
    ("polynomial", {}, 90, 0.001),  # past the end, no cycle
    ("polynomial", {"decay_epochs": 2, "end_learning_rate": 0.01, "power": 2.0}, 10, 0.0325),  # 0.09 * 0.25 + 0.01
    ("polynomial", {"decay_epochs": 2, "end_learning_rate": 0.01, "power": 2.0, "cycle": True}, 30,
     0.015625),  # decay 40: 0.09 * 0.25^2 + 0.01
    # cosine: lr0 * ((1 - alpha) * (1 + cos(pi * step / decay)) / 2 + alpha); default decay = epochs
    ("cosine", {}, 20, 0.075),  # 0.1 * (1 + cos(pi/3)) / 2 (60 updates)
    ("cosine", {}, 30, 0.05),
    ("cosine", {"alpha": 0.1}, 30, 0.055),  # 0.1 * (0.9 * 0.5 + 0.1)
    ("cosine", {"decay_epochs": 2}, 10, 0.05),
    # warm-up: from lr0/10 linearly to warmup_target over the warm-up updates, then the decay
    ("cosine", {"warmup_epochs": 1}, 5, 0.055),  # 0.01 + 0.09 * 5/10
    ("cosine", {"warmup_epochs": 1}, 40, 0.05),  # 30 of 60 decay updates after the warm-up
    ("cosine", {"warmup_steps": 4, "warmup_target": 0.2}, 2, 0.105),  # 0.01 + 0.19 * 2/4
    # cosine_restarts: first period = epochs / 3 epochs (defaults t_mul 2, m_mul 1, alpha 0)
    ("cosine_restarts", {}, 10, 0.05),  # 10 of 20: (1 + cos(pi/2)) / 2
    ("cosine_restarts", {}, 20, 0.1),  # restart
    ("cosine_restarts", {}, 40, 0.05),  # 20 of 40 (t_mul 2)
    ("cosine_restarts", {"first_decay_epochs": 1, "t_mul": 1.0, "m_mul": 0.5}, 15, 0.025),  # 0.5 * 0.05
    ("cosine_restarts", {"first_decay_epochs": 1, "alpha": 0.2}, 5, 0.06),  # 0.1 * (0.8 * 0.5 + 0.2)
    ("cosine_restarts", {"first_decay_steps": 4}, 2, 0.05),  # 2 of 4
]


@pytest.mark.parametrize(("name", "params", "step", "expected"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_schedule_value_by_hand(name, params, step, expected):
    epochs = 5 if name == "piecewise_constant" else 6
    assert lr(name, params, step, epochs) == pytest.approx(expected, abs=5e-7)


def test_piecewise_default_boundary_is_at_least_one_epoch():
    assert lr("piecewise_constant", {}, 10, epochs=1) == pytest.approx(0.1)  # max(1, 1 // 2) = 1 epoch
    assert lr("piecewise_constant", {}, 11, epochs=1) == pytest.approx(0.01)


def test_inverse_power_function_by_hand():
    assert schedules.inverse_power(0.1, 0.1, 0.5, 5) == pytest.approx(0.0816497, abs=5e-8)
    assert schedules.inverse_power(0.2, 1.0, 1.0, 3) == pytest.approx(0.05)  # 0.2 / 4
    assert schedules.inverse_power(0.1, 0.1, 0.0, 7) == pytest.approx(0.1)  # beta 0: no decay


def test_custom_schedules_get_config():
    rate, _ = schedules.build({"name": "inverse_power", "params": {"alpha": 0.2, "beta": 0.5, "unit": "epochs"}},
                              LR0, SPE, 3)
    assert rate.get_config() == {"lr0": 0.1, "alpha": 0.2, "beta": 0.5, "steps_per_unit": 10}
    rate, _ = schedules.build({"name": "step_decay", "params": {"factor": 0.3, "every_epochs": 2}}, LR0, SPE, 3)
    assert rate.get_config() == {"lr0": 0.1, "factor": 0.3, "every_steps": 20}


def test_schedule_of_an_int64_step_is_float32():
    import tensorflow as tf

    for name in ("inverse_power", "step_decay"):
        rate, _ = schedules.build({"name": name, "params": {}}, LR0, SPE, 3)
        out = rate(tf.constant(25, tf.int64))
        assert out.dtype == tf.float32


class FakeOptimizer:
    def __init__(self, lr: float) -> None:
        self.learning_rate = lr


def test_plateau_controller_by_hand():
    rate, ctl = schedules.build({"name": "reduce_on_plateau", "params": {
        "factor": 0.25, "patience": 2, "min_delta": 0.25, "min_lr": 0.005}}, LR0, SPE, 5)
    assert rate == 0.1
    assert (ctl.factor, ctl.patience, ctl.min_delta, ctl.min_lr) == (0.25, 2, 0.25, 0.005)
    opt = FakeOptimizer(0.1)
    trace = []
    # 1.0 improves on inf; 0.75 is exactly best - min_delta: not an improvement (wait 1);
    # 0.8: wait 2 = patience -> 0.025, wait 0; 0.5 < 1.0 - 0.25: improvement (best 0.5);
    # 0.5, 0.5: -> 0.00625; 0.5, 0.5: -> max(0.0015625, 0.005) = 0.005
    for loss in (1.0, 0.75, 0.8, 0.5, 0.5, 0.5, 0.5, 0.5):
        ctl.on_epoch_end(opt, loss)
        trace.append((opt.learning_rate, ctl.wait, ctl.best))
    assert trace == [(0.1, 0, 1.0), (0.1, 1, 1.0), (0.025, 0, 1.0), (0.025, 0, 0.5), (0.025, 1, 0.5),
                     (0.00625, 0, 0.5), (0.00625, 1, 0.5), (0.005, 0, 0.5)]


def test_plateau_defaults():
    _, ctl = schedules.build({"name": "reduce_on_plateau", "params": {}}, LR0, SPE, 5)
    assert (ctl.factor, ctl.patience, ctl.min_delta, ctl.min_lr, ctl.wait) == (0.5, 2, 1e-4, 0.0, 0)
    opt = FakeOptimizer(0.1)
    for loss in (1.0, 1.0, 1.0):
        ctl.on_epoch_end(opt, loss)
    assert opt.learning_rate == 0.05


def test_rate_at_reads_schedules_and_variables():
    rate, _ = schedules.build({"name": "inverse_power", "params": {"alpha": 1.0, "beta": 1.0}}, LR0, SPE, 3)
    opt = keras.optimizers.SGD(learning_rate=rate)
    assert schedules.rate_at(opt, 1) == pytest.approx(0.05)  # 0.1 / 2
    assert schedules.rate_at(opt, 0) == pytest.approx(0.1)
    assert schedules.rate_at(opt, -3) == pytest.approx(0.1)  # before the first update: update 0
    opt = keras.optimizers.SGD(learning_rate=0.25)
    assert schedules.rate_at(opt, 99) == 0.25


def test_custom_schedule_class_gets_lr0_and_updates_per_epoch(tmp_path, monkeypatch):
    (tmp_path / "mysched.py").write_text(textwrap.dedent("""
        class Sched:
            def __init__(self, initial_learning_rate, steps_per_epoch, k=1):
                self.args = (initial_learning_rate, steps_per_epoch, k)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    rate, ctl = schedules.build({"name": "mysched:Sched", "params": {"k": 3}}, LR0, SPE, 4)
    assert rate.args == (0.1, 10, 3) and ctl is None
    sys.modules.pop("mysched", None)


def test_bad_schedules_are_config_errors():
    with pytest.raises(ConfigError, match="unknown schedule 'nope'"):
        schedules.build({"name": "nope", "params": {}}, LR0, SPE, 3)
    with pytest.raises(ConfigError, match="schedule 'exponential' rejected parameters"):
        schedules.build({"name": "exponential", "params": {"decay_epochs": "x"}}, LR0, SPE, 3)
    with pytest.raises(ConfigError, match="unit must be 'steps' or 'epochs'. Received: unit='hours'"):
        schedules.build({"name": "inverse_power", "params": {"unit": "hours"}}, LR0, SPE, 3)


def test_cosine_restarts_first_period_is_at_least_one_epoch():
    assert lr("cosine_restarts", {}, 5, epochs=3) == pytest.approx(0.05)  # max(1, 3/3) = 1 epoch: 5 of 10
    assert lr("cosine_restarts", {}, 5, epochs=2) == pytest.approx(0.05)  # max(1, 2/3) = 1 epoch
