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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import ResultsError
from harness.schema import SCHEMA_VERSION

RUN_META_VERSION = 2
STATUSES = ("running", "complete", "interrupted", "failed")


def _known(cls: type, doc: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in doc.items() if k in names}


@dataclass
class Machine:
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

    @property
    def label(self) -> str:
        """A short name: the host, else the CPU model, else ''."""
        return self.host or self.cpu_model or ""


@dataclass
class GitInfo:
    commit: str | None = None
    dirty: bool | None = None
    branch: str | None = None


@dataclass
class SuiteRecord:
    """The suite as run: ``text`` (with ``abspath`` or ``path``) is what ``--resume`` re-parses."""

    name: str = ""
    description: str = ""
    path: str = ""
    abspath: str | None = None
    sha256: str = ""
    text: str = ""
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class OptionsRecord:
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
    schema_version: int = SCHEMA_VERSION
    meta_version: int = RUN_META_VERSION
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know, kept as they are

    def to_dict(self) -> dict[str, Any]:
        """run.json's JSON object (``extra`` keys merged back at the top level)."""
        doc = dataclasses.asdict(self)
        extra = doc.pop("extra")
        return {**extra, **doc}

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
        parts = {"machine": Machine, "git": GitInfo, "suite": SuiteRecord, "options": OptionsRecord}
        values = _known(cls, doc)
        for key, part in parts.items():
            raw = values.get(key)
            values[key] = part(**_known(part, raw)) if isinstance(raw, Mapping) else part()
        names = {f.name for f in dataclasses.fields(cls)}
        values["extra"] = {k: v for k, v in doc.items() if k not in names}
        return cls(**values)


def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    options = {**OptionsRecord().__dict__, **(doc.get("options") or {})}
    return {**doc, "options": options, "meta_version": 2}


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}
