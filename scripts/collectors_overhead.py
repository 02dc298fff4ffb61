"""Overhead of the collectors: throughput of a training-like loop with and without them.

Runs a NumPy SGD loop on the MNIST dense model (784 -> 128 relu -> 10, batch 128,
synthetic data) in this process, alternating ``collectors=[]`` and all
collectors at the default 0.1 s period, and prints the median throughput ratio.
Also prints the cost of one sampler tick (all sources), the direct overhead
being ``tick_s / period``. No TensorFlow: the engine-level check (the ``fast``
engine, same suite) is the runner's; this isolates the collectors' own cost.

    python scripts/collectors_overhead.py --seconds 3 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.collectors import CollectorConfig, open_session  # noqa: E402


def workload(seconds: float, rng: np.random.Generator) -> float:
    """Examples/s of plain SGD steps for ``seconds``."""
    x = rng.standard_normal((60_000 // 8, 784), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    w1 = rng.standard_normal((784, 128), dtype=np.float32) * 0.05
    w2 = rng.standard_normal((128, 10), dtype=np.float32) * 0.05
    n, i, end = 0, 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < end:
        xb, yb = x[i : i + 128], y[i : i + 128]
        h = np.maximum(xb @ w1, 0)
        logits = h @ w2
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(len(yb)), yb] -= 1
        gw2 = h.T @ p
        gh = (p @ w2.T) * (h > 0)
        w2 -= 0.01 * gw2 / 128
        w1 -= 0.01 * (xb.T @ gh) / 128
        n += len(xb)
        i = (i + 128) % (len(x) - 128)
    return n / (time.perf_counter() - start)


def measured(config: CollectorConfig, seconds: float, rng: np.random.Generator) -> tuple[float, int]:
    session = open_session(config)
    session.start()
    rate = workload(seconds, rng)
    session.stop()
    return rate, len(session.samples())


def tick_cost(config: CollectorConfig, n: int = 200) -> float:
    session = open_session(config, background=False)
    session.start()
    t = time.perf_counter()
    for _ in range(n):
        session.sample_now()
    cost = (time.perf_counter() - t) / n
    session.stop()
    return cost


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--tdp-w", type=float, default=100.0, help="TDP for the estimate when no RAPL")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    on = CollectorConfig(names=None, tdp_w=args.tdp_w, tdp_origin="cli")
    off = CollectorConfig(names=())
    ratios = []
    for r in range(args.repeats):
        order = (off, on) if r % 2 == 0 else (on, off)
        res = {id(c): measured(c, args.seconds, rng) for c in order}
        (r_off, _), (r_on, samples) = res[id(off)], res[id(on)]
        ratios.append(r_on / r_off)
        print(f"repeat {r}: off {r_off:,.0f}/s  on {r_on:,.0f}/s  ({samples} samples)  ratio {r_on / r_off:.4f}")
    cost = tick_cost(on)
    print(f"median ratio on/off: {statistics.median(ratios):.4f}  (min {min(ratios):.4f}, max {max(ratios):.4f})")
    print(f"one sampler tick (all sources): {cost * 1e6:.0f} us -> {cost / on.sample_period_s:.3%} of one core at the default period")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
