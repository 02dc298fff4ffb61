"""Synthetic run folders for ``harness publish`` (written through :mod:`harness.results.store`, no training).

``write_runs(root, n_runs, n_cases)`` writes one run per commit, ``repeats`` ok
repeats per case; ``step_at``/``step`` plant a slowdown (``step`` = 0.12: 12 %
more time, so samples_per_s falls by 1/1.12) from run ``step_at`` on. Used by
the site's tests, ``scripts/bench_publish.py`` and ``scripts/screenshot_site.py``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from harness import schema
from harness.results import store

START = datetime(2026, 1, 1, tzinfo=UTC)
OPTIMIZERS = ("sgd", "adam", "rmsprop", "adagrad", "nadam", "adamw", "lion", "ftrl", "adamax", "adadelta")


def commit(i: int) -> str:
    """A 40-hex commit id, distinct per ``i``."""
    return hashlib.sha1(f"commit {i}".encode()).hexdigest()


def meta(i: int, name: str, suite: str, machine: str, commit_index: int | None = None) -> dict:
    """run.json of run ``i``: its commit ``commit_index`` (default ``i``) a day after the previous one."""
    c = i if commit_index is None else commit_index
    when = START + timedelta(days=c)
    return {"schema_version": schema.SCHEMA_VERSION, "run_id": name, "status": "complete",
            "started_utc": (when + timedelta(hours=1, minutes=i % 60)).isoformat(),
            "machine": {"host": machine, "cpu_model": "Test CPU 9000", "cpu_count_logical": 2, "gpus": []},
            "software": {"tensorflow": "2.21.0", "keras": "3.15.0", "python": "3.11.9"},
            "git": {"commit": commit(c), "commit_utc": when.isoformat(), "branch": "main"},
            "suite": {"name": suite, "text": "[suite]\n", "sha256": "x"}}  # fmt: skip


def rows(name: str, n_cases: int, repeats: int, slowdown: float, rng: np.random.Generator) -> list[dict]:
    out = []
    for c in range(n_cases):
        opt = OPTIMIZERS[c % len(OPTIMIZERS)]
        lr = 10.0 ** -(1 + c // len(OPTIMIZERS))
        for r in range(repeats):
            train_s = 0.5 * (1 + 0.1 * c) * slowdown * float(np.exp(rng.normal(0.0, 0.02)))
            out.append({
                "run_id": name, "suite": "ci", "case_id": f"c{c:02d}", "case_label": f"{opt}/constant lr={lr:g}",
                "repeat": r, "optimizer": opt, "optimizer_label": opt, "optimizer_params": "{}",
                "schedule": "constant", "schedule_params": "{}", "strategy": "default", "strategy_params": "{}",
                "device": "cpu", "engine": "fast", "precision": "float32", "batch_size": 128, "epochs": 2,
                "learning_rate": lr, "dataset": "mnist-sample", "dataset_hash": "hash", "seed": 0,
                "status": "ok", "train_s": train_s, "samples_per_s": 8000 / train_s,
                "step_ms_p50": 1000 * train_s / 62, "test_accuracy": 0.9,
            })  # fmt: skip
    return out


def write_run(root: Path, i: int, *, n_cases: int = 3, repeats: int = 3, slowdown: float = 1.0,
              suite: str = "ci", machine: str = "box-a", seed: int = 0, commit_index: int | None = None,
              name: str | None = None) -> Path:  # fmt: skip
    """Write run ``i`` under ``root``; its folder."""
    name = name or f"run-{i:04d}-{machine}"
    run_dir = Path(root) / name
    run_dir.mkdir(parents=True)
    store.atomic_write_json(run_dir / store.RUN_JSON, meta(i, name, suite, machine, commit_index))
    rng = np.random.default_rng([seed, i])
    table = schema.frame("cases", rows(name, n_cases, repeats, slowdown, rng))
    store.write_table(run_dir / store.TABLE_FILES["cases"], "cases", table)
    return run_dir


def write_runs(root: Path, n_runs: int, *, n_cases: int = 3, step_at: int | None = None, step: float = 0.12,
               first: int = 0, **kw) -> list[Path]:  # fmt: skip
    """Runs ``first`` .. ``first + n_runs - 1``; from run ``step_at`` on every case is ``1 + step`` x slower."""
    return [write_run(root, i, n_cases=n_cases, slowdown=1 + step if step_at is not None and i >= step_at else 1.0, **kw)
            for i in range(first, first + n_runs)]  # fmt: skip
