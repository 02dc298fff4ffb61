"""The one ``KEY=VALUE`` parser (``--filter``, ``--baseline``, gate selectors).

Callers turn :class:`KeyValueError` into their own error (a usage error for a
flag, a gate error for a gate) so the message names where the text came from.
"""

from __future__ import annotations


class KeyValueError(ValueError):
    """``item`` is not ``KEY=VALUE`` (no ``=`` or an empty key)."""

    def __init__(self, item: str) -> None:
        self.item = item
        super().__init__(f"{item!r} is not KEY=VALUE")


def key_value(item: str) -> tuple[str, str]:
    """``"engine = fast"`` -> ``("engine", "fast")`` (both stripped; the value may be empty)."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise KeyValueError(item)
    return key.strip(), value.strip()


def key_values(text: str) -> dict[str, str]:
    """``"engine=keras_fit,device=cpu"`` -> ``{"engine": "keras_fit", "device": "cpu"}``.

    Items are comma separated; empty items are skipped; a later key wins.
    """
    return dict(key_value(item) for item in (s.strip() for s in text.split(",")) if item)
