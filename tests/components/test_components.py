"""Registries (optimizers, schedules, engines) and the schedules' values against their formulas."""

from __future__ import annotations

import math
import sys
import textwrap

import pytest

keras = pytest.importorskip("keras")

from harness.components import batching, catalog, optimizers, schedules  # noqa: E402
from harness.errors import ConfigError  # noqa: E402


def test_registry_covers_every_concrete_keras_optimizer():
    concrete = {
        n for n in dir(keras.optimizers)
        if isinstance(getattr(keras.optimizers, n), type)
        and issubclass(getattr(keras.optimizers, n), keras.optimizers.Optimizer)
        and n not in ("Optimizer", "LossScaleOptimizer", "MultiOptimizer")
    }
    classes = set(catalog.keras_optimizer_classes().values())
    assert concrete <= classes
    for expected in ("SGD", "RMSprop", "Adam", "AdamW", "Adadelta", "Adagrad", "Adamax", "Adafactor",
                     "Nadam", "Ftrl", "Lion", "Lamb", "Muon", "ScheduleFreeAdamW"):
        assert expected in classes


@pytest.mark.parametrize("name", sorted(catalog.optimizer_entries()))
def test_every_registry_entry_builds(name):
    opt = optimizers.build({"name": name, "params": {}}, 0.01)
    assert isinstance(opt, keras.optimizers.Optimizer)


def test_variants_and_regimes():
    assert optimizers.build({"name": "nesterov", "params": {}}, 0.1).nesterov is True
    assert optimizers.build({"name": "amsgrad", "params": {}}, 0.1).amsgrad is True
    assert optimizers.build({"name": "momentum", "params": {"momentum": 0.5}}, 0.1).momentum == 0.5
    assert batching.effective_batch_size("gd", 128, 4000) == 4000
    assert batching.effective_batch_size("sgd", 128, 4000) == 1
    assert batching.effective_batch_size("minibatch_sgd", 128, 4000) == 128


def test_bad_optimizer_parameter_repeats_the_value():
    with pytest.raises(ConfigError, match="bogus"):
        optimizers.build({"name": "adam", "params": {"bogus": 3}}, 0.1)


def test_custom_optimizer_class(tmp_path, monkeypatch):
    (tmp_path / "myopt.py").write_text(textwrap.dedent("""
        import keras
        class Halved(keras.optimizers.SGD):
            def __init__(self, learning_rate=0.01, **kw):
                super().__init__(learning_rate=learning_rate / 2, **kw)
        NotAnOptimizer = dict
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    opt = optimizers.build({"name": "myopt:Halved", "params": {}}, 0.2)
    assert math.isclose(float(opt.learning_rate), 0.1, rel_tol=1e-6)
    with pytest.raises(ConfigError, match="did not produce"):
        optimizers.build({"name": "myopt:NotAnOptimizer", "params": {}}, 0.2)
    with pytest.raises(ConfigError, match="has no attribute"):
        optimizers.build({"name": "myopt:Missing", "params": {}}, 0.2)
    with pytest.raises(ConfigError, match="cannot import"):
        optimizers.build({"name": "no_such_module_xyz:Opt", "params": {}}, 0.2)
    sys.modules.pop("myopt", None)


SPE = 10  # updates per epoch in the schedule tests


def lr_at(name, params, step, lr0=0.1, epochs=6):
    lr, _ = schedules.build({"name": name, "params": params}, lr0, SPE, epochs)
    return float(lr(step)) if callable(lr) else lr


@pytest.mark.parametrize("step", [0, 5, 25, 59])
def test_schedule_values_match_formulas(step):
    lr0 = 0.1
    assert math.isclose(lr_at("constant", {}, step), lr0)
    assert math.isclose(lr_at("exponential", {"decay_steps": 10, "decay_rate": 0.5}, step),
                        lr0 * 0.5 ** (step / 10), rel_tol=1e-5)
    assert math.isclose(lr_at("inverse_time", {"decay_steps": 10, "decay_rate": 0.5}, step),
                        lr0 / (1 + 0.5 * step / 10), rel_tol=1e-5)
    assert math.isclose(lr_at("inverse_power", {"alpha": 0.1, "beta": 0.5}, step),
                        schedules.inverse_power(lr0, 0.1, 0.5, step), rel_tol=1e-5)
    assert math.isclose(lr_at("inverse_power", {"alpha": 0.1, "beta": 1.0, "unit": "epochs"}, step),
                        lr0 / (1 + 0.1 * (step // SPE)), rel_tol=1e-5)
    assert math.isclose(lr_at("step_decay", {"factor": 0.5, "every_epochs": 2}, step),
                        lr0 * 0.5 ** (step // (2 * SPE)), rel_tol=1e-5)
    assert math.isclose(lr_at("polynomial", {"decay_steps": 60, "end_learning_rate": 0.0, "power": 2.0}, step),
                        lr0 * (1 - min(step, 60) / 60) ** 2, rel_tol=1e-4, abs_tol=1e-7)
    assert math.isclose(lr_at("cosine", {"decay_steps": 60, "alpha": 0.0}, step),
                        lr0 * 0.5 * (1 + math.cos(math.pi * step / 60)), rel_tol=1e-4, abs_tol=1e-7)
    expected_pw = lr0 if step <= 20 else lr0 * 0.3 if step <= 40 else lr0 * 0.1
    assert math.isclose(lr_at("piecewise_constant", {"boundaries": [20, 40], "factors": [1, 0.3, 0.1]}, step),
                        expected_pw, rel_tol=1e-5)


def test_cosine_warmup_reaches_target_then_decays():
    assert lr_at("cosine", {"decay_epochs": 5, "warmup_epochs": 1}, 0) < 0.1
    assert math.isclose(lr_at("cosine", {"decay_epochs": 5, "warmup_epochs": 1}, SPE), 0.1, rel_tol=1e-4)
    assert lr_at("cosine", {"decay_epochs": 5, "warmup_epochs": 1}, 4 * SPE) < 0.1


def test_cosine_restarts_restart():
    before = lr_at("cosine_restarts", {"first_decay_steps": 20}, 19)
    after = lr_at("cosine_restarts", {"first_decay_steps": 20}, 20)
    assert before < 0.01 and math.isclose(after, 0.1, rel_tol=1e-4)


def test_reduce_on_plateau_controller():
    lr, ctl = schedules.build({"name": "reduce_on_plateau", "params": {"factor": 0.5, "patience": 1}}, 0.1, SPE, 5)
    opt = optimizers.build({"name": "minibatch_sgd", "params": {}}, lr)
    for loss in (1.0, 0.9, 0.95):
        ctl.on_epoch_end(opt, loss)
    assert math.isclose(float(opt.learning_rate), 0.05, rel_tol=1e-6)


def test_reduce_on_plateau_honours_monitor():
    from types import SimpleNamespace

    from harness.engines.base import EpochLoop

    _, ctl = schedules.build({"name": "reduce_on_plateau",
                              "params": {"factor": 0.5, "patience": 1, "monitor": "test_loss"}}, 0.1, SPE, 5)
    assert ctl.monitor == "test_loss"
    opt = optimizers.build({"name": "minibatch_sgd", "params": {}}, 0.1)
    hooks = SimpleNamespace(on_epoch_end=lambda epoch: None, on_phase=lambda phase: None)
    spec = SimpleNamespace(batch_size=1, target_accuracy=2.0)
    test_losses = iter([1.0, 1.0])  # the test loss stalls while the training loss improves
    loop = EpochLoop(spec, opt, lambda: (next(test_losses), 0.5), hooks, ctl)
    for epoch, loss in enumerate((1.0, 0.5)):
        loop.end_epoch(epoch, loss, 0.5, 1, 0.1)
    assert math.isclose(float(opt.learning_rate), 0.05, rel_tol=1e-6)  # watched test_loss, not loss


def test_reduce_on_plateau_refuses_an_unknown_monitor():
    from harness.errors import SuiteError
    from harness.suite import parse_suite

    with pytest.raises(ConfigError, match="monitor must be one of loss, test_loss. Received: monitor='val_loss'"):
        schedules.PlateauController(monitor="val_loss")
    text = textwrap.dedent("""
        [suite]
        name = "m"
        [matrix]
        optimizer = ["minibatch_sgd"]
        schedule = [{name = "reduce_on_plateau", monitor = "val_loss"}]
    """)
    with pytest.raises(SuiteError, match="monitor.*expected one of 'loss', 'test_loss', got 'val_loss'"):
        parse_suite(text, "m.toml")


def test_bad_schedule_unit():
    with pytest.raises(ConfigError, match="unit"):
        schedules.build({"name": "inverse_power", "params": {"unit": "hours"}}, 0.1, SPE, 3)
