"""Workers that don't age (issue 20): recycling policy, a case's own memory, drift flags,
and the same result whether a case runs first in a fresh worker or later in a reused one."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.regression import drift
from harness.run_meta import WorkerPolicy
from harness.runner.parent.pool import RecyclePolicy
from harness.runner.worker.case_memory import CaseMemory
from tests.helpers.cli import run_cli, tiny_suite


def test_policy_recycles_by_count_and_by_rss_and_can_be_switched_off():
    policy = RecyclePolicy(max_cases=3, max_rss_bytes=1000 * 2**20)
    assert policy.reason(2, 10 * 2**20) is None
    assert "served 3 cases" in policy.reason(3, 10 * 2**20)
    assert "resident set 1001 MiB" in policy.reason(1, 1001 * 2**20)
    assert policy.reason(1, None) is None  # RSS unknown: only the count decides
    off = RecyclePolicy(max_cases=None, max_rss_bytes=None)
    assert off.reason(10**6, 10**15) is None
    assert policy.describe() == WorkerPolicy(mode="fork", max_cases=3, max_rss_mib=1000.0)


def _fake_proc(tmp_path: Path, rss_kib: int, hwm_kib: int) -> Path:
    """A /proc/<pid> with status and clear_refs, rewritten in place like the kernel's."""
    (tmp_path / "status").write_text(f"Name:\tpython\nVmHWM:\t{hwm_kib} kB\nVmRSS:\t{rss_kib} kB\n")
    (tmp_path / "clear_refs").write_text("")
    return tmp_path


def test_case_memory_resets_the_high_water_mark_and_reports_the_case_own_peak(tmp_path):
    proc = _fake_proc(tmp_path, rss_kib=1000, hwm_kib=5000)  # the worker's lifetime peak: 5000
    mem = CaseMemory(proc).start()
    assert (proc / "clear_refs").read_text() == "5"  # the reset the kernel documents (proc(5))
    _fake_proc(proc, rss_kib=1100, hwm_kib=1600)  # the kernel: HWM restarted from the RSS, case peaked
    cols = mem.columns()
    assert cols["peak_rss_bytes"] == 1600 * 1024 and cols["peak_rss_source"] == "vmhwm_reset"
    assert cols["case_mem_bytes"] == 600 * 1024
    assert (cols["worker_rss_before_bytes"], cols["worker_rss_after_bytes"]) == (1000 * 1024, 1100 * 1024)


def test_case_memory_without_the_reset_uses_the_sampled_peak_or_says_why(tmp_path):
    proc = _fake_proc(tmp_path, rss_kib=1000, hwm_kib=5000)
    (proc / "clear_refs").unlink()
    (proc / "clear_refs").mkdir()  # writing fails like a refused reset
    mem = CaseMemory(proc).start()
    assert "refused" in mem.reset_error
    sampled = mem.columns(sampled_peak_bytes=3.0 * 2**20)
    assert sampled["peak_rss_bytes"] == 3 * 2**20 and sampled["peak_rss_source"] == "sampled"
    missing = mem.columns()
    assert missing["peak_rss_bytes"] is None and missing["case_mem_bytes"] is None
    assert missing["peak_rss_source"].startswith("unavailable: /proc/self/clear_refs refused")


def _repeats(values: np.ndarray, label: str = "c") -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({"case_id": label, "case_label": label, "status": "ok",
                         "worker_case_index": np.arange(n), "samples_per_s": values,
                         "compile_s": np.full(n, 1.0), "train_s": 1.0 / values})


def test_drift_flags_a_planted_trend_and_not_noise():
    rng = np.random.default_rng(1)
    noise = 1e5 * np.exp(rng.normal(0, 0.05, 40))
    aging = noise * np.linspace(1.0, 0.7, 40)  # 30 % slower by the 40th case
    trends = drift.repeat_trends(pd.concat([_repeats(noise, "steady"), _repeats(aging, "aging")]))
    flagged = {(t.case_label, t.metric) for t in trends if t.flagged}
    assert ("aging", "samples_per_s") in flagged and ("aging", "train_s") in flagged
    assert not any(label == "steady" for label, _ in flagged)
    assert all(t.metric != "compile_s" for t in trends)  # constant: no rank correlation to test
    assert drift.describe(trends)[0].startswith("drift: aging:")


def test_drift_false_alarm_rate_is_controlled():
    """A/A: 100 runs of pure noise, 3 cases x 3 metrics each; Holm at 1 % flags at most ~1 % of runs."""
    rng = np.random.default_rng(7)
    alarms = 0
    for _ in range(100):
        rows = pd.concat([_repeats(np.exp(rng.normal(0, 0.1, 10)), f"c{i}") for i in range(3)])
        rows["compile_s"] = np.exp(rng.normal(0, 0.1, len(rows)))
        alarms += any(t.flagged for t in drift.repeat_trends(rows, alpha=0.01))
    assert alarms <= 4  # 1 % of 100 is 1; P(>= 5 | rate 1 %) < 0.4 %


def test_drift_needs_enough_repeats():
    assert drift.repeat_trends(_repeats(np.linspace(1, 2, drift.MIN_REPEATS - 1))) == []
    assert math.isnan(drift.spearman_rho(np.arange(5.0), np.ones(5)))


@pytest.mark.slow
def test_same_result_first_in_a_fresh_worker_or_third_in_a_reused_one_and_recycling(tmp_path):
    """Case A (lr 0.001) alone in a fork-mode worker (the default), then third in a reused worker
    that the policy recycles right after it: identical loss and accuracy; the next case gets a
    fresh worker."""
    alone = tiny_suite(tmp_path, "[matrix]\nlearning_rate = [0.001]\n", name="alone")
    mixed = tiny_suite(tmp_path, "[matrix]\nlearning_rate = [0.002, 0.003, 0.001, 0.004]\n", name="mixed")
    runs = []
    for suite, extra in ((alone, []), (mixed, ["--worker-mode", "reuse", "--worker-max-cases", "3"])):
        out = run_cli("run", str(suite), "--results-dir", str(tmp_path / "results"), "--no-progress", *extra)
        assert out.returncode == 0, out.stderr[-2000:]
        runs.append(Path(out.stdout.split("results: ")[1].split()[0]))
    first = pd.read_parquet(runs[0] / "cases.parquet")
    later = pd.read_parquet(runs[1] / "cases.parquet").sort_values("started_utc", kind="stable")
    a = later[later["learning_rate"] == 0.001].iloc[0]
    assert a["worker_case_index"] == 2 and first["worker_case_index"].iloc[0] == 0
    for col in ("final_loss", "test_loss", "test_accuracy", "train_accuracy"):
        assert a[col] == first[col].iloc[0], col
    last = later[later["learning_rate"] == 0.004].iloc[0]
    assert last["worker_pid"] != a["worker_pid"] and last["worker_case_index"] == 0
    meta = [json.loads((run / "run.json").read_text()) for run in runs]
    assert meta[0]["worker_policy"]["mode"] == meta[0]["worker_runtime"]["worker_mode"] == "fork"
    assert meta[1]["worker_runtime"]["worker_mode"] == "reuse"
    policy = meta[1]["worker_policy"]
    assert policy["max_cases"] == 3 and policy["recycled"] == 1 and policy["started"] == 2
    assert (later["peak_rss_source"] == "vmhwm_reset").all()
    assert (later["case_mem_bytes"] >= 0).all()
    assert (later["peak_rss_bytes"] >= later["worker_rss_before_bytes"]).all()


def test_negative_recycling_limits_are_usage_errors(tmp_path):
    suite = tiny_suite(tmp_path, "")
    out = run_cli("run", str(suite), "--worker-max-cases", "-1", "--dry-run")
    assert out.returncode == 2 and "--worker-max-cases" in out.stderr
