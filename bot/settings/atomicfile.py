"""Replace a file in one step: readers see the old content or the new, never a part."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

TEMP_SUFFIX = ".tmp"  # never *.toml: a folder watcher never reads a half-written file


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) over the existing file ``path``, keeping its mode and owner;
    a symlink keeps pointing where it did and its target is replaced."""
    target = path.resolve()
    status = target.stat()
    replace_file(target, text.encode("utf-8"), mode=stat.S_IMODE(status.st_mode),
                 owner=(status.st_uid, status.st_gid))


def replace_file(path: Path, data: bytes, *, mode: int,
                 owner: tuple[int, int] | None = None) -> None:
    """Write ``data`` beside ``path`` and move it into place, durably, with ``mode`` (and
    ``owner`` where the process may set it)."""
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX,
                                             dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        if owner is not None:
            with contextlib.suppress(PermissionError):
                os.chown(temp, *owner)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


@contextlib.contextmanager
def replacing(path: Path, encoding: str = "utf-8") -> Iterator[TextIO]:
    """A text stream whose content replaces ``path`` once it is closed without error; an
    error leaves ``path`` as it was. For output written a piece at a time."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", encoding=encoding, newline="") as stream:
            yield stream
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


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
