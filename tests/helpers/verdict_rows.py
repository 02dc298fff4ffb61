"""Case rows for the leaderboard, profile and label arithmetic tests (tests/report/)."""

from __future__ import annotations

import math

import pandas as pd

NAN = math.nan


def case_rows(spec: list[tuple]) -> pd.DataFrame:
    """Rows from (optimizer, batch, time to target or NaN, test accuracy[, status[, lr]])."""
    rows = []
    for i, s in enumerate(spec):
        opt, bs, t, acc = s[:4]
        status = s[4] if len(s) > 4 else "ok"
        lr = s[5] if len(s) > 5 else 0.01
        rows.append({
            "run_id": "r1", "case_id": f"{opt}-{bs}-{lr}", "repeat": i, "optimizer_label": opt,
            "schedule_label": "constant", "engine": "fast", "batch_size": bs, "learning_rate": lr,
            "epochs": 3, "status": status, "profiled": False, "time_to_target_s": t,
            "reached_target": not math.isnan(t), "target_accuracy": 0.9, "test_accuracy": acc,
            "compile_s": 2.0, "eval_s": 1.5, "epochs_to_target": NAN if math.isnan(t) else 2.0,
            "energy_to_target_j": NAN if math.isnan(t) else 10 * t, "energy_source": "rapl",
            "samples_per_s": 1000.0 / (t if not math.isnan(t) else 20.0),
        })
    return pd.DataFrame(rows)
