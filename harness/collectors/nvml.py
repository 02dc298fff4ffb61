"""NVML device layer: the GPUs a case uses, read through ``pynvml`` (nvidia-ml-py).

Vendor errors are mapped to typed exceptions with a readable reason. GPUs are
chosen by ``CUDA_VISIBLE_DEVICES`` (indices or ``GPU-`` UUID prefixes, stopping
at the first entry that matches nothing, as CUDA does) and identified by UUID.

Energy per GPU comes from ``nvmlDeviceGetTotalEnergyConsumption`` (mJ since the
driver loaded; Volta and newer) when supported, else from power samples
(``nvmlDeviceGetPowerUsage``, mW) integrated with the trapezoid rule.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from harness.collectors import counters

log = logging.getLogger(__name__)

COUNTER_UPDATE_S = 0.1  # the energy counter updates every ~10-100 ms
POWER_AVERAGE_S = 1.0  # nvmlDeviceGetPowerUsage is a 1 s average on Ampere and newer
# Highest power one GPU plausibly draws (W), to tell a counter step from a fault: above the
# largest boards' limits (B200 1000 W, GB200 1200 W per GPU).
PLAUSIBLE_MAX_W = 1500.0


class NvmlError(Exception):
    """Base of the NVML errors; ``str()`` is the reason recorded in the results."""


class NvmlUnavailable(NvmlError):
    """NVML cannot be used at all (no library, no driver, no GPU)."""


class NvmlNotSupported(NvmlError):
    """This GPU does not support the query."""


class NvmlPermission(NvmlError):
    """The query needs privileges the process lacks."""


class NvmlGpuLost(NvmlError):
    """The GPU fell off the bus or must be reset."""


_CODES: dict[str, tuple[type[NvmlError], str]] = {
    "NVML_ERROR_LIBRARY_NOT_FOUND": (NvmlUnavailable, "NVML library not found (no NVIDIA driver)"),
    "NVML_ERROR_DRIVER_NOT_LOADED": (NvmlUnavailable, "NVIDIA driver not loaded"),
    "NVML_ERROR_UNINITIALIZED": (NvmlUnavailable, "NVML not initialised"),
    "NVML_ERROR_FUNCTION_NOT_FOUND": (NvmlNotSupported, "driver too old for this NVML call"),
    "NVML_ERROR_NOT_SUPPORTED": (NvmlNotSupported, "not supported by this GPU"),
    "NVML_ERROR_NO_PERMISSION": (NvmlPermission, "permission denied"),
    "NVML_ERROR_GPU_IS_LOST": (NvmlGpuLost, "GPU is lost (fell off the bus)"),
    "NVML_ERROR_RESET_REQUIRED": (NvmlGpuLost, "GPU needs a reset"),
}


def map_error(nvml: ModuleType, exc: Exception, what: str) -> NvmlError:
    """Turn a ``pynvml.NVMLError`` into one of the typed errors above."""
    value = getattr(exc, "value", None)
    for const, (cls, text) in _CODES.items():
        if value is not None and value == getattr(nvml, const, object()):
            return cls(f"unavailable: {what}: {text}")
    return NvmlError(f"unavailable: {what}: NVML error {value}: {exc}")


def load() -> ModuleType:
    """Import and initialise pynvml; raise :class:`NvmlUnavailable` with the reason."""
    try:
        nvml = importlib.import_module("pynvml")
    except ImportError:
        raise NvmlUnavailable("unavailable: pynvml (nvidia-ml-py) not installed") from None
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        err = map_error(nvml, exc, "nvmlInit")
        raise NvmlUnavailable(str(err)) from None
    return nvml


@dataclass
class Gpu:
    """One GPU handle with its energy integration state."""

    index: int
    uuid: str
    name: str
    handle: Any
    has_counter: bool = False
    counter0_mj: float = math.nan
    unsupported: set[str] = field(default_factory=set)
    last_t: float | None = None
    last_w: float = math.nan
    integral_j: float = 0.0
    t0: float = 0.0  # when the session started (s), for the times in reasons
    last_mj: float = math.nan  # the energy counter's last reading (mJ) and its time (s)
    last_ct: float = 0.0
    broken: str = ""  # non-empty once the counter stepped implausibly (backwards, a jump): energy NaN


def _decode(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def select(count: int, uuids: list[str], visible: str | None) -> tuple[list[int], str]:
    """NVML indices named by ``CUDA_VISIBLE_DEVICES`` (``visible``); reason when none."""
    if visible is None:
        return list(range(count)), ""
    chosen: list[int] = []
    for entry in (e.strip() for e in visible.split(",")):
        if entry.startswith("MIG-"):  # measured nowhere: the device layer says why (mig_reason)
            chosen.append(-1)
            break
        if entry.isdigit() and int(entry) < count:
            chosen.append(int(entry))
        elif entry.startswith("GPU-") and (hits := [i for i, u in enumerate(uuids) if u.startswith(entry)]):
            chosen.append(hits[0])
        else:  # CUDA ignores this entry and everything after it
            if entry:
                log.warning("CUDA_VISIBLE_DEVICES entry %r matches no GPU (MIG not measured)", entry)
            break
    if chosen == [-1]:
        return [], (f"unavailable: CUDA_VISIBLE_DEVICES={visible!r} names MIG instances: NVML gives no "
                    "energy per MIG instance, only the whole GPU's, which other instances share")
    chosen = [c for c in chosen if c >= 0]
    if not chosen:
        return [], f"unavailable: CUDA_VISIBLE_DEVICES={visible!r} leaves no GPU visible"
    if len(chosen) > 1 and os.environ.get("CUDA_DEVICE_ORDER") != "PCI_BUS_ID":
        log.info("CUDA_VISIBLE_DEVICES indices are read in NVML (PCI bus) order; "
                 "set CUDA_DEVICE_ORDER=PCI_BUS_ID so CUDA uses the same order")
    return list(dict.fromkeys(chosen)), ""


def used(indices: list[int], positions: tuple[int, ...] | None, visible: str | None) -> tuple[list[int], str]:
    """The NVML indices of the GPUs a case uses: ``positions`` in the visible list (None: all)."""
    if positions is None:
        return indices, ""
    missing = [p for p in positions if p >= len(indices)]
    if missing:
        shown = "all" if visible is None else f"CUDA_VISIBLE_DEVICES={visible!r}"
        return [], (f"unavailable: the case uses visible GPU(s) {missing} but only {len(indices)} "
                    f"GPU(s) are visible ({shown})")
    return [indices[p] for p in positions], ""


def mig_reason(nvml: ModuleType, gpu: Gpu, visible: str | None) -> str:
    """Why a GPU's energy cannot be charged to the case under MIG ('' when MIG is off)."""
    if visible and any(e.strip().startswith("MIG-") for e in visible.split(",")):
        return (f"unavailable: CUDA_VISIBLE_DEVICES={visible!r} names MIG instances: NVML gives no "
                "energy per MIG instance, only the whole GPU's, which other instances share")
    try:
        current, _pending = nvml.nvmlDeviceGetMigMode(gpu.handle)
    except (AttributeError, nvml.NVMLError):
        return ""  # no MIG support on this GPU or driver
    if current == getattr(nvml, "NVML_DEVICE_MIG_ENABLE", 1):
        return (f"unavailable: GPU {gpu.index} ({gpu.name}, {gpu.uuid}) is in MIG mode: its energy "
                "counter covers the whole GPU, shared by its MIG instances, so it is not charged to one case")
    return ""


def counter_energy(gpu: Gpu, mj: float, t: float) -> float:
    """Joules since the session started from a counter reading ``mj`` (mJ) at ``t`` (s); NaN once broken.

    Every step is checked (:func:`harness.collectors.counters.classify_step`, no
    range: the 64-bit mJ counter does not wrap): a counter that goes backwards
    (a driver reload, a GPU reset) or jumps beyond :data:`PLAUSIBLE_MAX_W` breaks
    the GPU's energy, with the reason in ``gpu.broken``.
    """
    if gpu.broken or math.isnan(mj):
        return math.nan
    elapsed = t - gpu.last_ct
    step = counters.classify_step(gpu.last_mj, mj, None, elapsed, PLAUSIBLE_MAX_W, 1e-3, COUNTER_UPDATE_S)
    if step.fault:
        why = counters.describe_fault(step, t - gpu.t0, elapsed, gpu.last_mj, mj, 1e-3, PLAUSIBLE_MAX_W, "mJ")
        gpu.broken = f"GPU {gpu.index} ({gpu.uuid}) energy {why}"
        log.warning("%s", gpu.broken)
        return math.nan
    gpu.last_mj, gpu.last_ct = mj, t
    return (mj - gpu.counter0_mj) / 1000.0


class NvmlDevice:
    """The GPUs a case uses; raises :class:`NvmlError` subclasses, never raw NVML errors."""

    def __init__(self, nvml: ModuleType, visible: str | None, positions: tuple[int, ...] | None = None) -> None:
        self.nvml = nvml
        self.gpus: list[Gpu] = []
        self.reason = ""
        try:
            count = nvml.nvmlDeviceGetCount()
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            uuids = [_decode(nvml.nvmlDeviceGetUUID(h)) for h in handles]
            indices, self.reason = select(count, uuids, visible)
            if not self.reason:
                indices, self.reason = used(indices, positions, visible)
            for i in indices:
                name = _decode(nvml.nvmlDeviceGetName(handles[i]))
                self.gpus.append(Gpu(i, uuids[i], name, handles[i]))
        except nvml.NVMLError as exc:
            raise map_error(nvml, exc, "listing GPUs") from None
        if count == 0:
            self.reason = "unavailable: NVML sees no GPU"
        self.mig = next((r for g in self.gpus if (r := mig_reason(nvml, g, visible))), "")

    def _call(self, gpu: Gpu, fn: str, *args: Any) -> Any:
        """Call ``nvml.<fn>(handle, *args)``; NaN when unsupported (remembered)."""
        if fn in gpu.unsupported:
            return math.nan
        try:
            return getattr(self.nvml, fn)(gpu.handle, *args)
        except self.nvml.NVMLError as exc:
            err = map_error(self.nvml, exc, f"{fn} on {gpu.uuid}")
            if isinstance(err, NvmlGpuLost):
                raise err from None
            gpu.unsupported.add(fn)
            log.info("%s", err)
            return math.nan

    def start(self, t: float) -> None:
        """Probe the energy counter and reset the integrals at time ``t`` (s)."""
        for gpu in self.gpus:
            gpu.unsupported.clear()
            mj = self._call(gpu, "nvmlDeviceGetTotalEnergyConsumption")
            gpu.has_counter = not math.isnan(float(mj))
            gpu.counter0_mj = float(mj)
            gpu.last_t, gpu.last_w, gpu.integral_j = None, math.nan, 0.0
            gpu.t0, gpu.last_mj, gpu.last_ct, gpu.broken = t, float(mj), t, ""

    def read(self, gpu: Gpu, t: float) -> dict[str, float]:
        """One reading of ``gpu`` at time ``t``: cumulative joules and instant figures."""
        mw = float(self._call(gpu, "nvmlDeviceGetPowerUsage"))
        watts = mw / 1000.0
        if gpu.last_t is not None and t > gpu.last_t:
            gpu.integral_j += 0.5 * (watts + gpu.last_w) * (t - gpu.last_t)
        gpu.last_t, gpu.last_w = t, watts
        if gpu.has_counter:
            mj = float(self._call(gpu, "nvmlDeviceGetTotalEnergyConsumption"))
            energy = counter_energy(gpu, mj, t)
        else:
            energy = gpu.integral_j
        util = self._call(gpu, "nvmlDeviceGetUtilizationRates")
        mem = self._call(gpu, "nvmlDeviceGetMemoryInfo")
        return {
            "j": energy,
            "power_j": gpu.integral_j,
            "w": watts,
            "util": float(getattr(util, "gpu", math.nan)),
            "mem": float(getattr(mem, "used", math.nan)),
            "temp": float(self._call(gpu, "nvmlDeviceGetTemperature", getattr(self.nvml, "NVML_TEMPERATURE_GPU", 0))),
            "sm_mhz": float(self._call(gpu, "nvmlDeviceGetClockInfo", getattr(self.nvml, "NVML_CLOCK_SM", 1))),
        }

    def describe(self) -> list[dict[str, Any]]:
        out = []
        for gpu in self.gpus:
            mj = self._call(gpu, "nvmlDeviceGetTotalEnergyConsumption")
            out.append({"index": gpu.index, "uuid": gpu.uuid, "name": gpu.name,
                        "energy_counter": not math.isnan(float(mj))})
        return out

    def close(self) -> None:
        try:
            self.nvml.nvmlShutdown()
        except self.nvml.NVMLError as exc:
            log.debug("nvmlShutdown: %s", exc)
