"""One traced Program replayed over a batch of number rows, on plain floats.

``Compiled`` replays a call as one node of the engine, which suits one call.
A training loop that calls the same program once per example pays for that
node, its operands list and the topological sort of a graph of such nodes on
every example. ``batched(program)`` writes the program's lines into two loops
instead: ``forward(ins, rows)`` runs the equations once per row of numbers and
returns every row's outputs and tape; ``backward(g, ins, tapes, lates)``
(``ins`` the same inputs) runs the backward over the tapes in row order, each
input's gradient summed in
a local from its ``.grad`` and written back at the end: the very additions, in
the very order, that the per-row replays and ``backward()`` would make.

``late`` names number arguments (flat indices) that the forward does not know
yet and the backward reads, e.g. a seed per output (``dot(seeds, outputs)``
makes the program's backward the outputs' backward from given gradients):
the forward computes with 0.0 in their place, the backward reads them from
``lates``, one row per row.

A failed guard makes ``forward`` return None (the caller runs those rows
another way); a program with env guards, or one too big for one function, is
not batched (``batched`` returns None). ``trace_program(fn, *args)`` records
the Program of one call without generating the per-call code ``compile`` uses.
"""

from __future__ import annotations

import builtins
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from ..mode import recording
from . import caught
from .args import flatten, rebuild
from .codegen import NAMESPACE, generate
from .passes import prune
from .program import Program
from .trace import Recorder, env_guards

# Python's compile() of the loops is most of their cost, and a model of the same
# shape traces to the same text (names and literals only; numbers a guard needs
# are bound in the namespace), so the latest few code objects are kept by text.
_KEEP = 16
_COMPILED: dict[str, Any] = {}


@dataclass
class Batched:
    """The two loops, the code they were made from, and the operand layout."""

    forward: Callable
    backward: Callable
    code: str


def batched(program: Program, late: Sequence[int] = ()) -> Batched | None:
    """``program`` as batch loops (see the module docstring), or None."""
    if program.env_guards:
        return None
    parts = generate(program, aux=True, as_parts=True)
    if parts is None:
        return None
    late_pos = {k: i for i, k in enumerate(late)}
    fwd = ["def forward(ins, rows):", *("    " + line for line in parts.reads)]
    row_reads, late_reads = [], []
    for k, name in parts.numbers:
        if k in late_pos:
            fwd.append(f"    {name} = 0.0")
            late_reads.append(f"{name} = late[{late_pos[k]}]")
        else:
            row_reads.append(f"{name} = nums[{k}]")
    outs = ", ".join(parts.outputs) + ","
    inputs = {line.split(" = ")[0] for line in parts.reads}  # the same every row: not taped
    taped = [name for name in parts.tape if name not in inputs] + ["row_finite"]
    row_names = {name for k, name in parts.numbers if k not in late_pos}
    backward_lines, skips = _skip_zero_shares(parts.backward, row_names)
    tape = ", ".join(taped) + "," if taped else ""
    fwd += [
        "    outs = []", "    tapes = []", "    push_out, push_tape = outs.append, tapes.append",
        "    for nums in rows:",
        *("        " + line for line in row_reads + parts.body),
        "        row_finite = _isfinite(sum(nums))",
        f"        push_out(({outs}))", f"        push_tape(({tape}))",
        "    return outs, tapes",
    ]
    bwd = ["def backward(g, ins, tapes, lates):", *("    " + line for line in parts.reads)]
    bwd += [f"    a_{j} = ins[{i}].grad" for j, i in enumerate(parts.grad_inputs)]
    if skips:
        accs = ", ".join(f"a_{j}" for j in range(len(parts.grad_inputs)))
        bwd.append(f"    signs_ok = _no_negative_zero(({accs},))")
    bwd += ["    try:", "        for tape, late in zip(tapes, lates):"]
    if tape:
        bwd.append(f"            {tape} = tape")
    if skips:
        bwd.append("            skip_ok = signs_ok and row_finite")
    bwd += ["            " + line for line in late_reads + backward_lines]
    bwd.append("            pass")
    bwd.append("    finally:")
    bwd += [f"        ins[{i}].grad = a_{j}" for j, i in enumerate(parts.grad_inputs)]
    bwd.append("        pass")
    code = "\n".join(fwd + [""] + bwd) + "\n"
    namespace = dict(NAMESPACE)
    namespace.update(parts.bound, zip=zip, _isfinite=math.isfinite,
                     _no_negative_zero=_no_negative_zero)
    made = _COMPILED.pop(code, None)  # re-inserted: the dict keeps the latest last
    if made is None:
        made = builtins.compile(code, "<autograd.compile batch>", "exec")
        while len(_COMPILED) >= _KEEP:
            del _COMPILED[next(iter(_COMPILED))]
    _COMPILED[code] = made
    exec(made, namespace)  # noqa: S102
    return Batched(namespace["forward"], namespace["backward"], code)


_SHARE = re.compile(r"^(a_\d+) = \1 \+ (d_\w+)(?: \* (\w+))?$")
_MIN_RUN = 4


def _no_negative_zero(xs: tuple) -> bool:
    """No -0.0 among ``xs``; at C speed when no sign bit is set (the usual case)."""
    if min(map(math.copysign, repeat(1.0, len(xs)), xs), default=1.0) > 0.0:
        return True
    return all(x != 0.0 or math.copysign(1.0, x) > 0.0 for x in xs)


def _skip_zero_shares(lines: list[str], row_names: set[str]) -> tuple[list[str], int]:
    """Runs of ``a_j = a_j + d * n`` (and ``a_k = a_k + d``) with one gradient ``d``
    and ``n`` the row's numbers, put under ``if d != 0.0 or not skip_ok``.

    When ``d`` is 0.0 or -0.0 and the row's numbers are finite, each share is a
    zero, and adding a zero leaves every sum that is not -0.0 as it is. A sum
    starts from ``.grad`` and additions never make -0.0 of anything else, so
    ``skip_ok`` (no ``.grad`` was -0.0 at the start, the row is finite) makes
    the skip exact: a ReLU that is off skips its whole row of weights.
    """
    out: list[str] = []
    skips = 0
    i = 0
    while i < len(lines):
        m = _SHARE.match(lines[i])
        if not m or (m.group(3) is not None and m.group(3) not in row_names):
            out.append(lines[i])
            i += 1
            continue
        d = m.group(2)
        j = i
        while j < len(lines):
            mj = _SHARE.match(lines[j])
            if not mj or mj.group(2) != d or (
                mj.group(3) is not None and mj.group(3) not in row_names
            ):
                break
            j += 1
        if j - i >= _MIN_RUN:
            out.append(f"if {d} != 0.0 or not skip_ok:")
            out += ["    " + line for line in lines[i:j]]
            skips += 1
        else:
            out += lines[i:j]
        i = j
    return out, skips


def trace_program(fn: Callable[..., Any], *args: Any) -> Program | None:
    """``fn(*args)`` traced once, as ``compile(fn, aux=True)`` traces it, but only
    the pruned Program (no per-call code is written); None if it cannot be traced
    (fn raised, or the trace refused, e.g. fn read a number out of a Value)."""
    key, raw, vals = flatten(args, {})
    rec = Recorder(getattr(fn, "__name__", "fn"), raw, {})
    t_args, t_kwargs = rebuild(key, rec.traced_numbers(), rec.stand_ins(vals))
    try:
        with recording(rec), caught.watching():
            value, extra = fn(*t_args, **t_kwargs)
        outputs = list(extra) if isinstance(extra, (list, tuple)) else [extra]
        program = rec.finish(value, outputs)
    except Exception:  # noqa: BLE001 - the caller runs fn eagerly, which raises as it does
        return None
    program.env_guards[:0] = env_guards(fn)
    return prune(program)
