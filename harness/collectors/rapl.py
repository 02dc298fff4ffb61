"""RAPL device layer: Linux powercap zones, read as wrap-corrected cumulative joules.

Layouts handled (all listed flat under the powercap root, as sysfs does):

* Intel: ``intel-rapl:N`` named ``package-N`` with subzones ``intel-rapl:N:M``
  named ``core``, ``uncore`` or ``dram``; a top-level zone named ``psys``
  (platform) on client parts; sometimes a top-level ``dram`` zone.
* AMD Zen (kernel >= 5.8 through the same ``intel_rapl`` driver): ``intel-rapl:N``
  named ``package-N`` with a ``core`` subzone and no ``dram``; counters have a
  small range (about 65 kJ) and wrap within minutes at full load.
* ``intel-rapl-mmio:N``: the same package counter read through MMIO; dropped
  when an MSR zone with the same name exists (otherwise it would be counted twice).

The root is ``/sys/class/powercap`` unless ``HARNESS_POWERCAP_ROOT`` is set.
Counters are read with ``os.pread`` on file descriptors kept open for the
session, so one poll of all zones costs a few microseconds.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.collectors import counters

log = logging.getLogger(__name__)

DEFAULT_ROOT = "/sys/class/powercap"
PERMISSION_HINT = (
    "energy_uj is root-only on this kernel; run as root, or grant read access once with "
    "`sudo chmod a+r /sys/class/powercap/*/energy_uj` (resets at reboot)"
)
# Highest power a zone plausibly draws (W), to bound how fast its counter can wrap:
# above the largest server packages' TDP (EPYC 9654: 360 W) and their boost limits.
PLAUSIBLE_MAX_W = {"package": 500.0, "dram": 150.0, "psys": 1000.0, "other": 500.0}
# Time added to the elapsed time before bounding a counter step by PLAUSIBLE_MAX_W: RAPL
# updates about every 1 ms, and two reads a few microseconds apart may straddle an update.
UPDATE_SLACK_S = 0.01
MIN_PERIOD_S = 0.002  # polling faster than this would itself load the CPU being measured
_ZONE_RE = re.compile(r"^(?P<prefix>[a-z][a-z0-9-]*):(?P<ids>\d+(?::\d+)*)$")


def powercap_root() -> Path:
    """The powercap directory: ``$HARNESS_POWERCAP_ROOT`` or ``/sys/class/powercap``."""
    return Path(os.environ.get("HARNESS_POWERCAP_ROOT") or DEFAULT_ROOT)


def open_file(path: Path) -> int:
    """Open a sysfs file read-only. The file boundary that tests may fake."""
    return os.open(path, os.O_RDONLY)


def read_counter(fd: int) -> int:
    """The counter (µJ) of an open ``energy_uj``. The read boundary that tests may fake."""
    return int(os.pread(fd, 32, 0))


@dataclass
class Zone:
    """One powercap zone and its wrap-corrected energy accumulator (joules)."""

    zone_id: str  # e.g. intel-rapl:0:1
    name: str  # e.g. package-0, dram, psys, core
    kind: str  # package, dram, psys or other (core/uncore: parts of a package)
    path: Path
    max_range_uj: int | None  # None when max_energy_range_uj is missing/unreadable
    error: str = ""  # non-empty: zone unreadable
    fd: int | None = None
    last_uj: int | None = None
    total_uj: float = 0.0
    wraps: int = 0
    broken: str = ""  # non-empty once a step was no plausible wrap, or the counter became unreadable
    parent: str | None = None
    t0: float = 0.0  # when the session opened the zone (s), for the times in reasons
    last_t: float = 0.0  # when last_uj was read (s)

    def poll(self, t: float) -> float:
        """Read the counter at ``t`` (s, the session's clock), fold in wraps, return cumulative joules.

        NaN once broken: unreadable, or a step that is no plausible wrap (a reset,
        a jump, readings too far apart; see :mod:`harness.collectors.counters`).
        """
        if self.fd is None or self.broken:
            return math.nan
        try:
            raw = read_counter(self.fd)
        except (OSError, ValueError) as exc:
            return self._break(f"energy_uj became unreadable at t = {t - self.t0:.3f} s: {exc}")
        if self.last_uj is not None:
            elapsed = t - self.last_t
            step = counters.classify_step(self.last_uj, raw, self.max_range_uj, elapsed, PLAUSIBLE_MAX_W[self.kind],
                                          1e-6, UPDATE_SLACK_S)
            if step.fault:
                return self._break(counters.describe_fault(step, t - self.t0, elapsed, self.last_uj, raw, 1e-6,
                                                           PLAUSIBLE_MAX_W[self.kind], "uJ"))
            self.wraps += step.kind == counters.WRAP
            self.total_uj += step.delta
        self.last_uj, self.last_t = raw, t
        return self.total_uj / 1e6

    def _break(self, why: str) -> float:
        self.broken = why
        log.warning("RAPL zone %s: %s; its energy is NaN", self.zone_id, why)
        return math.nan


@dataclass
class RaplDevice:
    """The zones found under a powercap root; ``open()`` before polling, ``close()`` after."""

    root: Path
    zones: list[Zone] = field(default_factory=list)
    reason: str = ""  # why nothing is usable, when that is the case

    @property
    def readable(self) -> list[Zone]:
        return [z for z in self.zones if not z.error]

    def usable_for_cpu(self) -> tuple[bool, str]:
        """True when every package zone is readable (a partial sum would understate)."""
        pkgs = [z for z in self.zones if z.kind == "package"]
        if not pkgs:
            return False, self.reason or f"no RAPL package zone under {self.root}"
        bad = [z for z in pkgs if z.error]
        if bad:
            return False, f"{bad[0].zone_id}: {bad[0].error}"
        return True, "RAPL " + ", ".join(z.name for z in pkgs)

    def open(self, t: float = 0.0) -> None:
        """Open every readable zone and take its first reading at ``t`` (s)."""
        for zone in self.zones:
            if zone.error:
                continue
            try:
                zone.fd = open_file(zone.path / "energy_uj")
                zone.last_uj, zone.total_uj, zone.wraps, zone.broken, zone.t0 = None, 0.0, 0, "", t
                zone.poll(t)
            except OSError as exc:
                zone.error = _describe(exc)
                self._close_zone(zone)

    def poll(self, t: float) -> dict[str, float]:
        """Cumulative joules per zone id at ``t`` (s); NaN for broken zones."""
        return {z.zone_id: z.poll(t) for z in self.zones if z.fd is not None}

    def close(self) -> None:
        for zone in self.zones:
            self._close_zone(zone)

    @staticmethod
    def _close_zone(zone: Zone) -> None:
        if zone.fd is not None:
            os.close(zone.fd)
            zone.fd = None


def _describe(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"unavailable: permission denied ({PERMISSION_HINT})"
    return f"unavailable: {exc.strerror or exc}"


def _read_text(path: Path) -> str | None:
    try:
        fd = open_file(path)
    except OSError:
        return None
    try:
        return os.read(fd, 256).decode().strip()
    except OSError:
        return None
    finally:
        os.close(fd)


def _kind(name: str) -> str:
    if name.startswith("package"):
        return "package"
    if name in ("dram", "psys"):
        return name
    return "other"


def _probe(path: Path, zone_id: str) -> Zone:
    name = _read_text(path / "name") or zone_id
    max_text = _read_text(path / "max_energy_range_uj")
    max_range = int(max_text) if max_text and max_text.isdigit() else None
    zone = Zone(zone_id, name, _kind(name), path, max_range)
    parts = zone_id.split(":")
    if len(parts) > 2:
        zone.parent = ":".join(parts[:-1])
    if not (path / "energy_uj").exists():
        zone.error = "unavailable: no energy_uj"
        return zone
    try:
        fd = open_file(path / "energy_uj")
        try:
            int(os.pread(fd, 32, 0))
        finally:
            os.close(fd)
    except OSError as exc:
        zone.error = _describe(exc)
    except ValueError:
        zone.error = "unavailable: energy_uj is not an integer"
    return zone


def _candidates(root: Path) -> dict[str, Path]:
    """Zone id -> directory, from the flat listing and from nested subzone folders."""
    found: dict[str, Path] = {}
    for entry in sorted(root.iterdir()):
        if _ZONE_RE.match(entry.name) and entry.is_dir():
            found.setdefault(entry.name, entry)
            for sub in sorted(entry.iterdir()):
                if _ZONE_RE.match(sub.name) and sub.is_dir():
                    found.setdefault(sub.name, sub)
    return found


def _drop_mmio_duplicates(zones: list[Zone]) -> list[Zone]:
    msr_names = {z.name for z in zones if "mmio" not in z.zone_id}
    kept = []
    for zone in zones:
        if "mmio" in zone.zone_id and zone.name in msr_names:
            log.debug("RAPL: dropping %s (%s): duplicates an MSR zone", zone.zone_id, zone.name)
            continue
        kept.append(zone)
    return kept


def discover(root: Path | None = None) -> RaplDevice:
    """Find the zones under ``root`` (default :func:`powercap_root`). Never raises."""
    root = root or powercap_root()
    device = RaplDevice(root)
    if not root.is_dir():
        device.reason = f"no powercap directory {root} (no RAPL driver, VM or container)"
        return device
    try:
        zones = [_probe(path, zid) for zid, path in _candidates(root).items()]
    except OSError as exc:
        device.reason = f"cannot list {root}: {exc}"
        return device
    device.zones = _drop_mmio_duplicates(zones)
    if not device.zones:
        device.reason = f"no RAPL zones under {root}"
    elif not device.readable:
        device.reason = device.zones[0].error
    return device


def safe_period(device: RaplDevice, period_s: float) -> tuple[float | None, str]:
    """The sampling period that keeps every readable zone at most one wrap between polls.

    A zone of range R joules at its plausible maximum power P wraps every R/P
    seconds; polling at half that leaves a margin. Returns ``(period, note)``:
    ``period_s`` unchanged and ``""`` when it is safe; a shorter period and a
    note saying so when not (also when ``period_s`` is 0, no background sampler);
    ``(None, reason)`` when the safe period would be under :data:`MIN_PERIOD_S`.
    """
    limits = []
    for z in device.readable:
        if z.max_range_uj:
            wrap_s = z.max_range_uj / 1e6 / PLAUSIBLE_MAX_W[z.kind]
            limits.append((wrap_s / 2, wrap_s, z.zone_id, z))
    if not limits:
        return period_s, ""
    limit, wrap_s, _, zone = min(limits)
    if 0 < period_s <= limit:
        return period_s, ""
    what = (f"zone {zone.zone_id} ({zone.name}, range {zone.max_range_uj / 1e6:g} J) can wrap every "
            f"{wrap_s:.3g} s at {PLAUSIBLE_MAX_W[zone.kind]:g} W")
    if limit < MIN_PERIOD_S:
        return None, f"RAPL refused: {what}; it cannot be polled safely (a poll every < {MIN_PERIOD_S * 1e3:g} ms)"
    was = f"from {period_s:g} s" if period_s > 0 else "from none (no sampler)"
    return limit, f"sample period shortened {was} to {limit:.3g} s: {what}"
