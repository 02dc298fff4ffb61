"""The validation split: carved from a dataset's training arrays, deterministically.

Applied by :func:`harness.components.datasets.load` to whatever arrays a loader
returns (any image shape, any number of classes), so a new dataset gets a
validation part without code of its own. The split is seeded and stratified
by label when every class has at least two examples (else a seeded shuffle),
and keeps the rest of the training data in its original order, so the test
set is never touched and selection (``harness tune``) never reads it.

The size is the dataset's ``validation`` parameter: an integer count of
examples, a fraction in (0, 1), or 0 for none. Defaults follow DeepOBS:
MNIST keeps 10,000 of its 60,000 training digits for validation; other
datasets the same share (1/6) of their training data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MNIST_VALIDATION = 10_000  # DeepOBS' MNIST split: 50,000 / 10,000 / 10,000
DEFAULT_FRACTION = MNIST_VALIDATION / 60_000  # every other dataset: the same share
SPLIT_SEED = 20_190_701  # fixed: the same examples are held out on every machine and every run


def validation_size(n_train: int, params: dict[str, Any] | None) -> int:
    """Examples held out of ``n_train`` for validation, from the ``validation`` parameter.

    Raises ValueError naming the value when it is not a count in [0, n_train - 1]
    or a fraction in [0, 1).
    """
    value = (params or {}).get("validation")
    if value is None:
        return int(round(n_train * DEFAULT_FRACTION))  # MNIST: 10,000 of 60,000
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"validation must be a count or a fraction. Received: validation={value!r}")
    if 0 < value < 1 or (isinstance(value, float) and not value.is_integer()):
        if not 0 <= value < 1:
            raise ValueError(f"validation as a fraction must be in [0, 1). Received: validation={value}")
        return int(round(n_train * value))
    count = int(value)
    if not 0 <= count < n_train:
        raise ValueError(f"validation must leave training data: 0 <= validation < {n_train}. "
                         f"Received: validation={count}")
    return count


def split_indices(labels: np.ndarray, n_val: int, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices) of ``n_val`` held-out examples, both sorted.

    Stratified: each class gives ``n_val`` x its share (largest remainders get
    the rounding), so the validation part has the training part's class mix.
    """
    n = len(labels)
    if n_val <= 0:
        return np.arange(n), np.arange(0)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2 or counts.min() < 2 or len(classes) > n_val:
        val = rng.permutation(n)[:n_val]
    else:
        quota = counts * n_val / n
        take = np.floor(quota).astype(int)
        extra = np.argsort(-(quota - take), kind="stable")[: n_val - take.sum()]
        take[extra] += 1
        val = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:k]
                              for c, k in zip(classes, take, strict=True)])
    val = np.sort(val)
    keep = np.ones(n, bool)
    keep[val] = False
    return np.flatnonzero(keep), val


def split(x: np.ndarray, y: np.ndarray, n_val: int, seed: int = SPLIT_SEED) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_val, y_val): ``n_val`` examples of (x, y) held out (see :func:`split_indices`)."""
    tr, va = split_indices(np.asarray(y), n_val, seed)
    return x[tr], y[tr], x[va], y[va]
