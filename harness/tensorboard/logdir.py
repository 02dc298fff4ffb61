"""The logdir on disk: one folder per harness run, built aside and moved into place, plus the experiment.

Layout of ``LOGDIR/``::

    <run-name>/                      one harness run (its folder name; "-<hash>" added on a clash)
        harness-tensorboard.json     manifest: which run, its sessions' hparams and metric tags
        <case label>/repeat-<k>/     one TensorBoard run per case x repeat (events, plugins/profile/)
    harness-hparams-<hash>/          the HParams experiment over every harness run in LOGDIR
    .harness-tensorboard.lock        held while writing

Everything is written into a staging folder next to (or, failing that, inside)
``LOGDIR`` and renamed into place, so TensorBoard and a failed export never see
half a run. Exporting a run again replaces its folder (found by the run's
identity, not its name), so nothing is duplicated. The experiment is rebuilt
from every manifest after each change; its folder name carries a hash of its
content, so a TensorBoard already watching the logdir picks up the new one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, ResultsError
from harness.run_meta import RunMeta
from harness.schema import STATUSES
from harness.tensorboard.specs import (
    HPARAMS,
    METRICS,
    RESULT_PREFIX,
    metric_description,
    split_label,
)

log = logging.getLogger(__name__)

MANIFEST = "harness-tensorboard.json"
MANIFEST_VERSION = 1
EXPERIMENT_PREFIX = "harness-hparams-"
LOCK = ".harness-tensorboard.lock"


def run_identity(meta: RunMeta, folder: str) -> str:
    """A stable id of a harness run (its run_id, start time and suite hash), not of its folder's name."""
    ident = [meta.run_id or folder, meta.started_utc, meta.suite.sha256]
    return hashlib.sha256(json.dumps(ident, default=str).encode()).hexdigest()[:16]


def require_tensorboard() -> None:
    if importlib.util.find_spec("tensorboard") is None:
        raise HarnessError("--tensorboard needs the tensorboard package (a separate package since "
                           "TensorFlow 2.21): pip install 'mnist-bench-harness[tensorboard]'")


def check_logdir(path: Path) -> Path:
    """Fail now (exit 2 or 4) if ``path`` cannot become a logdir; creates nothing."""
    require_tensorboard()
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise HarnessError(f"{path}: the --tensorboard logdir is a file, not a folder")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise HarnessError(f"{path}: cannot be a --tensorboard logdir: {existing} is a file")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".harness-probe-"):
            pass
    except OSError as exc:
        raise ResultsError(f"{path}: the --tensorboard logdir cannot be written "
                           f"({existing}: {exc.strerror or exc})") from exc
    return path


class Logdir:
    """A TensorBoard logdir the harness writes into (created when missing)."""

    def __init__(self, path: Path) -> None:
        self.path = check_logdir(path)
        self.created = False
        try:
            if not self.path.exists():
                self.path.mkdir(parents=True)
                self.created = True
        except OSError as exc:
            raise ResultsError(f"{self.path}: the --tensorboard logdir cannot be created "
                               f"({exc.strerror or exc})") from exc

    def discard_if_created(self) -> None:
        """Remove the logdir again when this export created it and then failed."""
        if self.created:
            shutil.rmtree(self.path, ignore_errors=True)

    # ---------------------------------------------------------------- locking and staging
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with open(self.path / LOCK, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A scratch folder on the logdir's filesystem, outside it where possible; always removed."""
        stage = None
        parent = self.path.resolve().parent
        with contextlib.suppress(OSError):
            if parent.stat().st_dev == self.path.stat().st_dev:
                stage = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.harness-tmp-", dir=parent))
        if stage is None:
            stage = Path(tempfile.mkdtemp(prefix=".harness-tmp-", dir=self.path))
        try:
            yield stage
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def install(self, built: Path, rel: str, stage: Path) -> None:
        """Move ``built`` to ``LOGDIR/rel``, replacing what was there (renames only)."""
        target = self.path / rel
        old = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                old = stage / f"old-{uuid.uuid4().hex}"
                os.rename(target, old)
            try:
                os.rename(built, target)
            except OSError:
                if old is not None:
                    os.rename(old, target)
                raise
        except OSError as exc:
            raise ResultsError(f"{target}: could not move into place ({exc.strerror or exc})") from exc
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    # ---------------------------------------------------------------- runs and manifests
    def manifests(self) -> dict[str, dict[str, Any]]:
        """Folder name -> manifest of every harness run in the logdir."""
        out = {}
        for child in sorted(self.path.iterdir()):
            path = child / MANIFEST
            if child.is_dir() and path.is_file():
                try:
                    out[child.name] = json.loads(path.read_text())
                except (OSError, json.JSONDecodeError) as exc:
                    log.warning("%s: unreadable manifest (%s); its runs are left out of the HParams "
                                "experiment", path, exc)
        return out

    def run_name(self, folder: str, identity: str, taken: set[str]) -> str:
        """Where a harness run goes: its own earlier folder, else its name, else name-<hash>."""
        for name, manifest in self.manifests().items():
            if manifest.get("identity") == identity and name not in taken:
                return name
        name = folder
        if (self.path / name).exists() or name in taken or name.startswith(EXPERIMENT_PREFIX):
            name = f"{folder}-{identity[:8]}"
        return name

    # ---------------------------------------------------------------- the experiment
    def rebuild_experiment(self, stage: Path) -> None:
        """Write the HParams experiment over every manifest (only when it changed)."""
        from harness.tensorboard.events import write_experiment

        domains, metrics = experiment(self.manifests().values())
        current = [p for p in self.path.iterdir() if p.name.startswith(EXPERIMENT_PREFIX)]
        if not domains:
            for p in current:
                shutil.rmtree(p, ignore_errors=True)
            return
        content = [domains, [(t, *metric_description(t)) for t in metrics]]  # all that is written
        digest = hashlib.sha256(json.dumps(content, default=str).encode()).hexdigest()[:12]
        name = EXPERIMENT_PREFIX + digest
        if not (self.path / name).is_dir():
            built = stage / name
            write_experiment(domains, metrics, built)
            self.install(built, name, stage)
        for p in current:
            if p.name != name:
                shutil.rmtree(p, ignore_errors=True)


def experiment(manifests: Iterable[Mapping[str, Any]]) -> tuple[dict[str, tuple[str, list, bool]], list[str]]:
    """(hparam name -> (description, sorted values, differs), metric tags) over the manifests.

    ``differs`` (the value varies among the sessions) puts an hparam first in
    TensorBoard's table, whose leading columns are the ones shown by default.
    """
    seen: dict[str, set] = {spec.name: set() for spec in HPARAMS}
    tags: set[str] = set()
    for manifest in manifests:
        rows = [s.get("hparams", {}) for s in manifest.get("sessions", {}).values()]
        rows += list(manifest.get("planned", []))
        for row in rows:
            for name, value in row.items():
                if name in seen and value is not None:
                    seen[name].add(value)
        for s in manifest.get("sessions", {}).values():
            tags.update(s.get("metrics", []))
    if not any(seen.values()):
        return {}, []
    fixed = {"status": set(STATUSES), "profiled": {False, True}}  # every outcome can be filtered on
    domains = {}
    for spec in HPARAMS:
        observed = {spec.kind(v) for v in seen[spec.name]}
        values = observed | fixed.get(spec.name, set())
        if observed and (spec.always or len(observed) > 1):
            domains[spec.name] = (spec.description, sorted(values), len(observed) > 1)
    order = {RESULT_PREFIX + m.column: i for i, m in enumerate(METRICS)}
    metrics = sorted(tags, key=lambda t: (order.get(split_label(t)[0], len(order)), t))
    return domains, metrics


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    from harness.results.atomic import atomic_write_json

    atomic_write_json(folder / MANIFEST, {"harness_tensorboard": MANIFEST_VERSION, **manifest})


def link_tree(src: Path, dst: Path) -> int:
    """Hard-link (else copy) every file of ``src`` under ``dst``; returns the number of files."""
    n = 0
    for path in sorted(src.rglob("*")):
        if not path.is_file():
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
        n += 1
    return n
