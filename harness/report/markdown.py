"""The compact Markdown summary: fits GitHub's job summary (1 MiB), needs no images.

Text from result files is HTML-escaped (GitHub renders inline HTML in
Markdown) and pipes and line breaks are neutralised so a value cannot break
a table.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import pandas as pd

from harness.analysis import EnergyFactors
from harness.analysis.energy import energy_statement
from harness.analysis.validity import MARKED, TO_TARGET_MARKED
from harness.report.format import cells, plain
from harness.report.html import default_title
from harness.report.sections import MARKDOWN_COLUMNS, SECTIONS, has_content, notes

MAX_ROWS = 30
MAX_CELL = 160


def md_text(value: str) -> str:
    text = html.escape(str(value), quote=False).replace("|", "\\|")
    text = " ".join(text.split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def md_table(df: pd.DataFrame, name: str, columns: Sequence[str] | None = None, max_rows: int = MAX_ROWS,
             currency: str = "") -> str:
    """A GitHub-flavoured table (first ``max_rows`` rows), marks as ★ and ≈ characters."""
    if df.empty:
        return f"_No rows in `{name}`._\n"
    if columns:
        keep = [c for c in columns if c in df.columns]
        keep += [f"{c}_best" for c in keep if f"{c}_best" in df.columns]
        keep += [c for c in ("baseline", MARKED, TO_TARGET_MARKED) if c in df.columns]
        # keep the source columns that mark estimates even if not shown... they are shown above
        df = df[keep]
    shown = df.head(max_rows)
    headers, rows = cells(shown, currency)
    lines = ["| " + " | ".join(md_text(h) for h in headers) + " |"]
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        lines.append("| " + " | ".join(md_text(plain(c)) for c in row) + " |")
    if len(df) > max_rows:
        lines.append(f"\n_{len(df) - max_rows} more rows in the HTML or CSV report._")
    return "\n".join(lines) + "\n"


def render_markdown(
    tables: Mapping[str, pd.DataFrame],
    *,
    title: str | None = None,
    factors: EnergyFactors | None = None,
    sections: Sequence[str] | None = None,
) -> str:
    """The summary as Markdown: runs, status with reasons, and the compact tables."""
    factors = factors or EnergyFactors()
    status = tables["status"]
    totals = {c: int(status[c].sum()) for c in status.columns if c not in ("run_id", "suite", "machine")}
    out = [
        f"## {md_text(title or default_title(tables))}\n",
        " · ".join(f"**{k}** {v}" for k, v in totals.items()) + "\n",
        "★ best in column · ≈ estimated (not measured) · units in [brackets]\n",
        md_table(tables["runs"], "runs", ("run_id", "suite", "machine", "host", "started_utc", "versions")),
    ]
    out += _notes(tables, "header")
    if not tables["problems"].empty:
        out += ["### Cases that did not finish ok\n", md_table(tables["problems"], "problems", max_rows=50)]
    for section in SECTIONS:
        if not section.in_markdown or (sections is not None and section.key not in sections):
            continue
        if not has_content(section, tables):
            continue
        out.append(f"### {section.title}\n")
        out += _notes(tables, section.key)
        if section.key == "energy":
            out.append(md_text(energy_statement(tables["energy_sources"])) + "\n")
            out.append(
                f"Factors: carbon intensity {md_text(factors.carbon_label)}; PUE {factors.pue:g} "
                f"(a separate factor); {factors.price_per_kwh:g} {md_text(factors.currency)}/kWh.\n"
            )
        for name in section.tables:
            out.append(md_table(tables[name], name, MARKDOWN_COLUMNS.get(name), currency=factors.currency))
    return "\n".join(out)


def _notes(tables: Mapping[str, pd.DataFrame], key: str) -> list[str]:
    return [f"> {'**Warning:** ' if level == 'warning' else ''}{_para(text)}\n" for level, text in notes(tables, key)]


def _para(value: str) -> str:
    """A note as one Markdown paragraph (escaped, never cut: a note is read whole)."""
    return " ".join(html.escape(str(value), quote=False).split())
