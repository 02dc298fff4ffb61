"""Suite parsing, validation errors (file, key, value, expectation) and matrix expansion."""

from __future__ import annotations

import pytest

from harness.errors import SuiteError
from harness.suite import load_suite, parse_suite

BASE = """
[suite]
name = "t"
[defaults]
dataset = "mnist-sample"
epochs = 1
"""


def parse(extra: str):
    return parse_suite(BASE + extra, "suites/x.toml")


def error_of(extra: str) -> SuiteError:
    with pytest.raises(SuiteError) as info:
        parse(extra)
    return info.value


def test_matrix_is_a_cartesian_product_with_exclude_and_include():
    s = parse("""
[matrix]
optimizer = ["minibatch_sgd", "adam", { name = "minibatch_sgd", momentum = 0.9, label = "momentum-0.9" }]
schedule = ["constant", { name = "inverse_power", alpha = 0.01, beta = 0.5 }]
[[exclude]]
optimizer = "adam"
schedule = "inverse_power"
[[include]]
optimizer = "adamw"
batch_size = 512
""")
    # 3 x 2 = 6, minus the one adam/inverse_power, plus one include
    assert len(s.cases) == 6
    labels = {c.label for c in s.cases}
    assert "adam/constant/batch_size=128" in labels
    assert not any(c.optimizer.name == "adam" and c.schedule.name == "inverse_power" for c in s.cases)
    inc = [c for c in s.cases if c.optimizer.name == "adamw"]
    assert len(inc) == 1 and inc[0].batch_size == 512 and inc[0].schedule.name == "constant"
    mom = [c for c in s.cases if c.optimizer.label == "momentum-0.9"]
    assert mom[0].optimizer.params == {"momentum": 0.9}


def test_exclude_by_table_matches_name_and_params():
    s = parse("""
[matrix]
optimizer = ["minibatch_sgd", { name = "minibatch_sgd", momentum = 0.9 }]
[[exclude]]
optimizer = { name = "minibatch_sgd", momentum = 0.9 }
""")
    assert [c.optimizer.params for c in s.cases] == [{}]


def test_case_ids_are_stable_and_distinct():
    a = parse('[matrix]\noptimizer = ["adam", "minibatch_sgd"]')
    b = parse('[matrix]\noptimizer = ["adam", "minibatch_sgd"]')
    assert [c.case_id for c in a.cases] == [c.case_id for c in b.cases]
    assert len({c.case_id for c in a.cases}) == 2


def test_duplicate_include_is_not_added_twice():
    s = parse('[matrix]\noptimizer = ["adam"]\n[[include]]\noptimizer = "adam"')
    assert len(s.cases) == 1


def test_optimizer_learning_rate_becomes_the_case_rate():
    s = parse('[matrix]\noptimizer = [{ name = "minibatch_sgd", learning_rate = 0.1 }]')
    assert s.cases[0].learning_rate == 0.1 and s.cases[0].optimizer.params == {}


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ('[matrix]\noptimizer = ["adma"]', "matrix.optimizer[0]", ["did you mean 'adam'", "Known:"]),
        ('[matrix]\nschedule = ["cosin"]', "matrix.schedule[0]", ["did you mean 'cosine'"]),
        ('[matrix]\nengine = ["fastest"]', "matrix.engine[0]", ["did you mean 'fast'"]),
        ('[matrix]\noptimizer = []', "matrix.optimizer", ["empty list"]),
        ('[matrix]\noptimizer = "adam"', "matrix.optimizer", ["expected a list"]),
        ('[matrix]\nepochs = [-1]', "matrix.epochs[0]", ["must be >= 1", "epochs=-1"]),
        ('[matrix]\nbatch_size = [0]', "matrix.batch_size[0]", ["must be >= 1", "batch_size=0"]),
        ('[matrix]\nlearning_rate = [0.0]', "matrix.learning_rate[0]", ["must be > 0"]),
        ('[matrix]\nlearning_rate = ["fast"]', "matrix.learning_rate[0]", ["expected a number"]),
        ('[matrix]\nepochs = [1.5]', "matrix.epochs[0]", ["expected an integer"]),
        ('[matrix]\ndevice = ["gpu0"]', "matrix.device[0]", ["invalid device"]),
        ('[matrix]\nprecision = ["fp16"]', "matrix.precision[0]", ["unknown value"]),
        ('[matrix]\nschedule = [{ name = "inverse_power", alfa = 1 }]', "matrix.schedule[0].alfa", ["did you mean 'alpha'"]),
        ('[matrix]\ndataset = [{ name = "synthetic", n_train = 0 }]', "matrix.dataset[0].n_train", ["must be >= 1"]),
        ('[matrix]\ndataset = [{ name = "mnist", path = "/nope/mnist.npz" }]', "matrix.dataset[0].path", ["does not exist"]),
        ('[matrix]\nstrategy = [{ name = "mirrored", replicas = 0 }]', "matrix.strategy[0].replicas", ["must be >= 1"]),
        ('[matrix]\nepoch = [1]', "matrix.epoch", ["unknown key", "did you mean 'epochs'"]),
        ('[[exclude]]\noptimiser = "adam"', "exclude[0].optimiser", ["unknown key", "did you mean 'optimizer'"]),
        ('[[include]]\nbogus = 1', "include[0].bogus", ["unknown key"]),
        ('[[exclude]]\n', "exclude[0]", ["matches every case"]),
        ('[matrix]\nbatch_size = [5000]', "batch_size", ["larger than the 3333 training examples"]),
        ('[matrix]\noptimizer = ["adam"]\n[[exclude]]\noptimizer = "adam"', "matrix", ["no cases"]),
        ('[bogus]\nx = 1', "bogus", ["unknown key"]),
        ('[matrix]\ntarget_accuracy = [1.5]', "matrix.target_accuracy[0]", ["<= 1.0"]),
    ],
)
def test_validation_errors_name_file_key_and_value(extra, key, words):
    err = error_of(extra)
    assert err.file == "suites/x.toml"
    assert key in err.key
    text = str(err)
    assert text.startswith("suites/x.toml: ")
    for w in words:
        assert w in text


def test_malformed_toml_is_a_suite_error():
    with pytest.raises(SuiteError, match="malformed TOML"):
        parse_suite("[suite\nname=", "bad.toml")


def test_suite_level_settings_are_validated():
    with pytest.raises(SuiteError, match="suite.collectors"):
        parse_suite('[suite]\ncollectors = "rapl"', "x.toml")
    s = parse_suite('[suite]\ncollectors = []\ntdp_w = 65\ntarget_accuracy = 0.8', "x.toml")
    assert s.settings == {"collectors": [], "tdp_w": 65.0, "target_accuracy": 0.8}
    assert s.cases[0].target_accuracy == 0.8


def test_custom_optimizer_path_is_accepted_by_the_suite_layer():
    s = parse('[matrix]\noptimizer = ["mypkg.opt:MyOpt"]')
    assert s.cases[0].optimizer.name == "mypkg.opt:MyOpt"


@pytest.mark.parametrize("name", ["quick", "optimizers", "schedules", "engines", "full"])
def test_shipped_suites_validate(name):
    suite = load_suite(name)
    assert suite.cases, name


def test_unknown_suite_name_suggests():
    with pytest.raises(SuiteError, match="did you mean 'quick'"):
        load_suite("quik")


def test_suite_layer_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys, harness.suite as s; s.load_suite('quick'); print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
