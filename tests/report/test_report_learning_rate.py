"""One name, one meaning: the report shows the rate in force, also for runs written by schema version 1."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness import schema
from harness.report import build_tables, render_html, render_markdown, to_csv
from harness.results import store
from harness.results.atomic import atomic_write_json

EPOCHS = 4


def _rate(initial: float, epoch: int) -> float:
    return initial / (1 + 0.5 * (epoch - 1))  # inverse-time decay, one value per epoch


def _write_v1_run(root, monkeypatch) -> tuple:
    """A run as schema version 1 wrote it: the epochs' rate in force under the name learning_rate."""
    run_dir = root / "old-run"
    run_dir.mkdir()
    cases, epochs = [], []
    for initial in (0.1, 0.01):
        cid = f"c{initial}"
        cases.append({"run_id": "old-run", "case_id": cid, "case_label": f"sgd lr={initial}", "repeat": 0,
                      "status": "ok", "optimizer": "sgd", "optimizer_label": "sgd", "schedule": "inverse_power",
                      "schedule_label": "inverse_power", "learning_rate": initial, "engine": "fast",
                      "device": "cpu", "strategy": "default", "precision": "float32", "batch_size": 128,
                      "epochs": EPOCHS, "num_replicas": 1, "num_workers": 1, "profiled": False, "train_s": 1.0})
        epochs += [{"run_id": "old-run", "case_id": cid, "case_label": f"sgd lr={initial}", "repeat": 0,
                    "epoch": e, "loss": 1.0 / e, "test_accuracy": 0.5, "learning_rate": _rate(initial, e),
                    "steps": 10, "epoch_s": 0.25, "cum_train_s": 0.25 * e} for e in range(1, EPOCHS + 1)]
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 1)
    store.write_table(run_dir / "cases.parquet", "cases", schema.frame("cases", cases))
    arrow = pa.Table.from_pandas(pd.DataFrame(epochs), preserve_index=False)  # v1 columns, as v1 wrote them
    arrow = arrow.replace_schema_metadata({b"harness.schema_version": b"1", b"harness.table": b"epochs"})
    pq.write_table(arrow, run_dir / "epochs.parquet")
    atomic_write_json(run_dir / "run.json", {"schema_version": 1, "suite": {"name": "quick"},
                                              "machine": {"host": "old-box"}})
    monkeypatch.undo()
    return run_dir


def test_a_decaying_schedule_decays_in_every_format(tmp_path, monkeypatch):
    run_dir = _write_v1_run(tmp_path, monkeypatch)
    run = store.load_run(run_dir)
    assert "learning_rate" not in run.epochs.columns and run.epochs["epoch_steps"].eq(10).all()
    tables = build_tables([run_dir])
    lr = tables["learning_rates"]
    for initial in (0.1, 0.01):
        curve = lr[lr["learning_rate"] == initial].sort_values("epoch")["learning_rate_in_force_median"]
        assert curve.tolist() == pytest.approx([_rate(initial, e) for e in range(1, EPOCHS + 1)])
        assert curve.is_monotonic_decreasing and curve.iloc[-1] < curve.iloc[0] / 2
    csv = to_csv(tables)["learning_rates.csv"]
    assert "learning_rate_in_force_median" in csv and "0.04," in csv and "0.004," in csv
    md = render_markdown(tables)
    assert "learning_rate_in_force_median" in md and "0.004" in md
    page = render_html(tables)
    section = page[page.index('<section id="learning_rates"'):]
    section = section[:section.index("</section>")]
    assert "<details><summary>Table <code>learning_rates</code>" in section  # folded under its figure
    assert section.index("<img") < section.index("<details>")
    assert ">0.04<" in section and ">0.004<" in section


def test_a_join_that_would_overwrite_a_row_column_is_refused():
    from harness.analysis.frames import attach_case_axes

    rows = pd.DataFrame({"run_id": ["r"], "case_id": ["c"], "repeat": [0], "test_accuracy": [0.5]})
    cases = pd.DataFrame({"run_id": ["r"], "case_id": ["c"], "repeat": [0], "test_accuracy": [0.9]})
    with pytest.raises(ValueError, match="test_accuracy"):
        attach_case_axes(rows, cases, ["test_accuracy"])


def test_unknown_future_version_is_still_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 99)
    store.write_table(tmp_path / "e.parquet", "epochs", schema.frame("epochs", []))
    monkeypatch.undo()
    with pytest.raises(store.ResultsError, match="version 99 is not supported"):
        store.read_table(tmp_path / "e.parquet")
