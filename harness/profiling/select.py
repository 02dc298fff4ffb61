"""Which cases a run profiles: the suite's ``profile = true`` plus the command line's choice."""

from __future__ import annotations

from dataclasses import replace

from harness.errors import UsageError
from harness.suite import Case
from harness.suite.filters import parse_filters, selected


def mark_profiled(cases: list[Case], profile_all: bool = False, filters: list[str] | None = None) -> list[Case]:
    """``cases`` with ``profile=True`` set on all (``profile_all``) or on those ``filters`` select.

    ``filters`` use the ``--filter`` syntax (``AXIS=V[,V]``, all must match). Cases
    the suite already profiles stay profiled.
    """
    if not profile_all and not filters:
        return cases
    flt = parse_filters(filters, "--profile-filter")
    return [replace(c, profile=True) if profile_all or selected(c, flt) else c for c in cases]


def check_steps(steps: int | None) -> int | None:
    if steps is not None and steps < 1:
        raise UsageError("--profile-steps", str(steps), "must be >= 1")
    return steps
