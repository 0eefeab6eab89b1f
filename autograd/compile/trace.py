"""Record one call of fn as a Program.

fn runs on stand-ins: a fresh leaf per distinct Value argument (same class,
number, gradient and label, so fn cannot tell it apart by reading it) and a
``TracedNumber`` per number argument. While it runs, the engine tells the
``Recorder`` (through ``autograd.mode.recording``) about every node it makes,
every decision taken on a Value's number, every number argument used as an
operand, and every op that raised.

A trace must cost about what running fn eagerly costs, so a new node is only
appended to a log (``created``); the log is turned into equations in one loop
(``flush``) before any other event is written and at the end, so the Program
is the same as if each node were written the moment it was made. The only
per-trace map from Values to variables lives in the recorder, which is dropped
when the trace ends, so nothing of the traced graph survives it.

The traced graph is itself an eager graph of fn: ``give_back`` puts the real
arguments where their stand-ins were, so the first call returns it as eager
would, and backward runs on it as on any graph.
"""

from __future__ import annotations

import contextlib
import gc
import math
import numbers
import operator
import types
from array import array
from collections.abc import Iterator
from typing import Any

from .. import ops
from ..value import Constant, Value
from .numbers_arg import TracedNumber
from .program import CONST, DETACH, EQN, INPUT, EnvGuard, Guard, Program
from .watch import _ENGINE as _ENGINE_GLOBALS
from .watch import _SLOT, UNWATCHED, WATCHED

_WATCHED = WATCHED
_INPUT_CODE = 0  # program._I
slot_get = _SLOT.__get__  # a Value's number, read without the watch
_LABEL = operator.attrgetter("label")
_IS_CONSTANT = operator.attrgetter("is_constant")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Run a trace without the cyclic garbage collector. The traced graph and
    the Program are many small objects in no cycle, all alive until the trace
    ends, and every collection on the way would walk them again: for a big
    trace that cost more than recording it (a 10^5-term sum: 2.8x eager's time
    with collections, 2.2x without). Cycles fn makes wait until the trace ends.
    (A user who disabled the collector keeps it off.)"""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


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
    cls = v.__class__
    s = Value.__new__(WATCHED.get(cls, cls))
    s.data, s.grad, s.label = v.data, v.grad, v.label
    s._rule = s._a = s._b = None
    return s


def _node_logger(log: list) -> Any:
    """``Recorder.created`` for one trace: watch the node, append it to ``log``."""
    append, watched = log.append, _WATCHED

    def created(v: Value, rule: ops.Op | None, a: Any, b: Any) -> None:
        cls = watched.get(v.__class__)  # watch(v), inlined
        if cls is not None:
            v.__class__ = cls
        if rule is not None and v._rule is None:  # under no_grad(): the node drops its rule
            append((v, rule, a, b))
        else:
            append(v)

    return created


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
        self.rerun = False  # refused for a reason that makes the traced run not eager's
        self.pending_leaf: int | None = None
        self.raises: list[str] = []
        # Nodes made by fn, in order; entries from ``flush`` on are not written yet.
        # A node whose rule the engine did not keep (no_grad) comes with it: (v, rule, a, b).
        self.log: list[Any] = []
        self.written = 0
        self.read_at: dict[Value, float] = {}  # stand-in -> its argument's number
        # created(v, rule, a, b): the engine's call for every node fn makes; logs it
        self.created = _node_logger(self.log)
        self.new_inputs: list[Value] = []  # every input, in order (``_describe_inputs``)
        self.first_read: list[float] = []  # per input: its number when fn first used it

    # --- what fn receives -----------------------------------------------------

    def stand_ins(self, vals: list[Value]) -> list[Value]:
        """One watched stand-in per distinct Value argument (``stand_in``, inlined:
        a function may take many)."""
        made: dict[Value, Value] = {}
        out = []
        args, read_at, new, watched = self.args, self.read_at, Value.__new__, WATCHED
        for k, v in enumerate(vals):
            s = made.get(v)
            if s is None:
                cls = v.__class__
                s = made[v] = new(cls)
                s.data = data = v.data
                s.grad, s.label = v.grad, v.label
                s._rule = s._a = s._b = None
                s.__class__ = watched.get(cls, cls)
                args[s] = (k, v.label)
                read_at[s] = data
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
        self.flush()
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
        self.flush()
        self.pending_leaf = x._index
        return value

    def flush(self) -> None:
        """Write the logged nodes as variables and equations, in creation order."""
        log = self.log
        n = len(log)
        if self.written == n:
            return
        p = self.program
        var = self.var
        ref = self.ref
        # p.add_eqn, inlined: one pass per node
        kw, ops_, args, start, outs = p._kw, p._op, p._args, p._start, p._out
        EQN_CODE, CONST_CODE = 3, 2  # noqa: N806 - program._E, program._C
        consts = p._const
        new_input = self._new_input
        new_inputs, INPUT_CODE = self.new_inputs, _INPUT_CODE  # noqa: N806
        setdefault = var.setdefault
        for k in range(self.written, n):
            v = log[k]
            if v.__class__ is tuple:
                v, rule, a, b = v
                no_grad = True
            else:  # the engine kept the rule: gradients were on
                rule, a, b = v._rule, v._a, v._b
                no_grad = False
                if rule is None:  # a leaf: a constant fn wrote (p.add_const, inlined)
                    data = slot_get(v)  # not v.data: that read is fn's, not ours
                    if data.__class__ is not float or self.pending_leaf is not None:
                        self._leaf(v)
                        continue
                    var[v] = len(kw)
                    kw.append(len(consts) << 3 | CONST_CODE)
                    consts.append(data)
                    continue
            if rule.custom:  # micrograd's Value(data, _children, _op)
                self.refuse(f"it makes a {rule.name!r} node with a _backward closure")
                continue
            if rule.node_step is not None:
                self.refuse(f"its graph holds a {rule.name!r} node made by another compiled call")
                continue
            arity = rule.arity
            if arity == 2:
                # an operand seen before has its variable; a new one is an input,
                # numbered now (_new_input, inlined: the hottest path; setdefault:
                # one lookup of a table as big as the graph, not two)
                m = len(kw)
                x = setdefault(a, m)
                if x == m:
                    kw.append(len(new_inputs) << 3 | INPUT_CODE)
                    new_inputs.append(a)
                    m += 1
                y = setdefault(b, m)
                if y == m:
                    kw.append(len(new_inputs) << 3 | INPUT_CODE)
                    new_inputs.append(b)
                args.append(x)
                args.append(y)
            elif arity == 1:
                x = var.get(a)
                args.append(new_input(a) if x is None else x)
            else:
                args.extend([x if (x := var.get(o)) is not None else ref(o) for o in a])
            out = len(kw)
            if no_grad:
                p._no_grad.add(len(ops_))
            kw.append(len(ops_) << 3 | EQN_CODE)
            ops_.append(rule)
            start.append(len(args))
            outs.append(out)
            var[v] = out
        self.written = n
        self._read_new_inputs()

    def _read_new_inputs(self) -> None:
        """Note the number of each input numbered since the last call: what fn read."""
        first_read, new = self.first_read, self.new_inputs
        if len(first_read) < len(new):
            first_read.extend(map(slot_get, new[len(first_read):]))

    def _leaf(self, v: Value) -> None:
        p = self.program
        if self.pending_leaf is not None:
            self.var[v] = self._number_var(self.pending_leaf)
            self.pending_leaf = None
            return
        if type(v.data) is not float:  # Value(n) of a traced number: specialised
            v.data = float(v.data)
        self.var[v] = p.add_const(v.data)

    def ref(self, v: Value) -> int:
        var = self.var.get(v)
        if var is not None:
            return var
        return self._new_input(v)

    def _new_input(self, v: Value) -> int:
        # A new input: numbered now, described in bulk by ``_describe_inputs`` (a
        # function may capture many Values, and one loop over them is cheaper).
        p = self.program
        var = self.var[v] = len(p._kw)
        p._kw.append(len(self.new_inputs) << 3 | _INPUT_CODE)
        self.new_inputs.append(v)
        self._read_new_inputs()
        return var

    def _describe_inputs(self) -> None:
        """Fill the Program's input columns for the inputs ``ref`` numbered."""
        p, args = self.program, self.args
        first = len(p._in_value)
        new = self.new_inputs[first:]
        if not new:
            return
        if args:
            found = [args.get(v) for v in new]
            p._in_arg.extend([-1 if a is None else a[0] for a in found])
            pairs = list(zip(new, found, strict=True))
            p._in_value.extend([v if a is None else None for v, a in pairs])
            p._in_label.extend([v.label if a is None else a[1] for v, a in pairs])
        else:  # every input is captured
            p._in_arg.extend(array("q", [-1]) * len(new))
            p._in_value.extend(new)
            p._in_label.extend(map(_LABEL, new))
        p._in_constant.extend(map(_IS_CONSTANT, new))
        labelled = [(j, label) for j, label in enumerate(p._in_label[first:], first) if label
                    ] if any(p._in_label[first:]) else []
        if labelled:
            var_of = {where: var for var, (kind, where) in enumerate(p.kinds) if kind == INPUT}
            for j, label in labelled:
                p.labels[var_of[j]] = label

    def decision(self, v: Value, kind: str, other: Any, result: Any) -> None:
        self.flush()
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

    def attribute_read(self, v: Value, name: str) -> None:
        """fn read ``v.grad`` or ``v.label``: of its own nodes, that is fn's doing
        and the same every call; of an argument, a replay could not follow it.
        The stand-in holds the argument's, so this run is eager's."""
        if v in self.args:
            self.refuse(f"it reads the {name} of an argument", rerun=False)

    def op_raised(self, err: BaseException) -> bool:
        """True if ``err``, which ended fn, is an op's error the engine reported
        (raised by the engine's op call itself, not by fn's own code)."""
        if not self.raises or not isinstance(err, (ArithmeticError, ValueError)):
            return False
        tb = err.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        return tb is not None and tb.tb_frame.f_globals is _ENGINE_GLOBALS

    def raised(self, rule: ops.Op) -> None:
        self.flush()
        self.raises.append(rule.name)

    def caught(self, what: str, from_engine: bool = False) -> None:
        # An error from fn's own code may come from a stand-in not being its
        # argument (a dict keyed by a captured Value), so eager may not raise it;
        # an op's error (from_engine) saw eager's numbers.
        self.refuse(f"fn caught a {what} while tracing", rerun=not from_engine)

    def refuse(self, why: str, rerun: bool = True) -> None:
        """No replay for this path. ``rerun``: the traced run may not be eager's
        (a ``_backward`` closure holds stand-ins), so the first call runs fn
        again. An op that raised and was caught refuses without rerunning: the
        op saw eager's numbers, so the traced run is eager's and is given back."""
        if self.refusal is None:
            self.refusal = why
        self.rerun = self.rerun or rerun

    # --- the end of the trace ---------------------------------------------------

    def inputs_changed(self) -> bool:
        """True if fn changed the number of an input after the trace read it
        (the Program then describes a call no replay can repeat)."""
        values = self.program._in_value
        if self.read_at:  # arguments among the inputs: their stand-ins, and None here
            pairs = list(self.read_at.items()) + [
                (v, x) for v, x in zip(values, self.first_read, strict=True) if v is not None]
            values = [v for v, _ in pairs]
            first = [x for _, x in pairs]
        else:
            first = self.first_read
        now = list(map(slot_get, values))  # (a stand-in's read is ours, not fn's)
        if not any(map(operator.is_not, now, first)):  # unchanged: the very same floats
            return False
        return any(not same_number(a, b) for a, b in zip(now, first, strict=True))

    def arguments_moved(self, vals: list[Value]) -> bool:
        """True if an argument's number changed while fn ran on its stand-in (fn
        reached the argument itself through a Value it captures); the number is
        put back, so that running fn again changes it once, as eager does."""
        moved = False
        for s, (k, _label) in self.args.items():
            v, x = vals[k], self.read_at[s]
            if v.data is not x and not same_number(v.data, x):
                v.data = x
                moved = True
        return moved

    def grads_changed(self, vals: list[Value]) -> bool:
        """True if fn changed an argument's gradient (``x.grad = 0.0``, a
        ``backward()`` inside fn): a replay, which does not run fn, would not."""
        return any(s.grad is not vals[k].grad and not same_number(s.grad, vals[k].grad)
                   for s, (k, _label) in self.args.items())

    def give_back(self, result: Any, vals: list[Value]) -> Any:
        """The traced graph as eager's graph of this call: every node fn made back
        in its own class, the real arguments where their stand-ins were (with
        what fn did to a stand-in done to its argument), and ``result`` (a node,
        or a stand-in fn returned) as the caller gets it."""
        real: dict[Value, Value] = {}
        for s, (k, _label) in self.args.items():
            v = vals[k]
            real[s] = v
            s.__class__ = v.__class__
            data = s.data
            if ((data is not v.data and not same_number(data, v.data))
                    or s.grad is not v.grad or s.label is not v.label and s.label != v.label):
                v.data, v.grad, v.label = data, s.grad, s.label  # fn changed its argument
        unwatched = UNWATCHED
        get = real.get
        for v in self.log:
            if v.__class__ is tuple:
                v = v[0]
            cls = unwatched.get(v.__class__)
            if cls is not None:
                v.__class__ = cls
            rule = v._rule
            if rule is None or not real:
                continue
            if rule.arity == 0:
                operands = v._a
                if any(o in real for o in operands):
                    v._a = [get(o, o) for o in operands]
            else:
                a = get(v._a)
                if a is not None:
                    v._a = a
                if rule.arity == 2:
                    b = get(v._b)
                    if b is not None:
                        v._b = b
        self.log.clear()
        self.args.clear()
        self.read_at.clear()
        self.first_read.clear()
        self.new_inputs.clear()
        return real.get(result, result) if isinstance(result, Value) else result

    def finish(self, result: Any, aux: list[Value]) -> Program:
        """The Program, with labels read now (fn may label a node after making it)."""
        self.flush()
        if self.raises:
            raise Refused(
                f"an operation raised while tracing and fn caught it ({self.raises[0]})"
            )
        if self.refusal is not None:
            raise Refused(self.refusal)
        p = self.program
        p.outputs = [self.ref(result)] + [self.ref(v) for v in aux]
        self._describe_inputs()
        labels = p.labels
        for v, var in self.var.items():
            if v.label and p.kinds[var][0] == EQN and var not in labels:
                labels[var] = v.label
        self.var.clear()
        return p
