"""Synthetic run folders for the compare tests (written through harness.results.store)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from harness import schema
from harness.results import store

META = {
    "schema_version": schema.SCHEMA_VERSION,
    "harness_version": "0.1.0",
    "machine": {"cpu_model": "Test CPU 9000", "cpu_count": 2, "gpus": []},
    "software": {"tensorflow": "2.21.0", "keras": "3.15.0", "python": "3.11.9"},
}


def noisy(rng: np.random.Generator, n: int, sigma: float = 0.03, p_out: float = 0.1) -> np.ndarray:
    """Multiplicative noise: log-normal (sigma) times occasional 1.2-1.6x slow outliers."""
    x = np.exp(rng.normal(0.0, sigma, n))
    out = rng.random(n) < p_out
    x[out] *= rng.uniform(1.2, 1.6, out.sum())
    return x


def case_rows(
    run_id: str, *, repeats: int = 10, slowdown: float = 1.0, dataset: str = "mnist-sample",
    seed: int = 0, optimizers: tuple[str, ...] = ("sgd", "adam"), status: str = "ok",
    energy: bool = False,
) -> list[dict]:  # fmt: skip
    rng = np.random.default_rng(seed)
    rows = []
    for (i, opt), r in itertools.product(enumerate(optimizers), range(repeats)):
        f = noisy(rng, 1)[0] * slowdown
        train_s = 0.5 * (1 + i) * f
        rows.append({
            "run_id": run_id, "suite": "ci", "case_id": f"c{i}-{dataset}", "case_label": f"{opt}/constant",
            "repeat": r, "optimizer": opt, "optimizer_label": opt, "optimizer_params": "{}",
            "schedule": "constant", "schedule_params": "{}", "strategy": "default", "strategy_params": "{}",
            "device": "cpu", "engine": "fast", "precision": "float32", "batch_size": 128, "epochs": 2,
            "learning_rate": 0.001, "dataset": dataset, "dataset_hash": f"hash-{dataset}", "seed": 0,
            "status": status, "train_s": train_s, "samples_per_s": 8000 / train_s,
            "step_ms_p50": 1000 * train_s / 62, "test_accuracy": 0.8 + 0.01 * i,
            "energy_per_sample_j": 2e-4 * f if energy else None,
        })  # fmt: skip
    return rows


@pytest.fixture
def make_run(tmp_path: Path) -> Callable[..., Path]:
    """make_run(name, **case_rows kwargs, meta=...) -> path of a run folder under tmp_path."""

    def make(name: str, *, meta: dict | None = None, parent: Path | None = None, **kw) -> Path:
        run_dir = (parent or tmp_path) / name
        run_dir.mkdir(parents=True)
        store.atomic_write_json(run_dir / "run.json", {**META, "run_id": name, **(meta or {})})
        store.write_table(run_dir / "cases.parquet", "cases", schema.frame("cases", case_rows(name, **kw)))
        return run_dir

    return make
