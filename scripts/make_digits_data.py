"""Rebuild nn/datafiles/digits.txt.gz, the 8x8 digits behind nn.load_digits().

    python -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn
    python scripts/make_digits_data.py \
        /tmp/skl/lib/python3.*/site-packages/sklearn/datasets/data/digits.csv.gz

The source is scikit-learn's copy of the UCI optdigits test set (1,797 rows of
64 pixel counts 0-16, then the class 0-9). The output holds the same numbers in
a third less space: a few comment lines crediting the data, then one digit per
line, its label, a space and its 64 pixels row by row, each pixel as one
character of PIXEL_CHARS. gzip runs with mtime 0, so rebuilding gives the same
bytes. Only the standard library is used.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from pathlib import Path

PIXEL_CHARS = "0123456789abcdefg"  # pixel value v is PIXEL_CHARS[v]
HEADER = """\
# Optical Recognition of Handwritten Digits (UCI optdigits, test set, 1,797 digits of 8x8)
# E. Alpaydin and C. Kaynak (1998), UCI Machine Learning Repository, https://doi.org/10.24432/C50P49
# https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits
# Licence: Creative Commons Attribution 4.0 International (CC BY 4.0)
# Format: one digit a line: label, space, 64 pixels row by row, pixel v as "0123456789abcdefg"[v]
"""
OUT = Path(__file__).resolve().parents[1] / "nn" / "datafiles" / "digits.txt.gz"


def convert(source: Path) -> bytes:
    """The gzip bytes of the compact file for sklearn's digits.csv.gz at ``source``."""
    with gzip.open(source, "rt", encoding="ascii", newline="") as f:
        rows = [[int(v) for v in row] for row in csv.reader(f) if row]
    lines = [HEADER]
    for row in rows:
        *pixels, label = row
        if len(pixels) != 64 or not all(0 <= v <= 16 for v in pixels) or not 0 <= label <= 9:
            raise ValueError(f"make_digits_data: unexpected row {row!r}")
        lines.append(f"{label} {''.join(PIXEL_CHARS[v] for v in pixels)}\n")
    text = "".join(lines).encode("ascii")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0, filename="") as g:
        g.write(text)
    return buffer.getvalue()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    data = convert(Path(argv[0]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(data)
    print(f"wrote {OUT} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
