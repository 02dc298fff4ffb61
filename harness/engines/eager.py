"""``eager``: the original design's loop, GradientTape without ``tf.function``.

The baseline many users start from; it uses the same train step as every other
engine, driven one Python call per update (the data iteration is fixed: each
epoch visits a seeded permutation of the whole training set once).
"""

from __future__ import annotations

import time
from typing import Any

from harness.engines.base import EpochLoop, Hooks, TrainSpec, epoch_permutation, evaluator
from harness.engines.step import make_evaluate, make_train_step


def run(model: Any, optimizer: Any, spec: TrainSpec, hooks: Hooks, controller: Any = None) -> Any:
    import tensorflow as tf

    x, y = tf.constant(spec.x_train), tf.constant(spec.y_train)
    xt, yt = tf.constant(spec.x_test), tf.constant(spec.y_test)
    B, spe = spec.batch_size, spec.steps_per_epoch
    step = make_train_step(model, optimizer, B)
    evaluate = make_evaluate(model, jit_compile=False).python_function  # eager too
    loop = EpochLoop(spec, optimizer, lambda: tuple(float(v) for v in evaluate(xt, yt)), hooks, controller,
                     evaluator(evaluate, spec.x_val, spec.y_val))
    res = loop.result
    res.initial_loss = float(evaluate(x, y)[0])
    res.compile_s = 0.0  # nothing is traced or compiled
    res.driver, res.xla_scope = "eager", "none"

    hooks.on_window_start()
    for epoch in range(1, spec.epochs + 1):
        hooks.on_phase("train")
        e0 = time.perf_counter_ns()
        perm = epoch_permutation(len(spec.x_train), spec.seed, epoch)
        loss_sum = correct = 0.0
        for s in range(spe):
            c0 = time.perf_counter_ns()
            idx = perm[s * B:(s + 1) * B]
            loss, corr = step(tf.gather(x, idx), tf.gather(y, idx))
            loss_sum += float(loss)
            correct += float(corr)
            res.step_ms.append((time.perf_counter_ns() - c0) / 1e6)
            hooks.after_steps(res.steps + s + 1)
        epoch_s = (time.perf_counter_ns() - e0) / 1e9
        if loop.end_epoch(epoch, loss_sum / spe, correct / (spe * B), spe, epoch_s):
            break
    hooks.on_window_end()
    return res
