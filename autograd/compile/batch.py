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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..mode import recording
from . import caught
from .args import flatten, rebuild
from .codegen import NAMESPACE, generate
from .passes import prune
from .program import Program
from .trace import Recorder, env_guards


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
    taped = [name for name in parts.tape if name not in inputs]
    tape = ", ".join(taped) + "," if taped else ""
    fwd += [
        "    outs = []", "    tapes = []", "    push_out, push_tape = outs.append, tapes.append",
        "    for nums in rows:",
        *("        " + line for line in row_reads + parts.body),
        f"        push_out(({outs}))", f"        push_tape(({tape}))",
        "    return outs, tapes",
    ]
    bwd = ["def backward(g, ins, tapes, lates):", *("    " + line for line in parts.reads)]
    bwd += [f"    a_{j} = ins[{i}].grad" for j, i in enumerate(parts.grad_inputs)]
    bwd += ["    try:", "        for tape, late in zip(tapes, lates):"]
    if tape:
        bwd.append(f"            {tape} = tape")
    bwd += ["            " + line for line in late_reads + parts.backward]
    bwd.append("            pass")
    bwd.append("    finally:")
    bwd += [f"        ins[{i}].grad = a_{j}" for j, i in enumerate(parts.grad_inputs)]
    bwd.append("        pass")
    code = "\n".join(fwd + [""] + bwd) + "\n"
    namespace = dict(NAMESPACE)
    namespace.update(parts.bound, zip=zip)
    exec(builtins.compile(code, "<autograd.compile batch>", "exec"), namespace)  # noqa: S102
    return Batched(namespace["forward"], namespace["backward"], code)


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
