"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.suites import write_tiny_suite


@pytest.fixture
def tiny_suite(tmp_path: Path) -> Callable[..., Path]:
    """Write the tiny suite (:func:`tests.helpers.suites.tiny_suite_text`) into ``tmp_path``: call it with
    ``body`` ([matrix]...), ``name`` and any [defaults] key to change; returns the file's path."""
    return lambda body="", name="tiny", **settings: write_tiny_suite(tmp_path, body, name, **settings)
