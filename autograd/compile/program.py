"""The Program: what one traced call of fn computed, as data a student can read.

A Program is a list of equations ``out = op(operands)`` over numbered
variables, as JAX prints a jaxpr. Each variable is one of:

- an input: a Value the call reads (an argument, or a Value made before the
  call that fn captured), whose ``.data`` is read at every replay and which
  receives gradients;
- a number: a number argument that fn used as an operand of the engine's ops;
- a constant: a number written in fn (or read from a Value fn made);
- the output of an equation.

Guards are the facts the trace relied on (a comparison came out True, a number
argument was 3, a global was 0.5): a replay checks them and, if one fails,
takes or records another path. Passes (``passes.py``) and generators
(``codegen.py``) read a Program; nothing here refers to the Value graph the
tracer saw, so a Program keeps no graph and no argument alive.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .. import ops

INPUT, NUMBER, CONST, EQN = "input", "number", "const", "eqn"
PRUNED = "pruned"  # the output of an equation a pass removed


class _Detach:
    """The pseudo-op of ``v.detach()``: the same number, no gradient."""

    name = "detach"
    arity = 1

    def __repr__(self) -> str:
        return "DETACH"

    def __reduce__(self) -> str:
        return "DETACH"


DETACH = _Detach()


class Input(NamedTuple):
    """A Value read at every call: argument ``arg`` of the flattened arguments,
    or (``arg`` None) the captured Value ``value``. (A named tuple: a trace with
    many arguments makes many.)"""

    label: str
    arg: int | None = None
    value: Any = None  # the captured Value (None for an argument)
    constant: bool = False  # a Constant argument: ``**`` treats it as an exponent


class Eqn(NamedTuple):
    """``out = op(*operands)``; ``no_grad`` marks a value computed under
    ``no_grad()`` (or by detach), through which no gradient flows. (A named
    tuple: a trace makes one per node, so it must be cheap to make.)"""

    op: Any
    operands: tuple[int, ...]
    out: int
    label: str = ""
    no_grad: bool = False


@dataclass(frozen=True, slots=True)
class Guard:
    """A fact a replay must find true again, checked after ``at`` equations.

    kind: "<", "<=", ">", ">=" (var against ``other``: a variable or a number),
    "bool", "float", "int", "repr" (the number, bit for bit, or the text).
    """

    kind: str
    var: int
    other: Any
    result: Any
    at: int
    other_is_var: bool = False

    def describe(self, name: Any) -> str:
        other = name(self.other) if self.other_is_var else repr(self.other)
        if self.kind in ("<", "<=", ">", ">="):
            return f"({name(self.var)} {self.kind} {other}) is {self.result!r}"
        return f"{self.kind}({name(self.var)}) == {self.result!r}"


@dataclass(frozen=True, slots=True)
class EnvGuard:
    """A fact about the call's surroundings, checked before the forward pass:
    a number argument's exact value ("number"), or a plain number fn reads
    from a closure cell ("cell") or a module global ("global")."""

    kind: str
    where: Any  # flat number index, a cell, or (globals dict, name)
    name: str
    value: Any

    def describe(self) -> str:
        return f"{self.kind} {self.name} == {self.value!r}"


_KIND_NAMES = (INPUT, NUMBER, CONST, EQN, PRUNED)
_I, _N, _C, _E, _P = range(5)  # a variable's kind, as stored: (where << 3) | kind
_new_tuple = tuple.__new__


class _Kinds(Sequence):
    """``program.kinds[var]``: (kind, where), read from the Program's columns.
    where is the input's index, the number's flat index, the constant itself,
    or the equation's index."""

    __slots__ = ("_p",)

    def __init__(self, program: Program) -> None:
        self._p = program

    def __len__(self) -> int:
        return len(self._p._kw)

    def __getitem__(self, var: int) -> tuple[str, Any]:
        p = self._p
        x = p._kw[var]
        code = x & 7
        if code == _C:
            return (CONST, p._const[x >> 3])
        return (_KIND_NAMES[code], None if code == _P else x >> 3)

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        p = self._p
        consts, names = p._const, _KIND_NAMES
        for x in p._kw:
            code = x & 7
            if code == _C:
                yield (CONST, consts[x >> 3])
            else:
                yield (names[code], None if code == _P else x >> 3)


class _Eqns(Sequence):
    """``program.eqns[i]``: the i-th equation, read from the Program's columns."""

    __slots__ = ("_p",)

    def __init__(self, program: Program) -> None:
        self._p = program

    def __len__(self) -> int:
        return len(self._p._op)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        p = self._p
        if i < 0:
            i += len(p._op)
        start = p._start
        out = p._out[i]
        return _new_tuple(Eqn, (p._op[i], tuple(p._args[start[i]:start[i + 1]]), out,
                                p.labels.get(out, ""), i in p._no_grad))

    def __iter__(self) -> Iterator[Eqn]:
        p = self._p
        args, start, labels, no_grad = p._args, p._start, p.labels, p._no_grad
        for i, (op, out) in enumerate(zip(p._op, p._out, strict=True)):
            yield _new_tuple(Eqn, (op, tuple(args[start[i]:start[i + 1]]), out,
                                   labels.get(out, ""), i in no_grad))


class _Inputs(Sequence):
    """``program.inputs[i]``: the i-th ``Input``, read from the Program's columns."""

    __slots__ = ("_p",)

    def __init__(self, program: Program) -> None:
        self._p = program

    def __len__(self) -> int:
        return len(self._p._in_value)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        p = self._p
        arg = p._in_arg[i]
        return _new_tuple(Input, (p._in_label[i], None if arg < 0 else arg, p._in_value[i],
                                  bool(p._in_constant[i])))

    def __iter__(self) -> Iterator[Input]:
        p = self._p
        for label, arg, value, constant in zip(
            p._in_label, p._in_arg, p._in_value, p._in_constant, strict=True
        ):
            yield _new_tuple(Input, (label, None if arg < 0 else arg, value, bool(constant)))


class Program:
    """Inputs, equations, guards and outputs of one traced path.

    Variables and equations are kept in columns (arrays of numbers, a list of
    ops), about 40 bytes an equation where a tuple per equation costs ten
    times that: a trace may hold a million. ``kinds`` and ``eqns`` read them
    as ``(kind, where)`` pairs and ``Eqn`` tuples.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._in_label: list[str] = []  # per input: its label
        self._in_arg = array("q")  # per input: its flat argument index, or -1 (captured)
        self._in_value: list[Any] = []  # per input: the captured Value (None for an argument)
        self._in_constant = bytearray()  # per input: 1 for a Constant
        self.inputs = _Inputs(self)
        self.numbers: list[int] = []  # flat number index per number var
        self.guards: list[Guard] = []
        self.env_guards: list[EnvGuard] = []
        self.outputs: list[int] = []  # the result, then aux values
        self.labels: dict[int, str] = {}  # var -> label, where one was given
        # per variable: its kind (_I, _N, _C, _E or _P) in the low three bits, and
        # above them the input's, number's, constant's or equation's index
        self._kw = array("q")
        self._const = array("d")  # the constants' numbers
        self._op: list[Any] = []  # per equation: its op
        self._args = array("q")  # every equation's operands, one after another
        self._start = array("q", [0])  # equation i's operands: _args[_start[i]:_start[i + 1]]
        self._out = array("q")  # per equation: its variable
        self._no_grad: set[int] = set()  # the equations no gradient flows through
        self.kinds = _Kinds(self)
        self.eqns = _Eqns(self)

    # --- building ------------------------------------------------------------

    def new_var(self, kind: str, where: Any, label: str = "") -> int:
        var = len(self._kw)
        code = _KIND_NAMES.index(kind)
        if code == _C:
            self._const.append(where)
            where = len(self._const) - 1
        self._kw.append((0 if where is None else where) << 3 | code)
        if label:
            self.labels[var] = label
        return var

    def add_input(self, inp: Input) -> int:
        self._in_label.append(inp.label)
        self._in_arg.append(-1 if inp.arg is None else inp.arg)
        self._in_value.append(inp.value)
        self._in_constant.append(1 if inp.constant else 0)
        return self.new_var(INPUT, len(self._in_value) - 1, inp.label)

    def add_number(self, flat_index: int, label: str = "") -> int:
        self.numbers.append(flat_index)
        return self.new_var(NUMBER, flat_index, label)

    def add_const(self, value: float) -> int:
        return self.new_var(CONST, float(value))

    def add_eqn(self, op: Any, operands: tuple[int, ...], no_grad: bool = False) -> int:
        out = len(self._kw)
        if no_grad:
            self._no_grad.add(len(self._op))
        self._kw.append(len(self._op) << 3 | _E)
        self._op.append(op)
        self._args.extend(operands)
        self._start.append(len(self._args))
        self._out.append(out)
        return out

    def copy_eqns(self, keep: list[int]) -> Program:
        """A Program with the same variables, guards and outputs, and only the
        equations ``keep`` (indices, in order); the others' variables become
        PRUNED. Guards keep their ``at`` as given: the caller maps them."""
        q = Program(self.name)
        q._in_label, q._in_arg = self._in_label, self._in_arg
        q._in_value, q._in_constant = self._in_value, self._in_constant
        q.numbers = self.numbers
        q.guards, q.env_guards = self.guards, self.env_guards
        q.outputs, q.labels = self.outputs, self.labels
        q._kw, q._const = array("q", self._kw), self._const
        for out in self._out:
            q._kw[out] = _P
        args, start = self._args, self._start
        for i in keep:
            out = self._out[i]
            if i in self._no_grad:
                q._no_grad.add(len(q._op))
            q._kw[out] = len(q._op) << 3 | _E
            q._op.append(self._op[i])
            q._args.extend(args[start[i]:start[i + 1]])
            q._start.append(len(q._args))
            q._out.append(out)
        return q

    # --- reading -------------------------------------------------------------

    @property
    def result(self) -> int:
        return self.outputs[0]

    def kind(self, var: int) -> str:
        return self.kinds[var][0]

    def eqn_of(self, var: int) -> Eqn | None:
        kind, where = self.kinds[var]
        return self.eqns[where] if kind == EQN else None

    def differentiable(self, var: int) -> bool:
        """True for a variable backward reaches through: an input or a recorded op."""
        kind, where = self.kinds[var]
        if kind == INPUT:
            return True
        return kind == EQN and not self.eqns[where].no_grad

    def names(self) -> list[str]:
        """A readable name per variable: its label where it is a unique
        identifier (``naming.printable``), else v1, v2, ... (number arguments
        are labelled with their parameter's name)."""
        from .naming import Names

        namer = Names(printing=True)
        out = []
        for var, (kind, _where) in enumerate(self.kinds):
            if kind == CONST:
                out.append("")
                continue
            out.append(namer.make(self.labels.get(var, ""), None))
        return out

    def __str__(self) -> str:
        names = self.names()

        def name(var: int) -> str:
            kind, where = self.kinds[var]
            return ops.number_literal(where) if kind == CONST else names[var]

        ins = ", ".join(names[v] for v, (k, _) in enumerate(self.kinds) if k in (INPUT, NUMBER))
        lines = [f"{{ lambda ; {ins}. let"]
        guards_at: dict[int, list[Guard]] = {}
        for g in self.guards:
            guards_at.setdefault(g.at, []).append(g)
        for i, e in enumerate(self.eqns):
            for g in guards_at.pop(i, ()):
                lines.append(f"    guard {g.describe(name)}")
            operands = ", ".join(name(v) for v in e.operands)
            op = e.op.name
            note = "   # no gradient" if e.no_grad and e.op is not DETACH else ""
            if e.op.arity == 2 and not op.isalpha() and len(e.operands) == 2:
                a, b = (name(v) for v in e.operands)
                lines.append(f"    {names[e.out]} = {a} {op} {b}{note}")
            else:
                lines.append(f"    {names[e.out]} = {op}({operands}){note}")
        for rest in guards_at.values():
            for g in rest:
                lines.append(f"    guard {g.describe(name)}")
        outs = ", ".join(name(v) for v in self.outputs)
        lines.append(f"  in ({outs}) }}")
        if self.env_guards:
            lines.append("  when " + "; ".join(g.describe() for g in self.env_guards))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Program {self.name}: {len(self.inputs)} inputs, {len(self.numbers)} numbers, "
            f"{len(self.eqns)} equations, {len(self.guards) + len(self.env_guards)} guards>"
        )
