"""What each strategy costs under the ``fast`` engine, measured side by side against hand-written loops.

    python scripts/bench_strategies.py [--rounds 5] [--epochs 2] [--n-train 60000] [--part single,multi]

Synthetic 60,000 examples, batch 128, Adam 1e-3, collectors off. Each part runs
in its own process (``single``: one CPU device; ``multi``: the CPU split into 2
logical devices, as the harness does for 2 replicas). Every contender (the
harness's ``fast`` engine: its ``Trainer``, exactly as ``fast.run`` drives it; and
hand-written loops) is compiled and warmed up once; then, round after round, each
trains ``--epochs`` epochs in turn, timed by wall clock.
Ratios are taken within a round (the order shuffled every round), then the
median over rounds is printed, from wall time and from this process's CPU time
(examples per CPU-second: far less sensitive to other processes' load, which
on the shared 2-core machine of this workplace swings wall-time ratios by 10x). Targets (issue 16):

- ``one_device`` and ``mirrored``-1 >= 0.9 x ``default`` (harness vs harness);
- ``mirrored``-2 >= 1.0 x a plain graph loop under the same strategy;
- ``default`` >= 0.9 x a whole-epoch XLA loop over contiguous slices (no shuffle);
  the same loop with the per-epoch shuffle (a gather) says what shuffling costs.

Cluster strategies (``multi_worker_mirrored``, ``parameter_server``) are measured by
``scripts/bench_cluster.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import nullcontext
from types import SimpleNamespace
from typing import Any

import numpy as np

B = 128
PARTS = {"single": 1, "multi": 2}  # part -> logical CPU devices


def build_net(strategy: Any) -> tuple[Any, Any]:
    from harness.components import model, optimizers

    with strategy.scope() if strategy is not None else nullcontext():
        net = model.build_model(0)
        opt = optimizers.build({"name": "adam", "params": {}}, 1e-3)
        opt.build(net.trainable_variables)
    return net, opt


def make_strategy(name: str, replicas: int = 1) -> Any:
    from harness.axis import AxisValue
    from harness.components import strategies

    params = {"replicas": replicas} if name in ("mirrored", "central_storage") else {}
    return strategies.build(SimpleNamespace(strategy=AxisValue(name, None, params), device="cpu"))


def harness_fast(name: str, replicas: int, data: Any, epochs: int, driver: str | None = None,
                 steps_per_call: int | None = None) -> Any:
    """The harness's fast engine (its Trainer, as ``fast.run`` drives it), compiled once;
    ``contender()`` times ``epochs`` of its epochs (examples/s)."""
    from harness.engines.base import TrainSpec
    from harness.engines.fast import Trainer

    st = make_strategy(name, replicas)
    net, opt = build_net(st)
    spec = TrainSpec(data.x_train, data.y_train, data.x_test, data.y_test, B, epochs, 0, 0.99,
                     steps_per_execution=steps_per_call, strategy=st, strategy_name=name, driver=driver)
    trainer = Trainer(net, opt, spec)
    trainer.warm_up()
    epoch = iter(range(1, 10**9))

    def contender() -> tuple[float, float]:
        t0, c0 = time.perf_counter_ns(), time.process_time_ns()
        for _ in range(epochs):
            trainer.train_epoch(next(epoch), lambda *_: None)
        return rates(epochs * spec.steps_per_epoch * B, t0, c0)

    contender.path = trainer.driver.name
    return contender


def rates(examples: int, t0: int, c0: int) -> tuple[float, float]:
    """(examples per wall second, examples per CPU second of this process) since ``t0``/``c0``."""
    return (examples / ((time.perf_counter_ns() - t0) / 1e9), examples / ((time.process_time_ns() - c0) / 1e9))


def hand_loop(kind: str, strategy: Any, data: Any, epochs: int) -> Any:
    """A hand-written loop: compiled and warmed up once, then ``contender()`` times ``epochs`` epochs."""
    import tensorflow as tf

    from harness.components.model import loss_object

    net, opt = build_net(strategy)
    loss_fn = loss_object()
    x, y = tf.constant(data.x_train), tf.constant(data.y_train)
    spe = len(data.x_train) // B
    R = strategy.num_replicas_in_sync if strategy is not None else 1

    def step(xb, yb):
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(loss_fn(yb, net(xb, training=True)), global_batch_size=B)
        opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables, strict=True))
        return loss

    def batch(i, perm, shuffle):
        if shuffle:
            idx = tf.slice(perm, [i * B], [B])
            return tf.gather(x, idx), tf.gather(y, idx)
        return tf.slice(x, [i * B, 0], [B, 784]), tf.slice(y, [i * B], [B])

    def xla_epoch(shuffle: bool, under: Any):
        @tf.function(jit_compile=True)
        def epoch(perm):
            def body(i, total):
                xb, yb = batch(i, perm, shuffle)
                loss = step(xb, yb) if under is None else under.reduce(
                    "SUM", under.run(step, args=(xb, yb)), axis=None)
                return i + 1, total + loss
            return tf.while_loop(lambda i, _: i < spe, body, (0, 0.0))[1]
        return epoch

    def graph_epoch(perm):  # plain graph loop: a tf.function, no XLA, strategy.run per update
        b = B // R
        total = 0.0
        for i in tf.range(spe):
            xb, yb = batch(i, perm, True)
            parts = [strategy.experimental_distribute_values_from_function(
                lambda ctx, t=t: t[ctx.replica_id_in_sync_group * b:(ctx.replica_id_in_sync_group + 1) * b])
                for t in (xb, yb)]
            total += strategy.reduce("SUM", strategy.run(step, args=parts), axis=None)
        return total

    fn = {"xla_contiguous": xla_epoch(False, None), "xla_shuffled": xla_epoch(True, None),
          "xla_strategy": xla_epoch(True, strategy), "graph": tf.function(graph_epoch)}[kind]
    rng = np.random.default_rng(0)
    float(fn(tf.constant(rng.permutation(len(data.x_train)).astype(np.int32))))  # compile + warm up

    def contender() -> tuple[float, float]:
        t0, c0 = time.perf_counter_ns(), time.process_time_ns()
        for _ in range(epochs):
            float(fn(tf.constant(rng.permutation(len(data.x_train)).astype(np.int32))))
        return rates(epochs * spe * B, t0, c0)

    contender.path = kind
    return contender


def contenders(part: str, data: Any, epochs: int) -> dict[str, Any]:
    if part == "single":
        return {
            "default": harness_fast("default", 1, data, epochs),
            "default, K = 100": harness_fast("default", 1, data, epochs, steps_per_call=100),
            "one_device": harness_fast("one_device", 1, data, epochs),
            "mirrored-1": harness_fast("mirrored", 1, data, epochs),
            "central_storage-1": harness_fast("central_storage", 1, data, epochs),
            "hand: epoch XLA loop, contiguous": hand_loop("xla_contiguous", None, data, epochs),
            "hand: epoch XLA loop, shuffled": hand_loop("xla_shuffled", None, data, epochs),
            "hand: one_device XLA loop": hand_loop("xla_strategy", make_strategy("one_device"), data, epochs),
            "hand: mirrored-1 XLA loop": hand_loop("xla_strategy", make_strategy("mirrored", 1), data, epochs),
        }
    return {
        "default": harness_fast("default", 1, data, epochs),
        "mirrored-2": harness_fast("mirrored", 2, data, epochs),
        "mirrored-2 (XLA on gradients)": harness_fast("mirrored", 2, data, epochs, "graph_loop+xla_gradients"),
        "central_storage-2": harness_fast("central_storage", 2, data, epochs),
        "hand: mirrored-2 graph loop": hand_loop("graph", make_strategy("mirrored", 2), data, epochs),
    }


RATIOS = {
    "single": [("one_device", "default", 0.9),
               ("default, K = 100", "default", None), ("mirrored-1", "default", 0.9), ("central_storage-1", "default", None),
               ("default", "hand: epoch XLA loop, contiguous", 0.9),
               ("hand: epoch XLA loop, shuffled", "hand: epoch XLA loop, contiguous", None),
               ("one_device", "hand: one_device XLA loop", None), ("mirrored-1", "hand: mirrored-1 XLA loop", None)],
    "multi": [("mirrored-2", "hand: mirrored-2 graph loop", 1.0),
              ("mirrored-2 (XLA on gradients)", "hand: mirrored-2 graph loop", None),
              ("mirrored-2", "default", None), ("central_storage-2", "default", None)],
}


def run_part(part: str, rounds: int, epochs: int, n_train: int) -> dict[str, Any]:
    """Inside the part's own process: every contender once per round, in a shuffled order."""
    from harness.components import datasets
    from harness.components.devices import configure, device_config

    configure(device_config("cpu", PARTS[part]))
    data = datasets.load("synthetic", {"n_train": n_train, "n_test": 1000})
    runners = contenders(part, data, epochs)
    wall: dict[str, list[float]] = {k: [] for k in runners}
    cpu: dict[str, list[float]] = {k: [] for k in runners}
    order = np.random.default_rng(0)
    for r in range(rounds):
        for name in order.permutation(list(runners)):  # no contender always runs first
            w, c = runners[name]()
            wall[name].append(w)
            cpu[name].append(c)
        print(f"round {r + 1}/{rounds}: " + ", ".join(f"{k} {v[-1]:,.0f}" for k, v in wall.items()),
              file=sys.stderr, flush=True)
    return {"wall": wall, "cpu": cpu, "paths": {k: getattr(f, "path", "") for k, f in runners.items()}}


def report(part: str, out: dict[str, Any]) -> str:
    paths = out["paths"]
    lines = [f"\n### {part}: {PARTS[part]} CPU device(s)\n",
             "| contender | path | examples/s (median) | min | max | examples per CPU-second (median) |",
             "|---|---|---:|---:|---:|---:|"]
    for k, v in out["wall"].items():
        lines.append(f"| {k} | {paths[k]} | {np.median(v):,.0f} | {min(v):,.0f} | {max(v):,.0f} | "
                     f"{np.median(out['cpu'][k]):,.0f} |")
    lines += ["", "| ratio (per round, then median) | wall | IQR | CPU time | target | met (wall / CPU) |",
              "|---|---:|---|---:|---:|---|"]
    for a, b, target in RATIOS[part]:
        per = {m: np.asarray(out[m][a]) / np.asarray(out[m][b]) for m in ("wall", "cpu")}
        med = {m: float(np.median(v)) for m, v in per.items()}
        q1, q3 = np.percentile(per["wall"], [25, 75])
        met = "" if target is None else " / ".join("yes" if med[m] >= target else "**no**" for m in ("wall", "cpu"))
        lines.append(f"| {a} ÷ {b} | {med['wall']:.2f} | {q1:.2f}–{q3:.2f} | {med['cpu']:.2f} | "
                     f"{'' if target is None else f'≥ {target}'} | {met} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--n-train", type=int, default=60000)
    ap.add_argument("--part", default="single,multi")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_part(args.child, args.rounds, args.epochs, args.n_train)))
        return 0
    load0 = os.getloadavg()[0]
    for part in args.part.split(","):
        if part not in PARTS:
            ap.error(f"--part: unknown part {part!r}; known: {', '.join(PARTS)}")
        cmd = [sys.executable, __file__, "--child", part, "--rounds", str(args.rounds), "--epochs",
               str(args.epochs), "--n-train", str(args.n_train)]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
        print(report(part, json.loads(done.stdout.strip().splitlines()[-1])), flush=True)
    print(f"\n{args.rounds} rounds x {args.epochs} epochs x {args.n_train:,} examples, batch {B}; "
          f"load average {load0:.1f} at start, {os.getloadavg()[0]:.1f} at end, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
