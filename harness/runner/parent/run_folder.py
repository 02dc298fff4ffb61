"""A run's folder: a fresh, unique name under the results folder."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import ResultsError


def new_run_dir(results_dir: Path, suite_name: str) -> Path:
    """A fresh, unique folder; concurrent runs never share one (mkdir is atomic)."""
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"{results_dir}: cannot create the results folder ({exc.strerror or exc})") from exc
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in suite_name)[:40]
    while True:
        path = results_dir / f"{stamp}-{safe}-{secrets.token_hex(3)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as exc:
            raise ResultsError(f"{path}: cannot create the run folder ({exc.strerror or exc})") from exc
