"""Crash isolation with real worker processes: segfault, os._exit, SIGKILL, exception, hang."""

from __future__ import annotations

import pytest

from harness.results.store import load_run, read_table
from tests.helpers.cli import pid_gone, run_cli, run_dirs, tiny_suite

SUITE = """
[matrix]
optimizer = ["adam", "reliability_optimizers:Raises", "reliability_optimizers:Segfault",
             "reliability_optimizers:Exit3", "reliability_optimizers:OomKilled", "minibatch_sgd"]

[[include]]
optimizer = "reliability_optimizers:Hangs"
time_limit_s = 4

[[include]]
optimizer = "rmsprop"
"""


@pytest.mark.slow
def test_misbehaving_cases_are_isolated(tmp_path, monkeypatch):
    pidfile = tmp_path / "grandchildren.txt"
    monkeypatch.setenv("HARNESS_TEST_PIDFILE", str(pidfile))
    suite = tiny_suite(tmp_path, SUITE, "isolation")
    results = tmp_path / "results"
    proc = run_cli("run", str(suite), "--results-dir", str(results), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = run_dirs(results)
    run = load_run(run_dir)
    assert run.meta.status == "complete"
    by = {row.optimizer: row for row in run.cases.itertuples()}
    assert len(run.cases) == 8 and set(by) == {
        "adam", "minibatch_sgd", "rmsprop", "reliability_optimizers:Raises", "reliability_optimizers:Segfault",
        "reliability_optimizers:Exit3", "reliability_optimizers:OomKilled", "reliability_optimizers:Hangs"}

    for name in ("adam", "minibatch_sgd", "rmsprop"):  # normal cases around the bad ones: intact
        row = by[name]
        assert row.status == "ok", row.error
        assert row.samples_per_s > 0 and 0 <= row.test_accuracy <= 1 and row.steps > 0
        assert len(run.epochs[run.epochs.case_id == row.case_id]) == 1

    raised = by["reliability_optimizers:Raises"]
    assert raised.status == "failed" and "raised on purpose" in raised.error
    segv = by["reliability_optimizers:Segfault"]
    assert segv.status == "crashed" and segv.exit_signal == "SIGSEGV" and "SIGSEGV" in segv.error
    assert "Segmentation fault" in segv.stderr_tail  # faulthandler's report from the worker's stderr
    exit3 = by["reliability_optimizers:Exit3"]
    assert exit3.status == "crashed" and exit3.exit_code == 3 and "code 3" in exit3.error
    oom = by["reliability_optimizers:OomKilled"]
    assert oom.status == "crashed" and oom.exit_signal == "SIGKILL" and "out of memory" in oom.error
    hang = by["reliability_optimizers:Hangs"]
    assert hang.status == "timeout" and "time limit of 4 s" in hang.error
    assert 4 <= hang.wall_s < 30

    # the hanging case's own child process died with its worker's process group
    grandchildren = [int(x) for x in pidfile.read_text().split()]
    assert grandchildren
    for pid in grandchildren:
        assert pid_gone(pid)
    # and the parquet files read back on their own
    assert len(read_table(run_dir / "cases.parquet", "cases")) == 8
