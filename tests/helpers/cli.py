"""The CLI in a subprocess (with this checkout and the support optimizers on its path), tiny suites, process checks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.helpers import ROOT
from tests.helpers.suites import write_tiny_suite

SUPPORT = Path(__file__).resolve().parent  # reliability_optimizers, imported by name in spawned workers


def tiny_suite(tmp_path: Path, body: str, name: str = "tiny") -> Path:
    """The tiny suite (fast engine, learning rate 0.01) plus ``body`` ([matrix], [[include]]...)."""
    return write_tiny_suite(tmp_path, body, name, engine="fast", learning_rate=0.01)


def cli_env() -> dict[str, str]:
    """Environment for `python -m harness`: this checkout first, then the support optimizers."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(SUPPORT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def harness_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness", *args]


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(harness_cmd(*args), cwd=ROOT, env=cli_env(), capture_output=True,
                          text=True, timeout=timeout)


def start_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen(harness_cmd(*args, "--no-progress"), cwd=ROOT, env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(cond: Callable[[], object], timeout: float, what: str, proc: subprocess.Popen | None = None,
             poll_s: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"process ended (rc {proc.returncode}) before {what}:\n{out}\n{err}")
        time.sleep(poll_s)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def run_dirs(results: Path) -> list[Path]:
    return sorted(p for p in results.iterdir() if (p / "run.json").exists()) if results.exists() else []


def parts(results: Path) -> list[Path]:
    return sorted(results.glob("*/parts/*.json"))


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def assert_all_gone(procs: list[psutil.Process], timeout: float = 15) -> None:
    """Every process in ``procs`` has exited (zombies count as gone) within ``timeout``."""
    deadline = time.monotonic() + timeout
    alive = procs
    while time.monotonic() < deadline:
        alive = [p for p in alive if _alive(p)]
        if not alive:
            return
        time.sleep(0.2)
    pytest.fail("processes survived: " + ", ".join(f"{p.pid} {_cmd(p)}" for p in alive))


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _cmd(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())[:120]
    except psutil.Error:
        return "?"


def pid_gone(pid: int, timeout: float = 15) -> bool:
    """True once ``pid`` has exited (a zombie nobody reaps yet counts as exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not _alive(psutil.Process(pid)):
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.2)
    return False
