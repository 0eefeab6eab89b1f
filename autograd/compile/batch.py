"""``step.map(batch, reduce)``: one compiled function over a whole batch of examples.

With numpy, each traced path runs once as array code (``vector``) over every
example that takes it: examples are grouped by path, a path met for the first
time is traced by replaying that example the ordinary way, and an example
whose eager run would raise is replayed alone so that it raises eager's
exception, which then names its index. Without numpy, ``map`` loops the scalar
replay and says so once.

A reduced result is one Value: the sum of one node per group (its operands
are the parameters, and any Value arguments) and of the examples replayed
alone; backward through it gives every input what the eager loop gives.
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import ops
from ..mode import current_recorder, is_anomaly_enabled, is_grad_enabled
from ..value import Value, _node
from .args import flatten
from .trace import env_holds, same_number

REDUCES = ("mean", "sum", None)
_warned = [False]


def run(step: Any, batch: Any, reduce: str | None) -> Any:
    """What ``Compiled.map`` returns (see there)."""
    if reduce not in REDUCES:
        raise ValueError(f"map: reduce must be 'mean', 'sum' or None, got {reduce!r}")
    rows = [a if isinstance(a, tuple) else (a,) for a in batch]
    if not rows:
        raise ValueError("map: the batch is empty")
    try:
        import numpy  # noqa: F401 - only to know whether the array path exists
    except ImportError:
        if not _warned[0]:
            _warned[0] = True
            warnings.warn(
                "autograd.compile map: numpy is not installed, so map replays the compiled "
                "function example by example (pip install 'chainrule[fast]' for array code)",
                RuntimeWarning, stacklevel=3,
            )
        return _finish_alone(step, rows, reduce)
    if current_recorder() is not None or is_anomaly_enabled():
        return _finish_alone(step, rows, reduce)
    return _vectorised(step, rows, reduce)


def _one(step: Any, rows: list, i: int) -> Value:
    """Example ``i`` replayed alone; an error names its index."""
    try:
        return step(*rows[i])
    except Exception as err:  # noqa: BLE001 - re-raised with the index, same type
        raise _indexed(err, i) from err


def _indexed(err: Exception, i: int) -> Exception:
    text = f"autograd.compile map: example {i} of the batch: {err}"
    try:
        new = type(err)(text)
    except Exception:  # noqa: BLE001 - an exception class with another signature
        err.add_note(text)
        return err
    return new if type(new) is type(err) else err


def _finish(alone: list[Value], groups: list, reduce: str | None, n: int) -> Any:
    """The per-example floats, or one Value: the sum (or mean) of every part."""
    if reduce is None:
        values: list[float] = [0.0] * n
        for i, v in alone:
            values[i] = float(v.data if isinstance(v, Value) else v)
        for rows, outs in groups:
            for i, x in zip(rows, outs, strict=True):
                values[i] = x
        return values
    from .. import sum as total

    parts = [v if isinstance(v, Value) else Value(float(v)) for v in alone] + groups
    out = total(parts)
    return out / n if reduce == "mean" else out


def _finish_alone(step: Any, rows: list, reduce: str | None) -> Any:
    alone = [_one(step, rows, i) for i in range(len(rows))]
    if reduce is None:
        return _finish(list(enumerate(alone)), [], None, len(rows))
    return _finish(alone, [], reduce, len(rows))


def _vectorised(step: Any, rows: list, reduce: str | None) -> Any:
    import numpy as np

    from . import vector

    grads = reduce is not None and is_grad_enabled()
    by_key: dict[tuple, list[int]] = {}
    flat: list[tuple] = []
    for i, a in enumerate(rows):
        key, raw, vals = flatten(a, {})
        flat.append((raw, vals))
        by_key.setdefault(key, []).append(i)
    alone: list[tuple[int, Any]] = []  # (index, Value) replayed one by one
    groups: list[Any] = []  # reduce None: (indices, floats); else Values
    for key, pending in by_key.items():
        tried: set[int] = set()
        while pending:
            if key in step._eager:
                alone += [(i, _one(step, rows, i)) for i in pending]
                break
            for trace in list(step._paths.get(key, ())):
                if id(trace) in tried or not pending:
                    continue
                tried.add(id(trace))
                vt = _vector_of(trace, vector)
                if vt is None:
                    continue
                pending, suspect, group = _run_group(np, trace, vt, pending, flat, grads, reduce)
                alone += [(i, _one(step, rows, i)) for i in suspect]
                if group is not None:
                    groups.append(group)
            if pending:  # no path known for it: replay it alone (this traces its path)
                i = pending.pop(0)
                alone.append((i, _one(step, rows, i)))
    if reduce is None:
        return _finish(alone, groups, None, len(rows))
    return _finish([v for _, v in sorted(alone, key=lambda t: t[0])], groups, reduce, len(rows))


def _vector_of(trace: Any, vector: Any) -> Any:
    """The trace's array code, made once (None: it has no array form)."""
    vt = getattr(trace, "_vector", False)
    if vt is False:
        try:
            vt = vector.build(trace.program)
        except vector.Unsupported:
            vt = None
        trace._vector = vt
    return vt


def _columns(np: Any, trace: Any, idx: list[int], flat: list) -> tuple[list, list]:
    p = trace.program
    ins: list[Any] = []
    for inp in p.inputs:
        if inp.arg is None:
            ins.append(np.float64(inp.value.data))
        else:
            k = inp.arg
            ins.append(np.array([flat[i][1][k].data for i in idx], dtype=np.float64))
    nums: dict[int, Any] = {}
    for where in p.numbers:
        nums[where] = np.array([float(flat[i][0][where]) for i in idx], dtype=np.float64)
    return ins, nums


def _run_group(np: Any, trace: Any, vt: Any, pending: list[int], flat: list, grads: bool,
               reduce: str | None) -> tuple[list[int], list[int], Any]:
    """Run ``trace`` over ``pending``: (still pending, replay alone, the group's part)."""
    env_rows = _env_ok(trace, pending, flat)
    idx = [i for i, good in zip(pending, env_rows, strict=True) if good]
    rest = [i for i, good in zip(pending, env_rows, strict=True) if not good]
    if not idx:
        return rest, [], None
    ins, nums = _columns(np, trace, idx, flat)
    with np.errstate(all="ignore"):
        ok, bad, out, tape = vt.forward(ins, nums, len(idx), grads)
    ok = np.broadcast_to(ok, (len(idx),))
    bad = np.broadcast_to(bad, (len(idx),))
    if not ok.all() or bad.any():
        rest += [i for i, good in zip(idx, ok.tolist(), strict=True) if not good]
        suspect = [i for i, good, b in zip(idx, ok.tolist(), bad.tolist(), strict=True)
                   if good and b]
        idx = [i for i, good, b in zip(idx, ok.tolist(), bad.tolist(), strict=True)
               if good and not b]
        rest.sort()
        if not idx:
            return rest, suspect, None
        ins, nums = _columns(np, trace, idx, flat)
        with np.errstate(all="ignore"):
            _, _, out, tape = vt.forward(ins, nums, len(idx), grads)
    else:
        suspect = []
    outs = np.broadcast_to(out, (len(idx),))
    if reduce is None:
        return rest, suspect, (idx, outs.tolist())
    value = float(np.sum(outs))
    if not grads:
        return rest, suspect, Value(value)
    part = _Part(trace, vt, idx, flat, tape, ins)
    return rest, suspect, _node(value, part.op, part.operands, None)


def _env_ok(trace: Any, idx: list[int], flat: list) -> list[bool]:
    """Per example: the trace's surrounding facts hold (number arguments, globals)."""
    env = trace.env
    if not env:
        out = [True] * len(idx)
    else:
        shared = [g for g in env if g.kind != "number"]
        if shared and not env_holds(shared, flat[idx[0]][0]):
            return [False] * len(idx)
        own = [g for g in env if g.kind == "number"]
        out = [all(same_number(flat[i][0][g.where], g.value) for g in own) for i in idx]
    if trace.captured_ids:
        from . import _arg_captured

        out = [good and (not flat[i][1] or _arg_captured(trace, flat[i][1])
                         == trace.arg_captured) for good, i in zip(out, idx, strict=True)]
    return out


class _Part:
    """One group's node: its operands, and the backward step that fills their grads."""

    def __init__(self, trace: Any, vt: Any, idx: list[int], flat: list, tape: dict,
                 ins: list) -> None:
        self.vt = vt
        self.tape = tape
        self.n = len(idx)
        self.slots: list[tuple[int, Any]] = []  # (input index, Value or per-example Values)
        operands: list[Value] = []
        for k in vt.grad_inputs:
            inp = trace.program.inputs[k]
            if inp.arg is None:
                self.slots.append((k, inp.value))
                operands.append(inp.value)
            else:
                vals = [flat[i][1][inp.arg] for i in idx]
                self.slots.append((k, vals))
                operands += vals
        self.operands = operands
        self.op = ops.Op(f"map {trace.program.name}", ops.NARY, _no_forward, _no_vjp, self)
        self.op.node_step = self.step

    def gradients(self, g: float) -> list[float]:
        import numpy as np

        if self.vt.batched_result:
            gin = np.full(self.n, float(g))
        else:
            gin = np.float64(g) * self.n
        with np.errstate(all="ignore"):
            got = self.vt.backward(gin, self.tape)
        flat: list[float] = []
        for (_k, target), d in zip(self.slots, got, strict=True):
            if isinstance(target, list):
                flat += np.broadcast_to(d, (len(target),)).tolist()
            else:
                flat.append(float(d))
        return flat

    def step(self, node: Value, g: float) -> None:
        for v, d in zip(self.operands, self.gradients(g), strict=True):
            v.grad += d

    def grads_for(self, node: Value, g: Any, create_graph: bool) -> list:
        if create_graph or not isinstance(g, (float, int)):
            raise TypeError("autograd.compile map: create_graph through map is not supported; "
                            "differentiate the eager loop instead")
        return self.gradients(g)


def _no_forward(xs):
    raise TypeError("a map node is made by Compiled.map, not by an op")


def _no_vjp(g, operands, out):
    raise TypeError("a map node is differentiated by its own step")
