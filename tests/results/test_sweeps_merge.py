"""harness merge (issue 14): shards of one sweep into one run; every bad input named, nothing half-written."""

from __future__ import annotations

import json

import pytest

from harness import analysis, schema
from harness.cli import main
from harness.results import store
from harness.runner.parent.plan import make_tasks
from harness.suite import parse_suite

from tests.helpers.sweeps_helpers import fake_shard

TEXT = """
[suite]
name = "merge-me"
[defaults]
dataset = { name = "synthetic", n_train = 512 }
repeats = 2
[matrix]
optimizer = ["adam", "rmsprop", "nadam", "sgd"]
engine = ["fast", "eager"]
"""


@pytest.fixture
def suite():
    return parse_suite(TEXT, "merge.toml")


def shards(tmp_path, suite, count=3, **kw):
    return [fake_shard(tmp_path / "shards", suite, i, count, host=f"n{i}", **kw) for i in range(1, count + 1)]


def test_merge_makes_one_run_that_reads_like_any_other(tmp_path, suite, capsys):
    dirs = shards(tmp_path, suite)
    out = tmp_path / "merged"
    assert main(["merge", str(tmp_path / "shards"), "--out", str(out)]) == 0
    assert "merged 3 shard(s), 16 case run(s) (complete)" in capsys.readouterr().out
    run = store.load_run(out)
    keys = set(run.cases["case_id"] + "-" + run.cases["repeat"].astype(str))
    assert keys == {t.key for t in make_tasks(suite.cases)}
    assert set(run.cases["run_id"]) == {"merged"} and set(run.epochs["run_id"]) == {"merged"}
    assert set(run.cases["host"]) == {"n1", "n2", "n3"}
    assert run.meta.status == "complete" and run.meta.options.shard is None
    assert [s.index for s in run.meta.shards] == [1, 2, 3]
    assert {s.path for s in run.meta.shards} == {str(d.resolve()) for d in dirs}
    assert run.meta.merged.assignment_sha256 == store.read_run_json(dirs[0]).shard.assignment_sha256
    # every command reads it; the machine is an axis because it varies per row
    tables = analysis.combine([run])
    assert set(tables["cases"]["machine"]) == {"box-n1", "box-n2", "box-n3"}
    assert "machine" in analysis.config_keys(tables["cases"])
    assert main(["show", str(out)]) == 0
    assert main(["run", "--resume", str(out)]) == 2
    assert "cannot be resumed" in capsys.readouterr().err


def test_missing_cases_are_named_and_partial_is_explicit(tmp_path, suite, capsys):
    dirs = shards(tmp_path, suite)
    out = tmp_path / "merged"
    assert main(["merge", str(dirs[0]), str(dirs[2]), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "missing; shard(s) not given: 2" in err and "--allow-partial" in err
    shard2 = store.read_run_json(dirs[1]).shard.case_ids
    assert all(cid in err for cid in shard2)
    assert not out.exists() and not list(tmp_path.glob(".merged.*"))
    assert main(["merge", str(dirs[0]), str(dirs[2]), "--out", str(out), "--allow-partial"]) == 0
    meta = store.read_run_json(out)
    assert meta.status == "partial" and len(meta.merged.missing) == len(shard2) * 2


def test_shards_that_do_not_belong_together_are_refused(tmp_path, suite, capsys):
    dirs = shards(tmp_path, suite)
    other = parse_suite(TEXT.replace('"sgd"', '"adamw"'), "merge.toml")
    stranger = fake_shard(tmp_path / "other", other, 2, 3)
    out = tmp_path / "merged"
    assert main(["merge", str(dirs[0]), str(stranger), "--out", str(out)]) == 2
    assert "differ in their suite text" in capsys.readouterr().err
    four = fake_shard(tmp_path / "four", suite, 2, 4)
    assert main(["merge", str(dirs[0]), str(four), "--out", str(out)]) == 2
    assert "differ in their shard count" in capsys.readouterr().err
    twice = fake_shard(tmp_path / "again", suite, 1, 3)
    assert main(["merge", *map(str, dirs), str(twice), "--out", str(out)]) == 2
    assert "shard 1/3 given twice" in capsys.readouterr().err
    assert not out.exists()


def test_duplicates_damage_and_bad_output_are_errors(tmp_path, suite, capsys):
    dirs = shards(tmp_path, suite)
    out = tmp_path / "merged"
    stolen = make_tasks(suite.cases, only=set(store.read_run_json(dirs[1]).shard.case_ids))[0]
    dup = fake_shard(tmp_path / "dup", suite, 3, 3, extra=(stolen,))
    assert main(["merge", str(dirs[0]), str(dirs[1]), str(dup), "--out", str(out)]) == 2
    assert f"case run {stolen.key} appears more than once" in capsys.readouterr().err
    (dirs[2] / "run.json").write_text("{ truncated")
    assert main(["merge", *map(str, dirs), "--out", str(out)]) == 4
    assert f"{dirs[2] / 'run.json'}: truncated or invalid JSON" in capsys.readouterr().err
    plain = tmp_path / "plain"
    plain.mkdir()
    store.atomic_write_json(plain / "run.json", {"schema_version": schema.SCHEMA_VERSION, "suite": {"text": TEXT}})
    assert main(["merge", str(dirs[0]), str(plain), "--out", str(out)]) == 2
    assert "not a shard" in capsys.readouterr().err
    (out / "x").mkdir(parents=True)
    assert main(["merge", str(dirs[0]), "--out", str(out)]) == 2
    assert "already exists and is not an empty folder" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m2")]) == 2  # bad input, as in every command
    assert "nowhere: no such folder" in capsys.readouterr().err
    assert main(["merge", str(dirs[0]), "--out", str(tmp_path / "no" / "m3")]) == 4  # unwritable --out
    assert "no such folder (the parent of --out)" in capsys.readouterr().err


def test_shard_run_json_records_index_count_and_hash(tmp_path, suite):
    dirs = shards(tmp_path, suite, count=2)
    metas = [store.read_run_json(d) for d in dirs]
    assert [(m.shard.index, m.shard.count) for m in metas] == [(1, 2), (2, 2)]
    assert metas[0].shard.assignment_sha256 == metas[1].shard.assignment_sha256
    ids = [set(m.shard.case_ids) for m in metas]
    assert not ids[0] & ids[1] and ids[0] | ids[1] == {c.case_id for c in suite.cases}
    json.dumps([m.to_dict() for m in metas])  # plain JSON
    raw = json.loads((dirs[0] / store.RUN_JSON).read_text())  # typed, and kept as written
    assert raw["shard"] == metas[0].shard.to_dict() and raw["meta_version"] == 3
