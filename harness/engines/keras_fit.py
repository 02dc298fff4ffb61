"""``keras_fit``: ``model.fit`` with the suite's compile settings (Keras' own train step).

Defaults are Keras' defaults (``jit_compile="auto"``, ``steps_per_execution=1``)
unless the case sets ``jit_compile`` / ``steps_per_execution``. The training set
is cut to whole batches so every engine does the same updates per epoch; Keras
shuffles it every epoch. A short warm-up fit (two host calls) traces and
compiles before the timed window; its updates are undone.

Under a strategy Keras distributes the batches itself (the global batch is
split over the replicas). Known limits of Keras 3, reported rather than hidden:
``parameter_server`` is skipped (Keras 3's ``fit`` has no ClusterCoordinator
support); ``multi_worker_mirrored`` is skipped (Keras 3 fit fails in
multi-worker mode, keras-team/keras#20585); ``steps_per_execution > 1`` under
``mirrored`` is skipped (Keras 3's multi-step loop fails there, keras-team/keras#19246); ``jit_compile = true`` under a multi-device strategy is skipped (XLA
cannot reach variables on another device); under ``central_storage`` Keras'
loss/accuracy metrics come out wrong (loss inflated by about the replica count,
accuracy not a multiple of 1/N), so the epoch's training loss and accuracy are
measured by a full pass over the training set after the epoch instead.
Each row records whether Keras actually compiled its train step with XLA
(``xla_scope`` = ``train_step`` or ``none``, the reason in ``strategy_notes``):
Keras' ``jit_compile="auto"`` means no XLA on a CPU-only host and under any
tf.distribute strategy, which is most of why it trails ``fast`` there.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from harness.engines.base import EpochLoop, Hooks, TrainSpec, evaluator, restore, snapshot
from harness.engines.step import make_evaluate


def run(model: Any, optimizer: Any, spec: TrainSpec, hooks: Hooks, controller: Any = None) -> Any:
    import keras
    import tensorflow as tf

    from harness.components.model import loss_object

    st = spec.strategy
    notes = _strategy_notes(spec)
    central = st is not None and type(st).__name__ == "CentralStorageStrategy"
    B, spe = spec.batch_size, spec.steps_per_epoch
    K = spec.steps_per_execution or 1
    n = spe * B
    x, y = spec.x_train[:n], spec.y_train[:n]
    xt, yt = tf.constant(spec.x_test), tf.constant(spec.y_test)
    jit_fit = "auto" if spec.jit_compile is None else spec.jit_compile
    model.compile(optimizer=optimizer, loss=loss_object().__class__(from_logits=True), metrics=["accuracy"],
                  jit_compile=jit_fit, steps_per_execution=K)
    evaluate = make_evaluate(model, jit_compile=spec.jit_compile is not False and st is None)
    loop = EpochLoop(spec, optimizer, lambda: tuple(float(v) for v in evaluate(xt, yt)), hooks, controller,
                     evaluator(evaluate, spec.x_val, spec.y_val))
    res = loop.result
    res.driver, res.xla_scope = "keras_fit", "train_step" if model.jit_compile else "none"
    res.notes = "; ".join(n for n in (notes, keras_xla_note(model.jit_compile, jit_fit, st)) if n)
    x_all, y_all = (tf.constant(x), tf.constant(y)) if central else (None, None)
    res.initial_loss = float(evaluate(tf.constant(spec.x_train), tf.constant(spec.y_train))[0])
    keras.utils.set_random_seed(spec.seed)

    with st.scope() if st is not None else contextlib.nullcontext():
        optimizer.build(model.trainable_variables)
    state = snapshot(model, optimizer)
    hooks.on_phase("compile")
    t0 = time.perf_counter_ns()
    warm = min(n, 2 * K * B)
    model.fit(x[:warm], y[:warm], batch_size=B, epochs=1, verbose=0, shuffle=False)
    evaluate(xt, yt)[0].numpy()
    res.compile_s = (time.perf_counter_ns() - t0) / 1e9
    restore(model, optimizer, state)

    class Timing(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            hooks.on_phase("train")
            self.e0 = self.last = time.perf_counter_ns()

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter_ns()
            res.step_ms.extend([(now - self.last) / 1e6 / K] * K)
            self.last = now
            hooks.after_steps(len(res.step_ms))

        def on_epoch_end(self, epoch, logs=None):
            epoch_s = (time.perf_counter_ns() - self.e0) / 1e9
            loss, acc = float(logs["loss"]), float(logs["accuracy"])
            if central:  # Keras' metrics are wrong under CentralStorageStrategy (see module doc)
                hooks.on_phase("eval")  # a measuring pass, not training: outside the energy window
                loss, acc = (float(v) for v in evaluate(x_all, y_all))
            if loop.end_epoch(epoch + 1, loss, acc, spe, epoch_s):
                self.model.stop_training = True

    hooks.on_window_start()
    model.fit(x, y, batch_size=B, epochs=spec.epochs, verbose=0, shuffle=True, callbacks=[Timing()])
    hooks.on_window_end()
    res.step_time_basis = f"per_chunk/{K}" if K > 1 else "per_step"
    return res


def keras_xla_note(compiled: bool, asked: Any, strategy: Any) -> str:
    """Whether Keras actually compiled its train step with XLA, and why (Keras 3.15's
    ``Trainer._resolve_auto_jit_compile``: ``"auto"`` means no XLA on a CPU-only host and
    no XLA under any tf.distribute strategy)."""
    import tensorflow as tf

    if compiled:
        return "Keras compiled its train step with XLA (strategy.run inside the compiled function)"
    if asked is False:
        return "no XLA: jit_compile = false"
    if not [d for d in tf.config.list_physical_devices() if d.device_type != "CPU"]:
        return "no XLA: Keras' jit_compile=\"auto\" turns XLA off on a CPU-only host"
    if strategy is not None:
        return "no XLA: Keras' jit_compile=\"auto\" turns XLA off under tf.distribute"
    return "no XLA: Keras found a layer that does not support XLA"


def _strategy_notes(spec: TrainSpec) -> str:
    """The note for the row (what Keras cannot do at all is skipped before: harness.components.compat)."""
    st = spec.strategy
    if st is None:
        return ""
    name = type(st).__name__
    if name == "CentralStorageStrategy":
        return "train loss/accuracy from a full pass after each epoch (Keras 3 metrics wrong under CentralStorageStrategy)"
    return ""

