"""Hardware counters (instructions, cycles) of this process through Linux ``perf_event_open``.

One counter per event and per thread that exists when :meth:`PerfCounters.open`
runs (``/proc/self/task``), each with ``inherit`` so that threads those threads
start later are counted too; a reading is the sum over the threads (scaled by
``time_enabled / time_running`` when the kernel multiplexed the PMU). Only
user-space instructions are counted (``exclude_kernel``, ``exclude_hv``): that
is what an unprivileged process may count at ``perf_event_paranoid`` 2, and it
is the part of the work the benchmark's code decides.

Virtual machines usually expose no PMU: the kernel answers ``ENOENT`` or
``EOPNOTSUPP``; containers and hardened kernels answer ``EACCES``/``EPERM``.
Then every figure is NaN and :attr:`PerfCounters.reason` says why. The
syscall itself sits behind :class:`Syscalls`, so tests replace it with a fake
(the only thing faked: the parsing, the scaling and the refusals are the real code).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import math
import os
import platform
import struct
from dataclasses import dataclass

log = logging.getLogger(__name__)

NAN = math.nan
SOURCE = "perf_event"
UNAVAILABLE = "unavailable"
PERF_TYPE_HARDWARE = 0
EVENTS = {"instructions": 1, "cycles": 0}  # PERF_COUNT_HW_INSTRUCTIONS, PERF_COUNT_HW_CPU_CYCLES
ATTR_SIZE = 112  # PERF_ATTR_SIZE_VER5
_FLAGS = (1 << 1) | (1 << 5) | (1 << 6)  # inherit, exclude_kernel, exclude_hv (counting from open)
_READ_FORMAT = 1 | 2  # PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING
_FD_CLOEXEC = 8
_SYSCALL_NR = {"x86_64": 298, "aarch64": 241, "arm64": 241, "i686": 336, "ppc64le": 319, "s390x": 331}
_WHY = {
    errno.ENOENT: "no hardware PMU event here (a virtual machine without a virtual PMU?)",
    errno.EOPNOTSUPP: "hardware counters not supported here (a virtual machine?)",
    errno.EACCES: "permission denied (kernel.perf_event_paranoid or a container's seccomp policy)",
    errno.EPERM: "not permitted (kernel.perf_event_paranoid or a container's seccomp policy)",
    errno.ENOSYS: "perf_event_open is not available (no such syscall)",
    errno.EMFILE: "too many open files for one counter per thread",
}


def build_attr(config: int) -> bytes:
    """The ``struct perf_event_attr`` (version 5 layout) of a user-space hardware counter."""
    buf = bytearray(ATTR_SIZE)
    struct.pack_into("IIQ", buf, 0, PERF_TYPE_HARDWARE, ATTR_SIZE, config)
    struct.pack_into("Q", buf, 32, _READ_FORMAT)
    struct.pack_into("Q", buf, 40, _FLAGS)
    return bytes(buf)


def parse_value(data: bytes) -> float:
    """``value, time_enabled, time_running`` -> the value scaled for multiplexing (NaN if never ran)."""
    value, enabled, running = struct.unpack("QQQ", data[:24])
    if running == 0:
        return NAN if enabled else 0.0
    return value * (enabled / running) if running < enabled else float(value)


class Syscalls:
    """The kernel boundary: ``perf_event_open``, ``read``, ``close`` (each raises OSError)."""

    def __init__(self) -> None:
        nr = _SYSCALL_NR.get(platform.machine())
        self._libc = ctypes.CDLL(None, use_errno=True) if nr is not None and os.name == "posix" else None
        self._nr = nr

    def perf_event_open(self, attr: bytes, tid: int, cpu: int = -1, group_fd: int = -1) -> int:
        if self._libc is None:
            raise OSError(errno.ENOSYS, f"perf_event_open unknown on {platform.system()} {platform.machine()}")
        self._libc.syscall.restype = ctypes.c_long
        buf = ctypes.create_string_buffer(attr, len(attr))
        fd = self._libc.syscall(self._nr, buf, tid, cpu, group_fd, _FD_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        return int(fd)

    def read(self, fd: int) -> bytes:
        return os.read(fd, 24)

    def close(self, fd: int) -> None:
        os.close(fd)


def threads() -> list[int]:
    """Thread ids of this process."""
    try:
        return sorted(int(t) for t in os.listdir("/proc/self/task"))
    except OSError:
        return [os.getpid()]


def describe_refusal(event: str, exc: OSError) -> str:
    """One line for ``hw_counter_reason``: which event, the errno name and what it usually means."""
    name = errno.errorcode.get(exc.errno or 0, str(exc.errno))
    return f"perf_event_open({event}) refused: {name} ({_WHY.get(exc.errno or 0, exc.strerror or 'error')})"


@dataclass
class PerfReading:
    instructions: float = NAN
    cycles: float = NAN


class PerfCounters:
    """User-space instructions and cycles of this process; NaN with :attr:`reason` where refused."""

    def __init__(self, syscalls: Syscalls | None = None) -> None:
        self.sys = syscalls or Syscalls()
        self.fds: dict[str, list[int]] = {}
        self.reason = "not opened"
        self.source = UNAVAILABLE

    @classmethod
    def unavailable(cls, reason: str) -> PerfCounters:
        """Counters that are not opened, for the stated reason (e.g. another process's window)."""
        out = cls.__new__(cls)
        out.sys, out.fds, out.reason, out.source = None, {}, reason, UNAVAILABLE
        return out

    def open(self) -> PerfCounters:
        """Open one counter per event and thread; on any refusal, none (NaN + reason)."""
        tids = threads()
        try:
            for event, config in EVENTS.items():
                attr = build_attr(config)
                for tid in tids:
                    fd = self.sys.perf_event_open(attr, tid)
                    self.fds.setdefault(event, []).append(fd)
        except OSError as exc:
            self.reason = describe_refusal(event, exc)
            log.debug("hardware counters unavailable: %s", self.reason)
            self.close()
            return self
        self.source, self.reason = SOURCE, ""
        return self

    def read(self) -> PerfReading:
        if self.source != SOURCE:
            return PerfReading()
        try:
            return PerfReading(**{e: sum(parse_value(self.sys.read(fd)) for fd in fds) for e, fds in self.fds.items()})
        except OSError as exc:
            self.reason = f"reading the counters failed: {exc}"
            self.source = UNAVAILABLE
            return PerfReading()

    def close(self) -> None:
        for fds in self.fds.values():
            for fd in fds:
                with contextlib.suppress(OSError):
                    self.sys.close(fd)
        self.fds = {}
