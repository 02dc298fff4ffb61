"""Misbehaving custom optimizers for the reliability tests (imported by worker processes).

Each is a ``keras.optimizers.SGD`` that misbehaves when training applies its
first update (at trace time of the compiled step), not when it is built, so the
runner's preflight passes and the failure happens mid-case. Tests put this
folder on ``PYTHONPATH`` so spawned workers can import ``reliability_optimizers``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time

import keras


class _Misbehaving(keras.optimizers.SGD):
    def apply(self, grads, trainable_variables=None):
        self.misbehave()
        return super().apply(grads, trainable_variables)

    def misbehave(self) -> None:
        raise NotImplementedError


class Segfault(_Misbehaving):
    """Dereferences a null pointer: the worker dies by SIGSEGV."""

    def misbehave(self) -> None:
        ctypes.string_at(0)


class SegfaultOnBuild(keras.optimizers.SGD):
    """Segfaults in its constructor (the runner's preflight builds it)."""

    def __init__(self, *args, **kwargs):
        ctypes.string_at(0)


class Exit3(_Misbehaving):
    """Leaves the worker with ``os._exit(3)``."""

    def misbehave(self) -> None:
        os._exit(3)


class OomKilled(_Misbehaving):
    """Dies by SIGKILL, as the kernel's OOM killer would do it."""

    def misbehave(self) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


class Raises(_Misbehaving):
    """A plain Python exception: the case fails, the worker survives."""

    def misbehave(self) -> None:
        raise RuntimeError("support optimizer raised on purpose")


class Hangs(_Misbehaving):
    """Starts a grandchild process (like a cluster server would), notes its pid, then hangs.

    The grandchild's pid goes to the file named by $HARNESS_TEST_PIDFILE.
    """

    def misbehave(self) -> None:
        child = subprocess.Popen(["sleep", "600"])
        path = os.environ.get("HARNESS_TEST_PIDFILE")
        if path:
            with open(path, "a") as fh:
                fh.write(f"{child.pid}\n")
        time.sleep(600)
