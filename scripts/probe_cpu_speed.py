"""Does this machine's CPU speed change by itself? One fixed piece of work, pinned to each CPU in turn.

Runs 400 products of two 256x256 float32 matrices (NumPy, one thread) pinned to
each logical CPU, ``--rounds`` times, and prints the best of 3 per CPU and round.
On a quiet dedicated machine the figures agree to ~1 %; on a VM whose host is
shared they wander from one second to the next, and no timing metric (wall or
CPU time) of a benchmark can be steadier than that (docs/regression.md, "Shared
runners")::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python scripts/probe_cpu_speed.py --rounds 4
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def bench(a: np.ndarray, n: int = 400) -> float:
    t = time.perf_counter()
    for _ in range(n):
        a @ a
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=4)
    args = p.parse_args()
    a = np.random.default_rng(0).random((256, 256), dtype=np.float32)
    cpus = sorted(os.sched_getaffinity(0))
    for rnd in range(args.rounds):
        for cpu in cpus:
            os.sched_setaffinity(0, {cpu})
            bench(a)
            print(f"round {rnd} cpu{cpu}: {min(bench(a) for _ in range(3)) * 1000:.1f} ms", flush=True)


if __name__ == "__main__":
    main()
