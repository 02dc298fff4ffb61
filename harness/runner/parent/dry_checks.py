"""What ``harness run --dry-run`` checks beyond the suite's own validation, without TensorFlow.

The suite validator knows every key and the schedules' parameters; an
optimizer's keywords belong to the installed Keras class. Importing Keras
would import TensorFlow (seconds), so this reads the class's ``__init__``
signature from Keras' source with :mod:`ast` (the class's own parameters plus
those its base ``BaseOptimizer`` accepts through ``**kwargs``). What only a
real run can check is listed in :data:`RUNTIME_ONLY` and printed by the plan.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
from pathlib import Path

from harness.components import catalog
from harness.suite import Case
from harness.suite.keys import suggest

RUNTIME_ONLY = (
    "optimizer and schedule values Keras rejects only when it builds them (e.g. beta_1 = 2)",
    "custom classes ('module:Class') and the files of datasets given by path",
    "batch sizes against the loaded training set",
    "devices, strategies and precisions this host can run (skipped cases)",
)
CHECKED = "suite keys and values, --filter values, optimizer keywords (from Keras' source)"
_BASE = "base_optimizer.py"


def _keras_dir() -> Path | None:
    spec = importlib.util.find_spec("keras")
    return Path(spec.origin).parent if spec is not None and spec.origin else None


def _init_params(path: Path, class_name: str) -> set[str] | None:
    """Parameter names of ``class_name.__init__`` in ``path`` (None if not found)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    args = item.args
                    return {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]} - {"self"}
    return None


@functools.lru_cache(maxsize=64)
def optimizer_keywords(keras_class: str) -> frozenset[str] | None:
    """Keywords ``keras.optimizers.<keras_class>`` accepts (None when Keras' source can't be read)."""
    root = _keras_dir()
    if root is None:
        return None
    api = root / "optimizers" / "__init__.py"
    match = re.search(rf"from\s+keras\.src\.optimizers\.(\w+)\s+import\s+{keras_class}\b", api.read_text()) \
        if api.exists() else None
    if match is None:
        return None
    own = _init_params(root / "src" / "optimizers" / f"{match.group(1)}.py", keras_class)
    base = _init_params(root / "src" / "optimizers" / _BASE, "BaseOptimizer")
    if own is None or base is None:
        return None
    return frozenset(own | base)


def static_problems(cases: list[Case]) -> list[tuple[str, str, str]]:
    """[(case label, key, message)] for optimizer keywords the installed Keras class does not take."""
    entries = catalog.optimizer_entries()
    problems, seen = [], set()
    for case in cases:
        opt = case.optimizer
        entry = entries.get(opt.name)
        key = (opt.name, tuple(sorted(opt.params)))
        if entry is None or key in seen:
            continue
        seen.add(key)
        allowed = optimizer_keywords(entry.keras_class)
        if allowed is None:
            continue
        for param in opt.params:
            if param not in allowed:
                problems.append((case.label, f"optimizer.{param}",
                                 f"keras.optimizers.{entry.keras_class} takes no keyword {param!r}; "
                                 f"{suggest(param, sorted(allowed - {'learning_rate'}))}"))
    return problems
