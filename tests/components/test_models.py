"""The model registry: built-in and user models, their checks, and the cost of a training example."""

from __future__ import annotations

import numpy as np
import pytest

from harness.components import models
from harness.engines import flops

BUILT_IN = [("mnist_dense", {}, (28, 28, 1)), ("mlp", {"hidden": [1024, 1024]}, (28, 28, 1)),
            ("cnn", {}, (28, 28, 1)), ("cnn", {}, (32, 32, 3)), ("mlp", {"hidden": [64, 32]}, (784,))]


def _build(name, params, shape, classes=10, precision="float32"):
    return models.build({"name": name, "params": params}, shape, classes, 0, precision)


def test_mnist_dense_is_todays_model():
    net = _build("mnist_dense", {}, (28, 28, 1))
    assert net.count_params() == 101_770
    assert models.layer_flops(net) == 409_088  # 3 x forward - the first layer's input gradient


@pytest.mark.parametrize(("name", "params", "shape"), BUILT_IN)
def test_xla_count_agrees_with_the_layer_count(name, params, shape):
    net = _build(name, params, shape)
    x, y = np.zeros((16, *shape), np.float32), np.zeros(16, np.int32)
    cost = flops.model_cost(net, x, y)
    assert cost["model_params"] == net.count_params()
    assert cost["train_flops_source"] == "xla_hlo"
    assert cost["train_flops_per_example"] == pytest.approx(models.layer_flops(net), rel=0.03)


def test_mlp_two_1024_layers_cost():
    assert models.layer_flops(_build("mlp", {"hidden": [1024, 1024]}, (28, 28, 1))) == 9_564_160


def test_hlo_count_of_a_known_module_drops_dead_code():
    hlo = """HloModule m, entry_computation_layout={(f32[8,4]{1,0}, f32[4,2]{1,0})->f32[8,2]{1,0}}

%add.1 (x: f32[], y: f32[]) -> f32[] {
  ROOT %a = f32[] add(f32[] %x, f32[] %y)
}

ENTRY %main.2 (p0: f32[8,4], p1: f32[4,2]) -> f32[8,2] {
  %p0 = f32[8,4]{1,0} parameter(0)
  %p1 = f32[4,2]{1,0} parameter(1)
  %dead = f32[8,8]{1,0} dot(f32[8,4]{1,0} %p0, f32[8,4]{1,0} %p0), lhs_contracting_dims={1}, rhs_contracting_dims={1}
  ROOT %d = f32[8,2]{1,0} dot(f32[8,4]{1,0} %p0, f32[4,2]{1,0} %p1), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}
"""
    assert flops.hlo_flops(hlo) == 2 * 8 * 2 * 4


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("name", ["mnist_dense", "mlp", "cnn", "examples.user_models:tiny_convnet"])
def test_mixed_precision_keeps_float32_logits(name, precision):
    net = _build(name, {"hidden": [16]} if name == "mlp" else {}, (28, 28, 1), precision=precision)
    assert net.outputs[0].dtype == "float32"
    assert any(getattr(layer, "compute_dtype", "float32") != "float32" for layer in net.layers)


def test_any_class_count_and_shape():
    net = _build("cnn", {"filters": [4, 8]}, (32, 32, 3), classes=7)
    assert tuple(net.outputs[0].shape) == (None, 7)


def test_user_model_from_a_module_outside_the_package():
    net = _build("examples.user_models:tiny_convnet", {"filters": 4}, (28, 28, 1))
    assert net.name == "tiny_convnet" and tuple(net.outputs[0].shape) == (None, 10)


@pytest.mark.parametrize(("name", "message"), [
    ("no_such_pkg.models:f", "cannot import module 'no_such_pkg.models'"),
    ("examples.user_models:nope", "has no function 'nope'"),
    ("examples.user_models:softmax_mlp", "ends in a softmax"),
])
def test_user_model_problems_are_named(name, message):
    with pytest.raises(models.ModelError, match=message):
        _build(name, {}, (28, 28, 1))


def test_wrong_number_of_logits_is_refused():
    with pytest.raises(models.ModelError, match=r"expected \(3,\): one logit per class"):
        models.check(_build("mnist_dense", {}, (784,)), "x", (784,), 3)


def test_a_softmax_hidden_in_a_layer_is_caught_by_its_outputs():
    import keras

    inputs = keras.Input((4,))
    probs = keras.layers.Lambda(lambda t: keras.ops.softmax(t))(keras.layers.Dense(3)(inputs))
    with pytest.raises(models.ModelError, match="outputs probabilities"):
        models.check(keras.Model(inputs, probs), "lambda", (4,), 3)


def test_cnn_refuses_flat_vectors():
    assert "needs images" in models.shape_problem("cnn", (784,))
    assert models.shape_problem("mlp", (784,)) == "" and models.shape_problem("cnn", None) == ""
    with pytest.raises(models.ModelError, match=r"shape \(784,\)"):
        _build("cnn", {}, (784,))


def subclassed(input_shape, num_classes, seed):
    """A subclassed user model (no symbolic outputs of its own)."""
    import keras

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.flat, self.dense = keras.layers.Flatten(), keras.layers.Dense(num_classes)

        def call(self, x):
            return self.dense(self.flat(x))

    return Net()


def test_subclassed_user_model_under_mixed_precision():
    net = models.build("tests.components.test_models:subclassed", (6, 6, 1), 3, 0, "mixed_bfloat16")
    out = net(np.zeros((2, 6, 6, 1), np.float32))
    assert out.dtype == "float32" and tuple(out.shape) == (2, 3)
