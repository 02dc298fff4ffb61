"""From run folders to the report's tables: the one entry point the renderers share."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from harness import analysis
from harness.analysis import ops as op_analysis
from harness.analysis import validity
from harness.analysis.composition import contention_warning
from harness.analysis.tuned import tuned_tables, tuning_settings
from harness.errors import ConfigError
from harness.results.store import Run, load_runs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportOptions:
    """What the tables depend on beyond the runs themselves."""

    baseline: str | Mapping[str, str] | None = None  # throughput baseline, "engine=keras_fit"
    include_profiled: bool = False  # profiled repeats perturb timings: left out by default
    target: float | None = None  # recompute time-to-target for this accuracy (else as recorded)
    factors: analysis.EnergyFactors = field(default_factory=analysis.EnergyFactors)


def load(runs: Sequence[Run | str | Path]) -> list[Run]:
    """Loaded runs from Run objects, run folders or folders of runs (in the order given)."""
    out: list[Run] = []
    for item in runs:
        if isinstance(item, Run):
            out.append(item)
            continue
        found = load_runs(item)  # a missing folder: ConfigError (exit 2)
        if not found:  # an empty folder is bad input too (exit 2), as in every command
            raise ConfigError(f"{item}: no harness run found (a run folder holds run.json)")
        out.extend(found)
    seen: set[Path] = set()
    unique = []
    for run in out:
        key = Path(run.path).resolve()
        if key not in seen:
            seen.add(key)
            unique.append(run)
    return unique + _trials_runs(unique, seen)


def _trials_runs(runs: Sequence[Run], seen: set[Path]) -> list[Run]:
    """The trials runs that sharded finals name (``tuning.trials_run`` of a ``harness tune --finalize
    --shard`` run, which holds only final seeds) and that are not among ``runs``: the tuned comparison
    needs both stages. A trials run that is gone is logged, and the comparison shows what is there."""
    out: list[Run] = []
    for run in runs:
        record = getattr(run.meta, "tuning", None)
        where = getattr(record, "trials_run", None)
        if not where or ("stage" in run.cases.columns and run.cases["stage"].astype(str).eq("trial").any()):
            continue
        path = Path(where)
        if path.resolve() in seen:
            continue
        if not (path / "run.json").is_file():
            log.warning("%s: its trials run %s is not there; the tuned comparison lacks the trials", run.path, where)
            continue
        seen.add(path.resolve())
        out.extend(load_runs(path))
        log.info("%s: trials read from %s (tuning.trials_run)", run.path, where)
    return out


def _flat(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_flat(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, default=str)
    return "" if value is None else str(value)


def run_info(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run: id, suite, machine, dates, harness and library versions, git commit."""
    rows = []
    for run in runs:
        meta = run.meta
        versions = {k: _flat(v) for k, v in meta.software.items() if not isinstance(v, Mapping)}
        rows.append(
            {
                "run_id": run.run_id,
                "suite": meta.suite.name,
                "machine": _machine(run),  # the hardware (HARNESS_MACHINE, else CPU model...), as in every table
                "host": meta.machine.host or "",  # the node that ran it
                "started_utc": _flat(meta.started_utc),
                "ended_utc": _flat(meta.ended_utc),
                "harness_version": _flat(meta.harness_version),
                "git_commit": _flat(meta.git.commit),
                "versions": "; ".join(f"{k} {v}" for k, v in sorted(versions.items())),
            }
        )
    return pd.DataFrame(rows)


def _machine(run: Run) -> str:
    """The run's ``machine`` as its rows record it (HARNESS_MACHINE, else the hardware), so that
    "machine" means one thing in every table; runs from before that column fall back as their rows
    do (:func:`harness.analysis.frames.row_machines`)."""
    cases = run.cases
    found = sorted(set(cases["machine"].dropna().astype(str))) if "machine" in cases.columns else []
    return ", ".join(found) or run.meta.machine.label or run.run_id


def machine_details(runs: Sequence[Run]) -> pd.DataFrame:
    """Every item of each run's ``machine`` dict: one row per key, one column per run."""
    columns: dict[str, dict[str, str]] = {}
    for run in runs:
        machine = {k: v for k, v in run.meta.machine.to_dict().items() if v is not None}  # with keys kept in extra
        if machine:
            columns[run.run_id] = {str(k): _flat(v)[:500] for k, v in machine.items()}
    if not columns:
        return pd.DataFrame(columns=["key"])
    table = pd.DataFrame(columns).fillna("")
    table.index.name = "key"
    return table.sort_index().reset_index()


def build_tables(
    runs: Sequence[Run | str | Path], options: ReportOptions | None = None
) -> dict[str, pd.DataFrame]:
    """Every table of the report, as DataFrames, in report order.

    Keys: runs, machines, status, problems, notes, leaderboard, learning_curves,
    learning_rates, lr_sensitivity, throughput, scaling, profile, profile_ratios,
    profile_scores, tradeoffs, energy, energy_sources, power_summary, power,
    op_breakdown, top_ops, op_compare. Tables that list configurations carry
    ``series``, the one label of a configuration. Column units: :func:`harness.analysis.unit`.
    """
    options = options or ReportOptions()
    loaded = load(runs)
    data = analysis.combine(loaded)
    cases, epochs = data["cases"], data["epochs"]
    if options.target is not None:
        cases = analysis.time_to_target(cases, epochs, options.target)
    cases = analysis.labelled(cases)  # one label per configuration, for every table below
    every = cases
    cases, trial_note = compared_cases(cases)
    prof = options.include_profiled
    power = analysis.power_series(cases, data["samples"], include_profiled=prof)
    board = analysis.leaderboard(cases, include_profiled=prof)
    ratios = analysis.performance_ratios(cases, include_profiled=prof)
    throughput = analysis.throughput(cases, baseline=options.baseline, include_profiled=prof)
    energy, validity_notes = validity.report_notes(
        analysis.energy_table(cases, options.factors, include_profiled=prof))
    notes = notes_table(cases, board, throughput, options)
    notes = pd.concat([notes, pd.DataFrame(validity_notes + trial_note, columns=notes.columns)], ignore_index=True)
    return {
        "runs": run_info(loaded),
        "machines": machine_details(loaded),
        "status": analysis.status_summary(every),
        "problems": analysis.problems(every),
        "notes": notes,
        "leaderboard": board,
        "learning_curves": analysis.learning_curves(cases, epochs, include_profiled=prof),
        "learning_rates": analysis.learning_rates(cases, epochs),
        "lr_sensitivity": analysis.lr_sensitivity(cases, include_profiled=prof),
        "throughput": throughput,
        "scaling": analysis.strategy_scaling(cases, include_profiled=prof),
        "profile": analysis.performance_profile(cases, include_profiled=prof),
        "profile_ratios": ratios,
        "profile_scores": analysis.profile_scores(ratios),
        "tradeoffs": analysis.tradeoffs(board),
        "energy": energy,
        "energy_sources": analysis.energy_sources(cases),
        "power_summary": analysis.power_summary(power),
        "power": power,
        **op_tables(cases, data["ops"]),
        **tuned_tables(every, tuning_settings([r.meta for r in loaded])),  # issue 25
    }


def compared_cases(cases: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """The rows the configuration sections compare, and a note when some were set aside: where a tuning
    run holds final seeds, its trials appear in the tuned comparison only (each trial would otherwise
    be a configuration of its own in the leaderboard, the profiles and the energy table)."""
    if "stage" not in cases.columns:
        return cases, []
    stage = cases["stage"].astype(str)
    trial = stage.eq("trial")
    if not stage.eq("final").any() or not trial.any():
        return cases, []
    note = (f"{int(trial.sum())} tuning trial run(s) appear in the tuned comparison only; the sections here "
            "compare the winners' final seeds (and any untuned cases)")
    return cases[~trial], [("leaderboard", "info", note)]


def notes_table(cases: pd.DataFrame, board: pd.DataFrame, throughput: pd.DataFrame,
                options: ReportOptions) -> pd.DataFrame:
    """What a reader must know, as rows (``section``, ``level``, ``note``): the renderers show them
    as banners in their section (warnings) or as a sentence under it (info)."""
    rows = [("header", "warning", w) for w in analysis.composition_warnings(cases)]
    contention = contention_warning(analysis.frames.timing_rows(cases, options.include_profiled))
    if contention:
        rows.append(("header", "warning", contention))
    single = analysis.single_repeat_warning(board)
    if single:
        rows.append(("leaderboard", "warning", single))
    statement = analysis.baseline_statement(throughput, options.baseline)
    if statement:
        rows.append(("throughput", "info", statement))
    rows += [("profile", level, n) for level, n in analysis.profile_notes(cases, include_profiled=options.include_profiled)]
    rows += [("energy", "info", n) for n in options.factors.carbon_notes]
    return pd.DataFrame(rows, columns=["section", "level", "note"])


def op_tables(cases: pd.DataFrame, ops: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``op_breakdown``, ``top_ops`` and ``op_compare`` (us of self time per update) for the report.

    Empty for runs with no profiled case.
    """
    empty = pd.DataFrame()
    profiled = "profiled" in cases.columns and cases["profiled"].fillna(False).astype(bool).any()
    if not profiled:
        return {"op_breakdown": empty, "top_ops": empty, "op_compare": empty}
    has_ops = not ops.empty
    return {
        "op_breakdown": op_analysis.breakdown(cases),
        "top_ops": op_analysis.top_ops(ops, op_analysis.REPORT_TOP_N) if has_ops else empty,
        "op_compare": op_analysis.compare_ops(ops).reset_index() if has_ops else empty,
    }
