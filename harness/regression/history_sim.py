"""Operating characteristics of ``harness history``, by simulation with the real judging code.

One simulated *history* is what ``harness history`` does for a suite: ``series``
cases, each a run-by-run series of ``runs`` per-run values (``repeats`` log-normal
repeats a run, the per-run median is what the history sees), judged by
:func:`harness.regression.history.judge` (PELT proposes, the decision of
``compare`` judges, every step of every series one family). A scenario plants
steps in the *time* of every case (+5 % = 5 % slower, so examples/s / 1.05) at
given shares of the runs (run 10 of 20 for a single step).

What is counted per history:

* ``false regression``: a regression change point although no true step
  exceeds the threshold there (no true step > delta within one run of it): for
  no change and a step of exactly +delta, any regression; with real steps, a
  real change placed more than one run away from where it happened;
* ``detected``: every planted step larger than the threshold found as a change
  point of the right direction within one run of its position, in every case.

Used by ``scripts/history_characteristics.py`` (the table in docs/regression.md)
and by the test suite (a fast version). Writes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.regression.decide import IMPROVEMENT, REGRESSION, Settings
from harness.regression.history import RunInfo, Series, judge

DELTA = 0.05
SCENARIOS: dict[str, tuple[tuple[float, float], ...]] = {  # name -> ((where, as a share of the runs, slowdown), ...)
    "no change": (),
    "step of +δ": ((0.5, 1 + DELTA),),
    "step of +2δ": ((0.5, (1 + DELTA) ** 2),),
    "steps +2δ, +2δ, −2δ": ((0.25, (1 + DELTA) ** 2), (0.5, (1 + DELTA) ** 2), (0.75, (1 + DELTA) ** -2)),
}


@dataclass(frozen=True)
class HistoryDesign:
    """What a history looks like: cases (series), runs, repeats a run, minimum effect, alpha."""

    series: int = 2
    runs: int = 20
    repeats: int = 1
    threshold: float = DELTA
    alpha: float = 0.05


def planted(scenario: str, runs: int) -> list[tuple[int, float]]:
    """(first run after the step, slowdown) of every step the scenario plants in ``runs`` runs."""
    return [(int(round(share * runs)), factor) for share, factor in SCENARIOS[scenario]]


def _slowdowns(steps: list[tuple[int, float]], runs: int) -> np.ndarray:
    slow = np.ones(runs)
    for at, factor in steps:
        slow[at:] *= factor
    return slow


def simulate(design: HistoryDesign, cv: float, scenario: str, rng: np.random.Generator) -> pd.DataFrame:
    """One history judged: the steps table of :func:`judge` (kept steps only)."""
    sigma = math.sqrt(math.log1p(cv * cv))  # log-normal whose CV is exactly cv
    slow = _slowdowns(planted(scenario, design.runs), design.runs)
    runs = [RunInfo(f"run-{i:03d}", f"{i:040x}", f"{i:05d}") for i in range(design.runs)]
    series = []
    for c in range(design.series):
        values = [1000.0 / (s * np.exp(rng.normal(0.0, sigma, design.repeats))) for s in slow]
        series.append(Series(f"c{c}", f"case{c}", "samples_per_s", True, design.threshold,
                             list(range(design.runs)), values))  # fmt: skip
    steps = judge(series, runs, Settings(alpha=design.alpha, min_repeats=2))
    return steps[steps["kept"]] if len(steps) else steps


def _outcome(steps: pd.DataFrame, design: HistoryDesign, scenario: str) -> tuple[bool, bool]:
    """(a false regression, every step beyond the threshold detected) for one history."""
    big = [(at, f) for at, f in planted(scenario, design.runs) if abs(math.log(f)) > math.log1p(design.threshold) + 1e-12]
    cps = steps[steps["verdict"].isin([REGRESSION, IMPROVEMENT])] if len(steps) else steps
    regressions = cps[cps["verdict"] == REGRESSION] if len(cps) else cps
    real = {at for at, f in big if f > 1}  # slower: a regression of examples/s
    false = any(min((abs(p - at) for at in real), default=99) > 1 for p in regressions.get("position", []))
    found = all(
        any(abs(r.position - at) <= 1 and r.verdict == (REGRESSION if f > 1 else IMPROVEMENT)
            for r in cps[cps["case_id"] == f"c{c}"].itertuples())
        for at, f in big for c in range(design.series)
    ) if big else False  # fmt: skip
    return false, found


def rates(design: HistoryDesign, cv: float, scenario: str, histories: int, seed: int = 0) -> tuple[float, float]:
    """(share of histories with a false regression, share with every planted step > delta detected)."""
    rng = np.random.default_rng(seed)
    false = found = 0
    for _ in range(histories):
        f, d = _outcome(simulate(design, cv, scenario, rng), design, scenario)
        false += f
        found += d
    return false / histories, found / histories


def characteristics(design: HistoryDesign, cvs: tuple[float, ...], histories: int, seed: int = 0) -> pd.DataFrame:
    """One row per CV and scenario."""
    rows = []
    for i, cv in enumerate(cvs):
        for j, name in enumerate(SCENARIOS):
            false, found = rates(design, cv, name, histories, seed=seed + 100 * i + j)
            rows.append({"series": design.series, "runs": design.runs, "repeats": design.repeats, "cv": cv,
                         "scenario": name, "false_regression": false, "detected": found,
                         "histories": histories})  # fmt: skip
    return pd.DataFrame(rows)


def markdown_table(df: pd.DataFrame) -> str:
    """The docs' table: per cent of histories with a false regression, with every real step found."""
    head = ["cases", "runs", "repeats a run", "CV", "scenario", "regression not at a step > δ (±1 run)",
            "every step > δ found", "histories"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in df.iterrows():
        found = "—" if r["scenario"] in ("no change", "step of +δ") else f"{100 * r['detected']:.1f} %"
        cells = [str(int(r["series"])), str(int(r["runs"])), str(int(r["repeats"])), f"{r['cv']:.0%}",
                 r["scenario"], f"{100 * r['false_regression']:.1f} %", found, str(int(r["histories"]))]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("<sub>Log-normal noise, minimum effect δ = 5 %, alpha 0.05 per history (every step of every "
                 "series one Holm family), steps planted at the middle run (single) or at a quarter, half and three quarters of the runs, every history judged "
                 "by `harness.regression.history.judge`.</sub>")
    return "\n".join(lines) + "\n"
