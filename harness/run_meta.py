"""``run.json``: the run's metadata, declared once (next to the columns of :mod:`harness.schema`).

:class:`RunMeta` is what the runner writes and every reader gets
(``harness.load_run(...).meta``). :func:`RunMeta.from_dict` is the one loader:
it reads every version this harness ever wrote (upgrading older ones step by
step) and refuses a newer one with a message that says so.

Versions (``meta_version``; files without it are version 1):

1. issue 1-10 harness: the fields below, ``options`` without the CLI's TDP,
   idle-baseline and profiling settings.
2. ``options`` also records ``tdp_w``, ``idle_baseline_s``, ``profile_steps`` and
   ``profile_skip_steps`` (what the run was asked to do, for the record; a resumed
   run still takes only its case selection from here).
3. ``shard`` (a sharded run's :class:`ShardRecord`), ``worker_policy``
   (:class:`WorkerPolicy`), ``options.balance_from``; a merged run also has
   ``merged`` (:class:`MergeRecord`) and ``shards`` (one :class:`ShardEntry` each).
   ``git.commit_utc`` (the commit's time, which orders history) is recorded since
   issue 12 and declared in :class:`GitInfo`.

Every part is read through its declared attributes (there is no dict view);
keys a part does not declare are kept in its ``extra`` and written back.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import ResultsError
from harness.schema import SCHEMA_VERSION

RUN_META_VERSION = 3
STATUSES = ("running", "complete", "interrupted", "failed", "partial")


def _known(cls: type, doc: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
    return {k: v for k, v in doc.items() if k in names}


def part_of(cls: type, raw: Any) -> Any:
    """A part of run.json from its JSON object; keys the part does not declare go to its ``extra``."""
    if not isinstance(raw, Mapping):
        return cls()
    known = _known(cls, raw)
    return cls(**known, extra={k: v for k, v in raw.items() if k not in known})


def _flat(part: Any) -> dict[str, Any]:
    doc = dataclasses.asdict(part)
    return {**doc.pop("extra"), **doc}


class _Part:
    """A part of run.json: ``to_dict()`` is its JSON object (``extra`` keys merged back)."""

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(_flat(self))


@dataclass
class Machine(_Part):
    """The machine facts of :func:`harness.collectors.machine.machine_info` (None: not recorded)."""

    host: str | None = None
    os: str | None = None
    kernel: str | None = None
    arch: str | None = None
    cpu_model: str | None = None
    cpu_count_logical: int | None = None
    cpu_count_physical: int | None = None
    cpu_affinity: int | None = None
    memory_bytes: int | None = None
    gpus: list[dict[str, Any]] | None = None  # None: not recorded; []: none found
    gpu_driver: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """A short name: the host, else the CPU model, else ''."""
        return self.host or self.cpu_model or ""


@dataclass
class GitInfo(_Part):
    commit: str | None = None
    dirty: bool | None = None
    branch: str | None = None
    commit_utc: str | None = None  # the commit's time (ISO 8601, UTC): what orders a history
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SuiteRecord(_Part):
    """The suite as run: ``text`` (with ``abspath`` or ``path``) is what ``--resume`` re-parses."""

    name: str = ""
    description: str = ""
    path: str = ""
    abspath: str | None = None
    sha256: str = ""
    text: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class OptionsRecord(_Part):
    """The command line's choices that shape the run (the first five decide which cases run)."""

    repeats: int | None = None
    filters: list[str] = field(default_factory=list)
    shard: str | None = None
    time_limit_s: float | None = None
    collectors: list[str] | None = None
    tdp_w: float | None = None
    idle_baseline_s: float | None = None
    profile_steps: int | None = None
    profile_skip_steps: int = 0
    balance_from: str | None = None  # a previous run whose durations balanced the shards
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ShardRecord(_Part):
    """A sharded run's shard (:func:`harness.runner.parent.plan.shard_record`): which of how many, where that
    came from, the balanced assignment's hash and estimated loads (s), this shard's cases."""

    index: int = 0  # 1-based
    count: int = 0
    text: str | None = None  # "I/N" as given or derived
    source: str | None = None  # cli | slurm | kubernetes | harness_shard
    variables: dict[str, str] = field(default_factory=dict)  # the scheduler variables read
    assignment_sha256: str | None = None
    balance: str | None = None  # what estimated the durations that balanced the shards
    estimated_s: float | None = None
    estimated_loads_s: list[float] = field(default_factory=list)
    case_ids: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class WorkerPolicy(_Part):
    """The workers' recycling policy as run, and what it did (``WorkerPool.describe``); a limit of None: none."""

    mode: str | None = None  # fork | reuse; None: recorded before the mode existed (reuse)
    max_cases: int | None = None
    max_rss_mib: float | None = None  # MiB (2**20 bytes), from --worker-max-rss-mb
    started: int | None = None  # workers started
    recycled: int | None = None  # workers replaced by the policy
    recycle_reasons: list[str] = field(default_factory=list)  # the last 20 reasons
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class MergeRecord(_Part):
    """A merged run: when it was merged (UTC), of how many shards, their assignment, what is missing."""

    utc: str | None = None
    count: int = 0
    assignment_sha256: str | None = None
    missing: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ShardEntry(_Part):
    """One shard of a merged run, as it was merged (``machine`` and ``git`` as that shard's run.json had them)."""

    index: int = 0
    count: int = 0
    run_id: str = ""
    path: str = ""
    status: str | None = None
    host: str | None = None
    machine: dict[str, Any] | None = None
    git: dict[str, Any] | None = None
    started_utc: str | None = None
    ended_utc: str | None = None
    runs: int = 0
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TuningRecord(_Part):
    """How ``harness tune`` chose its winners (issue 25): only validation figures are read.

    ``selections``: one entry per problem x optimizer x budget: ``problem`` (axis -> value),
    ``optimizer``, ``budget``, ``trial`` (the winner, None when none qualified), ``values``
    (its sampled hyperparameters), ``metric`` and ``score`` (what it was chosen on), ``reason``.
    """

    select_on: str = "validation_accuracy"
    budgets: list[int] = field(default_factory=list)
    final_seeds: int = 0
    rules: str = ""  # the selection rules, in words
    trials_run: str | None = None  # the run the trials came from (``--finalize``), None: this run
    selections: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunMeta:
    """The content of ``run.json``."""

    run_id: str = ""
    status: str = "running"  # one of STATUSES
    started_utc: str | None = None
    ended_utc: str | None = None
    harness_version: str | None = None
    machine: Machine = field(default_factory=Machine)
    software: dict[str, str | None] = field(default_factory=dict)  # package -> version (and python)
    git: GitInfo = field(default_factory=GitInfo)
    environment: dict[str, str] = field(default_factory=dict)  # TF_*, XLA_FLAGS, CUDA_VISIBLE_DEVICES...
    argv: list[str] = field(default_factory=list)
    suite: SuiteRecord = field(default_factory=SuiteRecord)
    options: OptionsRecord = field(default_factory=OptionsRecord)
    resumed_utc: list[str] = field(default_factory=list)
    idle_baseline: dict[str, float] | None = None  # measured idle power (W) per source
    worker_runtime: dict[str, Any] | None = None  # TensorFlow build and threads as a worker saw them
    error: str | None = None  # why a failed run stopped
    shard: ShardRecord | None = None  # a sharded run's shard (None: not sharded)
    worker_policy: WorkerPolicy | None = None  # None: not recorded (a run before version 3, or still running)
    merged: MergeRecord | None = None  # a merged run only
    shards: list[ShardEntry] | None = None  # a merged run only: one entry per shard merged
    # device -> the measured matmul peak flops_utilization divides by (harness.runner.parent.peak_probe):
    # flops_per_s (FLOP/s), shape [m, k, n], dtype, chain, trials, best_s (s), source, threads
    peak_probe: dict[str, dict[str, Any]] | None = None
    tuning: TuningRecord | None = None  # a tuned run: the selection of its winners (harness tune)
    schema_version: int = SCHEMA_VERSION
    meta_version: int = RUN_META_VERSION
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know, kept as they are

    def to_dict(self) -> dict[str, Any]:
        """run.json's JSON object (``extra`` keys merged back at the top level)."""
        doc = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        for key in _PARTS:
            doc[key] = getattr(self, key).to_dict()
        for key in _OPTIONAL_PARTS:
            doc[key] = None if doc[key] is None else getattr(self, key).to_dict()
        doc["shards"] = None if self.shards is None else [s.to_dict() for s in self.shards]
        for key in ("merged", "shards", "tuning"):  # only a merged run has them; only a tuned run has tuning
            if doc[key] is None:
                del doc[key]
        return copy.deepcopy({**self.extra, **doc})  # shares nothing with the record

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], source: str = "run.json") -> RunMeta:
        """The one loader: any version up to :data:`RUN_META_VERSION`, upgraded; a newer one is refused."""
        if not isinstance(doc, Mapping):
            raise ResultsError(f"{source}: not a harness run.json (expected a JSON object)")
        version = doc.get("meta_version", 1)
        if not isinstance(version, int) or version < 1:
            raise ResultsError(f"{source}: meta_version {version!r} is not a version number")
        if version > RUN_META_VERSION:
            raise ResultsError(f"{source}: run.json version {version} was written by a newer harness "
                               f"(this one reads versions 1 to {RUN_META_VERSION})")
        doc = dict(doc)
        while version < RUN_META_VERSION:
            doc = UPGRADES[version](doc)
            version += 1
        return cls._build(doc)

    @classmethod
    def _build(cls, doc: dict[str, Any]) -> RunMeta:
        values = _known(cls, doc)
        for key, part in _PARTS.items():
            values[key] = part_of(part, values.get(key))
        for key, part in _OPTIONAL_PARTS.items():
            values[key] = part_of(part, values[key]) if isinstance(values.get(key), Mapping) else None
        if isinstance(values.get("shards"), list):
            values["shards"] = [part_of(ShardEntry, s) for s in values["shards"]]
        else:
            values["shards"] = None
        values["extra"] = {k: v for k, v in doc.items() if k not in values}
        return cls(**values)


_PARTS: dict[str, type] = {"machine": Machine, "git": GitInfo, "suite": SuiteRecord, "options": OptionsRecord}
_OPTIONAL_PARTS: dict[str, type] = {"shard": ShardRecord, "worker_policy": WorkerPolicy, "merged": MergeRecord,
                                   "tuning": TuningRecord}


def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    defaults = {k: v for k, v in OptionsRecord().__dict__.items() if k not in ("extra", "balance_from")}
    options = {**defaults, **(doc.get("options") or {})}
    return {**doc, "options": options, "meta_version": 2}


def _v2_to_v3(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "meta_version": 3}  # the new keys default to None (not sharded, policy not recorded)


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3}
