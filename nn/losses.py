"""Loss functions: each takes Values or numbers and returns one Value.

Predictions and targets are matching lists (nested lists for several outputs
per example, flattened element by element; a bare number for one example).
By default a loss is the mean over elements; ``reduction="sum"`` gives the
sum, which is the lecture's form, e.g. its multi-output cross-entropy

    E(w) = -(1/m) sum_i sum_k [y_k log s_k + (1 - y_k) log(1 - s_k)]
         = binary_cross_entropy(outputs, targets, reduction="sum") / m.

The stable losses never overflow: cross-entropy first subtracts the largest
logit, d_i = z_i - max z (so every d_i <= 0, and the largest is exactly 0),
then takes the log-sum-exp of the d_i; the logistic loss uses the engine's
softplus, which evaluates max(z, 0) + log1p(exp(-|z|)). Subtracting before
adding matters at large logits: log(e^1e300 + e^1e300) - 1e300 is 0.0 in
floats, while logsumexp(0, 0) - 0 is the right log 2.

No forward path here reads a Value's ``.data`` to decide or shift a number:
the shift is an engine node (``autograd.maximum``), the sum of exponentials
another (``autograd.logsumexp``), and a branch on a Value is a comparison of
Values. So a graph replayed by ``autograd.compile`` stays exact; only error
messages read ``.data``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence, Set
from typing import Any

import autograd
from autograd import Value

from ._plain import plain

Number = float
_REDUCTIONS = ("mean", "sum")
_TINY = math.exp(-100.0)  # log(p) is clamped at -100 for p at or below this


def _value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _shown(x: Any) -> Any:
    """The number to print in an error message (never used to compute)."""
    return x.data if isinstance(x, Value) else x


def _equals(x: Any, c: float) -> bool:
    """x == c for a number or a Value (on Values == is identity, so compare twice)."""
    return c <= x <= c


def _is_seq(x: Any) -> bool:
    return not isinstance(x, (Value, numbers.Real, str, bytes, Mapping, Set)) and hasattr(
        x, "__len__"
    ) and hasattr(x, "__getitem__")


def _check_item(x: Any, who: str, name: str) -> None:
    """TypeError naming ``name`` unless ``x`` is a number or a Value (OverflowError
    for an int too large for a float)."""
    if isinstance(x, Value):
        return
    if not isinstance(x, numbers.Real):
        kind = "a number or a Value" if name.endswith("]") else "a list of numbers or Values"
        raise TypeError(f"{who}: {name} must be {kind}, got {x!r}")
    if isinstance(x, numbers.Integral) and not -1e308 < x < 1e308:
        try:
            float(x)
        except OverflowError:
            raise OverflowError(
                f"{who}: {name} = {str(x)[:20]}... is too large for a float"
            ) from None


def _paired(
    preds: Any, targets: Any, who: str, pname: str = "predictions", tname: str = "targets"
) -> tuple[list, list]:
    """Flatten two matching (possibly nested) lists; ValueError on any mismatch.

    numpy arrays and scalars are read as the lists and numbers they hold."""
    preds, targets = plain(preds), plain(targets)
    ps: list = []
    ts: list = []
    stack = [(preds, targets, "")]
    while stack:
        p, t, where = stack.pop()
        p_seq, t_seq = _is_seq(p), _is_seq(t)
        if p_seq != t_seq:
            kind = "a list" if p_seq else "a single number"
            raise ValueError(
                f"{who}: {pname}{where} is {kind} but {tname}{where} is not "
                f"(got {len(p) if p_seq else 1} vs {len(t) if t_seq else 1} elements)"
            )
        if not p_seq:
            _check_item(p, who, f"{pname}{where}")
            _check_item(t, who, f"{tname}{where}")
            ps.append(p)
            ts.append(t)
            continue
        if len(p) != len(t):
            raise ValueError(
                f"{who}: length mismatch, {len(p)} {pname} but {len(t)} {tname}"
                + (f" at {where}" if where else "")
            )
        stack.extend((p[i], t[i], f"{where}[{i}]") for i in reversed(range(len(p))))
    if not ps:
        raise ValueError(f"{who}: {pname} and {tname} are empty; need at least one element")
    return ps, ts


def _reduce(total: Value, n: int, reduction: str) -> Value:
    if reduction == "sum":
        return total
    return total / n


def _check_reduction(who: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{who}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


# --- regression ----------------------------------------------------------------

def mse_loss(preds: Any, targets: Any, reduction: str = "mean") -> Value:
    """Mean of (p - t)^2 over elements."""
    _check_reduction("mse_loss", reduction)
    ps, ts = _paired(preds, targets, "mse_loss")
    diffs = [_value(p) - t for p, t in zip(ps, ts, strict=True)]
    return _reduce(autograd.dot(diffs, diffs), len(diffs), reduction)


def sse_loss(preds: Any, targets: Any) -> Value:
    """The lecture's squared error, 1/2 sum (p - t)^2 (a sum, so its gradient is p - t)."""
    ps, ts = _paired(preds, targets, "sse_loss")
    diffs = [_value(p) - t for p, t in zip(ps, ts, strict=True)]
    return autograd.dot(diffs, diffs) * 0.5


# --- binary classification ---------------------------------------------------------

def _log_clamped(q: Value) -> Value | float:
    """log(q) clamped below at -100, as PyTorch does; the clamped part has gradient 0."""
    return q.log() if q > _TINY else -100.0


def _unit_interval(x: Any, who: str, name: str, where: int) -> None:
    """ValueError unless 0 <= x <= 1 (NaN fails); a Value is compared, not read."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{who}: {name}[{where}] = {_shown(x)!r} is outside [0, 1]")


def binary_cross_entropy(probs: Any, targets: Any, reduction: str = "mean") -> Value:
    """-(t log p + (1 - t) log(1 - p)), with each log clamped at -100 so p = 0 or 1 is finite.

    ``probs`` are probabilities (sigmoid outputs) in [0, 1]; targets in [0, 1].
    Over K sigmoid outputs per example this is the lecture's multi-output E(w).
    """
    who = "binary_cross_entropy"
    _check_reduction(who, reduction)
    ps, ts = _paired(probs, targets, who, "probs", "targets")
    terms: list = []
    for i, (p, t) in enumerate(zip(ps, ts, strict=True)):
        _unit_interval(p, who, "probs", i)
        _unit_interval(t, who, "targets", i)
        p = _value(p)
        if isinstance(t, Value):
            terms.append(t * _log_clamped(p) + (1.0 - t) * _log_clamped(1.0 - p))
            continue
        td = float(t)  # a plain number: a constant of the graph, not a Value read
        if td == 1.0:
            terms.append(_log_clamped(p))
        elif td == 0.0:
            terms.append(_log_clamped(1.0 - p))
        else:
            terms.append(td * _log_clamped(p) + (1.0 - td) * _log_clamped(1.0 - p))
    return _reduce(-autograd.sum(terms), len(terms), reduction)


def binary_cross_entropy_with_logits(
    logits: Any, targets: Any, reduction: str = "mean"
) -> Value:
    """The logistic loss on raw scores z: softplus(z) - z y.

    Equal to max(z, 0) - z y + log(1 + exp(-|z|)), which is how the engine's
    softplus evaluates it, so it is finite for every finite z; its gradient is
    sigmoid(z) - y everywhere, including z = 0.
    """
    who = "binary_cross_entropy_with_logits"
    _check_reduction(who, reduction)
    zs, ys = _paired(logits, targets, who, "logits", "targets")
    terms: list = []
    for i, (z, y) in enumerate(zip(zs, ys, strict=True)):
        _unit_interval(y, who, "targets", i)
        z = _value(z)
        # One term per element, never a difference of two sums: softplus(z) - z y
        # is at most |z|, while sum(softplus) - sum(z y) overflows to inf - inf.
        if isinstance(y, Value):
            terms.append(z.softplus() - z * y)
            continue
        yd = float(y)
        if yd == 1.0:
            terms.append((-z).softplus())  # softplus(z) - z
        elif yd == 0.0:
            terms.append(z.softplus())
        else:
            terms.append(z.softplus() - z * yd)
    return _reduce(autograd.sum(terms), len(terms), reduction)


def hinge_loss(scores: Any, targets: Any, reduction: str = "mean") -> Value:
    """Mean of max(0, 1 - y s) with labels y in {-1, +1} (the SVM's loss)."""
    who = "hinge_loss"
    _check_reduction(who, reduction)
    ss, ys = _paired(scores, targets, who, "scores", "targets")
    terms = []
    for i, (s, y) in enumerate(zip(ss, ys, strict=True)):
        if not (_equals(y, 1.0) or _equals(y, -1.0)):
            raise ValueError(f"{who}: targets[{i}] = {_shown(y)!r} must be -1 or +1")
        if isinstance(y, Value):
            terms.append((1.0 - y * s).relu())
        elif y > 0:
            terms.append((1.0 - _value(s)).relu())
        else:
            terms.append((1.0 + _value(s)).relu())
    return _reduce(autograd.sum(terms), len(terms), reduction)


# --- multi-class -------------------------------------------------------------------

def _logit_values(logits: Any, who: str, name: str = "logits") -> list[Value]:
    logits = plain(logits)
    if not _is_seq(logits) or len(logits) == 0:
        raise ValueError(f"{who}: expected a non-empty list of {name}, got {logits!r}")
    for i, z in enumerate(logits):
        _check_item(z, who, f"{name}[{i}]")
    return [_value(z) for z in logits]


def _shifted(zs: list[Value]) -> list[Value]:
    """d_i = z_i - max z: each d_i <= 0 and the largest is exactly 0, so no exp
    overflows and log sum e^d lies in [0, log K], where no bit is lost.

    The max is an engine node, not a number read from ``.data``. Every function
    below is unchanged when one constant is added to all logits, so the gradient
    reaching the max is zero up to rounding. A NaN logit makes every d_i NaN, and
    a +inf logit gives inf - inf = NaN: the results are NaN, as in PyTorch.
    """
    m = autograd.maximum(zs)
    return [z - m for z in zs]


def softmax(logits: Sequence[Any]) -> list[Value]:
    """exp(d_i) / sum_j exp(d_j) with d = z - max z: stable probabilities."""
    zs = _logit_values(logits, "softmax")
    es = [d.exp() for d in _shifted(zs)]
    total = autograd.sum(es)
    return [e / total for e in es]


def log_softmax(logits: Sequence[Any]) -> list[Value]:
    """d_i - logsumexp(d) with d = z - max z: stable log-probabilities.

    Subtracting the max first keeps the small term: log_softmax([-1e300, -1e300])
    is [-log 2, -log 2], where z_i - logsumexp(z) would round to [0, 0].
    """
    ds = _shifted(_logit_values(logits, "log_softmax"))
    lse = autograd.logsumexp(ds)
    return [d - lse for d in ds]


def _class_index(t: Any, k: int, who: str, where: str = "") -> int:
    if isinstance(t, bool) or not isinstance(t, numbers.Integral):
        raise ValueError(f"{who}: target{where} must be a class index (int), got {t!r}")
    if not 0 <= t < k:
        raise ValueError(f"{who}: target{where} = {t} is out of range for {k} classes (0..{k - 1})")
    return int(t)


def _per_example(
    fn, inputs: Any, target: Any, who: str, reduction: str, name: str = "logits"
) -> Value:
    """Apply ``fn(values, index)`` to one example, or to a batch and reduce."""
    _check_reduction(who, reduction)
    inputs, target = plain(inputs), plain(target)
    if _is_seq(inputs) and len(inputs) > 0 and _is_seq(inputs[0]):
        if not _is_seq(target):
            raise ValueError(f"{who}: a batch of {len(inputs)} examples needs a list of targets")
        if len(inputs) != len(target):
            raise ValueError(
                f"{who}: length mismatch, {len(inputs)} examples but {len(target)} targets"
            )
        losses = [
            fn(_logit_values(z, who, f"{name}[{i}]"), _class_index(t, len(z), who, f"[{i}]"))
            for i, (z, t) in enumerate(zip(inputs, target, strict=True))
        ]
        return _reduce(autograd.sum(losses), len(losses), reduction)
    zs = _logit_values(inputs, who, name)
    if _is_seq(target):
        raise ValueError(
            f"{who}: one example's logits need one class index, got a list of {len(target)}"
        )
    return fn(zs, _class_index(target, len(zs), who))


def _ce_one(zs: list[Value], t: int) -> Value:
    ds = _shifted(zs)
    return autograd.logsumexp(ds) - ds[t]


def cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> Value:
    """-log softmax(logits)[target] = logsumexp(d) - d_target with d = z - max z.

    Stable for any finite logits, and exact at ties of huge logits:
    ``cross_entropy([1e300, 1e300], 0)`` is log 2.

    One example: a list of K logits and an int. A batch: a list of logit lists
    and a list of ints, reduced by mean (or sum).
    """
    return _per_example(_ce_one, logits, target, "cross_entropy", reduction)


def nll_loss(log_probs: Any, target: Any, reduction: str = "mean") -> Value:
    """-log_probs[target], for outputs that are already log-probabilities
    (``log_softmax``); ``cross_entropy`` = ``nll_loss(log_softmax(z), t)``."""
    return _per_example(
        lambda lp, t: -lp[t], log_probs, target, "nll_loss", reduction, "log_probs"
    )
