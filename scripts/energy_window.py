"""How well the energy window matches the training window, per engine (issue 13's figure).

Runs real cases in this process through the worker's own ``execute`` (the
collectors' estimate path on a machine without RAPL) and prints, per engine,
``energy_window_s / train_s``, the evaluations' share of all measured energy and
the benchmark's share of the machine's busy CPU time. Run it with any checkout
on PYTHONPATH to compare versions::

    PYTHONPATH=. python scripts/energy_window.py --epochs 40
"""

from __future__ import annotations

import argparse
import math

from harness.collectors import CollectorConfig
from harness.runner.worker.execute import WorkerState, execute
from harness.suite import parse_suite

SUITE = """
[suite]
name = "energy-window"
[defaults]
dataset = "mnist-sample"
epochs = {epochs}
batch_size = 128
learning_rate = 0.001
[matrix]
engine = {engines}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--engines", default="fast,keras_fit,eager")
    args = ap.parse_args()
    engines = "[" + ", ".join(f'"{e}"' for e in args.engines.split(",")) + "]"
    state = WorkerState(run_id="w", collector_config=CollectorConfig(names=("rapl", "cpu_estimate", "process")))
    print("engine     train_s  eval_s  energy_window_s  window/train  eval share of energy  benchmark_cpu_share")
    for case in parse_suite(SUITE.format(epochs=args.epochs, engines=engines)).cases:
        row = execute(case, 0, state).case
        if row.get("status") != "ok":
            print(f"{case.engine:<10} {row.get('status')}: {row.get('error')}")
            continue
        ev = row.get("eval_energy_j", math.nan)
        share = ev / (ev + row["energy_j"]) if ev == ev else math.nan
        print(f"{case.engine:<10} {row['train_s']:7.3f} {row['eval_s']:7.3f} {row['energy_window_s']:16.3f} "
              f"{row['energy_window_s'] / row['train_s']:13.4f} {share:21.3f} "
              f"{row.get('benchmark_cpu_share', math.nan):20.3f}")


if __name__ == "__main__":
    main()
