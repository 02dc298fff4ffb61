"""--dry-run makes every check that needs no TensorFlow, and says which only a real run makes."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.runner.parent.dry_checks import optimizer_keywords

BAD = """[suite]
name = "bad"
[defaults]
dataset = "mnist-sample"
epochs = 1
[matrix]
optimizer = ["sgd", { name = "adam", beta1 = 0.8 }]
"""


def test_optimizer_keywords_come_from_keras_source():
    adam = optimizer_keywords("Adam")
    if adam is None:
        pytest.skip("Keras' source is not readable here")
    assert {"beta_1", "beta_2", "epsilon", "amsgrad", "weight_decay", "clipnorm"} <= adam
    assert "beta1" not in adam


def test_dry_run_refuses_a_bad_optimizer_keyword(tmp_path, capsys):
    suite = tmp_path / "bad.toml"
    suite.write_text(BAD)
    assert main(["run", str(suite), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "optimizer.beta1" in err and "did you mean 'beta_1'" in err


def test_dry_run_says_what_only_a_real_run_checks(capsys):
    assert main(["run", "quick", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "only a real run checks:" in captured.err and "7 case(s)" in captured.out


@pytest.mark.parametrize(("filters", "message"), [
    (["optimizer=adma"], "optimizer=adma matches no case (optimizer in this suite: adam, adamw, minibatch_sgd"),
    (["optimizer=adamw", "batch_size=128"], "no case has optimizer=adamw and batch_size=128 at once"),
])
def test_a_filter_selecting_nothing_is_an_error_in_dry_run(capsys, filters, message):
    argv = ["run", "quick", "--dry-run"]
    for f in filters:
        argv += ["--filter", f]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
