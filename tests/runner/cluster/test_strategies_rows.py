"""Assembling a multi-process case's rows from fake processes (no TensorFlow, no real cluster)."""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path

from harness import schema
from harness.results.journal import dump_result
from harness.results.store import CaseResult
from harness.runner.cluster.outcome import ClusterOutcome, WorkerRow
from harness.runner.cluster.rows import ClusterContext, assemble
from harness.schema import frame


@dataclass
class FakePopen:
    pid: int
    returncode: int | None = None


@dataclass
class FakeProc:
    task_type: str
    index: int
    role: str
    popen: FakePopen
    log_path: Path
    result_path: Path

    @property
    def name(self) -> str:
        return f"{self.task_type}:{self.index}"


def _proc(tmp_path: Path, ttype: str, idx: int, role: str = "train", result: dict | None = None) -> FakeProc:
    res = tmp_path / f"{ttype}{idx}.json"
    if result is not None:
        dump_result(res, CaseResult(case={"case_id": "c", "repeat": 0, **result}, epochs=[{"epoch": 1}]))
    log = tmp_path / f"{ttype}{idx}.log"
    log.write_text("Traceback: worker exploded\n")
    return FakeProc(ttype, idx, role, FakePopen(1000 + idx), log, res)


def _row(**kw) -> dict:
    base = {"run_id": "r", "case_id": "c", "case_label": "l", "repeat": 0, "status": "ok", "steps": 10,
            "batch_size": 128, "train_s": 2.0, "wall_s": 5.0, "strategy": "multi_worker_mirrored",
            "step_ms_p50": 1.0, "step_ms_p90": 2.0, "samples_per_s": 640.0}
    return {**base, **kw}


def test_result_row_is_global_and_each_process_has_a_row(tmp_path):
    procs = [_proc(tmp_path, "worker", 0, result=_row()), _proc(tmp_path, "worker", 1, result=_row(train_s=2.5))]
    ctx = ClusterContext({"worker": ["a", "b"]}, "loopback", ("worker", 0), 60, 9.0)
    out = assemble(_row(status=None), procs, ClusterOutcome("result"), None, ctx)
    assert out.case["status"] == "ok" and out.case["num_workers"] == 2 and out.case["cluster"] == "loopback"
    assert out.case["overhead_s"] == 4.0
    assert out.case["energy_source"] == "unavailable" and out.case["cpu_energy_reason"]
    rows = frame("workers", out.workers)
    assert list(rows.task_index) == [0, 1]
    assert rows.samples_per_s.tolist() == [10 * 128 / 2 / 2.0, 10 * 128 / 2 / 2.5]
    frame("cases", [out.case])  # every column is declared


def test_a_dead_process_makes_the_case_crashed(tmp_path):
    dead = _proc(tmp_path, "worker", 1)
    dead.popen.returncode = -signal.SIGKILL
    procs = [_proc(tmp_path, "worker", 0), dead]
    ctx = ClusterContext({"worker": ["a", "b"]}, "loopback", ("worker", 0), 60, 9.0)
    out = assemble(_row(status=None), procs, ClusterOutcome("crashed", who=dead), None, ctx)
    assert out.case["status"] == "crashed"
    assert "worker:1" in out.case["error"] and "SIGKILL" in out.case["error"]
    assert "exploded" in out.case["stderr_tail"]
    statuses = {w["task_index"]: w["status"] for w in out.workers}
    assert statuses == {0: "crashed", 1: "crashed"}


def test_a_failing_peer_fails_the_case(tmp_path):
    procs = [_proc(tmp_path, "worker", 0, result=_row()),
             _proc(tmp_path, "worker", 1, result=_row(status="failed", error="ValueError: boom"))]
    ctx = ClusterContext({"worker": ["a", "b"]}, "loopback", ("worker", 0), 60, 9.0)
    out = assemble(_row(status=None), procs, ClusterOutcome("result"), None, ctx)
    assert out.case["status"] == "failed" and "worker:1: ValueError: boom" in out.case["error"]


def test_timeout(tmp_path):
    procs = [_proc(tmp_path, "chief", 0), _proc(tmp_path, "ps", 0, role="serve")]
    ctx = ClusterContext({"chief": ["a"], "ps": ["b"]}, "loopback", ("chief", 0), 60, 61.0)
    out = assemble(_row(status=None, wall_s=None), procs, ClusterOutcome("timeout"), None, ctx)
    assert out.case["status"] == "timeout" and "60 s" in out.case["error"]
    assert {w["status"] for w in out.workers} == {"timeout"}


def test_worker_row_declares_exactly_the_workers_columns():
    assert list(WorkerRow().to_dict()) == list(schema.WORKER_COLUMNS)
