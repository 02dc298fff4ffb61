"""``harness merge``'s bookkeeping with literal values, on shards held in memory (no run folders
written but where a test is about the folder): which shards belong together, duplicate and stray
rows refused, what is missing (and the hint to resume), the merged record's ids, times and
totals, each shard's entry. Fast: the mutation subset of harness/results/merge.py."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from harness.errors import ResultsError
from harness.results import merge as mg
from harness.results import store
from harness.run_meta import GitInfo, Machine, OptionsRecord, RunMeta, ShardRecord, SuiteRecord

TEXT = "[matrix]\noptimizer = ['adam', 'sgd']\n"


def meta(index: int, count: int = 2, **kw) -> RunMeta:
    shard = ShardRecord(index=index, count=count, text=f"{index}/{count}", source=kw.pop("source", "cli"),
                        assignment_sha256=kw.pop("sha", "h1"), case_ids=[])
    m = RunMeta(run_id=f"s{index}", status=kw.pop("status", "complete"), harness_version=kw.pop("version", "1.0"),
                started_utc=kw.pop("started", None), ended_utc=kw.pop("ended", None),
                machine=Machine(host=f"n{index}", cpu_model="cpu-x"), git=GitInfo(commit=f"c{index}", dirty=False),
                suite=SuiteRecord(text=kw.pop("text", TEXT), path="m.toml"),
                options=OptionsRecord(filters=kw.pop("filters", []), repeats=kw.pop("repeats", None),
                                      shard=f"{index}/{count}"),
                shard=shard, error="boom", idle_baseline={"rapl": 3.0}, worker_runtime={"tf": "2"})
    assert not kw, kw
    return m


def cases_table(*rows: tuple[str, int]) -> pa.Table:
    return pa.table({"case_id": pa.array([r[0] for r in rows], pa.string()),
                     "repeat": pa.array([r[1] for r in rows], pa.int64()),
                     "wall_s": pa.array([1.0 + r[1] for r in rows], pa.float64())})


def shard(index: int, *rows: tuple[str, int], count: int = 2, path: str | None = None, **kw) -> mg.Shard:
    tables = {"cases": cases_table(*rows)} if rows else {}
    return mg.Shard(Path(path or f"/runs/shard-{index}"), meta(index, count, **kw), tables)


PLAN = [("a-0", "adam"), ("b-0", "sgd"), ("a-1", "adam"), ("b-1", "sgd")]


def expected(_meta):
    return list(PLAN)


@pytest.fixture
def merged(monkeypatch, tmp_path):
    """merge() over in-memory shards: loading by path from a dict, the written result captured."""
    given: dict[str, mg.Shard] = {}
    written: dict = {}
    monkeypatch.setattr(mg, "shard_dirs", lambda inputs: [Path(p) for p in inputs])
    monkeypatch.setattr(mg, "_load_shard", lambda p: given[str(p)])

    def write(out, tables, meta_):
        written.update(out=out, tables=tables, meta=meta_)

    monkeypatch.setattr(mg, "_write", write)

    def run(*shards: mg.Shard, allow_partial: bool = False, plan=expected):
        given.clear()
        given.update({str(s.path): s for s in shards})
        asked: list[RunMeta] = []

        def planned(m):
            asked.append(m)
            return plan(m)

        inputs, out = [s.path for s in shards], tmp_path / "m1"
        summary = (mg.merge(inputs, out, planned, allow_partial=True) if allow_partial
                   else mg.merge(inputs, out, planned))  # the default: not partial
        first = min(shards, key=lambda s: s.meta.shard.index)
        assert asked == [first.meta] and asked[0] is first.meta  # the plan of the first shard's run.json
        assert written["out"] == out
        return summary, written

    return run


def test_a_complete_merge_by_hand(merged, tmp_path):
    s2 = shard(2, ("b", 0), ("b", 1), started="2026-01-01T09:00:00", ended="2026-01-01T12:00:00")
    s1 = shard(1, ("a", 0), ("a", 1), ("a", 2), started="2026-01-01T10:00:00", ended="2026-01-01T11:00:00")
    plan = PLAN + [("a-2", "adam")]
    summary, out = merged(s2, s1, plan=lambda m: plan)  # given out of order: merged by shard index
    assert summary.out == tmp_path / "m1" and summary.shards == [s1.path, s2.path]
    assert summary.runs == 5 and summary.missing == [] and summary.partial is False
    cases = out["tables"]["cases"]
    assert list(cases["case_id"] + "-" + cases["repeat"].astype(str)) == ["a-0", "a-1", "a-2", "b-0", "b-1"]
    assert set(cases["run_id"]) == {"m1"} and list(cases["wall_s"]) == [1.0, 2.0, 3.0, 1.0, 2.0]
    assert set(out["tables"]) == set(mg.schema.TABLES) and out["tables"]["epochs"].empty
    assert {str(df["run_id"].dtype) for df in out["tables"].values()} == {"string"}  # empty tables too
    m = out["meta"]
    assert (m.run_id, m.status, m.shard, m.error, m.idle_baseline, m.worker_runtime) == (
        "m1", "complete", None, None, None, None)
    assert (m.started_utc, m.ended_utc) == ("2026-01-01T09:00:00", "2026-01-01T12:00:00")  # earliest, latest
    # a record of its own: nothing shared with the first shard's
    assert m.machine is not s1.meta.machine and m.suite is not s1.meta.suite
    assert m.options.filters is not s1.meta.options.filters
    assert m.options.shard is None and m.options.filters == [] and m.suite.text == TEXT
    assert (m.merged.count, m.merged.assignment_sha256, m.merged.missing) == (2, "h1", [])
    assert m.merged.utc is not None and len(m.merged.utc) == 25  # 2026-01-01T09:00:00+00:00
    assert m.machine.host == "n1" and s1.meta.shard is not None and s1.meta.error == "boom"  # the shard untouched
    e1, e2 = m.shards
    assert (e1.index, e1.count, e1.run_id, e1.path, e1.status, e1.host, e1.runs, e1.source) == (
        1, 2, "shard-1", str(Path("/runs/shard-1").resolve()), "complete", "n1", 3, "cli")
    assert (e1.machine["host"], e1.machine["cpu_model"], e1.git["commit"]) == ("n1", "cpu-x", "c1")
    assert (e1.started_utc, e1.ended_utc) == ("2026-01-01T10:00:00", "2026-01-01T11:00:00")
    assert (e2.index, e2.run_id, e2.host, e2.runs, e2.git["commit"]) == (2, "shard-2", "n2", 2, "c2")


def test_times_unknown_in_every_shard_stay_unknown(merged):
    _, out = merged(shard(1, ("a", 0), ("a", 1)), shard(2, ("b", 0), ("b", 1)))
    assert (out["meta"].started_utc, out["meta"].ended_utc) == (None, None)
    # one shard's times known, the other's not: those known
    _, out = merged(shard(1, ("a", 0), ("a", 1), started="2026-02-02T00:00:00"),
                    shard(2, ("b", 0), ("b", 1), ended="2026-02-03T00:00:00"))
    assert (out["meta"].started_utc, out["meta"].ended_utc) == ("2026-02-02T00:00:00", "2026-02-03T00:00:00")


def test_missing_runs_are_named_with_the_shards_not_given(merged):
    with pytest.raises(mg.MergeError) as err:
        merged(shard(1, ("a", 0), ("a", 1), count=3))
    assert str(err.value) == (
        "2 of 4 case run(s) missing; shard(s) not given: 2, 3: sgd (#0, b-0); sgd (#1, b-1). Resume the shards "
        "that stopped (harness run --resume SHARD_DIR), or --allow-partial to merge what there is")


def test_the_first_shard_not_given_is_named(merged):
    with pytest.raises(mg.MergeError) as err:
        merged(shard(2, ("b", 0), ("b", 1)))
    assert str(err.value).startswith("2 of 4 case run(s) missing; shard(s) not given: 1: adam (#0, a-0); adam (#1, a-1).")


def test_the_repeat_is_after_the_last_hyphen(merged):
    plan = [("x-y-0", "x/y"), ("x-y-12", "x/y")]
    with pytest.raises(mg.MergeError) as err:
        merged(shard(1, ("x-y", 0), count=1), plan=lambda m: plan)
    assert "missing: x/y (#12, x-y-12)." in str(err.value)


def test_missing_runs_of_a_shard_that_stopped_have_no_absent_shard(merged):
    # every shard given; shard 2 stopped after b-0: what it still owes is b-1, named
    with pytest.raises(mg.MergeError) as err:
        merged(shard(1, ("a", 0), ("a", 1)), shard(2, ("b", 0)))
    assert str(err.value).startswith("1 of 4 case run(s) missing: sgd (#1, b-1). Resume the shards that stopped")


def test_allow_partial_records_what_is_missing(merged):
    summary, out = merged(shard(1, ("a", 0), ("a", 1)), shard(2, ("b", 1)), allow_partial=True)
    assert summary.missing == ["sgd (#0, b-0)"] and summary.partial is True and summary.runs == 3
    assert out["meta"].status == "partial" and out["meta"].merged.missing == ["sgd (#0, b-0)"]
    assert [e.runs for e in out["meta"].shards] == [2, 1]


def test_only_the_first_twenty_missing_are_listed(merged):
    plan = [(f"c{i:02d}-0", f"case{i:02d}") for i in range(22)]
    with pytest.raises(mg.MergeError) as err:  # exactly 20 missing (c01..c20): all listed, no "..."
        merged(shard(1, ("c00", 0), ("c21", 0), count=1), plan=lambda m: plan)
    text = str(err.value)
    assert text.startswith("20 of 22 case run(s) missing: case01 (#0, c01-0); case02 (#0, c02-0); ")
    assert text.count("(#0,") == 20 and "case20 (#0, c20-0). Resume" in text
    with pytest.raises(mg.MergeError) as err:  # 21 missing: the first 20, then "..."
        merged(shard(1, ("c00", 0), count=1), plan=lambda m: plan)
    text = str(err.value)
    assert text.startswith("21 of 22 case run(s) missing: case01 (#0, c01-0);")
    assert text.count("(#0,") == 20 and "case20 (#0, c20-0) .... Resume" in text and "c21-0" not in text


def test_rows_outside_the_plan_are_refused(merged):
    with pytest.raises(mg.MergeError) as err:
        merged(shard(1, ("a", 0), ("a", 1), ("z", 0), ("a", 7)), shard(2, ("b", 0), ("b", 1)))
    assert str(err.value) == "2 row(s) match no case of the suite's plan (first: a-7, z-0)"
    six = [(f"x{i}", 0) for i in range(6)]
    with pytest.raises(mg.MergeError) as err:
        merged(shard(1, ("a", 0), ("a", 1), *six), shard(2, ("b", 0), ("b", 1)))
    assert str(err.value) == "6 row(s) match no case of the suite's plan (first: x0-0, x1-0, x2-0, x3-0, x4-0)"


def test_duplicate_rows_are_refused_naming_the_shards(merged):
    with pytest.raises(mg.MergeError) as err:
        merged(shard(1, ("a", 0), ("a", 1), ("b", 1)), shard(2, ("b", 0), ("b", 1)))
    assert str(err.value) == ("case run b-1 appears more than once (1 duplicated) in /runs/shard-1, /runs/shard-2; "
                              "each case x repeat must come from one shard")
    with pytest.raises(mg.MergeError) as err:  # twice inside one shard, and another pair
        merged(shard(1, ("a", 0), ("b", 0), ("a", 1), ("a", 0)), shard(2, ("b", 0), ("b", 1)))
    assert str(err.value).startswith("case run a-0 appears more than once (2 duplicated) in /runs/shard-1, "
                                     "/runs/shard-2;")
    with pytest.raises(mg.MergeError) as err:  # within shard 2 only: shard 1 not named
        merged(shard(1, ("a", 0), ("a", 1)), shard(2, ("b", 0), ("b", 1), ("b", 1)))
    assert "in /runs/shard-2; each" in str(err.value)


@pytest.mark.parametrize(("change", "what"), [
    ({"text": TEXT + "# changed\n"}, "suite text"),
    ({"version": "1.1"}, "harness version"),
    ({"filters": ["optimizer=adam"]}, "case selection (--filter, --repeats)"),
    ({"repeats": 3}, "case selection (--filter, --repeats)"),
    ({"count": 3}, "shard count"),
    ({"sha": "h2"}, "shard assignment (balanced with other estimates?)"),
])
def test_shards_of_another_sweep_are_refused(merged, change, what):
    change = dict(change)  # the parameter itself stays as given (a test may run again in one process)
    count = change.pop("count", 2)
    other = mg.Shard(Path("/runs/other"), meta(2, count, **change), {"cases": cases_table(("b", 0))})
    with pytest.raises(mg.MergeError) as err:
        merged(shard(1, ("a", 0)), other)
    assert str(err.value) == f"/runs/other and /runs/shard-1 differ in their {what}: not shards of one sweep"


def test_a_third_shard_is_compared_with_the_first():
    a, b, c = shard(1, ("a", 0), count=3), shard(2, ("b", 0), count=3), shard(3, count=3, version="9")
    with pytest.raises(mg.MergeError, match="/runs/shard-3 and /runs/shard-1 differ in their harness version"):
        mg._check_same([a, b, c])


def test_a_shard_given_twice_is_refused():
    a, again = shard(1, ("a", 0)), shard(1, ("a", 0), path="/runs/copy")
    with pytest.raises(mg.MergeError) as err:
        mg._check_same([a, shard(2), again])
    assert str(err.value) == "shard 1/2 given twice: /runs/shard-1 and /runs/copy"
    mg._check_same([a, shard(2)])  # each index once: fine


def test_rows_of_a_shard_and_empty_tables():
    assert list(mg._rows_of(shard(1, ("a", 0), ("b", 3)))) == ["a-0", "b-3"]
    assert mg._rows_of(shard(1)).empty  # no cases table
    empty = mg.Shard(Path("/runs/e"), meta(1), {"cases": cases_table()})
    assert mg._rows_of(empty).empty and mg._shard_entry(empty).runs == 0
    frame = mg._concat([empty, shard(2)], "cases")  # nothing to concatenate: the declared empty table
    assert frame.empty and list(frame.columns) == list(mg.schema.TABLES["cases"])


def test_tables_that_do_not_fit_together_are_named():
    bad = mg.Shard(Path("/runs/x"), meta(2), {"cases": pa.table({"case_id": pa.array([1], pa.int64()),
                                                                  "repeat": pa.array([[1]])})})
    with pytest.raises(ResultsError, match="the shards' cases tables do not fit together"):
        mg._concat([shard(1, ("a", 0)), bad], "cases")


# ------------------------------------------------------------------ folders (small, on disk)
def write_json(folder: Path, doc: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    store.atomic_write_json(folder / store.RUN_JSON, {"schema_version": mg.schema.SCHEMA_VERSION, **doc})
    return folder


def test_the_output_folder_checks(tmp_path):
    mg._check_out(tmp_path / "new")  # absent: fine
    (tmp_path / "empty").mkdir()
    mg._check_out(tmp_path / "empty")  # empty: fine
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    (tmp_path / "file").write_text("")
    for name in ("full", "file"):
        with pytest.raises(mg.MergeError) as err:
            mg._check_out(tmp_path / name)
        assert str(err.value) == f"{tmp_path / name}: already exists and is not an empty folder; choose a new --out"
    with pytest.raises(ResultsError) as err:
        mg._check_out(tmp_path / "no" / "m")
    assert str(err.value) == f"{tmp_path / 'no'}: no such folder (the parent of --out)"


def test_shard_folders_found_once_each(tmp_path):
    a = write_json(tmp_path / "runs" / "a", {})
    b = write_json(tmp_path / "runs" / "b", {})
    assert mg.shard_dirs([tmp_path / "runs", a, tmp_path / "runs" / ".." / "runs" / "b"]) == [a, b]
    (tmp_path / "none").mkdir()
    with pytest.raises(mg.MergeError) as err:
        mg.shard_dirs([tmp_path / "none"])
    assert str(err.value) == f"{tmp_path / 'none'}: no harness run folder there (no run.json in it or its subfolders)"
    assert b.exists()


def test_what_is_not_a_shard_is_refused(tmp_path):
    plain = write_json(tmp_path / "plain", {"suite": {"text": TEXT}})
    with pytest.raises(mg.MergeError) as err:
        mg._load_shard(plain)
    assert str(err.value) == (f"{plain}: not a shard (run without --shard I/N or --shard auto); "
                              "merge combines the shards of one sharded suite")
    unhashed = write_json(tmp_path / "unhashed", {"shard": {"index": 1, "count": 2}})
    with pytest.raises(mg.MergeError, match="not a shard"):
        mg._load_shard(unhashed)
    done = write_json(tmp_path / "done", {"merged": {"count": 2}, "shards": [{"path": "/r/s1"}, {"path": "/r/s2"}]})
    with pytest.raises(mg.MergeError) as err:
        mg._load_shard(done)
    assert str(err.value) == f"{done}: already a merged run; give its shards (/r/s1, /r/s2)"


def test_a_running_shard_is_refused_only_while_locked(tmp_path):
    run = write_json(tmp_path / "s1", {"status": "running",
                                       "shard": {"index": 1, "count": 2, "assignment_sha256": "h1"}})
    lock = store.lock_run(run)
    try:
        assert mg._locked(run) is True
        with pytest.raises(mg.MergeError) as err:
            mg._load_shard(run)
        assert str(err.value) == f"{run}: shard 1/2 is still running; wait for it"
    finally:
        lock.release()
    assert mg._locked(run) is False
    loaded = mg._load_shard(run)  # killed while running: its lock is gone, it merges as it stands
    assert (loaded.path, loaded.run_id, loaded.tables) == (run, "s1", {})
    assert (loaded.meta.status, loaded.meta.shard.index, loaded.meta.shard.assignment_sha256) == ("running", 1, "h1")


def test_write_makes_the_folder_in_one_rename(tmp_path):
    tables = {name: mg.schema.frame(name, []) for name in mg.schema.TABLES}
    tables["cases"] = mg.schema.frame("cases", [{"run_id": "m", "case_id": "a", "repeat": 0}])
    out = tmp_path / "m"
    out.mkdir()  # an empty folder is replaced
    mg._write(out, tables, RunMeta(run_id="m", status="complete"))
    assert sorted(p.name for p in out.iterdir()) == ["cases.parquet", "epochs.parquet", "run.json",
                                                     "samples.parquet"]  # empty workers and ops: not written
    assert oct(out.stat().st_mode & 0o777) == oct(0o777 & ~mg._umask())
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no hidden folder left
    assert store.read_run_json(out).run_id == "m"


def test_a_write_that_fails_leaves_nothing(tmp_path, monkeypatch):
    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "write_run_json", full)
    with pytest.raises(ResultsError) as err:
        mg._write(tmp_path / "m", {}, RunMeta())
    assert str(err.value) == f"{tmp_path / 'm'}: could not write the merged run (No space left on device)"
    assert list(tmp_path.iterdir()) == []

    def stop(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "write_run_json", stop)
    with pytest.raises(KeyboardInterrupt):
        mg._write(tmp_path / "m", {}, RunMeta())
    assert list(tmp_path.iterdir()) == []


def test_umask_is_read_and_restored():
    old = os.umask(0o027)
    try:
        assert mg._umask() == 0o027 and mg._umask() == 0o027
    finally:
        os.umask(old)


def test_columns_one_shard_lacks_are_filled_not_refused():
    old = mg.Shard(Path("/runs/old"), meta(2), {"cases": pa.table({"case_id": ["b"], "repeat": pa.array([0])})})
    frame = mg._concat([shard(1, ("a", 0)), old], "cases")  # a shard written before wall_s existed
    assert list(frame["case_id"]) == ["a", "b"] and frame["wall_s"].iloc[0] == 1.0
    assert frame["wall_s"].isna().iloc[1]


# ------------------------------------------------------------------ a shard's tables read from its folder
def folder(root: Path, rows, *, parts: int = 0, tables: bool = True) -> Path:
    """A shard folder: its tables (cases, epochs, samples) for ``rows`` and the first ``parts`` journal entries."""
    from harness.results.journal import write_part

    d = root / "s1"
    results = [store.CaseResult(case={"run_id": "s1", "case_id": c, "repeat": r, "status": "ok", "wall_s": 2.0},
                                epochs=[{"run_id": "s1", "case_id": c, "repeat": r, "epoch": 1, "loss": 0.5}])
               for c, r in rows]
    write_json(d, {"shard": {"index": 1, "count": 1, "assignment_sha256": "h1"}, "status": "complete"})
    if tables:
        store.write_tables(d, results)
    for res in results[:parts]:
        write_part(d, res)
    return d


def test_tables_read_as_written_when_the_journal_agrees(tmp_path):
    for parts in (0, 2):  # no journal, or one entry per row
        d = folder(tmp_path / str(parts), [("a", 0), ("a", 1)], parts=parts)
        got = mg._arrow_tables(d)
        assert set(got) == {"cases", "epochs", "samples"}  # as written: no workers or ops file
        assert got["cases"].column("repeat").to_pylist() == [0, 1] and got["epochs"].num_rows == 2
        assert "__index_level_0__" not in got["cases"].column_names


def test_tables_behind_the_journal_are_rebuilt_from_it(tmp_path):
    # killed after the third case's journal entry, before the tables' rewrite (which hold two)
    d = folder(tmp_path / "x", [("a", 0), ("a", 1)], parts=2)
    from harness.results.journal import write_part

    write_part(d, store.CaseResult(case={"run_id": "s1", "case_id": "b", "repeat": 0, "status": "ok"}, epochs=[]))
    got = mg._arrow_tables(d)
    assert set(got) == set(store.TABLE_FILES)  # every table, rebuilt
    assert sorted(zip(got["cases"].column("case_id").to_pylist(), got["cases"].column("repeat").to_pylist(),
                      strict=True)) == [("a", 0), ("a", 1), ("b", 0)]
    assert "__index_level_0__" not in got["cases"].column_names


def test_a_shard_killed_before_its_first_table_is_read_from_its_journal(tmp_path):
    # killed before any table was written: one journal entry
    e = folder(tmp_path / "y", [("c", 0)], parts=1, tables=False)
    assert mg._arrow_tables(e)["cases"].column("case_id").to_pylist() == ["c"]
    assert mg._arrow_tables(folder(tmp_path / "z", [], tables=False)) == {}  # nothing at all


def test_a_corrupt_table_is_named(tmp_path, monkeypatch):
    d = folder(tmp_path, [("a", 0)])

    def broken(path, *a, **k):
        raise OSError("bad page")

    monkeypatch.setattr(mg.pq, "read_table", broken)
    with pytest.raises(ResultsError) as err:
        mg._arrow_tables(d)
    assert str(err.value) == f"{d / 'cases.parquet'}: truncated or corrupt parquet file (bad page)"


def test_write_builds_in_a_hidden_sibling(tmp_path, monkeypatch):
    seen: list[Path] = []
    real = store.write_table

    def record(path, name, df):
        seen.append(Path(path).parent)
        real(path, name, df)

    monkeypatch.setattr(store, "write_table", record)
    tables = {name: mg.schema.frame(name, []) for name in mg.schema.TABLES}
    tables["ops"] = mg.schema.frame("ops", [{"run_id": "m", "case_id": "a", "repeat": 0, "op_name": "MatMul"}])
    mg._write(tmp_path / "m", tables, RunMeta(run_id="m"))
    tmp = seen[0]
    assert tmp.parent == tmp_path and tmp.name.startswith(".m.") and tmp.name.endswith(".merging")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "cases.parquet", "epochs.parquet", "ops.parquet", "run.json", "samples.parquet"]  # ops after empty workers


def test_a_parent_that_cannot_be_written_is_named(tmp_path, monkeypatch):
    def refuse(**k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(mg.tempfile, "mkdtemp", refuse)
    with pytest.raises(ResultsError) as err:
        mg._write(tmp_path / "m", {}, RunMeta())
    assert str(err.value) == f"{tmp_path}: cannot write there (Permission denied)"

    def bare(**k):
        raise OSError("quota")

    monkeypatch.setattr(mg.tempfile, "mkdtemp", bare)
    with pytest.raises(ResultsError) as err:
        mg._write(tmp_path / "m", {}, RunMeta())
    assert str(err.value) == f"{tmp_path}: cannot write there (quota)"
