"""The points ``predict`` scores: numbers on the command line, or the rows of a CSV file
or standard input (comma, semicolon or tab separated, a header row allowed)."""

from __future__ import annotations

import csv
import io
import math
import os
import stat
import sys

from .._text import plural
from .errors import DataError

_SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def point(text: str, where: str, nin: int, sep: str = ",") -> list[float]:
    """The numbers of one point, ``sep``-separated; DataError naming ``where`` if bad."""
    shown = text.strip()
    try:
        values = [float(p.strip()) for p in shown.split(sep)]
    except ValueError:
        raise DataError(
            f"{where}: {shown!r} is not a {_SEPARATOR_NAMES[sep]}-separated list of numbers"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise DataError(f"{where}: {shown!r} holds a non-finite number")
    if len(values) != nin:
        raise DataError(f"{where}: {shown!r} has {plural(len(values), 'number')}; "
                        f"the model takes {nin}")
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _separator(text: str) -> str:
    """The file's separator, from its first non-blank line: a semicolon or a tab if that
    line holds one (spreadsheets in many locales write 1;2), else a comma."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return next((sep for sep in (";", "\t") if sep in first), ",")


def _read_csv_text(path: str) -> str:
    """The text of ``path`` (UTF-8, a BOM allowed), or of standard input for "-"."""
    if path == "-":
        stream = getattr(sys.stdin, "buffer", None)
        data = stream.read() if stream is not None else sys.stdin.read().encode("utf-8")
        return data.decode("utf-8-sig")
    if not stat.S_ISREG(os.stat(path).st_mode):  # a pipe would block forever
        raise DataError(f"--csv {path!r} is not a regular file")
    with open(path, encoding="utf-8-sig", newline="") as f:
        return f.read()


def csv_points(path: str, nin: int) -> list[list[float]]:
    """The points in a CSV file or, for "-", standard input. A first row that holds no
    number is a header; a row of numbers is a point, even the only row of a file.
    Unreadable or malformed input is a DataError naming the file and line."""
    name = "standard input" if path == "-" else repr(path)
    try:
        text = _read_csv_text(path)
    except OSError as err:
        raise DataError(f"--csv: cannot read {name}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise DataError(
            f"--csv {name} is not UTF-8 text (byte 0x{err.object[err.start]:02x} cannot "
            "be decoded); save it as UTF-8"
        ) from None
    sep = _separator(text)
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        for row in reader:
            if row and any(c.strip() for c in row):
                rows.append((reader.line_num, row))
    except csv.Error as err:  # e.g. a field over the csv module's size limit
        raise DataError(f"--csv {name} line {reader.line_num}: {err}") from None
    header = None
    if rows and not any(_is_number(c.strip()) for c in rows[0][1]):
        header = sep.join(rows.pop(0)[1])
    where = "standard input" if path == "-" else path
    points = [point(sep.join(row), f"{where} line {line}", nin, sep) for line, row in rows]
    if not points:
        why = f": its only row, {header!r}, is a header" if header is not None else ""
        raise DataError(f"--csv: {name} holds no points{why}")
    return points
