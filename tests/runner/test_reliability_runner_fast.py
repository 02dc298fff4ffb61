"""Runner bookkeeping without TensorFlow: a fake worker pool stands in for worker processes."""

from __future__ import annotations

import errno
import math
import os

import pytest

from harness.errors import EXIT_INTERRUPTED, EXIT_RESULTS, HarnessError, ResultsError, SuiteError
from harness.results import store
from harness.run_meta import WorkerPolicy
from harness.runner import runner
from harness.runner.case_row import CaseRow
from harness.runner.parent.pool import Outcome
from harness.suite import parse_suite
from tests.helpers.suites import tiny_suite_text

SUITE = tiny_suite_text("fake", """
[matrix]
optimizer = ["adam", "minibatch_sgd", "rmsprop"]
""", repeats=2)


class FakeWorker:
    def __init__(self, pool: FakePool, key) -> None:
        self.pool, self.device, self.info = pool, key, {"fake": True}
        self.proc = self
        self.pid = 0

    def is_alive(self) -> bool:
        return True

    def request(self, msg, timeout_s):
        self.pool.requests.append(msg[0])
        if msg[0] == "preflight":
            return Outcome("result", self.pool.problems)
        if msg[0] == "setup":
            return Outcome("result", None)
        if msg[0] == "peak_probe":  # the run's matmul probe, once per device (harness.runner.parent.peak_probe)
            return Outcome("result", {"flops_per_s": 1e9, "shape": [1024, 1024, 1024], "dtype": "float32",
                                      "source": "fake worker"})
        _, case, repeat = msg
        self.pool.ran.append((case.case_id, repeat))
        if self.pool.on_run:
            self.pool.on_run(len(self.pool.ran))
        row = CaseRow.for_case(case, repeat, self.pool.run_id)
        row.set("outcome", status="ok", wall_s=0.01).set("training", samples_per_s=1000.0, train_s=0.5)
        return Outcome("result", store.CaseResult(case=row))

    def stderr_tail(self, n_bytes=4000) -> str:
        return ""

    def stop(self, kill=False) -> None:
        pass


class FakePool:
    problems: list = []
    on_run = None

    def __init__(self, log_dir, run_id, cfg, policy=None) -> None:
        self.log_dir, self.run_id, self.cfg, self.policy = log_dir, run_id, cfg, policy
        self.info: dict = {}
        self.done: list = []
        self.requests: list[str] = []
        self.ran: list = []
        FakePool.last = self

    def retarget(self, log_dir, run_id, cfg) -> None:
        self.log_dir, self.run_id, self.cfg = log_dir, run_id, cfg

    def get(self, key):
        return FakeWorker(self, key)

    def discard(self, worker) -> None:
        pass

    def case_done(self, row) -> None:
        self.done.append(row)

    def describe(self) -> WorkerPolicy:
        return WorkerPolicy(max_cases=self.policy.max_cases, extra={"cases_done": len(self.done)})

    def close(self, kill=False) -> None:
        pass


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(runner, "WorkerPool", FakePool)
    monkeypatch.setattr(FakePool, "problems", [])
    monkeypatch.setattr(FakePool, "on_run", None)
    return FakePool


def opts(tmp_path, **kw):
    return runner.RunOptions(results_dir=tmp_path / "results", progress=False, **kw)


def test_complete_run_writes_every_table(tmp_path, fake):
    summary = runner.run_suite(parse_suite(SUITE, "fake.toml"), opts(tmp_path))
    run = store.load_run(summary.run_dir)
    assert summary.counts == {"ok": 6} and run.meta.status == "complete"
    assert len(run.cases) == 6 and store.count_parts(summary.run_dir) == 6
    assert not run.cases.duplicated(["case_id", "repeat"]).any()


def test_validation_failure_writes_nothing(tmp_path, fake):
    fake.problems = [("adam", "optimizer", "cannot import module 'nope'")]
    with pytest.raises(SuiteError, match="cannot import module 'nope'") as info:
        runner.run_suite(parse_suite(SUITE, "fake.toml"), opts(tmp_path))
    assert info.value.exit_code == 2
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


def test_disk_full_mid_run_is_a_clear_error_and_keeps_earlier_results(tmp_path, fake, monkeypatch):
    real = store.write_part
    calls = []

    def write_part(run_dir, result):
        calls.append(result.key)
        if len(calls) == 3:  # the disk fills up while journaling the third case
            raise ResultsError(f"{run_dir}/parts/x.json: could not write: No space left on device")
        return real(run_dir, result)

    monkeypatch.setattr(store, "write_part", write_part)
    with pytest.raises(ResultsError) as info:
        runner.run_suite(parse_suite(SUITE, "fake.toml"), opts(tmp_path))
    assert info.value.exit_code == EXIT_RESULTS == 4
    msg = str(info.value)
    assert "No space left on device" in msg and "harness run --resume" in msg
    (run_dir,) = store.find_runs(tmp_path / "results")
    run = store.load_run(run_dir)
    assert run.meta.status == "failed" and len(run.cases) == 2


def test_enospc_from_the_os_becomes_results_error_naming_the_file(tmp_path, monkeypatch):
    target = tmp_path / "cases.parquet"
    store.write_table(target, "cases", store.schema.frame("cases", [{"case_id": "a", "repeat": 0}]))

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ResultsError, match=r"cases\.parquet: could not write: No space left on device"):
        store.write_table(target, "cases", store.schema.frame("cases", []))
    monkeypatch.undo()
    assert len(store.read_table(target, "cases")) == 1  # the earlier file is intact
    assert not list(tmp_path.glob(".*.tmp"))  # and no temporary file is left behind


def test_interrupt_keeps_finished_cases_and_says_how_to_resume(tmp_path, fake):
    def stop_at(n):
        if n == 4:
            raise KeyboardInterrupt

    fake.on_run = staticmethod(stop_at)
    with pytest.raises(runner.Interrupted) as info:
        runner.run_suite(parse_suite(SUITE, "fake.toml"), opts(tmp_path))
    assert info.value.exit_code == EXIT_INTERRUPTED == 130
    (run_dir,) = store.find_runs(tmp_path / "results")
    assert f"harness run --resume {run_dir}" in str(info.value)
    run = store.load_run(run_dir)
    assert run.meta.status == "interrupted" and len(run.cases) == 3
    assert len(store.read_table(run_dir / "cases.parquet")) == 3  # tables rebuilt from the journal

    fake.on_run = None
    summary = runner.run_suite(None, runner.RunOptions(resume=run_dir, progress=False))
    assert len(FakePool.last.ran) == 3  # only the unfinished ones ran
    run = store.load_run(run_dir)
    assert run.meta.status == "complete" and len(run.meta.resumed_utc) == 1
    assert len(run.cases) == 6 and not run.cases.duplicated(["case_id", "repeat"]).any()
    assert summary.counts == {"ok": 6}


def test_interrupt_before_the_run_folder_writes_nothing(tmp_path, fake, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_preflight", interrupted)
    with pytest.raises(runner.Interrupted, match="nothing was written"):
        runner.run_suite(parse_suite(SUITE, "fake.toml"), opts(tmp_path))
    assert not (tmp_path / "results").exists()


def test_a_run_being_written_cannot_be_resumed_twice(tmp_path, fake):
    summary = runner.run_suite(parse_suite(SUITE, "fake.toml"), opts(tmp_path))
    held = store.lock_run(summary.run_dir)
    try:
        with pytest.raises(HarnessError, match=f"pid {os.getpid()}"):
            runner.run_suite(None, runner.RunOptions(resume=summary.run_dir, progress=False))
    finally:
        held.release()


def test_resume_cleans_stale_temp_files_and_skips_damaged_parts(tmp_path, fake, caplog):
    summary = runner.run_suite(parse_suite(SUITE, "fake.toml"), opts(tmp_path))
    run_dir = summary.run_dir
    (run_dir / ".cases.parquet.abc.tmp").write_bytes(b"half")
    victim = sorted((run_dir / "parts").glob("*.json"))[0]
    victim.write_bytes(victim.read_bytes()[:40])  # truncated: that case must run again
    runner.run_suite(None, runner.RunOptions(resume=run_dir, progress=False))
    assert FakePool.last.ran == [tuple(victim.stem.rsplit("-", 1)[:1]) + (int(victim.stem.rsplit("-", 1)[1]),)]
    assert "truncated or invalid case part" in caplog.text
    assert not list(run_dir.glob(".*.tmp"))
    assert len(store.load_run(run_dir).cases) == 6


def test_journal_round_trip_keeps_nan_and_types(tmp_path):
    row = {"case_id": "abc", "repeat": 1, "status": "ok", "samples_per_s": math.nan, "steps": 3,
           "train_s": 0.25, "error": None}
    store.write_part(tmp_path, store.CaseResult(case=row, epochs=[{"case_id": "abc", "repeat": 1, "epoch": 1}]))
    (back,) = store.load_parts(tmp_path)
    assert back.key == "abc-1" and math.isnan(back.case["samples_per_s"]) and back.case["steps"] == 3
    assert back.epochs == [{"case_id": "abc", "repeat": 1, "epoch": 1}]
