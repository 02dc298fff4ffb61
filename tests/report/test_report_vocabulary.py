"""One vocabulary and one set of exit codes across commands."""

from __future__ import annotations

import pytest

import tests.helpers.report_synthetic as rs
from harness.cli import main
from tests.report.test_report_validity import FLAGGED, SHORT, _with_flags


@pytest.mark.parametrize("command", [["show"], ["report"], ["energy"], ["profile"], ["history"],
                                     ["export", "--tensorboard", "TB"], ["merge", "--out", "OUT"]])
@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_missing_and_empty_folders_exit_2_everywhere(tmp_path, capsys, command, kind):
    folder = tmp_path / kind
    if kind == "empty":
        folder.mkdir()
    argv = [command[0], str(folder), *[str(tmp_path / a) if a.isupper() else a for a in command[1:]]]
    assert main(argv) == 2
    assert str(folder) in capsys.readouterr().err


def test_baseline_takes_the_suites_axis_names(tmp_path, capsys):
    run = rs.write_synthetic_run(tmp_path / "runs")
    out = tmp_path / "r.md"
    assert main(["report", str(run), "--format", "md", "--out", str(out), "--baseline", "optimizer=adam"]) == 0
    assert "optimizer=adam" in out.read_text()
    assert main(["report", str(run), "--format", "md", "--out", str(out), "--baseline", "optimiser=adam"]) == 2
    assert "'optimiser' is not an axis of this report (axes: optimizer" in capsys.readouterr().err


def test_compare_prints_each_cases_flags_once(tmp_path, capsys):
    run = _with_flags(tmp_path / "runs", FLAGGED)
    assert main(["compare", str(run), str(run)]) in (0, 3, 5)
    out = capsys.readouterr().out
    for label in FLAGGED:
        notes = [line for line in out.splitlines() if line.startswith("note: flags") and f"({label})" in line]
        assert len(notes) == 1 and SHORT in notes[0]
    table = [line for line in out.splitlines() if "(info)" in line or "(gated)" in line]
    assert table and all(SHORT not in line for line in table)  # rows carry a tag, not the text
