"""Schema round trip, versioned files, atomic writes, journal consolidation."""

from __future__ import annotations

import json
import math

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness import schema
from harness.errors import ResultsError
from harness.results import store


def row(**kw):
    base = {"run_id": "r", "case_id": "c1", "case_label": "adam", "repeat": 0, "status": "ok",
            "samples_per_s": 1234.5, "steps": 10, "profiled": False, "cpu_energy_j": math.nan,
            "cpu_energy_source": "unavailable", "model": "mnist_dense", "model_label": "mnist_dense",
            "model_config": "{}"}
    return {**base, **kw}


def test_frame_has_declared_columns_and_dtypes():
    df = schema.frame("cases", [row()])
    assert list(df.columns) == list(schema.CASE_COLUMNS)
    assert df["steps"].dtype == "Int64" and df["samples_per_s"].dtype == "float64"
    assert df["status"].dtype == "string" and df["profiled"].dtype == "boolean"
    assert pd.isna(df.loc[0, "test_accuracy"])  # missing stays missing, never 0


def test_undeclared_column_is_refused():
    with pytest.raises(KeyError, match="undeclared"):
        schema.frame("cases", [row(walltime=3)])


def test_every_column_name_carries_its_unit():
    for table in schema.TABLES.values():
        for col in table.values():
            if col.unit == "s":
                assert col.name.endswith("_s"), col.name
            if col.unit == "J":
                assert col.name.endswith("_j"), col.name
            if col.unit == "W":
                assert col.name.endswith("_w"), col.name


def test_parquet_round_trip(tmp_path):
    df = schema.frame("cases", [row(), row(case_id="c2", repeat=1, samples_per_s=None)])
    store.write_table(tmp_path / "cases.parquet", "cases", df)
    back = store.read_table(tmp_path / "cases.parquet", "cases")
    pd.testing.assert_frame_equal(back, df)
    assert not list(tmp_path.glob(".*tmp"))  # no temporary left behind


def test_unknown_version_is_refused(tmp_path):
    t = pa.table({"a": [1]}).replace_schema_metadata({b"harness.schema_version": b"99"})
    pq.write_table(t, tmp_path / "x.parquet")
    with pytest.raises(ResultsError, match="version 99 is not supported"):
        store.read_table(tmp_path / "x.parquet")
    pq.write_table(pa.table({"a": [1]}), tmp_path / "foreign.parquet")
    with pytest.raises(ResultsError, match="not a harness results file"):
        store.read_table(tmp_path / "foreign.parquet")
    (tmp_path / "trunc.parquet").write_bytes(b"PAR1garbage")
    with pytest.raises(ResultsError, match="trunc.parquet"):
        store.read_table(tmp_path / "trunc.parquet")


def test_run_folder_round_trip_and_history(tmp_path):
    for i in range(2):
        d = tmp_path / f"run{i}"
        d.mkdir()
        store.atomic_write_json(d / "run.json", {"schema_version": schema.SCHEMA_VERSION, "run_id": d.name})
        results = [store.CaseResult(case=row(run_id=d.name, case_id=f"c{j}"),
                                    epochs=[{"run_id": d.name, "case_id": f"c{j}", "case_label": "adam",
                                             "repeat": 0, "epoch": 1, "loss": 0.5}]) for j in range(3)]
        for r in results:
            store.write_part(d, r)
        store.write_tables(d, results)
    run = store.load_run(tmp_path / "run0")
    assert len(run.cases) == 3 and len(run.epochs) == 3 and run.samples.empty
    hist = store.load_history(tmp_path)
    assert len(hist["cases"]) == 6 and set(hist["cases"]["run_id"]) == {"run0", "run1"}
    assert [r.key for r in store.load_parts(tmp_path / "run0")] == ["c0-0", "c1-0", "c2-0"]


def test_run_json_version_and_damage(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"schema_version": 7}))
    with pytest.raises(ResultsError, match="version 7"):
        store.load_run(tmp_path)
    (tmp_path / "run.json").write_text('{"schema_vers')
    with pytest.raises(ResultsError, match="run.json: truncated or invalid JSON"):
        store.load_run(tmp_path)
