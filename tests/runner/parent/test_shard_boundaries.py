"""Shards pinned at their boundaries (the last shard, one past it, the first and the array's ends)
and the longest-processing-time assignment worked by hand. Pure functions."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.errors import UsageError
from harness.runner.parent.plan import parse_shard
from harness.runner.parent.shards import assign, parse_shard_text, resolve


def test_shard_text_at_its_bounds():
    assert parse_shard("4/4") == (4, 4) and parse_shard("1/4") == (1, 4) and parse_shard("1/1") == (1, 1)
    assert parse_shard(None) is None and parse_shard("") is None
    for bad in ("5/4", "0/4", "-1/4", "2/1", "a/4", "2-4", "1/2/3"):
        with pytest.raises(UsageError, match="expected I/N with 1 <= I <= N"):
            parse_shard_text(bad)
    assert parse_shard_text("3/7").text == "3/7"


@pytest.mark.parametrize(("env", "want"), [
    ({"JOB_COMPLETION_INDEX": "4", "HARNESS_SHARDS": "5"}, (5, 5)),  # the last index
    ({"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "8"}, (8, 8)),  # MIN defaults to 0
    ({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "8"}, (1, 8)),
    ({"SLURM_ARRAY_TASK_ID": "13", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_MAX": "13"}, (4, 4)),
    ({"SLURM_ARRAY_TASK_ID": "10", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_MAX": "13"}, (1, 4)),
    ({"SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "6",
      "SLURM_ARRAY_TASK_STEP": "2"}, (4, 4)),
    ({"HARNESS_SHARD": "3/3"}, (3, 3)),
])
def test_scheduler_indices_at_the_array_ends(env, want):
    spec = resolve("auto", env)
    assert (spec.index, spec.count) == want


@pytest.mark.parametrize(("env", "named"), [
    ({"JOB_COMPLETION_INDEX": "-1", "HARNESS_SHARDS": "5"}, "JOB_COMPLETION_INDEX=-1 is outside"),
    ({"JOB_COMPLETION_INDEX": "0", "HARNESS_SHARDS": "0"}, "outside 0..HARNESS_SHARDS-1"),
    ({"SLURM_ARRAY_TASK_ID": "8", "SLURM_ARRAY_TASK_COUNT": "8"}, "SLURM_ARRAY_TASK_ID=8 is outside the array"),
    ({"SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_MAX": "13"},
     "SLURM_ARRAY_TASK_ID=9 is outside the array \\(MIN=10, step 1, 4 tasks\\)"),
    ({"SLURM_ARRAY_TASK_ID": "14", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_MAX": "13"}, "outside"),
    ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "6",
      "SLURM_ARRAY_TASK_STEP": "2"}, "outside the array"),
    ({"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "5",
      "SLURM_ARRAY_TASK_STEP": "2"}, "SLURM_ARRAY_TASK_STEP=2 does not fit MIN=0, MAX=5"),
    ({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_STEP": "0"},
     "SLURM_ARRAY_TASK_STEP=0 does not fit"),
    ({"HARNESS_SHARD": "4/3"}, "expected I/N"),
])
def test_one_past_the_array_is_refused(env, named):
    with pytest.raises(UsageError, match=named):
        resolve("auto", env)


def _cases(*ids: str) -> list:
    return [SimpleNamespace(case_id=i) for i in ids]


def test_longest_processing_time_by_hand():
    # costs 7, 5, 4, 3, 1 onto 2 shards: 7 -> 1; 5 -> 2; 4 -> 2 (5 < 7); 3 -> 1 (7 < 9); 1 -> 2 (9 < 10)
    cost = {"a": 7.0, "b": 5.0, "c": 4.0, "d": 3.0, "e": 1.0}
    a = assign(_cases("e", "d", "c", "b", "a"), 2, cost)
    assert a.shard_of == {"a": 1, "b": 2, "c": 2, "d": 1, "e": 2}
    assert a.loads == (10.0, 10.0)
    assert a.cases_of(2) == {"b", "c", "e"}
    # 6, 6 onto 2, then 1: equal loads 6 and 6 -> the lower shard
    t = assign(_cases("p", "q", "r"), 2, {"p": 6.0, "q": 6.0, "r": 1.0})
    assert t.shard_of == {"p": 1, "q": 2, "r": 1} and t.loads == (7.0, 6.0)
    # equal costs: ties broken by case id, then the lower shard
    b = assign(_cases("y", "x", "z"), 3, {"x": 1.0, "y": 1.0, "z": 1.0})
    assert b.shard_of == {"x": 1, "y": 2, "z": 3} and b.loads == (1.0, 1.0, 1.0)
    assert assign(_cases("x", "y", "z"), 3, {"x": 1.0, "y": 1.0, "z": 1.0}).sha256 == b.sha256
    one = assign(_cases("a", "b"), 1, {"a": 2.0, "b": 3.0})
    assert one.shard_of == {"a": 1, "b": 1} and one.loads == (5.0,)
    empty = assign(_cases("a"), 3, {"a": 2.0})
    assert empty.loads == (2.0, 0.0, 0.0) and empty.cases_of(3) == set()


def test_messages_in_full():
    def message(env):
        with pytest.raises(UsageError) as err:
            resolve("auto", env)
        return str(err.value)

    assert message({}) == (
        "--shard auto: no scheduler variables found: set SLURM_ARRAY_TASK_ID (a SLURM job array), "
        "JOB_COMPLETION_INDEX and HARNESS_SHARDS (a Kubernetes Indexed Job) or HARNESS_SHARD=I/N "
        "(e.g. a CI matrix); or give --shard I/N")
    assert message({"HARNESS_SHARD": "1/2", "JOB_COMPLETION_INDEX": "1", "HARNESS_SHARDS": "2"}) == (
        "--shard auto: the scheduler variables disagree (harness_shard: 1/2 from HARNESS_SHARD=1/2; "
        "kubernetes: 2/2 from JOB_COMPLETION_INDEX=1, HARNESS_SHARDS=2); unset the ones that do not apply")
    assert message({"JOB_COMPLETION_INDEX": "1"}) == (
        "--shard auto: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but HARNESS_SHARDS is missing: "
        "set it to the Job's completions")
    with pytest.raises(UsageError) as err:
        parse_shard_text("5/4")
    assert str(err.value) == "--shard: 5/4: expected I/N with 1 <= I <= N, e.g. 2/4"
    with pytest.raises(UsageError) as err:
        parse_shard_text("x", "HARNESS_SHARD")
    assert str(err.value) == "HARNESS_SHARD: x: expected I/N with 1 <= I <= N, e.g. 2/4"


def test_one_shard_the_environment_and_recorded_variables(monkeypatch):
    spec = resolve("auto", {"JOB_COMPLETION_INDEX": "0", "HARNESS_SHARDS": "1"})
    assert (spec.index, spec.count, spec.source) == (1, 1, "kubernetes")  # exactly one shard is fine
    assert spec.variables == {"JOB_COMPLETION_INDEX": "0", "HARNESS_SHARDS": "1"}
    assert (resolve("3/4").index, resolve("3/4").source) == (3, "cli")
    assert resolve(None) is None and resolve("") is None
    monkeypatch.setenv("HARNESS_SHARD", "2/5")
    assert resolve("AUTO").text == "2/5"  # the process environment, read when none is given


def test_assignment_hash_is_of_the_written_blob():
    import hashlib

    a = assign(_cases("a", "b"), 2, {"a": 2.0, "b": 1.0})
    blob = b'{"count":2,"shard_of":[["a",1],["b",2]]}'  # compact separators, sorted items
    assert a.sha256 == hashlib.sha256(blob).hexdigest()
