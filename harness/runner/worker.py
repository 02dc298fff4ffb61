"""Worker processes: one case at a time each, reused while the device config allows.

Parent side: :class:`Worker` starts a process (``spawn``: a clean interpreter,
TensorFlow imported once per worker, not per case), sends it a case, and waits
with a time limit. Child side: :func:`worker_main` configures TensorFlow's
devices first, then serves cases until told to stop. The child's stderr goes to
a file so that a crash's last words can be recorded.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import multiprocessing as mp
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.components.devices import DeviceConfig
from harness.runner import lifeline

log = logging.getLogger(__name__)

_CTX = mp.get_context("spawn")
STARTUP_TIMEOUT_S = 300.0  # importing TensorFlow on a loaded machine


@dataclass
class Outcome:
    """What waiting for a case produced: a result, or how the worker ended."""

    kind: str  # result | timeout | crashed
    payload: Any = None
    detail: str = ""


def worker_main(conn: Any, device: DeviceConfig, stderr_path: str, run_id: str, collector_config: Any,
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


class Worker:
    """A worker process for one device configuration (the leader of its own process group)."""

    def __init__(self, device: DeviceConfig, log_dir: Path, run_id: str, collector_config: Any,
                 startup_timeout_s: float = STARTUP_TIMEOUT_S) -> None:
        self.device = device
        self.startup_timeout_s = startup_timeout_s
        log_dir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = log_dir / f"worker-{time.time_ns()}.log"
        self.conn, child = _CTX.Pipe()
        self.proc = _CTX.Process(target=worker_main, daemon=True,
                                 args=(child, device, str(self.stderr_path), run_id, collector_config, os.getpid()))
        self.proc.start()
        child.close()
        self.info: dict[str, Any] = {}
        self.exitcode: int | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid

    def request(self, msg: tuple, timeout_s: float | None) -> Outcome:
        """Send ``msg`` and wait up to ``timeout_s`` for the answer.

        A fresh worker's start-up (importing TensorFlow) has its own limit and does not
        count against ``timeout_s``, which is the case's.
        """
        if not self.info:
            first = self._recv(time.monotonic() + self.startup_timeout_s)
            if first.kind != "result":
                if first.kind == "timeout":
                    first.detail = f"worker did not start within {self.startup_timeout_s:.0f} s"
                return first
            self.info = first.payload[1]
        try:
            self.conn.send(msg)
        except (OSError, ValueError):  # the worker died between two requests
            return self._dead()
        out = self._recv(None if timeout_s is None else time.monotonic() + timeout_s)
        if out.kind == "result":
            out.payload = out.payload[1]
        return out

    def _recv(self, deadline: float | None) -> Outcome:
        while True:
            wait = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
            try:
                if self.conn.poll(wait):
                    return Outcome("result", self.conn.recv())
            except (EOFError, ConnectionResetError, OSError):
                return self._dead()
            if not self.proc.is_alive():
                return self._dead()
            if deadline is not None and time.monotonic() >= deadline:
                return Outcome("timeout")

    def _dead(self) -> Outcome:
        self.proc.join(2)
        self.exitcode = self.proc.exitcode
        return Outcome("crashed", payload=self.exitcode, detail=describe_exit(self.exitcode))

    def stderr_tail(self, n_bytes: int = 4000) -> str:
        try:
            data = self.stderr_path.read_bytes()[-200_000:]
        except OSError:
            return ""
        text = "\n".join(ln for ln in data.decode(errors="replace").splitlines() if not _noise(ln))
        fatal = text.rfind("Fatal Python error:")
        if fatal >= 0:  # faulthandler prints the innermost frame first: keep the head of its report
            return text[fatal:fatal + n_bytes]
        return text[-n_bytes:]

    def stop(self, kill: bool = False) -> None:
        """End the worker and everything in its process group (kill: without asking first)."""
        if self.proc.is_alive() and not kill:
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(("stop",))
            self.proc.join(3)
        if self.pid is not None:
            lifeline.kill_group(self.pid)  # also reaps what the worker started
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


def describe_exit(code: int | None) -> str:
    """``-11`` -> "worker killed by SIGSEGV", ``3`` -> "worker exited with code 3"."""
    if code is None:
        return "worker exited (unknown status)"
    if code < 0:
        name = signal_name(-code)
        hint = " (out of memory? the kernel's OOM killer sends SIGKILL)" if -code == signal.SIGKILL else ""
        return f"worker killed by {name}{hint}"
    return f"worker exited with code {code}"


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _noise(line: str) -> bool:
    """TensorFlow's start-up chatter, left out of stderr tails."""
    if line.startswith("Extension modules:"):  # faulthandler's list of ~200 modules after a crash
        return True
    return any(s in line for s in ("I0000", "W0000 ", "cpu_feature_guard", "To enable the following",
                                   "absl::InitializeLog", "oneDNN custom operations", "cuda drivers"))


class WorkerPool:
    """At most one live worker; replaced when a case needs another device configuration."""

    def __init__(self, log_dir: Path, run_id: str, cfg: Any) -> None:
        self.log_dir, self.run_id, self.cfg = log_dir, run_id, cfg
        self.current: Worker | None = None
        self.info: dict[str, Any] = {}

    def retarget(self, log_dir: Path, run_id: str, cfg: Any) -> None:
        """New settings for the run, passed on to the live (preflight) worker so it is reused."""
        self.log_dir, self.run_id, self.cfg = log_dir, run_id, cfg
        live = self.current is not None and self.current.proc.is_alive()
        if live and self.current.request(("setup", run_id, cfg), timeout_s=60).kind != "result":
            self.close(kill=True)

    def get(self, key: Any) -> Worker:
        if self.current is not None and (self.current.device != key or not self.current.proc.is_alive()):
            self.close()
        if self.current is None:
            self.current = Worker(key, self.log_dir, self.run_id, self.cfg)
        return self.current

    def discard(self, worker: Worker) -> None:
        worker.stop(kill=True)
        if worker is self.current:
            self.current = None

    def close(self, kill: bool = False) -> None:
        if self.current is not None:
            if self.current.info:
                self.info = self.current.info
            self.current.stop(kill=kill)
            self.current = None
