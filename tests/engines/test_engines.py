"""Engines: the same step driven three ways; gd/sgd regimes; warm-up outside the window; NaN -> diverged."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from harness.components import batching, datasets, model, optimizers, schedules  # noqa: E402
from harness.engines import get  # noqa: E402
from harness.engines.base import NoHooks, TrainSpec  # noqa: E402


class CountingHooks(NoHooks):
    def __init__(self):
        self.events, self.steps = [], []

    def on_window_start(self):
        self.events.append("start")

    def on_epoch_end(self, epoch):
        self.events.append(f"epoch{epoch}")

    def after_steps(self, total):
        self.steps.append(total)

    def on_window_end(self):
        self.events.append("end")


_FULL = datasets.load("mnist-sample")
DATA = datasets.Dataset("sub", _FULL.x_train[:256], _FULL.y_train[:256], _FULL.x_test[:64], _FULL.y_test[:64])


def train(engine, opt_name="adam", batch=32, epochs=2, lr=0.001, sched="constant", hooks=None, x=None):
    n = len(DATA.x_train)
    b = batching.effective_batch_size(opt_name, batch, n)
    spec = TrainSpec(DATA.x_train if x is None else x, DATA.y_train, DATA.x_test, DATA.y_test, b, epochs, 0, 0.99)
    net = model.build_model(0, input_shape=DATA.input_shape)
    rate, ctl = schedules.build({"name": sched, "params": {}}, lr, spec.steps_per_epoch, epochs)
    opt = optimizers.build({"name": opt_name, "params": {}}, rate)
    return get(engine)(net, opt, spec, hooks or NoHooks(), ctl), opt


class RecordingMeter:
    def __init__(self):
        self.edges = []

    def enter(self, phase):
        self.edges.append(phase)


@pytest.mark.slow  # trains a model
@pytest.mark.parametrize("engine", ["fast", "keras_fit", "eager"])
def test_engines_train_and_report(engine):
    from harness.runner.worker.hooks import MeteredHooks

    hooks = CountingHooks()
    metered = MeteredHooks(hooks, RecordingMeter())
    res, opt = train(engine, hooks=metered)
    # the CPU meter's edges are the engine's phases, the same intervals as the energy window:
    # warm-up (no compile phase for eager), train segments, host work around each evaluation pass
    epoch = ["train", "host", "eval", "host"]
    start = ["host"] if engine == "eager" else ["compile", "host"]
    assert metered.meter.edges == [*start, *epoch, *epoch, None]
    assert res.eval_passes == 2
    assert res.status == "ok"
    assert res.steps == 2 * (256 // 32) and res.examples == res.steps * 32
    assert len(res.step_ms) == res.steps and all(t > 0 for t in res.step_ms)
    assert hooks.events == ["start", "epoch1", "epoch2", "end"]
    assert hooks.steps[-1] == res.steps
    assert int(opt.iterations) == res.steps  # warm-up updates were undone
    assert res.epochs[-1]["loss"] < res.initial_loss
    assert res.train_s > 0 and res.compile_s >= 0
    assert [e["epoch"] for e in res.epochs] == [1, 2]
    assert math.isclose(res.epochs[-1]["cum_train_s"], res.train_s)


@pytest.mark.slow  # trains a model
def test_fast_engine_does_not_retrace():
    res, _ = train("fast", epochs=3)
    assert res.retraces == 0
    assert res.step_time_basis == "per_chunk/8"


@pytest.mark.slow  # trains a model
def test_gd_makes_one_update_per_epoch():
    res, opt = train("fast", "gd", epochs=3, lr=0.5)
    assert res.steps == 3 and int(opt.iterations) == 3
    assert [e["epoch_steps"] for e in res.epochs] == [1, 1, 1]


@pytest.mark.slow  # trains a model
@pytest.mark.parametrize("engine", ["fast", "eager"])
def test_sgd_makes_one_update_per_example(engine):
    res, opt = train(engine, "sgd", epochs=1, lr=0.01)
    assert res.steps == 256 and res.examples == 256 and int(opt.iterations) == 256


@pytest.mark.slow  # trains a model
def test_learning_rate_in_force_is_recorded():
    res, _ = train("fast", "minibatch_sgd", epochs=2, sched="constant", lr=0.05)
    assert all(math.isclose(e["learning_rate_in_force"], 0.05, rel_tol=1e-6) for e in res.epochs)


@pytest.mark.slow  # trains a model
def test_nan_loss_is_diverged():
    x = DATA.x_train.copy()
    x[0, 0] = np.nan
    res, _ = train("fast", batch=256, epochs=3, x=x)
    assert res.status == "diverged" and "epoch 1" in res.error
    assert len(res.epochs) == 1


@pytest.mark.slow  # trains a model
def test_same_seed_same_result():
    a, _ = train("fast")
    b, _ = train("fast")
    assert a.epochs[-1]["loss"] == b.epochs[-1]["loss"]


def test_model_has_the_documented_size():
    assert model.build_model(0).count_params() == model.NUM_PARAMS == 101_770

