"""Readings aligned to their snapshot's time, per source: pure functions.

Each source is read at its own instant (its read is timestamped next to it, see
:meth:`harness.collectors.session.MeasurementSession._read`), while a snapshot
stands for one instant ``t`` (a phase edge, a tick). A slow source (an NVML
read can take 10-20 ms) is read well after a fast one, and a phase edge that
opens a window is stamped after every read (the readings' cost stays outside the
window). Charging each source's raw reading to ``t`` would shift that source's
window by its read time: +2 % over 160 five-ms training segments, +7 % with a
14-ms NVML read. So, after the session stops, every snapshot's values are
replaced by each source's readings linearly interpolated to the snapshot's ``t``,
between that source's own readings just before and just after ``t`` (clamped to
the first/last reading outside them). A NaN on either side stays NaN.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable

from harness.collectors.readings import Snapshot


def lerp(t: float, t0: float, v0: float, t1: float, v1: float) -> float:
    """The value at ``t`` on the line through ``(t0, v0)`` and ``(t1, v1)``; ``v0`` when ``t1 <= t0``.

    NaN when either value is NaN (a broken counter stays broken).
    """
    if math.isnan(v0) or math.isnan(v1):
        return math.nan
    if t1 <= t0:
        return v0
    return v0 + (t - t0) / (t1 - t0) * (v1 - v0)


def value_at(t: float, times: list[float], values: list[float]) -> float:
    """A series (``times`` ascending, s) interpolated at ``t``; clamped outside it; NaN when empty."""
    if not times:
        return math.nan
    k = bisect_left(times, t)
    if k < len(times) and times[k] == t:
        return values[k]
    if k == 0:
        return values[0]
    if k == len(times):
        return values[-1]
    return lerp(t, times[k - 1], values[k - 1], times[k], values[k])


def align(snapshots: list[Snapshot], keys: dict[str, Iterable[str]]) -> list[Snapshot]:
    """``snapshots`` with each source's ``keys`` (source name -> value keys) interpolated to each ``t``.

    A source's readings are the snapshots whose ``times`` name it (read at that
    time, s); snapshots without a reading of it (edges inserted late) get its
    values by the same interpolation. Keys of unnamed sources are left as read.
    """
    out = [Snapshot(sn.t, sn.phase, dict(sn.values), dict(sn.times)) for sn in snapshots]
    for source, names in keys.items():
        read = [sn for sn in snapshots if source in sn.times]
        times = [sn.times[source] for sn in read]
        if not read or any(b < a for a, b in zip(times, times[1:], strict=False)):
            continue  # never read, or its clock went backwards: leave as read
        for key in names:
            series = [sn.values.get(key, math.nan) for sn in read]
            for sn in out:
                sn.values[key] = value_at(sn.t, times, series)
    return out
