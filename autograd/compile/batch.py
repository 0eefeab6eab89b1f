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

``run(..., aux=True)`` (for a function compiled with ``aux=True``) also returns
each example's aux values as a flat list of floats, read from the same array
code (``nn.fit`` reads the model's outputs so, for accuracy).
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


def run(step: Any, batch: Any, reduce: str | None, aux: bool = False) -> Any:
    """What ``Compiled.map`` returns (see there); with ``aux``, the pair (that, each
    example's aux values as a list of floats)."""
    if aux and not step.aux:
        raise ValueError("map: aux=True needs a function compiled with aux=True")
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
        return _finish_alone(step, rows, reduce, aux)
    if current_recorder() is not None or is_anomaly_enabled():
        return _finish_alone(step, rows, reduce, aux)
    return _vectorised(step, rows, reduce, aux)


def _one(step: Any, rows: list, i: int, aux: bool = False) -> Any:
    """Example ``i`` replayed alone (with ``aux``: the pair (value, its aux as
    floats)); an error names its index."""
    try:
        out = step(*rows[i])
    except Exception as err:  # noqa: BLE001 - re-raised with the index, same type
        raise _indexed(err, i) from err
    if aux:
        return out[0], _floats(out[1])
    return out[0] if step.aux else out  # map returns the values, not aux


def _floats(extra: Any) -> list[float]:
    """An aux structure's numbers, flat, in order."""
    if isinstance(extra, Value):
        return [extra.data]
    if isinstance(extra, (list, tuple)):
        return [x for e in extra for x in _floats(e)]
    if isinstance(extra, dict):
        return [x for e in extra.values() for x in _floats(e)]
    return [float(extra)]


class _Raised:
    """An example's error, kept until every group has run: the eager loop would
    raise the one of the lowest index, so map does too."""

    def __init__(self, err: Exception) -> None:
        self.err = err


def _kept(step: Any, rows: list, i: int, aux: bool = False) -> Any:
    try:
        return _one(step, rows, i, aux)
    except Exception as err:  # noqa: BLE001 - raised later, lowest index first
        return _Raised(err)


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


def _finish_alone(step: Any, rows: list, reduce: str | None, aux: bool = False) -> Any:
    alone = [_one(step, rows, i, aux) for i in range(len(rows))]
    extras = None
    if aux:
        extras = [e for _, e in alone]
        alone = [v for v, _ in alone]
    if reduce is None:
        out = _finish(list(enumerate(alone)), [], None, len(rows))
    else:
        out = _finish(alone, [], reduce, len(rows))
    return (out, extras) if aux else out


def _simple(a: tuple) -> tuple[Any, list | None]:
    """For arguments that are floats and flat lists/tuples of floats (the usual
    batch): a signature that fixes flatten's key, and the numbers; else None."""
    sig: list[Any] = []
    nums: list[float] = []
    for x in a:
        c = x.__class__
        if c is float:
            sig.append(0)
            nums.append(x)
        elif c is list or c is tuple:
            for y in x:
                if y.__class__ is not float:
                    return None, None
            sig.append((c, len(x)))
            nums.extend(x)
        else:
            return None, None
    return tuple(sig), nums


class _Key:
    """The examples of one argument structure: numbers as a matrix, Values per row."""

    def __init__(self, np: Any, rows: list[int], raws: list[list] | None,
                 vals: list[list] | None, simple: bool, matrix: Any = None) -> None:
        self.rows = rows
        self.vals = vals if vals is not None else [[]] * len(rows)  # per position in rows
        self.simple = simple  # every number is a float
        self._raws = raws
        if matrix is not None:
            self.matrix = matrix
            return
        width = len(raws[0])
        if simple:
            self.matrix = np.array(raws, dtype=np.float64).reshape(len(rows), width)
        else:
            self.matrix = np.array([[float(v) for v in r] for r in raws],
                                   dtype=np.float64).reshape(len(rows), width)


def _keys(np: Any, rows: list) -> list[tuple[tuple, _Key]]:
    """The examples grouped by argument structure (flatten's key)."""
    sigs: dict[Any, tuple] = {}
    by_key: dict[tuple, tuple[list, list, list, list]] = {}
    for i, a in enumerate(rows):
        sig, nums = _simple(a)
        if sig is not None:
            key = sigs.get(sig)
            if key is None:
                key = sigs[sig] = flatten(a, {})[0]
            vals: list = []
            simple = True
        else:
            key, nums, vals = flatten(a, {})
            simple = all(x.__class__ is float for x in nums)
        got = by_key.get(key)
        if got is None:
            got = by_key[key] = ([], [], [], [True])
        got[0].append(i)
        got[1].append(nums)
        got[2].append(vals)
        got[3][0] = got[3][0] and simple
    return [(key, _Key(np, idx, raws, vals, simple[0]))
            for key, (idx, raws, vals, simple) in by_key.items()]


def _uniform_batch(np: Any, rows: list) -> tuple[tuple, Any] | None:
    """The usual batch, checked at C speed: every example has the first one's
    shape (the same floats and lists or tuples of floats). Returns flatten's key
    and the numbers as a matrix, or None."""
    from itertools import chain

    first = rows[0]
    sig, _ = _simple(first)
    if sig is None or set(map(len, rows)) != {len(first)}:
        return None
    blocks = []
    for k, x in enumerate(first):
        column = [r[k] for r in rows]
        if x.__class__ is float:
            if set(map(type, column)) != {float}:
                return None
            blocks.append(np.array(column, dtype=np.float64)[:, None])
        else:
            if set(map(type, column)) != {x.__class__} or set(map(len, column)) != {len(x)}:
                return None
            flat = list(chain.from_iterable(column))
            if flat and set(map(type, flat)) != {float}:
                return None
            blocks.append(np.array(flat, dtype=np.float64).reshape(len(rows), len(x)))
    matrix = np.hstack(blocks) if blocks else np.zeros((len(rows), 0))
    return flatten(first, {})[0], matrix


def _raw(kb: _Key, j: int) -> list:
    """Example ``j``'s numbers as flatten gives them."""
    return kb._raws[j] if kb._raws is not None else kb.matrix[j].tolist()


def _vectorised(step: Any, rows: list, reduce: str | None, aux: bool = False) -> Any:
    import numpy as np

    from . import vector

    grads = reduce is not None and is_grad_enabled()
    uniform = _uniform_batch(np, rows)
    if uniform is not None:
        key, matrix = uniform
        keys = [(key, _Key(np, list(range(len(rows))), None, None, True, matrix))]
    else:
        keys = _keys(np, rows)
    alone: list[tuple[int, Any]] = []  # (index, Value) replayed one by one
    groups: list[Any] = []  # reduce None: (indices, floats); else Values
    extras: list[Any] | None = [None] * len(rows) if aux else None  # per example
    for key, kb in keys:
        idx = kb.rows
        pending = np.arange(len(idx))  # positions in kb
        tried: set[int] = set()
        while len(pending):
            if key in step._eager:
                alone += [(idx[j], _kept(step, rows, idx[j], aux)) for j in pending.tolist()]
                break
            for trace in list(step._paths.get(key, ())):
                if id(trace) in tried or not len(pending):
                    continue
                tried.add(id(trace))
                vt = _vector_of(trace, vector)
                if vt is None:
                    continue
                pending, suspect, group = _run_group(np, trace, vt, pending, kb, grads, reduce,
                                                     extras)
                alone += [(idx[j], _kept(step, rows, idx[j], aux)) for j in suspect]
                if group is not None:
                    groups.append(group)
            if len(pending):  # no path known for it: replay it alone (this traces its path)
                j = int(pending[0])
                pending = pending[1:]
                alone.append((idx[j], _kept(step, rows, idx[j], aux)))
    alone.sort(key=lambda t: t[0])
    for _, v in alone:
        if isinstance(v, _Raised):
            raise v.err
    if aux:
        for i, (_, extra) in alone:
            extras[i] = extra
        alone = [(i, v) for i, (v, _) in alone]
    if reduce is None:
        out = _finish(alone, groups, None, len(rows))
    else:
        out = _finish([v for _, v in alone], groups, reduce, len(rows))
    return (out, extras) if aux else out


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


def _columns(np: Any, trace: Any, pos: Any, kb: _Key) -> tuple[Any, Any]:
    p = trace.program
    vt = getattr(trace, "_vector", None)
    if vt is not None and vt.flat:  # parameters only: one array of their numbers
        if vt.operands is None:
            vt.operands = [p.inputs[k].value for k in vt.grad_inputs]
            vt.input_values = [inp.value for inp in p.inputs]
        ins = np.array([v.data for v in vt.input_values], dtype=np.float64)
        return ins, np.ascontiguousarray(kb.matrix[pos].T)
    ins: list[Any] = []
    for inp in p.inputs:
        if inp.arg is None:
            ins.append(np.float64(inp.value.data))
        else:
            k = inp.arg
            ins.append(np.array([kb.vals[j][k].data for j in pos.tolist()], dtype=np.float64))
    return ins, np.ascontiguousarray(kb.matrix[pos].T)  # row ``where``: that number


def _run_group(np: Any, trace: Any, vt: Any, pending: Any, kb: _Key, grads: bool,
               reduce: str | None, extras: list | None = None) -> tuple[Any, list[int], Any]:
    """Run ``trace`` over ``pending`` (positions in ``kb``): (still pending,
    positions to replay alone, the group's part); each example's aux values go
    into ``extras`` (by index in the batch) when it is given."""
    env = _env_ok(np, trace, pending, kb)
    pos, rest = pending[env], pending[~env]
    if not len(pos):
        return rest, [], None
    ins, nums = _columns(np, trace, pos, kb)
    with np.errstate(all="ignore"):
        ok, bad, out, tape = vt.forward(ins, nums, len(pos), grads)
    ok = np.broadcast_to(ok, (len(pos),))
    bad = np.broadcast_to(bad, (len(pos),))
    suspect: list[int] = []
    if not ok.all() or bad.any():
        rest = np.sort(np.concatenate([rest, pos[~ok]]))
        suspect = pos[ok & bad].tolist()
        pos = pos[ok & ~bad]
        if not len(pos):
            return rest, suspect, None
        ins, nums = _columns(np, trace, pos, kb)
        with np.errstate(all="ignore"):
            _, _, out, tape = vt.forward(ins, nums, len(pos), grads)
    outs = np.broadcast_to(out, (len(pos),))
    if extras is not None:
        _aux_rows(np, vt, tape, pos, kb, extras)
    if reduce is None:
        return rest, suspect, ([kb.rows[j] for j in pos.tolist()], outs.tolist())
    value = float(np.sum(outs))
    if not grads:
        return rest, suspect, Value(value)
    part = _Part(trace, vt, pos.tolist(), kb, tape)
    return rest, suspect, _node(value, part.op, part.operands, None)


def _aux_rows(np: Any, vt: Any, tape: dict, pos: Any, kb: _Key, extras: list) -> None:
    n = len(pos)
    if vt.aux:
        cols = [np.broadcast_to(np.asarray(tape[a] if isinstance(a, str) else a,
                                           dtype=np.float64), (n,)) for a in vt.aux]
        got = np.stack(cols, axis=1).tolist()
    else:
        got = [[] for _ in range(n)]
    for j, row in zip(pos.tolist(), got, strict=True):
        extras[kb.rows[j]] = row


def _env_ok(np: Any, trace: Any, pos: Any, kb: _Key) -> Any:
    """Per example: the trace's surrounding facts hold (number arguments,
    globals, which arguments are captured Values)."""
    from .vector import _same

    out = np.ones(len(pos), dtype=bool)
    env = trace.env
    if env:
        shared = [g for g in env if g.kind != "number"]
        if shared and not env_holds(shared, _raw(kb, int(pos[0]))):
            return ~out
        for g in env:
            if g.kind != "number":
                continue
            if kb.simple:
                if g.value.__class__ is not float:
                    return ~out
                out &= _same(kb.matrix[pos, g.where], g.value)
            else:
                out &= np.array([same_number(_raw(kb, j)[g.where], g.value)
                                 for j in pos.tolist()], dtype=bool)
    if trace.captured_ids and kb._raws is not None and any(kb.vals[j] for j in pos.tolist()):
        from . import _arg_captured

        out &= np.array([not kb.vals[j] or _arg_captured(trace, kb.vals[j])
                         == trace.arg_captured for j in pos.tolist()], dtype=bool)
    return out


class _Part:
    """One group's node: its operands, and the backward step that fills their grads."""

    def __init__(self, trace: Any, vt: Any, pos: list[int], kb: _Key, tape: dict) -> None:
        self.vt = vt
        self.tape = tape
        self.n = len(pos)
        inputs = trace.program.inputs
        self.per_example = not vt.flat and any(inputs[k].arg is not None
                                               for k in vt.grad_inputs)
        if vt.flat:  # parameters only, read once per trace
            self.operands = vt.operands
        elif not self.per_example:  # parameters only: one gradient each
            self.operands = [inputs[k].value for k in vt.grad_inputs]
        else:
            self.slots: list[Any] = []  # a Value, or the per-example Values
            operands: list[Value] = []
            for k in vt.grad_inputs:
                inp = inputs[k]
                if inp.arg is None:
                    self.slots.append(inp.value)
                    operands.append(inp.value)
                else:
                    vals = [kb.vals[j][inp.arg] for j in pos]
                    self.slots.append(vals)
                    operands += vals
            self.operands = operands
        self.op = ops.Op(f"map {trace.program.name}", ops.NARY, _no_forward, _no_vjp, self)
        self.op.node_step = self.step

    def gradients(self, g: float) -> list[float]:
        import numpy as np

        # one g per example; a result that is one number for all of them gets n g
        gin = np.full(self.n, float(g)) if self.vt.batched_result else np.float64(g) * self.n
        with np.errstate(all="ignore"):
            got = self.vt.backward(gin, self.tape)
        if self.vt.flat:
            return got.tolist()
        if not self.per_example:
            return np.array(got, dtype=np.float64).tolist()
        flat: list[float] = []
        for target, d in zip(self.slots, got, strict=True):
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
