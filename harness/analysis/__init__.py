"""Analysis: pandas aggregates and comparisons of loaded runs. Writes no files, imports no TensorFlow.

Every function takes the combined tables of :func:`combine` (``cases``,
``epochs``, ``samples`` with a ``machine`` column) and returns a DataFrame whose
column units :func:`unit` tells.
"""

from __future__ import annotations

from harness.analysis.curves import learning_curves, learning_rates
from harness.analysis.energy import (
    EnergyFactors,
    energy_sources,
    energy_table,
    power_series,
    power_summary,
    with_carbon,
)
from harness.analysis.frames import combine, config_keys, is_estimated, unit
from harness.analysis.leaderboard import leaderboard, time_to_target
from harness.analysis.perf_profile import performance_profile, performance_ratios
from harness.analysis.status import problems, status_summary
from harness.analysis.throughput import parse_baseline, strategy_scaling, throughput

__all__ = [
    "EnergyFactors",
    "combine",
    "config_keys",
    "energy_sources",
    "energy_table",
    "is_estimated",
    "leaderboard",
    "learning_curves",
    "learning_rates",
    "parse_baseline",
    "performance_profile",
    "performance_ratios",
    "power_series",
    "power_summary",
    "problems",
    "status_summary",
    "strategy_scaling",
    "throughput",
    "time_to_target",
    "unit",
    "with_carbon",
]
