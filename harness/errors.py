"""Typed errors and the CLI's exit codes (documented in README.md)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_REGRESSION = 1  # harness compare: a regression was found
EXIT_BAD_INPUT = 2  # invalid suite, options, dataset path, results file
EXIT_INCONCLUSIVE = 3  # harness compare --fail-on-inconclusive
EXIT_RESULTS = 4  # results could not be written or read (disk full, corrupt store)
# the regression gate fails closed (harness compare; see docs/regression.md)
EXIT_UNREACHABLE = 5  # cannot decide: these repeats cannot reach significance for this family
EXIT_CASE_LOST = 6  # a baseline case is missing from the current results
EXIT_NEW_FAILURE = 7  # a case now fails, diverges, crashes or times out
EXIT_ENV_MISMATCH = 8  # the environments differ, or cannot be checked (run.json without machine info)
EXIT_MIXED_POOL = 9  # --pool over runs of different suites, commits or environments
EXIT_INTERRUPTED = 130  # SIGINT / SIGTERM: the run was stopped, finished cases are kept


class HarnessError(Exception):
    """Base of the harness's own errors; ``exit_code`` is what the CLI returns."""

    exit_code = EXIT_BAD_INPUT


class SuiteError(HarnessError):
    """A suite (or its command-line overrides) is invalid. Names file, key, value."""

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file, self.key, self.message = file, key, message
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(where + message)


class UsageError(HarnessError):
    """A command-line flag, its value or its combination with other flags is invalid (exit 2).

    ``flag`` names the flag (``--shard``), ``value`` what was given (may be empty).
    """

    def __init__(self, flag: str, value: str, message: str) -> None:
        self.flag, self.value, self.message = flag, value, message
        super().__init__(f"{flag}: {value}: {message}" if value else f"{flag}: {message}")


class ConfigError(HarnessError):
    """A component was asked for with a bad name or bad parameters."""


class DatasetError(HarnessError):
    """A dataset could not be loaded (missing, offline, malformed)."""


class ResultsError(HarnessError):
    """A results file could not be written or read."""

    exit_code = EXIT_RESULTS


class SkipCase(Exception):
    """Raised inside a worker when a case cannot run here; the row becomes ``skipped``."""


class MixedPoolError(HarnessError):
    """``--pool`` would pool runs of different suites, commits or environments."""

    exit_code = EXIT_MIXED_POOL
