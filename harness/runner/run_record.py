"""run.json's content for a new run: machine, software, git, environment, the suite and the options."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import schema
from harness.collectors import machine as env
from harness.runner.options import RunOptions
from harness.suite import Suite


def run_metadata(suite: Suite, run_dir: Path, opts: RunOptions) -> dict[str, Any]:
    """run.json's content; ``suite.text`` and ``options`` are what ``--resume`` rebuilds the run from."""
    abspath = Path(suite.path).resolve() if Path(suite.path).exists() else None
    return {
        "schema_version": schema.SCHEMA_VERSION, "run_id": run_dir.name, "status": "running",
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"), "ended_utc": None,
        "harness_version": env.software_info()["harness"], "machine": env.machine_info(),
        "software": env.software_info(), "git": env.git_info(Path(__file__).resolve().parent),
        "environment": env.environment_variables(), "argv": sys.argv,
        "suite": {"name": suite.name, "description": suite.description, "path": suite.path,
                  "abspath": str(abspath) if abspath else None,
                  "sha256": suite.sha256, "text": suite.text, "settings": suite.settings},
        "options": {"repeats": opts.repeats, "filters": opts.filters, "shard": opts.shard,
                    "time_limit_s": opts.time_limit_s, "collectors": opts.collectors,
                    "balance_from": str(opts.balance_from) if opts.balance_from else None},
        "resumed_utc": [],
    }
