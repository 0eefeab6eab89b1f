"""Passes: functions from Program to Program (or to facts about one).

- ``prune``: drop equations nothing needs and that cannot raise. An equation
  whose op can raise (log, sqrt, /, ** and exp) stays even when its value is
  unused, so a replay raises where eager raises.
- ``backward_order``: the equations in the order the engine's backward visits
  them (``autograd.backward._interior_order``, reversed), so the generated
  backward adds every contribution in eager's order.
- ``uses``: how many times each variable is read, for folding in codegen.
"""

from __future__ import annotations

from dataclasses import replace

from .. import ops
from .program import DETACH, EQN, Program

# Ops whose forward never raises on any float: their unused results can go.
_CANNOT_RAISE = frozenset(
    id(op) for op in (
        ops.ADD, ops.SUB, ops.MUL, ops.PRELU, ops.NEG, ops.ABS, ops.TANH, ops.SIGMOID,
        ops.SOFTPLUS, ops.RELU, ops.SIN, ops.COS, ops.STEP, ops.SIGN, ops.SUM, ops.DOT,
        ops.MAX, DETACH,
    )
)
_CANNOT_RAISE_NAMES = frozenset({"leaky_relu", "elu", "hardtanh"})


def can_raise(op: object) -> bool:
    return id(op) not in _CANNOT_RAISE and getattr(op, "name", "") not in _CANNOT_RAISE_NAMES


def prune(p: Program) -> Program:
    """``p`` without the equations that neither an output nor a guard needs and
    whose op cannot raise. Variables keep their numbers."""
    needed = pinned(p)
    ops_, outs, args, start = p._op, p._out, p._args, p._start
    for op, out in zip(ops_, outs, strict=True):
        if can_raise(op):
            needed[out] = 1
    keep = []
    for i in range(len(ops_) - 1, -1, -1):
        if needed[outs[i]]:
            keep.append(i)
            for o in args[start[i]:start[i + 1]]:
                needed[o] = 1
    if len(keep) == len(ops_):
        return p
    keep.reverse()
    q = p.copy_eqns(keep)
    # a guard checked after k equations of the old list: after as many of the kept ones
    kept_before = []
    n = 0
    kept = set(keep)
    for i in range(len(ops_)):
        kept_before.append(n)
        n += i in kept
    kept_before.append(n)
    q.guards = [replace(g, at=kept_before[g.at]) for g in p.guards]
    return q


def pinned(p: Program) -> bytearray:
    """1 for each variable an output or a guard reads (a pass must keep it, and
    generated code must give it a name), 0 for the others."""
    marks = bytearray(len(p.kinds))
    for v in p.outputs:
        marks[v] = 1
    for g in p.guards:
        marks[g.var] = 1
        if g.other_is_var:
            marks[g.other] = 1
    return marks


def interior(p: Program, var: int) -> bool:
    """True for a variable the engine's backward walks through (a recorded op)."""
    kind, where = p.kinds[var]
    return kind == EQN and not p.eqns[where].no_grad


def backward_order(p: Program) -> list[int]:
    """Equation indices in the order eager backward processes their nodes."""
    root = p.result
    if not interior(p, root):
        return []
    kinds, eqns = p.kinds, p.eqns
    state = bytearray(len(kinds))  # 0 unseen, 1 expanded, 2 placed
    order: list[int] = []
    stack = [root]
    while stack:
        v = stack[-1]
        s = state[v]
        if s == 0:
            state[v] = 1
            depth = len(stack)
            for o in eqns[kinds[v][1]].operands:
                if state[o] == 0 and kinds[o][0] == EQN and not eqns[kinds[o][1]].no_grad:
                    stack.append(o)
            if len(stack) > depth:
                continue
        elif s == 2:
            stack.pop()
            continue
        stack.pop()
        state[v] = 2
        order.append(kinds[v][1])
    order.reverse()
    return order


def uses(p: Program) -> list[int]:
    """How many operand slots read each variable."""
    count = [0] * len(p.kinds)
    for e in p.eqns:
        for o in e.operands:
            count[o] += 1
    return count
