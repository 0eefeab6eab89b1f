"""What the fit tests share: one seeded fit, and Histories compared field by field."""

from __future__ import annotations

import math

import nn

SERIES = ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "grad_norm", "lr")
SCALARS = ("best_epoch", "stopped_early", "updates")


def run(flag, factory, X, y, **options):
    """(History, final weights) of ``nn.fit(compile=flag)`` from ``nn.manual_seed(0)``."""
    nn.manual_seed(0)
    model = factory()
    history = nn.fit(model, X, y, progress=False, compile=flag, **options)
    return history, [p.data for p in model.parameters()]


def assert_identical(a, b):
    """The same History and weights, bit for bit."""
    for name in (*SERIES, *SCALARS):
        assert getattr(a[0], name) == getattr(b[0], name), name
    assert a[1] == b[1]


def assert_close(a, b, rel, abs_tol=1e-300):
    """Every series to ``rel`` relative (None where the other is None), the same
    best epoch, stop and update count, and weights to 1e-9."""
    for name in SERIES:
        xs, ys = getattr(a[0], name), getattr(b[0], name)
        assert len(xs) == len(ys), name
        for x, y in zip(xs, ys, strict=True):
            if x is None or y is None:
                assert x is y, name
            else:
                assert math.isclose(x, y, rel_tol=rel, abs_tol=abs_tol), (name, x, y)
    for name in SCALARS:
        assert getattr(a[0], name) == getattr(b[0], name), name
    for p, q in zip(a[1], b[1], strict=True):
        assert math.isclose(p, q, rel_tol=max(rel, 1e-9), abs_tol=1e-12)
