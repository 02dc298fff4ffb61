"""`harness compare` / `harness baseline` / `harness export` through the CLI, on synthetic runs."""

from __future__ import annotations

import json

from harness.cli import main
from harness.errors import (
    EXIT_BAD_INPUT,
    EXIT_CASE_LOST,
    EXIT_ENV_MISMATCH,
    EXIT_INCONCLUSIVE,
    EXIT_NEW_FAILURE,
    EXIT_OK,
    EXIT_REGRESSION,
    EXIT_UNREACHABLE,
)


def test_aa_no_regression_and_outputs(make_run, tmp_path, capsys):
    a, b = make_run("a", seed=1), make_run("b", seed=2)
    md, js = tmp_path / "summary.md", tmp_path / "cmp.json"
    rc = main(["compare", str(a), str(b), "--markdown", str(md), "--json", str(js)])
    out = capsys.readouterr().out
    assert rc == EXIT_OK
    assert "sgd/constant" in out and "overall:" in out
    doc = json.loads(js.read_text())
    assert doc["overall"] in ("no_change", "inconclusive", "improvement")
    assert {r["metric"] for r in doc["rows"]} == {"samples_per_s", "step_ms_p50", "train_s", "test_accuracy"}
    # one primary metric per case gates; the others are reported
    assert {r["metric"] for r in doc["rows"] if r["gated"]} == {"samples_per_s"} and doc["family"] == 2
    assert "energy_per_sample_j: not measured on either side, skipped" in doc["notes"]
    assert md.read_text().startswith("## Benchmark comparison")


def test_planted_slowdown_is_a_regression(make_run, tmp_path, capsys):
    a, b = make_run("a", seed=1), make_run("b", seed=2, slowdown=1.15)
    js = tmp_path / "cmp.json"
    assert main(["compare", str(a), str(b), "--json", str(js)]) == EXIT_REGRESSION
    rows = json.loads(js.read_text())["rows"]
    verdicts = {(r["case"], r["metric"]): r["verdict"] for r in rows}
    assert verdicts[("sgd/constant", "samples_per_s")] == "regression"
    assert verdicts[("sgd/constant", "step_ms_p50")] == "regression"  # reported (info), same decision
    assert verdicts[("adam/constant", "samples_per_s")] == "regression"
    assert verdicts[("adam/constant", "test_accuracy")] == "no_change"
    # and the other way round it is an improvement, exit 0
    assert main(["compare", str(b), str(a)]) == EXIT_OK
    assert "improvement" in capsys.readouterr().out


def test_different_dataset_fails_closed_as_lost_cases(make_run, capsys):
    a, b = make_run("a"), make_run("b", dataset="synthetic")
    assert main(["compare", str(a), str(b)]) == EXIT_CASE_LOST
    out = capsys.readouterr().out
    assert "FAIL (exit 6): case(s) lost" in out and "no case of the current side matches" in out
    assert main(["compare", str(a), str(b), "--allow-missing-cases"]) == EXIT_OK
    assert main(["compare", str(a), str(b), "--allow-missing-cases", "--fail-on-inconclusive"]) == EXIT_INCONCLUSIVE


def test_environment_differs_or_unknown_fails_closed(make_run, capsys):
    a = make_run("a", seed=1)
    b = make_run("b", seed=2, slowdown=1.15, meta={"machine": {"cpu_model": "Other CPU", "gpus": []}})
    assert main(["compare", str(a), str(b)]) == EXIT_ENV_MISMATCH
    assert "cpu_model: 'Test CPU 9000' vs 'Other CPU'" in capsys.readouterr().out
    assert main(["compare", str(a), str(b), "--allow-env-mismatch"]) == EXIT_REGRESSION
    c = make_run("c", seed=3, meta={"machine": {}})  # a run.json without machine information
    assert main(["compare", str(a), str(c)]) == EXIT_ENV_MISMATCH
    assert "cpu_model unknown on the current side" in capsys.readouterr().out


def test_too_few_repeats_cannot_decide(make_run, tmp_path):
    a, b = make_run("a", repeats=2), make_run("b", repeats=2, slowdown=1.5, seed=5)
    js = tmp_path / "c.json"
    assert main(["compare", str(a), str(b), "--json", str(js)]) == EXIT_OK
    assert main(["compare", str(a), str(b), "--fail-on-inconclusive"]) == EXIT_UNREACHABLE
    reasons = {r["reason"] for r in json.loads(js.read_text())["rows"]}
    assert any("too few repeats" in r for r in reasons)


def test_unreachable_family_says_how_many_repeats(make_run, tmp_path):
    # 3 vs 3 repeats: the smallest exact p is 1/20 = 0.05, never below alpha
    a, b = make_run("a", repeats=3, seed=1), make_run("b", repeats=3, seed=2, slowdown=1.5)
    js = tmp_path / "c.json"
    assert main(["compare", str(a), str(b), "--json", str(js)]) == EXIT_OK
    assert main(["compare", str(a), str(b), "--fail-on-unreachable"]) == EXIT_UNREACHABLE
    doc = json.loads(js.read_text())
    gated = [r for r in doc["rows"] if r["gated"]]
    assert doc["unreachable"] and all("need >= 4 repeats a side" in r["reason"] for r in gated), gated


def test_newly_failing_case_fails_closed(make_run, tmp_path):
    a, b = make_run("a"), make_run("b", status="failed")
    js = tmp_path / "c.json"
    assert main(["compare", str(a), str(b), "--json", str(js)]) == EXIT_NEW_FAILURE
    row = json.loads(js.read_text())["rows"][0]
    assert row["n_current"] == 0 and row["status_current"] == "10 failed"
    assert main(["compare", str(a), str(b), "--allow-new-failures", "--fail-on-inconclusive"]) == EXIT_UNREACHABLE
    # a case that failed in the baseline too is not *newly* failing
    assert main(["compare", str(b), str(b)]) == EXIT_OK


def test_cases_differing_only_in_collectors_are_never_pooled(make_run, tmp_path):
    """collectors_overhead.toml: collectors on / [] differ only in case_id; a 15 % regression of one
    must not hide in a pooled "noisy" comparison."""
    import pandas as pd

    from harness import schema
    from harness.results import store

    def two_cases(name, seed, slowdown):
        run = make_run(name, seed=seed, optimizers=("adam",))
        df = store.load_run(run).cases
        other = make_run(name + "-x", seed=seed + 10, optimizers=("adam",), slowdown=slowdown)
        df2 = store.load_run(other).cases.assign(case_id="c0-collectors-off", samples_per_s=lambda d: d.samples_per_s * 1.3)
        store.write_table(run / "cases.parquet", "cases", schema.conform("cases", pd.concat([df, df2])))
        return run

    a, b = two_cases("a", 1, 1.0), two_cases("b", 2, 1.15)
    js = tmp_path / "c.json"
    assert main(["compare", str(a), str(b), "--json", str(js)]) == EXIT_REGRESSION
    gated = [r for r in json.loads(js.read_text())["rows"] if r["gated"]]
    assert len(gated) == 2 and {r["n_base"] for r in gated} == {10}
    assert {r["case_id"]: r["verdict"] for r in gated}["c0-collectors-off"] == "regression"


def test_mixed_pool_fails_closed(make_run, tmp_path):
    hist = tmp_path / "hist"
    make_run("r1", parent=hist, seed=1, meta={"git": {"commit": "aaa"}, "started_utc": "2025-01-01T00:00:00"})
    make_run("r2", parent=hist, seed=2, meta={"git": {"commit": "bbb"}, "started_utc": "2025-01-02T00:00:00"})
    base = make_run("base", seed=3)
    assert main(["compare", "--pool", str(base), str(hist)]) == 9
    assert main(["compare", "--pool", "--allow-mixed-pool", str(base), str(hist)]) == EXIT_OK


def test_threshold_and_metric_options(make_run, tmp_path):
    a, b = make_run("a", seed=1), make_run("b", seed=2, slowdown=1.15)
    js = tmp_path / "c.json"
    # a 20% minimum effect turns the 15% slowdown into no regression
    assert main(["compare", str(a), str(b), "--threshold", "20%"]) == EXIT_OK
    # per-case override: only adam keeps 5%
    argv = ["compare", str(a), str(b), "--metric", "step_ms_p50", "--threshold", "20%",
            "--threshold", "step_ms_p50:5%@optimizer=adam", "--json", str(js)]  # fmt: skip
    assert main(argv) == EXIT_REGRESSION
    rows = {r["case"]: r for r in json.loads(js.read_text())["rows"] if r["metric"] == "step_ms_p50"}
    assert all(r["gated"] for r in rows.values())
    assert rows["adam/constant"]["verdict"] == "regression" and rows["adam/constant"]["threshold"] == 0.05
    assert rows["sgd/constant"]["verdict"] != "regression"
    assert main(["compare", str(a), str(b), "--metric", "nonsense"]) == EXIT_BAD_INPUT


def test_bad_input(tmp_path, make_run):
    assert main(["compare", str(tmp_path / "nope"), str(tmp_path / "nope2")]) == EXIT_BAD_INPUT
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    a = make_run("a")
    assert main(["compare", str(a), str(bad)]) == EXIT_BAD_INPUT
    assert main(["compare", str(a)]) == EXIT_BAD_INPUT


def test_results_folder_latest_or_pooled(make_run, tmp_path):
    hist = tmp_path / "hist"
    make_run("r1", parent=hist, seed=1, meta={"started_utc": "2025-01-01T00:00:00"})
    make_run("r2", parent=hist, seed=2, meta={"started_utc": "2025-01-02T00:00:00"}, slowdown=1.15)
    base = make_run("base", seed=3)
    js = tmp_path / "c.json"
    # latest (r2, slow) is used: regression
    assert main(["compare", str(base), str(hist), "--json", str(js)]) == EXIT_REGRESSION
    assert main(["compare", str(base), str(hist), "--pool", "--json", str(js)]) in (EXIT_OK, EXIT_REGRESSION)
    rows = json.loads(js.read_text())["rows"]
    assert rows[0]["n_current"] == 20


def test_baseline_save_list_and_compare(make_run, tmp_path, capsys):
    res = tmp_path / "results"
    a, b = make_run("a", seed=1), make_run("b", seed=2, slowdown=1.15)
    assert main(["baseline", "save", str(a), "--name", "main", "--results-dir", str(res)]) == EXIT_OK
    assert (res / "baselines" / "main" / "run.json").is_file()
    assert main(["baseline", "list", "--results-dir", str(res)]) == EXIT_OK
    assert "main" in capsys.readouterr().out
    assert main(["compare", "--baseline", "main", str(b), "--results-dir", str(res)]) == EXIT_REGRESSION
    assert main(["compare", "--baseline", "nope", str(b), "--results-dir", str(res)]) == EXIT_BAD_INPUT
    assert main(["baseline", "save", str(a), "--name", "../x", "--results-dir", str(res)]) == EXIT_BAD_INPUT


def test_markdown_appends_to_step_summary(make_run, tmp_path):
    a, b = make_run("a", seed=1), make_run("b", seed=2, slowdown=1.15)
    summary = tmp_path / "step_summary.md"
    summary.write_text("# earlier step\n")
    assert main(["compare", str(a), str(b), "--markdown", str(summary)]) == EXIT_REGRESSION
    text = summary.read_text()
    assert text.startswith("# earlier step\n") and "🔴 regression" in text and "| case |" in text


def test_contended_rows_are_flagged(make_run, tmp_path, capsys):
    from harness import schema
    from harness.results import store

    a, b = make_run("a", seed=1), make_run("b", seed=2)
    cases = store.load_run(b).cases
    cases["contended"] = [i % 4 == 0 for i in range(len(cases))]
    store.write_table(b / "cases.parquet", "cases", schema.conform("cases", cases))
    js = tmp_path / "c.json"
    assert main(["compare", str(a), str(b), "--json", str(js)]) == EXIT_OK
    assert "current: 3/10 contended" in capsys.readouterr().out
    row = json.loads(js.read_text())["rows"][0]
    assert row["flags_current"] in ("3/10 contended", "2/10 contended") and row["flags_base"] == ""


def test_suite_gate_table_adds_gated_metrics(make_run, tmp_path):
    text = '[suite]\nname = "ci"\n[gate]\nmetrics = ["step_ms_p50:8%"]\nalpha = 0.01\n'
    meta = {"suite": {"name": "ci", "path": "ci.toml", "text": text}}
    a, b = make_run("a", seed=1, meta=meta), make_run("b", seed=2, meta=meta, slowdown=1.15)
    js = tmp_path / "c.json"
    assert main(["compare", str(a), str(b), "--json", str(js)]) == EXIT_REGRESSION
    doc = json.loads(js.read_text())
    gated = {(r["metric"], r["threshold"]) for r in doc["rows"] if r["gated"]}
    assert gated == {("samples_per_s", 0.05), ("step_ms_p50", 0.08)} and doc["family"] == 4
    assert doc["settings"]["alpha"] == 0.01
    bad = make_run("bad", seed=3, meta={"suite": {"name": "ci", "path": "ci.toml", "text": "[gate]\nalpha = 3\n"}})
    assert main(["compare", str(a), str(bad)]) == EXIT_BAD_INPUT
