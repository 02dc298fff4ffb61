"""Atomic file writes: readers see the old file or the new one, never half of one.

A write goes to a hidden temporary file in the target's folder, is fsynced and
renamed over the target (``os.replace`` is atomic on POSIX and Windows). A
process killed mid-write leaves at most a ``.<name>.<random>.tmp`` file, which
:func:`remove_temp_files` clears on ``--resume``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from harness.errors import ResultsError

TMP_SUFFIX = ".tmp"


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_MODE = _file_mode()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never half.

    The data goes to a temporary file in the same folder, is fsynced and renamed
    over ``path``. Any OSError (a full disk, a read-only folder) becomes a
    :class:`ResultsError` naming the file; the previous ``path``, if any, is untouched.
    """
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), _MODE)  # mkstemp's 0600 would hide results from other users
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            reason = exc.strerror or str(exc)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                reason += " (disk full or over quota)"
            raise ResultsError(f"{path}: could not write: {reason}") from exc
        raise


def remove_temp_files(folder: Path) -> int:
    """Delete temporary files a killed writer left in ``folder`` and its subfolders; returns how many."""
    n = 0
    folder = Path(folder)
    for sub in [folder, *(p for p in folder.iterdir() if p.is_dir())] if folder.is_dir() else []:
        if sub.is_dir():
            for tmp in sub.glob(f".*{TMP_SUFFIX}"):
                with contextlib.suppress(OSError):
                    tmp.unlink()
                    n += 1
    return n


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())
