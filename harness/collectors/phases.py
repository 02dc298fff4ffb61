"""Phase intervals of a stopped session, and the sums of cumulative figures over them.

The engine marks where each phase begins (``session.bounds``); an interval runs
from one boundary to the next (the last one to ``stop()``). A figure of a phase
is the sum over its intervals of (reading at the end - reading at the start),
so samples taken in between change nothing, and the ``train`` phase's window
equals the timed training updates however many evaluations interrupt it.
Counters that stood still for longer than their source allows anywhere while
the session ran are found here too (:func:`stuck`, :func:`longest_stall`): a
zero from a dead counter is not a measurement.
"""

from __future__ import annotations

import math

from harness.collectors.readings import Readings

NAN = math.nan
Pair = tuple[int, int]  # snapshot indices (start, end) of one interval

# A counter that stays exactly equal for this long while the case runs is dead, not idle:
# RAPL updates about every 1 ms, NVML's energy counter every 10-100 ms.
STUCK_AFTER_S = {"rapl": 0.1, "nvml_counter": 1.0}


def intervals(s: Readings, phase: str, after: int | None = None, until: int | None = None) -> list[Pair]:
    """The intervals of ``phase`` (cut at epoch marks too); with ``after``/``until``, those inside
    (after, until] by end index."""
    starts = dict(s.bounds)
    cuts = sorted({*starts, *s.marks.values(), s.stop_index})
    pairs, current = [], None
    for i, j in zip(cuts, cuts[1:], strict=False):
        current = starts.get(i, current)
        if current == phase and j > i:
            pairs.append((i, j))
    if after is not None:
        pairs = [(i, j) for i, j in pairs if j > after]
    if until is not None:
        pairs = [(i, j) for i, j in pairs if j <= until]
    return pairs


def duration(s: Readings, pairs: list[Pair]) -> float:
    """Seconds covered by the intervals (0 when there are none)."""
    return sum(s.snapshots[j].t - s.snapshots[i].t for i, j in pairs)


def total(s: Readings, pairs: list[Pair], key: str) -> float:
    """Sum over the intervals of the change of cumulative ``key``; NaN when none or unknown."""
    if not pairs:
        return NAN
    return sum(s.snapshots[j].values.get(key, NAN) - s.snapshots[i].values.get(key, NAN) for i, j in pairs)


def indices(s: Readings, pairs: list[Pair]) -> list[int]:
    """Snapshot indices that close a moment inside the intervals (for peaks and means)."""
    return sorted({k for i, j in pairs for k in range(i + 1, j + 1)})


def longest_stall(times: list[float], values: list[float]) -> tuple[float, float]:
    """``(start, duration)`` (s) of the longest run of equal finite readings; ``(nan, 0.0)`` when none.

    ``times`` ascending (s), ``values`` the cumulative counter read at them. A run
    lasts from its first reading to the last equal one (or to a NaN).
    """
    best, start = (NAN, 0.0), None
    for k in range(1, len(values)):
        same = math.isfinite(values[k]) and values[k] == values[k - 1]
        if same:
            start = times[k - 1] if start is None else start
            if times[k] - start > best[1]:
                best = (start, times[k] - start)
        else:
            start = None
    return best


def stuck(s: Readings, key: str, source: str) -> str:
    """A reason when cumulative ``key`` stood still for longer than its source allows while the
    session was open (anywhere between start and stop, not only end to end), else ''."""
    snaps = s.snapshots[s.start_index: s.stop_index + 1]
    start, span = longest_stall([sn.t for sn in snaps], [sn.values.get(key, NAN) for sn in snaps])
    if span >= STUCK_AFTER_S[source]:
        return (f"counter did not advance for {span:.3g} s from t = {start - snaps[0].t:.3g} s "
                "(stuck, its file vanished, or not updated on this machine)")
    return ""
