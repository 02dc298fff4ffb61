"""The HTML report in headless Chromium: every image decodes, no console errors.

Skips with the reason when no Chromium is installed (``apt-get install chromium``).
"""

from __future__ import annotations

import pytest

from tests.helpers.report_browser import check_pages, find_chromium, screenshot

pytestmark = [
    pytest.mark.slow,  # starts a browser
    pytest.mark.browser,
    pytest.mark.skipif(find_chromium() is None, reason="Chromium not installed (apt-get install chromium)"),
]


def test_report_opens_in_chromium(page, tmp_path):
    good = tmp_path / "report.html"
    good.write_text(page)
    # a negative control: the same report with one image's data damaged must be caught
    text = good.read_text()
    i = text.index("base64,") + len("base64,")
    broken = tmp_path / "broken.html"
    broken.write_text(text[:i] + "AAAA" + text[i + 64:])
    ok, bad = check_pages([good, broken])
    assert ok.error == "" and ok.images == 9 and ok.broken == [] and ok.scripts == 0
    assert ok.console == [], ok.console
    assert bad.broken == ["Optimizer leaderboard"]


def test_screenshot(page, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(page)
    png = screenshot(path, tmp_path / "shot.png", width=800, height=600)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
