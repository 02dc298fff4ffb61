"""Engine metric values checked exactly, on data with a remainder batch, with a stub model.

The stub's logits are its input (a fixed identity layer, learning rate 0), so every
figure is known by hand: an example whose logits are [ln 3, 0] has softmax p = 3/4 for
class 0, loss ln(4/3) = 0.2876821 if its label is 0 and ln 4 = 1.3862944 if it is 1.
250 training examples at batch 32 make 7 updates (224 examples) an epoch: the remainder
of 26 is dropped, and accuracy is over the 224 examples used, not the 250.

A recorder layer writes the index of every example it trains on into a variable, which
shows the order each epoch visits the data in.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from harness.engines import get  # noqa: E402
from harness.engines.base import NoHooks, TrainSpec, epoch_permutation  # noqa: E402

pytestmark = pytest.mark.slow  # trains (at learning rate 0, a few updates), like the engines' other tests

N, B, EPOCHS = 250, 32, 2
LN3 = math.log(3.0)
LOSS_RIGHT, LOSS_WRONG = 0.2876821, 1.3862944  # ln(4/3), ln 4


class Recorder(keras.layers.Layer):
    """Passes the first two features through; in training, appends feature 2 (the example's
    index) to ``seen`` (the examples' order, in the order the updates saw them)."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.seen = self.add_weight(shape=(capacity,), initializer="zeros", trainable=False, dtype="float32")
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, dtype="int32")

    def call(self, x, training=False):
        if training:
            n = x.shape[0]  # static (the batch size): XLA needs a compile-time range
            idx = (tf.range(n) + self.count)[:, None]
            self.seen.assign(tf.tensor_scatter_nd_update(self.seen, idx, x[:, 2]))
            self.count.assign_add(n)
        return x[:, :2]


def stub_model(capacity: int = EPOCHS * 224) -> keras.Model:
    inp = keras.Input((3,))
    rec = Recorder(capacity)
    dense = keras.layers.Dense(2, use_bias=False, kernel_initializer="identity")
    model = keras.Model(inp, dense(rec(inp)))
    return model


def data(n: int, wrong: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n examples with logits [ln 3, 0] (predicting class 0); the last ``wrong`` labelled 1."""
    x = np.zeros((n, 3), np.float32)
    x[:, 0] = LN3
    x[:, 2] = np.arange(n)
    y = np.zeros(n, np.int32)
    if wrong:
        y[n - wrong:] = 1
    return x, y


def run(engine: str, seed: int = 0, epochs: int = EPOCHS):
    x, y = data(N)
    xt, yt = data(64, wrong=16)
    spec = TrainSpec(x, y, xt, yt, B, epochs, seed, 0.99)
    model = stub_model(epochs * (N // B) * B)
    opt = keras.optimizers.SGD(learning_rate=0.0)
    res = get(engine)(model, opt, spec, NoHooks(), None)
    seen = model.layers[1].seen.numpy().astype(int)
    return res, seen


@pytest.fixture(scope="module", params=["fast", "eager"])
def fast_or_eager(request):
    return request.param, *run(request.param)


def test_remainder_batch_is_dropped_and_counted_right(fast_or_eager):
    _, res, _ = fast_or_eager
    assert res.steps == 14 and res.examples == 448  # 7 updates and 224 examples an epoch
    assert [e["epoch_steps"] for e in res.epochs] == [7, 7]
    assert len(res.step_ms) == 14


def test_exact_per_epoch_loss_and_accuracy(fast_or_eager):
    _, res, _ = fast_or_eager
    for e in res.epochs:
        # every training example is right: 224 / 224, not 224 / 250 = 0.896
        assert e["train_accuracy"] == 1.0
        assert e["loss"] == pytest.approx(LOSS_RIGHT, abs=1e-6)
        # test: 48 of 64 right -> 0.75; loss (48 ln(4/3) + 16 ln 4) / 64 = 0.5623352
        assert e["test_accuracy"] == 0.75
        assert e["test_loss"] == pytest.approx(0.5623352, abs=1e-6)
        assert e["learning_rate_in_force"] == 0.0
    assert res.initial_loss == pytest.approx(LOSS_RIGHT, abs=1e-6)  # all 250 training examples


def test_each_epoch_visits_its_seeded_permutation(fast_or_eager):
    _, _, seen = fast_or_eager
    first, second = seen[:224], seen[224:]
    assert len(set(first)) == 224 and len(set(second)) == 224  # no example twice in an epoch
    assert not np.array_equal(first, second)  # reshuffled
    assert np.array_equal(first, epoch_permutation(N, 0, 1)[:224])
    assert np.array_equal(second, epoch_permutation(N, 0, 2)[:224])


def test_fixed_seed_repeats_the_order_and_another_seed_does_not():
    _, again = run("eager", seed=0, epochs=1)
    _, other = run("eager", seed=1, epochs=1)
    assert np.array_equal(again, epoch_permutation(N, 0, 1)[:224])
    assert not np.array_equal(again, other)


def test_epoch_permutation_contract():
    p1, p2 = epoch_permutation(N, 7, 1), epoch_permutation(N, 7, 2)
    assert sorted(p1.tolist()) == list(range(N)) and p1.dtype == np.int32
    assert not np.array_equal(p1, p2)
    assert np.array_equal(p1, epoch_permutation(N, 7, 1))
    assert not np.array_equal(p1, epoch_permutation(N, 8, 1))


def test_accuracy_over_the_examples_used_with_some_wrong():
    """Labels 1 on examples 0..49 (wrong): the epoch's accuracy is 1 - wrong used / 224."""
    x, y = data(N)
    y[:50] = 1
    xt, yt = data(64, wrong=16)
    spec = TrainSpec(x, y, xt, yt, B, 1, 0, 0.99)
    res = get("eager")(stub_model(224), keras.optimizers.SGD(learning_rate=0.0), spec, NoHooks(), None)
    used = epoch_permutation(N, 0, 1)[:224]
    wrong = int((used < 50).sum())
    e = res.epochs[0]
    assert e["train_accuracy"] == pytest.approx((224 - wrong) / 224, abs=1e-7)
    assert e["loss"] == pytest.approx(((224 - wrong) * LOSS_RIGHT + wrong * LOSS_WRONG) / 224, abs=1e-6)
