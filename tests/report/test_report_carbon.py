"""Carbon by region: the shipped table, the order of precedence, the labels, bad input."""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

import tests.helpers.report_synthetic as rs
from harness import carbon
from harness.cli import main
from harness.errors import ConfigError, SuiteError
from harness.suite import parse_suite


def _rows() -> list[dict[str, str]]:
    text = resources.files("harness.data").joinpath(carbon.TABLE).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_every_row_has_a_value_a_source_and_a_year_or_says_it_has_none():
    rows = _rows()
    assert len(rows) > 200 and rows[0]["code"] == "world"
    for row in rows:
        assert float(row["g_co2e_per_kwh"]) >= 0 and row["source"], row
        assert row["year"] == "" or 2000 <= int(row["year"]) <= 2030, row
    countries = [r for r in rows if r["alpha3"]]
    assert len({r["code"] for r in countries}) == len(countries)  # one row per country


def test_lookup_by_alpha2_alpha3_any_case_and_cloud_region():
    de = carbon.lookup("DE")
    assert carbon.lookup("deu") == de == carbon.lookup("de") and de.name == "Germany"
    assert de.year and str(de.year) in de.label() and "CodeCarbon" in de.source
    gcp = next(r for r in _rows() if r["code"].startswith("gcp:"))
    assert carbon.lookup(gcp["code"]).g_co2e_per_kwh == float(gcp["g_co2e_per_kwh"])
    assert "year not stated by the dataset" in carbon.lookup(gcp["code"]).label()


def test_unknown_region_names_the_closest_codes():
    with pytest.raises(ConfigError, match=r"unknown region 'gcp:europe-west99'.*closest: .*gcp:europe-west9"):
        carbon.lookup("gcp:europe-west99")
    with pytest.raises(ConfigError, match="unknown region 'world'"):
        carbon.lookup("world")  # the default is not a place


def test_precedence_and_notes():
    grid, notes = carbon.resolve()
    assert grid.origin == "default" and "world average" in grid.label() and notes == []
    grid, notes = carbon.resolve("DE", None, ("FR",))
    assert grid.code == "DE" and notes == ["--region DE on the command line overrides the suite's region FR."]
    grid, notes = carbon.resolve(None, None, ("FR", ""))
    assert grid.code == "FR" and notes == []
    grid, notes = carbon.resolve("DE", 100.0)
    assert grid.g_co2e_per_kwh == 100.0 and grid.origin == "flag" and "overrides" in notes[0]
    with pytest.raises(ConfigError, match=r"--carbon-intensity must be a number >= 0.*-1"):
        carbon.resolve(None, -1.0)


def test_suite_region_is_validated():
    assert parse_suite('[suite]\nregion = "FR"\n').settings["region"] == "FR"
    with pytest.raises(SuiteError, match=r"suite.region: .*unknown region 'XX'"):
        parse_suite('[suite]\nregion = "XX"\n')


def _energy_csv(run: Path, out: Path, *flags: str) -> pd.DataFrame:
    assert main(["energy", str(run), "--format", "csv", "--out", str(out), *flags]) == 0
    return pd.read_csv(out / "energy.csv")


@pytest.mark.slow  # two reports (~5 s on a loaded 2-core machine)
def test_de_and_fr_reports_are_in_the_ratio_of_the_table(tmp_path, capsys):
    run = rs.write_synthetic_run(tmp_path / "runs")
    de = _energy_csv(run, tmp_path / "de", "--region", "DE")
    fr = _energy_csv(run, tmp_path / "fr", "--region", "FR")
    ratio = carbon.lookup("DE").g_co2e_per_kwh / carbon.lookup("FR").g_co2e_per_kwh
    both = de["carbon_g"].notna()
    assert both.any()
    assert (de.loc[both, "carbon_g"] / fr.loc[both, "carbon_g"]).to_numpy() == pytest.approx(ratio)
    bounded = de["carbon_high_g"].notna()
    assert (de.loc[bounded, "carbon_high_g"] >= de.loc[bounded, "carbon_g"]).all()
    assert main(["energy", str(run), "--region", "FR"]) == 0
    out = capsys.readouterr().out
    assert f"carbon intensity {carbon.lookup('FR').label()}" in out  # value, place, source and year


@pytest.mark.slow  # two reports
def test_the_suites_region_is_used_and_the_command_line_wins(tmp_path, capsys):
    run = rs.write_synthetic_run(tmp_path / "runs")
    meta = json.loads((run / "run.json").read_text())
    meta["suite"]["text"] = '[suite]\nname = "demo"\nregion = "FR"\n'
    (run / "run.json").write_text(json.dumps(meta))
    assert main(["energy", str(run)]) == 0
    assert "(FR: France;" in capsys.readouterr().out
    assert main(["energy", str(run), "--region", "DE"]) == 0
    out = capsys.readouterr().out
    assert "(DE: Germany;" in out and "overrides the suite's region FR" in out


@pytest.mark.parametrize(("flags", "message"), [
    (["--region", "XX"], "--region: unknown region 'XX'"),
    (["--carbon-intensity", "-5"], "--carbon-intensity must be a number >= 0"),
    (["--carbon-intensity", "abc"], "--carbon-intensity: invalid float value: 'abc'"),
    (["--pue", "0.9"], "--pue must be a number >= 1"),
])
def test_bad_factors_exit_2_naming_the_flag(tmp_path, capsys, flags, message):
    run = rs.write_synthetic_run(tmp_path / "runs")
    try:
        rc = main(["energy", str(run), *flags])
    except SystemExit as exc:  # argparse's own type errors
        rc = exc.code
    assert rc == 2 and message in capsys.readouterr().err
