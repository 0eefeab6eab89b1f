"""Adam's whole-array step (taken when numpy is already imported and there are many
parameters) moves every parameter exactly as the plain loop does, bit for bit."""

from __future__ import annotations

import math
import random
import struct
import sys

import pytest

import nn
import nn.optim as optim
from autograd import Value

pytest.importorskip("numpy")


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def params(rng: random.Random, n: int) -> list[Value]:
    special = [0.0, -0.0, 1e-300, -1e-300, 1e300, 5e-324, 1.0, -1.0]
    out = []
    for i in range(n):
        p = Value(rng.uniform(-3, 3) if i % 7 else special[i % len(special)])
        p.grad = rng.choice([rng.gauss(0, 1), rng.gauss(0, 1e-8), 0.0, -0.0, 1e200, -1e-310])
        out.append(p)
    return out


@pytest.mark.parametrize("cls, options", [
    (nn.Adam, {}), (nn.Adam, {"weight_decay": 0.01}), (nn.AdamW, {"weight_decay": 0.05}),
    (nn.Adam, {"betas": (0.5, 0.9), "eps": 1e-3}),
])
def test_array_step_is_the_loop_bit_for_bit(cls, options, monkeypatch):
    n = 3 * optim._ARRAY_MIN
    runs = []
    for arrays in (True, False):
        if not arrays:
            monkeypatch.setitem(sys.modules, "numpy", None)  # the loop: numpy looks absent
        rng = random.Random(7)
        ps = params(rng, n)
        opt = cls(ps, lr=0.01, **options)
        for _ in range(4):
            opt.step()
            for p in ps:
                p.grad = rng.gauss(0, 1)
        runs.append(([bits(p.data) for p in ps], [bits(m) for m in opt.exp_avg],
                     [bits(v) for v in opt.exp_avg_sq]))
        monkeypatch.undo()
    assert runs[0] == runs[1]


def test_small_models_keep_the_loop(monkeypatch):
    called = []
    monkeypatch.setattr(nn.Adam, "_step_arrays", lambda *a: called.append(a))
    ps = [Value(1.0) for _ in range(optim._ARRAY_MIN - 1)]
    nn.Adam(ps, lr=0.1).step()
    assert called == [] and not math.isnan(ps[0].data)
