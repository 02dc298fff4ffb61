"""Strictly valid JSON for the ``compare`` and ``history`` outputs (RFC 8259: no NaN, no Infinity).

Python's ``json`` writes ``NaN`` and ``Infinity``, which strict parsers (``jq``,
JavaScript's ``JSON.parse``, Go, Rust's serde_json) reject. Here a value that is
missing or undefined (NaN) becomes ``null``; an unbounded value (an interval end
that these repeats cannot bound, ``±inf``) becomes the **string**
``"Infinity"`` / ``"-Infinity"``, which keeps the meaning and which both
``float()`` in Python and ``Number()`` in JavaScript read back.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

POS_INF, NEG_INF = "Infinity", "-Infinity"


def strict(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced (NaN -> None, ±inf -> "Infinity" / "-Infinity")."""
    if isinstance(obj, dict):
        return {k: strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [strict(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else (POS_INF if obj > 0 else NEG_INF)
    return obj


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` of :func:`strict` ``(obj)`` with ``allow_nan=False`` (a leftover would raise, not leak)."""
    return json.dumps(strict(obj), allow_nan=False, default=str, **kwargs)
