"""One vocabulary for axes: the suite's names (``--filter``, ``--baseline``, selectors) and the columns.

A suite, ``--filter`` and ``--profile-filter`` name axes as the suite does
(``optimizer``, ``schedule``); the results tables hold a component axis twice,
as its registry name (``optimizer``) and its display label
(``optimizer_label``), and the report's tables keep only the label. Every
command that takes ``AXIS=VALUE`` maps the name through :func:`column`, so the
same ``optimizer=adam`` works everywhere; the column names themselves are
accepted too.
"""

from __future__ import annotations

# suite axis name -> the column the report's tables group by
COLUMN_OF: dict[str, str] = {
    "optimizer": "optimizer_label",
    "schedule": "schedule_label",
}
NAME_OF: dict[str, str] = {v: k for k, v in COLUMN_OF.items()}


def column(name: str, columns: object = ()) -> str:
    """The table column for axis ``name`` (``optimizer`` -> ``optimizer_label``) unless ``columns``
    holds ``name`` itself."""
    if name in columns:  # type: ignore[operator]
        return name
    return COLUMN_OF.get(name, name)


def display(column_name: str) -> str:
    """The suite's name of a table column (``optimizer_label`` -> ``optimizer``) for messages."""
    return NAME_OF.get(column_name, column_name)
