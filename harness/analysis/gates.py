"""Regression gates: which metric, which statistic, how large a change matters.

A gate is an explicit object parsed from a short string, in the spirit of
pytest-benchmark's ``--benchmark-compare-fail=median:5%``::

    samples_per_s                      metric only: default statistic and threshold
    samples_per_s:5%                   metric and minimum effect size
    step_ms_p50:median:5%              metric, statistic, minimum effect size
    train_s:8%@optimizer=adam*         ... only for cases whose axes match the selector
    10%@engine=eager                   threshold override for every metric of matching cases

The threshold is the *minimum effect size*: a change smaller than it is never a
regression, however significant. ``5%`` and ``0.05`` mean the same.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from harness.errors import HarnessError
from harness.keyvalue import KeyValueError, key_values
from harness.schema import CASE_COLUMNS

DEFAULT_THRESHOLD = 0.05
STATISTICS = ("median", "mean")


@dataclass(frozen=True)
class Metric:
    """A comparable column of the cases table and which way is better."""

    name: str
    higher_is_better: bool
    unit: str
    title: str


_TITLES = {
    "train_cpu_s": "training CPU time", "eval_cpu_s": "evaluation CPU time",
    "cpu_ms_per_update": "CPU time per update", "eval_cpu_ms_per_pass": "CPU time per evaluation",
    "train_instructions": "instructions", "train_cycles": "cycles",
    "instructions_per_update": "instructions per update",
}

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("samples_per_s", True, "examples/s", "throughput"),
        Metric("step_ms_p50", False, "ms", "median step time"),
        Metric("train_s", False, "s", "training time"),
        Metric("energy_per_sample_j", False, "J/example", "energy per example"),
        Metric("test_accuracy", True, "fraction", "test accuracy"),
        # extra columns a user may ask for explicitly
        Metric("steps_per_s", True, "steps/s", "steps per second"),
        Metric("step_ms_p90", False, "ms", "90th percentile step time"),
        Metric("step_ms_p99", False, "ms", "99th percentile step time"),
        Metric("wall_s", False, "s", "whole case time"),
        Metric("compile_s", False, "s", "compile time"),
        Metric("energy_j", False, "J", "energy"),
        Metric("time_to_target_s", False, "s", "time to target accuracy"),
        Metric("peak_rss_bytes", False, "bytes", "peak memory"),
        # pytest-benchmark files without harness figures: seconds per round
        Metric("round_s", False, "s", "pytest-benchmark time per round"),
    )
}

# every other cases column the schema declares with a direction (``better``), e.g. the CPU-time ones
METRICS.update({
    c.name: Metric(c.name, c.better == "higher", c.unit, _TITLES.get(c.name, c.name.replace("_", " ")))
    for c in CASE_COLUMNS.values() if c.better and c.name not in METRICS
})

DEFAULT_METRICS = ("samples_per_s", "step_ms_p50", "train_s", "energy_per_sample_j", "test_accuracy")
# also compared by default, silently skipped where absent (plain pytest-benchmark files only)
IMPLICIT_METRICS = ("round_s",)


def _why(metric: str, tables: list[pd.DataFrame]) -> str:
    """The recorded reason a metric is missing, where the schema has one (``*_reason`` columns)."""
    reason_col = {"train_instructions": "hw_counter_reason", "train_cycles": "hw_counter_reason",
                  "instructions_per_update": "hw_counter_reason"}.get(metric)
    for t in tables:
        if reason_col and reason_col in t.columns:
            reasons = t[reason_col].dropna().astype(str)
            if len(reasons):
                return f": {reasons.iloc[0]}"
    return ""


class GateError(HarnessError):
    """A gate string could not be parsed (exit code 2)."""


@dataclass(frozen=True)
class Gate:
    """One metric to compare, with its statistic, threshold and optional case selector."""

    metric: str | None  # None: a threshold override for every metric
    statistic: str = "median"
    threshold: float | None = None  # None: the default threshold
    selector: Mapping[str, str] = field(default_factory=dict)  # axis -> glob

    def matches(self, case: Mapping[str, object]) -> bool:
        """True when every selector glob matches the case's axis value (as text)."""
        for key, pattern in self.selector.items():
            value = case.get(key)
            text = "" if value is None else str(value)
            if not fnmatch.fnmatchcase(text, pattern):
                return False
        return True

    def __str__(self) -> str:
        parts = [p for p in (self.metric, self.statistic if self.metric else None) if p]
        if self.threshold is not None:
            parts.append(f"{self.threshold * 100:g}%")
        sel = ",".join(f"{k}={v}" for k, v in self.selector.items())
        return ":".join(parts) + (f"@{sel}" if sel else "")


_PCT = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)(%?)$")


def parse_threshold(text: str) -> float:
    """``"5%"`` or ``"0.05"`` -> 0.05. Must lie in (0, 10)."""
    m = _PCT.match(text.strip())
    if not m:
        raise GateError(f"threshold {text!r}: expected a percentage like '5%' or a fraction like 0.05")
    value = float(m.group(1)) / (100.0 if m.group(2) else 1.0)
    if not 0.0 < value < 10.0:
        raise GateError(f"threshold {text!r}: must be > 0 (and a sane fraction). Received: {value}")
    return value


def _parse_selector(text: str, source: str) -> dict[str, str]:
    try:
        return key_values(text)
    except KeyValueError as exc:
        raise GateError(f"gate {source!r}: selector item {exc.item!r} must look like axis=glob") from None


def parse_gate(text: str) -> Gate:
    """Parse ``METRIC[:STATISTIC][:THRESHOLD][@axis=glob,...]`` or ``THRESHOLD[@...]``."""
    body, _, sel = text.partition("@")
    selector = _parse_selector(sel, text) if sel else {}
    parts = [p.strip() for p in body.split(":") if p.strip()]
    if not parts:
        raise GateError(f"gate {text!r}: empty; expected e.g. 'samples_per_s:5%'")
    metric: str | None = None
    statistic = "median"
    threshold = None
    if _PCT.match(parts[0]) and len(parts) == 1:
        return Gate(None, statistic, parse_threshold(parts[0]), selector)
    metric, rest = parts[0], parts[1:]
    if metric not in METRICS:
        raise GateError(f"gate {text!r}: unknown metric {metric!r}; known: {', '.join(METRICS)}")
    if len(rest) > 2:
        raise GateError(f"gate {text!r}: too many ':' parts; expected METRIC[:STATISTIC][:THRESHOLD]")
    for part in rest:
        if part in STATISTICS:
            statistic = part
        elif _PCT.match(part):
            threshold = parse_threshold(part)
        else:
            raise GateError(
                f"gate {text!r}: {part!r} is neither a statistic ({', '.join(STATISTICS)}) "
                "nor a threshold like 5%"
            )
    return Gate(metric, statistic, threshold, selector)


@dataclass(frozen=True)
class GateSet:
    """The metrics to compare and the thresholds in force for each case."""

    metrics: tuple[Gate, ...]
    overrides: tuple[Gate, ...] = ()
    default_threshold: float = DEFAULT_THRESHOLD
    explicit: bool = False  # the user named the metrics (each must then exist in the rows)

    @classmethod
    def from_strings(
        cls, metrics: list[str] | None = None, thresholds: list[str] | None = None
    ) -> GateSet:
        """``--metric`` strings choose metrics; ``--threshold`` strings set defaults/overrides."""
        gates = [parse_gate(s) for s in (metrics or [])]
        if any(g.metric is None for g in gates):
            raise GateError("--metric needs a metric name (e.g. 'samples_per_s:5%')")
        if not gates:
            gates = [Gate(m) for m in DEFAULT_METRICS + IMPLICIT_METRICS]
        default = DEFAULT_THRESHOLD
        overrides = []
        for text in thresholds or []:
            gate = parse_gate(text)
            if gate.metric is None and not gate.selector:
                default = gate.threshold  # plain '--threshold 7%'
            else:
                overrides.append(gate)
        return cls(tuple(gates), tuple(overrides), default, explicit=bool(metrics))

    def require_columns(self, *tables: pd.DataFrame) -> None:
        """Raise :class:`GateError` (exit 2) for a metric the user named that no row has.

        A column absent from every table, or NaN in every row of every table, is
        an error naming the metric (and, for the hardware counters, why they are
        missing); a default metric that is missing is only skipped with a note.
        """
        if not self.explicit:
            return
        for name in dict.fromkeys(g.metric for g in self.metrics if g.metric):
            present = [t for t in tables if name in t.columns]
            if not present:
                raise GateError(f"metric {name!r}: no such column in the rows compared "
                                "(results written before the metric existed?)")
            if not any(pd.to_numeric(t[name], errors="coerce").notna().any() for t in present):
                raise GateError(f"metric {name!r}: not measured in any row (NaN everywhere){_why(name, present)}")

    def threshold_for(self, gate: Gate, case: Mapping[str, object]) -> float:
        """The most specific threshold: a matching override (last wins), the gate's, the default."""
        value = gate.threshold if gate.threshold is not None else self.default_threshold
        for over in self.overrides:
            if over.metric not in (None, gate.metric) or not over.matches(case):
                continue
            if over.threshold is not None:
                value = over.threshold
        return value
