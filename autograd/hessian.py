"""Second derivatives at a point: ``hessian(f, values)``.

Built only on the public API: ``grad(create_graph=True)`` gives first
derivatives that are Values with graphs of their own, and a second ``grad``
differentiates each of them. The helpers that check ``f`` and its point are
shared with ``gradcheck``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable

from .backward import grad
from .value import Value


def hessian(f: Callable[..., Value], values) -> list[list[float]]:
    """The matrix of second derivatives of ``f`` at ``values``, as a list of rows.

    ``f(*xs)`` must build its result from the Values it is given. ``values`` is a
    sequence of real numbers (or Values, whose ``data`` is used; their ``.grad``
    is left alone). Entry ``[i][j]`` is d^2 f / (dx_i dx_j), computed exactly by
    differentiating the graph of each first derivative again::

        >>> hessian(lambda x, y: x * x * y, [3.0, 2.0])
        [[4.0, 6.0], [6.0, 0.0]]
    """
    check_callable(f, "hessian")
    leaves = fresh_leaves(points(values, "hessian", "values"))
    out = call(f, leaves, "hessian")
    firsts = grad(out, leaves, create_graph=True)
    return [[float(d.data) for d in grad(g, leaves)] for g in firsts]


# --- argument checks shared with gradcheck ------------------------------------------

def check_callable(f, who: str) -> None:
    if not callable(f):
        raise TypeError(f"{who}: f must be callable, got {f!r} ({type(f).__name__})")


def points(inputs, who: str, name: str = "inputs") -> list[float]:
    """``inputs`` as a non-empty list of finite floats; a lone number counts as one."""
    if isinstance(inputs, (Value, numbers.Real)):
        inputs = [inputs]
    elif isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(
            f"{who}: {name} must be a sequence of real numbers or Values, "
            f"got {inputs!r} ({type(inputs).__name__})"
        )
    xs = []
    for i, x in enumerate(inputs):
        if isinstance(x, Value):
            x = x.data
        elif isinstance(x, numbers.Real):
            try:
                x = float(x)
            except OverflowError:
                raise OverflowError(f"{who}: {name}[{i}] is too large for a float") from None
        else:
            raise TypeError(
                f"{who}: {name}[{i}] must be a real number or a Value, "
                f"got {x!r} ({type(x).__name__})"
            )
        if not math.isfinite(x):
            raise ValueError(f"{who}: {name}[{i}] must be finite, got {x!r}")
        xs.append(x)
    if not xs:
        raise ValueError(f"{who}: {name} must not be empty; give one number per argument of f")
    return xs


def fresh_leaves(xs: list[float]) -> list[Value]:
    """New leaves for ``xs``, so no Value of the caller is ever touched."""
    return [Value(x, label=f"x{i}") for i, x in enumerate(xs)]


def call(f, leaves: list[Value], who: str) -> Value:
    """``f(*leaves)``, which must be a Value built from them."""
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(
            f"{who}: f must return a Value, got {out!r} ({type(out).__name__}); "
            "build the result from the Values f is given"
        )
    return out
