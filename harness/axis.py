"""The value of a component axis (dataset, optimizer, schedule, strategy): what crosses every layer.

A suite names a component by its registry name, optionally with a display label
and parameters (``{ name = "adam", label = "adam-0.8", beta_1 = 0.8 }``); the
suite layer validates it into an :class:`AxisValue`, which travels unchanged to
the worker that builds the Keras or tf.distribute object from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AxisValue:
    """A registry name (or ``"module:Class"``), its display label and its parameters.

    Frozen; ``params`` holds plain TOML values (numbers, strings, booleans, lists).
    Two values with the same name and parameters are the same configuration,
    whatever their labels (:meth:`identity`).
    """

    name: str
    label: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def display(self) -> str:
        """The label, else the name (what tables and case labels show)."""
        return self.label or self.name

    def identity(self) -> dict[str, Any]:
        """What identifies the configuration: name and parameters (not the label)."""
        return {"name": self.name, "params": self.params}

    def params_json(self) -> str:
        """The parameters as canonical JSON (the ``*_params`` result columns)."""
        return json.dumps(self.params, sort_keys=True)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "params": dict(self.params)}

    def __hash__(self) -> int:
        return hash((self.name, self.label, json.dumps(self.params, sort_keys=True, default=str)))

    @classmethod
    def of(cls, value: AxisValue | Mapping[str, Any] | str) -> AxisValue:
        """An AxisValue from itself, a registry name, or a ``{name, label?, params?}`` mapping."""
        if isinstance(value, AxisValue):
            return value
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, Mapping) and isinstance(value.get("name"), str):
            return cls(value["name"], value.get("label"), dict(value.get("params") or {}))
        raise TypeError(f"expected a component name, a {{name, params}} table or an AxisValue, got {value!r}")
