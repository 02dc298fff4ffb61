"""Named baselines: ``harness baseline save RUN --name NAME``.

A baseline is a *copy* (not a pointer) of a run's ``run.json`` and parquet
tables, or of a pytest-benchmark JSON file, under
``<results-dir>/baselines/<NAME>/``, plus ``baseline.json`` saying where it came
from. A copy, because CI workspaces and results folders are cleaned between
jobs; the folder is self-contained, so it can be cached or committed as is.
The ``baselines`` folder holds no ``run.json`` itself, so listing the runs of
``results/`` never mistakes it for a run.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.results import store

BASELINES = "baselines"
BENCHMARK_JSON = "benchmark.json"
INFO = "baseline.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def baseline_path(results_dir: str | Path, name: str) -> Path:
    if not _NAME.match(name):
        raise HarnessError(f"baseline name {name!r}: use letters, digits, '.', '_' or '-' (max 64)")
    return Path(results_dir) / BASELINES / name


def save_baseline(source: str | Path, results_dir: str | Path, name: str) -> Path:
    """Copy a run folder (or a pytest-benchmark JSON file) to ``results_dir/baselines/name``."""
    source = Path(source)
    dest = baseline_path(results_dir, name)
    tmp = dest.with_name(f".{name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if source.is_file():
        shutil.copyfile(source, tmp / BENCHMARK_JSON)
        kind = "pytest-benchmark"
    elif store.is_run_dir(source):
        store.load_run(source)  # refuse a damaged or foreign run before copying it
        for fname in [store.RUN_JSON, *store.TABLE_FILES.values()]:
            if (source / fname).exists():
                shutil.copyfile(source / fname, tmp / fname)
        kind = "run"
    else:
        shutil.rmtree(tmp, ignore_errors=True)
        raise HarnessError(f"{source}: not a run folder (no run.json) nor a pytest-benchmark JSON file")
    info = {"name": name, "kind": kind, "source": str(source.resolve()),
            "saved_utc": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    store.atomic_write_json(tmp / INFO, info)
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return dest


def list_baselines(results_dir: str | Path) -> list[dict[str, Any]]:
    """Saved baselines with their ``baseline.json`` info, by name."""
    root = Path(results_dir) / BASELINES
    if not root.is_dir():
        return []
    out = []
    for path in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            info = store.json.loads((path / INFO).read_text())
        except (OSError, ValueError):
            info = {"name": path.name, "kind": "unknown"}
        out.append({**info, "path": str(path)})
    return out
