"""What goes into the logdir, decided without TensorFlow: names, labels, hparams, the experiment's union."""

from __future__ import annotations

import hashlib
import json

from harness import schema
from harness.run_meta import RunMeta
from harness.tensorboard.logdir import experiment, run_identity
from harness.tensorboard.sessions import (
    epoch_scalars,
    hparams_of,
    label_paths,
    result_scalars,
)
from harness.tensorboard.specs import estimate_label, metric_description, split_label

META = RunMeta.from_dict({"machine": {"host": "box-a"}})


def test_label_paths_are_safe_unique_and_never_nest_sessions():
    paths = label_paths([
        ("a1", "adam/constant/batch_size=128"),
        ("x1", "adam<script>alert('x')</script>"),
        ("d1", "../../etc"),
        ("r1", "sgd/repeat-3"),
        ("c1", "same label"), ("c2", "same label"),
    ])
    assert paths["a1"] == "adam/constant/batch_size=128"
    assert paths["x1"] == "adam_script_alert_x/script"
    assert paths["d1"] == "etc"  # no way out of the logdir
    assert paths["r1"] == "sgd/_repeat-3"  # a session folder is never another session's parent
    assert paths["c1"] == "same_label~c1" and paths["c2"] == "same_label~c2"


def test_estimate_labels_follow_the_sources():
    est = {"cpu_energy_source": "estimate_tdp", "gpu_energy_source": "unavailable", "energy_source": "estimated"}
    rapl = {"cpu_energy_source": "rapl", "gpu_energy_source": "unavailable", "energy_source": "measured"}
    mixed = {"cpu_energy_source": "estimate_generic", "gpu_energy_source": "nvml_counter",
             "energy_source": "mixed"}
    assert estimate_label("cpu_energy_j", est) == "estimate_tdp"
    assert estimate_label("energy_per_sample_j", est) == "estimate_tdp"
    assert estimate_label("cum_energy_j", {}, est) == "estimate_tdp"  # the epoch row falls back to its case
    assert estimate_label("cpu_energy_j", rapl) == "" and estimate_label("energy_j", rapl) == ""
    assert estimate_label("gpu_energy_j", mixed) == ""
    assert estimate_label("energy_j", mixed) == "mixed:estimate_generic"
    # an epoch row's own source (issue 13's per-epoch columns) wins over the case's
    assert estimate_label("cpu_energy_j", {"cpu_energy_source": "rapl"}, est) == ""
    assert estimate_label("epoch_cpu_energy_j", {}, est) == "estimate_tdp"  # epochs.parquet's name
    assert split_label("result/energy_j[estimate_tdp]") == ("result/energy_j", "estimate_tdp")
    display, doc = metric_description("result/energy_per_sample_j[estimate_tdp]")
    assert "≈ estimate_tdp" in display and "Estimated, not measured" in doc


def test_epoch_scalars_skip_missing_values_and_prefer_the_rate_in_force():
    case = {"cpu_energy_source": "estimate_tdp", "energy_source": "estimated", "cpu_tdp_w": 65.0,
            "cpu_tdp_origin": "cli"}
    epochs = schema.frame("epochs", [
        {"case_id": "c", "repeat": 0, "epoch": 1, "loss": 2.0, "learning_rate_in_force": 0.01, "cum_energy_j": 5.0},
        {"case_id": "c", "repeat": 0, "epoch": 2, "loss": float("nan")},
    ])
    epochs["learning_rate"] = [0.1, 0.05]  # a table that kept the old name too: the new name wins where present
    got = {(s.tag, s.step): s for s in epoch_scalars(epochs, case)}
    assert got[("train/loss", 1)].value == 2.0 and ("train/loss", 2) not in got  # NaN is not written
    assert got[("train/learning_rate", 1)].value == 0.01 and got[("train/learning_rate", 2)].value == 0.05
    energy = got[("energy/cum_energy_j[estimate_tdp]", 1)]
    assert energy.value == 5.0 and "CPU TDP 65 W (cli)" in energy.description
    assert not any(tag.startswith("energy/") and step == 2 for tag, step in got)  # never 0 for missing


def test_results_and_hparams_of_a_row():
    row = schema.frame("cases", [{
        "run_id": "r", "case_id": "c", "case_label": "l", "repeat": 0, "optimizer": "sgd",
        "optimizer_label": "momentum-0.9", "schedule": "constant", "batch_size": 128, "learning_rate": 0.01,
        "status": "ok", "profiled": False, "test_accuracy": 0.9, "samples_per_s": 1000.0,
        "energy_j": 3.0, "energy_source": "measured", "cpu_energy_source": "rapl",
    }]).to_dict("records")[0]
    hp = hparams_of(row, META, "run-a")
    assert hp["optimizer"] == "momentum-0.9" and hp["schedule"] == "constant" and hp["machine"] == "box-a"
    assert hp["batch_size"] == 128 and isinstance(hp["batch_size"], int) and hp["learning_rate"] == 0.01
    assert hp["run"] == "run-a" and hp["status"] == "ok" and hp["profiled"] is False
    assert hp["engine"] == "?"  # missing axes are shown as '?', not dropped silently
    assert hparams_of({**row, "host": "box-b"}, META, "run-a")["machine"] == "box-b"  # a merged run's row
    tags = {s.tag: s.value for s in result_scalars(row, 3)}
    assert tags == {"result/test_accuracy": 0.9, "result/samples_per_s": 1000.0, "result/energy_j": 3.0}


def test_experiment_is_the_union_of_every_run_in_the_logdir():
    def manifest(run, opt, lr, status, tags):
        return {"sessions": {f"{opt}/repeat-0": {"hparams": {"optimizer": opt, "learning_rate": lr, "run": run,
                                                             "status": status, "profiled": False},
                                                 "metrics": tags}}}

    domains, metrics = experiment([
        manifest("a", "adam", 0.001, "ok", ["result/energy_j[estimate_tdp]", "result/test_accuracy"]),
        manifest("b", "sgd", 0.1, "failed", ["result/samples_per_s"]),
        {"planned": [{"optimizer": "lion", "learning_rate": 0.001, "run": "b"}]},
    ])
    assert domains["optimizer"][1:] == (["adam", "lion", "sgd"], True)
    assert domains["learning_rate"][1] == [0.001, 0.1]
    assert set(domains["status"][1]) >= {"ok", "failed", "skipped"}  # every outcome can be filtered on
    assert domains["profiled"][1:] == ([False, True], False)
    assert metrics == ["result/test_accuracy", "result/samples_per_s", "result/energy_j[estimate_tdp]"]
    assert experiment([]) == ({}, [])


def test_run_identity_is_the_run_not_its_folder_name():
    doc = {"run_id": "x", "started_utc": "2026-01-01T00:00:00", "suite": {"sha256": "ab"}}
    meta = RunMeta.from_dict(doc)
    assert run_identity(meta, "a") == run_identity(meta, "b")
    later = RunMeta.from_dict({**doc, "started_utc": "2026-01-02T00:00:00"})
    assert run_identity(later, "a") != run_identity(meta, "a")
    # without a run_id, the folder name stands in
    assert run_identity(RunMeta.from_dict({}), "a") != run_identity(RunMeta.from_dict({}), "b")
    # the same id as before run.json was read through RunMeta (a logdir made earlier keeps its names)
    ident = ["x", "2026-01-01T00:00:00", "ab"]
    assert run_identity(meta, "a") == hashlib.sha256(json.dumps(ident, default=str).encode()).hexdigest()[:16]
