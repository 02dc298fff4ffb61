"""regression/power.py: the documented defaults of the simulated detection estimate (issue 30)."""

from __future__ import annotations

from harness.regression import power


def test_detection_estimate_defaults_are_cv_5_percent_and_200_builds():
    """+10 % on one case, 5 repeats, CV 5 % (seed 7): 68 of the 200 simulated builds fail (0.34).
    A share of 200 builds is a multiple of 1/200 (201 builds would give 68/201 = 0.3383); at a CV of
    105 % it would be 0.05. ~0.5 s: two 200-build simulations."""
    share = power.detection_estimate(1, 5, 0.05, 0.05)
    assert share == power.detection_estimate(1, 5, 0.05, 0.05, cv=0.05, builds=200)
    assert share == 0.34 and round(share * 200) == 68
