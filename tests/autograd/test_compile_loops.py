"""autograd.compile.loops: a traced Program run over rows of numbers gives, bit for
bit, the outputs and the gradients that one compiled call per row and backward() give."""

from __future__ import annotations

import math
import random

import autograd
from autograd import Value
from autograd.compile.loops import batched, trace_program


def _params(n, seed=0):
    rng = random.Random(seed)
    return [Value(rng.uniform(-1, 1)) for _ in range(n)]


def _model(ps):
    """Four inputs -> 3 ReLU units -> 2 outputs, from the engine's ops."""

    def model(x):
        hidden = [autograd.dot(ps[5 * i : 5 * i + 4], x, ps[5 * i + 4]).relu() for i in range(3)]
        return [autograd.dot(ps[15 + 4 * k : 18 + 4 * k], hidden, ps[18 + 4 * k]) for k in range(2)]

    return model


def _seeded(model):
    def f(x, seeds):
        out = model(x)
        return autograd.dot(seeds, out), out

    return f


ROWS = [[0.5, -1.0, 2.0, 0.0], [2.0, 0.25, -1.0, 1.0], [-3.0, -0.5, -2.0, -1.0],
        [0.0, 0.0, 0.0, 0.0], [1.5, -2.5, 0.5, -0.5]]
N = 23  # parameters
SEEDS = [[0.3, -1.2], [0.0, 2.0], [1e-3, 0.5], [-0.7, 0.0], [4.0, -4.0]]


def _eager_grads(ps, rows, seeds):
    """Per row: the engine's backward of dot(seeds, model(x)), adding onto .grad."""
    model = _model(ps)
    outs = []
    for x, s in zip(rows, seeds, strict=True):
        out = model(x)
        outs.append([o.data for o in out])
        autograd.dot(s, out).backward()
    return outs, [p.grad for p in ps]


def _batched_grads(ps, rows, seeds):
    f = _seeded(_model(ps))
    program = trace_program(f, rows[0], [1.0, 1.0])
    code = batched(program, late=[4, 5])
    ins = [inp.value for inp in program.inputs]
    outs, tapes = code.forward(ins, rows)
    code.backward(1.0, ins, tapes, seeds)
    return [list(o[1:]) for o in outs], [p.grad for p in ps]


def _same(a, b):
    """Equal, with NaN equal to NaN and 0.0 unequal to -0.0."""
    return all(
        (x != x and y != y) or (x == y and math.copysign(1, x) == math.copysign(1, y))
        for x, y in zip(a, b, strict=True)
    )


def test_batched_outputs_and_gradients_are_the_engines():
    eager_outs, eager_grads = _eager_grads(_params(N), ROWS, SEEDS)
    outs, grads = _batched_grads(_params(N), ROWS, SEEDS)
    assert outs == eager_outs
    assert _same(grads, eager_grads)


def test_gradients_add_onto_what_grad_held_even_negative_zero():
    """Skipping a switched-off unit's zero shares is exact only from sums that are not
    -0.0; a -0.0 already in .grad turns the skip off."""
    for start in (0.0, -0.0, 1.5):
        a, b = _params(N), _params(N)
        a[4].data = b[4].data = -100.0  # the first unit is off on every row
        for p, q in zip(a, b, strict=True):
            p.grad = q.grad = start
        _, eager_grads = _eager_grads(a, ROWS, SEEDS)
        _, grads = _batched_grads(b, ROWS, SEEDS)
        assert _same(grads, eager_grads), start


def test_non_finite_rows_give_the_engines_nan():
    rows = [[-math.inf, 1.0, 1.0, 1.0], ROWS[0]]
    _, eager_grads = _eager_grads(_params(N), rows, SEEDS[:2])
    _, grads = _batched_grads(_params(N), rows, SEEDS[:2])
    assert any(g != g for g in eager_grads)
    assert _same(grads, eager_grads)


def test_a_failed_guard_returns_none():
    w = Value(2.0)

    def f(x):
        y = w * x
        return (y if y > 1.0 else -y), [y]  # the branch is a guard of the trace

    program = trace_program(f, 1.0)
    assert program.guards
    code = batched(program)
    ins = [inp.value for inp in program.inputs]
    assert code.forward(ins, [[1.0], [3.0]]) is not None
    assert code.forward(ins, [[1.0], [0.1]]) is None


def test_trace_program_refuses_what_compile_refuses():
    w = Value(2.0)

    def catches(x):
        y = w * x
        try:
            (y - y).log()  # raises while traced, and fn catches it: not replayable
        except ValueError:
            y = y + 1.0
        return y, [y]

    assert trace_program(catches, 1.0) is None


def test_trace_program_returns_none_when_fn_raises():
    def bad(x):
        raise ZeroDivisionError("no")

    assert trace_program(bad, 1.0) is None
