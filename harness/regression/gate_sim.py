"""Operating characteristics of the gate, by simulation with the real decision code.

One simulated *build* is what ``harness compare`` does for a suite: every case's
primary metric (examples/s, higher is better) compared between a baseline and a
current side of ``repeats`` repeats each, decided as one family by
:func:`harness.regression.decide.decide_family`; the build fails when any case is
a regression. Noise is log-normal with the given coefficient of variation; a
planted change multiplies the *time* of the chosen cases (+10 % = 10 % slower,
so examples/s / 1.10).

Used by ``scripts/gate_characteristics.py`` (the table in docs/regression.md)
and by the test suite (a fast version). Writes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.regression.decide import REGRESSION, Item, Settings, decide_family

SCENARIOS = {  # name -> (slowdown of case 0, slowdown of every other case)
    "A/A": (1.0, 1.0),
    "+10 % one case": (1.10, 1.0),
    "+15 % one case": (1.15, 1.0),
    "+3 % every case": (1.03, 1.03),
}


@dataclass(frozen=True)
class Design:
    """What a build looks like: cases gated, repeats a side, minimum effect, alpha."""

    cases: int
    repeats: int
    threshold: float = 0.05
    alpha: float = 0.05


def _sample(rng: np.random.Generator, n: int, cv: float, slowdown: float) -> np.ndarray:
    sigma = math.sqrt(math.log1p(cv * cv))  # log-normal whose CV is exactly cv
    return 1000.0 / (slowdown * np.exp(rng.normal(0.0, sigma, n)))  # examples/s


def failed_builds(design: Design, cv: float, scenario: str, builds: int, seed: int = 0) -> float:
    """Fraction of ``builds`` simulated builds the gate fails (any regression)."""
    first, others = SCENARIOS[scenario]
    rng = np.random.default_rng(seed)
    settings = Settings(alpha=design.alpha)
    failed = 0
    for _ in range(builds):
        items = [
            Item(_sample(rng, design.repeats, cv, 1.0),
                 _sample(rng, design.repeats, cv, first if i == 0 else others),
                 higher_is_better=True, threshold=design.threshold)
            for i in range(design.cases)
        ]  # fmt: skip
        failed += any(d.verdict == REGRESSION for d in decide_family(items, settings))
    return failed / builds


def characteristics(design: Design, cvs: tuple[float, ...], builds: int, seed: int = 0) -> pd.DataFrame:
    """One row per CV: the fraction of failed builds under each scenario."""
    rows = []
    for i, cv in enumerate(cvs):
        row: dict[str, object] = {"cases": design.cases, "repeats": design.repeats, "cv": cv, "builds": builds}
        for j, name in enumerate(SCENARIOS):
            row[name] = failed_builds(design, cv, name, builds, seed=seed + 100 * i + j)
        rows.append(row)
    return pd.DataFrame(rows)


def markdown_table(df: pd.DataFrame) -> str:
    """The docs' table: failed builds in per cent per scenario."""
    head = ["cases", "repeats a side", "CV", *(f"{s}: builds failed" for s in SCENARIOS), "builds simulated"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in df.iterrows():
        cells = [str(int(r["cases"])), str(int(r["repeats"])), f"{r['cv']:.0%}"]
        cells += [f"{100 * r[s]:.1f} %" for s in SCENARIOS] + [str(int(r["builds"]))]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("<sub>Log-normal noise, 5 % minimum effect, alpha 0.05 per build (Holm over the cases' "
                 "primary metric), every build decided by `decide_family`.</sub>")
    return "\n".join(lines) + "\n"
