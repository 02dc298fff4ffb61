"""Measurement sources: each turns a device into flat readings of cumulative figures.

A source's ``read(t)`` returns floats keyed by name: cumulative energies (J) and
CPU times (s), whose differences between two readings give a window's figures,
and instant values (W, %, bytes, degC). The session reads every source under one
lock, timestamps each read, and aligns the readings to each snapshot's instant.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from harness.collectors import cpu_clocks, cpu_estimate, nvml, process_stats, rapl

log = logging.getLogger(__name__)

KNOWN = ("rapl", "cpu_estimate", "nvml", "process")
NAN = math.nan


class Source:
    """Base: ``label`` goes into ``*_source`` columns; ``update_s`` is the counter's update period."""

    name = ""
    label = ""
    update_s = 0.0
    shares_instant = False  # True: read(t) gets the snapshot's instant (a cache shared with other sources)

    def start(self, t: float) -> None:
        """Open handles and zero the accumulators at time ``t`` (s)."""

    def read(self, t: float) -> dict[str, float]:
        raise NotImplementedError

    def close(self) -> None:
        """Release handles."""


class RaplSource(Source):
    name, label, update_s = "rapl", "rapl", 0.001  # RAPL updates about every 1 ms

    def __init__(self, device: rapl.RaplDevice) -> None:
        self.device = device

    def start(self, t: float) -> None:
        self.device.open(t)

    def read(self, t: float) -> dict[str, float]:
        per_zone = self.device.poll(t)
        out = {f"zone:{zid}": j for zid, j in per_zone.items()}
        zones = [z for z in self.device.zones if z.zone_id in per_zone]
        for kind in ("package", "dram", "psys"):
            # every package counts (one that failed to open makes the sum NaN, not smaller)
            pool = self.device.zones if kind == "package" else zones
            vals = [per_zone.get(z.zone_id, NAN) for z in pool if z.kind == kind]
            out[f"{kind}_j"] = sum(vals) if vals else NAN
        dram = out["dram_j"]
        out["cpu_j"] = out["package_j"] + (0.0 if math.isnan(dram) and not _has(zones, "dram") else dram)
        return out

    def zones_detail(self, first: dict[str, float], last: dict[str, float]) -> dict[str, Any]:
        detail: dict[str, Any] = {}
        for z in self.device.zones:
            key = f"zone:{z.zone_id}"
            energy = last.get(key, NAN) - first.get(key, NAN)
            detail[z.zone_id] = {
                "name": z.name, "kind": z.kind, "parent": z.parent,
                "energy_j": None if math.isnan(energy) else round(energy, 6),
                "wraps": z.wraps, "error": z.error or z.broken or None,
            }
        return detail

    def close(self) -> None:
        self.device.close()


def _has(zones: list[rapl.Zone], kind: str) -> bool:
    return any(z.kind == kind for z in zones)


class EstimateSource(Source):
    """``estimate_tdp`` (a package TDP) or ``estimate_generic`` (a generic W per thread)."""

    name, update_s = "cpu_estimate", 0.01  # CPU times tick at 10 ms

    shares_instant = True  # reads the process group, cached per instant

    def __init__(self, tdp: cpu_estimate.Tdp, group: process_stats.ProcessGroup) -> None:
        self.tdp, self.group = tdp, group

    @property
    def label(self) -> str:  # type: ignore[override]
        return self.tdp.label

    def read(self, t: float) -> dict[str, float]:
        cpu_s, _ = self.group.read(t)
        return {"cpu_j": cpu_estimate.estimate_j(self.tdp, cpu_s)}


class CpuTimeSource(Source):
    """The benchmark processes' and the machine's cumulative CPU seconds (:mod:`cputime`).

    Read with every snapshot whenever anything is measured: the share of the
    machine's busy CPU time that was the benchmark's says whose energy a
    package-wide RAPL counter measured.
    """

    name, label, update_s = "cputime", "proc_stat", 0.01

    shares_instant = True  # reads the process group, cached per instant

    def __init__(self, group: process_stats.ProcessGroup) -> None:
        self.group = group
        self.machine = cpu_clocks.MachineReader()

    def read(self, t: float) -> dict[str, float]:
        cpu_s, _ = self.group.read(t)
        m = self.machine.read()
        return {"proc_cpu_s": cpu_s, "sys_busy_s": m.busy_s, "sys_total_s": m.total_s, "sys_steal_s": m.steal_s}

    def close(self) -> None:
        self.machine.close()


class ProcessSource(Source):
    name, label = "process", "psutil"

    shares_instant = True  # reads the process group, cached per instant

    def __init__(self, group: process_stats.ProcessGroup) -> None:
        self.group = group

    def read(self, t: float) -> dict[str, float]:
        _, rss = self.group.read(t)
        return {"rss": rss, "sys_mem": process_stats.system_memory_used()}


class NvmlSource(Source):
    name = "nvml"

    def __init__(self, device: nvml.NvmlDevice) -> None:
        self.device = device
        self.failed = ""

    @property
    def label(self) -> str:  # type: ignore[override]
        gpus = self.device.gpus
        return "nvml_counter" if gpus and all(g.has_counter for g in gpus) else "nvml_power"

    @property
    def update_s(self) -> float:  # type: ignore[override]
        return nvml.COUNTER_UPDATE_S if self.label == "nvml_counter" else nvml.POWER_AVERAGE_S

    def start(self, t: float) -> None:
        self.failed = ""
        self.device.start(t)

    def read(self, t: float) -> dict[str, float]:
        per_gpu: dict[str, dict[str, float]] = {}
        if not self.failed:
            try:
                per_gpu = {g.uuid: self.device.read(g, t) for g in self.device.gpus}
            except nvml.NvmlError as exc:
                self.failed = str(exc)
                log.warning("GPU measurement stopped: %s", exc)
        out: dict[str, float] = {}
        for gpu in self.device.gpus:
            vals = per_gpu.get(gpu.uuid, {})
            for key in ("j", "power_j", "w", "util", "mem", "temp", "sm_mhz"):
                out[f"{gpu.uuid}|{key}"] = vals.get(key, NAN)
        return out

    def close(self) -> None:
        self.device.close()


def rapl_status(device: rapl.RaplDevice | None = None) -> tuple[bool, str, rapl.RaplDevice]:
    device = device or rapl.discover()
    ok, reason = device.usable_for_cpu()
    return ok, reason, device


def estimate_status(tdp_w: float | None, tdp_origin: str | None, tdp_threads: int | None = None,
                    strict: bool = False) -> tuple[bool, str, cpu_estimate.Tdp | None]:
    """The estimate that will be used (a TDP, else the generic one), or why none (strict)."""
    if strict:
        return False, "strict energy: estimates disabled (only measured figures are kept)", None
    tdp, reason = cpu_estimate.resolve_tdp(tdp_w, tdp_origin, cpu_estimate.threads_per_package(),
                                           tdp_threads=tdp_threads)
    if tdp is None:
        if tdp_w is not None or tdp_threads is not None:  # a bad user value is an error, not a fallback
            return False, reason, None
        tdp = cpu_estimate.GENERIC
        return True, f"{reason}; generic estimate {tdp.describe()} x the benchmark's CPU time", tdp
    return True, f"TDP {tdp.describe()} x the benchmark's CPU time", tdp


def nvml_status(visible: str | None, positions: tuple[int, ...] | None = None,
                ) -> tuple[bool, str, nvml.NvmlDevice | None]:
    """Open NVML and the GPUs used (``positions`` in the visible list; None: all); the caller closes it."""
    try:
        module = nvml.load()
    except nvml.NvmlError as exc:
        return False, str(exc), None
    try:
        device = nvml.NvmlDevice(module, visible, positions)
    except nvml.NvmlError as exc:
        _shutdown(module)
        return False, str(exc), None
    if not device.gpus or device.mig:
        reason = device.mig or device.reason or "unavailable: no GPU visible"
        device.close()
        return False, reason, device
    names = ", ".join(f"{g.index}:{g.name}" for g in device.gpus)
    return True, f"NVML GPUs {names}", device


def _shutdown(module: Any) -> None:
    try:
        module.nvmlShutdown()
    except module.NVMLError as exc:
        log.debug("nvmlShutdown: %s", exc)
