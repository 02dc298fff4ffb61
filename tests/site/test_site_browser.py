"""The site as a reader sees it: Chromium loads every page from file:// (slow: starts a browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.site.publish import publish
from tests.helpers.site_browser import dangling, inspect
from tests.helpers.synthetic_runs import write_runs

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    """40 runs with a planted 12 % step (from run 25) on box-a, 40 without on box-b, 40 flat alone."""
    root = tmp_path_factory.mktemp("site")
    write_runs(root / "step", 40, n_cases=3, step_at=25, machine="box-a")
    write_runs(root / "step", 40, n_cases=3, machine="box-b", seed=7)
    write_runs(root / "flat", 40, n_cases=3, machine="box-a", seed=3)
    return {"step": root / "step", "flat": root / "flat", "root": root}


def _need_chromium():
    from tests.helpers.report_browser import find_chromium

    if not find_chromium():
        pytest.skip("no Chromium (apt-get install chromium)")


def test_planted_step_on_regressions_and_series_pages_filter_works(stores):
    _need_chromium()
    done = publish([stores["step"]], stores["root"] / "site-step", run_reports=False)
    site = done.site
    a = [s for s in done.data.series if s.machine == "box-a"]
    pages = ["index.html", "regressions.html", *sorted({s.page for s in done.data.series}),
             *sorted(r.page for r in done.data.runs), "index.html#q=optimizer=adam", "index.html#machine=box-b",
             f"{a[0].page}#machine=box-b"]  # fmt: skip
    found, console = inspect(site, pages)
    assert console == [] and dangling(found) == []
    by = {p["src"]: p for p in found}
    assert by["regressions.html"]["regression_rows"] == 3  # one per case, box-a only
    assert all(by[s.page]["regression_steps"] == 1 for s in a)
    assert by["index.html"]["shown"] == by["index.html"]["rows"] == 6
    assert by["index.html#q=optimizer=adam"]["shown"] == 2  # adam on both machines
    assert all("optimizer=adam" in t for t in by["index.html#q=optimizer=adam"]["shown_text"])
    assert by["index.html#machine=box-b"]["shown"] == 3
    assert by[f"{a[0].page}#machine=box-b"]["machines_shown"] == 1 and by[a[0].page]["machines_shown"] == 2
    regressions = (site / "regressions.html").read_text()
    assert "run-0025-box-a" in regressions and "box-b" not in regressions
    assert (site / "regressions.xml").read_text().count("<entry>") == 3


def test_no_step_means_an_empty_regressions_page(stores):
    _need_chromium()
    done = publish([stores["flat"]], stores["root"] / "site-flat", run_reports=False)
    found, console = inspect(done.site, ["index.html", "regressions.html"])
    assert console == [] and dangling(found) == []
    assert found[1]["regression_rows"] == 0 and "No regression change point." in (done.site / "regressions.html").read_text()
    assert "<entry>" not in (done.site / "regressions.xml").read_text()


def test_run_pages_are_the_runs_reports(tmp_path):
    _need_chromium()
    write_runs(tmp_path / "res", 4, n_cases=2)
    done = publish([tmp_path / "res"], tmp_path / "site", run_reports=True, jobs=2)
    pages = ["index.html", "regressions.html", *(s.page for s in done.data.series), *(r.page for r in done.data.runs)]
    found, console = inspect(done.site, pages)
    assert console == [] and dangling(found) == []
    run_page = (done.site / done.data.runs[0].page).read_text()
    assert "results site" in run_page and "Optimizer leaderboard" in run_page
