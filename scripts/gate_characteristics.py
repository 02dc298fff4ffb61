"""Regenerate the operating-characteristics table of docs/regression.md by simulation.

Every simulated build is decided by the gate's own code (harness.regression.decide.decide_family,
through harness.regression.gate_sim): A/A false alarms per build, detection of +10 % and +15 % on
one case, and how often a sub-threshold shift (+3 % on every case) fails a build, at CV 2/5/10 %.

    python scripts/gate_characteristics.py                 # print the table
    python scripts/gate_characteristics.py --write         # and replace it in docs/regression.md
    python scripts/gate_characteristics.py --builds 300    # quicker, coarser

The first design is the documented recipe (suites/ci.toml: its cases, its repeats a side); the
others show what the gate does with fewer repeats or more cases.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from doc_tables import write_between_markers  # noqa: E402  (scripts/doc_tables.py)

from harness.regression.gate_sim import Design, characteristics, markdown_table  # noqa: E402
from harness.suite import load_suite  # noqa: E402

START, END = "<!-- gate-characteristics:start -->", "<!-- gate-characteristics:end -->"
log = logging.getLogger("gate_characteristics")


def recipe() -> Design:
    """The recipe's design: suites/ci.toml's cases and repeats, its [gate] threshold and alpha."""
    suite = load_suite(ROOT / "suites" / "ci.toml")
    gate = tomllib.loads(suite.text).get("gate", {})
    threshold = float(str(gate.get("threshold", "5%")).rstrip("%")) / 100
    return Design(len(suite.cases), max(c.repeats for c in suite.cases), threshold, gate.get("alpha", 0.05))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builds", type=int, default=2000, help="simulated builds per cell of the recipe (2000)")
    ap.add_argument("--other-builds", type=int, default=500, help="... of the other designs (500)")
    ap.add_argument("--write", action="store_true", help="replace the table in docs/regression.md")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    designs = [(recipe(), args.builds), (Design(2, 10), args.other_builds), (Design(6, 24), args.other_builds)]
    frames = []
    for d, builds in designs:
        log.info("simulating %d cases x %d repeats, %d builds per cell", d.cases, d.repeats, builds)
        frames.append(characteristics(d, (0.02, 0.05, 0.10), builds, seed=d.cases * 1000 + d.repeats))
    import pandas as pd

    table = markdown_table(pd.concat(frames, ignore_index=True))
    sys.stdout.write(table)
    if args.write and not write_between_markers(ROOT / "docs" / "regression.md", START, END, table):
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
