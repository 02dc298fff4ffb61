"""Every suite-level key the validator accepts is documented; `harness list` names each optimizer once."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.cli import main
from harness.suite.keys import SUITE_KEYS, TOP_KEYS

ROOT = Path(__file__).resolve().parents[2]


def _docs() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


@pytest.mark.parametrize("key", sorted(SUITE_KEYS))
def test_every_suite_key_is_documented(key):
    # as a TOML assignment in an example (`key = ...`) or in backticks in the text
    assert re.search(rf"(^|\n)\s*{key}\s*=|`{key}`", _docs()), f"[suite] {key} is not documented"


@pytest.mark.parametrize("table", sorted(TOP_KEYS))
def test_every_top_level_table_is_documented(table):
    assert re.search(rf"\[\[?{table}\]\]?", _docs()), f"[{table}] is not shown in the README or docs"


def test_readme_suite_example_names_every_suite_key():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml", 1)[1].split("```", 1)[0]
    head = example.split("[defaults]", 1)[0]
    missing = [k for k in SUITE_KEYS if not re.search(rf"^{k}\s*=", head, re.M)]
    assert not missing, f"README's suite example lacks {missing}"
    assert "[gate]" in example and "[cluster]" in example


def test_list_names_each_optimizer_once(capsys):
    assert main(["list", "optimizers", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    names = list(listed["optimizers"]) if isinstance(listed, dict) and "optimizers" in listed else list(listed)
    canonical = {re.sub(r"[_-]", "", n) for n in names}
    assert len(canonical) == len(names), f"an optimizer is listed under two spellings: {sorted(names)}"
    assert "schedulefreeadamw" in names and "schedule_free_adamw" not in names
    text = json.dumps(listed)
    assert "alias: schedule_free_adamw" in text
