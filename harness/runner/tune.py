"""``harness tune``'s pipeline: trials → selection on validation only → final seeds, one run folder.

The trials are the suite's cases (:mod:`harness.tuning.trials`); they run like
any suite. The selection (:func:`harness.analysis.tuning.select`) reads the
trial rows' validation figures and is recorded in run.json (``tuning``); the
winners' final seeds then run into the same folder as a resumed run whose
suite holds trials and finals (the trials already done are not run again).
``finalize`` does the same from a merged trials run (``--stage trials`` on
several machines, then ``harness merge``): its finals go to a new folder that
also receives the trial rows, so it again holds both stages.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.analysis.tuning import RULES, Selection, select
from harness.errors import UsageError
from harness.results import store
from harness.results.journal import CaseResult, write_part
from harness.run_meta import TuningRecord
from harness.runner.runner import RunOptions, RunSummary, run_suite
from harness.suite import Case, Suite, parse_suite
from harness.tuning.trials import final_cases

log = logging.getLogger(__name__)


XLA_CACHE_FLAG = "--tf_xla_persistent_cache_directory"


@contextlib.contextmanager
def xla_cache(enabled: bool = True) -> Iterator[Path | None]:
    """A persistent XLA compilation cache shared by the sweep's worker processes (TF_XLA_FLAGS, inherited
    by the workers the runner spawns; run.json records it with the environment).

    Trials of one configuration differ in variables only (a Keras optimizer's learning rate is a
    variable), so their XLA programs are identical: the first trial compiles, the others load it.
    Measured on this workplace's shared 2-core machine (load average 3-4), a 32-trial sweep spent
    2.17 s per trial outside training and evaluation without the cache, 2.02 s with it (compile
    1.30 s -> 0.88 s; scripts/bench_trial_overhead.py, README "Cheap trials").
    Left alone when TF_XLA_FLAGS already names a cache directory, or with ``enabled=False``.
    """
    flags = os.environ.get("TF_XLA_FLAGS", "")
    if not enabled or XLA_CACHE_FLAG in flags:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="harness-xla-cache-"))
    os.environ["TF_XLA_FLAGS"] = f"{flags} {XLA_CACHE_FLAG}={folder}".strip()
    try:
        yield folder
    finally:
        if flags:
            os.environ["TF_XLA_FLAGS"] = flags
        else:
            os.environ.pop("TF_XLA_FLAGS", None)
        shutil.rmtree(folder, ignore_errors=True)


def tuning_of(suite: Suite, where: str) -> dict[str, Any]:
    tuning = suite.settings.get("tuning")
    if not tuning:
        raise UsageError(where, suite.path, "the suite has no [tuning] table (see README: Fair optimizer comparisons)")
    return tuning


def run_tuning(suite: Suite, opts: RunOptions) -> tuple[RunSummary, RunSummary | None]:
    """Trials, selection, final seeds; returns (trials summary, finals summary or None: nothing to run)."""
    tuning = tuning_of(suite, "SUITE")
    trials = run_suite(suite, opts)
    finals, record = plan_finals(suite, store.load_run(trials.run_dir).cases, tuning)
    meta = store.read_run_json(trials.run_dir)
    meta.tuning = record
    store.write_run_json(trials.run_dir, meta)
    if not finals:
        return trials, None
    both = replace_cases(suite, suite.cases + finals)
    again = RunOptions(resume=trials.run_dir, progress=opts.progress, observers=opts.observers,
                       time_limit_s=opts.time_limit_s)
    return trials, run_suite(both, again)


def plan_finals(suite: Suite, cases: Any, tuning: dict[str, Any]) -> tuple[list[Case], TuningRecord]:
    """The final-seed cases of every winner (each distinct winner once, whatever budgets chose it)
    and the selection record for run.json."""
    selections = select(cases, tuning["select_on"], tuning["budgets"])
    by_id = {c.case_id: c for c in suite.cases}
    winners: dict[str, Case] = {}
    for s in selections:
        case = _winner_case(s, cases, by_id)
        if case is not None:
            winners.setdefault(case.case_id, case)
    finals = [f for case in winners.values() for f in final_cases(case, tuning["final_seeds"])]
    record = TuningRecord(select_on=tuning["select_on"], budgets=list(tuning["budgets"]),
                          final_seeds=tuning["final_seeds"], rules=RULES,
                          selections=[s.to_dict() for s in selections])
    log.info("tuning: %d selection(s), %d winner(s), %d final case(s)", len(selections), len(winners), len(finals))
    return finals, record


def _winner_case(s: Selection, cases: Any, by_id: dict[str, Case]) -> Case | None:
    if s.trial is None:
        return None
    rows = cases[(cases["stage"].astype(str) == "trial") & (cases["trial"] == s.trial)
                 & (cases["optimizer_label"].astype(str) == s.optimizer)]
    for key, value in s.problem.items():
        rows = rows[rows[key].astype(str) == str(value)] if value is not None else rows[rows[key].isna()]
    ids = [i for i in dict.fromkeys(rows["case_id"].astype(str)) if i in by_id]
    return by_id[ids[0]] if ids else None


def replace_cases(suite: Suite, cases: list[Case]) -> Suite:
    return Suite(suite.name, suite.description, suite.path, suite.text, cases, suite.settings, suite.cluster)


def finalize(merged: Path, opts: RunOptions, suite_text: str | None = None) -> RunSummary:
    """The final seeds of a (merged) trials run, in a new folder that also holds the trial rows
    (unless sharded: then each shard records ``trials_run`` and holds only its finals)."""
    run = store.load_run(merged)
    suite = parse_suite(run.meta.suite.text, run.meta.suite.abspath or run.meta.suite.path)
    if suite_text is not None and suite_text != run.meta.suite.text:
        raise UsageError("--finalize", str(merged), "its trials come from another suite text than SUITE")
    tuning = tuning_of(suite, "--finalize")
    trials = run.cases[run.cases["stage"].astype(str) == "trial"]
    if trials.empty:
        raise UsageError("--finalize", str(merged), "the run holds no trials (stage = trial)")
    stray = set(trials["case_id"].astype(str)) - {c.case_id for c in suite.cases}
    if stray:
        raise UsageError("--finalize", str(merged), f"{len(stray)} trial(s) are not trials of the run's suite "
                         "text (another suite, or another harness version's expansion)")
    finals, record = plan_finals(suite, run.cases, tuning)
    record.trials_run = str(merged)
    summary = run_suite(replace_cases(suite, finals), opts)
    meta = store.read_run_json(summary.run_dir)
    meta.tuning = record
    store.write_run_json(summary.run_dir, meta)
    if not opts.shard:
        import_trials(run, summary.run_dir)
    return summary


def import_trials(run: store.Run, run_dir: Path) -> None:
    """Copy a run's trial rows (cases and epochs) into ``run_dir``'s journal and tables."""
    trials = run.cases[run.cases["stage"].astype(str) == "trial"]
    epochs = run.epochs.groupby(["case_id", "repeat"])
    keys = set(epochs.groups)
    for row in trials.to_dict("records"):
        key = (row["case_id"], row["repeat"])
        rows = epochs.get_group(key).to_dict("records") if key in keys else []
        write_part(run_dir, CaseResult(case=_plain(row), epochs=[_plain(e) for e in rows]))
    results = store.load_parts(run_dir)
    store.write_tables(run_dir, results)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    return {k: (None if v is pd.NA or (isinstance(v, float) and v != v) else v) for k, v in row.items()}

