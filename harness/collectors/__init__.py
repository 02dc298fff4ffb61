"""Collectors: CPU/DRAM energy (RAPL or a TDP estimate), GPU (NVML), process and system.

Never imports TensorFlow. The public functions::

    open_session(config) -> Session          # one per case x repeat (see base.py for the call order)
    measure_idle(config, seconds) -> dict    # idle power per source, for config.idle
    available_collectors(config) -> {name: (works here, reason)}
    collectors_table(config) -> rows for ``harness list``
    describe_environment(config) -> dict for ``harness env``

Order of preference for CPU energy: ``rapl`` (measured), then ``cpu_estimate``
(``estimate_tdp`` from a package TDP, else ``estimate_generic`` from a generic
power per thread), then NaN with the reasons (``strict``: no estimates). See
docs/collectors.md.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable
from typing import Any

from harness.collectors import idle as idle_mod
from harness.collectors import rapl, sources
from harness.collectors.base import CollectorConfig, Session
from harness.collectors.process_stats import ProcessGroup
from harness.collectors.readings import Plan
from harness.collectors.session import MeasurementSession
from harness.errors import ConfigError

log = logging.getLogger(__name__)

__all__ = [
    "CollectorConfig", "Session", "open_session", "measure_idle", "available_collectors",
    "collectors_table", "describe_environment", "KNOWN_COLLECTORS",
]

KNOWN_COLLECTORS = sources.KNOWN
_MEASURES = {
    "rapl": "CPU package / DRAM / psys energy from Linux powercap counters (measured)",
    "cpu_estimate": "CPU energy from the benchmark's CPU time x TDP per thread (estimate_tdp) "
                    "or a generic W per thread (estimate_generic), with low/high bounds",
    "nvml": "GPU energy (counter or integrated power), utilisation, memory, temperature, clocks",
    "process": "process and system CPU utilisation, RSS, system memory (psutil)",
}


def _names(config: CollectorConfig) -> tuple[str, ...]:
    if config.names is None:
        return KNOWN_COLLECTORS
    unknown = [n for n in config.names if n not in KNOWN_COLLECTORS]
    if unknown:
        raise ConfigError(
            f"unknown collector(s) {unknown}; known: {list(KNOWN_COLLECTORS)}. Received: collectors={list(config.names)}"
        )
    return tuple(config.names)


def _plan(config: CollectorConfig) -> Plan:
    names = _names(config)
    plan = Plan(uses_gpu=bool(config.gpus), sample_period_s=config.sample_period_s)
    if not names:
        off = "collectors disabled"
        plan.cpu_reason = plan.gpu_reason = plan.process_reason = off
        return plan
    group = ProcessGroup(config.pids)
    _plan_cpu(config, names, plan, group)
    if config.gpus == ():
        plan.gpu_reason = "the case uses no GPU"
    elif "nvml" in names:
        ok, reason, device = sources.nvml_status(_visible(config), config.gpus)
        plan.gpu_count = len(device.gpus) if device is not None else None
        if ok:
            plan.gpu = sources.NvmlSource(device)
        else:
            plan.gpu_reason = reason
    else:
        plan.gpu_reason = "nvml collector not selected"
    if "process" in names:
        plan.process = sources.ProcessSource(group)
    plan.extra.append(sources.CpuTimeSource(group))
    return plan


def _plan_cpu(config: CollectorConfig, names: tuple[str, ...], plan: Plan, group: ProcessGroup) -> None:
    reasons = []
    if "rapl" in names:
        ok, reason, device = sources.rapl_status()
        if ok:
            period, note = rapl.safe_period(device, config.sample_period_s)
            if period is None:
                ok, reason = False, note
            else:
                plan.cpu, plan.sample_period_s = sources.RaplSource(device), period
                if note:
                    log.warning("%s", note)
                    plan.notes.append(note)
        reasons.append(f"rapl: {reason}")
    if plan.cpu is None and "cpu_estimate" in names:
        ok, reason, tdp = sources.estimate_status(config.tdp_w, config.tdp_origin, config.tdp_threads, config.strict)
        if ok:
            plan.cpu, plan.tdp = sources.EstimateSource(tdp, group), tdp
            reasons.insert(0, f"estimated: {reason}")
            if tdp.warning():
                log.warning("%s", tdp.warning())
                plan.notes.append(tdp.warning())
        else:
            reasons.append(f"cpu_estimate: {reason}")
    rapl_used = isinstance(plan.cpu, sources.RaplSource)
    plan.cpu_reason = "; ".join(plan.notes) if rapl_used else "; ".join(reasons) or "not selected"


def _visible(config: CollectorConfig) -> str | None:
    if config.cuda_visible_devices is not None:
        return config.cuda_visible_devices
    return os.environ.get("CUDA_VISIBLE_DEVICES")


def open_session(
    config: CollectorConfig, *, clock: Callable[[], float] | None = None, background: bool = True
) -> MeasurementSession:
    """A session for one case x repeat. ``clock`` (seconds) and ``background`` are for tests."""
    return MeasurementSession(config, _plan(config), clock or time.perf_counter, background)


def measure_idle(config: CollectorConfig, seconds: float, *, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> dict[str, float]:
    """Mean power of each measured source over ``seconds`` of doing nothing, for ``CollectorConfig.idle``.

    Keys (present only when measured): ``cpu_power_w``, ``dram_power_w``,
    ``psys_power_w``, ``gpu_power_w`` (totals), and per device
    ``rapl_power_w:<zone id>`` (package and DRAM zones) and ``gpu_power_w:<uuid>``
    (:mod:`harness.collectors.idle`), so that a case is charged the idle power of
    exactly the devices it uses. An estimate has no idle power (it charges only
    the benchmark's CPU-seconds), so an estimated CPU gives no ``cpu_power_w``.
    ``clock`` and ``sleep`` are for tests (a fake clock: no background sampler).
    """
    if seconds <= 0:
        raise ConfigError(f"idle baseline must be > 0 s. Received: seconds={seconds}")
    session = open_session(dataclasses.replace(config, idle={}), clock=clock, background=clock is None)
    session.start("idle")
    sleep(seconds)
    session.stop()
    cols = session.case_columns(0, 0, None, phase="idle")
    window = cols["energy_window_s"]
    out: dict[str, float] = {}
    measured = cols["cpu_energy_source"] == "rapl"
    for col, key in (("cpu_energy_j", "cpu_power_w"), ("dram_energy_j", "dram_power_w"),
                     ("psys_energy_j", "psys_power_w"), ("gpu_energy_j", "gpu_power_w")):
        value = cols.get(col, math.nan)
        if value is not None and not math.isnan(value) and (measured or col == "gpu_energy_j"):
            out[key] = value / window
    out.update(idle_mod.per_device(cols, window))
    log.info("idle baseline over %.1f s: %s", window, out)
    return out


def available_collectors(config: CollectorConfig | None = None) -> dict[str, tuple[bool, str]]:
    """name -> (works on this host, why / what it will use)."""
    config = config or CollectorConfig()
    ok_rapl, why_rapl, _ = sources.rapl_status()
    ok_est, why_est, _ = sources.estimate_status(config.tdp_w, config.tdp_origin, config.tdp_threads, config.strict)
    ok_gpu, why_gpu, device = sources.nvml_status(_visible(config), config.gpus)
    if ok_gpu and device is not None:
        device.close()
    try:
        ProcessGroup(config.pids).read()
        ok_proc, why_proc = True, "psutil"
    except Exception as exc:  # psutil missing /proc etc.
        ok_proc, why_proc = False, f"unavailable: {exc}"
    return {"rapl": (ok_rapl, why_rapl), "cpu_estimate": (ok_est, why_est),
            "nvml": (ok_gpu, why_gpu), "process": (ok_proc, why_proc)}


def collectors_table(config: CollectorConfig | None = None) -> list[dict[str, Any]]:
    """Rows ``{collector, available, reason, measures}`` for ``harness list``."""
    return [{"collector": name, "available": ok, "reason": reason, "measures": _MEASURES[name]}
            for name, (ok, reason) in available_collectors(config).items()]


def describe_environment(config: CollectorConfig | None = None) -> dict[str, Any]:
    """The machine and its measurement capabilities (``harness env``)."""
    from harness.collectors.environment import describe

    return describe(config or CollectorConfig())
