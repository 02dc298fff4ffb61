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
  (other machine, other load) that pooling would smear into the noise. Pooling
  runs of different suites, commits or environments is refused
  (:class:`~harness.errors.MixedPoolError`, exit 9) unless ``allow_mixed=True``,
  which pools the runs whose environment equals the latest's.

Read-only: nothing here writes files.
"""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path

import pandas as pd

from harness.errors import HarnessError, MixedPoolError
from harness.regression.compare import Side, environment
from harness.regression.gates import check_gate_table
from harness.results import baselines, store
from harness.results.pytest_benchmark import is_pytest_benchmark, pytest_benchmark_to_cases
from harness.run_meta import RunMeta

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
    return run.meta.started_utc or ""


def pool_identity(run: store.Run) -> dict[str, object]:
    """What must be equal for two runs to be pooled: suite (name and text), commit, environment."""
    meta = run.meta
    return {"suite": meta.suite.name, "suite_sha256": meta.suite.sha256, "commit": meta.git.commit,
            **environment(run.meta)}  # fmt: skip


def _pool(path: Path, runs: list[store.Run], allow_mixed: bool) -> list[store.Run]:
    latest = pool_identity(runs[-1])
    differ = {k for r in runs for k, v in pool_identity(r).items() if v != latest[k]}
    if not differ:
        return runs
    if not allow_mixed:
        detail = "; ".join(f"{r.run_id}: " + ", ".join(f"{k}={pool_identity(r)[k]!r}" for k in sorted(differ))
                           for r in runs)  # fmt: skip
        raise MixedPoolError(f"{path}: --pool over runs that differ in {', '.join(sorted(differ))} ({detail}); "
                             "pool runs of one suite, commit and machine, or pass --allow-mixed-pool")
    env = environment(runs[-1].meta)
    chosen = [r for r in runs if environment(r.meta) == env]
    log.warning("%s: pooling runs that differ in %s (--allow-mixed-pool); %d run(s) with another "
                "environment left out", path, ", ".join(sorted(differ)), len(runs) - len(chosen))
    return chosen


def load_side(path: str | Path, *, pool: bool = False, name: str | None = None,
              allow_mixed_pool: bool = False) -> Side:  # fmt: skip
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
    runs = [store.load_run(path)] if store.is_run_dir(path) else store.load_runs(path, skip_bad=False)
    runs = [r for r in runs if not r.cases.empty]
    if not runs:
        raise HarnessError(f"{path}: no run with results found (expected run.json and cases.parquet)")
    runs.sort(key=lambda r: (_start(r), r.run_id))
    chosen = [runs[-1]]
    if pool:
        chosen = _pool(path, runs, allow_mixed_pool)
    elif len(runs) > 1:
        log.info("%s: %d runs, using the latest (%s); --pool pools them", path, len(runs), runs[-1].run_id)
    cases = pd.concat([r.cases for r in chosen], ignore_index=True)
    return Side(label, cases, runs[-1].meta, tuple(r.run_id for r in chosen))


def load_baseline(results_dir: str | Path, name: str) -> Side:
    path = baselines.baseline_path(results_dir, name)
    if not path.is_dir():
        known = ", ".join(b["name"] for b in baselines.list_baselines(results_dir)) or "none saved"
        raise HarnessError(f"baseline {name!r} not found under {path.parent} (known: {known})")
    return load_side(path, name=f"baseline {name}")


def suite_gate(meta: RunMeta) -> dict[str, object]:
    """The ``[gate]`` table of the suite a run was made from (its text is in run.json), validated."""
    suite = meta.suite
    text = suite.text
    if not isinstance(text, str) or not text:
        return {}
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HarnessError(f"run.json suite {suite.path!r}: malformed TOML ({exc})") from exc
    return check_gate_table(doc["gate"], f"{suite.path}: gate") if "gate" in doc else {}
