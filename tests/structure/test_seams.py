"""The typed seams: axis values, run.json's one versioned loader, the case row's owners, the rule owners."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace
from pathlib import Path

import pytest

from harness import schema
from harness.axis import AxisValue
from harness.components import batching, compat, datasets
from harness.errors import ResultsError
from harness.run_meta import (
    RUN_META_VERSION,
    MergeRecord,
    RunMeta,
    ShardEntry,
    ShardRecord,
    WorkerPolicy,
)
from harness.runner.case_row import OWNERS, CaseRow
from harness.suite import Case, load_suite, parse_suite


def test_axis_value_identity_display_and_coercion():
    a = AxisValue("adam", "fast-adam", {"beta_1": 0.8})
    assert a.display == "fast-adam" and AxisValue("adam").display == "adam"
    assert a.identity() == {"name": "adam", "params": {"beta_1": 0.8}}
    assert a.params_json() == '{"beta_1": 0.8}'
    assert AxisValue.of("adam") == AxisValue("adam")
    assert AxisValue.of({"name": "adam", "params": {"beta_1": 0.8}}) == replace(a, label=None)
    assert len({a, AxisValue("adam", "fast-adam", {"beta_1": 0.8})}) == 1  # hashable
    with pytest.raises(TypeError):
        AxisValue.of({"params": {}})
    with pytest.raises(AttributeError):
        a.name = "sgd"  # frozen


def test_case_round_trips_through_json_and_keeps_its_id():
    case = parse_suite('[matrix]\noptimizer = [{ name = "adam", label = "a", beta_1 = 0.8 }, "sgd"]\n'
                       '[defaults]\nstrategy = { name = "mirrored", replicas = 2 }\ncollectors = ["process"]\n'
                       ).cases[0]
    back = Case.from_dict(json.loads(json.dumps(case.to_dict())))
    assert back == case and back.case_id == case.case_id and isinstance(back.strategy, AxisValue)
    assert pickle.loads(pickle.dumps(case)) == case


# suites/quick.toml as it was when these ids were recorded (issue 26 made it train 12 epochs)
QUICK_BEFORE_26 = """[suite]
name = "quick"
description = "Two optimizers x two schedules on the 5,000 real MNIST digits, offline, about a minute on 2 cores."
target_accuracy = 0.85

[defaults]
dataset = "mnist-sample"
epochs = 3
batch_size = 128
learning_rate = 0.001
repeats = 1
seed = 0
engine = "fast"
precision = "float32"
strategy = "default"
device = "cpu"

[matrix]
optimizer = [{ name = "minibatch_sgd", learning_rate = 0.1 }, "adam", { name = "minibatch_sgd", momentum = 0.9, label = "momentum-0.9", learning_rate = 0.01 }]
schedule = ["constant", { name = "inverse_power", alpha = 0.01, beta = 0.5 }]

[[include]]
optimizer = "adamw"
batch_size = 512
"""


def test_case_ids_did_not_change():
    # computed by the harness before axis values were typed; results of older runs must still match
    ids = {c.label: c.case_id for name in ("strategies",) for c in load_suite(name).cases}
    ids.update({c.label: c.case_id for c in parse_suite(QUICK_BEFORE_26, "quick.toml").cases})
    assert ids["minibatch_sgd/constant/batch_size=128"] == "2ba6ec24aec3"
    assert ids["adam/constant/batch_size=128"] == "7c8c7cef0c47"
    assert ids["fast/mirrored-1"] == "f4723032d8e9" and ids["fast/one_device"] == "20d6f8b0b604"


def test_run_meta_reads_version_1_and_refuses_newer(tmp_path):
    v1 = {"schema_version": schema.SCHEMA_VERSION, "run_id": "r", "status": "complete",
          "suite": {"name": "s", "text": "", "path": "s.toml"}, "machine": {"host": "h", "gpus": []},
          "options": {"repeats": 2, "filters": ["engine=fast"], "shard": None, "time_limit_s": None,
                      "collectors": None},
          "git": {"commit": "abc", "dirty": False, "branch": "main"}, "some_future_key": 1}
    meta = RunMeta.from_dict(v1)
    assert meta.meta_version == RUN_META_VERSION and meta.options.repeats == 2 and meta.options.tdp_w is None
    assert meta.machine.label == "h" and meta.git.commit == "abc" and meta.extra == {"some_future_key": 1}
    assert RunMeta.from_dict(meta.to_dict()) == meta
    assert meta.to_dict()["some_future_key"] == 1  # kept as it was
    with pytest.raises(ResultsError, match="version 99 was written by a newer harness"):
        RunMeta.from_dict({**v1, "meta_version": 99})
    with pytest.raises(ResultsError, match="not a harness run.json"):
        RunMeta.from_dict([1, 2])  # type: ignore[arg-type]


def test_run_meta_keeps_sharding_merging_and_unknown_nested_keys():
    # what main's runner and `harness merge` write (version 2 files and unversioned ones have them too)
    doc = {"run_id": "m", "status": "partial", "meta_version": 2,
           "options": {"repeats": 1, "balance_from": "results/prev", "future_option": 7},
           "machine": {"host": "h", "numa_nodes": 2},
           "shard": {"index": 2, "count": 3, "case_ids": ["a"], "assignment_sha256": "x", "source": "slurm"},
           "worker_policy": {"max_cases": 50, "max_rss_mib": 4096.0, "recycled": 1},
           "merged": {"count": 3, "missing": []}, "shards": [{"index": 1, "path": "/r/1"}]}
    meta = RunMeta.from_dict(doc)
    assert isinstance(meta.shard, ShardRecord) and isinstance(meta.worker_policy, WorkerPolicy)
    assert isinstance(meta.merged, MergeRecord) and isinstance(meta.shards[0], ShardEntry)
    assert meta.options.balance_from == "results/prev" and meta.shard.source == "slurm"
    assert meta.shard.index == 2 and meta.shard.case_ids == ["a"] and meta.shard.assignment_sha256 == "x"
    assert meta.worker_policy.max_cases == 50 and meta.worker_policy.recycled == 1
    assert meta.merged.count == 3 and meta.shards[0].index == 1 and meta.shards[0].path == "/r/1"
    out = meta.to_dict()
    assert out["options"]["future_option"] == 7 and out["machine"]["numa_nodes"] == 2  # kept, not dropped
    for key in ("shard", "worker_policy", "merged"):  # every key written comes back as written
        assert {k: out[key][k] for k in doc[key]} == doc[key], key
    assert {k: out["shards"][0][k] for k in doc["shards"][0]} == doc["shards"][0]
    assert RunMeta.from_dict(out) == meta
    assert not hasattr(meta, "get") and not hasattr(meta, "__getitem__")  # attributes only, no dict view
    plain = RunMeta.from_dict({"run_id": "p"})
    assert plain.merged is None and plain.shard is None and plain.worker_policy is None
    assert "merged" not in plain.to_dict() and plain.to_dict()["shard"] is None


def test_run_meta_declares_the_commit_time_and_keeps_unknown_part_keys():
    meta = RunMeta.from_dict({"git": {"commit": "c", "commit_utc": "2026-01-01T00:00:00+00:00", "tag": "v1"},
                              "shard": {"index": 1, "count": 2, "future": True}})
    assert meta.git.commit_utc == "2026-01-01T00:00:00+00:00" and meta.git.extra == {"tag": "v1"}
    assert meta.shard.extra == {"future": True} and meta.to_dict()["shard"]["future"] is True
    assert meta.to_dict()["git"]["tag"] == "v1"


def test_every_case_column_has_exactly_one_owner():
    owned = [c for cols in OWNERS.values() for c in cols]
    assert sorted(owned) == sorted(schema.CASE_COLUMNS)


def test_case_row_refuses_a_second_writer_and_undeclared_columns():
    case = load_suite("quick").cases[0]
    row = CaseRow.for_case(case, 1, "run")
    assert row["case_id"] == case.case_id and row["batch_size"] == case.batch_size and row["num_replicas"] == 1
    row.set("memory", peak_rss_bytes=123)
    with pytest.raises(KeyError, match="'peak_rss_bytes' belongs to part 'memory', not 'collectors'"):
        row.set("collectors", peak_rss_bytes=456)
    with pytest.raises(KeyError, match="undeclared"):
        row.set("training", not_a_column=1)
    with pytest.raises(TypeError):
        row["status"] = "ok"
    with pytest.raises(TypeError):
        row.update(status="ok")
    back = pickle.loads(pickle.dumps(row))
    assert isinstance(back, CaseRow) and back == row and json.loads(json.dumps(row)) == dict(row)
    assert CaseRow.adopt(dict(row)) == row


def test_batch_size_rule_has_one_owner():
    assert batching.effective_batch_size("gd", 128, 4000) == 4000
    assert batching.batch_size_problem("sgd", 10**6, 10, "x") is None  # picks its own batch
    assert batching.batch_size_problem("adam", 64, None, "x") is None  # size unknown before loading
    assert batching.batch_size_problem("adam", 65, 64, "idx") == (
        "batch_size=65 is larger than the 64 training examples of dataset 'idx'; expected batch_size <= 64")


def test_dataset_sizes_come_from_the_datasets_module():
    # training examples after the validation split (1/6 held out by default; `validation` sets it)
    assert datasets.train_size("synthetic", {"n_train": 256, "validation": 0}) == 256
    assert datasets.train_size("synthetic", {"n_train": 256}) == 256  # synthetic's validation is extra
    assert datasets.train_size("mnist-sample") == 3333 and datasets.train_size("mnist") == 50000
    assert datasets.train_size("mnist-sample", {"test_fraction": 0.3, "validation": 500}) == 3000
    assert datasets.train_size("mnist", {"path": "/x"}) is None and datasets.train_size("idx", {"path": "/x"}) is None


@pytest.mark.parametrize(("engine", "strategy", "conditions", "expected"), [
    ("fast", "parameter_server", compat.Conditions(workers=2), None),
    ("eager", "one_device", compat.Conditions(), None),
    ("eager", "mirrored", compat.Conditions(), "single-device loop"),
    ("keras_fit", "multi_worker_mirrored", compat.Conditions(workers=1), None),
    ("keras_fit", "multi_worker_mirrored", compat.Conditions(workers=2), "keras-team/keras#20585"),
    ("keras_fit", "mirrored", compat.Conditions(steps_per_execution=4), "keras-team/keras#19246"),
    ("keras_fit", "central_storage", compat.Conditions(jit_compile=True), "under CentralStorageStrategy: XLA"),
    ("keras_fit", "one_device", compat.Conditions(jit_compile=True), None),
    ("keras_fit", "parameter_server", compat.Conditions(jit_compile=True), "ClusterCoordinator"),
])
def test_engine_strategy_table(engine, strategy, conditions, expected):
    reason = compat.skip_reason(engine, strategy, conditions)
    assert reason is None if expected is None else expected in reason


def test_the_docs_list_every_seam():
    text = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()
    for name in ("AxisValue", "RunMeta", "CaseRow", "batching.py", "compat.py", "keyvalue.py", "UsageError"):
        assert name in text
