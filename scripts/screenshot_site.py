"""Publish a synthetic store and screenshot the site's index, a series page and the regressions page.

    python scripts/screenshot_site.py [--out docs/img]

The store (tests/helpers/synthetic_runs.py: written with the results store, no
training): 40 runs x 4 cases on box-a with a 12 % slowdown planted from run
28, and 40 runs of box-b without one. Needs Chromium (apt-get install chromium,
or HARNESS_CHROMIUM). Also prints each page's weight and the time to its load event
in headless Chromium (Navigation Timing, median of 3).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout: harness, and the test tools in tests.helpers

from PIL import Image  # noqa: E402  (a matplotlib dependency)

from harness.site.publish import publish  # noqa: E402
from tests.helpers.report_browser import _FLAGS, find_chromium, screenshot  # noqa: E402
from tests.helpers.synthetic_runs import write_runs  # noqa: E402


def shrink(full: Path, png: Path, height: int) -> None:
    img = Image.open(full).convert("RGB")
    img = img.crop((0, 0, img.width, min(img.height, height)))
    img = img.resize((img.width * 2 // 3, img.height * 2 // 3), Image.LANCZOS)
    img.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)
    full.unlink()


_TIMING = """<!DOCTYPE html><body><pre id="r">pending</pre><iframe src="{src}"></iframe><script>
window.addEventListener('load', () => {{ setTimeout(() => {{
  const n = document.querySelector('iframe').contentWindow.performance.getEntriesByType('navigation')[0];
  document.getElementById('r').textContent = 'LOAD' + n.loadEventEnd.toFixed(1) + ';';
}}, 0); }});</script></body>"""


def load_ms(site: Path, rel: str, chromium: str) -> float:
    """Median over 3 headless loads of the page's Navigation Timing ``loadEventEnd`` (ms from navigation start)."""
    wrapper = site / "_timing.html"
    wrapper.write_text(_TIMING.format(src=rel))
    times = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as profile:
            out = subprocess.run([chromium, *_FLAGS, "--allow-file-access-from-files", f"--user-data-dir={profile}",
                                  "--virtual-time-budget=5000", "--dump-dom", wrapper.as_uri()],
                                 capture_output=True, text=True, check=True, timeout=120).stdout  # fmt: skip
            times.append(float(re.search(r"LOAD([0-9.]+);", out).group(1)))
    wrapper.unlink()
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = ap.parse_args()
    chromium = find_chromium()
    if not chromium:
        sys.exit("no Chromium (apt-get install chromium, or set HARNESS_CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="site-shot-") as tmp:
        res = Path(tmp) / "results"
        write_runs(res, 40, n_cases=4, step_at=28, machine="box-a")
        write_runs(res, 40, n_cases=4, machine="box-b", seed=11)
        done = publish([res], Path(tmp) / "site", run_reports=False, title="mnist-bench-harness: CI history")
        stepped = next(s for s in done.data.series if s.change_points)
        shots = {"site-index.png": ("index.html", 900), "site-series.png": (stepped.page, 1000),
                 "site-regressions.png": ("regressions.html", 500)}  # fmt: skip
        args.out.mkdir(parents=True, exist_ok=True)
        for name, (rel, height) in shots.items():
            page = done.site / rel
            full = screenshot(page, args.out / f"{name}.full.png", width=1200, height=height, chromium=chromium)
            shrink(full, args.out / name, height)
            print(f"{args.out / name}: {rel}, {page.stat().st_size / 1024:.0f} KiB, "
                  f"load event after {load_ms(done.site, rel, chromium):.0f} ms (headless Chromium, median of 3)")


if __name__ == "__main__":
    main()
