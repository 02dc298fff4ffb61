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


def weights(t: float, times: list[float]) -> tuple[int, int, float]:
    """``(i, j, frac)``: the value at ``t`` is ``v[i] + frac x (v[j] - v[i])`` on a series read at ``times``
    (ascending, non-empty); clamped outside it (``frac`` 0)."""
    k = bisect_left(times, t)
    if k < len(times) and times[k] == t:
        return k, k, 0.0
    if k == 0 or k == len(times):
        k = min(k, len(times) - 1)
        return k, k, 0.0
    t0, t1 = times[k - 1], times[k]
    return k - 1, k, (t - t0) / (t1 - t0) if t1 > t0 else 0.0


def align(snapshots: list[Snapshot], keys: dict[str, Iterable[str]]) -> list[Snapshot]:
    """``snapshots`` with each source's ``keys`` (source name -> value keys) interpolated to each ``t``.

    A source's readings are the snapshots whose ``times`` name it (read at that
    time, s), in time order; snapshots without a reading of it (edges inserted late) get its
    values by the same interpolation (:func:`value_at`, computed once per
    snapshot and source with :func:`weights`). Keys of unnamed sources are left as read.
    """
    out = [Snapshot(sn.t, sn.phase, dict(sn.values), dict(sn.times)) for sn in snapshots]
    for source, names in keys.items():
        # in time order: a sampler tick's readings may be appended after an edge that read later
        read = sorted((sn for sn in snapshots if source in sn.times), key=lambda sn: sn.times[source])
        times = [sn.times[source] for sn in read]
        if not read:
            continue
        names = tuple(names)
        for sn in out:
            i, j, frac = weights(sn.t, times)
            a, b = read[i].values, read[j].values
            for key in names:
                v0 = a.get(key, math.nan)
                sn.values[key] = v0 if i == j else lerp_frac(frac, v0, b.get(key, math.nan))
    return out


def lerp_frac(frac: float, v0: float, v1: float) -> float:
    """``v0 + frac x (v1 - v0)``; NaN when either is NaN."""
    return v0 + frac * (v1 - v0) if not (math.isnan(v0) or math.isnan(v1)) else math.nan


def edge_offset_s(snapshots: list[Snapshot], pairs: list[tuple[int, int]], source: str) -> float:
    """Seconds between the intervals' edges and ``source``'s readings nearest them, summed over both
    edges of every interval (snapshot indices ``pairs``).

    An edge read by the source counts the distance to its own read; an edge without
    a reading (inserted late) the distance to the nearest neighbouring read. Under
    constant power the aligned figures are exact however large this is; if the power
    steps at the edges, the window's energy can be off by up to this x the step.
    """
    total = 0.0
    for i, j in pairs:
        for k in (i, j):
            total += _nearest_read(snapshots, k, source)
    return total


def _nearest_read(snapshots: list[Snapshot], k: int, source: str) -> float:
    t = snapshots[k].t
    if source in snapshots[k].times:
        return abs(snapshots[k].times[source] - t)
    near = [abs(snapshots[n].times[source] - t) for n in (k - 1, k + 1)
            if 0 <= n < len(snapshots) and source in snapshots[n].times]
    return min(near) if near else 0.0
