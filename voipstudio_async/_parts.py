"""Temporary ``.part`` files beside a destination: their names, creation, commit and cleanup.

A file is written to ``.<name>.<12 hex digits>.part`` in its destination's directory
and renamed onto ``<name>`` once complete. A process killed meanwhile leaves its part
file behind; the next run that writes ``<name>`` removes it.

Why a cleanup never removes a part file another run is still writing: each live part
file holds an exclusive ``flock`` from the moment it is created until after it has been
renamed or deleted, and the kernel drops that lock when its process dies, however it
dies. The cleanup removes only part files it can lock itself. Without ``flock``
(Windows) the same holds because a file open for writing cannot be deleted there.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from ._constants import PART_FILE_MODE, PART_TOKEN_BYTES

__all__ = ["commit_part", "create_part", "remove_stale_parts"]

_PART = re.compile(rf"\.(?P<name>.+)\.[0-9a-f]{{{2 * PART_TOKEN_BYTES}}}\.part")
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
_INSPECT = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


if sys.platform != "win32":
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

else:

    def _try_lock(fd: int) -> bool:
        return True


def _part_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(PART_TOKEN_BYTES)}.part")


def _is_file_of(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (found.st_dev, found.st_ino) == (opened.st_dev, opened.st_ino)


def create_part(target: Path) -> tuple[Path, int]:
    """Create and lock a new, empty part file for ``target``; return its path and fd.

    The fd is open for writing; keep it open until ``commit_part`` or after deleting
    the file, so that no cleanup takes the file meanwhile.
    """
    while True:
        path = _part_path(target)
        fd = os.open(path, _CREATE, PART_FILE_MODE)
        # A cleanup may take the file between its creation and our lock: then it is
        # (or is about to be) deleted, so start over with a new name.
        if _try_lock(fd) and _is_file_of(path, fd):
            return path, fd
        os.close(fd)


def commit_part(file: IO[Any], part: Path, target: Path) -> None:
    """Rename ``part`` onto ``target``, then close ``file`` (the part's open file)."""
    if sys.platform == "win32":
        file.close()  # Windows cannot rename an open file
        os.replace(part, target)
        return
    try:
        os.replace(part, target)  # still locked: closing first would free it for a cleanup
    finally:
        file.close()


def _remove_if_stale(path: Path) -> None:
    try:
        fd = os.open(path, _INSPECT)
    except OSError:
        return  # gone already, a symlink, or not ours to read
    try:
        if _try_lock(fd) and _is_file_of(path, fd):
            path.unlink()
    except OSError:
        pass  # still in use (Windows) or removed meanwhile: not stale
    finally:
        os.close(fd)


def remove_stale_parts(directory: Path, names: Iterable[str]) -> None:
    """Delete the part files in ``directory`` of the targets ``names`` no live writer holds.

    Only names of exactly the form ``create_part`` gives are touched; any other file,
    such as ``.notes.part`` or ``x.mp3.part``, is left alone.
    """
    wanted = set(names)
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing to clean; creating the part file names the problem
    for entry in entries:
        match = _PART.fullmatch(entry.name)
        if match and match["name"] in wanted and entry.is_file(follow_symlinks=False):
            _remove_if_stale(Path(entry.path))
