"""Profiled rows stay out of timing tables; per-update op figures; CLI options."""

from __future__ import annotations

import pandas as pd
import pytest

from harness import schema
from harness.analysis import ops as ap
from harness.analysis.frames import timing_rows
from harness.cli import main
from harness.profiling.select import mark_profiled
from harness.suite import load_suite


def op(label, op_type, self_us, steps, calls, category="tf_op_eager"):
    return {"run_id": "r", "case_id": label, "case_label": label, "repeat": 0, "source": "trace_viewer",
            "host_or_device": "Host", "thread": "python", "category": category, "op_type": op_type,
            "op_name": op_type, "occurrences": calls, "total_time_us": self_us, "self_time_us": self_us,
            "self_time_share": self_us / 1e6, "profiled_steps": steps}


OPS = schema.frame("ops", [op("sgd", "MatMul", 500.0, 10, 50), op("adam", "MatMul", 520.0, 10, 50),
                           op("adam", "Sqrt", 300.0, 10, 80), op("adam", "TFE_Py", 900.0, 10, 5, "runtime")])


def test_profiled_repeats_are_left_out_of_timing_rows_unless_asked():
    cases = schema.frame("cases", [{"case_id": "a", "status": "ok", "profiled": False, "samples_per_s": 10.0},
                                   {"case_id": "a", "status": "ok", "profiled": True, "samples_per_s": 5.0}])
    assert timing_rows(cases)["samples_per_s"].tolist() == [10.0]
    assert len(timing_rows(cases, include_profiled=True)) == 2


def test_per_update_figures_and_delta():
    top = ap.top_ops(OPS, 5)
    assert set(top["op_type"]) == {"MatMul", "Sqrt"}  # runtime rows are not ops
    adam = top[top["case_label"] == "adam"].set_index("op_type")
    assert adam.loc["Sqrt", "us_per_step"] == 30.0 and adam.loc["Sqrt", "calls_per_step"] == 8.0
    delta = ap.op_delta(OPS, "sgd", "adam")
    assert delta.index[0] == "Sqrt" and delta.loc["Sqrt", "extra_us_per_step"] == 30.0
    assert delta.loc["MatMul", "extra_us_per_step"] == pytest.approx(2.0)
    with pytest.raises(KeyError, match="lion"):
        ap.op_delta(OPS, "sgd", "lion")
    table = ap.compare_ops(OPS)
    assert pd.isna(table.loc["Sqrt", "sgd"]) and table.loc["MatMul", "sgd"] == 50.0


def test_profile_filter_marks_only_selected_cases():
    cases = load_suite("profile").cases
    marked = mark_profiled(cases, filters=["optimizer=adam", "engine=eager"])
    assert [c.label for c in marked if c.profile] == ["adam/eager"]
    assert all(c.profile for c in mark_profiled(cases, profile_all=True))
    assert mark_profiled(cases) == cases and not any(c.profile for c in cases)
    assert [c.case_id for c in marked] == [c.case_id for c in cases]  # profiling is not an identity axis


def test_run_cli_profile_options(capsys):
    assert main(["run", "profile", "--dry-run", "--profile-filter", "engine=fast"]) == 0
    out = capsys.readouterr().out
    assert out.count("(profiled)") == 3
    assert main(["run", "profile", "--dry-run", "--profile", "--profile-steps", "0"]) != 0


def test_report_section_tables_and_plot():
    from harness.report.plots import plot_top_ops, top_ops_figure
    from harness.report.tables import op_tables

    cases = schema.frame("cases", [{"case_label": c, "repeat": 0, "profiled": True, "engine": "eager",
                                    "optimizer": c, "status": "ok"} for c in ("sgd", "adam")])
    tables = op_tables(cases, OPS)
    assert set(tables["top_ops"]["case_label"]) == {"sgd", "adam"} and len(tables["op_breakdown"]) == 2
    fig = plot_top_ops(tables["top_ops"])
    assert len(fig.axes) == 2
    assert top_ops_figure(tables)[:4] == b"\x89PNG"
    assert all(df.empty for df in op_tables(cases.assign(profiled=False), OPS).values())
