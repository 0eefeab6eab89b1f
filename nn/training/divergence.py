"""The checks that stop fit when training diverges: one FloatingPointError, always."""

from __future__ import annotations

import math
import operator
from typing import Any

from autograd import Value

from ..module import Module

__all__ = ["check_outputs", "check_weights", "diverged", "grad_norm"]


def diverged(what: str, value: Any, epoch: int) -> FloatingPointError:
    """The one error fit raises when training diverges, whatever the configuration."""
    return FloatingPointError(
        f"fit: {what} became {value!r} at epoch {epoch}; try a smaller learning rate"
    )


def check_outputs(outputs: list, where: str, epoch: int) -> None:
    """FloatingPointError if a model output is NaN: no loss or class can be read from
    it (a loss would return NaN, or refuse the value, before fit could tell why)."""
    for out in outputs:
        for v in out if isinstance(out, list) else (out,):
            if v.data != v.data:
                raise diverged(f"a model output on the {where} data", v.data, epoch)


def check_weights(model: Module, params: list[Value], epoch: int) -> None:
    """FloatingPointError naming the first parameter that is inf or NaN."""
    if math.isfinite(sum([p.data for p in params])):  # inf or NaN in, inf or NaN out
        return
    for name, p in model.named_parameters():
        if not math.isfinite(p.data):
            raise diverged(f"parameter {name!r}", p.data, epoch)


def grad_norm(params: list[Value]) -> float:
    """The L2 norm of the gradients; scaled (hypot) only when the plain sum overflows."""
    grads = [p.grad for p in params]
    norm = math.sqrt(sum(map(operator.mul, grads, grads)))  # the same products, same order
    if norm == math.inf:
        norm = math.hypot(*grads)
    return norm

