"""Bias of the energy figures at phase edges: a slow NVML source and many short training segments.

A fake machine (``tests/collectors/collectors_fakes.FakeMachine``: a powercap
zone and a GPU counter fed by a fake clock) trains in ``--segments`` segments of
``--segment-ms`` each, with host work in between; every NVML energy read costs
``--nvml-ms`` of machine time (the counter sampled halfway through the call).
Prints the window and the CPU and GPU energy against the truth. ``--real-time``
runs the same on the real clock with the real background sampler (sleeps stand
for the work; the counters are power x real time at the instant read). Run it
with any checkout on PYTHONPATH to compare versions::

    PYTHONPATH=. python scripts/energy_edges_bias.py --nvml-ms 14 --segments 160 --segment-ms 5 [--real-time]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: harness, and the test tools in tests.helpers

from tests.helpers.collectors_fakes import (
    FakeClock,
    FakeGpu,
    FakeMachine,
    FakePowercap,
    RealTimeMachine,
    make_fake_nvml,
    train_in_segments,
)


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
            "gpu_j": cols["gpu_energy_j"], "true_gpu_j": truth["gpu_j"], "flag": cols["energy_window_flag"]}


def measure_real_time(nvml_ms: float, segments: int, segment_ms: float, host_ms: float,
                      train_w: tuple[float, float], host_w: tuple[float, float]) -> dict[str, float]:
    """The same on the real clock, with the real background sampler (0.1 s): sleeps stand for the work."""
    import time

    from harness.collectors import CollectorConfig, open_session, rapl

    root = Path(tempfile.mkdtemp()) / "powercap"
    root.mkdir()
    os.environ["HARNESS_POWERCAP_ROOT"] = str(root)
    os.environ.pop("CUDA_VISIBLE_DEVICES", None)
    FakePowercap(root).zone("intel-rapl:0", "package-0")
    machine = RealTimeMachine({"train": train_w[0], "host": host_w[0]}, {"train": train_w[1], "host": host_w[1]})
    rapl.read_counter = lambda fd: round(machine.energy_j("cpu") * 1e6)  # the sysfs read, at the instant of reading
    module = make_fake_nvml([FakeGpu("GPU-rt", "H100", lambda t: 0.0, energy_j=lambda t: 0.0)], FakeClock())

    def slow(handle):
        time.sleep(nvml_ms / 2e3)
        value = int(round(5e6 + 1000.0 * machine.energy_j("gpu")))
        time.sleep(nvml_ms / 2e3)
        return value

    module.nvmlDeviceGetTotalEnergyConsumption = slow
    sys.modules["pynvml"] = module
    s = open_session(CollectorConfig(names=("rapl", "nvml"), sample_period_s=0.1))
    s.start("host")
    for _ in range(segments):
        s.mark_phase("train")
        machine.set("train")
        time.sleep(segment_ms / 1e3)
        machine.set("host")
        s.mark_phase("host")
        time.sleep(host_ms / 1e3)
    s.stop()
    machine.finish()
    cols = s.case_columns(1, 1, None)
    truth = machine.truth["train"]
    return {"window_s": cols["energy_window_s"], "true_window_s": truth["s"],
            "cpu_j": cols["cpu_energy_j"], "true_cpu_j": truth["cpu_j"],
            "gpu_j": cols["gpu_energy_j"], "true_gpu_j": truth["gpu_j"], "flag": cols["energy_window_flag"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nvml-ms", type=float, default=14.0)
    ap.add_argument("--segments", type=int, default=160)
    ap.add_argument("--segment-ms", type=float, default=5.0)
    ap.add_argument("--host-ms", type=float, default=1.0)
    ap.add_argument("--real-time", action="store_true",
                    help="the real clock and the background sampler (sleeps for work) instead of a fake clock")
    args = ap.parse_args()
    run = measure_real_time if args.real_time else measure
    cases = {"constant power (64 W CPU, 300 W GPU)": ((64.0, 300.0), (64.0, 300.0)),
             "power steps at the edges (train 64/300 W, host 20/60 W)": ((64.0, 300.0), (20.0, 60.0))}
    for name, (train_w, host_w) in cases.items():
        r = run(args.nvml_ms, args.segments, args.segment_ms, args.host_ms, train_w, host_w)
        print(f"{name}:")
        for what in ("window_s", "cpu_j", "gpu_j"):
            got, true = r[what], r["true_" + what]
            print(f"  {what:9s} {got:10.4f}  true {true:10.4f}  bias {100 * (got / true - 1):+7.2f} %")
        print(f"  energy_window_flag: {r.get('flag')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
