"""Load a published site's pages in headless Chromium, in place (``file://``), and report what each shows.

A wrapper page written into the site's root frames every page (same folder, so
the pages' relative links and ``#q=...`` filters work as a reader's would) and,
once all have loaded, writes per frame: the title, the index rows shown and
hidden, regression rows and shaded regression steps, and every link's resolved
URL. Console messages come on stderr (``--enable-logging=stderr``).
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from tests.helpers.report_browser import _FLAGS, find_chromium

_WRAPPER = """<!DOCTYPE html><html><body><pre id="result">pending</pre>{frames}
<script>
window.addEventListener('load', () => {{
  const out = [];
  for (const f of document.querySelectorAll('iframe')) {{
    const d = f.contentDocument;
    if (!d) {{ out.push({{src: f.getAttribute('src'), error: 'no document'}}); continue; }}
    const rows = Array.from(d.querySelectorAll('#series tbody tr'));
    out.push({{src: f.getAttribute('src'), title: d.title,
      rows: rows.length, shown: rows.filter(r => !r.hidden).length,
      shown_text: rows.filter(r => !r.hidden).map(r => r.getAttribute('data-filter')),
      regression_rows: d.querySelectorAll('tr.regression-row').length,
      regression_steps: d.querySelectorAll('rect.step.regression').length,
      machines_shown: Array.from(d.querySelectorAll('g.machine')).filter(g => g.style.display !== 'none').length,
      links: Array.from(d.querySelectorAll('a[href], link[href]')).map(a => new URL(a.getAttribute('href'), d.baseURI).href)}});
  }}
  document.getElementById('result').textContent = 'RESULT' + JSON.stringify(out);
}});
</script></body></html>
"""


def inspect(site: Path, pages: list[str], timeout: float = 120) -> tuple[list[dict], list[str]]:
    """(what each page shows, console lines) for ``pages`` (paths under ``site``, with an optional #fragment)."""
    chromium = find_chromium()
    if not chromium:
        raise FileNotFoundError("no Chromium found (apt-get install chromium, or set HARNESS_CHROMIUM)")
    wrapper = Path(site) / "_browser_check.html"
    wrapper.write_text(_WRAPPER.format(frames="".join(f'<iframe src="{p}"></iframe>' for p in pages)))
    try:
        with tempfile.TemporaryDirectory(prefix="harness-site-browser-") as tmp:
            proc = subprocess.run([chromium, *_FLAGS, "--allow-file-access-from-files", "--enable-logging=stderr",
                                   "--v=0", "--virtual-time-budget=20000", f"--user-data-dir={tmp}",
                                   "--dump-dom", wrapper.as_uri()],
                                  capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip
    finally:
        wrapper.unlink()
    match = re.search(r"RESULT(\[.*?\])</pre>", proc.stdout, re.S)
    if not match:
        raise RuntimeError(f"no result from Chromium (rc {proc.returncode}): {proc.stderr[-800:]}")
    found = json.loads(match.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    return found, console


def dangling(found: list[dict]) -> list[str]:
    """Links to ``file://`` targets that do not exist."""
    bad = []
    for page in found:
        for url in page.get("links", []):
            parsed = urlparse(url)
            if parsed.scheme == "file" and not Path(unquote(parsed.path)).is_file():
                bad.append(f"{page['src']} -> {url}")
            elif parsed.scheme not in ("file", ""):
                bad.append(f"{page['src']} -> {url} (not internal)")
    return bad
