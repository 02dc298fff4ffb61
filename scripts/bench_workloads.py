"""Examples/s, achieved GFLOP/s and utilization per workload with the ``fast`` engine (issue 24).

    PYTHONPATH=$PWD python scripts/bench_workloads.py [--examples 60000] [--epochs 2] [--rounds 3]

Prints Markdown tables (stdout; diagnostics go to the log):

1. the matmul rate: the run's peak probe (1024², 2048²) and the rate at the
   shapes of ``mnist_dense``'s and the MLP's own matmuls;
2. each built-in model with the ``fast`` engine (synthetic 28x28x1 data, Adam):
   examples/s, FLOPs per example (XLA's count), achieved GFLOP/s, utilization;
3. ``mlp`` (two 1024-wide layers) across batch sizes;
4. ``mnist_dense`` at batch 128: ``fast`` against two hand-written whole-epoch
   XLA loops measured in the same run, one shuffling as ``fast`` does (a fresh
   permutation each epoch, each batch gathered from the resident data) and
   one over contiguous batches without shuffling (the price of shuffling), and
   the shuffled loop without its metrics (loss sum, correct count).

Every figure is the best of ``--rounds`` interleaved rounds (A B C, A B C, ...),
so that a loaded machine hurts every variant alike; state the load with it.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger("bench_workloads")

MODELS = [("mnist_dense", {}, 128), ("mlp", {"hidden": [1024, 1024]}, 512), ("cnn", {}, 128)]
MLP_BATCHES = (64, 128, 256, 512, 1024)


def shape_rate(m: int, k: int, n: int, reps: int = 200, trials: int = 5) -> float:
    """FLOP/s of ``reps`` (m x k) @ (k x n) matmuls in one XLA loop (operands perturbed: no CSE)."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a = tf.constant(rng.standard_normal((m, k)).astype(np.float32))
    b = tf.constant(rng.standard_normal((k, n)).astype(np.float32))

    @tf.function(jit_compile=True)
    def run(a, b):
        def body(i, acc):
            return i + 1, acc + tf.reduce_sum(tf.linalg.matmul(a * (1.0 + tf.cast(i, tf.float32) * 1e-7), b))
        return tf.while_loop(lambda i, _: i < reps, body, (tf.constant(0), tf.constant(0.0)))[1]

    run(a, b).numpy()
    best = min(_timed(lambda: run(a, b).numpy()) for _ in range(trials))
    return 2.0 * m * k * n * reps / best


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - t0) / 1e9


def data(n: int) -> Any:
    from harness.components import datasets

    return datasets.load("synthetic", {"n_train": n, "n_test": 1000, "shape": [28, 28, 1]})


def fast_trainer(name: str, params: dict, batch: int, ds: Any) -> tuple[Any, float]:
    """A warmed-up ``fast`` Trainer for one model, and its FLOPs per example (XLA's count)."""
    from harness.components import models, optimizers
    from harness.engines.base import TrainSpec
    from harness.engines.fast import Trainer
    from harness.engines.flops import train_flops_per_example

    net = models.build({"name": name, "params": params}, ds.input_shape, ds.num_classes, 0)
    flops = train_flops_per_example(net, ds.x_train[:batch], ds.y_train[:batch])
    opt = optimizers.build({"name": "adam", "params": {}}, 1e-3)
    spec = TrainSpec(ds.x_train, ds.y_train, ds.x_test, ds.y_test, batch, 1, 0, 1.0)
    t = Trainer(net, opt, spec)
    t.warm_up()
    return t, flops


def epoch_rate(run_epoch: Callable[[int], Any], examples: int, epochs: int) -> float:
    """Examples/s over ``epochs`` calls of ``run_epoch(epoch)``."""
    seconds = sum(_timed(lambda e=e: run_epoch(e)) for e in range(1, epochs + 1))
    return examples * epochs / seconds


def hand_loop(ds: Any, batch: int, shuffle: bool, metrics: bool = True) -> Callable[[int], Any]:
    """A hand-written whole-epoch XLA loop (Keras model, Adam, cross-entropy on logits); no harness code."""
    import keras
    import tensorflow as tf

    init = keras.initializers.GlorotUniform
    net = keras.Sequential([keras.Input(ds.input_shape), keras.layers.Flatten(),
                            keras.layers.Dense(128, activation="relu", kernel_initializer=init(seed=0)),
                            keras.layers.Dense(10, kernel_initializer=init(seed=1))])
    opt = keras.optimizers.Adam(1e-3)
    opt.build(net.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    x, y = tf.constant(ds.x_train), tf.constant(ds.y_train)
    steps = len(ds.x_train) // batch

    @tf.function(jit_compile=True)
    def epoch(x, y, perm):
        def body(i, loss_sum, correct):
            if shuffle:
                idx = tf.slice(perm, [i * batch], [batch])
                xb, yb = tf.gather(x, idx), tf.gather(y, idx)
            else:
                xb = tf.slice(x, [i * batch, 0, 0, 0], [batch, *ds.input_shape])
                yb = tf.slice(y, [i * batch], [batch])
            with tf.GradientTape() as tape:
                logits = net(xb, training=True)
                loss = loss_fn(yb, logits)
            grads = tape.gradient(loss, net.trainable_variables)
            opt.apply_gradients(zip(grads, net.trainable_variables, strict=True))
            if not metrics:
                return i + 1, loss_sum, correct
            hit = tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), yb), tf.float32)
            return i + 1, loss_sum + loss, correct + tf.reduce_sum(hit)

        out = tf.while_loop(lambda i, *_: i < steps, body, (tf.constant(0), tf.constant(0.0), tf.constant(0.0)))
        return tf.stack(out[1:])

    def run(e: int) -> Any:
        perm = np.random.default_rng((0, e)).permutation(len(ds.x_train)).astype(np.int32)
        return epoch(x, y, perm).numpy()

    run(0)  # compile
    return run


def best_of(variants: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """The best value of each variant over ``rounds`` interleaved rounds."""
    best = {k: 0.0 for k in variants}
    for r in range(rounds):
        for name, fn in variants.items():
            best[name] = max(best[name], fn())
            log.info("round %d %s: %.0f", r, name, best[name])
    return best


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=60000, help="training examples (synthetic, 28x28x1)")
    p.add_argument("--epochs", type=int, default=2, help="epochs per timing")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best counts")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from harness.engines.peak import peak_probe

    peak = peak_probe()["flops_per_s"]
    print(f"## Matmul rate (float32, XLA)\n\n| shape | GFLOP/s |\n|---|---:|\n| peak probe (best of 1024², 2048²) "
          f"| {peak / 1e9:.0f} |")
    for m, k, n in ((128, 784, 128), (128, 128, 10), (512, 784, 1024), (512, 1024, 1024)):
        print(f"| {m}×{k}×{n} | {shape_rate(m, k, n) / 1e9:.0f} |")
    ds = data(args.examples)
    rows = []
    for name, params, batch in MODELS:
        t, flops = fast_trainer(name, params, batch, ds)
        n = t.spec.steps_per_epoch * batch
        eps = best_of({name: lambda t=t, n=n: epoch_rate(t.train_epoch, n, args.epochs)}, args.rounds)[name]
        rows.append((name, batch, t.driver.name, eps, flops))
    print("\n## Built-in models, fast engine\n\n| model | batch | driver | examples/s | MFLOP/example | "
          "achieved GFLOP/s | utilization |\n|---|---:|---|---:|---:|---:|---:|")
    for name, batch, driver, eps, flops in rows:
        print(f"| {name} | {batch} | {driver} | {eps:,.0f} | {flops / 1e6:.3f} | {eps * flops / 1e9:.1f} | "
              f"{eps * flops / peak:.2f} |")
    print("\n## mlp (2 x 1024) across batch sizes, fast engine\n\n| batch | examples/s | achieved GFLOP/s | "
          "utilization |\n|---:|---:|---:|---:|")
    for batch in MLP_BATCHES:
        t, flops = fast_trainer("mlp", {"hidden": [1024, 1024]}, batch, ds)
        n = t.spec.steps_per_epoch * batch
        eps = best_of({"mlp": lambda t=t, n=n: epoch_rate(t.train_epoch, n, args.epochs)}, args.rounds)["mlp"]
        print(f"| {batch} | {eps:,.0f} | {eps * flops / 1e9:.1f} | {eps * flops / peak:.2f} |")
    dense, _ = fast_trainer("mnist_dense", {}, 128, ds)
    n = dense.spec.steps_per_epoch * 128
    loops = {"fast": dense.train_epoch, "hand loop, shuffled": hand_loop(ds, 128, True),
             "hand loop, shuffled, no metrics": hand_loop(ds, 128, True, metrics=False),
             "hand loop, contiguous, no shuffle": hand_loop(ds, 128, False)}
    best = best_of({k: lambda f=f: epoch_rate(f, n, args.epochs) for k, f in loops.items()}, args.rounds)
    print("\n## mnist_dense, batch 128: fast vs hand-written whole-epoch XLA loops (same run)\n\n"
          "| loop | examples/s | fast ÷ this |\n|---|---:|---:|")
    for name, eps in best.items():
        print(f"| {name} | {eps:,.0f} | {best['fast'] / eps:.2f} |")


if __name__ == "__main__":
    main()
