"""Render a :class:`~harness.regression.history.History`: terminal, Markdown, JSON, HTML."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from harness.regression.history import History
from harness.report.history_plot import case_figure, short
from harness.report.html import esc, img_html

HEADERS = ["case", "metric", "runs", "latest median", "change points"]
STEP_HEADERS = ["case", "metric", "commits", "first run after", "change", "runs before/after", "verdict"]


def _series_rows(hist: History) -> list[list[str]]:
    cps = hist.change_points
    rows = []
    for s in hist.series:
        mine = cps[(cps["case_id"] == s.case_id) & (cps["metric"] == s.metric)] if len(cps) else cps
        found = ", ".join(f"{r.verdict} {r.change:+.1%} at {short(r.commit, r.run_id)}" for r in mine.itertuples())
        rows.append([s.case_label, s.metric, str(len(s.runs)), f"{s.medians[-1]:.4g}", found or "none"])
    return rows


def _step_rows(hist: History) -> list[list[str]]:
    rows = []
    for r in hist.shown().itertuples() if len(hist.steps) else []:
        commits = f"{short(r.previous_commit, r.previous_run_id)}..{short(r.commit, r.run_id)}"
        env = " (environment changed)" if r.environment_changed else ""
        verdict = r.verdict if r.reachable else "pending"
        rows.append([r.case_label, r.metric, commits, r.run_id, f"{r.change:+.1%}", f"{r.n_before}/{r.n_after}",
                     verdict + env])  # fmt: skip
    return rows


def _fixed(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [headers, *rows]]


def headline(hist: History) -> str:
    cps = hist.change_points
    bad = hist.newest_is_regression()
    counts = cps["verdict"].value_counts().to_dict() if len(cps) else {}
    found = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "no change point"
    tail = f"; newest step is a regression: {', '.join(bad)}" if bad else ""
    return f"{len(hist.runs)} runs, {len(hist.series)} series: {found}{tail}"


def render_text(hist: History, root: str) -> str:
    lines = [f"history: {root}", *_fixed(HEADERS, _series_rows(hist))]
    steps = _step_rows(hist)
    if steps:
        lines += ["", "change points and pending steps (judged like `harness compare`):"]
        lines += _fixed(STEP_HEADERS, steps)
    lines.append(headline(hist))
    return "\n".join(lines) + "\n"


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return out + ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]


def method(hist: History) -> str:
    s = hist.settings
    return ("Change points proposed by ruptures' PELT on each series' log per-run medians, each step judged "
            f"with the decision of `harness compare` (exact rank-sum test of a change beyond the threshold, runs "
            f"as the units, each step's p times its selection factor (the positions PELT could choose in its "
            f"segment), Holm over every proposed step at alpha {s.alpha:g}).")  # fmt: skip


def render_markdown(hist: History, root: str) -> str:
    icon = "🔴" if hist.newest_is_regression() else "🟢"
    out = [f"## Performance history: {icon} {headline(hist)}", "", f"Results: `{root}`", ""]
    out += _md_table(HEADERS, _series_rows(hist)) + [""]
    steps = _step_rows(hist)
    if steps:
        out += ["<details><summary>Steps judged</summary>", "", *_md_table(STEP_HEADERS, steps), "", "</details>", ""]
    return "\n".join(out + [f"<sub>{method(hist)}</sub>", ""])


def _clean(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    return v.item() if hasattr(v, "item") else v


def to_json(hist: History, root: str) -> dict[str, Any]:
    keys = ["case_id", "case_label", "metric", "run_id", "commit", "change", "verdict", "previous_run_id",
            "previous_commit", "n_before", "n_after", "threshold", "p_adj", "reason", "environment_changed",
            "selection", "reachable"]  # selection: the step's Bonferroni factor (positions in its segment)
    cps = [{k: _clean(r[k]) for k in keys} for r in hist.change_points.to_dict("records")]
    pending = [{k: _clean(r[k]) for k in keys} for r in hist.pending().to_dict("records")] if len(hist.steps) else []
    return {
        "results": root, "change_points": cps, "pending": pending,
        "newest_step_regression": hist.newest_is_regression(),
        "runs": [{"run_id": r.run_id, "commit": r.commit, "time": r.when} for r in hist.runs],
        "series": [{"case_id": s.case_id, "case_label": s.case_label, "metric": s.metric,
                    "run_ids": [hist.runs[i].run_id for i in s.runs], "medians": s.medians.tolist()}
                   for s in hist.series],
        "settings": vars(hist.settings), "method": method(hist),
    }  # fmt: skip


def render_html(hist: History, root: str) -> str:
    body = [f"<h1>Performance history</h1><p>{esc(headline(hist))}</p><p><code>{esc(root)}</code></p>"]
    for case_id in dict.fromkeys(s.case_id for s in hist.series):
        label = next(s.case_label for s in hist.series if s.case_id == case_id)
        body.append(f'<section data-case="{esc(case_id)}"><h2>{esc(label)}</h2>{img_html(case_figure(hist, case_id), label)}</section>')
    steps = pd.DataFrame(_step_rows(hist), columns=STEP_HEADERS)
    if len(steps):
        body.append("<h2>Steps judged</h2>" + steps.to_html(index=False, escape=True, border=0))
    body.append(f"<p><small>{esc(method(hist))}</small></p>")
    style = "body{font-family:sans-serif;max-width:60em;margin:auto}img{max-width:100%}td,th{padding:2px 8px}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Performance history</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")  # fmt: skip
