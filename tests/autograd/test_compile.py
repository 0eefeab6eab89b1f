"""autograd.compile through its public API: calls, arguments, paths, errors, modes.

Every test compares a compiled function with the same function run eagerly
(``fn(*args)`` on fresh leaves, then ``backward()``), and counts how often
compile calls ``fn``: after the first call for an argument structure and path
it must never call it again. The random-program properties are in
test_compile_properties.py, the nn losses, activations and layers in
test_compile_nn.py.
"""

from __future__ import annotations

import ast
import functools
import gc
import math
import threading
import tracemalloc
import warnings
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

import autograd
from autograd import AnomalyError, Value, compile, detect_anomaly, grad, no_grad

pytestmark = pytest.mark.usefixtures("replay_backend")  # walked and generated replays

# --- helpers ------------------------------------------------------------------------------


def to_values(args: Any) -> Any:
    """Numbers made leaves, as these functions were written for (a number
    argument reaches fn as a number; ``Value(n)`` keeps it a variable of the trace)."""
    if isinstance(args, (list, tuple)):
        out = [to_values(a) for a in args]
        return out if isinstance(args, list) else tuple(out)
    return args if isinstance(args, Value) else Value(args)


def counted(fn: Callable) -> Callable:
    """``fn`` with a call counter (``.calls``), making leaves of its number
    arguments; functools.wraps keeps the signature, so compile still names
    number arguments after the parameters."""

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        wrapper.calls += 1
        return fn(*to_values(args))

    wrapper.calls = 0
    return wrapper


def leafy(fn: Callable) -> Callable:
    """``fn`` making leaves of its number arguments (see ``to_values``)."""

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        return fn(*to_values(args))

    return wrapper


def as_leaves(args: Any) -> Any:
    """The arguments eager fn gets: the very same (numbers reach fn as numbers)."""
    return args


def same(a: float, b: float) -> bool:
    """Equal floats, NaN equal to NaN."""
    return a == b or (a != a and b != b)


def run_both(fn: Callable, step: Callable, args: tuple, watched: list[Value]) -> tuple:
    """(value, grads of watched) for the compiled call and for eager fn; every
    watched ``.grad`` starts at 0 for each run."""
    results = []
    for runner in (lambda: step(*args), lambda: fn(*to_values(args))):
        for v in watched:
            v.grad = 0.0
        out = runner()
        out.backward()
        results.append((out.data, [v.grad for v in watched]))
    for v in watched:
        v.grad = 0.0
    return results[0], results[1]


def assert_matches_eager(fn: Callable, step: Callable, args: tuple, watched: list[Value]) -> None:
    """Compiled and eager agree. These small functions have no sum where terms
    cancel and each gradient collects at most a few terms, so 1e-12 relative
    (thousands of ulps) is loose for rounding and tight for any wrong rule."""
    (cv, cg), (ev, eg) = run_both(fn, step, args, watched)
    assert math.isclose(cv, ev, rel_tol=1e-12, abs_tol=1e-300) or same(cv, ev), (cv, ev)
    for c, e in zip(cg, eg, strict=True):
        assert math.isclose(c, e, rel_tol=1e-12, abs_tol=1e-300) or same(c, e), (cg, eg)


def raised(thunk: Callable[[], Any]) -> tuple[str, str] | None:
    try:
        thunk()
    except Exception as err:  # noqa: BLE001 - the test compares whatever is raised
        return type(err).__name__, str(err)
    return None


# --- calls of fn: one per structure and path ---------------------------------------------


def test_first_call_traces_then_replays_without_calling_fn() -> None:
    w = Value(0.5, label="w")

    @counted
    def f(x, y):
        q = x * w + y
        return q.tanh() * q + (x * y).sigmoid()

    step = compile(f)
    for x, y in [(1.0, 2.0), (0.3, -0.7), (-2.0, 0.1), (4.0, 4.0), (1.0, 2.0)]:
        assert_matches_eager(f.__wrapped__, step, (x, y), [w])
    assert f.calls == 1
    assert step.traces == 1


def test_a_new_structure_traces_again_and_each_trace_is_kept() -> None:
    w = Value(1.5)

    @counted
    def f(xs, pair):
        a, b = pair
        return autograd.sum([x * w for x in xs]) + a * b

    step = compile(f)
    calls = [
        ([1.0, 2.0], (3.0, 4.0)),  # trace 1
        ([1.0, 2.0, 3.0], (3.0, 4.0)),  # longer list: trace 2
        ([5.0, 6.0], (7.0, 8.0)),  # structure 1 again: replay
        ([1.0, 2.0, 3.0], [3.0, 4.0]),  # a list where a tuple was: trace 3
        ([1.0, 2.0], (Value(3.0), 4.0)),  # a Value where a number was: trace 4
        ([9.0, 8.0, 7.0], (6.0, 5.0)),  # structure 2 again: replay
        ([9.0, 8.0, 7.0], [6.0, 5.0]),  # structure 3 again: replay
        ([0.5, 0.25], (Value(-1.0), 2.0)),  # structure 4 again: replay
    ]
    expected_calls = [1, 2, 2, 3, 4, 4, 4, 4]
    for args, n in zip(calls, expected_calls, strict=True):
        assert_matches_eager(f.__wrapped__, step, args, [w])
        assert f.calls == n, args
    assert step.traces == 4


def test_nested_lists_of_numbers_and_values() -> None:
    p, q = Value(0.5), Value(-1.25)

    def f(rows, extra):
        return autograd.sum([autograd.dot(r, [p, q]) for r in rows]) * extra[0][0]

    step = compile(f)
    for scale in (1.0, -2.0, 3.5):
        rows = [[1.0 * scale, 2.0], [Value(3.0), -4.0 * scale]]
        assert_matches_eager(f, step, (rows, [[Value(scale)]]), [p, q, rows[1][0]])
    assert step.traces == 1


def test_a_branch_on_a_comparison_traces_each_path_once() -> None:
    w = Value(2.0)

    @counted
    def f(x):
        s = x * w
        if s > 1.0:
            return s.log()
        return (s * s + 1.0).sqrt()

    step = compile(f)
    for x, n in [(1.0, 1), (0.1, 2), (3.0, 2), (-4.0, 2), (0.25, 2), (0.75, 2)]:
        assert_matches_eager(f.__wrapped__, step, (x,), [w])
        assert f.calls == n
    assert step.traces == 2


@pytest.mark.parametrize(
    ("decide", "points", "paths"),
    [
        (lambda v, u: v < u, [(1.0, 2.0), (3.0, 2.0), (0.0, 5.0), (7.0, -1.0)], 2),
        (lambda v, u: v >= u, [(1.0, 1.0), (0.0, 1.0), (2.0, 2.0), (-3.0, 4.0)], 2),
        (lambda v, u: v <= 0.5 < u, [(0.0, 1.0), (1.0, 1.0), (0.0, 0.0), (0.25, 2.0)], 3),
        (lambda v, u: bool(v), [(1.0, 0.0), (0.0, 0.0), (-5.0, 1.0), (0.0, 3.0)], 2),
        (lambda v, u: int(v) == 2, [(2.5, 0.0), (1.5, 0.0), (2.9, 1.0), (-0.5, 1.0)], 3),
        (lambda v, u: float(v) > 0, [(1.0, 0.0), (1.0, 5.0), (2.0, 0.0), (1.0, -1.0)], 2),
        (lambda v, u: max(v, u) is v, [(3.0, 1.0), (1.0, 3.0), (9.0, 2.0), (0.0, 1.0)], 2),
    ],
    ids=["lt", "ge", "chained", "bool", "int", "float", "builtin-max"],
)
def test_every_kind_of_decision_is_guarded(decide, points, paths) -> None:
    """float(v) and int(v) guard on the number they returned (float: the very
    number, so a replay at another value traces again); comparisons and bool on
    their outcome."""

    @counted
    def f(v, u):
        return v * u + v if decide(v, u) else u.tanh() - v

    step = compile(f)
    for v, u in points:
        args = (Value(v), Value(u))
        assert_matches_eager(f.__wrapped__, step, args, list(args))
    assert f.calls == step.traces == paths


def test_a_float_guard_tells_signed_zeros_apart() -> None:
    """float(v) returned 0.0 when traced; at -0.0 it returns -0.0, which
    copysign (or 1 / x) tells apart: that is another path."""

    def f(x):
        return x * math.copysign(1.0, float(x))

    step = compile(f)
    for v in (0.0, -0.0, 0.0, -0.0, 2.0, -2.0):
        assert_matches_eager(f, step, (Value(v),), [])
        a, b = Value(v), Value(v)
        assert grad(step(a), [a])[0].data == grad(f(b), [b])[0].data
    assert step.traces == 4


def test_a_guard_against_a_fraction_or_numpy_number_replays() -> None:
    """A comparison with any real number (exact, as Python compares them) is a guard."""
    np = pytest.importorskip("numpy")
    for threshold in (Fraction(1, 3), np.float64(0.5), 10**400, -math.inf):

        def f(x, threshold=threshold):
            return x * 2.0 if x > threshold else x * 3.0

        step = compile(f)
        for x in (1.0, 0.0, 2.0, -1.0, 0.4):
            assert_matches_eager(f, step, (Value(x),), [])
            assert step(Value(x)).data == f(Value(x)).data


@pytest.mark.parametrize("as_value", [False, True], ids=["number", "Value"])
def test_more_than_eight_paths_run_eagerly_with_one_warning(as_value) -> None:
    w = Value(0.5)

    @counted
    def f(x):
        k = int(x)  # one path per integer part
        return x * w * k + w

    step = compile(f)

    def arg(x: float) -> tuple:
        return (Value(x),) if as_value else (x,)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(8):
            args = arg(k + 0.5)
            assert_matches_eager(f.__wrapped__, step, args, [w, *args[:as_value]])
        assert f.calls == 8
        assert not caught
        for x in (0.25, 3.75, 7.1):  # the eight kept paths replay
            args = arg(x)
            assert_matches_eager(f.__wrapped__, step, args, [w, *args[:as_value]])
        assert f.calls == 8
        for n, x in enumerate([8.5, 9.5, 8.25, 20.0, -3.5], start=1):  # eager beyond eight
            args = arg(x)
            assert_matches_eager(f.__wrapped__, step, args, [w, *args[:as_value]])
            assert f.calls == 8 + n
    warned = [c for c in caught if issubclass(c.category, RuntimeWarning)]
    assert len(warned) == 1, [str(c.message) for c in caught]
    assert "autograd.compile" in str(warned[0].message)
    assert "8 paths" in str(warned[0].message)


# --- inputs: numbers, Values, captured parameters -----------------------------------------


def test_captured_parameters_changed_in_place_are_read_at_every_call() -> None:
    w, b = Value(0.5), Value(-0.25)

    @counted
    def f(x):
        return (x * w + b).tanh() * w

    step = compile(f)
    for k in range(6):
        with no_grad():
            w.data = 0.5 - 0.3 * k  # what an optimiser's step does
            b.data = b.data + 0.125
        assert_matches_eager(f.__wrapped__, step, (1.5,), [w, b])
    assert f.calls == 1


def test_a_branch_on_a_captured_parameter_is_guarded_too() -> None:
    w = Value(1.0)
    f = counted(lambda x: x * w if w > 0 else (x * w).exp())
    step = compile(f)
    for value, calls in [(1.0, 1), (2.0, 1), (-1.0, 2), (3.0, 2), (-0.5, 2)]:
        with no_grad():
            w.data = value
        assert_matches_eager(f.__wrapped__, step, (0.5,), [w])
        assert f.calls == calls


def test_a_number_argument_gets_no_gradient_and_its_new_number_is_used() -> None:
    step = compile(lambda x: Value(2.0) * x * x)  # x reaches fn as a number
    assert [step(float(k)).data for k in range(4)] == [0.0, 2.0, 8.0, 18.0]
    assert step.traces == 1
    out = step(3.0)
    assert out.parents == ()  # nothing to differentiate: no inputs
    out.backward()
    assert out.grad == 1.0


def test_an_interior_node_argument_passes_its_gradient_on_into_its_graph() -> None:
    p, c = Value(1.5), Value(-0.5)
    step = compile(lambda u, v: (u * v).tanh() + u)
    for k in range(3):
        with no_grad():
            p.data += 0.25 * k
        u = p * p + c  # an interior node made before the call
        v = p.exp()
        out = step(u, v)
        out.backward()
        got = (p.grad, c.grad, u.grad, v.grad)
        p.grad = c.grad = 0.0
        u2, v2 = p * p + c, p.exp()
        ((u2 * v2).tanh() + u2).backward()
        want = (p.grad, c.grad, u2.grad, v2.grad)
        p.grad = c.grad = 0.0
        for a, b in zip(got, want, strict=True):
            assert math.isclose(a, b, rel_tol=1e-12), (got, want)
    assert step.traces == 1


def test_the_same_value_passed_twice() -> None:
    """Traced with x twice, then called with two different Values (and the
    reverse): each call must compute with the Values it was given."""
    for first, later in [("xx", "xy"), ("xy", "xx")]:
        x, y = Value(3.0), Value(5.0)
        pick = {"xx": (x, x), "xy": (x, y)}
        f = counted(lambda a, b: a * b + a)
        step = compile(f)
        for pattern in (first, later, first, later):
            assert_matches_eager(f.__wrapped__, step, pick[pattern], [x, y])


def test_an_argument_that_fn_also_captures() -> None:
    """fn uses w through its closure and gets an argument; the first call
    happens to pass w itself. A later call with another Value must still use w
    from the closure and the argument where fn uses the argument."""
    w, v = Value(2.0), Value(7.0)

    def f(a):
        return a * w + a

    step = compile(f)
    for arg in (w, v, w, v):
        assert_matches_eager(f, step, (arg,), [w, v])


def test_an_unused_argument_is_not_an_input_and_keeps_its_grad() -> None:
    x, unused = Value(2.0), Value(5.0)
    unused.grad = 7.0
    step = compile(lambda a, b, c: a * c)
    step(x, unused, 4.0).backward()  # the first call: eager's own graph
    out = step(x, unused, 4.0)  # a replay: one node over the inputs backward reaches
    out.backward()
    assert out.data == 8.0 and x.grad == 8.0 and unused.grad == 7.0
    assert list(out.parents) == [x]


def test_fn_returning_an_input_a_captured_value_or_a_constant() -> None:
    w = Value(3.0)
    x = Value(-2.0)
    for fn, args, want, grads in [
        (lambda a: a, (x,), -2.0, {"x": 1.0, "w": 0.0}),
        (lambda a: w, (x,), 3.0, {"x": 0.0, "w": 1.0}),
        (lambda a: Value(4.0), (x,), 4.0, {"x": 0.0, "w": 0.0}),
        (lambda a: Value(a), (1.5,), 1.5, {"x": 0.0, "w": 0.0}),
    ]:
        step = compile(fn)
        for _ in range(2):  # the trace, then a replay
            x.grad = w.grad = 0.0
            out = step(*args)
            assert isinstance(out, Value) and out.data == want
            out.backward()
            assert {"x": x.grad, "w": w.grad} == grads
    x.grad = 0.0
    step = compile(lambda a: a)
    assert step(Value(9.0)).data == 9.0  # a replay reads the new argument
    assert step(x).data == -2.0


def test_results_are_ordinary_nodes_inside_larger_graphs() -> None:
    w = Value(0.75, label="w")
    step = compile(lambda x, y: (x * w - y) * (x * w - y))
    for x, y in [(1.0, 2.0), (3.0, -1.0)]:
        reg = w * w * 0.1
        loss = step(x, y) * 2 + reg
        loss.backward()
        got = w.grad
        w.grad = 0.0
        e = (Value(x) * w - y) * (Value(x) * w - y) * 2 + w * w * 0.1
        e.backward()
        assert math.isclose(got, w.grad, rel_tol=1e-12), (got, w.grad)
        assert math.isclose(loss.data, e.data, rel_tol=1e-12)
        w.grad = 0.0
    a, b = step(1.0, 0.5), step(2.0, 0.5)  # two calls in one graph
    (a + b * 3).backward()
    got = w.grad
    w.grad = 0.0
    ea = (Value(1.0) * w - 0.5) * (Value(1.0) * w - 0.5)
    eb = (Value(2.0) * w - 0.5) * (Value(2.0) * w - 0.5)
    (ea + eb * 3).backward()
    assert math.isclose(got, w.grad, rel_tol=1e-12)


def test_leaf_gradients_accumulate_across_backward_calls() -> None:
    w = Value(1.25)
    step = compile(lambda x: (x * w).sin())
    out = step(0.5)
    out.backward()
    once = w.grad
    out.backward()
    assert w.grad == 2 * once
    step(0.5).backward()
    assert w.grad == 3 * once


def test_detach_inside_fn_reads_the_number_but_passes_no_gradient() -> None:
    w = Value(1.5)

    def f(x):
        h = x * w
        return h * h.detach() + w

    step = compile(f)
    for x in (2.0, -1.0, 0.5):
        assert_matches_eager(f, step, (Value(x),), [w])
    assert step.traces == 1


# --- bad functions and bad arguments ---------------------------------------------------------


@pytest.mark.parametrize("result", [3.0, None, "x", [Value(1.0)], (Value(1.0),)])
def test_fn_returning_a_non_value_is_a_type_error_naming_compile(result) -> None:
    def f(x):
        return result

    step = compile(f)
    for _ in range(2):
        with pytest.raises(TypeError, match=r"autograd\.compile.*f must return a Value"):
            step(1.0)


@pytest.mark.parametrize(
    "bad", ["text", {"a": "b"}, {1.0}, None, object(), [1.0, "x"], ([1.0], [None])],
    ids=["str", "dict-of-str", "set", "None", "object", "list-with-str", "nested-None"],
)
def test_arguments_no_trace_can_take_run_eagerly_with_one_warning(bad) -> None:
    """compile never raises where eager does not: fn gets them, eagerly."""
    seen = []

    def f(x, opt=None):
        seen.append(x)
        return Value(1.0) * 2.0

    step = compile(f)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = [step(bad).data for _ in range(2)]
    assert got == [2.0, 2.0] and seen == [bad, bad] and step.traces == 0
    assert len(caught) == 1 and "runs eagerly" in str(caught[0].message)
    assert "arguments must be numbers" in str(caught[0].message) or "dict" in str(
        caught[0].message)


def test_an_int_too_large_for_a_float_is_eagers_error() -> None:
    """fn runs eagerly on it: the engine's own check names the operand."""
    step = compile(lambda x: Value(1.0) * x)
    with pytest.raises(OverflowError, match=r"operand of '\*'"):
        step(10**400)
    assert step(2).data == 2.0


def test_compiling_a_non_callable_is_a_type_error_naming_compile() -> None:
    with pytest.raises(TypeError, match=r"autograd\.compile: expected a function"):
        compile(3.0)


def test_fn_that_raises_raises_at_every_call_and_keeps_no_trace() -> None:
    @counted
    def f(x):
        raise KeyError("inside fn")

    step = compile(f)
    for n in (1, 2):
        with pytest.raises(KeyError, match="inside fn"):
            step(1.0)
        assert f.calls == 2 * n  # the trace raised, so eager decided: it raised too
    assert step.traces == 0


# --- code that cannot be replayed -----------------------------------------------------------


def test_micrograd_style_nodes_inside_fn_run_eagerly_with_one_warning() -> None:
    w = Value(0.5)

    @counted
    def f(x):
        h = x * w
        t = math.tanh(h.data)  # micrograd's own tanh: a node with a user closure
        out = Value(t, (h,), "tanh")

        def _backward():
            h.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out * 2.0

    step = compile(f)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n, x in enumerate([1.0, -0.5, 2.0], start=1):
            assert_matches_eager(f.__wrapped__, step, (x,), [w])
            assert f.calls == n + 1  # every call runs fn (the first: traced, then eagerly)
    messages = [str(c.message) for c in caught if issubclass(c.category, RuntimeWarning)]
    assert len(messages) == 1, messages
    assert "autograd.compile" in messages[0] and "'tanh'" in messages[0]
    # a Value argument: the eager result still sends its gradient to the argument
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        for x in (1.0, -0.5):
            v = Value(x)
            assert_matches_eager(f.__wrapped__, step, (v,), [w, v])


def test_values_computed_under_no_grad_inside_fn_are_not_frozen() -> None:
    """A node made under no_grad() is a leaf: its dependence on the inputs is
    computed as eagerly but passes no gradient: the Program records the op with
    "no gradient", so a replay recomputes the shift from the new x."""

    def f(x):
        x = x if isinstance(x, Value) else Value(x)
        with no_grad():
            shift = x * 1.0  # a detached max-style shift, PyTorch-style
        return (x - shift).exp() + x * x

    step = compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x in (1.0, 5.0, -2.0):
            assert_matches_eager(f, step, (Value(x),), [])
            assert_matches_eager(f, step, (x,), [])
    assert step.traces == 2  # a Value argument, a number argument
    assert "no gradient" in str(step.program)

    def g(x):  # no_grad inside fn for a number nobody uses: still compiled
        with no_grad():
            _ = x * 3.0
        return x * 2.0

    step = compile(g)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x in (1.0, 4.0):
            assert_matches_eager(g, step, (Value(x),), [])
    assert step.traces == 1


def test_a_compiled_function_called_inside_another() -> None:
    """Inside another trace the inner function runs as plain code (its nodes
    join the outer trace), with number arguments made leaves as usual."""
    w = Value(0.3)

    def inner_fn(a, k):
        k = k if isinstance(k, Value) else Value(k)  # a number reaches fn as a number
        return (a * w).tanh() * k.exp()

    inner = compile(inner_fn)

    def make_outer(inner_call):
        def outer(x):
            return inner_call(x, 0.5) + inner_call(x * x, 1.5) + x

        return outer

    outer = counted(make_outer(inner))
    step = compile(outer)
    for x in (0.5, -1.0, 2.0):
        eager = make_outer(lambda a, k: inner_fn(a, Value(k)))
        assert_matches_eager(eager, step, (Value(x),), [w])
    assert outer.calls == 1
    assert inner.traces == 0  # it ran inside outer's trace, as plain code
    assert "tanh" in step.code and "exp" in step.code


def test_a_compiled_result_made_outside_fn_is_a_captured_input() -> None:
    w = Value(0.8)
    inner = compile(lambda a: (a * w).exp())
    h = inner(0.5)  # a compiled node, made before the outer call

    def outer(x):
        return h * x + w

    step = compile(outer)
    for x in (1.0, 2.0):
        assert_matches_eager(outer, step, (x,), [w])


# --- errors at replay are the eager ones ---------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "trace_at", "replay_at"),
    [
        (lambda x: (x - 1.0).log(), (2.0,), (0.5,)),
        (lambda x: x.log(), (1.0,), (0.0,)),
        (lambda x, y: x / (y - 1.0), (1.0, 3.0), (1.0, 1.0)),
        (lambda x: 1.0 / x, (1.0,), (0.0,)),
        (lambda x: (x * 2.0).exp(), (1.0,), (400.0,)),
        (lambda x: x.sqrt(), (1.0,), (-1.0,)),
        (lambda x, y: x**y, (2.0, 3.0), (-2.0, 3.0)),
        (lambda x: x**0.5, (4.0,), (-4.0,)),
        (lambda x: x**-2.0, (4.0,), (0.0,)),
        (lambda x: x**3.0, (4.0,), (1e200,)),
        (lambda x: autograd.logsumexp([x, x * 2]).log(), (1.0,), (-3.0,)),
        (lambda x: autograd.dot([x, x], [x, 1.0]).log(), (1.0,), (-0.5,)),
    ],
    ids=[
        "log-negative", "log-zero", "div-zero", "rdiv-zero", "exp-overflow", "sqrt-negative",
        "pow-negative-base", "pow-fraction", "pow-zero-negative", "pow-overflow",
        "logsumexp-then-log", "dot-then-log",
    ],
)
def test_errors_at_replay_are_the_eager_errors(fn, trace_at, replay_at) -> None:
    fn = leafy(fn)
    step = compile(fn)
    step(*trace_at).backward()  # traces and replays fine at these numbers
    got = raised(lambda: step(*replay_at))
    want = raised(lambda: fn(*as_leaves(replay_at)))
    assert want is not None
    assert got == want
    # the failed replay leaves the trace usable
    assert math.isclose(step(*trace_at).data, fn(*as_leaves(trace_at)).data, rel_tol=1e-12)


def test_an_infinite_derivative_in_backward_is_the_eager_error() -> None:
    w = Value(4.0)
    step = compile(lambda x: (x * w).sqrt() * 3.0)
    step(Value(1.0)).backward()

    def compiled_then(kind: str):
        x = Value(0.0)
        out = step(x)
        return lambda: out.backward() if kind == "backward" else grad(out, [x, w])

    def eager_then(kind: str):
        x = Value(0.0)
        out = (x * w).sqrt() * 3.0
        return lambda: out.backward() if kind == "backward" else grad(out, [x, w])

    for kind in ("backward", "grad"):
        got, want = raised(compiled_then(kind)), raised(eager_then(kind))
        assert want == ("ZeroDivisionError",
                        "backward of 'sqrt' at (0.0): the derivative 1/(2 sqrt(x)) is "
                        "infinite at x = 0")
        assert got == want, kind
    x = Value(0.0)
    got = raised(lambda: grad(step(x), [x], create_graph=True))
    x2 = Value(0.0)
    want = raised(lambda: grad((x2 * w).sqrt() * 3.0, [x2], create_graph=True))
    assert got == want


# --- modes: no_grad, detect_anomaly, grad(create_graph=True) ------------------------------


def test_no_grad_calls_return_leaves_holding_the_value() -> None:
    w = Value(1.5)
    f = counted(lambda x: x.tanh() * w + x)
    step = compile(f)
    with no_grad():
        first = step(0.5)  # no trace yet: runs fn on a leaf holding 0.5
    assert first.op == "" and first.parents == ()
    assert first.data == f.__wrapped__(Value(0.5)).data
    step(0.5)  # traced now
    calls = f.calls
    with no_grad():
        for x in (0.25, -2.0):
            out = step(x)
            assert out.op == "" and out.parents == ()
            assert math.isclose(out.data, (Value(x).tanh() * w).data + x, rel_tol=1e-12)
    assert f.calls == calls
    out.backward()  # a leaf: only its own grad
    assert w.grad == 0.0 and out.grad == 1.0


def test_detect_anomaly_checks_as_eager_does() -> None:
    w = Value(1.0)
    step = compile(leafy(lambda x: (x * w).log() + x.tanh()))
    step(1.0).backward()  # traced outside anomaly mode
    w.grad = 0.0
    with detect_anomaly():
        ok = step(2.0)  # eager: a graph of the engine's own nodes, checked as built
        assert ok.op == "+"
        ok.backward()
    assert w.grad == 1.0
    inf_step = compile(lambda x: x * w * 1e308)
    inf_step(1.0)
    for arg in (10.0, Value(10.0)):
        with detect_anomaly():
            got = raised(lambda arg=arg: inf_step(arg))
        with detect_anomaly():
            want = raised(lambda arg=arg: as_leaves(arg) * w * 1e308)
        assert got is not None and got[0] == "AnomalyError" and "forward of '*'" in got[1]
        assert got[0] == want[0]
    # 1 / 1e-320 overflows in the backward of log
    with pytest.raises(AnomalyError, match="backward of 'log' gave gradient inf"), detect_anomaly():
        step(Value(1e-320)).backward()


def test_detect_anomaly_blames_a_compiled_node_only_for_what_it_adds() -> None:
    """A stale inf on a parameter's .grad (left by an earlier pass) is not the
    fault of the node being differentiated: eager passes it by, as it should."""
    w = Value(0.5)
    step = compile(lambda a: (a * w).tanh())
    for make in (lambda: (Value(1.0) * w).tanh(), lambda: step(1.0)):
        out = make()
        w.grad = math.inf
        with detect_anomaly():
            out.backward()
        assert w.grad == math.inf


def test_gradcheck_and_micrograd_style_steps_on_compiled_results() -> None:
    w = Value(0.5)
    step = compile(lambda a, b: (a * b * w).tanh() + a.exp())
    assert autograd.gradcheck(step, [0.3, -0.7])
    assert autograd.gradgradcheck(step, [0.3, -0.7])
    x, y = Value(0.2), Value(0.1)
    out = step(x, y)  # a replay (gradcheck made the first call)
    assert out.op == "compiled <lambda>"
    out.grad = 1.0
    out._backward()  # micrograd's one-node step: the compiled call's whole backward
    got = (x.grad, y.grad, w.grad)
    x.grad = y.grad = w.grad = 0.0
    xe, ye = Value(0.2), Value(0.1)
    ((xe * ye * w).tanh() + xe.exp()).backward()
    for a, b in zip(got, (xe.grad, ye.grad, w.grad), strict=True):
        assert math.isclose(a, b, rel_tol=1e-12)


def test_grad_matches_eager_and_leaves_grads_alone() -> None:
    w = Value(0.7)
    step = compile(lambda x, y: (x * y * w).sin() + x * x)
    for x, y in [(0.5, 2.0), (-1.0, 3.0)]:
        xv, yv = Value(x), Value(y)
        got = [g.data for g in grad(step(xv, yv), [xv, yv, w])]
        xe, ye = Value(x), Value(y)
        want = [g.data for g in grad((xe * ye * w).sin() + xe * xe, [xe, ye, w])]
        for a, b in zip(got, want, strict=True):
            assert math.isclose(a, b, rel_tol=1e-12), (got, want)
        assert xv.grad == yv.grad == w.grad == 0.0


def test_create_graph_through_a_compiled_result_gives_second_derivatives() -> None:
    w = Value(0.9)

    def f(x, y):
        h = (x * w + y).tanh()
        return h * h * y + (x * y).exp() * w

    step = compile(f)
    step(Value(0.1), Value(0.2))
    for x, y in [(0.3, -0.4), (1.2, 0.5)]:
        leaves = [Value(x), Value(y), w]
        firsts = grad(step(*leaves[:2]), leaves, create_graph=True)
        got = [[d.data for d in grad(g, leaves)] for g in firsts]
        eager = [Value(x), Value(y), w]
        efirsts = grad(f(*eager[:2]), eager, create_graph=True)
        want = [[d.data for d in grad(g, eager)] for g in efirsts]
        for grow, wrow in zip(got, want, strict=True):
            for a, b in zip(grow, wrow, strict=True):
                assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15), (got, want)


def test_create_graph_when_an_input_depends_on_another_input() -> None:
    """The compiled node's operands can depend on each other: an interior
    argument made from a parameter fn also captures, or one compiled call fed
    into another. grad(create_graph=True) must take each operand's partial
    derivative once, not again through the operand's own graph."""
    w = Value(0.7)
    inner = compile(lambda a: (a * w).tanh())
    outer = compile(lambda b: b * b * w + b.exp())
    both = compile(lambda u: u * w + (u * u).sin())
    pair = compile(lambda a, b: (a * b * w).sin())

    def eager_chain(x):
        b = (x * w).tanh()
        return b * b * w + b.exp()

    cases = [
        (lambda x: outer(inner(x)), eager_chain),
        (lambda x: both(x * w * 2.0), lambda x: (x * w * 2.0) * w + ((x * w * 2.0) ** 2).sin()),
        (lambda x: pair(x, x), lambda x: (x * x * w).sin()),  # one Value as both operands
    ]
    for compiled, eager in cases:
        for v in (0.3, -1.2):
            x, xe = Value(v), Value(v)
            firsts = grad(compiled(x), [x, w], create_graph=True)
            efirsts = grad(eager(xe), [xe, w], create_graph=True)
            plain = grad(compiled(x), [x, w])
            for g, e, p in zip(firsts, efirsts, plain, strict=True):
                assert math.isclose(g.data, e.data, rel_tol=1e-12), (g.data, e.data)
                assert math.isclose(p.data, e.data, rel_tol=1e-12), (p.data, e.data)
            got = [[d.data for d in grad(g, [x, w])] for g in firsts]
            want = [[d.data for d in grad(g, [xe, w])] for g in efirsts]
            for grow, wrow in zip(got, want, strict=True):
                assert grow == pytest.approx(wrow, rel=1e-12), (got, want)


def test_hessian_of_a_compiled_function_matches_eager() -> None:
    def f(a, b):
        return (a * b).sin() + a * a * b

    step = compile(f)
    got = autograd.hessian(step, [0.4, -1.3])
    want = autograd.hessian(f, [0.4, -1.3])
    for grow, wrow in zip(got, want, strict=True):
        assert grow == pytest.approx(wrow, rel=1e-12)


# --- step.code and step.traces -----------------------------------------------------------------


def lecture_step() -> tuple[Callable, list[Value]]:
    ws = [Value(v, label=n) for v, n in [(1.0, "w_x"), (1.0, "w_y"), (2.0, "w_q"), (1.0, "w_z")]]
    wx, wy, wq, wz = ws

    def lecture(x, y, z):
        q = wx * x + wy * y
        q.label = "q"
        f = q * wq + wz * z
        f.label = "f"
        return f

    return lecture, ws


def test_code_is_readable_python_naming_labelled_nodes() -> None:
    lecture, ws = lecture_step()
    step = compile(lecture)
    assert "not been traced" in step.code
    out = step(-3.0, 7.0, -5.0)
    out.backward()
    assert (out.data, *[w.grad for w in ws]) == (3.0, -6.0, 14.0, 4.0, -5.0)
    code = step.code
    tree = ast.parse(code)  # valid Python
    functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert functions == ["forward", "backward"]
    forward, backward = tree.body
    assigned = [
        t.id for node in ast.walk(forward) if isinstance(node, ast.Assign)
        for t in node.targets if isinstance(t, ast.Name)
    ]
    for name in ("x", "y", "z", "w_x", "w_y", "w_q", "w_z", "q", "f"):
        assert name in assigned, (name, code)
    # one statement per labelled node (q, f); the unlabelled products, which
    # backward does not read and one node uses, fold into their sum
    node_lines = [ln.strip() for ln in code.splitlines() if "=" in ln and ("*" in ln or "+" in ln)
                  and "def " not in ln and "grad" not in ln and "d_" not in ln]
    assert node_lines == ["q = (w_x * x) + (w_y * y)", "f = (q * w_q) + (w_z * z)"], code
    assert "return f," in code
    grads_written = [ln.strip() for ln in code.splitlines() if ".grad +=" in ln]
    assert len(grads_written) == 4
    assert code.index("def forward") < code.index("def backward")
    # fn's name is never written into the source (a name is user text)
    assert code.startswith("# autograd.compile: 6 equations, 4 inputs")


def test_code_stays_valid_whatever_the_labels() -> None:
    """Labels that are keywords, builtins, generated names or not identifiers
    at all must not break the generated code or shadow what it uses."""
    labels = ["lambda", "g", "tape", "ins", "nums", "abs", "tanh", "math", "d_x", "k_x",
              "t0_v1", "t1", "w x", "", "v1", "x", "x", "_same_float", "None", "forward"]

    def f(a):
        nodes = [a]
        for i, label in enumerate(labels):
            prev = nodes[-1]
            n = (prev * 1.1 + nodes[i // 2]).tanh() if i % 3 else prev**2.0 + a
            n.label = label
            nodes.append(n)
        return autograd.sum(nodes) * nodes[3]

    step = compile(f)
    for v in (0.5, -0.3, 1.7):
        assert_matches_eager(f, step, (Value(v),), [])
        xs = Value(v)
        got = grad(step(xs), [xs])[0].data
        xe = Value(v)
        want = grad(f(xe), [xe])[0].data
        assert math.isclose(got, want, rel_tol=1e-12), (got, want)
    ast.parse(step.code)


def test_labels_python_reads_as_the_same_name_do_not_collide() -> None:
    """Python normalises identifiers (NFKC): the fullwidth "ｇ" is g, the
    backward pass's incoming gradient, and the ligature "ﬁ" is "fi"."""

    def f(x):
        a = x * 3.0
        a.label = "ｇ"
        b = (a * x).tanh()
        b.label = "fi"
        c = b * 2.0 + a
        c.label = "ﬁ"
        d = c * b
        d.label = "θ"  # an ordinary Greek label stays as it is
        return d

    step = compile(f)
    for v in (0.4, -1.3):
        assert_matches_eager(f, step, (Value(v),), [])
        x, xe = Value(v), Value(v)
        assert math.isclose(grad(step(x), [x])[0].data, grad(f(xe), [xe])[0].data,
                            rel_tol=1e-12)
    assert "θ = " in step.code


def test_code_shows_guards_and_the_latest_trace() -> None:
    step = compile(leafy(lambda x: x.exp() if x > 0 else x * x))
    step(1.0)
    assert "exp" in step.code and "guard" in step.code
    step(-1.0)
    assert step.traces == 2 and "exp" not in step.code and "guard" in step.code
    assert "2 traces" in repr(step)


# --- sums longer than one generated line ------------------------------------------------------


@pytest.mark.parametrize("n", [63, 64, 65, 130, 300])
def test_long_sums_and_dots_add_in_the_eager_order(n) -> None:
    """A sum is added left to right, so cancellation rounds the same way: with
    1e16 early and -1e16 late, the unit terms between them are lost in both."""
    terms = [0.0] * n
    terms[0], terms[-1] = 1e16, -1e16
    for i in range(1, n - 1, 2):
        terms[i] = 1.0
    step_sum = compile(lambda xs: autograd.sum(xs))
    step_dot = compile(lambda xs: autograd.dot(xs, [1.0] * len(xs), bias=0.5))
    for _ in range(2):
        assert step_sum(terms).data == autograd.sum([Value(t) for t in terms]).data
        want = autograd.dot([Value(t) for t in terms], [1.0] * n, bias=0.5).data
        assert step_dot(terms).data == want


def test_a_long_sum_of_shared_nodes_backpropagates_like_eager() -> None:
    w = Value(0.5)

    def f(xs):
        hs = [(x * w).tanh() for x in xs]
        return autograd.sum(hs + hs) + autograd.dot(hs, xs)

    step = compile(f)
    xs = [0.01 * k - 1.0 for k in range(200)]
    assert_matches_eager(f, step, (xs,), [w])


# --- threads and memory ---------------------------------------------------------------------


def test_one_compiled_function_called_from_many_threads_at_once() -> None:
    w = Value(0.6)
    f = counted(lambda x, v: (x * w).tanh() * v + (v if v > 0 else -v))
    step = compile(f)
    threads_n, rounds = 4, 150
    barrier = threading.Barrier(threads_n, timeout=30)
    errors: list[str] = []

    def worker(t: int) -> None:
        try:
            for r in range(rounds):
                barrier.wait()  # every thread calls at the same moment
                x = 0.01 * r - 0.7 * t
                v = Value(((-1) ** (r + t)) * (0.5 + t))  # both paths, from all threads
                out = step(x, v)
                xv, ve = Value(x), Value(v.data)
                want = f.__wrapped__(xv, ve)
                gv = grad(out, [v])[0].data
                gw = grad(want, [ve])[0].data
                if not (math.isclose(out.data, want.data, rel_tol=1e-12)
                        and math.isclose(gv, gw, rel_tol=1e-12)):
                    errors.append(f"thread {t} round {r}: {out.data} {want.data} {gv} {gw}")
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(repr(err))
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[:5]
    assert 2 <= step.traces <= 2 * threads_n  # two paths, each traced at most once per thread
    assert f.calls == step.traces


def test_replays_allocate_nothing_that_stays() -> None:
    """10^4 replays (call, backward, read the gradient) leave memory where it was."""
    w = Value(0.5)
    step = compile(lambda x, y: autograd.dot([x, y], [w, w]).tanh() * w + y)
    step(0.1, 0.2).backward()  # trace and warm every cache first
    for _ in range(200):
        step(0.3, 0.4).backward()
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        sizes = []
        for _block in range(5):
            for i in range(2_000):
                step(0.001 * i, 0.5).backward()
            sizes.append(tracemalloc.get_traced_memory()[0] - base)
    finally:
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
    # no per-call growth: 10^4 calls. What stays is bounded: CPython keeps up to
    # 2,000 freed tuples of each length for reuse (the tapes), about 110 KB here.
    assert max(sizes) < 192 * 1024, sizes
    assert sizes[-1] - sizes[0] < 8 * 1024, sizes
    assert step.traces == 1


def test_folded_expressions_stay_shallow_on_long_chains() -> None:
    """Unlabelled values backward never reads (the results of +, -, neg) fold into
    their consumer's expression; a chain thousands long must still give Python
    code its parser accepts, and the eager numbers."""
    w = Value(0.5)

    def chain(x):
        y = x
        for i in range(3000):
            y = -(y + w) if i % 3 else y - 0.25
        return y

    step = compile(chain)
    out = step(1.0)
    out.backward()
    w2 = Value(0.5)  # the same chain, eagerly
    y = Value(1.0)
    for i in range(3000):
        y = -(y + w2) if i % 3 else y - 0.25
    y.backward()
    assert out.data == y.data and w.grad == w2.grad
    assert max(len(line) - len(line.lstrip("(")) for line in step.code.splitlines()) < 200
