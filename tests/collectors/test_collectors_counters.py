"""The pure counter arithmetic: classify_step, budget_units, describe_fault, longest_stall."""

from __future__ import annotations

import math

import pytest

from harness.collectors import counters
from harness.collectors.phases import longest_stall

UJ = 1e-6
R32 = 2**32  # µJ


def _step(prev, raw, rng=R32, elapsed=0.1, max_w=500.0, slack=0.01):
    return counters.classify_step(prev, raw, rng, elapsed, max_w, UJ, slack)


def test_budget_is_power_times_elapsed_plus_slack_in_counter_units():
    assert counters.budget_units(0.1, 500.0, UJ, 0.01) == pytest.approx(55e6)  # 55 J in µJ
    assert counters.budget_units(-5.0, 500.0, UJ, 0.01) == pytest.approx(5e6)  # clock trouble: no negative time
    assert counters.budget_units(0.1, 1500.0, 1e-3, 0.1) == pytest.approx(300e3)  # NVML: mJ


@pytest.mark.parametrize(("prev", "raw", "rng", "elapsed", "kind", "delta"), [
    (1_000, 5_001_000, R32, 0.1, "ok", 5_000_000),                # 50 W
    (1_000, 1_000, R32, 0.1, "ok", 0),                            # no change is not a fault here (stalls: phases)
    (1_000, 55_001_000, R32, 0.1, "ok", 55_000_000),              # exactly the budget
    (1_000, 55_001_001, R32, 0.1, "jump", math.nan),              # one µJ over
    (R32 - 1_000_000, 4_000_000, R32, 0.1, "wrap", 5_000_000),    # 1 J before the top, 4 J after
    (3_000_000_000, 1_000, R32, 0.1, "reset", math.nan),          # a wrap would be 1.3 kJ in 0.1 s
    (5_000_000, 1_000, None, 0.1, "reset", math.nan),             # no range: any drop is a reset
    (5_000_000, 1_000, 0, 0.1, "reset", math.nan),                # range 0 counts as none
    (1_000, 2_000, 100_000_000, 1.0, "ambiguous", math.nan),      # 100 J range, 1 s at up to 500 W
    (90_000_000, 1_000, 100_000_000, 1.0, "ambiguous", math.nan), # a drop that could be two wraps
    (90_000_000, 1_000, 100_000_000, 0.1, "wrap", 10_001_000),
])
def test_classify_step(prev, raw, rng, elapsed, kind, delta):
    step = _step(prev, raw, rng, elapsed)
    assert step.kind == kind and step.fault == (kind in counters.FAULTS)
    assert step.delta == delta or (math.isnan(step.delta) and math.isnan(delta))
    assert step.raw_delta == raw - prev


def test_describe_fault_says_when_what_and_why():
    step = _step(3_000_000_000, 1_000)
    text = counters.describe_fault(step, 0.6, 0.1, 3_000_000_000, 1_000, UJ, 500.0, "uJ")
    assert text.startswith("counter reset at t = 0.600 s (read 1000 uJ after 3000000000 uJ, 0.1 s earlier; "
                           "a wrap would mean 1.29e+04 W, above the plausible 500 W)")
    jump = _step(0, 200_000_000)
    assert "counter jumped at t = 1.000 s" in counters.describe_fault(jump, 1.0, 0.1, 0, 200_000_000, UJ, 500.0, "uJ")
    assert "2e+03 W" in counters.describe_fault(jump, 1.0, 0.1, 0, 200_000_000, UJ, 500.0, "uJ")
    back = counters.classify_step(5e6, 1e3, None, 0.1, 1500.0, 1e-3, 0.1)
    assert "went backwards" in counters.describe_fault(back, 2.0, 0.1, 5e6, 1e3, 1e-3, 1500.0, "mJ")
    assert counters.describe_fault(_step(0, 10), 1.0, 0.1, 0, 10, UJ, 500.0, "uJ") == ""


def test_longest_stall():
    assert longest_stall([0.0, 0.1, 0.2, 0.3, 0.4], [1.0, 2.0, 2.0, 2.0, 3.0]) == pytest.approx((0.1, 0.2))
    assert longest_stall([0.0, 0.1, 0.2], [1.0, 2.0, 3.0]) == (pytest.approx(math.nan, nan_ok=True), 0.0)
    nan = math.nan
    assert longest_stall([0.0, 0.1, 0.2, 0.3], [nan, nan, nan, 1.0])[1] == 0.0  # NaN is not a stall
    t, span = longest_stall([0.0, 0.1, 0.2, 0.3, 0.4, 0.5], [1.0, 1.0, 2.0, 3.0, 3.0, 3.0])
    assert (t, span) == pytest.approx((0.3, 0.2))  # the longer of two runs
