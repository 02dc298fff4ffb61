"""Screenshot TensorBoard's HParams dashboard over a harness logdir (the README's picture).

    python scripts/screenshot_tensorboard.py [--logdir LOGDIR] [--out docs/img/tensorboard_hparams.png]

Without ``--logdir`` it first runs ``harness run quick --tdp-w 65 --tensorboard <tmp>``
(offline, a minute or two on 2 cores). Then it starts ``tensorboard --logdir`` on
127.0.0.1 (killed at the end), loads ``#hparams`` in headless Chromium, waits for
the session table, checks the page logged no console error and saves the PNG.
Needs Chromium (Debian: apt-get install chromium; or set HARNESS_CHROMIUM).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout: harness, and the test tools in tests.helpers

from harness.tensorboard.logdir import MANIFEST  # noqa: E402
from tests.helpers import tb_server as tb  # noqa: E402
from tests.helpers.report_devtools import Devtools  # noqa: E402


def make_logdir(tmp: Path) -> Path:
    logdir = tmp / "logdir"
    subprocess.run([sys.executable, "-m", "harness", "run", "quick", "--tdp-w", "65", "--no-progress",
                    "--results-dir", str(tmp / "results"), "--tensorboard", str(logdir)], check=True, cwd=ROOT)
    return logdir


def sessions(logdir: Path) -> set[str]:
    out = set()
    for manifest in logdir.glob(f"*/{MANIFEST}"):
        out |= {f"{manifest.parent.name}/{s}" for s in json.loads(manifest.read_text())["sessions"]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logdir", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "tensorboard_hparams.png")
    ap.add_argument("--view", default="hparams", help="dashboard to show (hparams, timeseries, ...)")
    ap.add_argument("--size", default="1800x900", help="browser window, WIDTHxHEIGHT CSS pixels")
    ap.add_argument("--click", default="", help="then click the element with this text (e.g. a view's tab)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="harness-tb-shot-") as tmp:
        logdir = args.logdir or make_logdir(Path(tmp))
        with tb.serve(logdir) as base, Devtools(*map(int, args.size.split("x"))) as browser:
            expected = sessions(logdir)
            tb.wait_for_runs(base, expected)
            page = browser.open(f"{base}#{args.view}", timeout=120, until="deepText().includes('inverse_power')")
            if args.click and not browser.click(args.click):
                sys.exit(f"nothing to click labelled {args.click!r}")
            page = browser.console(page)
            if not page.ready or page.errors:
                sys.exit(f"the dashboard did not render cleanly: ready={page.ready} errors={page.errors}")
            png = browser.screenshot(args.out.with_suffix(".full.png"))
    from PIL import Image  # matplotlib depends on Pillow

    img = Image.open(png).convert("RGB")
    img.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(args.out, optimize=True)
    png.unlink()
    print(f"{args.out} ({args.out.stat().st_size // 1024} KiB); {len(expected)} sessions, "
          f"{len(page.warnings)} console warnings, no console errors")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
