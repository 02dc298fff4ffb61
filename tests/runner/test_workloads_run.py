"""Every model through the real runner and engines (slow: trains tiny models in worker processes)."""

from __future__ import annotations

import json

import pytest

from harness.cli import main
from harness.results import load_run

TINY = """
[suite]
name = "tiny-workloads"
collectors = []
[defaults]
dataset = { name = "synthetic", n_train = 256, n_test = 64, shape = [28, 28, 1], classes = 4 }
epochs = 1
batch_size = 64
[matrix]
model = ["mnist_dense", { name = "mlp", hidden = [32] }, { name = "cnn", filters = [4, 8] },
         { name = "examples.user_models:tiny_convnet", label = "user" }]
engine = ["fast", "keras_fit", "eager"]
"""


@pytest.mark.slow
def test_every_model_runs_on_every_engine_with_its_cost_and_utilization(tmp_path):
    (tmp_path / "s.toml").write_text(TINY)
    assert main(["run", str(tmp_path / "s.toml"), "--results-dir", str(tmp_path / "res"), "--no-progress"]) == 0
    run = load_run(next((tmp_path / "res").iterdir()))
    cases = run.cases
    assert len(cases) == 12 and set(cases["status"]) == {"ok"}
    assert set(cases["model_label"]) == {"mnist_dense", "mlp", "cnn", "user"}
    assert {lab.split("/")[0] for lab in cases["case_label"]} == {"mnist_dense", "mlp", "cnn", "user"}
    dense = cases[cases["model"] == "mnist_dense"]
    assert set(dense["model_params"]) == {784 * 128 + 128 + 128 * 4 + 4}  # four classes
    assert set(cases["train_flops_source"]) == {"xla_hlo"}
    probe = run.meta.peak_probe["cpu"]
    assert probe["flops_per_s"] > 0 and probe["shape"] in ([1024] * 3, [2048] * 3) and probe["dtype"] == "float32"
    achieved = cases["train_flops_per_example"] * cases["samples_per_s"]
    assert (cases["achieved_flops_per_s"] - achieved).abs().max() <= 1e-6 * achieved.max()
    util = cases["achieved_flops_per_s"] / probe["flops_per_s"]
    assert (cases["flops_utilization"] - util).abs().max() < 1e-9
    assert (cases["peak_flops_per_s"] == probe["flops_per_s"]).all()


@pytest.mark.slow
def test_a_softmax_model_is_refused_in_preflight_and_nothing_is_written(tmp_path, capsys):
    bad = TINY.replace('"examples.user_models:tiny_convnet"', '"examples.user_models:softmax_mlp"')
    (tmp_path / "s.toml").write_text(bad)
    assert main(["run", str(tmp_path / "s.toml"), "--results-dir", str(tmp_path / "res"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "ends in a softmax" in err and "softmax_mlp" in err
    assert not (tmp_path / "res").exists() or not any((tmp_path / "res").iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_one_device_matches_default_per_model(name):
    """The same-seed equality of strategies holds for every model, not only mnist_dense."""
    import tensorflow as tf

    from harness.components import datasets, models, optimizers
    from harness.engines import fast
    from harness.engines.base import NoHooks, TrainSpec

    ds = datasets.load("synthetic", {"n_train": 256, "n_test": 64, "shape": [12, 12, 1]})
    spec_model = {"name": name, "params": {"hidden": [16]} if name == "mlp" else {"filters": [2, 4]}}
    results = {}
    for label, st in (("default", None), ("one_device", tf.distribute.OneDeviceStrategy("/cpu:0"))):
        with st.scope() if st is not None else tf.name_scope(label):
            net = models.build(spec_model, ds.input_shape, ds.num_classes, 0)
            opt = optimizers.build({"name": "adam", "params": {}}, 1e-3)
        spec = TrainSpec(ds.x_train, ds.y_train, ds.x_test, ds.y_test, 64, 1, 0, 0.99, strategy=st,
                         strategy_name=label)
        results[label] = fast.run(net, opt, spec, NoHooks())
    one, default = results["one_device"].epochs[-1], results["default"].epochs[-1]
    assert one["loss"] == pytest.approx(default["loss"], abs=1e-6)
    assert one["test_accuracy"] == default["test_accuracy"]


def test_list_names_the_models(capsys):
    assert main(["list", "models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["models"]
    assert {"mnist_dense", "mlp", "cnn", "package.module:function"} <= set(listed)
