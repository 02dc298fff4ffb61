"""Read a logdir back with TensorBoard's own reader (its event multiplexer), as TensorBoard would."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.hparams import metadata as hp_meta
from tensorboard.util import tensor_util


@dataclass
class TbRun:
    scalars: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    hparams: dict[str, object] = field(default_factory=dict)
    group: str = ""
    status: str = ""
    text: str = ""


def _value(v) -> object:
    kind = v.WhichOneof("kind")
    return {"number_value": v.number_value, "string_value": v.string_value, "bool_value": v.bool_value}[kind]


def read_logdir(logdir: Path) -> tuple[dict[str, TbRun], api_pb2.Experiment | None]:
    """Run name -> its scalars, HParams session start/end; and the experiment (if any)."""
    mux = pem.EventMultiplexer(tensor_size_guidance={"scalars": 0, "hparams": 0, "text": 0})
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    runs: dict[str, TbRun] = {}
    experiment = None
    for run, tags in mux.Runs().items():
        out = TbRun()
        for tag in tags.get("tensors", []):
            md = mux.SummaryMetadata(run, tag)
            plugin = md.plugin_data.plugin_name
            events = mux.Tensors(run, tag)
            if plugin == "scalars":
                out.scalars[tag] = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in events]
                out.descriptions[tag] = md.summary_description
            elif plugin == "text":
                out.text = tensor_util.make_ndarray(events[-1].tensor_proto).item().decode()
            elif plugin == hp_meta.PLUGIN_NAME:
                if tag == hp_meta.SESSION_START_INFO_TAG:
                    info = hp_meta.parse_session_start_info_plugin_data(md.plugin_data.content)
                    out.hparams = {k: _value(v) for k, v in info.hparams.items()}
                    out.group = info.group_name
                elif tag == hp_meta.SESSION_END_INFO_TAG:
                    end = hp_meta.parse_session_end_info_plugin_data(md.plugin_data.content)
                    out.status = api_pb2.Status.Name(end.status)
                elif tag == hp_meta.EXPERIMENT_TAG:
                    experiment = hp_meta.parse_experiment_plugin_data(md.plugin_data.content)
        runs[run] = out
    return runs, experiment


def event_files(logdir: Path) -> list[str]:
    return sorted(str(p.relative_to(logdir)) for p in Path(logdir).rglob("*tfevents*"))
