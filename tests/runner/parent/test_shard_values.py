"""SLURM arrays with an odd first index and a step of 3, the variables a shard records, and every
refusal of ``--shard auto`` in full (flag, empty value, message). Pure functions."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.runner.parent.shards import resolve

ODD = {"SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "7", "SLURM_ARRAY_TASK_STEP": "3"}  # 1, 4, 7


@pytest.mark.parametrize(("task", "index"), [("1", 1), ("4", 2), ("7", 3)])
def test_a_stepped_array_from_an_odd_minimum(task, index):
    # --array=1-7:3 holds tasks 1, 4, 7: (task - 1) / 3 + 1
    env = {"SLURM_ARRAY_TASK_ID": task, **ODD}
    spec = resolve("auto", env)
    assert (spec.index, spec.count, spec.source, spec.text) == (index, 3, "slurm", f"{index}/3")
    assert spec.variables == env  # every SLURM variable read, recorded for run.json


@pytest.mark.parametrize("task", ["2", "3", "5", "8", "10", "0"])
def test_a_task_off_the_stepped_array_is_refused(task):
    with pytest.raises(UsageError) as err:
        resolve("auto", {"SLURM_ARRAY_TASK_ID": task, **ODD})
    assert str(err.value) == (f"--shard auto: SLURM_ARRAY_TASK_ID={task} is outside the array "
                              "(MIN=1, step 3, 3 tasks)")


def test_a_step_that_does_not_divide_the_range_is_refused():
    with pytest.raises(UsageError) as err:
        resolve("auto", {"SLURM_ARRAY_TASK_ID": "1", **ODD, "SLURM_ARRAY_TASK_MAX": "8"})
    assert str(err.value) == "--shard auto: SLURM_ARRAY_TASK_STEP=3 does not fit MIN=1, MAX=8"


def test_a_step_alone_is_not_an_array():
    # SLURM_ARRAY_TASK_STEP without the task id is not read as a half-set array
    assert resolve("auto", {"SLURM_ARRAY_TASK_STEP": "2", "HARNESS_SHARD": "1/2"}).source == "harness_shard"


@pytest.mark.parametrize(("env", "message"), [
    ({"SLURM_ARRAY_TASK_MAX": "3"},
     "SLURM_ARRAY_TASK_COUNT/MIN/MAX are set but SLURM_ARRAY_TASK_ID is missing"),
    ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "0"},
     "SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MIN and "
     "SLURM_ARRAY_TASK_MAX are"),
    ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MAX": "4"},
     "SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MIN and "
     "SLURM_ARRAY_TASK_MAX are"),
    ({"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1",
      "SLURM_ARRAY_TASK_MAX": "7"},
     "SLURM_ARRAY_TASK_COUNT=3 but MIN..MAX (1..7, step 1) holds 7 tasks: the array is not a contiguous "
     "range; submit --array=0-(N-1)"),
    ({"JOB_COMPLETION_INDEX": "x", "HARNESS_SHARDS": "2"}, "JOB_COMPLETION_INDEX='x' is not an integer"),
])
def test_refusals_in_full(env, message):
    with pytest.raises(UsageError) as err:
        resolve("auto", env)
    assert (err.value.flag, err.value.value, err.value.message) == ("--shard auto", "", message)
    assert str(err.value) == f"--shard auto: {message}"
