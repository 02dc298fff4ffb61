"""One process of a multi-process case: ``python -m harness.runner.cluster.task SPEC.json``.

Started by :mod:`harness.runner.cluster.supervise` with ``TF_CONFIG`` in its environment.
Depending on its role it either trains (a ``multi_worker_mirrored`` worker, or
the ``parameter_server`` coordinator, task type ``chief``) through the same
:func:`harness.runner.worker.execute.execute` as an ordinary worker, writing its
:class:`CaseResult` to a JSON file, or serves (a parameter server, or a worker of a
parameter-server cluster) until it is killed.

The training process that reports for the case appends its window events
(``phase``, ``window_start``, ``epoch_end``, ``window_end``, each with its wall-clock time) as JSON lines to a file that
the supervisor tails, so the collectors run once, in the supervisor.

``python -m harness.runner.cluster.task --serve`` runs this host's server of a
real (multi-host) parameter-server cluster described by ``TF_CONFIG``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from harness.results.journal import dump_result
from harness.runner.cluster.spec import load_spec

log = logging.getLogger(__name__)


class EventHooks:
    """Engine hooks that append window events to a file (or do nothing without one)."""

    def __init__(self, path: str | None) -> None:
        self.path = path

    def __call__(self, *_config: Any) -> EventHooks:  # used as WorkerState.hooks_factory
        return self

    def _emit(self, event: str, **extra: Any) -> None:
        if self.path:
            with open(self.path, "a") as fh:
                fh.write(json.dumps({"event": event, "t": time.time(), **extra}) + "\n")

    def on_phase(self, phase: str) -> None:
        self._emit("phase", phase=phase)

    def on_window_start(self) -> None:
        self._emit("window_start")

    def on_epoch_end(self, epoch: int) -> None:
        self._emit("epoch_end", epoch=epoch)

    def after_steps(self, total_steps: int) -> None:
        pass

    def on_window_end(self) -> None:
        self._emit("window_end")

    def finish(self, row: dict, result: Any, examples: int, epochs: int, target_epoch: int | None) -> None:
        """Collector columns are filled by the supervisor, which ran the collectors."""


def _watch_parent() -> None:
    """Exit when the supervisor dies, so no cluster process outlives its case."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def serve(cluster_spec: Any, task_type: str, index: int) -> None:
    """Run a tf.distribute server for this task until killed."""
    import tensorflow as tf

    server = tf.distribute.Server(cluster_spec, job_name=task_type, task_index=index, protocol="grpc", start=True)
    log.info("serving %s:%d at %s", task_type, index, server.target)
    server.join()


def train(spec: dict[str, Any]) -> None:
    """Run the case through execute() and write the CaseResult where the supervisor expects it."""
    from harness.runner.worker.execute import WorkerState, execute

    state = WorkerState(run_id=spec["run_id"], hooks_factory=EventHooks(spec.get("events_path")))
    result = execute(spec["case"], spec["repeat"], state)
    dump_result(Path(spec["result_path"]), result)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from harness.components import devices

    if argv[:1] == ["--serve"]:
        tf_config = json.loads(os.environ["TF_CONFIG"])
        devices.configure(devices.device_config(argv[1] if len(argv) > 1 else "cpu"))
        import tensorflow as tf

        resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
        serve(resolver.cluster_spec(), tf_config["task"]["type"], int(tf_config["task"]["index"]))
        return 0
    spec = load_spec(Path(argv[0]))
    if spec.get("watch_parent", True):
        _watch_parent()
    devices.configure(spec["device_config"])
    if spec["role"] == "serve":
        import tensorflow as tf

        resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
        serve(resolver.cluster_spec(), spec["task_type"], spec["task_index"])
    else:
        train(spec)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
