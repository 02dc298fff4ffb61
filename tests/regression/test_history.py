"""`harness history` / `harness prune`: the analysis on synthetic series, the CLI on run folders."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from harness.cli import main
from harness.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_REGRESSION
from harness.regression.decide import Settings
from harness.regression.gates import GateSet
from harness.regression.history import RunInfo, analyse


def commit(i: int) -> str:
    return f"{i:02d}" + "c0ffee" * 6


def synthetic(slowdowns: list[float], cv: float = 0.03, repeats: int = 5, seed: int = 0, cases: int = 2):
    """(runs, cases rows) of a history without files: run i is slowdowns[i] x slower."""
    rng = np.random.default_rng(seed)
    runs = [RunInfo(f"run-{i:02d}", commit(i), f"2026-01-{i + 1:02d}") for i in range(len(slowdowns))]
    rows = [{"run_id": r.run_id, "case_id": f"c{c}", "case_label": f"case{c}", "status": "ok",
             "samples_per_s": 1000 * (c + 1) / (slow * np.exp(rng.normal(0, cv)))}
            for r, slow in zip(runs, slowdowns, strict=True) for c in range(cases) for _ in range(repeats)]  # fmt: skip
    return runs, pd.DataFrame(rows)


def run_history(slowdowns, **kw):
    runs, cases = synthetic(slowdowns, **kw)
    return analyse(runs, cases, GateSet.from_strings(report=False), Settings(min_repeats=2))


def test_no_real_change_reports_none():
    for seed in range(5):
        hist = run_history([1.0] * 20, cv=0.05, seed=seed)
        assert hist.change_points.empty and not hist.newest_is_regression(), hist.steps


def test_step_found_at_its_commit():
    hist = run_history([1.0] * 8 + [1.15] * 8, seed=1)
    cps = hist.change_points
    assert set(cps["case_id"]) == {"c0", "c1"} and set(cps["verdict"]) == {"regression"}
    assert set(cps["run_id"]) == {"run-08"} and set(cps["commit"]) == {commit(8)}
    assert np.allclose(cps["change"], 1 / 1.15 - 1, atol=0.03)
    assert hist.newest_is_regression() == ["case0 samples_per_s", "case1 samples_per_s"]


def test_fixed_regression_then_newest_step_is_the_fix():
    hist = run_history([1.0] * 6 + [1.2] * 6 + [1.0] * 6, seed=2)
    assert not hist.newest_is_regression()
    assert sorted(hist.change_points["verdict"]) == ["improvement"] * 2 + ["regression"] * 2


def test_a_step_with_too_few_runs_after_it_is_pending():
    # 10 + 2 runs: the smallest p is 1/66, too large for Holm over 4 cases (4/66 > 0.05)
    hist = run_history([1.0] * 10 + [1.3] * 2, seed=3, cases=4)
    assert hist.change_points.empty and not hist.newest_is_regression()
    assert set(hist.pending()["run_id"]) == {"run-10"} and len(hist.pending()) == 4
    assert "cannot decide" in hist.pending()["reason"].iloc[0]


@pytest.fixture
def history(make_run, tmp_path):
    """history(slowdowns) -> results folder with one run per commit (run i: slowdowns[i])."""

    def make(slowdowns, name="hist", suite="ci"):
        root = tmp_path / name
        for i, slow in enumerate(slowdowns):
            meta = {"git": {"commit": commit(i), "commit_utc": f"2026-01-{i + 1:02d}T00:00:00+00:00"},
                    "started_utc": f"2026-02-{28 - i:02d}T00:00:00+00:00",  # start order != commit order
                    "suite": {"name": suite, "text": "[suite]\n", "sha256": "x"}}  # fmt: skip
            make_run(f"run-{i:02d}", parent=root, meta=meta, seed=100 + i, repeats=3, slowdown=slow,
                     optimizers=("sgd",))  # fmt: skip
        return root

    return make


def test_cli_outputs_and_exit_1_on_newest_regression(history, tmp_path, capsys):
    root = history([1.0] * 5 + [1.25] * 5)
    js, md, page = tmp_path / "h.json", tmp_path / "h.md", tmp_path / "h.html"
    code = main(["history", str(root), "--json", str(js), "--markdown", str(md), "--html", str(page)])
    assert code == EXIT_REGRESSION
    (cp,) = json.loads(js.read_text(), parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))["change_points"]
    assert cp["selection"] == 7 and cp["reachable"] is True  # 10 runs: 7 places for a step
    assert {k: cp[k] for k in ("case_label", "metric", "run_id", "commit", "verdict")} == {
        "case_label": "sgd/constant", "metric": "samples_per_s", "run_id": "run-05", "commit": commit(5),
        "verdict": "regression"}  # fmt: skip
    assert cp["change"] == pytest.approx(1 / 1.25 - 1, abs=0.04) and cp["case_id"] == "c0-mnist-sample"
    assert "newest step is a regression" in capsys.readouterr().out
    assert md.read_text().startswith("## Performance history: 🔴")
    html = page.read_text()
    assert html.count('<img src="data:image/png;base64,') == 1 and "04c0ffe..05c0ffe" in html
    # prune keeps the newest commits (by commit time, not by start time)
    assert main(["prune", str(root), "--keep", "3"]) == EXIT_OK
    assert sorted(p.name for p in root.iterdir()) == ["run-07", "run-08", "run-09"]
    assert main(["prune", str(root), "--keep", "0"]) == EXIT_BAD_INPUT


def test_bad_input_exits_2_and_writes_nothing(history, tmp_path, capsys):
    js = tmp_path / "out.json"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["history", str(empty), "--json", str(js)]) == EXIT_BAD_INPUT
    assert "holds no run" in capsys.readouterr().err
    mixed = history([1.0] * 2, name="mixed")
    history([1.0], name="other", suite="other")
    (tmp_path / "other" / "run-00").rename(mixed / "x-run")
    assert main(["history", str(mixed), "--json", str(js)]) == EXIT_BAD_INPUT
    assert "runs of different suites mixed (ci: 2 runs, other: 1 runs)" in capsys.readouterr().err
    assert main(["history", str(mixed), "--suite", "ci"]) == EXIT_OK
    (mixed / "run-01" / "run.json").write_text("{not json")
    assert main(["history", str(mixed), "--suite", "ci", "--json", str(js)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "damaged run" in err and "run-01" in err and not js.exists()
