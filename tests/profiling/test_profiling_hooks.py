"""ProfilerHooks against a fake ``tensorflow`` module: when the profiler starts, marks steps and stops."""

from __future__ import annotations

import sys
import types

import pytest

from harness.engines.base import NoHooks
from harness.profiling.hooks import ProfilerHooks


class FakeTrace:
    def __init__(self, log, name, step_num, _r):
        self.log, self.step = log, step_num

    def __enter__(self):
        self.log.append(("step+", self.step))

    def __exit__(self, *exc):
        self.log.append(("step-", self.step))


@pytest.fixture
def fake_tf(monkeypatch):
    log: list = []
    exp = types.SimpleNamespace(
        start=lambda logdir, **kw: log.append(("start", logdir)), stop=lambda: log.append(("stop",)),
        Trace=lambda name, step_num, _r: FakeTrace(log, name, step_num, _r))
    tf = types.ModuleType("tensorflow")
    tf.profiler = types.SimpleNamespace(experimental=exp)
    monkeypatch.setitem(sys.modules, "tensorflow", tf)
    return log


def drive(h, calls_per_epoch, k, epochs):
    """What an engine does: window start, after_steps per host call, epoch ends, window end."""
    h.on_window_start()
    total = 0
    for epoch in range(1, epochs + 1):
        for _ in range(calls_per_epoch):
            total += k
            h.after_steps(total)
        h.on_epoch_end(epoch)
    h.on_window_end()


def test_stops_after_enough_updates_and_marks_each_host_call(fake_tf, tmp_path):
    h = ProfilerHooks(NoHooks(), tmp_path / "p", steps=3, steps_per_epoch=10)
    drive(h, 10, 1, 1)
    assert fake_tf == [("start", str(tmp_path / "p")), ("step+", 0), ("step-", 0), ("step+", 1), ("step-", 1),
                       ("step+", 2), ("step-", 2), ("stop",)]
    assert h.profiled_steps == 3 and h.marked_steps == 3 and h.window_s >= 0


def test_no_step_span_over_an_epoch_end_and_stop_at_window_end(fake_tf, tmp_path):
    h = ProfilerHooks(NoHooks(), tmp_path, steps=100, steps_per_epoch=4)
    drive(h, 2, 2, 2)  # two calls of 2 updates per epoch; the window ends first
    opened = [e for e in fake_tf if e[0] == "step+"]
    # epoch 1: both calls; epoch 2: its first call follows an epoch end (unmarked), its second is marked
    assert len(opened) == 3
    assert fake_tf[-1] == ("stop",) and h.profiled_steps == 8


def test_skip_starts_later(fake_tf, tmp_path):
    h = ProfilerHooks(NoHooks(), tmp_path, steps=2, steps_per_epoch=10, skip_steps=3)
    drive(h, 10, 1, 1)
    assert fake_tf[0] == ("start", str(tmp_path)) and h.start_step == 3 and h.profiled_steps == 2


def test_profiler_that_fails_to_start_leaves_an_error_not_an_exception(monkeypatch, tmp_path):
    exp = types.SimpleNamespace(start=lambda *a, **k: (_ for _ in ()).throw(RuntimeError("busy")))
    tf = types.ModuleType("tensorflow")
    tf.profiler = types.SimpleNamespace(experimental=exp)
    monkeypatch.setitem(sys.modules, "tensorflow", tf)
    h = ProfilerHooks(NoHooks(), tmp_path, steps=2, steps_per_epoch=10)
    drive(h, 10, 1, 1)
    assert "busy" in h.error and not h.active
