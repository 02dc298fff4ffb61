"""``fast``: data resident as tensors, a chunk of K train steps compiled by XLA as one loop.

Host work per K updates is one call and one scalar fetch; batch shapes are fixed
(the remainder of an epoch is dropped), every epoch reshuffles with a seeded
permutation, and the first call (trace + XLA compile) happens before the timed
window, its updates undone. Per-update times are chunk times divided by the
updates in the chunk (``step_time_basis = per_chunk/K``).

Under a synchronous tf.distribute strategy (``one_device``, ``mirrored``,
``central_storage``, ``multi_worker_mirrored``) the same loop calls
``strategy.run`` once per update inside the graph loop; replica *r* trains on
its slice ``[r*b, (r+1)*b)`` of the global batch (b = global batch / replicas),
so the updates equal the single-device ones. ``parameter_server`` is driven by
:mod:`harness.engines.fast_ps`.
"""

from __future__ import annotations

import time
from typing import Any

from harness.components.strategies import NO_XLA_REASON
from harness.engines.base import EpochLoop, Hooks, TrainSpec, epoch_permutation, restore, snapshot
from harness.engines.step import make_evaluate, make_train_step

DEFAULT_STEPS_PER_CALL = 100


def run(model: Any, optimizer: Any, spec: TrainSpec, hooks: Hooks, controller: Any = None) -> Any:
    import tensorflow as tf

    if spec.strategy is not None and is_parameter_server(spec.strategy):
        from harness.engines.fast_ps import run as run_ps

        return run_ps(model, optimizer, spec, hooks, controller)
    x, y = tf.constant(spec.x_train), tf.constant(spec.y_train)
    xt, yt = tf.constant(spec.x_test), tf.constant(spec.y_test)
    B, spe = spec.batch_size, spec.steps_per_epoch
    K = min(spe, spec.steps_per_execution or DEFAULT_STEPS_PER_CALL)
    jit = True if spec.jit_compile is None else spec.jit_compile
    if spec.strategy is None:
        optimizer.build(model.trainable_variables)
        chunk = _local_chunk(model, optimizer, x, y, B, K, jit)
    else:
        chunk, jit_used = replicated_chunk(spec.strategy, model, optimizer, x, y, B, jit)
        notes = ("XLA compiles the forward/backward pass; all-reduce and update run outside XLA"
                 if jit_used else "no XLA: " + NO_XLA_REASON if jit else "")

    evaluate = make_evaluate(model, jit and spec.strategy is None)
    loop = EpochLoop(spec, optimizer, lambda: tuple(float(v) for v in evaluate(xt, yt)), hooks, controller)
    res = loop.result
    res.notes = notes if spec.strategy is not None else ""
    res.initial_loss = float(evaluate(x, y)[0])

    state = snapshot(model, optimizer)
    hooks.on_phase("compile")
    t0 = time.perf_counter_ns()
    chunk(tf.constant(epoch_permutation(len(spec.x_train), spec.seed, 0)), tf.constant(0), tf.constant(1))[0].numpy()
    evaluate(xt, yt)[0].numpy()
    res.compile_s = (time.perf_counter_ns() - t0) / 1e9
    restore(model, optimizer, state)
    traces = chunk.experimental_get_tracing_count()

    hooks.on_window_start()
    for epoch in range(1, spec.epochs + 1):
        hooks.on_phase("train")
        e0 = time.perf_counter_ns()
        perm = tf.constant(epoch_permutation(len(spec.x_train), spec.seed, epoch))
        loss_sum = correct = 0.0
        for start in range(0, spe, K):
            count = min(K, spe - start)
            c0 = time.perf_counter_ns()
            ls, cr = chunk(perm, tf.constant(start), tf.constant(count))
            loss_sum += float(ls)  # fetching the value synchronises
            correct += float(cr)
            res.step_ms.extend([(time.perf_counter_ns() - c0) / 1e6 / count] * count)
            hooks.after_steps(res.steps + start + count)
        epoch_s = (time.perf_counter_ns() - e0) / 1e9
        if loop.end_epoch(epoch, loss_sum / spe, correct / (spe * B), spe, epoch_s):
            break
    hooks.on_window_end()
    res.retraces = chunk.experimental_get_tracing_count() - traces
    res.step_time_basis = f"per_chunk/{K}" if K > 1 else "per_step"
    return res


def _local_chunk(model: Any, optimizer: Any, x: Any, y: Any, B: int, K: int, jit: bool) -> Any:
    """``chunk(perm, start, count) -> (loss sum, correct)``: ``count`` <= K updates in one XLA call.

    The whole loop is one XLA computation. It receives the chunk's example
    indices, always K*B of them (a short last chunk is padded and ``count``
    stops the loop early), so XLA compiles once: passing the loop's start as a
    scalar would make XLA treat it as a constant and recompile for every chunk.
    """
    import tensorflow as tf

    step = make_train_step(model, optimizer, B)

    # the data are arguments, not captures: a captured tensor lives as long as the
    # traced graph, and TensorFlow keeps traced graphs after their function is gone
    # (tensorflow/tensorflow#62854), so captures would leak a copy of the data per case
    @tf.function(jit_compile=jit)
    def xla_chunk(x, y, idxs, count):
        def body(i, loss_sum, correct):
            idx = tf.slice(idxs, [i * B], [B])
            loss, corr = step(tf.gather(x, idx), tf.gather(y, idx))
            return i + 1, loss_sum + loss, correct + corr

        _, loss_sum, correct = tf.while_loop(
            lambda i, *_: i < count, body, (tf.constant(0), tf.constant(0.0), tf.constant(0.0)))
        return loss_sum, correct

    def chunk(perm, start, count):
        s, k = int(start), int(count)
        idxs = perm[s * B:(s + k) * B]
        if k < K:
            idxs = tf.concat([idxs, tf.zeros([(K - k) * B], tf.int32)], 0)
        return xla_chunk(x, y, idxs, tf.constant(k))

    chunk.experimental_get_tracing_count = xla_chunk.experimental_get_tracing_count
    return chunk


def is_parameter_server(strategy: Any) -> bool:
    return type(strategy).__name__.startswith("ParameterServerStrategy")


def replicated_chunk(strategy: Any, model: Any, optimizer: Any, x: Any, y: Any, B: int, jit: bool) -> tuple[Any, bool]:
    """The chunk under a synchronous strategy, and whether XLA compiles the gradients.

    The graph loop sits outside ``strategy.run`` (a gradient all-reduce inside a
    loop inside the replica function is refused by tf.distribute); XLA compiles
    only the forward/backward pass (:func:`make_replica_step`), and not at all
    under ``central_storage``, whose variables live on another device than the replicas.
    """
    import tensorflow as tf

    from harness.engines.step import make_replica_step

    R = strategy.num_replicas_in_sync
    if B % R:
        raise ValueError(f"batch_size={B} is not divisible by the {R} replicas in sync")
    b = B // R
    if type(strategy).__name__ == "CentralStorageStrategy":
        jit = False
    with strategy.scope():
        optimizer.build(model.trainable_variables)
    step = make_replica_step(model, optimizer, B, jit)

    def replica(perm, pos):
        rid = tf.distribute.get_replica_context().replica_id_in_sync_group
        idx = tf.slice(perm, [pos * B + rid * b], [b])
        return step(tf.gather(x, idx), tf.gather(y, idx))

    @tf.function
    def chunk(perm, start, count):
        def body(i, loss_sum, correct):
            loss, corr = strategy.run(replica, args=(perm, start + i))
            return (i + 1, loss_sum + strategy.reduce("SUM", loss, axis=None),
                    correct + strategy.reduce("SUM", corr, axis=None))

        _, loss_sum, correct = tf.while_loop(
            lambda i, *_: i < count, body, (tf.constant(0), tf.constant(0.0), tf.constant(0.0)))
        return loss_sum, correct

    return chunk, jit
