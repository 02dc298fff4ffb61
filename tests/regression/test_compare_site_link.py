"""`harness compare --markdown --site-url`: each case links to its series page of a `harness publish` site."""

from __future__ import annotations

import re

from harness.cli import main
from harness.errors import EXIT_OK


def test_markdown_links_to_series_pages_that_exist(make_run, tmp_path):
    root = tmp_path / "res"
    for i, name in enumerate(("a", "b")):
        meta = {"suite": {"name": "ci", "text": "[suite]\n"}, "machine": {"host": "box", "cpu_model": "X"},
                "git": {"commit": f"{i:040x}", "commit_utc": f"2026-01-0{i + 1}T00:00:00+00:00"}}  # fmt: skip
        make_run(name, parent=root, meta=meta, seed=i, repeats=4)
    md = tmp_path / "summary.md"
    url = "https://example.org/bench"
    main(["compare", str(root / "a"), str(root / "b"), "--markdown", str(md), "--site-url", url + "/"])
    assert "](https://example.org/bench//" not in md.read_text()  # one slash between URL and page
    links = re.findall(r"\]\(https://example\.org/bench/([^)]+)\)", md.read_text())
    assert len(links) == 8  # 2 cases x 4 metrics, each row linked
    assert main(["publish", str(root), "--out", str(tmp_path / "site"), "--no-run-reports"]) == EXIT_OK
    primary = [p for p in links if "--samples_per_s--" in p]
    assert len(primary) == 2 and all((tmp_path / "site" / p).is_file() for p in primary)
