"""Scoring a model on a data set under no_grad: validation inside fit, and evaluate."""

from __future__ import annotations

import math
from collections.abc import Sequence

from autograd import no_grad

from ..module import Module
from ..tasks import Task
from .divergence import diverged

__all__ = ["outputs", "score"]


def outputs(model: Module, X: Sequence) -> list:
    with no_grad():
        return [model(x) for x in X]



def score(
    task: Task, outputs: list, labels: Sequence, epoch: int | None = None
) -> tuple[float, float | None]:
    """(loss, accuracy) of outputs computed under no_grad.

    Within ``fit`` (``epoch`` given) a non-finite loss is divergence, raised as
    FloatingPointError before any class is predicted from the outputs.
    """
    with no_grad():
        loss = task(outputs, labels).data
    if epoch is not None and not math.isfinite(loss):
        raise diverged("the validation loss", loss, epoch)
    if not task.classification:
        return loss, None
    hits = sum(1 for o, t in zip(outputs, labels, strict=True) if task.predict_one(o) == t)
    return loss, hits / len(labels)
