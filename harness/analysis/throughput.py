"""Throughput and step-time distributions, speed-ups against a baseline, strategy scaling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from harness.analysis.frames import timing_rows, varying
from harness.errors import ConfigError

THROUGHPUT_KEYS: tuple[str, ...] = ("engine", "strategy", "device", "precision")


def parse_baseline(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"engine=keras_fit,device=cpu"`` -> ``{"engine": "keras_fit", "device": "cpu"}``."""
    if spec is None or isinstance(spec, Mapping):
        return dict(spec or {})
    out = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--baseline: {part!r} is not KEY=VALUE (e.g. engine=keras_fit)")
        out[key.strip()] = value.strip()
    return out


def _match(table: pd.DataFrame, baseline: Mapping[str, str]) -> pd.Series:
    mask = pd.Series(True, index=table.index)
    for key, value in baseline.items():
        if key not in table.columns:
            raise ConfigError(
                f"--baseline: {key!r} is not a column of this table (columns: {', '.join(table.columns)})"
            )
        mask &= table[key].astype("string") == str(value)
    return mask


def throughput(
    cases: pd.DataFrame,
    *,
    by: Sequence[str] = THROUGHPUT_KEYS,
    baseline: str | Mapping[str, str] | None = None,
    include_profiled: bool = False,
) -> pd.DataFrame:
    """Examples/s and step times per engine x strategy x device x precision (x machine).

    Over the ``ok`` rows of each group: examples/s median, min, max (examples/s);
    step time p50/p90/p99 (ms, the median over the rows of each row's
    percentile). ``speedup`` = a group's median examples/s over the baseline
    group's (x). The baseline is the group matching every ``key=value`` of
    ``baseline``; by default the slowest group, so speed-ups read >= 1.
    """
    rows = timing_rows(cases, include_profiled)
    keys = [*by, *[k for k in varying(rows, ("machine",)) if k not in by]]
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "rows", "samples_per_s_median", "samples_per_s_min",
                                     "samples_per_s_max", "step_ms_p50", "step_ms_p90",
                                     "step_ms_p99", "speedup", "baseline"])
    table = (
        rows.groupby(keys, dropna=False, sort=True)
        .agg(
            rows=("status", "size"),
            samples_per_s_median=("samples_per_s", "median"),
            samples_per_s_min=("samples_per_s", "min"),
            samples_per_s_max=("samples_per_s", "max"),
            step_ms_p50=("step_ms_p50", "median"),
            step_ms_p90=("step_ms_p90", "median"),
            step_ms_p99=("step_ms_p99", "median"),
        )
        .reset_index()
    )
    wanted = parse_baseline(baseline)
    if wanted:
        mask = _match(table, wanted)
        if not mask.any():
            choices = "; ".join(
                ",".join(f"{k}={row[k]}" for k in keys) for _, row in table.iterrows()
            )
            raise ConfigError(f"--baseline: no group matches {wanted}; groups: {choices}")
        base_idx = table.index[mask][0]
    else:
        base_idx = table["samples_per_s_median"].idxmin() if table["samples_per_s_median"].notna().any() else table.index[0]
    table["speedup"] = table["samples_per_s_median"] / table.loc[base_idx, "samples_per_s_median"]
    table["baseline"] = table.index == base_idx
    return table


def strategy_scaling(cases: pd.DataFrame, *, include_profiled: bool = False) -> pd.DataFrame:
    """Examples/s against replicas and workers, per strategy (and machine, device, engine).

    ``parallel_units`` = max(num_replicas, num_workers). ``speedup`` is the
    median examples/s over that of the ``default`` strategy (no tf.distribute)
    with one unit in the same machine, device and engine — or, where no such
    group ran, over the median of every single-unit group. ``efficiency`` =
    speedup / parallel_units (fraction). ``scaling_vs_1_unit`` compares a
    strategy with itself at one unit (its own strong scaling; NaN where it did
    not run at one unit). ``engine_driver`` names the path(s) that drove the
    loop (harness.components.strategies.FAST_DRIVERS), so a reader sees why a
    strategy costs what it costs.
    """
    rows = timing_rows(cases, include_profiled)
    context = varying(rows, ("machine", "device", "engine", "precision"))
    keys = [*context, "strategy", "num_replicas", "num_workers"]
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "parallel_units", "rows", "samples_per_s_median",
                                     "speedup", "efficiency", "scaling_vs_1_unit"])
    aggs = {"rows": ("status", "size"), "samples_per_s_median": ("samples_per_s", "median")}
    if "engine_driver" in rows.columns:
        aggs["engine_driver"] = ("engine_driver", lambda s: ", ".join(sorted(set(s.dropna().astype(str)))))
    table = rows.groupby(keys, dropna=False, sort=True).agg(**aggs).reset_index()
    units = table[["num_replicas", "num_workers"]].astype(float).max(axis=1)
    table.insert(len(keys), "parallel_units", units)
    single = table[table["parallel_units"] == 1]
    base = _median_by(single[single["strategy"] == "default"], table, context)
    table["speedup"] = table["samples_per_s_median"] / base.fillna(_median_by(single, table, context))
    table["efficiency"] = table["speedup"] / table["parallel_units"]
    table["scaling_vs_1_unit"] = table["samples_per_s_median"] / _median_by(single, table, [*context, "strategy"])
    return table


def _median_by(source: pd.DataFrame, table: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Per row of ``table``: the median examples/s of ``source``'s rows with the same ``keys``."""
    if not keys:
        value = source["samples_per_s_median"].median() if not source.empty else float("nan")
        return pd.Series(value, index=table.index, dtype=float)
    med = source.groupby(keys, dropna=False)["samples_per_s_median"].median().rename("_m").reset_index()
    return table[keys].merge(med, on=keys, how="left")["_m"].set_axis(table.index).astype(float)
