"""CPU-time metrics in `harness compare` (issue 17): gated like any other, lower is better;
a metric the rows lack is an error naming it (exit 2); contended rows are flagged."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from harness import schema
from harness.cli import main
from harness.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_REGRESSION
from harness.regression.gates import METRICS
from harness.results import store
from tests.helpers import ROOT

from .conftest import META, case_rows


def _run(tmp_path, name, *, cpu_factor=1.0, seed=0, contended=False, cpu=True, **extra):
    rows = case_rows(name, seed=seed)
    rng = np.random.default_rng(seed + 100)
    for r in rows:
        if cpu:
            cpu_ms = 2.0 * cpu_factor * float(np.exp(rng.normal(0, 0.01)))
            r.update(train_cpu_s=cpu_ms * 62 / 1000, cpu_ms_per_update=cpu_ms, cpu_time_source="process_clock",
                     other_cpu_share=0.5 if contended else 0.01, contended=contended,
                     contention_source="proc_stat", hw_counter_source="unavailable",
                     hw_counter_reason="perf_event_open(instructions) refused: ENOENT (no PMU)")
        r.update(extra)
    run_dir = tmp_path / name
    run_dir.mkdir()
    store.atomic_write_json(run_dir / "run.json", {**META, "run_id": name})
    store.write_table(run_dir / "cases.parquet", "cases", schema.frame("cases", rows))
    return run_dir


def test_cpu_metrics_are_declared_lower_is_better():
    for name in ("train_cpu_s", "cpu_ms_per_update", "eval_cpu_s", "instructions_per_update"):
        assert METRICS[name].higher_is_better is False
        assert schema.CASE_COLUMNS[name].better == "lower"


def test_cpu_time_gate_finds_a_planted_slowdown_and_passes_aa(tmp_path, capsys):
    a, b = _run(tmp_path, "a"), _run(tmp_path, "b", seed=1)
    slow = _run(tmp_path, "slow", seed=2, cpu_factor=1.10)
    assert main(["compare", str(a), str(b), "--metric", "cpu_ms_per_update"]) == EXIT_OK
    assert "no_change" in capsys.readouterr().out
    out_json = tmp_path / "c.json"
    code = main(["compare", str(a), str(slow), "--metric", "cpu_ms_per_update", "--json", str(out_json)])
    assert code == EXIT_REGRESSION
    rows = [r for r in json.loads(out_json.read_text())["rows"] if r["metric"] == "cpu_ms_per_update"]
    # --metric adds a gated metric to the primary one (issue 12)
    gated = {r["metric"] for r in json.loads(out_json.read_text())["rows"] if r["gated"]}
    assert gated == {"samples_per_s", "cpu_ms_per_update"}
    assert all(r["verdict"] == "regression" and r["higher_is_better"] is False for r in rows)
    assert all(0.08 < r["change"] < 0.12 for r in rows)


def test_a_metric_the_rows_do_not_have_is_exit_2_naming_it(tmp_path, capsys):
    old_a, old_b = _run(tmp_path, "old_a", cpu=False), _run(tmp_path, "old_b", seed=1, cpu=False)
    assert main(["compare", str(old_a), str(old_b), "--metric", "cpu_ms_per_update"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "cpu_ms_per_update" in err and "not measured in any row" in err
    a, b = _run(tmp_path, "a"), _run(tmp_path, "b", seed=1)
    assert main(["compare", str(a), str(b), "--metric", "instructions_per_update"]) == EXIT_BAD_INPUT
    assert "ENOENT" in capsys.readouterr().err  # the recorded reason travels with the error
    # default metrics missing from the rows are only skipped, as before
    assert main(["compare", str(old_a), str(old_b)]) == EXIT_OK


def test_absent_column_is_exit_2_too():
    from harness.regression.gates import GateError, GateSet

    gates = GateSet.from_strings(["train_cpu_s"])
    try:
        gates.require_columns(pd.DataFrame({"train_s": [1.0]}), pd.DataFrame({"train_s": [1.0]}))
    except GateError as exc:
        assert "train_cpu_s" in str(exc) and "no such column" in str(exc)
    else:
        raise AssertionError("no error for a column the rows lack")


def test_contended_rows_are_flagged_in_text_markdown_and_json(tmp_path, capsys):
    a, b = _run(tmp_path, "a"), _run(tmp_path, "b", seed=1, contended=True)
    md, js = tmp_path / "s.md", tmp_path / "c.json"
    assert main(["compare", str(a), str(b), "--metric", "cpu_ms_per_update", "--metric", "train_s",
                 "--markdown", str(md), "--json", str(js)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "⚠" in out and "measured under contention" in out and "current 10/10 rows" in out
    assert "measured under contention" in md.read_text()
    rows = json.loads(js.read_text())["rows"]
    assert all(r["contended_current"] == [10, 10] and r["contended_base"] == [0, 10] for r in rows)
    quiet = _run(tmp_path, "q", seed=3)
    assert main(["compare", str(a), str(quiet), "--metric", "cpu_ms_per_update"]) == EXIT_OK
    assert "contention" not in capsys.readouterr().out


def test_bench_contention_plants_the_slowdown_in_the_worse_direction():
    import importlib.util

    path = ROOT / "scripts" / "bench_contention.py"
    spec = importlib.util.spec_from_file_location("bench_contention", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    df = pd.DataFrame({"case_id": ["a", "a", "b"], "cpu_ms_per_update": [2.0, 2.2, 3.0],
                       "samples_per_s": [100.0, 110.0, 90.0]})
    assert mod.planted(df, "cpu_ms_per_update", 1.1)["cpu_ms_per_update"].tolist() == pytest.approx([2.2, 2.42, 3.3])
    assert mod.planted(df, "samples_per_s", 1.1)["samples_per_s"].tolist() == pytest.approx([100 / 1.1, 100.0, 90 / 1.1])
    again = mod.resample(df, np.random.default_rng(0))
    assert sorted(again["case_id"]) == ["a", "a", "b"] and set(again["cpu_ms_per_update"]) <= {2.0, 2.2, 3.0}


def test_history_follows_cpu_time_and_names_a_missing_metric():
    from harness.regression.decide import Settings
    from harness.regression.gates import GateError, GateSet
    from harness.regression.history import analyse

    from .test_history import synthetic

    # 6 + 6 runs: with the step's selection factor (9 positions), 5 + 5 runs (7 x 1/252, two series) cannot decide
    runs, cases = synthetic([1.0] * 6 + [1.2] * 6, cv=0.02)
    cases["cpu_ms_per_update"] = 1000.0 / cases["samples_per_s"]  # lower is better: the step is a regression
    hist = analyse(runs, cases, GateSet.from_strings(["cpu_ms_per_update"], primary="cpu_ms_per_update",
                                                     report=False), Settings(min_repeats=2))
    cps = hist.change_points
    assert set(cps["metric"]) == {"cpu_ms_per_update"} and set(cps["run_id"]) == {"run-06"}
    assert (cps["verdict"] == "regression").all() and hist.newest_is_regression()
    with pytest.raises(GateError, match="'train_cpu_s'"):
        analyse(runs, cases, GateSet.from_strings(["train_cpu_s"], report=False), Settings(min_repeats=2))
