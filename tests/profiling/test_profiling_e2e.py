"""Profile real `fast` and `eager` cases on mnist-sample; the traces load with XProf's converters."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from harness import schema
from harness.analysis import ops as ap
from harness.profiling import ProfileSettings
from harness.profiling.convert import tool_json, xplane_files
from harness.runner.worker.execute import WorkerState, execute
from harness.suite import load_suite

pytestmark = pytest.mark.slow


def case(engine: str, optimizer: str = "adam", profile: bool = True):
    c = next(c for c in load_suite("profile").cases if c.engine == engine and c.optimizer.name == optimizer)
    return dataclasses.replace(c, epochs=1, profile=profile)


@pytest.fixture(scope="module")
def profiled(tmp_path_factory):
    root = tmp_path_factory.mktemp("profiles")
    state = WorkerState(run_id="t", profile=ProfileSettings(str(root), steps=10, skip_steps=2))
    results = {e: execute(case(e), 0, state) for e in ("fast", "eager")}
    return root, results


@pytest.mark.parametrize("engine", ["fast", "eager"])
def test_trace_loads_and_holds_matmuls_and_adam_updates(profiled, engine):
    pytest.importorskip("xprof", reason="the 'profile' extra (xprof) is needed to convert traces")
    _, results = profiled
    r = results[engine]
    row = r.case
    assert row["status"] == "ok" and row["profiled"] is True
    assert row["profile_error"] is None, row["profile_error"]
    files = xplane_files(row["profile_dir"])
    assert len(files) == 1 and files[0].endswith(".xplane.pb")
    assert "traceEvents" in tool_json(files, "trace_viewer")  # the converters read our folder
    assert row["profiled_steps"] >= 10 and row["profile_marked_steps"] >= 1
    shares = [row[k] for k in ("profile_compute_share", "profile_input_share", "profile_idle_share",
                               "profile_host_overhead_share")]
    assert all(0 <= s <= 1 for s in shares) and sum(shares) == pytest.approx(1.0)

    ops = schema.frame("ops", r.ops)
    per = ap.per_step(ops).set_index("op_type")
    assert (per.loc[["MatMul"], "self_time_us"] > 0).all()
    if engine == "eager":
        # Keras' Adam, op by op: m and v updated in place, sqrt of v, then var -= ... (4 variables)
        assert per.loc["AssignSubVariableOp", "calls_per_step"] == pytest.approx(4)
        assert per.loc["AssignAddVariableOp", "calls_per_step"] == pytest.approx(8)
        assert per.loc["Sqrt", "calls_per_step"] >= 4
        assert row["profile_host_overhead_share"] > 0.3  # eager: dispatch dominates a tiny model
    else:
        # XLA fuses the update: 8 moment updates (multiply_add; the loop's own loss/accuracy
        # sums may fuse the same way, hence >=) and 4 variable updates, per step
        xla = per[per["category"] == "xla_op"]
        assert 8 <= xla.loc["multiply_add_fusion", "calls_per_step"] <= 10
        assert xla.loc["divide_subtract_fusion", "calls_per_step"] == pytest.approx(4)
        assert row["profile_host_overhead_share"] < 0.3


UNPROFILED = """
import dataclasses, sys
import tensorflow as tf
from harness.runner.worker.execute import WorkerState, execute
from harness.suite import load_suite

def refuse(*args, **kwargs):
    raise AssertionError("profiler started for an unprofiled case")

tf.profiler.experimental.start = refuse
c = next(c for c in load_suite("profile").cases if c.engine == "fast")
r = execute(dataclasses.replace(c, epochs=1), 0, WorkerState(run_id="t"))
print(r.case["status"], r.case["profiled"], len(r.ops), r.case.get("profile_dir"),
      "harness.profiling.hooks" in sys.modules, "xprof" in sys.modules)
"""


def test_unprofiled_case_never_starts_the_profiler():
    """In a fresh interpreter (like a worker): no profiler start, no profiling hooks, no xprof."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", UNPROFILED], capture_output=True, text=True, timeout=240,
                         check=True).stdout.split()
    assert out == ["ok", "False", "0", "None", "False", "False"]
