"""``harness run --tensorboard``: a real run writes its logdir as cases finish; TensorBoard serves it.

One real run (two optimizers on 1,024 synthetic examples, 2 epochs, the Adam case
profiled, energy estimated from a 65 W TDP) feeds every test here: the logdir is
compared with a later ``harness export`` of the same run, then a real
``tensorboard --logdir`` on 127.0.0.1 (bounded, always killed) is asked for the
HParams experiment, the session groups, the scalars and the Profile tab's runs,
and headless Chromium loads the HParams dashboard without console errors.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import tests.helpers.tb_server as tb
from harness.cli import main
from harness.results.store import load_run
from harness.runner.runner import RunOptions, run_suite
from harness.suite import load_suite
from harness.tensorboard import LiveTensorBoard, export_runs
from tests.helpers.report_browser import find_chromium
from tests.helpers.report_devtools import Devtools
from tests.helpers.tb_read import read_logdir

pytestmark = pytest.mark.slow

SUITE = """
[suite]
name = "tblive"
description = "two tiny cases for the TensorBoard tests"
target_accuracy = 0.2
collectors = ["cpu_estimate"]
profile_steps = 2

[defaults]
dataset = { name = "synthetic", n_train = 1024, n_test = 256 }
epochs = 2
batch_size = 128
learning_rate = 0.01
engine = "fast"
device = "cpu"

[matrix]
optimizer = ["adam", "minibatch_sgd"]
"""


class Spy:
    """Another observer, after the live writer: what the logdir holds as each case finishes."""

    def __init__(self, logdir: Path) -> None:
        self.logdir, self.seen = logdir, []

    def run_started(self, *args) -> None:
        pass

    def case_finished(self, run_dir, result) -> None:
        self.seen.append(sorted(str(p.parent.relative_to(self.logdir)) for p in self.logdir.rglob("*tfevents*")
                                if "repeat-" in str(p)))

    def run_finished(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    (root / "tblive.toml").write_text(SUITE)
    suite = load_suite(str(root / "tblive.toml"))
    suite.cases = [dataclasses.replace(c, profile=c.optimizer.name == "adam") for c in suite.cases]
    logdir = root / "logdir"
    writer, spy = LiveTensorBoard(logdir), Spy(logdir)
    summary = run_suite(suite, RunOptions(results_dir=root / "results", progress=False, tdp_w=65.0,
                                          profile_steps=2, observers=[writer, spy]))
    assert writer.errors == [] and writer.sessions_written == 2
    return summary.run_dir, logdir, spy


def test_sessions_appear_as_cases_finish_and_equal_a_later_export(live, tmp_path):
    run_dir, logdir, spy = live
    name = run_dir.name
    assert spy.seen == [[f"{name}/adam/repeat-0"], [f"{name}/adam/repeat-0", f"{name}/minibatch_sgd/repeat-0"]]
    export_runs([run_dir], tmp_path / "exported")
    live_runs, live_exp = read_logdir(logdir)
    export_runs_, export_exp = read_logdir(tmp_path / "exported")
    assert set(live_runs) - {r for r in live_runs if r.startswith("harness-hparams-")} == \
        set(export_runs_) - {r for r in export_runs_ if r.startswith("harness-hparams-")}
    for run, got in live_runs.items():
        if got.group:
            want = export_runs_[run]
            assert (got.hparams, got.group, got.status, got.scalars) == \
                (want.hparams, want.group, want.status, want.scalars)
    run = load_run(run_dir)
    adam = live_runs[f"{name}/adam/repeat-0"]
    assert adam.hparams["profiled"] is True and adam.status == "STATUS_SUCCESS"
    assert len(adam.scalars["train/loss"]) == 2
    assert any(t.startswith("energy/cum_energy_j[estimate") for t in adam.scalars), list(adam.scalars)
    case = run.cases.set_index("optimizer").loc["adam"]
    assert adam.scalars["result/test_accuracy"][0][1] == pytest.approx(case["test_accuracy"], rel=1e-6)
    assert [h.name for h in live_exp.hparam_infos] == [h.name for h in export_exp.hparam_infos]


def test_run_refuses_an_unusable_logdir_before_running(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(SUITE)
    results = tmp_path / "results"
    rc = main(["run", str(tmp_path / "s.toml"), "--results-dir", str(results), "--tensorboard", "/proc/x/y"])
    assert rc == 4 and "cannot be written" in capsys.readouterr().err and not results.exists()
    rc = main(["run", str(tmp_path / "s.toml"), "--tensorboard", str(tmp_path / "t"), "--interleave-with", "HEAD"])
    assert rc == 2 and not (tmp_path / "t").exists()


@pytest.fixture(scope="module")
def served(live):
    run_dir, logdir, _ = live
    with tb.serve(logdir, limit_s=400) as base:
        names = {f"{run_dir.name}/adam/repeat-0", f"{run_dir.name}/minibatch_sgd/repeat-0"}
        tb.wait_for_runs(base, names)
        yield base, run_dir


def test_tensorboard_serves_the_experiment_sessions_scalars_and_profile(served):
    base, run_dir = served
    run = load_run(run_dir)
    experiment = tb.hparams_experiment(base)
    names = {h["name"] for h in experiment["hparamInfos"]}
    assert {"optimizer", "schedule", "engine", "batch_size", "learning_rate", "machine", "status"} <= names
    assert "result/test_accuracy" in {m["name"]["tag"] for m in experiment["metricInfos"]}
    groups = {g["hparams"]["optimizer"]: g for g in tb.session_groups(base)}
    assert set(groups) == {"adam", "minibatch_sgd"}
    for case in run.cases.to_dict("records"):
        metrics = {m["name"]["tag"]: m["value"] for m in groups[case["optimizer"]]["metricValues"]}
        assert metrics["result/test_accuracy"] == pytest.approx(case["test_accuracy"], rel=1e-6)
        assert metrics["result/samples_per_s"] == pytest.approx(case["samples_per_s"], rel=1e-6)
        session = f"{run_dir.name}/{case['optimizer']}/repeat-0"
        epochs = run.epochs[run.epochs["case_id"] == case["case_id"]].sort_values("epoch")
        assert tb.scalars(base, session, "train/loss") == \
            [(e, pytest.approx(v, rel=1e-6)) for e, v in zip(epochs["epoch"], epochs["loss"], strict=True)]
    profiled = tb.get(base, "data/plugin/profile/runs")
    assert [r for r in profiled if r.startswith(f"{run_dir.name}/adam/repeat-0/")], profiled


@pytest.mark.browser
@pytest.mark.skipif(find_chromium() is None, reason="Chromium not installed (apt-get install chromium)")
def test_hparams_dashboard_loads_in_chromium_without_console_errors(served):
    base, _ = served
    with Devtools(1400, 900) as browser:
        page = browser.open(base + "#hparams", timeout=90,
                            until="deepText().includes('minibatch_sgd') && deepText().includes('adam')")
        assert page.ready, browser.text()[:2000]
        assert page.errors == []
