"""``harness env`` and the report-time factors."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from harness.cli import main
from harness.collectors import factors
from harness.errors import ConfigError


def test_env_text_and_json(capsys, powercap):
    powercap.zone("intel-rapl:0", "package-0")
    powercap.zone("intel-rapl:1", "psys")
    assert main(["env", "--tdp-w", "65"]) == 0
    out = capsys.readouterr().out
    assert "cpu tdp   65 W (cli)" in out and "intel-rapl:1" in out and "psys" in out
    assert main(["env", "--json"]) == 0
    env = json.loads(capsys.readouterr().out)
    assert env["collectors"]["rapl"]["available"] is True
    assert [z["kind"] for z in env["powercap"]["zones"]] == ["package", "psys"]


def test_factor_defaults_and_overrides():
    f = factors.resolve(environ={})
    assert (f.carbon_g_per_kwh, f.pue, f.price_per_kwh) == (475.0, 1.0, 0.15)
    f = factors.resolve({"pue": 1.5}, environ={"HARNESS_CARBON_G_PER_KWH": "100"})
    assert f.pue == 1.5 and f.carbon_g_per_kwh == 100.0
    out = factors.convert(pd.Series([3.6e6, math.nan]), f)
    assert out["facility_energy_kwh"].iloc[0] == pytest.approx(1.5)
    assert out["carbon_g"].iloc[0] == pytest.approx(150.0) and math.isnan(out["carbon_g"].iloc[1])
    with pytest.raises(ConfigError, match="pue must be >= 1. Received: pue=0.5"):
        factors.resolve({"pue": 0.5}, environ={})
    with pytest.raises(ConfigError, match="unknown factor"):
        factors.resolve({"carbon": 1}, environ={})
