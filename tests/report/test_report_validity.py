"""Validity marks: exactly the rows with a short window (or a shared CPU) are marked, in every view."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import tests.helpers.report_synthetic as rs
from harness.analysis import validity
from harness.cli import main
from harness.report import build_tables, render_html, render_markdown
from harness.results.store import read_table, write_table
from tests.helpers.report_browser import _FLAGS, find_chromium

SHORT = "short_window: cpu estimate_tdp needs >= 0.1 s"
FLAGGED = {"sgd constant", "momentum-0.9 constant"}  # case labels given a short window below


def _with_flags(root: Path, labels: set[str] | None) -> Path:
    """A synthetic run whose rows of ``labels`` (None: every ok row) carry the short-window flag."""
    run = rs.write_synthetic_run(root)
    cases = read_table(run / "cases.parquet", "cases")
    hit = cases["status"].eq("ok") & (cases["case_label"].isin(labels) if labels is not None else True)
    cases["energy_window_flag"] = cases["energy_window_flag"].astype("string")
    cases.loc[hit, "energy_window_flag"] = SHORT
    write_table(run / "cases.parquet", "cases", cases)
    return run


@pytest.fixture()
def flagged_run(tmp_path) -> Path:
    return _with_flags(tmp_path / "some", FLAGGED)


def _marked_labels_md(md: str) -> set[str]:
    section = md.split("### Energy", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    return {row.split(" | ")[0].strip("| ") for row in rows[2:] if validity.MARK in row}


def test_reasons_and_floors():
    assert validity.reasons(SHORT, "", 0.05).startswith("short_window") and "0.05 s" in validity.reasons(SHORT, "", 0.05)
    assert validity.reasons(None, None) == ""
    assert validity.floor_s("rapl") == pytest.approx(0.01) and validity.floor_s("estimate_generic") == pytest.approx(0.1)
    # a window above the floor whose target came before it: only energy_to_target is in doubt
    assert validity.reasons(None, "", 1.0, 0.05, "estimate_generic").startswith("short_to_target")
    assert validity.is_figure("energy_j") and validity.is_figure("carbon_g") and not validity.is_figure("energy_source")



def test_a_target_reached_before_the_floor_marks_only_the_energy_to_target():
    table = pd.DataFrame({"case_label": ["early", "late"], "energy_window_flag": [None, None],
                          "energy_flag": ["", ""], "energy_window_s": [1.0, 1.0],
                          "time_to_target_s": [0.05, 0.5], "cpu_energy_source": ["estimate_generic"] * 2})
    rows = validity.annotate(table).to_dict("records")
    assert validity.marked(rows[0], "energy_to_target_j") and not validity.marked(rows[0], "energy_j")
    assert not validity.marked(rows[1], "energy_to_target_j") and rows[1][validity.VALIDITY] == ""


def test_markdown_marks_exactly_the_flagged_rows(flagged_run):
    tables = build_tables([flagged_run])
    energy = tables["energy"]
    assert set(energy.loc[energy[validity.MARKED], "case_label"]) == FLAGGED
    md = render_markdown(tables)
    assert _marked_labels_md(md) == FLAGGED
    assert "marks the energy and power figures of 2 row(s)" in md and "estimate_tdp: 0.1 s" in md
    assert "Energy figures of" in md  # the rankings say their energy figures are in doubt


def test_csv_column_names_exactly_the_flagged_rows(flagged_run, tmp_path):
    out = tmp_path / "csv"
    assert main(["report", str(flagged_run), "--format", "csv", "--out", str(out)]) == 0
    energy = pd.read_csv(out / "energy.csv", keep_default_na=False)
    flagged = energy[energy[validity.VALIDITY] != ""]
    assert set(flagged["case_label"]) == FLAGGED
    assert flagged[validity.VALIDITY].str.startswith("short_window").all()


def test_all_below_the_floor_gives_one_banner_and_no_cell_marks(tmp_path):
    tables = build_tables([_with_flags(tmp_path / "all", None)])
    md = render_markdown(tables)
    assert "Every energy and power figure below" in md
    assert _marked_labels_md(md) == set() and not tables["energy"][validity.MARKED].any()
    notes = tables["notes"]
    assert list(notes.loc[notes["section"] == "energy", "level"]) == ["warning"]  # one banner, no legend


def test_show_marks_the_flagged_rows(flagged_run, capsys):
    assert main(["show", str(flagged_run)]) == 0
    out = capsys.readouterr().out
    marked = [line for line in out.splitlines() if line.strip().startswith(validity.MARK) and " #" in line]
    assert "marks the energy and power figures of 2 row(s)" in out  # the legend, once
    assert {line.split(validity.MARK, 1)[1].split(" #")[0].strip() for line in marked} == FLAGGED


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(find_chromium() is None, reason="Chromium not installed (apt-get install chromium)")
def test_html_marks_exactly_the_flagged_rows_in_chromium(flagged_run, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(build_tables([flagged_run])), encoding="utf-8")
    dom = subprocess.run([find_chromium(), *_FLAGS, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    table = dom.split('data-table="energy"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]
    marked = set()
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if 'class="num est invalid"' in row or 'invalid"' in row:
            marked.add(re.sub(r"<[^>]+>", "", cells[0]).strip())
    assert len(rows) >= 4  # the other configurations are in the table, unmarked
    assert marked == {"sgd / constant", "momentum-0.9 / constant"}  # their series labels
    assert validity.MARK in table
