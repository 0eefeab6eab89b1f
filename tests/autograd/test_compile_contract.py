"""autograd.compile's contract, one test per category of what a trace cannot see.

Every check compares a compiled call with eager ``fn`` on the same arguments,
values and gradients with ``==`` (NaN equal to NaN): compiled code performs the
same float operations in the same order, so any difference is a bug.
"""

from __future__ import annotations

import collections
import copy
import gc
import os
import pickle
import threading
import warnings
import weakref

import pytest

import autograd
from autograd import Constant, Value, compile
from autograd.compile import passes
from autograd.compile.program import EQN

pytestmark = pytest.mark.usefixtures("replay_backend")  # walked and generated replays

THRESHOLD = 0.5  # a module global fn reads: guarded


def same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def both(fn, make_args, watched_names=None):
    """(value, grads) compiled and eagerly, from fresh arguments each time."""
    out = []
    for runner in ("compiled", "eager"):
        args, watched = make_args()
        step_out = STEP[0](*args) if runner == "compiled" else fn(*args)
        step_out.backward()
        out.append((step_out.data, [w.grad for w in watched]))
    return out


STEP: list = [None]


def check(fn, step, make_args) -> None:
    STEP[0] = step
    (cv, cg), (ev, eg) = both(fn, make_args)
    assert same(cv, ev), (cv, ev)
    assert all(same(a, b) for a, b in zip(cg, eg, strict=True)), (cg, eg)


# --- exceptions raised while tracing, caught or not ------------------------------------------


def test_a_caught_exception_makes_fn_run_eagerly_with_one_warning() -> None:
    def f(x):
        try:
            return x.log()
        except ValueError:
            return x * 2.0

    step = compile(f)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for v in (2.0, -0.5, 3.0, -1.0):
            check(f, step, lambda v=v: ((x := Value(v)),) and ((x,), [x]))
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "caught" in messages[0], messages


def test_an_unused_node_still_raises_its_forward_error() -> None:
    def f(x):
        (x - 1.0).log()  # unused, but eager computes it
        return x * 3.0

    step = compile(f)
    step(Value(2.0))
    with pytest.raises(ValueError, match="log"):
        step(Value(0.5))
    assert step(Value(4.0)).data == 12.0


# --- number arguments --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["eq", "in", "get", "pow-negative-base", "index", "slope"])
def test_number_arguments_reach_fn_as_numbers(name) -> None:
    table = {1: 2.0, 2: -3.0}
    xs = [Value(0.5), Value(-1.5), Value(2.5)]
    fns = {
        "eq": lambda x, n: x * 2.0 if n == 0 else x * n,
        "in": lambda x, n: x * 2.0 if n in (1, 2) else x - n,
        "get": lambda x, n: x * table.get(n, 7.0),
        "pow-negative-base": lambda x, n: (x - 3.0) ** n,
        "index": lambda x, n: x * xs[n],
        "slope": lambda x, n: (x - 1.0).leaky_relu(n),
    }
    fn = fns[name]
    step = compile(fn)
    ns = [0, 1, 2, 1, 0, 2] if name in ("eq", "in", "get", "index", "pow-negative-base") else [
        0.1, 0.2, 0.1]
    for n in ns:
        for w in xs:
            w.grad = 0.0
        check(fn, step, lambda n=n: ((x := Value(0.75)), n, [setattr(w, "grad", 0.0)
                                                          for w in xs]) and ((x, n), [x, *xs]))


def test_a_number_used_as_an_operand_is_not_specialised() -> None:
    step = compile(lambda x, n: x * n + n)
    for n in (1.0, 2.5, -3.0, 7):
        x = Value(2.0)
        assert step(x, n).data == 2.0 * n + n
    assert step.traces == 2  # an int and a float are different argument types


# --- sums and the order of gradient contributions ---------------------------------------------


def test_sums_and_dots_call_the_same_builtin_as_eager() -> None:
    f = lambda xs: autograd.sum(xs)  # noqa: E731
    g = lambda xs: autograd.dot(xs, [1.0, 1.0, 1.0])  # noqa: E731
    for fn in (f, g):
        step = compile(fn)
        for terms in ([1e16, 1.0, -1e16], [1.0, 1e100, 1.0], [0.1, 0.2, 0.3]):
            assert step(terms).data == fn(terms).data


def test_backward_adds_contributions_in_the_engines_order() -> None:
    def f(x):
        return x * 1.0 + x * 1e16 + x * -1e16

    step = compile(f)
    for start in (0.0, 1.0, -0.0):
        check(f, step,
              lambda s=start: ((x := Value(3.0)),) and setattr(x, "grad", s) or ((x,), [x]))


# --- every way a number leaves a Value --------------------------------------------------------


@pytest.mark.parametrize("read", ["str", "repr", "fstring", "format"])
def test_text_of_a_value_is_guarded(read) -> None:
    readers = {"str": str, "repr": repr, "fstring": lambda v: f"{v}", "format": format}

    def f(x):
        y = x * 2.0
        return y * 3.0 if "4.0" in readers[read](y) else y

    step = compile(f)
    for v in (2.0, 1.0, 2.0, 5.0):
        check(f, step, lambda v=v: ((x := Value(v)),) and ((x,), [x]))


@pytest.mark.parametrize("whose", ["argument", "node"])
def test_reading_data_is_guarded(whose) -> None:
    """``.data`` of an argument or of a node fn made is a number leaving the engine:
    another number takes another path (it once froze into the trace)."""

    def f(x):
        y = x if whose == "argument" else (x * 2.0).tanh()
        return x * 2.0 if f"{y.data:.1f}".startswith(("1", "0.9")) else x * 3.0

    step = compile(f)
    for v in (1.0, 2.0, 1.0, -1.0, 2.0):
        check(f, step, lambda v=v: ((x := Value(v)),) and ((x,), [x]))
    assert step.traces == 3  # one per number read (1, 2, -1); repeats replay
    assert "guard float(" in str(step.program)
    out = step(Value(1.0))
    assert type(out) is Value  # the watched class of a trace never reaches the user


def test_the_engines_own_reads_of_data_are_not_guards() -> None:
    step = compile(lambda x, w: autograd.dot([w, w], [x, x]).tanh() * x)
    step(Value(0.3), Value(0.5))
    step(Value(0.4), Value(-0.5))
    assert step.traces == 1
    assert "guard" not in str(step.program)


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy])
def test_copying_a_value_inside_fn_runs_eagerly(copier) -> None:
    def f(x):
        return copier(x * 2.0) * x

    step = compile(f)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for v in (2.0, 3.0):
            check(f, step, lambda v=v: ((x := Value(v)),) and ((x,), [x]))
    assert len(caught) == 1 and "copies" in str(caught[0].message)


# --- aliasing and argument types ----------------------------------------------------------------


def test_the_same_value_twice_and_identity_tests() -> None:
    def f(a, b):
        return a * 2.0 if a is b else a * b

    step = compile(f)
    x, y = Value(3.0), Value(4.0)
    for pair in ((x, x), (x, y), (y, y), (y, x)):
        check(f, step, lambda p=pair: (setattr(x, "grad", 0.0), setattr(y, "grad", 0.0))
              and (p, [x, y]))


def test_a_constant_and_a_value_argument_are_different_types() -> None:
    step = compile(lambda x, e: x**e)
    base = Value(2.0)
    assert step(base, Constant(3.0)).data == 8.0
    out = step(base, Value(3.0))
    out.backward()
    assert step.traces == 2 and base.grad == 12.0


def test_namedtuples_dicts_and_keyword_arguments() -> None:
    Pair = collections.namedtuple("Pair", "a b")

    def f(p, *, scale, extra):
        assert isinstance(p, Pair)
        return p.a * p.b * scale + extra["k"]

    step = compile(f)
    for s in (2.0, 3.0):
        x = Value(1.5)
        got = step(Pair(x, 2.0), scale=s, extra={"k": Value(1.0)})
        assert got.data == f(Pair(x, 2.0), scale=s, extra={"k": Value(1.0)}).data
    assert step.traces == 1


def test_numpy_arrays_and_scalars_are_lists_and_numbers() -> None:
    np = pytest.importorskip("numpy")
    w = Value(0.5)
    fn = lambda xs, c: autograd.dot([w, w], xs) * c  # noqa: E731
    step = compile(fn)
    assert step(np.array([1.0, 2.0]), np.float64(2.0)).data == fn([1.0, 2.0], 2.0).data
    assert step(np.array([3.0, 4.0]), np.float64(0.5)).data == fn([3.0, 4.0], 0.5).data


# --- numbers fn reads from its closure and its module ------------------------------------------


def test_closure_and_global_numbers_are_guarded() -> None:
    global THRESHOLD
    weight = 0.1

    def f(x):
        return x * weight + (x if x > THRESHOLD else -x)

    step = compile(f)
    try:
        for w_, t in ((0.1, 0.5), (0.2, 0.5), (0.2, 5.0), (0.1, 0.5)):
            weight, THRESHOLD = w_, t
            x = Value(1.0)
            assert step(x).data == f(Value(1.0)).data
    finally:
        THRESHOLD = 0.5
    assert step.traces == 3


# --- generated source: no user text is executed --------------------------------------------------


def test_a_function_name_or_guard_text_is_never_executed(tmp_path) -> None:
    marker = tmp_path / "ran"

    def f(x):
        return x * 2.0 if "nope" not in repr(x) else x

    f.__name__ = f"f\nimport os; os.system('touch {marker}')\n"
    step = compile(f)
    x = Value(1.0, label=f"x')\nos.system('touch {marker}')#")
    step(x)
    step(Value(2.0, label="z\n__import__('os')"))
    assert not marker.exists()
    assert os.linesep not in step.code.splitlines()[0]


@pytest.mark.parametrize(
    "label", ["abs", "__debug__", "lambda", "sum", "g", "ins", "d_x", "not a name", "ﬁ", "x.y", ""]
)
def test_any_label_gives_valid_code(label) -> None:
    def f(x):
        y = x * 2.0
        y.label = label
        z = abs(y) + y
        z.label = label
        return z.tanh()

    step = compile(f)
    check(f, step, lambda: ((x := Value(-0.5)),) and ((x,), [x]))
    compile_ok = __builtins__["compile"] if isinstance(__builtins__, dict) else __builtins__.compile
    compile_ok(step.code, "generated", "exec")


# --- threads, pickling, memory -------------------------------------------------------------------


def test_twelve_threads_making_the_first_call_trace_once() -> None:
    w = Value(0.5)
    step = compile(lambda x: (x * w).tanh() * w)
    barrier = threading.Barrier(12)
    results, errors = [], []

    def call() -> None:
        try:
            barrier.wait()
            results.append(step(0.3).data)
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        threads = [threading.Thread(target=call) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors and step.traces == 1 and len(set(results)) == 1


def _module_fn(x):
    return x * x + 1.0


def test_a_compiled_function_pickles_and_deep_copies() -> None:
    step = compile(_module_fn)
    step(Value(2.0))
    for other in (pickle.loads(pickle.dumps(step)), copy.deepcopy(step)):
        assert other.traces == 0
        x = Value(3.0)
        out = other(x)
        out.backward()
        assert out.data == 10.0 and x.grad == 6.0 and other.traces == 1


def test_a_backward_error_leaves_the_grads_eager_leaves() -> None:
    def f(x, y):
        return x * 3.0 + y.sqrt() * 2.0 + x * y

    step = compile(f)
    step(Value(1.0), Value(4.0)).backward()
    grads = []
    for runner in (step, f):
        x, y = Value(2.0), Value(0.0)
        out = runner(x, y)
        with pytest.raises(ZeroDivisionError):
            out.backward()
        grads.append((x.grad, y.grad))
    assert grads[0] == grads[1]


def test_a_trace_keeps_neither_the_graph_nor_the_arguments_alive() -> None:
    w = Value(0.5)
    step = compile(lambda x, y: autograd.sum([(x * w).tanh(), y * w, x * y]))
    x, y = Value(1.0), Value(2.0)
    refs = [weakref.ref(x), weakref.ref(y)]
    step(x, y).backward()
    del x, y
    gc.collect()
    assert all(r() is None for r in refs)
    live = sum(isinstance(o, Value) for o in gc.get_objects())
    step(Value(3.0), Value(4.0)).backward()
    gc.collect()
    assert sum(isinstance(o, Value) for o in gc.get_objects()) <= live


# --- the Program and its passes ------------------------------------------------------------------


def test_the_program_prints_one_equation_per_line_with_its_guards() -> None:
    def f(x, y):
        q = x * y
        q.label = "q"
        return q.exp() if q > 0 else q * q

    step = compile(f)
    step(Value(1.0), Value(2.0))
    text = str(step.program)
    lines = text.splitlines()
    assert any(line.strip().startswith("q = ") for line in lines), text
    assert any(line.strip().startswith("guard (q > 0") for line in lines), text
    assert sum(" = " in line for line in lines) == len(step.program.eqns)


def test_prune_keeps_what_can_raise_and_backward_order_is_the_engines() -> None:
    def f(x):
        unused_safe = x * 5.0  # noqa: F841 - pruned: cannot raise
        unused_log = (x - 0.5).log()  # noqa: F841 - kept: can raise
        return x * 1.0 + x * 2.0

    step = compile(f)
    step(Value(1.0))
    p = step.program
    assert [e.op.name for e in p.eqns] == ["-", "log", "*", "*", "+"]
    order = passes.backward_order(p)
    assert [p.eqns[i].op.name for i in order] == ["+", "*", "*"]
    assert all(p.kinds[p.eqns[i].out][0] == EQN for i in order)


# --- programs too big to compile are walked, with the same numbers -----------------------------


def test_a_walked_program_gives_eagers_numbers_and_code_on_demand(monkeypatch) -> None:
    import sys

    monkeypatch.setattr(sys.modules["autograd.compile"], "INTERPRET_ABOVE", 0)
    w = Value(0.7)

    def f(x, xs, n):
        y = autograd.dot(xs, [w, w], bias=x) * n
        z = y.tanh() + x * 1e16 + x * -1e16 + autograd.maximum([y, x, w])
        return z * 2.0 if z > 0 else (z - 1.0).exp()

    step = compile(f)
    for v in (0.5, -2.0, 0.25, -3.0):
        check(f, step, lambda v=v: setattr(w, "grad", 0.0) or (
            ((x := Value(v)), [Value(v * 2), Value(-v)], 3.0), [x, w]))
    assert "walking its equations" in step.code and "def backward" in step.code


@pytest.mark.skipif(not hasattr(__import__("sys"), "monitoring"), reason="Python 3.12+")
def test_any_exception_fn_catches_while_traced_makes_it_run_eagerly() -> None:
    table = {}

    def f(x):
        try:
            return x * table[x]  # a stand-in is not the key: KeyError, caught
        except KeyError:
            return x * 2.0

    step = compile(f)
    x = Value(3.0)
    table[x] = 5.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert step(x).data == f(x).data == 15.0
    assert len(caught) == 1 and "caught a KeyError" in str(caught[0].message)


def test_fn_changing_a_value_it_branches_on_runs_eagerly_with_a_warning() -> None:
    state = Value(1.0)

    def flips(x):
        out = x * 2.0 if state > 0 else x * 3.0
        state.data = -state.data
        return out

    step = compile(flips)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = [step(Value(1.0)).data for _ in range(3)]
    assert len(caught) == 1 and "changed a number it reads" in str(caught[0].message)
    # the first call is the traced one, which is eager's (fn ran once: one flip);
    # eagerly from then on, flipping as eager code does
    assert got == [2.0, 3.0, 2.0] and state.data == -1.0


def test_the_printed_program_uses_labels_the_code_cannot() -> None:
    """``d``, ``g`` and ``sum`` name values in generated code, so the code names
    such nodes otherwise; a printed Program has no code to clash with."""
    def f(x, w):
        d = x * w
        d.label = "d"
        g = d + w
        g.label = "g"
        s = autograd.sum([g, d])
        s.label = "sum"
        return s

    step = compile(f)
    step(Value(1.0), Value(2.0))
    lines = [line.strip() for line in str(step.program).splitlines()]
    assert lines[1].startswith("d = x * w") or lines[1].startswith("d = "), lines
    assert lines[2].startswith("g = d + ") and lines[3] == "sum = sum(g, d)", lines
    code = step.code
    assert "\n    d = " not in code and "\n    g = " not in code  # never the code's own names
