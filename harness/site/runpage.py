"""A run's page: its ``harness report`` HTML with a link back to the site (or, without reports, a summary)."""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from html import escape
from pathlib import Path

from harness.errors import HarnessError
from harness.site import paths
from harness.site.assets import CSP, CSS
from harness.site.data import RunRecord

log = logging.getLogger(__name__)
BACK = f'<p style="font-family:sans-serif"><a href="../{paths.INDEX}">← results site</a></p>'


def report_html(path: Path) -> str:
    """``harness report RUN`` as HTML, with a link back to the site's index."""
    from harness.report import build_tables, render  # matplotlib: only when run pages are made

    html = render(build_tables([path]), "html")[""]
    return html.replace("<body>", "<body>" + BACK, 1)


def summary_html(run: RunRecord) -> str:
    """A run page without the report (``--no-run-reports``): the run's identity and where it is."""
    rows = [("run", run.key), ("suite", run.suite), ("machine", run.machine), ("commit", run.commit or "–"),
            ("commit time", run.commit_utc or "–"), ("started", run.started_utc or "–"), ("folder", str(run.path))]
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
            f'content="{CSP}"><title>{escape(run.key)}</title><style>{CSS}</style></head><body>{BACK}'
            f"<h1>Run {escape(run.key)}</h1><table>{table}</table><p class=\"muted\">Published with --no-run-reports: "
            f"<code>harness report {escape(str(run.path))}</code> renders the full report.</p></body></html>\n")


def _one(path: Path) -> str:
    try:
        return report_html(path)
    except HarnessError as exc:  # the run was readable when scanned; a report that fails says why
        log.warning("report of %s failed: %s", path, exc)
        return f"<!DOCTYPE html><html><body>{BACK}<p>The report of {escape(str(path))} failed: {escape(str(exc))}</p></body></html>\n"


def render_runs(runs: list[RunRecord], reports: bool, jobs: int = 1) -> dict[str, str]:
    """Page path -> HTML of each run in ``runs`` (reports in ``jobs`` processes)."""
    if not reports:
        return {r.page: summary_html(r) for r in runs}
    if jobs <= 1 or len(runs) < 2:
        return {r.page: _one(r.path) for r in runs}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return dict(zip((r.page for r in runs), pool.map(_one, [r.path for r in runs]), strict=True))
