"""The NVML device layer (harness.collectors.nvml) against values and reasons worked out by hand.

NVML is faked at its boundary only: a fake ``pynvml`` module (tests/helpers/collectors_fakes)
whose energy counter reads 5e6 mJ + 1000 x the GPU's cumulative joules.
"""

from __future__ import annotations

import logging
import math
import types

import pytest

from harness.collectors import nvml
from tests.helpers.collectors_fakes import FakeGpu, make_fake_nvml

MIG_TEXT = ("energy per MIG instance, only the whole GPU's, which other instances share")


def _module(clock, *gpus):
    return make_fake_nvml(list(gpus), clock)


def _gpu(uuid="GPU-aaa", watts=100.0, counter=True):
    return FakeGpu(uuid, "A100", lambda t: watts, energy_j=(lambda t: watts * (t - 100.0)) if counter else None)


# ------------------------------------------------------------------ errors and loading
def test_map_error_by_code_and_without_a_code(clock):
    m = _module(clock)
    err = nvml.map_error(m, m.NVMLError(m.NVML_ERROR_GPU_IS_LOST), "nvmlDeviceGetPowerUsage on GPU-x")
    assert type(err) is nvml.NvmlGpuLost
    assert str(err) == "unavailable: nvmlDeviceGetPowerUsage on GPU-x: GPU is lost (fell off the bus)"
    err = nvml.map_error(m, m.NVMLError(m.NVML_ERROR_NOT_SUPPORTED), "q")
    assert type(err) is nvml.NvmlNotSupported and str(err) == "unavailable: q: not supported by this GPU"
    err = nvml.map_error(m, m.NVMLError(999), "q")
    assert type(err) is nvml.NvmlError and str(err) == "unavailable: q: NVML error 999: NVML error code 999"
    err = nvml.map_error(m, RuntimeError("no value attribute"), "q")  # not an NVMLError at all
    assert type(err) is nvml.NvmlError and str(err) == "unavailable: q: NVML error None: no value attribute"


def test_load_says_why(monkeypatch, clock):
    monkeypatch.setitem(__import__("sys").modules, "pynvml", None)
    with pytest.raises(nvml.NvmlUnavailable) as info:
        nvml.load()
    assert str(info.value) == "unavailable: pynvml (nvidia-ml-py) not installed"
    m = make_fake_nvml([], clock, init_error=9)  # NVML_ERROR_DRIVER_NOT_LOADED
    monkeypatch.setitem(__import__("sys").modules, "pynvml", m)
    with pytest.raises(nvml.NvmlUnavailable) as info:
        nvml.load()
    assert str(info.value) == "unavailable: nvmlInit: NVIDIA driver not loaded"


# ------------------------------------------------------------------ which GPUs
UUIDS = ["GPU-aaa-1", "GPU-bbb-2", "GPU-bbb-3"]


@pytest.mark.parametrize(("visible", "chosen"), [
    (None, [0, 1, 2]),
    ("2", [2]),
    ("1,1,0", [1, 0]),  # repeated entries once, in the order given
    ("GPU-bbb", [1]),  # a UUID prefix names the first GPU it matches
    (" 2 , GPU-aaa", [2, 0]),
    ("0,3,1", [0]),  # 3 is one past the last index: CUDA stops there
    ("0,MIG-GPU-aaa-1/1/0", [0]),  # a MIG entry ends the list too
])
def test_select(visible, chosen, monkeypatch):
    monkeypatch.setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    assert nvml.select(3, UUIDS, visible) == (chosen, "")


@pytest.mark.parametrize(("visible", "reason"), [
    ("3", "unavailable: CUDA_VISIBLE_DEVICES='3' leaves no GPU visible"),  # exactly the count: no GPU 3
    ("", "unavailable: CUDA_VISIBLE_DEVICES='' leaves no GPU visible"),
    ("GPU-ccc,0", "unavailable: CUDA_VISIBLE_DEVICES='GPU-ccc,0' leaves no GPU visible"),
    ("MIG-GPU-aaa-1/1/0", f"unavailable: CUDA_VISIBLE_DEVICES='MIG-GPU-aaa-1/1/0' names MIG instances: NVML gives no "
                          f"{MIG_TEXT}"),
])
def test_select_nothing_visible(visible, reason):
    assert nvml.select(3, UUIDS, visible) == ([], reason)


def test_select_logs_an_entry_that_matches_nothing(caplog):
    with caplog.at_level(logging.WARNING, logger="harness.collectors.nvml"):
        assert nvml.select(3, UUIDS, "1,7,0") == ([1], "")
    assert caplog.messages == ["CUDA_VISIBLE_DEVICES entry '7' matches no GPU (MIG not measured)"]


@pytest.mark.parametrize(("visible", "order", "logged"), [
    ("1,0", None, True),
    ("1,0", "FASTEST_FIRST", True),
    ("1,0", "PCI_BUS_ID", False),
    ("1", None, False),  # one GPU: its order cannot differ
])
def test_select_warns_about_the_device_order(visible, order, logged, monkeypatch, caplog):
    if order is None:
        monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    else:
        monkeypatch.setenv("CUDA_DEVICE_ORDER", order)
    with caplog.at_level(logging.INFO, logger="harness.collectors.nvml"):
        nvml.select(3, UUIDS, visible)
    text = ("CUDA_VISIBLE_DEVICES indices are read in NVML (PCI bus) order; "
            "set CUDA_DEVICE_ORDER=PCI_BUS_ID so CUDA uses the same order")
    assert caplog.messages == ([text] if logged else [])


def test_used_positions_in_the_visible_list():
    assert nvml.used([3, 5], None, None) == ([3, 5], "")
    assert nvml.used([3, 5], (1,), "3,5") == ([5], "")
    assert nvml.used([3, 5], (1, 0), "3,5") == ([5, 3], "")
    # position 2 is exactly one past the last of two visible GPUs
    assert nvml.used([3, 5], (0, 2), None) == (
        [], "unavailable: the case uses visible GPU(s) [2] but only 2 GPU(s) are visible (all)")
    assert nvml.used([3, 5], (2, 3), "3,5") == (
        [], "unavailable: the case uses visible GPU(s) [2, 3] but only 2 GPU(s) are visible "
            "(CUDA_VISIBLE_DEVICES='3,5')")


# ------------------------------------------------------------------ MIG
def test_mig_reason(clock):
    g = _gpu("GPU-aaa")
    m = _module(clock, g)
    gpu = nvml.Gpu(0, "GPU-aaa", "A100", 0)
    assert nvml.mig_reason(m, gpu, None) == ""
    assert nvml.mig_reason(m, gpu, "0") == ""
    assert nvml.mig_reason(m, gpu, "0, MIG-GPU-aaa/1/0") == (
        f"unavailable: CUDA_VISIBLE_DEVICES='0, MIG-GPU-aaa/1/0' names MIG instances: NVML gives no {MIG_TEXT}")
    g.mig = True
    assert nvml.mig_reason(m, gpu, "0") == (
        "unavailable: GPU 0 (A100, GPU-aaa) is in MIG mode: its energy counter covers the whole GPU, shared by "
        "its MIG instances, so it is not charged to one case")


def test_mig_mode_compared_with_the_modules_constant(clock):
    g = _gpu("GPU-aaa")
    m = _module(clock, g)
    gpu = nvml.Gpu(0, "GPU-aaa", "A100", 0)
    m.NVML_DEVICE_MIG_ENABLE = 5  # whatever the binding calls "enabled"
    m.nvmlDeviceGetMigMode = lambda h: (5, 5)
    assert nvml.mig_reason(m, gpu, None).startswith("unavailable: GPU 0 (A100, GPU-aaa) is in MIG mode")
    m.nvmlDeviceGetMigMode = lambda h: (1, 1)
    assert nvml.mig_reason(m, gpu, None) == ""
    del m.NVML_DEVICE_MIG_ENABLE  # an old binding without the constant: enabled is 1
    assert nvml.mig_reason(m, gpu, None).startswith("unavailable: GPU 0 (A100, GPU-aaa) is in MIG mode")
    m.nvmlDeviceGetMigMode = lambda h: (0, 0)
    assert nvml.mig_reason(m, gpu, None) == ""


def test_no_mig_support_is_no_mig(clock):
    g = _gpu("GPU-aaa")
    m = _module(clock, g)
    gpu = nvml.Gpu(0, "GPU-aaa", "A100", 0)
    g.fail["nvmlDeviceGetMigMode"] = m.NVML_ERROR_NOT_SUPPORTED
    assert nvml.mig_reason(m, gpu, None) == ""
    del m.nvmlDeviceGetMigMode  # a binding without the call
    assert nvml.mig_reason(m, gpu, None) == ""


# ------------------------------------------------------------------ the device
def test_device_lists_the_gpus_the_case_uses(clock):
    m = _module(clock, _gpu("GPU-aaa"), _gpu("GPU-bbb"), _gpu("GPU-ccc"))
    d = nvml.NvmlDevice(m, "2,0", positions=(1,))  # the second visible GPU: NVML index 0
    assert [(g.index, g.uuid, g.name) for g in d.gpus] == [(0, "GPU-aaa", "A100")]
    assert d.reason == "" and d.mig == ""
    d = nvml.NvmlDevice(m, "2,0", positions=(2,))
    assert d.gpus == [] and d.reason == ("unavailable: the case uses visible GPU(s) [2] but only 2 GPU(s) are "
                                         "visible (CUDA_VISIBLE_DEVICES='2,0')")


def test_device_with_one_gpu_and_with_none(clock):
    d = nvml.NvmlDevice(_module(clock, _gpu()), None)
    assert [g.index for g in d.gpus] == [0] and d.reason == "" and d.mig == ""
    d = nvml.NvmlDevice(_module(clock), None)
    assert d.gpus == [] and d.reason == "unavailable: NVML sees no GPU" and d.mig == ""


def test_device_decodes_bytes_from_old_bindings(clock):
    m = _module(clock, _gpu("GPU-aaa"))
    m.nvmlDeviceGetUUID = lambda h: b"GPU-aaa"
    m.nvmlDeviceGetName = lambda h: b"Tesla V100"
    d = nvml.NvmlDevice(m, None)
    assert (d.gpus[0].uuid, d.gpus[0].name) == ("GPU-aaa", "Tesla V100")


def test_device_mig(clock):
    g = _gpu("GPU-aaa")
    m = _module(clock, g, _gpu("GPU-bbb"))
    d = nvml.NvmlDevice(m, "0,MIG-GPU-bbb/1/0")  # GPU 0 listed before a MIG instance
    assert [x.uuid for x in d.gpus] == ["GPU-aaa"]
    assert d.mig == (f"unavailable: CUDA_VISIBLE_DEVICES='0,MIG-GPU-bbb/1/0' names MIG instances: "
                     f"NVML gives no {MIG_TEXT}")
    g.mig = True
    d = nvml.NvmlDevice(m, None)
    assert d.mig.startswith("unavailable: GPU 0 (A100, GPU-aaa) is in MIG mode")


def test_device_listing_error_is_mapped(clock):
    g = _gpu("GPU-aaa")
    m = _module(clock, g)
    g.fail["uuid"] = m.NVML_ERROR_GPU_IS_LOST
    with pytest.raises(nvml.NvmlGpuLost) as info:
        nvml.NvmlDevice(m, None)
    assert str(info.value) == "unavailable: listing GPUs: GPU is lost (fell off the bus)"


def test_describe_says_which_gpus_have_a_counter(clock):
    m = _module(clock, _gpu("GPU-aaa"), FakeGpu("GPU-bbb", "T4", lambda t: 70.0))
    assert nvml.NvmlDevice(m, None).describe() == [
        {"index": 0, "uuid": "GPU-aaa", "name": "A100", "energy_counter": True},
        {"index": 1, "uuid": "GPU-bbb", "name": "T4", "energy_counter": False},
    ]


def test_close_logs_a_failing_shutdown(clock, caplog):
    m = _module(clock)
    d = nvml.NvmlDevice(m, None)

    def shutdown():
        raise m.NVMLError(999)

    m.nvmlShutdown = shutdown
    with caplog.at_level(logging.DEBUG, logger="harness.collectors.nvml"):
        d.close()
    assert caplog.messages == ["nvmlShutdown: NVML error code 999"]


# ------------------------------------------------------------------ energy: counter and power
def test_counter_energy_is_joules_since_start(clock):
    # the fake counter reads 5e6 mJ + 1000 x 100 W x (t - 100 s)
    d = nvml.NvmlDevice(_module(clock, _gpu()), None)
    gpu = d.gpus[0]
    d.start(100.0)
    assert gpu.has_counter and gpu.counter0_mj == 5_000_000.0
    clock.t = 101.5
    r = d.read(gpu, 101.5)
    assert r["j"] == 150.0  # (5_150_000 - 5_000_000) mJ / 1000
    assert r["w"] == 100.0  # 100_000 mW
    assert r["power_j"] == 0.0  # the first reading after start opens the power integral
    clock.t = 102.0
    r = d.read(gpu, 102.0)
    assert r["j"] == 200.0 and r["power_j"] == 50.0  # 0.5 x (100 + 100) W x 0.5 s


def test_power_integral_is_the_trapezoid_of_the_samples(clock):
    # power 100 W, then 300 W: trapezoids 0.5 x (100 + 100) x 1 + 0.5 x (100 + 300) x 2 = 100 + 400 J
    watts = {"now": 100.0}
    m = _module(clock, FakeGpu("GPU-ppp", "T4", lambda t: watts["now"]))
    d = nvml.NvmlDevice(m, None)
    gpu = d.gpus[0]
    d.start(0.0)
    assert not gpu.has_counter
    assert d.read(gpu, 0.0)["j"] == 0.0
    assert d.read(gpu, 1.0)["j"] == 100.0
    watts["now"] = 300.0
    r = d.read(gpu, 3.0)
    assert r["j"] == r["power_j"] == 500.0 and r["w"] == 300.0
    d.start(10.0)  # a new session starts from nothing
    assert gpu.integral_j == 0.0 and gpu.last_t is None
    assert d.read(gpu, 10.0)["j"] == 0.0


def test_power_read_twice_at_the_same_instant_adds_nothing(clock):
    # no power reading at all (NaN): two reads at one instant still add no time, so no NaN
    g = FakeGpu("GPU-nnn", "T4", lambda t: 1.0)
    m = _module(clock, g)
    g.fail["nvmlDeviceGetPowerUsage"] = m.NVML_ERROR_NOT_SUPPORTED
    d = nvml.NvmlDevice(m, None)
    gpu = d.gpus[0]
    d.start(5.0)
    d.read(gpu, 5.0)
    r = d.read(gpu, 5.0)
    assert math.isnan(r["w"]) and r["power_j"] == 0.0


def test_unsupported_figures_are_nan_and_logged_once(clock, caplog):
    g = _gpu("GPU-ccc")
    m = _module(clock, g)
    for fn in ("nvmlDeviceGetUtilizationRates", "nvmlDeviceGetMemoryInfo", "nvmlDeviceGetTemperature"):
        g.fail[fn] = m.NVML_ERROR_NOT_SUPPORTED
    d = nvml.NvmlDevice(m, None)
    d.start(100.0)
    with caplog.at_level(logging.INFO, logger="harness.collectors.nvml"):
        r = d.read(d.gpus[0], 100.0)
        d.read(d.gpus[0], 100.1)
    assert math.isnan(r["util"]) and math.isnan(r["mem"]) and math.isnan(r["temp"])
    assert r["sm_mhz"] == 1500.0
    assert caplog.messages == [
        "unavailable: nvmlDeviceGetUtilizationRates on GPU-ccc: not supported by this GPU",
        "unavailable: nvmlDeviceGetMemoryInfo on GPU-ccc: not supported by this GPU",
        "unavailable: nvmlDeviceGetTemperature on GPU-ccc: not supported by this GPU",
    ]


def test_a_lost_gpu_raises_with_the_call_named(clock):
    g = _gpu("GPU-ddd")
    m = _module(clock, g)
    d = nvml.NvmlDevice(m, None)
    d.start(100.0)
    g.fail["nvmlDeviceGetPowerUsage"] = m.NVML_ERROR_GPU_IS_LOST
    with pytest.raises(nvml.NvmlGpuLost) as info:
        d.read(d.gpus[0], 100.1)
    assert str(info.value) == "unavailable: nvmlDeviceGetPowerUsage on GPU-ddd: GPU is lost (fell off the bus)"


def _strict_sensors(m, temp_sensor, sm_clock):
    """Temperature and clock calls that answer only for the sensor and clock ids given."""
    m.nvmlDeviceGetTemperature = lambda h, sensor: {temp_sensor: 61}[sensor]
    m.nvmlDeviceGetClockInfo = lambda h, kind: {sm_clock: 1410}[kind]


def test_temperature_and_clock_ask_for_the_modules_ids(clock):
    m = _module(clock, _gpu())
    m.NVML_TEMPERATURE_GPU, m.NVML_CLOCK_SM = 7, 8  # whatever ids the binding uses
    _strict_sensors(m, 7, 8)
    d = nvml.NvmlDevice(m, None)
    d.start(100.0)
    r = d.read(d.gpus[0], 100.0)
    assert (r["temp"], r["sm_mhz"]) == (61.0, 1410.0)


def test_temperature_and_clock_ids_default_as_in_nvml(clock):
    m = _module(clock, _gpu())
    del m.NVML_TEMPERATURE_GPU, m.NVML_CLOCK_SM  # a binding without the constants: NVML's 0 and 1
    _strict_sensors(m, 0, 1)
    d = nvml.NvmlDevice(m, None)
    d.start(100.0)
    r = d.read(d.gpus[0], 100.0)
    assert (r["temp"], r["sm_mhz"]) == (61.0, 1410.0)


# ------------------------------------------------------------------ counter steps
def _gpu_state(counter0=5_000_000.0, t0=100.0):
    gpu = nvml.Gpu(3, "GPU-eee", "H100", types.SimpleNamespace())
    gpu.has_counter, gpu.counter0_mj, gpu.t0 = True, counter0, t0
    gpu.last_mj, gpu.last_ct = counter0, t0
    return gpu


def test_counter_energy_exact_values():
    gpu = _gpu_state()
    assert nvml.counter_energy(gpu, 5_012_345.0, 100.5) == 12.345  # 12 345 mJ in 0.5 s: 24.7 W
    assert (gpu.last_mj, gpu.last_ct) == (5_012_345.0, 100.5)
    assert nvml.counter_energy(gpu, 5_012_345.0, 100.6) == 12.345  # standing still is no fault
    assert math.isnan(nvml.counter_energy(gpu, math.nan, 100.7))  # an unread counter
    assert gpu.broken == ""


def test_counter_going_backwards_breaks_the_gpu(caplog):
    gpu = _gpu_state()
    nvml.counter_energy(gpu, 5_010_000.0, 100.5)
    with caplog.at_level(logging.WARNING, logger="harness.collectors.nvml"):
        assert math.isnan(nvml.counter_energy(gpu, 4_000_000.0, 101.0))
    why = ("GPU 3 (GPU-eee) energy counter reset at t = 1.000 s (read 4000000 mJ after 5010000 mJ, 0.5 s earlier; "
           "it went backwards and has no range to wrap around): the energy across the reset is unknown")
    assert gpu.broken == why and caplog.messages == [why]
    assert math.isnan(nvml.counter_energy(gpu, 5_020_000.0, 101.5))  # broken stays broken


def test_counter_jump_at_the_plausible_limit():
    # a step is checked against 1500 W x (elapsed + 0.1 s): after 0.9 s at most 1500 J = 1 500 000 mJ
    # (0.9 + 0.1 is exactly 1.0 in binary floating point: the budget is exactly 1 500 000 mJ)
    gpu = _gpu_state(counter0=0.0, t0=0.0)
    assert nvml.counter_energy(gpu, 1_500_000.0, 0.9) == 1500.0  # exactly the budget: kept
    gpu = _gpu_state(counter0=0.0, t0=0.0)
    assert math.isnan(nvml.counter_energy(gpu, 1_500_001.0, 0.9))
    assert gpu.broken == ("GPU 3 (GPU-eee) energy counter jumped at t = 0.900 s (read 1500001 mJ after 0 mJ, "
                          "0.9 s earlier: 1.5e+03 J = 1.67e+03 W, above the plausible 1500 W): not a measurement")
