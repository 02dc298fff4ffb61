"""docs/architecture.md's rank table is the import guard's: the same areas at the same ranks."""

from __future__ import annotations

import re
from pathlib import Path

from tests.structure.test_import_graph import MODULES, RANK, _area

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _doc_ranks() -> dict[str, int]:
    text = DOC.read_text()
    table = text[text.index("| rank | areas |"):].split("\n\n", 1)[0]
    ranks = {}
    for line in table.splitlines()[2:]:
        rank, areas = (cell.strip() for cell in line.strip("|").split("|", 1))
        names = re.findall(r"`([\w.]+)`", re.sub(r"\([^)]*\)", "", areas))
        ranks.update(dict.fromkeys(names, int(rank)))
    return ranks


def test_the_doc_ranks_every_area_as_the_import_guard_does():
    assert _doc_ranks() == RANK


def test_every_folder_of_the_package_is_in_the_doc():
    text = DOC.read_text()
    folders = {"/".join(("harness", *m.split(".")[1:-1])) for m in MODULES if m.count(".") >= 2}
    missing = sorted(f for f in folders if f"`{f}/`" not in text and f"{f}/" not in text)
    assert missing == [], f"folders not described in docs/architecture.md: {missing}"
    assert {_area(m) for m in MODULES} - {""} <= set(RANK)
