"""Task planning: filters, shards, repeats, worker keys, time limits."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.runner.parent.plan import make_tasks, time_limit_s, worker_key
from harness.suite import parse_suite

TEXT = """
[defaults]
dataset = "mnist-sample"
repeats = 2
[matrix]
optimizer = ["adam", "minibatch_sgd", "rmsprop"]
strategy = ["default", { name = "mirrored", replicas = 2 }]
"""


def cases():
    return parse_suite(TEXT, "x.toml").cases


def test_repeats_are_interleaved_and_grouped_by_worker():
    tasks = make_tasks(cases())
    assert len(tasks) == 12
    keys = [worker_key(t.case) for t in tasks]
    # one switch of worker configuration at most
    assert sum(1 for a, b in zip(keys, keys[1:], strict=False) if a != b) == 1
    first_group = tasks[:6]
    assert [t.repeat for t in first_group] == [0, 0, 0, 1, 1, 1]


def test_filter_and_repeats_override():
    tasks = make_tasks(cases(), filters=["optimizer=adam,rmsprop", "strategy=default"], repeats=3)
    assert {t.case.optimizer.name for t in tasks} == {"adam", "rmsprop"}
    assert len(tasks) == 6


def test_shards_partition_the_cases():
    all_ids = {t.key for t in make_tasks(cases())}
    parts = [{t.key for t in make_tasks(cases(), shard=f"{i}/3")} for i in (1, 2, 3)]
    assert set().union(*parts) == all_ids
    assert sum(len(p) for p in parts) == len(all_ids)


@pytest.mark.parametrize("bad", [["optimizer"], ["optimiser=adam"], ["optimizer="]])
def test_bad_filters(bad):
    with pytest.raises(UsageError):
        make_tasks(cases(), filters=bad)


@pytest.mark.parametrize("bad", ["0/2", "3/2", "a/b", "1"])
def test_bad_shards(bad):
    with pytest.raises(UsageError):
        make_tasks(cases(), shard=bad)


def test_time_limit_precedence():
    c = cases()[0]
    assert time_limit_s(c, 7.0) == 7.0
    assert time_limit_s(c) > 300


def test_expected_tasks_re_expand_the_unsharded_plan_from_run_json():
    from harness.run_meta import RunMeta
    from harness.runner.parent.plan import expected_tasks

    meta = RunMeta.from_dict({"suite": {"text": TEXT, "path": "x.toml"},
                              "options": {"filters": ["strategy=default"], "repeats": 3}})
    plan = expected_tasks(meta)
    assert len(plan) == 9  # 3 optimizers x 3 repeats, the filter kept, the shard not applied
    assert [key.rsplit("-", 1)[1] for key, _ in plan] == ["0"] * 3 + ["1"] * 3 + ["2"] * 3
    assert {label for _, label in plan} == {"adam/default", "minibatch_sgd/default", "rmsprop/default"}
    assert len(expected_tasks(RunMeta.from_dict({"suite": {"text": TEXT}}))) == 12  # no options: every case, its repeats
