"""Property-based tests: random and malformed suite documents never escape as raw tracebacks."""

from __future__ import annotations

import contextlib
import itertools
import json
import math

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness.errors import SuiteError
from harness.suite import CASE_KEYS, SUITE_KEYS, TOP_KEYS, parse_suite


# ------------------------------------------------------------ a small TOML writer
def toml_str(s: str) -> str:
    # JSON's escapes are TOML basic-string escapes; TOML also wants DEL escaped
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_str(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def to_toml(doc: dict) -> str:
    lines = [f"{toml_str(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict | list)
             or (isinstance(v, list) and not all(isinstance(x, dict) for x in v)) or not v]
    for k, v in doc.items():
        if isinstance(v, dict) and v:
            lines.append(f"[{toml_str(k)}]")
            lines += [f"{toml_str(kk)} = {toml_value(vv)}" for kk, vv in v.items()]
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for entry in v:
                lines.append(f"[[{toml_str(k)}]]")
                lines += [f"{toml_str(kk)} = {toml_value(vv)}" for kk, vv in entry.items()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------ malformed documents
known = st.sampled_from(sorted(set(CASE_KEYS) | SUITE_KEYS | TOP_KEYS | {"name", "params", "label", "n_train", "path"}))
keys = st.one_of(known, known, known, st.text(max_size=8))
scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=True)
           | st.text(max_size=12) | st.sampled_from(["adam", "sgd", "gd", "fast", "cpu", "synthetic", "mnist",
                                                    "constant", "cosine", "mirrored", "a:B", "os:system"]))
values = st.recursive(scalars.filter(lambda x: x is not None),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
                      max_leaves=8)
tables = st.dictionaries(keys, values, max_size=4)
documents = st.fixed_dictionaries({}, optional={
    "suite": tables, "defaults": tables, "matrix": st.dictionaries(keys, st.lists(values, max_size=3) | values, max_size=3),
    "exclude": st.lists(tables, max_size=2), "include": st.lists(tables, max_size=2),
}) | st.dictionaries(keys, values, max_size=3)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents_are_accepted_or_rejected_cleanly(doc):
    text = to_toml(doc)
    try:
        suite = parse_suite(text, "fuzz.toml")
    except SuiteError as exc:
        assert exc.file == "fuzz.toml" and exc.exit_code == 2 and str(exc).startswith("fuzz.toml")
        return
    assert suite.cases


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_is_accepted_or_rejected_cleanly(text):
    with contextlib.suppress(SuiteError):
        parse_suite(text, "text.toml")


# ------------------------------------------------------------ the documented case count
POOLS = {
    "optimizer": ["adam", "rmsprop", "minibatch_sgd", "adagrad", "nadam"],
    "batch_size": [16, 32, 64, 128, 256],
    "epochs": [1, 2, 3, 4],
    "engine": ["fast", "keras_fit", "eager"],
    "learning_rate": [0.1, 0.01, 0.001, 0.0001],
}


@st.composite
def valid_suites(draw):
    axes = draw(st.lists(st.sampled_from(sorted(POOLS)), min_size=1, max_size=3, unique=True))
    matrix = {a: draw(st.lists(st.sampled_from(POOLS[a]), min_size=1, max_size=3, unique=True)) for a in axes}

    def entry():
        ks = draw(st.lists(st.sampled_from(sorted(POOLS)), min_size=1, max_size=2, unique=True))
        return {k: draw(st.sampled_from(POOLS[k])) for k in ks}

    excludes = [entry() for _ in range(draw(st.integers(0, 2)))]
    includes = [entry() for _ in range(draw(st.integers(0, 2)))]
    return matrix, excludes, includes


def expected_cases(matrix: dict, excludes: list[dict], includes: list[dict]) -> int:
    """The suite module's documented count, computed independently of its code."""
    base = {"optimizer": "adam", "batch_size": 128, "epochs": 3, "engine": "fast", "learning_rate": 0.001}
    configs = []
    for values in itertools.product(*matrix.values()):
        combo = {**base, **dict(zip(matrix, values, strict=True))}
        if not any(all(combo[k] == v for k, v in ex.items()) for ex in excludes):
            configs.append(combo)
    configs += [{**base, **inc} for inc in includes]
    return len({json.dumps(c, sort_keys=True) for c in configs})


@settings(max_examples=150, deadline=None)
@given(valid_suites())
def test_accepted_suites_expand_to_the_documented_number_of_cases(drawn):
    matrix, excludes, includes = drawn
    doc = {"defaults": {"dataset": {"name": "synthetic", "n_train": 512, "n_test": 64}},
           "matrix": matrix, "exclude": excludes, "include": includes}
    n = expected_cases(matrix, excludes, includes)
    try:
        suite = parse_suite(to_toml(doc), "count.toml")
    except SuiteError as exc:
        assert n == 0 and "no cases" in str(exc)
        return
    assert len(suite.cases) == n
    assert len({c.case_id for c in suite.cases}) == n


@given(st.lists(st.sampled_from(POOLS["optimizer"]), min_size=1, max_size=6))
def test_duplicate_matrix_values_count_once(values):
    assume(values)
    suite = parse_suite(to_toml({"matrix": {"optimizer": values}}), "dup.toml")
    assert len(suite.cases) == len(set(values))
