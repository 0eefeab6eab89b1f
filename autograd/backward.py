"""Reverse-mode differentiation: topological order, the chain-rule loop, and grad().

Nothing here recurses, so a graph a million nodes deep needs no recursion limit.
"""

from __future__ import annotations

import contextlib
import gc
import math
import threading
from collections.abc import Iterable, Iterator, Sequence

from .mode import AnomalyError, creation_sites, is_anomaly_enabled
from .ops import Op
from .value import Constant, Value, error_text


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, each after all of its operands (root last).

    Leaves come first, in the order they are first met as operands; then the
    interior nodes in the order backward() uses.
    """
    _need_value(root, "topological_order")
    interior = _interior_order(root)
    if not interior:
        return [root]
    leaves: dict[Value, None] = {}
    for node in interior:
        for p in node.parents:
            if p._rule is None:
                leaves[p] = None
    return [*leaves, *interior]


def _interior_order(root: Value, reset_grads: bool = False) -> list[Value]:
    """Interior nodes under ``root`` in post-order (operands first), iteratively.

    A node stays on the stack while its operands are explored and is placed when
    it surfaces again (or at once, if it has no unplaced interior operand).
    ``state`` maps a node to False (expanded) or True (placed); in a DAG an
    operand is never found expanded-but-unplaced, so no node is placed before its
    operands. Leaves need no place: backward has nothing to do at a leaf but
    accumulate, which its consumers already do. ``reset_grads`` zeroes each
    placed node's ``.grad``, as backward() needs.
    """
    if root._rule is None:
        return []
    order: list[Value] = []
    state: dict[Value, bool] = {}
    stack = [root]
    push, pop, place = stack.append, stack.pop, order.append
    get = state.get
    while stack:
        node = stack[-1]
        seen = get(node)
        if seen is None:
            state[node] = False
            depth = len(stack)
            arity = node._rule.arity
            if arity:
                p = node._a
                if p._rule is not None and p not in state:
                    push(p)
                if arity == 2:
                    p = node._b
                    if p._rule is not None and p not in state:
                        push(p)
            else:
                for p in node._a:
                    if p._rule is not None and p not in state:
                        push(p)
            if len(stack) > depth:
                continue  # come back to it once the pushed operands are placed
        elif seen:
            pop()  # a duplicate stack entry of a node already placed
            continue
        pop()
        state[node] = True
        if reset_grads:
            node.grad = 0.0
        place(node)
    return order


def _need_value(root, where: str) -> None:
    if not isinstance(root, Value):
        raise TypeError(f"{where}: expected a Value, got {root!r} ({type(root).__name__})")


_pause_lock = threading.Lock()
_pause = [0, False]  # passes under way in any thread; whether the GC was on before the first


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Backward makes no reference cycles, so the cyclic GC has nothing to find.

    Pausing it saves the repeated scans of a large live graph that otherwise
    dominate the pass. The GC switch is one per process, so the pause is
    counted across threads: the first pass to start records whether the GC was
    on and the last to finish restores exactly that, also on error. (A per-call
    read-disable-restore would let two interleaved threads leave it off.)
    """
    with _pause_lock:
        if _pause[0] == 0:
            _pause[1] = gc.isenabled()
            gc.disable()
        _pause[0] += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pause[0] -= 1
            if _pause[0] == 0 and _pause[1]:
                gc.enable()


def backward(root: Value) -> None:
    """Seed ``root.grad`` with 1 and push gradients to every node it depends on.

    Leaves accumulate (two calls give exactly twice the gradient); interior nodes
    are reset first, so they hold what this pass gave them.
    """
    _need_value(root, "backward")
    with _collector_paused():
        order = _interior_order(root, reset_grads=True)
        root.grad += 1.0
        _chain_rule(reversed(order), is_anomaly_enabled())


def _chain_rule(nodes: Iterable[Value], anomaly: bool) -> None:
    """The first-order loop: float rules from the op table, grads onto ``.grad``."""
    for node in nodes:
        rule = node._rule
        g = node.grad
        try:
            arity = rule.arity
            if arity == 2:
                a, b = node._a, node._b
                ga, gb = rule.vjp(g, a.data, b.data, node.data)
                a.grad += ga
                b.grad += gb
                if anomaly:
                    _check_grads(node, (ga, gb))
            elif arity == 1:
                a = node._a
                ga = rule.vjp(g, a.data, node.data)
                a.grad += ga
                if anomaly:
                    _check_grads(node, (ga,))
            elif rule.node_step is not None:  # a user's closure, or a compiled call
                if anomaly:
                    before = [p.grad for p in node._a]
                rule.node_step(node, g)
                if anomaly:  # what this node added, not an inf already on an operand
                    _check_grads(node, [
                        p.grad - old if math.isfinite(old) else 0.0
                        for p, old in zip(node._a, before, strict=True)
                    ])
            elif anomaly:
                _checked_nary_step(node, g)
            else:
                rule.vjp(g, node._a, node.data)  # n-ary rules accumulate in place
        except (ArithmeticError, ValueError) as err:
            if isinstance(err, AnomalyError) or getattr(err, "_chainrule_named", False):
                raise
            raise _backward_error(err, node) from None


def local_step(node: Value) -> None:
    """One node's chain-rule step on ``.grad`` (micrograd's ``node._backward()``):
    add ``node.grad`` times each local derivative into the operands' ``.grad``."""
    if node._rule is not None:
        _chain_rule((node,), is_anomaly_enabled())


def _custom_shares(node: Value, g: float) -> list[float]:
    """What a micrograd-style closure adds to each operand for upstream ``g``.

    The closure works on ``.grad`` attributes, so grad() runs it with this
    node's ``.grad`` set to ``g`` and its operands' cleared, reads the result,
    and puts every ``.grad`` back as it was.
    """
    kids = list(dict.fromkeys(node._a))
    saved = node.grad, [k.grad for k in kids]
    try:
        for k in kids:
            k.grad = 0.0
        node.grad = g
        node._b()
        shares = [k.grad for k in kids]
    finally:
        node.grad = saved[0]
        for k, old in zip(kids, saved[1], strict=True):
            k.grad = old
    return kids, shares


class _Share:
    """One operand position of an n-ary node, collecting only this node's share."""

    __slots__ = ("data", "grad")

    def __init__(self, data: float) -> None:
        self.data = data
        self.grad = 0.0


def _checked_nary_step(node: Value, g: float) -> None:
    """An n-ary step under detect_anomaly: check what this node contributes to
    each operand, not the operand's accumulated ``.grad`` (a stale inf on a leaf
    is not this node's fault), then add the contributions."""
    shares = [_Share(p.data) for p in node._a]
    node._rule.vjp(g, shares, node.data)
    _check_grads(node, [s.grad for s in shares])
    for p, share in zip(node._a, shares, strict=True):
        p.grad += share.grad


def _operands(node: Value) -> tuple:
    return node.parents


def _backward_error(err: Exception, node: Value) -> Exception:
    shown = ", ".join(repr(p.data) for p in _operands(node))
    return type(err)(f"backward of '{node.op}' at ({shown}): {error_text(err)}")


def _check_grads(node: Value, grads) -> None:
    for gp in grads:
        if not math.isfinite(float(gp)):
            shown = ", ".join(repr(p.data) for p in _operands(node))
            site = creation_sites().get(node, "<created outside detect_anomaly>")
            raise AnomalyError(
                f"detect_anomaly: backward of '{node.op}' gave gradient {float(gp)!r} "
                f"for inputs ({shown}), node created at {site}"
            )


def grad(
    output: Value, inputs: Sequence[Value], create_graph: bool = False
) -> list[Value]:
    """d output / d input for each input, leaving every ``.grad`` untouched.

    With ``create_graph=True`` the backward pass runs the same rules on Values,
    so each result has a graph of its own and can be differentiated again.
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {output!r}")
    if isinstance(inputs, Value):
        inputs = [inputs]
    elif isinstance(inputs, Iterable):
        inputs = list(inputs)
    else:
        raise TypeError(f"grad: inputs must be a Value or an iterable of Values, got {inputs!r}")
    for x in inputs:
        if not isinstance(x, Value):
            raise TypeError(f"grad: every input must be a Value, got {x!r}")
    with _collector_paused():
        grads = _gradients(output, create_graph)
    result = []
    for x in inputs:
        g = grads.get(x, 0.0)
        # A leaf result (a constant gradient) is copied, so no two inputs share one object.
        result.append(g if isinstance(g, Value) and not g.is_leaf else Value(float(g)))
    return result


def _gradients(output: Value, create_graph: bool) -> dict:
    """Gradients of ``output`` for every node, as floats or (create_graph) Values."""
    anomaly = is_anomaly_enabled()
    grads: dict = {output: Constant(1.0) if create_graph else 1.0}
    for node in reversed(_interior_order(output)):
        rule: Op | None = node._rule
        if rule is None or node not in grads:
            continue
        g = grads[node]
        operands = node.parents
        out = node if create_graph else node.data
        try:
            if rule.custom:
                if create_graph:
                    raise TypeError(
                        f"grad(create_graph=True): node {node!r} was made with Value(data, "
                        f"_children, {rule.name!r}) and a _backward closure, which works on "
                        "numbers only and cannot be differentiated again; build it from "
                        "autograd's ops instead"
                    )
                gs = []
                if node._b is not None:
                    kids, gs = _custom_shares(node, g)
                    for p, gp in zip(kids, gs, strict=True):
                        grads[p] = grads[p] + gp if p in grads else gp
            elif rule.node_step is not None:  # a call of an autograd.compile function
                gs = rule.code.grads_for(node, g, create_graph)
                for p, gp in zip(operands, gs, strict=True):
                    grads[p] = grads[p] + gp if p in grads else gp
            elif rule.arity == 0 and anomaly:  # check this node's shares, then add them
                shares = [_Share(p if create_graph else p.data) for p in operands]
                rule.vjp(g, shares, out)
                gs = [share.grad for share in shares]
                for p, gp in zip(operands, gs, strict=True):
                    grads[p] = grads[p] + gp if p in grads else gp
            elif rule.arity == 0:
                slots = [_GradSlot(p, grads, create_graph) for p in operands]
                rule.vjp(g, slots, out)
                gs = ()
            else:
                args = operands if create_graph else [p.data for p in operands]
                if rule.arity == 2:
                    gs = rule.vjp(g, args[0], args[1], out)
                else:
                    gs = (rule.vjp(g, args[0], out),)
                for p, gp in zip(operands, gs, strict=True):
                    grads[p] = grads[p] + gp if p in grads else gp
        except (ArithmeticError, ValueError) as err:
            if isinstance(err, AnomalyError) or getattr(err, "_chainrule_named", False):
                raise
            raise _backward_error(err, node) from None
        if anomaly:
            _check_grads(node, gs)
    return grads


class _NoGradYet:
    """The gradient of an operand nothing has reached yet: adding to it gives the addend.

    Unlike 0.0, it adds no ``0 + v`` node to a create_graph gradient.
    """

    __slots__ = ()

    def __add__(self, other):
        return other

    __radd__ = __add__


_NO_GRAD_YET = _NoGradYet()


class _GradSlot:
    """An operand as an n-ary rule sees it inside grad(): ``.data`` is what to compute
    with (the float, or the Value itself under create_graph) and ``.grad`` is the
    operand's entry in grad()'s own table, so no ``.grad`` attribute is touched."""

    __slots__ = ("data", "_node", "_grads")

    def __init__(self, node: Value, grads: dict, create_graph: bool) -> None:
        self.data = node if create_graph else node.data
        self._node = node
        self._grads = grads

    @property
    def grad(self):
        return self._grads.get(self._node, _NO_GRAD_YET)

    @grad.setter
    def grad(self, value) -> None:
        self._grads[self._node] = value


# --- one node's local derivatives, for readers such as the stepper -------------------


def local_partials(node: Value) -> list[float]:
    """d node / d operand for each operand position of ``node``, from the op table's own rule.

    The rule is applied with an upstream gradient of 1, so each number is the local
    (partial) derivative the chain rule multiplies by. An operand used twice (x * x)
    gets one number per use. For a micrograd-style node the numbers are what its
    ``_backward`` closure adds, each given at the operand's first position (0 at
    repeats); nothing any ``.grad`` held is changed. A leaf has none.
    """
    _need_value(node, "local_partials")
    rule = node._rule
    if rule is None:
        return []
    operands = node.parents
    try:
        if rule.custom:
            if node._b is None:
                return [0.0] * len(operands)
            kids, shares = _custom_shares(node, 1.0)
            share = dict(zip(kids, shares, strict=True))
            seen: set = set()
            out = []
            for p in operands:
                out.append(0.0 if p in seen else float(share[p]))
                seen.add(p)
            return out
        if rule.node_step is not None:  # a call of an autograd.compile function
            return [float(g) for g in rule.code.grads_for(node, 1.0, False)]
        if rule.arity == 0:
            shares = [_Share(p.data) for p in operands]
            rule.vjp(1.0, shares, node.data)
            return [float(s.grad) for s in shares]
        if rule.arity == 2:
            return [float(g) for g in rule.vjp(1.0, operands[0].data, operands[1].data, node.data)]
        return [float(rule.vjp(1.0, operands[0].data, node.data))]
    except (ArithmeticError, ValueError) as err:
        if getattr(err, "_chainrule_named", False):
            raise
        raise _backward_error(err, node) from None


def local_formulas(node: Value) -> list[str]:
    """The op table's formula for d node / d operand, one template per operand position.

    Templates name operands ``{0}``, ``{1}``, ... and the node's own value ``{out}``
    (tanh: ``1 - tanh^2 = 1 - {out}^2``); ``str.format`` fills in names or numbers.
    A leaf has none.
    """
    _need_value(node, "local_formulas")
    rule = node._rule
    if rule is None:
        return []
    n = len(node.parents)
    formula = rule.formula
    if formula is None:  # an op made outside the table, e.g. a compiled call
        return [f"the local derivative of {rule.name}"] * n
    if callable(formula):
        return [formula(i, n) for i in range(n)]
    return list(formula)
