"""The tiny suite every end-to-end test runs: one definition, with the values a test changes given as arguments."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def toml_value(value: Any) -> str:
    """A Python value as a TOML literal (strings, numbers, booleans, lists, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def tiny_suite_text(name: str = "tiny", body: str = "", *, collectors: Sequence[str] | None = (),
                    n_train: int = 512, n_test: int = 128, epochs: int = 1, **defaults: Any) -> str:
    """A suite's TOML: synthetic data (``n_train``/``n_test`` examples), ``epochs`` epochs, no collectors
    (``collectors=None``: the suite's default list), more ``[defaults]`` keys as keyword arguments, then
    ``body`` ([matrix], [[include]]...)."""
    lines = ["[suite]", f"name = {toml_value(name)}"]
    if collectors is not None:
        lines.append(f"collectors = {toml_value(list(collectors))}")
    dataset = {"name": "synthetic", "n_train": n_train, "n_test": n_test}
    lines += ["[defaults]", f"dataset = {toml_value(dataset)}", f"epochs = {epochs}"]
    lines += [f"{k} = {toml_value(v)}" for k, v in defaults.items()]
    return "\n".join(lines) + "\n" + body.lstrip("\n")


def write_tiny_suite(folder: Path, body: str = "", name: str = "tiny", **settings: Any) -> Path:
    """:func:`tiny_suite_text` written to ``folder/<name>.toml``; the path."""
    path = Path(folder) / f"{name}.toml"
    path.write_text(tiny_suite_text(name, body, **settings))
    return path
