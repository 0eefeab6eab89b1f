"""Splitting a data set and cutting it into mini-batches.

A data set here is two equal-length lists: ``X`` (one row of features per
example, e.g. ``[[0.3, -1.2], ...]``) and ``y`` (one label or target per example).
Randomness comes from ``random.Random`` instances made from the seed you pass,
never from the global ``random`` state, so these never disturb (and are never
disturbed by) ``random.seed`` calls that make a model reproducible.

The lectures' three ways to use the data per update are all ``batches``:
full-batch gradient descent is ``batch_size=None``, stochastic gradient descent
(one random example at a time) is ``batch_size=1``, and mini-batch gradient
descent is anything in between.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Iterator, Sequence

from ._plain import plain

__all__ = ["batches", "num_batches", "train_val_split"]


def make_rng(owner: str, seed) -> random.Random:
    """A private generator: from an int seed, a fresh one for None, or yours as is."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None:
        return random.Random()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{owner}: seed must be an int, None or a random.Random, got {seed!r}")
    return random.Random(int(seed))


def check_xy(owner: str, X, y) -> tuple[list, list]:
    """X and y as lists of the same, non-zero length (numpy arrays and numpy rows as lists)."""
    X, y = plain(X), plain(y)
    for name, value in (("X", X), ("y", y)):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise TypeError(f"{owner}: {name} must be a list, got {type(value).__name__}")
    if len(X) != len(y):
        raise ValueError(
            f"{owner}: X and y must have the same length, got len(X)={len(X)} and len(y)={len(y)}"
        )
    if not X:
        raise ValueError(f"{owner}: X and y are empty")
    return list(X), list(y)


def _batch_size(owner: str, batch_size) -> int | None:
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"{owner}: batch_size must be an int or None, got {batch_size!r}")
    if batch_size <= 0:
        raise ValueError(
            f"{owner}: batch_size must be >= 1 (or None for full batch), got {batch_size!r}"
        )
    return int(batch_size)


def train_val_split(
    X: Sequence, y: Sequence, val_fraction: float = 0.2, seed=0
) -> tuple[list, list, list, list]:
    """Shuffle the examples (seeded) and hold out a fraction for validation.

    Returns ``(X_train, y_train, X_val, y_val)``. The validation set has
    ``round(len(X) * val_fraction)`` examples, but at least one and at most
    ``len(X) - 1``, so neither side is ever empty. The two sides are disjoint
    and together hold every example once; rows are the same objects as in X.
    ``seed`` is an int (default 0), None for fresh randomness, or a
    ``random.Random``.
    """
    X, y = check_xy("train_val_split", X, y)
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, numbers.Real):
        raise TypeError(f"train_val_split: val_fraction must be a number, got {val_fraction!r}")
    if not 0.0 < val_fraction < 1.0:  # also rejects NaN
        raise ValueError(
            f"train_val_split: val_fraction must be strictly between 0 and 1, got {val_fraction!r}"
        )
    n = len(X)
    if n < 2:
        raise ValueError(f"train_val_split: needs at least 2 examples to split, got {n}")
    n_val = min(n - 1, max(1, round(n * val_fraction)))
    order = list(range(n))
    make_rng("train_val_split", seed).shuffle(order)
    val, train = order[:n_val], order[n_val:]
    return [X[i] for i in train], [y[i] for i in train], [X[i] for i in val], [y[i] for i in val]


def num_batches(n: int, batch_size: int | None) -> int:
    """How many batches ``batches`` yields per pass over n examples."""
    batch_size = _batch_size("num_batches", batch_size)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"num_batches: n must be an int >= 0, got {n!r}")
    if n == 0:
        return 0
    return 1 if batch_size is None else math.ceil(n / batch_size)


def batches(
    X: Sequence, y: Sequence, batch_size: int | None, shuffle: bool = True, seed=None
) -> Iterator[tuple[list, list]]:
    """One pass (epoch) over the data in mini-batches: yields ``(X_batch, y_batch)``.

    Every example appears exactly once per pass. ``batch_size=None`` gives the
    whole data set as one batch (full-batch gradient descent); otherwise each
    batch has ``batch_size`` examples except possibly the last, which keeps the
    remainder (a batch_size larger than the data gives one batch). With
    ``shuffle`` the order is a random permutation: ``seed`` an int makes it
    reproducible, None draws fresh randomness, and a ``random.Random`` you pass
    is used (and advanced) directly, so one generator gives a new, reproducible
    order every epoch. Arguments are checked when you call ``batches``, before
    the first batch is asked for.
    """
    X, y = check_xy("batches", X, y)
    size = _batch_size("batches", batch_size)
    if not isinstance(shuffle, bool):
        raise TypeError(f"batches: shuffle must be True or False, got {shuffle!r}")
    if not shuffle and seed is not None:
        make_rng("batches", seed)  # still type-check it
    chunks = index_batches(len(X), size, make_rng("batches", seed) if shuffle else None)
    return _cut(X, y, chunks)


def index_batches(n: int, size: int | None, rng: random.Random | None) -> list[list[int]]:
    """The positions of each batch of ``batches``: ``range(n)`` shuffled by ``rng``
    (None: in order), cut into runs of ``size`` (None: one). fit takes these from
    data it has checked once, rather than checking it again every epoch."""
    order = list(range(n))
    if rng is not None:
        rng.shuffle(order)
    if size is None:
        size = max(n, 1)
    return [order[start : start + size] for start in range(0, n, size)]


def _cut(X: list, y: list, chunks: list[list[int]]) -> Iterator[tuple[list, list]]:
    for chunk in chunks:
        yield [X[i] for i in chunk], [y[i] for i in chunk]
