"""Energy tables: per case by source, idle versus dynamic, power over time, carbon and cost.

Raw columns hold only what the collectors measured or estimated (with their
``*_source``); the report-time factors below turn joules into kWh, gCO2e and
money. Every derived figure inherits the source of the energy it comes from, so
an estimate stays labelled as one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness import schema
from harness.analysis import validity
from harness.analysis.frames import attach_case_axes, join_sources, timing_rows, varying

J_PER_KWH = 3.6e6


@dataclass(frozen=True)
class EnergyFactors:
    """Report-time conversion factors (override from the CLI or the API).

    carbon_intensity_g_per_kwh: grid carbon intensity, gCO2e per kWh. Default
        475, the world average of electricity generation used as the default of
        CodeCarbon and the ML CO2 Impact calculator (IEA data, 2019). Use your
        grid's figure (e.g. from Ember or electricityMaps) for real accounting.
    pue: power usage effectiveness of the facility (>= 1). Default 1.0: the
        energy at the machine itself, no cooling or distribution overhead (a
        desktop or a CI runner whose overhead you do not know). Uptime
        Institute's 2023 survey puts the average data centre at about 1.58.
    price_per_kwh: electricity price per kWh, in ``currency``. Default 0.15, a
        round figure near average retail prices (US EIA 2023: about 0.16 USD
        residential, 0.12 commercial).
    carbon_label: where the intensity came from (``harness.carbon.GridIntensity.label``:
        region, source and year, or the world average labelled as the default).
    carbon_notes: why that intensity was chosen when the command line and the suites disagree.
    """

    carbon_intensity_g_per_kwh: float = 475.0
    pue: float = 1.0
    price_per_kwh: float = 0.15
    currency: str = "USD"
    carbon_label: str = "world average (default)"
    carbon_notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.carbon_intensity_g_per_kwh >= 0:
            raise ValueError(f"carbon intensity must be >= 0 gCO2e/kWh. Received: {self.carbon_intensity_g_per_kwh}")
        if not self.pue >= 1:
            raise ValueError(f"PUE must be >= 1. Received: pue={self.pue}")
        if not self.price_per_kwh >= 0:
            raise ValueError(f"price must be >= 0 per kWh. Received: {self.price_per_kwh}")


ENERGY_KEYS: tuple[str, ...] = ("machine", "case_label")
_SUM_COLS = (
    "cpu_package_energy_j", "dram_energy_j", "cpu_energy_j", "gpu_energy_j", "energy_j",
    "energy_per_sample_j", "energy_to_target_j", "idle_energy_j", "dynamic_energy_j",
    "cpu_power_mean_w", "gpu_power_mean_w", "energy_window_s", "cpu_energy_low_j", "cpu_energy_high_j",
    "energy_low_j", "energy_high_j", "eval_energy_j", "memory_energy_j",
)
SHARED_BELOW = 0.9  # benchmark share of the machine's busy CPU time under which a row is flagged


def _idle_dynamic(rows: pd.DataFrame) -> pd.DataFrame:
    """Per row: idle energy (idle power x window, J) and dynamic energy (J), NaN when unknown."""
    window = rows["energy_window_s"].astype(float)
    cpu_idle = rows["cpu_idle_power_w"].astype(float) * window
    gpu_idle = rows["gpu_idle_power_w"].astype(float) * window
    gpu_known = rows["gpu_energy_j"].notna()
    idle = cpu_idle + gpu_idle.where(gpu_known, 0.0)
    dynamic = rows["cpu_dynamic_energy_j"].astype(float) + rows["gpu_dynamic_energy_j"].astype(float).where(gpu_known, 0.0)
    return rows.assign(idle_energy_j=idle, dynamic_energy_j=dynamic)


def with_carbon(table: pd.DataFrame, factors: EnergyFactors, energy: str = "energy_j") -> pd.DataFrame:
    """Add ``energy_kwh`` (at the wall: x PUE), ``carbon_g`` (gCO2e) and ``cost`` (currency).

    ``carbon_low_g``/``carbon_high_g`` (gCO2e) follow ``energy_low_j``/``energy_high_j``
    where the table has them (the estimate's bounds; equal to ``carbon_g`` for measured energy).
    """
    kwh = table[energy].astype(float) / J_PER_KWH * factors.pue
    out = table.assign(
        energy_kwh=kwh,
        carbon_g=kwh * factors.carbon_intensity_g_per_kwh,
        cost=kwh * factors.price_per_kwh,
    )
    for bound in ("low", "high"):
        col = f"energy_{bound}_j"
        if col in table.columns:
            out[f"carbon_{bound}_g"] = (table[col].astype(float) / J_PER_KWH * factors.pue
                                        * factors.carbon_intensity_g_per_kwh)
    if "energy_to_target_j_mean" in table.columns or "energy_to_target_j" in table.columns:
        col = "energy_to_target_j_mean" if "energy_to_target_j_mean" in table.columns else "energy_to_target_j"
        out["carbon_to_target_g"] = (
            table[col].astype(float) / J_PER_KWH * factors.pue * factors.carbon_intensity_g_per_kwh
        )
    return out


def energy_table(
    cases: pd.DataFrame,
    factors: EnergyFactors | None = None,
    *,
    include_profiled: bool = False,
) -> pd.DataFrame:
    """Energy per case (mean over its ok repeats), by source, with carbon and cost.

    Columns (J unless noted): CPU package, DRAM, CPU total and its source; GPU and
    its source; total ``energy_j`` and ``energy_source`` (measured, estimated,
    mixed, unavailable); J per example; mean power (W, mean) and peak power (W,
    max over repeats) for CPU and GPU; idle and dynamic energy; energy to target;
    then ``energy_kwh``, ``carbon_g``, ``carbon_to_target_g`` and ``cost`` from
    ``factors``; ``energy_validity`` (why a figure is not to be trusted, '' when it is:
    :mod:`harness.analysis.validity`). NaN stays NaN: a missing source is never summed as 0.
    """
    factors = factors or EnergyFactors()
    rows = _idle_dynamic(timing_rows(cases, include_profiled))
    keys = [*(["series"] if "series" in rows.columns else []), *varying(rows, ("machine",)), "case_label",
            "optimizer_label"]  # series: the configuration's label in every table of the report
    means = {c: (c, "mean") for c in _SUM_COLS}
    table = (
        rows.groupby(keys, dropna=False, sort=True)
        .agg(
            repeats=("status", "size"),
            **means,
            cpu_power_max_w=("cpu_power_max_w", "max"),
            gpu_power_max_w=("gpu_power_max_w", "max"),
            benchmark_cpu_share=("benchmark_cpu_share", "min"),
            cpu_energy_source=("cpu_energy_source", join_sources),
            gpu_energy_source=("gpu_energy_source", join_sources),
            energy_source=("energy_source", join_sources),
            memory_energy_source=("memory_energy_source", join_sources),
            energy_window_flag=("energy_window_flag", join_sources),
            time_to_target_s=("time_to_target_s", "mean"),
        )
        .reset_index()
    )
    table["energy_flag"] = [shared_flag(share, src) for share, src in
                            zip(table["benchmark_cpu_share"], table["cpu_energy_source"], strict=True)]
    order = [
        *keys, "repeats", "energy_window_s", "cpu_package_energy_j", "dram_energy_j",
        "cpu_energy_j", "cpu_energy_low_j", "cpu_energy_high_j", "cpu_energy_source", "gpu_energy_j",
        "gpu_energy_source", "energy_j", "energy_low_j", "energy_high_j", "energy_source",
        "energy_per_sample_j", "cpu_power_mean_w", "cpu_power_max_w",
        "gpu_power_mean_w", "gpu_power_max_w", "idle_energy_j", "dynamic_energy_j",
        "energy_to_target_j", "eval_energy_j", "memory_energy_j", "memory_energy_source",
        "benchmark_cpu_share", "energy_flag",
    ]
    helpers = ["energy_window_flag", "time_to_target_s"]  # read by the validity marks, then dropped
    out = pd.concat([with_carbon(table[order], factors), table[helpers]], axis=1)
    return validity.annotate(out).drop(columns=helpers)


def shared_flag(share: float, cpu_source: str) -> str:
    """'' when the benchmark had the machine to itself, else what else running means for the figure."""
    if share is None or share is pd.NA or not share < SHARED_BELOW:
        return ""
    others = f"other processes used {100 * (1 - share):.0f} % of the machine's busy CPU time"
    if "rapl" in str(cpu_source):
        return f"shared: {others}; RAPL measures the whole package, so their work is in the figure"
    return f"shared: {others}; the estimate charges only the benchmark's CPU time, but timings are contended"


def energy_statement(sources: pd.DataFrame) -> str:
    """The top of the energy report: which figures are measured and which estimated.

    ``sources``: the :func:`energy_sources` table.
    """
    if sources.empty:
        return "No case finished ok: there is no energy figure."
    parts = []
    for label, col in (("CPU", "cpu_energy_source"), ("GPU", "gpu_energy_source")):
        counts = sources.groupby(col)["rows"].sum()
        parts.append(f"{label}: " + ", ".join(f"{_kind(str(src))} ({src}) in {n} row(s)" for src, n in counts.items()))
    return ("Measured: RAPL (CPU) and NVML (GPU) counters; estimated (≈): CPU energy from the benchmark's "
            "CPU time × power per thread, with low/high bounds. " + "; ".join(parts) + ".")


_kind = schema.source_kind


def energy_sources(cases: pd.DataFrame) -> pd.DataFrame:
    """Which source produced the CPU and GPU figures, how often, and why (per machine).

    The statement of measured versus estimated: one row per machine x CPU source
    x GPU source with the TDP and its origin used by estimates and the reasons
    recorded for estimated or missing figures.
    """
    rows = cases[cases["status"] == "ok"]
    keys = ["machine", "cpu_energy_source", "gpu_energy_source"]
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "rows", "cpu_tdp_w", "cpu_tdp_origin", "cpu_tdp_threads",
                                     "cpu_thread_power_w", "cpu_energy_reason", "gpu_energy_reason",
                                     "energy_reason", "cpu_dynamic_reason"])
    filled = rows.assign(**{k: rows[k].fillna("unavailable") for k in keys[1:]})
    return (
        filled.groupby(keys, dropna=False, sort=True)
        .agg(
            rows=("status", "size"),
            cpu_tdp_w=("cpu_tdp_w", "median"),
            cpu_tdp_origin=("cpu_tdp_origin", join_sources),
            cpu_tdp_threads=("cpu_tdp_threads", "median"),
            cpu_thread_power_w=("cpu_thread_power_w", "median"),
            cpu_energy_reason=("cpu_energy_reason", join_sources),
            gpu_energy_reason=("gpu_energy_reason", join_sources),
            energy_reason=("energy_reason", join_sources),
            cpu_dynamic_reason=("cpu_dynamic_reason", join_sources),
        )
        .reset_index()
    )


def power_series(
    cases: pd.DataFrame, samples: pd.DataFrame, *, include_profiled: bool = False
) -> pd.DataFrame:
    """The collectors' time series joined with each case's label (t_s in s, power in W)."""
    keys = [*(["series"] if "series" in cases.columns else []), "case_label", "optimizer_label", "machine"]
    rows = cases[cases["status"].isin(schema.TRAINED)]
    if not include_profiled:
        rows = rows[~rows["profiled"].fillna(False).astype(bool)]
    joined = attach_case_axes(samples, rows, keys)
    cols = ["run_id", "case_id", "repeat", *keys, "t_s", "phase", "cpu_power_w",
            "cpu_power_source", "dram_power_w", "gpu_power_w", "process_cpu_pct"]
    return joined[cols].sort_values(["run_id", "case_id", "repeat", "t_s"]).reset_index(drop=True)


def power_summary(series: pd.DataFrame) -> pd.DataFrame:
    """Per case x repeat: samples, duration (s), median sampling period (ms), mean/peak power (W)."""
    keys = ["machine", "case_label", "repeat"]
    if series.empty:
        return pd.DataFrame(columns=[*keys, "samples", "duration_s", "period_ms", "cpu_power_mean_w",
                                     "cpu_power_max_w", "cpu_power_source", "gpu_power_mean_w",
                                     "gpu_power_max_w"])

    def period(t: pd.Series) -> float:
        d = np.diff(np.sort(t.to_numpy(dtype=float)))
        return float(np.median(d) * 1e3) if d.size else float("nan")

    return (
        series.groupby(keys, dropna=False, sort=True)
        .agg(
            samples=("t_s", "size"),
            duration_s=("t_s", lambda t: float(t.max() - t.min())),
            period_ms=("t_s", period),
            cpu_power_mean_w=("cpu_power_w", "mean"),
            cpu_power_max_w=("cpu_power_w", "max"),
            cpu_power_source=("cpu_power_source", join_sources),
            gpu_power_mean_w=("gpu_power_w", "mean"),
            gpu_power_max_w=("gpu_power_w", "max"),
        )
        .reset_index()
    )
