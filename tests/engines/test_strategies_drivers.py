"""The fast engine's driver table: which path runs under which strategy, and that the fast path is right."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.components import catalog, strategies
from harness.errors import SuiteError
from harness.suite import parse_suite

pytest.importorskip("tensorflow")


def fake(replicas: int, workers: list[str], params: list[str] | None = None) -> SimpleNamespace:
    extended = SimpleNamespace(worker_devices=workers)
    if params is not None:
        extended.parameter_devices = params
    return SimpleNamespace(num_replicas_in_sync=replicas, extended=extended)


def test_placement_one_device_only_when_variables_and_compute_share_it():
    assert strategies.placement(None) == "one_device"
    assert strategies.placement(fake(1, ["/job:localhost/replica:0/task:0/device:CPU:0"])) == "one_device"
    assert strategies.placement(fake(1, ["/device:CPU:0"], ["/cpu:0"])) == "one_device"  # central_storage-1 on CPU
    assert strategies.placement(fake(1, ["/device:GPU:0"], ["/cpu:0"])) == "several_devices"  # on a GPU
    assert strategies.placement(fake(1, ["/device:CPU:1"], ["/cpu:0"])) == "several_devices"
    assert strategies.placement(fake(2, ["/device:CPU:0", "/device:CPU:1"])) == "several_devices"
    assert strategies.device_kind(fake(1, ["/job:worker/task:0/device:GPU:0"])) == "gpu"


def test_driver_table_choices():
    one = fake(1, ["/device:CPU:0"])
    two = fake(2, ["/device:CPU:0", "/device:CPU:1"])
    for name in ("default", "one_device", "mirrored", "central_storage", "multi_worker_mirrored"):
        driver, _ = strategies.fast_driver(name, None if name == "default" else one, None)
        assert driver is strategies.XLA_LOOP, name
    assert strategies.fast_driver("mirrored", two, None)[0] is strategies.GRAPH_LOOP
    assert "another device" in strategies.fast_driver("central_storage", two, None)[1]
    assert strategies.fast_driver("mirrored", fake(2, ["/gpu:0", "/gpu:1"]), None)[0] is strategies.XLA_GRADIENTS
    assert strategies.fast_driver("parameter_server", two, None)[0] is strategies.COORDINATOR
    driver, why = strategies.fast_driver("one_device", one, False)
    assert driver is strategies.GRAPH_LOOP and "jit_compile = false" in why


def test_driver_parameter_forces_a_driver_and_bad_names_are_refused():
    one = fake(1, ["/device:CPU:0"])
    driver, why = strategies.fast_driver("mirrored", one, None, "graph_loop+xla_gradients")
    assert driver is strategies.XLA_GRADIENTS and "driver parameter" in why
    with pytest.raises(ValueError, match="coordinator"):
        strategies.fast_driver("mirrored", one, None, "coordinator")


def test_the_table_names_only_known_drivers():
    assert set(catalog.FAST_DRIVER_NAMES) == set(strategies.DRIVERS) - {"coordinator"}
    assert {d.name for d, _ in strategies.FAST_DRIVERS.values()} <= set(strategies.DRIVERS)


def test_suite_validates_the_driver_parameter():
    text = '[suite]\nname = "s"\n[matrix]\nstrategy = [{name = "mirrored", replicas = 2, driver = "%s"}]\n'
    assert parse_suite(text % "graph_loop").cases[0].strategy.params["driver"] == "graph_loop"
    with pytest.raises(SuiteError, match="driver"):
        parse_suite(text % "xla_everything")


@pytest.mark.slow
def test_one_replica_strategies_run_the_whole_loop_in_xla_and_match_default():
    """one_device and mirrored-1 run the default's XLA loop, with strategy.run inside: same updates."""
    import tensorflow as tf

    from harness.components import datasets, model, optimizers
    from harness.engines import fast
    from harness.engines.base import NoHooks, TrainSpec

    ds = datasets.load("synthetic", {"n_train": 1024, "n_test": 128})
    results = {}
    for name, st in (("default", None), ("one_device", tf.distribute.OneDeviceStrategy("/cpu:0")),
                     ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0"]))):
        scope = st.scope() if st is not None else tf.name_scope(name)
        with scope:
            net, opt = model.build_model(0), optimizers.build({"name": "adam", "params": {}}, 1e-3)
        spec = TrainSpec(ds.x_train, ds.y_train, ds.x_test, ds.y_test, 128, 2, 0, 0.99, strategy=st,
                         strategy_name=name)
        results[name] = fast.run(net, opt, spec, NoHooks())
    for name, res in results.items():
        assert (res.driver, res.xla_scope, res.retraces) == ("xla_loop", "loop", 0), name
        assert res.step_time_basis == "per_chunk/8"  # one host call per epoch
        assert res.epochs[-1]["loss"] == pytest.approx(results["default"].epochs[-1]["loss"], abs=1e-6), name
        assert res.epochs[-1]["test_accuracy"] == results["default"].epochs[-1]["test_accuracy"], name
    assert "strategy.run inside" in results["one_device"].notes
