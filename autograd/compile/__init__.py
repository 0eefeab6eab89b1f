"""autograd.compile: trace fn once per argument structure and path, then replay it.

A training step rebuilds the same graph every call. The first call of
``compile(fn)`` runs ``fn`` on stand-ins while a ``Recorder`` listens
(``trace``) and writes a ``Program``: inputs, equations, guards and outputs
(``program``). That run is eager's own: its graph is given back to the real
arguments and returned, so the first call costs a small multiple of calling fn.
Later calls check the guards and replay the Program, returning one Value: a
node of the ordinary engine whose operands are the inputs, so ``backward()``,
accumulation and ``no_grad`` work on it unchanged. A path is replayed by
walking its equations (``interp``) until it has been replayed ``GENERATE_AFTER``
times, then by Python source generated from the op table's templates
(``codegen``): ``compile()`` of that source costs as much as dozens of walks,
paid only by a path used often enough to win it back. Passes (``passes``)
prune the Program first.

The contract: the value and the gradients are eager's, bit for bit, or fn runs
eagerly with one warning that says why.
"""

from __future__ import annotations

import functools
import inspect
import threading
import warnings
from collections.abc import Callable
from typing import Any

from .. import ops
from ..mode import current_recorder, is_anomaly_enabled, is_grad_enabled, recording
from ..value import Constant, Value, _node
from . import caught, interp
from .args import flatten, rebuild, top_level_numbers
from .codegen import Generated, generate, operand_layout
from .passes import backward_order, prune
from .program import CONST, DETACH, EQN, INPUT, NUMBER, Eqn, Guard, Input, Program
from .trace import Recorder, Refused, env_guards, env_holds, gc_paused

__all__ = ["Compiled", "Eqn", "Guard", "Input", "Program", "compile"]

MAX_PATHS = 8  # traces kept per argument structure; beyond that fn runs eagerly
INTERPRET_ABOVE = 80_000  # equations: bigger programs are always walked, never compiled
GENERATE_AFTER = 32  # replays of a path walked before its code is generated (see Trace)
_FAILED = object()  # a replay raised: eager decides what happens


class Trace:
    """One recorded path: its Program, and the backend that replays it.

    A path is first replayed by walking its equations (``interp``: nothing to
    build), and from its ``GENERATE_AFTER``-th replay on by generated Python
    code (``codegen``), whose ``compile()`` costs more than many eager calls:
    it is paid only by a path that is replayed enough to win it back. Both give
    eager's numbers bit for bit; a node made by one backend is differentiated
    by the same backend.
    """

    def __init__(self, name: str, program: Program, aux: bool, aux_shape: Any,
                 arg_captured: tuple) -> None:
        self.name = name
        self._recorded: Program | None = program  # pruned when first needed (``program``)
        self._program: Program | None = None
        self._pruning = threading.Lock()
        self.aux = aux
        self.direct = any(i >= 0 for i in arg_captured)
        self.env = program.env_guards
        self.template = list(program._in_value)  # captured Values; None for arguments
        self.arg_slots = ([(i, k) for i, k in enumerate(program._in_arg) if k >= 0]
                          if max(program._in_arg, default=-1) >= 0 else [])
        self.aux_shape = aux_shape
        self.arg_captured = arg_captured
        self.backend: Backend | None = None
        self.replays = 0
        # fn's result: a node (label it as fn did), or what eager returns as it is
        # (an argument or a captured Value itself; a new leaf: see ``leaf_like``)
        kind, where = program.kinds[program.result]
        self.label = program.labels.get(program.result, "") if kind == EQN else ""
        self.plain = None if kind == EQN else (kind, where)
        self.leaf = (Value, "")

    def leaf_like(self, out: Any) -> None:
        """Note the class and label of the first call's result, a leaf fn made
        (``Constant(3.0)``, ``Value(n)``): each replay returns a new one alike."""
        if self.plain is not None and self.plain[0] != INPUT:
            self.leaf = (out.__class__, out.label)

    def plain_result(self, ins: list, nums: list) -> Value:
        kind, where = self.plain
        if kind == INPUT:
            return ins[where]
        cls, label = self.leaf
        v = Value.__new__(cls)
        v.data = where if kind == CONST else nums[where]
        v.grad, v.label, v._rule, v._a, v._b = 0.0, label, None, None, None
        return v

    @property
    def program(self) -> Program:
        """The recorded Program after the passes (made at the first replay, or
        when read: the first call itself needs none of it)."""
        program = self._program
        if program is None:
            with self._pruning:
                if self._program is None:
                    self._program = prune(self._recorded)
                    self._recorded = None
                program = self._program
        return program

    @functools.cached_property
    def captured_ids(self) -> dict[int, int]:
        """Captured input's id -> its input index (made when a call has Value
        arguments to compare with them, not for a function of captured Values only)."""
        return {id(v): i for i, v in enumerate(self.program._in_value) if v is not None}

    def backend_for_a_call(self) -> Backend:
        """The backend this replay runs: walked at first, generated once the path
        has earned it (programs too big to compile are always walked)."""
        self.replays += 1
        b = self.backend
        if b is None:
            b = self.backend = Backend(self, generated=False)
        if (not b.generated and self.replays > GENERATE_AFTER
                and len(self.program.eqns) <= INTERPRET_ABOVE):
            b = self.backend = Backend(self, generated=True)
        return b

    @property
    def code(self) -> str:
        """The generated source (written on demand while the path is walked)."""
        b = self.backend
        if b is not None and b.generated:
            return generate(self.program, aux=self.aux, direct=self.direct, run=False).code
        if len(self.program.eqns) > INTERPRET_ABOVE:
            note = "always, as it is too big to compile cheaply; this is the code it would be"
        else:
            note = f"until its replay {GENERATE_AFTER + 1}, and from then on by this code"
        header, rest = generate(
            self.program, aux=self.aux, direct=self.direct, run=False
        ).code.split("\n", 1)
        return (f"{header}\n# replayed by walking its equations (autograd.compile.interp) "
                f"{note}\n{rest}")


class Backend:
    """Replay functions for one Trace, and the op of the nodes they make."""

    def __init__(self, trace: Trace, generated: bool) -> None:
        program = trace.program
        self.trace = trace
        self.generated = generated
        if generated:  # (its source is not kept: ``Trace.code`` writes it again)
            gen = generate(program, aux=trace.aux, direct=trace.direct)
        else:  # walk the Program (same rules, same order)
            order = backward_order(program)
            _, grad_inputs = operand_layout(program, order)
            forward, backward = interp.build(program, grad_inputs, order)
            gen = Generated("", forward, backward, grad_inputs)
        self.forward = gen.forward
        self.backward = gen.backward
        self.grad_inputs = gen.grad_inputs
        n = len(gen.grad_inputs)
        self.prefix = n if gen.grad_inputs == list(range(n)) else None
        op = ops.Op(f"compiled {trace.name}", ops.NARY, _no_forward, _no_vjp, self)
        backward = self.backward

        def step(node: Value, g: float) -> None:
            try:
                backward(g, node._a, node._b[0])
            except (ArithmeticError, ValueError) as err:
                _backward_eager_error(trace, node, g)
                raise err from None

        op.node_step = step
        self.op = op

    def operands(self, ins: list) -> list:
        if self.prefix is not None:
            return ins if self.prefix == len(ins) else ins[: self.prefix]
        return [ins[i] for i in self.grad_inputs]

    def expanded(self, node: Value) -> Value:
        """The graph a compiled call stands for, made with the engine's own ops
        over the same inputs (how pickle and copy save a compiled result)."""
        _tape, ins, nums = node._b
        root = rebuild_graph(self.trace.program, list(ins), nums)
        root.grad, root.label = node.grad, node.label
        return root

    # --- grad() and create_graph --------------------------------------------------

    def grads_for(self, node: Value, g: Any, create_graph: bool) -> list:
        """Gradients of one compiled call for ``grad()``: floats, or (create_graph)
        Values from the same graph rebuilt with the engine's own ops."""
        tape, ins, nums = node._b
        if create_graph:
            from ..backward import grad

            # On nodes over the operands (v * 1), so that grad() gives each
            # operand's own partial derivative and stays a function of it.
            stand = [_unit_node(v) for v in node._a]
            full = list(ins)
            for j, i in enumerate(self.grad_inputs):
                full[i] = stand[j]
            root = rebuild_graph(self.trace.program, full, nums)
            try:
                firsts = grad(root, stand, create_graph=True)
            except (ArithmeticError, ValueError) as err:
                err._chainrule_named = True
                raise
            return [g * d for d in firsts]
        slots = [_Slot(v.data) for v in node._a]
        try:
            self.backward(g, slots, tape)
        except (ArithmeticError, ValueError) as err:
            _backward_eager_error(self.trace, node, g)
            raise err from None
        return [s.grad for s in slots]


def rebuild_graph(program: Program, ins: list, nums: list) -> Value:
    """The Program run with the engine's own ops on ``ins`` (Values) and ``nums``."""
    from ..value import _apply, _nary, _node_or_raise

    made: list[Any] = [None] * len(program.kinds)
    for var, (kind, where) in enumerate(program.kinds):
        if kind == INPUT:
            made[var] = ins[where]
        elif kind == NUMBER:
            made[var] = Constant(nums[where])
        elif kind == CONST:
            made[var] = Constant(where)
    for e in program.eqns:
        args = [made[o] for o in e.operands]
        if e.op is DETACH:
            made[e.out] = Value(args[0].data)
            continue
        rule = e.op
        if rule.arity == 1:
            v = _apply(rule, args[0])
        elif rule.arity == 2:
            v = _node_or_raise(rule, args[0], args[1])
        else:
            v = _nary(rule, args)
        if e.no_grad:
            v = Value(v.data)
        made[e.out] = v
    return made[program.result]


def _unit_node(v: Value) -> Value:
    one = Value.__new__(Constant)
    one.data, one.grad, one.label, one._rule, one._a, one._b = 1.0, 0.0, "", None, None, None
    s = Value.__new__(v.__class__)
    s.data, s.grad, s.label = v.data, 0.0, v.label
    s._rule, s._a, s._b = ops.MUL, v, one
    return s


class _Slot:
    """An operand as grad() sees it: the number, and a gradient of its own."""

    __slots__ = ("data", "grad")

    def __init__(self, data: float) -> None:
        self.data = data
        self.grad = 0.0


def _backward_eager_error(trace: Trace, node: Value, g: float) -> None:
    """Redo a failed compiled backward eagerly on copies, so the error names the
    inner op as eager's does (the real inputs keep what the replay added)."""
    from ..backward import _chain_rule, _interior_order

    _tape, ins, nums = node._b
    root = rebuild_graph(trace.program, [Value(v.data) for v in ins], nums)
    order = _interior_order(root, reset_grads=True)
    root.grad = g
    try:
        _chain_rule(reversed(order), False)
    except (ArithmeticError, ValueError) as err:
        err._chainrule_named = True
        raise


def _no_forward(xs):
    raise TypeError("a compiled call's node is made by its Compiled function, not by an op")


def _no_vjp(g, operands, out):
    raise TypeError("a compiled call's node is differentiated through its Compiled function")


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
        self._reset()

    def _reset(self) -> None:
        self.traces = 0
        self._paths: dict[tuple, list[Trace]] = {}
        self._eager: dict[tuple, str] = {}  # structures run eagerly, and why
        self._odd_arguments: set[str] = set()  # why arguments could not be traced (warned)
        self._latest: Trace | None = None
        self._lock = threading.RLock()
        try:
            self._param_names = [
                p.name for p in inspect.signature(self.fn).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
        except (TypeError, ValueError):
            self._param_names = []

    # --- pickling and copying: the function, not its traces (they re-trace) --------

    def __getstate__(self) -> dict:
        return {"fn": self.fn, "aux": self.aux}

    def __setstate__(self, state: dict) -> None:
        self.fn = state["fn"]
        self.aux = state["aux"]
        self.__name__ = getattr(self.fn, "__name__", type(self.fn).__name__)
        self.__doc__ = getattr(self.fn, "__doc__", None)
        self._reset()

    def __repr__(self) -> str:
        paths = sum(len(p) for p in self._paths.values())
        return f"<autograd.compile of {self.__name__}: {self.traces} traces, {paths} kept>"

    @property
    def code(self) -> str:
        """The generated source of the latest trace: forward, then backward."""
        if self._latest is None:
            return "# autograd.compile: fn has not been traced yet\n"
        return self._latest.code

    @property
    def program(self) -> Program | None:
        """The Program of the latest trace (``print(step.program)`` to read it)."""
        return None if self._latest is None else self._latest.program

    # --- calls ----------------------------------------------------------------------

    def map(self, batch: Any, reduce: str | None = "mean") -> Any:
        """``fn`` over a batch of argument tuples, as one Value or per-example floats.

        ``reduce="mean"`` / ``"sum"``: one Value whose backward gives every input
        what ``autograd.sum([step(*a) for a in batch])`` (divided by the batch's
        length) gives; ``reduce=None``: the per-example values as floats. With
        numpy, each traced path runs once as array code over the examples that
        take it; without, the scalar replay runs per example (with one warning).
        An example that would raise eagerly raises the same exception, naming
        its index in the batch.
        """
        from .batch import run

        return run(self, batch, reduce)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            key, raw, vals = flatten(args, kwargs)
        except TypeError as err:  # an argument no trace can stand in for: eager decides
            why = str(err).removeprefix("autograd.compile: ")
            if why not in self._odd_arguments:
                self._odd_arguments.add(why)
                warnings.warn(
                    f"autograd.compile: cannot compile {self.__name__} for these arguments "
                    f"({why}); it runs eagerly for them", RuntimeWarning, stacklevel=2,
                )
            return self._run_eager(args, kwargs)
        if current_recorder() is not None or is_anomaly_enabled():
            return self._run_eager(args, kwargs)  # inside another trace, or under anomaly
        try:
            nums = [x if x.__class__ is float else float(x) for x in raw]
        except (OverflowError, TypeError, ValueError):
            return self._run_eager(args, kwargs)
        if key in self._eager:
            return self._run_eager(args, kwargs)
        for trace in self._paths.get(key, ()):
            out = self._replay(trace, raw, nums, vals)
            if out is None:
                continue
            if out is _FAILED:  # it raised: eager decides (raise, or a path fn catches)
                result = self._run_eager(args, kwargs)
                return self._refuse(
                    key, "an operation raised in a replay and fn caught it", None, None, result
                )
            return out
        else:
            if not is_grad_enabled():
                return self._run_eager(args, kwargs)
        return self._trace(key, raw, nums, vals, args, kwargs)

    def _run_eager(self, args: tuple, kwargs: dict) -> Any:
        out = self.fn(*args, **kwargs)
        if self.aux:
            value, extra = _split_aux(self.__name__, out)
            return value, _numbers_like(extra)
        return out

    def _replay(self, trace: Trace, raw: list, nums: list, vals: list) -> Any:
        if trace.env and not env_holds(trace.env, raw):
            return None
        if vals and trace.captured_ids and _arg_captured(trace, vals) != trace.arg_captured:
            return None
        if trace.arg_slots:
            ins = trace.template.copy()
            for i, k in trace.arg_slots:
                ins[i] = vals[k]
        else:
            ins = trace.template
        backend = trace.backend_for_a_call()
        try:
            got = backend.forward(ins, nums)
        except Exception:  # noqa: BLE001 - eager decides (raise, or a path fn catches)
            return _FAILED
        if got is None:
            return None
        if trace.plain is not None:  # fn returned an input, or a leaf it made
            value = trace.plain_result(ins, nums)
        else:
            if not is_grad_enabled():
                value = Value(got[0])
            else:
                value = _node(got[0], backend.op, backend.operands(ins), (got[1], ins, nums))
            if trace.label:
                value.label = trace.label
        if self.aux:
            return value, _refill(trace.aux_shape, iter(got[2]))
        return value

    def _refuse(self, key: tuple, why: str, args: Any, kwargs: Any, result: Any = None) -> Any:
        """Run fn eagerly for this argument structure from now on, saying why once;
        return this call's eager result (``result``, or fn run now)."""
        self._eager[key] = why
        warnings.warn(
            f"autograd.compile: cannot compile {self.__name__} ({why}); it runs eagerly "
            "for these argument types from now on", RuntimeWarning, stacklevel=4,
        )
        return result if args is None else self._run_eager(args, kwargs)

    def _trace(self, key: tuple, raw: list, nums: list, vals: list, args: tuple,
               kwargs: dict) -> Any:
        with self._lock:
            for trace in self._paths.get(key, ()):  # another thread may have traced it
                out = self._replay(trace, raw, nums, vals)
                if out is not None and out is not _FAILED:
                    return out
            if key in self._eager:
                return self._run_eager(args, kwargs)
            paths = self._paths.setdefault(key, [])
            if len(paths) >= MAX_PATHS:
                return self._refuse(key, f"more than {MAX_PATHS} paths", args, kwargs)
            labels = top_level_numbers(key, self._param_names)
            rec = Recorder(self.__name__, raw, labels)
            t_args, t_kwargs = rebuild(key, rec.traced_numbers(), rec.stand_ins(vals))
            env = env_guards(self.fn)
            self.traces += 1
            try:
                with recording(rec), caught.watching(), gc_paused():
                    result = self.fn(*t_args, **t_kwargs)
            except Exception as err:  # noqa: BLE001 - eager decides
                del t_args, t_kwargs
                self.traces -= 1
                if rec.op_raised(err):
                    # an op's error, on eager's numbers: eager raises it too, and
                    # running fn again would repeat what fn did before it
                    with gc_paused():
                        rec.give_back(None, vals)
                    rec = None
                    raise
                rec = None
                out = self._run_eager(args, kwargs)  # raises as eager does
                return self._refuse(
                    key, f"it raised {type(err).__name__} when traced, not when run eagerly",
                    None, None, out,
                )
            del t_args, t_kwargs
            if rec.arguments_moved(vals):
                # fn changed an argument through another name it holds (a Value it
                # captures): the stand-in fn was given did not change, so the traced
                # run is not eager's. The change is undone and fn runs eagerly.
                return self._refuse(
                    key, "fn changed an argument through a Value it captures", args, kwargs)
            aux_values: list[Value] = []
            extra = None
            shape = None
            if self.aux:
                result, extra = _split_aux(self.__name__, result)
                shape = _aux_shape(extra, aux_values)
            if not isinstance(result, Value):
                raise TypeError(
                    f"autograd.compile: {self.__name__} must return a Value, got {result!r} "
                    f"({result.__class__.__name__})"
                )
            with gc_paused():
                try:
                    program = rec.finish(result, aux_values)
                    program.env_guards[:0] = env
                    trace = Trace(self.__name__, program, self.aux, shape,
                                  _arg_captured_ids(program, vals))
                except Refused as why:
                    refused = str(why)
                    # fn ran to its end; unless its graph is not eager's, that run
                    # is this call's answer: running fn again would repeat what it
                    # did to captured Values
                    out = None if rec.rerun else rec.give_back(result, vals)
                else:
                    refused = None
                    # This call's answer is the traced graph itself, given back to the
                    # real arguments: eager's graph of this call, nothing replayed.
                    changed = None
                    if rec.inputs_changed() or not env_holds(program.env_guards, raw):
                        changed = "fn changed a number it reads while it was traced"
                    elif rec.grads_changed(vals):  # x.grad = ..., or a backward() in fn
                        changed = "fn changed the gradient of an argument while it was traced"
                    out = rec.give_back(result, vals)
                    trace.leaf_like(out)
            if refused is not None:
                if out is None:
                    return self._refuse(key, refused, args, kwargs)
                if self.aux:
                    out = (out, _numbers_like(extra))
                return self._refuse(key, refused, None, None, out)
            del aux_values
            if self.aux:
                out = (out, _numbers_like(extra))
            if changed:
                # fn changed a number it reads, or an argument's gradient: no replay
                # can repeat this call (see README, "What compile assumes")
                return self._refuse(key, changed, None, None, out)
            paths.append(trace)
            self._latest = trace
        return out


def _arg_captured_ids(program: Program, vals: list) -> tuple:
    if not vals:
        return ()
    captured = {id(v): i for i, v in enumerate(program._in_value) if v is not None}
    return tuple(captured.get(id(v), -1) for v in vals) if captured else ()


def _arg_captured(trace: Trace, vals: list) -> tuple:
    """Which arguments are (by identity) which captured inputs: part of a path."""
    ids = trace.captured_ids
    return tuple(ids.get(id(v), -1) for v in vals)


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
    if isinstance(x, (int, float)) or hasattr(x, "__float__"):
        return ("const", float(x))
    raise TypeError(f"autograd.compile(aux=True): aux must hold Values and numbers, got {x!r}")


def _refill(shape: Any, numbers_in: Any) -> Any:
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


def compile(fn: Callable[..., Value], *, aux: bool = False) -> Compiled:  # noqa: A001
    """Trace ``fn`` once per argument structure and path, then replay generated code.

    ``step = autograd.compile(fn)``; ``out = step(*args, **kwargs)``;
    ``out.backward()`` gives every input (Value arguments, and Values ``fn``
    captured) exactly the gradient eager ``fn(...).backward()`` would.
    ``step.program`` is the traced Program, ``step.code`` the generated source.
    Anything the trace cannot reproduce makes ``fn`` run eagerly, with one
    warning naming the reason; README "What compile assumes" lists what no
    guard can see.

    With ``aux=True``, ``fn`` returns ``(value, aux)``: ``aux`` is a (nested)
    list or tuple of Values whose numbers the call also returns, as plain
    floats in the same nesting (for example a model's outputs beside its loss).
    """
    return Compiled(fn, aux=aux)

