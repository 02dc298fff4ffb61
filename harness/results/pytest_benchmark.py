"""pytest-benchmark's JSON format, both ways.

A harness run becomes one pytest-benchmark *benchmark* per case; a *round* is
one repeat and its time is the repeat's ``train_s`` (the timed training
window, seconds), so ``stats`` (computed with pytest-benchmark's own ``Stats``)
and ``ops`` (repeats per second) mean what pytest-benchmark users expect.
``extra_info`` carries the harness's own figures: medians of examples/s,
energy per example and test accuracy, the status, and under ``"harness"`` the
case's axes and every repeat's values, so that ``harness compare`` can read
the file back without losing anything.

A foreign pytest-benchmark file (no ``extra_info["harness"]``) is read as cases
whose metric ``round_s`` comes from ``stats["data"]`` (saved with
``--benchmark-save-data``); without it only aggregates exist and a comparison
says so (inconclusive: too few repeats).
"""

from __future__ import annotations

import math
import platform
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pytest_benchmark import __version__ as PB_VERSION
from pytest_benchmark.stats import Stats

from harness import schema
from harness.run_meta import RunMeta

HARNESS_KEY = "harness"
REPEAT_METRICS = (
    "samples_per_s", "step_ms_p50", "step_ms_p90", "chunk_ms_p50", "chunk_ms_p90", "train_s", "wall_s", "energy_per_sample_j",
    "energy_j", "test_accuracy", "steps_per_s",
)  # fmt: skip
CASE_FIELDS = tuple(schema.IDENTITY) + tuple(schema.AXES)


def _clean(value: Any) -> Any:
    """JSON-friendly scalar: NA/NaN -> None, numpy -> Python."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def stats_dict(data: list[float]) -> dict[str, Any]:
    """pytest-benchmark's ``stats`` block for rounds ``data`` (seconds), including the data."""
    s = Stats()
    for d in data:
        s.update(float(d))
    out = s.as_dict()
    out["data"] = [float(d) for d in data]
    out["iterations"] = 1
    return out


def _median(df: pd.DataFrame, col: str) -> float | None:
    if col not in df:
        return None
    v = pd.to_numeric(df[col], errors="coerce").median()
    return None if pd.isna(v) else float(v)


def harness_extra_info(rows: pd.DataFrame) -> dict[str, Any]:
    """``extra_info`` for one case: headline medians + the full per-repeat record."""
    ok = rows[rows["status"].astype("string").fillna("") == "ok"] if "status" in rows else rows
    first = rows.iloc[0].to_dict()
    statuses = rows["status"].astype("string").fillna("?").value_counts() if "status" in rows else {}
    status = "ok" if len(ok) == len(rows) else ",".join(f"{k}:{int(v)}" for k, v in statuses.items())
    return {
        "examples_per_s": _median(ok, "samples_per_s"),
        "energy_per_sample_j": _median(ok, "energy_per_sample_j"),
        "test_accuracy": _median(ok, "test_accuracy"),
        "status": status,
        HARNESS_KEY: {
            "case": {k: _clean(first.get(k)) for k in CASE_FIELDS if k not in ("repeat", "run_id")},
            "repeats": {
                m: [_clean(v) for v in rows[m]] for m in REPEAT_METRICS + ("status", "repeat") if m in rows
            },
        },
    }


def machine_info(meta: RunMeta) -> dict[str, Any]:
    machine, software = meta.machine, meta.software
    return {
        "node": machine.host or platform.node(),
        "processor": machine.cpu_model or "",
        "machine": machine.arch or platform.machine(),
        "python_implementation": platform.python_implementation(),
        "python_version": software.get("python") or platform.python_version(),
        "system": machine.os or platform.system(),
        "release": machine.kernel or platform.release(),
        "cpu": {"brand_raw": machine.cpu_model or "", "count": machine.cpu_count_logical},
        HARNESS_KEY: {"schema_version": meta.schema_version, "meta_version": meta.meta_version,
                      "run_id": meta.run_id, "harness_version": meta.harness_version,
                      "machine": meta.machine.to_dict(), "software": dict(software)},
    }


def commit_info(meta: RunMeta) -> dict[str, Any]:
    return {
        "id": meta.git.commit,
        "dirty": meta.git.dirty,
        "project": "mnist-bench-harness",
        "branch": meta.git.branch,
        "time": meta.started_utc,
    }


def run_to_pytest_benchmark(meta: RunMeta, cases: pd.DataFrame) -> dict[str, Any]:
    """The whole pytest-benchmark document for a run (``meta`` = run.json, ``cases`` table)."""
    benchmarks = []
    for case_id, rows in cases.groupby("case_id", sort=False):
        rows = rows.sort_values("repeat") if "repeat" in rows else rows
        ok = rows[rows["status"].astype("string").fillna("") == "ok"]
        data = [float(v) for v in pd.to_numeric(ok["train_s"], errors="coerce").dropna()]
        label = _clean(rows.iloc[0].get("case_label")) or str(case_id)
        suite = _clean(rows.iloc[0].get("suite")) or "harness"
        benchmarks.append({
            "group": suite,
            "name": f"{suite}[{label}]",
            "fullname": f"harness::{suite}[{label}]",
            "params": {"case": label},
            "param": label,
            "extra_info": harness_extra_info(rows),
            "options": {"timer": "harness train_s", "disable_gc": False, "min_rounds": len(rows),
                        "max_time": None, "min_time": None, "warmup": False},
            "stats": stats_dict(data) if data else None,
        })  # fmt: skip
    return {
        "machine_info": machine_info(meta),
        "commit_info": commit_info(meta),
        "benchmarks": [b for b in benchmarks if b["stats"] is not None],
        "datetime": datetime.now(UTC).isoformat(),
        "version": PB_VERSION,
    }


def is_pytest_benchmark(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("benchmarks"), list) and "machine_info" in doc


def pytest_benchmark_to_cases(doc: Mapping[str, Any]) -> tuple[pd.DataFrame, RunMeta]:
    """Rows shaped like the cases table (one per round) and a run.json-like meta."""
    rows: list[dict[str, Any]] = []
    for bench in doc.get("benchmarks", []):
        extra = bench.get("extra_info") or {}
        block = extra.get(HARNESS_KEY)
        if isinstance(block, Mapping) and block.get("repeats"):
            case, reps = dict(block.get("case") or {}), block["repeats"]
            n = max(len(v) for v in reps.values())
            for i in range(n):
                row = {**case, **{m: (v[i] if i < len(v) else None) for m, v in reps.items()}}
                row.setdefault("status", "ok")
                rows.append(row)
            continue
        stats = bench.get("stats") or {}
        # without --benchmark-save-data only aggregates exist: one value, too few to test
        data = stats.get("data") or ([stats["median"]] if stats.get("median") is not None else [])
        name = bench.get("fullname") or bench.get("name")
        for i, d in enumerate(data):
            rows.append({"case_label": name, "optimizer": name, "repeat": i, "status": "ok", "round_s": d})
    df = pd.DataFrame.from_records(rows)
    info = doc.get("machine_info") or {}
    recorded = dict(info.get(HARNESS_KEY) or {})  # run.json's JSON object, as exported
    if not recorded.get("machine"):  # a file pytest-benchmark wrote itself: its machine_info is all there is
        cpu = info.get("cpu") or {}
        recorded["machine"] = {"cpu_model": cpu.get("brand_raw") or info.get("processor") or None}
    return df, RunMeta.from_dict(recorded, "pytest-benchmark machine_info")
