"""Analysis: pandas aggregates and comparisons of loaded runs. Writes no files, imports no TensorFlow.

Every function takes the combined tables of :func:`combine` (``cases``,
``epochs``, ``samples`` with a ``machine`` column) and returns a DataFrame whose
column units :func:`unit` tells.
"""

from __future__ import annotations

from harness.analysis.composition import composition_warnings
from harness.analysis.curves import learning_curves, learning_rates
from harness.analysis.energy import (
    EnergyFactors,
    energy_sources,
    energy_table,
    power_series,
    power_summary,
    with_carbon,
)
from harness.analysis.frames import combine, config_keys, is_estimated, machine_label, unit
from harness.analysis.labels import labelled
from harness.analysis.leaderboard import leaderboard, single_repeat_warning, time_to_target
from harness.analysis.perf_profile import (
    performance_profile,
    performance_ratios,
    profile_notes,
    profile_scores,
)
from harness.analysis.scaling import strategy_scaling
from harness.analysis.status import problems, status_summary
from harness.analysis.throughput import baseline_statement, parse_baseline, throughput
from harness.analysis.tradeoffs import lr_sensitivity, tradeoffs

__all__ = [
    "EnergyFactors",
    "baseline_statement",
    "combine",
    "composition_warnings",
    "config_keys",
    "energy_sources",
    "energy_table",
    "is_estimated",
    "labelled",
    "leaderboard",
    "learning_curves",
    "learning_rates",
    "lr_sensitivity",
    "machine_label",
    "parse_baseline",
    "performance_profile",
    "performance_ratios",
    "profile_notes",
    "profile_scores",
    "power_series",
    "power_summary",
    "problems",
    "single_repeat_warning",
    "status_summary",
    "strategy_scaling",
    "throughput",
    "time_to_target",
    "tradeoffs",
    "unit",
    "with_carbon",
]
