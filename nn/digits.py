"""The 8x8 handwritten digits: real data shipped inside the package, read with the stdlib.

``load_digits()`` reads ``nn/datafiles/digits.txt.gz`` (47 kB; written by
``scripts/make_digits_data.py`` from the copy scikit-learn ships): a few comment
lines crediting the data, then one digit per line, its label, a space and its
64 pixels row by row, each pixel one character of ``0123456789abcdefg``.
Nothing is downloaded and nothing beyond gzip is needed.
"""

from __future__ import annotations

import functools
import gzip
import numbers
from importlib import resources

from .data import make_rng

__all__ = ["DIGITS_CREDIT", "load_digits", "scale_pixels"]

DIGITS_CREDIT = (
    "E. Alpaydin and C. Kaynak (1998), Optical Recognition of Handwritten Digits, "
    "UCI Machine Learning Repository, https://doi.org/10.24432/C50P49, "
    "licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)"
)
_FILE = ("datafiles", "digits.txt.gz")
_PIXELS = "0123456789abcdefg"  # pixel value v is written as _PIXELS[v]
_COUNT = 1797
MAX_PIXEL = 16


@functools.lru_cache(maxsize=1)
def _table() -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...]]:
    """Every digit, parsed once per process: (pixel rows, labels), immutable."""
    path = resources.files("nn").joinpath(*_FILE)
    text = gzip.decompress(path.read_bytes()).decode("ascii")
    value = {c: v for v, c in enumerate(_PIXELS)}
    rows, labels = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        label, _, pixels = line.partition(" ")
        try:
            row = tuple(value[c] for c in pixels)
        except KeyError:
            row = ()
        if len(row) != 64 or label not in "0123456789" or len(label) != 1:
            raise ValueError(f"load_digits: {'/'.join(_FILE)} line {number} is damaged: "
                             f"{line[:80]!r}")
        rows.append(row)
        labels.append(int(label))
    if len(rows) != _COUNT:
        raise ValueError(f"load_digits: {'/'.join(_FILE)} holds {len(rows)} digits, "
                         f"not {_COUNT}")
    return tuple(rows), tuple(labels)


def load_digits(n: int | None = None, seed=0, scale: bool = False) -> tuple[list, list]:
    """The 1,797 handwritten digits of 8x8 pixels: ``X`` rows of 64 ints 0-16, ``y`` 0-9.

    Each row is one 8x8 image read row by row (pixel ``(r, c)`` is ``row[8 * r + c]``);
    a pixel counts the ink in a 4x4 block of the 32x32 scan, so 0 is blank and 16
    is solid. Classes are nearly balanced (174 to 183 of each digit). The data is
    the test set of the UCI optdigits collection, the same 1,797 digits that
    scikit-learn's ``load_digits`` returns, in the same order; it ships inside
    this package (no download).

    ``n`` (default: all): a random subset of n digits, drawn without
    replacement by ``random.Random(seed)`` (``seed`` matters only then).
    ``scale=True``: pixels as floats ``v / 16`` in [0, 1], which is what
    ``fit`` with the default uniform(-1, 1) weights trains well on (raw counts
    up to 16 give pre-activations in the tens and a slower, bumpier start).

    Source and licence: E. Alpaydin and C. Kaynak (1998), Optical Recognition of
    Handwritten Digits, UCI Machine Learning Repository,
    https://doi.org/10.24432/C50P49, licensed CC BY 4.0
    (https://creativecommons.org/licenses/by/4.0/). ``nn.digits.DIGITS_CREDIT``
    holds this line for pictures and reports.
    """
    rows, labels = _table()
    if n is None:
        order = list(range(_COUNT))
    else:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"load_digits: n must be an int or None, got {n!r}")
        if not 1 <= n <= _COUNT:
            raise ValueError(f"load_digits: n must be between 1 and {_COUNT}, got {n!r}")
        order = make_rng("load_digits", seed).sample(range(_COUNT), int(n))
    if not isinstance(scale, bool):
        raise TypeError(f"load_digits: scale must be True or False, got {scale!r}")
    X = [list(rows[i]) for i in order]
    return (scale_pixels(X) if scale else X), [labels[i] for i in order]


def scale_pixels(X: list) -> list[list[float]]:
    """Digit rows with each pixel 0-16 divided by 16: floats in [0, 1].

    Use it on ``load_digits()`` rows (or the rows of a CSV of raw pixels) before
    ``fit`` or ``predict`` with a model trained on ``load_digits(scale=True)``.
    """
    out = []
    for i, row in enumerate(X):
        try:
            out.append([v / MAX_PIXEL for v in row])
        except TypeError:
            raise TypeError(
                f"scale_pixels: X[{i}] must be a row of numbers, got {row!r:.60}"
            ) from None
    return out
