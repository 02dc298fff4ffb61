"""How long a case will take: a labelled plan estimate, or a previous run's measured durations.

The plan estimate is a rough model of one run of a case on a small CPU (the
2-core machines of README's speed table, rounded down): per engine a rate in
examples/s and a fixed cost per update, a set-up and compile time, the test
set evaluated every epoch, extra start-up for multi-process strategies, and the
runner's own overhead. It is an *estimate*, labelled as such wherever it is
printed; ``--balance-from RUN`` replaces it with what RUN measured for each
case (``wall_s + overhead_s``, median over its repeats), scaling the plan
estimate of the cases RUN lacks by the median measured/estimated ratio.
No TensorFlow here.
"""

from __future__ import annotations

import functools
import logging
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.components import catalog, datasets, strategies
from harness.suite import Case

log = logging.getLogger(__name__)

RATE = {"fast": 150_000.0, "keras_fit": 50_000.0, "eager": 6_000.0}  # examples/s, large batches
STEP_S = {"fast": 0.00005, "keras_fit": 0.0005, "eager": 0.003}  # fixed cost per update
SETUP_S = {"fast": 3.0, "keras_fit": 3.0, "eager": 1.0}  # data, model, tracing and XLA compile
CLUSTER_START_S = 15.0  # processes importing TensorFlow for a multi-process case
RUNNER_S = 0.5  # the runner's share per case (IPC, rows, journal)
_TEST_SIZES = {"mnist": 10_000, "mnist-sample": 1_000}


def plan_estimate_s(case: Case) -> float:
    """Estimated seconds for one run of ``case`` (a model, not a measurement; see the module doc)."""
    params = case.dataset.params
    n_train = datasets.train_size(case.dataset.name, params) or 60_000
    n_test = params.get("n_test") or _TEST_SIZES.get(case.dataset.name, 10_000)
    regime = _regime(case.optimizer.name)
    updates = {"full_batch": 1, "single_example": n_train}.get(regime, math.ceil(n_train / case.batch_size))
    rate, step = RATE.get(case.engine, RATE["eager"]), STEP_S.get(case.engine, STEP_S["eager"])
    train = case.epochs * (updates * step + n_train / rate)
    if case.precision != "float32":
        train *= 1.5
    if strategies.replicas_needed(case.strategy) > 1:
        train *= 1.5
    evaluate = case.epochs * n_test / (3 * rate)
    start = CLUSTER_START_S if strategies.is_multi_process(case) else 0.0
    return SETUP_S.get(case.engine, 1.0) + train + evaluate + start + RUNNER_S


@functools.cache
def _regime(optimizer: str) -> str:
    entry = catalog.optimizer_entries().get(optimizer)
    return entry.regime if entry else "minibatch"


@dataclass
class Estimator:
    """Seconds per run of a case: measured where ``measured`` knows it, else the plan estimate × ``scale``."""

    measured: dict[str, float] = field(default_factory=dict)
    scale: float = 1.0
    source: str = "plan estimate"

    def per_run_s(self, case: Case) -> float:
        got = self.measured.get(case.case_id)
        return got if got is not None else plan_estimate_s(case) * self.scale

    def describe(self, cases: Iterable[Case]) -> str:
        """Where the figures come from, for the dry run and the guard's message."""
        if not self.measured:
            return "plan estimate from examples/s and start-up per engine, not a measurement; " \
                   "--balance-from RUN uses a previous run's durations"
        cases = list(cases)
        known = sum(1 for c in cases if c.case_id in self.measured)
        rest = len(cases) - known
        tail = f"; the other {rest} are plan estimates x {self.scale:.2g}" if rest else ""
        return f"durations measured in {self.source} for {known} of {len(cases)} case(s){tail}"


def from_run(path: Path, cases: Iterable[Case]) -> Estimator:
    """An Estimator from a run folder (or a folder of runs): median wall_s + overhead_s per case."""
    from harness.errors import SuiteError
    from harness.results.store import find_runs, load_run

    runs = find_runs(path)
    if not runs:
        raise SuiteError("--balance-from", str(path), "no harness run folder there (no run.json)")
    per_case: dict[str, list[float]] = {}
    for run_dir in runs:
        df = load_run(run_dir).cases
        total = df["wall_s"].astype(float) + df["overhead_s"].astype(float).fillna(0.0)
        for case_id, seconds in zip(df["case_id"], total, strict=True):
            if isinstance(case_id, str) and math.isfinite(seconds) and seconds > 0:
                per_case.setdefault(case_id, []).append(float(seconds))
    measured = {k: statistics.median(v) for k, v in per_case.items()}
    ratios = [measured[c.case_id] / plan_estimate_s(c) for c in cases if c.case_id in measured]
    if not ratios:
        log.warning("--balance-from %s: none of its cases is in this plan; using the plan estimate", path)
    scale = statistics.median(ratios) if ratios else 1.0
    return Estimator(measured, scale, source=str(path))


def format_duration(seconds: float) -> str:
    """``5 h 41 min``, ``3 min 20 s``, ``12 s``; ``2.3 days`` beyond two days."""
    if not math.isfinite(seconds):
        return "unknown"
    if seconds >= 2 * 86_400:
        return f"{seconds / 86_400:,.1f} days"
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.1f} s"
