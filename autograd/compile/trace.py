"""Record one call of fn as a Program.

fn runs on stand-ins: a fresh leaf per distinct Value argument (same class,
number, gradient and label, so fn cannot tell it apart by reading it) and a
``TracedNumber`` per number argument. While it runs, the engine tells the
``Recorder`` (through ``autograd.mode.recording``) about every node it makes,
every decision taken on a Value's number, every number argument used as an
operand, and every op that raised. The recorder writes the Program as it goes;
the only per-trace map from Values to variables lives in the recorder, which
is dropped when the trace ends, so nothing of the traced graph survives it.
"""

from __future__ import annotations

import math
import numbers
import types
from typing import Any

from .. import ops
from ..mode import is_grad_enabled
from ..value import Constant, Value
from .numbers_arg import TracedNumber
from .program import CONST, DETACH, EQN, EnvGuard, Guard, Input, Program
from .watch import watch


class Refused(Exception):
    """The trace saw something generated code cannot reproduce: fn runs eagerly."""


def same_number(a: Any, b: Any) -> bool:
    """The same number, type and bits: 0.0 is not -0.0, NaN is NaN, 1 is not 1.0."""
    if type(a) is not type(b):
        return False
    try:
        if a == b:
            if a == 0 and isinstance(a, float):
                return math.copysign(1.0, a) == math.copysign(1.0, b)
            return True
        return a != a and b != b
    except Exception:  # noqa: BLE001 - an exotic number: not provably the same
        return False


def _plain_number(x: Any) -> bool:
    return isinstance(x, numbers.Number) and not isinstance(x, Value)


def env_guards(fn: Any) -> list[EnvGuard]:
    """Guards for the plain numbers fn reads from its closure cells and its
    module's globals (fn's own code, its nested functions' code, and what it
    wraps: functools.wraps, bound methods)."""
    out: list[EnvGuard] = []
    seen: set[int] = set()
    todo = [fn]
    while todo:
        f = todo.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        f = getattr(f, "__func__", f)
        wrapped = getattr(f, "__wrapped__", None)
        if wrapped is not None:
            todo.append(wrapped)
        code = getattr(f, "__code__", None)
        if not isinstance(code, types.CodeType):
            continue
        names: set[str] = set()
        stack = [code]
        while stack:
            c = stack.pop()
            names.update(c.co_names)
            stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
        g = getattr(f, "__globals__", {})
        for name in sorted(names):
            value = g.get(name, _MISSING)
            if value is not _MISSING and _plain_number(value):
                out.append(EnvGuard("global", (g, name), name, value))
        for name, cell in zip(code.co_freevars, f.__closure__ or (), strict=False):
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if _plain_number(value):
                out.append(EnvGuard("cell", cell, name, value))
            elif isinstance(value, types.FunctionType):
                todo.append(value)
    return out


_MISSING = object()


def env_holds(guards: list[EnvGuard], raw_numbers: list) -> bool:
    """True if every surrounding fact a trace relied on still holds."""
    for g in guards:
        kind = g.kind
        if kind == "number":
            now = raw_numbers[g.where]
        elif kind == "cell":
            try:
                now = g.where.cell_contents
            except ValueError:
                return False
        else:
            now = g.where[0].get(g.where[1], _MISSING)
        if not same_number(now, g.value):
            return False
    return True


def stand_in(v: Value) -> Value:
    """A fresh leaf that reads as ``v`` does (class, number, gradient, label)."""
    s = Value.__new__(v.__class__)
    s.data, s.grad, s.label = v.data, v.grad, v.label
    s._rule = s._a = s._b = None
    return s


class Recorder:
    """Writes the Program while fn runs (see the module docstring)."""

    def __init__(self, name: str, numbers_in: list, number_labels: dict[int, str]) -> None:
        self.program = Program(name)
        self.var: dict[Value, int] = {}  # every Value seen -> its variable (this trace only)
        self.args: dict[Value, tuple[int, str]] = {}  # stand-in -> (flat index, label)
        self.numbers_in = numbers_in
        self.number_labels = number_labels
        self.number_vars: dict[int, int] = {}
        self.specialised: set[int] = set()
        self.refusal: str | None = None
        self.pending_leaf: int | None = None
        self.raises: list[str] = []

    # --- what fn receives -----------------------------------------------------

    def stand_ins(self, vals: list[Value]) -> list[Value]:
        made: dict[int, Value] = {}
        out = []
        for k, v in enumerate(vals):
            s = made.get(id(v))
            if s is None:
                s = made[id(v)] = stand_in(v)
                watch(s)
                self.args[s] = (k, v.label)
            out.append(s)
        return out

    def traced_numbers(self) -> list[TracedNumber]:
        return [TracedNumber(x, k, self.specialise) for k, x in enumerate(self.numbers_in)]

    # --- events from the engine ------------------------------------------------

    def specialise(self, k: int) -> None:
        """fn read number argument k itself: this trace holds for that number only."""
        if k not in self.specialised:
            self.specialised.add(k)
            x = self.numbers_in[k]
            self.program.env_guards.append(
                EnvGuard("number", k, self.number_labels.get(k, f"argument {k}"), x)
            )

    def number_operand(self, x: Any) -> Constant | None:
        if type(x) is not TracedNumber:
            return None
        k = x._index
        try:
            value = float(x._plain)
        except (OverflowError, TypeError, ValueError):
            return None  # the engine's own check raises, as eagerly
        c = Value.__new__(Constant)
        c.data, c.grad, c.label, c._rule, c._a, c._b = value, 0.0, "", None, None, None
        self.var[c] = self._number_var(k)
        return c

    def _number_var(self, k: int) -> int:
        var = self.number_vars.get(k)
        if var is None:
            var = self.number_vars[k] = self.program.add_number(k, self.number_labels.get(k, ""))
        return var

    def leaf_number(self, x: Any) -> float | None:
        """``Value(n)`` of number argument n: the leaf about to be made is that number."""
        if type(x) is not TracedNumber:
            return None
        try:
            value = float(x._plain)
        except (OverflowError, TypeError, ValueError):
            return None
        self.pending_leaf = x._index
        return value

    def created(self, v: Value, rule: ops.Op | None, a: Any, b: Any) -> None:
        p = self.program
        watch(v)
        if rule is None:
            if v._rule is not None:  # micrograd's Value(data, _children, _op)
                self.refuse(f"it makes a {v._rule.name!r} node with a _backward closure")
                return
            if self.pending_leaf is not None:
                self.var[v] = self._number_var(self.pending_leaf)
                self.pending_leaf = None
                return
            if type(v.data) is not float:  # Value(n) of a traced number: specialised
                v.data = float(v.data)
            self.var[v] = p.add_const(v.data)
            return
        if rule.node_step is not None or rule.custom:
            self.refuse(f"its graph holds a {rule.name!r} node made by another compiled call")
            return
        if rule.arity == 1:
            operands = (self.ref(a),)
        elif rule.arity == 2:
            operands = (self.ref(a), self.ref(b))
        else:
            operands = tuple(map(self.ref, a))
        # Under no_grad() the engine makes a leaf: computed the same, no gradient through it.
        self.var[v] = p.add_eqn(rule, operands, no_grad=v._rule is None or not is_grad_enabled())

    def ref(self, v: Value) -> int:
        var = self.var.get(v)
        if var is not None:
            return var
        arg = self.args.get(v)
        if arg is not None:
            inp = Input(label=arg[1], arg=arg[0], constant=v.is_constant)
        else:  # a Value made before the call: a captured input, read at every call
            inp = Input(label=v.label, value=v, constant=v.is_constant)
        var = self.var[v] = self.program.add_input(inp)
        return var

    def decision(self, v: Value, kind: str, other: Any, result: Any) -> None:
        p = self.program
        if kind == "detach":  # v is the new leaf, other its source
            self.var[v] = p.add_eqn(DETACH, (self.ref(other),), no_grad=True)
            return
        if kind == "copy":
            self.refuse("it copies or pickles a Value (copy.copy, copy.deepcopy, pickle)")
            return
        if kind == "data":  # fn read v.data: guarded like float(v)
            var = self.ref(v) if v in self.var or v in self.args else None
            if var is not None and p.kind(var) != CONST:
                p.guards.append(Guard("float", var, None, result, len(p.eqns)))
            return
        var = self.ref(v)
        at = len(p.eqns)
        if kind == "repr":
            if p.kind(var) == CONST:
                return
            if p.kind(var) == EQN:  # a new node: its text follows from its number
                p.guards.append(Guard("float", var, None, v.data, at))
            else:
                p.guards.append(Guard("repr", var, None, result, at))
            return
        if isinstance(other, Value):
            p.guards.append(Guard(kind, var, self.ref(other), result, at, other_is_var=True))
            return
        if type(other) is TracedNumber:
            other = other._read()
        p.guards.append(Guard(kind, var, other, result, at))

    def raised(self, rule: ops.Op) -> None:
        self.raises.append(rule.name)

    def caught(self, what: str) -> None:
        self.refuse(f"fn caught a {what} while tracing")

    def refuse(self, why: str) -> None:
        if self.refusal is None:
            self.refusal = why

    # --- the end of the trace ---------------------------------------------------

    def finish(self, result: Any, aux: list[Value]) -> Program:
        """The Program, with labels read now (fn may label a node after making it)."""
        if self.raises:
            raise Refused(
                f"an operation raised while tracing and fn caught it ({self.raises[0]})"
            )
        if self.refusal is not None:
            raise Refused(self.refusal)
        p = self.program
        p.outputs = [self.ref(result)] + [self.ref(v) for v in aux]
        labels = p.labels
        for v, var in self.var.items():
            if v.label and p.kinds[var][0] == EQN and var not in labels:
                labels[var] = v.label
        for var, label in labels.items():
            kind, where = p.kinds[var]
            if kind == EQN:
                e = p.eqns[where]
                p.eqns[where] = type(e)(e.op, e.operands, e.out, label, e.no_grad)
        self.var.clear()
        self.args.clear()
        return p
