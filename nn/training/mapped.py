"""fit's array path: each mini-batch through map's array code in one run (numpy).

One example's loss, ``example(x, target)``, returning the loss and (as aux) the
model's outputs, is traced once per fit (``autograd.compile.loops.trace_program``)
and written as array code by ``autograd.compile.vector``, the generator behind
``step.map``: every per-example number becomes an array over the batch, a
layer's dots become matrix products, the parameters are one array. Each batch
is one forward and one backward of that code; the backward's gradients (of the
batch mean) are written into ``.grad``, and the outputs come back from the same
run for accuracy. ``step.map`` itself would also trace through ``compile``'s
per-call path, which writes and compiles scalar code this path never runs, and
dispatch each batch by argument structure; fit knows its batches' structure, so
it calls the array code directly, under map's rules: a batch where a guard of
the trace fails, or an op would raise, runs another way. fit gives its batches
by position, so each is cut from one matrix of the training set made once, and
with nn's own optimisers the parameters stay in arrays between batches
(``flat``; fit writes them back before anything else looks).

The per-example losses are written so that the label never picks a branch
(a trace specialises on a label that did, and would serve one class): the
class index becomes a one-hot row, ``-log softmax`` is
``logsumexp(d) - dot(onehot, d)``, a 0/1 label on a logit is the sign
``1 - 2y`` of ``softplus(sign * z)``, a -1/+1 label the factor of the hinge.
Each is the eager loss's own terms (``0 * d`` adds an exact zero; a sign of +-1
multiplies exactly), summed in another order (a matrix product, a batch
sum), so the History agrees with eager's to 1e-12 relative, not bit for bit.

What this path does not take goes to the scalar loops (``compiled``) or to
eager fit, which give eager's numbers and raise eager's errors: ``bce`` on
probabilities (its clamp branches per example); a fit whose first batch has
fewer than ``MIN_BATCH`` examples, where numpy's per-call cost outweighs the
loops; a model whose trace reads numbers it is not passed; a batch whose run
fails a guard, would raise, or gives a NaN or infinite loss or output.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import autograd
from autograd import Value, no_grad
from autograd.mode import current_recorder, is_anomaly_enabled

from ..module import Module
from ..tasks import _THRESHOLD, Task
from .flat import FlatParams

__all__ = ["MIN_BATCH", "MapStep", "numpy_available"]

# Below this many examples a batch runs through the scalar loops (bit for bit eager).
MIN_BATCH = 8



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
    """Batches of ``fit`` through map's array code (see the module docstring)."""

    def __init__(self, model: Module, task: Task, regs: Sequence[Callable[[Module], Any]],
                 width: int) -> None:
        self.model = model
        self.task = task
        self.regs = list(regs)
        self._loss = _loss_of(task)
        self.traces = 0  # how many times the example was traced: one per fit
        self.fallbacks = 0  # batches given to the scalar loops or eager fit
        self._ready = False
        self._code: Any = None  # the VectorTrace, or None: this fit runs no batch here
        self._values: list[Value] = []  # the program's inputs: the model's parameters
        self._width = 0  # numbers per example: the row, then the target
        self._others: list[Value] | None = None
        self.flat: FlatParams | None = None  # the parameters as arrays between batches
        self._at: Any = None  # flat: where each program input sits in the parameter order
        self._grad_at: Any = None  # flat: where each gradient the code returns goes
        self._data: tuple | None = None  # the training set, cut into batches by position
        self._all: Any = None  # its columns (one per example), built once; False: none
        self._val: tuple = (None, None)  # the validation set and its columns

    def use(self, opt: Any, params: list[Value], extra: list[Value], X: Sequence,
            labels: Sequence) -> None:
        """This fit's optimiser and training set: batches given by position
        (``train_batch(..., idx)``) are cut from one matrix of the set, and with nn's
        own optimisers (and no regulariser) the parameters stay in arrays between
        batches (``flat``; fit syncs them)."""
        import numpy as np

        self._data = (X, labels)
        if FlatParams.takes(opt, params, extra, self.regs):
            self.flat = FlatParams(np, opt, self.model)

    @staticmethod
    def takes(task: Task) -> bool:
        """Whether this path trains ``task`` (else the scalar loops do)."""
        return _loss_of(task) is not None

    def _example(self, x: list, target: Any) -> tuple[Value, list]:
        out = self.model(x)
        outs = [out] if isinstance(out, Value) else list(out)
        return self._loss(outs, target), outs

    def _build(self, row: list[float], target: Any) -> bool:
        """Trace one example and write its array code, once per fit; False if it
        cannot be (then every batch takes the scalar loops)."""
        if self._ready:
            return self._code is not None
        self._ready = True
        from autograd.compile import vector
        from autograd.compile.args import flatten
        from autograd.compile.loops import trace_program

        self.traces += 1
        program = trace_program(self._example, row, target)
        if program is None or program.env_guards or not program.inputs or any(
            inp.arg is not None for inp in program.inputs
        ):
            return False  # fn read a number it does not pass, or takes Values per example
        _, raw, vals = flatten((row, target), {})
        if vals or raw != _flat(row, target):
            return False  # the numbers are not laid out as rows are built below
        try:
            code = vector.build(program)
        except vector.Unsupported:
            return False
        if not code.flat or not code.batched_result:
            return False
        self._code = code
        self._values = [inp.value for inp in program.inputs]
        code.operands = [program.inputs[k].value for k in code.grad_inputs]
        self._width = len(raw)
        return True

    def _matrix(self, X: Sequence, labels: Sequence) -> Any:
        """The batch's numbers, one column per example (rows then targets), or None."""
        import numpy as np

        n = len(X)
        try:
            rows = np.array(X, dtype=np.float64)
            targets = np.array(_targets(self.task, labels), dtype=np.float64).reshape(n, -1)
        except (TypeError, ValueError, OverflowError):
            return None  # rows of different lengths, or not numbers: eager raises its error
        if rows.ndim != 2 or rows.shape[1] + targets.shape[1] != self._width:
            return None
        m = np.empty((self._width, n))
        m[: rows.shape[1]] = rows.T
        m[rows.shape[1] :] = targets.T
        return m

    def _columns(self, X: Sequence, labels: Sequence, idx: list[int] | None) -> Any:
        """The batch's matrix: cut from the training set's when the batch comes by
        position, else made from its rows."""
        if idx is not None and self._data is not None:
            if self._all is None:
                self._all = self._matrix(*self._data)
                if self._all is None:
                    self._all = False  # a row eager must refuse: batch by batch then
            if self._all is not False:
                return self._all[:, idx]
        if self._val[0] is X:
            return self._val[1]
        return self._matrix(X, labels)

    def _run(self, X: Sequence, labels: Sequence, grads: bool, idx: list[int] | None = None,
             ins: Any = None) -> tuple | None:
        """(the batch's mean loss, the outputs' matrix, the tape), or None: run the
        batch another way (a guard failed, an op would raise, a NaN)."""
        import numpy as np

        if current_recorder() is not None or is_anomaly_enabled() or not len(X):
            return None
        if not self._ready:
            batch = self._batch(X[:1], labels[:1])
            if batch is None or not self._build(*batch[0]):
                return None
        if self._code is None:
            return None
        cols = self._columns(X, labels, idx)
        if cols is None:
            return None
        code, n = self._code, len(X)
        if ins is None:
            ins = np.array([v.data for v in self._values], dtype=np.float64)
        with np.errstate(all="ignore"):
            ok, bad, out, tape = code.forward(ins, cols, n, grads)
        if not np.all(ok) or np.any(bad):
            self.fallbacks += 1
            return None  # another path, or an op that raises: the scalar loops say what
        outs = np.empty((n, len(code.aux)))
        for j, a in enumerate(code.aux):
            outs[:, j] = tape[a] if isinstance(a, str) else a
        loss = float(np.sum(out)) / n
        if not math.isfinite(loss) or np.isnan(outs).any():
            self.fallbacks += 1
            return None  # eager fit says which output or loss diverged, as it always does
        return loss, outs, tape

    def _batch(self, X: Sequence, labels: Sequence) -> list | None:
        try:
            rows = [[float(v) for v in x] for x in X]
        except (TypeError, ValueError, OverflowError):
            return None
        return list(zip(rows, _targets(self.task, labels), strict=True))

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
                    extra: list[Value], idx: list[int] | None = None
                    ) -> tuple[float, int | None] | None:
        """(the batch's loss with regularisers, how many examples it classifies
        right), every ``.grad`` set (in ``flat`` when that is live afterwards); or
        None with nothing changed: the batch must run another way (``flat`` synced
        first). ``idx``: the batch's positions in the set given to ``use``."""
        import numpy as np

        if len(X) < MIN_BATCH and not self._ready:
            return None  # small batches: the scalar loops (a short last batch is not)
        flat = self.flat
        if flat is not None and self._code is not None:
            if self._grad_at is None:
                self._flat_positions(flat)
            if self.flat is not None:
                return self._flat_batch(flat, X, labels, idx)
        got = self._run(X, labels, True, idx)
        if got is None:
            return None
        loss, outs, tape = got
        total = Value(loss)
        for reg in self.regs:
            total = total + reg(self.model)
        value = total.data
        if not math.isfinite(value):
            return None  # a regulariser diverged: eager fit raises its error
        n = len(X)
        with np.errstate(all="ignore"):
            grads = self._code.backward(np.full(n, 1.0 / n), tape).tolist()
        if self._others is None:  # what the gradients below do not reach: zeroed
            reached = {id(v) for v in self._code.operands}
            self._others = [p for p in (*params, *extra) if id(p) not in reached]
        for p in self._others:
            p.grad = 0.0
        for v, d in zip(self._code.operands, grads, strict=True):
            v.grad = 0.0 + d  # what zeroing and then adding gives
        if total._rule is not None:  # the regularisers' gradients, by the engine
            total.backward()
        return value, self._hits(outs, labels)

    def _flat_positions(self, flat: FlatParams) -> None:
        at = flat.positions(self._values)
        if at is None:  # the code reads a number the optimiser does not own
            self.flat = None
            return
        self._at = None if at.tolist() == list(range(len(at))) else at
        self._grad_at = at[self._code.grad_inputs]

    def _flat_batch(self, flat: FlatParams, X: Sequence, labels: Sequence,
                    idx: list[int] | None) -> tuple[float, int | None] | None:
        """train_batch with the parameters in ``flat``: the gradient goes there."""
        import numpy as np

        if not flat.live:
            flat.load()
        ins = flat.theta if self._at is None else flat.theta[self._at]
        got = self._run(X, labels, True, idx, ins)
        if got is None:
            flat.sync()
            return None
        loss, outs, tape = got
        n = len(X)
        with np.errstate(all="ignore"):
            grads = self._code.backward(np.full(n, 1.0 / n), tape)
        g = np.zeros(len(flat.params))
        g[self._grad_at] = grads + 0.0  # what zeroing and then adding gives
        flat.grad = g
        return loss, self._hits(outs, labels)

    def validation(self, X: Sequence, labels: Sequence) -> tuple[float, float | None] | None:
        """(the validation set's mean loss, its accuracy or None), or None: score it
        eagerly (as it is when training never built the array code)."""
        if not self._ready:
            return None
        if self._val[0] is not X and self._code is not None:
            self._val = (X, self._matrix(X, labels))  # the same set every epoch
        with no_grad():
            got = self._run(X, labels, False)
        if got is None:
            return None
        loss, outs, _ = got
        hits = self._hits(outs, labels)
        return loss, None if hits is None else hits / len(labels)


def _flat(row: list[float], target: Any) -> list[float]:
    return [*row, *target] if isinstance(target, list) else [*row, target]
