"""`harness compare` / `harness baseline` / `harness export` through the CLI, on synthetic runs."""

from __future__ import annotations

import json

from harness.cli import main
from harness.errors import EXIT_BAD_INPUT, EXIT_INCONCLUSIVE, EXIT_OK, EXIT_REGRESSION


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
    assert "energy_per_sample_j: not measured on either side, skipped" in doc["notes"]
    assert md.read_text().startswith("## Benchmark comparison")


def test_planted_slowdown_is_a_regression(make_run, tmp_path, capsys):
    a, b = make_run("a", seed=1), make_run("b", seed=2, slowdown=1.15)
    js = tmp_path / "cmp.json"
    assert main(["compare", str(a), str(b), "--json", str(js)]) == EXIT_REGRESSION
    rows = json.loads(js.read_text())["rows"]
    verdicts = {(r["case"], r["metric"]): r["verdict"] for r in rows}
    assert verdicts[("sgd/constant", "step_ms_p50")] == "regression"
    assert verdicts[("adam/constant", "samples_per_s")] == "regression"
    assert verdicts[("adam/constant", "test_accuracy")] == "no_change"
    # and the other way round it is an improvement, exit 0
    assert main(["compare", str(b), str(a)]) == EXIT_OK
    assert "improvement" in capsys.readouterr().out


def test_different_dataset_is_not_comparable(make_run, capsys):
    a, b = make_run("a"), make_run("b", dataset="synthetic")
    assert main(["compare", str(a), str(b)]) == EXIT_OK
    assert main(["compare", str(a), str(b), "--fail-on-inconclusive"]) == EXIT_INCONCLUSIVE
    out = capsys.readouterr().out
    assert "not comparable" in out and "no case of the current side matches" in out


def test_environment_mismatch(make_run, capsys):
    a = make_run("a", seed=1)
    b = make_run("b", seed=2, slowdown=1.15, meta={"machine": {"cpu_model": "Other CPU", "gpus": []}})
    assert main(["compare", str(a), str(b), "--fail-on-inconclusive"]) == EXIT_INCONCLUSIVE
    assert "cpu_model: 'Test CPU 9000' vs 'Other CPU'" in capsys.readouterr().out
    assert main(["compare", str(a), str(b), "--allow-env-mismatch"]) == EXIT_REGRESSION


def test_too_few_repeats_is_inconclusive(make_run, tmp_path):
    a, b = make_run("a", repeats=3), make_run("b", repeats=3, slowdown=1.5, seed=5)
    js = tmp_path / "c.json"
    assert main(["compare", str(a), str(b), "--json", str(js)]) == EXIT_OK
    assert main(["compare", str(a), str(b), "--fail-on-inconclusive"]) == EXIT_INCONCLUSIVE
    reasons = {r["reason"] for r in json.loads(js.read_text())["rows"]}
    assert any("too few repeats" in r for r in reasons)


def test_failed_repeats_do_not_count(make_run, tmp_path):
    a, b = make_run("a"), make_run("b", status="failed")
    js = tmp_path / "c.json"
    assert main(["compare", str(a), str(b), "--json", str(js), "--fail-on-inconclusive"]) == EXIT_INCONCLUSIVE
    row = json.loads(js.read_text())["rows"][0]
    assert row["n_current"] == 0 and "20 failed" not in row["status_current"]
    assert row["status_current"] == "10 failed"


def test_threshold_and_metric_options(make_run, tmp_path):
    a, b = make_run("a", seed=1), make_run("b", seed=2, slowdown=1.15)
    js = tmp_path / "c.json"
    # a 20% minimum effect turns the 15% slowdown into no regression
    assert main(["compare", str(a), str(b), "--threshold", "20%"]) == EXIT_OK
    # per-case override: only adam keeps 5%
    argv = ["compare", str(a), str(b), "--metric", "step_ms_p50", "--threshold", "20%",
            "--threshold", "step_ms_p50:5%@optimizer=adam", "--json", str(js)]  # fmt: skip
    assert main(argv) == EXIT_REGRESSION
    rows = {r["case"]: r for r in json.loads(js.read_text())["rows"]}
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
