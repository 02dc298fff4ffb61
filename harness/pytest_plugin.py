"""pytest plugin: a suite's cases as pytest-benchmark benchmarks.

Use it with ``-p harness.pytest_plugin`` (or, once registered, through the
``pytest11`` entry point)::

    pytest -p harness.pytest_plugin benchmarks/ --harness-suite suites/ci.toml \
        --benchmark-only --benchmark-autosave
    pytest -p harness.pytest_plugin benchmarks/ --harness-suite suites/ci.toml \
        --benchmark-only --benchmark-compare --benchmark-compare-fail=median:5%

Any test that takes the ``harness_benchmark`` fixture is parametrized with the
suite's cases (unless it parametrizes ``harness_case`` itself) and runs each
case through the harness's runner with ``benchmark.pedantic(rounds=repeats)``.

Timing. With ``--harness-timing=train`` (the default) the time pytest-benchmark
records for a round is the repeat's ``train_s`` (the harness's timed training
window, excluding setup, compilation and evaluation); with ``call`` it is
pytest-benchmark's own clock around the whole call. Either way
``benchmark.extra_info`` carries the harness's figures (examples/s, energy per
example, accuracy, status, every repeat's row under ``"harness"``), so the saved
JSON can be read by ``harness compare``.

Importing this module imports neither TensorFlow nor the runner; that happens
only when a case runs.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from typing import Any

import pytest

DEFAULT_RUNNER = "harness.runner.api:run_case"
DEFAULT_REPEATS = 5


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "benchmark harness (suites as pytest-benchmark benchmarks)")
    group.addoption("--harness-suite", metavar="SUITE", help="suite whose cases parametrize harness_benchmark")
    group.addoption("--harness-repeats", type=int, metavar="N", help="rounds per case (default: the suite's repeats)")
    group.addoption(
        "--harness-timing", choices=("train", "call"), default="train",
        help="round time: the harness's train_s (default) or the whole call",
    )  # fmt: skip
    group.addoption("--harness-runner", default=DEFAULT_RUNNER, metavar="MODULE:FUNCTION",
                    help=f"run_case(case, repeat) -> cases row (default {DEFAULT_RUNNER})")  # fmt: skip


def field(case: Any, name: str, default: Any = None) -> Any:
    """A case attribute, whether the case is a dataclass-like object or a mapping."""
    if isinstance(case, Mapping):
        return case.get(name, default)
    return getattr(case, name, default)


def case_name(case: Any) -> str:
    return str(field(case, "label") or field(case, "case_label") or field(case, "case_id") or case)


def load_cases(suite_path: str) -> list[Any]:
    """The expanded cases of a suite, through :func:`harness.suite.load_suite`."""
    from harness.suite import load_suite

    return list(load_suite(suite_path).cases)


def resolve_runner(spec: str) -> Callable[[Any, int], Mapping[str, Any]]:
    module, _, func = spec.partition(":")
    if not func:
        raise pytest.UsageError(f"--harness-runner {spec!r}: expected MODULE:FUNCTION")
    return getattr(importlib.import_module(module), func)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "harness_case" not in metafunc.fixturenames:
        return
    own = any("harness_case" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize"))
    if own:
        return
    suite = metafunc.config.getoption("harness_suite")
    if not suite:
        skip = pytest.mark.skip(reason="no --harness-suite given")
        metafunc.parametrize("harness_case", [pytest.param(None, marks=skip)], ids=["no-suite"])
        return
    cases = load_cases(suite)
    metafunc.parametrize("harness_case", cases, ids=[case_name(c) for c in cases])


class _NotOk(Exception):
    def __init__(self, row: Mapping[str, Any]) -> None:
        self.row = row
        super().__init__(f"{row.get('status')}: {row.get('error') or ''}")


class _TrainClock:
    """A clock that advances only by the train_s of each finished repeat."""

    __name__ = "harness_train_s"

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class HarnessBenchmark:
    """What the ``harness_benchmark`` fixture gives a test: call it to run the case."""

    def __init__(self, benchmark: Any, case: Any, config: pytest.Config) -> None:
        self.benchmark, self.case = benchmark, case
        self.runner = resolve_runner(config.getoption("harness_runner"))
        self.repeats = config.getoption("harness_repeats") or field(case, "repeats") or DEFAULT_REPEATS
        self.timing = config.getoption("harness_timing")
        self.rows: list[dict[str, Any]] = []

    def __call__(self) -> list[dict[str, Any]]:
        """Run every repeat as one round; return the cases rows. Fails/skips like the case."""
        clock = _TrainClock()
        if self.timing == "train" and hasattr(self.benchmark, "_timer"):
            self.benchmark._timer = clock  # pytest-benchmark reads its timer from this attribute
        counter = iter(range(int(self.repeats)))

        def setup() -> tuple[tuple[Any, int], dict]:
            return (self.case, next(counter)), {}

        def target(case: Any, repeat: int) -> dict[str, Any]:
            row = dict(self.runner(case, repeat))
            self.rows.append(row)
            if row.get("status", "ok") != "ok":
                raise _NotOk(row)
            train_s = row.get("train_s")
            if train_s is None or not math.isfinite(float(train_s)):
                raise _NotOk({**row, "status": "failed", "error": "no train_s measured"})
            clock.now += float(train_s)
            return row

        try:
            self.benchmark.pedantic(target, setup=setup, rounds=int(self.repeats))
        except _NotOk as exc:
            self._record()
            if exc.row.get("status") == "skipped":
                pytest.skip(f"{case_name(self.case)}: {exc.row.get('error') or 'skipped'}")
            pytest.fail(f"{case_name(self.case)}: {exc}", pytrace=False)
        self._record()
        return self.rows

    def _record(self) -> None:
        import pandas as pd

        from harness.results.pytest_benchmark import harness_extra_info

        if self.rows:
            extra = harness_extra_info(pd.DataFrame(self.rows))
            extra["timing"] = "train_s" if self.timing == "train" else "call"
            self.benchmark.extra_info.update(extra)


@pytest.fixture
def harness_benchmark(benchmark: Any, harness_case: Any, request: pytest.FixtureRequest) -> HarnessBenchmark:
    """Run ``harness_case`` under pytest-benchmark: ``harness_benchmark()``."""
    benchmark.group = benchmark.group or "harness"
    return HarnessBenchmark(benchmark, harness_case, request.config)
