"""Start ``tensorboard --logdir`` on loopback for a bounded time and talk to its HTTP data API.

A test tool, for tests/tensorboard and scripts/screenshot_tensorboard.py: the server runs in its own process
group, is always killed when the block ends (or after ``limit_s``), and
:func:`wait_for_runs` waits until it has loaded the runs one expects.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_URL = re.compile(r"TensorBoard [\w.+-]+ at (http://127\.0\.0\.1:\d+/)")


def tensorboard_command() -> list[str]:
    exe = shutil.which("tensorboard")
    return [exe] if exe else [sys.executable, "-m", "tensorboard.main"]


@contextlib.contextmanager
def serve(logdir: Path, start_timeout_s: float = 180, limit_s: float = 600) -> Iterator[str]:
    """Yield the base URL of a TensorBoard serving ``logdir`` on 127.0.0.1 (a free port)."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            ["timeout", "-s", "KILL", str(int(limit_s)), *tensorboard_command(), "--logdir", str(logdir),
             "--host", "127.0.0.1", "--port", "0", "--reload_interval", "1"],
            stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        try:
            yield _wait_for_url(proc, err, start_timeout_s)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # tensorboard and its data server
            proc.wait(timeout=30)


def _wait_for_url(proc: subprocess.Popen, err: Any, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        err.seek(0)
        text = err.read().decode(errors="replace")
        match = _URL.search(text)
        if match:
            return match.group(1)
        if proc.poll() is not None:
            raise RuntimeError(f"tensorboard exited with {proc.returncode}: {text[-2000:]}")
        time.sleep(0.3)
    raise TimeoutError(f"tensorboard did not start within {timeout_s:g} s")


def get(base: str, route: str, timeout_s: float = 30, **query: str) -> Any:
    """GET ``route`` (e.g. ``data/runs``) and decode its JSON (gzip or not)."""
    url = base + route + ("?" + urllib.parse.urlencode(query) if query else "")
    with urllib.request.urlopen(url, timeout=timeout_s) as resp:
        return _decode(resp.read())


def post(base: str, route: str, body: dict[str, Any], timeout_s: float = 30) -> Any:
    req = urllib.request.Request(base + route, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:
        return _decode(resp.read())


def _decode(data: bytes) -> Any:
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return json.loads(data)


def wait_for_runs(base: str, runs: set[str], timeout_s: float = 120) -> list[str]:
    """Poll ``data/runs`` until every name in ``runs`` is served; returns what is served."""
    deadline = time.monotonic() + timeout_s
    served: list[str] = []
    while time.monotonic() < deadline:
        served = get(base, "data/runs")
        if runs <= set(served):
            return served
        time.sleep(0.5)
    raise TimeoutError(f"tensorboard did not load {sorted(runs - set(served))} within {timeout_s:g} s")


def hparams_experiment(base: str) -> dict[str, Any]:
    return post(base, "data/plugin/hparams/experiment", {"experimentName": ""})


def session_groups(base: str, size: int = 1000) -> list[dict[str, Any]]:
    body = {"experimentName": "", "startIndex": 0, "sliceSize": size, "colParams": [],
            "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]}
    return post(base, "data/plugin/hparams/session_groups", body).get("sessionGroups", [])


def scalars(base: str, run: str, tag: str) -> list[tuple[int, float]]:
    """(step, value) of one series, from the Scalars plugin."""
    return [(int(step), float(value)) for _, step, value in
            get(base, "data/plugin/scalars/scalars", run=run, tag=tag)]
