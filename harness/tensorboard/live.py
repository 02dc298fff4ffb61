"""``harness run SUITE --tensorboard LOGDIR``: the logdir grows as cases finish.

A runner observer (see :mod:`harness.runner.parent.observers`): it runs in the runner's
parent process after a case is journaled and before the next one starts, so
the writing (and TensorFlow's one-off import, with GPUs hidden) never overlaps
a measurement. The result is the same logdir ``harness export`` writes; a
failure to write it is reported and never stops the benchmark.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import schema
from harness.results.store import CaseResult
from harness.run_meta import RunMeta
from harness.tensorboard.logdir import (
    MANIFEST,
    Logdir,
    check_logdir,
    run_identity,
    write_manifest,
)
from harness.tensorboard.logdir_export import manifest, write_one
from harness.tensorboard.sessions import build_sessions, label_paths, planned_hparams

log = logging.getLogger(__name__)


class LiveTensorBoard:
    """Writes each finished case x repeat into ``logdir`` (checked now, created at the run's start)."""

    def __init__(self, logdir: Path) -> None:
        self.path = check_logdir(Path(logdir))
        self.logdir: Logdir | None = None
        self.name = ""
        self.errors: list[str] = []
        self.sessions_written = 0
        self.import_s = 0.0  # TensorFlow's one-off import in this process (s)
        self.write_s = 0.0  # time spent writing, import excluded (s)
        self._meta = RunMeta()
        self._paths: dict[str, str] = {}
        self._planned: list[dict[str, Any]] = []
        self._entries: dict[str, Any] = {}

    @property
    def run_folder(self) -> Path:
        return self.path / self.name

    # ---------------------------------------------------------------- observer methods
    def run_started(self, run_dir: Path, meta: RunMeta, planned: Sequence[Mapping[str, Any]],
                    done: Sequence[CaseResult]) -> None:
        self._guard(self._start, run_dir, meta, planned, done)

    def case_finished(self, run_dir: Path, result: CaseResult) -> None:
        self._guard(self._write, run_dir, [result])

    def run_finished(self, run_dir: Path, meta: RunMeta) -> None:
        self._meta = meta

    # ---------------------------------------------------------------- work
    def _start(self, run_dir: Path, meta: RunMeta, planned: Sequence[Mapping[str, Any]],
               done: Sequence[CaseResult]) -> None:
        from harness.tensorboard.events import tf_modules

        t0 = time.perf_counter()
        tf_modules()
        self.import_s = time.perf_counter() - t0
        self.logdir = Logdir(self.path)
        self._meta = meta
        identity = run_identity(meta, run_dir.name)
        with self.logdir.lock():
            self.name = self.logdir.run_name(run_dir.name, identity, set())
        rows = [*planned, *(r.case for r in done)]
        self._paths = label_paths((r["case_id"], r.get("case_label") or r["case_id"]) for r in rows)
        self._planned = planned_hparams(planned, meta, self.name)
        self._entries = self._existing(identity)
        self._write(run_dir, list(done))

    def _existing(self, identity: str) -> dict[str, Any]:
        """Sessions an earlier part of this run (before --resume) already wrote."""
        try:
            old = json.loads((self.run_folder / MANIFEST).read_text())
        except (OSError, json.JSONDecodeError):
            return {}
        return dict(old.get("sessions", {})) if old.get("identity") == identity else {}

    def _write(self, run_dir: Path, results: Sequence[CaseResult]) -> None:
        assert self.logdir is not None, "run_started must come first"
        t0 = time.perf_counter()
        cases = schema.frame("cases", [r.case for r in results])
        epochs = schema.frame("epochs", [e for r in results for e in r.epochs])
        sessions = build_sessions(run_dir, self._meta, cases, epochs, self.name, self._paths)
        with self.logdir.lock(), self.logdir.staging() as stage:
            for session in sessions:
                write_one(stage, self.name, session)
                self.logdir.install(stage / session.name, f"{self.name}/{session.name}", stage)
            doc = manifest(self.name, run_dir, self._meta, sessions, self._planned)
            self._entries.update(doc["sessions"])
            doc["sessions"] = self._entries
            self.run_folder.mkdir(parents=True, exist_ok=True)
            write_manifest(self.run_folder, doc)
            self.logdir.rebuild_experiment(stage)
        self.sessions_written += len(sessions)
        self.write_s += time.perf_counter() - t0

    def _guard(self, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:  # the benchmark goes on; the command says how to rebuild the logdir
            message = f"{type(exc).__name__}: {exc}"
            if message not in self.errors:
                log.warning("TensorBoard logdir %s: %s (the run goes on)", self.path, message)
            self.errors.append(message)
