"""step.map: one compiled function over a batch, against the eager loop.

The reference is always ``autograd.sum([fn(*a) for a in batch])`` (divided by
the batch's length for "mean"), run eagerly: its value and the gradients it
leaves, to 1e-12 relative to the size of the per-example terms; or the
exception the loop raises first, which map must raise with the same type,
naming that example's index.
"""

from __future__ import annotations

import math
import random
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value

pytest.importorskip("numpy")

RTOL = 1e-12


def close(a: float, b: float, scale: float = 0.0) -> bool:
    if b != b:
        return a != a
    if math.isinf(b):
        return a == b
    return abs(a - b) <= RTOL * (abs(b) + scale) + 1e-300


def eager_loop(fn, params, batch, reduce):
    """(value, grads, scale) of the eager loop, or (the exception, its index)."""
    for p in params:
        p.grad = 0.0
    outs = []
    for i, a in enumerate(batch):
        try:
            outs.append(fn(*a))
        except Exception as err:  # noqa: BLE001 - the reference's own error
            return err, i
    if reduce is None:
        return [o.data for o in outs], None, 0.0
    total = autograd.sum(outs)
    if reduce == "mean":
        total = total / len(batch)
    try:
        total.backward()
    except Exception as err:  # noqa: BLE001
        return err, None
    grads = [p.grad for p in params]
    scale = sum(abs(o.data) for o in outs if math.isfinite(o.data))
    return total.data, grads, scale


def run_map(step, params, batch, reduce):
    for p in params:
        p.grad = 0.0
    try:
        out = step.map(batch, reduce=reduce)
    except Exception as err:  # noqa: BLE001
        return err, "map"
    if reduce is None:
        return out, None
    try:
        out.backward()
    except Exception as err:  # noqa: BLE001
        return err, "backward"
    return out.data, [p.grad for p in params]


def check_same(fn, params, batch, reduce):
    step = autograd.compile(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = eager_loop(fn, params, batch, reduce)
        got = run_map(step, params, batch, reduce)
    if isinstance(want[0], Exception):
        err, index = want
        assert isinstance(got[0], Exception), f"eager raised {err!r}, map gave {got[0]!r}"
        assert type(got[0]) is type(err)
        if index is not None:
            assert f"example {index} " in str(got[0])
        return
    assert not isinstance(got[0], Exception), f"map raised {got[0]!r}"
    value, grads, scale = want
    if reduce is None:
        assert len(got[0]) == len(value)
        for a, b in zip(got[0], value, strict=True):
            assert close(a, b), (a, b)
        return
    assert close(got[0], value, scale), (got[0], value)
    grad_scale = sum(abs(g) for g in grads if math.isfinite(g)) + scale
    for a, b in zip(got[1], grads, strict=True):
        assert close(a, b, grad_scale), (a, b)


# --- a small model ------------------------------------------------------------------


def test_mlp_mean_sum_and_values_match_the_eager_loop():
    import nn

    random.seed(3)
    model = nn.MLP(2, [8, 8, 1])
    params = model.parameters()

    def example(x, y):
        return (1 - y * model(x)).relu() + 1e-4 * autograd.dot(params, params)

    batch = [([random.uniform(-2, 2), random.uniform(-2, 2)], random.choice([-1.0, 1.0]))
             for _ in range(64)]
    for reduce in ("mean", "sum", None):
        check_same(example, params, batch, reduce)


def test_map_node_backward_accumulates_and_works_under_no_grad():
    w = Value(2.0)

    def f(x):
        return w * x * x

    step = autograd.compile(f)
    batch = [(1.0,), (2.0,), (3.0,)]
    step.map(batch, reduce="sum").backward()
    step.map(batch, reduce="sum").backward()
    assert w.grad == pytest.approx(2 * (1 + 4 + 9), rel=1e-12)
    with autograd.no_grad():
        out = step.map(batch, reduce="mean")
    assert out.data == pytest.approx(2 * 14 / 3, rel=1e-12)


def test_bad_reduce_and_empty_batch_are_named():
    step = autograd.compile(lambda x: Value(1.0) * x)
    with pytest.raises(ValueError, match="reduce"):
        step.map([(1.0,)], reduce="max")
    with pytest.raises(ValueError, match="empty"):
        step.map([], reduce="mean")


def test_value_arguments_get_their_own_gradients():
    w = Value(0.5)

    def f(v):
        return (w * v).tanh()

    xs = [Value(x) for x in (-1.0, 0.25, 3.0)]
    out = autograd.compile(f).map([(v,) for v in xs], reduce="sum")
    out.backward()
    for v in xs:
        t = math.tanh(0.5 * v.data)
        assert v.grad == pytest.approx(0.5 * (1 - t * t), rel=1e-12)


def test_paths_are_grouped_and_a_new_path_is_traced_once():
    w = Value(1.5)

    def f(x):
        h = w * x
        return h * h if h > 0 else -h

    step = autograd.compile(f)
    batch = [(x,) for x in (-2.0, 1.0, -1.0, 3.0, 0.5, -0.5)]
    check_same(f, [w], batch, "mean")
    step.map(batch, reduce="mean")
    assert step.traces == 2


def test_the_lowest_raising_index_is_named():
    w = Value(1.0)

    def f(x):
        return (w * x).log()

    batch = [(1.0,), (2.0,), (-3.0,), (0.0,), (4.0,)]
    with pytest.raises(ValueError, match="example 2 "):
        autograd.compile(f).map(batch, reduce="mean")


# --- random programs with branches ---------------------------------------------------

STEP = st.one_of(
    st.tuples(st.sampled_from(["+", "*", "-", "/"]), st.integers(0, 20), st.integers(0, 20)),
    st.tuples(st.sampled_from(["tanh", "exp", "relu", "sigmoid", "abs", "log", "sqrt",
                               "softplus", "sin"]), st.integers(0, 20)),
    st.tuples(st.just("branch"), st.integers(0, 20), st.floats(-2, 2), st.integers(0, 20)),
    st.tuples(st.just("square"), st.integers(0, 20)),
    st.tuples(st.sampled_from(["sum", "max", "logsumexp"]),
              st.lists(st.integers(0, 20), min_size=1, max_size=4)),
    st.tuples(st.just("dot"), st.lists(st.integers(0, 20), min_size=2, max_size=4)),
)
ROW = st.tuples(st.floats(-3, 3), st.lists(st.floats(-3, 3), min_size=2, max_size=2))
EDGY = st.sampled_from([0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, 800.0])


def make_fn(steps: list, params: list):
    def fn(x, xs):
        # Values that differ per example (numbers met with parameters), the
        # parameters themselves, and one raw number
        pool = [params[0] * x, xs[0] * params[1], params[1] - xs[1], *params, x]
        for s in steps:
            kind = s[0]
            a = pool[s[1] % len(pool)] if isinstance(s[1], int) else None
            if kind in ("+", "*", "-", "/"):
                b = pool[s[2] % len(pool)]
                y = a + b if kind == "+" else a * b if kind == "*" else (
                    a - b if kind == "-" else a / b)
            elif kind == "branch":
                y = a * 2.0 if a > s[2] else pool[s[3] % len(pool)] - a
            elif kind == "square":
                y = a**2
            elif kind in ("sum", "max", "logsumexp"):
                y = getattr(autograd, kind)([pool[i % len(pool)] for i in s[1]])
            elif kind == "dot":
                picked = [pool[i % len(pool)] for i in s[1]]
                half = len(picked) // 2
                y = autograd.dot(picked[:half], picked[half : 2 * half])
            else:
                y = getattr(a, kind)()
            pool.append(y)
        out = pool[-1]
        return out if isinstance(out, Value) else params[0] * out

    return fn


@settings(deadline=None)
@given(
    steps=st.lists(STEP, min_size=1, max_size=10),
    rows=st.lists(ROW, min_size=1, max_size=12),
    edgy=st.lists(st.tuples(st.integers(0, 11), EDGY), max_size=2),
    reduce=st.sampled_from(["mean", "sum", None]),
    p=st.floats(-2, 2),
    q=st.floats(-2, 2),
)
def test_random_programs_map_like_the_eager_loop(steps, rows, edgy, reduce, p, q):
    rows = [(x, list(xs)) for x, xs in rows]
    for i, v in edgy:
        if i < len(rows):
            rows[i] = (v, rows[i][1])
    params = [Value(p), Value(q)]
    fn = make_fn(steps, params)
    check_same(fn, params, rows, reduce)


# --- every op of the table at its edges ------------------------------------------------

EDGES = [0.0, -0.0, 0.5, -0.5, 0.75, -0.75, 1.0, -1.0, 2.0, -2.0, 1e-300, -1e-300, 30.0,
         -30.0, 700.0, -700.0, 710.0, -710.0, 1e308, -1e308, math.inf, -math.inf, math.nan]
UNARY = ["neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "softplus", "relu", "sin",
         "cos", "step", "sign"]


def _unary(name: str):
    if name == "neg":
        return lambda v: -v
    if name == "abs":
        return abs
    return lambda v: getattr(v, name)()


def _per_example(fn, batch):
    """Eager per example: (value, gradient of each Value argument) or the exception."""
    out = []
    for a in batch:
        vs = [Value(x) for x in a]
        try:
            r = fn(*vs)
        except Exception as err:  # noqa: BLE001
            err.at = "forward"
            out.append(err)
            continue
        try:
            r.backward()
        except Exception as err:  # noqa: BLE001
            err.at = "backward"
            out.append(err)
            continue
        out.append((r.data, [v.grad for v in vs]))
    return out


def _check_edges(fn, batch):
    want = _per_example(fn, batch)
    fine = [a for a, w in zip(batch, want, strict=True) if not isinstance(w, Exception)]
    ok = [w for w in want if not isinstance(w, Exception)]
    step = autograd.compile(fn)
    if fine:
        args = [tuple(Value(x) for x in a) for a in fine]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            step.map(args, reduce="sum").backward()
        for a, (_value, grads) in zip(args, ok, strict=True):
            for v, g in zip(a, grads, strict=True):
                assert close(v.grad, g), (fn, [x.data for x in a], v.grad, g)
        values = step.map([tuple(Value(x) for x in a) for a in fine], reduce=None)
        for got, (value, _) in zip(values, ok, strict=True):
            assert close(got, value), (got, value)
    for a, w in zip(batch, want, strict=True):
        if isinstance(w, Exception):
            args = [tuple(Value(x) for x in b) for b in fine[:3]] + [tuple(Value(x) for x in a)]
            where = f"example {len(args) - 1} " if w.at == "forward" else None
            with pytest.raises(type(w), match=where), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                step.map(args, reduce="sum").backward()


@pytest.mark.parametrize("name", UNARY)
def test_every_unary_op_at_its_edges(name):
    _check_edges(_unary(name), [(x,) for x in EDGES])


@pytest.mark.parametrize("make", [
    lambda v: v.leaky_relu(0.1), lambda v: v.elu(1.0), lambda v: v.hardtanh(-1.0, 1.0),
])
def test_parametrised_unary_ops_at_their_edges(make):
    _check_edges(make, [(x,) for x in EDGES])


PAIRS = [(a, b) for a in (0.0, -0.0, 2.0, -2.0, 0.5, 1e300, math.inf, -math.inf, math.nan)
         for b in (0.0, 1.0, -1.0, 0.5, 3.0, 1000.0, -1000.0, math.inf, math.nan)]


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**", "prelu", "**n"])
def test_every_binary_op_at_its_edges(op):
    fn = {
        "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
        "/": lambda a, b: a / b, "**": lambda a, b: a**b, "prelu": lambda a, b: a.prelu(b),
    }.get(op)
    if op == "**n":
        for n in (2.0, 0.5, -1.0, 3.0, 0.0, -0.5):
            _check_edges(lambda a, n=n: a**n, [(x,) for x in EDGES])
        return
    _check_edges(fn, PAIRS)


@pytest.mark.parametrize("name", ["sum", "max", "logsumexp", "dot"])
def test_every_nary_op_at_its_edges(name):
    def fn(a, b, c):
        if name == "dot":
            return autograd.dot([a, b], [c, a])
        return getattr(autograd, name)([a, b, c])

    triples = [(a, b, c) for a in (0.0, 1.0, -3.0, math.inf, math.nan, 800.0)
               for b in (1.0, -1.0, -math.inf, 800.0) for c in (0.5, math.nan, -800.0)]
    _check_edges(fn, triples)


def test_stable_shifts_keep_their_digits_in_the_tails():
    """logsumexp, softplus and sigmoid far from 0: finite where a naive form overflows."""
    w = Value(1.0)
    step = autograd.compile(lambda x: autograd.logsumexp([w * x, w * x * 0.5]).softplus()
                            + (w * x).sigmoid())
    batch = [(x,) for x in (-1000.0, -40.0, 40.0, 1000.0)]
    check_same(step.fn, [w], batch, "sum")
    assert all(math.isfinite(v) for v in step.map(batch, reduce=None))


# --- numpy stays optional ------------------------------------------------------------------

def _python(code: str) -> str:
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_numpy_is_not_imported_unless_map_is_used():
    out = _python(
        "import sys\n"
        "import autograd, nn\n"
        "w = autograd.Value(2.0)\n"
        "step = autograd.compile(lambda x: (w * x).tanh())\n"
        "step(1.0).backward(); step(2.0)\n"
        "print('numpy' in sys.modules)\n"
        "step.map([(1.0,), (2.0,)], reduce='mean')\n"
        "print('numpy' in sys.modules)\n"
    )
    assert out.split() == ["False", "True"]


def test_without_numpy_map_loops_the_scalar_replay_and_says_so_once():
    out = _python(
        "import sys, warnings\n"
        "sys.modules['numpy'] = None  # import numpy now raises ImportError\n"
        "import autograd\n"
        "w = autograd.Value(0.5)\n"
        "step = autograd.compile(lambda x: (w * x).exp())\n"
        "batch = [(1.0,), (2.0,), (3.0,)]\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    loss = step.map(batch, reduce='mean'); loss.backward()\n"
        "    values = step.map(batch, reduce=None)\n"
        "g = w.grad; w.grad = 0.0\n"
        "ref = autograd.sum([(w * x).exp() for (x,) in batch]) / 3; ref.backward()\n"
        "print(len([m for m in seen if 'numpy' in str(m.message)]))\n"
        "eager = [(w * x).exp().data for (x,) in batch]\n"
        "print(loss.data == ref.data, g == w.grad, values == eager)\n"
        "try:\n"
        "    step.map([(1.0,), (2000.0,)], reduce='sum')\n"
        "except OverflowError as err:\n"
        "    print('example 1 ' in str(err))\n"
    )
    assert out.split() == ["1", "True", "True", "True", "True"]


def test_aux_functions_map_their_values():
    w = Value(3.0)

    def f(x):
        y = w * x
        return y * y, [y]

    step = autograd.compile(f, aux=True)
    assert step.map([(1.0,), (2.0,)], reduce=None) == [9.0, 36.0]
    step.map([(1.0,), (-2.0,)], reduce="sum").backward()
    assert w.grad == pytest.approx(2 * 3.0 * (1 + 4), rel=1e-12)


def test_grad_through_map_gives_the_parameters_gradients():
    w, b = Value(0.5), Value(-0.25)

    def f(x):
        return (w * x + b).tanh()

    batch = [(x,) for x in (-2.0, 0.5, 1.0, 3.0)]
    gw, gb = autograd.grad(autograd.compile(f).map(batch, reduce="mean"), [w, b])
    ew, eb = autograd.grad(autograd.sum([f(*a) for a in batch]) / 4, [w, b])
    assert gw.data == pytest.approx(ew.data, rel=1e-12)
    assert gb.data == pytest.approx(eb.data, rel=1e-12)
    with pytest.raises(TypeError, match="create_graph"):
        autograd.grad(autograd.compile(f).map(batch, reduce="mean"), [w], create_graph=True)


def test_a_layers_activation_runs_once_over_its_matrix_when_only_it_reads_the_rows():
    import importlib

    import nn

    vector = importlib.import_module("autograd.compile.vector")
    random.seed(5)
    model = nn.MLP(3, [6, 6, 1])
    params = model.parameters()
    layer = model.layers[0]

    def example(x, y):
        return (model(x) - y) ** 2

    def shared(x, y):  # a layer output the loss reads itself, beside the model
        h = layer(x)
        return (model(x) - y) ** 2 + h[0] * 0.5

    batch = [([random.uniform(-2, 2) for _ in range(3)], random.uniform(-1, 1))
             for _ in range(16)]
    for fn in (example, shared):
        for reduce in ("mean", None):
            check_same(fn, params, batch, reduce)
    step = autograd.compile(example)
    step.map(batch)
    code = vector.build(step._latest.program).code
    assert "U_0 = where(O_0 <= 0, 0.0, O_0)" in code and "X_1 = U_0" in code
    assert "G_0 = where(O_0 > 0, DU_0, 0.0)" in code
    assert code.count("where(") == 4  # two layers, forward and backward; nothing per row
    assert "X_0 = nums[0:3]" in code  # the examples' numbers are the first layer's rows
