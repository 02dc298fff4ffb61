"""TDP units said out loud: a package TDP shared by the package's threads, and the generic estimate."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.collectors import cpu_estimate

XEON_8370C = "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz"
GENERIC_VM = "Intel(R) Xeon(R) Processor"


def test_a_package_tdp_is_shared_by_the_parts_threads_not_the_vms():
    # the trap: 270 W on a 2-vCPU VM of a 64-thread part was 135 W per thread
    tdp, _ = cpu_estimate.resolve_tdp(270.0, "cli", 2, XEON_8370C)
    assert tdp.threads == 64 and tdp.threads_origin.startswith("table:")
    assert tdp.watts_per_thread == pytest.approx(270 / 64) and not tdp.warning()
    table, _ = cpu_estimate.resolve_tdp(None, None, 2, XEON_8370C)
    assert table.watts_per_thread == tdp.watts_per_thread  # the same part, the same W per thread


def test_unknown_model_uses_the_machine_threads_and_warns_when_implausible():
    tdp, _ = cpu_estimate.resolve_tdp(270.0, "cli", 2, GENERIC_VM)
    assert tdp.threads == 2 and "this machine" in tdp.threads_origin
    assert "above any known CPU" in tdp.warning() and "--tdp-threads" in tdp.warning()
    given, _ = cpu_estimate.resolve_tdp(270.0, "cli", 2, GENERIC_VM, tdp_threads=64)
    assert given.watts_per_thread == pytest.approx(4.21875) and not given.warning()
    assert cpu_estimate.resolve_tdp(270.0, "cli", 2, GENERIC_VM, tdp_threads=0)[0] is None


def test_generic_estimate_bounds():
    g = cpu_estimate.GENERIC
    assert g.label == "estimate_generic" and g.watts_per_thread == 4.0
    assert (g.watts_per_thread * g.low_factor, g.watts_per_thread * g.high_factor) == (2.0, 12.0)


def test_env_prints_w_per_thread_and_the_formula(capsys, powercap, no_nvml, monkeypatch):
    monkeypatch.setattr(cpu_estimate, "cpu_model", lambda *a: GENERIC_VM)
    assert main(["env", "--tdp-w", "270", "--tdp-threads", "64"]) == 0
    out = capsys.readouterr().out
    assert "270 W (cli) / 64 threads per package (cli) = 4.22 W per thread" in out
    assert "estimate_j = W per thread x CPU-seconds" in out
    assert main(["env", "--tdp-w", "270"]) == 0
    assert "warning   135 W per thread is above any known CPU" in capsys.readouterr().out
    assert main(["env"]) == 0
    assert "estimate_generic: 4 W per thread" in capsys.readouterr().out
