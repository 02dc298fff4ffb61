"""Multi-process cases: start a cluster of processes for one case, supervise it, stop it.

For ``multi_worker_mirrored`` (W workers) and ``parameter_server`` (a
coordinator, W workers, P servers) without a user cluster, the harness starts
every process on this host, on loopback addresses with free ports, each with
its own ``TF_CONFIG`` and in its own process group. The supervisor (this
process, which does not import TensorFlow) runs the collectors once for the
host, over all the case's processes, following the window events of the
reporting process; it ends the case when the reporting process has written its
result, when any process dies (``crashed``), or at the time limit
(``timeout``), and then kills every process group: no process outlives its case.

With a user cluster (``TF_CONFIG`` in the environment, or the suite's
``[cluster]`` table plus ``HARNESS_TASK=type:index``) only this host's task is
started, with that ``TF_CONFIG``; see docs/distributed.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from harness.axis import AxisValue
from harness.collectors.base import CollectorConfig
from harness.components import compat, devices, strategies
from harness.results.store import CaseResult
from harness.runner.case_row import CaseRow
from harness.runner.cluster.outcome import ClusterOutcome, ClusterWindow
from harness.runner.cluster.rows import ClusterContext, assemble, read_result
from harness.runner.cluster.spec import dump_spec
from harness.runner.parent.plan import Task
from harness.runner.worker.hooks import ClusterMeters, CollectorHooks, MeteredHooks
from harness.suite import Case

log = logging.getLogger(__name__)

POLL_S = 0.02  # window events reach the collectors within this delay


@dataclass
class Proc:
    task_type: str
    index: int
    role: str  # train | serve
    popen: subprocess.Popen
    log_path: Path
    result_path: Path

    @property
    def name(self) -> str:
        return f"{self.task_type}:{self.index}"


def free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1 (bound then released)."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def loopback_cluster(strategy: AxisValue) -> dict[str, list[str]]:
    shape = strategies.cluster_shape(strategy)
    ports = iter(free_ports(sum(shape.values())))
    return {t: [f"localhost:{next(ports)}" for _ in range(n)] for t, n in shape.items()}


def external_task(case: Case) -> tuple[dict[str, list[str]], tuple[str, int]] | None:
    """The user's cluster and this host's task, from TF_CONFIG or the suite's [cluster] table."""
    if "TF_CONFIG" in os.environ:
        conf = json.loads(os.environ["TF_CONFIG"])
        return conf["cluster"], (conf["task"]["type"], int(conf["task"]["index"]))
    if case.cluster:
        spec = {k: list(v) for k, v in case.cluster.items() if k in ("chief", "worker", "ps")}
        task = os.environ.get("HARNESS_TASK", "")
        ttype, _, idx = task.partition(":")
        if ttype not in spec or not idx.isdigit():
            raise ValueError(f"the suite's [cluster] needs HARNESS_TASK=type:index for this host "
                             f"(one of {sorted(spec)}), got {task!r}")
        return spec, (ttype, int(idx))
    return None


def _role(strategy: str, task_type: str) -> str:
    if strategy == "parameter_server" and task_type != "chief":
        return "serve"
    return "train"


def _reporter(strategy: str, cluster: dict[str, list[str]]) -> tuple[str, int]:
    return ("chief", 0) if strategy == "parameter_server" else ("worker", 0)


def _start(case: Case, repeat: int, run_id: str, cluster: dict, task: tuple[str, int], folder: Path,
           reporter: bool) -> Proc:
    ttype, idx = task
    role = _role(case.strategy.name, ttype)
    base = folder / f"{ttype}{idx}"
    spec = {"case": case, "repeat": repeat, "run_id": run_id, "role": role, "task_type": ttype,
            "task_index": idx, "device_config": devices.device_config(case.device if ttype != "ps" else "cpu"),
            "result_path": str(base) + ".result.json", "events_path": str(folder / "events.jsonl") if reporter else None}
    dump_spec(spec_path := Path(str(base) + ".spec.json"), spec)
    env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": ttype, "index": idx}}),
           "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    root = str(Path(__file__).resolve().parents[3])  # the checkout holding harness/
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    log_path = Path(str(base) + ".log")
    with open(log_path, "ab") as err:
        popen = subprocess.Popen([sys.executable, "-m", "harness.runner.cluster.task", str(spec_path)],
                                 stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env, cwd=root,
                                 start_new_session=True)
    return Proc(ttype, idx, role, popen, log_path, Path(spec["result_path"]))


def stop_all(procs: list[Proc]) -> None:
    """Kill every process group of the case and reap the processes."""
    for p in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.popen.pid, signal.SIGKILL)
    for p in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.popen.wait(10)


def run_cluster_case(task: Task, run_dir: Path, limit: float, cfg: CollectorConfig | None) -> CaseResult:
    """Run one multi-process case x repeat; always returns one row (ok, failed, crashed, timeout...)."""
    case, t0 = task.case, time.perf_counter()
    row = CaseRow.for_case(case, task.repeat, run_dir.name)
    folder = Path(run_dir) / "cluster" / task.key
    folder.mkdir(parents=True, exist_ok=True)
    ext = external_task(case)
    if ext is None:
        cluster, mine, kind = loopback_cluster(case.strategy), None, "loopback"
    else:
        cluster, mine, kind = ext[0], ext[1], "external"
    reporter = _reporter(case.strategy.name, cluster)
    reason = compat.case_skip_reason(case, len(cluster.get("worker", [])))
    if reason:
        row.set("outcome", status="skipped", error=reason, wall_s=time.perf_counter() - t0)
        row.set("setup", cluster=kind, num_workers=len(cluster.get("worker", [])) or 1)
        return CaseResult(case=row)
    tasks = [(t, i) for t, addrs in cluster.items() for i in range(len(addrs))] if mine is None else [mine]
    if mine is not None and _role(case.strategy.name, mine[0]) == "serve":
        row.set("outcome", status="skipped", error=f"this host is {mine[0]}:{mine[1]} of a parameter-server "
                "cluster: run `python -m harness.runner.cluster.task --serve` here; the suite runs on the chief's "
                "host", wall_s=time.perf_counter() - t0)
        return CaseResult(case=row)
    procs: list[Proc] = []
    hooks, outcome = None, ClusterOutcome("crashed", error="the cluster's processes could not be started")
    try:
        for t in tasks:
            procs.append(_start(case, task.repeat, run_dir.name, cluster, t, folder, t == reporter))
        # each loopback process places its replica on its first visible GPU: GPU 0 is the one charged
        collect = CollectorHooks(replace(cfg, pids=tuple(p.popen.pid for p in procs)) if cfg is not None else None,
                                 case.device, case.collectors, replicas=1)
        hooks = MeteredHooks(collect, ClusterMeters({p.name: p.popen.pid for p in procs}))
        outcome = _supervise(procs, folder / "events.jsonl", hooks, limit)
    except OSError as exc:
        outcome.error += f": {exc}"
    finally:
        stop_all(procs)
    ctx = ClusterContext(cluster, kind, reporter, limit, time.perf_counter() - t0)
    return assemble(row, procs, outcome, hooks, ctx)


def _supervise(procs: list[Proc], events: Path, hooks: MeteredHooks, limit: float) -> ClusterOutcome:
    """Wait for the case to end; forward window events to the collectors."""
    deadline, offset, window = time.monotonic() + limit, 0, ClusterWindow()
    trainers = [p for p in procs if p.role == "train"]
    while True:
        offset = _forward_events(events, offset, hooks, window)
        done = [p for p in trainers if p.result_path.exists()]
        if done and any(read_result(p) is None or read_result(p).case.get("status") in ("failed", "skipped")
                        for p in done):
            break
        if len(done) == len(trainers):
            break
        dead = [p for p in procs if p.popen.poll() is not None and not p.result_path.exists()]
        if dead:
            _close_window(hooks, window)
            return ClusterOutcome("crashed", window, who=dead[0])
        if time.monotonic() >= deadline:
            _close_window(hooks, window)
            return ClusterOutcome("timeout", window)
        time.sleep(POLL_S)
    _forward_events(events, offset, hooks, window)
    _close_window(hooks, window)
    return ClusterOutcome("result", window)


def _forward_events(path: Path, offset: int, hooks: MeteredHooks, window: ClusterWindow) -> int:
    try:
        with open(path) as fh:
            fh.seek(offset)
            lines = fh.readlines()
            offset = fh.tell()
    except FileNotFoundError:
        return offset
    for line in lines:
        ev = json.loads(line)
        at = time.perf_counter() - max(0.0, time.time() - float(ev["t"]))  # when it happened, on our clock
        if ev["event"] == "phase" and not window.ended:
            hooks.on_phase(ev["phase"], at=at)
        elif ev["event"] == "window_start" and not window.started:
            window.started = True
            hooks.on_window_start(at=at)
        elif ev["event"] == "epoch_end" and window.started and not window.ended:
            hooks.on_epoch_end(int(ev["epoch"]), at=at)
        elif ev["event"] == "window_end":
            _close_window(hooks, window)
    return offset


def _close_window(hooks: MeteredHooks, window: ClusterWindow) -> None:
    if not window.ended:
        window.ended = True
        hooks.on_window_end()  # also stops a session opened by a compile phase that never reached the window
