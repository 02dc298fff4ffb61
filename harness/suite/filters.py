"""``--filter AXIS=V[,V]``: which cases of a suite a command selects. No TensorFlow here."""

from __future__ import annotations

from harness.axis import AxisValue
from harness.errors import UsageError
from harness.keyvalue import KeyValueError, key_value
from harness.suite import CASE_KEYS, Case
from harness.suite.keys import suggest

FILTER_HINT = "expected AXIS=VALUE[,VALUE...], e.g. optimizer=adam,sgd"


def parse_filters(filters: list[str] | None, flag: str = "--filter") -> dict[str, set[str]]:
    """``["optimizer=adam,sgd", "engine=fast"]`` -> {axis: accepted values}."""
    out: dict[str, set[str]] = {}
    for f in filters or []:
        try:
            key, values = key_value(f)
        except KeyValueError:
            raise UsageError(flag, f, FILTER_HINT) from None
        if not values:
            raise UsageError(flag, f, FILTER_HINT)
        if key not in CASE_KEYS:
            raise UsageError(flag, key, f"unknown axis; {suggest(key, list(CASE_KEYS))}")
        out.setdefault(key, set()).update(v.strip() for v in values.split(","))
    return out


def selected(case: Case, filters: dict[str, set[str]]) -> bool:
    """True when every filtered axis of ``case`` has an accepted value (a component: its label or name)."""
    for key, wanted in filters.items():
        v = getattr(case, key)
        names = {v.name, v.label} - {None} if isinstance(v, AxisValue) else {str(v)}
        if not names & wanted:
            return False
    return True


def _names(value: object) -> set[str]:
    return {value.name, value.label} - {None} if isinstance(value, AxisValue) else {str(value)}


def no_match_message(cases: list[Case], filters: list[str] | None) -> str:
    """Why ``filters`` select no case of ``cases``: each value that matches nothing, with the values
    the suite has on that axis (or, when each value exists, that no case has them all at once)."""
    parsed = parse_filters(filters)
    parts = []
    for key, wanted in parsed.items():
        exist = sorted({n for c in cases for n in _names(getattr(c, key))})
        missing = sorted(w for w in wanted if w not in exist)
        if missing:
            parts.append(f"{key}={','.join(missing)} matches no case ({key} in this suite: {', '.join(exist)})")
    if parts:
        return "; ".join(parts)
    return f"no case has {' and '.join(filters or [])} at once"
