"""Turn a run's result rows into TensorBoard sessions: one per case x repeat (no TensorFlow here).

A session is what one TensorBoard run holds: its name (``<case label>/repeat-<k>``),
its HParams values, its per-epoch and result scalars, a Markdown note for the
Text tab and where its profiler trace lies. :mod:`.events` writes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from harness.run_meta import RunMeta
from harness.tensorboard.specs import (
    ENERGY_PREFIX,
    EPOCH_SCALARS,
    HPARAMS,
    METRICS,
    RESULT_PREFIX,
    HParamValue,
    column_doc,
    estimate_label,
    finite,
    labelled,
    present,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._,=+@%-]+")
_REPEAT = re.compile(r"repeat-\d+")


@dataclass(frozen=True)
class Scalar:
    tag: str
    step: int
    value: float
    description: str = ""


@dataclass
class Session:
    """One case x repeat as one TensorBoard run."""

    name: str  # path below the harness run's folder in the logdir: "<label path>/repeat-<k>"
    group: str  # shared by the repeats of one case (HParams groups them): "<label path>"
    hparams: dict[str, HParamValue]
    status: str
    start_time_s: float | None = None
    end_time_s: float | None = None
    scalars: list[Scalar] = field(default_factory=list)
    notes: str = ""
    profile_dir: Path | None = None

    @property
    def metric_tags(self) -> list[str]:
        return sorted({s.tag for s in self.scalars if s.tag.startswith(RESULT_PREFIX)})


# ------------------------------------------------------------------ names
def _segments(label: str) -> list[str]:
    parts = []
    for raw in str(label).split("/"):
        seg = _UNSAFE.sub("_", raw.strip()).strip("_")[:100]
        if seg in ("", ".", ".."):
            continue
        parts.append("_" + seg if _REPEAT.fullmatch(seg) else seg)  # a session never nests in another
    return parts or ["case"]


def label_paths(cases: Iterable[tuple[str, str]]) -> dict[str, str]:
    """case_id -> a filesystem-safe path from its label; clashing labels get ``~<case_id>``."""
    paths = {cid: "/".join(_segments(label)) for cid, label in dict(cases).items()}
    seen: dict[str, list[str]] = {}
    for cid, path in paths.items():
        seen.setdefault(path, []).append(cid)
    for path, ids in seen.items():
        if len(ids) > 1:
            for cid in ids:
                paths[cid] = f"{path}~{_UNSAFE.sub('_', cid)}"
    return paths


def session_name(path: str, repeat: int) -> str:
    return f"{path}/repeat-{int(repeat)}"


# ------------------------------------------------------------------ hparams
def machine_of(row: Mapping[str, Any], meta: RunMeta) -> str:
    """The row's own machine (its report axis, kept per row in merged runs), else its host, else the run's."""
    for key in ("machine", "host"):
        if present(row.get(key)) and str(row[key]):
            return str(row[key])
    return meta.machine.label or "?"


def hparams_of(row: Mapping[str, Any], meta: RunMeta, run_name: str) -> dict[str, HParamValue]:
    """The HParams values of a case row (missing axes become '?' or are left out)."""
    extra = {"machine": machine_of(row, meta), "run": run_name}
    out: dict[str, HParamValue] = {}
    for spec in HPARAMS:
        value = extra.get(spec.name, row.get(spec.column))
        if spec.name == "optimizer" and not present(value):
            value = row.get("optimizer")
        if spec.name == "schedule" and not present(value):
            value = row.get("schedule")
        if spec.kind is bool:
            out[spec.name] = bool(value) if present(value) else False
        elif spec.kind in (int, float):
            number = finite(value)
            if number is not None:
                out[spec.name] = int(number) if spec.kind is int else number
        else:
            out[spec.name] = str(value) if present(value) else "?"
    return out


# ------------------------------------------------------------------ scalars
def epoch_scalars(epochs: pd.DataFrame, case: Mapping[str, Any]) -> list[Scalar]:
    """Per-epoch curves (step = epoch, 1-based); missing values are skipped, never 0."""
    out: list[Scalar] = []
    energy_cols = [c for c in epochs.columns if c.endswith("_j")]
    for row in epochs.sort_values("epoch").to_dict("records"):
        step = int(row["epoch"])
        for tag, columns in EPOCH_SCALARS:
            col = next((c for c in columns if finite(row.get(c)) is not None), None)
            if col is not None:
                out.append(Scalar(tag, step, finite(row[col]), column_doc(col, "epochs")))
        for col in energy_cols:
            value = finite(row.get(col))
            if value is None:
                continue
            label = estimate_label(col, row, case)
            out.append(Scalar(labelled(ENERGY_PREFIX + col, label), step, value,
                              _energy_doc(column_doc(col, "epochs"), label, case)))
    return out


def result_scalars(case: Mapping[str, Any], step: int) -> list[Scalar]:
    """The case's results, written once (HParams reads their last value as the metrics)."""
    out = []
    for spec in METRICS:
        value = finite(case.get(spec.column))
        if value is None:
            continue
        label = estimate_label(spec.column, case) if spec.energy else ""
        doc = column_doc(spec.column)
        out.append(Scalar(labelled(RESULT_PREFIX + spec.column, label), step, value,
                          _energy_doc(doc, label, case) if spec.energy else doc))
    return out


def _energy_doc(doc: str, label: str, case: Mapping[str, Any]) -> str:
    """The description of an energy scalar: measured or estimated, and why it is not to be trusted."""
    from harness.analysis import validity

    why = validity.row_reasons(case)
    return _source_doc(doc, label, case) + (f" {validity.MARK} Not to be trusted: {why}." if why else "")


def _source_doc(doc: str, label: str, case: Mapping[str, Any]) -> str:
    if not label:
        return f"{doc}. Measured."
    tdp = finite(case.get("cpu_tdp_w"))
    how = f"; CPU TDP {tdp:g} W ({case.get('cpu_tdp_origin') or 'origin not recorded'})" if tdp else ""
    reason = case.get("cpu_energy_reason")
    why = f"; {reason}" if present(reason) and reason else ""
    return f"{doc}. Estimated, not measured: {label}{how}{why}."


# ------------------------------------------------------------------ sessions
def build_sessions(run_dir: Path, meta: RunMeta, cases: pd.DataFrame, epochs: pd.DataFrame,
                   run_name: str, paths: Mapping[str, str] | None = None) -> list[Session]:
    """One session per row of ``cases`` (every status: a skipped case still shows why)."""
    paths = paths or label_paths(zip(cases["case_id"], cases["case_label"].fillna(cases["case_id"]),
                                     strict=True))
    by_key = {k: g for k, g in epochs.groupby(["case_id", "repeat"], sort=False)} if not epochs.empty else {}
    out = []
    for case in cases.to_dict("records"):
        key = (case["case_id"], case["repeat"])
        rows = by_key.get(key, epochs.iloc[0:0])
        scalars = epoch_scalars(rows, case)
        last = int(rows["epoch"].max()) if not rows.empty else 0
        scalars += result_scalars(case, last)
        path = paths.get(case["case_id"]) or "/".join(_segments(case.get("case_label") or case["case_id"]))
        start, wall = _epoch_s(case.get("started_utc")), finite(case.get("wall_s"))
        out.append(Session(
            name=session_name(path, case["repeat"]), group=path,
            hparams=hparams_of(case, meta, run_name), status=str(case.get("status") or "?"),
            start_time_s=start, end_time_s=start + wall if start is not None and wall is not None else None,
            scalars=scalars,
            notes=notes(case, meta, run_name), profile_dir=profile_source(run_dir, case),
        ))
    return out


def profile_source(run_dir: Path, case: Mapping[str, Any]) -> Path | None:
    """The case's trace folder (holding ``plugins/profile/``): in the run folder, else as recorded."""
    if not case.get("profiled"):
        return None
    candidates = [Path(run_dir) / "profiles" / f"{case['case_id']}-{int(case['repeat'])}"]
    if present(case.get("profile_dir")) and case["profile_dir"]:
        candidates.append(Path(str(case["profile_dir"])))
    return next((p for p in candidates if (p / "plugins" / "profile").is_dir()), None)


def notes(case: Mapping[str, Any], meta: RunMeta, run_name: str) -> str:
    """A Markdown table for the Text tab: where the case comes from and how its figures were got."""
    git = meta.git
    rows: list[tuple[str, Any]] = [
        ("run", run_name), ("suite", case.get("suite")), ("case", f"{case.get('case_label')} "
                                                             f"({case.get('case_id')}), repeat {case.get('repeat')}"),
        ("status", case.get("status")), ("error", case.get("error")),
        ("commit", (git.commit or "")[:12] + (" (dirty)" if git.dirty else "")),
        ("machine", machine_of(case, meta)), ("energy source", case.get("energy_source")),
        ("CPU energy", _source_note(case, "cpu")), ("GPU energy", _source_note(case, "gpu")),
        ("profiled", "yes: timings perturbed by the profiler" if case.get("profiled") else None),
    ]
    lines = ["| | |", "|---|---|"]
    for key, value in rows:
        if present(value) and str(value).strip():
            text = str(value).replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {key} | {text[:500]} |")
    return "\n".join(lines)


def _source_note(case: Mapping[str, Any], prefix: str) -> str | None:
    source, reason = case.get(f"{prefix}_energy_source"), case.get(f"{prefix}_energy_reason")
    if not present(source):
        return None
    return f"{source}: {reason}" if present(reason) and reason else str(source)


def _epoch_s(iso: Any) -> float | None:
    if not present(iso):
        return None
    try:
        return datetime.fromisoformat(str(iso)).timestamp()
    except ValueError:
        return None


def planned_hparams(rows: Sequence[Mapping[str, Any]], meta: RunMeta,
                    run_name: str) -> list[dict[str, HParamValue]]:
    """HParams values of cases not run yet (a live sweep announces its whole domain at the start)."""
    outcome = ("status", "profiled")
    return [{k: v for k, v in hparams_of(r, meta, run_name).items() if k not in outcome} for r in rows]
