"""Results store integrity: damaged or foreign files give clear errors; history loading skips them."""

from __future__ import annotations

import json
import logging
import pickle

import pandas as pd
import pytest

from harness import schema
from harness.cli import main
from harness.errors import ResultsError
from harness.results import store


def make_run(root, name: str, n: int = 2, status: str = "complete"):
    run_dir = root / name
    run_dir.mkdir(parents=True)
    results = [store.CaseResult(case={"run_id": name, "case_id": f"c{i}", "case_label": f"case{i}", "repeat": 0,
                                      "status": "ok", "samples_per_s": 100.0 + i},
                                epochs=[{"run_id": name, "case_id": f"c{i}", "repeat": 0, "epoch": 1, "loss": 0.5}])
               for i in range(n)]
    for r in results:
        store.write_part(run_dir, r)
    store.write_tables(run_dir, results)
    store.atomic_write_json(run_dir / store.RUN_JSON, {"schema_version": schema.SCHEMA_VERSION, "run_id": name,
                                                       "status": status, "suite": {"name": "s"}})
    return run_dir


def test_truncated_parquet_names_the_file(tmp_path):
    run_dir = make_run(tmp_path, "r1")
    path = run_dir / "cases.parquet"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(ResultsError, match=r"cases\.parquet: not a readable parquet file"):
        store.read_table(path)


def test_foreign_parquet_and_json_are_refused_by_name(tmp_path):
    foreign = tmp_path / "foreign.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(foreign)
    with pytest.raises(ResultsError, match=r"foreign\.parquet: not a harness results file"):
        store.read_table(foreign)
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    (run_dir / "run.json").write_text("[1, 2, 3]")
    with pytest.raises(ResultsError, match=r"run\.json: not a harness run\.json"):
        store.load_run(run_dir)
    (run_dir / "run.json").write_text('{"schema_version": 99}')
    with pytest.raises(ResultsError, match="schema version 99 is not supported"):
        store.load_run(run_dir)
    (run_dir / "run.json").write_text('{"schema_ver')
    with pytest.raises(ResultsError, match=r"run\.json: truncated or invalid JSON"):
        store.load_run(run_dir)


def test_a_damaged_table_is_rebuilt_from_the_journal(tmp_path, caplog):
    run_dir = make_run(tmp_path, "r1", n=3)
    (run_dir / "epochs.parquet").write_bytes(b"PAR1 truncated")
    with caplog.at_level(logging.WARNING):
        run = store.load_run(run_dir)
    assert len(run.cases) == 3 and len(run.epochs) == 3
    assert "epochs.parquet" in caplog.text and "journal" in caplog.text


def test_tables_lagging_behind_the_journal_are_completed_from_it(tmp_path):
    run_dir = make_run(tmp_path, "r1", n=2, status="running")
    extra = store.CaseResult(case={"run_id": "r1", "case_id": "late", "case_label": "late", "repeat": 0,
                                   "status": "ok"})
    store.write_part(run_dir, extra)  # as if killed before the tables were rewritten
    assert sorted(store.load_run(run_dir).cases.case_id) == ["c0", "c1", "late"]


def test_history_and_show_skip_damaged_runs_with_a_warning(tmp_path, caplog, capsys):
    make_run(tmp_path, "a-good")
    bad = make_run(tmp_path, "b-bad")
    (bad / "run.json").write_text('{"schema_version": 1, "run_')  # truncated
    (bad / "parts").rename(bad / "parts-gone")
    (bad / "cases.parquet").write_bytes(b"not parquet")
    foreign = make_run(tmp_path, "c-foreign")
    (foreign / "parts").rename(foreign / "parts-gone")
    pd.DataFrame({"x": [1]}).to_parquet(foreign / "cases.parquet")
    (tmp_path / "stray.json").write_text("{}")  # not a run folder: ignored

    with caplog.at_level(logging.WARNING):
        hist = store.load_history(tmp_path)
    assert list(hist["cases"].run_id.unique()) == ["a-good"]
    assert "b-bad/run.json: truncated or invalid JSON" in caplog.text
    assert "c-foreign/cases.parquet: not a harness results file" in caplog.text
    with pytest.raises(ResultsError):
        store.load_history(tmp_path, skip_bad=False)

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        rc = main(["show", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "a-good" in out and "b-bad" not in out
    assert "skipping" in caplog.text and "b-bad/run.json" in caplog.text
    rc = main(["show", str(bad)])
    assert rc == 4 and "b-bad/run.json: truncated or invalid JSON" in capsys.readouterr().err


def test_loading_results_never_unpickles(tmp_path):
    run_dir = make_run(tmp_path, "r1")
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (run_dir / "parts" / "evil-0.pkl").write_bytes(pickle.dumps(Evil()))
    (run_dir / "parts" / "evil-1.json").write_bytes(pickle.dumps(Evil()))
    run = store.load_run(run_dir)
    assert len(run.cases) == 2 and not marker.exists()


def test_part_with_shell_metacharacters_is_only_data(tmp_path):
    evil = "$(touch pwned); `reboot` | rm -rf /"
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    store.write_part(run_dir, store.CaseResult(case={"case_id": "x", "repeat": 0, "error": evil}))
    (back,) = store.load_parts(run_dir)
    assert back.case["error"] == evil
    assert json.loads((run_dir / "parts" / "x-0.json").read_text())["case"]["error"] == evil
