from __future__ import annotations

from pathlib import Path

import pytest

from harness.report import build_tables
from tests.helpers import report_synthetic


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
