"""The CPU energy estimate's arithmetic and wording, with values by hand (fake /proc/cpuinfo)."""

from __future__ import annotations

import pytest

from harness.collectors import cpu_estimate as ce


def test_estimate_is_tdp_over_threads_times_cpu_seconds():
    tdp = ce.Tdp(270.0, "cli", 64, "table:Xeon Platinum 8370C")
    assert tdp.watts_per_thread == 4.21875  # 270 / 64
    assert ce.estimate_j(tdp, 10.0) == 42.1875
    assert (tdp.low_factor, tdp.high_factor, tdp.label) == (0.5, 1.5, "estimate_tdp")
    assert tdp.describe() == ("270 W (cli) / 64 threads per package (table:Xeon Platinum 8370C) "
                              "= 4.22 W per thread, range x0.5-x1.5")


def test_generic_estimate_by_hand():
    g = ce.GENERIC
    assert (g.watts, g.threads, g.watts_per_thread, g.label) == (4.0, 1, 4.0, "estimate_generic")
    assert (g.low_factor, g.high_factor) == (0.5, 3.0)  # 2 W and 12 W around 4 W
    assert ce.estimate_j(g, 2.5) == 10.0
    assert g.describe() == ("4 W per thread (generic: CodeCarbon's 4 W per thread for an unknown CPU), "
                            "range 2-12 W")
    assert g.warning() == ""


def test_plausibility_warning_at_exactly_fifteen_watts_per_thread():
    assert ce.Tdp(30.0, "cli", 2).warning() == ""  # exactly 15 W per thread: plausible
    w = ce.Tdp(31.0, "cli", 2).warning()
    assert w == ("15.5 W per thread is above any known CPU (<= 15): is 31 W the TDP of a package with "
                 "more than 2 threads? On a VM give the part's threads with --tdp-threads")


def test_lookup_matches_whole_words_without_trademarks():
    assert ce.lookup("Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz") == ("Core i7-8700", 65.0, 12)
    assert ce.lookup("intel(r) xeon(r) platinum 8375c cpu") == ("Xeon Platinum 8375C", 300.0, 64)
    assert ce.lookup("Intel(R) Core(TM) i7-87000") is None  # not a whole word
    assert ce.lookup("AMD EPYC 9654 96-Core Processor") == ("EPYC 9654", 360.0, 192)
    assert ce.lookup("") is None


def test_cpuinfo_model_and_siblings(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC 7763 64-Core Processor\nsiblings\t: 128\n")
    assert ce.cpu_model(info) == "AMD EPYC 7763 64-Core Processor"
    assert ce.threads_per_package(info) == 128
    info.write_text("model name\t: X\nsiblings\t: 0\n")
    assert ce.threads_per_package(info) == 1  # never 0
    assert ce.cpu_model(tmp_path / "missing") == ""


def test_resolve_tdp_every_branch():
    xeon = "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz"
    tdp, why = ce.resolve_tdp(200.0, "suite", 2, xeon)
    assert (tdp.watts, tdp.origin, tdp.threads, tdp.threads_origin, why) == (
        200.0, "suite", 64, "table:Xeon Platinum 8370C", "")
    tdp, _ = ce.resolve_tdp(200.0, None, 2, xeon, tdp_threads=8)
    assert (tdp.origin, tdp.threads, tdp.threads_origin) == ("user", 8, "user")
    tdp, _ = ce.resolve_tdp(100.0, "cli", 0, "Unknown VM CPU")
    assert (tdp.threads, tdp.threads_origin) == (1, "this machine's threads per package")
    tdp, _ = ce.resolve_tdp(None, None, 2, xeon)
    assert (tdp.watts, tdp.origin, tdp.threads, tdp.threads_origin) == (
        270.0, "table:Xeon Platinum 8370C", 64, "table:Xeon Platinum 8370C")
    tdp, _ = ce.resolve_tdp(None, "cli", 2, xeon, tdp_threads=32)
    assert (tdp.watts, tdp.threads, tdp.threads_origin) == (270.0, 32, "cli")
    assert ce.resolve_tdp(0.0, "cli", 2, xeon) == (None, "tdp_w must be > 0. Received: tdp_w=0.0")
    assert ce.resolve_tdp(None, None, 2, "Mystery") == (
        None, "no TDP for 'Mystery': not in the TDP table; give tdp_w in the suite or --tdp-w")
    assert ce.resolve_tdp(None, None, 2, "")[1].startswith("no TDP for 'unknown CPU'")
    assert ce.resolve_tdp(100.0, "cli", 2, xeon, tdp_threads=-1) == (
        None, "tdp_threads must be a positive integer. Received: tdp_threads=-1")
    assert ce.resolve_tdp(100.0, "cli", 2, xeon, tdp_threads=1)[0].threads == 1  # exactly the minimum


@pytest.mark.parametrize("bad", [0, 2.0, "4"])
def test_tdp_threads_must_be_a_positive_int(bad):
    assert ce.resolve_tdp(100.0, "cli", 2, "x", tdp_threads=bad)[0] is None


def test_model_name_with_a_colon_and_the_cpu_count_fallback(tmp_path, monkeypatch):
    info = tmp_path / "cpuinfo"
    info.write_text("model name\t: Vendor: Part 9 CPU\n")
    assert ce.cpu_model(info) == "Vendor: Part 9 CPU"  # split at the first colon only
    monkeypatch.setattr(ce.os, "cpu_count", lambda: 6)
    assert ce.threads_per_package(info) == 6  # no siblings line: logical CPUs
    monkeypatch.setattr(ce.os, "cpu_count", lambda: None)
    assert ce.threads_per_package(info) == 1


def test_table_tdp_with_given_threads_and_small_tdps():
    xeon = "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz"
    tdp, why = ce.resolve_tdp(None, None, 2, xeon, tdp_threads=32)
    assert (tdp.watts, tdp.origin, tdp.threads, tdp.threads_origin, why) == (
        270.0, "table:Xeon Platinum 8370C", 32, "user", "")
    tdp, why = ce.resolve_tdp(None, None, 2, xeon)
    assert why == ""
    tdp, why = ce.resolve_tdp(0.5, "cli", 2, "x")  # half a watt is a TDP (> 0)
    assert (tdp.watts, why) == (0.5, "")
