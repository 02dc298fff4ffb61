"""Worker processes: one case at a time each, reused while the device config allows.

Parent side: :class:`Worker` starts a process (``spawn``: a clean interpreter,
TensorFlow imported once per worker, not per case), sends it a case, and waits
with a time limit. Child side: :func:`worker_main` configures TensorFlow's
devices first, then serves cases until told to stop. The child's stderr goes to
a file so that a crash's last words can be recorded.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.components.devices import DeviceConfig

log = logging.getLogger(__name__)

_CTX = mp.get_context("spawn")


@dataclass
class Outcome:
    """What waiting for a case produced: a result, or how the worker ended."""

    kind: str  # result | timeout | crashed
    payload: Any = None
    detail: str = ""


def worker_main(conn: Any, device: DeviceConfig, stderr_path: str, run_id: str, collector_config: Any) -> None:
    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt stops
    from harness.components import devices
    from harness.runner.execute import WorkerState, execute

    devices.configure(device)
    state = WorkerState(run_id=run_id, collector_config=collector_config)
    conn.send(("hello", _runtime_info()))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg[0] == "stop":
            return
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


class Worker:
    """A worker process for one device configuration."""

    def __init__(self, device: DeviceConfig, log_dir: Path, run_id: str, collector_config: Any) -> None:
        self.device = device
        log_dir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = log_dir / f"worker-{time.time_ns()}.log"
        self.conn, child = _CTX.Pipe()
        self.proc = _CTX.Process(target=worker_main, daemon=True,
                                 args=(child, device, str(self.stderr_path), run_id, collector_config))
        self.proc.start()
        child.close()
        self.info: dict[str, Any] = {}
        self.cases = 0

    def request(self, msg: tuple, timeout_s: float | None) -> Outcome:
        """Send ``msg`` and wait for the answer (after the worker's hello, when first)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        if not self.info:
            first = self._recv(deadline)
            if first.kind != "result":
                return first
            self.info = first.payload[1]
        self.conn.send(msg)
        out = self._recv(deadline)
        if out.kind == "result":
            out.payload = out.payload[1]
        return out

    def _recv(self, deadline: float | None) -> Outcome:
        while True:
            wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))
            try:
                if self.conn.poll(wait):
                    return Outcome("result", self.conn.recv())
            except (EOFError, ConnectionResetError, OSError):
                pass
            if not self.proc.is_alive():
                self.proc.join(1)
                return Outcome("crashed", detail=describe_exit(self.proc.exitcode))
            if deadline is not None and time.monotonic() >= deadline:
                return Outcome("timeout")

    def stderr_tail(self, n_bytes: int = 4000) -> str:
        try:
            data = self.stderr_path.read_bytes()
        except OSError:
            return ""
        lines = [ln for ln in data.decode(errors="replace").splitlines() if not _noise(ln)]
        return "\n".join(lines)[-n_bytes:]

    def stop(self, kill: bool = False) -> None:
        if self.proc.is_alive() and not kill:
            with contextlib.suppress(OSError, BrokenPipeError):
                self.conn.send(("stop",))
            self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        self.conn.close()


def describe_exit(code: int | None) -> str:
    if code is None:
        return "worker exited (unknown status)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker killed by {name}" + (" (out of memory?)" if -code == signal.SIGKILL else "")
    return f"worker exited with code {code}"


def _noise(line: str) -> bool:
    """TensorFlow's start-up chatter, left out of stderr tails."""
    return any(s in line for s in ("I0000", "W0000 ", "cpu_feature_guard", "To enable the following",
                                   "absl::InitializeLog", "oneDNN custom operations", "cuda drivers"))
