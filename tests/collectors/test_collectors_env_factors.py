"""``harness env``."""

from __future__ import annotations

import json

from harness.cli import main


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
