"""The profiler's own cost: the same cases with and without ``--profile``.

    python scripts/profiler_overhead.py PROFILED_RUN PLAIN_RUN

Prints, per case (matched by ``case_id``), examples/s without and with the
profiler (medians over repeats) and two slowdowns: of the whole timed window
(``slowdown_window``, diluted by the unprofiled rest of the window) and of the
profiled updates alone (profiler window / updates in it, against the plain
run's median update time). docs/profiling.md's overhead table is this output.
"""

from __future__ import annotations

import argparse

import pandas as pd

from harness.analysis.frames import timing_rows
from harness.results import load_run


def profiler_overhead(profiled: pd.DataFrame, plain: pd.DataFrame) -> pd.DataFrame:
    p = profiled[profiled["profiled"].fillna(False).astype(bool)].copy()
    q = timing_rows(plain)
    p["ms_per_update"] = p["profile_window_s"] * 1e3 / p["profiled_steps"].astype("float64")
    a = p.groupby(["case_id", "case_label"], observed=True).agg(
        profiled_samples_per_s=("samples_per_s", "median"), profiled_ms_per_update=("ms_per_update", "median"),
        profiled_steps=("profiled_steps", "median"))
    b = q.groupby("case_id", observed=True).agg(plain_samples_per_s=("samples_per_s", "median"),
                                                plain_step_ms_p50=("step_ms_p50", "median"),
                                                step_time_basis=("step_time_basis", "first"))
    out = a.join(b, how="inner").reset_index()
    out["slowdown_window"] = out["plain_samples_per_s"] / out["profiled_samples_per_s"]
    out["slowdown_profiled"] = out["profiled_ms_per_update"] / out["plain_step_ms_p50"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profiled", help="run folder of `harness run SUITE --profile`")
    parser.add_argument("plain", help="run folder of the same suite without --profile")
    args = parser.parse_args()
    table = profiler_overhead(load_run(args.profiled).cases, load_run(args.plain).cases)
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
