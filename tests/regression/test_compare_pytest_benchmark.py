"""pytest-benchmark both ways: the plugin (autosave, compare-fail) and export/import of the JSON."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import EXIT_OK, EXIT_REGRESSION
from tests.helpers import ROOT

FAKE_RUNNER = '''
import os, time

def run_case(case, repeat):
    """Stands in for harness.runner.api.run_case: sleeps 20 ms (x 1 + HARNESS_TEST_SLOWDOWN)."""
    t0 = time.perf_counter()
    time.sleep(0.02 * (1.0 + float(os.environ.get("HARNESS_TEST_SLOWDOWN", "0"))))
    train_s = time.perf_counter() - t0
    return {"case_id": case["case_id"], "case_label": case["label"], "repeat": repeat,
            "optimizer": case["optimizer"], "engine": "fast", "dataset": "synthetic",
            "batch_size": 128, "epochs": 1, "status": "ok", "train_s": train_s,
            "samples_per_s": 1000 / train_s, "step_ms_p50": 1000 * train_s / 8,
            "test_accuracy": 0.9}
'''

TINY_BENCH = '''
import pytest

CASES = [{"case_id": "c0", "label": "sgd", "optimizer": "sgd", "repeats": 7},
         {"case_id": "c1", "label": "adam", "optimizer": "adam", "repeats": 7}]

@pytest.mark.parametrize("harness_case", CASES, ids=[c["label"] for c in CASES])
def test_tiny(harness_benchmark):
    rows = harness_benchmark()
    assert len(rows) == 7 and all(r["status"] == "ok" for r in rows)
'''


def _pytest(tmp: Path, *args: str, slowdown: float = 0.0) -> subprocess.CompletedProcess:
    env = {**os.environ, "HARNESS_TEST_SLOWDOWN": str(slowdown),
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp)])}  # fmt: skip
    cmd = [sys.executable, "-m", "pytest", "-p", "harness.pytest_plugin", "test_tiny.py", "-q",
           "-p", "no:cacheprovider", "--harness-runner", "fake_runner:run_case",
           f"--benchmark-storage=file://{tmp / 'store'}", *args]  # fmt: skip
    return subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # runs the suite's cases in another pytest process
def test_plugin_autosave_then_compare_fail_on_planted_slowdown(tmp_path):
    (tmp_path / "fake_runner.py").write_text(FAKE_RUNNER)
    (tmp_path / "test_tiny.py").write_text(TINY_BENCH)
    first = _pytest(tmp_path, "--benchmark-autosave")
    assert first.returncode == 0, first.stdout + first.stderr
    saved = sorted((tmp_path / "store").glob("*/0001_*.json"))
    assert len(saved) == 1
    doc = json.loads(saved[0].read_text())
    bench = {b["param"]: b for b in doc["benchmarks"]}["sgd"]
    assert bench["stats"]["rounds"] == 7
    extra = bench["extra_info"]
    assert extra["status"] == "ok" and extra["timing"] == "train_s" and extra["examples_per_s"] > 0
    train = extra["harness"]["repeats"]["train_s"]
    # the round times pytest-benchmark recorded are the harness's train_s
    assert bench["stats"]["min"] == pytest.approx(min(train)) and bench["stats"]["max"] == pytest.approx(max(train))

    second = _pytest(tmp_path, "--benchmark-autosave", "--benchmark-compare",
                     "--benchmark-compare-fail=mean:5%", slowdown=0.5)  # fmt: skip
    assert second.returncode != 0
    assert "Performance has regressed" in second.stdout + second.stderr

    # the same two files, through the harness's statistical compare
    files = sorted((tmp_path / "store").glob("*/000*_*.json"))
    assert len(files) == 2
    assert main(["compare", str(files[0]), str(files[1]), "--metric", "train_s"]) == EXIT_REGRESSION


@pytest.mark.slow  # runs the suite's cases in another pytest process
def test_plugin_without_suite_skips(tmp_path):
    (tmp_path / "test_tiny.py").write_text("def test_x(harness_benchmark):\n    harness_benchmark()\n")
    res = _pytest(tmp_path, "-rs")
    assert res.returncode == 0 and "no --harness-suite given" in res.stdout


def test_export_roundtrip_and_pytest_benchmark_reads_it(make_run, tmp_path, capsys):
    a, b = make_run("a", seed=1, energy=True), make_run("b", seed=2, slowdown=1.15, energy=True)
    fa, fb = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["export", str(a), "--pytest-benchmark", str(fa)]) == EXIT_OK
    assert main(["export", str(b), "--pytest-benchmark", str(fb)]) == EXIT_OK
    doc = json.loads(fa.read_text())
    assert {"machine_info", "commit_info", "benchmarks", "datetime", "version"} <= set(doc)
    bench = doc["benchmarks"][0]
    assert bench["stats"]["rounds"] == 10 and len(bench["stats"]["data"]) == 10
    assert bench["extra_info"]["energy_per_sample_j"] > 0 and bench["extra_info"]["test_accuracy"] == 0.8
    assert doc["machine_info"]["cpu"]["brand_raw"] == "Test CPU 9000"
    # harness compare reads the format back: same verdicts as on the run folders
    assert main(["compare", str(fa), str(fb)]) == EXIT_REGRESSION
    assert main(["compare", str(a), str(fa)]) == EXIT_OK  # a run against its own export
    assert "no change" in capsys.readouterr().out
    # pytest-benchmark's own command line loads and tabulates the exported file
    res = subprocess.run([sys.executable, "-m", "pytest_benchmark", "compare", str(fa), str(fb)],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "ci[sgd/constant]" in res.stdout


def test_foreign_pytest_benchmark_without_data_is_inconclusive(tmp_path):
    doc = {"machine_info": {"cpu": {"brand_raw": "X"}}, "commit_info": {}, "version": "5.2.3",
           "benchmarks": [{"name": "test_a", "fullname": "t.py::test_a", "extra_info": {},
                           "stats": {"median": 0.01, "mean": 0.01, "rounds": 20}}]}  # fmt: skip
    f1, f2, js = tmp_path / "1.json", tmp_path / "2.json", tmp_path / "c.json"
    f1.write_text(json.dumps(doc))
    doc["benchmarks"][0]["stats"]["median"] = 0.02
    f2.write_text(json.dumps(doc))
    assert main(["compare", str(f1), str(f2), "--json", str(js), "--fail-on-inconclusive"]) == 5  # cannot decide
    row = json.loads(js.read_text())["rows"][0]
    assert row["metric"] == "round_s" and "too few repeats" in row["reason"]
    # with --benchmark-save-data the rounds are there and are tested
    doc["benchmarks"][0]["stats"]["data"] = [0.02 + 1e-4 * i for i in range(10)]
    f2.write_text(json.dumps(doc))
    doc["benchmarks"][0]["stats"]["data"] = [0.01 + 1e-4 * i for i in range(10)]
    f1.write_text(json.dumps(doc))
    assert main(["compare", str(f1), str(f2)]) == EXIT_REGRESSION


REAL_RUNNER = '''
from harness.runner.worker.execute import WorkerState, execute

_STATE = WorkerState(run_id="pytest")


def run_case(case, repeat):
    return execute(case, repeat, _STATE).case
'''


@pytest.mark.slow
def test_plugin_runs_a_real_suite(tmp_path):
    """--harness-suite with the real suite parser and training (in-process runner)."""
    (tmp_path / "real_runner.py").write_text(REAL_RUNNER)
    suite = (ROOT / "suites" / "ci.toml").read_text().replace("epochs = 20", "epochs = 2")
    (tmp_path / "mini.toml").write_text(suite.replace('"adam", ', ""))
    shutil.copyfile(ROOT / "benchmarks" / "test_harness_suite.py", tmp_path / "test_tiny.py")
    res = _pytest(tmp_path, "--harness-suite", str(tmp_path / "mini.toml"), "--harness-repeats", "3",
                  "--harness-runner", "real_runner:run_case", "--benchmark-json", "out.json")  # fmt: skip
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (bench,) = json.loads((tmp_path / "out.json").read_text())["benchmarks"]
    assert bench["param"] == "sgd-0.05" and bench["stats"]["rounds"] == 3
    assert bench["extra_info"]["status"] == "ok" and bench["extra_info"]["examples_per_s"] > 1000
    assert 0.0 < bench["stats"]["mean"] < 5.0  # train_s of 2 epochs, not the whole call
