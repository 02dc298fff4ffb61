"""Results: schema'd pandas tables in versioned, atomically written files."""

from harness.results.store import (
    CaseResult,
    Run,
    find_runs,
    load_history,
    load_run,
    load_runs,
    read_table,
    write_table,
)

__all__ = [
    "CaseResult",
    "Run",
    "find_runs",
    "load_history",
    "load_run",
    "load_runs",
    "read_table",
    "write_table",
]
