"""``harness report`` and ``harness energy`` through the CLI, in process."""

from __future__ import annotations

from harness.cli import main


def test_report_html_default_out(synthetic_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(synthetic_dir)]) == 0
    out = capsys.readouterr().out.strip()
    assert out == "reports/run-a.html"
    assert (tmp_path / out).read_text().startswith("<!DOCTYPE html>")


def test_report_formats(synthetic_dir, tmp_path, capsys):
    assert main(["report", str(synthetic_dir), "--format", "md", "--out", str(tmp_path / "r.md")]) == 0
    assert "Optimizer leaderboard" in (tmp_path / "r.md").read_text()
    out = tmp_path / "m.md"
    assert main(["report", str(synthetic_dir), "--format", "markdown", "--currency", "EUR", "--out", str(out)]) == 0
    assert "cost [EUR]" in out.read_text()
    assert main(["report", str(synthetic_dir), "--format", "csv", "--out", str(tmp_path / "csv")]) == 0
    assert (tmp_path / "csv" / "leaderboard.csv").exists()
    assert main(["report", str(synthetic_dir), "--format", "latex", "--out", str(tmp_path / "t.tex")]) == 0
    assert r"\toprule" in (tmp_path / "t.tex").read_text()


def test_energy_to_stdout_with_factors(synthetic_dir, capsys):
    assert main(["energy", str(synthetic_dir), "--carbon-intensity", "400", "--pue", "1.5", "--price", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "Factors: carbon intensity 400 gCO2e/kWh (given with --carbon-intensity); PUE 1.5 (a separate factor); 0.2 USD/kWh." in out
    assert "≈0.005501" in out or "≈0.0055" in out  # adam constant: 33 J -> 5.5e-3 gCO2e, estimated


def test_bad_input_exit_codes(synthetic_dir, tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert main(["report", str(synthetic_dir), "--baseline", "engine=nope"]) == 2
    assert main(["energy", str(synthetic_dir), "--pue", "0.5"]) == 2
    assert "--pue must be a number >= 1" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(empty)]) == 2  # a folder without runs: bad input, as in every command
