"""The cases row of one case x repeat, assembled in one place: every column has exactly one owner.

A row is built from typed parts, each written by the code that knows it:

=============  ==============================================================  =========================
part           columns                                                         written by
=============  ==============================================================  =========================
``case``       identity and axes known from the :class:`~harness.suite.Case`   :class:`CaseRow` itself
``setup``      batch actually used, replicas, workers, dataset sizes/hash      the worker (``execute``)
``outcome``    status, error, worker, host, start, wall time, crash details    worker, runner, cluster
``training``   timings, throughput, step times, losses, accuracies, target     the engine's result
``memory``     peak RSS per case (VmHWM), RSS before/after, GPU peak memory    ``CaseMemory``, ``memory``
``cpu_time``   CPU time per window phase (``schema.CPU_TIME``)                 the hooks' ``WindowMeter``
``collectors`` energy, power, utilisation (``schema.COLLECTORS``)               the collectors' session
``profiling``  profiler figures (``schema.PROFILING``)                         the profiler's hooks
=============  ==============================================================  =========================

:meth:`CaseRow.set` refuses a column that is not declared in :mod:`harness.schema`
or that belongs to another part, so two writers can never silently overwrite
each other (a new column is declared in the schema and given its owner here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness import schema
from harness.collectors.machine import where_am_i
from harness.suite import Case

SETUP = ("batch_size", "num_replicas", "num_workers", "per_replica_batch_size", "dataset_train_size",
         "dataset_test_size", "dataset_hash", "setup_s", "cluster", "dataset_validation_size")
OUTCOME = ("status", "error", "stderr_tail", "worker_pid", "worker_case_index", "started_utc", "wall_s",
           "overhead_s", "host", "machine", *schema.RELIABILITY)
MEMORY = (*schema.MEMORY, "gpu_mem_peak_source")

OWNERS: dict[str, tuple[str, ...]] = {
    "case": (*schema.IDENTITY, *(c for c in schema.AXES if c not in SETUP), "profiled", *schema.TUNING),
    "setup": SETUP,
    "outcome": OUTCOME,
    "training": (*(c for c in schema.TIMINGS if c not in (*SETUP, *OUTCOME)), *schema.QUALITY, "strategy_notes",
                 "engine_driver", "xla_scope"),
    "memory": MEMORY,
    "cpu_time": tuple(schema.CPU_TIME),
    "collectors": tuple(schema.COLLECTORS),
    "profiling": tuple(c for c in schema.PROFILING if c not in MEMORY),
    "workload": tuple(schema.WORKLOAD),  # the worker (model cost, achieved FLOP/s); the runner (utilization)
}
OWNERS["case"] += tuple(schema.MODEL_AXES)
OWNER: dict[str, str] = {col: part for part, cols in OWNERS.items() for col in cols}


class CaseRow(dict):
    """A cases row (a plain ``dict`` for readers, the journal and pickling) whose writes go through
    :meth:`set`. Reading is ordinary: ``row["status"]``, ``row.get("wall_s")``."""

    @classmethod
    def for_case(cls, case: Case, repeat: int, run_id: str) -> CaseRow:
        """The ``case`` part, and the ``setup`` part's values as requested (a case that never reaches
        setup reports the requested batch size, one replica, one worker)."""
        row = cls()
        row.set("case", **axis_columns(case, repeat, run_id))
        row.set("setup", batch_size=case.batch_size, num_replicas=1, num_workers=1)
        row.set("outcome", **where_am_i())  # the host (and machine label) that made the row
        return row

    @classmethod
    def adopt(cls, columns: Mapping[str, Any]) -> CaseRow:
        """A row read back (the journal, a cluster process's result): every column checked."""
        row = cls()
        for col, value in columns.items():
            row.set(owner_of(col), **{col: value})
        return row

    def set(self, part: str, **columns: Any) -> CaseRow:
        """Write ``columns`` as part ``part``; each must be declared and owned by ``part``."""
        for col in columns:
            owner = owner_of(col)
            if owner != part:
                raise KeyError(f"cases column {col!r} belongs to part {owner!r}, not {part!r} "
                               "(harness/runner/case_row.py)")
        super().update(columns)
        return self

    def ident(self, *keys: str) -> dict[str, Any]:
        """The identity columns other tables copy (``run_id``, ``case_id``, ...)."""
        return {k: self[k] for k in keys}

    def __setitem__(self, key: str, value: Any) -> None:
        raise TypeError(f"write cases columns with CaseRow.set(part, {key}=...), not row[{key!r}] = ...")

    def update(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("write cases columns with CaseRow.set(part, ...), which checks their owner")

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:  # pickled (worker -> runner) as a CaseRow
        return _rebuild, (dict(self),)


def _rebuild(columns: dict[str, Any]) -> CaseRow:
    row = CaseRow()
    dict.update(row, columns)
    return row


def owner_of(column: str) -> str:
    if column not in schema.CASE_COLUMNS:
        raise KeyError(f"cases: undeclared column {column!r}; declare it in harness/schema.py")
    if column not in OWNER:
        raise KeyError(f"cases column {column!r} has no owner; give it one in harness/runner/case_row.py")
    return OWNER[column]


def axis_columns(case: Case, repeat: int, run_id: str) -> dict[str, Any]:
    """The identity and axis columns of a case's row (everything known before running)."""
    return {
        "run_id": run_id, "suite": case.suite, "case_id": case.case_id, "case_label": case.label,
        "repeat": repeat,
        "optimizer": case.optimizer.name, "optimizer_label": case.optimizer.display,
        "optimizer_params": case.optimizer.params_json(),
        "schedule": case.schedule.name, "schedule_label": case.schedule.display,
        "schedule_params": case.schedule.params_json(),
        "strategy": case.strategy.name, "strategy_params": case.strategy.params_json(),
        "device": case.device, "engine": case.engine, "precision": case.precision,
        "epochs": case.epochs, "learning_rate": case.learning_rate,
        "dataset": case.dataset.name, "dataset_params": case.dataset.params_json(),
        "seed": case.seed, "target_accuracy": case.target_accuracy, "profiled": bool(case.profile),
        "model": case.model.name, "model_label": case.model.display, "model_config": case.model.params_json(),
        "stage": case.stage, "trial": case.trial, "tuned_params": case.tuned_params,
    }
