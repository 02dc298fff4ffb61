"""Each scheduler played locally (issue 14): N shard processes at once, with the variables that
scheduler sets, then merged; the merged run holds exactly the single-machine plan's case runs.

Real processes and real (tiny) training: each shard process is ``harness run SUITE --shard auto``,
all writing into one results folder (a shared file system). To keep the suite's CPU budget, only the
SLURM play splits two training cases; the Kubernetes and CI plays run one case (``--filter``), so
their second shard is an empty one, which must still agree on the assignment and merge cleanly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.results import store
from harness.runner.parent.plan import make_tasks
from harness.suite import load_suite
from tests.helpers.suites import tiny_suite_text

SUITE = tiny_suite_text("played", """
[matrix]
optimizer = ["adam", "minibatch_sgd"]
""", n_train=256, n_test=64, batch_size=64)

SCHEDULERS = {
    # a SLURM job array --array=4-6: three tasks (one finds no case: more shards than cases)
    "slurm": [{"SLURM_ARRAY_TASK_ID": str(4 + i), "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_MAX": "6",
               "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_JOB_ID": "77"} for i in range(3)],
    # a Kubernetes Indexed Job, completions: 2 (HARNESS_SHARDS passed by the manifest)
    "kubernetes": [{"JOB_COMPLETION_INDEX": str(i), "HARNESS_SHARDS": "2"} for i in range(2)],
    # a GitHub Actions matrix: shard: [1, 2] -> HARNESS_SHARD: ${{ matrix.shard }}/2
    "github": [{"HARNESS_SHARD": f"{i}/2", "GITHUB_ACTIONS": "true"} for i in (1, 2)],
}


@pytest.mark.slow
@pytest.mark.parametrize("scheduler", sorted(SCHEDULERS))
def test_scheduler_shards_merge_into_the_single_machine_run(scheduler, tmp_path, capsys):
    suite_file = tmp_path / "played.toml"
    suite_file.write_text(SUITE)
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLURM_", "JOB_COMPLETION_INDEX", "HARNESS_SHARD"))}
    part = [] if scheduler == "slurm" else ["--filter", "optimizer=adam"]
    procs = [subprocess.Popen([sys.executable, "-m", "harness", "run", str(suite_file), "--shard", "auto",
                               *part, "--results-dir", str(tmp_path / "shards"), "--no-progress"],
                              env={**base, **variables}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for variables in SCHEDULERS[scheduler]]  # all started at once
    outs = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), [err[-2000:] for _out, err in outs]
    shard_dirs = sorted(Path(tmp_path / "shards").glob("*/"))
    metas = [store.read_run_json(d) for d in shard_dirs]
    assert sorted(m.shard.index for m in metas) == list(range(1, len(procs) + 1))
    assert {m.shard.source for m in metas} == {"harness_shard" if scheduler == "github" else scheduler}
    assert len({m.shard.assignment_sha256 for m in metas}) == 1

    assert main(["merge", str(tmp_path / "shards"), "--out", str(tmp_path / "merged")]) == 0
    merged = store.load_run(tmp_path / "merged")
    filters = part[1:]  # what one machine would run, with the same selection
    single = {t.key for t in make_tasks(load_suite(suite_file).cases, filters=filters)}
    assert set(merged.cases["case_id"] + "-" + merged.cases["repeat"].astype(str)) == single
    assert set(merged.cases["status"]) == {"ok"} and merged.meta.status == "complete"
    assert merged.cases["host"].notna().all() and merged.cases["machine"].notna().all()
    assert main(["show", str(tmp_path / "merged")]) == 0
    assert "adam" in capsys.readouterr().out
