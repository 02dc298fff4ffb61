"""The worker process's side (the child): configure TensorFlow's devices, then serve cases.

Started by :class:`harness.runner.parent.pool.Worker` (``spawn``: a clean interpreter,
TensorFlow imported once per worker, not per case). The child's stderr goes to
a file so that a crash's last words can be recorded; it answers ``run``,
``setup`` and ``preflight`` messages until told to ``stop``.

Two modes (``RecyclePolicy.mode`` in :mod:`harness.runner.parent.pool`):

* ``fork`` (default): the worker imports TensorFlow, Keras and the engines but
  never starts TensorFlow's runtime (no eager context, no thread pools, no
  device); each case (and each preflight) runs in a child forked from it, which
  configures the devices, runs, answers on the same pipe and exits. Every case
  starts from the same process image, so nothing one case builds (traced
  graphs, XLA executables: TensorFlow's compilation cache has no eviction,
  tensorflow/tensorflow#64170) reaches the next: pyperf's "fresh process per
  measurement" without paying the interpreter and TensorFlow import each time.
  Datasets are loaded by the worker (NumPy only) so children share them.
* ``reuse``: cases run in the worker process itself (the state they leave
  behind is bounded by recycling, see ``harness.runner.parent.pool.RecyclePolicy``).
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any

from harness.collectors.base import CollectorConfig
from harness.components.devices import DeviceConfig
from harness.runner import lifeline


def worker_main(conn: Any, device: DeviceConfig, stderr_path: str, run_id: str,
                collector_config: CollectorConfig | None,
                parent_pid: int | None = None, mode: str = "fork") -> None:
    """The worker process: its own process group, dies with the runner, serves cases until told to stop."""
    lifeline.become_group_leader()
    lifeline.die_with_parent(parent_pid)
    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    faulthandler.enable()  # a segfault's Python traceback goes to the stderr log
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt stops
    from harness.components import devices
    from harness.runner.worker.execute import WorkerState, execute

    if mode == "fork":
        mode = _prepare_zygote()
    serve = _Server(conn, device, mode)
    if mode == "reuse":
        devices.configure(device)
    state = WorkerState(run_id=run_id, collector_config=collector_config, worker_pid=os.getpid())
    if mode == "reuse":  # cases of one configuration share its compiled program (trials, final seeds)
        from harness.runner.worker.programs import Programs

        state.programs = Programs()
    serve(lambda: ("hello", {**_runtime_info(), "worker_mode": mode}))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            _exit(0)
        if msg[0] == "stop":
            _exit(0)
        if msg[0] == "run":
            _, case, repeat, *profile = msg
            state.profile = profile[0] if profile else None
            if mode == "fork":
                _preload(state, case)
            serve(lambda c=case, r=repeat: ("result", execute(c, r, state)))
            state.cases_done += mode == "fork"  # the child's count died with it
        elif msg[0] == "setup":
            _, state.run_id, state.collector_config = msg
            conn.send(("ok", None))
        elif msg[0] == "peak_probe":
            from harness.engines.peak import peak_probe

            serve(lambda: ("peak_probe", peak_probe()))
        elif msg[0] == "preflight":
            from harness.runner.worker.preflight import preflight

            serve(lambda m=msg: ("preflight", preflight(m[1], state)))


class _Server:
    """Answers a request: in this process (``reuse``) or in a child forked for it (``fork``)."""

    def __init__(self, conn: Any, device: DeviceConfig, mode: str) -> None:
        self.conn, self.device, self.mode = conn, device, mode

    def __call__(self, answer: Callable[[], Any]) -> None:
        if self.mode != "fork":
            self.conn.send(answer())
            return
        zygote = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: start TensorFlow's runtime here, answer, leave without teardown
            code = 0
            try:
                lifeline.die_with_parent(zygote)
                from harness.components import devices

                devices.configure(self.device)
                self.conn.send(answer())
            except BaseException:  # noqa: BLE001 - reported on stderr, the worker passes the exit on
                traceback.print_exc()
                code = 70
            _exit(code)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):  # die the same way, so the parent records what happened to the case
            sig = os.WTERMSIG(status)
            with contextlib.suppress(OSError, ValueError):  # SIGKILL has no handler to reset
                signal.signal(sig, signal.SIG_DFL)
            sys.stderr.flush()
            os.kill(os.getpid(), sig)
            os._exit(128 + sig)  # a signal that does not end a process by default
        if os.WEXITSTATUS(status):
            _exit(os.WEXITSTATUS(status))


# imported by the worker before it forks, so that each case's child finds them loaded
_PRELOAD = ("tensorflow", "keras", "harness.engines.fast", "harness.engines.keras_fit", "harness.engines.eager", "harness.engines.fast_ps",
            "harness.components.model", "harness.components.optimizers", "harness.components.schedules",
            "harness.components.strategies", "harness.collectors")


def _prepare_zygote() -> str:
    """Import what cases need without starting TensorFlow's runtime; ``reuse`` if it started anyway."""
    import importlib

    for name in _PRELOAD:
        importlib.import_module(name)
    from tensorflow.python.eager import context

    ctx = context.context_safe()
    if ctx is not None and ctx._initialized:  # noqa: SLF001 - no public "is initialised"
        print("worker: TensorFlow's runtime started while importing; cases run in the worker (reuse)",
              file=sys.stderr, flush=True)
        return "reuse"
    return "fork"


def _preload(state: Any, case: Any) -> None:
    """Load the case's dataset in the worker (NumPy only), so every child shares it; errors are the child's."""
    with contextlib.suppress(Exception):
        state.dataset(case.dataset)


def _exit(code: int) -> None:
    """Leave at once: TensorFlow's interpreter teardown takes seconds and there is nothing to save."""
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(code)


def _runtime_info() -> dict[str, Any]:
    import tensorflow as tf

    build = dict(tf.sysconfig.get_build_info())
    return {
        "tensorflow": tf.__version__,
        "cuda_version": build.get("cuda_version"),
        "cudnn_version": build.get("cudnn_version"),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "devices": [d.name for d in tf.config.list_logical_devices()],
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
    }
