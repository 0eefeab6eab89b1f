"""The ops the strategies draw, each built in a form whose domain is safe by construction,
on Values, Intervals and Sources alike (three readings of one graph)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import hypothesis.strategies as st
from hypothesis.strategies import SearchStrategy

from .. import Value, dot, logsumexp, maximum
from .. import sum as value_sum


class ValueReading:
    """The n-ary helpers for real Values (the other readings define their own)."""

    n_sum = staticmethod(value_sum)

    @staticmethod
    def n_dot(ws, xs, bias):
        return dot(ws, xs) if bias is None else dot(ws, xs, bias)

    n_max = staticmethod(maximum)
    n_logsumexp = staticmethod(logsumexp)


def reading(x):
    return ValueReading if isinstance(x, Value) else type(x)


# --- the ops: how each is built so that its domain is safe ----------------------------

@dataclass(frozen=True)
class OpBuilder:
    """``build(operands, param)`` works on Values, Intervals and Sources alike."""

    arity: Callable[[object], int]
    build: Callable[[list, object], object]
    params: SearchStrategy | None = None


def _fixed(n: int) -> Callable[[object], int]:
    return lambda param: n


def _pow(xs, p):
    if p == "value":  # Value ** Value needs a positive base: sigmoid(e) + 0.5 is in (0.5, 1.5)
        return (xs[0].sigmoid() + 0.5) ** xs[1]
    if isinstance(p, int):  # small integer powers are defined for every base
        return xs[0] ** p
    return (xs[0] * xs[0] + 1) ** p  # fractional and negative powers of a base >= 1


def _log(xs, p):
    e = xs[0]
    return (e * e + 1).log() if p == "square" else (e.softplus() + 1e-3).log()


def _dot(xs, bias):
    n = (len(xs) - bias) // 2
    k = reading(xs[0])
    return k.n_dot(xs[:n], xs[n : 2 * n], xs[-1] if bias else None)


SMOOTH = {
    "+": OpBuilder(_fixed(2), lambda xs, p: xs[0] + xs[1]),
    "-": OpBuilder(_fixed(2), lambda xs, p: xs[0] - xs[1]),
    "*": OpBuilder(_fixed(2), lambda xs, p: xs[0] * xs[1]),
    "/": OpBuilder(_fixed(2), lambda xs, p: xs[0] / (xs[1] * xs[1] + 1)),
    "**": OpBuilder(
        lambda p: 2 if p == "value" else 1,
        _pow,
        st.sampled_from([2, 3, 1, "value", 0.5, -1.0, 1.5, -0.5]),
    ),
    "neg": OpBuilder(_fixed(1), lambda xs, p: -xs[0]),
    "exp": OpBuilder(_fixed(1), lambda xs, p: xs[0].exp()),
    "log": OpBuilder(_fixed(1), _log, st.sampled_from(["square", "softplus"])),
    "sqrt": OpBuilder(_fixed(1), lambda xs, p: (xs[0] * xs[0] + 1).sqrt()),
    "tanh": OpBuilder(_fixed(1), lambda xs, p: xs[0].tanh()),
    "sigmoid": OpBuilder(_fixed(1), lambda xs, p: xs[0].sigmoid()),
    "softplus": OpBuilder(_fixed(1), lambda xs, p: xs[0].softplus()),
    "sin": OpBuilder(_fixed(1), lambda xs, p: xs[0].sin()),
    "cos": OpBuilder(_fixed(1), lambda xs, p: xs[0].cos()),
    "sum": OpBuilder(lambda n: n, lambda xs, p: reading(xs[0]).n_sum(xs), st.integers(2, 4)),
    # param: (pairs, bias?) flattened to the operand count; odd means a bias operand
    "dot": OpBuilder(lambda n: n, lambda xs, p: _dot(xs, p % 2), st.sampled_from([2, 3, 4, 5])),
    "logsumexp": OpBuilder(
        lambda n: n, lambda xs, p: reading(xs[0]).n_logsumexp(xs), st.integers(1, 3)
    ),
}

NONSMOOTH = {
    "abs": OpBuilder(_fixed(1), lambda xs, p: abs(xs[0])),
    "relu": OpBuilder(_fixed(1), lambda xs, p: xs[0].relu()),
    "leaky_relu": OpBuilder(
        _fixed(1), lambda xs, p: xs[0].leaky_relu(p), st.sampled_from([0.01, 0.1, 0.2])
    ),
    "elu": OpBuilder(_fixed(1), lambda xs, p: xs[0].elu(p), st.sampled_from([1.0, 0.5])),
    "hardtanh": OpBuilder(
        _fixed(1),
        lambda xs, p: xs[0].hardtanh(*p),
        st.sampled_from([(-1.0, 1.0), (-2.0, 0.5), (0.0, 3.0)]),
    ),
    "step": OpBuilder(_fixed(1), lambda xs, p: xs[0].step()),
    "sign": OpBuilder(_fixed(1), lambda xs, p: xs[0].sign()),
    "maximum": OpBuilder(lambda n: n, lambda xs, p: reading(xs[0]).n_max(xs), st.integers(2, 3)),
    # the slope is a node too (it learns in nn.PReLU); the kink is at x = 0
    "prelu": OpBuilder(_fixed(2), lambda xs, p: xs[0].prelu(xs[1])),
}

OPS = {**SMOOTH, **NONSMOOTH}

#: Ops smooth in the form they are built: safe for gradcheck and gradgradcheck anywhere.
SMOOTH_OPS: tuple[str, ...] = tuple(SMOOTH)
#: Ops with kinks (one-sided derivatives at isolated points).
NONSMOOTH_OPS: tuple[str, ...] = tuple(NONSMOOTH)
#: Every op name the strategies know.
ALL_OPS: tuple[str, ...] = SMOOTH_OPS + NONSMOOTH_OPS
