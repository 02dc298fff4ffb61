"""A run's folder and metadata: unique folder names, run.json's content, collector settings."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import schema
from harness.collectors.base import CollectorConfig
from harness.errors import ResultsError
from harness.results import env
from harness.suite import Suite

log = logging.getLogger(__name__)


def new_run_dir(results_dir: Path, suite_name: str) -> Path:
    """A fresh, unique folder; concurrent runs never share one (mkdir is atomic)."""
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"{results_dir}: cannot create the results folder ({exc.strerror or exc})") from exc
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in suite_name)[:40]
    while True:
        path = results_dir / f"{stamp}-{safe}-{secrets.token_hex(3)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as exc:
            raise ResultsError(f"{path}: cannot create the run folder ({exc.strerror or exc})") from exc


def run_metadata(suite: Suite, run_dir: Path, opts: Any) -> dict[str, Any]:
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
                    "time_limit_s": opts.time_limit_s, "collectors": opts.collectors},
        "resumed_utc": [],
    }


def collector_config(suite: Suite, opts: Any, idle: dict[str, float]) -> CollectorConfig:
    names = opts.collectors if opts.collectors is not None else suite.settings.get("collectors")
    tdp = opts.tdp_w or suite.settings.get("tdp_w")
    origin = "cli" if opts.tdp_w else "suite" if suite.settings.get("tdp_w") else None
    threads = getattr(opts, "tdp_threads", None) or suite.settings.get("tdp_threads")
    strict = bool(getattr(opts, "strict_energy", False) or suite.settings.get("strict_energy", False))
    return CollectorConfig(names=None if names is None else tuple(names),
                           sample_period_s=suite.settings.get("sample_period_s", 0.1),
                           tdp_w=tdp, tdp_origin=origin, idle=idle, tdp_threads=threads, strict=strict,
                           cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"))


def restore_options(opts: Any, meta: dict[str, Any]) -> None:
    """On --resume, the case selection is the original run's (the command line cannot change it)."""
    o = meta.get("options") or {}
    opts.repeats, opts.filters, opts.shard = o.get("repeats"), o.get("filters") or [], o.get("shard")
    if opts.time_limit_s is None:
        opts.time_limit_s = o.get("time_limit_s")
    if opts.collectors is None:
        opts.collectors = o.get("collectors")


def idle_baseline(suite: Suite, opts: Any, cfg: CollectorConfig) -> dict[str, float]:
    seconds = opts.idle_baseline_s if opts.idle_baseline_s is not None else suite.settings.get("idle_baseline_s", 0)
    if not seconds or cfg.names == ():
        return {}
    try:
        from harness.collectors import measure_idle
    except ImportError as exc:
        log.warning("idle baseline not measured: %s", exc)
        return {}
    log.info("measuring idle power for %.1f s", seconds)
    return measure_idle(cfg, seconds)
