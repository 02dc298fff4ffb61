"""kill -9 mid-suite then --resume; Ctrl-C mid-case; two runs into one folder at once. Real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pandas as pd
import pytest

from harness.results.store import TABLE_FILES, load_run, read_part, read_run_json, read_table
from tests.helpers.cli import (
    ROOT,
    assert_all_gone,
    cli_env,
    descendants,
    harness_cmd,
    parts,
    pid_gone,
    run_cli,
    run_dirs,
    start_cli,
    tiny_suite,
    wait_for,
)

THREE = """
[matrix]
optimizer = ["adam", "minibatch_sgd", "rmsprop"]
"""


@pytest.mark.slow
def test_sigkill_mid_suite_then_resume(tmp_path):
    suite = tiny_suite(tmp_path, THREE, "killed")
    results = tmp_path / "results"
    proc = start_cli("run", str(suite), "--results-dir", str(results), "--repeats", "2")
    wait_for(lambda: parts(results), 240, "the first finished case", proc)
    children = descendants(proc.pid)
    assert children, "the runner should have a worker process"
    proc.kill()  # SIGKILL: no handler runs
    proc.wait(30)
    assert_all_gone(children)  # workers die with their parent (PR_SET_PDEATHSIG + watchdog)

    (run_dir,) = run_dirs(results)
    assert read_run_json(run_dir).status == "running"
    killed_parts = {p.name for p in parts(results)}
    assert 1 <= len(killed_parts) < 6

    again = run_cli("run", "--resume", str(run_dir), "--no-progress")
    assert again.returncode == 0, again.stderr
    run = load_run(run_dir)
    assert run.meta.status == "complete" and len(run.meta.resumed_utc) == 1
    assert len(run.cases) == 6 and (run.cases.status == "ok").all()
    assert not run.cases.duplicated(["case_id", "repeat"]).any()
    assert sorted(run.cases.groupby("optimizer").size().tolist()) == [2, 2, 2]
    # the cases finished before the kill were not run again
    assert killed_parts <= {p.name for p in parts(results)}
    # every file reads back on its own, no temporary file is left
    for name, fname in TABLE_FILES.items():
        if (run_dir / fname).exists():
            read_table(run_dir / fname, name)
    assert len(run.epochs) == 6
    for p in parts(results):
        read_part(p)
    json.loads((run_dir / "run.json").read_text())
    assert not list(run_dir.rglob("*.tmp"))


HANG = """
[matrix]
optimizer = ["adam", "reliability_optimizers:Hangs", "minibatch_sgd"]
time_limit_s = [300]
"""


@pytest.mark.slow
def test_ctrl_c_mid_case(tmp_path, monkeypatch):
    pidfile = tmp_path / "grandchildren.txt"
    monkeypatch.setenv("HARNESS_TEST_PIDFILE", str(pidfile))
    suite = tiny_suite(tmp_path, HANG, "ctrlc")
    results = tmp_path / "results"
    # its own session, so that signalling its process group is what a terminal's Ctrl-C does
    proc = subprocess.Popen(harness_cmd("run", str(suite), "--results-dir", str(results), "--no-progress"),
                            cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), 240, "the hanging case to start", proc)
    children = descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    (run_dir,) = run_dirs(results)
    assert f"harness run --resume {run_dir}" in err
    assert "Traceback" not in err
    assert_all_gone(children)
    grandchild = int(pidfile.read_text().split()[0])
    assert pid_gone(grandchild)
    run = load_run(run_dir)
    assert run.meta.status == "interrupted"
    assert run.cases.optimizer.tolist() == ["adam"] and run.cases.status.tolist() == ["ok"]
    assert len(read_table(run_dir / "cases.parquet", "cases")) == 1


TWO = """
[matrix]
optimizer = ["adam", "minibatch_sgd"]
"""


@pytest.mark.slow
def test_two_concurrent_runs_into_one_folder(tmp_path):
    results = tmp_path / "results"
    suites = [tiny_suite(tmp_path, TWO, f"concurrent{i}") for i in (1, 2)]
    procs = [start_cli("run", str(s), "--results-dir", str(results)) for s in suites]
    for p in procs:
        out, err = p.communicate(timeout=400)
        assert p.returncode == 0, err
    dirs = run_dirs(results)
    assert len(dirs) == 2
    runs = [load_run(d) for d in dirs]
    assert {r.meta.suite.name for r in runs} == {"concurrent1", "concurrent2"}
    for r in runs:
        assert r.meta.status == "complete"
        assert len(r.cases) == 2 and (r.cases.status == "ok").all()
        assert (r.cases.run_id == r.run_id).all()
    from harness.results.store import load_history

    hist = load_history(results, skip_bad=False)
    assert len(hist["cases"]) == 4 and isinstance(hist["cases"], pd.DataFrame)
