"""Whether an energy or power figure can be trusted: one decision for every view.

A figure is *below its floor* when the window it covers is shorter than ten
update periods of its source (the collectors record that as
``energy_window_flag = "short_window: ..."``), and *shared* when other
processes used a notable share of the machine's CPU meanwhile (``energy_flag``).
The energy to target covers the window up to the target epoch, so it has the
same floor on ``time_to_target_s``.

:func:`annotate` adds ``energy_validity`` (the reasons, '' when valid) and the
hidden helper ``energy_marked`` (which cells get the mark) to a table; the
HTML, Markdown and CSV reports, ``harness show``, ``compare`` and TensorBoard's
descriptions read those, :func:`legend` explains the mark, and
:func:`banner` replaces per-cell marks by one sentence when every figure is
below its floor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from harness.collectors import nvml
from harness.collectors.sources import EstimateSource, RaplSource

VALIDITY = "energy_validity"
MARKED = "energy_marked"  # hidden helper column: mark this row's energy/power cells
TO_TARGET_MARKED = "energy_to_target_marked"  # hidden: mark only its energy-to-target cells
TO_TARGET_COLUMNS = ("energy_to_target_j", "energy_to_target_j_median", "carbon_to_target_g")
MARK = "⚠"
WINDOW_FACTOR = 10  # a window needs 10 update periods of its source

# Source label (as in *_source columns) -> (update period in s, why it has that period).
UPDATE_S: dict[str, tuple[float, str]] = {
    "rapl": (RaplSource.update_s, "RAPL counters update about every 1 ms"),
    "estimate_generic": (EstimateSource.update_s, "the estimate reads CPU time, which ticks every 10 ms"),
    "estimate_tdp": (EstimateSource.update_s, "the estimate reads CPU time, which ticks every 10 ms"),
    "nvml_counter": (nvml.COUNTER_UPDATE_S, "NVML's energy counter updates every 10-100 ms"),
    "nvml_power": (nvml.POWER_AVERAGE_S, "NVML power readings are 1 s averages"),
}
_NEEDS = re.compile(r"(\w+) needs >= ([0-9.eE+-]+) s")

# Columns that hold an energy or power figure (or one derived from it) and get the mark.
_PREFIXES = ("energy", "cpu_energy", "gpu_energy", "cpu_power", "gpu_power", "carbon", "cost",
             "cpu_package_energy", "dram_energy", "idle_energy", "dynamic_energy", "eval_energy",
             "epoch_energy", "compile_energy", "memory_energy")
_NOT_FIGURES = ("energy_source", "cpu_energy_source", "gpu_energy_source", "memory_energy_source",
                "energy_flag", "energy_window_flag", "energy_validity", "energy_marked",
                "energy_window_s", "energy_reason", "cpu_energy_reason", "gpu_energy_reason")


def is_figure(column: str) -> bool:
    """True for a column holding an energy or power figure (J, W, kWh, gCO2e, cost)."""
    return column.startswith(_PREFIXES) and column not in _NOT_FIGURES


def floor_s(source: str) -> float:
    """The shortest trustworthy window (s) of ``source`` (several, comma separated: the largest)."""
    floors = [WINDOW_FACTOR * UPDATE_S[s][0] for s in str(source).split(",") if s in UPDATE_S]
    return max(floors) if floors else 0.0


def _short(flag: object) -> str:
    text = "" if flag is None or flag is pd.NA or (isinstance(flag, float) and flag != flag) else str(flag)
    return text if text.startswith("short_window") else ""


def reasons(window_flag: object, shared_flag: object = "", window_s: float = float("nan"),
            to_target_s: float = float("nan"), source: str = "") -> str:
    """The reasons a row's energy figures are not to be trusted ('' when none)."""
    out = []
    short = _short(window_flag)
    if short:
        window = f" (window {window_s:.3g} s)" if window_s == window_s else ""
        out.append(f"{short}{window}")
    floor = floor_s(source)
    if not short and floor and to_target_s == to_target_s and 0 < to_target_s < floor:
        out.append(f"short_to_target: the target was reached after {to_target_s:.3g} s < {floor:g} s, "
                   "so energy_to_target is below the floor")
    shared = "" if shared_flag is None or shared_flag is pd.NA else str(shared_flag)
    if shared and shared != "nan":
        out.append(shared)
    return "; ".join(out)


def annotate(table: pd.DataFrame, source_col: str = "cpu_energy_source") -> pd.DataFrame:
    """``table`` with ``energy_validity`` and the hidden ``energy_marked``.

    Reads ``energy_window_flag``, ``energy_flag``, ``energy_window_s`` and
    ``time_to_target_s`` where present; a table without them is returned with
    empty reasons.
    """
    def col(name: str, default: object) -> list:
        return table[name].tolist() if name in table.columns else [default] * len(table)

    why = [reasons(w, sh, ws, tt, src) for w, sh, ws, tt, src in zip(
        col("energy_window_flag", ""), col("energy_flag", ""), col("energy_window_s", float("nan")),
        col("time_to_target_s", float("nan")), col(source_col, ""), strict=True)]
    out = table.assign(**{VALIDITY: why})
    whole = [bool(w.replace(_to_target_part(w), "").strip("; ")) for w in why]
    out[MARKED] = whole
    out[TO_TARGET_MARKED] = [bool(w) for w in why]
    return out


def _to_target_part(reasons_text: str) -> str:
    parts = [p for p in reasons_text.split("; ") if p.startswith("short_to_target")]
    return parts[0] if parts else ""


def marked(row: Mapping[str, Any], column: str) -> bool:
    """Whether ``column`` of ``row`` gets the mark (its row is flagged, or it is the energy to
    target and that target came before the floor)."""
    if not is_figure(column):
        return False
    if bool(row.get(MARKED, False)):
        return True
    return column in TO_TARGET_COLUMNS and bool(row.get(TO_TARGET_MARKED, False))


def all_below_floor(table: pd.DataFrame) -> bool:
    """True when every row with an energy figure is below its source's floor."""
    if VALIDITY not in table.columns or table.empty:
        return False
    return bool(table[VALIDITY].astype(str).str.startswith("short_window").all())


def banner(table: pd.DataFrame) -> str:
    """One sentence for the top of the energy section when every figure is below the floor, else ''."""
    if not all_below_floor(table):
        return ""
    return (f"Every energy and power figure below ({len(table)} row(s)) covers a training window shorter "
            "than its source's floor (10 update periods of the source): treat them as indications only, "
            "not measurements. Train longer (more epochs or examples) for figures that hold. "
            + floors_sentence(_sources(table)))


def floors_sentence(sources: Iterable[str]) -> str:
    """The floors of the given sources and why (the legend's second half)."""
    seen = []
    for src in sorted({s for item in sources for s in str(item).split(",") if s in UPDATE_S}):
        period, why = UPDATE_S[src]
        seen.append(f"{src}: {WINDOW_FACTOR * period:g} s ({why})")
    return ("Floors: " + "; ".join(seen) + ".") if seen else ""


def legend(table: pd.DataFrame) -> str:
    """What the mark means, with the floor of each source in ``table`` ('' when nothing is marked)."""
    if TO_TARGET_MARKED not in table.columns or not table[TO_TARGET_MARKED].any():
        return ""
    n = int(table[TO_TARGET_MARKED].sum())
    return (f"{MARK} marks the energy and power figures of {n} row(s) that are not to be trusted "
            "(energy_validity says why): a window shorter than 10 update periods of its source "
            "(short_window), a target reached before that (short_to_target), or other processes "
            "sharing the CPU (shared). Totals and rankings that include them inherit the doubt. "
            + floors_sentence(_sources(table)))


def _sources(table: pd.DataFrame) -> list[str]:
    cols = [c for c in ("cpu_energy_source", "gpu_energy_source") if c in table.columns]
    return [str(v) for c in cols for v in table[c].dropna()]


def report_notes(table: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """The energy table as the report shows it and its notes (section, level, text).

    Every figure below the floor: one banner at the top of the energy section and
    no per-cell marks. Some flagged: the legend under the energy section, and a
    sentence in the sections that rank by energy (leaderboard, trade-offs) naming
    the configurations whose energy figures are in doubt.
    """
    top = banner(table)
    if top:
        return table.assign(**{MARKED: False, TO_TARGET_MARKED: False}), [
            ("energy", "warning", top),
            *[(s, "warning", "Every energy figure is below its source's floor (see the Energy section): "
               "energy rankings and totals here are indications only.") for s in ("leaderboard", "tradeoffs")],
        ]
    text = legend(table)
    if not text:
        return table, []
    key = "series" if "series" in table.columns else "case_label"
    names = ", ".join(str(v) for v in table.loc[table[TO_TARGET_MARKED], key])
    ranked = (f"Energy figures of {names} are marked {MARK} in the Energy section (below the floor or "
              "shared); rankings and totals that include them inherit the doubt.")
    return table, [("energy", "info", text), ("leaderboard", "info", ranked), ("tradeoffs", "info", ranked)]


def annotate_rows(cases: pd.DataFrame) -> pd.DataFrame:
    """:func:`annotate` for raw case rows (one per case x repeat): the shared flag from
    ``benchmark_cpu_share`` as the energy table computes it."""
    from harness.analysis.energy import shared_flag  # energy imports this module

    share = cases["benchmark_cpu_share"] if "benchmark_cpu_share" in cases.columns else [None] * len(cases)
    src = cases["cpu_energy_source"] if "cpu_energy_source" in cases.columns else [""] * len(cases)
    flags = [shared_flag(s, c) for s, c in zip(share, src, strict=True)]
    return annotate(cases.assign(energy_flag=flags))


def row_reasons(row: Mapping[str, Any]) -> str:
    """:func:`reasons` of one case row given as a mapping (TensorBoard's descriptions, exports)."""
    from harness.analysis.energy import shared_flag  # energy imports this module

    def num(key: str) -> float:
        try:
            return float(row.get(key))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return float("nan")

    src = str(row.get("cpu_energy_source") or "")
    share = row.get("benchmark_cpu_share")
    return reasons(row.get("energy_window_flag"), shared_flag(share, src), num("energy_window_s"),
                   num("time_to_target_s"), src)
