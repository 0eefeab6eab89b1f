"""fit's argument checks: each bad value is refused with an error naming it."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from typing import Any

from autograd import Value

from ..module import Module

__all__ = [
    "check_callables", "check_count", "check_features", "check_flag", "check_nonneg",
    "check_regularizers",
]


def check_callables(name: str, spec: Any, what: str) -> list[Callable]:
    """None, one callable, or a list of them, as a list; TypeError naming ``name``."""
    if spec is None:
        return []
    if callable(spec):
        return [spec]
    if isinstance(spec, (str, bytes, Mapping, Set)) or not isinstance(spec, Iterable):
        raise TypeError(f"fit: {name} must be a callable or a list of callables ({what}); "
                        f"got {spec!r}")
    out = list(spec)
    for r in out:
        if not callable(r):
            raise TypeError(f"fit: {name} must be callables ({what}); got {r!r}")
    return out


def check_regularizers(spec: Any) -> list[Callable[[Module], Any]]:
    return check_callables(
        "regularizers", spec, "model -> Value, e.g. lambda m: nn.l2(m, lam=1e-4)"
    )


def check_features(owner: str, X: Sequence, name: str = "X") -> None:
    """ValueError/TypeError naming the first example that is not finite numbers.

    A NaN or inf feature would only surface later as a NaN loss, blamed on the
    learning rate; an example may be a number (one input) or a list of numbers.
    """
    for i, row in enumerate(X):
        if isinstance(row, (Value, numbers.Real)):
            items = [(f"{name}[{i}]", row)]
        elif isinstance(row, (str, bytes, Mapping, Set)) or not isinstance(row, Iterable):
            raise TypeError(
                f"{owner}: {name}[{i}] must be a list of numbers (one example), got {row!r}"
            )
        elif _plain_finite(row):
            continue  # the common case, without naming every element
        else:
            items = [(f"{name}[{i}][{j}]", v) for j, v in enumerate(row)]
        for where, v in items:
            d = v.data if isinstance(v, Value) else v
            if not isinstance(d, numbers.Real):
                raise TypeError(f"{owner}: {where} must be a number, got {v!r}")
            try:
                finite = math.isfinite(d)
            except OverflowError:  # an int no float can hold
                finite = False
            if not finite:
                raise ValueError(f"{owner}: {where} = {d!r:.40} is not a finite number")


def _plain_finite(row: Any) -> bool:
    """True if ``row`` is a list or tuple of finite floats and ints (not bools)."""
    if row.__class__ is not list and row.__class__ is not tuple:
        return False
    if not set(map(type, row)) <= _PLAIN_NUMBERS:
        return False
    try:
        return math.isfinite(sum(row))  # inf or NaN in, inf or NaN out (or an overflow)
    except OverflowError:  # an int no float can hold: the slow path names it
        return False


_PLAIN_NUMBERS = {float, int}


def check_flag(name: str, value: Any, allow_none: bool = False) -> Any:
    if value is None and allow_none:
        return None
    if not isinstance(value, bool):
        options = "True, False or None" if allow_none else "True or False"
        raise TypeError(f"fit: {name} must be {options}, got {value!r}")
    return value


def check_count(name: str, value: Any, low: int, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"fit: {name} must be an int >= {low}, got {value!r}")
    return int(value)


def check_nonneg(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"fit: {name} must be a number, got {value!r}")
    try:
        x = float(value)
    except OverflowError:  # an int beyond the float range
        x = math.inf
    if not (math.isfinite(x) and x >= 0):
        raise ValueError(f"fit: {name} must be a finite number >= 0, got {value!r:.40}")
    return x

