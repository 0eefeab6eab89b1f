"""The n-ary ops as functions: ``autograd.sum``, ``dot``, ``dots``, ``maximum``,
``logsumexp``, and ``apply_each`` (one op over a list of Values).

Each makes ONE node over all its operands (a neuron's pre-activation is one
``dot`` node, not 2n binary ones), with the operands checked as the binary ops
check theirs. The Value type and node construction live in ``value``.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import ops
from .mode import FLAGS, is_grad_enabled
from .value import (
    Constant,
    Number,
    Value,
    _check_anomaly,
    _nary,
    _new,
    _node,
    _operand,
)


def _operands(values: Iterable, op: str) -> list:
    if isinstance(values, Value) or not isinstance(values, Iterable):
        raise TypeError(f"{op}: expected an iterable of Values or numbers, got {values!r}")
    return [_operand(x, op) for x in values]


def sum_values(values: Iterable[Value | Number]) -> Value:
    """One n-ary "sum" node over all the values (0.0 for an empty iterable)."""
    operands = _operands(values, "sum")
    if not operands:
        return Constant(0.0)
    return _nary(ops.SUM, operands)


def dot(
    ws: Iterable[Value | Number],
    xs: Iterable[Value | Number],
    bias: Value | Number | None = None,
) -> Value:
    """One n-ary "dot" node: sum of w_i * x_i (+ bias), with no temporaries.

    Operands are laid out w_1..w_n, x_1..x_n, then the bias if given, so a
    neuron's pre-activation is a single node instead of 2n binary ones.
    """
    w = ws if isinstance(ws, (list, tuple)) else _sequence(ws, "dot", "ws")
    x = xs if isinstance(xs, (list, tuple)) else _sequence(xs, "dot", "xs")
    if len(w) != len(x):
        raise ValueError(f"dot: length mismatch, {len(w)} weights and {len(x)} inputs")
    operands = [*w, *x]
    if bias is not None:
        operands.append(bias)
    for v in operands:
        if v.__class__ is not Value:  # numbers (or Constants): take the checked path
            operands = [_operand(v, "dot") for v in operands]
            break
    if not operands:
        return Constant(0.0)
    return _nary(ops.DOT, operands)


def dots(
    rows: Iterable[Iterable[Value | Number]],
    xs: Iterable[Value | Number],
    biases: Iterable[Value | Number | None] | None = None,
) -> list[Value]:
    """One "dot" node per row of weights, all reading the same inputs ``xs``.

    The same nodes as ``[dot(w, xs, bias=b) for w, b in zip(rows, biases)]``, but
    the shared inputs are checked and read once for the whole layer, not once
    per neuron.
    """
    x = _checked(xs if isinstance(xs, (list, tuple)) else _sequence(xs, "dots", "xs"), "dots")
    x_data = [v._data for v in x]
    rows = rows if isinstance(rows, (list, tuple)) else _sequence(rows, "dots", "rows")
    if biases is None:
        biases = [None] * len(rows)
    elif not isinstance(biases, (list, tuple)):
        biases = _sequence(biases, "dots", "biases")
    if len(biases) != len(rows):
        raise ValueError(f"dots: {len(rows)} rows of weights but {len(biases)} biases")
    weighted_sum, rule = ops.dot_sum, ops.DOT
    record = not FLAGS[0] or is_grad_enabled()  # what _node decides, decided once per layer
    out = []
    for row, b in zip(rows, biases, strict=True):
        if not isinstance(row, (list, tuple)):
            row = _sequence(row, "dots", "row")
        w = row
        data = [v._data for v in w if v.__class__ is Value]  # reads and checks in one pass
        if len(data) != len(w):  # numbers (or Constants) among the weights
            w = _checked(row, "dots")
            data = [v._data for v in w]
        if len(w) != len(x):
            raise ValueError(f"dots: length mismatch, {len(w)} weights and {len(x)} inputs")
        total = weighted_sum(data, x_data)
        operands = [*w, *x]
        if b is not None:
            if b.__class__ is not Value:
                b = _operand(b, "dots")
            operands.append(b)
            total = total + b._data
        v = _new(Value)  # _node, inlined: a layer makes one of these per unit
        v.data = total
        v.grad = 0.0
        v.label = ""
        if record:
            v._rule = rule
            v._a = operands
            v._b = None
        else:
            v._rule = v._a = v._b = None
        if FLAGS[1]:
            _check_anomaly(v, rule, operands, None)
        out.append(v)
    return out


def apply_each(fn, values: list[Value]) -> list[Value]:
    """``[fn(v) for v in values]`` for Values: the same nodes, values and errors.

    For a Value method that is one op with no parameter (``Value.relu``,
    ``Value.tanh``, ...) the op's forward runs in one loop, not once through the
    method per value: a layer's activations are half of an MLP's nodes. While
    anomaly detection or a compile trace watches new nodes, and after any forward
    error, the method itself runs, so hooks and messages are exactly the method's.
    """
    rule = _METHOD_OPS.get(fn) if fn.__class__ is _FUNCTION and not FLAGS[1] else None
    if rule is not None:
        forward = rule.forward
        try:
            return [_node(forward(v._data), rule, v, None) for v in values]
        except (ArithmeticError, ValueError):
            pass  # no hook has seen these nodes: the method below raises its own error
    return [fn(v) for v in values]


_FUNCTION = type(sum_values)
_METHOD_OPS = {  # Value's methods that are exactly ``_apply(op, self)``
    Value.exp: ops.EXP, Value.log: ops.LOG, Value.sqrt: ops.SQRT, Value.tanh: ops.TANH,
    Value.sigmoid: ops.SIGMOID, Value.relu: ops.RELU, Value.softplus: ops.SOFTPLUS,
    Value.sin: ops.SIN, Value.cos: ops.COS, Value.step: ops.STEP, Value.sign: ops.SIGN,
}


def _sequence(values, op: str, name: str) -> tuple:
    """``values`` as a tuple, or a TypeError naming the function and argument."""
    if isinstance(values, Value) or not isinstance(values, Iterable):
        raise TypeError(f"{op}: {name} must be an iterable of Values or numbers, got {values!r}")
    return tuple(values)


def _checked(values: list | tuple, op: str) -> list | tuple:
    """``values`` with every plain number made a Constant (a no-op for all-Value input)."""
    for v in values:
        if v.__class__ is not Value:
            return [_operand(v, op) for v in values]
    return values


def maximum(values: Iterable[Value | Number]) -> Value:
    """One n-ary "max" node; its gradient goes to the first maximal input."""
    operands = _operands(values, "maximum")
    if not operands:
        raise ValueError("maximum: needs at least one value, got an empty iterable")
    return _nary(ops.MAX, operands)


def logsumexp(values: Iterable[Value | Number]) -> Value:
    """One n-ary "logsumexp" node: log(sum e^x), exact and stable at any finite input.

    Its gradient is the softmax of the inputs. Use it instead of shifting by a max
    read from ``.data``: it stays exact under ``autograd.compile``.
    """
    operands = _operands(values, "logsumexp")
    if not operands:
        raise ValueError("logsumexp: needs at least one value, got an empty iterable")
    return _nary(ops.LOGSUMEXP, operands)
