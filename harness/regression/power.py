"""Can the gate reach a verdict with this design? Checked before a run and in ``compare``.

With ``n`` repeats a side the exact rank-sum test cannot give a p-value below
1 / C(2n, n) (where the normal approximation computes the p, its own floor:
:func:`harness.regression.stats.min_p`, exact rationals, no overflow at any n);
Holm over a family of ``m`` comparisons needs ``m * p < alpha`` for its first
rejection. Below that no regression, however large, can be flagged. This is the
pre-run check (``harness run --interleave-with``); ``compare`` judges each
comparison with the correction in force (:func:`harness.regression.decide.reach`).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.regression import stats
from harness.regression.gate_sim import Design, failed_builds


@dataclass(frozen=True)
class Reachability:
    family: int  # gated comparisons: cases x gated metrics
    repeats: int  # per side
    alpha: float
    min_p: float  # smallest p-value these repeats can give
    needed: int  # repeats a side for a verdict to be reachable at all

    @property
    def reachable(self) -> bool:
        return self.family * self.min_p < self.alpha

    def message(self) -> str:
        head = f"gate: {self.family} gated comparison(s), {self.repeats} repeats a side, alpha {self.alpha:g}"
        if self.reachable:
            return f"{head}: a verdict is reachable (smallest p {self.min_p:.2g})"
        return (f"{head}: CANNOT DECIDE: the smallest possible p is {self.min_p:.2g}, and Holm over "
                f"{self.family} needs < {self.alpha / self.family:.2g}; use >= {self.needed} repeats a side")  # fmt: skip


def reachability(cases: int, metrics_per_case: int, repeats: int, alpha: float = 0.05) -> Reachability:
    family = max(1, cases * metrics_per_case)
    return Reachability(family, repeats, alpha, stats.min_p(repeats, repeats), stats.repeats_needed(family, alpha))


def detection_estimate(cases: int, repeats: int, threshold: float, alpha: float, cv: float = 0.05,
                       builds: int = 200) -> float:  # fmt: skip
    """Simulated share of builds that catch +10 % on one case at this CV (a quick, labelled estimate)."""
    return failed_builds(Design(cases, repeats, threshold, alpha), cv, "+10 % one case", builds, seed=7)
