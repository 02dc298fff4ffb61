"""The collectors' settings of a run: from the suite and the command line, plus the idle baseline."""

from __future__ import annotations

import logging
import os

from harness.collectors.base import CollectorConfig
from harness.runner.parent.options import RunOptions
from harness.suite import Suite

log = logging.getLogger(__name__)


def collector_config(suite: Suite, opts: RunOptions, idle: dict[str, float]) -> CollectorConfig:
    names = opts.collectors if opts.collectors is not None else suite.settings.get("collectors")
    tdp = opts.tdp_w or suite.settings.get("tdp_w")
    origin = "cli" if opts.tdp_w else "suite" if suite.settings.get("tdp_w") else None
    threads = opts.tdp_threads or suite.settings.get("tdp_threads")
    strict = bool(opts.strict_energy or suite.settings.get("strict_energy", False))
    return CollectorConfig(names=None if names is None else tuple(names),
                           sample_period_s=suite.settings.get("sample_period_s", 0.1),
                           tdp_w=tdp, tdp_origin=origin, idle=idle, tdp_threads=threads, strict=strict,
                           cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"))


def idle_baseline(suite: Suite, opts: RunOptions, cfg: CollectorConfig) -> dict[str, float]:
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
