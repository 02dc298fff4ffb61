"""Every case of ``--harness-suite SUITE`` as a pytest-benchmark benchmark.

    pytest -p harness.pytest_plugin benchmarks/ --harness-suite suites/ci.toml --benchmark-only

Outside ``tests/`` on purpose: the project's test run does not train suites.
"""


def test_case(harness_benchmark):
    harness_benchmark()
