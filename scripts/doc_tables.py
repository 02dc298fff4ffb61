"""Write a measured table into a doc between two HTML-comment markers (used by the *_characteristics scripts)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def write_between_markers(doc: Path, start: str, end: str, table: str) -> bool:
    """Replace what lies between ``start`` and ``end`` in ``doc`` with ``table``; False if a marker is missing."""
    text = doc.read_text()
    if start not in text or end not in text:
        log.error("%s: markers %s / %s not found", doc, start, end)
        return False
    head, rest = text.split(start, 1)
    doc.write_text(head + start + "\n" + table + end + rest.split(end, 1)[1])
    log.info("updated %s", doc)
    return True
