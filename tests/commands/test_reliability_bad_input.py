"""Every user-facing input is validated with a clear error (file, key, value, expectation), exit 2."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.errors import SuiteError
from harness.suite import parse_suite

HEAD = '[suite]\nname = "bad"\n'
TINY = 'dataset = { name = "synthetic", n_train = 100, n_test = 10 }\n'


@pytest.mark.parametrize(("text", "key", "message"), [
    ("[suite\nname = 1", "", "malformed TOML"),
    (HEAD + "[defaults]\nepoch = 3\n", "defaults.epoch", "did you mean 'epochs'?"),
    (HEAD + "[defaults]\ntdp_w = 50\n", "defaults.tdp_w", "put it in [suite]"),
    ("epochs = 3\n" + HEAD, "epochs", "put it in [defaults]"),
    (HEAD + '[defaults]\nepochs = "3"\n', "defaults.epochs", "expected an integer >= 1, got '3'"),
    (HEAD + "[defaults]\nepochs = -1\n", "defaults.epochs", "must be >= 1. Received: epochs=-1"),
    (HEAD + "[defaults]\nbatch_size = 0\n", "defaults.batch_size", "must be >= 1. Received: batch_size=0"),
    (HEAD + "[defaults]\nlearning_rate = 0.0\n", "defaults.learning_rate", "must be > 0.0"),
    (HEAD + "[defaults]\nlearning_rate = -0.1\n", "defaults.learning_rate", "Received: learning_rate=-0.1"),
    (HEAD + "[defaults]\nlearning_rate = nan\n", "defaults.learning_rate", "expected a finite number"),
    (HEAD + "[defaults]\nlearning_rate = inf\n", "defaults.learning_rate", "expected a finite number"),
    (HEAD + "[defaults]\n" + TINY + "batch_size = 128\n", "case adam: batch_size",
     "larger than the 100 training examples"),
    (HEAD + "[matrix]\noptimizer = []\n", "matrix.optimizer", "empty list"),
    (HEAD + '[matrix]\noptimizer = "adam"\n', "matrix.optimizer", "expected a list of values"),
    (HEAD + '[matrix]\noptimizer = ["adamm"]\n', "matrix.optimizer[0]", "did you mean 'adam'?"),
    (HEAD + '[matrix]\noptimizer = ["adam"]\n[[exclude]]\noptimiser = "adam"\n', "exclude[0].optimiser",
     "did you mean 'optimizer'?"),
    (HEAD + '[[include]]\nengin = "fast"\n', "include[0].engin", "did you mean 'engine'?"),
    (HEAD + '[[include]]\nengine = "fastest"\n', "include[0].engine", "unknown value 'fastest'"),
    (HEAD + "[[include]]\n", "include[0]", "matches every case"),
    (HEAD + '[matrix]\noptimizer = ["adam"]\n[[exclude]]\noptimizer = "adam"\n', "matrix", "no cases"),
    (HEAD + '[defaults]\noptimizer = "mymodule"\n', "defaults.optimizer", "unknown optimizer 'mymodule'"),
    (HEAD + '[defaults]\noptimizer = "my module:Opt"\n', "defaults.optimizer", "expected 'package.module:ClassName'"),
    (HEAD + '[defaults]\nschedule = { name = "cosine", decay_stps = 3 }\n', "defaults.schedule.decay_stps",
     "did you mean 'decay_steps'?"),
    (HEAD + '[defaults]\ndataset = { name = "idx", path = "/no/such/folder" }\n', "defaults.dataset.path",
     "does not exist"),
    (HEAD + '[defaults]\ndevice = "gpu0"\n', "defaults.device", "expected cpu, cpu:N"),
    (HEAD + '[defaults]\nstrategy = { name = "mirrored", replicas = 0 }\n', "defaults.strategy.replicas",
     "must be >= 1"),
    (HEAD + "[defaults]\ntarget_accuracy = 1.5\n", "defaults.target_accuracy", "<= 1.0"),
    (HEAD + "[defaults]\ntime_limit_s = 0\n", "defaults.time_limit_s", "must be > 0.0"),
    ('[suite]\nname = ""\n', "suite.name", "non-empty string"),
    ("[suite]\ndescription = 3\n", "suite.description", "expected a string"),
    ("[suite]\ncollectors = \"rapl\"\n", "suite.collectors", "list of collector names"),
    ("defaults = 3\n", "defaults", "expected a table"),
    ("include = 3\n", "include", "array of tables"),
])
def test_bad_suites_name_file_key_and_expectation(text, key, message):
    with pytest.raises(SuiteError) as info:
        parse_suite(text, "suites/bad.toml")
    err = info.value
    assert err.file == "suites/bad.toml" and err.exit_code == 2
    assert err.key == key, str(err)
    assert message in err.message, str(err)


def test_optimizer_parameters_are_left_to_the_worker_preflight():
    # Keras optimizers' keyword sets are only known with Keras imported (in the worker):
    # the suite layer accepts them, the preflight rejects bad ones before anything runs.
    parse_suite(HEAD + '[defaults]\noptimizer = { name = "adam", beta_1 = 0.8 }\n', "ok.toml")


def _cli(capsys, *argv):
    rc = main(list(argv))
    return rc, capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--repeats", "0"], "--repeats: 0: must be >= 1"),
    (["--time-limit", "-5"], "--time-limit: -5.0: must be a finite number > 0"),
    (["--tdp", "0"], "--tdp: 0.0"),
    (["--idle-baseline", "-1"], "--idle-baseline"),
    (["--shard", "3/2"], "--shard: 3/2: expected I/N"),
    (["--shard", "x"], "--shard: x"),
    (["--filter", "optimiser=adam"], "did you mean 'optimizer'?"),
    (["--filter", "optimizer"], "expected AXIS=VALUE"),
    (["--filter", "optimizer=nothing"], "optimizer=nothing matches no case (optimizer in this suite:"),
])
def test_bad_options_exit_2_and_write_nothing(tmp_path, capsys, argv, message):
    suite = tmp_path / "s.toml"
    suite.write_text(HEAD + '[defaults]\ndataset = { name = "synthetic", n_train = 256, n_test = 32 }\n')
    results = tmp_path / "results"
    rc, err = _cli(capsys, "run", str(suite), "--results-dir", str(results), "--no-progress", *argv)
    assert rc == 2 and message in err and err.startswith("harness: error:")
    assert not results.exists()


def test_bad_suite_file_exits_2_and_writes_nothing(tmp_path, capsys):
    suite = tmp_path / "s.toml"
    suite.write_text(HEAD + "[defaults]\nbatch_size = 0\n")
    results = tmp_path / "results"
    rc, err = _cli(capsys, "run", str(suite), "--results-dir", str(results))
    assert rc == 2 and f"{suite}: defaults.batch_size: must be >= 1" in err
    assert not results.exists()


@pytest.mark.parametrize("argv", [
    ["run", "quick", "--resume", "RUN"], ["run", "--resume", "RUN", "--filter", "optimizer=adam"],
    ["run", "--resume", "RUN", "--repeats", "2"], ["run", "--resume", "RUN", "--shard", "1/2"],
    ["run", "--resume", "RUN", "--collectors", ""],
])
def test_conflicting_options(capsys, argv):
    rc, err = _cli(capsys, *argv)
    assert rc == 2 and "conflicts with" in err


def test_missing_suite_and_missing_run(tmp_path, capsys):
    rc, err = _cli(capsys, "run", str(tmp_path / "nope.toml"))
    assert rc == 2 and "suite file does not exist" in err
    rc, err = _cli(capsys, "run", "no_such_suite_name")
    assert rc == 2 and "no such suite file or suite name" in err
    rc, err = _cli(capsys, "run", "--resume", str(tmp_path))
    assert rc == 4 and "run.json: missing" in err
