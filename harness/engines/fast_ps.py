"""``fast`` under ``parameter_server``: a coordinator drives tf.distribute.coordinator.ClusterCoordinator.

The coordinator (this process) schedules chunks of K updates; each chunk runs
on whichever worker is free, reading and updating the variables held by the
parameter servers, asynchronously (updates may use slightly stale weights,
which is why this strategy's accuracy may trail the synchronous ones). Each
worker reads its own shard of the training set (``distribute_datasets_from_function``;
the shard is reshuffled with the case's seed every pass). An epoch is
``steps_per_epoch`` updates of the global batch, as everywhere else; the
coordinator evaluates after each epoch. Per-update times are the epoch's time
divided by its updates (``step_time_basis = per_epoch/async``): the
coordinator cannot time individual steps that run concurrently on several workers.
XLA is not used: the variables live on the parameter servers (see NO_XLA_REASON).
"""

from __future__ import annotations

import time
from typing import Any

from harness.components.strategies import COORDINATOR
from harness.engines.base import EpochLoop, Hooks, TrainSpec, evaluator, restore, snapshot
from harness.engines.step import make_evaluate, make_replica_step

DEFAULT_STEPS_PER_CALL = 50


def run(model: Any, optimizer: Any, spec: TrainSpec, hooks: Hooks, controller: Any = None) -> Any:
    import tensorflow as tf

    st = spec.strategy
    coordinator = tf.distribute.coordinator.ClusterCoordinator(st)
    B, spe = spec.batch_size, spec.steps_per_epoch
    K = min(spe, spec.steps_per_execution or DEFAULT_STEPS_PER_CALL)
    with st.scope():
        optimizer.build(model.trainable_variables)
    step = make_replica_step(model, optimizer, B, jit_compile=False)
    x_np, y_np, seed = spec.x_train, spec.y_train, spec.seed

    def dataset_fn(ctx: Any) -> Any:
        ds = tf.data.Dataset.from_tensor_slices((x_np, y_np))
        ds = ds.shard(ctx.num_input_pipelines, ctx.input_pipeline_id)
        ds = ds.shuffle(len(x_np), seed=seed + ctx.input_pipeline_id, reshuffle_each_iteration=True)
        return ds.repeat().batch(ctx.get_per_replica_batch_size(B), drop_remainder=True).prefetch(2)

    with st.scope():
        per_worker = coordinator.create_per_worker_dataset(st.distribute_datasets_from_function(dataset_fn))
    iterator = iter(per_worker)

    @tf.function
    def chunk(it, count):
        loss_sum, correct = tf.constant(0.0), tf.constant(0.0)
        for _ in tf.range(count):
            xb, yb = next(it)
            loss, corr = st.run(step, args=(xb, yb))
            loss_sum += st.reduce("SUM", loss, axis=None)
            correct += st.reduce("SUM", corr, axis=None)
        return loss_sum, correct

    xt, yt = tf.constant(spec.x_test), tf.constant(spec.y_test)
    evaluate = make_evaluate(model, jit_compile=False)
    loop = EpochLoop(spec, optimizer, lambda: tuple(float(v) for v in evaluate(xt, yt)), hooks, controller,
                     evaluator(evaluate, spec.x_val, spec.y_val))
    res = loop.result
    res.driver, res.xla_scope, res.notes = COORDINATOR.name, COORDINATOR.xla_scope, COORDINATOR.note
    res.initial_loss = float(evaluate(tf.constant(x_np), tf.constant(y_np))[0])

    state = snapshot(model, optimizer)
    hooks.on_phase("compile")
    t0 = time.perf_counter_ns()
    coordinator.schedule(chunk, args=(iterator, tf.constant(1)))
    coordinator.join()
    evaluate(xt, yt)[0].numpy()
    res.compile_s = (time.perf_counter_ns() - t0) / 1e9
    restore(model, optimizer, state)

    hooks.on_window_start()
    for epoch in range(1, spec.epochs + 1):
        hooks.on_phase("train")
        e0 = time.perf_counter_ns()
        futures = [coordinator.schedule(chunk, args=(iterator, tf.constant(min(K, spe - s))))
                   for s in range(0, spe, K)]
        coordinator.join()
        values = [f.fetch() for f in futures]
        epoch_s = (time.perf_counter_ns() - e0) / 1e9
        res.step_ms.extend([epoch_s * 1e3 / spe] * spe)
        hooks.after_steps(res.steps + spe)
        loss_sum = sum(float(v[0]) for v in values)
        correct = sum(float(v[1]) for v in values)
        if loop.end_epoch(epoch, loss_sum / spe, correct / (spe * B), spe, epoch_s):
            break
    hooks.on_window_end()
    res.step_time_basis = "per_epoch/async"
    return res
