"""CPU energy estimates from the benchmark processes' CPU time, when no RAPL counter is readable.

The model, stated plainly: a package at full load draws its TDP, shared
equally by its hardware threads, so one CPU-second of the benchmark costs
``TDP / threads per package`` joules::

    estimate_j = TDP_w / threads_per_package * cpu_seconds(benchmark processes)

``TDP_w`` is a *package* TDP (the part's spec), from the suite, ``--tdp-w`` or
the table below. The threads it is shared by come from ``--tdp-threads`` (or
the suite's ``tdp_threads``), else the table entry of this CPU model, else the
threads per package this machine reports (``siblings`` in /proc/cpuinfo; on a
VM that is the vCPUs it was given, not the part's threads: say so with
``--tdp-threads``). That estimate is labelled ``estimate_tdp``.

Without a TDP, a generic per-thread power is used (``estimate_generic``):
4 W per thread (CodeCarbon's figure for an unknown CPU), range 2-12 W (2 W:
the largest server parts of the table at TDP, e.g. EPYC 9654 360 W / 192
threads; 12 W: Green Algorithms' "Any" CPU, 12 W per core, for a vCPU that is
a whole core). Every estimate has a low and a high bound (TDP: 0.5x-1.5x,
see :data:`TDP_RANGE`). Idle power of the package and other processes' load
are not attributed to the benchmark. Sources: docs/collectors.md.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

# Per-thread power of an unknown CPU (W): central, low, high (see the module doc).
GENERIC_W_PER_THREAD = (4.0, 2.0, 12.0)
# Range of a TDP estimate, as factors of TDP / thread: CodeCarbon's constant mode takes 50 %
# of TDP; a busy thread of a lightly loaded package runs at turbo, above its share of TDP
# (power limit PL2 > PL1). A judgement, not a measurement: the bounds say how far off it can be.
TDP_RANGE = (0.5, 1.5)
# Memory power (W per GiB of resident memory), Green Algorithms (Lannelongue et al. 2021).
MEMORY_W_PER_GIB = 0.3725
PLAUSIBLE_W_PER_THREAD = 15.0  # above every part of the table: probably a TDP shared by too few threads

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
    """A package power, where it came from, the threads it is shared by, and the estimate's range."""

    watts: float
    origin: str
    threads: int
    threads_origin: str = ""
    low_factor: float = TDP_RANGE[0]
    high_factor: float = TDP_RANGE[1]
    label: str = "estimate_tdp"

    @property
    def watts_per_thread(self) -> float:
        return self.watts / self.threads

    def describe(self) -> str:
        """The formula in words, e.g. '270 W (cli) / 64 threads (table) = 4.22 W per thread'."""
        if self.label == "estimate_generic":
            return (f"{self.watts_per_thread:g} W per thread ({self.origin}), range "
                    f"{self.watts_per_thread * self.low_factor:g}-{self.watts_per_thread * self.high_factor:g} W")
        return (f"{self.watts:g} W ({self.origin}) / {self.threads} threads per package ({self.threads_origin}) "
                f"= {self.watts_per_thread:.3g} W per thread, range x{self.low_factor:g}-x{self.high_factor:g}")

    def warning(self) -> str:
        """Non-empty when the per-thread power is above any known part (a unit trap)."""
        if self.watts_per_thread > PLAUSIBLE_W_PER_THREAD:
            return (f"{self.watts_per_thread:.3g} W per thread is above any known CPU "
                    f"(<= {PLAUSIBLE_W_PER_THREAD:g}): is {self.watts:g} W the TDP of a package with more "
                    f"than {self.threads} threads? On a VM give the part's threads with --tdp-threads")
        return ""


GENERIC = Tdp(GENERIC_W_PER_THREAD[0], "generic: CodeCarbon's 4 W per thread for an unknown CPU", 1,
              "per thread", GENERIC_W_PER_THREAD[1] / GENERIC_W_PER_THREAD[0],
              GENERIC_W_PER_THREAD[2] / GENERIC_W_PER_THREAD[0], "estimate_generic")


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


def threads_per_package(cpuinfo: Path = Path("/proc/cpuinfo")) -> int:
    """Hardware threads per package as this machine reports them (``siblings``), else logical CPUs."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("siblings"):
                return max(1, int(line.split(":", 1)[1]))
    except (OSError, ValueError):
        pass
    return os.cpu_count() or 1


def resolve_tdp(
    tdp_w: float | None, origin: str | None, machine_threads: int, model: str | None = None,
    tdp_threads: int | None = None,
) -> tuple[Tdp | None, str]:
    """The package TDP and its threads, or None and the reason there is none.

    ``machine_threads``: threads per package this machine reports; ``tdp_threads``:
    the user's count (wins over the table and the machine).
    """
    if tdp_threads is not None and not (isinstance(tdp_threads, int) and tdp_threads > 0):
        return None, f"tdp_threads must be a positive integer. Received: tdp_threads={tdp_threads!r}"
    model = cpu_model() if model is None else model
    hit = lookup(model)
    if tdp_w is not None:
        if not tdp_w > 0:
            return None, f"tdp_w must be > 0. Received: tdp_w={tdp_w}"
        if tdp_threads is not None:
            threads, where = tdp_threads, origin or "user"
        elif hit is not None:
            threads, where = hit[2], f"table:{hit[0]}"
        else:
            threads, where = max(1, machine_threads), "this machine's threads per package"
        return Tdp(float(tdp_w), origin or "user", threads, where), ""
    if hit is None:
        shown = model or "unknown CPU"
        return None, f"no TDP for {shown!r}: not in the TDP table; give tdp_w in the suite or --tdp-w"
    pattern, watts, threads = hit
    if tdp_threads is not None:
        return Tdp(watts, f"table:{pattern}", tdp_threads, origin or "user"), ""
    return Tdp(watts, f"table:{pattern}", threads, f"table:{pattern}"), ""


def estimate_j(tdp: Tdp, cpu_seconds: float) -> float:
    """Estimated CPU energy (J) of ``cpu_seconds`` of process CPU time (central value)."""
    return tdp.watts_per_thread * cpu_seconds
