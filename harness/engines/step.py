"""The training step, written once. Every custom engine (fast, eager, and the
distributed variants) calls :func:`make_train_step`; only how it is driven differs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _correct(logits: Any, y: Any) -> Any:
    """Examples whose arg-max logit is the label (float32 count)."""
    import tensorflow as tf

    return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), y), tf.float32))


def make_gradients(model: Any, optimizer: Any, global_batch_size: int) -> Callable:
    """``gradients(x, y) -> (loss, correct, grads)``: forward and backward pass of one batch.

    The loss is the per-example cross-entropy averaged over the *global* batch
    (``tf.nn.compute_average_loss``), so gradients mean the same with or without
    a strategy; under ``mixed_float16`` the optimizer (a LossScaleOptimizer)
    scales the loss here and unscales in ``apply_gradients``.
    """
    import tensorflow as tf

    from harness.components.model import loss_object

    loss_fn = loss_object()
    variables = model.trainable_variables

    def gradients(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = tf.nn.compute_average_loss(loss_fn(y, logits), global_batch_size=global_batch_size)
            scaled = optimizer.scale_loss(loss)
        return loss, _correct(logits, y), tape.gradient(scaled, variables)

    return gradients


def make_train_step(model: Any, optimizer: Any, global_batch_size: int) -> Callable:
    """``step(x, y) -> (loss, correct)`` for one batch: :func:`make_gradients`, then the update."""
    return _with_update(make_gradients(model, optimizer, global_batch_size), model, optimizer)


def _with_update(gradients: Callable, model: Any, optimizer: Any) -> Callable:
    variables = model.trainable_variables

    def step(x, y):
        loss, correct, grads = gradients(x, y)
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        return loss, correct

    return step


def make_evaluate(model: Any, jit_compile: bool = True) -> Callable:
    """``evaluate(x, y) -> (mean loss, accuracy)`` on a whole split in one call."""
    import tensorflow as tf

    from harness.components.model import loss_object

    loss_fn = loss_object()

    @tf.function(jit_compile=jit_compile)
    def evaluate(x, y):
        logits = model(x, training=False)
        loss = tf.reduce_mean(loss_fn(y, logits))
        return loss, _correct(logits, y) / tf.cast(tf.shape(y)[0], tf.float32)

    return evaluate


def make_replica_step(model: Any, optimizer: Any, global_batch_size: int, jit_compile: bool) -> Callable:
    """The same step for use inside ``strategy.run``: ``step(x, y) -> (loss, correct)`` per replica.

    The same gradients and update as :func:`make_train_step`, with only the
    gradients in a ``tf.function``, so that XLA may compile the forward and
    backward pass (``jit_compile``) while the gradient all-reduce and the
    update stay outside XLA: a cross-replica ``merge_call``
    cannot run inside a compiled function ("`merge_call` called while defining a
    new graph"), and XLA cannot touch variables placed on another device
    (https://www.tensorflow.org/xla/known_issues#tfvariable_on_a_different_device).
    """
    import tensorflow as tf

    gradients = tf.function(make_gradients(model, optimizer, global_batch_size), jit_compile=jit_compile)
    return _with_update(gradients, model, optimizer)
