"""fit's compiled training step: each batch through generated code, on plain floats.

The model is traced ONCE, as ``dot(seeds, model(x))`` with the example's
numbers ``x`` and one seed per output as number arguments, and written as
batch loops (``autograd.compile.loops``): a forward over the batch's rows,
and a backward that, seeded with the gradient of each output, adds every
parameter's share in the engine's order (the seeds are the outputs'
gradients, so ``1.0 * seed`` reaches each output exactly as in eager). No
Value node is made per example and no batch graph is sorted.

The loss is the task on the batch's outputs, evaluated eagerly on leaf Values
holding the numbers: the same expression eager fit builds, so the label (which
picks the loss's terms) never enters a trace and one trace serves every class.
The numbers cannot depend on the path: eager's backward of a batch visits the
loss's nodes, then each example's model nodes in example order, then the
regularisers (user code, run eagerly here too); this step does the same three
parts in the same order, so every ``.grad`` receives the same additions.
A failed guard, or an error in the generated backward, gives the batch back to
eager fit, which then runs it (and raises what eager raises).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import autograd
from autograd import Value, no_grad
from autograd.compile.loops import Batched, batched, trace_program
from autograd.mode import current_recorder, is_anomaly_enabled, is_grad_enabled

from ..activations import PReLU
from ..layers import MLP, Layer, Maxout, Neuron, Sequential
from ..module import Module
from ..tasks import Task
from .float_losses import cross_entropy_floats, logistic_floats

# Modules whose forward pass only combines Values with the engine's ops: no
# random draws (RReLU in training), no numbers read out of Values.
_SAFE_MODULES = (MLP, Sequential, Layer, Neuron, Maxout, PReLU)


def compile_safe(model: Module, task: Task) -> str | None:
    """Why ``model`` and ``task`` cannot train compiled, or None if they can."""
    if task.fn is not None:
        return "a custom loss function"
    for name, module in model.named_modules():
        name = name or "the model"
        if type(module) not in _SAFE_MODULES:
            return f"{name} is a {type(module).__name__}"
        spec = getattr(module, "_activation", "relu")
        if callable(spec) and not isinstance(spec, str):
            return f"{name} has a custom activation function"
    return None


class Batch:
    """One batch's forward: the outputs as leaf Values, and what its backward needs."""

    __slots__ = ("outputs", "data_loss", "leaves", "tapes", "total", "seeds")

    def __init__(self, outputs: list, leaves: list, tapes: list) -> None:
        self.outputs = outputs  # per example: a Value, or a list of Values (as the model)
        self.leaves = leaves  # per example: its output Values, flat
        self.tapes = tapes
        self.data_loss: Value | None = None
        self.total: Value | None = None  # Value(data loss) + regularisers
        self.seeds: list | None = None  # the outputs' gradients, when the loss ran on floats


class CompiledStep:
    """Batches of ``fit`` through one traced, batched program (see the module docstring)."""

    def __init__(self, model: Module, task: Task, regs: Sequence[Callable[[Module], Any]]):
        self.model = model
        self.task = task
        self.regs = list(regs)  # user code: run eagerly, so nothing it reads is frozen
        self.traces = 0  # how many times the model was traced: one per fit, whatever the labels
        self._code: Batched | None = None
        self._ins: list = []
        self._as_list = False
        self._ready = False
        self._row_len = -1  # how many numbers the traced example had
        self.fallbacks = 0  # batches given back to eager

    def _seeded(self, x: list, seeds: list) -> tuple[Value, Any]:
        out = self.model(x)
        flat = [out] if isinstance(out, Value) else list(out)
        return autograd.dot(seeds, flat), out

    def _build(self, row: list[float]) -> bool:
        """Trace on one example and write the batch loops, once; False if they cannot
        be written (then every batch runs eagerly)."""
        if self._ready:
            return self._code is not None
        if not is_grad_enabled():
            return False
        self._ready = True
        self._row_len = len(row)
        with no_grad():
            out = self.model(row)
        self._as_list = not isinstance(out, Value)
        width = len(out) if self._as_list else 1
        self.traces += 1
        program = trace_program(self._seeded, row, [1.0] * width)
        if program is None or any(inp.arg is not None for inp in program.inputs):
            return False  # only numbers are passed: every input must be a captured parameter
        self._code = batched(program, late=range(len(row), len(row) + width))
        self._ins = [inp.value for inp in program.inputs]
        return self._code is not None

    @staticmethod
    def rows(X: Sequence) -> list[list[float]] | None:
        """The examples as lists of floats, all of one length (None if one is not a
        list of numbers, or differs in length: eager then raises the model's error)."""
        try:
            rows = [[float(v) for v in x] for x in X]
        except (TypeError, ValueError, OverflowError):
            return None
        if not rows or any(len(r) != len(rows[0]) for r in rows):
            return None
        return rows

    def forward(self, X: Sequence) -> Batch | None:
        """The outputs on ``X`` (leaf Values), or None when the batch must run eagerly."""
        if current_recorder() is not None or is_anomaly_enabled():
            return None
        rows = self.rows(X)
        if rows is None or not self._build(rows[0]) or len(rows[0]) != self._row_len:
            return None  # the loops read exactly the traced example's numbers
        got = self._code.forward(self._ins, rows)
        if got is None:  # a guard failed: another path
            self.fallbacks += 1
            return None
        outs, tapes = got
        outputs, leaves = [], []
        for row in outs:
            vs = [Value(v) for v in row[1:]]
            leaves.append(vs)
            outputs.append(vs if self._as_list else vs[0])
        return Batch(outputs, leaves, tapes)

    def loss(self, batch: Batch, yb: Sequence) -> Value:
        """The batch loss, built as eager fit builds it (outputs are leaves here)."""
        got = None
        if self.task.loss == "cross_entropy" and self._as_list and len(batch.leaves[0]) > 1:
            got = cross_entropy_floats(batch.leaves, yb)
        elif self.task.loss == "bce_logits" and len(batch.leaves[0]) == 1:
            got = logistic_floats(batch.leaves, yb)
        if got is not None:
            value, batch.seeds = got
            data = None
        else:
            data = self.task(batch.outputs, yb)
            value = data.data
        total = Value(value)
        for reg in self.regs:
            total = total + reg(self.model)
        batch.data_loss, batch.total = data, total
        return total

    def backward(self, batch: Batch) -> bool:
        """Every parameter's gradient, added as eager's backward adds it; False (grads
        half made) if the generated backward raised: run the batch eagerly then."""
        if batch.data_loss is not None:
            batch.data_loss.backward()  # the loss's nodes: the outputs' gradients
            lates = [[v.grad for v in vs] for vs in batch.leaves]
        else:
            lates = batch.seeds
        try:
            self._code.backward(1.0, self._ins, batch.tapes, lates)
        except (ArithmeticError, ValueError):
            self.fallbacks += 1
            return False
        if batch.total._rule is not None:  # regularisers: after the data's shares, as eagerly
            batch.total.backward()
        return True

    def outputs(self, X: Sequence) -> list | None:
        """The model's outputs on ``X`` as Values holding the numbers (no graph), for
        validation; None if they must be computed eagerly."""
        batch = self.forward(X)
        return None if batch is None else batch.outputs
