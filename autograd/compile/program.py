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

from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class Input:
    """A Value read at every call: argument ``arg`` of the flattened arguments,
    or (``arg`` None) the captured Value ``value``."""

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


@dataclass
class Program:
    """Inputs, equations, guards and outputs of one traced path."""

    name: str
    kinds: list[tuple[str, Any]] = field(default_factory=list)  # per variable
    inputs: list[Input] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)  # flat number index per number var
    eqns: list[Eqn] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)
    env_guards: list[EnvGuard] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)  # the result, then aux values
    labels: dict[int, str] = field(default_factory=dict)  # var -> label, where one was given

    # --- building ------------------------------------------------------------

    def new_var(self, kind: str, where: Any, label: str = "") -> int:
        var = len(self.kinds)
        self.kinds.append((kind, where))
        if label:
            self.labels[var] = label
        return var

    def add_input(self, inp: Input) -> int:
        self.inputs.append(inp)
        return self.new_var(INPUT, len(self.inputs) - 1, inp.label)

    def add_number(self, flat_index: int, label: str = "") -> int:
        self.numbers.append(flat_index)
        return self.new_var(NUMBER, flat_index, label)

    def add_const(self, value: float) -> int:
        return self.new_var(CONST, float(value))

    def add_eqn(self, op: Any, operands: tuple[int, ...], no_grad: bool = False) -> int:
        out = self.new_var(EQN, len(self.eqns))
        self.eqns.append(Eqn(op, operands, out, "", no_grad))
        return out

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
        """A readable name per variable: its label where it is a unique usable
        name, else a, b, c... for inputs and numbers, and v1, v2... for the rest."""
        from .naming import Names

        namer = Names()
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
