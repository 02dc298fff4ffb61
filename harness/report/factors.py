"""The report-time energy factors of a set of runs: carbon by region, PUE, price.

One function for ``harness report``, ``harness energy`` and ``harness run
--report``, so that every command picks the grid intensity the same way
(:func:`harness.carbon.resolve`) and names a bad flag the same way (exit 2).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence

from harness import carbon
from harness.analysis.energy import EnergyFactors
from harness.errors import ConfigError
from harness.results.store import Run


def suite_region(text: str) -> str:
    """The ``[suite] region`` of a suite's text ('' when it names none or does not parse)."""
    try:
        region = tomllib.loads(text or "").get("suite", {}).get("region", "")
    except tomllib.TOMLDecodeError:
        return ""
    return region if isinstance(region, str) else ""


def report_factors(
    runs: Sequence[Run],
    region: str | None = None,
    intensity: float | None = None,
    pue: float = 1.0,
    price: float | None = None,
    currency: str | None = None,
) -> EnergyFactors:
    """The factors of a report over ``runs``: ``intensity`` (``--carbon-intensity``) over
    ``region`` (``--region``) over the runs' suites' ``region`` over the world average."""
    if not (math.isfinite(pue) and pue >= 1):
        raise ConfigError(f"--pue must be a number >= 1 (1: energy at the machine). Received: --pue={pue}")
    default = EnergyFactors()
    if price is not None and not (math.isfinite(price) and price >= 0):
        raise ConfigError(f"--price must be a number >= 0 per kWh. Received: --price={price}")
    regions = tuple(suite_region(run.meta.suite.text) for run in runs)
    grid, notes = carbon.resolve(region, intensity, regions)
    return EnergyFactors(
        grid.g_co2e_per_kwh, pue,
        default.price_per_kwh if price is None else price,
        currency or default.currency,
        carbon_label=grid.label(),
        carbon_notes=tuple(notes),
    )
