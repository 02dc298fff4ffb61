"""Run one case x repeat inside a worker process and turn it into result rows.

This is the only place where components, engine and collectors meet. Any
exception becomes a ``failed`` row (a ``skipped`` one for :class:`SkipCase`);
the worker survives it and goes on with the next case.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from harness import timing_names
from harness.axis import AxisValue
from harness.collectors.base import CollectorConfig
from harness.components import datasets
from harness.errors import SkipCase
from harness.profiling import ProfileSettings, memory
from harness.results.store import CaseResult
from harness.runner.case_row import CaseRow
from harness.runner.worker.case_memory import CaseMemory
from harness.runner.worker.hooks import CollectorHooks, MeteredHooks
from harness.runner.worker.programs import Programs
from harness.suite import Case

log = logging.getLogger(__name__)


@dataclass
class WorkerState:
    """Per-worker caches (datasets), so a reused worker does not reload them."""

    run_id: str = ""
    collector_config: CollectorConfig | None = None
    datasets: dict[str, datasets.Dataset] = field(default_factory=dict)
    cases_done: int = 0
    worker_pid: int | None = None  # the worker serving the cases (in fork mode the case runs in its child)
    profile: ProfileSettings | None = None  # sent with a profiled case's run message
    hooks_factory: Callable[..., Any] | None = None  # cluster processes report window events instead (cluster_task)
    programs: Programs | None = None  # compiled programs kept between cases (reuse mode: harness.runner.worker.programs)
    costs: dict[str, dict[str, Any]] = field(default_factory=dict)  # workload cost by model, data and batch

    def workload_cost(self, case: Case, ds: datasets.Dataset, seed: int, batch: int) -> dict[str, Any]:
        """:func:`workload_cost`, computed once per model, data and batch in this process (it compiles
        the step for XLA's count; the count does not depend on the seed)."""
        key = json.dumps([case.model.identity(), ds.sha, batch], sort_keys=True, default=str)
        if key not in self.costs:
            self.costs[key] = workload_cost(case, ds, seed, batch)
        return self.costs[key]

    def dataset(self, spec: AxisValue) -> datasets.Dataset:
        key = json.dumps(spec.identity(), sort_keys=True)
        if key not in self.datasets:
            self.datasets[key] = datasets.load(spec.name, spec.params)
        return self.datasets[key]


def percentiles(step_ms: list[float]) -> dict[str, float]:
    if not step_ms:
        return {"step_ms_p50": math.nan, "step_ms_p90": math.nan, "step_ms_p99": math.nan}
    p50, p90, p99 = np.percentile(np.asarray(step_ms), [50, 90, 99])
    return {"step_ms_p50": float(p50), "step_ms_p90": float(p90), "step_ms_p99": float(p99)}


def execute(case: Case, repeat: int, state: WorkerState) -> CaseResult:
    row = CaseRow.for_case(case, repeat, state.run_id)
    row.set("outcome", worker_pid=state.worker_pid or os.getpid(), worker_case_index=state.cases_done,
            started_utc=datetime.now(UTC).isoformat(timespec="seconds"))
    state.cases_done += 1
    mem = CaseMemory().start()
    t0 = time.perf_counter_ns()
    result = CaseResult(case=row)
    measured_rss = math.nan
    try:
        measured_rss = _train(case, repeat, state, row, result)
    except SkipCase as exc:
        row.set("outcome", status="skipped", error=str(exc))
    except Exception as exc:  # one case's failure must never stop the suite
        log.debug("case %s failed", case.label, exc_info=True)
        row.set("outcome", status="failed", error=f"{type(exc).__name__}: {exc}",
                stderr_tail="".join(traceback.format_exception(exc)[-6:])[-4000:])
    row.set("outcome", wall_s=(time.perf_counter_ns() - t0) / 1e9)
    row.set("memory", **mem.columns(measured_rss))  # VmHWM reset per case; else the collectors' sampled peak
    return result


def _train(case: Case, repeat: int, state: WorkerState, row: CaseRow, result: CaseResult) -> float:
    """Set up and train; fill the setup, training, memory, collectors (and profiling) parts.

    Returns the collectors' measured peak RSS of the worker's process group (NaN when not measured).
    """
    from harness.components import (
        batching,
        compat,
        devices,
        models,
        optimizers,
        schedules,
        strategies,
    )
    from harness.engines import get as get_engine
    from harness.engines.base import TrainSpec

    s0 = time.perf_counter_ns()
    devices.check(case.device, case.precision)
    ds = state.dataset(case.dataset)
    n_train = len(ds.x_train)
    problem = batching.batch_size_problem(case.optimizer.name, case.batch_size, n_train, case.dataset.name)
    if problem:
        raise ValueError(problem)
    batch = batching.effective_batch_size(case.optimizer.name, case.batch_size, n_train)
    row.set("setup", batch_size=batch, dataset_train_size=n_train, dataset_test_size=len(ds.x_test),
            dataset_validation_size=0 if ds.x_val is None else len(ds.x_val), dataset_hash=ds.sha)
    strategy = strategies.build(case)
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    row.set("setup", num_replicas=replicas, per_replica_batch_size=batch // replicas)
    seed = case.seed + 1000 * repeat
    spec = TrainSpec(ds.x_train, ds.y_train, ds.x_test, ds.y_test, batch, case.epochs, seed,
                     case.target_accuracy, case.steps_per_execution, case.jit_compile, strategy,
                     case.strategy.name, case.strategy.params.get("driver"), ds.x_val, ds.y_val)
    cost = state.workload_cost(case, ds, seed, batch)
    row.set("workload", **cost)
    kept = state.programs.lookup(case) if state.programs is not None else None
    with strategy.scope() if strategy is not None else nullcontext():
        lr, controller = schedules.build(case.schedule, case.learning_rate, spec.steps_per_epoch, case.epochs)
        def build_net() -> Any:
            return models.build(case.model, ds.input_shape, ds.num_classes, seed, case.precision)

        if kept is not None:  # the same program: reset its state to this case's start
            kept.reset(case, seed, lr, build_net)
            net, opt = kept.model, kept.optimizer
        else:
            net = build_net()
            opt = optimizers.build(case.optimizer, lr)
            if case.precision == "mixed_float16":
                import keras

                opt = keras.optimizers.LossScaleOptimizer(opt)
            kept = state.programs.keep(case, seed, net, opt) if state.programs is not None else None
    spec.program = kept
    row.set("setup", setup_s=(time.perf_counter_ns() - s0) / 1e9)
    reason = compat.case_skip_reason(case, strategies.describe(strategy)["num_workers"])
    if reason:
        raise SkipCase(reason)

    hooks = collector_hooks = (state.hooks_factory or CollectorHooks)(state.collector_config, case.device,
                                                                       case.collectors, replicas)
    if case.profile:
        from harness.profiling.worker import profiler_hooks

        hooks = profiler_hooks(hooks, case, repeat, state.profile, spec.steps_per_epoch)
    hooks = MeteredHooks(hooks)
    memory.reset_gpu_peak()
    res = get_engine(case.engine)(net, opt, spec, hooks, controller)
    row.set("memory", **memory.gpu_peak_columns())
    row.set("outcome", status=res.status, error=res.error or None)
    row.set("training", **training_columns(res))
    row.set("workload", achieved_flops_per_s=cost["train_flops_per_example"] * row["samples_per_s"])
    row.set("cpu_time", **hooks.meter.columns(res.steps, res.eval_passes))
    result.epochs = [{**row.ident("run_id", "case_id", "case_label", "repeat"), **e} for e in res.epochs]
    hooks.finish(row, result, res.examples, len(res.epochs), res.target_epoch)
    return getattr(collector_hooks, "peak_rss", math.nan)


def workload_cost(case: Case, ds: datasets.Dataset, seed: int, batch: int) -> dict[str, Any]:
    """``model_params`` and the FLOPs per training example, from a float32 copy of the case's model
    built outside any strategy (the count does not depend on precision or placement)."""
    from harness.components import models
    from harness.engines.flops import model_cost

    net = models.build(case.model, ds.input_shape, ds.num_classes, seed, "float32")
    return model_cost(net, ds.x_train[:batch], ds.y_train[:batch])


def training_columns(res: Any) -> dict[str, Any]:
    """The ``training`` part of the row, from an engine's result."""
    final = res.epochs[-1] if res.epochs else {}
    return dict(
        compile_s=res.compile_s, train_s=res.train_s,
        eval_s=res.eval_s, steps=res.steps, step_time_basis=res.step_time_basis, retraces=res.retraces,
        strategy_notes=res.notes or None, engine_driver=res.driver or None, xla_scope=res.xla_scope or None,
        samples_per_s=res.examples / res.train_s if res.train_s > 0 else math.nan,
        steps_per_s=res.steps / res.train_s if res.train_s > 0 else math.nan,
        initial_loss=res.initial_loss, final_loss=final.get("loss"), train_accuracy=final.get("train_accuracy"),
        test_loss=final.get("test_loss"), test_accuracy=final.get("test_accuracy"),
        validation_loss=final.get("validation_loss", math.nan),
        validation_accuracy=final.get("validation_accuracy", math.nan),
        target_basis=getattr(res, "target_basis", "test"),
        reached_target=res.target_epoch is not None, epochs_to_target=res.target_epoch,
        time_to_target_s=res.epochs[res.target_epoch - 1]["cum_train_s"] if res.target_epoch else math.nan,
        **timing_names.stored(percentiles(res.step_ms), res.step_time_basis),  # chunk averages as chunk_ms_*
    )
