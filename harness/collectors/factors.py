"""Report-time conversion factors: carbon intensity, PUE, electricity price.

These turn measured joules into facility energy, gCO2e and money *when a report
is rendered*; they are never written into the raw result columns, so the same
run can be re-reported with other factors.

Defaults (override per report, or with the environment variables below):

* ``carbon_g_per_kwh = 475``: world-average grid intensity (IEA, 2019) as used
  by common ML carbon tools; a local grid ranges from ~20 (hydro/nuclear) to
  ~800 (coal).
* ``pue = 1.0``: a machine on a desk or a bare node (no facility overhead);
  use ~1.1 for a hyperscale data centre, ~1.5-1.6 for an average one.
* ``price_per_kwh = 0.15`` in ``currency = "USD"``: a round retail figure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from harness.errors import ConfigError

J_PER_KWH = 3.6e6
ENV_PREFIX = "HARNESS_"  # HARNESS_CARBON_G_PER_KWH, HARNESS_PUE, HARNESS_PRICE_PER_KWH, HARNESS_CURRENCY


@dataclass(frozen=True)
class Factors:
    carbon_g_per_kwh: float = 475.0
    pue: float = 1.0
    price_per_kwh: float = 0.15
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not self.carbon_g_per_kwh >= 0:
            raise ConfigError(f"carbon_g_per_kwh must be >= 0. Received: carbon_g_per_kwh={self.carbon_g_per_kwh}")
        if not self.pue >= 1.0:
            raise ConfigError(f"pue must be >= 1. Received: pue={self.pue}")
        if not self.price_per_kwh >= 0:
            raise ConfigError(f"price_per_kwh must be >= 0. Received: price_per_kwh={self.price_per_kwh}")


def resolve(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Factors:
    """Defaults, then ``HARNESS_<NAME>`` environment variables, then ``overrides``."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Factors):
        raw = environ.get(ENV_PREFIX + f.name.upper())
        if raw is not None:
            values[f.name] = raw if f.name == "currency" else _number(f.name, raw)
    for key, value in (overrides or {}).items():
        if key not in {f.name for f in fields(Factors)}:
            raise ConfigError(f"unknown factor {key!r}; known: {[f.name for f in fields(Factors)]}")
        values[key] = value if key == "currency" else _number(key, value)
    return replace(Factors(), **values)


def _number(name: str, raw: Any) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number. Received: {name}={raw!r}") from None


def convert(energy_j: Any, factors: Factors) -> dict[str, Any]:
    """Facility kWh, gCO2e and cost of ``energy_j`` (a float or a pandas Series; NaN stays NaN)."""
    kwh = energy_j * factors.pue / J_PER_KWH
    return {
        "facility_energy_kwh": kwh,
        "carbon_g": kwh * factors.carbon_g_per_kwh,
        "cost": kwh * factors.price_per_kwh,
        "currency": factors.currency,
    }


def describe(factors: Factors) -> str:
    """One line for report footers."""
    return (f"carbon {factors.carbon_g_per_kwh:g} gCO2e/kWh, PUE {factors.pue:g}, "
            f"{factors.price_per_kwh:g} {factors.currency}/kWh")


__all__ = ["Factors", "resolve", "convert", "describe", "J_PER_KWH"]
