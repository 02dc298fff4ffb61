"""`harness tune`: bad input exits 2 before anything runs; end to end (slow): one run folder with
trials and final seeds, the selection in run.json, an A/A pair tied, the report section."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harness.cli import main
from harness.results import load_run

TINY = """
[suite]
name = "tiny-tune"
collectors = []
[defaults]
dataset = {{ name = "synthetic", n_train = 512, n_test = 128 }}
epochs = 1
batch_size = 64
target_accuracy = 0.2
[matrix]
optimizer = [{{ name = "adam", label = "A" }}, {{ name = "adam", label = "A2" }}]
[tuning]
trials = [1, 2]
final_seeds = {seeds}
[tuning.space]
learning_rate = {{ log_uniform = [1e-3, 1e-2] }}
"""


def test_tune_refuses_a_suite_without_tuning(capsys, tmp_path):
    (tmp_path / "s.toml").write_text('[defaults]\nepochs = 1\n')
    assert main(["tune", str(tmp_path / "s.toml"), "--results-dir", str(tmp_path / "r"), "--dry-run"]) == 2
    assert "[tuning]" in capsys.readouterr().err


def test_tune_dry_run_lists_the_trials(capsys, tmp_path):
    (tmp_path / "s.toml").write_text(TINY.format(seeds=2))
    assert main(["tune", str(tmp_path / "s.toml"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "A/trial 0" in out and "A2/trial 1" in out and "4 case(s)" in out
    # 2 configurations (A, A2) x 2 final seeds, up to one winner per budget of [1, 2]: 4 to 8
    assert "then the final stage: 2 final seed(s) of each winner, 4 to 8 case run(s)" in out


def test_finalize_refuses_a_run_without_trials(capsys, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"schema_version": 2, "suite": {"text": TINY.format(seeds=2)}}))
    assert main(["tune", "--finalize", str(run), "--results-dir", str(tmp_path / "r")]) == 2
    assert "no trials" in capsys.readouterr().err


@pytest.mark.slow
def test_tune_end_to_end_one_folder_selection_recorded_aa_tied(capsys, tmp_path):
    (tmp_path / "s.toml").write_text(TINY.format(seeds=2))
    assert main(["tune", str(tmp_path / "s.toml"), "--results-dir", str(tmp_path / "r"), "--no-progress"]) == 0
    run_dir = next(p for p in (tmp_path / "r").iterdir() if (p / "run.json").exists())
    run = load_run(run_dir)
    stages = run.cases["stage"].value_counts().to_dict()
    assert stages["trial"] == 4 and stages["final"] >= 4  # 2 seeds of each distinct winner
    assert run.cases["validation_accuracy"].notna().all() and (run.cases["target_basis"] == "validation").all()
    assert run.epochs["validation_accuracy"].notna().all()
    record = run.meta.tuning
    assert record.select_on == "validation_accuracy" and record.budgets == [1, 2] and "validation" in record.rules
    assert {(s["optimizer"], s["budget"]) for s in record.selections} == {("A", 1), ("A", 2), ("A2", 1), ("A2", 2)}
    # A and A2 are the same optimizer with the same trials: the same winner, and tied
    win = {(s["optimizer"], s["budget"]): s["trial"] for s in record.selections}
    assert win[("A", 2)] == win[("A2", 2)]
    assert main(["report", str(run_dir), "--format", "csv", "--out", str(tmp_path / "csv")]) == 0
    tuned = (tmp_path / "csv" / "tuned.csv").read_text()
    assert "tied with A2" in tuned and "better" not in tuned


def test_xla_cache_is_shared_through_the_environment_and_restored(monkeypatch):
    from harness.runner.tune import XLA_CACHE_FLAG, xla_cache

    monkeypatch.setenv("TF_XLA_FLAGS", "--tf_xla_auto_jit=0")
    with xla_cache() as folder:
        import os

        assert folder.is_dir() and f"{XLA_CACHE_FLAG}={folder}" in os.environ["TF_XLA_FLAGS"]
        assert os.environ["TF_XLA_FLAGS"].startswith("--tf_xla_auto_jit=0 ")
    assert os.environ["TF_XLA_FLAGS"] == "--tf_xla_auto_jit=0" and not folder.exists()
    with xla_cache(enabled=False) as none:
        assert none is None and XLA_CACHE_FLAG not in os.environ["TF_XLA_FLAGS"]


@pytest.mark.slow
def test_stage_trials_then_finalize_gives_one_folder_with_both_stages(tmp_path):
    (tmp_path / "s.toml").write_text(TINY.format(seeds=1).replace('trials = [1, 2]', 'trials = 1'))
    assert main(["tune", str(tmp_path / "s.toml"), "--stage", "trials", "--results-dir", str(tmp_path / "t"),
                 "--no-progress"]) == 0
    trials_dir = next(p for p in (tmp_path / "t").iterdir() if (p / "run.json").exists())
    assert load_run(trials_dir).meta.tuning is None  # trials only: nothing selected yet
    assert main(["tune", "--finalize", str(trials_dir), "--results-dir", str(tmp_path / "f"), "--no-progress"]) == 0
    run = load_run(next(p for p in (tmp_path / "f").iterdir() if (p / "run.json").exists()))
    assert run.cases["stage"].value_counts().to_dict() == {"trial": 2, "final": 2}
    assert run.meta.tuning.trials_run == str(trials_dir) and len(run.meta.tuning.selections) == 2
    other = tmp_path / "other.toml"
    other.write_text(TINY.format(seeds=2))
    assert main(["tune", str(other), "--finalize", str(trials_dir), "--results-dir", str(tmp_path / "g")]) == 2
    # sharded finals hold only their finals and name the trials run, which a report reads with them
    assert main(["tune", "--finalize", str(trials_dir), "--shard", "1/2", "--results-dir", str(tmp_path / "h"),
                 "--no-progress"]) == 0
    shard = next(p for p in (tmp_path / "h").iterdir() if (p / "run.json").exists())
    assert set(load_run(shard).cases["stage"].astype(str)) == {"final"}
    from harness.report.tables import load

    runs = load([shard])
    assert [r.path for r in runs] == [shard, trials_dir]
    assert set(pd.concat([r.cases for r in runs])["stage"].astype(str)) == {"trial", "final"}
