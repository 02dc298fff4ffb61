"""The HTML report: one self-contained file (PNG figures inline as data: URIs, inline CSS, no script).

Every string that comes from a result file (labels, errors, machine details) is
passed through :func:`html.escape`; a Content-Security-Policy that allows no
script and no remote resource backs that up.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Mapping, Sequence

import pandas as pd

from harness.analysis import EnergyFactors
from harness.analysis.energy import energy_statement
from harness.analysis.validity import MARK
from harness.report.format import BEST, EST, cells
from harness.report.sections import SECTIONS, Section, colours, has_content, notes

LONG_TABLE = 25  # rows; longer tables are folded into a <details> element

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em auto;max-width:1200px;
color:#222;padding:0 1em;line-height:1.4}
h1{font-size:1.5em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:12px;margin:.6em 0}.scroll{overflow-x:auto;max-width:100%}
p.statement{background:#f6f8ff;border-left:4px solid #4a6fd0;padding:.4em .8em}
th,td{border:1px solid #ddd;padding:2px 6px;white-space:nowrap}th{background:#f3f3f3;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.best{font-weight:bold;background:#e6f4e6}
td.est{font-style:italic;color:#7a4b00;background:#fff6e0}td.invalid{background:#fde8e8}td.invalid .mark{color:#b00020;font-weight:bold}tr.baseline td{background:#eef3ff}
td.err{white-space:pre-wrap;max-width:60em;font-family:monospace}
img{max-width:100%;height:auto;display:block;margin:.5em 0}.muted{color:#666}.legend{font-size:13px}
.counts span{display:inline-block;margin-right:1.2em}.bad{color:#a00;font-weight:bold}
.warn{background:#fff3cd;border:1px solid #e0c36a;padding:.4em .7em;border-radius:3px}
.info{color:#333;font-size:13px}
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def table_html(df: pd.DataFrame, name: str, currency: str = "", fold: bool = False) -> str:
    """A table with units in the headers, ★ on best cells and ≈ on estimated ones."""
    if df.empty:
        return f'<p class="muted">No rows in <code>{esc(name)}</code>.</p>'
    headers, rows = cells(df, currency)
    baseline = df["baseline"].tolist() if "baseline" in df.columns else [False] * len(df)
    out = [f'<table data-table="{esc(name)}"><thead><tr>']
    out += [f"<th>{esc(h)}</th>" for h in headers]
    out.append("</tr></thead><tbody>")
    for row, is_base in zip(rows, baseline, strict=True):
        out.append('<tr class="baseline">' if is_base else "<tr>")
        for cell, head in zip(row, headers, strict=True):
            cls = [c for c, on in (("num", cell.numeric), ("best", cell.best), ("est", cell.estimated),
                                   ("err", head == "error"), ("invalid", cell.invalid)) if on]
            text = esc(cell.text)
            if cell.estimated and cell.text not in ("", "NaN"):
                text = EST + text
            if cell.invalid:
                text += f' <span class="mark" title="below its floor or shared: see energy_validity">{MARK}</span>'
            if cell.best:
                text += " " + BEST
            out.append(f'<td class="{" ".join(cls)}">{text}</td>' if cls else f"<td>{text}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    body = "".join(out)
    body = f'<div class="scroll">{body}</div>'
    if fold or len(df) > LONG_TABLE:
        return f"<details><summary>Table <code>{esc(name)}</code> ({len(df)} rows)</summary>{body}</details>"
    return body


def img_html(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'


def _header(tables: Mapping[str, pd.DataFrame], title: str) -> str:
    status = tables["status"]
    total = {c: int(status[c].sum()) for c in status.columns if c not in ("run_id", "suite", "machine")}
    counts = "".join(
        f'<span class="{"bad" if k not in ("rows", "ok") and v else ""}">{esc(k)}: {v}</span>'
        for k, v in total.items()
    )
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="muted">Generated {esc(now)} by <code>harness report</code>.</p>',
        f'<p class="counts">{counts}</p>',
        '<p class="legend">★ best value of a column · ≈ <i>estimated</i> value (not measured; see '
        "the energy sources) · NaN: not measured or not reached · units in [brackets].</p>",
        "<h2>Runs</h2>", table_html(tables["runs"], "runs"),
        "<details><summary>Machine details</summary>", table_html(tables["machines"], "machines"),
        "</details>",
        "<h3>Case status</h3>", table_html(status, "status"),
    ]
    parts += notes_html(tables, "header")
    problems = tables["problems"]
    if problems.empty:
        parts.append("<p>Every case finished <code>ok</code>.</p>")
    else:
        parts += ["<h3>Cases that did not finish ok, with reasons</h3>", table_html(problems, "problems")]
    return "\n".join(parts)


def _factors_html(factors: EnergyFactors) -> str:
    return (
        "<p>Report-time factors (override with <code>--region</code>, <code>--carbon-intensity</code>, "
        f"<code>--pue</code>, <code>--price</code>): carbon intensity {esc(factors.carbon_label)}; "
        f"PUE {factors.pue:g} (a separate factor); price {factors.price_per_kwh:g} {esc(factors.currency)}/kWh. "
        "energy_kwh = energy_j / 3.6e6 × PUE; carbon_g = energy_kwh × intensity (carbon_low_g/high_g "
        "from the energy's bounds); cost = energy_kwh × "
        "price. They inherit the energy's source: an estimated energy gives an estimated carbon figure.</p>"
    )


def notes_html(tables: Mapping[str, pd.DataFrame], key: str) -> list[str]:
    """Banners (warnings) and sentences (info) the tables carry for section ``key``."""
    out = []
    for level, text in notes(tables, key):
        label = "<b>Warning:</b> " if level == "warning" else ""
        out.append(f'<p class="{"warn" if level == "warning" else "info"}">{label}{esc(text)}</p>')
    return out


def _section(section: Section, tables: Mapping[str, pd.DataFrame], palette: Mapping[str, object],
             factors: EnergyFactors) -> str:
    parts = [f'<section id="{esc(section.key)}"><h2>{esc(section.title)}</h2>', f"<p>{esc(section.text)}</p>"]
    parts += notes_html(tables, section.key)
    if section.key == "energy":
        parts.append(f'<p class="statement">{esc(energy_statement(tables["energy_sources"]))}</p>')
        parts.append(_factors_html(factors))
    for figure in section.figures:
        png = figure(tables, palette)
        if png is None:
            parts.append('<p class="muted">No figure: nothing to plot in this run.</p>')
        else:
            parts.append(img_html(png, section.title))
    for name in section.tables:
        parts.append(table_html(tables[name], name, factors.currency, fold=section.per_epoch))
    parts.append("</section>")
    return "\n".join(parts)


def render_html(
    tables: Mapping[str, pd.DataFrame],
    *,
    title: str | None = None,
    factors: EnergyFactors | None = None,
    sections: Sequence[str] | None = None,
) -> str:
    """The whole report as one HTML string. ``sections``: keys of SECTIONS to include (default all)."""
    factors = factors or EnergyFactors()
    title = title or default_title(tables)
    palette = colours(tables)
    chosen = [s for s in SECTIONS if sections is None or s.key in sections]
    shown = [s for s in chosen if has_content(s, tables)]
    header = _header(tables, title)
    hidden = [s.title for s in chosen if s not in shown]
    if hidden:
        header += f'\n<p class="muted">Not shown, no data in these runs: {esc(", ".join(hidden))}.</p>'
    body = [header] + [_section(s, tables, palette, factors) for s in shown]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def default_title(tables: Mapping[str, pd.DataFrame]) -> str:
    runs = tables["runs"]
    suites = sorted({s for s in runs["suite"] if s}) if not runs.empty else []
    machines = sorted({m for m in runs["machine"] if m}) if not runs.empty else []
    name = ", ".join(suites) or "harness"
    where = f" on {', '.join(machines)}" if machines else ""
    return f"Report: {name}{where}"
