"""Engines: ways to drive the one train step. Registry name -> ``run(model, optimizer, spec, hooks, controller)``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from harness.components.catalog import ENGINES


def get(name: str) -> Callable[..., Any]:
    if name not in ENGINES:
        raise KeyError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}")
    return importlib.import_module(f"harness.engines.{name}").run
