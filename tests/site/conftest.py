"""Synthetic results folders for the site's tests (see synthetic_runs.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "report"))  # report_browser: the repo's Chromium driver
