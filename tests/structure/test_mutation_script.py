"""scripts/mutation.py's bookkeeping (no mutmut run): targets exist, explanations are read from
docs/testing.md's table, kill rates leave only equivalent survivors out of the denominator."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("mutation_script", ROOT / "scripts" / "mutation.py")
mutation = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = mutation  # dataclasses look their module up
spec.loader.exec_module(mutation)


def test_every_target_and_its_tests_exist():
    targets = mutation.load_targets()
    assert {"schedules", "leaderboard", "perf_profile", "labels", "merge", "stats", "decide", "power",
            "history", "rapl", "nvml", "derive", "cputime", "cpu_estimate", "cpuwindow"} <= set(targets)
    for name, t in targets.items():
        assert (ROOT / t["path"]).is_file(), name
        for test in t["tests"]:
            assert (ROOT / test.split("::")[0]).is_file(), (name, test)


def test_explanations_are_read_from_the_survivors_table(tmp_path):
    doc = tmp_path / "testing.md"
    doc.write_text("| mutant | verdict | why |\n| --- | --- | --- |\n"
                   "| `harness.a.x_f__mutmut_3` | equivalent | same value |\n"
                   "| harness.a.x_g__mutmut_12 | accepted | log text only |\n"
                   "| harness.a.x_h__mutmut_1 | killed? | not a verdict |\n")
    eq, acc = mutation.explained(doc)
    assert eq == {"harness.a.x_f__mutmut_3"} and acc == {"harness.a.x_g__mutmut_12"}
    assert mutation.explained(tmp_path / "missing.md") == (set(), set())


def test_kill_rate_leaves_out_equivalent_survivors_only():
    r = mutation.ModuleResult("m", "harness/m.py", 1.0, True, statuses={
        "a__mutmut_1": "killed", "a__mutmut_2": "timeout", "a__mutmut_3": "survived",
        "a__mutmut_4": "no tests", "a__mutmut_5": "survived"})
    assert r.survivors() == ["a__mutmut_3", "a__mutmut_4", "a__mutmut_5"]
    assert r.counts(set()) == (5, 2, 0, 0.4)
    assert r.counts({"a__mutmut_3", "a__mutmut_1"}) == (5, 2, 1, 0.5)  # a killed one is no survivor
    text = mutation.report([r], {"a__mutmut_3"}, {"a__mutmut_5"})
    assert "| harness/m.py | 5 | 2 | 1 | 50.0% | 1 | True |" in text
    assert "## a__mutmut_3 (survived, equivalent)" in text and "## a__mutmut_4 (no tests, UNEXPLAINED)" in text
    assert "## a__mutmut_5 (survived, accepted)" in text
    assert math.isnan(mutation.ModuleResult("e", "e.py", 0.0, False).counts(set())[3])
