"""The one place where result columns are declared: name, dtype, unit, meaning.

Every table the harness writes (``cases``, ``epochs``, ``samples`` and the side
tables) is built through :func:`frame`, so a column exists only if it is
declared here. Units are part of the names (``wall_s``, ``cpu_energy_j``);
quantities that can be missing carry a ``*_source`` companion, and missing is
NaN plus a reason, never 0.

Files carry :data:`SCHEMA_VERSION` in their parquet metadata; readers refuse a
version they do not know and rename older ones' columns (:mod:`harness.results.store`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

SCHEMA_VERSION = 2  # version 1 is still read: harness.results.store.RENAMED renames its columns

# Nullable pandas dtypes: a missing value stays missing (NA) instead of turning into 0 or "nan".
FLOAT, INT, BOOL, STR = "float64", "Int64", "boolean", "string"


@dataclass(frozen=True)
class Column:
    """One declared column."""

    name: str
    dtype: str
    unit: str
    doc: str
    better: str = ""  # "lower" / "higher": a metric `harness compare` / `history` can gate on


LOWER, HIGHER = "lower", "higher"


def _cols(*specs: tuple[str, ...]) -> dict[str, Column]:
    """Columns from (name, dtype, unit, doc[, better]) tuples."""
    return {spec[0]: Column(*spec) for spec in specs}


# --------------------------------------------------------------------------
# cases: one row per case x repeat
# --------------------------------------------------------------------------
IDENTITY = _cols(
    ("run_id", STR, "", "run folder name"),
    ("suite", STR, "", "suite name"),
    ("case_id", STR, "", "stable id of the configuration (hash of its axes)"),
    ("case_label", STR, "", "human-readable name of the case"),
    ("repeat", INT, "", "repeat index, 0-based"),
)

AXES = _cols(
    ("optimizer", STR, "", "optimizer registry name"),
    ("optimizer_label", STR, "", "display name (suite `label`, else the name)"),
    ("optimizer_params", STR, "", "optimizer keyword overrides, JSON"),
    ("schedule", STR, "", "learning-rate schedule registry name"),
    ("schedule_label", STR, "", "display name of the schedule"),
    ("schedule_params", STR, "", "schedule parameters, JSON"),
    ("strategy", STR, "", "distribution strategy name"),
    ("strategy_params", STR, "", "strategy parameters, JSON"),
    ("num_replicas", INT, "", "replicas in sync (1 without a strategy)"),
    ("num_workers", INT, "", "worker processes (1 unless multi-worker)"),
    ("per_replica_batch_size", INT, "examples", "global batch / replicas"),
    ("device", STR, "", "device spec: cpu, cpu:N, gpu, gpu:K, tpu"),
    ("engine", STR, "", "how the training loop is driven: fast, keras_fit, eager"),
    ("precision", STR, "", "float32, mixed_bfloat16 or mixed_float16"),
    ("batch_size", INT, "examples", "global batch size actually used"),
    ("epochs", INT, "", "epochs requested"),
    ("learning_rate", FLOAT, "", "initial learning rate"),
    ("dataset", STR, "", "dataset registry name"),
    ("dataset_params", STR, "", "dataset parameters, JSON"),
    ("dataset_train_size", INT, "examples", "training examples"),
    ("dataset_test_size", INT, "examples", "test examples"),
    ("dataset_hash", STR, "", "sha256 (first 16 hex) of the arrays' bytes"),
    ("seed", INT, "", "seed for weights, shuffling and data"),
    ("target_accuracy", FLOAT, "fraction", "validation accuracy that defines time-to-target "
     "(test accuracy where target_basis = test: no validation part, or a run written before it existed)"),
    ("dataset_validation_size", INT, "examples", "validation examples held out of the training data"),
)

OUTCOME = _cols(
    ("status", STR, "", "ok, diverged, failed, crashed, timeout or skipped"),
    ("error", STR, "", "error message or skip reason"),
    ("stderr_tail", STR, "", "last lines the worker wrote to stderr (failures only)"),
    ("worker_pid", INT, "", "process that ran the case"),
    ("worker_case_index", INT, "", "0 for a worker's first case, then 1, 2..."),
    ("profiled", BOOL, "", "true when a profiler ran (timings perturbed)"),
    ("started_utc", STR, "", "ISO-8601 UTC start of the case"),
    ("host", STR, "", "host name of the machine that ran the case (kept when shards are merged)"),
    ("machine", STR, "", "the machine as a report axis: HARNESS_MACHINE, else CPU model, cores and GPUs"),
)

TIMINGS = _cols(
    ("wall_s", FLOAT, "s", "whole case inside the worker: setup + compile + train + eval", LOWER),
    ("setup_s", FLOAT, "s", "data loading, model and optimizer construction", LOWER),
    ("compile_s", FLOAT, "s", "tracing and XLA compilation (first call, outside train_s)", LOWER),
    ("train_s", FLOAT, "s", "timed training window (all epochs, excluding evaluation)", LOWER),
    ("eval_s", FLOAT, "s", "test-set evaluations, summed", LOWER),
    ("overhead_s", FLOAT, "s", "time the runner spent on the case beyond wall_s"),
    ("samples_per_s", FLOAT, "examples/s", "training examples processed / train_s", HIGHER),
    ("steps_per_s", FLOAT, "steps/s", "optimizer updates / train_s", HIGHER),
    ("steps", INT, "steps", "optimizer updates in the timed window"),
    ("step_ms_p50", FLOAT, "ms", "median time of a single update (step_time_basis per_step only, else NaN)", LOWER),
    ("step_ms_p90", FLOAT, "ms", "90th percentile time of a single update (per_step only)", LOWER),
    ("step_ms_p99", FLOAT, "ms", "99th percentile time of a single update (per_step only)", LOWER),
    ("step_time_basis", STR, "", "per_step, or per_chunk/K when K updates run per host call"),
    # chunk averages (a host call's time / its K updates; harness.timing_names decides the name)
    ("chunk_ms_p50", FLOAT, "ms", "median chunk average per update (per_chunk/K, per_epoch/async only)", LOWER),
    ("chunk_ms_p90", FLOAT, "ms", "90th percentile of chunk averages per update (per_chunk/K only)", LOWER),
    ("chunk_ms_p99", FLOAT, "ms", "99th percentile of chunk averages per update (per_chunk/K only)", LOWER),
    ("retraces", INT, "", "tf.function traces after warm-up (should be 0)"),
)

QUALITY = _cols(
    ("initial_loss", FLOAT, "", "training loss before the first update (full train set)"),
    ("final_loss", FLOAT, "", "mean training loss of the last epoch"),
    ("train_accuracy", FLOAT, "fraction", "training accuracy of the last epoch"),
    ("test_loss", FLOAT, "", "test loss after training"),
    ("test_accuracy", FLOAT, "fraction", "test accuracy after training", HIGHER),
    ("reached_target", BOOL, "", "the target_basis accuracy reached target_accuracy at some epoch"),
    ("epochs_to_target", INT, "", "first epoch (1-based) at which the target was reached"),
    ("time_to_target_s", FLOAT, "s", "cumulative train time at that epoch; NaN if never", LOWER),
    ("validation_loss", FLOAT, "", "validation loss after training"),
    ("validation_accuracy", FLOAT, "fraction", "validation accuracy after training (what tuning selects on)",
     HIGHER),
    ("target_basis", STR, "", "the accuracy the target is read on: validation, or test (no validation "
     "part; runs written before validation existed load as test)"),
)

# tuning (issue 25): a trial of a sweep, or a final-seed repeat of its winner; plain cases have neither
TUNING = _cols(
    ("stage", STR, "", "trial (a sampled configuration), final (a winner rerun with a new seed), or NA"),
    ("trial", INT, "", "index in the tuning sequence (0-based; budgets are prefixes of it)"),
    ("tuned_params", STR, "", "the sampled hyperparameters of the trial, JSON (learning_rate included)"),
)

MEMORY = _cols(
    ("peak_rss_bytes", INT, "bytes", "peak resident set of the worker process during this case "
     "(VmHWM reset when the case starts; see peak_rss_source)", LOWER),
    ("peak_rss_source", STR, "", "vmhwm_reset | sampled (collectors' peak of the process group) | unavailable: why"),
    ("case_mem_bytes", INT, "bytes", "peak_rss_bytes minus the worker's RSS before the case: what the case added", LOWER),
    ("worker_rss_before_bytes", INT, "bytes", "the worker's resident set when the case started"),
    ("worker_rss_after_bytes", INT, "bytes", "the worker's resident set when the case ended (what it left behind)"),
    ("gpu_mem_peak_bytes", INT, "bytes", "device peak memory reported by TensorFlow"),
)

# Columns added by the collectors (issue 3). Declared here, filled there.
COLLECTORS = _cols(
    ("collectors", STR, "", "collectors that ran, comma separated"),
    ("energy_window_s", FLOAT, "s", "time covered by the energy figures: the training updates (train phase)"),
    ("sample_period_s", FLOAT, "s", "background sampling period used (shortened when a counter could wrap)"),
    ("cpu_energy_j", FLOAT, "J", "CPU energy of the training updates (packages, + DRAM when measured)", LOWER),
    ("cpu_energy_low_j", FLOAT, "J", "low bound: = cpu_energy_j when measured, the estimate's low end"),
    ("cpu_energy_high_j", FLOAT, "J", "high bound: = cpu_energy_j when measured, the estimate's high end"),
    ("cpu_energy_source", STR, "", "rapl, estimate_tdp, estimate_generic or unavailable"),
    ("cpu_energy_reason", STR, "", "why the CPU energy is missing or estimated; sampling notes"),
    ("cpu_package_energy_j", FLOAT, "J", "RAPL package zones, summed"),
    ("dram_energy_j", FLOAT, "J", "RAPL dram subzones, summed"),
    ("psys_energy_j", FLOAT, "J", "RAPL psys (platform) zone, never summed with packages"),
    ("cpu_tdp_w", FLOAT, "W", "TDP used by the estimate"),
    ("cpu_tdp_origin", STR, "", "where the TDP came from (suite, cli, table:<model>, generic)"),
    ("cpu_tdp_threads", INT, "", "hardware threads sharing the package TDP"),
    ("cpu_thread_power_w", FLOAT, "W", "power charged per busy thread: cpu_tdp_w / cpu_tdp_threads"),
    ("cpu_power_mean_w", FLOAT, "W", "mean CPU power in the window"),
    ("cpu_power_max_w", FLOAT, "W", "peak sampled CPU power"),
    ("cpu_idle_power_w", FLOAT, "W", "idle baseline CPU power"),
    ("cpu_dynamic_energy_j", FLOAT, "J", "cpu_energy_j - idle power x window (measured only)"),
    ("cpu_dynamic_reason", STR, "", "why the idle/dynamic split is missing"),
    ("gpu_count", INT, "", "GPUs measured"),
    ("gpu_energy_j", FLOAT, "J", "GPU energy in the window, summed over GPUs", LOWER),
    ("gpu_energy_source", STR, "", "nvml_counter, nvml_power or unavailable"),
    ("gpu_energy_reason", STR, "", "why the GPU energy is missing"),
    ("gpu_power_mean_w", FLOAT, "W", "mean GPU power, summed over GPUs"),
    ("gpu_power_max_w", FLOAT, "W", "peak sampled GPU power, summed over GPUs"),
    ("gpu_idle_power_w", FLOAT, "W", "idle baseline GPU power"),
    ("gpu_dynamic_energy_j", FLOAT, "J", "gpu_energy_j - idle power x window"),
    ("gpu_util_mean_pct", FLOAT, "%", "mean GPU utilisation"),
    ("gpu_mem_used_peak_bytes", INT, "bytes", "peak NVML memory used, summed over GPUs"),
    ("gpu_temp_max_c", FLOAT, "degC", "highest GPU temperature"),
    ("gpu_sm_clock_mean_mhz", FLOAT, "MHz", "mean SM clock"),
    ("gpu_details", STR, "", "per-GPU figures, JSON (by UUID)"),
    ("energy_j", FLOAT, "J", "cpu_energy_j + energy of the GPUs the case used; NaN if any is unknown", LOWER),
    ("energy_source", STR, "", "measured, estimated, mixed or unavailable"),
    ("energy_reason", STR, "", "why energy_j is missing (which device's energy is unknown)"),
    ("energy_low_j", FLOAT, "J", "low bound of energy_j (estimates' low end)"),
    ("energy_high_j", FLOAT, "J", "high bound of energy_j (estimates' high end)"),
    ("eval_energy_j", FLOAT, "J", "energy of the evaluations (eval phase), not in energy_j"),
    ("compile_energy_j", FLOAT, "J", "energy of warm-up and compilation (compile phase), not in energy_j"),
    ("memory_energy_j", FLOAT, "J", "estimated memory energy (W/GiB x resident memory), not in energy_j"),
    ("memory_energy_source", STR, "", "estimate_generic, or unavailable: reason"),
    ("benchmark_cpu_share", FLOAT, "fraction", "benchmark processes' share of the machine's busy CPU time"),
    ("energy_per_sample_j", FLOAT, "J/example", "energy_j / examples trained", LOWER),
    ("energy_per_epoch_j", FLOAT, "J/epoch", "energy_j / epochs", LOWER),
    ("energy_to_target_j", FLOAT, "J", "training energy up to the epoch that reached the target", LOWER),
    ("energy_window_flag", STR, "", "short_window when shorter than 10x the source update period"),
    ("process_cpu_util_pct", FLOAT, "%", "worker CPU time / wall time / cores"),
    ("system_cpu_util_pct", FLOAT, "%", "whole-system CPU utilisation"),
    ("system_mem_used_peak_bytes", INT, "bytes", "peak system memory used"),
    ("rapl_zones", STR, "", "per-zone RAPL energy in the window, JSON (name, kind, energy_j, wraps, error)"),
    # issue 28: counters that fail loudly, idle per device
    ("gpu_dynamic_reason", STR, "", "why the GPU idle/dynamic split is missing, or 'negative: ...'"),
    ("dynamic_energy_flag", STR, "", "negative_dynamic: the parts whose dynamic energy is below zero"),
    ("collectors_reason", STR, "", "collectors that failed mid-run (time, message) or a sampler that stopped"),
)

# Exact CPU time of the timed window's phases, counters and contention (issue 17), read at
# the phase edges by harness.collectors.cpu_phases. Under multi-process strategies the case
# row sums every process of the case; the workers table has each process's own figures.
CPU_TIME = _cols(
    ("train_cpu_s", FLOAT, "s", "CPU seconds (user+system, all threads but the collectors' sampler) of the "
     "training process(es) in the train segments of the timed window", "lower"),
    ("eval_cpu_s", FLOAT, "s", "CPU seconds of the same process(es) in the evaluation passes", "lower"),
    ("cpu_ms_per_update", FLOAT, "ms", "train_cpu_s x 1000 / steps", "lower"),
    ("eval_cpu_ms_per_pass", FLOAT, "ms", "eval_cpu_s x 1000 / evaluation passes (one per epoch)", "lower"),
    ("train_cpu_cores", FLOAT, "cores", "train_cpu_s / train wall time: cores kept busy on average"),
    ("cpu_time_source", STR, "", "process_clock (kernel CPU clock, ns), proc_pid_stat (10 ms ticks), "
     "unavailable; multi-process cases join their processes' sources with + (supervisor: read by the "
     "supervising process at forwarded edges, up to ~20 ms late)"),
    ("train_instructions", FLOAT, "instructions", "user-space instructions retired in the train segments", "lower"),
    ("train_cycles", FLOAT, "cycles", "user-space CPU cycles in the train segments", "lower"),
    ("instructions_per_update", FLOAT, "instructions/step", "train_instructions / steps", "lower"),
    ("hw_counter_source", STR, "", "perf_event or unavailable"),
    ("hw_counter_reason", STR, "", "why the hardware counters are missing (e.g. ENOENT: no PMU in this VM)"),
    ("other_cpu_share", FLOAT, "fraction", "machine CPU time used by other processes in the train segments / "
     "the machine's CPU capacity over them (/proc/stat)"),
    ("steal_share", FLOAT, "fraction", "CPU time stolen by the hypervisor / capacity, same segments"),
    ("contended", BOOL, "", "measured under contention: other_cpu_share >= 0.10 or steal_share >= 0.02"),
    ("contention_source", STR, "", "proc_stat or unavailable"),
)

# Columns added by distribution strategies (issue 4).
DISTRIBUTED = _cols(
    ("cluster", STR, "", "loopback, external (TF_CONFIG / suite) or empty"),
    ("strategy_notes", STR, "", "how the engine adapted to the strategy (XLA scope, metric sources)"),
    ("engine_driver", STR, "", "path that drove the loop: xla_loop, graph_loop+xla_gradients, graph_loop, "
                               "coordinator, keras_fit, eager"),
    ("xla_scope", STR, "", "what XLA compiled: loop (whole K-update loop), gradients, train_step (Keras), none"),
)

# Columns added by profiling (issue 8): filled only for profiled cases, except gpu_mem_peak_source.
PROFILING = _cols(
    ("gpu_mem_peak_source", STR, "", "tf_memory_info (N GPUs, summed) or unavailable: reason"),
    ("profile_dir", STR, "", "trace folder (XProf / TensorBoard logdir of this case x repeat)"),
    ("profile_error", STR, "", "why the op table or breakdown is missing or partial"),
    ("profiled_steps", INT, "steps", "updates inside the profiler window"),
    ("profile_marked_steps", INT, "", "host calls marked as profiler steps"),
    ("profile_window_s", FLOAT, "s", "wall time from profiler start to stop"),
    ("profile_step_ms", FLOAT, "ms", "mean duration of a marked step (one host call)"),
    ("profile_compute_share", FLOAT, "fraction", "marked-step time with an op kernel running"),
    ("profile_input_share", FLOAT, "fraction", "marked-step time with only batch-gathering ops running"),
    ("profile_idle_share", FLOAT, "fraction", "host waits in a tf.function call, no kernel running"),
    ("profile_host_overhead_share", FLOAT, "fraction", "the rest: Python and eager dispatch"),
    ("profile_overview", STR, "", "XProf overview_page step-time averages (ms), JSON"),
)

# Columns added by the runner's crash isolation (issue 7).
RELIABILITY = _cols(
    ("exit_code", INT, "", "worker exit code when the case crashed it (os._exit, abort)"),
    ("exit_signal", STR, "", "signal that killed the worker (SIGSEGV, SIGKILL: OOM?) when the case crashed it"),
)

# The workload (issue 24): the model axis, and the cost of the model with how close a run comes to the device.
MODEL_AXES = _cols(
    ("model", STR, "", "model registry name (mnist_dense, mlp, cnn) or a user's 'package.module:function'; "
     "runs recorded before the axis existed load as mnist_dense"),
    ("model_label", STR, "", "display name of the model (suite `label`, else the name)"),
    ("model_config", STR, "", "model parameters (hidden widths, activation, filters...), JSON"),
)
WORKLOAD = _cols(
    ("model_params", INT, "parameters", "trainable and non-trainable parameters (Keras' count_params)"),
    ("train_flops_per_example", FLOAT, "FLOP/example", "FLOPs one training example executes: the dot and "
     "convolution instructions of the train step's XLA HLO / batch (see train_flops_source)"),
    ("train_flops_source", STR, "", "xla_hlo, layer_count (XLA could not lower the step) or unavailable: why"),
    ("achieved_flops_per_s", FLOAT, "FLOP/s", "train_flops_per_example x samples_per_s over the training "
     "window", HIGHER),
    ("peak_flops_per_s", FLOAT, "FLOP/s", "the device's matmul rate measured by the run's peak probe "
     "(run.json peak_probe: a measured probe, not a datasheet figure)"),
    ("flops_utilization", FLOAT, "fraction", "achieved_flops_per_s / peak_flops_per_s (model-FLOPs utilization)",
     HIGHER),
)

CASE_COLUMNS: dict[str, Column] = {
    **IDENTITY,
    **AXES,
    **OUTCOME,
    **TIMINGS,
    **QUALITY,
    **MEMORY,
    **CPU_TIME,
    **COLLECTORS,
    **DISTRIBUTED,
    **PROFILING,
    **RELIABILITY,
    **MODEL_AXES,
    **WORKLOAD,
    **TUNING,
}

# --------------------------------------------------------------------------
# epochs: one row per case x repeat x epoch
# --------------------------------------------------------------------------
EPOCH_COLUMNS: dict[str, Column] = {
    **{k: IDENTITY[k] for k in ("run_id", "case_id", "case_label", "repeat")},
    **_cols(
        ("epoch", INT, "", "1-based epoch"),
        ("loss", FLOAT, "", "mean training loss over the epoch's updates"),
        ("train_accuracy", FLOAT, "fraction", "training accuracy over the epoch"),
        ("test_loss", FLOAT, "", "test loss after the epoch"),
        ("test_accuracy", FLOAT, "fraction", "test accuracy after the epoch"),
        ("validation_loss", FLOAT, "", "validation loss after the epoch"),
        ("validation_accuracy", FLOAT, "fraction", "validation accuracy after the epoch"),
        ("learning_rate_in_force", FLOAT, "", "learning rate in force at the epoch's last update"),
        ("epoch_s", FLOAT, "s", "training time of the epoch (evaluation excluded)"),
        ("cum_train_s", FLOAT, "s", "training time up to the end of this epoch"),
        ("epoch_steps", INT, "steps", "updates in the epoch"),
        ("epoch_cpu_energy_j", FLOAT, "J", "CPU energy of the epoch's training updates"),
        ("epoch_gpu_energy_j", FLOAT, "J", "GPU energy of the epoch's training updates"),
        ("epoch_energy_j", FLOAT, "J", "energy of the epoch's training updates (CPU + GPUs used)"),
        ("cum_energy_j", FLOAT, "J", "training energy up to the end of this epoch"),
        ("eval_energy_j", FLOAT, "J", "energy of the evaluation after this epoch"),
    ),
}

# --------------------------------------------------------------------------
# samples: the collectors' time series
# --------------------------------------------------------------------------
SAMPLE_COLUMNS: dict[str, Column] = {
    **{k: IDENTITY[k] for k in ("run_id", "case_id", "repeat")},
    **_cols(
        ("t_s", FLOAT, "s", "offset from the start of the measurement (the compile phase, when measured)"),
        ("phase", STR, "", "compile, train, eval, host (between them) or idle: the interval the sample closes"),
        ("cpu_power_w", FLOAT, "W", "CPU power (measured or estimated; see cpu_power_source)"),
        ("cpu_power_source", STR, "", "rapl, estimate_tdp or unavailable"),
        ("dram_power_w", FLOAT, "W", "DRAM power"),
        ("gpu_power_w", FLOAT, "W", "GPU power, summed over GPUs"),
        ("gpu_util_pct", FLOAT, "%", "GPU utilisation (mean over GPUs)"),
        ("gpu_mem_used_bytes", INT, "bytes", "GPU memory used, summed"),
        ("gpu_temp_c", FLOAT, "degC", "hottest GPU"),
        ("process_cpu_pct", FLOAT, "%", "worker CPU utilisation (100 = one core)"),
        ("system_cpu_pct", FLOAT, "%", "system CPU utilisation (100 = all cores)"),
        ("rss_bytes", INT, "bytes", "worker resident set size"),
        ("system_mem_used_bytes", INT, "bytes", "system memory used"),
    ),
}

# --------------------------------------------------------------------------
# workers: per-process details of multi-process cases (issue 4)
# --------------------------------------------------------------------------
WORKER_COLUMNS: dict[str, Column] = {
    **{k: IDENTITY[k] for k in ("run_id", "case_id", "repeat")},
    **_cols(
        ("task_type", STR, "", "worker, chief, ps or coordinator"),
        ("task_index", INT, "", "index within its task type"),
        ("host", STR, "", "host name"),
        ("pid", INT, "", "process id"),
        ("samples_per_s", FLOAT, "examples/s", "examples this process trained / its train time"),
        ("train_s", FLOAT, "s", "this process's training window"),
        ("train_cpu_s", FLOAT, "s", "this process's CPU seconds in its train segments"),
        ("eval_cpu_s", FLOAT, "s", "this process's CPU seconds in evaluation passes"),
        ("cpu_ms_per_update", FLOAT, "ms", "train_cpu_s x 1000 / the case's steps"),
        ("cpu_time_source", STR, "", "process_clock (its own edges) or supervisor (edges forwarded to "
         "the supervising process, up to ~20 ms late)"),
        ("step_ms_p50", FLOAT, "ms", "median update time seen by this process"),
        ("step_ms_p90", FLOAT, "ms", "90th percentile update time"),
        ("status", STR, "", "ok, failed, crashed, timeout"),
        ("error", STR, "", "error of this process"),
    ),
}

# --------------------------------------------------------------------------
# ops: profiler tables (issue 8)
# --------------------------------------------------------------------------
OP_COLUMNS: dict[str, Column] = {
    **{k: IDENTITY[k] for k in ("run_id", "case_id", "case_label", "repeat")},
    **_cols(
        ("host_or_device", STR, "", "Host or Device"),
        ("op_type", STR, "", "op type (MatMul, ...)"),
        ("op_name", STR, "", "op name"),
        ("occurrences", INT, "", "times the op ran in the profiled window"),
        ("total_time_us", FLOAT, "us", "inclusive time"),
        ("self_time_us", FLOAT, "us", "exclusive time"),
        ("self_time_share", FLOAT, "fraction", "self time / profiled window wall time (threads can sum > 1)"),
        ("profiled_steps", INT, "steps", "updates in the profiled window"),
        ("source", STR, "", "XProf tool the row comes from: trace_viewer or framework_op_stats"),
        ("category", STR, "", "xla_op, tf_op, tf_op_eager, runtime, untraced (trace_viewer); framework_op, idle"),
        ("thread", STR, "", "python, tf_executor, eigen_pool... (trace_viewer rows)"),
    ),
}

TABLES: dict[str, dict[str, Column]] = {
    "cases": CASE_COLUMNS,
    "epochs": EPOCH_COLUMNS,
    "samples": SAMPLE_COLUMNS,
    "workers": WORKER_COLUMNS,
    "ops": OP_COLUMNS,
}


def frame(table: str, rows: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    """Build a DataFrame of ``table`` with exactly the declared columns and dtypes.

    Unknown keys raise ``KeyError`` (a typo must not silently drop data);
    missing keys become NA.
    """
    columns = TABLES[table]
    rows = list(rows)
    for row in rows:
        unknown = set(row) - set(columns)
        if unknown:
            raise KeyError(f"{table}: undeclared column(s) {sorted(unknown)}; declare them in harness/schema.py")
    data = {name: [row.get(name) for row in rows] for name in columns}
    df = pd.DataFrame(data, columns=list(columns))
    return conform(table, df)


def conform(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Cast ``df`` to the declared dtypes of ``table`` (adding missing columns as NA)."""
    columns = TABLES[table]
    out = df.copy()
    for name, col in columns.items():
        if name not in out.columns:
            out[name] = pd.Series([None] * len(out), dtype=col.dtype, index=out.index)
        else:
            out[name] = _cast(out[name], col.dtype)
    extra = [c for c in out.columns if c not in columns]
    return out[list(columns) + extra]


def _cast(series: pd.Series, dtype: str) -> pd.Series:
    if dtype == FLOAT:
        return pd.to_numeric(series, errors="coerce").astype(FLOAT)
    if dtype == INT:
        return pd.to_numeric(series, errors="coerce").round().astype(INT)
    if dtype == BOOL:
        return series.astype(BOOL)
    return series.astype(STR)


def units(table: str) -> dict[str, str]:
    """Column name -> unit, for reports."""
    return {name: col.unit for name, col in TABLES[table].items()}


def directions(table: str = "cases") -> dict[str, str]:
    """Column name -> "lower" / "higher" for the columns declared as metrics (which way is better)."""
    return {name: col.better for name, col in TABLES[table].items() if col.better}


def flag_columns(table: str = "cases") -> list[str]:
    """Columns that mark a row as suspect: ``*_flag`` (a short energy window...) and ``contended``."""
    return [name for name in TABLES[table] if name.endswith("_flag") or name == "contended"]


# --------------------------------------------------------------------------
# the values of ``status`` and of the energy ``*_source`` columns: one owner per rule
# --------------------------------------------------------------------------
STATUSES: tuple[str, ...] = ("ok", "diverged", "failed", "crashed", "timeout", "skipped")  # report order
TRAINED: tuple[str, ...] = ("ok", "diverged")  # the training window ran: its figures were measured
FAILING: tuple[str, ...] = ("failed", "diverged", "crashed", "timeout")  # ran and gave no good result

MEASURED_SOURCES = frozenset({"rapl", "nvml_counter", "nvml_power", "measured"})  # counters, not estimates
UNAVAILABLE = "unavailable"  # NaN, with the reason in the matching ``*_reason`` column


def is_estimated(source: object) -> bool:
    """True for an energy/power source that is not a measurement (``estimate_tdp``, ``estimated``, ``mixed``)."""
    if not isinstance(source, str):
        return False
    return "estimat" in source or source == "mixed"


def source_kind(source: str) -> str:
    """``measured``, ``estimated`` or ``not available``: how a CPU or GPU figure was got."""
    if is_estimated(source):
        return "estimated"
    return "not available" if source == UNAVAILABLE else "measured"
