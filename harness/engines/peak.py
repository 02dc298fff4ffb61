"""The device's matmul rate, measured: the peak that ``flops_utilization`` divides by.

A square matmul at a large shape (1024 and 2048, float32; the best counts) is chained
in one XLA computation and timed several times; the best rate is the peak. It
is a *measured probe*, not a datasheet figure: on a CPU it is what the BLAS
kernels XLA calls reach with the threads the worker has, which is the ceiling a
training step's own matmuls can approach (their smaller shapes usually run
slower, see docs/workloads.md).
"""

from __future__ import annotations

import time
from typing import Any

PROBE_SIZE = 2048
PROBE_CALL_FLOP = 8e9  # matmuls chained per timed call until a call holds this much work (amortises the call)
PROBE_TRIALS = 5
PROBE_BUDGET_S = 0.5  # timed calls stop after this many seconds once two are done (a run pays the probe once)


def chain_for(m: int, k: int, n: int) -> int:
    """Matmuls per timed call: enough for :data:`PROBE_CALL_FLOP` (4 at 1024, 1 at 2048), at most 4."""
    return max(1, min(4, round(PROBE_CALL_FLOP / (2.0 * m * k * n))))


def matmul_rate(m: int, k: int, n: int, dtype: str = "float32", chain: int | None = None,
                trials: int = PROBE_TRIALS, budget_s: float = PROBE_BUDGET_S) -> dict[str, Any]:
    """Best FLOP/s of ``chain`` chained (m x k) @ (k x n) matmuls in one XLA call, over at most ``trials``
    timings (fewer once ``budget_s`` seconds of timed calls are spent, never fewer than two).

    The chain multiplies by the same (k x n) operand each time, keeping the shapes
    fixed (``n == k`` is needed for a chain longer than one). On this project's 2-core
    CPU a 2048 chain of 4 cost 6 calls of 0.7 s each, per run, for a rate no better than
    1024's: the chain and the budget keep the probe under about 1.5 s there.
    """
    chain = chain_for(m, k, n) if chain is None else chain
    import numpy as np
    import tensorflow as tf

    if chain > 1 and n != k:
        raise ValueError(f"a chain of matmuls needs n == k, got k={k}, n={n}")
    rng = np.random.default_rng(0)
    a = tf.constant(rng.standard_normal((m, k)).astype(dtype) * 0.01)
    b = tf.constant(rng.standard_normal((k, n)).astype(dtype) * 0.01)

    @tf.function(jit_compile=True)
    def run(a, b):
        x = a
        for _ in range(chain):
            x = tf.linalg.matmul(x, b)
        return tf.reduce_sum(x)

    run(a, b).numpy()  # compile
    best, spent, done = float("inf"), 0.0, 0
    while done < trials and (done < 2 or spent < budget_s):
        t0 = time.perf_counter_ns()
        run(a, b).numpy()
        took = (time.perf_counter_ns() - t0) / 1e9
        best, spent, done = min(best, took), spent + took, done + 1
    flops = 2.0 * m * k * n * chain
    return {"flops_per_s": flops / best, "shape": [m, k, n], "dtype": dtype, "chain": chain,
            "trials": done, "best_s": best}


def peak_probe(sizes: tuple[int, ...] = (1024, PROBE_SIZE), dtype: str = "float32") -> dict[str, Any]:
    """The run's record of the device's peak (run.json ``peak_probe``): the best rate over square
    matmuls of ``sizes``, with its shape, dtype and source."""
    import tensorflow as tf

    rec = max((matmul_rate(n, n, n, dtype) for n in sizes), key=lambda r: r["flops_per_s"])
    rec["source"] = "measured matmul probe (XLA, best of trials), not a datasheet figure"
    rec["threads"] = {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                      "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}
    return rec
