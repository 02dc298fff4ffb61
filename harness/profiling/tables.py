"""XProf tool outputs -> op rows and a step breakdown (plain Python; no TensorFlow, no xprof).

Inputs are the JSON documents XProf's converters produce (``trace_viewer``:
Chrome trace events; ``framework_op_stats``: Google-Charts tables;
``overview_page``: step-time averages). On a CPU, ``framework_op_stats`` sees
only coarse host functions (the XLA ops and the eager kernels are missing), so
the op table is built mainly from the trace viewer's events, which carry every
op: XLA ops (``hlo_op``), graph ops (``long_name`` = ``name:Type``) and eager ops
(``EagerLocalExecute: Type``). Everything else the runtime traced (dispatch,
executor, thread pool) becomes ``runtime`` rows, so host overhead stays visible.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

EAGER_PREFIX = "EagerLocalExecute: "
FUNCTION_PREFIX = "__inference"
KERNEL_RUN = "KernelAndDeviceFunc::Run"
# the engines gather batches from resident tensors; keras_fit reads a tf.data iterator
INPUT_OP_TYPES = {"GatherV2", "Slice", "IteratorGetNext"}
_SKIP = re.compile(r"^(end: |ThreadpoolListener::)")
_SUFFIX = re.compile(r"\.\d+$")


def _thread_kind(name: str) -> str:
    if name in ("python", "MainThread") or name.startswith("python"):
        return "python"
    if "Eigen" in name:
        return "eigen_pool"
    if name.startswith("tf_"):
        return "tf_executor"
    return name.split("/")[0][:40] or "other"


_FUNCTION_ID = re.compile(r"^(__inference_.+?)_\d+$")


def classify(name: str, args: dict[str, Any]) -> tuple[str, str, str]:
    """(category, op_type, op_name) of one trace event."""
    if "hlo_op" in args:
        op = str(args["hlo_op"])
        return "xla_op", _SUFFIX.sub("", op), op
    if "long_name" in args and ":" in str(args["long_name"]):
        op_name, _, op_type = str(args["long_name"]).rpartition(":")
        # a tf.function's call op is named per trace (__inference_xla_chunk_6217): one type for all
        op_type = _FUNCTION_ID.sub(r"\1", op_type)
        return "tf_op", op_type, op_name
    if name.startswith(EAGER_PREFIX):
        op = name[len(EAGER_PREFIX):]
        if op.startswith(FUNCTION_PREFIX):
            return "runtime", "function_call", op
        return "tf_op_eager", op, op
    return "runtime", name, name


def _events(trace: dict) -> tuple[list[dict], dict, dict]:
    events = trace.get("traceEvents", [])
    threads = {(e.get("pid"), e.get("tid")): e["args"]["name"] for e in events if e.get("name") == "thread_name"}
    procs = {e.get("pid"): e["args"]["name"] for e in events if e.get("name") == "process_name"}
    complete = [e for e in events if e.get("ph") == "X" and "dur" in e and "ts" in e]
    return complete, threads, procs


def _nest(events: list[dict]) -> list[tuple[dict, float | None, list[str]]]:
    """(event, self time, ancestor names) for the events of one thread, by interval nesting.

    Self time is the duration minus the durations of the events nested directly in
    it, except that runtime events nested inside an op (an eager op's dispatch and
    kernel run, a gather's ``ParallelFor``) belong to that op: their self time is
    ``None`` (absorbed) and the op keeps their time. So every microsecond of a
    thread is counted in exactly one row.
    """
    events = sorted(events, key=lambda e: (e["ts"], -e["dur"]))
    stack: list[dict[str, Any]] = []
    out = []
    for e in events:
        while stack and stack[-1]["end"] <= e["ts"] + 1e-6:
            stack.pop()
        is_op = classify(e["name"], e.get("args") or {})[0] != "runtime"
        in_op = bool(stack) and stack[-1]["in_op"]
        absorbed = in_op and not is_op
        if not absorbed:
            parent = next((s for s in reversed(stack) if not s["absorbed"]), None)
            if parent is not None:
                parent["children"] += e["dur"]
        entry = {"e": e, "end": e["ts"] + e["dur"], "children": 0.0, "absorbed": absorbed,
                 "in_op": in_op or is_op, "anc": [s["e"]["name"] for s in stack]}
        stack.append(entry)
        out.append(entry)
    return [(x["e"], None if x["absorbed"] else max(0.0, x["e"]["dur"] - x["children"]), x["anc"]) for x in out]


def trace_ops(trace: dict) -> list[dict[str, Any]]:
    """One row per (host/device, thread kind, category, op type, op name) of the trace viewer's events."""
    complete, threads, procs = _events(trace)
    by_thread: dict[tuple, list[dict]] = defaultdict(list)
    for e in complete:
        if "step_num" in (e.get("args") or {}) or _SKIP.match(e["name"]):
            continue
        by_thread[(e.get("pid"), e.get("tid"))].append(e)
    agg: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for key, events in by_thread.items():
        proc = procs.get(key[0], "")
        where = "Device" if "device:" in proc.lower() else "Host"
        kind = _thread_kind(threads.get(key, ""))
        for e, self_us, _ in _nest(events):
            if self_us is None:
                continue
            cat, op_type, op_name = classify(e["name"], e.get("args") or {})
            a = agg[(where, kind, cat, op_type, op_name)]
            a[0] += 1
            a[1] += e["dur"]
            a[2] += self_us
    return [{"source": "trace_viewer", "host_or_device": k[0], "thread": k[1], "category": k[2],
             "op_type": k[3], "op_name": k[4], "occurrences": int(v[0]), "total_time_us": v[1],
             "self_time_us": v[2]} for k, v in agg.items()]


def framework_ops(tables: list[dict] | dict) -> list[dict[str, Any]]:
    """Rows of XProf's ``framework_op_stats`` table (the first table: all ops, IDLE included)."""
    table = tables[0] if isinstance(tables, list) else tables
    ids = [c["id"] for c in table["cols"]]
    rows = []
    for r in table.get("rows", []):
        v = dict(zip(ids, [c.get("v") for c in r["c"]], strict=False))
        rows.append({"source": "framework_op_stats", "host_or_device": v.get("host_or_device"),
                     "thread": "", "category": "idle" if v.get("type") == "IDLE" else "framework_op",
                     "op_type": v.get("type") or v.get("operation"), "op_name": v.get("operation"),
                     "occurrences": int(v.get("occurrences") or 0), "total_time_us": v.get("total_time"),
                     "self_time_us": v.get("total_self_time")})
    return rows


# ------------------------------------------------------------------ step breakdown
def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _minus(base: list[tuple[float, float]], cut: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out, j = [], 0
    for a, b in base:
        while j < len(cut) and cut[j][1] <= a:
            j += 1
        k, cur = j, a
        while k < len(cut) and cut[k][0] < b:
            if cut[k][0] > cur:
                out.append((cur, cut[k][0]))
            cur = max(cur, cut[k][1])
            k += 1
        if cur < b:
            out.append((cur, b))
    return out


def _intersect(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return _minus(a, _minus(a, b))


def _length(intervals: list[tuple[float, float]]) -> float:
    return sum(b - a for a, b in intervals)


def trace_breakdown(trace: dict) -> dict[str, Any]:
    """Where the marked steps' time went: compute, input, idle, host overhead (shares of step time).

    Over the union of the step spans (one span per host call): *compute* = some
    op kernel runs on some thread (XLA ops, graph ops, eager kernels); *input* =
    only batch-gathering ops run (:data:`INPUT_OP_TYPES`); *idle* = no kernel runs
    while the host waits inside a ``tf.function`` call (executor scheduling,
    thread hand-offs); *host overhead* = the rest: Python and eager dispatch.
    """
    complete, _, _ = _events(trace)
    steps = _union([(e["ts"], e["ts"] + e["dur"]) for e in complete if "step_num" in (e.get("args") or {})])
    if not steps:
        return {"profile_step_ms": None}
    by_thread: dict[tuple, list[dict]] = defaultdict(list)
    for e in complete:
        if "step_num" not in (e.get("args") or {}) and not _SKIP.match(e["name"]):
            by_thread[(e.get("pid"), e.get("tid"))].append(e)
    compute, inputs, waiting = [], [], []
    for events in by_thread.values():
        for e, _, ancestors in _nest(events):
            cat, op_type, _ = classify(e["name"], e.get("args") or {})
            span = (e["ts"], e["ts"] + e["dur"])
            if e["name"] == KERNEL_RUN:
                owner = next((a for a in reversed(ancestors) if a.startswith(EAGER_PREFIX)), "")
                if owner[len(EAGER_PREFIX):].startswith(FUNCTION_PREFIX):
                    waiting.append(span)
                    continue
                op_type, cat = owner[len(EAGER_PREFIX):], "eager_kernel"
            if cat in ("xla_op", "tf_op", "eager_kernel"):
                (inputs if op_type in INPUT_OP_TYPES else compute).append(span)
    total = _length(steps)
    c = _union(compute)
    i = _minus(_union(inputs), c)
    busy = _union(c + i)
    w = _minus(_union(waiting), busy)
    parts = {name: _length(_intersect(x, steps)) for name, x in (("compute", c), ("input", i), ("idle", w))}
    n_steps = sum(1 for e in complete if "step_num" in (e.get("args") or {}))
    return {
        "profile_step_ms": total / n_steps / 1e3,
        "profile_compute_share": parts["compute"] / total,
        "profile_input_share": parts["input"] / total,
        "profile_idle_share": parts["idle"] / total,
        "profile_host_overhead_share": max(0.0, 1 - sum(parts.values()) / total),
    }


def overview(tables: list[dict]) -> dict[str, Any]:
    """XProf's ``overview_page`` step-time averages (ms) as one JSON string column."""
    keep = {}
    for t in tables:
        p = t.get("p") or {}
        keep.update({k: p[k] for k in p if k.endswith("_ms_avg") or k in ("hardware_type", "steptime_ms_average")})
    return {"profile_overview": json.dumps(keep, sort_keys=True)}
