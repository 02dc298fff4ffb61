"""Start-up time of each command, and how the dry run and the size guard scale with the plan (issue 19).

    python scripts/bench_plans.py [--repeats 3] [--sizes 100,1000,10000,100000] [--confirm-million]

Part 1 runs each light command in a fresh interpreter (``python -m harness ...``)
and prints the median wall time and which heavy libraries it imported
(SciPy, matplotlib, TensorFlow, Keras, pandas). Part 2 writes synthetic suites
of N cases (a matrix of seeds x epochs x batch sizes ...) and times
``harness run SUITE --dry-run`` on each: time per case should stay flat
(linear). Part 3 times the guard refusing a 10**6-case suite (the count comes
from the matrix, nothing is expanded); ``--confirm-million`` also times the
confirmed dry run of it (``--yes``: minutes, linear).
Targets: light commands well under a second; dry run linear; guard under a second.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("scipy", "matplotlib", "tensorflow", "keras", "pandas")
PROBE = ("import sys, runpy; sys.argv = ['harness'] + sys.argv[1:]; code = 0\n"
         "try:\n    runpy.run_module('harness', run_name='__main__')\n"
         "except SystemExit as exc:\n    code = exc.code or 0\n"
         f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
         "sys.exit(code)")
BASELINES = {"python -c pass": "pass", "python -c 'import pandas'": "import pandas",
             "python -c 'import scipy.stats, matplotlib.pyplot'": "import scipy.stats, matplotlib.pyplot"}


def timed(args: list[str]) -> tuple[float, str, int]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    heavy = next((ln[6:] for ln in proc.stderr.splitlines() if ln.startswith("HEAVY=")), "?")
    return elapsed, heavy, proc.returncode


def suite_text(n_cases: int) -> str:
    """A matrix of exactly n_cases cases (n a power of ten): 10 values per axis."""
    axes = [("seed", [str(i) for i in range(10)]), ("epochs", [str(i) for i in range(1, 11)]),
            ("batch_size", [str(16 * i) for i in range(1, 11)]),
            ("learning_rate", [f"0.00{i}" for i in range(1, 10)] + ["0.01"]),
            ("steps_per_execution", [str(i) for i in range(1, 11)]),
            ("optimizer", ['"adam"', '"rmsprop"', '"nadam"', '"adamax"', '"lion"', '"adagrad"', '"ftrl"',
                           '"lamb"', '"adadelta"', '"adamw"'])]
    digits = len(str(n_cases)) - 1
    lines = "\n".join(f"{k} = [{', '.join(v)}]" for k, v in axes[:digits])
    return f'[suite]\nname = "plan{n_cases}"\n[defaults]\ndataset = {{ name = "synthetic", n_train = 2048 }}\n' \
           f"[matrix]\n{lines}\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", default="100,1000,10000,100000")
    ap.add_argument("--confirm-million", action="store_true")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-plans-"))
    (tmp / "quick.toml").write_text(suite_text(100))
    print("reference points (fresh interpreter, median of", a.repeats, "runs; the machine's load scales all):")
    for label, code in BASELINES.items():
        times = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], capture_output=True)
            times.append(time.perf_counter() - t0)
        print(f"  {label:<48} {statistics.median(times):6.2f} s")
    print("command start-up (fresh interpreter, median of", a.repeats, "runs):")
    for cmd in (["--help"], ["list", "engines"], ["list", "suites"], ["run", str(tmp / "quick.toml"), "--dry-run"],
                ["show", "--help"], ["compare", "--help"], ["report", "--help"]):
        times, heavy = [], ""
        for _ in range(a.repeats):
            t, heavy, _rc = timed(cmd)
            times.append(t)
        print(f"  harness {' '.join(cmd):<40} {statistics.median(times):6.2f} s   heavy imports: {heavy or 'none'}")
    print("\ndry run by plan size (one fresh process each):")
    for n in (int(x) for x in a.sizes.split(",")):
        path = tmp / f"plan{n}.toml"
        path.write_text(suite_text(n))
        t, _h, rc = timed(["run", str(path), "--dry-run", "--yes"])
        print(f"  {n:>9,} cases  {t:7.2f} s  {1e6 * t / n:8.1f} us/case  (exit {rc})")
    path = tmp / "plan1000000.toml"
    path.write_text(suite_text(1_000_000))
    t, _h, rc = timed(["run", str(path), "--dry-run"])
    print(f"\nguard on a 1,000,000-case suite (counted, not expanded): {t:.2f} s, exit {rc} (2 = refused)")
    if a.confirm_million:
        t, _h, rc = timed(["run", str(path), "--dry-run", "--yes"])
        print(f"confirmed dry run of it (--yes): {t:.1f} s, {1e6 * t / 1e6:.1f} us/case, exit {rc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
