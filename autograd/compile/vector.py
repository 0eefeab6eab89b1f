"""Array code for a Program: one forward and one backward over a whole batch.

``step.map`` runs a traced path once for every example that takes it. Each
number that differs per example (an argument, and everything computed from
one) is a length-B numpy array; a captured input (a parameter) and anything
computed only from parameters and constants stays one number, computed once.
The code comes from the op table: ``Templates.vector`` / ``NaryCode.vector``
beside each op's scalar templates, or the scalar templates themselves where
they already work on arrays (``+``, ``*``, dots and sums).

The forward returns, besides the values, two masks over the batch: ``ok``
(the example passes every guard of this path) and ``bad`` (an op's eager rule
would raise for it, in the forward or, when gradients are wanted, in the
backward); ``map`` replays the ``bad`` ones one by one, so their errors are
eager's own. Gradients are linear in the gradient arriving at a node, so a
node that is one number for the whole batch receives the sum over the batch
of its contributions, and passes it on as one number.

numpy is imported here, and this module is imported only by ``map``.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops
from .naming import Names
from .passes import backward_order, interior
from .program import CONST, DETACH, INPUT, NUMBER, Program

TERMS = 48  # terms per line when a long sum is written out


class Unsupported(Exception):
    """The Program holds something with no array form: map replays it example by example."""


def _same(a: Any, r: float) -> Any:
    """_same_float over an array: the same number, 0.0 is not -0.0, NaN is NaN."""
    return ((a == r) & (np.signbit(a) == np.signbit(r))) | (np.isnan(a) & (r != r))


def _int_is(a: Any, k: int) -> Any:
    with np.errstate(invalid="ignore"):
        return np.isfinite(a) & (np.trunc(a) == k)


NAMESPACE: dict[str, Any] = {
    "where": np.where, "exp": np.exp, "log": np.log, "log1p": np.log1p, "expm1": np.expm1,
    "sqrt": np.sqrt, "tanh": np.tanh, "sin": np.sin, "cos": np.cos, "absolute": np.abs,
    "maximum": np.maximum, "power": np.power, "floor": np.floor, "isnan": np.isnan,
    "isinf": np.isinf, "isfinite": np.isfinite, "total": np.sum, "_same": _same,
    "_int_is": _int_is, "inf": np.inf, "nan": np.nan, "ones": np.ones, "zeros": np.zeros,
    "stack": np.stack, "array": np.array, "bool_": np.bool_, "locals": locals,
    "add_at": np.add.at, "len": len,
    "__builtins__": {},
}


class VectorTrace:
    """The array form of one traced path."""

    def __init__(self, program: Program, code: str, forward: Callable, backward: Callable,
                 grad_inputs: list[int], batched_result: bool,
                 aux: list[Any] | None = None, flat: bool = False) -> None:
        self.program = program
        self.code = code
        self.forward = forward  # (ins, nums, B, grads) -> (ok, bad, result, tape); nums:
        # a 2-d array, row ``where`` the flat number ``where`` of every example
        self.backward = backward  # (g, tape) -> gradient per grad input
        self.grad_inputs = grad_inputs  # input indices that receive a gradient
        self.batched_result = batched_result
        # the aux outputs (``compile(fn, aux=True)``): a name in the forward's tape, or a
        # number (a constant), one per aux value in the Program's order
        self.aux = aux or []
        # every input is captured (a parameter): the forward reads them as ONE array
        # (``ins[k]``, a layer's weights ``ins[index matrix]``) and the backward returns
        # the gradients of ``grad_inputs`` as one array, gathered from a flat sum
        self.flat = flat
        self.operands: list[Any] | None = None  # the grad inputs' Values, once (map)


class _Read:
    """A Program with its kinds, equations and inputs read once into lists: build
    looks them up thousands of times, and the Program makes each on every lookup."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.kinds = list(program.kinds)
        self.eqns = list(program.eqns)
        self.inputs = list(program.inputs)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.program, attr)


_INPUT_LINE = re.compile(r"(in\d+) = ins\[")


def build(program: Program) -> VectorTrace:
    """Generate and compile the array code of ``program`` (raises Unsupported)."""
    p: Any = _Read(program)
    kinds, eqns = p.kinds, p.eqns
    flat = bool(p.inputs) and all(inp.arg is None for inp in p.inputs)
    consts: dict[str, Any] = {}  # index arrays the flat code reads, bound by name
    names = Names()
    name: list[str] = []
    batched = bytearray(len(kinds))
    for var, (kind, where) in enumerate(kinds):
        if kind == CONST:
            name.append(ops.number_literal(where))
        elif kind == INPUT:
            name.append(_fresh(names, f"in{where}"))
            batched[var] = p.inputs[where].arg is not None
        elif kind == NUMBER:
            name.append(_fresh(names, f"n{where}"))
            batched[var] = 1
        else:
            name.append(names.make(""))
    for e in eqns:
        batched[e.out] = any(batched[o] for o in e.operands)
    order = backward_order(p)
    layers = _layers(p, batched, set(order))
    first_of = {members[0]: k for k, members in enumerate(layers)}
    in_layer = {i: k for k, members in enumerate(layers) for i in members}
    fused = _fused_unaries(p, layers, set(order))
    fused_eqns = {u for us in fused.values() for u in us}
    stacked: dict[tuple[str, ...], str] = {}  # rows already one matrix: its name

    # --- forward ---------------------------------------------------------------
    fwd = ["ok = ones(B, bool_)", "bad = zeros(B, bool_)"]
    for var, (kind, where) in enumerate(kinds):
        if kind == INPUT:
            fwd.append(f"{name[var]} = ins[{where}]")
        elif kind == NUMBER:
            fwd.append(f"{name[var]} = nums[{where}]")
    guards = sorted(p.guards, key=lambda gd: gd.at)
    gi = 0
    for i, e in enumerate(eqns):
        while gi < len(guards) and guards[gi].at <= i:
            fwd.append(_guard_line(guards[gi], name))
            gi += 1
        if i in in_layer:
            if i in first_of:
                k = first_of[i]
                fwd += _layer_forward(p, layers[k], k, name, consts if flat else None,
                                      stacked)
                if k in fused:  # the activation of every row at once
                    us = fused[k]
                    fwd.append(f"U_{k} = {_forward(eqns[us[0]].op, [f'O_{k}'], f'U_{k}')[1]}")
                    fwd += [f"{name[eqns[u].out]} = U_{k}[{r}]" for r, u in enumerate(us)]
                    stacked[tuple(name[eqns[u].out] for u in us)] = f"U_{k}"
            continue
        if i in fused_eqns:
            continue
        if flat and _param_dot(p, e, batched):
            fwd.append(f"{name[e.out]} = {_param_dot_forward(p, e, i, consts)}")
            continue
        xs = [name[o] for o in e.operands]
        out = name[e.out]
        setup, expr, raises, grad_raises = _forward(e.op, xs, out)
        fwd += setup
        fwd.append(f"{out} = {expr}")
        if raises:
            fwd.append(f"bad = bad | ({raises})")
        if grad_raises and not e.no_grad:
            fwd.append(f"if grads: bad = bad | ({grad_raises})")
    while gi < len(guards):
        fwd.append(_guard_line(guards[gi], name))
        gi += 1
    fwd.append(f"return ok, bad, {name[p.result]}, locals()")

    # --- backward --------------------------------------------------------------
    last_of = {}  # a layer runs its backward where its last dot comes in the order
    for i in order:
        if i in in_layer:
            last_of[in_layer[i]] = i
    at_last = {i: k for k, i in last_of.items()}
    pending: dict[int, list[str]] = {}
    into: dict[int, list[str]] = {}  # input var -> contributions
    grad_inputs: list[int] = []
    bwd: list[str] = []
    used: set[str] = set()
    flat_in: set[int] = set()  # flat: input indices given whole-array contributions

    def contribute(o: int, expr: str, expr_batched: bool) -> None:
        kind = kinds[o][0]
        if expr_batched and not batched[o]:
            expr = f"total({expr})"
        if kind == INPUT:
            if o not in into:
                into[o] = []
                grad_inputs.append(kinds[o][1])
            into[o].append(expr)
        elif interior(p, o):
            pending.setdefault(o, []).append(expr)

    def gradient_of(out: int) -> str:
        if out == p.result:
            return "g"
        d = f"d_{name[out]}"
        _sum_lines(bwd, d, pending.pop(out))
        return d

    for i in order:
        e = eqns[i]
        if e.op is DETACH:
            continue
        if i in in_layer:
            if i in at_last:
                k = at_last[i]
                members = layers[k]
                used.update(f"{m}_{k}" for m in ("X", "W"))
                if k in fused:  # the activations' derivative over the whole matrix
                    us = fused[k]
                    ds = [gradient_of(eqns[u].out) for u in us]
                    bwd.append(f"DU_{k} = zeros(({len(us)}, B))")
                    bwd += [f"DU_{k}[{r}] = {d}" for r, d in enumerate(ds)]
                    _, (dexpr,) = _grads(eqns[us[0]].op, [f"O_{k}"], f"DU_{k}", f"U_{k}")
                    bwd.append(f"G_{k} = {dexpr}")
                    used.update((f"O_{k}", f"U_{k}"))
                else:
                    gs = [gradient_of(eqns[j].out) for j in members]
                    bwd.append(f"G_{k} = zeros(({len(members)}, B))")
                    bwd += [f"G_{k}[{r}] = {d}" for r, d in enumerate(gs)]
                for j in members:
                    used.update(name[o] for o in eqns[j].operands if kinds[o][0] != CONST
                                and not (flat and f"IW_{k}" in consts and kinds[o][0] == INPUT))
                bwd += [f"DW_{k} = G_{k} @ X_{k}.T", f"DX_{k} = W_{k}.T @ G_{k}",
                        f"DB_{k} = total(G_{k}, 1)"]
                first = eqns[members[0]]
                n = len(first.operands) // 2
                if flat and f"IW_{k}" in consts:
                    bwd.append(_scatter(f"IW_{k}", f"DW_{k}", consts))
                    flat_in.update(consts[f"IW_{k}"].ravel().tolist())
                    if f"IB_{k}" in consts:
                        bwd.append(_scatter(f"IB_{k}", f"DB_{k}", consts))
                        flat_in.update(consts[f"IB_{k}"].tolist())
                    for c in range(n):
                        contribute(first.operands[n + c], f"DX_{k}[{c}]", True)
                    continue
                for r, j in enumerate(members):
                    ops_j = eqns[j].operands
                    for c in range(n):
                        contribute(ops_j[c], f"DW_{k}[{r}, {c}]", False)
                    if len(ops_j) % 2:
                        contribute(ops_j[-1], f"DB_{k}[{r}]", False)
                for c in range(n):
                    contribute(first.operands[n + c], f"DX_{k}[{c}]", True)
            continue
        if i in fused_eqns:
            continue  # with its layer's backward
        out = e.out
        g = gradient_of(out)
        if flat and f"I1_{i}" in consts:
            bwd += _param_dot_backward(e, i, g, consts)
            flat_in.update(kinds[o][1] for o in e.operands)
            continue
        xs = [name[o] for o in e.operands]
        used.update(name[o] for o in (*e.operands, out) if kinds[o][0] != CONST)
        setup, exprs = _grads(e.op, xs, g, name[out])
        bwd += setup
        for o, x in zip(e.operands, exprs, strict=True):
            contribute(o, x, bool(batched[out]))
    if kinds[p.result][0] == INPUT:
        contribute(p.result, "g", bool(batched[p.result]))
    results = []
    for o, terms in into.items():
        d = f"a_{name[o]}"
        _sum_lines(bwd, d, terms)
        results.append(d)
    if flat:  # one array: the whole-array sums, then each input's own terms
        for o, d in zip(into, results, strict=True):
            bwd.append(f"A[{kinds[o][1]}] += {d}")
        grad_inputs = sorted(flat_in | {kinds[o][1] for o in into})
        consts["GI"] = np.array(grad_inputs, dtype=np.intp)
        bwd.insert(0, "A = zeros(len(ins))")
        used.add("ins")
    head = [f"{n} = tape[{n!r}]" for n in sorted(used) if n.isidentifier() and n != "g"]
    head.append("B = tape['B']")
    if flat:
        bwd = head + bwd + ["return A[GI]"]
        # the forward reads one by one only the parameters some line reads so
        words = set(re.findall(r"\w+", "\n".join(
            line for line in fwd + bwd if not _INPUT_LINE.match(line))))
        fwd = [line for line in fwd if not (m := _INPUT_LINE.match(line))
               or m.group(1) in words]
    else:
        bwd = head + bwd + [f"return ({', '.join(results)}{',' if len(results) == 1 else ''})"]
    code = (_function("forward", "ins, nums, B, grads", fwd) + "\n"
            + _function("backward", "g, tape", bwd))
    namespace = dict(NAMESPACE)
    namespace.update(consts)
    exec(builtins.compile(code, "<autograd.compile map>", "exec"), namespace)  # noqa: S102
    aux = [float(kinds[v][1]) if kinds[v][0] == CONST else name[v] for v in p.outputs[1:]]
    return VectorTrace(program, code, namespace["forward"], namespace["backward"], grad_inputs,
                       bool(batched[p.result]), aux, flat)


def _fresh(names: Names, base: str) -> str:
    """``names.make("", base)`` without its label checks (there is no label)."""
    if base in names.used:
        return names.make("", base)
    names.used.add(base)
    return base


def _layers(p: Program, batched: bytearray, reached: set[int]) -> list[list[int]]:
    """Dots that form a layer: the same batched inputs, parameters (inputs or
    constants) as weights and bias; each group of two or more becomes one
    matrix product (forward) and two (backward)."""
    by_x: dict[tuple, list[int]] = {}
    for i, e in enumerate(p.eqns):
        if e.op is not ops.DOT or e.no_grad or i not in reached:
            continue
        n = len(e.operands) // 2
        ws, xs = e.operands[:n], e.operands[n : 2 * n]
        rest = list(ws) + list(e.operands[2 * n :])
        if n == 0 or not all(batched[x] for x in xs):
            continue
        if any(batched[o] or p.kinds[o][0] not in (INPUT, CONST) for o in rest):
            continue
        by_x.setdefault((tuple(xs), len(e.operands) % 2), []).append(i)
    return [members for members in by_x.values()]


def _fused_unaries(p: Any, layers: list[list[int]], reached: set[int]) -> dict[int, list[int]]:
    """Layers whose every output is read only by one unary op, the same for all rows,
    whose array rule neither raises nor needs setup (an activation such as relu):
    layer index -> those equations, in row order. Each such op then runs once over the
    layer's output matrix, forward and backward, not once per row."""
    readers: dict[int, list[int]] = {}
    for i, e in enumerate(p.eqns):
        for o in e.operands:
            readers.setdefault(o, []).append(i)
    out: dict[int, list[int]] = {}
    for k, members in enumerate(layers):
        us = []
        for j in members:
            o = p.eqns[j].out
            rs = readers.get(o, [])
            if o == p.result or len(rs) != 1 or p.eqns[rs[0]].operands != (o,):
                break
            us.append(rs[0])
        else:
            ops_ = {p.eqns[u].op for u in us}
            op = p.eqns[us[0]].op
            if (len(ops_) != 1 or op is DETACH or getattr(op, "arity", 0) != 1
                    or len(set(us)) != len(us) or not all(u in reached for u in us)
                    or any(p.eqns[u].no_grad or p.eqns[u].out == p.result for u in us)):
                continue
            try:
                setup, _, raises, grad_raises = _forward(op, ["X"], "Y")
                gsetup, gexprs = _grads(op, ["X"], "G", "Y")
            except Unsupported:
                continue
            if setup or raises or grad_raises or gsetup or len(gexprs) != 1:
                continue
            out[k] = us
    return out


def _layer_forward(p: Program, members: list[int], k: int, name: list[str],
                   consts: dict[str, Any] | None = None,
                   stacked: dict[tuple[str, ...], str] | None = None) -> list[str]:
    eqns = p.eqns
    first = eqns[members[0]]
    n = len(first.operands) // 2
    xs = [name[o] for o in first.operands[n : 2 * n]]
    rows = (stacked or {}).get(tuple(xs))
    if rows is None and all(p.kinds[o][0] == NUMBER for o in first.operands[n : 2 * n]):
        at = [p.kinds[o][1] for o in first.operands[n : 2 * n]]
        if at == list(range(at[0], at[0] + n)):
            rows = f"nums[{at[0]}:{at[0] + n}]"  # the numbers' own rows: no copy
    stack = f"X_{k} = {rows}" if rows else f"X_{k} = stack(({', '.join(xs)},))"
    if consts is not None and all(
        p.kinds[o][0] == INPUT for j in members for o in eqns[j].operands[:n]
    ) and (len(first.operands) % 2 == 0 or all(
        p.kinds[eqns[j].operands[-1]][0] == INPUT for j in members
    )):  # flat: the weights gathered from the parameter array by one index matrix
        consts[f"IW_{k}"] = np.array(
            [[p.kinds[o][1] for o in eqns[j].operands[:n]] for j in members], dtype=np.intp)
        lines = [stack, f"W_{k} = ins[IW_{k}]",
                 f"O_{k} = W_{k} @ X_{k}"]
        if len(first.operands) % 2:
            consts[f"IB_{k}"] = np.array(
                [p.kinds[eqns[j].operands[-1]][1] for j in members], dtype=np.intp)
            lines.append(f"O_{k} = O_{k} + ins[IB_{k}][:, None]")
        return lines + [f"{name[eqns[j].out]} = O_{k}[{r}]" for r, j in enumerate(members)]
    ws = ["(" + ", ".join(name[o] for o in eqns[j].operands[:n]) + ",)" for j in members]
    lines = [stack, f"W_{k} = array(({', '.join(ws)},))",
             f"O_{k} = W_{k} @ X_{k}"]
    if len(first.operands) % 2:
        bias = ", ".join(name[eqns[j].operands[-1]] for j in members)
        lines.append(f"O_{k} = O_{k} + array(({bias},))[:, None]")
    lines += [f"{name[eqns[j].out]} = O_{k}[{r}]" for r, j in enumerate(members)]
    return lines


def _param_dot(p: Program, e: Any, batched: bytearray) -> bool:
    """A dot of parameters only (an L2 term, ``dot(params, params)``): one number
    for the whole batch, computed from the parameter array in one product."""
    return (e.op is ops.DOT and not e.no_grad and len(e.operands) >= 2
            and not batched[e.out]
            and all(p.kinds[o][0] == INPUT for o in e.operands))


def _param_dot_forward(p: Program, e: Any, i: int, consts: dict[str, Any]) -> str:
    n = len(e.operands) // 2
    where = [p.kinds[o][1] for o in e.operands]
    consts[f"I1_{i}"] = np.array(where[:n], dtype=np.intp)
    consts[f"I2_{i}"] = np.array(where[n : 2 * n], dtype=np.intp)
    expr = f"total(ins[I1_{i}] * ins[I2_{i}])"
    if len(where) % 2:
        consts[f"BIAS_{i}"] = where[-1]
        expr += f" + ins[{where[-1]}]"
    return expr


def _param_dot_backward(e: Any, i: int, g: str, consts: dict[str, Any]) -> list[str]:
    lines = [_scatter(f"I1_{i}", f"{g} * ins[I2_{i}]", consts),
             _scatter(f"I2_{i}", f"{g} * ins[I1_{i}]", consts)]
    if f"BIAS_{i}" in consts:
        lines.append(f"A[{consts[f'BIAS_{i}']}] += {g}")
    return lines


def _scatter(index: str, values: str, consts: dict[str, Any]) -> str:
    """``A[index] += values``, or ``add_at`` when an index repeats (``+=`` would keep
    only one of its additions)."""
    idx = consts[index].ravel()
    if len(np.unique(idx)) == len(idx):
        return f"A[{index}] += {values}"
    return f"add_at(A, {index}, {values})"


def _function(fname: str, params: str, body: list[str]) -> str:
    return "\n".join([f"def {fname}({params}):", *("    " + line for line in body)]) + "\n"


def _sum_lines(lines: list[str], target: str, terms: list[str]) -> None:
    lines.append(f"{target} = {' + '.join(terms[:TERMS])}")
    for k in range(TERMS, len(terms), TERMS):
        lines.append(f"{target} = {target} + {' + '.join(terms[k : k + TERMS])}")


def _guard_line(gd: Any, name: list[str]) -> str:
    a = name[gd.var]
    if gd.kind in ("<", "<=", ">", ">="):
        if gd.other_is_var:
            b = name[gd.other]
        elif isinstance(gd.other, (float, int)) and not isinstance(gd.other, bool):
            b = ops.number_literal(float(gd.other))
        else:
            raise Unsupported(f"a guard against {type(gd.other).__name__}")
        test = f"({a} {gd.kind} {b})"
    elif gd.kind == "bool":
        test = f"({a} != 0)"
    elif gd.kind == "float":
        test = f"_same({a}, {ops.number_literal(gd.result)})"
        return f"ok = ok & {test}"
    elif gd.kind == "int":
        return f"ok = ok & _int_is({a}, {int(gd.result)!r})"
    else:
        raise Unsupported(f"a {gd.kind} guard")
    return f"ok = ok & {test}" if gd.result else f"ok = ok & ~{test}"


def _forward(op: Any, xs: list[str], out: str) -> tuple[list[str], str, str | None, str | None]:
    """(setup lines, expression, raise mask, derivative raise mask) of one equation."""
    if op is DETACH:
        return [], xs[0], None, None
    code = getattr(op, "code", None)
    if op.arity:
        if not isinstance(code, ops.Templates):
            raise Unsupported(f"op {op.name!r} has no templates")
        vec = code.vector
        template = code.forward if vec is None or vec.forward is None else vec.forward
        if vec is None and not _plain(template):
            raise Unsupported(f"op {op.name!r} has no array template")
        fill = {"out": out}
        raises = vec.raises.format(*xs, **fill) if vec is not None and vec.raises else None
        grad_raises = (vec.grad_raises.format(*xs, **fill)
                       if vec is not None and vec.grad_raises else None)
        return [], template.format(*xs), raises, grad_raises
    if not isinstance(code, ops.NaryCode):
        raise Unsupported(f"op {op.name!r} has no code")
    if code.vector is not None:
        setup, expr = code.vector[0](xs, out)
        return setup, expr, None, None
    made = code.forward(xs)
    if isinstance(made, str):
        raise Unsupported(f"op {op.name!r} has no array template")
    setup: list[str] = []
    _sum_lines(setup, f"s_{out}", made)
    return setup, f"s_{out}", None, None


def _grads(op: Any, xs: list[str], g: str, out: str) -> tuple[list[str], list[str]]:
    code = op.code
    if op.arity:
        vec = code.vector
        if vec is not None and vec.grads is not None:
            return [], [t.format(*xs, g=g, out=out) for t in vec.grads]
        exprs = code.grad_expressions(xs, g, out)
        if isinstance(exprs, str) or not all(_plain(x) for x in exprs):
            raise Unsupported(f"op {op.name!r} has no array derivative template")
        return [], exprs
    if code.vector is not None:
        return code.vector[1](xs, g, out)
    return code.grads(xs, g, out)


_CALL = re.compile(r"[A-Za-z_]\w*\(")


def _plain(text: str) -> bool:
    """A template that is arithmetic only (no calls, no ``if``), so it runs on arrays."""
    return not _CALL.search(text) and " if " not in text
