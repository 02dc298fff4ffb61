#!/usr/bin/env bash
# Render a report of a run and screenshot its top with headless Chromium (the README's picture).
#
#   scripts/screenshot_report.sh [RUN_DIR] [OUT_PNG]
#
# Without RUN_DIR it runs the quick suite first (offline, about a minute on 2 cores).
# Needs Chromium (Debian: apt-get install chromium; or set HARNESS_CHROMIUM).
set -euo pipefail
cd "$(dirname "$0")/.."
out_png="${2:-docs/img/report.png}"
if [[ $# -ge 1 && -n "$1" ]]; then
  run_dir="$1"
else
  results="$(mktemp -d)"
  python -m harness run quick --results-dir "$results" >&2
  run_dir="$(find "$results" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
fi
html="$(mktemp --suffix=.html)"
python -m harness report "$run_dir" --out "$html" >/dev/null
python - "$html" "$out_png" <<'PY'
import sys
from pathlib import Path

sys.path.insert(0, ".")  # the checkout: the Chromium helper is a test tool (tests.helpers), not part of the package
from tests.helpers.report_browser import check_pages, screenshot

html, png = Path(sys.argv[1]), Path(sys.argv[2])
(check,) = check_pages([html])
if not check.ok:
    sys.exit(f"report did not render cleanly: {check}")
tmp = screenshot(html, png.with_suffix(".full.png"), width=1100, height=1500)
# shrink to a README-sized PNG (2/3 size, 128-colour palette) with Pillow (a matplotlib dependency)
from PIL import Image  # matplotlib depends on Pillow

img = Image.open(tmp).convert("RGB")
img = img.resize((img.width * 2 // 3, img.height * 2 // 3), Image.LANCZOS)
img.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)
tmp.unlink()
print(f"{png} ({png.stat().st_size // 1024} KiB), {check.images} figures rendered")
PY
