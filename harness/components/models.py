"""Models by name: ``mnist_dense`` (the default), ``mlp``, ``cnn`` and user models ``"module:function"``.

The registry's metadata (names, parameters, what input each model takes) is
plain Python, so the suite layer validates a ``model`` axis without TensorFlow;
Keras is imported only when a model is built.

Every model maps a batch of images of the dataset's shape (e.g. ``(28, 28, 1)``)
to one float32 **logit** per class; the loss applies the softmax once
(:func:`harness.components.model.loss_object`). A user model is a function
``f(input_shape, num_classes, seed, **params)`` returning a Keras model; it is
refused when its output is not one logit per class or when it ends in a softmax
(the seed document's double-softmax bug: a softmax output under
``from_logits=True`` flattens the gradients).
"""

from __future__ import annotations

import contextlib
import importlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from harness.axis import AxisValue
from harness.errors import HarnessError

DEFAULT = "mnist_dense"


class ModelError(HarnessError):
    """A model that cannot be imported or built, or whose output is not one logit per class."""


@dataclass(frozen=True)
class ModelEntry:
    """A built-in model: its parameters, the input ranks it takes (None: any) and what it is."""

    params: frozenset[str]
    ranks: tuple[int, ...] | None
    description: str


MODELS: dict[str, ModelEntry] = {
    "mnist_dense": ModelEntry(frozenset(), None, "the mission's model: flatten -> Dense 128 relu -> Dense "
                              "classes (logits); 101,770 parameters on MNIST, 409,088 FLOP per training example"),
    "mlp": ModelEntry(frozenset({"hidden", "activation"}), None,
                      "flatten -> Dense(h) for h in `hidden` (default [1024, 1024]) with `activation` "
                      "(default relu) -> Dense classes"),
    "cnn": ModelEntry(frozenset({"filters", "dense"}), (2, 3),
                      "the classic Keras MNIST convnet: Conv 3x3 `filters[0]` (32) -> max-pool 2 -> Conv 3x3 "
                      "`filters[1]` (64) -> max-pool 2 -> flatten -> [Dense `dense` relu] -> Dense classes; "
                      "needs images (H, W) or (H, W, C)"),
}
PARAMS: dict[str, set[str]] = {name: set(e.params) for name, e in MODELS.items()}
DESCRIPTIONS = {name: e.description for name, e in MODELS.items()}


def is_user(name: str) -> bool:
    """``"package.module:function"``: a user's model builder."""
    return ":" in name


def shape_problem(name: str, input_shape: tuple[int, ...] | None) -> str:
    """Why model ``name`` cannot take inputs of ``input_shape`` ("" when it can or when unknown)."""
    entry = MODELS.get(name)
    if entry is None or entry.ranks is None or input_shape is None or len(input_shape) in entry.ranks:
        return ""
    return (f"model {name!r} needs images of shape (H, W) or (H, W, C), but the dataset's examples have "
            f"shape {tuple(input_shape)}")


# ------------------------------------------------------------------ building (imports Keras)
def build(spec: AxisValue | str, input_shape: tuple[int, ...], num_classes: int, seed: int,
          precision: str = "float32") -> Any:
    """A fresh, seeded Keras model for inputs of ``input_shape`` (one example) with float32 logits.

    Mixed precision: layers compute in the policy's dtype (the Keras global
    policy while the model is built, for user models too); the logits are cast
    to float32 for a stable loss. Raises :class:`ModelError` on any problem.
    """
    spec = AxisValue.of(spec)
    problem = shape_problem(spec.name, tuple(input_shape))
    if problem:
        raise ModelError(problem)
    builder = _user_builder(spec.name) if is_user(spec.name) else _BUILDERS.get(spec.name)
    if builder is None:
        raise ModelError(f"unknown model {spec.name!r}; known: {', '.join(MODELS)} or 'package.module:function'")
    with _policy(precision):
        try:
            net = builder(tuple(input_shape), int(num_classes), int(seed), **spec.params)
        except HarnessError:
            raise
        except Exception as exc:  # a user's builder may raise anything
            raise ModelError(f"model {spec.name!r} failed to build: {type(exc).__name__}: {exc}") from exc
    return _float32_logits(check(net, spec.name, input_shape, num_classes), precision, tuple(input_shape))


def _user_builder(name: str) -> Callable[..., Any]:
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ModelError(f"model {name!r}: cannot import module {module_name!r} "
                         f"({type(exc).__name__}: {exc})") from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ModelError(f"model {name!r}: module {module_name!r} has no function {attr!r}")
    return fn


@contextlib.contextmanager
def _policy(precision: str) -> Iterator[None]:
    import keras

    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def check(net: Any, name: str, input_shape: tuple[int, ...], num_classes: int) -> Any:
    """``net`` if it is a Keras model with one output of ``num_classes`` logits, not ending in a softmax."""
    import keras
    import numpy as np

    if not isinstance(net, keras.Model):
        raise ModelError(f"model {name!r} returned {type(net).__name__}, not a keras.Model")
    why = _softmax_end(net)
    if why:
        raise ModelError(f"model {name!r} ends in a softmax ({why}); the harness's loss takes logits "
                         "(from_logits=True), so a softmax output would be applied twice and flatten the "
                         "gradients: return the last layer's logits instead")
    try:  # a real call: builds a subclassed model, catches shape errors
        out = net(np.random.default_rng(0).random((2, *input_shape), dtype=np.float32), training=False)
    except Exception as exc:
        raise ModelError(f"model {name!r} cannot take inputs of shape {tuple(input_shape)}: "
                         f"{type(exc).__name__}: {exc}") from exc
    if isinstance(out, (list, tuple, dict)):
        raise ModelError(f"model {name!r} returns {len(out)} outputs; expected one (the logits)")
    shape = tuple(out.shape)
    if len(shape) != 2 or shape[-1] != num_classes:
        raise ModelError(f"model {name!r} outputs shape {shape[1:]} per example; expected ({num_classes},): "
                         f"one logit per class")
    values = np.asarray(out, dtype=np.float64)
    if num_classes > 1 and values.min() >= 0 and np.allclose(values.sum(axis=1), 1.0, atol=1e-3):
        raise ModelError(f"model {name!r} outputs probabilities (non-negative, rows summing to 1): it ends in "
                         "a softmax; the harness's loss takes logits (from_logits=True), so the softmax would "
                         "be applied twice and flatten the gradients: return the logits instead")
    return net


def _softmax_end(net: Any) -> str:
    """How the model's last layer applies a softmax, or ""."""
    import keras

    last = net.layers[-1] if net.layers else None
    while isinstance(last, keras.Model) and last.layers:  # a nested model's own last layer
        last = last.layers[-1]
    if isinstance(last, keras.layers.Softmax):
        return f"layer {last.name!r} is a Softmax layer"
    act = getattr(last, "activation", None)
    if act is not None and getattr(act, "__name__", "") in ("softmax", "log_softmax"):
        return f"layer {last.name!r} has activation={act.__name__}"
    return ""


def _float32_logits(net: Any, precision: str, input_shape: tuple[int, ...]) -> Any:
    """``net`` itself when its logits are float32; else wrapped so that they are cast to float32."""
    import keras

    if precision == "float32":
        return net
    inputs = keras.Input(shape=input_shape)
    out = net(inputs)  # a subclassed model has no symbolic outputs of its own
    if out.dtype == "float32":
        return net
    logits = keras.layers.Activation("linear", dtype="float32", name="logits_float32")(out)
    return keras.Model(inputs, logits, name=net.name)


def _mnist_dense(input_shape: tuple[int, ...], classes: int, seed: int) -> Any:
    """Today's model; the flatten has no weights, so a flat 784 input gives the same numbers as before."""
    import keras

    init = keras.initializers.GlorotUniform
    layers = [keras.Input(shape=input_shape)] + ([keras.layers.Flatten()] if len(input_shape) > 1 else [])
    return keras.Sequential([
        *layers,
        keras.layers.Dense(128, activation="relu", kernel_initializer=init(seed=seed)),
        keras.layers.Dense(classes, kernel_initializer=init(seed=seed + 1)),
        keras.layers.Activation("linear", dtype="float32"),  # logits in float32 for a stable loss
    ], name="mnist_dense")


def _mlp(input_shape: tuple[int, ...], classes: int, seed: int, hidden: list[int] | None = None,
         activation: str = "relu") -> Any:
    import keras

    hidden = [1024, 1024] if hidden is None else list(hidden)
    init = keras.initializers.GlorotUniform
    layers = [keras.Input(shape=input_shape)] + ([keras.layers.Flatten()] if len(input_shape) > 1 else [])
    layers += [keras.layers.Dense(int(h), activation=activation, kernel_initializer=init(seed=seed + i))
               for i, h in enumerate(hidden)]
    layers.append(keras.layers.Dense(classes, kernel_initializer=init(seed=seed + len(hidden))))
    return keras.Sequential(layers, name="mlp")


def _cnn(input_shape: tuple[int, ...], classes: int, seed: int, filters: list[int] | None = None,
         dense: int = 0) -> Any:
    import keras

    f1, f2 = [32, 64] if filters is None else [int(v) for v in filters]
    init = keras.initializers.GlorotUniform
    layers = [keras.Input(shape=input_shape)]
    if len(input_shape) == 2:
        layers.append(keras.layers.Reshape((*input_shape, 1)))
    layers += [
        keras.layers.Conv2D(f1, 3, activation="relu", kernel_initializer=init(seed=seed)),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(f2, 3, activation="relu", kernel_initializer=init(seed=seed + 1)),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
    ]
    if dense:
        layers.append(keras.layers.Dense(int(dense), activation="relu", kernel_initializer=init(seed=seed + 2)))
    layers.append(keras.layers.Dense(classes, kernel_initializer=init(seed=seed + 3)))
    return keras.Sequential(layers, name="cnn")


_BUILDERS: dict[str, Callable[..., Any]] = {"mnist_dense": _mnist_dense, "mlp": _mlp, "cnn": _cnn}


# ------------------------------------------------------------------ cost from the layers
def layer_flops(net: Any) -> float:
    """FLOPs of one training example counted from the layers (dense and convolution products only).

    Forward: 2 x multiply-adds of every Dense/Conv layer; the weight gradients as
    much again; the input gradients of every such layer but the first (the first
    layer's input gradient is never computed). ``mnist_dense``: 2(784x128 +
    128x10) = 203,264 forward -> 409,088 per example. A convolution's input
    gradient is a transposed convolution over the whole input (its zero-padded
    border included, as XLA runs it), which costs more than the forward pass. Bias adds, activations,
    pooling and the optimizer's update are elementwise and not counted.
    """
    import keras

    total, first = 0.0, True
    for layer in _flat_layers(net):
        if isinstance(layer, keras.layers.Dense):
            rows = math.prod(layer.input.shape[1:-1] or (1,))
            forward = input_grad = 2 * rows * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif isinstance(layer, keras.layers.Conv2D):
            per_group = math.prod(layer.kernel.shape[:-1]) * layer.kernel.shape[-1] // max(1, layer.groups)
            forward = 2 * math.prod(layer.output.shape[1:-1]) * per_group
            # the input gradient is a transposed convolution over the whole (padded) input
            input_grad = 2 * math.prod(layer.input.shape[1:-1]) * per_group
        else:
            continue
        total += 2 * forward + (0 if first else input_grad)
        first = False
    return float(total)


def _flat_layers(net: Any) -> list[Any]:
    import keras

    out = []
    for layer in net.layers:
        out += _flat_layers(layer) if isinstance(layer, keras.Model) else [layer]
    return out
