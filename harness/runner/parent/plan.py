"""From a suite to an ordered list of tasks (case x repeat): filters, shards, time limits, worker keys."""

from __future__ import annotations

from dataclasses import dataclass

from harness.components.datasets import train_size
from harness.components.devices import DeviceConfig, device_config
from harness.components.strategies import replicas_needed
from harness.run_meta import RunMeta, ShardRecord
from harness.runner.parent.estimate import Estimator
from harness.runner.parent.shards import Assignment, ShardSpec, assign, parse_shard_text
from harness.suite import Case, parse_suite
from harness.suite.filters import parse_filters, selected

# pessimistic examples/s per engine on a small CPU, for default time limits only
_RATE_GUESS = {"fast": 30_000, "keras_fit": 10_000, "eager": 3_000}
BASE_LIMIT_S = 300.0
DEFAULT_TRAIN_GUESS = 60000  # examples, for datasets whose size is known only once loaded


@dataclass(frozen=True)
class Task:
    case: Case
    repeat: int

    @property
    def key(self) -> str:
        return f"{self.case.case_id}-{self.repeat}"


def parse_shard(shard: str | None) -> tuple[int, int] | None:
    if not shard:
        return None
    spec = parse_shard_text(shard)
    return spec.index, spec.count


def shard_assignment(cases: list[Case], count: int, *, repeats: int | None = None,
                     estimator: Estimator | None = None) -> Assignment:
    """The balanced assignment of ``cases`` (already filtered) to ``count`` shards (see runner.parent.shards)."""
    est = estimator or Estimator()
    cost = {c.case_id: (repeats or c.repeats) * est.per_run_s(c) for c in cases}
    return assign(cases, count, cost)


def shard_record(cases: list[Case], spec: ShardSpec, *, filters: list[str] | None = None,
                 repeats: int | None = None, estimator: Estimator | None = None) -> ShardRecord:
    """What a shard's run.json says about its shard: index, count, source, assignment hash, its cases."""
    flt = parse_filters(filters)
    est = estimator or Estimator()
    chosen = [c for c in cases if selected(c, flt)]
    a = shard_assignment(chosen, spec.count, repeats=repeats, estimator=est)
    return ShardRecord(index=spec.index, count=spec.count, text=spec.text, source=spec.source,
                       variables=dict(spec.variables), assignment_sha256=a.sha256, balance=est.source,
                       estimated_s=a.loads[spec.index - 1], estimated_loads_s=list(a.loads),
                       case_ids=sorted(a.cases_of(spec.index)))


def make_tasks(cases: list[Case], *, filters: list[str] | None = None, shard: str | None = None,
               repeats: int | None = None, estimator: Estimator | None = None,
               only: set[str] | None = None) -> list[Task]:
    """Tasks grouped by worker configuration, repeats interleaved (all cases once, then again).

    ``shard`` ("I/N") keeps the cases the balanced assignment gives shard I;
    ``only`` keeps the cases with these ids (a resumed shard's recorded share).
    """
    flt = parse_filters(filters)
    chosen = [c for c in cases if selected(c, flt) and (only is None or c.case_id in only)]
    sh = parse_shard(shard)
    if sh is not None:
        mine = shard_assignment(chosen, sh[1], repeats=repeats, estimator=estimator).cases_of(sh[0])
        chosen = [c for c in chosen if c.case_id in mine]
    groups: dict[DeviceConfig, list[Case]] = {}
    for c in chosen:
        groups.setdefault(worker_key(c), []).append(c)
    tasks = []
    for group in groups.values():
        most = max((repeats or c.repeats) for c in group)
        for r in range(most):
            tasks += [Task(c, r) for c in group if r < (repeats or c.repeats)]
    return tasks


def worker_key(case: Case) -> DeviceConfig:
    return device_config(case.device, replicas_needed(case.strategy))


def time_limit_s(case: Case, override: float | None = None) -> float:
    """The case's limit: command line, then suite, then a default from the case's size."""
    if override:
        return override
    if case.time_limit_s:
        return case.time_limit_s
    n = train_size(case.dataset.name, case.dataset.params) or DEFAULT_TRAIN_GUESS
    guess = n * case.epochs / _RATE_GUESS.get(case.engine, 3_000)
    return BASE_LIMIT_S + 10 * guess


def expected_tasks(meta: RunMeta) -> list[tuple[str, str]]:
    """(case_id-repeat, label) of every task of the unsharded plan a shard's run.json was cut from."""
    suite = parse_suite(meta.suite.text, meta.suite.path or "<suite>")
    tasks = make_tasks(suite.cases, filters=meta.options.filters or [], repeats=meta.options.repeats)
    return [(t.key, t.case.label) for t in tasks]
