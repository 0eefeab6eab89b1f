"""Loss specifications: what ``fit(loss=...)`` means by a name.

A name such as "cross_entropy" says more than which loss function to call: it
also says how labels become targets and how an output becomes a predicted
class. A ``Task`` holds all three, resolved once against the data and the
model's output width:

============== ============================ ============================ =====================
name           outputs per example          labels -> targets            predicted class
============== ============================ ============================ =====================
mse            1 (regression)               float targets as they are    (none: regression)
mse            1, int labels 0/1            0.0 / 1.0                    1 if output > 0.5
mse            K, int labels 0..K-1         one-hot rows                 argmax
bce            1 probability (sigmoid)      0.0 / 1.0                    1 if p > 0.5
bce            K probabilities              one-hot rows                 argmax
bce_logits     1 logit                      0.0 / 1.0                    1 if logit > 0
hinge          1 score                      0/1 or -1/+1, both as -1/+1  score > 0 (1, else 0/-1)
cross_entropy  K logits                     class index 0..K-1           argmax
============== ============================ ============================ =====================

"logistic" is another name for "bce_logits". "auto" picks one: float labels
give "mse"; a model with K > 1 outputs gives "cross_entropy"; labels in
{-1, +1} give "hinge"; otherwise "bce_logits". ``mse`` with int labels and one
output is the lecture's squared-error classifier.

A callable ``loss(outputs, targets) -> Value`` is used as it is (targets are the
labels unchanged); it has no predicted class, so accuracy is not reported.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd import Value

from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    mse_loss,
)

__all__ = ["LOSSES", "TARGETS", "Task", "get_task", "output_width"]

LOSSES: tuple[str, ...] = (
    "auto", "mse", "bce", "bce_logits", "logistic", "hinge", "cross_entropy",
)
_ALIASES = {"logistic": "bce_logits"}
# How labels are read: real targets, 0/1, -1/+1, one-hot against K outputs, class index.
TARGETS: tuple[str, ...] = ("real", "binary", "signed", "onehot", "index", "custom")
# The output value at which a one-output classifier switches from class 0 to class 1.
_THRESHOLD = {"mse": 0.5, "bce": 0.5, "bce_logits": 0.0, "hinge": 0.0}


def output_width(output: Any) -> int:
    """How many numbers a model gives per example: 1 for a Value, else the list length."""
    if isinstance(output, Value):
        return 1
    if (
        isinstance(output, Sequence) and not isinstance(output, (str, bytes)) and output
        and all(isinstance(o, Value) for o in output)
    ):
        return len(output)
    raise TypeError(
        f"the model must return a Value or a non-empty list of Values, got {output!r}"
    )


def _squeeze(output: Any) -> Any:
    """A one-element list of outputs as its element, so it pairs with a scalar target."""
    if not isinstance(output, Value) and len(output) == 1:
        return output[0]
    return output


def _is_int(label: Any) -> bool:
    return isinstance(label, numbers.Integral)


def _no_nan(values: Sequence[float]) -> None:
    """A NaN output has no class: comparisons with NaN are all False, so any rule
    would silently answer class 0."""
    if any(v != v for v in values):
        raise ValueError(
            f"the model output {values if len(values) > 1 else values[0]!r}: NaN has no "
            "predicted class (are the weights or the inputs NaN?)"
        )


def _argmax(values: Sequence[float]) -> int:
    best = 0
    for i in range(1, len(values)):
        if values[i] > values[best]:
            best = i
    return best


@dataclass(frozen=True)
class Task:
    """A resolved loss specification: loss, label encoding and prediction rule.

    ``Task(loss, target, num_classes)``: see the table in this module's
    docstring. ``task(outputs, labels)`` builds one batch's loss as a single
    graph; ``task.predict_one(output)`` is the predicted class (or the output
    itself, for regression); ``to_dict()`` / ``from_dict()`` are JSON-ready.
    """

    loss: str
    target: str
    num_classes: int | None = None
    fn: Callable[[Any, Any], Any] | None = field(default=None, compare=False, repr=False)

    @property
    def classification(self) -> bool:
        """True when outputs map to class labels (so accuracy means something)."""
        return self.target not in ("real", "custom")

    # --- the loss --------------------------------------------------------------------

    def __call__(self, outputs: Sequence[Any], labels: Sequence[Any]) -> Value:
        """The mean loss over a batch: ``outputs[i]`` is the model's output for example i."""
        if self.fn is not None:
            out = self.fn(outputs, labels)
            return out if isinstance(out, Value) else Value(out)
        outs = [_squeeze(o) for o in outputs]
        name, target = self.loss, self.target
        if name == "cross_entropy":
            return cross_entropy(outs, list(labels))
        if target == "onehot":
            k = self.num_classes
            rows = [[1.0 if c == t else 0.0 for c in range(k)] for t in labels]
            return mse_loss(outs, rows) if name == "mse" else binary_cross_entropy(outs, rows)
        if name == "hinge":
            return hinge_loss(outs, [1.0 if t > 0 else -1.0 for t in labels])
        if name == "mse":
            return mse_loss(outs, list(labels) if target == "real" else [float(t) for t in labels])
        if name == "bce":
            return binary_cross_entropy(outs, [float(t) for t in labels])
        if name == "bce_logits":
            return binary_cross_entropy_with_logits(outs, [float(t) for t in labels])
        raise ValueError(f"Task: no loss {name!r} for target {target!r}")  # pragma: no cover

    # --- predictions -----------------------------------------------------------------

    def predict_one(self, output: Any) -> Any:
        """The predicted class for one output; for regression the output's value(s)."""
        out = _squeeze(output)
        if isinstance(out, Value):
            if self.target in ("real", "custom"):
                return out.data
            _no_nan([out.data])
            if self.target in ("onehot", "index"):  # a one-output multi-class model
                return 0
            positive = out.data > _THRESHOLD[self.loss]
            if positive:
                return 1
            return -1 if self.target == "signed" else 0
        values = [o.data for o in out]
        if self.target in ("real", "custom"):
            return values
        _no_nan(values)
        return _argmax(values)

    @property
    def classes(self) -> list[int]:
        """The class labels, in order ([] for regression and custom losses)."""
        if self.target == "signed":
            return [-1, 1]
        if self.target == "binary":
            return [0, 1]
        if self.target in ("onehot", "index"):
            return list(range(self.num_classes))
        return []

    def margins(self, output: Any) -> list[float]:
        """For each class in ``classes``, by how much it wins: positive only for the
        predicted class. With one output it is +-(output - threshold); with K it is
        z_c - max of the other z. Contour lines at 0 are the decision boundaries.
        """
        out = _squeeze(output)
        if isinstance(out, Value):
            s = out.data - _THRESHOLD[self.loss]
            return [-s, s]
        z = [o.data for o in out]
        margins = []
        for c in range(len(z)):
            rest = max(z[j] for j in range(len(z)) if j != c)
            margins.append(z[c] - rest)
        return margins

    # --- checking labels -------------------------------------------------------------

    def check_labels(self, labels: Sequence[Any], where: str = "y") -> None:
        """ValueError naming the first label this task cannot use."""
        target = self.target
        if target == "custom":
            return
        for i, t in enumerate(labels):
            problem = _label_problem(t, target, self.num_classes)
            if problem:
                raise ValueError(
                    f"loss {self.loss!r} ({_DESCRIBE[target]}): {where}[{i}] = {t!r} {problem}"
                )

    # --- JSON --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"loss": self.loss, "target": self.target, "num_classes": self.num_classes}

    @classmethod
    def from_dict(cls, data: Any) -> Task:
        if not isinstance(data, dict):
            raise ValueError(f"Task.from_dict: expected a dict, got {data!r}")
        loss, target, k = data.get("loss"), data.get("target"), data.get("num_classes")
        if target == "custom":
            raise ValueError(
                f"Task.from_dict: the loss {loss!r} was a callable; pass the callable itself"
            )
        if (loss not in _THRESHOLD and loss != "cross_entropy") or target not in TARGETS:
            raise ValueError(f"Task.from_dict: unknown loss or target in {data!r}")
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ValueError(f"Task.from_dict: num_classes must be a positive int, got {k!r}")
        return cls(loss, target, k)


_DESCRIBE = {
    "real": "regression targets",
    "binary": "labels 0 or 1",
    "signed": "labels -1 or +1",
    "onehot": "class labels 0..K-1",
    "index": "class labels 0..K-1",
}


def _label_problem(t: Any, target: str, k: int | None) -> str:
    """Why label ``t`` does not suit ``target`` ("" if it does)."""
    if target == "real":
        if isinstance(t, Value) or (isinstance(t, numbers.Real) and math.isfinite(t)):
            return ""
        if isinstance(t, Sequence) and all(
            isinstance(v, numbers.Real) and math.isfinite(v) for v in t
        ):
            return ""
        return "is not a finite number"
    if not _is_int(t):
        return "is not an int class label"
    if target == "binary":
        return "" if t in (0, 1) else "must be 0 or 1"
    if target == "signed":
        return "" if t in (-1, 1) else "must be -1 or +1"
    return "" if 0 <= t < k else f"is out of range for {k} classes (0..{k - 1})"


# --- resolving a name ---------------------------------------------------------------------


def get_task(loss: Any = "auto", labels: Sequence[Any] | None = None, outputs: int = 1) -> Task:
    """The Task for ``loss`` (a name, a Task, its dict, or a callable).

    ``labels`` (the training labels, if known) decide between regression and
    classification and between 0/1 and -1/+1; ``outputs`` is how many numbers
    the model gives per example. Without labels, int class labels are assumed.
    Raises ValueError for an unknown name (listing the valid ones) or for a
    name that does not fit the model (e.g. "bce_logits" with 3 outputs).
    """
    if isinstance(loss, Task):
        return loss
    if isinstance(loss, dict):
        return Task.from_dict(loss)
    if callable(loss):
        return Task(getattr(loss, "__name__", type(loss).__name__), "custom", None, loss)
    if not isinstance(loss, str):
        raise TypeError(f"loss must be a name or a callable(outputs, targets), got {loss!r}")
    name = loss.strip().lower()
    if name not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; valid names: {', '.join(LOSSES)}")
    name = _ALIASES.get(name, name)
    ints = labels is None or all(_is_int(t) for t in labels)
    signed = labels is not None and ints and any(t == -1 for t in labels)
    if name == "auto":
        if not ints:
            name = "mse"
        elif outputs > 1:
            name = "cross_entropy"
        else:
            name = "hinge" if signed else "bce_logits"
    if name == "cross_entropy":
        if outputs < 2:
            raise ValueError(
                "loss 'cross_entropy' needs K >= 2 outputs (one logit per class); "
                "the model gives 1 (use 'bce_logits' for two classes)"
            )
        return Task(name, "index", outputs)
    if name == "mse" and not ints:
        return Task(name, "real", None)
    if outputs > 1:
        if name in ("mse", "bce"):
            return Task(name, "onehot", outputs)
        raise ValueError(
            f"loss {name!r} needs one output per example; the model gives {outputs} "
            "(use 'cross_entropy' for K classes)"
        )
    if name == "hinge":
        return Task(name, "signed" if signed else "binary", 2)
    return Task(name, "binary", 2)
