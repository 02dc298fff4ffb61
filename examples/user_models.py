"""A user model for the harness: ``model = "examples.user_models:tiny_convnet"`` in a suite.

The harness calls the function with the shape of one example (e.g. ``(28, 28, 1)``),
the number of classes and the case's seed (plus the suite's parameters as
keywords) and trains what it returns. The model must output one **logit** per
class: no softmax at the end (the harness's loss applies it; a softmax output
is refused in preflight). Mixed precision is applied by the harness (the Keras
dtype policy in force while this runs, and a float32 cast of the logits).
"""

from __future__ import annotations

from typing import Any


def tiny_convnet(input_shape: tuple[int, ...], num_classes: int, seed: int, filters: int = 8) -> Any:
    """Conv 3x3 (``filters``) -> global average pool -> Dense logits; flat inputs are refused by Keras."""
    import keras

    init = keras.initializers.GlorotUniform
    inputs = keras.Input(shape=input_shape)
    x = inputs if len(input_shape) == 3 else keras.layers.Reshape((*input_shape, 1))(inputs)
    x = keras.layers.Conv2D(filters, 3, strides=2, activation="relu", kernel_initializer=init(seed=seed))(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(num_classes, kernel_initializer=init(seed=seed + 1))(x)
    return keras.Model(inputs, logits, name="tiny_convnet")


def softmax_mlp(input_shape: tuple[int, ...], num_classes: int, seed: int) -> Any:
    """A model the harness refuses: it ends in a softmax (the seed document's double-softmax bug)."""
    import keras

    return keras.Sequential([keras.Input(shape=input_shape), keras.layers.Flatten(),
                             keras.layers.Dense(num_classes, activation="softmax")])
