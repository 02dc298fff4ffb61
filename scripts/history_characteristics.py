"""Regenerate the operating-characteristics table of `harness history` in docs/regression.md.

Every simulated history is judged by the history's own code (harness.regression.history.judge,
through harness.regression.history_sim): no change, a step of exactly +δ (the threshold: it must
be called a regression in at most alpha of histories), a step of +2δ, several steps; at CV 2 %
and 5 % of the per-run values.

    nice -n 10 python scripts/history_characteristics.py                 # print the table
    nice -n 10 python scripts/history_characteristics.py --write         # and replace it in the docs
    python scripts/history_characteristics.py --histories 200            # quicker, coarser

The first design is the one the targets are stated for (2 cases, 20 runs, one repeat a run);
the others show 40 runs and a 6-case suite.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from doc_tables import write_between_markers  # noqa: E402  (scripts/doc_tables.py)

from harness.regression.history_sim import HistoryDesign, characteristics, markdown_table  # noqa: E402

START, END = "<!-- history-characteristics:start -->", "<!-- history-characteristics:end -->"
log = logging.getLogger("history_characteristics")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--histories", type=int, default=1000, help="simulated histories per cell of the first design")
    ap.add_argument("--other-histories", type=int, default=300, help="... of the other designs (300)")
    ap.add_argument("--write", action="store_true", help="replace the table in docs/regression.md")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    designs = [(HistoryDesign(2, 20), args.histories), (HistoryDesign(2, 40), args.other_histories),
               (HistoryDesign(6, 20), args.other_histories)]  # fmt: skip
    frames = []
    for d, n in designs:
        log.info("simulating %d cases x %d runs x %d repeats, %d histories per cell", d.series, d.runs, d.repeats, n)
        frames.append(characteristics(d, (0.02, 0.05), n, seed=d.series * 1000 + d.runs))
        log.info("%s", markdown_table(frames[-1]))  # each design as it finishes (the whole run takes minutes)
    import pandas as pd

    table = markdown_table(pd.concat(frames, ignore_index=True))
    sys.stdout.write(table)
    if args.write and not write_between_markers(ROOT / "docs" / "regression.md", START, END, table):
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
