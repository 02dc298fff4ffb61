"""Performance profiles: solver order, profiled rows in the notes, the learning rate as a solver axis.

Rows as in test_verdict_arithmetic.py: (optimizer, batch size, time to target s or NaN,
test accuracy[, status[, learning rate]]); every case of run r1, 3 epochs.
"""

from __future__ import annotations

import math

from harness.analysis import perf_profile
from tests.helpers.verdict_rows import case_rows

NAN = math.nan




# The ratio table comes sorted by problem, then solver: b and c (bs 32) before a (bs 64).
FIRST_SEEN = case_rows([("b", 32, 2.0, 0.9), ("c", 32, 2.0, 0.9), ("a", 64, 3.0, 0.9), ("b", 64, 3.0, 0.9)])


def test_solvers_in_name_order_not_in_the_order_first_seen():
    r = perf_profile.performance_ratios(FIRST_SEEN)
    assert r["solver"].tolist() == ["b", "c", "a", "b"]  # bs 32 first ("bs 32" < "bs 64")
    prof = perf_profile.performance_profile(FIRST_SEEN)
    assert prof["solver"].unique().tolist() == ["a", "b", "c"]
    # every ratio is 1 (each problem's two solvers tie): every score is 1, kept in name order
    scores = perf_profile.profile_scores(r)
    assert scores["solver"].tolist() == ["a", "b", "c"]
    assert scores["score"].tolist() == [1.0, 1.0, 1.0]
    assert scores["problems"].tolist() == [1, 2, 1] and scores["wins"].tolist() == [1, 2, 1]


def test_equal_scores_keep_name_order_among_many_solvers():
    # 40 solvers on one problem: every third (s00, s03, ..., s39) at 1 s (ratio 1, score 1),
    # the others at 2 s (ratio 2, score (4 - 2) / 3 = 2/3). Stable: each score's solvers in name order.
    n = 40
    rows = case_rows([(f"s{i:02d}", 32, 1.0 if i % 3 == 0 else 2.0, 0.9) for i in range(n)])
    scores = perf_profile.profile_scores(perf_profile.performance_ratios(rows))
    fast = [f"s{i:02d}" for i in range(0, n, 3)]
    slow = [f"s{i:02d}" for i in range(n) if i % 3]
    assert scores["solver"].tolist() == fast + slow
    assert scores["score"].tolist()[13:15] == [1.0, 2 / 3]  # 14 fast ones: s00 .. s39 by 3


def test_profiled_rows_join_the_left_out_problems_only_when_asked():
    # bs 64: sgd ran, adam only in a profiled repeat. Asked to count profiled rows, the problem has
    # two solvers and is not left out; by default adam's row is left out, so is the problem.
    rows = case_rows([("sgd", 32, 2.0, 0.9), ("sgd", 32, 2.0, 0.9), ("adam", 32, 3.0, 0.9), ("adam", 32, 3.0, 0.9),
                      ("sgd", 64, 2.0, 0.9), ("sgd", 64, 2.0, 0.9), ("adam", 64, 1.0, 0.9), ("adam", 64, 1.0, 0.9)])
    rows.loc[[6, 7], "profiled"] = True
    assert perf_profile.profile_notes(rows) == [("info", "left out: problem 'bs 64' (only 'sgd' ran on it)")]
    assert perf_profile.profile_notes(rows, include_profiled=True) == []


def test_an_unknown_learning_rate_is_a_rate_of_its_own():
    # sgd at lr 0.1 and at an unknown rate on the one problem: two solvers, the rate joins the label
    rows = case_rows([("sgd", 32, 2.0, 0.9, "ok", 0.1), ("sgd", 32, 4.0, 0.9, "ok", NAN),
                      ("adam", 32, 3.0, 0.9, "ok", 0.1)])
    assert perf_profile.solver_keys(rows, ["batch_size"]) == ["optimizer_label", "learning_rate"]
    r = perf_profile.performance_ratios(rows).set_index("solver")["ratio"]
    assert r.to_dict() == {"adam / lr 0.1": 1.5, "sgd / ?": 2.0, "sgd / lr 0.1": 1.0}


def test_several_rates_on_a_problem_with_an_unknown_batch_size_count():
    # the problem whose batch size is unknown holds sgd at two rates: the rate joins the solver
    rows = case_rows([("sgd", NAN, 2.0, 0.9, "ok", 0.1), ("sgd", NAN, 4.0, 0.9, "ok", 0.01),
                      ("adam", NAN, 3.0, 0.9, "ok", 0.1), ("sgd", 32, 2.0, 0.9, "ok", 0.1),
                      ("adam", 32, 3.0, 0.9, "ok", 0.1)])
    assert perf_profile.solver_keys(rows, ["batch_size"]) == ["optimizer_label", "learning_rate"]
    r = perf_profile.performance_ratios(rows)
    got = {(p, s): x for p, s, x in r[["problem", "solver", "ratio"]].itertuples(index=False)}
    # "?" sorts before "bs 32"; on it: sgd 0.1 at 2 s is best, 0.01 at 4 s: 2, adam 3 s: 1.5
    assert got == {("?", "adam / lr 0.1"): 1.5, ("?", "sgd / lr 0.01"): 2.0, ("?", "sgd / lr 0.1"): 1.0,
                   ("bs 32", "adam / lr 0.1"): 1.5, ("bs 32", "sgd / lr 0.1"): 1.0}


def test_a_ratio_of_exactly_tau_plus_the_tolerance_counts_at_tau():
    import numpy as np

    # a 1 s; b 1 * (1 + 1e-12) s: ratio exactly tau (1) x (1 + 1e-12), the rounding tolerance: it
    # counts at tau = 1; c 1 + 2e-12 s is past it: it does not (it does at tau = 2)
    edge = 1.0 * (1 + 1e-12)
    rows = case_rows([("a", 32, 1.0, 0.9), ("b", 32, edge, 0.9), ("c", 32, 1.0 + 2e-12, 0.9)])
    prof = perf_profile.performance_profile(rows, taus=np.array([1.0, 2.0]))
    f = {(s, t): x for s, t, x in prof[["solver", "tau", "fraction"]].itertuples(index=False)}
    assert f == {("a", 1.0): 1.0, ("a", 2.0): 1.0, ("b", 1.0): 1.0, ("b", 2.0): 1.0,
                 ("c", 1.0): 0.0, ("c", 2.0): 1.0}
