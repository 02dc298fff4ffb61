"""The CLI in-process (click's CliRunner style): run, show, list, exit codes."""

from __future__ import annotations

import json

import pytest

from harness.cli import main
from harness.results import load_run
from tests.helpers.suites import tiny_suite_text

TINY = tiny_suite_text("tiny", """
[matrix]
optimizer = ["adam", "minibatch_sgd"]
[[include]]
optimizer = "adam"
device = "gpu"
[[include]]
optimizer = "adam"
precision = "mixed_float16"
""", epochs=2, batch_size=64)


def test_list_json(capsys):
    assert main(["list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"optimizers", "schedules", "engines", "datasets", "suites", "collectors"} <= set(data)
    assert "adam" in data["optimizers"] and "quick" in data["suites"]


def test_dry_run_lists_cases(capsys, tmp_path):
    (tmp_path / "s.toml").write_text(TINY)
    assert main(["run", str(tmp_path / "s.toml"), "--dry-run", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert "4 case(s), 8 run(s)" in out


def test_bad_suite_exits_2_and_writes_nothing(capsys, tmp_path):
    (tmp_path / "s.toml").write_text(TINY.replace('"minibatch_sgd"', '"adma"'))
    assert main(["run", str(tmp_path / "s.toml"), "--results-dir", str(tmp_path / "res")]) == 2
    err = capsys.readouterr().err
    assert "s.toml: matrix.optimizer[1]: unknown optimizer 'adma'" in err
    assert not (tmp_path / "res").exists()


@pytest.mark.slow  # the preflight runs in a worker process
def test_preflight_rejects_bad_optimizer_parameter_before_running(capsys, tmp_path):
    (tmp_path / "s.toml").write_text(TINY.replace('"minibatch_sgd"', '{ name = "adam", bogus = 1 }'))
    assert main(["run", str(tmp_path / "s.toml"), "--results-dir", str(tmp_path / "res"), "--no-progress"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert not any((tmp_path / "res").glob("*/run.json")) if (tmp_path / "res").exists() else True


@pytest.mark.slow
def test_run_end_to_end(capsys, tmp_path):
    (tmp_path / "s.toml").write_text(TINY)
    assert main(["run", str(tmp_path / "s.toml"), "--results-dir", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "results:" in out and "2 ok" in out and "2 skipped" in out
    run_dir = next(p for p in tmp_path.iterdir() if p.name.endswith(tuple("0123456789abcdef")) and p.is_dir()
                   and (p / "run.json").exists())
    run = load_run(run_dir)
    assert run.meta.status == "complete" and run.meta.suite.name == "tiny"
    assert run.meta.machine.cpu_count_logical >= 1 and run.meta.software["tensorflow"]
    ok = run.cases[run.cases.status == "ok"]
    assert len(ok) == 2 and (ok.samples_per_s > 0).all() and (ok.test_accuracy > 0).all()
    assert (ok.dataset_train_size == 512).all() and ok.dataset_hash.notna().all()
    skipped = run.cases[run.cases.status == "skipped"].set_index("device")
    assert "no GPU" in skipped.loc["gpu", "error"]
    assert "mixed_float16" in run.cases.set_index("precision").loc["mixed_float16", "error"]
    assert len(run.epochs) == 4 and run.epochs.learning_rate_in_force.notna().all()
    # collectors = []: energy is NaN with a reason, never 0
    assert ok.cpu_energy_j.isna().all() and (ok.cpu_energy_source == "unavailable").all()
    # one worker served every CPU case (TensorFlow imported once); the GPU case needed its own
    cpu = run.cases[run.cases.device == "cpu"]
    assert cpu.worker_pid.nunique() == 1 and sorted(cpu.worker_case_index.tolist()) == [0, 1, 2]
    assert main(["show", str(run_dir)]) == 0
    shown = capsys.readouterr().out
    assert "adam" in shown and "no GPU" in shown
