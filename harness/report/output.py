"""Rendering a report in a format and writing it where asked (atomically)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from harness.analysis import EnergyFactors
from harness.errors import ConfigError
from harness.report.html import render_html
from harness.report.markdown import render_markdown
from harness.report.table_export import to_csv, to_latex
from harness.results.store import atomic_write_bytes

READABLE = 0o644  # reports are for sharing (the atomic writer creates files 0600)
FORMATS: dict[str, str] = {"html": ".html", "md": ".md", "csv": "", "latex": ".tex"}
ALIASES: dict[str, str] = {"markdown": "md", "htm": "html", "tex": "latex"}
ENERGY_SECTIONS = ("energy", "power")
ENERGY_TABLES = ("runs", "machines", "status", "problems", "energy_sources", "energy", "power_summary", "power")


def default_out(tables: Mapping[str, pd.DataFrame], fmt: str, root: Path = Path("reports"), prefix: str = "") -> Path:
    """``reports/<run-id>[+N].<ext>`` (a folder for CSV)."""
    fmt = ALIASES.get(fmt, fmt)
    ids = [str(x) for x in tables["runs"]["run_id"]] if not tables["runs"].empty else ["empty"]
    stem = ids[0] if len(ids) == 1 else f"{ids[0]}+{len(ids) - 1}"
    stem = re.sub(r"[^A-Za-z0-9._+-]", "_", prefix + stem)
    return root / (stem + ("-csv" if fmt == "csv" else FORMATS[fmt]))


def render(
    tables: Mapping[str, pd.DataFrame],
    fmt: str,
    *,
    factors: EnergyFactors | None = None,
    title: str | None = None,
    sections: Sequence[str] | None = None,
) -> dict[str, str]:
    """Rendered text per file name ('' is the single file of html/md/latex; CSV gives several)."""
    fmt = ALIASES.get(fmt, fmt)
    if fmt not in FORMATS:
        raise ConfigError(f"--format: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "html":
        return {"": render_html(tables, title=title, factors=factors, sections=sections)}
    if fmt == "md":
        return {"": render_markdown(tables, title=title, factors=factors, sections=sections)}
    chosen = tables if sections is None else {k: v for k, v in tables.items() if k in ENERGY_TABLES}
    if fmt == "latex":
        return {"": to_latex(chosen)}
    return to_csv(chosen)


def write(rendered: Mapping[str, str], out: Path) -> Path:
    """Write a rendering to ``out`` (a file, or a folder for several files); return the path."""
    out = Path(out)
    if set(rendered) == {""}:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out, rendered[""].encode("utf-8"))
        out.chmod(READABLE)
        return out
    out.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        atomic_write_bytes(out / name, text.encode("utf-8"))
        (out / name).chmod(READABLE)
    return out
