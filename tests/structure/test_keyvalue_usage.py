"""The one KEY=VALUE parser and the usage error for command-line flags (exit 2)."""

from __future__ import annotations

import pytest

from harness.analysis.throughput import parse_baseline
from harness.cli import main
from harness.errors import EXIT_BAD_INPUT, ConfigError, UsageError
from harness.keyvalue import KeyValueError, key_value, key_values
from harness.regression.gates import GateError, parse_gate
from harness.suite.filters import parse_filters


def test_key_value_strips_and_keeps_empty_values():
    assert key_value(" engine = fast ") == ("engine", "fast")
    assert key_value("a=") == ("a", "")
    assert key_value("a=b=c") == ("a", "b=c")  # only the first '=' splits
    assert key_values("engine=keras_fit, ,device=cpu") == {"engine": "keras_fit", "device": "cpu"}


@pytest.mark.parametrize("bad", ["engine", "=fast", " = x"])
def test_key_value_rejects_what_is_not_key_value(bad):
    with pytest.raises(KeyValueError) as info:
        key_value(bad)
    assert info.value.item == bad


def test_each_caller_names_its_source():
    with pytest.raises(UsageError, match="--filter: optimizer: expected AXIS=VALUE"):
        parse_filters(["optimizer"])
    with pytest.raises(UsageError, match="--profile-filter"):
        parse_filters(["=adam"], "--profile-filter")
    with pytest.raises(ConfigError, match="--baseline: 'engine' is not KEY=VALUE"):
        parse_baseline("engine")
    with pytest.raises(GateError, match="selector item 'engine'"):
        parse_gate("samples_per_s:5%@engine")
    assert parse_gate("samples_per_s:5%@engine=fast*").selector == {"engine": "fast*"}
    assert parse_filters(["optimizer=adam, sgd", "engine=fast"]) == {"optimizer": {"adam", "sgd"},
                                                                     "engine": {"fast"}}


def test_usage_error_exits_2_with_flag_and_value(capsys):
    assert UsageError("--shard", "3/2", "expected I/N").exit_code == EXIT_BAD_INPUT
    assert str(UsageError("SUITE", "", "missing")) == "SUITE: missing"
    assert main(["run", "quick", "--dry-run", "--profile-skip", "-1"]) == EXIT_BAD_INPUT
    assert "harness: error: --profile-skip: -1: must be >= 0" in capsys.readouterr().err
