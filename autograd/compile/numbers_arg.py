"""What fn receives for a number argument while it is traced.

A ``TracedNumber`` behaves as the number it holds (``isinstance`` and every
operator included) and tells the trace how fn used it. Used as an operand of an
engine op (``x * n``, ``x ** n``, ``autograd.sum([n, x])``) it stays a variable
of the Program, so a replay computes with the new number. Any other use
(``n == 0``, ``n in (1, 2)``, ``table.get(n)``, ``xs[n]``, ``float(n)``,
``x.leaky_relu(n)``, ``f"{n}"``) reads the number itself: the trace is then
specialised to it, and a guard makes a call with another number trace again.
It is not a float subclass on purpose: C code (``math.exp``) then has to go
through ``__float__``, which is observed, instead of reading the number silently.
"""

from __future__ import annotations

import operator
from typing import Any

from ..value import Value


class TracedNumber:
    """A number argument during a trace (see the module docstring)."""

    __slots__ = ("_plain", "_index", "_seen")

    def __init__(self, plain: Any, index: int, seen: Any) -> None:
        object.__setattr__(self, "_plain", plain)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_seen", seen)  # called with the index when specialised

    def _read(self) -> Any:
        self._seen(self._index)
        return self._plain

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(n, float) as for the number itself
        return type(self._plain)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._read(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._read(), name, value)  # raises as the number would


def _plain(x: Any) -> Any:
    if type(x) is TracedNumber:
        return x._read()
    return x


def _binary(name: str):
    def method(self, other, *rest):
        if isinstance(other, Value):
            return NotImplemented  # the Value's reflected op records it
        return getattr(self._read(), name)(_plain(other), *rest)

    method.__name__ = name
    return method


def _unary(name: str):
    def method(self, *args):
        return getattr(self._read(), name)(*(_plain(a) for a in args))

    method.__name__ = name
    return method


_BINARY = [
    "add", "sub", "mul", "truediv", "floordiv", "mod", "divmod", "pow", "lshift",
    "rshift", "and", "or", "xor", "matmul",
]
for _op in _BINARY:
    for _name in (f"__{_op}__", f"__r{_op}__"):
        setattr(TracedNumber, _name, _binary(_name))
for _name in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
    setattr(TracedNumber, _name, _binary(_name))
for _name in (
    "__neg__", "__pos__", "__abs__", "__invert__", "__bool__", "__int__", "__float__",
    "__complex__", "__round__", "__trunc__", "__floor__", "__ceil__", "__hash__", "__repr__",
    "__str__", "__format__", "__reduce__", "__reduce_ex__", "__copy__", "__deepcopy__",
    "__sizeof__", "__dir__",
):
    setattr(TracedNumber, _name, _unary(_name))


def _index(self):
    return operator.index(self._read())


TracedNumber.__index__ = _index  # type: ignore[attr-defined]


def _copy(self):
    return self._read()


TracedNumber.__copy__ = _copy  # type: ignore[attr-defined]
TracedNumber.__deepcopy__ = lambda self, memo: self._read()  # type: ignore[attr-defined]
