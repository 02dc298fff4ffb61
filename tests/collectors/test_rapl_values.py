"""The RAPL device layer (harness.collectors.rapl) against values worked out by hand.

Hardware is faked at its boundary only: a powercap tree in tmp_path (FakePowercap, or
files written the way sysfs shows them: a decimal counter, not zero-padded, and a
newline) whose counters change in place, read through the module's own open/pread.
"""

from __future__ import annotations

import errno
import logging
import math
import os

import pytest

from harness.collectors import rapl

PKG_1KJ = 1_000_000_000  # a 1000 J range: at 500 W (a package's plausible maximum) it wraps every 2 s


def _set(path, text):
    """Rewrite a sysfs-like file in place (same inode: a reader holding it open sees the new text)."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _opened(powercap, t=100.0):
    device = rapl.discover(powercap.root)
    device.open(t)
    return device


# ------------------------------------------------------------------ discovery
def test_only_folders_named_like_zones_are_zones(powercap):
    # as in sysfs: the control-type folder `intel-rapl` at the root, a `power` folder inside
    # every zone; and (never in sysfs, but must not count) a plain file named like a zone
    powercap.zone("intel-rapl:0", "package-0")
    powercap.zone("intel-rapl:0:0", "core", nested_in="intel-rapl:0")
    (powercap.root / "intel-rapl").mkdir()
    (powercap.root / "intel-rapl:0" / "power").mkdir()
    (powercap.root / "intel-rapl:7").write_text("not a folder\n")
    (powercap.root / "intel-rapl:0" / "intel-rapl:0:9").write_text("not a folder\n")
    device = rapl.discover(powercap.root)
    assert [z.zone_id for z in device.zones] == ["intel-rapl:0", "intel-rapl:0:0"]
    assert device.root == powercap.root and device.reason == ""


def test_parents_of_top_level_and_sub_zones(powercap):
    powercap.zone("intel-rapl:0", "package-0")
    powercap.zone("intel-rapl:0:1", "dram")
    powercap.zone("intel-rapl:0:1:2", "made-up-deeper")  # three levels: the parent drops the last id
    zones = {z.zone_id: z for z in rapl.discover(powercap.root).zones}
    assert zones["intel-rapl:0"].parent is None  # "intel-rapl", "0": two parts, top level
    assert zones["intel-rapl:0:1"].parent == "intel-rapl:0"
    assert zones["intel-rapl:0:1:2"].parent == "intel-rapl:0:1"
    assert [zones[k].kind for k in ("intel-rapl:0", "intel-rapl:0:1", "intel-rapl:0:1:2")] == [
        "package", "dram", "other"]


def test_unreadable_zones_say_why_exactly(powercap):
    powercap.zone("intel-rapl:0", "package-0")
    (powercap.paths["intel-rapl:0"] / "energy_uj").unlink()
    powercap.zone("intel-rapl:1", "package-1")
    _set(powercap.paths["intel-rapl:1"] / "energy_uj", "n/a\n")
    device = rapl.discover(powercap.root)
    assert [z.error for z in device.zones] == ["unavailable: no energy_uj",
                                              "unavailable: energy_uj is not an integer"]
    # nothing readable: the device's reason is the first zone's
    assert device.reason == "unavailable: no energy_uj"
    assert device.usable_for_cpu() == (False, "intel-rapl:0: unavailable: no energy_uj")


def test_a_one_digit_counter_is_read_from_its_first_byte(powercap):
    # sysfs writes the counter without padding: just after a reset it may be a single digit
    powercap.zone("intel-rapl:0", "package-0")
    path = powercap.paths["intel-rapl:0"] / "energy_uj"
    _set(path, "5\n")
    device = rapl.discover(powercap.root)
    assert device.zones[0].error == "" and device.reason == ""
    device.open(0.0)
    _set(path, "2000005\n")  # +2 J
    assert device.poll(0.1) == {"intel-rapl:0": 2.0}
    device.close()


def test_counters_written_without_padding_give_exact_joules(powercap):
    powercap.zone("intel-rapl:0", "package-0", max_range_uj=PKG_1KJ)
    path = powercap.paths["intel-rapl:0"] / "energy_uj"
    _set(path, "987654321\n")
    device = _opened(powercap, 10.0)
    _set(path, "999999999\n")  # +12.345678 J, to the range's last value
    assert device.poll(10.1) == {"intel-rapl:0": pytest.approx(12.345678, abs=1e-12)}
    _set(path, "20000000\n")  # wrapped: +1 uJ to 0, then +20 J (20.000001 J in 0.1 s: 200 W)
    assert device.poll(10.2) == {"intel-rapl:0": pytest.approx(32.345679, abs=1e-12)}
    assert device.zones[0].wraps == 1
    device.close()


def test_empty_root_and_missing_root(tmp_path):
    device = rapl.discover(tmp_path)
    assert device.zones == [] and device.reason == f"no RAPL zones under {tmp_path}"
    assert device.usable_for_cpu() == (False, f"no RAPL zones under {tmp_path}")
    gone = tmp_path / "absent"
    assert rapl.discover(gone).reason == f"no powercap directory {gone} (no RAPL driver, VM or container)"


def test_a_listing_that_fails_is_the_reason(powercap, monkeypatch):
    powercap.zone("intel-rapl:0", "package-0")

    def refuse(root):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(rapl, "_candidates", refuse)
    device = rapl.discover(powercap.root)
    assert device.zones == []
    assert device.reason == f"cannot list {powercap.root}: [Errno 13] Permission denied"


def test_mmio_duplicate_is_dropped_with_a_debug_line(powercap, caplog):
    powercap.zone("intel-rapl:0", "package-0")
    powercap.zone("intel-rapl-mmio:0", "package-0")
    with caplog.at_level(logging.DEBUG, logger="harness.collectors.rapl"):
        device = rapl.discover(powercap.root)
    assert [z.zone_id for z in device.zones] == ["intel-rapl:0"]
    assert caplog.messages == ["RAPL: dropping intel-rapl-mmio:0 (package-0): duplicates an MSR zone"]


def test_usable_names_every_package(powercap):
    powercap.zone("intel-rapl:0", "package-0")
    powercap.zone("intel-rapl:0:0", "dram")
    powercap.zone("intel-rapl:1", "package-1")
    assert rapl.discover(powercap.root).usable_for_cpu() == (True, "RAPL package-0, package-1")


@pytest.mark.parametrize(("exc", "error"), [
    (OSError(errno.EIO, "Input/output error"), "unavailable: Input/output error"),
    (OSError("no strerror"), "unavailable: no strerror"),
    (PermissionError(errno.EPERM, "Operation not permitted"), "unavailable: permission denied ("
     + rapl.PERMISSION_HINT + ")"),
])
def test_describe_an_open_error(exc, error):
    assert rapl._describe(exc) == error


# ------------------------------------------------------------------ open, poll, close
def test_open_skips_unreadable_zones_and_opens_the_rest(powercap):
    powercap.zone("intel-rapl:0", "package-0")
    (powercap.paths["intel-rapl:0"] / "energy_uj").unlink()  # first in the listing, unreadable
    powercap.zone("intel-rapl:1", "package-1", start_uj=7)
    device = _opened(powercap)
    assert device.zones[0].fd is None and device.zones[1].fd is not None
    powercap.add("intel-rapl:1", 1.5)
    assert device.poll(100.1) == {"intel-rapl:1": 1.5}
    device.close()


def test_an_open_that_fails_records_why_and_keeps_no_handle(powercap, monkeypatch):
    powercap.zone("intel-rapl:0", "package-0")
    device = rapl.discover(powercap.root)

    def denied(path):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(rapl, "open_file", denied)
    device.open(0.0)
    zone = device.zones[0]
    assert zone.error == f"unavailable: permission denied ({rapl.PERMISSION_HINT})"
    assert zone.fd is None and device.poll(0.1) == {}


def test_open_starts_from_zero_and_reopen_resets_the_accumulator(powercap):
    powercap.zone("intel-rapl:0", "package-0", start_uj=80_000_000, max_range_uj=100_000_000)
    device = _opened(powercap, 100.0)
    assert device.poll(100.0) == {"intel-rapl:0": 0.0}  # the first reading is the origin: 0 J, not 1 uJ
    powercap.add("intel-rapl:0", 30.0)  # 80 J + 30 J in a 100 J range: reads 10 J, one wrap
    assert device.poll(100.1) == {"intel-rapl:0": 30.0}
    powercap.add("intel-rapl:0", 90.0)  # 900 W: no plausible wrap (budget 500 W x 0.11 s = 55 J)
    assert math.isnan(device.poll(100.2)["intel-rapl:0"])
    zone = device.zones[0]
    assert zone.wraps == 1 and zone.broken
    device.close()
    device.open(200.0)  # a new session: nothing carried over
    assert (zone.wraps, zone.broken, zone.total_uj, zone.t0, zone.last_t) == (0, "", 0.0, 200.0, 200.0)
    powercap.add("intel-rapl:0", 4.0)
    assert device.poll(200.1) == {"intel-rapl:0": 4.0}
    device.close()


def test_default_open_time_is_zero(powercap):
    powercap.zone("intel-rapl:0", "package-0")
    device = rapl.discover(powercap.root)
    device.open()
    zone = device.zones[0]
    assert (zone.t0, zone.last_t, zone.last_uj) == (0.0, 0.0, 0)
    device.close()


def test_a_jump_breaks_the_zone_with_its_reason(powercap, caplog):
    powercap.zone("intel-rapl:0", "package-0", start_uj=1_000_000, max_range_uj=PKG_1KJ)
    device = _opened(powercap, 100.0)
    assert device.poll(100.1) == {"intel-rapl:0": 0.0}
    powercap.add("intel-rapl:0", 100.0)
    with caplog.at_level(logging.WARNING, logger="harness.collectors.rapl"):
        assert math.isnan(device.poll(100.2)["intel-rapl:0"])
    # budget 500 W x (0.1 s + 0.01 s slack) = 55 J < 100 J; 100 J / 0.1 s = 1000 W
    why = ("counter jumped at t = 0.200 s (read 101000000 uJ after 1000000 uJ, 0.1 s earlier: "
           "100 J = 1e+03 W, above the plausible 500 W): not a measurement")
    assert device.zones[0].broken == why
    assert caplog.messages == [f"RAPL zone intel-rapl:0: {why}; its energy is NaN"]
    assert math.isnan(device.poll(100.3)["intel-rapl:0"])  # stays broken
    device.close()


def test_a_dram_jump_names_the_dram_limit(powercap):
    powercap.zone("intel-rapl:0:1", "dram", max_range_uj=PKG_1KJ)
    device = _opened(powercap, 0.0)
    powercap.add("intel-rapl:0:1", 20.0)  # budget 150 W x (0.1 + 0.01) s = 16.5 J < 20 J
    assert math.isnan(device.poll(0.1)["intel-rapl:0:1"])
    assert device.zones[0].broken == ("counter jumped at t = 0.100 s (read 20000000 uJ after 0 uJ, 0.1 s "
                                      "earlier: 20 J = 200 W, above the plausible 150 W): not a measurement")
    device.close()


def test_a_counter_that_becomes_unreadable_breaks_with_when(powercap):
    powercap.zone("intel-rapl:0", "package-0")
    device = _opened(powercap, 100.0)
    _set(powercap.paths["intel-rapl:0"] / "energy_uj", "gone\n")
    assert math.isnan(device.poll(100.25)["intel-rapl:0"])
    assert device.zones[0].broken == ("energy_uj became unreadable at t = 0.250 s: invalid literal for int() "
                                      "with base 10: b'gone\\n'")
    device.close()


def test_close_releases_every_handle(powercap):
    powercap.zone("intel-rapl:0", "package-0")
    powercap.zone("intel-rapl:1", "package-1")
    device = _opened(powercap)
    fds = [z.fd for z in device.zones]
    device.close()
    assert [z.fd for z in device.zones] == [None, None]
    for fd in fds:
        with pytest.raises(OSError):
            os.fstat(fd)  # closed
    device.close()  # twice is harmless


# ------------------------------------------------------------------ safe sampling period
def _device(powercap, *zones):
    for zone_id, name, range_uj in zones:
        powercap.zone(zone_id, name, max_range_uj=range_uj)
    return rapl.discover(powercap.root)


def test_safe_period_keeps_a_period_up_to_half_the_wrap_time(powercap):
    device = _device(powercap, ("intel-rapl:0", "package-0", PKG_1KJ))  # 1000 J / 500 W = 2 s; half: 1 s
    assert rapl.safe_period(device, 0.1) == (0.1, "")
    assert rapl.safe_period(device, 1.0) == (1.0, "")  # exactly the limit: kept


def test_safe_period_shortens_a_longer_period(powercap):
    device = _device(powercap, ("intel-rapl:0", "package-0", PKG_1KJ))
    what = "zone intel-rapl:0 (package-0, range 1000 J) can wrap every 2 s at 500 W"
    assert rapl.safe_period(device, 1.5) == (1.0, f"sample period shortened from 1.5 s to 1 s: {what}")
    assert rapl.safe_period(device, 0.0) == (1.0, f"sample period shortened from none (no sampler) to 1 s: {what}")
    assert rapl.safe_period(device, 0.5e-3) == (0.5e-3, "")


def test_safe_period_takes_the_fastest_wrapping_zone(powercap):
    # package 1000 J / 500 W = 2 s; dram 150 J / 150 W = 1 s (half: 0.5 s); psys 3000 J / 1000 W = 3 s
    device = _device(powercap, ("intel-rapl:0", "package-0", PKG_1KJ), ("intel-rapl:0:1", "dram", 150_000_000),
                     ("intel-rapl:1", "psys", 3_000_000_000))
    assert rapl.safe_period(device, 0.75) == (
        0.5, "sample period shortened from 0.75 s to 0.5 s: zone intel-rapl:0:1 (dram, range 150 J) can wrap "
             "every 1 s at 150 W")


def test_safe_period_at_exactly_the_fastest_poll_is_allowed(powercap):
    # 2 J / 500 W = 0.004 s; half: 0.002 s = MIN_PERIOD_S exactly
    device = _device(powercap, ("intel-rapl:0", "package-0", 2_000_000))
    assert rapl.safe_period(device, 0.1) == (
        0.002, "sample period shortened from 0.1 s to 0.002 s: zone intel-rapl:0 (package-0, range 2 J) "
               "can wrap every 0.004 s at 500 W")


def test_safe_period_refuses_a_range_too_small_to_poll(powercap):
    # 1 J / 500 W = 0.002 s; half: 0.001 s < 2 ms
    device = _device(powercap, ("intel-rapl:0", "package-0", 1_000_000))
    assert rapl.safe_period(device, 0.1) == (
        None, "RAPL refused: zone intel-rapl:0 (package-0, range 1 J) can wrap every 0.002 s at 500 W; "
              "it cannot be polled safely (a poll every < 2 ms)")


def test_safe_period_without_a_known_range_is_unchanged(powercap):
    device = _device(powercap, ("intel-rapl:0", "package-0", None))
    assert rapl.safe_period(device, 0.0) == (0.0, "")
    assert rapl.safe_period(device, 5.0) == (5.0, "")
