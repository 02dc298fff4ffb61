from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import report_synthetic  # noqa: E402

from harness.report import build_tables  # noqa: E402


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory) -> Path:
    return report_synthetic.write_synthetic_run(tmp_path_factory.mktemp("results"))


@pytest.fixture(scope="module")
def tables(synthetic_dir):
    return build_tables([synthetic_dir])


@pytest.fixture(scope="module")
def page(tables) -> str:
    from harness.report import render_html

    return render_html(tables)
