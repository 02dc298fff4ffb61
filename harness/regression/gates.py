"""Regression gates: which metric, which statistic, how large a change matters.

A gate is an explicit object parsed from a short string, in the spirit of
pytest-benchmark's ``--benchmark-compare-fail=median:5%``::

    samples_per_s                      metric only: default statistic and threshold
    samples_per_s:5%                   metric and minimum effect size
    step_ms_p50:median:5%              metric, statistic, minimum effect size
    train_s:8%@optimizer=adam*         ... only for cases whose axes match the selector
    10%@engine=eager                   threshold override for every metric of matching cases

The threshold is the *minimum effect size* δ: a regression only when the data
show the change exceeds it (the tests are of δ, see :mod:`harness.regression.decide`).
``5%`` and ``0.05`` mean the same.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from harness import schema
from harness.errors import HarnessError
from harness.keyvalue import KeyValueError, key_values

DEFAULT_THRESHOLD = 0.05
STATISTICS = ("median", "mean")


@dataclass(frozen=True)
class Metric:
    """A comparable column of the cases table and which way is better."""

    name: str
    higher_is_better: bool
    unit: str
    title: str


def _schema_metrics() -> dict[str, Metric]:
    """Every cases column the schema declares with a direction (``better``), so a new column is
    a metric as soon as it is declared: the list is data, not code."""
    cols = schema.CASE_COLUMNS
    out = {n: Metric(n, d == schema.HIGHER, cols[n].unit, cols[n].doc) for n, d in schema.directions().items()}
    # pytest-benchmark files without harness figures: seconds per round
    out["round_s"] = Metric("round_s", False, "s", "pytest-benchmark time per round")
    return out


METRICS: dict[str, Metric] = _schema_metrics()

# The family gated by default: ONE primary metric per case. Examples/s covers the whole timed
# window (every update, the host calls between them, input gathering) and means the same for every
# engine and strategy; the time per update of the fast and keras_fit engines is a per-chunk time
# divided by K. On log ratios its verdict equals train_s's (same examples, reciprocal).
PRIMARY_METRIC = "samples_per_s"
# computed and shown, but they gate only when asked (--metric, the suite's [gate] table)
# (step_ms_p50 where single updates were timed, chunk_ms_p50 where chunks were: harness.timing_names)
REPORTED_METRICS = ("step_ms_p50", "chunk_ms_p50", "train_s", "energy_per_sample_j", "test_accuracy")
DEFAULT_METRICS = (PRIMARY_METRIC, *REPORTED_METRICS)
# also gated, silently skipped where absent (plain pytest-benchmark files only)
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
    """The gated metrics (the family), the report-only ones, and the thresholds for each case."""

    metrics: tuple[Gate, ...]
    overrides: tuple[Gate, ...] = ()
    default_threshold: float = DEFAULT_THRESHOLD
    reported: tuple[Gate, ...] = ()
    explicit: tuple[str, ...] = ()  # metrics the user named (each must then exist in the rows)

    @classmethod
    def from_strings(
        cls, metrics: list[str] | None = None, thresholds: list[str] | None = None,
        *, primary: str | None = None, report: bool = True,
    ) -> GateSet:  # fmt: skip
        """The primary metric plus ``--metric`` strings gate; ``--threshold`` strings set defaults/overrides."""
        primary = primary or PRIMARY_METRIC
        if primary not in METRICS:
            raise GateError(f"primary metric {primary!r}: unknown; known: {', '.join(METRICS)}")
        added = [parse_gate(s) for s in (metrics or [])]
        if any(g.metric is None for g in added):
            raise GateError("--metric needs a metric name (e.g. 'step_ms_p50:5%')")
        gated = [Gate(primary), Gate(IMPLICIT_METRICS[0])]
        for g in added:  # an added gate of the primary metric (e.g. with its own threshold) replaces it
            gated = [x for x in gated if (x.metric, dict(x.selector)) != (g.metric, dict(g.selector))] + [g]
        names = {g.metric for g in gated}
        shown = [Gate(m) for m in DEFAULT_METRICS if m not in names] if report else []
        default = DEFAULT_THRESHOLD
        overrides = []
        for text in thresholds or []:
            gate = parse_gate(text)
            if gate.metric is None and not gate.selector:
                default = gate.threshold  # plain '--threshold 7%'
            else:
                overrides.append(gate)
        named = tuple(dict.fromkeys(g.metric for g in added if g.metric))
        return cls(tuple(gated), tuple(overrides), default, tuple(shown), named)

    def require_columns(self, *tables: pd.DataFrame) -> None:
        """Raise :class:`GateError` (exit 2) for a metric the user named that no row has.

        A column absent from every table, or NaN in every row of every table, is
        an error naming the metric (and, for the hardware counters, why they are
        missing); a default metric that is missing is only skipped with a note.
        """
        for name in self.explicit:
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


GATE_KEYS = ("primary", "metrics", "threshold", "alpha")


def check_gate_table(raw: object, where: str = "gate") -> dict[str, object]:
    """Validate a suite's ``[gate]`` table; raise :class:`GateError` naming the key and value.

    ``primary = "samples_per_s"`` (the metric every case gates on), ``metrics = ["step_ms_p50:8%"]``
    (more gated metrics, gate strings), ``threshold = "5%"`` (default minimum effect),
    ``alpha = 0.05`` (family-wise, per build).
    """
    if not isinstance(raw, Mapping):
        raise GateError(f"{where}: expected a table, got {raw!r}")
    unknown = set(raw) - set(GATE_KEYS)
    if unknown:
        raise GateError(f"{where}: unknown key(s) {sorted(unknown)}; known: {', '.join(GATE_KEYS)}")
    out: dict[str, object] = {}
    if "primary" in raw:
        if raw["primary"] not in METRICS:
            raise GateError(f"{where}.primary: unknown metric {raw['primary']!r}; known: {', '.join(METRICS)}")
        out["primary"] = raw["primary"]
    if "metrics" in raw:
        items = raw["metrics"]
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            raise GateError(f"{where}.metrics: expected a list of gate strings, got {items!r}")
        for text in items:
            if parse_gate(text).metric is None:
                raise GateError(f"{where}.metrics: {text!r} names no metric")
        out["metrics"] = list(items)
    if "threshold" in raw:
        out["threshold"] = str(raw["threshold"])
        parse_threshold(out["threshold"])
    if "alpha" in raw:
        a = raw["alpha"]
        if isinstance(a, bool) or not isinstance(a, (int, float)) or not 0 < a < 1:
            raise GateError(f"{where}.alpha: expected a number in (0, 1), got {a!r}")
        out["alpha"] = float(a)
    return out
