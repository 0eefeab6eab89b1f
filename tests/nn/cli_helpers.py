"""Helpers shared by the command-line tests (test_cli.py, test_cli_digits.py): the
command run in-process, and an --out folder filled as an earlier run left it."""

from __future__ import annotations

import contextlib
import io
import os

from nn.__main__ import main


def run(argv):
    """main(argv) in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def old_run(out, names):
    """Fill ``out`` with an earlier run's files (known contents) and a file of the user's."""
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        (out / name).write_text(f"old {name}")
    (out / "notes.txt").write_text("mine")
    return {name: f"old {name}" for name in names} | {"notes.txt": "mine"}


def contents(out):
    """Every file in ``out`` with its text (directories left out)."""
    return {name: (out / name).read_text() for name in os.listdir(out)
            if not (out / name).is_dir()}
