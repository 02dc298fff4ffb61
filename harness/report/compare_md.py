"""Render a :class:`~harness.regression.compare.Comparison`: terminal table, Markdown, JSON.

Markdown is meant for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment: a
headline with the overall verdict, the table (regressions first), then the
notes (environment, unmatched cases, skipped metrics) and the method.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from harness.collectors.cpu_phases import OTHER_SHARE_LIMIT, STEAL_SHARE_LIMIT
from harness.regression.compare import Comparison

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
    lo, hi = row.get("ci_low"), row.get("ci_high")
    finite = not (pd.isna(lo) or pd.isna(hi) or math.isinf(float(lo)) or math.isinf(float(hi)))
    ci = f"{_pct(lo)}..{_pct(hi)}" if finite else "–"
    arrow = "↑" if row["higher_is_better"] else "↓"
    info = "" if row.get("gated", True) else " (info)"
    n = f"{_num(row.get('n_base'))}/{_num(row.get('n_current'))}" if "n_base" in row else "–"
    p = row.get("p_worse_adj")
    verdict = ICON[row["verdict"]] if markdown else row["verdict"]
    return [
        str(row["case"]) + (" ⚠" if _contended(row) else ""), f"{row['metric']} {arrow}{info}", _num(row.get("base_stat")),
        _num(row.get("current_stat")), _pct(row.get("change")), ci, _num(p), n, verdict,
    ]  # fmt: skip


def _sorted(cmp: Comparison) -> pd.DataFrame:
    if cmp.rows.empty:
        return cmp.rows
    key = cmp.rows["verdict"].map(ORDER)
    gated = (~cmp.rows["gated"]).astype(int)
    return (cmp.rows.assign(_g=gated, _o=key).sort_values(["_g", "_o", "case", "metric"], kind="stable")
            .drop(columns=["_g", "_o"]))  # fmt: skip


def headline(cmp: Comparison) -> str:
    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in cmp.counts().items() if v)
    fails = f"; FAILED CLOSED: {', '.join(p.kind for p in cmp.problems)}" if cmp.problems else ""
    undecided = "; cannot decide with these repeats" if cmp.unreachable else ""
    return f"overall: {cmp.overall.replace('_', ' ')}" + (f" ({counts} gated)" if counts else "") + undecided + fails


def _flags(row: pd.Series) -> str:
    parts = [f"{side}: {row.get(f'flags_{side}')}" for side in ("base", "current") if row.get(f"flags_{side}")]
    return "; ".join(parts)


def _flag_tags(rows: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(case, flags text) -> a short tag (F1, F2...): the text is printed once per case, in the notes."""
    tags: dict[tuple[str, str], str] = {}
    for _, r in rows.iterrows():
        text = _flags(r)
        if text:
            tags.setdefault((str(r["case"]), text), f"F{len(tags) + 1}")
    return tags


def _table(cmp: Comparison, markdown: bool) -> tuple[list[str], list[list[str]]]:
    rows = _sorted(cmp)
    tags = _flag_tags(rows)
    headers = HEADERS + (["flags"] if tags else [])
    cells = [_cells(r, markdown) + ([tags.get((str(r["case"]), _flags(r)), "–")] if tags else [])
             for _, r in rows.iterrows()]
    return headers, cells


def render_text(cmp: Comparison, base_name: str, current_name: str) -> str:
    """A compact fixed-width table for the terminal (stdout)."""
    headers, rows = _table(cmp, markdown=False)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = [f"baseline: {base_name}", f"current:  {current_name}"]
    if rows:
        lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines += [f"FAIL (exit {p.code}): {p.message}" for p in cmp.problems]
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
    failing = {p.message for p in cmp.problems}
    notes = [n for n in cmp.notes if n not in failing]
    if (line := contention_note(cmp.rows)) is not None:
        notes.append(line)
    if not cmp.rows.empty:
        notes += [f"flags {tag} ({case}): {text}" for (case, text), tag in _flag_tags(_sorted(cmp)).items()]
    if cmp.only_baseline:
        notes.append("only in the baseline: " + ", ".join(cmp.only_baseline))
    if cmp.only_current:
        notes.append("only in the current results (no baseline yet): " + ", ".join(cmp.only_current))
    return notes


def method(cmp: Comparison) -> str:
    s = cmp.settings
    return (
        f"Per case: exact rank-sum tests on log values of the ok repeats (exact with ties), of a change "
        f"beyond the minimum effect ({cmp.gates.default_threshold:.0%} unless overridden), {s.correction.upper()}-"
        f"corrected over the {cmp.family} gated comparisons (primary metric {cmp.gates.metrics[0].metric}"
        f"{' plus ' + ', '.join(str(g) for g in cmp.gates.metrics[2:]) if len(cmp.gates.metrics) > 2 else ''}) "
        f"at alpha {s.alpha:g} per build; (info) rows are reported, not gated; {s.confidence:.0%} "
        f"Hodges-Lehmann interval of the change."
    )


def _linked(cells: list[str], row: pd.Series, site_url: str, suite: str) -> list[str]:
    """The case cell as a link to its series page of a ``harness publish`` site (when a URL is configured)."""
    if not site_url or not row.get("case_id"):
        return cells
    from harness.site.paths import series_page  # the site's page names, one definition

    url = f"{site_url.rstrip('/')}/{series_page(suite, str(row['case_id']), str(row['case']), str(row['metric']))}"
    return [f"[{cells[0]}]({url})", *cells[1:]]


def render_markdown(cmp: Comparison, base_name: str, current_name: str, *, site_url: str = "",
                    suite: str = "") -> str:  # fmt: skip
    """GitHub-flavoured Markdown for a job summary or a PR comment.

    With ``site_url`` (where ``harness publish`` serves the site; ``suite``: the current run's suite)
    every case links to its series page, so a reader sees the case's history next to the verdict.
    """
    out = [f"## Benchmark comparison: {ICON.get(cmp.overall, cmp.overall)}", ""]
    out += [f"Baseline `{base_name}` → current `{current_name}`. {headline(cmp)}.", ""]
    out += [f"- ❌ **{p.kind}** (exit {p.code}): {p.message}" for p in cmp.problems]
    out += [""] if cmp.problems else []
    reasons = []
    if not cmp.rows.empty:
        headers, cells = _table(cmp, markdown=True)
        out += ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        for (_, r), row in zip(_sorted(cmp).iterrows(), cells, strict=True):
            row = _linked([c.replace("|", "\\|") for c in row], r, site_url, suite)
            out.append("| " + " | ".join(row) + " |")
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
        "problems": [vars(p) for p in cmp.problems], "family": cmp.family, "unreachable": cmp.unreachable,
        "settings": vars(cmp.settings) | {"default_threshold": cmp.gates.default_threshold},
        "gates": [str(g) for g in cmp.gates.metrics], "reported": [str(g) for g in cmp.gates.reported],
        "method": method(cmp),
    }  # fmt: skip
