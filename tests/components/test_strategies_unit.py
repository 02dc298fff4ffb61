"""Fast tests of the strategy/cluster plumbing (no TensorFlow, no processes)."""

from __future__ import annotations

import json
import socket
from dataclasses import replace

import pytest

from harness.components import compat, strategies
from harness.components.devices import device_config
from harness.runner.cluster import supervise as cluster
from harness.runner.parent.plan import worker_key
from harness.suite import parse_suite

SUITE = """
[suite]
name = "s"
[matrix]
strategy = ["default", {name = "mirrored", replicas = 3, label = "m3"},
            {name = "multi_worker_mirrored", workers = 2}, {name = "parameter_server", workers = 2, ps = 1}]
"""


@pytest.fixture(scope="module")
def cases():
    return {c.strategy.name: c for c in parse_suite(SUITE).cases}


def test_replicas_and_worker_keys(cases):
    assert strategies.replicas_needed(cases["mirrored"].strategy) == 3
    assert worker_key(cases["mirrored"]) == device_config("cpu", 3)
    assert worker_key(cases["mirrored"]).logical_cpus == 3
    assert strategies.replicas_needed(cases["default"].strategy) == 1


def test_strategy_label_shown_but_not_in_identity(cases):
    m = cases["mirrored"]
    assert m.label == "m3"
    assert m.case_id == replace(m, strategy=replace(m.strategy, label=None)).case_id


def test_multi_process_detection(cases):
    assert not strategies.is_multi_process(cases["default"])
    assert not strategies.is_multi_process(cases["mirrored"])
    assert strategies.is_multi_process(cases["multi_worker_mirrored"])
    assert strategies.is_multi_process(cases["parameter_server"])


def test_cluster_shapes(cases):
    assert strategies.cluster_shape(cases["multi_worker_mirrored"].strategy) == {"worker": 2}
    assert strategies.cluster_shape(cases["parameter_server"].strategy) == {"chief": 1, "worker": 2, "ps": 1}


def test_loopback_cluster_uses_distinct_free_loopback_ports(cases):
    spec = cluster.loopback_cluster(cases["parameter_server"].strategy)
    addrs = [a for group in spec.values() for a in group]
    assert len(addrs) == 4 and len(set(addrs)) == 4
    for a in addrs:
        host, port = a.split(":")
        assert host == "localhost"
        with socket.socket() as s:  # still free
            s.bind(("127.0.0.1", int(port)))


def test_external_cluster_from_tf_config(cases, monkeypatch):
    conf = {"cluster": {"worker": ["h1:2222", "h2:2222"]}, "task": {"type": "worker", "index": 1}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(conf))
    assert cluster.external_task(cases["multi_worker_mirrored"]) == (conf["cluster"], ("worker", 1))


def test_external_cluster_from_suite_table(monkeypatch):
    text = SUITE + '\n[cluster]\nworker = ["h1:2222", "h2:2222"]\n'
    case = parse_suite(text).cases[2]
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("HARNESS_TASK", raising=False)
    with pytest.raises(ValueError, match="HARNESS_TASK"):
        cluster.external_task(case)
    monkeypatch.setenv("HARNESS_TASK", "worker:0")
    assert cluster.external_task(case) == ({"worker": ["h1:2222", "h2:2222"]}, ("worker", 0))


def test_no_external_cluster_by_default(cases, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert cluster.external_task(cases["multi_worker_mirrored"]) is None


def test_engines_that_cannot_run_under_a_cluster_are_skipped_before_starting_it(cases):
    mwm, ps = cases["multi_worker_mirrored"], cases["parameter_server"]
    assert compat.case_skip_reason(mwm, 2) is None  # fast
    assert "keras-team/keras#20585" in compat.case_skip_reason(replace(mwm, engine="keras_fit"), 2)
    assert compat.case_skip_reason(replace(mwm, engine="keras_fit"), 1) is None  # single worker: fit works
    assert "ClusterCoordinator" in compat.case_skip_reason(replace(ps, engine="keras_fit"), 2)
    assert "eager" in compat.case_skip_reason(replace(ps, engine="eager"), 2)
