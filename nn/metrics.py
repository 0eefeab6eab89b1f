"""Classification metrics on predicted and true class labels (plain numbers).

    nn.accuracy([0, 1, 1, 0], [0, 1, 0, 0])          # 0.75
    nn.confusion_matrix([0, 1, 1, 0], [0, 1, 0, 0])  # [[2, 1], [0, 1]]: rows = true class

Predictions are labels, not raw outputs: get them with ``nn.predict(model, X)``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from autograd import Value

from ._plain import plain

__all__ = ["accuracy", "confusion_matrix"]


def _pair(who: str, predictions: Any, labels: Any) -> tuple[list, list]:
    predictions, labels = plain(predictions), plain(labels)
    for name, seq in (("predictions", predictions), ("labels", labels)):
        if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence):
            raise TypeError(f"{who}: {name} must be a list, got {type(seq).__name__}")
    if len(predictions) != len(labels):
        raise ValueError(
            f"{who}: length mismatch, {len(predictions)} predictions but {len(labels)} labels"
        )
    if not predictions:
        raise ValueError(f"{who}: needs at least one prediction, got empty lists")
    for name, seq in (("predictions", predictions), ("labels", labels)):
        for i, v in enumerate(seq):
            if isinstance(v, Value):
                raise TypeError(
                    f"{who}: {name}[{i}] is a Value ({v.data!r}); pass class labels, "
                    "e.g. nn.predict(model, X), not raw model outputs"
                )
    return list(predictions), list(labels)


def accuracy(predictions: Sequence[Any], labels: Sequence[Any]) -> float:
    """The fraction of predictions equal to their label, in [0, 1]."""
    preds, labels = _pair("accuracy", predictions, labels)
    correct = sum(1 for p, t in zip(preds, labels, strict=True) if p == t)
    return correct / len(preds)


def _class(who: str, name: str, i: int, v: Any, k: int | None) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise ValueError(f"{who}: {name}[{i}] = {v!r} is not an int class label")
    if v < 0:
        raise ValueError(
            f"{who}: {name}[{i}] = {v!r} is negative; classes are 0..K-1 "
            "(map -1/+1 labels to 0/1 first)"
        )
    if k is not None and v >= k:
        raise ValueError(f"{who}: {name}[{i}] = {v!r} is out of range for num_classes={k}")
    return int(v)


def confusion_matrix(
    predictions: Sequence[Any], labels: Sequence[Any], num_classes: int | None = None
) -> list[list[int]]:
    """Counts ``m[true][predicted]``: row i holds the examples whose true class is i.

    Classes are ints 0..K-1; K is ``num_classes`` or, by default, one more than
    the largest class seen in either list. The diagonal holds the correct
    predictions, so ``sum of the diagonal / number of examples`` is the accuracy.
    """
    who = "confusion_matrix"
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral)
        or num_classes < 1
    ):
        raise ValueError(f"{who}: num_classes must be a positive int, got {num_classes!r}")
    preds, labels = _pair(who, predictions, labels)
    ps = [_class(who, "predictions", i, v, num_classes) for i, v in enumerate(preds)]
    ts = [_class(who, "labels", i, v, num_classes) for i, v in enumerate(labels)]
    k = num_classes if num_classes is not None else max(max(ps), max(ts)) + 1
    matrix = [[0] * k for _ in range(k)]
    for p, t in zip(ps, ts, strict=True):
        matrix[t][p] += 1
    return matrix
