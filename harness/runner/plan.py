"""From a suite to an ordered list of tasks (case x repeat): filters, shards, time limits, worker keys."""

from __future__ import annotations

from dataclasses import dataclass

from harness.case_filters import parse_filters, selected
from harness.components.devices import DeviceConfig, device_config
from harness.components.strategies import replicas_needed
from harness.errors import UsageError
from harness.suite import KNOWN_DATASET_SIZES, Case

# pessimistic examples/s per engine on a small CPU, for default time limits only
_RATE_GUESS = {"fast": 30_000, "keras_fit": 10_000, "eager": 3_000}
BASE_LIMIT_S = 300.0


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
    try:
        i, n = (int(x) for x in shard.split("/"))
    except ValueError:
        raise UsageError("--shard", shard, "expected I/N with 1 <= I <= N, e.g. 2/4") from None
    if not 1 <= i <= n:
        raise UsageError("--shard", shard, "expected I/N with 1 <= I <= N, e.g. 2/4")
    return i, n


def make_tasks(cases: list[Case], *, filters: list[str] | None = None, shard: str | None = None,
               repeats: int | None = None) -> list[Task]:
    """Tasks grouped by worker configuration, repeats interleaved (all cases once, then again)."""
    flt = parse_filters(filters)
    sh = parse_shard(shard)
    chosen = [c for i, c in enumerate(cases) if selected(c, flt) and (sh is None or i % sh[1] == sh[0] - 1)]
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
    n = case.dataset["params"].get("n_train") or KNOWN_DATASET_SIZES.get(case.dataset["name"], 60000)
    guess = n * case.epochs / _RATE_GUESS.get(case.engine, 3_000)
    return BASE_LIMIT_S + 10 * guess
