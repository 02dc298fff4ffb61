"""What one worker keeps per case: run one case N times in this process and print its RSS.

The in-process view of issue 20 (no runner, no recycling): ``execute()`` of the
same configuration N times, the resident set after each, and the least-squares
growth per case after the first five. Vary the engine, XLA and the data size to
see what the growth follows::

    python scripts/probe_worker_leak.py --n 25
    python scripts/probe_worker_leak.py --n 14 --n-train 16384
    python scripts/probe_worker_leak.py --n 14 --extra 'jit_compile = false'
    python scripts/probe_worker_leak.py --n 14 --extra 'engine = "keras_fit"'
    python scripts/probe_worker_leak.py --n 14 --clear   # + keras clear_session, gc, malloc_trim
"""

from __future__ import annotations

import argparse
import ctypes
import gc

import numpy as np

from harness.runner.worker.case_memory import rss_bytes
from harness.runner.worker.execute import WorkerState, execute
from harness.suite import parse_suite


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=25)
    p.add_argument("--n-train", type=int, default=4096)
    p.add_argument("--extra", default="", help="more [defaults] lines, e.g. 'engine = \"eager\"'")
    p.add_argument("--clear", action="store_true", help="clear Keras' session, collect and trim after each case")
    p.add_argument("--kernel-cache", action="store_true", help="also clear the eager context's kernel caches")
    p.add_argument("--reset-context", action="store_true", help="also replace TensorFlow's eager context")
    args = p.parse_args()
    text = (f'[suite]\nname = "probe"\ncollectors = []\n[defaults]\n'
            f'dataset = {{ name = "synthetic", n_train = {args.n_train}, n_test = 512 }}\n'
            f'epochs = 2\noptimizer = "adam"\n{args.extra}\n')
    case = parse_suite(text, "<probe>").cases[0]
    state = WorkerState(run_id="probe")
    rss = []
    for i in range(args.n):
        row = execute(case, 0, state).case
        if args.clear:
            import keras

            keras.backend.clear_session(free_memory=True)
            gc.collect()
            from tensorflow.python.eager import context

            if args.kernel_cache:
                context.context().clear_kernel_cache()
            if args.reset_context:
                context._reset_context()
            gc.collect()
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        rss.append(rss_bytes() / 2**20)
        print(f"case {i:3d}: RSS {rss[-1]:7.1f} MiB  {row.get('status')} loss {row.get('final_loss')}")
    slope = np.polyfit(np.arange(5, args.n), rss[5:], 1)[0] if args.n > 7 else float("nan")
    print(f"growth after the first 5 cases: {slope:.1f} MiB per case")


if __name__ == "__main__":
    main()
