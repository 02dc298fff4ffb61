"""What a run is asked to do beyond its suite (the command line's options), and how --resume restores them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.run_meta import RunMeta
from harness.runner.parent.observers import RunObserver

# the workers' defaults, owned here (RecyclePolicy and ``harness run``'s flags read them)
WORKER_MODES = ("fork", "reuse")
DEFAULT_WORKER_MODE = "fork"
DEFAULT_MAX_CASES = 50
DEFAULT_MAX_RSS_MIB = 4096.0  # MiB (2**20 bytes)


@dataclass
class RunOptions:
    results_dir: Path = Path("results")
    repeats: int | None = None
    filters: list[str] = field(default_factory=list)
    shard: str | None = None
    time_limit_s: float | None = None
    progress: bool = True
    collectors: list[str] | None = None  # overrides the suite's list
    tdp_w: float | None = None
    tdp_threads: int | None = None  # threads sharing tdp_w (default: the TDP table, else this machine)
    strict_energy: bool = False  # measured energy only: NaN with a reason where there is no counter
    idle_baseline_s: float | None = None
    resume: Path | None = None
    profile_steps: int | None = None  # updates to capture per profiled case (CLI or suite)
    profile_skip_steps: int = 0  # updates of the window to let pass before the profiler starts
    shard_source: str = "cli"  # where --shard came from: cli, slurm, kubernetes, harness_shard
    shard_variables: dict[str, str] = field(default_factory=dict)  # the scheduler variables read
    balance_from: Path | None = None  # a previous run whose durations balance the shards
    shard_cases: set[str] | None = None  # on --resume: the shard's recorded cases
    worker_max_cases: int | None = DEFAULT_MAX_CASES  # recycle a worker after this many cases (None: never)
    worker_max_rss_mib: float | None = DEFAULT_MAX_RSS_MIB  # ... or once its RSS (MiB) after a case exceeds this
    worker_mode: str = DEFAULT_WORKER_MODE  # fork: each case in a child forked from the worker; reuse: in the worker itself
    observers: list[RunObserver] = field(default_factory=list)  # e.g. the live TensorBoard logdir


def restore_options(opts: RunOptions, meta: RunMeta) -> None:
    """On --resume, the case selection is the original run's (the command line cannot change it)."""
    if meta.merged:
        raise HarnessError(f"{opts.resume}: a merged run cannot be resumed; resume the shard that stopped "
                           "(its folder is listed under `shards` in run.json), then merge again")
    recorded = meta.options
    opts.repeats, opts.filters, opts.shard = recorded.repeats, list(recorded.filters), recorded.shard
    if meta.shard is not None and meta.shard.case_ids is not None:
        opts.shard_cases = set(meta.shard.case_ids)  # the shard's share as assigned, whatever balanced it
    if opts.time_limit_s is None:
        opts.time_limit_s = recorded.time_limit_s
    if opts.collectors is None:
        opts.collectors = recorded.collectors
    policy = meta.worker_policy
    if policy is not None:  # a resumed run keeps its recycling policy
        opts.worker_max_cases, opts.worker_max_rss_mib = policy.max_cases, policy.max_rss_mib
        opts.worker_mode = policy.mode or "reuse"  # runs before the mode existed reused their workers
