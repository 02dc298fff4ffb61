"""Write sessions and the HParams experiment as event files with ``tf.summary``.

TensorFlow is imported on first use only, with its GPUs hidden: this runs in
``harness export`` and in the runner's parent process (between cases, never
while a case is measured), and must not take GPU memory from the workers.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.schema import FAILING
from harness.tensorboard.sessions import Session
from harness.tensorboard.specs import HParamValue, metric_description

log = logging.getLogger(__name__)


@functools.cache
def tf_modules() -> tuple[Any, Any, Any]:
    """(tensorflow, the HParams v2 API, the HParams v1 summary module), imported once, quietly.

    TensorFlow's C++ start-up lines (absl, the CUDA probe) are kept off the user's
    terminal (logged at debug level; shown if the import fails), and its GPUs are
    hidden before any device initialises.
    """
    with _stderr_to_log():
        import tensorflow as tf
        from tensorboard.plugins.hparams import api as hp
        from tensorboard.plugins.hparams import summary as hp_v1

        with contextlib.suppress(RuntimeError, ValueError):  # already initialised: nothing to hide
            tf.config.set_visible_devices([], "GPU")
        tf.constant(0)  # initialise the (CPU) device now, while its chatter is captured
    return tf, hp, hp_v1


@contextlib.contextmanager
def _stderr_to_log() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode(errors="replace")
            if failed:
                sys.stderr.write(text[-4000:])
            elif text:
                log.debug("TensorFlow start-up output:\n%s", text)


def _status_enum(status: str) -> int:
    from tensorboard.plugins.hparams import api_pb2

    if status == "ok":
        return api_pb2.STATUS_SUCCESS
    return api_pb2.STATUS_FAILURE if status in FAILING \
        else api_pb2.STATUS_UNKNOWN


def write_session(session: Session, out_dir: Path, trial_id: str) -> None:
    """One TensorBoard run in ``out_dir``: HParams session start/end, scalars, the case's note."""
    tf, hp, hp_v1 = tf_modules()
    writer = tf.summary.create_file_writer(str(out_dir), max_queue=1000, flush_millis=10**9)
    try:
        with writer.as_default():
            hp.hparams(dict(session.hparams), trial_id=trial_id, start_time_secs=session.start_time_s)
            tf.summary.text("case", session.notes, step=0)
            for s in session.scalars:
                tf.summary.scalar(s.tag, s.value, step=s.step, description=s.description or None)
            end = hp_v1.session_end_pb(_status_enum(session.status), session.end_time_s)
            tf.summary.experimental.write_raw_pb(end.SerializeToString(), step=0)
    finally:
        writer.close()


def write_experiment(domains: Mapping[str, tuple[str, Sequence[HParamValue], bool]],
                     metric_tags: Sequence[str], out_dir: Path) -> None:
    """The HParams experiment: ``domains`` maps name -> (description, discrete values, differs)."""
    tf, hp, _ = tf_modules()
    from tensorboard.plugins.hparams import metadata, plugin_data_pb2

    hparams = [hp.HParam(name, hp.Discrete(list(values)), description=doc)
               for name, (doc, values, _) in domains.items()]
    metrics = []
    for tag in metric_tags:
        display, doc = metric_description(tag)
        metrics.append(hp.Metric(tag, display_name=display, description=doc))
    pb = hp.hparams_config_pb(hparams=hparams, metrics=metrics)
    # mark the hparams that vary: TensorBoard lists those first, and shows the first ones by default
    data = plugin_data_pb2.HParamsPluginData.FromString(pb.value[0].metadata.plugin_data.content)
    for info in data.experiment.hparam_infos:
        info.differs = bool(domains[info.name][2])
    pb.value[0].metadata.CopyFrom(metadata.create_summary_metadata(data))
    writer = tf.summary.create_file_writer(str(out_dir))
    try:
        with writer.as_default():
            tf.summary.experimental.write_raw_pb(pb.SerializeToString(), step=0)
    finally:
        writer.close()
