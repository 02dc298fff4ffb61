"""Suites: TOML files parsed, validated and expanded into cases. No TensorFlow here.

Shape (the contract; see README.md)::

    [suite]     name, description, and run-level settings (collectors, ...)
    [defaults]  case keys applied to every case
    [matrix]    case keys with lists of values: their cartesian product
    [[exclude]] tables of case keys: drop matching matrix combinations
    [[include]] tables of case keys: extra single cases (on top of [defaults])
    [cluster]   optional: an existing cluster to join (distribution strategies)

Number of cases = product of the matrix lists' lengths - combinations matched
by an exclude + includes, counting each configuration once: a combination or
include equal to an earlier case (same dataset, epochs, batch_size,
learning_rate, seed, engine, precision, strategy, device, optimizer, schedule,
steps_per_execution, jit_compile; labels, repeats, time limits and profiling do
not count) is not added again. An exclude matches a combination when every key
it names equals the combination's value ([defaults] plus the matrix values;
for a component given with parameters, name and parameters must match, given
by name alone, any parameters). Each case runs ``repeats`` times.

A suite is trusted like code: the only code it can make the harness run is
what it names explicitly as ``"package.module:ClassName"`` (custom optimizers
and schedules), imported inside the worker processes.

Every error is a :class:`SuiteError` naming the file, the key path, the bad
value and what was expected, raised before anything runs.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import logging
import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.components import catalog, datasets
from harness.errors import SuiteError

log = logging.getLogger(__name__)

SUITE_KEYS = {
    "name", "description", "collectors", "sample_period_s", "idle_baseline_s", "tdp_w",
    "target_accuracy", "time_limit_s", "profile_steps",
}
TOP_KEYS = {"suite", "defaults", "matrix", "exclude", "include", "cluster"}
KNOWN_DATASET_SIZES = {"mnist": 60000, "mnist-sample": 4000}

DEFAULTS: dict[str, Any] = {
    "dataset": {"name": "mnist-sample", "params": {}},
    "epochs": 3,
    "batch_size": 128,
    "learning_rate": 0.001,
    "repeats": 1,
    "seed": 0,
    "engine": "fast",
    "precision": "float32",
    "strategy": {"name": "default", "params": {}},
    "device": "cpu",
    "optimizer": {"name": "adam", "label": None, "params": {}},
    "schedule": {"name": "constant", "label": None, "params": {}},
    "target_accuracy": 0.9,
    "time_limit_s": None,
    "steps_per_execution": None,
    "jit_compile": None,
    "profile": False,
    "collectors": None,
}

# axes that identify a configuration (repeats, limits and profiling do not)
IDENTITY_AXES = (
    "dataset", "epochs", "batch_size", "learning_rate", "seed", "engine", "precision",
    "strategy", "device", "optimizer", "schedule", "steps_per_execution", "jit_compile",
)


@dataclass(frozen=True)
class Case:
    """One configuration to run ``repeats`` times. Component axes are dicts {name, label, params}."""

    suite: str
    dataset: dict[str, Any]
    epochs: int
    batch_size: int
    learning_rate: float
    repeats: int
    seed: int
    engine: str
    precision: str
    strategy: dict[str, Any]
    device: str
    optimizer: dict[str, Any]
    schedule: dict[str, Any]
    target_accuracy: float
    time_limit_s: float | None = None
    steps_per_execution: int | None = None
    jit_compile: bool | None = None
    profile: bool = False
    label: str = ""
    cluster: dict[str, Any] | None = None
    collectors: tuple[str, ...] | None = None  # per-case override of the suite's collectors


    @property
    def case_id(self) -> str:
        ident = {k: getattr(self, k) for k in IDENTITY_AXES}
        for k in ("optimizer", "schedule", "strategy"):
            ident[k] = {"name": ident[k]["name"], "params": ident[k]["params"]}
        if self.collectors is not None:  # only an explicit override tells two cases apart
            ident["collectors"] = list(self.collectors)
        blob = json.dumps(ident, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def axis_value(self, key: str) -> Any:
        """The display value of an axis: a component's label or name, else the plain value."""
        v = getattr(self, key)
        if isinstance(v, dict):
            return v.get("label") or v["name"]
        return v


@dataclass
class Suite:
    name: str
    description: str
    path: str
    text: str
    cases: list[Case]
    settings: dict[str, Any] = field(default_factory=dict)
    cluster: dict[str, Any] | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


# ------------------------------------------------------------------ helpers
def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of neighbours as one edit (so 'adma' is next to 'adam')."""
    d = [[max(i, j) if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def _suggest(value: str, known: list[str]) -> str:
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
        raise SuiteError(f, key, f"unknown value {v!r}; {_suggest(v, known)}")
    return v


_CUSTOM_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")


def _component(f: str, key: str, v: Any, kind: str, known: dict[str, set[str] | None]) -> dict[str, Any]:
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
    custom = ":" in name and kind in ("optimizer", "schedule")
    if custom and not _CUSTOM_RE.match(name):
        raise SuiteError(f, f"{key}.name" if isinstance(v, dict) else key,
                         f"custom {kind} {name!r}: expected 'package.module:ClassName'")
    if not custom and name not in known:
        raise SuiteError(f, key, f"unknown {kind} {name!r}; {_suggest(name, list(known))}")
    allowed = None if custom else known[name]
    if allowed is not None:
        for p in params:
            if p not in allowed:
                hint = _suggest(p, list(allowed)) if allowed else "it takes no parameters"
                raise SuiteError(f, f"{key}.{p}", f"unknown parameter for {kind} {name!r}; {hint}")
    return {"name": name, "label": label, "params": params}


def _dataset(f: str, key: str, v: Any) -> dict[str, Any]:
    comp = _component(f, key, v, "dataset", datasets.PARAMS)
    p = comp["params"]
    for size in ("n_train", "n_test"):
        if size in p:
            _int(f, f"{key}.{size}", p[size], 1)
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
    return {"name": comp["name"], "params": p}


def _device(f: str, key: str, v: Any) -> str:
    if not isinstance(v, str) or not catalog.DEVICE_RE.match(v):
        raise SuiteError(f, key, f"invalid device {v!r}; expected cpu, cpu:N (threads), gpu, gpu:K or tpu")
    return v


def _strategy(f: str, key: str, v: Any) -> dict[str, Any]:
    comp = _component(f, key, v, "strategy", {k: s["params"] for k, s in catalog.STRATEGIES.items()})
    for p in ("replicas", "workers", "ps"):
        if p in comp["params"]:
            _int(f, f"{key}.{p}", comp["params"][p], 1)
    return {"name": comp["name"], "label": comp["label"], "params": comp["params"]}


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
                hint = _suggest(str(k), [str(a) for a in allowed])
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
    return s


# ------------------------------------------------------------------ parsing
def parse_suite(text: str, path: str = "<string>") -> Suite:
    f = str(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f, "", f"malformed TOML: {exc}") from exc
    _check_keys(f, "", doc, TOP_KEYS)
    head = _table(f, "suite", doc.get("suite", {}))
    _check_keys(f, "suite", head, SUITE_KEYS)
    name = head.get("name", Path(f).stem)
    if not isinstance(name, str) or not name:
        raise SuiteError(f, "suite.name", f"expected a non-empty string, got {name!r}")
    settings = _settings(f, head)
    desc = head.get("description", "")
    if not isinstance(desc, str):
        raise SuiteError(f, "suite.description", f"expected a string, got {desc!r}")

    base = dict(DEFAULTS)
    if "target_accuracy" in settings:
        base["target_accuracy"] = settings["target_accuracy"]
    if "time_limit_s" in settings:
        base["time_limit_s"] = settings["time_limit_s"]
    defaults = _table(f, "defaults", doc.get("defaults", {}))
    _check_keys(f, "defaults", defaults, CASE_KEYS)
    base.update({k: CASE_KEYS[k](f, f"defaults.{k}", v) for k, v in defaults.items()})

    matrix = _table(f, "matrix", doc.get("matrix", {}))
    _check_keys(f, "matrix", matrix, CASE_KEYS)
    axes: dict[str, list] = {}
    for k, values in matrix.items():
        if not isinstance(values, list):
            raise SuiteError(f, f"matrix.{k}", f"expected a list of values, got {values!r}")
        if not values:
            raise SuiteError(f, f"matrix.{k}", "empty list: a matrix axis needs at least one value")
        axes[k] = [CASE_KEYS[k](f, f"matrix.{k}[{i}]", v) for i, v in enumerate(values)]

    excludes = _entries(f, doc, "exclude")
    includes = _entries(f, doc, "include")
    cluster = _table(f, "cluster", doc["cluster"]) if "cluster" in doc else None

    combos, used = [], [False] * len(excludes)
    for values in itertools.product(*axes.values()) if axes else [()]:
        combo = {**base, **dict(zip(axes, values, strict=True))}
        hits = [i for i, ex in enumerate(excludes) if _matches(combo, ex)]
        for i in hits:
            used[i] = True
        if not hits:
            combos.append(combo)
    for i in (i for i, u in enumerate(used) if not u):
        log.warning("%s: exclude[%d] matches no combination of the matrix", f, i)
    combos += [{**base, **inc} for inc in includes]
    if not combos:
        raise SuiteError(f, "matrix", "the suite expands to no cases (everything excluded?)")

    varying = [k for k in CASE_KEYS if len({json.dumps(c[k], sort_keys=True, default=str) for c in combos}) > 1]
    cases, seen = [], set()
    for c in combos:
        opt_params = c["optimizer"]["params"]
        if "learning_rate" in opt_params:  # an optimizer's own rate is the case's initial rate
            c["learning_rate"] = _float(f, "optimizer.learning_rate", opt_params["learning_rate"], 0.0)
            c["optimizer"] = {**c["optimizer"], "params": {k: v for k, v in opt_params.items() if k != "learning_rate"}}
        case = Case(suite=name, cluster=cluster, **c)
        case = replace(case, label=_label(case, varying))
        if case.case_id in seen:
            continue
        seen.add(case.case_id)
        _check_case(f, case)
        cases.append(case)
    return Suite(name, desc, f, text, cases, settings, cluster)


def _entries(f: str, doc: dict, kind: str) -> list[dict]:
    raw = doc.get(kind, [])
    if not isinstance(raw, list):
        raise SuiteError(f, kind, f"expected an array of tables ([[{kind}]]), got {raw!r}")
    out = []
    for i, entry in enumerate(raw):
        _table(f, f"{kind}[{i}]", entry)
        if not entry:
            raise SuiteError(f, f"{kind}[{i}]", f"an empty {kind} entry matches every case")
        _check_keys(f, f"{kind}[{i}]", entry, CASE_KEYS)
        out.append({k: CASE_KEYS[k](f, f"{kind}[{i}].{k}", v) for k, v in entry.items()})
    return out


def _matches(combo: dict, exclude: dict) -> bool:
    for k, want in exclude.items():
        have = combo.get(k)
        if isinstance(want, dict) and isinstance(have, dict):
            if want["name"] != have["name"] or (want.get("params") and want["params"] != have.get("params")):
                return False
        elif have != want:
            return False
    return True


def _label(case: Case, varying: list[str]) -> str:
    """Display name: the values of the axes that vary in the suite, components first."""
    named = ["optimizer", "schedule", "engine", "strategy", "device", "precision", "dataset"]
    keys = [k for k in named if k in varying] + [k for k in varying if k not in named]
    keys = [k for k in keys if k not in ("repeats", "time_limit_s", "profile")] or ["optimizer"]
    parts = []
    for k in keys:
        v = case.axis_value(k)
        if k == "collectors":
            v = "default" if v is None else "+".join(v) or "none"
        parts.append(str(v) if k in named else f"{k}={v}")
    return "/".join(parts)


def _check_case(f: str, case: Case) -> None:
    entry = catalog.optimizer_entries().get(case.optimizer["name"])
    n_train = case.dataset["params"].get("n_train") or KNOWN_DATASET_SIZES.get(case.dataset["name"])
    if entry is not None and entry.regime == "minibatch" and n_train and case.batch_size > n_train:
        raise SuiteError(
            f, f"case {case.label}: batch_size",
            f"batch_size={case.batch_size} is larger than the {n_train} training examples of "
            f"{case.dataset['name']!r} (mini-batch semantics need batch_size <= dataset size)",
        )


def resolve_suite_path(name_or_path: str, search: list[Path] | None = None) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.exists():
            raise SuiteError(str(p), "", "suite file does not exist")
        return p
    dirs = search or [Path.cwd() / "suites", Path(__file__).resolve().parent.parent / "suites"]
    for d in dirs:
        if (d / f"{name_or_path}.toml").exists():
            return d / f"{name_or_path}.toml"
    known = sorted({q.stem for d in dirs if d.is_dir() for q in d.glob("*.toml")})
    raise SuiteError(name_or_path, "", f"no such suite file or suite name; {_suggest(name_or_path, known)}")


def load_suite(name_or_path: str | Path) -> Suite:
    """Parse and validate a suite given by path or by name (``suites/<name>.toml``)."""
    path = resolve_suite_path(str(name_or_path))
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(str(path), "", f"cannot read suite file ({exc})") from exc
    return parse_suite(text, str(path))


def available_suites(search: list[Path] | None = None) -> dict[str, Path]:
    dirs = search or [Path.cwd() / "suites", Path(__file__).resolve().parent.parent / "suites"]
    out: dict[str, Path] = {}
    for d in reversed(dirs):
        if d.is_dir():
            out.update({q.stem: q for q in sorted(d.glob("*.toml"))})
    return out
