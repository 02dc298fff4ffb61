"""Strategy scaling per configuration: examples/s against replicas or workers, with its baselines.

Two speed-ups, two names: ``speedup_vs_default`` compares a configuration with
the default strategy (no tf.distribute, one device) of the same engine,
device, batch size, optimizer... in the same run; ``scaling_vs_1_unit``
compares a strategy with itself at one replica or worker (its own strong
scaling). ``efficiency`` = speedup_vs_default / parallel units (1.0 is the
ideal line of the scaling plot).
"""

from __future__ import annotations

import pandas as pd

from harness.analysis.frames import timing_rows
from harness.analysis.labels import RUN, SERIES, labelled, series_keys
from harness.analysis.throughput import DEPENDENT, IGNORED, match_rows, ratio_to

UNITS = ("num_replicas", "num_workers")
COLUMNS = ("parallel_units", "rows", "samples_per_s_median", "speedup_vs_default", "efficiency",
           "scaling_vs_1_unit", "default_series")


def strategy_scaling(cases: pd.DataFrame, *, include_profiled: bool = False) -> pd.DataFrame:
    """One row per configuration; empty unless the strategy or the replicas/workers vary.

    ``parallel_units`` = max(num_replicas, num_workers); ``samples_per_s_median``
    over the ok repeats; ``speedup_vs_default`` (x) and ``default_series`` (the
    configuration it is relative to: strategy ``default``, same other axes,
    epochs and learning rate aside); ``efficiency`` (fraction);
    ``scaling_vs_1_unit`` (x; NaN where the strategy did not run at one unit);
    ``engine_driver``: the path(s) that drove the loop (harness.components.strategies.FAST_DRIVERS),
    so a reader sees why a strategy costs what it costs.
    """
    cases = labelled(cases)
    keys = [SERIES, *series_keys(cases)]
    rows = timing_rows(cases, include_profiled)
    if rows.empty or not ({"strategy", *UNITS} & set(keys)):
        return pd.DataFrame(columns=[*keys, *COLUMNS])
    extra = {} if RUN in keys else {RUN: (RUN, "first")}
    if "engine_driver" in rows.columns:
        extra["engine_driver"] = ("engine_driver", lambda v: ", ".join(sorted(set(v.dropna().astype(str)))))
    table = (
        rows.groupby(keys, dropna=False, sort=False)
        .agg(rows=("status", "size"), samples_per_s_median=("samples_per_s", "median"),
             _units=("num_replicas", "max"), _workers=("num_workers", "max"),
             strategy_=("strategy", "first"), **extra)
        .reset_index()
    )
    if "strategy" not in table.columns:
        table["strategy"] = table.pop("strategy_")
    else:
        table = table.drop(columns="strategy_")
    table["parallel_units"] = table[["_units", "_workers"]].astype(float).max(axis=1)
    is_default = (table["strategy"] == "default") & (table["parallel_units"] == 1)
    base = match_rows(table, keys, is_default, {"strategy", *DEPENDENT["strategy"], *IGNORED})
    table["speedup_vs_default"] = ratio_to(table, base)
    known = base.dropna().astype(int)
    table["default_series"] = table[SERIES].reindex(known.to_numpy()).set_axis(known.index)
    table["efficiency"] = table["speedup_vs_default"] / table["parallel_units"]
    one = match_rows(table, keys, table["parallel_units"] == 1, {*UNITS, *IGNORED})
    table["scaling_vs_1_unit"] = ratio_to(table, one)
    table = table.sort_values(["strategy", "parallel_units"], kind="stable").reset_index(drop=True)
    out = [*keys, *[c for c in ("strategy",) if c not in keys], *COLUMNS,
           *[c for c in ("engine_driver",) if c in table.columns]]
    return table[out]
