"""Replay a Program without generating code: for programs too big to compile.

Python's ``compile()`` costs tens of microseconds and kilobytes per line, so
for a program of hundreds of thousands of equations the source would cost far
more than running the function eagerly. This backend walks the equations
instead, calling the op table's float rules exactly as the engine does: the
forward rule per node, then the vjp rules in the engine's backward order, each
contribution added the moment the engine would add it (interior gradients start
at 0.0, as a node's ``.grad`` is reset). The numbers are eager's, bit for bit;
it is slower per call than generated code, and costs nothing to build.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .codegen import _int_is, _same_float
from .passes import backward_order
from .program import CONST, DETACH, EQN, INPUT, NUMBER, Program


class _Slot:
    """An operand as an n-ary rule sees it: ``.data`` and a ``.grad`` to add to."""

    __slots__ = ("data", "grad")

    def __init__(self, data: float, grad: float) -> None:
        self.data = data
        self.grad = grad


def _guard_test(g: Any, program: Program) -> Callable[[list, list], bool]:
    """A function of (values, ins) that is True when the guard holds."""
    var, kind, result = g.var, g.kind, g.result
    other_var = g.other if g.other_is_var else None
    other = g.other
    if kind in ("<", "<=", ">", ">="):
        import operator

        cmp = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[kind]
        if other_var is not None:
            return lambda v, ins: cmp(v[var], v[other_var]) == result
        return lambda v, ins: cmp(v[var], other) == result
    if kind == "bool":
        return lambda v, ins: bool(v[var]) == result
    if kind == "float":
        return lambda v, ins: _same_float(v[var], result)
    if kind == "int":
        return lambda v, ins: _int_is(v[var], result)
    where = program.kinds[var][1]
    return lambda v, ins: repr(ins[where]) == result


def build(program: Program, grad_inputs: list[int],
          order: list[int] | None = None) -> tuple[Callable, Callable]:
    """(forward, backward) with the generated functions' signatures; ``order`` is
    ``passes.backward_order(program)`` when the caller has it already."""
    kinds, eqns = program.kinds, program.eqns
    n = len(kinds)
    init: list[Any] = [None] * n
    inputs: list[tuple[int, int]] = []
    numbers: list[tuple[int, int]] = []
    for var, (kind, where) in enumerate(kinds):
        if kind == CONST:
            init[var] = where
        elif kind == INPUT:
            inputs.append((var, where))
        elif kind == NUMBER:
            numbers.append((var, where))
    guards_at: dict[int, list] = {}
    for g in program.guards:
        guards_at.setdefault(g.at, []).append(_guard_test(g, program))
    steps = [(e.op, e.op is DETACH, e.op.arity, e.operands, e.out) for e in eqns]
    outputs = list(program.outputs)
    result = program.result

    def forward(ins: list, nums: list) -> Any:
        v = init.copy()
        for var, i in inputs:
            v[var] = ins[i].data
        for var, k in numbers:
            v[var] = nums[k]
        for i, (op, detach, arity, operands, out) in enumerate(steps):
            tests = guards_at.get(i)
            if tests is not None and not all(t(v, ins) for t in tests):
                return None
            if detach:
                v[out] = v[operands[0]]
            elif arity == 1:
                v[out] = op.forward(v[operands[0]])
            elif arity == 2:
                v[out] = op.forward(v[operands[0]], v[operands[1]])
            else:
                v[out] = op.forward([v[o] for o in operands])
        tests = guards_at.get(len(steps))
        if tests is not None and not all(t(v, ins) for t in tests):
            return None
        return v[result], v, tuple(v[o] for o in outputs[1:])

    if order is None:
        order = backward_order(program)
    order = [(eqns[i].op, eqns[i].op.arity, eqns[i].operands, eqns[i].out) for i in order]
    var_of_input = {w: v for v, w in inputs}
    position = {var_of_input[i]: j for j, i in enumerate(grad_inputs)}
    receives = bytearray(n)  # 1: an input (operand position), 2: an interior node
    for var in range(n):
        kind, where = kinds[var]
        if kind == INPUT and var in position:
            receives[var] = 1
        elif kind == EQN and not eqns[where].no_grad:
            receives[var] = 2

    def backward(g: float, ins: list, tape: list) -> None:
        acc: dict[int, float] = {}

        def add(o: int, c: float) -> None:
            r = receives[o]
            if r == 1:
                ins[position[o]].grad += c
            elif r == 2:
                acc[o] = acc[o] + c if o in acc else 0.0 + c

        for op, arity, operands, out in order:
            gout = g if out == result else acc.pop(out)
            if arity == 1:
                a = operands[0]
                add(a, op.vjp(gout, tape[a], tape[out]))
            elif arity == 2:
                a, b = operands
                ga, gb = op.vjp(gout, tape[a], tape[b], tape[out])
                add(a, ga)
                add(b, gb)
            else:
                slots: dict[int, Any] = {}
                for o in operands:
                    if o not in slots:
                        r = receives[o]
                        if r == 1:
                            slots[o] = ins[position[o]]
                        else:
                            slots[o] = _Slot(tape[o], acc.get(o, 0.0) if r == 2 else 0.0)
                op.vjp(gout, [slots[o] for o in operands], tape[out])
                for o, s in slots.items():
                    if receives[o] == 2:
                        acc[o] = s.grad
        if receives[result] == 1:
            ins[position[result]].grad += g

    return forward, backward
