"""The plan stage of a run: made once, then handed to execution and to recording.

``plan_run`` decides everything the run will do before any worker starts:
the suite (on ``--resume`` the run's own, with its recorded options restored),
the cases selected (``--filter``), this shard's share of them (balanced by
their estimated durations, :mod:`harness.runner.parent.shards`) and their
order (:func:`harness.runner.parent.plan.make_tasks`). Execution
(:func:`harness.runner.runner.run_suite`) reads the :class:`RunPlan`; it never
selects or reorders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from harness.errors import UsageError
from harness.results import store
from harness.run_meta import RunMeta, ShardRecord
from harness.runner.parent.options import RunOptions, restore_options
from harness.runner.parent.plan import Task, make_tasks
from harness.suite import Suite, parse_suite

log = logging.getLogger(__name__)


@dataclass
class RunPlan:
    """What a run will do: ``tasks`` (case x repeat, in the order they run), this shard's record for
    run.json (None: not sharded, or resumed: the record is already there) and, on ``--resume``,
    the run's record (None: a new run)."""

    suite: Suite
    tasks: list[Task]
    shard: ShardRecord | None = None
    resumed: RunMeta | None = None


def plan_run(suite: Suite | None, opts: RunOptions) -> RunPlan:
    """Select, shard, balance and order the run's tasks; ``opts`` is completed from run.json on resume."""
    resumed: RunMeta | None = None
    if opts.resume:
        resumed = store.read_run_json(opts.resume)
        if suite is None or suite.text != resumed.suite.text:  # the run's own suite, never another
            suite = parse_suite(resumed.suite.text, resumed.suite.abspath or resumed.suite.path)
        restore_options(opts, resumed)
    assert suite is not None, "a suite, or --resume"
    shard = shard_record_of(suite, opts) if opts.shard and not opts.resume else None
    only = set(shard.case_ids or []) if shard else opts.shard_cases
    tasks = make_tasks(suite.cases, filters=opts.filters, repeats=opts.repeats, only=only,
                       shard=None if only is not None else opts.shard)
    if not tasks and only is None:
        from harness.suite.filters import no_match_message

        raise UsageError("--filter", " ".join(opts.filters or []), no_match_message(suite.cases, opts.filters))
    if not tasks:
        log.warning("shard %s has no case to run (more shards than cases?); it records an empty run",
                    opts.shard)
    return RunPlan(suite, tasks, shard, resumed)


def shard_record_of(suite: Suite, opts: RunOptions) -> ShardRecord:
    """This shard's record for run.json (its cases among the balanced assignment of all of them)."""
    from harness.runner.parent.estimate import Estimator, from_run
    from harness.runner.parent.plan import shard_record
    from harness.runner.parent.shards import ShardSpec, parse_shard_text

    spec = parse_shard_text(opts.shard or "")
    spec = ShardSpec(spec.index, spec.count, opts.shard_source, opts.shard_variables)
    est = from_run(opts.balance_from, suite.cases) if opts.balance_from else Estimator()
    return shard_record(suite.cases, spec, filters=opts.filters, repeats=opts.repeats, estimator=est)
