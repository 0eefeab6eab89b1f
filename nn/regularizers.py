"""Regularisers: penalties on the weights, each a Value to add to the loss.

Each takes a Module, a list of parameters, or a list of (name, Value) pairs
(``model.named_parameters()``). ``include_bias=False`` leaves out biases, which
the lecture's sums over w_ij do; telling biases apart needs names, so it needs
a Module or named pairs. A bias is a parameter whose last name part is "b".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from typing import Any

import autograd
from autograd import Value

from .init import finite_real
from .module import Module


def _weights(params: Any, include_bias: bool, who: str) -> list[Value]:
    if isinstance(params, Module):
        params = params.named_parameters() if not include_bias else params.parameters()
    elif isinstance(params, Value):
        params = [params]
    elif isinstance(params, (str, bytes, Mapping, Set)) or not isinstance(params, Iterable):
        raise TypeError(
            f"{who}: params must be a Module, a list of Values or named_parameters(), "
            f"got {params!r}"
        )
    else:
        params = list(params)
    named = [p for p in params if isinstance(p, tuple)]
    if named and len(named) != len(params):
        raise ValueError(f"{who}: params mixes named pairs and bare parameters")
    if named:
        for p in named:
            if len(p) != 2 or not isinstance(p[0], str) or not isinstance(p[1], Value):
                raise ValueError(f"{who}: params must hold (name, Value) pairs, got {p!r}")
        return [v for name, v in params if include_bias or not _is_bias(name)]
    if not include_bias:
        raise ValueError(
            f"{who}: include_bias=False needs parameter names to find the biases; "
            "pass the model or model.named_parameters()"
        )
    for p in params:
        if not isinstance(p, Value):
            raise ValueError(f"{who}: params must hold Values, got {p!r}")
    return params


def _strength(who: str, name: str, value: Any, positive: bool = False) -> float:
    """A finite, non-negative (or positive) real number, named in any error."""
    x = finite_real(who, name, value)
    if x < 0 or (positive and x == 0):
        raise ValueError(f"{who}: {name} must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return x


def _is_bias(name: str) -> bool:
    return name.rsplit(".", 1)[-1] in ("b", "bias")


def l2(params: Any, lam: float = 1.0, m: int = 1, include_bias: bool = True) -> Value:
    """Weight decay as the lecture writes it: lam / (2 m) * sum w^2, m the number of examples.

    It shrinks each weight in proportion to its size: its gradient is (lam / m) w.
    """
    lam = _strength("l2", "lam", lam)
    m = _strength("l2", "m (the number of examples)", m, positive=True)
    ws = _weights(params, include_bias, "l2")
    return autograd.dot(ws, ws) * (lam / (2.0 * m))


def l1(params: Any, lam: float = 1.0, include_bias: bool = True) -> Value:
    """lam * sum |w|: pushes small weights to exactly 0 (sparse); gradient lam sign(w)."""
    lam = _strength("l1", "lam", lam)
    ws = _weights(params, include_bias, "l1")
    return autograd.sum([abs(w) for w in ws]) * lam


def weight_elimination(
    params: Any, lam: float = 1.0, w0: float = 1.0, include_bias: bool = True
) -> Value:
    """lam * sum (w/w0)^2 / (1 + (w/w0)^2): the lecture's "scaled L2".

    Small weights shrink much as with L2; large ones feel a bounded, fading
    pull, so the penalty counts weights more than it measures them.
    """
    lam = _strength("weight_elimination", "lam", lam)
    w0 = _strength("weight_elimination", "w0", w0, positive=True)
    ws = _weights(params, include_bias, "weight_elimination")
    terms = []
    for w in ws:
        s = w / w0 if w0 != 1.0 else w
        s2 = s * s  # a product, not ** 2: a huge w / w0 gives inf here instead of raising
        if s2 <= 1.0:  # a Value comparison: autograd.compile guards it
            terms.append(s2 / (1.0 + s2))
        else:  # the same function, written so that a huge (even infinite) s2 gives 1
            terms.append(1.0 - 1.0 / (1.0 + s2))
    return autograd.sum(terms) * lam
