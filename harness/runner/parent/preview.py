"""``harness run --dry-run``: the plan's count, its estimated time, and its cases or a summary by axis.

Linear in cases and repeats: the tasks are counted per case once, each case's
estimate is computed once, and a large plan prints one line per axis value
instead of one per case (``--all`` prints every case).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from harness.runner.parent.estimate import Estimator, format_duration
from harness.runner.parent.plan import Task
from harness.suite import CASE_KEYS, Case, Suite

PER_CASE_LINES = 40  # above this many cases the dry run summarises by axis


def dry_run_lines(suite: Suite, tasks: list[Task], est: Estimator, *, every_case: bool = False,
                  shard_note: str = "") -> list[str]:
    runs = Counter(t.case.case_id for t in tasks)
    cases = list({t.case.case_id: t.case for t in tasks}.values())
    seconds = {c.case_id: est.per_run_s(c) * runs[c.case_id] for c in cases}
    lines = []
    if every_case or len(cases) <= PER_CASE_LINES:
        for c in cases:
            lines.append(f"{c.case_id}  x{runs[c.case_id]}  {c.label}  ~{format_duration(seconds[c.case_id])}"
                         + ("  (profiled)" if c.profile else ""))
    else:
        lines += axis_summary(cases, runs, seconds)
        lines.append(f"({len(cases)} cases summarised by axis; --all lists every case)")
    total = sum(seconds.values())
    lines.append(f"{len(cases):,} case(s), {len(tasks):,} run(s) of suite {suite.name!r}{shard_note}; "
                 f"estimated total {format_duration(total)} ({est.describe(cases)})")
    return lines


def varying_axes(cases: list[Case]) -> list[str]:
    """Case keys whose display value differs between ``cases``."""
    out = []
    for key in CASE_KEYS:
        first = _display(cases[0], key)
        if any(_display(c, key) != first for c in cases):
            out.append(key)
    return out


def axis_summary(cases: list[Case], runs: Counter, seconds: dict[str, float]) -> list[str]:
    lines = ["by axis: value, cases, runs, estimated time"]
    for key in varying_axes(cases):
        lines.append(f"  {key}")
        rows = _group(cases, lambda c, k=key: _display(c, k), runs, seconds)
        width = max(len(v) for v in rows)
        for value, (n, r, s) in rows.items():
            lines.append(f"    {value:<{width}}  {n:>7,} case(s)  {r:>8,} run(s)  ~{format_duration(s)}")
    return lines


def _group(cases: list[Case], key: Callable[[Case], str], runs: Counter,
           seconds: dict[str, float]) -> dict[str, tuple[int, int, float]]:
    out: dict[str, list] = {}
    for c in cases:
        acc = out.setdefault(key(c), [0, 0, 0.0])
        acc[0] += 1
        acc[1] += runs[c.case_id]
        acc[2] += seconds[c.case_id]
    return {k: (int(n), int(r), float(s)) for k, (n, r, s) in out.items()}


def _display(case: Case, key: str) -> str:
    raw = getattr(case, key)
    if isinstance(raw, dict) and not raw.get("label") and raw.get("params"):
        params = ",".join(f"{k}={v}" for k, v in sorted(raw["params"].items()))
        return f"{raw['name']}({params})"
    return str(case.axis_value(key))
