"""Optimizers by name: :func:`build` takes a registry name or ``"module:Class"`` with its parameters.

Imports Keras; used inside worker processes only.
"""

from __future__ import annotations

import importlib
from typing import Any

from harness.components import catalog
from harness.errors import ConfigError


def import_object(spec: str) -> Any:
    """``"package.module:Name"`` -> the object. The only way a suite runs user code."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"expected 'package.module:ClassName', got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import module {module_name!r} for {spec!r}: {exc}") from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise ConfigError(f"module {module_name!r} has no attribute {attr!r} (from {spec!r})") from exc


def regime(name: str) -> str:
    """minibatch, full_batch or single_example; custom optimizers are mini-batch."""
    entry = catalog.optimizer_entries().get(name)
    return entry.regime if entry else "minibatch"


def effective_batch_size(name: str, batch_size: int, n_train: int) -> int:
    """The batch actually used: the whole set for ``gd``, one example for ``sgd``."""
    r = regime(name)
    return n_train if r == "full_batch" else 1 if r == "single_example" else batch_size


def build(config: dict[str, Any], learning_rate: Any) -> Any:
    """A Keras optimizer from ``{name, params}``; ``learning_rate`` is a float or a schedule."""
    import keras

    name, params = config["name"], dict(config.get("params") or {})
    if ":" in name:
        cls = import_object(name)
        if not callable(cls):
            raise ConfigError(f"custom optimizer {name!r} is not a class or factory")
    else:
        entry = catalog.optimizer_entries().get(name)
        if entry is None:
            raise ConfigError(f"unknown optimizer {name!r}")
        cls = getattr(keras.optimizers, entry.keras_class)
        params = {**entry.defaults, **params}
    try:
        opt = cls(learning_rate=learning_rate, **params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"optimizer {name!r} rejected parameters {params}: {exc}") from exc
    if not isinstance(opt, keras.optimizers.Optimizer):
        raise ConfigError(f"custom optimizer {name!r} did not produce a keras.optimizers.Optimizer")
    return opt
