"""One owner per rule: case statuses, measured-versus-estimated energy, worker defaults."""

from __future__ import annotations

import re
from pathlib import Path

from harness import schema
from harness.cli import build_parser
from harness.runner.parent.options import RunOptions
from harness.runner.parent.pool import RecyclePolicy

HARNESS = Path(__file__).resolve().parents[2] / "harness"
SPELLED = re.compile(r"""["']ok["'],\s*["']diverged["']|["']diverged["'],\s*["']failed["']""")


def test_statuses_are_spelled_out_only_in_the_schema():
    found = [f"{p.relative_to(HARNESS)}:{n}" for p in HARNESS.rglob("*.py") if p.name != "schema.py"
             for n, line in enumerate(p.read_text().splitlines(), 1) if SPELLED.search(line)]
    assert found == []
    assert set(schema.TRAINED) <= set(schema.STATUSES) and set(schema.FAILING) <= set(schema.STATUSES)


def test_the_energy_source_rule():
    assert [schema.source_kind(s) for s in ("rapl", "nvml_counter", "nvml_power", "estimate_tdp",
                                            "estimate_generic", "unavailable")] == [
        "measured", "measured", "measured", "estimated", "estimated", "not available"]
    assert schema.is_estimated("mixed") and schema.is_estimated("estimated") and not schema.is_estimated("measured")
    assert not schema.is_estimated(None) and not schema.is_estimated(float("nan"))


def test_worker_defaults_have_one_owner():
    opts, policy = RunOptions(), RecyclePolicy()
    args = build_parser().parse_args(["run", "quick"])
    assert (args.worker_max_cases, args.worker_max_rss_mib, args.worker_mode) == (
        opts.worker_max_cases, opts.worker_max_rss_mib, opts.worker_mode)
    assert (policy.max_cases, policy.max_rss_bytes / 2**20, policy.mode) == (
        opts.worker_max_cases, opts.worker_max_rss_mib, opts.worker_mode)
