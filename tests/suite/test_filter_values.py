"""``--filter`` with literal values: what each filter selects (components by name or label, plain
axes by their text), every refusal's message in full, and the no-match message."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.suite import parse_suite
from harness.suite.filters import FILTER_HINT, no_match_message, parse_filters, selected

TEXT = """
[defaults]
dataset = "mnist-sample"
[matrix]
optimizer = ["adam", { name = "minibatch_sgd", momentum = 0.9, label = "momentum-0.9" }]
epochs = [1, 2]
engine = ["fast", "eager"]
"""


def cases():
    return parse_suite(TEXT, "f.toml").cases


def picked(filters):
    flt = parse_filters(filters)
    return sorted((c.optimizer.display, c.epochs, c.engine) for c in cases() if selected(c, flt))


def test_parse_filters_values():
    assert parse_filters(None) == {} and parse_filters([]) == {}
    # spaces around key and values stripped; the same axis twice: the union
    assert parse_filters([" optimizer = adam , sgd ", "optimizer=nadam", "engine=fast"]) == {
        "optimizer": {"adam", "sgd", "nadam"}, "engine": {"fast"}}


def test_plain_axes_match_their_text_components_their_name_or_label():
    assert picked(["epochs=2", "engine=eager"]) == [("adam", 2, "eager"), ("momentum-0.9", 2, "eager")]
    assert picked(["engine=fast", "epochs=1,2", "optimizer=adam"]) == [("adam", 1, "fast"), ("adam", 2, "fast")]
    # a labelled component: by its label or by its registry name
    by_label = picked(["optimizer=momentum-0.9", "epochs=1", "engine=fast"])
    assert by_label == picked(["optimizer=minibatch_sgd", "epochs=1", "engine=fast"]) == [("momentum-0.9", 1, "fast")]
    assert picked(["epochs=3"]) == [] and picked(["engine=Fast"]) == []  # exact text, no near match
    assert len(picked([])) == 8  # no filter: every case


@pytest.mark.parametrize(("given", "flag", "message"), [
    (["optimizer"], "--filter", f"--filter: optimizer: {FILTER_HINT}"),
    (["=adam"], "--filter", f"--filter: =adam: {FILTER_HINT}"),
    (["optimizer="], "--filter", f"--filter: optimizer=: {FILTER_HINT}"),
    (["optimizer=  "], "--only", f"--only: optimizer=  : {FILTER_HINT}"),
    (["optimiser=adam"], "--filter", "--filter: optimiser: unknown axis; did you mean 'optimizer'? Known: "),
])
def test_refusals_in_full(given, flag, message):
    with pytest.raises(UsageError) as err:
        parse_filters(given) if flag == "--filter" else parse_filters(given, flag)
    assert str(err.value).startswith(message)
    assert err.value.flag == flag
    assert FILTER_HINT == "expected AXIS=VALUE[,VALUE...], e.g. optimizer=adam,sgd"


def test_no_match_message_names_each_value_that_matches_nothing():
    assert no_match_message(cases(), ["optimizer=sgd,adam,lion", "engine=fast"]) == (
        "optimizer=lion,sgd matches no case (optimizer in this suite: adam, minibatch_sgd, momentum-0.9)")
    assert no_match_message(cases(), ["epochs=3", "engine=jax"]) == (
        "epochs=3 matches no case (epochs in this suite: 1, 2); "
        "engine=jax matches no case (engine in this suite: eager, fast)")
    # every value exists, no case has them all (a filter of one case's values against the others)
    one = [c for c in cases() if c.epochs == 1 and c.engine == "fast"]
    assert no_match_message(one, ["epochs=1", "engine=fast"]) == "no case has epochs=1 and engine=fast at once"
    assert no_match_message(one, None) == "no case has  at once"
