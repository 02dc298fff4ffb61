"""Reports: HTML (self-contained, with figures), Markdown summaries, CSV and LaTeX tables.

Python API::

    from harness.report import build_tables, render_html
    tables = build_tables(["results/2025-01-01T00-00-00-quick"])   # dict[str, DataFrame]
    html = render_html(tables)
"""

from __future__ import annotations

from harness.report.html import render_html
from harness.report.markdown import render_markdown
from harness.report.output import ENERGY_SECTIONS, FORMATS, default_out, render, write
from harness.report.table_export import to_csv, to_latex
from harness.report.tables import ReportOptions, build_tables, load

__all__ = [
    "ENERGY_SECTIONS",
    "FORMATS",
    "ReportOptions",
    "build_tables",
    "default_out",
    "load",
    "render",
    "render_html",
    "render_markdown",
    "to_csv",
    "to_latex",
    "write",
]
