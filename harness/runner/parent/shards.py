"""Shards of a plan: which machine runs which cases, from the scheduler's environment, balanced by cost.

``--shard I/N`` names the shard; ``--shard auto`` reads it from the scheduler:

- SLURM job arrays: ``SLURM_ARRAY_TASK_ID`` with ``SLURM_ARRAY_TASK_COUNT``, or
  ``SLURM_ARRAY_TASK_MIN``/``_MAX`` (and ``_STEP`` for ``--array=0-30:2``);
- Kubernetes Indexed Jobs: ``JOB_COMPLETION_INDEX`` (0-based) with the count
  from ``HARNESS_SHARDS`` (the Job's ``completions``, which Kubernetes does not pass);
- anything else (a CI matrix): ``HARNESS_SHARD=I/N`` (1-based).

Cases are assigned whole (all repeats of a case run on one machine, so its
spread is that machine's) by longest processing time first: the costliest case
goes to the least loaded shard, ties to the lowest shard. Cost = runs x seconds
per run from the estimator (a previous run's durations, else the plan
estimate). The assignment is a pure function of the cases, the costs and N,
so every shard computes the same one; its hash goes into each shard's run.json
and ``harness merge`` refuses shards whose hashes differ.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.errors import UsageError
from harness.suite import Case

SLURM_VARS = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
              "SLURM_ARRAY_TASK_STEP")
K8S_VARS = ("JOB_COMPLETION_INDEX", "HARNESS_SHARDS")
CI_VARS = ("HARNESS_SHARD",)


@dataclass(frozen=True)
class ShardSpec:
    """This machine's shard: ``index`` of ``count`` (1-based), and where that came from."""

    index: int
    count: int
    source: str = "cli"  # cli | slurm | kubernetes | harness_shard
    variables: Mapping[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return f"{self.index}/{self.count}"


def _bad(message: str) -> UsageError:
    return UsageError("--shard auto", "", message)


def parse_shard_text(text: str, flag: str = "--shard") -> ShardSpec:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UsageError(flag, text, "expected I/N with 1 <= I <= N, e.g. 2/4") from None
    if not 1 <= i <= n:
        raise UsageError(flag, text, "expected I/N with 1 <= I <= N, e.g. 2/4")
    return ShardSpec(i, n)


def resolve(value: str | None, environ: Mapping[str, str] | None = None) -> ShardSpec | None:
    """``--shard``'s value as a ShardSpec (``auto``: from the scheduler's variables); None if not sharded."""
    if not value:
        return None
    if value.strip().lower() != "auto":
        return parse_shard_text(value)
    env = os.environ if environ is None else environ
    found = [s for s in (_from_harness(env), _from_slurm(env), _from_k8s(env)) if s is not None]
    if not found:
        raise _bad("no scheduler variables found: set SLURM_ARRAY_TASK_ID (a SLURM job array), "
                   "JOB_COMPLETION_INDEX and HARNESS_SHARDS (a Kubernetes Indexed Job) or HARNESS_SHARD=I/N "
                   "(e.g. a CI matrix); or give --shard I/N")
    if len({(s.index, s.count) for s in found}) > 1:
        seen = "; ".join(f"{s.source}: {s.text} from {', '.join(f'{k}={v}' for k, v in s.variables.items())}"
                         for s in found)
        raise _bad(f"the scheduler variables disagree ({seen}); unset the ones that do not apply")
    return found[0]


def _int(env: Mapping[str, str], name: str) -> int:
    raw = env[name]
    try:
        return int(raw)
    except ValueError:
        raise _bad(f"{name}={raw!r} is not an integer") from None


def _from_harness(env: Mapping[str, str]) -> ShardSpec | None:
    if "HARNESS_SHARD" not in env:
        return None
    spec = parse_shard_text(env["HARNESS_SHARD"], "HARNESS_SHARD")
    return ShardSpec(spec.index, spec.count, "harness_shard", {"HARNESS_SHARD": env["HARNESS_SHARD"]})


def _from_slurm(env: Mapping[str, str]) -> ShardSpec | None:
    if "SLURM_ARRAY_TASK_ID" not in env:
        if any(k in env for k in SLURM_VARS[1:4]):
            raise _bad("SLURM_ARRAY_TASK_COUNT/MIN/MAX are set but SLURM_ARRAY_TASK_ID is missing")
        return None
    used = {k: env[k] for k in SLURM_VARS if k in env}
    task = _int(env, "SLURM_ARRAY_TASK_ID")
    step = _int(env, "SLURM_ARRAY_TASK_STEP") if "SLURM_ARRAY_TASK_STEP" in env else 1
    lo = _int(env, "SLURM_ARRAY_TASK_MIN") if "SLURM_ARRAY_TASK_MIN" in env else None
    hi = _int(env, "SLURM_ARRAY_TASK_MAX") if "SLURM_ARRAY_TASK_MAX" in env else None
    count = _int(env, "SLURM_ARRAY_TASK_COUNT") if "SLURM_ARRAY_TASK_COUNT" in env else None
    if count is None and (lo is None or hi is None):
        raise _bad("SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor "
                   "SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_MAX are")
    lo = 0 if lo is None else lo
    if step < 1 or (hi is not None and (hi - lo) % step):
        raise _bad(f"SLURM_ARRAY_TASK_STEP={step} does not fit MIN={lo}, MAX={hi}")
    span = None if hi is None else (hi - lo) // step + 1
    if count is not None and span is not None and count != span:
        raise _bad(f"SLURM_ARRAY_TASK_COUNT={count} but MIN..MAX ({lo}..{hi}, step {step}) holds {span} "
                   "tasks: the array is not a contiguous range; submit --array=0-(N-1)")
    count = count if count is not None else span
    if (task - lo) % step or not 0 <= (task - lo) // step < count:
        raise _bad(f"SLURM_ARRAY_TASK_ID={task} is outside the array (MIN={lo}, step {step}, {count} tasks)")
    return ShardSpec((task - lo) // step + 1, count, "slurm", used)


def _from_k8s(env: Mapping[str, str]) -> ShardSpec | None:
    if "JOB_COMPLETION_INDEX" not in env:
        return None
    if "HARNESS_SHARDS" not in env:
        raise _bad("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but HARNESS_SHARDS is missing: "
                   "set it to the Job's completions")
    index, count = _int(env, "JOB_COMPLETION_INDEX"), _int(env, "HARNESS_SHARDS")
    if count < 1 or not 0 <= index < count:
        raise _bad(f"JOB_COMPLETION_INDEX={index} is outside 0..HARNESS_SHARDS-1 (HARNESS_SHARDS={count})")
    return ShardSpec(index + 1, count, "kubernetes", {k: env[k] for k in K8S_VARS})


# ------------------------------------------------------------------ assignment
@dataclass(frozen=True)
class Assignment:
    """Which shard (1-based) runs each case, with every shard's estimated load in seconds."""

    shard_of: dict[str, int]
    loads: tuple[float, ...]
    sha256: str

    def cases_of(self, index: int) -> set[str]:
        return {cid for cid, s in self.shard_of.items() if s == index}


def assign(cases: list[Case], count: int, cost_s: Mapping[str, float]) -> Assignment:
    """Longest processing time first onto the least loaded shard; deterministic for the same inputs."""
    order = sorted(cases, key=lambda c: (-cost_s[c.case_id], c.case_id))
    heap = [(0.0, i) for i in range(1, count + 1)]
    shard_of: dict[str, int] = {}
    loads = [0.0] * (count + 1)
    for case in order:
        load, index = heapq.heappop(heap)
        shard_of[case.case_id] = index
        loads[index] = load + cost_s[case.case_id]
        heapq.heappush(heap, (loads[index], index))
    blob = json.dumps({"count": count, "shard_of": sorted(shard_of.items())}, separators=(",", ":"))
    return Assignment(shard_of, tuple(loads[1:]), hashlib.sha256(blob.encode()).hexdigest())
