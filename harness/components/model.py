"""The workload: 784 -> Dense(128, relu) -> Dense(10) logits, 101,770 parameters.

The original design put a softmax on the output *and* used
``from_logits=True`` (a double softmax that flattens the gradients); here the
last layer emits logits and the loss applies the softmax once.
"""

from __future__ import annotations

from typing import Any

HIDDEN_UNITS = 128
NUM_CLASSES = 10
INPUT_DIM = 784
NUM_PARAMS = INPUT_DIM * HIDDEN_UNITS + HIDDEN_UNITS + HIDDEN_UNITS * NUM_CLASSES + NUM_CLASSES


def build_model(seed: int, precision: str = "float32") -> Any:
    """A fresh model with seeded initial weights. Mixed precision: the logits stay float32."""
    import keras

    policy = precision if precision != "float32" else "float32"
    init = keras.initializers.GlorotUniform
    model = keras.Sequential(
        [
            keras.Input(shape=(INPUT_DIM,)),
            keras.layers.Dense(HIDDEN_UNITS, activation="relu", kernel_initializer=init(seed=seed), dtype=policy),
            keras.layers.Dense(NUM_CLASSES, kernel_initializer=init(seed=seed + 1), dtype=policy),
            keras.layers.Activation("linear", dtype="float32"),  # logits in float32 for a stable loss
        ],
        name="mnist_dense",
    )
    return model


def loss_object() -> Any:
    """Per-example sparse categorical cross-entropy on logits (reduction left to the step)."""
    import keras

    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
