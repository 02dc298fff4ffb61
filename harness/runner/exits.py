"""How a worker process ended, in words, and which of its stderr lines are noise."""

from __future__ import annotations

import signal


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


def is_noise(line: str) -> bool:
    """TensorFlow's start-up chatter, left out of stderr tails."""
    if line.startswith("Extension modules:"):  # faulthandler's list of ~200 modules after a crash
        return True
    return any(s in line for s in ("I0000", "W0000 ", "cpu_feature_guard", "To enable the following",
                                   "absl::InitializeLog", "oneDNN custom operations", "cuda drivers"))
