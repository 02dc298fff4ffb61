"""The run journal: one file per finished case x repeat, and a lock on the run folder.

``parts/<case_id>-<repeat>.json`` is written (atomically) as soon as a case
finishes; the parquet tables are rebuilt from the parts, so a run killed at any
moment loses at most the case in progress, and ``--resume`` knows exactly what
is done. Parts are JSON, never pickle: loading a results folder must not run code.

:func:`lock_run` holds an exclusive ``flock`` on ``<run>/.lock`` while a process
writes a run, so two processes never write one run folder (the kernel drops the
lock when its holder dies, even by ``kill -9``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from harness import schema
from harness.errors import HarnessError, ResultsError
from harness.results.atomic import atomic_write_bytes

log = logging.getLogger(__name__)

PARTS = "parts"
LOCK = ".lock"
PART_VERSION = 1


@dataclass
class CaseResult:
    """Everything one case x repeat produced; the unit the runner writes at once."""

    case: dict[str, Any]  # the cases row
    epochs: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    workers: list[dict[str, Any]] = field(default_factory=list)
    ops: list[dict[str, Any]] = field(default_factory=list)
    finished_ns: int = 0  # wall clock when the runner journaled it (orders --resume)

    @property
    def key(self) -> str:
        return f"{self.case['case_id']}-{int(self.case['repeat'])}"


def write_part(run_dir: Path, result: CaseResult) -> Path:
    """Journal one finished case x repeat as ``parts/<case_id>-<repeat>.json`` (atomically).

    JSON, not pickle: a results folder may come from someone else, and loading it
    must never execute code.
    """
    parts = Path(run_dir) / PARTS
    try:
        parts.mkdir(exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"{parts}: could not create: {exc.strerror or exc}") from exc
    return dump_result(parts / f"{result.key}.json", result)


def dump_result(path: Path, result: CaseResult) -> Path:
    """One CaseResult as a JSON document (atomically); :func:`read_part` reads it back."""
    result.finished_ns = result.finished_ns or time.time_ns()
    doc = {"part_version": PART_VERSION, "finished_ns": result.finished_ns, "case": result.case,
           "epochs": result.epochs, "samples": result.samples, "workers": result.workers, "ops": result.ops}
    atomic_write_bytes(path, json.dumps(doc, default=_plain, allow_nan=True).encode())
    return path


def _plain(obj: Any) -> Any:
    """JSON for the NumPy/pandas scalars rows may hold; NA becomes null."""
    if hasattr(obj, "item"):
        return obj.item()
    if obj is pd.NA or obj is pd.NaT:
        return None
    return str(obj)


def read_part(path: Path) -> CaseResult:
    """One journal entry; a truncated or foreign file raises ResultsError naming it."""
    try:
        doc = json.loads(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: truncated or invalid case part ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("part_version") != PART_VERSION or not isinstance(doc.get("case"), dict):
        raise ResultsError(f"{path}: not a harness case part (version {PART_VERSION})")
    case = doc["case"]
    if not isinstance(case.get("case_id"), str) or not isinstance(case.get("repeat"), int):
        raise ResultsError(f"{path}: case part without case_id/repeat")
    lists = {k: doc.get(k) or [] for k in ("epochs", "samples", "workers", "ops")}
    if not all(isinstance(v, list) and all(isinstance(r, dict) for r in v) for v in lists.values()):
        raise ResultsError(f"{path}: malformed case part (tables must be lists of rows)")
    case = {k: (math.nan if v is None and schema.CASE_COLUMNS.get(k, _NOCOL).dtype == schema.FLOAT else v)
            for k, v in case.items()}
    return CaseResult(case=case, finished_ns=int(doc.get("finished_ns") or 0), **lists)


_NOCOL = schema.Column("", "", "", "")


def load_parts(run_dir: Path) -> list[CaseResult]:
    """Finished case results of a run, in completion order.

    A damaged or foreign part is skipped with a warning naming it (its case then
    runs again on ``--resume``); one part per case x repeat, however many files.
    """
    parts = Path(run_dir) / PARTS
    if not parts.is_dir():
        return []
    out: dict[str, CaseResult] = {}
    for path in sorted(parts.glob("*.json")):
        try:
            result = read_part(path)
        except ResultsError as exc:
            log.warning("skipping %s", exc)
            continue
        out.setdefault(result.key, result)
    return sorted(out.values(), key=lambda r: r.finished_ns)


def count_parts(run_dir: Path) -> int:
    parts = Path(run_dir) / PARTS
    return sum(1 for _ in parts.glob("*.json")) if parts.is_dir() else 0


class RunLock:
    """An exclusive lock on a run folder, held until :meth:`release` or process death."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)  # closing drops the flock
            self.fd = None


def lock_run(run_dir: Path) -> RunLock:
    """Take ``run_dir``'s lock or raise HarnessError naming the process that holds it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no locking, documented
        return RunLock(None)
    path = Path(run_dir) / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ResultsError(f"{path}: could not create the run's lock file: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise HarnessError(f"{run_dir}: another harness process (pid {holder}) is writing this run; "
                           "wait for it to finish or stop it first") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return RunLock(fd)
