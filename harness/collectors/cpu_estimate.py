"""CPU energy estimate from the TDP and the benchmark processes' CPU time.

Used only when no RAPL counter is readable. The model, stated plainly: a
package at full load draws its TDP, shared equally by its hardware threads, so
one CPU-second of the benchmark costs ``TDP / threads`` joules::

    estimate_j = TDP_w / threads * cpu_seconds(benchmark processes)

Idle power of the package and other processes' load are not attributed to the
benchmark. The figure is labelled ``estimate_tdp`` and carries the TDP and its
origin (``suite``, ``cli`` or ``table:<model>``). A TDP given by the user is
taken to cover the logical CPUs this machine sees; a table entry carries the
thread count of the full part (a 2-vCPU VM on a 64-thread part gets 2/64 of it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# model-name pattern -> (TDP W, hardware threads per package). Vendor specs.
TDP_TABLE: dict[str, tuple[float, int]] = {
    "Xeon Platinum 8375C": (300.0, 64),
    "Xeon Platinum 8370C": (270.0, 64),
    "Xeon Platinum 8272CL": (195.0, 52),
    "Xeon Platinum 8259CL": (210.0, 48),
    "Xeon Platinum 8175M": (240.0, 48),
    "Xeon Gold 6248": (150.0, 40),
    "Xeon Gold 6230": (125.0, 40),
    "Core i9-9900K": (95.0, 16),
    "Core i7-12700K": (125.0, 20),
    "Core i7-8700": (65.0, 12),
    "Core i5-8250U": (15.0, 8),
    "EPYC 9654": (360.0, 192),
    "EPYC 7763": (280.0, 128),
    "EPYC 7742": (225.0, 128),
    "EPYC 7543": (225.0, 64),
    "Ryzen 9 5950X": (105.0, 32),
    "Ryzen 7 5800X": (105.0, 16),
}


@dataclass(frozen=True)
class Tdp:
    """A TDP, where it came from, and the threads it is shared by."""

    watts: float
    origin: str
    threads: int

    @property
    def watts_per_thread(self) -> float:
        return self.watts / self.threads


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name from ``/proc/cpuinfo`` ('' when unknown)."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def lookup(model: str) -> tuple[str, float, int] | None:
    """The table entry whose pattern occurs in ``model`` as whole words, if any.

    Trademark marks are dropped first: ``Intel(R) Core(TM) i7-8700`` matches ``Core i7-8700``.
    """
    model = " ".join(re.sub(r"\((R|TM|tm|r)\)", " ", model).split())
    for pattern, (watts, threads) in TDP_TABLE.items():
        if re.search(r"(?<![\w-])" + re.escape(pattern) + r"(?![\w-])", model, re.IGNORECASE):
            return pattern, watts, threads
    return None


def resolve_tdp(
    tdp_w: float | None, origin: str | None, logical_cpus: int, model: str | None = None
) -> tuple[Tdp | None, str]:
    """The TDP to use, or None and the reason there is none."""
    if tdp_w is not None:
        if not tdp_w > 0:
            return None, f"tdp_w must be > 0. Received: tdp_w={tdp_w}"
        return Tdp(float(tdp_w), origin or "user", max(1, logical_cpus)), ""
    model = cpu_model() if model is None else model
    hit = lookup(model)
    if hit is None:
        shown = model or "unknown CPU"
        return None, f"no TDP for {shown!r}: not in the TDP table; give tdp_w in the suite or --tdp-w"
    pattern, watts, threads = hit
    return Tdp(watts, f"table:{pattern} ({watts:g} W / {threads} threads)", threads), ""


def estimate_j(tdp: Tdp, cpu_seconds: float) -> float:
    """Estimated CPU energy (J) of ``cpu_seconds`` of process CPU time."""
    return tdp.watts_per_thread * cpu_seconds
