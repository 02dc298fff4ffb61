"""Process lifetimes: children die with their parent; a worker and all it started die together.

Two mechanisms, both needed:

* every worker leads its own process group (:func:`become_group_leader`), so the
  runner can end it *and* whatever it started (cluster processes, helpers) with
  one :func:`kill_group`, and a terminal's Ctrl-C reaches only the runner, which
  decides what an interrupt stops;
* every child asks the kernel to kill it when its parent dies
  (:func:`die_with_parent`, Linux ``PR_SET_PDEATHSIG``), plus a watchdog thread
  that notices a changed parent pid on other systems. Then ``kill -9`` of the
  ``harness run`` process leaves no orphan: the worker dies, and the worker's
  own children (which call :func:`die_with_parent` too) die with it.

Python processes started for multi-process cases should call
``die_with_parent()`` first thing; other programs can be started with
``subprocess.Popen(..., **popen_kwargs())``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def become_group_leader() -> bool:
    """Make this process the leader of a new process group (True on success)."""
    try:
        os.setpgid(0, 0)
        return True
    except OSError:
        return False


def die_with_parent(parent_pid: int | None = None, sig: int = signal.SIGKILL) -> None:
    """Have this process killed (``sig``) when its parent exits, however it exits.

    ``parent_pid`` is the pid the parent had when it started us: if the parent is
    already gone (it died before we got here), exit at once.
    """
    parent_pid = parent_pid or os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
                log.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
        except OSError as exc:  # no libc to load: rely on the watchdog below
            log.debug("prctl unavailable: %s", exc)
    if os.getppid() != parent_pid:
        os._exit(1)
    thread = threading.Thread(target=_watch_parent, args=(parent_pid, sig), daemon=True, name="lifeline")
    thread.start()


def _watch_parent(parent_pid: int, sig: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            with contextlib.suppress(OSError):
                if os.getpgid(0) == os.getpid():
                    os.killpg(os.getpid(), sig)  # our group: ourselves and what we started
            os.kill(os.getpid(), sig)


def popen_kwargs() -> dict[str, Any]:
    """Keyword arguments for :class:`subprocess.Popen` so the child dies with this process.

    The child stays in this process's group (so :func:`kill_group` reaches it).
    """
    parent = os.getpid()
    # resolved here, not in the child: between fork and exec only the call itself should run
    prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").prctl if sys.platform.startswith("linux") else None

    def _preexec() -> None:  # runs in the child between fork and exec
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return {"preexec_fn": _preexec, "close_fds": True}


def kill_group(pid: int, sig: int = signal.SIGKILL) -> bool:
    """Signal the process group led by ``pid`` (True if a group was found).

    Only for pids of workers this process started (they lead their own group).
    """
    try:
        os.killpg(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def descendants(pid: int) -> list[int]:
    """Pids of every living descendant of ``pid`` (for tests and diagnostics; needs psutil)."""
    import psutil

    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
