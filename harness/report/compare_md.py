"""Render a :class:`~harness.analysis.compare.Comparison`: terminal table, Markdown, JSON.

Markdown is meant for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment: a
headline with the overall verdict, the table (regressions first), then the
notes (environment, unmatched cases, skipped metrics) and the method.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from harness.analysis.compare import Comparison
from harness.collectors.cpuwindow import OTHER_SHARE_LIMIT, STEAL_SHARE_LIMIT

ICON = {
    "regression": "🔴 regression", "improvement": "🟢 improvement", "no_change": "⚪ no change",
    "inconclusive": "🟡 inconclusive", "not_comparable": "⚫ not comparable",
}  # fmt: skip
ORDER = {"regression": 0, "not_comparable": 1, "inconclusive": 2, "improvement": 3, "no_change": 4}
HEADERS = ["case", "metric", "baseline", "current", "change", "CI", "p (adj)", "n", "verdict"]


def _num(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return "–"
    x = float(x)
    return f"{x:.4g}" if abs(x) < 1000 else f"{x:,.0f}"


def _pct(x: Any) -> str:
    return "–" if x is None or pd.isna(x) else f"{float(x):+.1%}"


def _contended(row: pd.Series) -> bool:
    return any(isinstance(v, (tuple, list)) and v[0] > 0 for v in (row.get("contended_base"), row.get("contended_current")))


def _cells(row: pd.Series, markdown: bool) -> list[str]:
    ci = "–" if pd.isna(row.get("ci_low")) else f"{_pct(row['ci_low'])}..{_pct(row['ci_high'])}"
    arrow = "↑" if row["higher_is_better"] else "↓"
    n = f"{_num(row.get('n_base'))}/{_num(row.get('n_current'))}" if "n_base" in row else "–"
    p = row.get("p_worse_adj")
    verdict = ICON[row["verdict"]] if markdown else row["verdict"]
    return [
        str(row["case"]) + (" ⚠" if _contended(row) else ""), f"{row['metric']} {arrow}", _num(row.get("base_stat")),
        _num(row.get("current_stat")), _pct(row.get("change")), ci, _num(p), n, verdict,
    ]  # fmt: skip


def _sorted(cmp: Comparison) -> pd.DataFrame:
    if cmp.rows.empty:
        return cmp.rows
    key = cmp.rows["verdict"].map(ORDER)
    return cmp.rows.assign(_o=key).sort_values(["_o", "case", "metric"], kind="stable").drop(columns="_o")


def headline(cmp: Comparison) -> str:
    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in cmp.counts().items() if v)
    return f"overall: {cmp.overall.replace('_', ' ')}" + (f" ({counts})" if counts else "")


def render_text(cmp: Comparison, base_name: str, current_name: str) -> str:
    """A compact fixed-width table for the terminal (stdout)."""
    rows = [_cells(r, markdown=False) for _, r in _sorted(cmp).iterrows()]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADERS)]
    lines = [f"baseline: {base_name}", f"current:  {current_name}"]
    if rows:
        lines.append("  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True)))
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines += [f"note: {n}" for n in _notes(cmp)]
    lines.append(headline(cmp))
    return "\n".join(lines) + "\n"


def contention_note(rows: pd.DataFrame) -> str | None:
    """One line naming the cases measured under contention (⚠ in the table), or None."""
    if rows.empty or "contended_base" not in rows:
        return None
    seen: dict[str, str] = {}
    for _, r in rows.iterrows():
        parts = [f"{side} {v[0]}/{v[1]}" for side, v in (("baseline", r["contended_base"]),
                 ("current", r["contended_current"])) if isinstance(v, (tuple, list)) and v[0] > 0]
        if parts:
            seen.setdefault(str(r["case"]), ", ".join(parts))
    if not seen:
        return None
    cases = "; ".join(f"{c}: {p} rows" for c, p in seen.items())
    return (f"⚠ measured under contention (other processes used >= {OTHER_SHARE_LIMIT:.0%} of the machine's CPU, "
            f"or steal >= {STEAL_SHARE_LIMIT:.0%}): "
            f"{cases}. Wall-time metrics of these rows include the neighbours' share; CPU-time metrics "
            "(cpu_ms_per_update, train_cpu_s) much less so (docs/regression.md, shared runners)")


def _notes(cmp: Comparison) -> list[str]:
    notes = list(cmp.notes)
    if (line := contention_note(cmp.rows)) is not None:
        notes.append(line)
    if cmp.only_baseline:
        notes.append("only in the baseline: " + ", ".join(cmp.only_baseline))
    if cmp.only_current:
        notes.append("only in the current results (no baseline yet): " + ", ".join(cmp.only_current))
    return notes


def method(cmp: Comparison) -> str:
    s = cmp.settings
    return (
        f"Per case and metric: one-sided Mann-Whitney U on the repeats (SciPy), {s.correction.upper()}-"
        f"corrected over {len(cmp.rows)} comparisons at alpha {s.alpha:g}; percentile bootstrap "
        f"{s.confidence:.0%} CI of the ratio of {{statistic}}s ({s.n_resamples} resamples); minimum "
        f"effect {cmp.gates.default_threshold:.0%} unless overridden; inconclusive below "
        f"{s.min_repeats} ok repeats per side or above {s.max_cv:.0%} robust CV."
    ).replace("{statistic}", "median")


def render_markdown(cmp: Comparison, base_name: str, current_name: str) -> str:
    """GitHub-flavoured Markdown for a job summary or a PR comment."""
    out = [f"## Benchmark comparison: {ICON.get(cmp.overall, cmp.overall)}", ""]
    out += [f"Baseline `{base_name}` → current `{current_name}`. {headline(cmp)}.", ""]
    reasons = []
    if not cmp.rows.empty:
        out += ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        for _, r in _sorted(cmp).iterrows():
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in _cells(r, markdown=True)) + " |")
            if r["verdict"] != "no_change":
                reasons.append(f"- **{r['case']}** `{r['metric']}`: {r.get('reason', '')}")
        out.append("")
    if reasons:
        out += ["<details><summary>Reasons</summary>", "", *reasons, "", "</details>", ""]
    out += [f"- {n}" for n in _notes(cmp)]
    out += ["", f"<sub>{method(cmp)}</sub>", ""]
    return "\n".join(out)


def to_json(cmp: Comparison, base_name: str, current_name: str) -> dict[str, Any]:
    """Everything, JSON-able (NaN -> null)."""
    rows = cmp.rows.astype(object).where(cmp.rows.notna(), None).to_dict("records") if len(cmp.rows) else []
    return {
        "baseline": base_name, "current": current_name, "overall": cmp.overall,
        "counts": cmp.counts(), "rows": rows,
        "environment": {"baseline": cmp.env_base, "current": cmp.env_current,
                        "differences": cmp.env_differences},
        "only_baseline": cmp.only_baseline, "only_current": cmp.only_current, "notes": cmp.notes,
        "settings": vars(cmp.settings) | {"default_threshold": cmp.gates.default_threshold},
        "gates": [str(g) for g in cmp.gates.metrics], "method": method(cmp),
    }  # fmt: skip
