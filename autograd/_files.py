"""The one atomic file writer, shared by the pictures (autograd.viz) and nn's model files.

It lives in autograd because autograd must not import nn; nn imports it from here.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable
from typing import Any


def replace_atomically(path: str | os.PathLike, write: Callable[[Any], Any], binary: bool) -> None:
    """Let ``write`` fill a temporary file beside ``path``, then rename it over
    ``path`` (keeping its mode): a failed write never destroys the old file and
    leaves no temporary behind. The directory must exist (nothing is created)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):  # say so, rather than name the temporary file
        raise FileNotFoundError(
            errno.ENOENT, f"cannot write {path}: directory {directory} does not exist", path
        )
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o644  # a new file: readable by all, writable by its owner
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    """``text`` (UTF-8) to ``path`` through ``replace_atomically``."""
    replace_atomically(path, lambda f: f.write(text), binary=False)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable; best effort (not every OS allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
