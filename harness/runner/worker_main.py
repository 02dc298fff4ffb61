"""The worker process's side (the child): configure TensorFlow's devices, then serve cases.

Started by :class:`harness.runner.pool.Worker` (``spawn``: a clean interpreter,
TensorFlow imported once per worker, not per case). The child's stderr goes to
a file so that a crash's last words can be recorded; it answers ``run``,
``setup`` and ``preflight`` messages until told to ``stop``.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import sys
from typing import Any

from harness.collectors.base import CollectorConfig
from harness.components.devices import DeviceConfig
from harness.runner import lifeline


def worker_main(conn: Any, device: DeviceConfig, stderr_path: str, run_id: str,
                collector_config: CollectorConfig | None,
                parent_pid: int | None = None) -> None:
    """The worker process: its own process group, dies with the runner, serves cases until told to stop."""
    lifeline.become_group_leader()
    lifeline.die_with_parent(parent_pid)
    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    faulthandler.enable()  # a segfault's Python traceback goes to the stderr log
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt stops
    from harness.components import devices
    from harness.runner.execute import WorkerState, execute

    devices.configure(device)
    state = WorkerState(run_id=run_id, collector_config=collector_config)
    conn.send(("hello", _runtime_info()))
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
            conn.send(("result", execute(case, repeat, state)))
        elif msg[0] == "setup":
            _, state.run_id, state.collector_config = msg
            conn.send(("ok", None))
        elif msg[0] == "preflight":
            from harness.runner.preflight import preflight

            conn.send(("preflight", preflight(msg[1], state)))


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
