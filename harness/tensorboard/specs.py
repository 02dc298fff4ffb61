"""What goes into the TensorBoard logdir: the hyperparameters, the metrics and the per-epoch scalars.

Declared once here (pure data, no TensorFlow), read by :mod:`.sessions` (which
turns result rows into sessions) and :mod:`.events` (which writes them).

Energy tags carry the estimate's label when the figure is not a measurement:
``energy/cpu_energy_j`` is measured (RAPL, NVML), ``energy/cpu_energy_j[estimate_tdp]``
is an estimate from a TDP, so measured and estimated figures never share a chart
or an HParams column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness import schema
from harness.schema import MEASURED_SOURCES, UNAVAILABLE

HParamValue = str | int | float | bool


@dataclass(frozen=True)
class HParamSpec:
    """One HParams hyperparameter: a case axis (or outcome flag) read from a ``cases`` column."""

    name: str
    column: str
    kind: type  # str, int, float or bool
    description: str
    always: bool = True  # False: in the experiment only when it takes several values


HPARAMS: tuple[HParamSpec, ...] = (
    HParamSpec("optimizer", "optimizer_label", str, "optimizer (its suite label, else its registry name)"),
    HParamSpec("schedule", "schedule_label", str, "learning-rate schedule (label, else name)"),
    HParamSpec("engine", "engine", str, "how the training loop is driven: fast, keras_fit, eager"),
    HParamSpec("strategy", "strategy", str, "tf.distribute strategy"),
    HParamSpec("replicas", "num_replicas", int, "replicas in sync", always=False),
    HParamSpec("device", "device", str, "cpu, cpu:N, gpu, gpu:K, tpu"),
    HParamSpec("precision", "precision", str, "float32, mixed_bfloat16 or mixed_float16"),
    HParamSpec("batch_size", "batch_size", int, "global batch size (examples)"),
    HParamSpec("learning_rate", "learning_rate", float,
               "initial learning rate of the case (the rate in force per epoch is the "
               "train/learning_rate scalar)"),
    HParamSpec("epochs", "epochs", int, "epochs requested", always=False),
    HParamSpec("dataset", "dataset", str, "dataset registry name"),
    HParamSpec("machine", "machine", str, "the machine the case ran on (the row's machine or host, kept per row in merged runs; else run.json's)"),
    HParamSpec("suite", "suite", str, "suite name", always=False),
    HParamSpec("run", "run", str, "harness run folder the case comes from"),
    HParamSpec("status", "status", str,
               "outcome, not an axis: ok, diverged, failed, crashed, timeout, skipped (filter on ok)"),
    HParamSpec("profiled", "profiled", bool,
               "a profiler ran during the repeat: its timings are perturbed (filter on false)"),
)


@dataclass(frozen=True)
class MetricSpec:
    """One HParams metric: a case result, written once as the scalar ``result/<column>``."""

    column: str
    display: str
    energy: bool = False  # True: the tag carries the estimate's label when estimated


# In this order in the HParams experiment (the dashboard shows the first five by default):
# the quality, the speed, and what reaching the target costs.
METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("test_accuracy", "test accuracy"),
    MetricSpec("samples_per_s", "examples/s"),
    MetricSpec("time_to_target_s", "s to target"),
    MetricSpec("energy_per_sample_j", "J/example", energy=True),
    MetricSpec("energy_to_target_j", "J to target", energy=True),
    MetricSpec("step_ms_p50", "ms/update p50"),
    MetricSpec("chunk_ms_p50", "ms/update p50 (chunk averages)"),
    MetricSpec("train_s", "train s"),
    MetricSpec("energy_j", "energy J", energy=True),
    MetricSpec("final_loss", "final loss"),
)
RESULT_PREFIX = "result/"

# Per-epoch scalars: tag -> epoch columns, the first non-missing one wins (the rate
# in force was called ``learning_rate`` in the epochs table before issue 13 renamed it).
EPOCH_SCALARS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("train/loss", ("loss",)),
    ("train/accuracy", ("train_accuracy",)),
    ("test/loss", ("test_loss",)),
    ("test/accuracy", ("test_accuracy",)),
    ("train/learning_rate", ("learning_rate_in_force", "learning_rate")),
    ("time/epoch_s", ("epoch_s",)),
    ("time/cum_train_s", ("cum_train_s",)),
)
ENERGY_PREFIX = "energy/"



def present(value: Any) -> bool:
    """True for a real value (not None, NA or NaN)."""
    if value is None or value is pd.NA:
        return False
    try:
        return not (isinstance(value, float) and math.isnan(value)) and not pd.isna(value)
    except (TypeError, ValueError):
        return True


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number, else None (missing is never 0)."""
    if not present(value):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def source_column(column: str) -> str:
    """The ``*_source`` column that says whether an energy column was measured or estimated."""
    name = column.removeprefix("epoch_")  # epochs.parquet: epoch_cpu_energy_j, epoch_gpu_energy_j
    if name.startswith(("cpu_", "dram_", "psys_")):
        return "cpu_energy_source"
    if name.startswith("gpu_"):
        return "gpu_energy_source"
    return "energy_source"


def estimate_label(column: str, *rows: Mapping[str, Any]) -> str:
    """'' when ``column`` was measured; else the estimate's label (``estimate_tdp``, ...).

    The source is looked up in each of ``rows`` in turn (an epoch row, then its
    case row). A total whose source is ``estimated`` or ``mixed`` is labelled with
    the CPU/GPU sources that are estimates, e.g. ``estimate_tdp``.
    """
    key = source_column(column)
    source = next((str(r[key]) for r in rows if present(r.get(key))), "")
    if source in MEASURED_SOURCES:
        return ""
    if key == "energy_source" and source in ("estimated", "mixed", ""):
        parts = sorted({str(r[k]) for k in ("cpu_energy_source", "gpu_energy_source") for r in rows
                        if present(r.get(k)) and str(r[k]) not in MEASURED_SOURCES | {UNAVAILABLE}})
        if parts:
            return "+".join(parts) if source != "mixed" else "mixed:" + "+".join(parts)
    return source or "source_unknown"


def labelled(tag: str, label: str) -> str:
    return f"{tag}[{label}]" if label else tag


def split_label(tag: str) -> tuple[str, str]:
    """``'result/energy_j[estimate_tdp]'`` -> ``('result/energy_j', 'estimate_tdp')``."""
    if tag.endswith("]") and "[" in tag:
        base, label = tag[:-1].split("[", 1)
        return base, label
    return tag, ""


def column_doc(column: str, table: str = "cases") -> str:
    """'doc (unit)' of a declared column, '' for an undeclared one."""
    col = schema.TABLES[table].get(column) or schema.TABLES["cases"].get(column)
    if col is None:
        return ""
    return f"{col.doc} ({col.unit})" if col.unit else col.doc


def metric_description(tag: str) -> tuple[str, str]:
    """(display name, description) of a ``result/...`` tag."""
    base, label = split_label(tag)
    column = base.removeprefix(RESULT_PREFIX)
    spec = next((m for m in METRICS if m.column == column), None)
    display = spec.display if spec else column
    doc = column_doc(column)
    if label:
        return f"{display} ≈ {label}", f"{doc}. Estimated, not measured ({label})."
    return display, doc
