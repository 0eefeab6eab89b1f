"""fit's array path: each mini-batch as one ``step.map`` over its examples (numpy).

The model and one example's loss are compiled once, as ``example(x, target)``
returning the loss and (as aux) the model's outputs; each batch is then
``map(batch, reduce="mean")``: one run of array code over the whole batch,
whose backward fills every parameter's ``.grad``. The outputs come back from
the same run, for accuracy and fit's NaN check.

The per-example losses are written so that the label never picks a branch
(``map`` traces one path per branch, so a label that chose one would cost a
trace per class): the class index becomes a one-hot row, ``-log softmax`` is
``logsumexp(d) - dot(onehot, d)``, a 0/1 label on a logit is the sign
``1 - 2y`` of ``softplus(sign * z)``, a -1/+1 label the factor of the hinge.
Each is the eager loss's own terms (``0 * d`` adds an exact zero; a sign of +-1
multiplies exactly), summed in another order (a matrix product, a batch
sum), so the History agrees with eager's to 1e-12 relative, not bit for bit.

What this path does not take (``bce`` on probabilities, whose clamp branches
per example; batches smaller than ``MIN_BATCH``, where numpy's per-call cost
outweighs the loop; a map that raises, or gives a NaN or infinite loss or
output) goes to the scalar loops or to eager fit, which give eager's numbers
and raise eager's errors.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import autograd
from autograd import Value, no_grad
from autograd.mode import current_recorder, is_anomaly_enabled

from ..module import Module
from ..tasks import _THRESHOLD, Task

__all__ = ["MIN_BATCH", "MapStep", "numpy_available"]

# Below this many examples a batch runs through the scalar loops (bit for bit eager).
MIN_BATCH = 8
_FLOAT = {float}



def numpy_available() -> bool:
    """Whether numpy imports (the ``fast`` extra); fit's map path needs it."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def _loss_of(task: Task) -> Callable[[list, Any], Value] | None:
    """One example's loss, ``loss(outputs, target)``, with the target as ``targets``
    encodes it; None for a task this path does not take."""
    name, target = task.loss, task.target
    if name == "cross_entropy" and target == "index":
        return _cross_entropy
    if name == "mse" and target in ("real", "binary", "onehot"):
        return _mse
    if name == "bce_logits" and target == "binary":
        return _logistic
    if name == "hinge" and target in ("binary", "signed"):
        return _hinge
    return None


def _cross_entropy(outs: list, onehot: list) -> Value:
    m = autograd.maximum(outs)
    ds = [z - m for z in outs]
    return autograd.logsumexp(ds) - autograd.dot(onehot, ds)


def _mse(outs: list, t: Any) -> Value:
    ts = t if isinstance(t, list) else [t]
    diffs = [z - v for z, v in zip(outs, ts, strict=True)]
    return autograd.dot(diffs, diffs) / float(len(diffs))


def _logistic(outs: list, sign: float) -> Value:
    return (outs[0] * sign).softplus()


def _hinge(outs: list, y: float) -> Value:
    return (1.0 - outs[0] * y).relu()


def _targets(task: Task, labels: Sequence) -> list:
    """Each label as the number (or row of numbers) the per-example loss reads."""
    name, target = task.loss, task.target
    if target == "index":
        k = task.num_classes
        return [[1.0 if c == t else 0.0 for c in range(k)] for t in labels]
    if target == "onehot":
        k = task.num_classes
        return [[1.0 if c == t else 0.0 for c in range(k)] for t in labels]
    if name == "bce_logits":
        return [1.0 - 2.0 * float(t) for t in labels]
    if name == "hinge":
        return [1.0 if t > 0 else -1.0 for t in labels]
    return [[float(v) for v in t] if isinstance(t, (list, tuple)) else float(t) for t in labels]


class MapStep:
    """Batches of ``fit`` through ``step.map`` (see the module docstring)."""

    def __init__(self, model: Module, task: Task, regs: Sequence[Callable[[Module], Any]],
                 width: int) -> None:
        from autograd.compile.batch import run

        self.model = model
        self.task = task
        self.regs = list(regs)
        self._loss = _loss_of(task)
        self._run = run
        self._as_list = width > 1
        self.step = autograd.compile(self._example, aux=True)
        self.fallbacks = 0  # batches given to the scalar loops or eager fit

    @staticmethod
    def takes(task: Task) -> bool:
        """Whether this path trains ``task`` (else the scalar loops do)."""
        return _loss_of(task) is not None

    def _example(self, x: list, target: Any) -> tuple[Value, list]:
        out = self.model(x)
        outs = [out] if isinstance(out, Value) else list(out)
        return self._loss(outs, target), outs

    def _batch(self, X: Sequence, labels: Sequence) -> list | None:
        try:  # map reads rows of floats fastest; a row that is one already is kept
            rows = [x if x.__class__ is list and set(map(type, x)) == _FLOAT
                    else [float(v) for v in x] for x in X]
        except (TypeError, ValueError, OverflowError):
            return None
        if not rows or any(len(r) != len(rows[0]) for r in rows):
            return None  # eager raises the model's own error
        return list(zip(rows, _targets(self.task, labels), strict=True))

    def _map(self, X: Sequence, labels: Sequence) -> tuple[Value, Any] | None:
        """(the batch's mean loss, the outputs as a matrix, one row per example), or
        None: run the batch another way."""
        if current_recorder() is not None or is_anomaly_enabled():
            return None
        batch = self._batch(X, labels)
        if batch is None:
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a path compile runs eagerly: same numbers
                loss, extras = self._run(self.step, batch, "mean", aux=True)
        except Exception:  # noqa: BLE001 - eager fit runs the batch and raises what it raises
            self.fallbacks += 1
            return None
        import numpy as np

        outs = np.array(extras, dtype=np.float64)
        if not math.isfinite(loss.data) or np.isnan(outs).any():
            self.fallbacks += 1
            return None  # eager fit says which output or loss diverged, as it always does
        return loss, outs

    def _hits(self, outs: Any, labels: Sequence) -> int | None:
        """How many examples ``task.predict_one`` would classify right (None for
        regression), from the outputs' matrix: argmax (the first of equal maxima) over
        K outputs, the threshold for one."""
        import numpy as np

        task = self.task
        if not task.classification:
            return None
        if outs.shape[1] > 1:
            predicted = np.argmax(outs, axis=1).tolist()
        elif task.target in ("onehot", "index"):
            predicted = [0] * len(outs)
        else:
            low = -1 if task.target == "signed" else 0
            predicted = np.where(outs[:, 0] > _THRESHOLD[task.loss], 1, low).tolist()
        return sum(1 for p, t in zip(predicted, labels, strict=True) if p == t)

    def train_batch(self, X: Sequence, labels: Sequence, params: list[Value],
                    extra: list[Value]) -> tuple[float, int | None] | None:
        """(the batch's loss with regularisers, how many examples it classifies
        right), every ``.grad`` set; or None with nothing changed: the batch must run
        another way."""
        if len(X) < MIN_BATCH:
            return None
        got = self._map(X, labels)
        if got is None:
            return None
        loss, outs = got
        total = loss
        for reg in self.regs:
            total = total + reg(self.model)
        value = total.data
        if not math.isfinite(value):
            return None  # a regulariser diverged: eager fit raises its error
        for p in params:
            p.grad = 0.0
        for p in extra:
            p.grad = 0.0
        total.backward()
        return value, self._hits(outs, labels)

    def validation(self, X: Sequence, labels: Sequence) -> tuple[float, float | None] | None:
        """(the validation set's mean loss, its accuracy or None), or None: score it
        eagerly."""
        with no_grad():
            got = self._map(X, labels)
        if got is None:
            return None
        loss, outs = got
        hits = self._hits(outs, labels)
        return loss.data, None if hits is None else hits / len(labels)
