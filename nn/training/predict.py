"""Using a trained model: predict and evaluate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._plain import plain
from ..data import check_xy
from ..module import Module
from ..tasks import Task, get_task, output_width
from .checks import check_features
from .scoring import outputs as _outputs
from .scoring import score as _score

__all__ = ["evaluate", "predict"]


def _task_for(model: Module, X: Sequence, loss: Any) -> tuple[Task, list]:
    X = plain(X)  # a numpy array, or a list of numpy rows, as lists
    if isinstance(X, (str, bytes)) or not isinstance(X, Sequence) or not X:
        raise ValueError("X must be a non-empty list of examples")
    check_features("predict", X)
    outputs = _outputs(model, X)
    return get_task(loss, None, output_width(outputs[0])), outputs


def predict(model: Module, X: Sequence, loss: Any = "auto") -> list:
    """The predicted class of each example in X (a list, or a numpy array), by the rule
    of ``loss``.

    ``loss`` is a name (as for ``fit``; without labels "auto" means argmax for
    K outputs, logit > 0 for one), or ``history.task`` from ``fit``, which
    remembers exactly how training read the labels (for a regression task the
    predictions are the outputs' values).
    """
    task, outputs = _task_for(model, X, loss)
    return [task.predict_one(o) for o in outputs]


def evaluate(model: Module, X: Sequence, y: Sequence, loss: Any = "auto") -> dict[str, Any]:
    """``{"loss": ..., "accuracy": ...}`` of ``model`` on (X, y), computed under no_grad.

    The loss is the data loss alone (no regularisers); accuracy is None for
    regression. ``loss`` is resolved against ``y`` as ``fit`` does.
    """
    X, y = check_xy("evaluate", X, y)
    check_features("evaluate", X)
    outputs = _outputs(model, X)
    task = get_task(loss, y, output_width(outputs[0]))
    task.check_labels(y)
    value, acc = _score(task, outputs, y)
    return {"loss": value, "accuracy": acc}
