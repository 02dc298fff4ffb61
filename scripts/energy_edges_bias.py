"""Bias of the energy figures at phase edges: a slow NVML source and many short training segments.

A fake machine (``tests/collectors/collectors_fakes.FakeMachine``: a powercap
zone and a GPU counter fed by a fake clock) trains in ``--segments`` segments of
``--segment-ms`` each, with host work in between; every NVML energy read costs
``--nvml-ms`` of machine time (the counter sampled halfway through the call).
Prints the window and the CPU and GPU energy against the truth. Run it with any
checkout on PYTHONPATH to compare versions::

    PYTHONPATH=. python scripts/energy_edges_bias.py --nvml-ms 14 --segments 160 --segment-ms 5
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "collectors"))

from collectors_fakes import FakeClock, FakeMachine, FakePowercap, make_fake_nvml, train_in_segments  # noqa: E402


def measure(nvml_ms: float, segments: int, segment_ms: float, host_ms: float, train_w: tuple[float, float],
            host_w: tuple[float, float], tick_s: float = 0.1) -> dict[str, float]:
    """Train ``segments`` times on a fresh fake machine; the session's figures and the truth."""
    root = Path(tempfile.mkdtemp()) / "powercap"
    root.mkdir()
    os.environ["HARNESS_POWERCAP_ROOT"] = str(root)
    os.environ.pop("CUDA_VISIBLE_DEVICES", None)
    clock, pc = FakeClock(), FakePowercap(root)
    pc.zone("intel-rapl:0", "package-0")
    machine = FakeMachine(clock, pc, "intel-rapl:0", {"train": train_w[0], "host": host_w[0]},
                          {"train": train_w[1], "host": host_w[1]})
    module = make_fake_nvml([machine.gpu()], clock)
    machine.slow_nvml(module, nvml_ms / 1e3)
    sys.modules["pynvml"] = module
    from harness.collectors import CollectorConfig, open_session

    s = open_session(CollectorConfig(names=("rapl", "nvml")), clock=clock, background=False)
    train_in_segments(s, machine, segments, segment_ms / 1e3, host_ms / 1e3, tick_s)
    cols = s.case_columns(1, 1, None)
    truth = machine.truth["train"]
    return {"window_s": cols["energy_window_s"], "true_window_s": truth["s"],
            "cpu_j": cols["cpu_energy_j"], "true_cpu_j": truth["cpu_j"],
            "gpu_j": cols["gpu_energy_j"], "true_gpu_j": truth["gpu_j"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nvml-ms", type=float, default=14.0)
    ap.add_argument("--segments", type=int, default=160)
    ap.add_argument("--segment-ms", type=float, default=5.0)
    ap.add_argument("--host-ms", type=float, default=1.0)
    args = ap.parse_args()
    cases = {"constant power (64 W CPU, 300 W GPU)": ((64.0, 300.0), (64.0, 300.0)),
             "power steps at the edges (train 64/300 W, host 20/60 W)": ((64.0, 300.0), (20.0, 60.0))}
    for name, (train_w, host_w) in cases.items():
        r = measure(args.nvml_ms, args.segments, args.segment_ms, args.host_ms, train_w, host_w)
        print(f"{name}:")
        for what in ("window_s", "cpu_j", "gpu_j"):
            got, true = r[what], r["true_" + what]
            print(f"  {what:9s} {got:10.4f}  true {true:10.4f}  bias {100 * (got / true - 1):+7.2f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
