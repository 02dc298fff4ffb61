"""Validators of suite values: each names the file, the key path, the bad value and the expectation.

Used by :mod:`harness.suite`; no TensorFlow here. ``CASE_KEYS`` maps every case
key to its validator, which returns the normalised value (components become
``{name, label, params}`` dicts).
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Any

from harness.axis import AxisValue
from harness.components import catalog, datasets, models
from harness.errors import SuiteError

SUITE_KEYS = {
    "name", "description", "collectors", "sample_period_s", "idle_baseline_s", "tdp_w", "tdp_threads",
    "strict_energy",
    "target_accuracy", "time_limit_s", "profile_steps",
    "region",  # grid carbon intensity by location (harness.carbon): used by reports
}
TOP_KEYS = {"suite", "defaults", "matrix", "exclude", "include", "cluster", "gate", "tuning"}


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of neighbours as one edit (so 'adma' is next to 'adam')."""
    d = [[max(i, j) if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def suggest(value: str, known: list[str]) -> str:
    best = min(known, key=lambda k: (_distance(value.lower(), k.lower()), k), default=None)
    close = best is not None and _distance(value.lower(), best.lower()) <= max(2, len(value) // 3)
    if not close:
        found = difflib.get_close_matches(value, known, n=1)
        best, close = (found[0], True) if found else (None, False)
    hint = f"did you mean {best!r}? " if close else ""
    return f"{hint}Known: {', '.join(sorted(known))}"


def _leaf(key: str) -> str:
    return key.split(".")[-1].split("[")[0]


def _int(f: str, key: str, v: Any, minimum: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise SuiteError(f, key, f"expected an integer >= {minimum}, got {v!r}")
    if v < minimum:
        raise SuiteError(f, key, f"must be >= {minimum}. Received: {_leaf(key)}={v}")
    return v


def _float(f: str, key: str, v: Any, lo: float, hi: float | None = None, lo_open: bool = True) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise SuiteError(f, key, f"expected a number, got {v!r}")
    if not math.isfinite(v):
        raise SuiteError(f, key, f"expected a finite number. Received: {key.split('.')[-1]}={v}")
    bad = v <= lo if lo_open else v < lo
    if bad or (hi is not None and v > hi):
        rng = f"{'>' if lo_open else '>='} {lo}" + (f" and <= {hi}" if hi is not None else "")
        raise SuiteError(f, key, f"must be {rng}. Received: {_leaf(key)}={v}")
    return float(v)


def _choice(f: str, key: str, v: Any, known: list[str]) -> str:
    if not isinstance(v, str):
        raise SuiteError(f, key, f"expected a string, got {v!r}")
    if v not in known:
        raise SuiteError(f, key, f"unknown value {v!r}; {suggest(v, known)}")
    return v


_CUSTOM_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")


def _component(f: str, key: str, v: Any, kind: str, known: dict[str, set[str] | None]) -> AxisValue:
    """A name, or a table {name, label?, ...params}. ``known`` maps names to allowed params (None: any)."""
    if isinstance(v, str):
        name, params, label = v, {}, None
    elif isinstance(v, dict):
        if "name" not in v:
            raise SuiteError(f, key, f"a {kind} table needs a `name`, got {v!r}")
        params = {k: p for k, p in v.items() if k not in ("name", "label")}
        name, label = v["name"], v.get("label")
        if label is not None and not isinstance(label, str):
            raise SuiteError(f, f"{key}.label", f"expected a string, got {label!r}")
    else:
        raise SuiteError(f, key, f"expected a {kind} name or a table with `name`, got {v!r}")
    if not isinstance(name, str):
        raise SuiteError(f, f"{key}.name", f"expected a string, got {name!r}")
    custom = ":" in name and kind in ("optimizer", "schedule", "model")
    if custom and not _CUSTOM_RE.match(name):
        what = "function" if kind == "model" else "ClassName"
        raise SuiteError(f, f"{key}.name" if isinstance(v, dict) else key,
                         f"custom {kind} {name!r}: expected 'package.module:{what}'")
    if not custom and name not in known:
        raise SuiteError(f, key, f"unknown {kind} {name!r}; {suggest(name, list(known))}")
    allowed = None if custom else known[name]
    if allowed is not None:
        for p in params:
            if p not in allowed:
                hint = suggest(p, list(allowed)) if allowed else "it takes no parameters"
                raise SuiteError(f, f"{key}.{p}", f"unknown parameter for {kind} {name!r}; {hint}")
    choices = catalog.SCHEDULES.get(name, {}).get("choices", {}) if kind == "schedule" and not custom else {}
    for p, ok in choices.items():
        if p in params and params[p] not in ok:
            raise SuiteError(f, f"{key}.{p}", f"expected one of {', '.join(map(repr, ok))}, got {params[p]!r}")
    return AxisValue(name, label, params)


def _dataset(f: str, key: str, v: Any) -> AxisValue:
    comp = _component(f, key, v, "dataset", datasets.PARAMS)
    p = comp.params
    for size in ("n_train", "n_test"):
        if size in p:
            _int(f, f"{key}.{size}", p[size], 1)
    if "classes" in p:
        _int(f, f"{key}.classes", p["classes"], 2)
    if "shape" in p and (not isinstance(p["shape"], list) or not p["shape"]
                         or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in p["shape"])):
        raise SuiteError(f, f"{key}.shape", f"expected a list of positive integers (e.g. [28, 28, 1]), "
                         f"got {p['shape']!r}")
    if "validation" in p:  # a count of examples, or a fraction in [0, 1) of the training data
        _float(f, f"{key}.validation", p["validation"], 0.0, lo_open=False)
        n = datasets.loaded_train_size(comp.name, p)
        try:
            from harness.components.validation import validation_size

            validation_size(n if n is not None else 2**62, p)
        except ValueError as exc:
            raise SuiteError(f, f"{key}.validation", str(exc)) from None
    if "path" in p:
        if not isinstance(p["path"], str):
            raise SuiteError(f, f"{key}.path", f"expected a string path, got {p['path']!r}")
        try:
            path = Path(p["path"]).expanduser()
            if not path.is_absolute():
                path = (Path(f).parent / path) if not path.exists() else path
            exists = path.exists()
        except (ValueError, OSError, RuntimeError) as exc:  # NUL byte, unknown ~user, ...
            raise SuiteError(f, f"{key}.path", f"invalid path {p['path']!r} ({exc})") from None
        if not exists:
            raise SuiteError(f, f"{key}.path", f"dataset path {p['path']!r} does not exist")
        p["path"] = str(path.resolve())
    return AxisValue(comp.name, None, p)  # a dataset's label is not kept (an idx folder names itself)


def _model(f: str, key: str, v: Any) -> AxisValue:
    """A built-in model with its parameters, or a user's ``"package.module:function"``."""
    comp = _component(f, key, v, "model", models.PARAMS)
    p = comp.params
    for name, values in (("hidden", p.get("hidden")), ("filters", p.get("filters"))):
        if values is not None and (not isinstance(values, list) or not values or not all(
                isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in values)):
            raise SuiteError(f, f"{key}.{name}", f"expected a list of positive integers, got {values!r}")
    if "filters" in p and len(p["filters"]) != 2:
        raise SuiteError(f, f"{key}.filters", f"expected two filter counts (one per convolution), got {p['filters']!r}")
    if "activation" in p and not isinstance(p["activation"], str):
        raise SuiteError(f, f"{key}.activation", f"expected an activation name (e.g. relu), got {p['activation']!r}")
    if "dense" in p:
        _int(f, f"{key}.dense", p["dense"], 0)
    return comp


def _device(f: str, key: str, v: Any) -> str:
    if not isinstance(v, str) or not catalog.DEVICE_RE.match(v):
        raise SuiteError(f, key, f"invalid device {v!r}; expected cpu, cpu:N (threads), gpu, gpu:K or tpu")
    return v


def _strategy(f: str, key: str, v: Any) -> AxisValue:
    comp = _component(f, key, v, "strategy", {k: s["params"] for k, s in catalog.STRATEGIES.items()})
    for p in ("replicas", "workers", "ps"):
        if p in comp.params:
            _int(f, f"{key}.{p}", comp.params[p], 1)
    if "driver" in comp.params:
        _choice(f, f"{key}.driver", comp.params["driver"], list(catalog.FAST_DRIVER_NAMES))
    return comp


def _optional(fn):
    return lambda f, k, v: None if v is None else fn(f, k, v)


def _names(f: str, key: str, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise SuiteError(f, key, f"expected a list of collector names, got {v!r}")
    return tuple(v)


def _bool(f: str, key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise SuiteError(f, key, f"expected true or false, got {v!r}")
    return v


CASE_KEYS = {
    "dataset": _dataset,
    "epochs": lambda f, k, v: _int(f, k, v, 1),
    "batch_size": lambda f, k, v: _int(f, k, v, 1),
    "learning_rate": lambda f, k, v: _float(f, k, v, 0.0),
    "repeats": lambda f, k, v: _int(f, k, v, 1),
    "seed": lambda f, k, v: _int(f, k, v, 0),
    "engine": lambda f, k, v: _choice(f, k, v, list(catalog.ENGINES)),
    "precision": lambda f, k, v: _choice(f, k, v, list(catalog.PRECISIONS)),
    "strategy": _strategy,
    "device": _device,
    "optimizer": lambda f, k, v: _component(f, k, v, "optimizer", {n: None for n in catalog.optimizer_entries()}),
    "schedule": lambda f, k, v: _component(f, k, v, "schedule", {n: s["params"] for n, s in catalog.SCHEDULES.items()}),
    "target_accuracy": lambda f, k, v: _float(f, k, v, 0.0, 1.0),
    "time_limit_s": _optional(lambda f, k, v: _float(f, k, v, 0.0)),
    "steps_per_execution": _optional(lambda f, k, v: _int(f, k, v, 1)),
    "jit_compile": _optional(_bool),
    "profile": _bool,
    "collectors": lambda f, k, v: _names(f, k, v),
    "model": _model,
}


def _check_keys(f: str, where: str, table: dict, allowed: set[str] | dict) -> None:
    for k in table:
        if k not in allowed:
            path = f"{where}.{k}" if where else k
            if k in SUITE_KEYS and where != "suite":
                hint = "it is a run setting: put it in [suite]"
            elif k in CASE_KEYS and where in ("", "suite"):
                hint = "it is a case key: put it in [defaults] (or [matrix] as a list)"
            else:
                hint = suggest(str(k), [str(a) for a in allowed])
            raise SuiteError(f, path, f"unknown key; {hint}")


def _table(f: str, key: str, v: Any) -> dict:
    if not isinstance(v, dict):
        raise SuiteError(f, key, f"expected a table, got {type(v).__name__} {v!r}")
    return v


def _settings(f: str, raw: dict) -> dict[str, Any]:
    s: dict[str, Any] = {}
    if "collectors" in raw:
        c = raw["collectors"]
        if not isinstance(c, list) or not all(isinstance(x, str) for x in c):
            raise SuiteError(f, "suite.collectors", f"expected a list of collector names, got {c!r}")
        s["collectors"] = c
    for k, lo in (("sample_period_s", 0.0), ("tdp_w", 0.0), ("time_limit_s", 0.0)):
        if k in raw:
            s[k] = _float(f, f"suite.{k}", raw[k], lo)
    if "idle_baseline_s" in raw:
        s["idle_baseline_s"] = _float(f, "suite.idle_baseline_s", raw["idle_baseline_s"], 0.0, lo_open=False)
    if "target_accuracy" in raw:
        s["target_accuracy"] = _float(f, "suite.target_accuracy", raw["target_accuracy"], 0.0, 1.0)
    if "profile_steps" in raw:
        s["profile_steps"] = _int(f, "suite.profile_steps", raw["profile_steps"], 1)
    if "tdp_threads" in raw:
        s["tdp_threads"] = _int(f, "suite.tdp_threads", raw["tdp_threads"], 1)
    if "strict_energy" in raw:
        s["strict_energy"] = _bool(f, "suite.strict_energy", raw["strict_energy"])
    if "region" in raw:
        s["region"] = _region(f, raw["region"])
    return s


def _region(f: str, v: Any) -> str:
    """``[suite] region``: a code of the shipped carbon table (harness.carbon)."""
    from harness import carbon
    from harness.errors import ConfigError

    if not isinstance(v, str):
        raise SuiteError(f, "suite.region", f"expected a region code string such as 'DE', got {v!r}")
    try:
        carbon.lookup(v, "suite.region")
    except ConfigError as exc:
        raise SuiteError(f, "suite.region", str(exc).partition(": ")[2]) from None
    return v


def check_gate(f: str, raw: object) -> dict[str, Any]:
    """The suite's ``[gate]`` table (what ``harness compare`` gates on), validated before anything runs."""
    from harness.regression.gates import GateError, check_gate_table

    try:
        return check_gate_table(raw)
    except GateError as exc:
        key, _, message = str(exc).partition(": ")
        raise SuiteError(f, key, message) from None
