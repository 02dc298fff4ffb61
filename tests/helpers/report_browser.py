"""Open reports in headless Chromium: check every image decoded and no console error; screenshots.

Chromium loads a small wrapper page that frames each report (same ``file://``
folder, ``--allow-file-access-from-files``) and, once everything has loaded,
writes for every frame the number of ``<img>`` elements, the ones that did not
decode and the number of ``<script>`` elements into its DOM, which
``--dump-dom`` prints. Console messages arrive on stderr
(``--enable-logging=stderr``) as ``CONSOLE`` lines naming their source file.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = ("--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run",
          "--disable-extensions", "--disable-dev-shm-usage")

_WRAPPER = """<!DOCTYPE html><html><body><pre id="result">pending</pre>{frames}
<script>
window.addEventListener('load', () => {{
  const out = [];
  for (const f of document.querySelectorAll('iframe')) {{
    let doc = null;
    try {{ doc = f.contentDocument; }} catch (e) {{ out.push({{src: f.getAttribute('src'), error: String(e)}}); continue; }}
    if (!doc) {{ out.push({{src: f.getAttribute('src'), error: 'no document'}}); continue; }}
    const imgs = Array.from(doc.images);
    out.push({{src: f.getAttribute('src'), images: imgs.length,
      broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt || '?'),
      scripts: doc.scripts.length, title: doc.title}});
  }}
  document.getElementById('result').textContent = 'RESULT' + JSON.stringify(out);
}});
</script></body></html>
"""


def find_chromium() -> str | None:
    """Path of a Chromium-family browser, ``$HARNESS_CHROMIUM`` first; None when there is none."""
    env = os.environ.get("HARNESS_CHROMIUM")
    if env:
        return env if Path(env).exists() else shutil.which(env)
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageCheck:
    """What Chromium saw in one report."""

    path: Path
    images: int = 0
    broken: list[str] = field(default_factory=list)
    scripts: int = 0
    console: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not (self.broken or self.console or self.error)


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def check_pages(pages: list[Path], chromium: str | None = None, timeout: float = 90) -> list[PageCheck]:
    """Load ``pages`` (HTML files) in headless Chromium and report images, scripts and console lines."""
    chromium = chromium or find_chromium()
    if not chromium:
        raise FileNotFoundError("no Chromium found (apt-get install chromium, or set HARNESS_CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="harness-browser-") as tmp:
        names = []
        for i, page in enumerate(pages):
            name = f"page{i}.html"
            shutil.copyfile(page, Path(tmp) / name)
            names.append(name)
        frames = "".join(f'<iframe src="{n}" width="1200" height="600"></iframe>' for n in names)
        wrapper = Path(tmp) / "wrapper.html"
        wrapper.write_text(_WRAPPER.format(frames=frames))
        proc = _run([chromium, *_FLAGS, "--allow-file-access-from-files", "--enable-logging=stderr",
                     "--v=0", "--virtual-time-budget=15000", f"--user-data-dir={tmp}/profile",
                     "--dump-dom", wrapper.as_uri()], timeout)
        match = re.search(r"RESULT(\[.*?\])</pre>", proc.stdout, re.S)
        console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    if not match:
        return [PageCheck(p, error=f"no result from Chromium (rc {proc.returncode}): {proc.stderr[-500:]}")
                for p in pages]
    found = json.loads(match.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    checks = []
    for page, name, item in zip(pages, names, found, strict=True):
        mine = [c for c in console if name in c]
        checks.append(PageCheck(page, item.get("images", 0), item.get("broken", []),
                                item.get("scripts", 0), mine, item.get("error", "")))
    return checks


def screenshot(page: Path, png: Path, width: int = 1200, height: int = 1600,
               chromium: str | None = None, timeout: float = 90) -> Path:
    """Render ``page`` to ``png`` (the top ``width`` x ``height`` CSS pixels)."""
    chromium = chromium or find_chromium()
    if not chromium:
        raise FileNotFoundError("no Chromium found (apt-get install chromium, or set HARNESS_CHROMIUM)")
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="harness-shot-") as tmp:
        proc = _run([chromium, *_FLAGS, f"--window-size={width},{height}", f"--user-data-dir={tmp}",
                     f"--screenshot={png}", Path(page).resolve().as_uri()], timeout)
    if not png.exists():
        raise RuntimeError(f"Chromium wrote no screenshot (rc {proc.returncode}): {proc.stderr[-500:]}")
    return png
