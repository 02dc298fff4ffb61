"""``harness merge``: shard runs of one suite combined into one run folder.

The shards must come from the same suite text, harness version, case selection
(filters, repeats) and shard assignment (its hash); every case x repeat must
appear exactly once. Rows keep the ``host`` and ``machine`` they ran on; the
merged ``run.json`` lists the shards. Missing cases are an error naming them,
unless ``allow_partial`` (the run is then marked ``partial``, with the list).
The output is built in a hidden folder next to ``out`` and renamed into place,
so a failure leaves nothing half-written. The merged run reads like any other
(``harness show/report/compare/history``); it cannot be resumed: resume its
shards, then merge again.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harness import schema
from harness.errors import HarnessError, ResultsError
from harness.results import store
from harness.run_meta import MergeRecord, RunMeta, ShardEntry, ShardRecord

log = logging.getLogger(__name__)

SAME: tuple[tuple[str, Callable[[RunMeta], Any]], ...] = (
    ("suite text", lambda m: m.suite.text), ("harness version", lambda m: m.harness_version),
    ("case selection (--filter, --repeats)", lambda m: (m.options.filters or [], m.options.repeats)),
    ("shard count", lambda m: _shard(m).count),
    ("shard assignment (balanced with other estimates?)", lambda m: _shard(m).assignment_sha256))


def _shard(meta: RunMeta) -> ShardRecord:
    assert meta.shard is not None  # _load_shard refuses a run without one
    return meta.shard


class MergeError(HarnessError):
    """The shards cannot be merged as given (exit 2); nothing was written."""


@dataclass
class MergeSummary:
    out: Path
    shards: list[Path]
    runs: int
    missing: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return bool(self.missing)


def shard_dirs(inputs: Iterable[Path]) -> list[Path]:
    """Run folders given directly or held by the given folders; an input without any is an error."""
    found: list[Path] = []
    for path in inputs:
        runs = store.find_runs(path)  # ResultsError (exit 4) when it does not exist
        if not runs:
            raise MergeError(f"{path}: no harness run folder there (no run.json in it or its subfolders)")
        found += [r for r in runs if r.resolve() not in {f.resolve() for f in found}]
    return found


def merge(inputs: Iterable[Path], out: Path, expected: Callable[[RunMeta], list[tuple[str, str]]], *,
          allow_partial: bool = False) -> MergeSummary:
    """Merge the shard runs under ``inputs`` into the new run folder ``out``.

    ``expected(meta)`` lists the plan's (task key, label) pairs, re-expanded from a
    shard's run.json (:func:`harness.runner.parent.plan.expected_tasks`; the results
    layer does not expand suites itself).
    """
    out = Path(out)
    _check_out(out)
    runs = sorted((_load_shard(p) for p in shard_dirs(inputs)), key=lambda r: _shard(r.meta).index)
    _check_same(runs)
    tables = {name: _concat(runs, name) for name in schema.TABLES}
    cases = tables["cases"]
    _check_duplicates(cases, runs)
    plan = expected(runs[0].meta)
    have = set(cases["case_id"] + "-" + cases["repeat"].astype(str))
    missing = [f"{label} (#{key.rsplit('-', 1)[1]}, {key})" for key, label in plan if key not in have]
    stray = sorted(have - {key for key, _label in plan})
    if stray:
        raise MergeError(f"{len(stray)} row(s) match no case of the suite's plan (first: {', '.join(stray[:5])})")
    if missing and not allow_partial:
        absent = sorted(set(range(1, _shard(runs[0].meta).count + 1)) - {_shard(r.meta).index for r in runs})
        hint = f"; shard(s) not given: {', '.join(map(str, absent))}" if absent else ""
        raise MergeError(f"{len(missing)} of {len(plan)} case run(s) missing{hint}: {'; '.join(missing[:20])}"
                         f"{' ...' if len(missing) > 20 else ''}. Resume the shards that stopped "
                         "(harness run --resume SHARD_DIR), or --allow-partial to merge what there is")
    for df in tables.values():
        df["run_id"] = pd.array([out.name] * len(df), dtype="string")
    _write(out, tables, merged_meta(runs, out.name, missing))
    return MergeSummary(out, [r.path for r in runs], len(tables["cases"]), missing)


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MergeError(f"{out}: already exists and is not an empty folder; choose a new --out")
    if not out.parent.exists():
        raise ResultsError(f"{out.parent}: no such folder (the parent of --out)")


@dataclass
class Shard:
    """A shard's folder, its run.json and its tables as Arrow tables (concatenated before pandas)."""

    path: Path
    meta: RunMeta
    tables: dict[str, pa.Table]

    @property
    def run_id(self) -> str:
        return self.path.name


def _load_shard(path: Path) -> Shard:
    meta = store.read_run_json(path)  # a damaged run.json: ResultsError naming the file (exit 4)
    if meta.merged is not None:
        raise MergeError(f"{path}: already a merged run; give its shards ({', '.join(s.path for s in meta.shards or [])})")
    shard = meta.shard
    if shard is None or shard.assignment_sha256 is None:
        raise MergeError(f"{path}: not a shard (run without --shard I/N or --shard auto); "
                         "merge combines the shards of one sharded suite")
    if meta.status == "running" and _locked(path):
        raise MergeError(f"{path}: shard {shard.index}/{shard.count} is still running; wait for it")
    return Shard(path, meta, _arrow_tables(path))


def _arrow_tables(path: Path) -> dict[str, pa.Table]:
    """The shard's tables, read as Arrow (one pandas conversion for all shards is what keeps merging
    10,000 rows quick); tables behind the journal (a killed shard) are rebuilt from it by load_run."""
    files = {name: path / fname for name, fname in store.TABLE_FILES.items()}
    rows = pq.ParquetFile(files["cases"]).metadata.num_rows if files["cases"].exists() else 0
    if store.count_parts(path) not in (0, rows):
        run = store.load_run(path)
        return {name: pa.Table.from_pandas(getattr(run, name), preserve_index=False) for name in files}
    out = {}
    for name, file in files.items():
        if file.exists():
            store.read_table_schema(file)  # refuses a foreign or other-version file, naming it
            try:
                out[name] = pq.read_table(file)
            except Exception as exc:  # pyarrow raises several types for corrupt files
                raise ResultsError(f"{file}: truncated or corrupt parquet file ({exc})") from exc
    return out


def _locked(path: Path) -> bool:
    try:
        lock = store.lock_run(path)
    except HarnessError:
        return True
    lock.release()
    return False


def _check_same(runs: list[Shard]) -> None:
    first = runs[0]
    for what, get in SAME:
        for run in runs[1:]:
            if get(run.meta) != get(first.meta):
                raise MergeError(f"{run.path} and {first.path} differ in their {what}: not shards of one sweep")
    seen: dict[int, Path] = {}
    for run in runs:
        index = _shard(run.meta).index
        if index in seen:
            raise MergeError(f"shard {index}/{_shard(run.meta).count} given twice: {seen[index]} and {run.path}")
        seen[index] = run.path


def _concat(runs: list[Shard], name: str) -> pd.DataFrame:
    parts = [r.tables[name] for r in runs if name in r.tables and r.tables[name].num_rows]
    if not parts:
        return schema.frame(name, [])
    try:
        table = pa.concat_tables(parts, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ResultsError(f"the shards' {name} tables do not fit together ({exc})") from exc
    return schema.conform(name, table.to_pandas())


def _rows_of(run: Shard) -> pd.Series:
    cases = run.tables.get("cases")
    if cases is None or not cases.num_rows:
        return pd.Series([], dtype="string")
    df = cases.select(["case_id", "repeat"]).to_pandas()
    return df["case_id"].astype(str) + "-" + df["repeat"].astype(str)


def _check_duplicates(cases: pd.DataFrame, runs: list[Shard]) -> None:
    keys = cases["case_id"] + "-" + cases["repeat"].astype(str)
    dup = keys[keys.duplicated(keep=False)]
    if dup.empty:
        return
    where = {run.path for run in runs if _rows_of(run).isin(dup).any()}
    raise MergeError(f"case run {dup.iloc[0]} appears more than once ({dup.nunique()} duplicated) in "
                     f"{', '.join(sorted(map(str, where)))}; each case x repeat must come from one shard")


def merged_meta(runs: list[Shard], run_id: str, missing: list[str]) -> RunMeta:
    """The merged run's record: the first shard's, less what belongs to one shard, plus the merge."""
    first = runs[0].meta
    starts = [r.meta.started_utc for r in runs if r.meta.started_utc]
    ends = [r.meta.ended_utc for r in runs if r.meta.ended_utc]
    return dataclasses.replace(
        copy.deepcopy(first), shard=None, error=None, idle_baseline=None, worker_runtime=None,
        run_id=run_id, status="partial" if missing else "complete",
        started_utc=min(starts) if starts else None, ended_utc=max(ends) if ends else None,
        options=dataclasses.replace(copy.deepcopy(first.options), shard=None),
        shards=[_shard_entry(r) for r in runs],
        merged=MergeRecord(utc=datetime.now(UTC).isoformat(timespec="seconds"), count=_shard(first).count,
                           assignment_sha256=_shard(first).assignment_sha256, missing=list(missing)),
    )


def _shard_entry(run: Shard) -> ShardEntry:
    m, shard = run.meta, _shard(run.meta)
    return ShardEntry(index=shard.index, count=shard.count, run_id=run.run_id, path=str(run.path.resolve()),
                      status=m.status, host=m.machine.host, machine=m.machine.to_dict(), git=m.git.to_dict(),
                      started_utc=m.started_utc, ended_utc=m.ended_utc, runs=len(_rows_of(run)),
                      source=shard.source)


def _write(out: Path, tables: dict[str, pd.DataFrame], meta: RunMeta) -> None:
    """Everything into a hidden sibling folder, then one rename: ``out`` appears complete or not at all."""
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".merging", dir=out.parent))
    except OSError as exc:
        raise ResultsError(f"{out.parent}: cannot write there ({exc.strerror or exc})") from exc
    try:
        for name, df in tables.items():
            if df.empty and name in ("workers", "ops"):
                continue
            store.write_table(tmp / store.TABLE_FILES[name], name, df)
        store.write_run_json(tmp, meta)
        os.chmod(tmp, 0o777 & ~_umask())
        if out.exists():
            out.rmdir()  # empty, checked above
        os.rename(tmp, out)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise ResultsError(f"{out}: could not write the merged run ({exc.strerror or exc})") from exc
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
