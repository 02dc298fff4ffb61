"""The device's peak memory, for the ``memory`` part of a case's row.

(The worker's ``peak_rss_bytes`` of that part is :class:`harness.runner.worker.case_memory.CaseMemory`'s:
``VmHWM`` reset per case, else the collectors' sampled peak.)

``tf.config.experimental.get_memory_info(device)['peak']`` is the allocator's
peak since the last ``reset_memory_stats``; the worker resets it before a case's
engine runs and reads it after, so the figure covers compilation, training and
evaluation of that case. Without a GPU the value is missing (NA) with the reason.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def _gpus() -> list[str]:
    import tensorflow as tf

    return [d.name for d in tf.config.list_logical_devices("GPU")]


def reset_gpu_peak() -> None:
    """Reset the peak counters of every visible GPU (no-op without one)."""
    import tensorflow as tf

    for name in _gpus():
        try:
            tf.config.experimental.reset_memory_stats(name)
        except (ValueError, RuntimeError) as exc:  # allocator without statistics
            log.debug("cannot reset memory stats of %s: %s", name, exc)


def gpu_peak_columns() -> dict[str, Any]:
    """``gpu_mem_peak_bytes`` (summed over the visible GPUs) and ``gpu_mem_peak_source``."""
    import tensorflow as tf

    names = _gpus()
    if not names:
        return {"gpu_mem_peak_bytes": None, "gpu_mem_peak_source": "unavailable: no GPU visible"}
    total, errors = 0, []
    for name in names:
        try:
            total += int(tf.config.experimental.get_memory_info(name)["peak"])
        except (ValueError, RuntimeError, KeyError) as exc:
            errors.append(f"{name}: {exc}")
    if errors:
        return {"gpu_mem_peak_bytes": None, "gpu_mem_peak_source": f"unavailable: {'; '.join(errors)}"[:300]}
    return {"gpu_mem_peak_bytes": total, "gpu_mem_peak_source": f"tf_memory_info ({len(names)} GPU(s), summed)"}
