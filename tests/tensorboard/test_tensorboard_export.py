"""``harness export RUN... --tensorboard LOGDIR`` read back with TensorBoard's own reader.

The hand-made run of tests/report (report_synthetic: 9 case x repeats, estimated
and measured energy, a failed and a skipped case, a profiled repeat, a label
with markup) is exported; every case's scalars and HParams session must say
what its rows say.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

import tests.helpers.report_synthetic as report_synthetic
from harness import schema
from harness.cli import main
from harness.errors import ResultsError
from harness.results.store import load_run, write_table
from harness.tensorboard import events, export_runs
from tests.helpers.tb_read import event_files, read_logdir


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("results")
    a = report_synthetic.write_synthetic_run(root)
    b = report_synthetic.write_synthetic_run(root, run_id="run-b", host="box-b", specs=report_synthetic.SPECS[:2])
    trace = a / "profiles" / "adam-constant-2" / "plugins" / "profile" / "2025_01_02_03_04_05"
    trace.mkdir(parents=True)
    (trace / "box-a.xplane.pb").write_bytes(b"xplane bytes")
    return a, b


@pytest.fixture(scope="module")
def exported(runs, tmp_path_factory):
    logdir = tmp_path_factory.mktemp("tb") / "logdir"
    assert main(["export", str(runs[0]), "--tensorboard", str(logdir)]) == 0
    return logdir, *read_logdir(logdir)


def _session(tb_runs, prefix, label, repeat):
    return tb_runs[f"{prefix}/{label}/repeat-{repeat}"]


def test_every_case_has_its_scalars_and_session(runs, exported):
    logdir, tb_runs, experiment = exported
    run = load_run(runs[0])
    sessions = {k: v for k, v in tb_runs.items() if v.group}
    assert len(sessions) == len(run.cases) == 9
    for case in run.cases.to_dict("records"):
        label = "adam_script_alert_x/script" if "<" in case["case_label"] else case["case_label"].replace(" ", "_")
        tb = _session(tb_runs, "run-a", label, case["repeat"])
        assert tb.hparams["optimizer"] == case["optimizer_label"] and tb.hparams["schedule"] == case["schedule"]
        assert tb.hparams["batch_size"] == 128 and tb.hparams["learning_rate"] == pytest.approx(0.001)
        assert tb.hparams["machine"] == "box-a" and tb.hparams["run"] == "run-a"
        assert tb.hparams["status"] == case["status"] and tb.hparams["profiled"] == bool(case["profiled"])
        assert tb.status == ("STATUS_SUCCESS" if case["status"] == "ok" else
                             "STATUS_FAILURE" if case["status"] == "failed" else "STATUS_UNKNOWN")
        assert tb.group == f"{label} @ run-a"  # repeats of one case form one HParams group
        epochs = run.epochs[(run.epochs["case_id"] == case["case_id"]) & (run.epochs["repeat"] == case["repeat"])]
        want = list(zip(epochs["epoch"], epochs["test_accuracy"], strict=True))
        assert tb.scalars.get("test/accuracy", []) == [(e, pytest.approx(v, rel=1e-6)) for e, v in want]
        for tag, column in (("train/loss", "loss"), ("train/learning_rate", "learning_rate_in_force"),
                            ("time/epoch_s", "epoch_s"), ("time/cum_train_s", "cum_train_s")):
            assert [v for _, v in tb.scalars.get(tag, [])] == pytest.approx(list(epochs[column]), rel=1e-6)
        if case["status"] == "ok":
            assert tb.scalars["result/test_accuracy"] == [(3, pytest.approx(case["test_accuracy"], rel=1e-6))]
            assert tb.scalars["result/samples_per_s"][0][1] == pytest.approx(case["samples_per_s"], rel=1e-6)
        else:  # nothing was measured: no figure at all (never 0), the note says why
            assert not tb.scalars and case["error"][:20].replace("|", "\\|") in tb.text


def test_energy_tags_carry_the_estimates_label(exported):
    _, tb_runs, _ = exported
    estimated = _session(tb_runs, "run-a", "adam_constant", 0)
    measured = _session(tb_runs, "run-a", "sgd_constant", 0)
    assert [v for _, v in estimated.scalars["energy/cum_energy_j[estimate_tdp]"]] == [10.0, 20.0, 30.0]
    assert "energy/cum_energy_j" not in estimated.scalars
    assert "Estimated, not measured: estimate_tdp; CPU TDP 65 W (table:Test CPU)" in \
        estimated.descriptions["energy/cum_energy_j[estimate_tdp]"]
    assert estimated.scalars["result/energy_per_sample_j[estimate_tdp]"][0][1] == pytest.approx(30 / 12000)
    assert [v for _, v in measured.scalars["energy/cum_energy_j"]] == [5.0, 10.0, 15.0]
    assert measured.descriptions["energy/cum_energy_j"].endswith("Measured.")


def test_the_experiment_lists_axes_and_results(exported):
    _, _, experiment = exported
    hparams = {h.name: h for h in experiment.hparam_infos}
    assert {"optimizer", "schedule", "engine", "strategy", "device", "precision", "batch_size",
            "learning_rate", "dataset", "machine", "run", "status"} <= set(hparams)
    assert [v.string_value for v in hparams["optimizer"].domain_discrete.values] == \
        ["adam", "momentum-0.9", "muon", "sgd"]
    assert hparams["optimizer"].differs and not hparams["engine"].differs
    metrics = [m.name.tag for m in experiment.metric_infos]
    assert metrics[:3] == ["result/test_accuracy", "result/samples_per_s", "result/time_to_target_s"]
    assert "result/energy_per_sample_j" in metrics and "result/energy_per_sample_j[estimate_tdp]" in metrics


def test_profiled_trace_lies_where_the_profile_tab_looks(exported):
    logdir = exported[0]
    trace = logdir / "run-a" / "adam_constant" / "repeat-2" / "plugins" / "profile" / "2025_01_02_03_04_05"
    assert (trace / "box-a.xplane.pb").read_bytes() == b"xplane bytes"
    assert not list(logdir.glob("run-a/adam_constant/repeat-0/plugins"))


def test_export_again_replaces_and_several_runs_share_a_logdir(runs, exported, tmp_path):
    logdir = tmp_path / "logdir"
    shutil.copytree(exported[0], logdir)
    before = event_files(logdir)
    assert main(["export", str(runs[0]), str(runs[1]), "--tensorboard", str(logdir)]) == 0
    tb_runs, experiment = read_logdir(logdir)
    assert len([p for p in event_files(logdir) if p.startswith("run-a/")]) == len(
        [p for p in before if p.startswith("run-a/")]) == 9  # replaced, not duplicated
    assert len([p for p in event_files(logdir) if p.startswith("harness-hparams-")]) == 1
    assert len([r for r in tb_runs.values() if r.group]) == 11
    machines = {h.name: h for h in experiment.hparam_infos}["machine"]
    assert [v.string_value for v in machines.domain_discrete.values] == ["box-a", "box-b"]
    # another run that happens to have the same folder name gets its own folder, not the first's
    other = tmp_path / "elsewhere"
    twin = report_synthetic.write_synthetic_run(other, run_id="run-a", specs=report_synthetic.SPECS[:1])
    meta = json.loads((twin / "run.json").read_text())
    (twin / "run.json").write_text(json.dumps({**meta, "started_utc": "2026-06-01T00:00:00Z"}))
    summary = export_runs([twin], logdir)
    assert summary.runs[str(twin)].startswith("run-a-") and (logdir / "run-a" / "sgd_constant").is_dir()


def test_a_merged_run_keeps_each_rows_machine(runs, tmp_path):
    merged = shutil.copytree(runs[0], tmp_path / "merged")
    run = load_run(merged)
    cases = run.cases.assign(host=["box-a"] * 5 + ["box-c"] * 4)
    write_table(merged / "cases.parquet", "cases", schema.conform("cases", cases))
    export_runs([merged], tmp_path / "logdir")
    tb_runs, experiment = read_logdir(tmp_path / "logdir")
    assert sorted({r.hparams["machine"] for r in tb_runs.values() if r.group}) == ["box-a", "box-c"]


def test_bad_input_is_refused_and_nothing_is_half_written(runs, exported, tmp_path, monkeypatch, capsys):
    not_a_run = tmp_path / "empty"
    not_a_run.mkdir()
    assert main(["export", str(not_a_run), "--tensorboard", str(tmp_path / "a")]) == 2
    assert "not a harness run folder" in capsys.readouterr().err and not (tmp_path / "a").exists()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert main(["export", str(runs[0]), "--tensorboard", str(a_file / "logdir")]) == 2
    assert main(["export", str(runs[0]), "--tensorboard", "/proc/harness-logdir"]) == 4
    assert "cannot be written" in capsys.readouterr().err
    with monkeypatch.context() as m:  # TensorBoard is a separate package since TensorFlow 2.21
        real_find = importlib.util.find_spec
        m.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real_find(name, *a))
        assert main(["export", str(runs[0]), "--tensorboard", str(tmp_path / "b")]) == 2
        assert "pip install 'mnist-bench-harness[tensorboard]'" in capsys.readouterr().err
    # a failure while writing leaves an existing logdir exactly as it was, and no scratch behind
    logdir = tmp_path / "logdir"
    shutil.copytree(exported[0], logdir)
    snapshot = {p: p.read_bytes() for p in logdir.rglob("*") if p.is_file()}
    calls = []

    def flaky(session, out_dir, trial_id):
        calls.append(session.name)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        real(session, out_dir, trial_id)

    real = events.write_session
    monkeypatch.setattr(events, "write_session", flaky)
    with pytest.raises(ResultsError, match="No space left on device"):
        export_runs([runs[0]], logdir)
    assert {p: p.read_bytes() for p in logdir.rglob("*") if p.is_file()} == snapshot
    assert not [p for p in tmp_path.iterdir() if "harness-tmp" in p.name]
