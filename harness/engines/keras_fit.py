"""``keras_fit``: ``model.fit`` with the suite's compile settings (Keras' own train step).

Defaults are Keras' defaults (``jit_compile="auto"``, ``steps_per_execution=1``)
unless the case sets ``jit_compile`` / ``steps_per_execution``. The training set
is cut to whole batches so every engine does the same updates per epoch; Keras
shuffles it every epoch. A short warm-up fit (two host calls) traces and
compiles before the timed window; its updates are undone.
"""

from __future__ import annotations

import time
from typing import Any

from harness.engines.base import EpochLoop, Hooks, TrainSpec, restore, snapshot
from harness.engines.step import make_evaluate


def run(model: Any, optimizer: Any, spec: TrainSpec, hooks: Hooks, controller: Any = None) -> Any:
    import keras
    import tensorflow as tf

    from harness.components.model import loss_object

    B, spe = spec.batch_size, spec.steps_per_epoch
    K = spec.steps_per_execution or 1
    n = spe * B
    x, y = spec.x_train[:n], spec.y_train[:n]
    xt, yt = tf.constant(spec.x_test), tf.constant(spec.y_test)
    model.compile(optimizer=optimizer, loss=loss_object().__class__(from_logits=True), metrics=["accuracy"],
                  jit_compile="auto" if spec.jit_compile is None else spec.jit_compile, steps_per_execution=K)
    evaluate = make_evaluate(model, jit_compile=spec.jit_compile is not False)
    loop = EpochLoop(spec, optimizer, lambda: tuple(float(v) for v in evaluate(xt, yt)), hooks, controller)
    res = loop.result
    res.initial_loss = float(evaluate(tf.constant(spec.x_train), tf.constant(spec.y_train))[0])
    keras.utils.set_random_seed(spec.seed)

    optimizer.build(model.trainable_variables)
    state = snapshot(model, optimizer)
    t0 = time.perf_counter_ns()
    warm = min(n, 2 * K * B)
    model.fit(x[:warm], y[:warm], batch_size=B, epochs=1, verbose=0, shuffle=False)
    evaluate(xt, yt)[0].numpy()
    res.compile_s = (time.perf_counter_ns() - t0) / 1e9
    restore(model, optimizer, state)

    class Timing(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.e0 = self.last = time.perf_counter_ns()

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter_ns()
            res.step_ms.extend([(now - self.last) / 1e6 / K] * K)
            self.last = now
            hooks.after_steps(len(res.step_ms))

        def on_epoch_end(self, epoch, logs=None):
            epoch_s = (time.perf_counter_ns() - self.e0) / 1e9
            if loop.end_epoch(epoch + 1, float(logs["loss"]), float(logs["accuracy"]), spe, epoch_s):
                self.model.stop_training = True

    hooks.on_window_start()
    model.fit(x, y, batch_size=B, epochs=spec.epochs, verbose=0, shuffle=True, callbacks=[Timing()])
    hooks.on_window_end()
    res.step_time_basis = f"per_chunk/{K}" if K > 1 else "per_step"
    return res
