"""``fast``: data resident as tensors, a chunk of K train steps compiled by XLA as one loop.

Host work per K updates is one call and one fetch; K is a whole epoch unless
``steps_per_execution`` sets it (each host call costs a synchronisation, and
on a loaded machine a thread wake-up: measured 0.46x the throughput of one call
per epoch with K = 100 on the 2 busy cores of this workplace, see
docs/distributed.md); batch shapes are fixed
(the remainder of an epoch is dropped), every epoch reshuffles with a seeded
permutation, and the first call (trace + XLA compile) happens before the timed
window, its updates undone. Per-update times are chunk times divided by the
updates in the chunk (``step_time_basis = per_chunk/K``).

Under a synchronous tf.distribute strategy the driver comes from one table
(:data:`harness.components.strategies.FAST_DRIVERS`, recorded in the row's
``engine_driver``, ``xla_scope`` and ``strategy_notes``): when the one replica's
variables and compute share a device (``one_device``; ``mirrored``,
``central_storage``, ``multi_worker_mirrored`` with one replica there) the same
whole-loop XLA computation runs, with ``strategy.run`` inside it; across several
devices a graph loop calls ``strategy.run`` once per update (XLA on the
gradients, or none, as measured) and replica *r* trains on its slice
``[r*b, (r+1)*b)`` of the global batch (b = global batch / replicas), so the
updates equal the single-device ones. ``parameter_server`` is driven by
:mod:`harness.engines.fast_ps`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from harness.components.strategies import fast_driver
from harness.engines.base import (
    EpochLoop,
    Hooks,
    TrainSpec,
    epoch_permutation,
    evaluator,
    restore,
    snapshot,
)
from harness.engines.step import make_evaluate, make_train_step


def run(model: Any, optimizer: Any, spec: TrainSpec, hooks: Hooks, controller: Any = None) -> Any:
    if spec.strategy is not None and is_parameter_server(spec.strategy):
        from harness.engines.fast_ps import run as run_ps

        return run_ps(model, optimizer, spec, hooks, controller)
    t, reused = trainer_for(model, optimizer, spec)
    loop = EpochLoop(spec, optimizer, t.evaluate_test, hooks, controller, evaluator(t.evaluate, spec.x_val, spec.y_val))
    res = loop.result
    res.driver, res.xla_scope = t.driver.name, t.driver.xla_scope
    res.notes = "; ".join(n for n in (t.notes, PROGRAM_REUSED if reused else "") if n)
    res.initial_loss = t.initial_loss()
    hooks.on_phase("compile")
    res.compile_s = t.warm_up()
    traces = t.tracing_count()

    def on_chunk(done: int, ms_per_update: float, count: int) -> None:
        res.step_ms.extend([ms_per_update] * count)
        hooks.after_steps(res.steps + done)

    hooks.on_window_start()
    for epoch in range(1, spec.epochs + 1):
        hooks.on_phase("train")
        e0 = time.perf_counter_ns()
        loss_sum, correct = t.train_epoch(epoch, on_chunk)
        epoch_s = (time.perf_counter_ns() - e0) / 1e9
        spe = spec.steps_per_epoch
        if loop.end_epoch(epoch, loss_sum / spe, correct / (spe * spec.batch_size), spe, epoch_s):
            break
    hooks.on_window_end()
    res.retraces = t.tracing_count() - traces
    res.step_time_basis = f"per_chunk/{t.K}" if t.K > 1 else "per_step"
    return res


PROGRAM_REUSED = ("compiled program reused from an earlier case of this configuration "
                  "(weights, optimizer state and learning rate reset)")


def trainer_for(model: Any, optimizer: Any, spec: TrainSpec) -> tuple[Trainer, bool]:
    """The case's :class:`Trainer`: the kept program's (``spec.program``, same model and optimizer
    objects, already traced and compiled) or a new one; (trainer, reused)."""
    program = spec.program
    if program is not None and program.trainer is not None:
        if program.model is not model or program.optimizer is not optimizer:
            raise ValueError("a kept program is reused with another model or optimizer than its own")
        program.trainer.spec = spec
        return program.trainer, True
    trainer = Trainer(model, optimizer, spec)
    if program is not None:
        program.trainer = trainer
    return trainer, False


class Trainer:
    """The fast engine's compiled pieces for one case, driven by :func:`run` (and, epoch by
    epoch, by ``scripts/bench_strategies.py``): the driver from the strategy table, the chunk
    of K updates, the evaluation."""

    def __init__(self, model: Any, optimizer: Any, spec: TrainSpec) -> None:
        import tensorflow as tf

        self.spec, self.model, self.optimizer = spec, model, optimizer
        self.x, self.y = tf.constant(spec.x_train), tf.constant(spec.y_train)
        self.xt, self.yt = tf.constant(spec.x_test), tf.constant(spec.y_test)
        B, st = spec.batch_size, spec.strategy
        self.K = min(spec.steps_per_epoch, spec.steps_per_execution or spec.steps_per_epoch)
        self.driver, why = fast_driver(spec.strategy_name, st, spec.jit_compile, spec.driver)
        if self.driver.xla_scope != "none" and spec.jit_compile is None and not spec.driver:
            self.driver, why = conv_on_cpu_driver(model, st, self.driver, why)
        self.notes = "; ".join(n for n in (self.driver.note, why) if n) if st is not None else why
        if st is not None:
            _check_divisible(B, st.num_replicas_in_sync)
        with st.scope() if st is not None else contextlib.nullcontext():
            optimizer.build(model.trainable_variables)
        if st is None or self.driver.name == "xla_loop":
            self.chunk = loop_chunk(model, optimizer, self.x, self.y, B, self.K, self.driver.xla_scope == "loop", st)
        else:
            self.chunk = replicated_chunk(st, model, optimizer, self.x, self.y, B, self.driver.xla_scope == "gradients")
        self.evaluate = make_evaluate(model, self.driver.xla_scope == "loop")

    def evaluate_test(self) -> tuple[float, float]:
        return tuple(float(v) for v in self.evaluate(self.xt, self.yt))

    def initial_loss(self) -> float:
        return float(self.evaluate(self.x, self.y)[0])

    def tracing_count(self) -> int:
        return self.chunk.experimental_get_tracing_count()

    def warm_up(self) -> float:
        """Trace and compile (one update and one evaluation), then undo the update; returns seconds."""

        state = snapshot(self.model, self.optimizer)
        t0 = time.perf_counter_ns()
        perm = epoch_permutation(len(self.spec.x_train), self.spec.seed, 0)
        self.chunk(perm, 0, 1)
        self.evaluate(self.xt, self.yt)[0].numpy()
        if self.spec.has_validation:  # its own shape: compiled here, not in the first epoch's evaluation
            self.evaluate(self.spec.x_val, self.spec.y_val)[0].numpy()
        compile_s = (time.perf_counter_ns() - t0) / 1e9
        restore(self.model, self.optimizer, state)
        return compile_s

    def train_epoch(self, epoch: int, on_chunk: Callable[[int, float, int], None] | None = None) -> tuple[float, float]:
        """One epoch's updates in chunks of K; returns (loss sum, correct examples).
        ``on_chunk(updates done in the epoch, ms per update, updates in the chunk)`` after each chunk."""
        spe, K = self.spec.steps_per_epoch, self.K
        perm = epoch_permutation(len(self.spec.x_train), self.spec.seed, epoch)
        loss_sum = correct = 0.0
        for start in range(0, spe, K):
            count = min(K, spe - start)
            c0 = time.perf_counter_ns()
            ls, cr = self.chunk(perm, start, count)  # one fetch, which synchronises
            loss_sum += float(ls)
            correct += float(cr)
            if on_chunk is not None:
                on_chunk(start + count, (time.perf_counter_ns() - c0) / 1e6 / count, count)
        return loss_sum, correct


def loop_chunk(model: Any, optimizer: Any, x: Any, y: Any, B: int, K: int, jit: bool, strategy: Any = None) -> Any:
    """``chunk(perm, start, count) -> [loss sum, correct]`` (NumPy): ``count`` <= K updates in one call.

    With ``jit`` the whole loop is one XLA computation. It receives the chunk's
    example indices, always K*B of them (a short last chunk is padded and
    ``count`` stops the loop early), so XLA compiles once: passing the loop's
    start as a scalar would make XLA treat it as a constant and recompile for
    every chunk. Under a strategy whose one replica holds its variables on its
    own device, each update is ``strategy.run`` of the same step inside the
    loop: the strategy's (trivial) all-reduce compiles into the same program.
    """
    import tensorflow as tf

    step = make_train_step(model, optimizer, B)

    def update(x, y, idx):
        if strategy is None:
            return step(tf.gather(x, idx), tf.gather(y, idx))
        loss, corr = strategy.run(lambda i: step(tf.gather(x, i), tf.gather(y, i)), args=(idx,))
        return strategy.reduce("SUM", loss, axis=None), strategy.reduce("SUM", corr, axis=None)

    # the data are arguments, not captures: a captured tensor lives as long as the
    # traced graph, and TensorFlow keeps traced graphs after their function is gone
    # (tensorflow/tensorflow#62854), so captures would leak a copy of the data per case
    @tf.function(jit_compile=jit)
    def xla_chunk(x, y, idxs, count):
        def body(i, loss_sum, correct):
            loss, corr = update(x, y, tf.slice(idxs, [i * B], [B]))
            return i + 1, loss_sum + loss, correct + corr

        _, loss_sum, correct = tf.while_loop(
            lambda i, *_: i < count, body, (tf.constant(0), tf.constant(0.0), tf.constant(0.0)))
        return tf.stack([loss_sum, correct])  # one fetch per chunk

    def chunk(perm, start, count):
        idxs = perm[start * B:(start + count) * B]  # NumPy: no eager op on the host path
        if count < K:
            idxs = np.concatenate([idxs, np.zeros((K - count) * B, np.int32)])
        return xla_chunk(x, y, idxs, np.asarray(count, np.int32)).numpy()

    chunk.experimental_get_tracing_count = xla_chunk.experimental_get_tracing_count
    return chunk


CONV_CPU = ("convolutions on CPU: no XLA (XLA's CPU convolutions inside the loop ran the cnn 27x slower "
            "than TensorFlow's kernels, docs/workloads.md); jit_compile = true forces XLA")


def conv_on_cpu_driver(model: Any, strategy: Any, driver: Any, why: str) -> tuple[Any, str]:
    """The graph loop without XLA for a model with convolutions on CPU (measured, see :data:`CONV_CPU`)."""
    import keras

    from harness.components.strategies import GRAPH_LOOP, device_kind

    kinds = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D, keras.layers.DepthwiseConv2D,
             keras.layers.SeparableConv2D, keras.layers.Conv2DTranspose)
    convs = any(isinstance(layer, kinds) for layer in _layers(model))
    if convs and device_kind(strategy) == "cpu":
        return GRAPH_LOOP, CONV_CPU
    return driver, why


def _layers(model: Any) -> list[Any]:
    out = []
    for layer in getattr(model, "layers", []):
        out += [layer, *_layers(layer)]
    return out


def _check_divisible(B: int, R: int) -> None:
    if B % R:
        raise ValueError(f"batch_size={B} is not divisible by the {R} replicas in sync")


def is_parameter_server(strategy: Any) -> bool:
    return type(strategy).__name__.startswith("ParameterServerStrategy")


def replicated_chunk(strategy: Any, model: Any, optimizer: Any, x: Any, y: Any, B: int, jit: bool) -> Any:
    """The chunk under a synchronous strategy spanning several devices.

    The graph loop sits outside ``strategy.run`` (a gradient all-reduce inside a
    loop inside the replica function is refused by tf.distribute); with ``jit``
    XLA compiles only the forward/backward pass (:func:`make_replica_step`).
    Replica *r* gathers its slice ``[r*b, (r+1)*b)`` of the global batch. The
    loss and correct count are summed on each replica and reduced once per chunk
    (two reductions per update cost two extra all-reduces per update, across
    processes under ``multi_worker_mirrored``).
    """
    import tensorflow as tf

    from harness.engines.step import make_replica_step

    b = B // strategy.num_replicas_in_sync
    step = make_replica_step(model, optimizer, B, jit)
    with strategy.scope():  # each replica sums its own loss and correct count: no traffic per update
        totals = tf.Variable(tf.zeros([2]), trainable=False, synchronization=tf.VariableSynchronization.ON_READ,
                             aggregation=tf.VariableAggregation.SUM)

    def replica(perm, pos):
        rid = tf.distribute.get_replica_context().replica_id_in_sync_group
        idx = tf.slice(perm, [pos * B + rid * b], [b])
        loss, correct = step(tf.gather(x, idx), tf.gather(y, idx))
        totals.assign_add(tf.stack([loss, correct]))

    @tf.function
    def graph_chunk(perm, start, count):
        strategy.run(lambda: totals.assign(tf.zeros([2])))

        def body(i):
            strategy.run(replica, args=(perm, start + i))
            return i + 1

        tf.while_loop(lambda i: i < count, body, [tf.constant(0)])
        return totals.read_value()  # read across replicas: one sum over them per chunk

    cache: list = [None, None]  # the epoch's permutation, converted once

    def chunk(perm, start, count):
        if cache[0] is not perm:
            cache[:] = [perm, tf.constant(perm)]
        return graph_chunk(cache[1], np.asarray(start, np.int32), np.asarray(count, np.int32)).numpy()

    chunk.experimental_get_tracing_count = graph_chunk.experimental_get_tracing_count
    return chunk
