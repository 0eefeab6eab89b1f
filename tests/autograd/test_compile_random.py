"""Random programs through autograd.compile, compared with eager with ``==``.

Each program is a list of steps over a pool of Values: the engine's ops on
shared nodes, branches on comparisons, ``try``/``except`` around ops that can
raise, number arguments used as operands, as exponents, as indices and in
``==`` tests, a number read from a closure cell, and a captured parameter.
Between calls the arguments, the closure's number and the parameter's
``.data`` change. Every call must give eager's value and gradients bit for bit
(NaN equal to NaN), or eager's exception.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value, compile

pytestmark = pytest.mark.usefixtures("replay_backend")  # walked and generated replays

SCALE = max(1, settings.default.max_examples // 100)

STEP = st.one_of(
    st.tuples(st.sampled_from(["+", "*", "-", "/"]), st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.sampled_from(["tanh", "exp", "relu", "sigmoid", "abs"]), st.integers(0, 30)),
    st.tuples(st.just("try-log"), st.integers(0, 30), st.floats(-2, 2)),
    st.tuples(st.just("branch"), st.integers(0, 30), st.floats(-2, 2), st.integers(0, 30)),
    st.tuples(st.sampled_from(["times-n", "pow-n", "index-n", "eq-n", "scale"]),
              st.integers(0, 30)),
    st.tuples(st.just("sum"), st.lists(st.integers(0, 30), min_size=1, max_size=4)),
)
NUMBER = st.one_of(st.integers(0, 3), st.sampled_from([0.5, -1.5, 2.0]))
CALL = st.tuples(
    st.floats(-3, 3), st.lists(st.floats(-3, 3), min_size=2, max_size=2), NUMBER,
    st.floats(-2, 2), st.floats(-2, 2),
)


def make_fn(steps: list, p: Value, box: list):
    scale = box[0]

    def fn(x, xs, n):
        pool = [x, *xs, p]
        for s in steps:
            kind = s[0]
            a = pool[s[1] % len(pool)]
            if kind in ("+", "*", "-", "/"):
                b = pool[s[2] % len(pool)]
                try:
                    y = {"+": a + b, "*": a * b, "-": a - b}[kind] if kind != "/" else a / b
                except ZeroDivisionError:
                    y = a
            elif kind == "try-log":
                try:
                    y = (a - s[2]).log()
                except ValueError:
                    y = a * 0.5
            elif kind == "branch":
                y = a * 2.0 if a > s[2] else pool[s[3] % len(pool)] - a
            elif kind == "times-n":
                y = a * n
            elif kind == "pow-n":
                try:
                    y = a ** n
                except (ValueError, ZeroDivisionError, OverflowError):
                    y = a
            elif kind == "index-n":
                y = a * xs[int(n) % len(xs)] if n == int(n) else a + n
            elif kind == "eq-n":
                y = a + 1.0 if n == 0 else a * 0.25
            elif kind == "scale":
                y = a * scale
            elif kind == "sum":
                y = autograd.sum([pool[i % len(pool)] for i in s[1]])
            else:
                try:
                    y = getattr(a, kind)()
                except OverflowError:
                    y = a
            pool.append(y)
        return autograd.sum(pool[-3:])

    return fn


def outcome(fn, x, xs, n, p):
    leaves = [Value(x), *[Value(v) for v in xs]]
    p.grad = 0.0
    try:
        out = fn(leaves[0], leaves[1:], n)
        out.backward()
    except Exception as err:  # noqa: BLE001 - compared below
        return ("error", type(err).__name__, str(err))
    return ("ok", out.data, [v.grad for v in leaves] + [p.grad])


def same(a, b) -> bool:
    if a[0] != b[0] or a[0] == "error":
        return a == b
    values = [a[1], *a[2]], [b[1], *b[2]]
    return all(u == v or (u != u and v != v) for u, v in zip(*values, strict=True))


@settings(max_examples=60 * SCALE, deadline=None)
@given(st.lists(STEP, min_size=1, max_size=12), st.lists(CALL, min_size=2, max_size=5))
def test_random_programs_equal_eager_bit_for_bit(steps, calls) -> None:
    p = Value(0.3)
    scale_now = 0.5  # a closure cell of fn: compile must guard it

    def fn(x, xs, n):
        return make_fn(steps, p, [scale_now])(x, xs, n)

    step = compile(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # eager fallbacks say why
        for x, xs, n, pdata, scale in calls:
            scale_now = scale
            p.data = pdata  # a captured parameter changed in place
            got = outcome(step, x, xs, n, p)
            want = outcome(fn, x, xs, n, p)
            assert same(got, want), (got, want)
