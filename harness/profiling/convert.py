"""Trace -> tables with XProf's own converters (``pip install xprof``; extra ``profile``).

Run in a child process (:func:`convert_in_subprocess`), so a converter crash or a
clash of its native libraries with TensorFlow's can never take a worker, or the
case, down: the case stays ``ok`` and ``profile_error`` says why ops are missing.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CONVERT_TIMEOUT_S = 300.0
XPROF_MISSING = "xprof is not installed (pip install 'mnist-bench-harness[profile]' or pip install xprof)"


def xplane_files(logdir: Path) -> list[str]:
    """The XSpace files the profiler wrote under ``logdir`` (``plugins/profile/<ts>/<host>.xplane.pb``)."""
    return sorted(str(p) for p in Path(logdir).glob("plugins/profile/*/*.xplane.pb"))


def tool_json(files: list[str], tool: str) -> Any:
    """One XProf tool's output for ``files`` (``framework_op_stats``, ``overview_page``, ``trace_viewer``...)."""
    from xprof.convert import raw_to_tool_data

    data, _ = raw_to_tool_data.xspace_to_tool_data(files, tool, {})
    if data is None:
        raise RuntimeError(f"xprof tool {tool!r} produced no data")
    return json.loads(data)


def convert_in_subprocess(logdir: Path, timeout_s: float = CONVERT_TIMEOUT_S) -> tuple[dict, list[dict], str | None]:
    """(case columns, op rows, error or None) for the trace in ``logdir``, converted in a child process."""
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        proc = subprocess.run([sys.executable, "-m", "harness.profiling.convert", str(logdir)], env=env,
                              capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return {}, [], f"trace conversion exceeded {timeout_s:.0f} s"
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        return {}, [], f"trace conversion exited with code {proc.returncode}: {' | '.join(tail)}"[:500]
    out = json.loads(proc.stdout)
    return out["columns"], out["ops"], out["error"]


def convert(logdir: Path) -> dict[str, Any]:
    """{"columns": case columns, "ops": op rows, "error": str | None} for one trace folder."""
    from harness.profiling import tables

    files = xplane_files(logdir)
    if not files:
        return {"columns": {}, "ops": [], "error": f"no .xplane.pb trace under {logdir}"}
    try:
        import xprof.convert.raw_to_tool_data  # noqa: F401
    except ImportError:
        return {"columns": {}, "ops": [], "error": XPROF_MISSING}
    errors: list[str] = []
    ops: list[dict] = []
    columns: dict[str, Any] = {}
    steps = (("trace_viewer", lambda d: (tables.trace_ops(d), tables.trace_breakdown(d))),
             ("framework_op_stats", lambda d: (tables.framework_ops(d), {})),
             ("overview_page", lambda d: ([], tables.overview(d))))
    for tool, fn in steps:
        try:
            rows, cols = fn(tool_json(files, tool))
        except Exception as exc:  # one converter failing must not lose the others
            errors.append(f"{tool}: {type(exc).__name__}: {exc}")
            continue
        ops += rows
        columns.update(cols)
    return {"columns": columns, "ops": ops, "error": "; ".join(errors)[:1000] or None}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING)
    json.dump(convert(Path(argv[0])), sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
