"""Plausibility of one step of a cumulative energy counter (RAPL's µJ, NVML's mJ): pure functions.

A counter is read at times t0 < t1 and gives ``prev`` then ``raw`` (counter
units). Between two readings the device drew at most ``max_w`` watts, so the
counter can have advanced by at most ``budget_units(elapsed_s, max_w, ...)``.
:func:`classify_step` says what the step was:

* ``ok``: ``0 <= raw - prev <= budget`` (and one extra wrap would not also fit);
* ``wrap``: ``raw < prev`` and ``raw - prev + range`` fits the budget: the
  counter went once around its range (one wrap, never two: two would be ``ambiguous``);
* ``reset``: ``raw < prev`` and the wrapped delta does not fit (or the counter
  has no known range, e.g. NVML's): the counter restarted, the energy before
  the restart is unknown;
* ``jump``: a forward step larger than the budget;
* ``ambiguous``: the readings are so far apart that one more wrap would also fit
  the budget: the energy is ``delta`` or ``delta + range``, nobody can tell.

Only ``ok`` and ``wrap`` give a figure; the others are faults whose message
:func:`describe_fault` writes. No I/O, no state: issue 30's mutation tests
exercise these directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

OK, WRAP, RESET, JUMP, AMBIGUOUS = "ok", "wrap", "reset", "jump", "ambiguous"
FAULTS = (RESET, JUMP, AMBIGUOUS)


@dataclass(frozen=True)
class Step:
    """One classified step; every amount in counter units."""

    kind: str  # ok, wrap, reset, jump or ambiguous
    delta: float  # added by this step (wrap-corrected); NaN when kind is a fault
    raw_delta: float  # raw - prev (negative for a wrap or a reset)
    wrapped_delta: float  # raw - prev + range: what one wrap would mean; NaN without a range
    budget: float  # the most the counter could plausibly have advanced

    @property
    def fault(self) -> bool:
        return self.kind in FAULTS


def budget_units(elapsed_s: float, max_w: float, joules_per_unit: float, slack_s: float) -> float:
    """Most a counter can advance in ``elapsed_s`` seconds at ``max_w`` watts, in counter units.

    ``slack_s`` (s) covers the counter's own update period and the jitter of the
    read timestamps: two reads microseconds apart may still straddle one counter
    update. A negative ``elapsed_s`` (clock trouble) counts as 0.
    """
    return max_w * (max(elapsed_s, 0.0) + slack_s) / joules_per_unit


def classify_step(prev: float, raw: float, range_units: float | None, elapsed_s: float, max_w: float,
                  joules_per_unit: float, slack_s: float) -> Step:
    """Classify the counter step ``prev -> raw`` (counter units) over ``elapsed_s`` seconds.

    ``range_units``: the value at which the counter wraps to 0 (None or 0: unknown
    or never wraps, so any drop is a reset). ``max_w`` (W): the zone's plausible
    maximum power. ``joules_per_unit``: 1e-6 for µJ, 1e-3 for mJ. ``slack_s``: see
    :func:`budget_units`.
    """
    budget = budget_units(elapsed_s, max_w, joules_per_unit, slack_s)
    d = raw - prev
    wrapped = d + range_units if range_units else math.nan
    if d >= 0:
        kind = JUMP if d > budget else AMBIGUOUS if range_units and d + range_units <= budget else OK
        return Step(kind, d if kind == OK else math.nan, d, wrapped, budget)
    if not range_units or wrapped > budget:
        return Step(RESET, math.nan, d, wrapped, budget)
    if wrapped + range_units <= budget:
        return Step(AMBIGUOUS, math.nan, d, wrapped, budget)
    return Step(WRAP, wrapped, d, wrapped, budget)


def describe_fault(step: Step, t_s: float, elapsed_s: float, prev: float, raw: float,
                   joules_per_unit: float, max_w: float, unit: str) -> str:
    """The reason recorded for a fault step ('' for ok/wrap); ``t_s``: seconds since the session started."""
    j = joules_per_unit
    at = f"at t = {t_s:.3f} s"
    seen = f"read {raw:.0f} {unit} after {prev:.0f} {unit}, {max(elapsed_s, 0.0):.3g} s earlier"
    if step.kind == RESET:
        if math.isnan(step.wrapped_delta):
            why = "it went backwards and has no range to wrap around"
        else:
            why = f"a wrap would mean {_watts(step.wrapped_delta * j, elapsed_s):.3g} W, above the plausible {max_w:g} W"
        return f"counter reset {at} ({seen}; {why}): the energy across the reset is unknown"
    if step.kind == JUMP:
        return (f"counter jumped {at} ({seen}: {step.raw_delta * j:.3g} J = "
                f"{_watts(step.raw_delta * j, elapsed_s):.3g} W, above the plausible {max_w:g} W): not a measurement")
    if step.kind == AMBIGUOUS:
        return (f"readings too far apart {at} ({seen}): at up to {max_w:g} W the counter could have wrapped "
                "more than once, so the energy in between is ambiguous")
    return ""


def _watts(joules: float, elapsed_s: float) -> float:
    """Mean power (W) of ``joules`` over ``elapsed_s`` (inf when no time passed)."""
    return joules / elapsed_s if elapsed_s > 0 else math.inf
