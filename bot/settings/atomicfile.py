"""Replace a text file in one step: readers see the old text or the new, never a part."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"  # never *.toml: a folder watcher never reads a half-written file


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) over the existing file ``path``, keeping its mode and owner;
    a symlink keeps pointing where it did and its target is replaced."""
    target = path.resolve()
    status = target.stat()
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX,
                                             dir=target.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, stat.S_IMODE(status.st_mode))
        with contextlib.suppress(PermissionError):
            os.chown(temp, status.st_uid, status.st_gid)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every platform can open a folder."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
