"""Bounds on a drawn graph's nodes: an interval that contains a node's value for every
input in the stated bounds, so a step that could grow too large is built on tanh of its
operands instead. Where an op never decreases, the interval is the op table's own rule."""

from __future__ import annotations

from collections.abc import Callable

from .. import ops

# built (e*e inside e*e + 1, say); beyond it the step squashes its operands.
_HUGE = 1e100

# --- three readings of one graph: Values, bounds, and source text --------------------

def _non_decreasing(table_op: ops.Op | Callable[..., ops.Op], unsafe: str | None = None):
    """An Interval method for an op that never decreases as its operand grows: the op
    table's forward rule at both ends. ``table_op`` is an op of the table, or one of its
    factories (leaky_relu(slope), ...), called with the method's parameters. ``unsafe``
    names the check that the interval lies where the op is defined (x > 0)."""

    def method(self, *params):
        if unsafe is not None:
            assert self.lo > 0, unsafe
        op = table_op if isinstance(table_op, ops.Op) else table_op(*params)
        return self._map(op.forward)

    return method


def _non_decreasing_nary(table_op: ops.Op):
    """The same for an n-ary op that never decreases as any operand grows."""

    def method(xs):
        return Interval(table_op.forward([x.lo for x in xs]), table_op.forward([x.hi for x in xs]))

    return staticmethod(method)


class Interval:
    """[lo, hi] containing a node's value for every input in bounds.

    Supports the operations the op builders use. Domain-restricted ones assert
    that the interval is inside the domain: this is the check that the
    constructions below are safe, not a filter.
    """

    __slots__ = ("lo", "hi")

    def __init__(self, lo: float, hi: float) -> None:
        self.lo, self.hi = float(lo), float(hi)
        if not max(abs(self.lo), abs(self.hi)) <= _HUGE:  # also catches NaN
            raise OverflowError("interval too wide")

    @property
    def magnitude(self) -> float:
        return max(abs(self.lo), abs(self.hi))

    def _map(self, fn: Callable[[float], float]) -> Interval:
        """For a non-decreasing ``fn``."""
        return Interval(fn(self.lo), fn(self.hi))

    def __add__(self, o):
        o = _as_interval(o)
        return Interval(self.lo + o.lo, self.hi + o.hi)

    __radd__ = __add__

    def __sub__(self, o):
        o = _as_interval(o)
        return Interval(self.lo - o.hi, self.hi - o.lo)

    def __rsub__(self, o):
        return _as_interval(o) - self

    def __mul__(self, o):
        if o is self:  # a square is never negative: the form e*e + 1 relies on it
            m = self.magnitude
            low = 0.0 if self.lo <= 0 <= self.hi else min(self.lo**2, self.hi**2)
            return Interval(low, m * m)
        o = _as_interval(o)
        c = (self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi)
        return Interval(min(c), max(c))

    __rmul__ = __mul__

    def __truediv__(self, o):
        o = _as_interval(o)
        assert o.lo > 0, "unsafe division"
        return self * Interval(1.0 / o.hi, 1.0 / o.lo)

    def __pow__(self, p):
        if isinstance(p, Interval):
            assert self.lo > 0, "unsafe power with a Value exponent"
            c = [b**e for b in (self.lo, self.hi) for e in (p.lo, p.hi)]
            return Interval(min(c), max(c))
        if float(p).is_integer() and p >= 0:
            k = int(p)
            if k % 2 or self.lo >= 0:
                return Interval(self.lo**k, self.hi**k) if k else Interval(1, 1)
            if self.hi <= 0:
                return Interval(self.hi**k, self.lo**k)
            return Interval(0.0, self.magnitude**k)
        assert self.lo > 0, "unsafe power"
        a, b = self.lo**p, self.hi**p
        return Interval(min(a, b), max(a, b))

    def __neg__(self):
        return Interval(-self.hi, -self.lo)

    def __abs__(self):
        if self.lo >= 0:
            return Interval(self.lo, self.hi)  # a new object: identity means "same node"
        if self.hi <= 0:
            return -self
        return Interval(0.0, self.magnitude)

    # Derived from the op table. The strategies draw leaky_relu slopes and elu alphas
    # >= 0 only, where those two never decrease.
    exp = _non_decreasing(ops.EXP)
    log = _non_decreasing(ops.LOG, "unsafe log")
    sqrt = _non_decreasing(ops.SQRT, "unsafe sqrt")  # > 0: the derivative is infinite at 0
    tanh = _non_decreasing(ops.TANH)
    sigmoid = _non_decreasing(ops.SIGMOID)
    softplus = _non_decreasing(ops.SOFTPLUS)
    relu = _non_decreasing(ops.RELU)
    leaky_relu = _non_decreasing(ops.leaky_relu)
    elu = _non_decreasing(ops.elu)
    hardtanh = _non_decreasing(ops.hardtanh)
    step = _non_decreasing(ops.STEP)
    n_sum = _non_decreasing_nary(ops.SUM)
    n_max = _non_decreasing_nary(ops.MAX)
    n_logsumexp = _non_decreasing_nary(ops.LOGSUMEXP)

    def sin(self):
        return Interval(-1.0, 1.0)

    cos = sin

    def sign(self):
        return Interval(-1.0 if self.lo < 0 else 0.0, 1.0 if self.hi > 0 else 0.0)

    def prelu(self, slope):
        """x for x > 0, else slope * x: not monotone in the slope, so each side apart."""
        slope = _as_interval(slope)
        sides = []
        if self.hi > 0:
            sides.append(Interval(max(self.lo, 0.0), self.hi))
        if self.lo <= 0:
            sides.append(Interval(self.lo, min(self.hi, 0.0)) * slope)
        return Interval(min(p.lo for p in sides), max(p.hi for p in sides))

    @staticmethod
    def n_dot(ws, xs, bias):
        total = Interval.n_sum([w * x for w, x in zip(ws, xs, strict=True)])
        return total if bias is None else total + bias


def leaf_interval(lo: float, hi: float) -> Interval:
    """An input's interval, which may be wider than any result is allowed to be."""
    iv = object.__new__(Interval)
    iv.lo, iv.hi = float(lo), float(hi)
    return iv


def _as_interval(x) -> Interval:
    return x if isinstance(x, Interval) else Interval(x, x)
