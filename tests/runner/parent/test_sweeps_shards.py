"""--shard auto from the scheduler's variables, and the balanced assignment (issue 14). Pure functions."""

from __future__ import annotations

import pytest

from harness.errors import EXIT_BAD_INPUT, UsageError
from harness.results import store
from harness.runner.parent.options import RunOptions, restore_options
from harness.runner.parent.plan import make_tasks, shard_assignment
from harness.runner.parent.shards import resolve
from harness.suite import load_suite, parse_suite
from tests.helpers.sweeps_helpers import fake_shard


@pytest.mark.parametrize(("env", "want"), [
    ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "0",
      "SLURM_ARRAY_TASK_MAX": "7"}, (4, 8, "slurm")),
    ({"SLURM_ARRAY_TASK_ID": "12", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_MAX": "13"}, (3, 4, "slurm")),
    ({"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "6",
      "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "4"}, (3, 4, "slurm")),
    ({"JOB_COMPLETION_INDEX": "0", "HARNESS_SHARDS": "5"}, (1, 5, "kubernetes")),
    ({"HARNESS_SHARD": "2/3"}, (2, 3, "harness_shard")),
    ({"HARNESS_SHARD": "2/3", "JOB_COMPLETION_INDEX": "1", "HARNESS_SHARDS": "3"}, (2, 3, "harness_shard")),
])
def test_auto_reads_each_scheduler(env, want):
    spec = resolve("auto", env)
    assert (spec.index, spec.count, spec.source) == want
    assert set(spec.variables) <= set(env)


@pytest.mark.parametrize(("env", "named"), [
    ({}, "SLURM_ARRAY_TASK_ID"),
    ({"JOB_COMPLETION_INDEX": "2"}, "HARNESS_SHARDS is missing"),
    ({"JOB_COMPLETION_INDEX": "5", "HARNESS_SHARDS": "5"}, "JOB_COMPLETION_INDEX=5 is outside"),
    ({"SLURM_ARRAY_TASK_ID": "3"}, "SLURM_ARRAY_TASK_COUNT"),
    ({"SLURM_ARRAY_TASK_COUNT": "4"}, "SLURM_ARRAY_TASK_ID is missing"),
    ({"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1",
      "SLURM_ARRAY_TASK_MAX": "7"}, "not a contiguous range"),
    ({"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "3"}, "SLURM_ARRAY_TASK_ID='x'"),
    ({"HARNESS_SHARD": "1/2", "SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2",
      "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "1"}, "disagree"),
    ({"HARNESS_SHARD": "0/2"}, "HARNESS_SHARD: 0/2"),
])
def test_missing_or_inconsistent_variables_are_named(env, named):
    with pytest.raises(UsageError, match=named) as err:
        resolve("auto", env)
    assert err.value.exit_code == EXIT_BAD_INPUT


def test_assignment_is_balanced_deterministic_and_a_partition():
    cases = load_suite("full").cases
    a, b = shard_assignment(cases, 8), shard_assignment(list(reversed(cases)), 8)
    assert a.sha256 == b.sha256 and a.shard_of == b.shard_of  # same inputs, any order
    assert set(a.shard_of) == {c.case_id for c in cases} and set(a.shard_of.values()) == set(range(1, 9))
    assert max(a.loads) / min(a.loads) < 1.02  # LPT: within 2 % (i mod N: 31 %)
    assert shard_assignment(cases, 7).sha256 != a.sha256
    parts = [{t.key for t in make_tasks(cases, shard=f"{i}/8")} for i in range(1, 9)]
    assert sum(map(len, parts)) == len(set().union(*parts)) == len(make_tasks(cases))


def test_a_resumed_shard_keeps_its_recorded_share(tmp_path, capsys):
    suite = parse_suite('[defaults]\ndataset = { name = "synthetic", n_train = 512 }\n[matrix]\n'
                        'optimizer = ["adam", "rmsprop", "nadam", "sgd", "lion"]\n', "r.toml")
    shard = fake_shard(tmp_path, suite, 2, 3)
    meta = store.read_run_json(shard)
    opts = RunOptions(resume=shard)
    restore_options(opts, meta)
    assert opts.shard == "2/3" and opts.shard_cases == set(meta.shard.case_ids)
    mine = {t.case.case_id for t in make_tasks(suite.cases, only=opts.shard_cases)}
    assert mine == set(meta.shard.case_ids) == {t.case.case_id for t in make_tasks(suite.cases, shard="2/3")}
