"""Checks that need the worker's libraries: custom classes, IDX files, batch vs dataset size."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from harness.suite import parse_suite
from tests.helpers.cli import run_cli, tiny_suite


def write_idx(path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def idx_folder(tmp_path, n_train=64, n_test=16):
    folder = tmp_path / "idx"
    folder.mkdir()
    rng = np.random.default_rng(0)
    write_idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 255, (n_train, 28, 28)))
    write_idx(folder / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, n_train))
    write_idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 255, (n_test, 28, 28)))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, n_test))
    return folder


def problems(text: str, path: str = "pf.toml"):
    from harness.runner.worker.execute import WorkerState
    from harness.runner.worker.preflight import preflight

    return preflight(parse_suite(text, path).cases, WorkerState())


@pytest.mark.slow  # imports TensorFlow/Keras in the test process
def test_preflight_reports_each_kind_of_bad_component(tmp_path, monkeypatch):
    from tests.helpers.cli import SUPPORT

    monkeypatch.syspath_prepend(str(SUPPORT))
    folder = idx_folder(tmp_path)
    ok = f'[defaults]\ndataset = {{ name = "idx", path = "{folder}" }}\nbatch_size = 32\n'
    assert problems(ok) == []

    found = problems(f'[defaults]\ndataset = {{ name = "idx", path = "{folder}" }}\nbatch_size = 100\n')
    # 64 training images, 11 of them held out for validation (1/6 by default): 53 left to train on
    assert found == [("adam", "batch_size", "batch_size=100 is larger than the 53 training examples of "
                      "dataset 'idx'; expected batch_size <= 53")]

    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x10abc"))
    ((_, key, msg),) = problems(ok)
    assert key == "dataset" and "t10k-labels-idx1-ubyte.gz" in msg and "holds 3 bytes" in msg
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage, not gzip")
    ((_, key, msg),) = problems(ok)
    assert key == "dataset" and "t10k-labels-idx1-ubyte.gz: cannot read IDX file" in msg

    tiny = '[defaults]\ndataset = { name = "synthetic", n_train = 256, n_test = 16 }\n'
    ((_, key, msg),) = problems(tiny + 'optimizer = "no_such_module_xyz:Opt"\n')
    assert key == "optimizer" and "cannot import module 'no_such_module_xyz'" in msg
    ((_, key, msg),) = problems(tiny + 'optimizer = "reliability_optimizers:Nope"\n')
    assert "has no attribute 'Nope'" in msg
    ((_, key, msg),) = problems(tiny + 'optimizer = "tests.helpers.cli:ROOT"\n')
    assert "not a class or factory" in msg
    ((_, key, msg),) = problems(tiny + 'optimizer = { name = "adam", betta_1 = 0.9 }\n')
    assert key == "optimizer" and "betta_1" in msg


@pytest.mark.slow
def test_run_with_a_bad_custom_optimizer_exits_2_and_writes_nothing(tmp_path):
    suite = tiny_suite(tmp_path, '[matrix]\noptimizer = ["adam", "no_such_module_xyz:Opt"]\n', "badimport")
    results = tmp_path / "results"
    proc = run_cli("run", str(suite), "--results-dir", str(results), "--no-progress")
    assert proc.returncode == 2, proc.stderr
    assert f"{suite}: case no_such_module_xyz:Opt: optimizer: cannot import module 'no_such_module_xyz'" in proc.stderr
    assert not results.exists()


@pytest.mark.slow
def test_optimizer_that_segfaults_when_built_is_reported_before_anything_runs(tmp_path):
    suite = tiny_suite(tmp_path, '[matrix]\noptimizer = ["adam", "reliability_optimizers:SegfaultOnBuild"]\n',
                       "segvbuild")
    results = tmp_path / "results"
    proc = run_cli("run", str(suite), "--results-dir", str(results), "--no-progress")
    assert proc.returncode == 2, proc.stderr
    assert "case reliability_optimizers:SegfaultOnBuild" in proc.stderr
    assert "crashed while building" in proc.stderr and "SIGSEGV" in proc.stderr
    assert not results.exists()
