"""Write the site: only what changed is rendered, everything lands in a temporary folder moved into place.

Incremental: the previous site's manifest (``.harness-site.json``) records each
run's fingerprint and each page's SHA-256, and ``_data/cases.parquet`` keeps
every run's cases rows. A run whose files did not change is not read again and
its page (the costly ``harness report``) is not rendered again; a page whose
text is unchanged is hard-linked from the previous site instead of written.
What a new run changes — its own page, the series it adds a point to, the index,
the regressions page and feed — is all that is written.

Atomic: the new site is built beside ``--out`` and renamed into place; a failure
leaves the previous site as it was. An ``--out`` that holds anything but a site
made by ``publish`` is refused (exit 2), never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import HarnessError
from harness.site import pages, paths
from harness.site.collect import collect
from harness.site.data import RunRecord, SiteData, read_cases, scan
from harness.site.runpage import render_runs

log = logging.getLogger(__name__)
FORMAT = 1


@dataclass
class Published:
    """What a publish did: pages written (rendered anew), pages kept (linked), run reports rendered."""

    site: Path
    data: SiteData
    written: list[str]
    kept: list[str]
    run_pages_rendered: int


def _manifest(out: Path) -> dict:
    """The previous site's manifest ({} when there is none); a foreign folder is refused."""
    if not out.exists():
        return {}
    if not out.is_dir():
        raise HarnessError(f"--out {out}: exists and is not a folder; refusing to overwrite it")
    marker = out / paths.MANIFEST
    if not marker.is_file():
        if any(out.iterdir()):
            raise HarnessError(f"--out {out}: exists and is not a site made by `harness publish` (no "
                               f"{paths.MANIFEST}); refusing to overwrite it")  # fmt: skip
        return {}
    try:
        doc = json.loads(marker.read_text())
    except (OSError, ValueError) as exc:
        raise HarnessError(f"--out {out}: damaged {paths.MANIFEST} ({exc}); remove the folder to publish anew") from exc
    if not isinstance(doc, dict) or doc.get("generator") != "harness publish":
        raise HarnessError(f"--out {out}: {paths.MANIFEST} was not written by `harness publish`")
    return doc


def _cache(out: Path, manifest: dict) -> dict[str, pd.DataFrame]:
    """Run key -> cases rows of the previous site, for the runs whose fingerprint is unchanged."""
    path = out / paths.CACHE
    if not manifest or not path.is_file():
        return {}
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # a damaged cache costs a full read, nothing more
        log.warning("%s: unreadable cache, reading every run (%s)", path, exc)
        return {}
    known = manifest.get("runs", {})
    rows = df.drop(columns=["_run", "_fp"])
    return {str(k): rows.iloc[idx].reset_index(drop=True) for k, idx in df.groupby("_run", sort=False).indices.items()
            if known.get(str(k)) == str(df["_fp"].iat[idx[0]])}  # fmt: skip


def _sha(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def render_pages(data: SiteData, generated_utc: str, title: str, base_url: str) -> dict[str, str]:
    """Every page but the runs': index, series, regressions page and feed."""
    out = {paths.INDEX: pages.index(data, generated_utc, title), paths.REGRESSIONS: pages.regressions(data),
           paths.FEED: pages.feed(data, generated_utc, base_url)}  # fmt: skip
    by_page: dict[str, list] = {}
    for s in data.series:
        by_page.setdefault(s.page, []).append(s)
    out.update({p: pages.series_page(group) for p, group in by_page.items()})
    return out


def _link_or_write(old: Path, new: Path, content: bytes | None) -> None:
    new.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        try:
            os.link(old, new)
        except OSError:
            shutil.copy2(old, new)
    else:
        new.write_bytes(content)
        new.chmod(0o644)


def publish(roots: list[Path], out: Path, *, strict: bool = False, title: str = "Performance history",
            base_url: str = "", run_reports: bool = True, jobs: int = 1) -> Published:  # fmt: skip
    """Publish the runs under ``roots`` as a static site at ``out`` (see the module docstring)."""
    out = Path(out)
    manifest = _manifest(out)
    found, skipped = scan([Path(r) for r in roots], strict)
    cached = _cache(out, manifest)
    read: dict[str, pd.DataFrame] = {}

    def cases_of(run: RunRecord) -> pd.DataFrame:
        read[run.key] = cached[run.key] if run.key in cached else read_cases(run.path)
        return read[run.key]

    data = collect(found, cases_of, skipped, strict)
    generated = datetime.now(UTC).replace(microsecond=0).isoformat()
    texts = render_pages(data, generated, title, base_url)
    old_pages: dict[str, str] = manifest.get("pages", {})
    old_runs: dict[str, str] = manifest.get("runs", {})
    stale = [r for r in data.runs if old_runs.get(r.key) != r.fingerprint or not (out / r.page).is_file()
             or old_pages.get(r.page, "").startswith("summary:") == run_reports]  # fmt: skip
    texts.update(render_runs(stale, run_reports, jobs))
    kinds = {r.page: ("report:" if run_reports else "summary:") for r in data.runs}
    return _write(out, data, texts, manifest, kinds, read, len(stale))


def _write(out: Path, data: SiteData, texts: dict[str, str], manifest: dict, kinds: dict[str, str],
           read: dict[str, pd.DataFrame], rendered: int) -> Published:  # fmt: skip
    old_pages: dict[str, str] = manifest.get("pages", {})
    tmp = out.parent / f".{out.name}.publish-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    written, kept, hashes = [], [], {}
    try:
        for rel in sorted({*texts, *kinds}):
            body = texts[rel].encode() if rel in texts else None
            digest = kinds.get(rel, "") + (_sha(body) if body is not None else old_pages[rel].split(":")[-1])
            same = old_pages.get(rel) == digest and (out / rel).is_file()
            _link_or_write(out / rel, tmp / rel, None if same else body)
            (kept if same else written).append(rel)
            hashes[rel] = digest
        fps = {r.key: r.fingerprint for r in data.runs}
        keys = [k for k in read if k in fps]
        cache = pd.concat([read[k] for k in keys], ignore_index=True)
        sizes = [len(read[k]) for k in keys]
        cache["_run"] = np.repeat(keys, sizes)
        cache["_fp"] = np.repeat([fps[k] for k in keys], sizes)
        (tmp / paths.CACHE).parent.mkdir(parents=True, exist_ok=True)
        cache.to_parquet(tmp / paths.CACHE, index=False)
        doc = {"generator": "harness publish", "format": FORMAT, "runs": {r.key: r.fingerprint for r in data.runs},
               "pages": hashes}  # fmt: skip
        (tmp / paths.MANIFEST).write_text(json.dumps(doc, indent=1) + "\n")
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Published(out, data, written, kept, rendered)


def _swap(tmp: Path, out: Path) -> None:
    """Move the new site into place; the old one is removed only once the new one is there."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    try:
        tmp.rename(out)
    except OSError:
        if old.exists():
            old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
