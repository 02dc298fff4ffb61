"""Suites: TOML files parsed, validated and expanded into cases. No TensorFlow here.

Shape (the contract; see README.md)::

    [suite]     name, description, and run-level settings (collectors, ...)
    [defaults]  case keys applied to every case
    [matrix]    case keys with lists of values: their cartesian product
    [[exclude]] tables of case keys: drop matching matrix combinations
    [[include]] tables of case keys: extra single cases (on top of [defaults])
    [cluster]   optional: an existing cluster to join (distribution strategies)
    [gate]      optional: what `harness compare` gates on (primary, metrics, threshold, alpha)

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

import functools
import hashlib
import itertools
import json
import logging
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from harness.axis import AxisValue
from harness.components import batching, datasets, models
from harness.errors import SuiteError
from harness.suite.keys import (
    CASE_KEYS,
    SUITE_KEYS,
    TOP_KEYS,
    _check_keys,
    _float,
    _settings,
    _table,
    check_gate,
    suggest,
)

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "dataset": AxisValue("mnist-sample"),
    "epochs": 3,
    "batch_size": 128,
    "learning_rate": 0.001,
    "repeats": 1,
    "seed": 0,
    "engine": "fast",
    "precision": "float32",
    "strategy": AxisValue("default"),
    "device": "cpu",
    "optimizer": AxisValue("adam"),
    "schedule": AxisValue("constant"),
    "target_accuracy": 0.9,
    "time_limit_s": None,
    "steps_per_execution": None,
    "jit_compile": None,
    "profile": False,
    "collectors": None,
    "model": AxisValue(models.DEFAULT),
}

COMPONENT_AXES = ("dataset", "optimizer", "schedule", "strategy", "model")
# axes that identify a configuration (repeats, limits and profiling do not)
IDENTITY_AXES = (
    "dataset", "epochs", "batch_size", "learning_rate", "seed", "engine", "precision",
    "strategy", "device", "optimizer", "schedule", "steps_per_execution", "jit_compile",
)


@dataclass(frozen=True)
class Case:
    """One configuration to run ``repeats`` times. Component axes are :class:`AxisValue`."""

    suite: str
    dataset: AxisValue
    epochs: int
    batch_size: int
    learning_rate: float
    repeats: int
    seed: int
    engine: str
    precision: str
    strategy: AxisValue
    device: str
    optimizer: AxisValue
    schedule: AxisValue
    target_accuracy: float
    time_limit_s: float | None = None
    steps_per_execution: int | None = None
    jit_compile: bool | None = None
    profile: bool = False
    label: str = ""
    cluster: dict[str, Any] | None = None
    collectors: tuple[str, ...] | None = None  # per-case override of the suite's collectors
    model: AxisValue = AxisValue(models.DEFAULT)  # the workload (harness.components.models)
    stage: str | None = None  # tuning: "trial" or "final" (harness.tuning); None: an ordinary case
    trial: int | None = None  # tuning: the index in the trial sequence (a final case: its winner's)
    tuned_params: str | None = None  # tuning: the sampled values, JSON (they are also in the axes)

    @functools.cached_property
    def case_id(self) -> str:
        """Stable across harness versions: a hash of the identity axes (components: name and params).
        Computed once per case (a plan asks for it many times)."""
        ident = {k: getattr(self, k) for k in IDENTITY_AXES}
        for k in COMPONENT_AXES:
            if k in ident:
                ident[k] = ident[k].identity()
        if self.collectors is not None:  # only an explicit override tells two cases apart
            ident["collectors"] = list(self.collectors)
        if self.model != AxisValue(models.DEFAULT):  # the default model keeps the ids of before the axis
            ident["model"] = self.model.identity()
        if self.stage is not None:  # tuning: an optimizer listed twice under two labels is two (A/A)
            ident["tuning"] = [self.stage, self.optimizer.display]
        blob = json.dumps(ident, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def axis_value(self, key: str) -> Any:
        """The display value of an axis: a component's label or name, else the plain value."""
        v = getattr(self, key)
        return v.display if isinstance(v, AxisValue) else v

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (components as ``{name, label, params}``); :meth:`from_dict` reverses it."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        for k in COMPONENT_AXES:
            out[k] = out[k].to_dict()
        if self.collectors is not None:
            out["collectors"] = list(self.collectors)
        return out

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Case:
        doc = dict(doc)
        doc.setdefault("model", models.DEFAULT)  # a case written before the model axis
        for k in COMPONENT_AXES:
            doc[k] = AxisValue.of(doc[k])
        if doc.get("collectors") is not None:
            doc["collectors"] = tuple(doc["collectors"])
        return cls(**doc)


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


@dataclass
class SuiteSpec:
    """A validated suite before expansion: what :func:`expand` turns into cases.

    Sizing a plan (:mod:`harness.suite.size`) works on this, so that a matrix
    of a million cases is counted without building them.
    """

    name: str
    description: str
    path: str
    text: str
    settings: dict[str, Any]
    base: dict[str, Any]
    axes: dict[str, list[Any]]
    excludes: list[dict[str, Any]]
    includes: list[dict[str, Any]]
    cluster: dict[str, Any] | None = None

    def suite(self, cases: list[Case]) -> Suite:
        return Suite(self.name, self.description, self.path, self.text, cases, self.settings, self.cluster)


# ------------------------------------------------------------------ parsing
def parse_suite(text: str, path: str = "<string>") -> Suite:
    spec = parse_spec(text, path)
    return spec.suite(expand(spec))


def parse_spec(text: str, path: str = "<string>") -> SuiteSpec:
    """Parse and validate every key and value of a suite; nothing is expanded yet."""
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
    cluster = _table(f, "cluster", doc["cluster"]) if "cluster" in doc else None
    if "gate" in doc:
        settings["gate"] = check_gate(f, doc["gate"])
    if "tuning" in doc:
        from harness.tuning.space import check_tuning

        settings["tuning"] = check_tuning(f, doc["tuning"], axes)
    return SuiteSpec(name, desc, f, text, settings, base, axes, _entries(f, doc, "exclude"),
                     _entries(f, doc, "include"), cluster)


def iter_combos(spec: SuiteSpec, used: list[bool] | None = None) -> Iterator[tuple[tuple[int, ...], dict]]:
    """(value index per axis, case keys) of every matrix combination no exclude matches."""
    keys = list(spec.axes)
    for idx in itertools.product(*(range(len(v)) for v in spec.axes.values())):
        combo = {**spec.base, **{k: spec.axes[k][i] for k, i in zip(keys, idx, strict=True)}}
        hits = [i for i, ex in enumerate(spec.excludes) if _matches(combo, ex)]
        if used is not None:
            for i in hits:
                used[i] = True
        if not hits:
            yield idx, combo


def expand(spec: SuiteSpec) -> list[Case]:
    """The cases of ``spec``, in matrix order then includes; linear in their number."""
    f = spec.path
    used = [False] * len(spec.excludes)
    combos, seen_idx = [], [set() for _ in spec.axes]
    for idx, combo in iter_combos(spec, used):
        combos.append(combo)
        for seen, i in zip(seen_idx, idx, strict=True):
            seen.add(i)
    for i in (i for i, u in enumerate(used) if not u):
        log.warning("%s: exclude[%d] matches no combination of the matrix", f, i)
    combos += [{**spec.base, **inc} for inc in spec.includes]
    if not combos:
        raise SuiteError(f, "matrix", "the suite expands to no cases (everything excluded?)")
    varying = _varying(spec, seen_idx, matrix_cases=len(combos) - len(spec.includes))
    cases, seen, checked = [], set(), set()
    tuned = "tuning" in spec.settings  # trials of two labels of one optimizer are two sweeps (A/A)
    for c in combos:
        case = make_case(spec, c, varying)
        key = (case.case_id, case.optimizer.display if tuned else None)
        if key in seen:
            continue
        seen.add(key)
        check = (case.optimizer.name, _canonical(case.dataset), case.batch_size, case.model.name)
        if check not in checked:
            checked.add(check)
            _check_case(f, case)
        cases.append(case)
    if "tuning" in spec.settings:  # every case becomes its sequence of trials (harness.tuning)
        from harness.tuning.trials import trial_cases

        return trial_cases(spec, cases)
    return cases


def make_case(spec: SuiteSpec, combo: dict[str, Any], varying: list[str]) -> Case:
    """One combination of case keys as a Case (an optimizer's own rate becomes the case's)."""
    c = dict(combo)
    opt_params = c["optimizer"].params
    if "learning_rate" in opt_params:  # an optimizer's own rate is the case's initial rate
        c["learning_rate"] = _float(spec.path, "optimizer.learning_rate", opt_params["learning_rate"], 0.0)
        c["optimizer"] = replace(c["optimizer"], params={k: v for k, v in opt_params.items() if k != "learning_rate"})
    return Case(suite=spec.name, cluster=spec.cluster, label=_label(c, varying), **c)


def _varying(spec: SuiteSpec, seen_idx: list[set[int]], matrix_cases: int) -> list[str]:
    """Case keys taking more than one value among the combinations (from the axes, not per case)."""
    values: dict[str, set[str]] = {}
    for (k, vals), seen in zip(spec.axes.items(), seen_idx, strict=True):
        values[k] = {_canonical(vals[i]) for i in seen}
    for inc in spec.includes:
        for k in CASE_KEYS:
            values.setdefault(k, {_canonical(spec.base[k])} if matrix_cases else set())
            values[k].add(_canonical(inc.get(k, spec.base[k])))
    return [k for k in CASE_KEYS if len(values.get(k, ())) > 1]


def _canonical(value: Any) -> str:
    return json.dumps(value.to_dict() if isinstance(value, AxisValue) else value, sort_keys=True, default=str)


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
        if isinstance(want, AxisValue) and isinstance(have, AxisValue):
            if want.name != have.name or (want.params and want.params != have.params):
                return False
        elif have != want:
            return False
    return True


def _label(case: dict[str, Any], varying: list[str]) -> str:
    """Display name: the values of the axes that vary in the suite, components first."""
    named = ["model", "optimizer", "schedule", "engine", "strategy", "device", "precision", "dataset"]
    keys = [k for k in named if k in varying] + [k for k in varying if k not in named]
    keys = [k for k in keys if k not in ("repeats", "time_limit_s", "profile")] or ["optimizer"]
    parts = []
    for k in keys:
        v = case[k]
        if isinstance(v, AxisValue):
            v = v.display
        if k == "collectors":
            v = "default" if v is None else "+".join(v) or "none"
        parts.append(str(v) if k in named else f"{k}={v}")
    return "/".join(parts)


def _check_case(f: str, case: Case) -> None:
    shape = datasets.input_shape(case.dataset.name, case.dataset.params)
    problem = models.shape_problem(case.model.name, shape)
    if problem:
        raise SuiteError(f, f"case {case.label}: model", f"{problem} (dataset {case.dataset.name!r})")
    n_train = datasets.train_size(case.dataset.name, case.dataset.params)
    problem = batching.batch_size_problem(case.optimizer.name, case.batch_size, n_train, case.dataset.name)
    if problem:
        raise SuiteError(f, f"case {case.label}: batch_size", problem)


def resolve_suite_path(name_or_path: str, search: list[Path] | None = None) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.exists():
            raise SuiteError(str(p), "", "suite file does not exist")
        return p
    dirs = search or [Path.cwd() / "suites", Path(__file__).resolve().parents[2] / "suites"]
    for d in dirs:
        if (d / f"{name_or_path}.toml").exists():
            return d / f"{name_or_path}.toml"
    known = sorted({q.stem for d in dirs if d.is_dir() for q in d.glob("*.toml")})
    raise SuiteError(name_or_path, "", f"no such suite file or suite name; {suggest(name_or_path, known)}")


def load_suite(name_or_path: str | Path) -> Suite:
    """Parse and validate a suite given by path or by name (``suites/<name>.toml``)."""
    spec = load_spec(name_or_path)
    return spec.suite(expand(spec))


def load_spec(name_or_path: str | Path) -> SuiteSpec:
    """Parse and validate a suite file without expanding it (see :mod:`harness.suite.size`)."""
    path = resolve_suite_path(str(name_or_path))
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(str(path), "", f"cannot read suite file ({exc})") from exc
    return parse_spec(text, str(path))


def available_suites(search: list[Path] | None = None) -> dict[str, Path]:
    dirs = search or [Path.cwd() / "suites", Path(__file__).resolve().parents[2] / "suites"]
    out: dict[str, Path] = {}
    for d in reversed(dirs):
        if d.is_dir():
            out.update({q.stem: q for q in sorted(d.glob("*.toml"))})
    return out
