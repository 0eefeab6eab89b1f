"""Value: one float, its gradient, and the op and operands that produced it.

A graph is made of millions of these, so a Value is small: six slots (and a
weak-reference slot, used only by anomaly detection) and no per-node closure.
The op (an entry of ``ops``) says how to read the operand slots: ``_a`` for a
unary op, ``_a`` and ``_b`` for a binary op, and for an n-ary op (sum, dot,
max) ``_a`` holds the tuple of operands. Nodes refer only to
their operands, never to their consumers, so graphs hold no reference cycles and
are freed by reference counting the moment the last handle goes.
"""

from __future__ import annotations

import functools
import math
import numbers
import threading
import traceback
from collections.abc import Iterable

from . import ops
from .mode import (
    FLAGS,
    AnomalyError,
    creation_sites,
    current_recorder,
    is_grad_enabled,
)
from .mode import _local as _thread_state

Number = int | float
_REAL = (float, int)


class Value:
    """A scalar node of the computation graph."""

    __slots__ = ("data", "grad", "label", "_rule", "_a", "_b", "__weakref__")
    is_constant = False  # overridden by Constant: a leaf made from a plain number

    def __init__(
        self, data: Number, _children: Iterable[Value] = (), _op: str = "", label: str = ""
    ) -> None:
        """A leaf, or (micrograd's form) a node over ``_children`` made by user code.

        ``Value(t, (x,), 'tanh')`` records a node whose derivative rule is the
        ``_backward`` closure the caller then assigns, exactly as in micrograd.
        """
        if type(data) is not float:  # type(): a traced number argument claims float's class
            data = _leaf_number(data) if FLAGS[1] else _real(data, "Value()")
        if not isinstance(label, str):
            raise TypeError(f"Value(): label must be a str, got {label!r} ({type(label).__name__})")
        self.data = data
        self.grad = 0.0
        self.label = label
        self._rule = None
        self._a = None
        self._b = None
        if _children != ():
            _adopt_children(self, _children, _op)
        if FLAGS[1]:
            _check_anomaly(self)

    # --- graph structure (read-only views) --------------------------------

    @property
    def op(self) -> str:
        """The op that made this node: "" for a leaf, else e.g. "+", "tanh", "dot"."""
        rule = self._rule
        return "" if rule is None else rule.name

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in operand order."""
        rule = self._rule
        if rule is None:
            return ()
        if rule.arity == 2:
            return (self._a, self._b)
        if rule.arity == 1:
            return (self._a,)
        return tuple(self._a)

    _prev = parents  # micrograd's name, so its drawing code runs unchanged

    @property
    def _op(self) -> str:
        return self.op

    @property
    def _backward(self):
        """This node's local chain-rule step, as micrograd's ``node._backward()``:
        calling it adds this node's ``.grad`` times each local derivative into its
        operands' ``.grad``. For a node made with ``Value(data, _children, _op)`` it
        is the closure user code assigned (a no-op until then)."""
        rule = self._rule
        if rule is None:
            return _no_step
        if rule.custom:
            return self._b if self._b is not None else _no_step
        from .backward import local_step

        return functools.partial(local_step, self)

    @_backward.setter
    def _backward(self, fn) -> None:
        if self._rule is None or not self._rule.custom:
            raise AttributeError(
                f"_backward can be assigned only to a node made with Value(data, _children, "
                f"_op) (micrograd's form), not to {self!r}"
            )
        if not callable(fn):
            raise TypeError(f"_backward must be callable, got {fn!r}")
        self._b = fn

    @property
    def is_leaf(self) -> bool:
        return self._rule is None

    def __repr__(self) -> str:
        parts = [f"data={self.data!r}", f"grad={self.grad!r}"]
        if self.label:
            parts.append(f"label={self.label!r}")
        if self._rule is not None:
            parts.append(f"op={self._rule.name!r}")
        text = f"{type(self).__name__}({', '.join(parts)})"
        if FLAGS[1]:  # str(), f-strings and format() come here too
            _observe_decision(self, "repr", None, text)
        return text

    # --- conversions and comparisons (on data; == stays identity) ----------

    # Each of these decides a Python branch on this Value's number; while
    # autograd.compile traces in this thread, the decision is recorded as a guard.

    def __float__(self) -> float:
        result = float(self._data)
        if FLAGS[1]:
            _observe_decision(self, "float", None, result)
        return result

    def __int__(self) -> int:
        result = int(self._data)
        if FLAGS[1]:
            _observe_decision(self, "int", None, result)
        return result

    def __bool__(self) -> bool:
        result = bool(self._data)
        if FLAGS[1]:
            _observe_decision(self, "bool", None, result)
        return result

    def __lt__(self, other: Value | Number) -> bool:
        result = self._data < _data(other, "<")
        if FLAGS[1]:
            _observe_decision(self, "<", other, result)
        return result

    def __le__(self, other: Value | Number) -> bool:
        result = self._data <= _data(other, "<=")
        if FLAGS[1]:
            _observe_decision(self, "<=", other, result)
        return result

    def __gt__(self, other: Value | Number) -> bool:
        result = self._data > _data(other, ">")
        if FLAGS[1]:
            _observe_decision(self, ">", other, result)
        return result

    def __ge__(self, other: Value | Number) -> bool:
        result = self._data >= _data(other, ">=")
        if FLAGS[1]:
            _observe_decision(self, ">=", other, result)
        return result

    __hash__ = object.__hash__

    # --- arithmetic ----------------------------------------------------------

    def __add__(self, other: Value | Number) -> Value:
        if other.__class__ is not Value:
            other = _operand(other, "+")
        return _node(self._data + other._data, ops.ADD, self, other)

    def __radd__(self, other: Number) -> Value:
        return _node_or_raise(ops.ADD, _operand(other, "+"), self)

    def __sub__(self, other: Value | Number) -> Value:
        if other.__class__ is not Value:
            other = _operand(other, "-")
        return _node(self._data - other._data, ops.SUB, self, other)

    def __rsub__(self, other: Number) -> Value:
        return _node_or_raise(ops.SUB, _operand(other, "-"), self)

    def __mul__(self, other: Value | Number) -> Value:
        if other.__class__ is not Value:
            other = _operand(other, "*")
        return _node(self._data * other._data, ops.MUL, self, other)

    def __rmul__(self, other: Number) -> Value:
        return _node_or_raise(ops.MUL, _operand(other, "*"), self)

    def __truediv__(self, other: Value | Number) -> Value:
        return _node_or_raise(ops.DIV, self, _operand(other, "/"))

    def __rtruediv__(self, other: Number) -> Value:
        return _node_or_raise(ops.DIV, _operand(other, "/"), self)

    def __pow__(self, other: Value | Number) -> Value:
        if isinstance(other, Value) and not other.is_constant:
            return _node_or_raise(ops.POW, self, other)
        return _node_or_raise(ops.POW_NUMBER, self, _operand(other, "**"))

    def __rpow__(self, other: Number) -> Value:
        return _node_or_raise(ops.POW, _operand(other, "**"), self)

    def __neg__(self) -> Value:
        return _node(-self._data, ops.NEG, self, None)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _node(abs(self._data), ops.ABS, self, None)

    # --- functions -------------------------------------------------------------

    def exp(self) -> Value:
        return _apply(ops.EXP, self)

    def log(self) -> Value:
        return _apply(ops.LOG, self)

    def sqrt(self) -> Value:
        return _apply(ops.SQRT, self)

    def tanh(self) -> Value:
        return _apply(ops.TANH, self)

    def sigmoid(self) -> Value:
        return _apply(ops.SIGMOID, self)

    def relu(self) -> Value:
        return _apply(ops.RELU, self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Value:
        return _apply(ops.leaky_relu(_finite(negative_slope, "leaky_relu", "negative_slope")), self)

    def elu(self, alpha: float = 1.0) -> Value:
        return _apply(ops.elu(_finite(alpha, "elu", "alpha")), self)

    def prelu(self, slope: Value | Number) -> Value:
        """x for x > 0, else slope * x, with the slope a second operand (learnable).

        At 0 the derivative is the slope, as PyTorch's prelu and leaky_relu give.
        """
        return _node_or_raise(ops.PRELU, self, _operand(slope, "prelu"))

    def softplus(self) -> Value:
        return _apply(ops.SOFTPLUS, self)

    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Value:
        lo, hi = _real(min_val, "hardtanh"), _real(max_val, "hardtanh")
        if not lo <= hi:
            raise ValueError(f"hardtanh: min_val {lo!r} must not exceed max_val {hi!r}")
        return _apply(ops.hardtanh(lo, hi), self)

    def sin(self) -> Value:
        return _apply(ops.SIN, self)

    def cos(self) -> Value:
        return _apply(ops.COS, self)

    def step(self) -> Value:
        return _apply(ops.STEP, self)

    def sign(self) -> Value:
        return _apply(ops.SIGN, self)

    # --- pickle and copy: flat, so depth costs no recursion ------------------

    def __reduce_ex__(self, protocol):
        """Pickle (and deep-copy) a graph of any depth without recursion.

        Saving a node's operands inside its own state would make pickle recurse
        once per level of the graph. Instead the first node saved lists all of
        its ancestors, operands first, ahead of itself: each of those is then
        saved when its own operands are already in pickle's memo, so no level
        recurses, and shared nodes stay shared. A node saved as part of such a
        list needs no list of its own (``_listed`` remembers that), which keeps
        the whole save linear; a stale mark can only cost depth, never
        correctness, because every node's state still names its operands.
        """
        if FLAGS[1]:  # copy.copy, copy.deepcopy and pickle read the number
            _observe_decision(self, "copy", None, None)
        rule = self._rule
        expand = getattr(rule.code, "expanded", None) if rule is not None else None
        if expand is not None:
            # A call of an autograd.compile function: its op lives only in this
            # process, so it is saved as the graph it stands for (the engine's
            # own ops over the same inputs: the same number and gradients).
            node = expand(self)
            from .backward import topological_order

            ancestors = topological_order(node)[:-1]
            _listed_for_pickle().update(map(id, ancestors))
            return (_restore_after, (ancestors, type(node), node.data, node.grad, node.label),
                    (node._rule, node._a, node._b))
        state = (self._rule, self._a, self._b)
        args = (type(self), self.data, self.grad, self.label)
        listed = _listed_for_pickle()
        if id(self) in listed:
            listed.discard(id(self))
            return (_restore, args, state)
        if self._rule is None:
            return (_restore, args, state)
        from .backward import topological_order

        ancestors = topological_order(self)[:-1]
        listed.clear()
        listed.update(map(id, ancestors))
        return (_restore_after, (ancestors, *args), state)

    def __setstate__(self, state) -> None:
        self._rule, self._a, self._b = state

    # --- autograd --------------------------------------------------------------

    def backward(self) -> None:
        """Backpropagate from this node: see ``autograd.backward.backward``."""
        from .backward import backward

        backward(self)

    def detach(self) -> Value:
        """A new leaf with the same data, cut off from this graph."""
        leaf = Value(self.data, label=self.label)
        if FLAGS[1]:
            _observe_decision(leaf, "detach", self, None)
        return leaf

    def zero_grad(self) -> None:
        self.grad = 0.0


# The engine reads a Value's number through ``_data``: the very slot ``data``
# names, under a second name. It costs the same; and while autograd.compile
# traces, the watch it puts on ``data`` (so that fn reading a number is seen)
# does not see the engine's own arithmetic.
Value._data = Value.__dict__["data"]


class Constant(Value):
    """A leaf made from a plain-number operand (``x * 2``); drawn as a constant."""

    __slots__ = ()
    is_constant = True


# --- micrograd's user-defined nodes -----------------------------------------------

def _no_step() -> None:
    """A leaf's local step: nothing to pass on."""


def _adopt_children(node: Value, children, op: str) -> None:
    """Make ``node`` an n-ary node over ``children`` whose rule is a user closure."""
    if isinstance(children, (str, bytes)) or not isinstance(children, Iterable):
        raise TypeError(
            f"Value(): _children must be a tuple of Values, got {children!r} "
            "(pass a label by keyword: Value(x, label='name'))"
        )
    kids = tuple(children)
    for k in kids:
        if not isinstance(k, Value):
            raise TypeError(f"Value(): every child must be a Value, got {k!r}")
    if not isinstance(op, str):
        raise TypeError(f"Value(): _op must be a str, got {op!r}")
    if not kids:
        return
    if not FLAGS[0] or is_grad_enabled():
        node._rule = ops.custom(op)
        node._a = kids


# --- unpickling ------------------------------------------------------------------

_pickle_local = threading.local()


def _listed_for_pickle() -> set[int]:
    """The ids of this thread's nodes already listed by a node being pickled (see
    __reduce_ex__). Ids, not references: a mark never keeps a graph alive, and a
    stale one (a reused id) can only cost recursion depth, never correctness."""
    try:
        return _pickle_local.listed
    except AttributeError:
        _pickle_local.listed = set()
        return _pickle_local.listed


def _restore(cls: type, data: float, grad: float, label: str) -> Value:
    """A node without its operands; pickle then sets them with __setstate__."""
    v = _new(cls)
    v.data = data
    v.grad = grad
    v.label = label
    v._rule = v._a = v._b = None
    return v


def _restore_after(ancestors: list, cls: type, data: float, grad: float, label: str) -> Value:
    """Like _restore; ``ancestors`` is only there to be unpickled first."""
    return _restore(cls, data, grad, label)


# --- node construction ----------------------------------------------------------

_new = object.__new__


def _node(data: float, rule: ops.Op, a, b) -> Value:
    """Make a result node; records its operands unless gradients are off."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    if not FLAGS[0] or is_grad_enabled():
        v._rule = rule
        v._a = a
        v._b = b
    else:
        v._rule = v._a = v._b = None
    if FLAGS[1]:
        _check_anomaly(v, rule, a, b)
    return v


def _inputs(rule: ops.Op, a, b) -> tuple:
    if rule.arity == 1:
        return (a,)
    if rule.arity == 2:
        return (a, b)
    return tuple(a)


def error_text(err: Exception) -> str:
    """The reason ``err`` gives, in words.

    Python's float ``**`` reports overflow as the errno tuple
    ``(34, 'Numerical result out of range')`` and math functions as "math range
    error"; the library says what happened instead.
    """
    if isinstance(err, OverflowError):
        text = str(err)
        if not text or "out of range" in text or text == "math range error":
            return "the result is too large for a float (beyond 1.8e308)"
        return text
    return str(err)


def _forward_error(err: Exception, rule: ops.Op, operands: tuple) -> Exception:
    """Re-make ``err`` with the op and the offending values in its message."""
    if rule.arity == 2 and not rule.name.isalpha():
        a, b = operands
        return type(err)(f"{a.data!r} {rule.name} {b.data!r}: {error_text(err)}")
    shown = ", ".join(repr(x.data) for x in operands)
    return type(err)(f"{rule.name}({shown}): {error_text(err)}")


def _apply(rule: ops.Op, x: Value) -> Value:
    try:
        data = rule.forward(x._data)
    except (ArithmeticError, ValueError) as err:
        if FLAGS[1]:
            _observe_raise(rule)
        raise _forward_error(err, rule, (x,)) from None
    return _node(data, rule, x, None)


def _node_or_raise(rule: ops.Op, a: Value, b: Value) -> Value:
    try:
        data = rule.forward(a._data, b._data)
    except (ArithmeticError, ValueError) as err:
        if FLAGS[1]:
            _observe_raise(rule)
        raise _forward_error(err, rule, (a, b)) from None
    return _node(data, rule, a, b)


def _nary(rule: ops.Op, operands: list) -> Value:
    try:
        data = rule.forward([x._data for x in operands])
    except (ArithmeticError, ValueError) as err:
        if FLAGS[1]:
            _observe_raise(rule)
        raise _forward_error(err, rule, operands) from None
    return _node(data, rule, operands, None)


# --- operand checks -----------------------------------------------------------------

def _real(x, where: str) -> float:
    """``x`` as a float if it is a real number (bool, int, float, Fraction, numpy scalar)."""
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        try:
            return float(x)
        except OverflowError:
            shown = repr(x) if len(repr(x)) <= 40 else f"{repr(x)[:37]}..."
            raise OverflowError(f"{where}: {shown} is too large for a float") from None
    raise TypeError(f"{where}: expected a real number, got {x!r} ({type(x).__name__})")


def _leaf_number(x) -> float:
    """``Value(x)`` while a compile trace records: a number argument stays a
    variable of the trace (the recorder is told which one)."""
    recorder = current_recorder()
    if recorder is not None:
        got = recorder.leaf_number(x)
        if got is not None:
            return got
    return _real(x, "Value()")


def _finite(x, where: str, name: str) -> float:
    """An op parameter: a finite real number (an infinite slope turns finite
    inputs into NaN), else a ValueError naming the op and the parameter."""
    value = _real(x, where)
    if not math.isfinite(value):
        raise ValueError(f"{where}: {name} must be a finite number, got {value!r}")
    return value


def _operand(x, op: str) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):
        if FLAGS[1]:  # a compile trace keeps a number argument a variable of its Program
            recorder = current_recorder()
            if recorder is not None:
                made = recorder.number_operand(x)
                if made is not None:
                    return made
        return Constant(_real(x, f"operand of '{op}'"))
    raise TypeError(
        f"unsupported operand for '{op}': expected a Value or a real number, "
        f"got {x!r} ({type(x).__name__})"
    )


def _data(x, op: str) -> float:
    """The number to compare with: a Value's data, or the real number itself
    (not converted, so ``Value(1.0) < 10**400`` compares exactly, as floats do)."""
    if isinstance(x, Value):
        return x._data
    if isinstance(x, numbers.Real):
        return x
    raise TypeError(f"comparison '{op}': expected a Value or a real number, got {x!r}")


# --- anomaly detection -------------------------------------------------------------

def _creation_site() -> str:
    """The innermost stack frame outside this package: where the user made the node."""
    here = __file__.rsplit("/", 1)[0]
    for frame in reversed(traceback.extract_stack()):
        if not frame.filename.startswith(here):
            return f"{frame.filename}:{frame.lineno}"
    return "<unknown>"


def _observe_decision(v: Value, kind: str, other, result) -> None:
    """Tell this thread's compile trace (if any) about a branch taken on ``v``."""
    recorder = current_recorder()
    if recorder is not None:
        recorder.decision(v, kind, other, result)


def _observe_raise(rule: ops.Op) -> None:
    """Tell this thread's compile trace (if any) that an op raised, caught or not."""
    recorder = current_recorder()
    if recorder is not None:
        recorder.raised(rule)


def _check_anomaly(v: Value, rule: ops.Op | None = None, a=None, b=None) -> None:
    """Observe a new node: anomaly checks, and a compile trace's record of it."""
    state = _thread_state  # current_recorder() and is_anomaly_enabled(), inlined: per node
    recorder = state.recorder
    if recorder is not None:
        recorder.created(v, rule, a, b)
    if state.depths[1] == 0:
        return
    site = _creation_site()
    creation_sites()[v] = site
    if not math.isfinite(v.data):
        if rule is None:
            raise AnomalyError(f"detect_anomaly: leaf Value({v.data!r}) created at {site}")
        shown = ", ".join(repr(x.data) for x in _inputs(rule, a, b))
        raise AnomalyError(
            f"detect_anomaly: forward of '{rule.name}' gave {v.data!r} "
            f"from inputs ({shown}), node created at {site}"
        )
