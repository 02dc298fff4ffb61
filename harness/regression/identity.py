"""What makes two rows the same case, and two runs comparable: used by ``compare`` and ``history``.

A case is identified by its ``case_id`` (a hash of every case key the suite
knows, including ``collectors``, ``steps_per_execution`` and ``jit_compile``)
*and* the recorded axes, normalised (JSON parameters with sorted keys, 1.0 == 1):
two configurations are never pooled, and a changed setting makes a different
case rather than a silent match.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from harness import schema
from harness.run_meta import RunMeta

MATCH_AXES = (
    "optimizer", "optimizer_params", "schedule", "schedule_params", "strategy", "strategy_params",
    "device", "engine", "precision", "batch_size", "epochs", "learning_rate", "dataset", "dataset_params", "seed",
)  # fmt: skip
IDENTITY = ("case_id", *MATCH_AXES)
ENV_KEYS = ("cpu_model", "gpu_models", "harness_version", "tensorflow")


def norm(value: Any) -> str:
    """A value as comparable text: None/NaN -> "", JSON re-dumped with sorted keys, 1.0 -> "1"."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "{[":
            try:
                return json.dumps(json.loads(text), sort_keys=True)
            except ValueError:
                return text
        return text
    if isinstance(value, (float, np.floating)):
        return repr(float(value)) if not float(value).is_integer() else str(int(value))
    return str(value)


def case_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    """The full identity of the case a row belongs to (see the module docstring)."""
    return tuple(norm(row.get(axis)) for axis in IDENTITY)


def key_json(key: tuple[str, ...]) -> str:
    return json.dumps(dict(zip(IDENTITY, key, strict=True)))


def case_name(row: Mapping[str, Any]) -> str:
    label = norm(row.get("case_label"))
    if label:
        return label
    parts = [norm(row.get("optimizer_label")) or norm(row.get("optimizer")), norm(row.get("schedule"))]
    parts += [norm(row.get(k)) for k in ("engine", "device", "dataset")]
    return "/".join(p for p in parts if p) or "case"


def group_cases(df: pd.DataFrame) -> dict[tuple[str, ...], pd.DataFrame]:
    """Rows grouped by case identity, in first-seen order."""
    if df.empty:
        return {}
    positions: dict[tuple[str, ...], list[int]] = {}
    for i, row in enumerate(df.to_dict("records")):
        positions.setdefault(case_key(row), []).append(i)
    return {k: df.iloc[idx] for k, idx in positions.items()}


def display_names(groups: Mapping[tuple[str, ...], pd.DataFrame]) -> dict[tuple[str, ...], str]:
    """A readable, unique name per case: the label, plus a short case_id where labels collide."""
    names = {k: case_name(g.iloc[0].to_dict()) for k, g in groups.items()}
    counts: dict[str, int] = {}
    for n in names.values():
        counts[n] = counts.get(n, 0) + 1
    return {k: n if counts[n] == 1 else f"{n} [{k[0][:8] or '?'}]" for k, n in names.items()}


def environment(meta: RunMeta) -> dict[str, str | None]:
    """The parts of run.json that make two runs comparable (missing -> None)."""
    machine, software = meta.machine, meta.software
    gpus = machine.gpus or []
    names = sorted(
        str(g.get("name") or g.get("model") or g) if isinstance(g, Mapping) else str(g) for g in gpus
    )
    return {
        "cpu_model": machine.cpu_model or None,
        "gpu_models": ", ".join(names) if names else ("none" if machine.gpus is not None else None),
        "harness_version": meta.harness_version or None,
        "tensorflow": software.get("tensorflow") or None,
    }


def env_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Keys known on both sides whose values differ, as readable lines."""
    return [f"{k}: {a[k]!r} vs {b[k]!r}" for k in ENV_KEYS if a.get(k) and b.get(k) and a[k] != b[k]]


def env_unknown(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Keys that cannot be checked: the CPU model missing on a side, or another key known on one side only."""
    required = ["cpu_model", *(k for k in ENV_KEYS[1:] if a.get(k) or b.get(k))]
    return [f"{k} unknown on the {'baseline' if not a.get(k) else 'current'} side"
            for k in required if not (a.get(k) and b.get(k))]  # fmt: skip


def flag_note(df: pd.DataFrame) -> str:
    """Rows marked by a ``*_flag`` column (contention, short energy window...), e.g. "3/10 contention_flag"."""
    parts = []
    for col in (c for c in schema.flag_columns() if c in df.columns):
        values = df[col]
        if values.dtype == bool or str(values.dtype) == "boolean":
            hit = values.fillna(False).astype(bool)
        else:
            hit = values.astype("string").fillna("").str.strip().isin(["", "0", "false", "False"]) == False  # noqa: E712
        if int(hit.sum()):
            kinds = sorted({str(v) for v in values[hit]} - {"True", "true", "1"})
            parts.append(f"{int(hit.sum())}/{len(df)} {col}" + (f"={','.join(kinds)}" if kinds else ""))
    return "; ".join(parts)
