"""`harness publish`: pages, incremental and atomic writes, bad input (small synthetic stores, no browser)."""

from __future__ import annotations

import json
import re

import pytest

from harness.cli import main
from harness.errors import EXIT_BAD_INPUT, EXIT_OK
from harness.site import paths
from harness.site.publish import publish
from harness.site.svg import positions
from tests.helpers.synthetic_runs import write_run, write_runs


def links(html: str) -> list[str]:
    return [h for h in re.findall(r'href="([^"#]+)', html) if "://" not in h]


def test_pages_link_to_each_other_and_nothing_dangles(tmp_path):
    write_runs(tmp_path / "res", 5, n_cases=2)
    done = publish([tmp_path / "res"], tmp_path / "site", run_reports=False)
    site = done.site
    assert {p.name for p in site.iterdir()} >= {"index.html", "regressions.html", "regressions.xml", "series", "runs"}
    htmls = list(site.rglob("*.html"))
    assert len(htmls) == 2 + 2 + 5  # index, regressions, 2 series, 5 runs
    for page in htmls:
        for href in links(page.read_text()):
            assert (page.parent / href).resolve().is_file(), (page, href)
    index = (site / "index.html").read_text()
    assert index.count("<tr data-filter=") == 2 and "<b>5</b> runs" in index and "<b>5</b> commits" in index
    assert "http://" not in index.replace("http://www.w3.org", "") and "https://" not in index  # no network
    series = (site / done.data.series[0].page).read_text()
    assert series.count('class="pt"') == 5 and series.count("<circle") >= 5 * 3 + 5  # every repeat, every median
    assert "samples_per_s (examples/s)" in series and "commit time (UTC)" in series  # units on both axes


def test_runs_of_one_commit_stay_apart(tmp_path):
    for i in range(3):
        write_run(tmp_path / "res", i, commit_index=0, n_cases=1)  # a nightly job: three runs of one commit
    done = publish([tmp_path / "res"], tmp_path / "site", run_reports=False)
    xs = positions(done.data.runs)
    assert len(set(xs.values())) == 3
    page = (done.site / done.data.series[0].page).read_text()
    assert all(f"run {r.key}" in page for r in done.data.runs)  # each point's tooltip names its run


def test_suites_and_machines_never_mixed(tmp_path):
    write_runs(tmp_path / "res", 3, n_cases=1, suite="ci", machine="box-a")
    write_runs(tmp_path / "res", 3, n_cases=1, suite="quick", machine="box-a", first=10)
    write_runs(tmp_path / "b", 3, n_cases=1, suite="ci", machine="box-b")
    done = publish([tmp_path / "res", tmp_path / "b"], tmp_path / "site", run_reports=False)
    groups = sorted((s.suite, s.machine, len(s.points)) for s in done.data.series)
    assert groups == [("ci", "box-a", 3), ("ci", "box-b", 3), ("quick", "box-a", 3)]
    ci = (done.site / done.data.series[0].page).read_text()  # one page, both machines as layers
    assert ci.count('<g class="machine"') == 2 and 'data-machine="box-b"' in ci and '<select id="machine">' in ci


def test_incremental_publish_renders_only_the_new_run(tmp_path):
    write_runs(tmp_path / "res", 4, n_cases=1, machine="box-a")
    write_runs(tmp_path / "res", 4, n_cases=1, machine="box-b")
    first = publish([tmp_path / "res"], tmp_path / "site", run_reports=False)
    assert first.run_pages_rendered == 8
    write_run(tmp_path / "res", 4, n_cases=1, machine="box-a")
    for f in (tmp_path / "res" / "run-0000-box-b").iterdir():
        f.touch()  # a fresh checkout of the store: new times, same contents
    second = publish([tmp_path / "res"], tmp_path / "site", run_reports=False)
    assert second.run_pages_rendered == 1
    assert set(second.written) == {paths.INDEX, paths.FEED, "runs/run-0004-box-a.html", first.data.series[0].page}
    assert "runs/run-0000-box-a.html" in second.kept
    manifest = json.loads((tmp_path / "site" / paths.MANIFEST).read_text())
    assert len(manifest["runs"]) == 9 and not list(tmp_path.glob(".site.*"))  # no temporary folder left


def test_a_failure_leaves_the_previous_site(tmp_path, monkeypatch):
    write_runs(tmp_path / "res", 3, n_cases=1)
    publish([tmp_path / "res"], tmp_path / "site", run_reports=False)
    before = {p: p.read_bytes() for p in (tmp_path / "site").rglob("*") if p.is_file()}
    write_run(tmp_path / "res", 3, n_cases=1)

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr("harness.site.publish._swap", boom)
    with pytest.raises(RuntimeError):
        publish([tmp_path / "res"], tmp_path / "site", run_reports=False)
    assert {p: p.read_bytes() for p in (tmp_path / "site").rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res", "site"]


def test_bad_input_exit_2(tmp_path, capsys, caplog):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["publish", str(tmp_path / "missing"), "--out", str(tmp_path / "s")]) == EXIT_BAD_INPUT
    assert main(["publish", str(empty), "--out", str(tmp_path / "s")]) == EXIT_BAD_INPUT
    assert "holds no run" in capsys.readouterr().err and not (tmp_path / "s").exists()
    write_runs(tmp_path / "res", 3, n_cases=1)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my own file")
    assert main(["publish", str(tmp_path / "res"), "--out", str(mine), "--no-run-reports"]) == EXIT_BAD_INPUT
    assert "not a site made by `harness publish`" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    (tmp_path / "res" / "run-0001-box-a" / "run.json").write_text("{damaged")
    out = str(tmp_path / "site")
    assert main(["publish", str(tmp_path / "res"), "--out", out, "--no-run-reports", "--strict"]) == EXIT_BAD_INPUT
    assert "damaged run" in capsys.readouterr().err and not (tmp_path / "site").exists()
    (tmp_path / "res" / "run-0002-box-a" / "cases.parquet").write_bytes(b"PAR1 truncated")
    assert main(["publish", str(tmp_path / "res"), "--out", out, "--no-run-reports"]) == EXIT_OK
    assert "skipped 2 damaged run(s)" in capsys.readouterr().out  # run.json of one, cases table of another
    assert "run-0002-box-a" in caplog.text
    assert "run-0001-box-a" in caplog.text and "run-0001-box-a" in (tmp_path / "site" / "index.html").read_text()
