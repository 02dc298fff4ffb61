"""Compare NVML's energy counter with integrated power around a GPU load.

Runs about ``--seconds`` (default 20) of large matmuls on each visible GPU with
CuPy or PyTorch (whichever is installed; TensorFlow is not needed), with the
collectors around the window, then prints per GPU: the energy counter's joules
(``nvmlDeviceGetTotalEnergyConsumption``), the trapezoid integral of the
sampled power (``nvmlDeviceGetPowerUsage``) and their ratio. Exits 0 with a
message when there is no GPU, no NVML or no GPU framework.

    python scripts/nvml_check.py --seconds 20 --period 0.1
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.collectors import CollectorConfig, available_collectors, open_session  # noqa: E402

log = logging.getLogger("nvml_check")


def _torch_load() -> tuple[Callable[[], None], Callable[[], None]] | None:
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    mats = [(torch.randn(8192, 8192, device=f"cuda:{i}"), torch.randn(8192, 8192, device=f"cuda:{i}"))
            for i in range(torch.cuda.device_count())]

    def step() -> None:
        for a, b in mats:
            a @ b

    def sync() -> None:
        for i in range(len(mats)):
            torch.cuda.synchronize(i)

    return step, sync


def _cupy_load() -> tuple[Callable[[], None], Callable[[], None]] | None:
    try:
        import cupy
    except ImportError:
        return None
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError:
        return None
    mats = []
    for i in range(n):
        with cupy.cuda.Device(i):
            mats.append((i, cupy.random.standard_normal((8192, 8192), dtype=cupy.float32),
                         cupy.random.standard_normal((8192, 8192), dtype=cupy.float32)))

    def step() -> None:
        for i, a, b in mats:
            with cupy.cuda.Device(i):
                a @ b

    def sync() -> None:
        for i, _, _ in mats:
            cupy.cuda.Device(i).synchronize()

    return step, sync


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--period", type=float, default=0.1, help="sampler period, s")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    ok, reason = available_collectors()["nvml"]
    if not ok:
        print(f"no GPU measured: {reason}")
        return 0
    load = _torch_load() or _cupy_load()
    if load is None:
        print("no GPU framework (PyTorch with CUDA or CuPy) to put a load on the GPU; nothing to compare")
        return 0
    step, sync = load
    for _ in range(3):  # warm-up outside the window
        step()
    sync()
    session = open_session(CollectorConfig(names=("nvml",), sample_period_s=args.period))
    session.start()
    end = time.perf_counter() + args.seconds
    while time.perf_counter() < end:
        step()
        sync()
    session.stop()
    cols = session.case_columns(0, 1, None)
    print(f"window {cols['energy_window_s']:.2f} s, {len(session.samples())} samples, source {cols['gpu_energy_source']}")
    for uuid, d in json.loads(cols["gpu_details"]).items():
        counter, integral = d["energy_j"], d["power_integral_j"]
        if d["source"] != "nvml_counter":
            print(f"{uuid} {d['name']}: no energy counter; integrated power {integral:.1f} J")
            continue
        ratio = integral / counter if counter else float("nan")
        print(f"{uuid} {d['name']}: counter {counter:.1f} J, integrated power {integral:.1f} J, "
              f"ratio {ratio:.4f}, mean {d['power_mean_w']:.1f} W, max {d['power_max_w']:.1f} W, "
              f"util {d['util_mean_pct']}%, temp max {d['temp_max_c']} C")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
