"""The size guard: a plan beyond 100,000 runs or a day of estimated time stops before it starts.

The count comes from the matrix before expansion (:mod:`harness.suite.size`),
so a million-case suite is refused in milliseconds, with the count, an
estimate and the ways to proceed: ``--yes`` (then expansion stays linear),
``--shard`` (split it over machines) or ``--filter`` (run a part of it).
"""

from __future__ import annotations

from harness.errors import HarnessError
from harness.runner.parent.estimate import Estimator, format_duration, plan_estimate_s
from harness.runner.parent.plan import Task, parse_filters
from harness.suite import SuiteSpec
from harness.suite.size import plan_size, restrict, sample_cases

MAX_RUNS = 100_000
MAX_SECONDS = 86_400.0


class PlanTooLarge(HarnessError):
    """The plan exceeds the guard's limits and was not confirmed (exit 2)."""


def check_spec(spec: SuiteSpec, filters: list[str], repeats: int | None, shards: int = 1) -> None:
    """Refuse, before expansion, a plan whose share for this machine exceeds :data:`MAX_RUNS`."""
    size = plan_size(restrict(spec, parse_filters(filters)), repeats)
    if size.runs / shards <= MAX_RUNS:
        return
    sample = sample_cases(spec)
    per_run = sum(map(plan_estimate_s, sample)) / len(sample) if sample else float("nan")
    est = f"~{format_duration(per_run * size.runs)} (plan estimate from {len(sample):,} sampled cases)"
    raise PlanTooLarge(_message(spec.path, size.cases, size.runs, est, shards))


def check_tasks(path: str, tasks: list[Task], est: Estimator, shards: int = 1) -> None:
    """Refuse a plan (this machine's share of it) estimated to take more than :data:`MAX_SECONDS`."""
    cases = {t.case.case_id: t.case for t in tasks}
    per_case = {cid: est.per_run_s(c) for cid, c in cases.items()}
    total = sum(per_case[t.case.case_id] for t in tasks)
    if total <= MAX_SECONDS:
        return
    detail = f"~{format_duration(total)} ({est.describe(cases.values())})"
    raise PlanTooLarge(_message(path, len(cases), len(tasks), detail, shards))


def _message(path: str, cases: int, runs: int, estimate: str, shards: int) -> str:
    share = f" for this shard (1 of {shards})" if shards > 1 else ""
    return (f"{path}: the plan is too large to start unconfirmed{share}: {cases:,} case(s), {runs:,} run(s), "
            f"estimated {estimate}; the limits are {MAX_RUNS:,} runs and "
            f"{format_duration(MAX_SECONDS)} per machine. To proceed: --yes to run it anyway; "
            "--shard I/N or --shard auto to split it across machines (docs/distributed.md); "
            "--filter AXIS=VALUE to run a part of it. `--dry-run --yes` shows the plan by axis.")
