"""`harness prune --keep N`: per suite and machine, never another suite's runs; --dry-run removes nothing."""

from __future__ import annotations

from harness.cli import main
from harness.errors import EXIT_BAD_INPUT, EXIT_OK


def _store(make_run, tmp_path):
    root = tmp_path / "mixed"
    runs = [("quick", "box-a", 1), ("quick", "box-a", 2), ("quick", "box-b", 3), ("profile", "box-a", 9)]
    for i, (suite, host, day) in enumerate(runs):
        meta = {"git": {"commit": f"{i:040x}", "commit_utc": f"2026-01-0{day}T00:00:00+00:00"},
                "suite": {"name": suite, "text": "[suite]\n"}, "machine": {"host": host, "cpu_model": "X"}}  # fmt: skip
        make_run(f"run-{i}", parent=root, meta=meta, repeats=1, optimizers=("sgd",))
    return root


def test_keep_1_keeps_each_suites_and_machines_newest(make_run, tmp_path, capsys):
    root = _store(make_run, tmp_path)
    assert main(["prune", str(root), "--keep", "1", "--dry-run"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "suite quick on box-a: would remove 1 run(s), kept the newest 1" in out and f"would remove {root / 'run-0'}" in out
    assert "suite profile on box-a: would remove 0 run(s)" in out and "suite quick on box-b: would remove 0" in out
    assert sorted(p.name for p in root.iterdir()) == ["run-0", "run-1", "run-2", "run-3"]  # dry run: nothing gone
    assert main(["prune", str(root), "--keep", "1"]) == EXIT_OK
    assert "pruned 1 run(s)" in capsys.readouterr().out
    assert sorted(p.name for p in root.iterdir()) == ["run-1", "run-2", "run-3"]  # the profile run pushed nothing out
    assert main(["prune", str(root), "--keep", "0"]) == EXIT_BAD_INPUT
