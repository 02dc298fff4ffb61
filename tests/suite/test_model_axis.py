"""The model axis in suites, datasets of any shape and class count, old runs, the peak probe's arithmetic."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness import schema
from harness.components import datasets
from harness.errors import DatasetError, SuiteError
from harness.results import store
from harness.runner.case_row import CaseRow
from harness.runner.parent import peak_probe
from harness.suite import Case, available_suites, load_suite, parse_spec, parse_suite
from harness.suite.size import plan_size

PINNED = json.loads((Path(__file__).parent / "case_ids_main.json").read_text())

MODELS = """
[defaults]
dataset = "mnist-sample"
[matrix]
model = ["mnist_dense", { name = "mlp", hidden = [1024, 1024] }, "cnn"]
optimizer = ["adam", "sgd"]
"""


@pytest.mark.parametrize("name", sorted(PINNED))
def test_shipped_suites_keep_their_case_ids_and_labels(name):
    """Computed on main before the model axis existed (tests/suite/case_ids_main.json)."""
    suites = available_suites()
    if name not in suites:
        pytest.skip(f"suite {name} no longer shipped")
    assert [[c.case_id, c.label] for c in load_suite(suites[name]).cases] == PINNED[name]


def test_model_axis_labels_and_ids():
    cases = parse_suite(MODELS).cases
    assert [c.label for c in cases] == ["mnist_dense/adam", "mnist_dense/sgd", "mlp/adam", "mlp/sgd",
                                        "cnn/adam", "cnn/sgd"]
    assert len({c.case_id for c in cases}) == 6
    default = parse_suite('[defaults]\ndataset = "mnist-sample"\noptimizer = "adam"').cases[0]
    assert cases[0].case_id == default.case_id  # naming the default model changes nothing
    assert plan_size(parse_spec(MODELS)).cases == 6


def test_case_json_round_trip_and_old_cases():
    case = parse_suite(MODELS).cases[2]
    assert Case.from_dict(case.to_dict()) == case
    old = case.to_dict()
    del old["model"]
    assert Case.from_dict(old).model.name == "mnist_dense"


@pytest.mark.parametrize(("text", "message"), [
    ('model = "resnet"', "unknown model 'resnet'"),
    ('model = { name = "mlp", hidden = [0] }', "hidden: expected a list of positive integers"),
    ('model = { name = "mlp", width = 3 }', "unknown parameter for model 'mlp'"),
    ('model = "a.b"', "unknown model 'a.b'"),
    ('model = "cnn"\ndataset = "synthetic"', "model 'cnn' needs images"),
])
def test_bad_model_values_name_the_key(text, message):
    with pytest.raises(SuiteError, match=message):
        parse_suite("[defaults]\n" + text)


def test_synthetic_shape_and_classes():
    ds = datasets.load("synthetic", {"n_train": 40, "n_test": 10, "shape": [8, 8, 3], "classes": 4})
    assert ds.input_shape == (8, 8, 3) and ds.num_classes == 4 and ds.y_train.max() < 4
    assert datasets.input_shape("synthetic", {"shape": [8, 8, 3]}) == (8, 8, 3)
    assert datasets.input_shape("mnist-sample") == (28, 28, 1)
    flat = datasets.load("synthetic", {"n_train": 40, "n_test": 10})
    assert flat.input_shape == (784,) and flat.num_classes == 10


def _npz(path, **over):
    rng = np.random.default_rng(0)
    arrays = dict(x_train=rng.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8), y_train=np.arange(12) % 5,
                  x_test=rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8), y_test=np.arange(4) % 5)
    arrays.update(over)
    np.savez(path, **arrays)
    return str(path)


def test_npz_of_colour_images_keeps_its_shape(tmp_path):
    ds = datasets.load("idx", {"path": _npz(tmp_path / "c.npz")})
    assert ds.input_shape == (32, 32, 3) and ds.num_classes == 5
    assert ds.x_train.dtype == np.float32 and ds.x_train.max() <= 1.0


@pytest.mark.parametrize(("over", "params", "message"), [
    ({"y_train": np.arange(12) % 5 - 1}, {}, "array y_train holds label -1"),
    ({}, {"classes": 3}, r"outside 0\.\.2"),
    ({"x_test": np.zeros((4, 28, 28, 3))}, {}, "array x_test holds images of shape"),
    ({"y_test": np.zeros((4, 2))}, {}, "array y_test must be one integer class label"),
])
def test_bad_npz_names_file_and_array(tmp_path, over, params, message):
    path = _npz(tmp_path / "bad.npz", **over)
    with pytest.raises(DatasetError, match=message) as info:
        datasets.load("idx", {"path": path, **params})
    assert "bad.npz" in str(info.value)


def test_npz_missing_array_is_named(tmp_path):
    np.savez(tmp_path / "m.npz", x_train=np.zeros((2, 4)), y_train=np.zeros(2))
    with pytest.raises(DatasetError, match="lacks array 'x_test'"):
        datasets.load("idx", {"path": str(tmp_path / "m.npz")})


def test_old_runs_without_a_model_column_load_as_mnist_dense(tmp_path):
    old = schema.frame("cases", [{"run_id": "r", "case_id": "c", "repeat": 0, "status": "ok"}])
    old = old.drop(columns=list(schema.MODEL_AXES) + list(schema.WORKLOAD))
    store.write_table(tmp_path / "cases.parquet", "cases", old)
    back = store.read_table(tmp_path / "cases.parquet", "cases")
    assert back.loc[0, "model"] == "mnist_dense" and back.loc[0, "model_config"] == "{}"
    assert pd.isna(back.loc[0, "flops_utilization"])


def test_utilization_is_achieved_over_the_probed_peak():
    row = CaseRow()
    row.set("case", device="cpu")
    row.set("workload", achieved_flops_per_s=2.0e11)
    peak_probe.apply(row, {"cpu": {"flops_per_s": 5.0e11}})
    assert row["peak_flops_per_s"] == 5.0e11 and row["flops_utilization"] == pytest.approx(0.4)
    other = CaseRow()
    other.set("case", device="gpu")
    other.set("workload", achieved_flops_per_s=1.0)
    peak_probe.apply(other, {"cpu": {"flops_per_s": 5.0e11}})
    assert math.isnan(other["flops_utilization"])  # no probe for the device: NaN, never 0


def test_run_meta_keeps_the_probe_record():
    from harness.run_meta import RunMeta

    rec = {"cpu": {"flops_per_s": 4.9e11, "shape": [2048, 2048, 2048], "dtype": "float32",
                   "source": "measured matmul probe"}}
    meta = RunMeta(run_id="r", peak_probe=rec)
    assert RunMeta.from_dict(json.loads(json.dumps(meta.to_dict()))).peak_probe == rec
    assert RunMeta.from_dict(json.loads(json.dumps(RunMeta(run_id="r").to_dict()))).peak_probe is None


def test_workloads_suite_is_valid():
    suite = load_suite("workloads")
    assert {c.model.name for c in suite.cases} == {"mnist_dense", "mlp", "cnn"}
    assert {c.engine for c in suite.cases} >= {"fast", "keras_fit", "eager"}
    assert all(c.dataset.name == "mnist-sample" for c in suite.cases)
