"""Reports of real runs (quick.toml, a shard of full.toml) open in headless Chromium.

Slow: each trains a suite. Skips with the reason when Chromium or the suite is missing.
"""

from __future__ import annotations

import os

import pytest

from harness.cli import main
from harness.report import build_tables, render_html
from tests.helpers import ROOT
from tests.helpers.report_browser import check_pages, find_chromium

# full.toml is 666 cases x 3 repeats (hours): a 6-case shard of it, one repeat each
# (override with HARNESS_REPORT_FULL_SHARD, e.g. "1/1")
SHARDS = {"quick": None, "full": os.environ.get("HARNESS_REPORT_FULL_SHARD", "1/111")}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(find_chromium() is None, reason="Chromium not installed (apt-get install chromium)"),
]


@pytest.mark.parametrize("suite", sorted(SHARDS))
def test_suite_report_opens_in_chromium(suite, tmp_path, capsys):
    if not (ROOT / "suites" / f"{suite}.toml").exists():
        pytest.skip(f"suites/{suite}.toml does not exist in this checkout")
    args = ["run", suite, "--results-dir", str(tmp_path), "--no-progress"]
    if SHARDS[suite]:
        args += ["--shard", SHARDS[suite], "--repeats", "1"]
    assert main(args) == 0
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    tables = build_tables([run_dir])
    assert tables["status"]["rows"].sum() > 0
    page = tmp_path / "report.html"
    page.write_text(render_html(tables))
    (check,) = check_pages([page])
    assert check.ok, check
    assert check.images >= 4 and check.scripts == 0
