"""From a suite to an ordered list of tasks (case x repeat): filters, shards, time limits, worker keys."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from harness.components.devices import DeviceConfig, device_config
from harness.components.strategies import replicas_needed
from harness.errors import SuiteError
from harness.suite import CASE_KEYS, KNOWN_DATASET_SIZES, Case
from harness.suite_keys import suggest

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


def parse_filters(filters: list[str] | None) -> dict[str, set[str]]:
    """``["optimizer=adam,sgd", "engine=fast"]`` -> {axis: accepted values}."""
    out: dict[str, set[str]] = {}
    for f in filters or []:
        key, sep, values = f.partition("=")
        key = key.strip()
        if not sep or not values:
            raise SuiteError("--filter", f, "expected AXIS=VALUE[,VALUE...], e.g. optimizer=adam,sgd")
        if key not in CASE_KEYS:
            raise SuiteError("--filter", key, f"unknown axis; {suggest(key, list(CASE_KEYS))}")
        out.setdefault(key, set()).update(v.strip() for v in values.split(","))
    return out


def selected(case: Case, filters: dict[str, set[str]]) -> bool:
    for key, wanted in filters.items():
        v = getattr(case, key)
        names = {str(v.get("label")), v["name"]} if isinstance(v, dict) else {str(v)}
        if not names & wanted:
            return False
    return True


def parse_shard(shard: str | None) -> tuple[int, int] | None:
    if not shard:
        return None
    try:
        i, n = (int(x) for x in shard.split("/"))
    except ValueError:
        raise SuiteError("--shard", shard, "expected I/N with 1 <= I <= N, e.g. 2/4") from None
    if not 1 <= i <= n:
        raise SuiteError("--shard", shard, "expected I/N with 1 <= I <= N, e.g. 2/4")
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


def validate_cli_options(args: Any) -> None:
    """`harness run`'s options: ranges and conflicts, as SuiteError (exit 2) before anything runs."""
    def positive(flag: str, value: float | None, strict: bool = True) -> None:
        if value is not None and (not math.isfinite(value) or value < 0 or (strict and value == 0)):
            raise SuiteError(flag, str(value), f"must be a finite number {'>' if strict else '>='} 0")

    if args.repeats is not None and args.repeats < 1:
        raise SuiteError("--repeats", str(args.repeats), "must be >= 1")
    positive("--time-limit", args.time_limit)
    positive("--tdp", args.tdp)
    threads = getattr(args, "tdp_threads", None)
    if threads is not None and threads < 1:
        raise SuiteError("--tdp-threads", str(threads), "must be an integer >= 1")
    positive("--idle-baseline", args.idle_baseline, strict=False)
    if args.resume:
        given = [flag for flag, v in (("SUITE", args.suite), ("--filter", args.filter), ("--shard", args.shard),
                                      ("--repeats", args.repeats is not None),
                                      ("--collectors", args.collectors is not None)) if v]
        if given:
            raise SuiteError("--resume", str(args.resume),
                             f"conflicts with {', '.join(given)}: a resumed run keeps its suite and its "
                             "original case selection (only --time-limit may change)")
