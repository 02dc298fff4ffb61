"""Shared helpers of the analysis layer: combining runs, filtering, keys and units.

Everything here returns new DataFrames and writes nothing. The combined cases
table carries one extra column, ``machine`` (a short label of the host the run
came from, from ``run.json``), so that runs of the same suite on two machines
compare like any other axis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from harness import schema

# Axes that may distinguish configurations, in display order. ``optimizer_label``
# comes first everywhere; the others are shown only where they vary.
AXIS_KEYS: tuple[str, ...] = (
    "optimizer_label",
    "schedule_label",
    "engine",
    "strategy",
    "num_replicas",
    "num_workers",
    "device",
    "precision",
    "batch_size",
    "learning_rate",
    "epochs",
    "dataset",
    "machine",
    "model_label",  # the workload (issue 24): in every label where it varies, a problem of the profile
)
OK = "ok"

# Units of columns that the analysis derives (the schema declares the raw ones).
DERIVED_UNITS: dict[str, str] = {
    "speedup_vs_baseline": "×",
    "speedup_vs_default": "×",
    "scaling_vs_1_unit": "×",
    "wall_to_target_s": "s",
    "cum_wall_s": "s",
    "chunk_ms_p50": "ms",
    "chunk_ms_p90": "ms",
    "chunk_ms_p99": "ms",
    "observations": "",
    "contended_repeats": "",
    "score": "",
    "efficiency": "fraction",
    "ratio": "×",
    "tau": "×",
    "fraction": "fraction",
    "carbon_g": "gCO2e",
    "carbon_to_target_g": "gCO2e",
    "carbon_low_g": "gCO2e",
    "carbon_high_g": "gCO2e",
    "cost": "currency",
    "idle_energy_j": "J",
    "dynamic_energy_j": "J",
    "energy_kwh": "kWh",
    "duration_s": "s",
    "period_ms": "ms",
    "parallel_units": "",
    "units": "",
}
_STAT_SUFFIXES = ("_mean", "_std", "_median", "_min", "_max", "_q25", "_q75")

# Value column -> the column that says whether it was measured or estimated.
SOURCE_OF: dict[str, str] = {
    "cpu_energy_j": "cpu_energy_source",
    "cpu_package_energy_j": "cpu_energy_source",
    "dram_energy_j": "cpu_energy_source",
    "cpu_power_mean_w": "cpu_energy_source",
    "cpu_power_max_w": "cpu_energy_source",
    "cpu_dynamic_energy_j": "cpu_energy_source",
    "gpu_energy_j": "gpu_energy_source",
    "gpu_power_mean_w": "gpu_energy_source",
    "gpu_power_max_w": "gpu_energy_source",
    "energy_j": "energy_source",
    "energy_per_sample_j": "energy_source",
    "energy_to_target_j": "energy_source",
    "energy_to_target_j_median": "energy_source",
    "idle_energy_j": "energy_source",
    "dynamic_energy_j": "energy_source",
    "energy_kwh": "energy_source",
    "carbon_g": "energy_source",
    "carbon_to_target_g": "energy_source",
    "carbon_low_g": "energy_source",
    "carbon_high_g": "energy_source",
    "cost": "energy_source",
    "cpu_power_w": "cpu_power_source",
    "cpu_energy_low_j": "cpu_energy_source",
    "cpu_energy_high_j": "cpu_energy_source",
    "energy_low_j": "energy_source",
    "energy_high_j": "energy_source",
    "eval_energy_j": "energy_source",
    "compile_energy_j": "energy_source",
    "memory_energy_j": "memory_energy_source",
}


is_estimated = schema.is_estimated  # the rule's owner is the schema (measured versus estimated)


def unit(column: str) -> str:
    """The unit of a column of any analysis table ('' when dimensionless)."""
    if column in DERIVED_UNITS:
        return DERIVED_UNITS[column]
    base = column
    for suffix in _STAT_SUFFIXES:
        if column.endswith(suffix):
            base = column[: -len(suffix)]
            break
    if base in DERIVED_UNITS:
        return DERIVED_UNITS[base]
    for table in ("cases", "epochs", "samples"):
        cols = schema.TABLES[table]
        if base in cols:
            return cols[base].unit
    return ""


# ------------------------------------------------------------------ combining runs
def combine(runs: Sequence[Any]) -> dict[str, pd.DataFrame]:
    """Concatenate the tables of several loaded runs (``harness.results.store.Run``).

    Fills ``run_id`` from the folder name where the runner left it empty, adds
    ``machine`` to every table, and fills empty display labels from the
    registry names, so that grouping never meets a missing key.
    """
    out: dict[str, list[pd.DataFrame]] = {"cases": [], "epochs": [], "samples": [], "ops": []}
    for run in runs:
        label = run.meta.machine.label or run.run_id
        for name in out:
            df = getattr(run, name).copy()
            if "run_id" in df.columns:
                df["run_id"] = df["run_id"].fillna(run.run_id)
            if "suite" in df.columns:
                df["suite"] = df["suite"].fillna(run.meta.suite.name)
            df["machine"] = row_machines(df, run.cases, label)
            out[name].append(df)
    tables = {}
    for name, frames in out.items():
        frames = [f for f in frames if not f.empty]
        tables[name] = (
            schema.conform(name, pd.concat(frames, ignore_index=True))
            if frames
            else schema.conform(name, schema.frame(name, []).assign(machine=pd.Series(dtype="string")))
        )
    tables["cases"] = fill_labels(tables["cases"])
    return tables


def row_machines(df: pd.DataFrame, cases: pd.DataFrame, label: str) -> pd.Series:
    """Each row's machine: its case's ``machine`` column (rows of merged shards keep their
    own), else the run's ``label`` (runs from before that column)."""
    known = {}
    if "machine" in cases.columns and cases["machine"].notna().any():
        rows = cases[cases["machine"].notna()]
        known = dict(zip(zip(rows["case_id"], rows["repeat"], strict=True), rows["machine"], strict=True))
    values = [known.get((c, r), label) for c, r in zip(df["case_id"], df["repeat"], strict=True)] \
        if known and "case_id" in df.columns and "repeat" in df.columns else [label] * len(df)
    return pd.Series(values, index=df.index, dtype="string")


def fill_labels(cases: pd.DataFrame) -> pd.DataFrame:
    """Display labels default to the registry names; the case label to its id."""
    out = cases.copy()
    pairs = (("optimizer_label", "optimizer"), ("schedule_label", "schedule"), ("case_label", "case_id"))
    for label, name in pairs:
        out[label] = out[label].fillna(out[name]).fillna("?")
    for key in ("engine", "strategy", "device", "precision", "dataset", "machine", "status"):
        if key in out.columns:
            out[key] = out[key].fillna("?")
    for key in ("num_replicas", "num_workers"):
        out[key] = out[key].fillna(1)
    return out


def timing_rows(cases: pd.DataFrame, include_profiled: bool = False) -> pd.DataFrame:
    """Rows that count for timing tables: status ``ok`` and, by default, not profiled."""
    rows = cases[cases["status"] == OK]
    if not include_profiled:
        rows = rows[~rows["profiled"].fillna(False).astype(bool)]
    return rows


def varying(df: pd.DataFrame, keys: Iterable[str]) -> list[str]:
    """The keys among ``keys`` that take more than one value in ``df``."""
    return [k for k in keys if k in df.columns and df[k].nunique(dropna=False) > 1]


def config_keys(cases: pd.DataFrame, first: Sequence[str] = ("optimizer_label",)) -> list[str]:
    """``first`` plus every other axis that varies in ``cases``: what tells configurations apart."""
    rest = [k for k in varying(cases, AXIS_KEYS) if k not in first]
    return list(first) + rest


def join_sources(values: pd.Series) -> str:
    """The distinct sources of a group, comma separated ('' when none recorded)."""
    distinct = sorted({str(v) for v in values.dropna()})
    return ",".join(distinct)


SAME_MEANING = ("run_id", "case_id", "case_label", "repeat", "machine")  # columns both sides may hold


def attach_case_axes(table: pd.DataFrame, cases: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Join per-epoch or per-sample rows with the axes of their case (by run, case and repeat).

    A key that the rows hold too must mean the same thing on both sides (an identity
    column); anything else would silently replace the row's own value with the case's
    (as the case's initial ``learning_rate`` once replaced the epoch's rate in force).
    """
    ident = ["run_id", "case_id", "repeat"]
    clash = [k for k in keys if k in table.columns and k not in SAME_MEANING]
    if clash:
        raise ValueError(f"attach_case_axes: {clash} are columns of the rows and of the cases with different "
                         "meanings; rename one side (see harness/schema.py)")
    wanted = list(dict.fromkeys([*ident, *keys]))
    right = cases[wanted].drop_duplicates(ident)
    left = table.drop(columns=[k for k in keys if k in table.columns and k not in ident])
    return left.merge(right, on=ident, how="inner")
