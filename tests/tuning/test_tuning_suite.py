"""The [tuning] table: trial sequences (identical on every expansion, budgets are prefixes), trials as
ordinary cases, and bad input (exit 2 naming the key)."""

from __future__ import annotations

import json

import pytest

from harness.errors import SuiteError
from harness.suite import parse_suite
from harness.tuning.space import Dim, sample

SUITE = """
[suite]
name = "t"
[defaults]
dataset = "mnist-sample"
epochs = 1
[matrix]
optimizer = ["minibatch_sgd", "adam", {{ name = "momentum", label = "mom" }}]
[tuning]
trials = {trials}
one_shot = {one_shot}
[tuning.space]
learning_rate = {{ log_uniform = [1e-4, 1.0] }}
[tuning.space.mom]
momentum = {{ uniform = [0.0, 0.99] }}
"""


def parse(trials="[1, 4, 8]", one_shot="false", extra=""):
    return parse_suite(SUITE.format(trials=trials, one_shot=one_shot) + extra, "s.toml")


def values(cases):
    return [(c.optimizer.display, c.trial, c.learning_rate, json.dumps(c.optimizer.params)) for c in cases]


def test_two_expansions_sample_identical_trials_and_budgets_are_prefixes():
    a, b = parse(), parse()
    assert values(a.cases) == values(b.cases)
    assert len(a.cases) == 3 * 8
    short = parse(trials="4")
    for label in ("minibatch_sgd", "adam", "mom"):
        long_ = [v for v in values(a.cases) if v[0] == label]
        assert [v for v in values(short.cases) if v[0] == label] == long_[:4]


def test_trials_are_ordinary_cases_with_stage_trial_and_values():
    s = parse(one_shot="true")
    mom = [c for c in s.cases if c.optimizer.display == "mom"]
    assert [c.trial for c in mom] == list(range(8)) and {c.stage for c in mom} == {"trial"}
    assert mom[0].learning_rate == 0.01 and mom[0].optimizer.params == {"momentum": 0.9}  # one-shot: defaults
    assert json.loads(mom[3].tuned_params) == {"learning_rate": mom[3].learning_rate,
                                               "momentum": mom[3].optimizer.params["momentum"]}
    assert all(1e-4 <= c.learning_rate <= 1.0 for c in s.cases)
    assert len({c.case_id for c in s.cases}) == len(s.cases)
    adam = [c for c in s.cases if c.optimizer.display == "adam"]
    assert adam[0].learning_rate == 0.001 and "momentum" not in adam[1].optimizer.params


def test_sampler_maps_log_uniform_in_log_space_and_grid_covers_the_ends():
    dim = Dim("learning_rate", "log_uniform", (1e-4, 1.0))
    assert dim.at(0.5) == pytest.approx(1e-2)
    grid = sample({"learning_rate": dim}, 5, "grid")
    assert grid[0]["learning_rate"] == pytest.approx(1e-4) and grid[-1]["learning_rate"] == pytest.approx(1.0, rel=1e-9)
    choice = Dim("nesterov", "choice", (False, True))
    assert {choice.at(0.1), choice.at(0.9)} == {False, True}


@pytest.mark.parametrize(("extra_space", "where", "words"), [
    ("beta_9 = { uniform = [0.0, 1.0] }", "tuning.space.beta_9", ["beta_9", "'minibatch_sgd'", "it accepts", "nesterov"]),
    ("weight_decay = { log_uniform = [0.0, 1.0] }", "tuning.space.weight_decay", ["> 0"]),
    ("weight_decay = { uniform = [1.0, 0.1] }", "tuning.space.weight_decay", ["lo < hi"]),
    ("nesterov = { choice = [] }", "tuning.space.nesterov", ["non-empty"]),
])
def test_bad_search_spaces_name_the_key(extra_space, where, words):
    text = SUITE.format(trials="4", one_shot="false").replace(
        "[tuning.space.mom]", extra_space + "\n[tuning.space.mom]")
    with pytest.raises(SuiteError) as info:
        parse_suite(text, "s.toml")
    assert info.value.key == where
    for w in words:
        assert w in str(info.value)


def test_bad_budgets_and_keys_tuned_and_fixed():
    for trials in ("0", "[]", "[1, 0]"):
        with pytest.raises(SuiteError, match="tuning.trials"):
            parse(trials=trials)
    with pytest.raises(SuiteError) as info:
        parse_suite(SUITE.format(trials="4", one_shot="false").replace(
            'optimizer = ["minibatch_sgd"', 'learning_rate = [0.1]\noptimizer = ["minibatch_sgd"'), "s.toml")
    assert "both tuned" in str(info.value) and info.value.key == "matrix.learning_rate"
    with pytest.raises(SuiteError, match="both tuned"):
        parse_suite(SUITE.format(trials="4", one_shot="false").replace(
            '{ name = "momentum", label = "mom" }', '{ name = "momentum", label = "mom", momentum = 0.5 }'), "s.toml")
    with pytest.raises(SuiteError, match="no optimizer of the suite is labelled 'nope'"):
        parse(extra="[tuning.space.nope]\nrho = { uniform = [0.1, 0.9] }\n")


def test_the_size_guard_counts_the_trials():
    from harness.suite import parse_spec
    from harness.suite.size import plan_size

    text = SUITE.format(trials="[2, 8]", one_shot="false")
    assert plan_size(parse_spec(text, "s.toml")).cases == len(parse_suite(text, "s.toml").cases) == 24
