"""map over a function compiled with aux=True: each example's aux numbers, as the
per-example calls give them (nn.fit reads a model's outputs so)."""

from __future__ import annotations

import math

import pytest

import autograd
import nn
from autograd.compile.batch import run

pytest.importorskip("numpy")


def _model_step():
    nn.manual_seed(0)
    model = nn.MLP(3, [5, 2])

    def example(x):
        out = model(x)
        return autograd.sum(out).relu(), [out, out[0] * 2.5]

    return autograd.compile(example, aux=True)


BATCH = [([0.1 * i, -0.2 * i, 1.0 - 0.3 * i],) for i in range(12)]


@pytest.mark.parametrize("reduce", ["mean", "sum", None])
def test_aux_rows_are_each_examples_aux_numbers(reduce):
    step = _model_step()
    want = [step(*a) for a in BATCH]
    value, extras = run(step, BATCH, reduce, aux=True)
    for (_, aux), got in zip(want, extras, strict=True):
        flat = [*aux[0], aux[1]]  # a call gives aux as floats
        assert len(got) == len(flat) == 3
        assert all(math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
                   for a, b in zip(got, flat, strict=True))
    if reduce is None:
        assert all(math.isclose(a, w[0].data, rel_tol=1e-12, abs_tol=1e-15)
                   for a, w in zip(value, want, strict=True))


def test_aux_needs_an_aux_function():
    step = autograd.compile(lambda x: autograd.Value(1.0) * x)
    with pytest.raises(ValueError, match="aux=True"):
        run(step, [(1.0,)], "mean", aux=True)
