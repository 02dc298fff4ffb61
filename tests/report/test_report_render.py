"""HTML, Markdown, CSV and LaTeX renderings: escaping, self-containment, failed runs, marks."""

from __future__ import annotations

import re

import pytest

import tests.helpers.report_synthetic as rs
from harness import schema
from harness.report import build_tables, render_html, render_markdown, to_csv, to_latex
from harness.report.markdown import md_table
from harness.results.store import atomic_write_json, write_table


def test_html_escapes_everything_from_results(page):
    assert "<script" not in page.lower()
    assert "adam&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "boom &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "Test CPU &lt;i&gt;" in page and "<i>" not in page.replace("<i>estimated</i>", "")


def test_html_is_self_contained(page):
    srcs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "http://" not in page and "https://" not in page and "@import" not in page
    assert "default-src 'none'" in page  # CSP: no script, no remote resource
    # leaderboard, curves (per epoch, against wall time), lr, throughput, profile, trade-offs, energy, power
    assert page.count("<img ") == 9


def test_html_lists_failed_and_skipped_with_reasons(page):
    assert "Cases that did not finish ok, with reasons" in page
    assert rs.SKIP_REASON in page
    assert "failed: 1" in page and "skipped: 1" in page


def test_html_marks_best_and_estimated(page):
    assert '<td class="num best">0.95 ★</td>' in page
    assert re.search(r'<td class="num est">≈33</td>', page)  # estimated CPU energy of adam constant
    assert "[examples/s]" in page and "[J/example]" in page and "[gCO2e]" in page


def test_only_failed_and_skipped_still_renders(tmp_path):
    specs = [s for s in rs.SPECS if s[3] != "ok"]
    tables = build_tables([rs.write_synthetic_run(tmp_path, specs=specs)])
    page = render_html(tables)
    assert rs.SKIP_REASON in page and "&lt;script&gt;alert(1)" in page
    assert "No figure" in page and "<img" not in page
    md = render_markdown(tables)
    assert "skipped" in md and rs.SKIP_REASON in md
    assert to_latex(tables) and "problems.csv" in to_csv(tables)


def test_minimal_run_json_and_no_rows(tmp_path):
    run = tmp_path / "bare"
    run.mkdir()
    atomic_write_json(run / "run.json", {"schema_version": schema.SCHEMA_VERSION})
    write_table(run / "cases.parquet", "cases", schema.frame("cases", []))
    tables = build_tables([run])
    assert tables["runs"].iloc[0]["machine"] == "bare"  # falls back to the run id
    assert "<h1>Report: harness on bare</h1>" in render_html(tables)
    assert "rows** 0" in render_markdown(tables)


def test_two_machines_combine(tmp_path):
    rs.write_synthetic_run(tmp_path, "run-a", "box-a")
    rs.write_synthetic_run(tmp_path, "run-b", "box-b")
    tables = build_tables([tmp_path])
    assert set(tables["runs"]["machine"]) == {"box-a", "box-b"}
    assert "machine" in tables["leaderboard"].columns and len(tables["leaderboard"]) == 14
    assert set(tables["throughput"]["machine"]) == {"box-a", "box-b"}
    assert "box-a, box-b" in render_html(tables)


def test_markdown_is_compact_and_escaped(tables):
    md = render_markdown(tables)
    assert "<script" not in md and "&lt;script&gt;" in md
    assert "![" not in md and len(md.encode()) < 64 * 1024
    assert "| 1 | no | momentum-0.9 / constant | 1 |" in md
    assert "> **Warning:** This ranking rests on a single repeat" in md
    assert "≈33" in md  # estimated energy marked


def test_markdown_cell_cannot_break_the_table():
    df = schema.frame("cases", [{"case_label": "a|b\nc"}])[["case_label"]]
    assert md_table(df, "x").splitlines()[-1] == "| a\\|b c |"


def test_csv_and_latex(tables):
    files = to_csv(tables)
    assert {"leaderboard.csv", "energy.csv", "units.csv", "profile.csv"} <= set(files)
    assert "samples_per_s_median,examples/s" in files["units.csv"].replace("leaderboard,", "")
    tex = to_latex(tables)
    assert r"\begin{tabular}" in tex and r"\toprule" in tex
    assert r"adam\textless{}script\textgreater{}" in tex
    assert "time\\_to\\_target\\_s\\_median [s]" in tex


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_energy_only_sections(tables, fmt):
    from harness.report import render

    text = render(tables, fmt, sections=("energy", "power"))[""]
    assert "Energy" in text and "Optimizer leaderboard" not in text


def test_sections_without_data_are_hidden_and_said(page, tables):
    assert '<section id="scaling">' not in page and '<section id="lr_sensitivity">' not in page
    assert "Not shown, no data in these runs: Learning-rate sensitivity, Strategy scaling" in page
    assert '<section id="tradeoffs">' in page and "Pareto" in page
    assert "Learning-rate sensitivity" not in render_markdown(tables)
