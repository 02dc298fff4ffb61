"""`harness run SUITE --interleave-with REF`: baseline code and this checkout alternate in one job."""

from __future__ import annotations

import subprocess

import pytest

from harness.cli import main
from harness.results import find_runs, load_run
from tests.helpers.suites import tiny_suite_text

TINY = tiny_suite_text("aa", n_train=256, n_test=64, batch_size=64, optimizer="adam")


def in_git_checkout() -> bool:
    return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True).returncode == 0


def test_bad_ref_is_bad_input(tmp_path, capsys):
    if not in_git_checkout():
        pytest.skip("not a git checkout")
    (tmp_path / "s.toml").write_text(TINY)
    code = main(["run", str(tmp_path / "s.toml"), "--interleave-with", "no-such-ref-xyz",
                 "--results-dir", str(tmp_path)])
    assert code == 2
    assert "no-such-ref-xyz" in capsys.readouterr().err


@pytest.mark.slow
def test_interleave_aa_with_head(tmp_path, capsys):
    if not in_git_checkout():
        pytest.skip("not a git checkout")
    (tmp_path / "s.toml").write_text(TINY)
    code = main(["run", str(tmp_path / "s.toml"), "--interleave-with", "HEAD", "--rounds", "2",
                 "--repeats", "2", "--results-dir", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    base = next(tmp_path.glob("interleave-*/base"))
    head = next(tmp_path.glob("interleave-*/head"))
    assert f"harness compare --pool {base} {head}" in out
    for side in (base, head):
        runs = find_runs(side)
        assert len(runs) == 2  # one run per round
        assert all((load_run(r).cases.status == "ok").all() for r in runs)
    # the temporary worktree is gone
    worktrees = subprocess.run(["git", "worktree", "list"], capture_output=True, text=True).stdout
    assert "harness-base-" not in worktrees


def test_unreachable_design_is_refused_before_running(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(TINY)
    res = tmp_path / "res"
    code = main(["run", str(tmp_path / "s.toml"), "--interleave-with", "HEAD", "--repeats", "2",
                 "--results-dir", str(res), "--fail-on-unreachable"])  # fmt: skip
    assert code == 5 and not res.exists()  # nothing ran, nothing written
    out = capsys.readouterr().out
    # 2 a side: the smallest exact p is 1/6; a family of one needs 4 a side (1/70 < 0.05)
    assert "1 gated comparison(s), 2 repeats a side" in out and "use >= 4 repeats a side" in out
