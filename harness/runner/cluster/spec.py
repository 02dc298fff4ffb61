"""The spec a cluster process starts from, as JSON (never pickle: it lies in the run folder)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from harness.components.devices import DeviceConfig
from harness.results.atomic import atomic_write_bytes
from harness.suite import Case


def dump_spec(path: Path, spec: dict[str, Any]) -> None:
    doc = {**spec, "case": spec["case"].to_dict(),
           "device_config": dataclasses.asdict(spec["device_config"])}
    atomic_write_bytes(path, json.dumps(doc).encode())


def load_spec(path: Path) -> dict[str, Any]:
    doc = json.loads(Path(path).read_bytes())
    return {**doc, "case": Case.from_dict(doc["case"]), "device_config": DeviceConfig(**doc["device_config"])}
