"""Results store: one folder per run, atomic writes, versioned files.

Layout of ``results/<run-id>/``::

    run.json          metadata (schema version, machine, software, suite text)
    cases.parquet     one row per case x repeat        (harness.schema.CASE_COLUMNS)
    epochs.parquet    one row per case x repeat x epoch
    samples.parquet   collectors' time series
    workers.parquet   per-process rows of multi-process cases (when any)
    ops.parquet       profiler op tables (when any case was profiled)
    parts/            one JSON file per finished case x repeat (the journal
                      that --resume reads, see harness.results.journal); the
                      parquet files above are rebuilt from it, atomically,
                      every few seconds during a run and at its end
    logs/             the workers' stderr
    .lock             held (flock) by the process writing the run

Every write goes to a temporary file in the same folder, is fsynced and then
renamed over the target, so a crash leaves either the old or the new file
(harness.results.atomic). A reader whose tables lag behind the journal, or
find a table damaged, rebuilds them from the journal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harness import schema
from harness import timing_names
from harness.errors import ConfigError, ResultsError
from harness.results.atomic import (
    TMP_SUFFIX,
    atomic_write_bytes,
    atomic_write_json,
    remove_temp_files,
)
from harness.results.journal import (
    LOCK,
    PARTS,
    CaseResult,
    RunLock,
    count_parts,
    load_parts,
    lock_run,
    read_part,
    write_part,
)
from harness.run_meta import RunMeta

__all__ = [
    "LOCK", "PARTS", "RUN_JSON", "TABLE_FILES", "TMP_SUFFIX", "CaseResult", "Run", "RunLock",
    "atomic_write_bytes", "atomic_write_json", "consolidate", "count_parts", "find_runs",
    "load_history", "load_parts", "load_run", "load_runs", "lock_run", "read_part", "read_run_json",
    "write_run_json",
    "read_table", "remove_temp_files", "write_part", "write_table", "write_tables",
]

log = logging.getLogger(__name__)

RUN_JSON = "run.json"
TABLE_FILES = {name: f"{name}.parquet" for name in schema.TABLES}
_META_KEY = b"harness.schema_version"
# Older schema versions still read, and how their columns were renamed since (one name, one meaning).
RENAMED: dict[int, dict[str, dict[str, str]]] = {
    1: {"epochs": {"learning_rate": "learning_rate_in_force", "steps": "epoch_steps",
                   "cpu_energy_j": "epoch_cpu_energy_j", "gpu_energy_j": "epoch_gpu_energy_j"}},
}


def write_table(path: Path, table: str, df: pd.DataFrame) -> None:
    """Write ``df`` (conformed to ``table``'s schema) as parquet, atomically, with the version."""
    df = schema.conform(table, df)
    arrow = pa.Table.from_pandas(df, preserve_index=False)
    tags = dict(arrow.schema.metadata or {})  # the parquet file's key-value metadata
    tags[_META_KEY] = str(schema.SCHEMA_VERSION).encode()
    tags[b"harness.table"] = table.encode()
    arrow = arrow.replace_schema_metadata(tags)
    sink = pa.BufferOutputStream()
    pq.write_table(arrow, sink)
    atomic_write_bytes(path, sink.getvalue().to_pybytes())


def read_table(path: Path, table: str | None = None) -> pd.DataFrame:
    """Read a harness parquet file; refuse unknown schema versions and foreign files."""
    path = Path(path)
    pf, tags = read_table_schema(path)
    try:
        df = pf.read().to_pandas()
    except Exception as exc:
        raise ResultsError(f"{path}: truncated or corrupt parquet file ({exc})") from exc
    name = table or tags.get(b"harness.table", b"").decode()
    df = upgrade(df, name, int(tags[_META_KEY]))
    if name == "cases":  # older runs stored chunk averages as step_ms_*: read them under chunk names
        df = timing_names.split_stored(df)
    df = schema.conform(name, df) if name in schema.TABLES else df
    return default_model(df) if name == "cases" else df


def default_model(cases: pd.DataFrame) -> pd.DataFrame:
    """Rows recorded before the model axis existed (no ``model``) ran ``mnist_dense``: say so."""
    if "model" not in cases.columns or not cases["model"].isna().any():
        return cases
    old = cases["model"].isna()
    cases = cases.copy()
    for col, value in (("model", "mnist_dense"), ("model_label", "mnist_dense"), ("model_config", "{}")):
        cases.loc[old, col] = value
    return cases


def read_table_schema(path: Path) -> tuple[pq.ParquetFile, dict[bytes, bytes]]:
    """Open a harness parquet file and check its schema version (ResultsError naming it otherwise)."""
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise ResultsError(f"{path}: not a readable parquet file ({exc})") from exc
    tags = pf.schema_arrow.metadata or {}  # the parquet file's key-value metadata
    if _META_KEY not in tags:
        raise ResultsError(f"{path}: not a harness results file (no schema version in its metadata)")
    try:
        version = int(tags[_META_KEY])
    except ValueError:
        raise ResultsError(f"{path}: not a harness results file (schema version {tags[_META_KEY]!r})") from None
    if version != schema.SCHEMA_VERSION and version not in RENAMED:
        raise ResultsError(
            f"{path}: results schema version {version} is not supported by this harness "
            f"(it reads versions {_readable()}); use a matching harness version"
        )
    return pf, tags


def _readable() -> str:
    return ", ".join(str(v) for v in sorted({*RENAMED, schema.SCHEMA_VERSION}))


def upgrade(df: pd.DataFrame, table: str, version: int) -> pd.DataFrame:
    """Rename the columns of an older version's ``table`` to today's names."""
    for v in sorted(RENAMED):
        if v >= version:
            renames = {old: new for old, new in RENAMED[v].get(table, {}).items() if old in df.columns}
            df = df.drop(columns=[new for new in renames.values() if new in df.columns]).rename(columns=renames)
    if table == "cases" and len(df) and "target_basis" not in df.columns:  # written before the validation split
        df = df.assign(target_basis="test")
    return df


# ---------------------------------------------------------------- one run
@dataclass
class Run:
    """A loaded run: its metadata and its tables as DataFrames."""

    path: Path
    meta: RunMeta
    cases: pd.DataFrame
    epochs: pd.DataFrame
    samples: pd.DataFrame
    workers: pd.DataFrame = field(default_factory=lambda: schema.frame("workers", []))
    ops: pd.DataFrame = field(default_factory=lambda: schema.frame("ops", []))

    @property
    def run_id(self) -> str:
        return self.path.name


def read_run_json(run_dir: Path) -> RunMeta:
    """The run's metadata (any run.json version this harness wrote; see :mod:`harness.run_meta`)."""
    path = Path(run_dir) / RUN_JSON
    try:
        doc = json.loads(path.read_bytes())  # run.json's JSON object, read only by RunMeta.from_dict below
    except FileNotFoundError as exc:
        raise ResultsError(f"{path}: missing; {run_dir} is not a harness run folder") from exc
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: truncated or invalid JSON ({exc})") from exc
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise ResultsError(f"{path}: not a harness run.json (no schema_version)")
    version = doc["schema_version"]
    if version != schema.SCHEMA_VERSION and version not in RENAMED:
        raise ResultsError(
            f"{path}: results schema version {version!r} is not supported "
            f"(this harness reads versions {_readable()})"
        )
    return RunMeta.from_dict(doc, str(path))


def write_run_json(run_dir: Path, meta: RunMeta) -> None:
    """Write (atomically) the run's metadata."""
    atomic_write_json(Path(run_dir) / RUN_JSON, meta.to_dict())


def load_run(run_dir: str | Path) -> Run:
    """Load one run folder. Tables that were never written come back empty."""
    run_dir = Path(run_dir)
    meta = read_run_json(run_dir)
    tables: dict[str, pd.DataFrame] = {}
    n_parts = count_parts(run_dir)
    try:
        for name, fname in TABLE_FILES.items():
            path = run_dir / fname
            tables[name] = read_table(path, name) if path.exists() else schema.frame(name, [])
    except ResultsError as exc:
        if not n_parts:
            raise
        log.warning("%s; rebuilding the run's tables from its journal (%s/)", exc, PARTS)
        tables = consolidate(load_parts(run_dir))
    if n_parts != len(tables["cases"]) and n_parts:
        # stopped (kill -9, power cut) between a case and the tables' rewrite: the journal is the truth
        tables = consolidate(load_parts(run_dir))
    return Run(path=run_dir, meta=meta, **tables)


def is_run_dir(path: Path) -> bool:
    return (Path(path) / RUN_JSON).is_file()


def find_runs(root: str | Path) -> list[Path]:
    """Run folders at ``root`` (itself a run, or a folder of runs), oldest first."""
    root = Path(root)
    if not root.exists():  # bad input (exit 2) in every command: see the README's exit-code table
        raise ConfigError(f"{root}: no such folder (expected a run folder results/<run-id> or a folder of runs)")
    if is_run_dir(root):
        return [root]
    return sorted(p for p in root.iterdir() if p.is_dir() and is_run_dir(p))


def load_runs(root: str | Path, *, skip_bad: bool = True) -> list[Run]:
    """Load every run under ``root``. A damaged run is skipped with a warning (or raises)."""
    runs = []
    for path in find_runs(root):
        try:
            runs.append(load_run(path))
        except ResultsError as exc:
            if not skip_bad:
                raise
            log.warning("skipping %s", exc)
    return runs


def load_history(root: str | Path, *, skip_bad: bool = True) -> dict[str, pd.DataFrame]:
    """Every run under ``root`` concatenated: {"cases": ..., "epochs": ..., ...}."""
    runs = load_runs(root, skip_bad=skip_bad)
    out = {}
    for name in schema.TABLES:
        frames = [getattr(r, name) for r in runs if not getattr(r, name).empty]
        out[name] = (
            schema.conform(name, pd.concat(frames, ignore_index=True)) if frames else schema.frame(name, [])
        )
    return out


def consolidate(results: Iterable[CaseResult]) -> dict[str, pd.DataFrame]:
    results = list(results)
    return {
        "cases": default_model(schema.frame("cases", [r.case for r in results])),
        "epochs": schema.frame("epochs", [e for r in results for e in r.epochs]),
        "samples": schema.frame("samples", [s for r in results for s in r.samples]),
        "workers": schema.frame("workers", [w for r in results for w in r.workers]),
        "ops": schema.frame("ops", [o for r in results for o in r.ops]),
    }


def write_tables(run_dir: Path, results: Iterable[CaseResult]) -> None:
    """Rebuild the run's parquet files from its case results (atomically, each)."""
    for name, df in consolidate(results).items():
        path = Path(run_dir) / TABLE_FILES[name]
        if df.empty and name in ("workers", "ops") and not path.exists():
            continue
        write_table(path, name, df)
