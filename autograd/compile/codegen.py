"""Python source for a Program: a forward function and a backward function.

Every expression comes from the op table (``ops.Op.code``): the templates of
unary and binary ops, the emitters beside n-ary ops. Sums and dots call the
builtin ``sum`` on the same floats in the same order as their forward rules,
so the result is the same on every Python (3.12's ``sum`` is compensated).
The backward visits equations in the engine's order (``passes.backward_order``)
and adds every contribution the moment the engine would: onto ``ins[j].grad``
for an input, else into the node's accumulator, which starts as ``0.0 + c``
as a node's ``.grad`` does (reset to 0.0, then ``+=``).

No user text reaches the source: names come from ``naming`` (labels only when
they are plain identifiers), numbers from ``ops.number_literal``, and any other
constant a guard needs (a repr, a Fraction) is bound in the namespace under a
generated name.

Big programs are cut into functions of at most ``CHUNK`` lines (values that
cross a cut go through a list), so Python's ``compile()`` never sees a
function of a million lines.
"""

from __future__ import annotations

import builtins
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import mul
from typing import Any

from .. import ops
from .naming import Names
from .passes import backward_order, interior, uses
from .passes import pinned as passes_pinned
from .program import CONST, DETACH, INPUT, NUMBER, Program

CHUNK = 200_000  # lines per generated function: pieces beyond that
# Before Python 3.12 the builtin sum of floats adds left to right from 0, so
# ``0.0 + a + b`` is the very same float as ``sum((a, b))`` and cheaper for
# short sums; the batch loops (``as_parts``) write short sums that way there.
# From 3.12 sum is compensated, and only sum() gives the engine's float.
INLINE_SUMS = sys.version_info < (3, 12)
_INLINE_TERMS = 257  # longer chains stay sum(): a chain is an expression that deep
_MAX_FOLD_DEPTH = 24  # nested parentheses per expression: Python's parser allows 200
_IDENT = re.compile(r"[A-Za-z_]\w*")
_MAY_RAISE = re.compile(r"/|[A-Za-z_]\w*\(")


def _same_float(a: float, b: float) -> bool:
    """The very float read when traced: NaN matches NaN, 0.0 does not match -0.0."""
    if a == b:
        return a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b)
    return a != a and b != b


def _int_is(a: float, k: int) -> bool:
    try:
        return int(a) == k
    except (ValueError, OverflowError):
        return False


NAMESPACE = {k: v for k, v in vars(ops).items() if not k.startswith("__")}
NAMESPACE.update(
    _same_float=_same_float, _int_is=_int_is, sum=builtins.sum, float=float, abs=abs,
    repr=repr, mul=mul, __builtins__={},
)


@dataclass
class Generated:
    code: str
    forward: Callable
    backward: Callable
    grad_inputs: list[int]  # input indices that are the node's operands, in order
    tape_vars: list[int] = field(default_factory=list)


def _tuple(items: list[str]) -> str:
    if len(items) == 1:
        return f"({items[0]},)"
    return f"({', '.join(items)})"


class _Writer:
    inline_sums = False  # sums and dots as ``0.0 + a + b``: see INLINE_SUMS

    def __init__(self, p: Program) -> None:
        self.p = p
        self.bound: dict[str, Any] = {}
        names = Names()
        self.name: list[str] = []
        for var, (kind, where) in enumerate(p.kinds):
            if kind == CONST:
                self.name.append(ops.number_literal(where))
            elif kind == INPUT:
                self.name.append(names.make(p.labels.get(var, ""), f"in{where}"))
            elif kind == NUMBER:
                self.name.append(names.make(p.labels.get(var, ""), f"n{where}"))
            else:
                self.name.append(names.make(p.labels.get(var, "")))
        self.names = names

    def const(self, x: Any) -> str:
        """A number a guard compares with: a literal, or a bound name."""
        if x.__class__ is float:
            return ops.number_literal(x)
        if x.__class__ is int or x.__class__ is bool:
            return repr(int(x))
        name = f"c_{len(self.bound)}"
        self.bound[name] = x
        return name

    # --- forward expressions ---------------------------------------------------

    def forward_expr(self, op: Any, xs: list[str]) -> str:
        if op is DETACH:
            return xs[0]
        if op.arity:
            return op.code.forward.format(*xs)
        if self.inline_sums and (op is ops.SUM or op is ops.DOT) and len(xs) <= _INLINE_TERMS:
            return " + ".join(op.code.forward(xs))  # the op's own terms, left to right
        if op is ops.SUM:
            return f"sum({_tuple(xs)})"
        if op is ops.DOT:
            n = len(xs) // 2
            products = [f"{w} * {x}" for w, x in zip(xs[:n], xs[n : 2 * n], strict=True)]
            total = f"sum({_tuple(products)})" if products else "0.0"
            return f"{total} + {xs[-1]}" if len(xs) % 2 else total
        made = op.code.forward(xs)
        return made if isinstance(made, str) else " + ".join(made)

    def guard_line(self, g: Any, ref: Callable[[int], str]) -> str:
        a = ref(g.var)
        kind = g.kind
        if kind in ("<", "<=", ">", ">="):
            b = ref(g.other) if g.other_is_var else self.const(g.other)
            test = f"{a} {kind} {b}"
            cond = f"not ({test})" if g.result else test
        elif kind == "bool":
            cond = f"not {a}" if g.result else a
        elif kind == "float":
            cond = f"not _same_float({a}, {ops.number_literal(g.result)})"
        elif kind == "int":
            cond = f"not _int_is({a}, {int(g.result)!r})"
        else:  # repr: the input's text, bound (never pasted into the source)
            _, where = self.p.kinds[g.var]
            cond = f"repr(ins[{where}]) != {self.const(g.result)}"
        return f"if {cond}: return None  # guard"


def operand_layout(p: Program, order: list[int]) -> tuple[dict[int, int], list[int]]:
    """The inputs backward reaches, in order of first use: the compiled node's
    operands. Returns (input variable -> operand position, input indices)."""
    kinds, eqns = p.kinds, p.eqns
    grad_pos: dict[int, int] = {}
    grad_inputs: list[int] = []

    def operand_pos(var: int) -> None:
        if var not in grad_pos:
            grad_pos[var] = len(grad_inputs)
            grad_inputs.append(kinds[var][1])

    for i in sorted(order):
        for o in eqns[i].operands:
            if kinds[o][0] == INPUT:
                operand_pos(o)
    if kinds[p.result][0] == INPUT:
        operand_pos(p.result)
    return grad_pos, grad_inputs


@dataclass
class Parts:
    """The lines ``generate`` writes for a Program, before they become functions
    (``batch.py`` puts them in a loop). Every input's gradient is summed in a
    local ``a_<operand position>``."""

    reads: list[str]  # "x = ins[k].data" per input
    numbers: list[tuple[int, str]]  # (flat number index, name) per number variable
    body: list[str]  # the forward's equations and guards ("return None" on a failed guard)
    backward: list[str]  # the backward's lines, reading the names in ``tape``
    tape: list[str]
    outputs: list[str]
    grad_inputs: list[int]
    bound: dict[str, Any]


def generate(p: Program, aux: bool = False, chunk: int = CHUNK, direct: bool = False,
             run: bool = True, as_parts: bool = False) -> Any:
    """Source, compiled functions (unless ``run`` is False) and the operand
    layout for ``p``; with ``as_parts``, the lines as ``Parts`` (None for a program
    too big for one function, or with ``direct`` arguments)."""
    w = _Writer(p)
    w.inline_sums = as_parts and INLINE_SUMS
    name = w.name
    kinds, eqns = p.kinds, p.eqns
    result = p.result
    order = backward_order(p)

    grad_pos, grad_inputs = operand_layout(p, order)

    # --- backward --------------------------------------------------------------
    bwd: list[str] = []
    # An interior node's contributions are kept in order and added when the
    # node's turn comes (every consumer is done by then): ``0.0 + c1 + c2``,
    # as its .grad is reset to 0.0 and then added to, in one expression.
    pending: dict[int, list[str]] = {}
    plain = {"g"}  # gradients that are never -0.0 (0.0 + d is d): pass them on
    # An input that several contributions reach sums them in a local, read from
    # .grad first and written back at the end (also when backward raises): the
    # same additions in the same order as ``.grad +=`` each time, fewer attribute
    # lookups. Not when an argument is also a captured input (``direct``): two
    # input positions are then one object, whose .grad must be updated in place.
    into: dict[int, int] = {}
    for i in order:
        for o in eqns[i].operands:
            if kinds[o][0] == INPUT:
                into[o] = into.get(o, 0) + 1
    if kinds[result][0] == INPUT:
        into[result] = into.get(result, 0) + 1
    big = 2 * len(eqns) + len(kinds) > chunk  # generated in pieces
    if as_parts and (direct or big):
        return None
    local = {} if direct or big else {
        o: f"a_{grad_pos[o]}" for o, c in into.items() if c > 1 or as_parts
    }

    def add_to_input(o: int, expr: str) -> str:
        a = local.get(o)
        return f"{a} = {a} + {expr}" if a else f"ins[{grad_pos[o]}].grad += {expr}"

    def accumulate(o: int, expr: str) -> None:
        kind = kinds[o][0]
        if kind == INPUT:
            bwd.append(add_to_input(o, expr))
        elif interior(p, o):
            pending.setdefault(o, []).append(expr)
        elif _MAY_RAISE.search(expr):
            bwd.append(expr)  # the engine computes it (and may raise) though no one keeps it

    def gradient_of(out: int) -> str:
        if out == result:
            return "g"
        terms = pending.pop(out)
        if len(terms) == 1 and terms[0] in plain:
            return terms[0]
        d = f"d_{name[out]}"
        first = terms[0] if terms[0] in plain else f"0.0 + {terms[0]}"
        rest = terms[1:]
        bwd.append(f"{d} = {' + '.join([first, *rest[:63]])}")
        for k in range(63, len(rest), 64):
            bwd.append(f"{d} = {d} + {' + '.join(rest[k : k + 64])}")
        plain.add(d)
        return d

    for i in order:
        e = eqns[i]
        op = e.op
        out = e.out
        g = gradient_of(out)
        xs = [name[o] for o in e.operands]
        if op is ops.MAX:
            k = f"k_{name[out]}"
            bwd.append(f"{k} = _max_index({_tuple(xs)})")
            for j, o in enumerate(e.operands):
                if kinds[o][0] == INPUT:  # the rule adds g to the chosen operand only
                    bwd.append(f"if {k} == {j}: {add_to_input(o, g)}")
                elif interior(p, o):  # 0.0 added to an accumulator changes no bit
                    accumulate(o, f"({g} if {k} == {j} else 0.0)")
            continue
        if op.arity:
            exprs = op.code.grad_expressions(xs, g, name[out])
            if isinstance(exprs, str):
                tmp = [f"t{j}_{name[out]}" for j in range(op.arity)]
                bwd.append(f"{', '.join(tmp)}{',' if op.arity == 1 else ''} = {exprs}")
                exprs = tmp
            pairs = list(zip(e.operands, exprs, strict=True))
        else:
            setup, exprs = op.code.grads(xs, g, name[out])
            bwd.extend(setup)
            pairs = list(zip(e.operands, exprs, strict=True))
            if op is ops.DOT:  # the rule adds w_i's share, then x_i's, then the bias's
                n = len(pairs) // 2
                inter = [pairs[j] for i2 in range(n) for j in (i2, n + i2)]
                pairs = inter + pairs[2 * n :]
        if len(pairs) > 1 and any(_MAY_RAISE.search(x) for _, x in pairs):
            # the engine computes every share before it adds any: so must we
            tmp = [f"s{j}_{name[out]}" for j in range(len(pairs))]
            bwd.append(f"{', '.join(tmp)} = {', '.join(x for _, x in pairs)}")
            pairs = [(o, t) for (o, _), t in zip(pairs, tmp, strict=True)]
        for o, x in pairs:
            accumulate(o, x)
    if kinds[result][0] == INPUT:
        bwd.append(add_to_input(result, "g"))

    read = set(_IDENT.findall("\n".join(bwd)))

    # --- forward ---------------------------------------------------------------
    count = uses(p)
    pinned = passes_pinned(p)
    fwd: list[str] = []
    defined: list[int] = []  # vars given a line, in order
    for var, (kind, where) in enumerate(kinds):
        if kind == INPUT:
            fwd.append(f"{name[var]} = ins[{where}].data")
            defined.append(var)
        elif kind == NUMBER:
            fwd.append(f"{name[var]} = nums[{where}]")
            defined.append(var)
    folded: dict[int, tuple[str, int]] = {}
    guards = sorted(p.guards, key=lambda gd: gd.at)
    gi = 0

    def fref(o: int) -> tuple[str, int]:
        got = folded.pop(o, None)
        return got if got is not None else (name[o], 0)

    def ref(o: int) -> str:
        return name[o]

    for i, e in enumerate(eqns):
        while gi < len(guards) and guards[gi].at <= i:
            fwd.append(w.guard_line(guards[gi], ref))
            gi += 1
        parts = [fref(o) for o in e.operands]
        depth = 1 + max((d for _, d in parts), default=0)
        expr = w.forward_expr(e.op, [x for x, _ in parts])
        out = e.out
        if (
            count[out] == 1 and not pinned[out] and not e.label and name[out] not in read
            and depth <= _MAX_FOLD_DEPTH and e.op is not DETACH
        ):
            folded[out] = (f"({expr})", depth)
            continue
        fwd.append(f"{name[out]} = {expr}")
        defined.append(out)
    while gi < len(guards):
        fwd.append(w.guard_line(guards[gi], ref))
        gi += 1
    for o in list(folded):  # values nothing named (an op that may raise, unused)
        fwd.append(folded.pop(o)[0])
    tape_vars = [v for v in defined if name[v] in read]
    tape = [name[v] for v in tape_vars]
    outs = [name[v] for v in p.outputs]
    ret = f"{outs[0]}, {_tuple(tape) if tape else '()'}"
    if aux:
        ret += f", {_tuple(outs[1:]) if len(outs) > 1 else '()'}"

    if as_parts:
        heads = [k for k, _ in kinds if k in (INPUT, NUMBER)]  # fwd's first lines, in order
        return Parts(
            reads=[line for k, line in zip(heads, fwd, strict=False) if k == INPUT],
            numbers=[(where, name[v]) for v, (k, where) in enumerate(kinds) if k == NUMBER],
            body=fwd[len(heads):], backward=bwd, tape=tape, outputs=outs,
            grad_inputs=grad_inputs, bound=w.bound,
        )
    header = (
        f"# autograd.compile: {len(eqns)} equations, {len(p.inputs)} inputs "
        f"({len(grad_inputs)} differentiable), {len(p.guards) + len(p.env_guards)} guards"
    )
    if local:
        reads = [f"{a} = ins[{grad_pos[o]}].grad" for o, a in local.items()]
        writes = [f"ins[{grad_pos[o]}].grad = {a}" for o, a in local.items()]
        bwd = reads + ["try:"] + ["    " + line for line in bwd] + [
            "finally:"] + ["    " + line for line in writes]
    if not big:
        fwd_src = _small("forward", "ins, nums", fwd, f"return {ret}")
        head = [f"{', '.join(tape)}{',' if len(tape) == 1 else ''} = tape"] if tape else []
        bwd_src = _small("backward", "g, ins, tape", head + bwd)
    else:  # in pieces: names that cross a cut, and the tape, live in a list
        keep = set(tape) | set(outs)
        fwd_src, slots = _chunked("forward", "ins, nums", fwd, chunk, keep, {})
        r = {n: f"r[{slots[n]}]" for n in outs}
        extra = f", {_tuple([r[n] for n in outs[1:]]) if len(outs) > 1 else '()'}" if aux else ""
        fwd_src += f"    return {r[outs[0]]}, r{extra}\n"
        external = {n: f"tape[{slots[n]}]" for n in tape}
        bwd_src, _ = _chunked("backward", "g, ins, tape", bwd, chunk, set(), external)
    code = "\n".join([header, fwd_src, "", bwd_src]) + "\n"
    if not run:
        return Generated(code, None, None, grad_inputs, tape_vars)
    namespace = dict(NAMESPACE)
    namespace.update(w.bound)
    exec(builtins.compile(code, "<autograd.compile>", "exec"), namespace)  # noqa: S102
    return Generated(code, namespace["forward"], namespace["backward"], grad_inputs, tape_vars)


_TARGETS = re.compile(r"^([A-Za-z_][\w, ]*?)\s*=(?!=)")
_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def _small(fname: str, params: str, body: list[str], ret: str | None = None) -> str:
    lines = [f"def {fname}({params}):"]
    lines += ["    " + line for line in body]
    if ret is not None:
        lines.append("    " + ret)
    elif not body:
        lines.append("    pass")
    return "\n".join(lines) + "\n"


def _chunked(fname: str, params: str, body: list[str], chunk: int, keep: set[str],
             external: dict[str, str]) -> tuple[str, dict[str, int]]:
    """``def fname(params)`` running ``body`` as functions of ``chunk`` lines.

    A name stays a local of the piece that first assigns it; a name another
    piece reads or assigns, or one in ``keep``, also lives in the list ``r``
    (stored at the end of its piece, read as ``r[i]`` elsewhere). Names in
    ``external`` (the tape) are read as the expression given.
    """
    first: dict[str, int] = {}
    used_in: list[set[str]] = []
    for i, line in enumerate(body):
        k = i // chunk
        m = _TARGETS.match(line)
        if m:
            for target in m.group(1).split(","):
                target = target.strip()
                if target and target not in first:
                    first[target] = k
        if k == len(used_in):
            used_in.append(set())
        used_in[k].update(_NAME.findall(line))
    slots: dict[str, int] = {}
    for k, names in enumerate(used_in):
        for n in names:
            if n in first and first[n] != k and n not in slots:
                slots[n] = len(slots)
    for n in sorted(keep):
        if n in first and n not in slots:
            slots[n] = len(slots)
    out = []
    calls = []
    for k in range(len(used_in)):
        def sub(m: re.Match, k: int = k) -> str:
            n = m.group(0)
            if n in external:
                return external[n]
            if n in slots and first[n] != k:
                return f"r[{slots[n]}]"
            return n

        part = f"_{fname}_{k}"
        out.append(f"def {part}({params}, r):")
        out += ["    " + _NAME.sub(sub, line) for line in body[k * chunk : (k + 1) * chunk]]
        stores = [n for n in slots if first[n] == k]
        out += [f"    r[{slots[n]}] = {n}" for n in stores]
        out.append("    return True")
        calls.append(f"    if {part}({params}, r) is None: return None")
    out.append(f"def {fname}({params}):")
    out.append(f"    r = [None] * {len(slots)}")
    out += calls
    return "\n".join(out) + "\n", slots
