"""Profiling of cases with the TensorFlow profiler (issue 8).

Importing this package never imports TensorFlow or xprof: :mod:`harness.profiling.hooks`
imports the profiler only when a profiled case's window starts, and
:mod:`harness.profiling.convert` imports ``xprof`` only when converting a trace.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PROFILE_STEPS = 20


@dataclass(frozen=True)
class ProfileSettings:
    """What the worker needs to profile a case (sent with the ``run`` message of a profiled case).

    ``root`` is ``results/<run-id>/profiles``; each case x repeat writes its trace to
    ``root/<case_id>-<repeat>/plugins/profile/<timestamp>/<host>.xplane.pb``.
    ``steps`` is the number of optimizer updates to capture after warm-up (the
    profiler stops at the first host call that reaches it, so with K updates per
    call up to K - 1 more are captured).
    """

    root: str
    steps: int = DEFAULT_PROFILE_STEPS
    skip_steps: int = 0  # updates of the timed window before the profiler starts
