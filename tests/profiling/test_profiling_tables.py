"""Trace-viewer JSON -> op rows and step breakdown, on hand-made traces with hand-computed answers."""

from __future__ import annotations

import pytest

from harness.profiling import tables


def ev(name, ts, dur, tid=1, **args):
    return {"ph": "X", "name": name, "ts": ts, "dur": dur, "pid": 7, "tid": tid, "args": args}


META = [
    {"ph": "M", "name": "process_name", "pid": 7, "args": {"name": "/host:CPU"}},
    {"ph": "M", "name": "thread_name", "pid": 7, "tid": 1, "args": {"name": "python"}},
    {"ph": "M", "name": "thread_name", "pid": 7, "tid": 2, "args": {"name": "tf_numa_-1_Eigen/123"}},
]


def test_classify_xla_graph_eager_and_runtime_events():
    assert tables.classify("MatMul.10", {"hlo_op": "MatMul.10"}) == ("xla_op", "MatMul", "MatMul.10")
    assert tables.classify("GatherV2", {"long_name": "while/GatherV2_1:GatherV2"}) == (
        "tf_op", "GatherV2", "while/GatherV2_1")
    assert tables.classify("EagerLocalExecute: Sqrt", {}) == ("tf_op_eager", "Sqrt", "Sqrt")
    assert tables.classify("EagerLocalExecute: __inference_chunk_5", {})[:2] == ("runtime", "function_call")
    assert tables.classify("TFE_Py_FastPathExecute_C", {})[0] == "runtime"


def test_eager_op_absorbs_its_dispatch_and_kernel_and_runtime_keeps_the_rest():
    trace = {"traceEvents": META + [
        ev("harness_step", 0, 100, step_num="0"),
        ev("TFE_Py_FastPathExecute_C", 10, 50),
        ev("EagerLocalExecute: MatMul", 15, 40),
        ev("EagerKernelExecute", 20, 30),
        ev("KernelAndDeviceFunc::Run", 22, 25),
    ]}
    rows = {(r["category"], r["op_type"]): r for r in tables.trace_ops(trace)}
    assert set(rows) == {("runtime", "TFE_Py_FastPathExecute_C"), ("tf_op_eager", "MatMul")}
    assert rows[("tf_op_eager", "MatMul")]["self_time_us"] == 40  # dispatch + kernel belong to the op
    assert rows[("runtime", "TFE_Py_FastPathExecute_C")]["self_time_us"] == 10
    assert rows[("runtime", "TFE_Py_FastPathExecute_C")]["total_time_us"] == 50
    b = tables.trace_breakdown(trace)
    assert b["profile_step_ms"] == pytest.approx(0.1)
    assert b["profile_compute_share"] == pytest.approx(0.25)  # the kernel run, 25 of 100 us
    assert b["profile_input_share"] == 0 and b["profile_idle_share"] == 0
    assert b["profile_host_overhead_share"] == pytest.approx(0.75)


def test_function_call_breakdown_counts_waiting_as_idle_and_gathers_as_input():
    trace = {"traceEvents": META + [
        ev("harness_step", 0, 100, step_num="0"),
        ev("EagerLocalExecute: __inference_chunk_1", 5, 90),
        ev("KernelAndDeviceFunc::Run", 10, 80),
        ev("GatherV2", 10, 10, tid=2, long_name="while/GatherV2:GatherV2"),
        ev("MatMul.1", 30, 20, tid=2, hlo_op="MatMul.1"),
        ev("end: MatMul.1", 50, 0.1, tid=2),
        ev("ThreadpoolListener::Region", 0, 100, tid=2),
    ]}
    b = tables.trace_breakdown(trace)
    assert b["profile_compute_share"] == pytest.approx(0.20)
    assert b["profile_input_share"] == pytest.approx(0.10)
    assert b["profile_idle_share"] == pytest.approx(0.50)  # 80 us waiting, 30 of them covered by ops
    assert b["profile_host_overhead_share"] == pytest.approx(0.20)
    names = {r["op_name"] for r in tables.trace_ops(trace)}
    assert "end: MatMul.1" not in names and "ThreadpoolListener::Region" not in names
    assert {"MatMul.1", "while/GatherV2"} <= names


def test_no_step_markers_gives_no_breakdown():
    assert tables.trace_breakdown({"traceEvents": META + [ev("x", 0, 1)]}) == {"profile_step_ms": None}


def test_framework_op_stats_rows():
    table = {"cols": [{"id": i} for i in ("rank", "host_or_device", "type", "operation", "occurrences",
                                          "total_time", "total_self_time")],
             "rows": [{"c": [{"v": 1}, {"v": "Host"}, {"v": "IDLE"}, {"v": "IDLE"}, {"v": 0}, {"v": 5.0},
                             {"v": 5.0}]},
                      {"c": [{"v": 2}, {"v": "Host"}, {"v": "MatMul"}, {"v": "d/MatMul"}, {"v": 3},
                             {"v": 9.0}, {"v": 7.0}]}]}
    rows = tables.framework_ops([table])
    assert [r["category"] for r in rows] == ["idle", "framework_op"]
    assert rows[1] | {} == rows[1] and rows[1]["op_name"] == "d/MatMul" and rows[1]["self_time_us"] == 7.0
