"""Turn what the user passed to ``harness compare`` into a :class:`Side`.

Accepted, in this order of detection:

* a pytest-benchmark JSON file (from ``--benchmark-autosave`` or
  ``harness export --pytest-benchmark``);
* a run folder (``results/<run-id>/`` with ``run.json``), or a saved baseline
  folder (a run copy, or one holding ``benchmark.json``);
* a results folder holding several runs: by default the **latest** run (by the
  start time in ``run.json``, else by folder name); with ``pool=True`` every run
  whose environment equals the latest's is pooled, repeats added up. Latest is
  the default because runs from different jobs or days carry systematic offsets
  (other machine, other load) that pooling would smear into the noise.

Read-only: nothing here writes files.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from harness.analysis.compare import Side, environment
from harness.errors import HarnessError
from harness.results import baselines, store
from harness.results.pytest_benchmark import is_pytest_benchmark, pytest_benchmark_to_cases

log = logging.getLogger(__name__)


def _read_json_file(path: Path) -> Side:
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HarnessError(f"{path}: not readable JSON ({exc})") from exc
    if not is_pytest_benchmark(doc):
        raise HarnessError(f"{path}: not a pytest-benchmark JSON file (no 'benchmarks' / 'machine_info')")
    cases, meta = pytest_benchmark_to_cases(doc)
    if cases.empty:
        raise HarnessError(f"{path}: holds no benchmarks")
    return Side(str(path), cases, meta, (path.stem,))


def _start(run: store.Run) -> str:
    return str(run.meta.get("started_utc") or run.meta.get("start_utc") or "")


def load_side(path: str | Path, *, pool: bool = False, name: str | None = None) -> Side:
    """Load one side of a comparison (see the module docstring for what is accepted)."""
    path = Path(path)
    label = name or str(path)
    if path.is_file():
        side = _read_json_file(path)
        side.name = label
        return side
    if not path.exists():
        raise HarnessError(f"{path}: no such file or folder")
    if (path / baselines.BENCHMARK_JSON).is_file() and not store.is_run_dir(path):
        return load_side(path / baselines.BENCHMARK_JSON, name=label)
    runs = [store.load_run(path)] if store.is_run_dir(path) else store.load_runs(path)
    runs = [r for r in runs if not r.cases.empty]
    if not runs:
        raise HarnessError(f"{path}: no run with results found (expected run.json and cases.parquet)")
    runs.sort(key=lambda r: (_start(r), r.run_id))
    latest = runs[-1]
    chosen = [latest]
    if pool:
        env = environment(latest.meta)
        chosen = [r for r in runs if environment(r.meta) == env]
        dropped = len(runs) - len(chosen)
        if dropped:
            log.warning("%s: %d run(s) with another environment not pooled", path, dropped)
    elif len(runs) > 1:
        log.info("%s: %d runs, using the latest (%s); --pool pools them", path, len(runs), latest.run_id)
    cases = pd.concat([r.cases for r in chosen], ignore_index=True)
    return Side(label, cases, latest.meta, tuple(r.run_id for r in chosen))


def load_baseline(results_dir: str | Path, name: str) -> Side:
    path = baselines.baseline_path(results_dir, name)
    if not path.is_dir():
        known = ", ".join(b["name"] for b in baselines.list_baselines(results_dir)) or "none saved"
        raise HarnessError(f"baseline {name!r} not found under {path.parent} (known: {known})")
    return load_side(path, name=f"baseline {name}")
