"""A small hand-made results set with hand-computable answers (see the tests for the numbers).

Run "run-a" of suite "demo" on host "box-a": optimizers adam, sgd, momentum-0.9
and muon on two schedules (constant, inverse_power), target accuracy 0.9,
4,000 training examples x 3 epochs per repeat.
"""

from __future__ import annotations

from pathlib import Path

from harness import schema
from harness.results.store import atomic_write_json, write_table

SCRIPT_LABEL = "adam<script>alert('x')</script>"
SCRIPT_ERROR = "boom <script>alert(1)</script> & <b>bold</b>"
SKIP_REASON = "muon needs 2-D weights only; not runnable here"

# (optimizer label, schedule, repeat, status, test accuracies per epoch, epoch seconds, energy J per epoch,
#  samples/s, profiled, cpu source)
SPECS = [
    ("adam", "constant", 0, "ok", [0.85, 0.91, 0.92], [1.0, 1.0, 1.0], [10.0, 10.0, 10.0], 1000.0, False, "estimate_tdp"),
    ("adam", "constant", 1, "ok", [0.80, 0.88, 0.90, ], [1.0, 1.0, 2.0], [12.0, 12.0, 12.0], 1200.0, False, "estimate_tdp"),
    ("adam", "constant", 2, "ok", [0.95, 0.96, 0.97], [5.0, 5.0, 5.0], [50.0, 50.0, 50.0], 10.0, True, "estimate_tdp"),
    ("sgd", "constant", 0, "ok", [0.70, 0.80, 0.85], [0.5, 0.5, 0.5], [5.0, 5.0, 5.0], 1500.0, False, "rapl"),
    ("momentum-0.9", "constant", 0, "ok", [0.90, 0.91, 0.91], [1.0, 1.0, 1.0], [9.0, 9.0, 9.0], 900.0, False, "rapl"),
    ("adam", "inverse_power", 0, "ok", [0.80, 0.85, 0.93], [1.0, 1.5, 1.0], [10.0, 10.0, 10.0], 1100.0, False, "rapl"),
    ("sgd", "inverse_power", 0, "failed", [], [], [], None, False, None),
    ("momentum-0.9", "inverse_power", 0, "ok", [0.5, 0.7, 0.95], [2.0, 2.0, 2.0], [20.0, 20.0, 20.0], 800.0, False, "rapl"),
    ("muon", "constant", 0, "skipped", [], [], [], None, False, None),
]
TRAIN = 4000
TARGET = 0.9
COMPILE_S = 0.5  # every ok repeat: compile 0.5 s, evaluation 0.1 s per epoch, 31 updates per epoch
EVAL_PER_EPOCH_S = 0.1


def _case_row(run_id: str, spec: tuple) -> tuple[dict, list[dict]]:
    label, sched, rep, status, accs, secs, joules, sps, profiled, src = spec
    case_id = f"{label}-{sched}"
    case_label = SCRIPT_LABEL if (label, sched) == ("adam", "inverse_power") else f"{label} {sched}"
    row = {
        "run_id": run_id, "suite": "demo", "case_id": case_id, "case_label": case_label, "repeat": rep,
        "optimizer": label.split("-")[0] if label != "momentum-0.9" else "sgd",
        "optimizer_label": label, "schedule": sched, "schedule_label": sched,
        "strategy": "default", "num_replicas": 1, "num_workers": 1, "device": "cpu",
        "engine": "fast", "precision": "float32", "batch_size": 128, "epochs": 3,
        "learning_rate": 0.001, "dataset": "mnist-sample", "dataset_train_size": TRAIN,
        "target_accuracy": TARGET, "status": status, "profiled": profiled,
    }
    if status == "failed":
        row["error"] = SCRIPT_ERROR
    if status == "skipped":
        row["error"] = SKIP_REASON
    epochs = []
    cum_t = cum_e = 0.0
    ttt = e2t = ept = None
    for i, (acc, s, j) in enumerate(zip(accs, secs, joules, strict=True), start=1):
        cum_t += s
        cum_e += j
        if ttt is None and acc >= TARGET:
            ttt, e2t, ept = cum_t, cum_e, i
        epochs.append({
            "run_id": run_id, "case_id": case_id, "case_label": case_label, "repeat": rep, "epoch": i,
            "loss": 1.0 / i, "test_accuracy": acc, "learning_rate_in_force": 0.001 / (1 + 0.5 * (i - 1)) if sched != "constant" else 0.001,
            "epoch_s": s, "cum_train_s": cum_t, "cum_energy_j": cum_e,
        })
    if status == "ok":
        window = cum_t
        row.update({
            "compile_s": COMPILE_S, "eval_s": EVAL_PER_EPOCH_S * len(accs), "steps": 31 * len(accs),
            "step_time_basis": "per_chunk/31" if label == "momentum-0.9" else "per_step",
            "train_s": window, "samples_per_s": sps, "step_ms_p50": 128e3 / sps,
            "step_ms_p90": 1.2 * 128e3 / sps, "step_ms_p99": 1.5 * 128e3 / sps,
            "test_accuracy": accs[-1], "time_to_target_s": ttt, "energy_to_target_j": e2t,
            "epochs_to_target": ept, "reached_target": ttt is not None,
            "energy_window_s": window, "cpu_energy_j": cum_e, "cpu_energy_source": src,
            "cpu_package_energy_j": cum_e * 0.8 if src == "rapl" else None,
            "dram_energy_j": cum_e * 0.2 if src == "rapl" else None,
            "cpu_tdp_w": 65.0 if src == "estimate_tdp" else None,
            "cpu_tdp_origin": "table:Test CPU" if src == "estimate_tdp" else None,
            "cpu_energy_reason": "unavailable: permission denied" if src == "estimate_tdp" else None,
            "cpu_power_mean_w": cum_e / window, "cpu_power_max_w": 1.5 * cum_e / window,
            "cpu_idle_power_w": 2.0, "cpu_dynamic_energy_j": cum_e - 2.0 * window,
            "gpu_energy_source": "unavailable", "gpu_energy_reason": "no NVML",
            "energy_j": cum_e, "energy_source": "estimated" if src == "estimate_tdp" else "measured",
            "energy_per_sample_j": cum_e / (TRAIN * 3),
        })
    return row, epochs


def write_synthetic_run(root: Path, run_id: str = "run-a", host: str = "box-a", specs=SPECS) -> Path:
    """Write the synthetic run under ``root/run_id`` and return its folder."""
    run_dir = Path(root) / run_id
    run_dir.mkdir(parents=True)
    rows, epochs, samples = [], [], []
    for spec in specs:
        row, ep = _case_row(run_id, spec)
        rows.append(row)
        epochs.extend(ep)
        if row["status"] == "ok":
            for k in range(5):
                samples.append({"run_id": run_id, "case_id": row["case_id"], "repeat": row["repeat"],
                                "t_s": 0.1 * k, "phase": "train", "cpu_power_w": 10.0 + k,
                                "cpu_power_source": row["cpu_energy_source"]})
    meta = {
        "schema_version": schema.SCHEMA_VERSION, "harness_version": "0.1.0", "suite": {"name": "demo"},
        "started_utc": "2025-01-02T03:04:05Z",
        "machine": {"host": host, "cpu_model": "Test CPU <i>", "cpu_count": 2, "gpus": []},
        "software": {"python": "3.11.2", "tensorflow": "2.21.0", "keras": "3.15.0"},
    }
    atomic_write_json(run_dir / "run.json", meta)
    write_table(run_dir / "cases.parquet", "cases", schema.frame("cases", rows))
    write_table(run_dir / "epochs.parquet", "epochs", schema.frame("epochs", epochs))
    write_table(run_dir / "samples.parquet", "samples", schema.frame("samples", samples))
    return run_dir
