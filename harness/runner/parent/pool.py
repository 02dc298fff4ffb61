"""The parent's side of worker processes: start one, send it a case, wait with a time limit.

:class:`Worker` starts a process running :func:`harness.runner.worker.main.worker_main`
(``spawn``), sends it messages and waits for the answer; :class:`WorkerPool` keeps
at most one live worker and replaces it when a case needs another device
configuration. The child side lives in :mod:`harness.runner.worker.main`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.collectors.base import CollectorConfig
from harness.components.devices import DeviceConfig
from harness.run_meta import WorkerPolicy
from harness.runner import lifeline
from harness.runner.exits import describe_exit, is_noise
from harness.runner.parent.options import (
    DEFAULT_MAX_CASES,
    DEFAULT_MAX_RSS_MIB,
    DEFAULT_WORKER_MODE,
)
from harness.runner.worker.main import worker_main

log = logging.getLogger(__name__)

_CTX = mp.get_context("spawn")
STARTUP_TIMEOUT_S = 300.0  # importing TensorFlow on a loaded machine


@dataclass
class Outcome:
    """What waiting for a case produced: a result, or how the worker ended."""

    kind: str  # result | timeout | crashed
    payload: Any = None
    detail: str = ""


class Worker:
    """A worker process for one device configuration (the leader of its own process group)."""

    def __init__(self, device: DeviceConfig, log_dir: Path, run_id: str, collector_config: CollectorConfig | None,
                 startup_timeout_s: float = STARTUP_TIMEOUT_S, mode: str = "fork") -> None:
        self.device = device
        self.startup_timeout_s = startup_timeout_s
        log_dir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = log_dir / f"worker-{time.time_ns()}.log"
        self.conn, child = _CTX.Pipe()
        self.proc = _CTX.Process(target=worker_main, daemon=True,
                                 args=(child, device, str(self.stderr_path), run_id, collector_config, os.getpid(),
                                       mode))
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
        text = "\n".join(ln for ln in data.decode(errors="replace").splitlines() if not is_noise(ln))
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


@dataclass(frozen=True)
class RecyclePolicy:
    """How cases use a worker (``mode``) and when a worker is replaced by a fresh one, between two cases.

    ``mode = "fork"`` (default): each case runs in a child forked from the worker,
    which imported TensorFlow but never started its runtime, so a case finds
    nothing of the previous ones and the worker does not grow
    (:mod:`harness.runner.worker.main`); ``"reuse"``: cases run in the worker
    process itself, which saves TensorFlow's runtime start-up per case and
    accumulates state, bounded by the limits below.

    TensorFlow keeps part of what every case builds (its traced functions'
    graphs and their function-library entries stay alive after the model, the
    optimizer and the functions are gone: tensorflow/tensorflow#62854), so a
    worker's memory grows with every case. A worker therefore serves at most
    ``max_cases`` cases, and is replaced once its resident set after a case
    exceeds ``max_rss_bytes``. ``None`` switches a limit off. The defaults were
    chosen by measurement (docs/reliability.md, ``scripts/bench_worker_drift.py``):
    a fresh worker costs a few seconds of start-up, and the memory a worker
    may gain stays a small part of the machine's.
    """

    max_cases: int | None = DEFAULT_MAX_CASES
    max_rss_bytes: int | None = int(DEFAULT_MAX_RSS_MIB * 2**20)
    mode: str = DEFAULT_WORKER_MODE

    def reason(self, served: int, rss_bytes: float | None) -> str | None:
        """Why a worker that served ``served`` cases and holds ``rss_bytes`` must go (None: keep it)."""
        if self.max_cases is not None and served >= self.max_cases:
            return f"served {served} cases (limit {self.max_cases})"
        if self.max_rss_bytes is not None and rss_bytes is not None and rss_bytes > self.max_rss_bytes:
            return (f"resident set {rss_bytes / 2**20:.0f} MiB after its last case "
                    f"(limit {self.max_rss_bytes / 2**20:.0f} MiB)")
        return None

    def describe(self) -> WorkerPolicy:
        """What ``run.json`` records of the policy."""
        return WorkerPolicy(mode=self.mode, max_cases=self.max_cases,
                            max_rss_mib=None if self.max_rss_bytes is None else self.max_rss_bytes / 2**20)


class WorkerPool:
    """At most one live worker; replaced when a case needs another device configuration,
    or when the :class:`RecyclePolicy` says it has served enough."""

    def __init__(self, log_dir: Path, run_id: str, cfg: CollectorConfig | None,
                 policy: RecyclePolicy | None = None) -> None:
        self.log_dir, self.run_id, self.cfg = log_dir, run_id, cfg
        self.policy = policy or RecyclePolicy()
        self.current: Worker | None = None
        self.info: dict[str, Any] = {}
        self.served = 0  # cases the current worker has run
        self.started = 0  # workers started by this pool
        self.recycled: list[str] = []  # why each recycled worker was replaced

    def retarget(self, log_dir: Path, run_id: str, cfg: CollectorConfig | None) -> None:
        """New settings for the run, passed on to the live (preflight) worker so it is reused."""
        self.log_dir, self.run_id, self.cfg = log_dir, run_id, cfg
        live = self.current is not None and self.current.proc.is_alive()
        if live and self.current.request(("setup", run_id, cfg), timeout_s=60).kind != "result":
            self.close(kill=True)

    def get(self, key: DeviceConfig) -> Worker:
        if self.current is not None and (self.current.device != key or not self.current.proc.is_alive()):
            self.close()
        if self.current is None:
            self.current = Worker(key, self.log_dir, self.run_id, self.cfg, mode=self.policy.mode)
            self.served = 0
            self.started += 1
        return self.current

    def case_done(self, row: dict[str, Any]) -> None:
        """Count a finished case; replace the worker now if the policy says so (outside any timing)."""
        if self.current is None:
            return
        self.served += 1
        rss = row.get("worker_rss_after_bytes")
        why = self.policy.reason(self.served, float(rss) if rss is not None and rss == rss else None)
        if why:
            log.info("recycling worker %s: %s", self.current.pid, why)
            self.recycled.append(why)
            self.close()

    def describe(self) -> WorkerPolicy:
        """The policy and what it did, for ``run.json``."""
        return dataclasses.replace(self.policy.describe(), started=self.started, recycled=len(self.recycled),
                                   recycle_reasons=self.recycled[-20:])

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
