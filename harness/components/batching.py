"""The batch-size rule, in one place: which batch an optimizer's regime uses, and when it is invalid.

No TensorFlow here: the suite checks it against the dataset sizes it knows,
the preflight against the loaded data, and the worker applies it.
"""

from __future__ import annotations

from harness.components import catalog


def regime(optimizer: str) -> str:
    """``minibatch``, ``full_batch`` or ``single_example``; custom optimizers are mini-batch."""
    entry = catalog.optimizer_entries().get(optimizer)
    return entry.regime if entry else "minibatch"


def effective_batch_size(optimizer: str, batch_size: int, n_train: int) -> int:
    """The batch actually used: the whole set for ``gd``, one example for ``sgd``, else ``batch_size``."""
    r = regime(optimizer)
    return n_train if r == "full_batch" else 1 if r == "single_example" else batch_size


def batch_size_problem(optimizer: str, batch_size: int, n_train: int | None, dataset: str) -> str | None:
    """Why ``batch_size`` cannot train on ``n_train`` examples, or None (also when ``n_train`` is unknown).

    Mini-batch semantics need ``batch_size <= n_train``; ``gd`` and ``sgd`` choose
    their own batch, so any ``batch_size`` is fine for them.
    """
    if n_train is None or regime(optimizer) != "minibatch" or batch_size <= n_train:
        return None
    return (f"batch_size={batch_size} is larger than the {n_train} training examples of dataset {dataset!r}; "
            f"expected batch_size <= {n_train}")
