"""autograd.compile: trace a function once, then replay generated forward and backward code.

A training step rebuilds the same graph every call. ``compile(fn)`` runs ``fn``
once on fresh leaves, records the graph it builds (and every Python branch it
takes on a Value), and writes two plain functions from the op table's templates:
one computing the output from the inputs' numbers, one pushing a gradient back
to them. A call then replays those functions and returns one Value: a node of
the ordinary engine whose operands are the inputs, so ``backward()``,
accumulation and ``no_grad`` all work on it unchanged.
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import math
import numbers
import re
import threading
import unicodedata
import warnings
from collections.abc import Callable
from typing import Any

from . import ops
from .mode import current_recorder, is_anomaly_enabled, is_grad_enabled, recording
from .value import Constant, Value, _node

MAX_PATHS = 8  # traces kept per argument structure; beyond that fn runs eagerly


class _Uncompilable(Exception):
    """The traced graph holds something generated code cannot replay."""


# --- arguments ---------------------------------------------------------------------

def _structure(args: tuple, numbers_out: list, values_out: list) -> tuple:
    """The shape of ``args`` (nesting, and number or Value at each leaf) as a
    hashable key, collecting the numbers and the Values in order."""
    key = []
    for x in args:
        if x.__class__ is float or (isinstance(x, numbers.Real) and not isinstance(x, Value)):
            try:
                numbers_out.append(float(x))
            except OverflowError:
                shown = repr(x) if len(repr(x)) <= 40 else f"{repr(x)[:37]}..."
                raise OverflowError(
                    f"autograd.compile: argument {shown} is too large for a float"
                ) from None
            key.append("n")
        elif isinstance(x, Value):
            values_out.append(x)
            key.append("V")
        elif isinstance(x, list):
            key.append(("L", _structure(x, numbers_out, values_out)))
        elif isinstance(x, tuple):
            key.append(("T", _structure(x, numbers_out, values_out)))
        else:
            raise TypeError(
                "autograd.compile: arguments must be numbers, Values, or lists and tuples "
                f"of them; got {x!r} ({type(x).__name__})"
            )
    return tuple(key)


def _leaves_like(
    key: tuple, nums: list, vals: list, it: list, stand_ins: list | None = None
) -> list:
    """Rebuild the arguments from ``key``: numbers become fresh leaf Values (the
    trace's number inputs); Values pass through, or, for a trace (``stand_ins``
    given), each is replaced by a stand-in of its own (see ``_stand_in``)."""
    out = []
    for k in key:
        if k == "n":
            leaf = Value(nums[it[0]])
            it[2].append(leaf)
            it[0] += 1
            out.append(leaf)
        elif k == "V":
            v = vals[it[1]]
            if stand_ins is not None:
                v = _stand_in(v)
                stand_ins.append(v)
            out.append(v)
            it[1] += 1
        else:
            inner = _leaves_like(k[1], nums, vals, it, stand_ins)
            out.append(inner if k[0] == "L" else tuple(inner))
    return out


def _stand_in(v: Value) -> Value:
    """What a trace hands fn for the Value argument ``v``: the node ``v * 1``.

    One per argument position, so the trace records where fn used the argument
    and where it used a Value it captured, even when a call passes that same
    Value (or one Value twice): a later call with other Values then computes
    with them. Being a node over ``v``, it also carries the gradient of a
    result fn's graph holds when the call runs eagerly (uncompilable, or past
    the path limit). Made without the recorder: it is an input, not a node of
    the trace.
    """
    one = Value.__new__(Constant)  # its own: a shared constant would collect grads
    one.data, one.grad, one.label, one._rule, one._a, one._b = 1.0, 0.0, "", None, None, None
    s = Value.__new__(v.__class__)  # a Constant stays a constant exponent for **
    s.data, s.grad, s.label = v.data, 0.0, v.label
    s._rule, s._a, s._b = ops.MUL, v, one
    return s


# --- recording -----------------------------------------------------------------------

class _Recorder:
    """What one traced call of fn did: the nodes it made, in order, and the
    decisions it took on Values (each with how many nodes existed then)."""

    def __init__(self) -> None:
        self.nodes: dict[int, Value] = {}  # id -> node, in creation order
        self.decisions: list[tuple] = []  # (position, node, kind, other, result)
        self.detached: dict[int, Value] = {}  # id of a detach() leaf -> its source
        self.blind: set[int] = set()  # leaves made under no_grad(): maybe from inputs

    def created(self, v: Value) -> None:
        self.nodes[id(v)] = v
        if not is_grad_enabled() and not v.is_constant:
            # An op under no_grad() makes a leaf: what it was computed from is
            # lost, so replaying its traced number could be wrong (see Trace).
            self.blind.add(id(v))

    def decision(self, v: Value, kind: str, other: Any, result: Any) -> None:
        if kind == "detach":
            self.detached[id(v)] = other
            return
        self.decisions.append((len(self.nodes), v, kind, other, result))


# --- code generation ------------------------------------------------------------------

_NAMESPACE_BASE = {k: v for k, v in vars(ops).items() if not k.startswith("__")}


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_CHUNK = 64  # terms per line: a longer + chain nests too deep for Python's compiler
_MAX_FOLD_DEPTH = 24  # nested parentheses per expression: Python's parser allows 200


def _sum_lines(target: str, op: str, terms: list[str]) -> list[str]:
    """``target op t1 + t2 + ...`` as lines of at most _CHUNK terms, added left to right."""
    lines = [f"    {target} {op} {' + '.join(terms[:_CHUNK])}"]
    for i in range(_CHUNK, len(terms), _CHUNK):
        # not ``target += a + b``: that adds a + b first, and rounds unlike eager
        lines.append(f"    {target} = {target} + {' + '.join(terms[i : i + _CHUNK])}")
    return lines


def _same_float(a: float, b: float) -> bool:
    """The very float float(v) returned when traced: NaN matches NaN, and 0.0
    does not match -0.0 (copysign and 1 / x tell them apart)."""
    if a == b:
        return a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b)
    return a != a and b != b


def _int_is(a: float, k: int) -> bool:
    try:
        return int(a) == k
    except (ValueError, OverflowError):
        return False


_NAMESPACE_BASE.update(_same_float=_same_float, _int_is=_int_is)
_RESERVED = set(_NAMESPACE_BASE) | set(dir(__builtins__)) | {
    "ins", "nums", "tape", "g", "forward", "backward",
}


class _Names:
    """Readable, unique Python names: a node's label when it is one, else v<k>."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.unnamed = 0

    def make(self, label: str, fallback: str | None = None) -> str:
        """``label`` if it is a usable name, else ``fallback`` (default v1, v2, ...)."""
        # As Python reads it: identifiers are NFKC-normalised, so the fullwidth
        # "ｇ" would be the name g (and "ﬁ" the name fi) in the generated code.
        label = unicodedata.normalize("NFKC", label)
        usable = label.isidentifier() and not keyword.iskeyword(label)
        if usable and (
            label in _RESERVED or label.startswith(("d_", "k_"))
            or (label[0] == "t" and label[1:2].isdigit())  # t0_v5: backward's temporaries
        ):
            usable = False
        if usable:
            base = label
        elif fallback is not None:
            base = fallback
        else:
            self.unnamed += 1
            base = f"v{self.unnamed}"
        name, k = base, 1
        while name in self.used or name in _RESERVED:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name


class Trace:
    """One recorded path of fn for one argument structure, as generated code."""

    def __init__(self, fn_name: str, key: tuple, number_leaves: list[Value],
                 arg_values: list[Value], rec: _Recorder, result: Any,
                 aux: list[Value] | None = None) -> None:
        if not isinstance(result, Value):
            raise TypeError(
                f"autograd.compile: {fn_name} must return a Value, got {result!r} "
                f"({type(result).__name__})"
            )
        self.fn_name = fn_name
        self.key = key
        number_index = {id(v): i for i, v in enumerate(number_leaves)}
        arg_index: dict[int, int] = {}
        for i, v in enumerate(arg_values):
            arg_index.setdefault(id(v), i)
        created = rec.nodes
        order = {nid: k for k, nid in enumerate(created)}

        # Which nodes the output and the decisions need, and which outside Values.
        needed: dict[int, Value] = {}
        outside: dict[int, Value] = {}  # pre-existing Values read (inputs)
        grad_inputs: dict[int, Value] = {}  # those the output depends on
        self.aux = aux
        roots = [(result, True)] + [
            (x, False) for _, v, _, other, _ in rec.decisions for x in (v, other)
            if isinstance(x, Value)
        ] + [(x, False) for x in aux or ()]
        stack = list(roots)
        on_path: set[int] = set()
        while stack:
            v, for_output = stack.pop()
            vid = id(v)
            if for_output:
                if vid in on_path:
                    continue
                on_path.add(vid)
            elif vid in needed or vid in outside:
                continue
            if vid in number_index:
                needed.setdefault(vid, v)
                continue
            if vid not in created:
                outside[vid] = v
                if for_output:
                    grad_inputs[vid] = v
                continue
            needed[vid] = v
            if v._rule is None:
                src = rec.detached.get(vid)
                if src is not None:
                    stack.append((src, False))  # a detached copy reads, never differentiates
                elif vid in rec.blind:
                    raise _Uncompilable(
                        "it uses a Value computed under no_grad(), whose dependence on the "
                        "inputs a trace cannot see"
                    )
                continue
            if v._rule.custom or v._rule.node_step is not None:
                raise _Uncompilable(
                    f"its graph holds a {v._rule.name!r} node made by user code or by another "
                    "compiled call"
                )
            stack.extend((p, for_output) for p in v.parents)

        self.inputs: list[tuple[str, Any]] = []  # ("arg", k) or ("captured", Value)
        input_of: dict[int, int] = {}
        first_use: dict[int, tuple[int, int]] = {}
        for k, node in enumerate(sorted(needed.values(), key=lambda v: order.get(id(v), -1))):
            for j, p in enumerate(node.parents if node._rule is not None else ()):
                first_use.setdefault(id(p), (k, j))
        ordered_outside = sorted(
            outside.values(),
            key=lambda v: (id(v) not in grad_inputs, first_use.get(id(v), (1 << 60, 0))),
        )
        for v in ordered_outside:
            input_of[id(v)] = len(self.inputs)
            k = arg_index.get(id(v))
            self.inputs.append(("arg", k) if k is not None else ("captured", v))
        self.n_grad = len(grad_inputs)
        # Captured inputs are the same objects at every call: one list, filled in
        # with the call's Value arguments when there are any.
        self.template = [v if where == "captured" else None for where, v in self.inputs]
        self.arg_slots = [(i, k) for i, (where, k) in enumerate(self.inputs) if where == "arg"]
        self.program = sorted(
            (v for vid, v in needed.items() if vid not in number_index), key=lambda v: order[id(v)]
        )
        self.number_index = number_index
        self.number_labels = [v.label for v in number_leaves]
        self.input_of = input_of
        self.outside = outside
        self.rec = rec
        self.result = result
        self.on_path = on_path
        self._generate()

    # --- source ---------------------------------------------------------------------

    def _generate(self) -> None:
        names = _Names()
        var: dict[int, str] = {}
        fwd = ["def forward(ins, nums):"]
        for vid, i in self.number_index.items():
            var[vid] = names.make(self.number_labels[i], f"n{i}")
            fwd.append(f"    {var[vid]} = nums[{i}]")
        for vid, k in self.input_of.items():
            v = self.outside[vid]
            var[vid] = names.make(v.label, f"in{k}")
            fwd.append(f"    {var[vid]} = ins[{k}].data")
        const = {}

        def ref(v: Value) -> str:
            vid = id(v)
            if vid in var:
                return var[vid]
            if v._rule is None and vid not in self.rec.detached:  # a constant of the trace
                return const.setdefault(vid, ops.number_literal(v.data))
            raise AssertionError(v)  # every other node is named before it is used

        bound: dict[str, Any] = {}  # numbers a guard compares with that have no literal

        def number(x: Any) -> str:
            if x.__class__ is float:
                return ops.number_literal(x)
            if x.__class__ in (int, bool):
                return repr(int(x))
            name = names.make("", f"c{len(bound)}")  # a Fraction, a numpy float, ...
            bound[name] = x
            return name

        # Every node gets its name first: backward is written before forward, so
        # forward knows which values backward reads and may fold the others into
        # the expression of their one consumer.
        for v in self.program:
            if v._rule is not None or id(v) in self.rec.detached:
                var[id(v)] = names.make(v.label)
        out = ref(self.result)

        bwd: list[str] = []
        # Each node's gradient is written once, as the sum of what its consumers
        # send it: consumers come later in the program, so in reverse order all
        # of them are done by the time the node itself is reached.
        sent: dict[int, list[str]] = {}
        grad_reach = self._reaches_inputs()
        result_id = id(self.result)
        for v in reversed(self.program):
            vid = id(v)
            if v._rule is None or vid not in grad_reach:
                continue
            if vid == result_id:
                g = "g"
            else:
                terms = sent.pop(vid, None)
                if not terms:
                    continue
                if len(terms) == 1 and terms[0].isidentifier():
                    g = terms[0]  # one consumer passing its gradient on unchanged: no copy
                else:
                    g = f"d_{var[vid]}"
                    bwd.extend(_sum_lines(g, "=", terms))
            operands = [ref(p) for p in v.parents]
            rule = v._rule
            parents = v.parents
            if rule.arity:
                exprs = rule.code.grad_expressions(operands, g, var[vid])
                if isinstance(exprs, str):  # one call gives every operand's share
                    tmp = [f"t{k}_{var[vid]}" for k in range(len(parents))]
                    lhs = tmp[0] if rule.arity == 1 else ", ".join(tmp)
                    bwd.append(f"    {lhs} = {exprs}")
                    exprs = tmp
            else:
                setup, exprs = rule.code.grads(operands, g, var[vid])
                bwd.extend(f"    {line}" for line in setup)
            for p, e in zip(parents, exprs, strict=True):
                if id(p) in grad_reach:
                    sent.setdefault(id(p), []).append(e)
        for vid, k in self.input_of.items():
            if k >= self.n_grad:
                continue
            if vid == result_id:
                sent.setdefault(vid, []).append("g")
            if sent.get(vid):
                bwd.extend(_sum_lines(f"ins[{k}].grad", "+=", sent[vid]))

        read = set(_IDENTIFIER.findall("\n".join(bwd)))
        fwd, tape, tape_ids = self._forward_lines(fwd, var, ref, number, read)
        self._tids = tape_ids
        saved = f"({', '.join(tape)}{',' if len(tape) == 1 else ''})"
        if self.aux is None:
            fwd.append(f"    return {out}, {saved}")
        else:
            extra = ", ".join(ref(v) for v in self.aux)
            fwd.append(f"    return {out}, {saved}, ({extra}{',' if len(self.aux) == 1 else ''})")
        head = ["def backward(g, ins, tape):"]
        if tape:
            head.append(f"    {', '.join(tape)}{',' if len(tape) == 1 else ''} = tape")
        bwd = head + (bwd or ["    pass"])

        header = [
            f"# autograd.compile: {self.fn_name}, {len(self.program)} nodes, "
            f"{len(self.inputs)} inputs ({self.n_grad} differentiable), "
            f"{len(self.rec.decisions)} guards",
        ]
        self.code = "\n".join(header + fwd + ["", ""] + bwd) + "\n"
        namespace = dict(_NAMESPACE_BASE)
        namespace.update(bound)
        source = builtins.compile(self.code, f"<autograd.compile {self.fn_name}>", "exec")
        exec(source, namespace)  # noqa: S102 - our own generated source
        self.forward: Callable = namespace["forward"]
        self.backward: Callable = namespace["backward"]

    def _forward_lines(
        self, fwd: list[str], var: dict[int, str], ref: Callable, number: Callable,
        read: set[str],
    ) -> tuple[list[str], list[str], list[int]]:
        """The forward body, and the tape: the numbers, the inputs, and the node
        values backward reads (``read``).

        An unlabelled node that backward does not read, that one other node
        uses once and that no guard, aux value or detach() names is not given a
        line of its own: its expression goes, parenthesised, into its consumer's. Python
        evaluates it at the same point of the same sum, so every number is the
        same; the code is shorter, so it compiles and runs faster.
        """
        tape: list[str] = [var[vid] for vid in (*self.number_index, *self.input_of)]
        tape_ids: list[int] = [*self.number_index, *self.input_of]
        uses: dict[int, int] = {}
        for v in self.program:
            if v._rule is not None:
                for p in v.parents:
                    uses[id(p)] = uses.get(id(p), 0) + 1
        pinned = {id(self.result)}
        pinned.update(id(x) for d in self.rec.decisions for x in (d[1], d[3]))
        pinned.update(id(x) for x in self.aux or ())
        pinned.update(id(src) for src in self.rec.detached.values())
        folded: dict[int, tuple[str, int]] = {}  # node -> (expression, nesting depth)

        def fref(p: Value) -> tuple[str, int]:
            got = folded.pop(id(p), None)
            return got if got is not None else (ref(p), 0)

        position = {id(v): self._creation_position(v) for v in self.program}
        decisions = sorted(self.rec.decisions, key=lambda d: d[0])
        di = 0
        for v in self.program:
            while di < len(decisions) and decisions[di][0] <= position[id(v)]:
                fwd.append(self._guard(decisions[di], ref, number))
                di += 1
            vid = id(v)
            if v._rule is None:
                src = self.rec.detached.get(vid)
                if src is None:
                    continue  # constants are written inline
                fwd.append(f"    {var[vid]} = {ref(src)}  # detach()")
            else:
                parts = [fref(p) for p in v.parents]
                depth = 1 + max((d for _, d in parts), default=0)
                expr = self._forward_expr(v._rule, [e for e, _ in parts])
                if (
                    var[vid] not in read and uses.get(vid) == 1 and vid not in pinned
                    and not v.label  # a node the user named keeps its own line
                    and depth <= _MAX_FOLD_DEPTH
                    and (not isinstance(expr, list) or len(expr) <= _CHUNK)
                ):
                    text = " + ".join(expr) if isinstance(expr, list) else expr
                    folded[vid] = (f"({text})", depth)
                    continue
                if isinstance(expr, list):  # terms of a sum, added left to right
                    fwd.extend(_sum_lines(var[vid], "=", expr))
                else:
                    fwd.append(f"    {var[vid]} = {expr}")
            if var[vid] in read:
                tape.append(var[vid])
                tape_ids.append(vid)
        while di < len(decisions):
            fwd.append(self._guard(decisions[di], ref, number))
            di += 1
        return fwd, tape, tape_ids

    def _creation_position(self, v: Value) -> int:
        return self._positions()[id(v)]

    def _positions(self) -> dict[int, int]:
        if not hasattr(self, "_pos"):
            self._pos = {nid: k for k, nid in enumerate(self.rec.nodes)}
        return self._pos

    def _reaches_inputs(self) -> set[int]:
        """Nodes on the output's path through which a gradient reaches an input."""
        reach: set[int] = set()
        for vid, k in self.input_of.items():
            if k < self.n_grad:
                reach.add(vid)
        for v in self.program:
            if v._rule is not None and id(v) in self.on_path and any(
                id(p) in reach for p in v.parents
            ):
                reach.add(id(v))
        if id(self.result) in reach or id(self.result) in self.input_of:
            reach.add(id(self.result))
        return reach

    @staticmethod
    def _forward_expr(rule: ops.Op, operands: list[str]) -> str:
        if rule.arity:
            return rule.code.forward.format(*operands)
        return rule.code.forward(operands)

    @staticmethod
    def _guard(decision: tuple, ref: Callable, number: Callable) -> str:
        _, v, kind, other, result = decision
        a = ref(v)
        if kind in ("<", "<=", ">", ">="):
            b = ref(other) if isinstance(other, Value) else number(other)
            test = f"{a} {kind} {b}"
            cond = f"not ({test})" if result else f"{test}"
        elif kind == "bool":
            cond = f"not {a}" if result else a
        elif kind == "float":
            cond = f"not _same_float({a}, {ops.number_literal(result)})"
        else:  # int
            cond = f"not _int_is({a}, {result!r})"
        return f"    if {cond}: return None  # guard: {kind} was {result!r} when traced"

    # --- calls ----------------------------------------------------------------------

    def grads_for(self, node: Value, g: Any, create_graph: bool) -> list:
        """Gradients of one compiled call for ``grad()``: floats, or (create_graph)
        Values from the same graph rebuilt with the engine's own ops."""
        ins = list(node._a)
        if create_graph:
            from .backward import grad

            # On stand-ins (ins[k] * 1), so that grad() gives each operand's own
            # partial derivative: on ins themselves it would also follow an
            # operand's graph into another operand (an interior argument made
            # from a captured parameter), counting that path twice.
            stand_ins = [_stand_in(v) for v in ins]
            root = self.rebuild(stand_ins, node._b)
            try:
                firsts = grad(root, stand_ins, create_graph=True)
            except (ArithmeticError, ValueError) as err:
                err._chainrule_named = True  # grad() named the inner op: pass it on as is
                raise
            return [g * d for d in firsts]
        slots = [_Slot(v.data) for v in ins]
        try:
            self.backward(g, slots, node._b)
        except (ArithmeticError, ValueError) as err:
            _backward_eager_error(self, node, g)  # raises the eager error, naming the op
            raise err from None
        return [s.grad for s in slots]

    def rebuild(self, ins: list[Value], tape: tuple) -> Value:
        """The traced graph built again with the engine's ops on ``ins`` (the
        differentiable inputs; the others and the numbers come from ``tape``)."""
        from .value import _apply, _nary, _node_or_raise

        values = dict(zip(self._tape_ids(), tape, strict=True))
        made: dict[int, Value] = {}
        for vid, k in self.input_of.items():
            made[vid] = ins[k] if k < self.n_grad else Value(values[vid])
        for vid in self.number_index:
            made[vid] = Value(values[vid])

        def get(v: Value) -> Value:
            vid = id(v)
            if vid in made:
                return made[vid]
            return Constant(v.data)

        for v in self.program:
            vid = id(v)
            if v._rule is None:
                src = self.rec.detached.get(vid)
                if src is not None:
                    made[vid] = Value(get(src).data)
                continue
            rule = v._rule
            args = [get(p) for p in v.parents]
            if rule.arity == 1:
                made[vid] = _apply(rule, args[0])
            elif rule.arity == 2:
                made[vid] = _node_or_raise(rule, args[0], args[1])
            else:
                made[vid] = _nary(rule, args)
        return get(self.result)

    def _tape_ids(self) -> list[int]:
        """What the tape holds, in order: the numbers, the inputs, then the node
        values backward reads (set by _generate)."""
        return self._tids


class _Slot:
    """An input as grad() sees it: the number, and a gradient of its own."""

    __slots__ = ("data", "grad")

    def __init__(self, data: float) -> None:
        self.data = data
        self.grad = 0.0


def _eager_error(trace: Trace, ins: list[Value], nums: list[float]) -> None:
    """Re-run a failed replay with the engine's own ops, so the error raised is
    exactly the eager one (type and message naming the op and the value)."""
    tape = [*nums, *(v.data for v in _all_inputs(trace, ins))]
    tape += [math.nan] * (len(trace._tape_ids()) - len(tape))
    trace.rebuild([Value(v.data) for v in ins[: trace.n_grad]], tuple(tape))


def _all_inputs(trace: Trace, ins: list[Value]) -> list[Value]:
    order = sorted(trace.input_of.items(), key=lambda kv: kv[1])
    return [ins[k] for _, k in order]


# --- the public object ------------------------------------------------------------------

class Compiled:
    """``fn`` compiled: call it like ``fn``; see ``autograd.compile``."""

    def __init__(self, fn: Callable[..., Value], aux: bool = False) -> None:
        if not callable(fn):
            raise TypeError(f"autograd.compile: expected a function, got {fn!r}")
        self.fn = fn
        self.aux = bool(aux)
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)
        self.__doc__ = getattr(fn, "__doc__", None)
        self.traces = 0
        self._paths: dict[tuple, list[Trace]] = {}
        self._eager: dict[tuple, str] = {}  # structures run eagerly, and why
        self._ops: dict[int, ops.Op] = {}
        self._latest: Trace | None = None
        self._lock = threading.Lock()
        try:
            self._param_names = [
                p.name for p in inspect.signature(fn).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
        except (TypeError, ValueError):
            self._param_names = []

    def __repr__(self) -> str:
        paths = sum(len(p) for p in self._paths.values())
        return f"<autograd.compile of {self.__name__}: {self.traces} traces, {paths} kept>"

    @property
    def code(self) -> str:
        """The generated source of the latest trace: forward, then backward."""
        if self._latest is None:
            return f"# autograd.compile: {self.__name__} has not been traced yet\n"
        return self._latest.code

    def __call__(self, *args: Any) -> Value:
        nums: list[float] = []
        vals: list[Value] = []
        key = _structure(args, nums, vals)
        if current_recorder() is not None or is_anomaly_enabled():
            # inside another trace, or under detect_anomaly: eager
            return self._run_eager(key, nums, vals)
        for trace in self._paths.get(key, ()):
            out = self._replay(trace, nums, vals)
            if out is not None:
                return out
        if key in self._eager or not is_grad_enabled():
            return self._run_eager(key, nums, vals)
        return self._trace(key, nums, vals)

    def _run_eager(self, key: tuple, nums: list[float], vals: list[Value]) -> Any:
        """fn run as plain code, on the arguments a trace would give it (numbers
        as fresh leaves)."""
        out = self.fn(*_leaves_like(key, nums, vals, [0, 0, []]))
        if self.aux:
            value, extra = _split_aux(self.__name__, out)
            if not is_grad_enabled() and isinstance(value, Value):
                value = Value(value.data)
            return value, _numbers_like(extra)
        if not is_grad_enabled() and isinstance(out, Value):
            return Value(out.data)
        return out

    def _replay(self, trace: Trace, nums: list[float], vals: list[Value]) -> Value | None:
        if trace.arg_slots:
            ins = trace.template.copy()
            for i, k in trace.arg_slots:
                ins[i] = vals[k]
        else:
            ins = trace.template  # never changed after the trace: safe to share
        try:
            got = trace.forward(ins, nums)
        except (ArithmeticError, ValueError, TypeError):
            _eager_error(trace, ins, nums)
            raise
        if got is None:
            return None  # a guard failed: another path
        if self.aux:
            data, tape, extra = got
            value = Value(data) if not is_grad_enabled() else _node(
                data, self._op_for(trace), _grad_part(ins, trace.n_grad), tape
            )
            return value, _refill(trace.aux_shape, iter(extra))
        data, tape = got
        if not is_grad_enabled():
            return Value(data)
        return _node(data, self._op_for(trace), _grad_part(ins, trace.n_grad), tape)

    def _op_for(self, trace: Trace) -> ops.Op:
        op = self._ops.get(id(trace))
        if op is None:
            op = ops.Op(f"compiled {self.__name__}", ops.NARY, _no_forward, _no_vjp, trace)
            backward = trace.backward

            def step(node: Value, g: float) -> None:
                try:
                    backward(g, node._a, node._b)
                except (ArithmeticError, ValueError) as err:
                    _backward_eager_error(trace, node, g)
                    raise err from None

            op.node_step = step
            self._ops[id(trace)] = op
        return op

    def _trace(self, key: tuple, nums: list[float], vals: list[Value]) -> Value:
        number_leaves: list[Value] = []
        stand_ins: list[Value] = []
        rec = _Recorder()
        with recording(rec):
            args = _leaves_like(key, nums, vals, [0, 0, number_leaves], stand_ins)
            for leaf in number_leaves:
                rec.nodes.pop(id(leaf), None)
            for name, arg in zip(self._param_names, args, strict=False):
                if isinstance(arg, Value) and arg in number_leaves:  # in: identity
                    arg.label = name
            result = self.fn(*args)
        aux_values = shape = None
        if self.aux:
            result, extra = _split_aux(self.__name__, result)
            aux_values = []
            shape = _aux_shape(extra, aux_values)
        with self._lock:
            self.traces += 1
            paths = self._paths.setdefault(key, [])
            if len(paths) >= MAX_PATHS:
                self._eager[key] = "more than 8 paths"
                warnings.warn(
                    f"autograd.compile: {self.__name__} took more than {MAX_PATHS} paths for "
                    "one argument structure; it runs eagerly for that structure from now on",
                    RuntimeWarning, stacklevel=3,
                )
                return self._eager_result(result, shape, aux_values)
            try:
                trace = Trace(
                    self.__name__, key, number_leaves, stand_ins, rec, result, aux_values
                )
                trace.aux_shape = shape
            except _Uncompilable as why:
                self._eager[key] = str(why)
                warnings.warn(
                    f"autograd.compile: cannot compile {self.__name__} ({why}); "
                    "it runs eagerly", RuntimeWarning, stacklevel=3,
                )
                return self._eager_result(result, shape, aux_values)
            paths.append(trace)
            self._latest = trace
        out = self._replay(trace, nums, vals)
        return out if out is not None else self._eager_result(result, shape, aux_values)

    def _eager_result(self, result: Value, shape: Any, aux_values: list | None) -> Any:
        if not self.aux:
            return result
        return result, _refill(shape, iter([v.data for v in aux_values]))


def _grad_part(ins: list[Value], n: int) -> list[Value]:
    """The differentiable inputs (the first n): the node's operands."""
    return ins if n == len(ins) else ins[:n]


def _split_aux(name: str, out: Any) -> tuple[Any, Any]:
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(
            f"autograd.compile(aux=True): {name} must return (value, aux), got {out!r}"
        )
    return out


def _aux_shape(x: Any, values: list[Value]) -> Any:
    """The nesting of ``aux`` with each Value replaced by a slot (its index)."""
    if isinstance(x, Value):
        values.append(x)
        return len(values) - 1
    if isinstance(x, (list, tuple)):
        inner = [_aux_shape(v, values) for v in x]
        return inner if isinstance(x, list) else tuple(inner)
    if isinstance(x, numbers.Real):
        return ("const", float(x))
    raise TypeError(f"autograd.compile(aux=True): aux must hold Values and numbers, got {x!r}")


def _refill(shape: Any, numbers_in: Any) -> Any:
    """``shape`` with each slot filled by the next number (aux slots are in order)."""
    if isinstance(shape, int):
        return next(numbers_in)
    if isinstance(shape, tuple) and len(shape) == 2 and shape[0] == "const":
        return shape[1]
    if isinstance(shape, list):
        return [_refill(s, numbers_in) for s in shape]
    return tuple(_refill(s, numbers_in) for s in shape)


def _numbers_like(x: Any) -> Any:
    if isinstance(x, Value):
        return x.data
    if isinstance(x, (list, tuple)):
        inner = [_numbers_like(v) for v in x]
        return inner if isinstance(x, list) else tuple(inner)
    return float(x)


def _no_forward(xs):
    raise TypeError("a compiled call's node is made by its Compiled function, not by an op")


def _no_vjp(g, operands, out):
    raise TypeError("a compiled call's node is differentiated through its Compiled function")


def _backward_eager_error(trace: Trace, node: Value, g: float) -> None:
    """Redo a failed compiled backward eagerly, so the error names the inner op."""
    from .backward import _chain_rule, _interior_order

    root = trace.rebuild([Value(v.data) for v in node._a], node._b)
    order = _interior_order(root, reset_grads=True)
    root.grad = g
    try:
        _chain_rule(reversed(order), False)
    except (ArithmeticError, ValueError) as err:
        err._chainrule_named = True  # already names the op: the engine passes it on as is
        raise


def compile(fn: Callable[..., Value], *, aux: bool = False) -> Compiled:  # noqa: A001
    """Trace ``fn`` once per argument structure and path, then replay generated code.

    ``step = autograd.compile(fn)``; ``out = step(*args)``; ``out.backward()``
    gives every input (Value arguments, and Values ``fn`` captured) the
    gradient eager ``fn(*args).backward()`` would. ``step.code`` shows the
    generated source. Reading ``.data`` inside ``fn`` freezes that number.

    With ``aux=True``, ``fn`` returns ``(value, aux)``: ``aux`` is a (nested)
    list or tuple of Values whose numbers the call also returns, as plain
    floats in the same nesting (for example a model's outputs beside its loss).
    """
    return Compiled(fn, aux=aux)
