"""Does ``harness run --tensorboard`` change what is measured? Runs with and without it, alternating.

    python scripts/bench_tensorboard_live.py [--rounds 2] [--repeats 3]

Runs a small suite (4 cases on 4,096 synthetic examples, ``fast`` engine, one
intra-op thread, collectors off) ABAB: A without, B with ``--tensorboard``.
Prints, per side, the median examples/s over every ok repeat, the ratio B/A, the
end-to-end wall time of each ``harness run`` and, from B's output, the time the
parent process spent writing the logdir between cases and importing TensorFlow.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.results.store import load_run  # noqa: E402

SUITE = """
[suite]
name = "tb-overhead"
description = "with and without --tensorboard"
target_accuracy = 0.2
collectors = []

[defaults]
dataset = {{ name = "synthetic", n_train = 4096, n_test = 512 }}
epochs = 3
batch_size = 128
learning_rate = 0.01
repeats = {repeats}
engine = "fast"
device = "cpu:1"

[matrix]
optimizer = ["adam", "minibatch_sgd", "rmsprop", "adamw"]
"""


def one(tmp: Path, suite: Path, tensorboard: bool, i: int) -> tuple[list[float], float, str]:
    results = tmp / f"results-{i}"
    cmd = [sys.executable, "-m", "harness", "run", str(suite), "--no-progress", "--results-dir", str(results)]
    if tensorboard:
        cmd += ["--tensorboard", str(tmp / f"logdir-{i}")]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    wall = time.perf_counter() - t0
    run = load_run(next(results.iterdir()))
    ok = run.cases[run.cases["status"] == "ok"]
    return list(ok["samples_per_s"]), wall, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="harness-tb-bench-") as tmp_name:
        tmp = Path(tmp_name)
        suite = tmp / "tb-overhead.toml"
        suite.write_text(SUITE.format(repeats=args.repeats))
        rates: dict[bool, list[float]] = {False: [], True: []}
        walls: dict[bool, list[float]] = {False: [], True: []}
        for r in range(args.rounds):
            for tb in (False, True):
                sps, wall, out = one(tmp, suite, tb, 2 * r + tb)
                rates[tb] += sps
                walls[tb].append(wall)
                if tb:
                    line = re.search(r"written between cases in ([\d.]+) s, plus ([\d.]+) s importing", out)
                    print(f"round {r}: B wrote its logdir in {line.group(1)} s (+{line.group(2)} s TF import)")
    a, b = statistics.median(rates[False]), statistics.median(rates[True])
    print(f"A (no --tensorboard): median {a:,.0f} examples/s over {len(rates[False])} repeats; "
          f"runs took {', '.join(f'{w:.1f}' for w in walls[False])} s")
    print(f"B (--tensorboard):    median {b:,.0f} examples/s over {len(rates[True])} repeats; "
          f"runs took {', '.join(f'{w:.1f}' for w in walls[True])} s")
    print(f"B/A examples/s: {b / a:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
