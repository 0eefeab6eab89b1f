"""Shared helpers for the nn tests: a central-difference gradient check."""

from __future__ import annotations

import math

import pytest

from autograd import Value


def numeric_check(f, xs, eps=1e-6, atol=1e-6, rtol=1e-4):
    """Compare backprop through ``f(list of Values) -> Value`` with central differences.

    Returns the analytic gradients; fails the test naming the input that disagrees.
    """
    values = [Value(float(x)) for x in xs]
    out = f(values)
    out.backward()
    analytic = [v.grad for v in values]
    for i in range(len(xs)):
        hi = [float(x) for x in xs]
        lo = list(hi)
        hi[i] += eps
        lo[i] -= eps
        numeric = (f([Value(x) for x in hi]).data - f([Value(x) for x in lo]).data) / (2 * eps)
        assert math.isfinite(analytic[i])
        assert abs(analytic[i] - numeric) <= atol + rtol * abs(numeric), (
            f"input {i} = {xs[i]!r}: backprop {analytic[i]!r} vs numeric {numeric!r}"
        )
    return analytic


@pytest.fixture
def fd_check():
    return numeric_check
