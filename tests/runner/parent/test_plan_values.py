"""The plan's arithmetic with literal values: default time limits worked by hand, the repeats a
case owes (its own count inside a group of others, the override), a resumed shard's recorded
share at its edges, what a shard's run.json records, and the costs (repeats x seconds per run)
that balance the shards. Pure functions, no worker."""

from __future__ import annotations

import dataclasses

import pytest

from harness.axis import AxisValue
from harness.errors import SuiteError
from harness.run_meta import RunMeta
from harness.runner.parent.estimate import Estimator
from harness.runner.parent.plan import (
    BASE_LIMIT_S,
    DEFAULT_TRAIN_GUESS,
    expected_tasks,
    make_tasks,
    shard_assignment,
    shard_record,
    time_limit_s,
)
from harness.runner.parent.shards import ShardSpec
from harness.suite import parse_suite

TEXT = """
[defaults]
dataset = { name = "synthetic", n_train = 3000 }
epochs = 2
[matrix]
optimizer = ["adam", "rmsprop", "nadam"]
"""


def three():
    """adam, rmsprop, nadam: one worker group, 1 repeat each (the default)."""
    return {c.optimizer.name: c for c in parse_suite(TEXT, "v.toml").cases}


def keys(tasks):
    return [t.key for t in tasks]


# ------------------------------------------------------------------ default time limits
@pytest.mark.parametrize(("engine", "want"), [
    ("fast", 302.0),  # 3000 examples x 2 epochs / 30,000 ex/s = 0.2 s; 300 + 10 x 0.2
    ("keras_fit", 306.0),  # 6000 / 10,000 = 0.6 s; 300 + 6
    ("eager", 320.0),  # 6000 / 3,000 = 2 s; 300 + 20
    ("some_new_engine", 320.0),  # not in the table: the pessimistic 3,000 ex/s, as eager
])
def test_default_time_limit_by_hand(engine, want):
    case = dataclasses.replace(three()["adam"], engine=engine)
    assert time_limit_s(case) == pytest.approx(want, abs=1e-9)
    assert BASE_LIMIT_S == 300.0


def test_default_time_limit_of_a_dataset_of_unknown_size():
    # an MNIST file given by path: its size is known only once loaded -> 60,000 examples guessed;
    # 60,000 x 1 epoch / 30,000 ex/s (fast) = 2 s -> 300 + 20
    case = dataclasses.replace(three()["adam"], dataset=AxisValue("mnist", params={"path": "x.npz"}), epochs=1)
    assert DEFAULT_TRAIN_GUESS == 60000
    assert time_limit_s(case) == pytest.approx(320.0, abs=1e-9)
    # the sample's 3,333 training examples (4,000 less its 1/6 validation): 3333 / 30,000 x 10 = 1.111 s
    sample = dataclasses.replace(case, dataset=AxisValue("mnist-sample"))
    assert time_limit_s(sample) == pytest.approx(301.111, abs=1e-9)


def test_time_limit_precedence_exactly():
    case = three()["adam"]
    assert time_limit_s(dataclasses.replace(case, time_limit_s=45.0)) == 45.0  # the suite's
    assert time_limit_s(dataclasses.replace(case, time_limit_s=45.0), 7.5) == 7.5  # the command line's
    assert time_limit_s(case, 0.0) == pytest.approx(302.0, abs=1e-9)  # 0: no override, the default


# ------------------------------------------------------------------ repeats a case owes
def test_each_case_runs_its_own_repeats_inside_its_group():
    c = three()
    once, thrice = dataclasses.replace(c["adam"], repeats=1), dataclasses.replace(c["rmsprop"], repeats=3)
    a, r = once.case_id, thrice.case_id
    # rounds 0, 1, 2 of the group; the one-repeat case only in round 0 (never a repeat #1)
    assert keys(make_tasks([once, thrice])) == [f"{a}-0", f"{r}-0", f"{r}-1", f"{r}-2"]
    # --repeats 2 overrides both: exactly repeats 0 and 1 of each
    assert keys(make_tasks([once, thrice], repeats=2)) == [f"{a}-0", f"{r}-0", f"{a}-1", f"{r}-1"]


# ------------------------------------------------------------------ a resumed shard's share
def test_a_resumed_shard_owes_exactly_its_recorded_cases():
    c = three()
    ids = {name: case.case_id for name, case in c.items()}
    cases = list(c.values())
    assert make_tasks(cases, only=set()) == []  # a share of no case (more shards than cases): nothing
    assert make_tasks(cases, only={"not-a-case"}) == []  # an id the suite no longer has: nothing
    assert keys(make_tasks(cases, only={ids["nadam"]})) == [f"{ids['nadam']}-0"]
    # the share with its recorded --repeats: every repeat 0..2 of its one case, none past
    assert keys(make_tasks(cases, only={ids["rmsprop"]}, repeats=3)) == [f"{ids['rmsprop']}-{r}" for r in range(3)]
    # the share and the recorded filter both apply
    assert make_tasks(cases, only={ids["adam"]}, filters=["optimizer=nadam"]) == []
    assert keys(make_tasks(cases, only={ids["adam"], ids["nadam"]}, filters=["optimizer=nadam"])) == [
        f"{ids['nadam']}-0"]


# ------------------------------------------------------------------ costs that balance the shards
def _est(costs: dict[str, float], source: str = "run r1") -> Estimator:
    return Estimator(measured=costs, source=source)


def test_shard_cost_is_repeats_times_seconds_per_run():
    c = three()
    once, thrice = dataclasses.replace(c["adam"], repeats=1), dataclasses.replace(c["rmsprop"], repeats=3)
    est = _est({once.case_id: 5.0, thrice.case_id: 3.0})
    # own repeats: 1 x 5 = 5, 3 x 3 = 9 -> the 3-repeat case is the costlier, shard 1
    a = shard_assignment([once, thrice], 2, estimator=est)
    assert a.loads == (9.0, 5.0) and a.cases_of(1) == {thrice.case_id}
    # --repeats 2: 2 x 5 = 10, 2 x 3 = 6 -> the other way round
    b = shard_assignment([once, thrice], 2, repeats=2, estimator=est)
    assert b.loads == (10.0, 6.0) and b.cases_of(1) == {once.case_id}
    # make_tasks shards with the same costs
    assert keys(make_tasks([once, thrice], shard="1/2", estimator=est)) == [f"{thrice.case_id}-{r}" for r in range(3)]
    assert keys(make_tasks([once, thrice], shard="1/2", repeats=2, estimator=est)) == [
        f"{once.case_id}-0", f"{once.case_id}-1"]


def test_make_tasks_balances_with_the_estimator_given():
    c = three()
    lo, hi = sorted([c["adam"], c["rmsprop"]], key=lambda x: x.case_id)
    # the plan estimate ties these two (same engine, data, regime): the lower id takes shard 1
    assert keys(make_tasks([lo, hi], shard="1/2")) == [f"{lo.case_id}-0"]
    # measured: the higher id is the costlier (4 s v 1 s), so it takes shard 1
    assert keys(make_tasks([lo, hi], shard="1/2", estimator=_est({lo.case_id: 1.0, hi.case_id: 4.0}))) == [
        f"{hi.case_id}-0"]


def test_shard_record_by_hand():
    c = three()
    ids = {name: case.case_id for name, case in c.items()}
    est = _est({ids["adam"]: 5.0, ids["rmsprop"]: 3.0, ids["nadam"]: 4.0})
    spec = ShardSpec(2, 2, "slurm", {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2"})
    rec = shard_record(list(c.values()), spec, filters=["optimizer=adam,rmsprop"], repeats=2, estimator=est)
    # nadam filtered out; --repeats 2: adam 2 x 5 = 10 -> shard 1, rmsprop 2 x 3 = 6 -> shard 2
    assert (rec.index, rec.count, rec.text, rec.source) == (2, 2, "2/2", "slurm")
    assert rec.variables == {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2"}
    assert rec.balance == "run r1"
    assert rec.estimated_s == 6.0 and rec.estimated_loads_s == [10.0, 6.0]
    assert rec.case_ids == [ids["rmsprop"]]
    want = shard_assignment([c["adam"], c["rmsprop"]], 2, repeats=2, estimator=est).sha256
    assert rec.assignment_sha256 == want
    # shard 1 of the same plan: its own load and case, the same hash
    one = shard_record(list(c.values()), ShardSpec(1, 2), filters=["optimizer=adam,rmsprop"], repeats=2,
                       estimator=est)
    assert (one.estimated_s, one.case_ids, one.assignment_sha256) == (10.0, [ids["adam"]], want)
    assert (one.text, one.source, one.variables) == ("1/2", "cli", {})
    # the suite's own repeats (1): loads 5 and 3
    assert shard_record(list(c.values()), spec, filters=["optimizer=adam,rmsprop"],
                        estimator=est).estimated_loads_s == [5.0, 3.0]


def test_shard_record_case_ids_are_sorted_and_default_estimate_is_labelled():
    cases = list(three().values())
    rec = shard_record(cases, ShardSpec(1, 1))
    assert rec.case_ids == sorted(c.case_id for c in cases)
    assert rec.balance == "plan estimate"
    assert rec.estimated_loads_s == [rec.estimated_s] and rec.estimated_s > 0


# ------------------------------------------------------------------ the plan a merge expects
def test_expected_tasks_names_the_suite_of_a_run_json_without_a_path():
    meta = RunMeta.from_dict({"suite": {"text": "[matrix]\noptimizer = [\"nope\"]\n"}})
    with pytest.raises(SuiteError) as err:
        expected_tasks(meta)
    assert err.value.file == "<suite>"
