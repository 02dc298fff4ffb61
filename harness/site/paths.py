"""Where the site keeps each page: one function per kind of page, shared by the pages and ``compare``.

Every path is relative to the site's root and made of ``[A-Za-z0-9._-]`` only,
so it is a valid file name and URL on any static host.
"""

from __future__ import annotations

import hashlib
import re

MANIFEST = ".harness-site.json"  # marks a folder as a site made by `harness publish`
CACHE = "_data/cases.parquet"  # every run's cases rows, reused by the next publish
INDEX = "index.html"
REGRESSIONS = "regressions.html"
FEED = "regressions.xml"


def slug(text: str, limit: int = 40) -> str:
    """``text`` reduced to file-name-safe characters (at most ``limit``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.")[:limit] or "x"


def series_page(suite: str, case_id: str, case_label: str, metric: str) -> str:
    """The page of one case x metric of a suite (every machine's series on it)."""
    digest = hashlib.sha1(f"{suite}\0{case_id}\0{case_label}\0{metric}".encode()).hexdigest()[:8]
    return f"series/{slug(suite, 24)}--{slug(case_label)}--{metric}--{digest}.html"


def run_page(run_key: str) -> str:
    """The page of one run (its ``harness report``)."""
    return f"runs/{slug(run_key, 120)}.html"
