"""Throughput and step times per configuration, speed-ups against a matched baseline.

Nothing is pooled: a row is one configuration (``series``), so 1 and 2
replicas, or batch 1 and batch 4,000, are never one bar. A speed-up compares a
configuration with its *matched* baseline: the configuration that differs only
in the baseline's axes (``--baseline strategy=default``: the same engine,
device, batch size, optimizer... under the default strategy). Baselines are
matched within a run unless the baseline names ``run_id`` or ``machine``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from harness import axis_names
from harness.analysis.composition import contended_counts
from harness.analysis.frames import timing_rows
from harness.analysis.labels import RUN, SERIES, labelled, series_keys
from harness.analysis.percentiles import step_percentiles
from harness.errors import ConfigError
from harness.keyvalue import KeyValueError, key_values

# Axes that a strategy fixes (mirrored-2 is the default strategy's counterpart, not mirrored-1).
DEPENDENT: dict[str, tuple[str, ...]] = {"strategy": ("num_replicas", "num_workers")}
# Axes that do not change the cost of an update: ignored when matching a baseline.
IGNORED: tuple[str, ...] = ("epochs", "learning_rate")
CROSS_RUN: tuple[str, ...] = (RUN, "machine")


def parse_baseline(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"engine=keras_fit,device=cpu"`` -> ``{"engine": "keras_fit", "device": "cpu"}``."""
    if spec is None or isinstance(spec, Mapping):
        return dict(spec or {})
    try:
        return key_values(spec)
    except KeyValueError as exc:
        raise ConfigError(f"--baseline: {exc.item!r} is not KEY=VALUE (e.g. engine=keras_fit)") from None


def default_baseline(table: pd.DataFrame) -> dict[str, str]:
    """The default strategy where strategies vary, else Keras ``fit`` where engines vary, else none."""
    for key, value in (("strategy", "default"), ("engine", "keras_fit")):
        if key in table.columns and table[key].nunique() > 1 and (table[key] == value).any():
            return {key: value}
    return {}


def _is(values: pd.Series, wanted: str) -> pd.Series:
    text = values.astype("string")
    try:
        as_float = float(wanted)
    except ValueError:
        return text == wanted
    return (text == wanted) | (pd.to_numeric(values, errors="coerce") == as_float)


def match_baseline(table: pd.DataFrame, keys: list[str], wanted: Mapping[str, str]) -> pd.Series:
    """Per row of ``table``: the index of its matched baseline row (NaN where none ran).

    The baseline row has every ``key=value`` of ``wanted`` and the same value as
    the row on every other key, except the axes a wanted key fixes (a
    strategy's replicas and workers) and those that do not change the cost of
    an update (epochs, learning rate). Several matches: the first.
    """
    wanted = {axis_names.column(k, table.columns): v for k, v in wanted.items()}  # optimizer=... as in --filter
    for key in wanted:
        if key not in table.columns:
            raise ConfigError(f"--baseline: {axis_names.display(key)!r} is not an axis of this report "
                              f"(axes: {', '.join(axis_names.display(k) for k in keys if k != SERIES)})")
    is_base = pd.Series(True, index=table.index)
    for key, value in wanted.items():
        is_base &= _is(table[key], value)
    if not is_base.any():
        choices = "; ".join(sorted({f"{k}={v}" for k in wanted for v in table[k].astype(str)}))
        raise ConfigError(f"--baseline: no configuration matches {dict(wanted)}; values: {choices}")
    skip = {*wanted, *IGNORED, *(d for k in wanted for d in DEPENDENT.get(k, ()))}
    if skip & set(CROSS_RUN):
        skip |= set(CROSS_RUN)
    return match_rows(table, keys, is_base, skip)


def match_rows(table: pd.DataFrame, keys: list[str], is_base: pd.Series, skip: set[str]) -> pd.Series:
    """Per row: the index of the first ``is_base`` row equal to it on every key but ``skip`` (and the run)."""
    same = [k for k in dict.fromkeys([*keys, RUN]) if k in table.columns and k not in skip and k != SERIES]
    base = table[is_base]
    lookup: dict[tuple, int] = {}
    for i, r in zip(base.index, base[same].itertuples(index=False), strict=True):
        lookup.setdefault(tuple(map(str, r)), i)
    found = [lookup.get(tuple(map(str, r))) for r in table[same].itertuples(index=False)]
    return pd.Series([np.nan if f is None else f for f in found], index=table.index, dtype=float)


def ratio_to(table: pd.DataFrame, base: pd.Series, column: str = "samples_per_s_median") -> pd.Series:
    """``column`` of each row over that of its matched row ``base`` (NaN where none)."""
    known = base.dropna().astype(int)
    values = table[column].astype(float)
    matched = values.reindex(known.to_numpy()).set_axis(known.index).reindex(table.index)
    return values / matched


def throughput(
    cases: pd.DataFrame,
    *,
    baseline: str | Mapping[str, str] | None = None,
    include_profiled: bool = False,
) -> pd.DataFrame:
    """Examples/s and time per update per configuration, with the speed-up over a matched baseline.

    Over the ``ok`` rows of each configuration: examples/s median, min and max;
    the percentiles of :func:`harness.analysis.percentiles.step_percentiles`
    (per update only where per-update times were observed; chunk-based ones
    named ``chunk_ms_*``); the median CPU ms per update (all threads; see
    docs/regression.md, shared runners). ``speedup_vs_baseline`` (x) = examples/s over the
    matched baseline configuration's (:func:`match_baseline`), named in
    ``baseline_series``; ``baseline`` marks the rows that are a baseline. The
    default baseline is :func:`default_baseline`; without one, no speed-up.
    """
    cases = labelled(cases)
    keys = [SERIES, *series_keys(cases)]
    rows = timing_rows(cases, include_profiled)
    columns = [*keys, "rows", "samples_per_s_median", "samples_per_s_min", "samples_per_s_max"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows.assign(_run=rows[RUN].astype("string"))
    extra = {} if RUN in keys else {RUN: ("_run", "first")}
    if "cpu_ms_per_update" in rows:  # CPU time per update: the figure that holds on shared machines
        extra["cpu_ms_per_update_median"] = ("cpu_ms_per_update", "median")
    for col in ("achieved_flops_per_s", "flops_utilization"):  # how close to the device (issue 24)
        if col in rows and rows[col].notna().any():
            extra[f"{col}_median"] = (col, "median")
    table = (
        rows.groupby(keys, dropna=False, sort=False)
        .agg(rows=("status", "size"), samples_per_s_median=("samples_per_s", "median"),
             samples_per_s_min=("samples_per_s", "min"), samples_per_s_max=("samples_per_s", "max"),
             **extra)
        .reset_index()
    )
    table = table.merge(step_percentiles(rows, keys), on=keys, how="left")
    contended = contended_counts(rows, keys)
    if contended is not None:
        table = table.merge(contended, on=keys, how="left")
    wanted = parse_baseline(baseline) or default_baseline(table)
    if wanted:
        base = match_baseline(table, keys, wanted)
        known = base.dropna().astype(int)
        table["speedup_vs_baseline"] = ratio_to(table, base)
        table["baseline_series"] = table[SERIES].reindex(known.to_numpy()).set_axis(known.index)
        table["baseline"] = table.index.isin(known.to_numpy())
    return table.drop(columns=[RUN] if RUN not in keys else [])


def baseline_statement(table: pd.DataFrame, baseline: str | Mapping[str, str] | None) -> str:
    """One sentence naming the baseline of ``speedup_vs_baseline`` ('' when there is none)."""
    if "speedup_vs_baseline" not in table.columns:
        return ""
    wanted = parse_baseline(baseline) or default_baseline(table)
    spec = ", ".join(f"{k}={v}" for k, v in wanted.items())
    where = "in any run" if set(wanted) & set(CROSS_RUN) else "in the same run"
    return (f"speedup_vs_baseline: examples/s over the configuration with {spec} and otherwise the "
            f"same axes (epochs and learning rate aside), {where}; NaN where that configuration did "
            "not run. Choose another with --baseline KEY=VALUE.")
