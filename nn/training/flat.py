"""fit's parameters as one float64 array while map's array code trains an epoch.

Map's array code reads the parameters as one array and returns their gradients
as one array. Between two such batches nothing outside fit looks at the
parameters, so copying 2,410 numbers into Values and out again per batch (and
stepping the optimiser, taking the gradient norm and checking the weights one
Value at a time) is work no one sees. Here the numbers stay in arrays: the
weights, the last gradient and the optimiser's buffers (``exp_avg`` and
``exp_avg_sq``, or the momentum buffer). ``sync`` writes them back into the
Values' ``.data`` and ``.grad`` and into the optimiser's lists; fit calls it
before anything else can look: the end of each epoch's batches (so validation,
the best-epoch snapshot, perturbation, the schedule and callbacks see the
Values), a batch that runs another way, an error, Ctrl-C.

The optimiser's array step is its own (``_step_arrays`` beside ``step`` in
``nn.optim``): each element goes through the loop's float operations in its
order, so weights and buffers are what its loop would make of the same
gradients, bit for bit. Only nn's own SGD, Adam and AdamW are stepped so; any
other optimiser (a subclass too), a regulariser (it reads ``.data`` every
batch) or an optimiser over other parameters keeps the Values current.
"""

from __future__ import annotations

import math
import operator
from typing import Any

from autograd import Value

from ..module import Module
from ..optim import SGD, Adam, AdamW
from .divergence import check_weights

__all__ = ["FlatParams"]

_ARRAY_OPTIMIZERS = (SGD, Adam, AdamW)


class FlatParams:
    """The weights, last gradient and optimiser buffers of a fit as arrays, in the
    optimiser's parameter order (see the module docstring)."""

    def __init__(self, np: Any, opt: Any, model: Module) -> None:
        self.np = np
        self.opt = opt
        self.model = model
        self.params: list[Value] = opt.params
        self.live = False  # the arrays hold the numbers; the Values are behind
        self.theta: Any = None  # the weights
        self.grad: Any = None  # the last batch's gradient (None: on the Values)
        self._buffers: dict | None = None

    @staticmethod
    def takes(opt: Any, params: list[Value], extra: list[Value], regs: list) -> bool:
        """Whether fit can keep this run's parameters in arrays between batches."""
        return (type(opt) in _ARRAY_OPTIMIZERS and not extra and not regs
                and len(opt.params) == len(params))

    def positions(self, values: list[Value]) -> Any:
        """Where each Value sits in the parameter order (an index array), or None
        if one is not a parameter of the optimiser."""
        at = {id(p): i for i, p in enumerate(self.params)}
        try:
            return self.np.array([at[id(v)] for v in values], dtype=self.np.intp)
        except KeyError:
            return None

    def load(self) -> None:
        """Read the numbers from the Values and the optimiser: the arrays take over."""
        np = self.np
        self.theta = np.array([p.data for p in self.params], dtype=np.float64)
        self._buffers = self.opt._arrays(np)
        self.grad = None
        self.live = True

    def sync(self) -> None:
        """Write the arrays back into the Values and the optimiser (nothing if they
        are current)."""
        if not self.live:
            return
        self.live = False
        for p, x in zip(self.params, self.theta.tolist(), strict=True):
            p.data = x
        if self.grad is not None:
            for p, d in zip(self.params, self.grad.tolist(), strict=True):
                p.grad = d
        self.opt._load_arrays(self._buffers)

    def grad_norm(self) -> float:
        """The gradient's L2 norm, as ``divergence.grad_norm`` takes it (a sum in
        another order: equal to 1e-12 relative, scaled when the squares overflow)."""
        g = self.grad
        with self.np.errstate(all="ignore"):
            norm = math.sqrt(float(g @ g))
        if not math.isfinite(norm):
            grads = g.tolist()
            norm = math.sqrt(sum(map(operator.mul, grads, grads)))
            if norm == math.inf:
                norm = math.hypot(*grads)
        return norm

    def step(self, epoch: int) -> None:
        """The optimiser's step on the arrays; FloatingPointError naming the first
        parameter that became inf or NaN (as ``check_weights`` does)."""
        np = self.np
        with np.errstate(all="ignore"):
            self.theta = self.opt._step_arrays(np, self.theta, self.grad, self._buffers)
        if not np.isfinite(self.theta).all():
            self.sync()
            check_weights(self.model, self.params, epoch)
