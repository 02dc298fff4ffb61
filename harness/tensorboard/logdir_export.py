"""``harness export RUN... --tensorboard LOGDIR``: finished runs into a TensorBoard logdir.

Every input is loaded and checked before anything is written; each run is built
in a staging folder and moved into place (see :mod:`.logdir`), so a failure
leaves the logdir as it was.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from harness.errors import HarnessError, ResultsError
from harness.results import store
from harness.run_meta import RunMeta
from harness.tensorboard.logdir import Logdir, link_tree, run_identity, write_manifest
from harness.tensorboard.sessions import Session, build_sessions, label_paths

log = logging.getLogger(__name__)


@dataclass
class ExportSummary:
    logdir: Path
    runs: dict[str, str] = field(default_factory=dict)  # harness run folder -> its folder in the logdir
    sessions: int = 0
    profiles: int = 0


def resolve_runs(paths: Sequence[Path]) -> list[Path]:
    """Run folders named by ``paths`` (each a run, or a folder of runs); bad input names the path."""
    out: list[Path] = []
    for path in map(Path, paths):
        if not path.exists():
            raise HarnessError(f"{path}: no such run folder")
        found = store.find_runs(path) if path.is_dir() else []
        if not found:
            raise HarnessError(f"{path}: not a harness run folder (no {store.RUN_JSON}) "
                               "and holds none")
        out += [p for p in found if p.resolve() not in {q.resolve() for q in out}]
    return out


def export_runs(paths: Sequence[Path], logdir: Path) -> ExportSummary:
    """Write every run of ``paths`` into ``logdir`` (replacing earlier exports of the same runs)."""
    runs = [store.load_run(p) for p in resolve_runs(paths)]
    for run in runs:
        if run.cases.empty:
            raise HarnessError(f"{run.path}: the run has no case rows to export")
    target = Logdir(logdir)
    summary = ExportSummary(target.path)
    try:
        with target.lock(), target.staging() as stage:
            built: list[tuple[Path, str]] = []
            taken: set[str] = set()
            for run in runs:
                name = target.run_name(run.path.name, run_identity(run.meta, run.path.name), taken)
                taken.add(name)
                folder = stage / f"build-{uuid.uuid4().hex}"
                sessions = build_sessions(run.path, run.meta, run.cases, run.epochs, name)
                summary.profiles += write_run(folder, name, sessions, run.path, run.meta)
                summary.sessions += len(sessions)
                summary.runs[str(run.path)] = name
                built.append((folder, name))
            for folder, name in built:
                target.install(folder, name, stage)
            target.rebuild_experiment(stage)
    except BaseException as exc:
        target.discard_if_created()  # a logdir this export created goes again; an existing one is as it was
        if isinstance(exc, OSError):
            raise ResultsError(f"{target.path}: could not write the TensorBoard logdir "
                               f"({exc.strerror or exc}); it is as it was before") from exc
        raise
    return summary


def write_run(folder: Path, name: str, sessions: Sequence[Session], run_dir: Path,
              meta: Mapping[str, Any], planned: Sequence[Mapping[str, Any]] = ()) -> int:
    """Write ``sessions`` and the manifest of one harness run into ``folder``; returns traces linked."""
    folder.mkdir(parents=True, exist_ok=True)
    profiles = sum(write_one(folder, name, s) for s in sessions)
    write_manifest(folder, manifest(name, run_dir, meta, sessions, planned))
    return profiles


def write_one(folder: Path, name: str, session: Session) -> int:
    """One session's events (and its profiler trace, linked) under ``folder/<session name>``."""
    from harness.tensorboard.events import write_session

    out = folder / session.name
    write_session(session, out, trial_id=f"{session.group} @ {name}")
    if session.profile_dir is None:
        return 0
    link_tree(session.profile_dir / "plugins" / "profile", out / "plugins" / "profile")
    return 1


def manifest(name: str, run_dir: Path, meta: RunMeta, sessions: Sequence[Session],
             planned: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    return {
        "identity": run_identity(meta, Path(run_dir).name), "run_name": name,
        "run_dir": str(Path(run_dir).resolve()), "suite": _suite(meta),
        "written_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "sessions": {s.name: session_entry(s) for s in sessions},
        "planned": list(planned),
    }


def session_entry(session: Session) -> dict[str, Any]:
    return {"hparams": session.hparams, "metrics": session.metric_tags, "status": session.status,
            "profiled_trace": session.profile_dir is not None}


def _suite(meta: RunMeta) -> str:
    return meta.suite.name


def paths_for(cases: pd.DataFrame) -> dict[str, str]:
    return label_paths(zip(cases["case_id"], cases["case_label"].fillna(cases["case_id"]), strict=True))
