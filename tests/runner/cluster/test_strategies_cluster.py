"""Real clusters on loopback: processes started, trained, gathered and stopped (slow: they train)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psutil
import pytest

from harness.results.store import load_run
from harness.runner.runner import RunOptions, run_suite
from harness.suite import parse_suite
from tests.helpers import ROOT

pytestmark = pytest.mark.slow

SUITE = """
[suite]
name = "cluster-test"
time_limit_s = {limit}
[defaults]
dataset = {{ name = "synthetic", n_train = 2048, n_test = 256 }}
epochs = {epochs}
batch_size = 128
steps_per_execution = 4
engine = "fast"
[matrix]
strategy = {strategies}
"""


def _cluster_processes() -> list[psutil.Process]:
    procs = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if "harness.runner.cluster.task" in cmd:
            procs.append(p)
    return procs


def _run(tmp_path: Path, strategies: str, epochs: int = 2, limit: int = 240, include: str = "",
         collectors: list[str] | None = None):
    text = SUITE.format(strategies=strategies, epochs=epochs, limit=limit) + include
    summary = run_suite(parse_suite(text), RunOptions(results_dir=tmp_path, progress=False,
                                                      collectors=collectors or []))
    return summary, load_run(summary.run_dir)


def test_mwm_and_parameter_server_clusters_train_and_leave_nothing_behind(tmp_path):
    before = {p.pid for p in _cluster_processes()}
    _, run = _run(tmp_path, '[{name = "multi_worker_mirrored", workers = 2}, '
                            '{name = "parameter_server", workers = 2, ps = 1}]',
                  collectors=["cpu_estimate", "process"])
    cases = run.cases.set_index("strategy")
    assert list(cases.status) == ["ok", "ok"], cases.error.tolist()
    mwm, ps = cases.loc["multi_worker_mirrored"], cases.loc["parameter_server"]
    assert mwm.num_workers == 2 and mwm.num_replicas == 2 and mwm.per_replica_batch_size == 64
    assert ps.num_workers == 2 and ps.cluster == "loopback"
    assert (mwm.engine_driver, ps.engine_driver) == ("graph_loop+xla_gradients", "coordinator")
    for row in (mwm, ps):
        assert row.steps == 2 * (2048 // 128) and row.samples_per_s > 0
        assert row.initial_loss > 0 and row.final_loss < row.initial_loss + 1.0
        # the supervisor's energy window is the training process's train phase (events carry their time)
        assert abs(row.energy_window_s - row.train_s) <= 0.01 * row.train_s + 0.010, (row.energy_window_s, row.train_s)
        assert row.cpu_energy_source.startswith("estimate") and row.eval_energy_j > 0
    assert {"compile", "train", "eval"} <= set(run.samples.phase)
    w = run.workers
    assert sorted(w[w.case_id == mwm.case_id].task_type) == ["worker", "worker"]
    assert sorted(w[w.case_id == ps.case_id].task_type) == ["chief", "ps", "worker", "worker"]
    per_worker = w[w.case_id == mwm.case_id].samples_per_s
    assert (per_worker > 0).all()
    assert w.pid.nunique() == 6
    # CPU time per process: trainers at their own window edges, servers read by the supervisor
    assert (w.train_cpu_s > 0).all(), w[["task_type", "train_cpu_s", "cpu_time_source"]]
    src = dict(zip(w.task_type + w.task_index.astype(str) + w.case_id, w.cpu_time_source, strict=True))
    assert src["chief0" + ps.case_id] == "process_clock" and src["ps0" + ps.case_id] == "supervisor"
    assert src["worker1" + mwm.case_id] == "process_clock"
    for row in (mwm, ps):
        mine = w[w.case_id == row.case_id]
        assert row.train_cpu_s == pytest.approx(mine.train_cpu_s.sum())
        assert row.cpu_ms_per_update == pytest.approx(row.train_cpu_s * 1000 / row.steps)
        assert row.contention_source == "proc_stat" and 0 <= row.other_cpu_share <= 1
    assert ps.cpu_time_source == "process_clock+supervisor"
    # every process was killed and reaped when its case ended; a loaded machine may take a while to let
    # them go, so wait (up to a minute) rather than look once after a fixed pause
    end = time.monotonic() + 60
    while {p.pid for p in _cluster_processes()} - before and time.monotonic() < end:
        time.sleep(0.2)
    assert {p.pid for p in _cluster_processes()} - before == set()
    assert not [c for c in psutil.Process().children(recursive=True) if "cluster_task" in " ".join(c.cmdline())]


def _kill_worker_when_training(folder_root: Path, stop: threading.Event, killed: list) -> None:
    """Kill worker 1 of the multi-worker case once its timed window has started."""
    while not stop.is_set():
        events = list(folder_root.glob("*/cluster/*/events.jsonl"))
        if events and "window_start" in events[0].read_text():
            for p in _cluster_processes():
                cmd = " ".join(p.cmdline())
                if "worker1.spec.json" in cmd:
                    p.kill()
                    killed.append(p.pid)
                    return
        time.sleep(0.05)


def test_worker_killed_mid_case_is_recorded_and_the_suite_goes_on(tmp_path):
    stop, killed = threading.Event(), []
    watcher = threading.Thread(target=_kill_worker_when_training, args=(tmp_path, stop, killed), daemon=True)
    watcher.start()
    try:
        _, run = _run(tmp_path, '[{name = "multi_worker_mirrored", workers = 2}, "default"]', epochs=200, limit=120)
    finally:
        stop.set()
    assert killed, "the worker was never killed (window never started?)"
    cases = run.cases.set_index("strategy")
    mwm = cases.loc["multi_worker_mirrored"]
    assert mwm.status in ("crashed", "failed"), mwm.error
    assert "worker:1" in mwm.error or "worker" in mwm.error
    assert cases.loc["default"].status == "ok"
    time.sleep(0.5)
    assert not [c for c in psutil.Process().children(recursive=True) if "cluster_task" in " ".join(c.cmdline())]


def test_joining_a_user_given_cluster_via_tf_config(tmp_path, monkeypatch):
    """Two harness runs, each told its task by TF_CONFIG, train one multi-worker case together."""
    import json
    import os
    import subprocess
    import sys

    from harness.runner.cluster.supervise import free_ports

    ports = free_ports(2)
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    text = SUITE.format(strategies='["multi_worker_mirrored"]', epochs=1, limit=180)
    suite_file = tmp_path / "ext.toml"
    suite_file.write_text(text.replace("[suite]", "[suite]\ncollectors = []"))
    env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}})}
    other = subprocess.Popen([sys.executable, "-m", "harness", "run", str(suite_file), "--results-dir",
                              str(tmp_path / "w1"), "--no-progress"], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
        summary = run_suite(parse_suite(suite_file.read_text()),
                            RunOptions(results_dir=tmp_path / "w0", progress=False, collectors=[]))
        assert other.wait(120) == 0
    finally:
        other.kill()
    mine = load_run(summary.run_dir).cases.iloc[0]
    theirs = load_run(next((tmp_path / "w1").iterdir())).cases.iloc[0]
    for row in (mine, theirs):
        assert row.status == "ok" and row.cluster == "external"
        assert row.num_workers == 2 and row.num_replicas == 2
    assert mine.test_loss == pytest.approx(theirs.test_loss, abs=1e-6)  # one model, trained together
