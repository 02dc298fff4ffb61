"""Plans of any size (issue 19): sizing before expansion, the guard, the linear dry run, estimates."""

from __future__ import annotations

import random

import pytest

from harness import schema
from harness.cli import main
from harness.results import store
from harness.runner.parent.estimate import Estimator, format_duration, from_run, plan_estimate_s
from harness.runner.parent.guard import MAX_RUNS
from harness.suite import available_suites, expand, load_spec, parse_spec, parse_suite
from harness.suite.size import plan_size, restrict

AXES = {
    "optimizer": ['"adam"', '"rmsprop"', '{ name = "adam", label = "adam-again" }', '"sgd"'],
    "schedule": ['"constant"', '{ name = "inverse_power", alpha = 0.01, beta = 0.5 }'],
    "engine": ['"fast"', '"eager"', '"keras_fit"'],
    "seed": ["0", "1", "2"],
    "repeats": ["1", "3"],
    "batch_size": ["32", "64"],
}
EXCLUDES = ['optimizer = "adam"', 'engine = "eager"', 'seed = 1', 'repeats = 3', 'precision = "float32"',
            'precision = "mixed_bfloat16"', 'schedule = "inverse_power"']
INCLUDES = ['optimizer = "adam"', 'optimizer = "nadam"', 'engine = "eager"\nseed = 7', 'batch_size = 512']


def random_suite(rng: random.Random) -> str:
    lines = ['[defaults]', 'dataset = { name = "synthetic", n_train = 1024 }', "[matrix]"]
    for axis in rng.sample(sorted(AXES), rng.randint(0, len(AXES))):
        lines.append(f"{axis} = [{', '.join(rng.sample(AXES[axis], rng.randint(1, len(AXES[axis]))))}]")
    for kind, pool in (("exclude", EXCLUDES), ("include", INCLUDES)):
        for entry in rng.sample(pool, rng.randint(0, 2)):
            lines += [f"[[{kind}]]", entry]
    return "\n".join(lines) + "\n"


def test_size_from_the_matrix_equals_the_expansion():
    """Counted without expanding == counted by expanding: shipped suites and 60 random ones."""
    specs = [load_spec(name) for name in available_suites()]
    rng = random.Random(19)
    specs += [parse_spec(random_suite(rng), f"random{i}.toml") for i in range(60)]
    inexact = 0
    for spec in specs:
        try:
            cases = expand(spec)
        except Exception:  # everything excluded: nothing to compare
            continue
        size, runs = plan_size(spec), sum(c.repeats for c in cases)
        if size.exact:
            assert (size.cases, size.runs) == (len(cases), runs), spec.text
            assert plan_size(spec, repeats=2).runs == 2 * len(cases)
        else:  # an axis repeats a configuration that an exclude tells apart: an upper bound
            assert size.cases >= len(cases) and size.runs >= runs, spec.text
            inexact += 1
    assert inexact < 10


def test_restrict_keeps_what_a_filter_selects():
    spec = load_spec("full")
    narrowed = restrict(spec, {"optimizer": {"adam"}, "engine": {"fast"}})
    cases = [c for c in expand(spec) if c.optimizer.name == "adam" and c.engine == "fast"]
    assert plan_size(narrowed).cases >= len(cases) > 0
    assert plan_size(narrowed).cases < plan_size(spec).cases // 10


def test_a_million_cases_are_refused_before_expansion(tmp_path, capsys):
    text = '[defaults]\ndataset = { name = "synthetic", n_train = 2048 }\n[matrix]\n' + "\n".join(
        f"{k} = [{', '.join(str(v) for v in vals)}]" for k, vals in (
            ("seed", range(50)), ("epochs", range(1, 11)), ("batch_size", range(16, 26)),
            ("learning_rate", [i / 1000 for i in range(1, 11)]), ("steps_per_execution", range(1, 11)),
            ("target_accuracy", [0.5]), ("optimizer", ['"adam"'] * 1), ("jit_compile", ["true", "false"])))
    (tmp_path / "big.toml").write_text(text)
    assert plan_size(parse_spec(text)).cases == 1_000_000
    code = main(["run", str(tmp_path / "big.toml"), "--dry-run", "--results-dir", str(tmp_path / "res")])
    err = capsys.readouterr().err
    assert code == 2
    assert "1,000,000 case(s), 1,000,000 run(s)" in err and "estimated ~" in err
    assert "--yes" in err and "--shard" in err and "--filter" in err
    assert not (tmp_path / "res").exists()


REPEATED = """
[defaults]
dataset = { name = "synthetic", n_train = 2048 }
repeats = 200
[matrix]
seed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
epochs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
optimizer = ["adam", "rmsprop", "nadam", "adamax", "lion", "adagrad", "ftrl", "lamb", "adadelta", "adamw"]
"""


def test_guard_counts_runs_and_says_how_to_proceed(tmp_path, capsys):
    path = tmp_path / "rep.toml"
    path.write_text(REPEATED)
    assert MAX_RUNS < 1000 * 200
    assert main(["run", str(path), "--dry-run"]) == 2
    assert "1,000 case(s), 200,000 run(s)" in capsys.readouterr().err
    # a shard's share passes the count, then the time estimate (days) stops it, for that shard
    assert main(["run", str(path), "--dry-run", "--shard", "1/4"]) == 2
    err = capsys.readouterr().err
    assert "for this shard (1 of 4)" in err and "days" in err
    # a filter that selects a part proceeds
    assert main(["run", str(path), "--dry-run", "--filter", "optimizer=adam", "--filter", "seed=0",
                 "--repeats", "2"]) == 0
    assert "10 case(s), 20 run(s)" in capsys.readouterr().out
    # --yes proceeds with everything (summarised by axis: 1,000 cases)
    assert main(["run", str(path), "--dry-run", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "1,000 case(s), 200,000 run(s)" in out and "by axis" in out and "--all lists every case" in out
    assert out.count("\n") < 60


def test_dry_run_lists_small_plans_and_summarises_large_ones(capsys):
    assert main(["run", "quick", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 8 and all("  x1  " in line and "~" in line for line in out[:7])
    assert "7 case(s), 7 run(s) of suite 'quick'; estimated total" in out[-1] and "plan estimate" in out[-1]
    assert main(["run", "full", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "682 case(s), 2,046 run(s)" in out
    assert "  optimizer\n" in out and "  engine\n" in out and "    keras_fit " in out
    assert main(["run", "full", "--dry-run", "--all"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 683


def test_estimates_follow_the_work():
    s = parse_suite('[defaults]\ndataset = { name = "synthetic", n_train = 4096 }\n[matrix]\n'
                    'optimizer = ["adam", "sgd", "gd"]\nengine = ["fast", "eager"]\n'
                    '[[include]]\nstrategy = { name = "multi_worker_mirrored", workers = 2 }\n')
    est = {(c.optimizer.name, c.engine, c.strategy.name): plan_estimate_s(c) for c in s.cases}
    assert est["sgd", "fast", "default"] > est["adam", "fast", "default"] > est["gd", "fast", "default"]
    assert est["adam", "eager", "default"] > est["adam", "fast", "default"]
    assert est["adam", "fast", "multi_worker_mirrored"] > est["adam", "fast", "default"] + 10
    assert format_duration(90) == "1 min 30 s" and format_duration(7260) == "2 h 01 min"
    assert format_duration(3 * 86400) == "3.0 days"


def test_balance_from_a_previous_run_uses_its_durations(tmp_path, capsys):
    suite = parse_suite('[defaults]\ndataset = { name = "synthetic", n_train = 1024 }\nrepeats = 2\n'
                        '[matrix]\noptimizer = ["adam", "rmsprop", "nadam"]\n', "s.toml")
    (tmp_path / "s.toml").write_text(suite.text)
    a, b, c = suite.cases
    run = tmp_path / "prev"
    run.mkdir()
    store.atomic_write_json(run / "run.json", {"schema_version": schema.SCHEMA_VERSION})
    rows = [{"case_id": a.case_id, "repeat": r, "wall_s": w, "overhead_s": 1.0} for r, w in ((0, 9.0), (1, 11.0))]
    rows.append({"case_id": b.case_id, "repeat": 0, "wall_s": 39.0, "overhead_s": None})
    store.write_tables(run, [store.CaseResult(case=row) for row in rows])
    est = from_run(run, suite.cases)
    assert est.per_run_s(a) == pytest.approx(11.0) and est.per_run_s(b) == pytest.approx(39.0)
    ratio = (11.0 / plan_estimate_s(a) + 39.0 / plan_estimate_s(b)) / 2
    assert est.per_run_s(c) == pytest.approx(plan_estimate_s(c) * ratio)
    assert "measured in" in est.describe(suite.cases) and "2 of 3" in est.describe(suite.cases)
    assert Estimator().per_run_s(c) == pytest.approx(plan_estimate_s(c))
    assert main(["run", str(tmp_path / "s.toml"), "--dry-run", "--balance-from", str(run)]) == 0
    out = capsys.readouterr().out
    assert f"{a.case_id}  x2  " in out and "~22 s" in out and "~1 min 18 s" in out
