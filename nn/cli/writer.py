"""The all-or-nothing writer of ``train``: ``--out`` checked before training, the files
staged in a temporary directory and moved in together (or not at all), and the Ctrl-C
guard that lets a finished run be written first."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import PROG, UsageError

# Every file `train` may write into --out. These, and only these, it replaces or removes.
OWNED_FILES = (
    "model.json", "history.json", "loss.svg", "boundary.svg", "graph.svg",
    "confusion.svg", "misclassified.svg",
)


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not os.path.lexists(path):
        path = path.parent
    return path


def _is_directory(path: Path) -> bool:
    """A real directory (not a symlink to one) sits at ``path``."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def check_out(out: Path) -> None:
    """Fail now, before any training, if the run could not publish into ``out``.

    ``out`` must be a directory (or creatable), writable, and no file this
    command writes may be a directory there. The check writes and removes a
    probe file, which is what catches a read-only disk or missing permission.
    """
    try:
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {str(out)!r} exists and is not a directory")
        where = out if out.exists() else _nearest_existing(out)
        if not where.is_dir():
            raise UsageError(f"--out {str(out)!r}: {str(where)!r} is not a directory")
        for name in OWNED_FILES:
            if _is_directory(out / name):
                raise UsageError(f"--out {str(out)!r}: cannot write {name}: it is a "
                                 "directory there")
        fd, probe = tempfile.mkstemp(prefix=".chainrule-probe-", dir=where)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise UsageError(f"--out {str(out)!r}: cannot write there: "
                         f"{err.strerror or err}") from None


@contextlib.contextmanager
def staging(out: Path):
    """A temporary directory inside ``out`` (or its nearest existing ancestor, so no
    directory is created before publication); removed on exit whatever happens."""
    anchor = out if out.is_dir() else _nearest_existing(out)
    tmp = Path(tempfile.mkdtemp(prefix=".chainrule-partial-", dir=anchor))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def publish(staged: Path, out: Path, names: Sequence[str]) -> list[str]:
    """Move ``names`` from ``staged`` into ``out`` and remove the other OWNED_FILES there.

    All or nothing: every file replaced or removed is first moved into a backup
    inside ``staged``; if any step fails (or Ctrl-C lands) the new files go back
    and the backups are restored, then the error propagates. Returns the names
    of earlier files removed.
    """
    stale = [n for n in OWNED_FILES if n not in names and os.path.lexists(out / n)]
    for name in [*names, *stale]:  # re-checked: something may have appeared since check_out
        if _is_directory(out / name):
            raise IsADirectoryError(errno.EISDIR, "it is a directory", str(out / name))
    created: list[Path] = []
    parent = out.absolute()
    while not os.path.lexists(parent):
        created.append(parent)
        parent = parent.parent
    backup = staged / ".backup"
    backup.mkdir()
    started: list[str] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in [*names, *stale]:
            started.append(name)  # before any move, so an interrupt cannot hide one
            if os.path.lexists(out / name):
                os.replace(out / name, backup / name)
            if name in names:
                os.replace(staged / name, out / name)
    except BaseException:
        # Undo by looking at where each file is (each os.replace is atomic): a new
        # file no longer in staging was placed; an old file in the backup goes back.
        for name in reversed(started):
            with contextlib.suppress(OSError):
                if name in names and not os.path.lexists(staged / name):
                    os.replace(out / name, staged / name)
                if os.path.lexists(backup / name):
                    os.replace(backup / name, out / name)
        for directory in created:  # innermost first
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    return stale


class Interrupts:
    """Ctrl-C presses counted while the finished run is being written."""

    def __init__(self) -> None:
        self.count = 0


@contextlib.contextmanager
def finish_writing_on_ctrl_c():
    """Once training has finished, a first Ctrl-C does not throw the run away: it is
    counted, and the files are completed and published first. A second Ctrl-C aborts
    the writing (KeyboardInterrupt), which puts ``--out`` back as it was.

    Only where Python's own Ctrl-C handler is in place (the main thread, SIGINT not
    ignored); elsewhere the handler is left alone.
    """
    seen = Interrupts()
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield seen
        return

    def on_ctrl_c(signum: int, frame: Any) -> None:
        seen.count += 1
        if seen.count > 1:
            raise KeyboardInterrupt
        print(f"{PROG} train: Ctrl-C: finishing writing the files of the finished run "
              "(Ctrl-C again to abort: then nothing is written)", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


def pause_at_writing_for_tests(seen: Interrupts) -> None:
    """Test-only: with CHAINRULE_TEST_PAUSE_AT_WRITING=N set, say so and wait here until
    N Ctrl-Cs have arrived (60 s at most), so a test's SIGINT lands while writing."""
    wanted = os.environ.get("CHAINRULE_TEST_PAUSE_AT_WRITING")
    if not wanted:
        return
    print(f"{PROG} train: test hook: paused at writing", file=sys.stderr, flush=True)
    deadline = time.monotonic() + 60
    while seen.count < int(wanted) and time.monotonic() < deadline:
        time.sleep(0.01)
