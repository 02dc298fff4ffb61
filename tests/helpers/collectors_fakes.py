"""Fakes at the hardware boundary: a powercap tree, a pynvml module, a clock."""

from __future__ import annotations

import math
import os
import types
from pathlib import Path


class FakeClock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


class FakePowercap:
    """A powercap tree laid out like sysfs: every zone a folder at the root.

    ``add(zone, joules)`` advances a counter the way hardware does (modulo its
    range) and remembers the true energy put in.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ranges: dict[str, int | None] = {}
        self.put_in: dict[str, float] = {}
        self.paths: dict[str, Path] = {}

    def zone(self, zone_id: str, name: str, start_uj: int = 0, max_range_uj: int | None = 2**32,
             nested_in: str | None = None) -> Path:
        parent = self.paths[nested_in] if nested_in else self.root
        path = parent / zone_id
        path.mkdir(parents=True)
        (path / "name").write_text(name + "\n")
        (path / "energy_uj").write_text(f"{start_uj:020d}\n")
        if max_range_uj is not None:
            (path / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
        self.ranges[zone_id], self.put_in[zone_id], self.paths[zone_id] = max_range_uj, 0.0, path
        return path

    def add(self, zone_id: str, joules: float) -> None:
        path = self.paths[zone_id] / "energy_uj"
        cur = int(path.read_text())
        new = (cur + round(joules * 1e6)) % (self.ranges[zone_id] or 2**32)
        # in place and fixed width, as sysfs updates it: a reader never sees an empty file
        fd = os.open(path, os.O_WRONLY)
        try:
            os.pwrite(fd, f"{new:020d}\n".encode(), 0)
        finally:
            os.close(fd)
        self.put_in[zone_id] += joules

    def reset(self, zone_id: str, to_uj: int = 0) -> None:
        """The counter restarts at ``to_uj`` (a package reset, a driver reload), in place as sysfs does."""
        self.set_uj(zone_id, to_uj)

    def set_uj(self, zone_id: str, value_uj: int) -> None:
        """Write the counter in place (fixed width, as sysfs updates it)."""
        fd = os.open(self.paths[zone_id] / "energy_uj", os.O_WRONLY)
        try:
            os.pwrite(fd, f"{value_uj:020d}\n".encode(), 0)
        finally:
            os.close(fd)

    def unlink(self, zone_id: str) -> None:
        """The zone's energy_uj disappears (a reader holding it open keeps reading its last value)."""
        (self.paths[zone_id] / "energy_uj").unlink()


# ---------------------------------------------------------------- fake NVML
class FakeGpu:
    """``power_w(t)`` in W; ``energy_j(t)`` cumulative J (None: no energy counter)."""

    def __init__(self, uuid: str, name: str, power_w, energy_j=None) -> None:
        self.uuid, self.name, self.power_w, self.energy_j = uuid, name, power_w, energy_j
        self.fail: dict[str, int] = {}  # function name -> NVML error code
        self.util, self.mem_used, self.temp, self.sm_mhz = 80, 2 * 2**30, 60, 1500
        self.mig = False  # MIG mode enabled (nvmlDeviceGetMigMode's current mode)


def make_fake_nvml(gpus: list[FakeGpu], clock: FakeClock, init_error: int | None = None) -> types.ModuleType:
    """A module with the pynvml API the collectors use. Energy counters integrate power exactly."""
    m = types.ModuleType("pynvml")
    codes = {"UNINITIALIZED": 1, "NOT_SUPPORTED": 3, "NO_PERMISSION": 4, "DRIVER_NOT_LOADED": 9,
             "LIBRARY_NOT_FOUND": 12, "FUNCTION_NOT_FOUND": 13, "GPU_IS_LOST": 15, "UNKNOWN": 999}
    for k, v in codes.items():
        setattr(m, f"NVML_ERROR_{k}", v)
    m.NVML_TEMPERATURE_GPU, m.NVML_CLOCK_SM = 0, 1
    m.NVML_DEVICE_MIG_DISABLE, m.NVML_DEVICE_MIG_ENABLE = 0, 1

    class NVMLError(Exception):
        def __init__(self, value: int) -> None:
            super().__init__(f"NVML error code {value}")
            self.value = value

    m.NVMLError = NVMLError
    m.calls = []

    def guard(fn_name, handle):
        m.calls.append(fn_name)
        code = gpus[handle].fail.get(fn_name)
        if code:
            raise NVMLError(code)
        return gpus[handle]

    def init():
        if init_error:
            raise NVMLError(init_error)

    m.nvmlInit = init
    m.nvmlShutdown = lambda: None
    m.nvmlSystemGetDriverVersion = lambda: "555.42"
    m.nvmlDeviceGetCount = lambda: len(gpus)
    m.nvmlDeviceGetHandleByIndex = lambda i: i
    m.nvmlDeviceGetUUID = lambda h: guard("uuid", h).uuid
    m.nvmlDeviceGetName = lambda h: guard("name", h).name

    def total_energy(h):
        g = guard("nvmlDeviceGetTotalEnergyConsumption", h)
        if g.energy_j is None:
            raise NVMLError(m.NVML_ERROR_NOT_SUPPORTED)
        return int(round(5e6 + 1000.0 * g.energy_j(clock.t)))  # mJ since "driver load"

    m.nvmlDeviceGetTotalEnergyConsumption = total_energy
    m.nvmlDeviceGetPowerUsage = lambda h: int(round(guard("nvmlDeviceGetPowerUsage", h).power_w(clock.t) * 1000))
    m.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=guard("nvmlDeviceGetUtilizationRates", h).util, memory=10)
    m.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(used=guard("nvmlDeviceGetMemoryInfo", h).mem_used, total=80 * 2**30)
    m.nvmlDeviceGetTemperature = lambda h, sensor: guard("nvmlDeviceGetTemperature", h).temp
    m.nvmlDeviceGetClockInfo = lambda h, kind: guard("nvmlDeviceGetClockInfo", h).sm_mhz
    m.nvmlDeviceGetMigMode = lambda h: (int(guard("nvmlDeviceGetMigMode", h).mig),) * 2
    return m


def sine_power(t: float) -> float:
    """A power trace with a known integral: 200 + 100 sin(t - t0) W."""
    return 200.0 + 100.0 * math.sin(t - 100.0)


def sine_energy_j(t0: float, t1: float) -> float:
    return 200.0 * (t1 - t0) - 100.0 * (math.cos(t1 - 100.0) - math.cos(t0 - 100.0))


# ------------------------------------------------- a machine whose time moves by hand
class FakeMachine:
    """A CPU package (a powercap zone) and GPUs drawing power by workload phase, on a fake clock.

    ``advance(dt)`` moves the clock and puts ``dt x power`` into the counters, so
    a reading costs time only where a fake makes it (``slow_nvml``). ``truth``
    holds the true seconds and joules spent in each phase.
    """

    def __init__(self, clock: FakeClock, powercap: FakePowercap, zone: str,
                 cpu_w: dict[str, float], gpu_w: dict[str, float]) -> None:
        self.clock, self.powercap, self.zone = clock, powercap, zone
        self.cpu_w, self.gpu_w = cpu_w, gpu_w
        self.phase = "host"
        self.gpu_j = 0.0
        self.truth: dict[str, dict[str, float]] = {}

    def advance(self, dt: float) -> None:
        cpu, gpu = self.cpu_w[self.phase] * dt, self.gpu_w[self.phase] * dt
        self.powercap.add(self.zone, cpu)
        self.gpu_j += gpu
        self.clock.advance(dt)
        acc = self.truth.setdefault(self.phase, {"s": 0.0, "cpu_j": 0.0, "gpu_j": 0.0})
        acc["s"] += dt
        acc["cpu_j"] += cpu
        acc["gpu_j"] += gpu

    def gpu(self, uuid: str = "GPU-slow") -> FakeGpu:
        """A GPU whose counter is this machine's GPU energy and whose power is the phase's."""
        return FakeGpu(uuid, "H100", lambda t: self.gpu_w[self.phase], energy_j=lambda t: self.gpu_j)

    def slow_nvml(self, module: types.ModuleType, read_s: float) -> None:
        """Make every energy-counter read cost ``read_s`` of machine time, the counter sampled halfway."""
        fast = module.nvmlDeviceGetTotalEnergyConsumption

        def slow(handle):
            self.advance(read_s / 2)
            value = fast(handle)
            self.advance(read_s / 2)
            return value

        module.nvmlDeviceGetTotalEnergyConsumption = slow


def train_in_segments(session, machine: FakeMachine, segments: int, segment_s: float, host_s: float,
                      tick_s: float = 0.1) -> None:
    """Drive ``session`` like an engine: host, then ``segments`` x (train ``segment_s``, host ``host_s``).

    The machine draws its train power between the return of ``mark_phase("train")``
    and the call of ``mark_phase("host")``; the sampler's ticks (every ``tick_s``
    of machine time) are taken inside training, whose time they take.
    """
    session.start("host")
    next_tick = machine.clock() + tick_s
    for _ in range(segments):
        session.mark_phase("train")
        machine.phase = "train"
        machine.advance(segment_s)
        if machine.clock() >= next_tick:
            session.sample_now()
            next_tick += tick_s
        machine.phase = "host"
        session.mark_phase("host")
        machine.advance(host_s)
    session.stop()


class RealTimeMachine:
    """Like :class:`FakeMachine` on the real clock (``time.perf_counter``): energy is power x real time.

    ``set(phase)`` switches the power at the instant it is called; ``cpu_uj()``
    and ``gpu_mj(t)`` are the counters at the instant read. ``truth`` as in
    :class:`FakeMachine`, closed by :meth:`finish`.
    """

    def __init__(self, cpu_w: dict[str, float], gpu_w: dict[str, float]) -> None:
        import time

        self.now = time.perf_counter
        self.cpu_w, self.gpu_w = cpu_w, gpu_w
        self.phase, self.since = "host", self.now()
        self.cpu_j = self.gpu_j = 0.0  # up to `since`
        self.truth: dict[str, dict[str, float]] = {}

    def set(self, phase: str) -> None:
        t = self.now()
        dt = t - self.since
        acc = self.truth.setdefault(self.phase, {"s": 0.0, "cpu_j": 0.0, "gpu_j": 0.0})
        acc["s"] += dt
        acc["cpu_j"] += self.cpu_w[self.phase] * dt
        acc["gpu_j"] += self.gpu_w[self.phase] * dt
        self.cpu_j += self.cpu_w[self.phase] * dt
        self.gpu_j += self.gpu_w[self.phase] * dt
        self.phase, self.since = phase, t

    def finish(self) -> None:
        self.set(self.phase)

    def energy_j(self, which: str) -> float:
        base, watts = (self.cpu_j, self.cpu_w) if which == "cpu" else (self.gpu_j, self.gpu_w)
        return base + watts[self.phase] * (self.now() - self.since)
