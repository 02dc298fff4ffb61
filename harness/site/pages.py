"""The site's pages as HTML text (report side): index, series pages, regressions list, Atom feed.

Pages link to each other with relative paths, so the site works from ``file://``
and from any static host. Nothing on a page depends on the time it was
generated except the index's overview and the feed, so an unchanged series
renders to the same bytes and is not rewritten (:mod:`harness.site.publish`).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from harness.site import paths
from harness.site.assets import CSP, CSS, JS
from harness.site.data import RunRecord, SeriesView, SiteData, Step
from harness.site.svg import fmt, legend, series_plot, sparkline


def page(title: str, body: str, prefix: str = "") -> str:
    """A whole page: nav bar, inline style and script (``prefix``: from the page to the site's root)."""
    nav = (f'<nav><a href="{prefix}{paths.INDEX}">All series</a><a href="{prefix}{paths.REGRESSIONS}">Regressions</a>'
           f'<a href="{prefix}{paths.FEED}">Atom feed</a></nav>')  # fmt: skip
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
            f'content="{CSP}"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="alternate" type="application/atom+xml" href="{prefix}{paths.FEED}" title="Regressions">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{nav}\n{body}\n"
            f"<script>{JS}</script></body></html>\n")  # fmt: skip


def _machine_select(machines: Sequence[str], all_label: str) -> str:
    opts = "".join(f'<option value="{escape(m)}">{escape(m)}</option>' for m in machines)
    return f'<label>Machine <select id="machine"><option value="">{all_label}</option>{opts}</select></label>'


def change_cell(s: SeriesView) -> str:
    """The latest median against the previous run's, coloured by better / worse."""
    if len(s.points) < 2:
        return '<td class="num muted">–</td>'
    rel = s.points[-1].median / s.points[-2].median - 1
    better = (rel > 0) == s.higher_is_better
    return f'<td class="num {"better" if better else "worse"}">{rel:+.1%}</td>'


def step_text(st: Step) -> str:
    return (f'<span class="{st.verdict}">{escape(st.verdict)} {st.change:+.1%}</span> at '
            f"<code>{escape(st.run.commit[:7] or st.run.key)}</code>")  # fmt: skip


def _axes_text(s: SeriesView) -> str:
    return " ".join(f"{k}={v}" for k, v in s.axes.items())


def varying(series: Sequence[SeriesView]) -> dict[str, set[str]]:
    """Per suite, the axes whose values differ between its cases (what the index shows under a case)."""
    seen: dict[str, dict[str, set[str]]] = {}
    for s in series:
        for k, v in s.axes.items():
            seen.setdefault(s.suite, {}).setdefault(k, set()).add(v)
    return {suite: {k for k, vs in axes.items() if len(vs) > 1} for suite, axes in seen.items()}


def _index_row(s: SeriesView, shown_axes: set[str]) -> str:
    newest = s.steps[-1] if s.steps else None
    filt = f"{s.suite} {s.machine} {s.case_label} {s.metric} {_axes_text(s)}"
    axes = " ".join(f"{k}={v}" for k, v in s.axes.items() if k in shown_axes)
    unit = f" <span class='muted'>{escape(s.unit)}</span>" if s.unit else ""
    return (f'<tr data-filter="{escape(filt)}" data-machine="{escape(s.machine)}"><td>{escape(s.suite)}</td>'
            f"<td>{escape(s.machine)}</td><td><a href=\"{s.page}\">{escape(s.case_label)}</a>"
            f'<div class="axes">{escape(axes)}</div></td><td>{escape(s.metric)} '
            f"{'↑' if s.higher_is_better else '↓'}</td><td>{sparkline([p.median for p in s.points], s.higher_is_better)}</td>"
            f'<td class="num">{fmt(s.points[-1].median)}{unit}</td>{change_cell(s)}'
            f"<td>{step_text(newest) if newest else '<span class=muted>none</span>'}</td>"
            f'<td class="num">{len(s.points)}</td></tr>')  # fmt: skip


def overview(data: SiteData, generated_utc: str) -> str:
    runs = data.runs
    commits = {r.commit for r in runs if r.commit}
    machines = sorted({r.machine for r in runs})
    dates = sorted(r.when[:10] for r in runs if r.when)
    span = f"{dates[0]} to {dates[-1]}" if dates else "unknown"
    regressions = sum(st.verdict == "regression" for s in data.series for st in s.steps)
    items = [("series", len(data.series)), ("runs", len(runs)), ("commits", len(commits)),
             ("machines", len(machines)), ("regression change points", regressions)]  # fmt: skip
    cells = "".join(f"<div><b>{n}</b> {label}</div>" for label, n in items)
    skipped = (f'<p class="worse">Skipped {len(data.skipped)} damaged run(s): {escape("; ".join(data.skipped))}</p>'
               if data.skipped else "")  # fmt: skip
    return (f'<div class="overview">{cells}<div>dates <b>{escape(span)}</b></div>'
            f"<div>generated <b>{escape(generated_utc)}</b></div></div>{skipped}")  # fmt: skip


def index(data: SiteData, generated_utc: str, title: str) -> str:
    machines = sorted({r.machine for r in data.runs})
    controls = (f'<div class="controls"><label>Filter <input type="search" id="search" '
                f'placeholder="suite, case, metric or axis=value, e.g. optimizer=adam"></label>'
                f"{_machine_select(machines, 'all machines')}<span><span id=\"shown\">{len(data.series)}</span> "
                f"of {len(data.series)} series shown</span></div>")  # fmt: skip
    head = ("<tr><th>suite</th><th>machine</th><th>case</th><th>metric</th><th>trend</th><th>latest (median)</th>"
            "<th>vs previous run</th><th>newest change point</th><th>runs</th></tr>")  # fmt: skip
    shown = varying(data.series)
    rows = "".join(_index_row(s, shown.get(s.suite, set())) for s in data.series)
    body = (f"<h1>{escape(title)}</h1>{overview(data, generated_utc)}{controls}"
            f'<table id="series"><thead>{head}</thead><tbody>{rows}</tbody></table>')  # fmt: skip
    return page(title, body)


def _point_rows(s: SeriesView) -> str:
    rows = []
    for p in reversed(s.points):
        r = p.run
        rows.append(f'<tr data-filter="" data-machine="{escape(s.machine)}"><td>{escape(s.machine)}</td>'
                    f'<td><a href="../{r.page}">{escape(r.key)}</a></td><td><code>{escape(r.commit[:12] or "–")}</code></td>'
                    f"<td>{escape(r.commit_utc or '–')}</td><td>{escape(r.started_utc or '–')}</td>"
                    f'<td class="num">{fmt(p.median)}</td><td class="muted">{", ".join(fmt(v) for v in p.values)}</td></tr>')
    return "".join(rows)


def _step_rows(series: Sequence[SeriesView]) -> str:
    rows = []
    for s in series:
        for st in s.steps:
            rows.append(f'<tr data-filter="" data-machine="{escape(s.machine)}" class="step-row {st.verdict}">'
                        f"<td>{escape(s.machine)}</td><td>{step_text(st)}</td>{interval_cells(st)}"
                        f"<td>{st.n_before}/{st.n_after}</td><td class=\"muted\">{escape(st.reason)}</td></tr>")
    return "".join(rows)


def interval_cells(st: Step, prefix: str = "../") -> str:
    def run(r: RunRecord) -> str:
        return f'<code>{escape(r.commit[:7] or "?")}</code> <a href="{prefix}{r.page}">{escape(r.key)}</a>'

    return f"<td>{run(st.previous)} … {run(st.run)}</td><td>{escape(st.previous.when[:16])} … {escape(st.run.when[:16])}</td>"


def series_page(series: Sequence[SeriesView]) -> str:
    """One case x metric: every machine's series overlaid (the selector shows one)."""
    s0 = series[0]
    title = f"{s0.case_label} — {s0.metric}"
    keys = "".join(f'<span><svg width="28" height="8"><line x1="0" y1="4" x2="28" y2="4" stroke="{c}" stroke-width="2" '
                   + (f'stroke-dasharray="{d}"' if d else "") + f"/></svg> {escape(m)}</span>"
                   for m, c, d in legend(series))  # fmt: skip
    steps = _step_rows(series)
    body = (f"<h1>{escape(title)}</h1><p>suite <b>{escape(s0.suite)}</b>; unit <b>{escape(s0.unit or '–')}</b>, "
            f"{'higher' if s0.higher_is_better else 'lower'} is better; <span class=\"axes\">{escape(_axes_text(s0))}</span></p>"
            f'<div class="controls">{_machine_select([s.machine for s in series], "all machines, overlaid")}</div>'
            f'<div class="legend">{keys}</div>{series_plot(series)}'
            f'<p class="muted">Dots: every ok repeat; line and large points: the per-run median (click: the run\'s report); '
            f"shaded: a judged step (red regression, green improvement, grey pending), from the last run before to the "
            f"first run after it.</p><h2>Change points</h2>"
            + (f"<table><thead><tr><th>machine</th><th>step</th><th>commits and runs</th><th>commit times</th>"
               f"<th>runs before/after</th><th>reason</th></tr></thead><tbody>{steps}</tbody></table>"
               if steps else "<p>None.</p>")
            + "<h2>Runs</h2><table><thead><tr><th>machine</th><th>run</th><th>commit</th><th>commit time</th>"
            f"<th>started</th><th>median ({escape(s0.unit)})</th><th>repeats</th></tr></thead><tbody>"
            + "".join(_point_rows(s) for s in series) + "</tbody></table>")  # fmt: skip
    return page(title, body, prefix="../")


def regressions_list(data: SiteData) -> list[tuple[SeriesView, Step]]:
    """Every regression change point, newest first (by the commit time of the first run after it)."""
    found = [(s, st) for s in data.series for st in s.steps if st.verdict == "regression"]
    return sorted(found, key=lambda x: (x[1].run.when, x[1].run.started_utc, x[1].run.key), reverse=True)


def regressions(data: SiteData) -> str:
    rows = "".join(f'<tr class="regression-row"><td>{escape(s.suite)}</td><td>{escape(s.machine)}</td>'
                   f'<td><a href="{s.page}">{escape(s.case_label)}</a></td><td>{escape(s.metric)}</td>'
                   f'<td class="num regression">{st.change:+.1%}</td>{interval_cells(st, "")}'
                   f"<td>{st.n_before}/{st.n_after}</td></tr>" for s, st in regressions_list(data))  # fmt: skip
    table = ("<table><thead><tr><th>suite</th><th>machine</th><th>case</th><th>metric</th><th>change</th>"
             f"<th>commits and runs</th><th>commit times</th><th>runs before/after</th></tr></thead><tbody>{rows}"
             "</tbody></table>") if rows else "<p>No regression change point.</p>"  # fmt: skip
    return page("Regressions", f"<h1>Regressions</h1><p class=\"muted\">Newest first.</p>{table}")


def feed(data: SiteData, generated_utc: str, base_url: str = "") -> str:
    """Atom feed of the regression change points (links absolute when ``base_url`` is given)."""
    base = base_url.rstrip("/") + "/" if base_url else ""
    entries = []
    for s, st in regressions_list(data):
        text = f"{s.case_label} {s.metric} {st.change:+.1%} on {s.machine} ({s.suite})"
        ident = f"{s.page}#{st.run.key}"
        entries.append(f"<entry><id>tag:harness-publish,2026:{escape(ident)}</id><title>{escape(text)}</title>"
                       f"<updated>{escape(st.run.when or generated_utc)}</updated>"
                       f'<link href="{escape(base + s.page)}"/><summary>{escape(text)} between commits '
                       f"{escape(st.previous.commit[:12])} and {escape(st.run.commit[:12])} "
                       f"({st.n_before} runs before, {st.n_after} after)</summary></entry>")  # fmt: skip
    # Atom's feed-level <updated>: when its content last changed (the newest run it covers), not
    # when it was generated, so an unchanged feed stays byte-identical and is not republished
    updated = max((r.when for r in data.runs if r.when), default="") or generated_utc
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Performance regressions</title><id>tag:harness-publish,2026:{escape(base or 'site')}</id>"
            f"<updated>{escape(updated)}</updated><link href=\"{escape(base + paths.REGRESSIONS)}\"/>"
            + "".join(entries) + "</feed>\n")  # fmt: skip
