"""run.json's content for a new run: machine, software, git, environment, the suite and the options."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from harness.collectors import machine as facts
from harness.run_meta import GitInfo, Machine, OptionsRecord, RunMeta, SuiteRecord, part_of
from harness.runner.parent.options import RunOptions
from harness.suite import Suite


def new_run_meta(suite: Suite, run_dir: Path, opts: RunOptions) -> RunMeta:
    """A new run's metadata; ``suite.text`` and ``options`` are what ``--resume`` rebuilds the run from."""
    abspath = Path(suite.path).resolve() if Path(suite.path).exists() else None
    software = facts.software_info()
    return RunMeta(
        run_id=run_dir.name, status="running", started_utc=now_utc(),
        harness_version=software["harness"], machine=part_of(Machine, facts.machine_info()),
        software=software, git=part_of(GitInfo, facts.git_info(Path(__file__).resolve().parent)),
        environment=facts.environment_variables(), argv=list(sys.argv),
        suite=SuiteRecord(suite.name, suite.description, suite.path, str(abspath) if abspath else None,
                          suite.sha256, suite.text, suite.settings),
        options=OptionsRecord(opts.repeats, list(opts.filters), opts.shard, opts.time_limit_s,
                              None if opts.collectors is None else list(opts.collectors), opts.tdp_w,
                              opts.idle_baseline_s, opts.profile_steps, opts.profile_skip_steps,
                              str(opts.balance_from) if opts.balance_from else None),
    )


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
