"""fit's compiled training step: the batch loss from compiled per-example pieces.

Every built-in loss is a mean over examples of one example's loss, so a batch's
loss is ``sum(loss_i) / n`` with ``loss_i`` the same task applied to a batch of
one. ``fit(compile=True)`` compiles that per-example function once (per class
label, for classification, since a label picks which terms the loss has) and
builds each batch's loss from replays (regularisers, being user code, run
eagerly on top): the graph backward
walks is then one node per example instead of one per scalar operation, and no
shuffled batch order ever needs a new trace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import autograd
from autograd import Value

from .activations import PReLU
from .layers import MLP, Layer, Maxout, Neuron, Sequential
from .module import Module
from .tasks import Task

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


class CompiledStep:
    """Batch losses for ``fit`` from compiled per-example losses and regularisers."""

    def __init__(self, model: Module, task: Task, regs: Sequence[Callable[[Module], Any]]):
        self.model = model
        self.task = task
        self.regs = list(regs)  # user code: run eagerly, so nothing it reads is frozen
        self._by_label: dict[Any, autograd.Compiled] = {}
        self._regression = autograd.compile(self._example_regression, aux=True)
        self._forward = autograd.compile(self._example_forward, aux=True)

    def _example_regression(self, x: list, target: Any) -> tuple[Value, Any]:
        out = self.model(x)
        return self.task([out], [target]), out

    def _example_forward(self, x: list) -> tuple[Value, Any]:
        return Value(0.0), self.model(x)

    def outputs(self, X: Sequence) -> list:
        """The model's outputs on ``X`` as Values holding the numbers (no graph):
        replayed forward code, for validation and scoring."""
        forward = self._forward
        return [_as_values(forward(x)[1]) for x in X]

    def _example_for(self, label: Any) -> autograd.Compiled:
        f = self._by_label.get(label)
        if f is None:
            task, model = self.task, self.model

            def example(x: list) -> tuple[Value, Any]:
                out = model(x)
                return task([out], [label]), out

            example.__name__ = f"example_loss_label_{label}"
            f = self._by_label[label] = autograd.compile(example, aux=True)
        return f

    @property
    def traces(self) -> int:
        """How many times any piece was traced (the rest of the calls replayed)."""
        pieces = [self._regression, self._forward, *self._by_label.values()]
        return sum(p.traces for p in pieces)

    def __call__(self, xb: Sequence, yb: Sequence) -> tuple[Value, list]:
        """(the batch's loss, the model's outputs as Values holding their numbers)."""
        terms: list[Value] = []
        outputs: list = []
        if self.task.classification:
            for x, label in zip(xb, yb, strict=True):
                loss, out = self._example_for(label)(x)
                terms.append(loss)
                outputs.append(out)
        else:
            for x, target in zip(xb, yb, strict=True):
                loss, out = self._regression(x, target)
                terms.append(loss)
                outputs.append(out)
        batch_loss = autograd.sum(terms) / len(terms)
        for reg in self.regs:
            batch_loss = batch_loss + reg(self.model)
        return batch_loss, [_as_values(o) for o in outputs]


def _as_values(out: Any) -> Any:
    if isinstance(out, list):
        return [Value(o) for o in out]
    return Value(out)
