"""The perceptron learning algorithm: the lectures' rule for one threshold unit.

    run = nn.perceptron_learning(X, y)       # labels +-1 or 0/1
    run.perceptron                           # an nn.Perceptron with the learned w and b
    run.converged, run.mistakes              # True once an epoch made no mistake

A threshold unit has no useful gradient (sign and step are flat), so it is not
trained by backprop but by Rosenblatt's rule: visit the examples in order and,
on each one the unit gets wrong, move the weights towards it,

    w <- w + t x,   b <- b + t        (t = +1 for the positive class, -1 otherwise)

starting from w = 0, b = 0. On linearly separable data (AND, OR, NAND) this
stops after finitely many mistakes (the perceptron convergence theorem). On
data that no line separates (XOR) it never does: every epoch makes a mistake.
When the weights at the end of an epoch repeat an earlier epoch's, every later
epoch repeats too, so the run stops there and says so (``cycle``); that is a
proof the labels are not linearly separable.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field

from ._text import plural
from .data import check_xy
from .init import finite_real
from .layers import Perceptron
from .module import _short

__all__ = ["PerceptronRun", "perceptron_learning"]

_WHO = "perceptron_learning"
# Updates recorded in PerceptronRun.updates: the first ones only, so a long run on big
# data cannot fill memory with snapshots (the algorithm itself needs none of them).
_MAX_RECORDED = 100_000


@dataclass
class PerceptronRun:
    """What ``perceptron_learning`` did.

    ``perceptron``: an ``nn.Perceptron`` with the final weights and bias ("sign"
    for +-1 labels, "step" for 0/1 labels, so it answers in the labels' own
    code). ``converged``: True when an epoch made no mistake. ``mistakes``: the
    number of mistakes (= updates) in each epoch run. ``updates``: after every
    update, ``(epoch, example index, weights, bias)``, so the moving line can be
    drawn (the first 100 000 updates of a longer run). ``cycle``: ``(j, k)``
    when the weights after epoch k equal those after epoch j < k (the run can
    never converge), else None.
    """

    perceptron: Perceptron
    converged: bool
    mistakes: list[int]
    max_epochs: int
    labels: str  # "+-1" or "0/1"
    updates: list[tuple[int, int, tuple[float, ...], float]] = field(default_factory=list)
    cycle: tuple[int, int] | None = None

    @property
    def epochs(self) -> int:
        """How many epochs ran."""
        return len(self.mistakes)

    @property
    def weights(self) -> list[float]:
        return [w.data for w in self.perceptron.w]

    @property
    def bias(self) -> float:
        return self.perceptron.b.data

    @property
    def message(self) -> str:
        """One sentence: converged or not, and why."""
        if self.converged:
            return (
                f"converged after {plural(self.epochs, 'epoch')} "
                f"and {plural(sum(self.mistakes), 'update')}: "
                "every example is classified correctly"
            )
        if self.cycle is not None:
            j, k = self.cycle
            return (
                f"did NOT converge: the weights after epoch {k} repeat those after epoch "
                f"{j}, so every later epoch repeats too; no line separates these labels"
            )
        return (
            f"did NOT converge in {plural(self.max_epochs, 'epoch')}: the last epoch still made "
            f"{plural(self.mistakes[-1], 'mistake')} "
            "(the labels may not be linearly separable)"
        )

    def __repr__(self) -> str:
        w = ", ".join(f"{v:g}" for v in self.weights)
        shown = ", ".join(str(m) for m in self.mistakes[:12])
        if len(self.mistakes) > 12:
            shown += ", ..."
        return (
            f"PerceptronRun({self.message}; weights [{w}], bias {self.bias:g}; "
            f"mistakes per epoch [{shown}]; labels {self.labels})"
        )


def _rows(X: list) -> list[list[float]]:
    rows = []
    nin = None
    for i, row in enumerate(X):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise TypeError(f"{_WHO}: X[{i}] must be a list of numbers, got {_short(row, 60)}")
        if nin is None:
            nin = len(row)
            if nin == 0:
                raise ValueError(f"{_WHO}: X[0] is empty; each example needs at least one input")
        elif len(row) != nin:
            raise ValueError(
                f"{_WHO}: ragged X: X[0] has {plural(nin, 'input')} but X[{i}] has {len(row)}"
            )
        rows.append([finite_real(_WHO, f"X[{i}][{k}]", v) for k, v in enumerate(row)])
    return rows


def _targets(y: list) -> tuple[list[float], str]:
    """The labels as +-1 targets, and which code they came in."""
    seen = set()
    for i, t in enumerate(y):
        if isinstance(t, bool) or not isinstance(t, numbers.Real):
            raise TypeError(f"{_WHO}: y[{i}] must be a number (+-1 or 0/1), got {t!r}")
        try:
            v = float(t)
        except OverflowError:
            v = math.inf
        if v not in (-1.0, 0.0, 1.0):
            raise ValueError(f"{_WHO}: y[{i}] = {_short(t, 40)}; labels must be +-1 or 0/1")
        seen.add(v)
    if {-1.0, 0.0} <= seen:
        raise ValueError(
            f"{_WHO}: labels mix the two codes, found {sorted(int(v) for v in seen)}; "
            "use +-1 or 0/1, not both"
        )
    if 0.0 in seen:
        return [1.0 if float(t) == 1.0 else -1.0 for t in y], "0/1"
    return [float(t) for t in y], "+-1"


def perceptron_learning(X: Sequence, y: Sequence, max_epochs: int = 100) -> PerceptronRun:
    """Rosenblatt's perceptron learning algorithm on ``(X, y)``.

    Labels are +-1 (the unit is sign(b + w.x)) or 0/1 (step(b + w.x), 1 for
    s >= 0); all-ones labels count as +-1. Starting from zero weights, each
    epoch visits the examples in order and updates on every mistake (an
    example the unit answers wrongly, s = 0 included for +-1). Stops at the
    first epoch without a mistake (converged), when the weights repeat an
    earlier epoch's (a cycle: never converges), or after ``max_epochs``.
    """
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, numbers.Integral):
        raise TypeError(f"{_WHO}: max_epochs must be a positive int, got {max_epochs!r}")
    if max_epochs < 1:
        raise ValueError(f"{_WHO}: max_epochs must be a positive int, got {max_epochs!r}")
    X, y = check_xy(_WHO, X, y)
    rows = _rows(X)
    targets, code = _targets(y)
    signed = code == "+-1"

    def wrong(s: float, t: float) -> bool:
        if signed:
            return t * s <= 0.0  # sign(s) is 0 at s = 0: wrong for either label
        return (s >= 0.0) != (t > 0.0)  # step(0) = 1

    nin = len(rows[0])
    w = [0.0] * nin
    b = 0.0
    mistakes: list[int] = []
    updates: list[tuple[int, int, tuple[float, ...], float]] = []
    after_epoch: dict[tuple[tuple[float, ...], float], int] = {}
    converged = False
    cycle = None
    for epoch in range(1, int(max_epochs) + 1):
        count = 0
        for i, (x, t) in enumerate(zip(rows, targets, strict=True)):
            s = b + sum(wk * xk for wk, xk in zip(w, x, strict=True))
            if not math.isfinite(s):
                raise OverflowError(
                    f"{_WHO}: b + w.x overflowed to {s} at epoch {epoch}, example {i}; "
                    "scale X down"
                )
            if wrong(s, t):
                w = [wk + t * xk for wk, xk in zip(w, x, strict=True)]
                b += t
                count += 1
                if len(updates) < _MAX_RECORDED:
                    updates.append((epoch, i, tuple(w), b))
        mistakes.append(count)
        if count == 0:
            converged = True
            break
        state = (tuple(w), b)
        if state in after_epoch:
            cycle = (after_epoch[state], epoch)
            break
        after_epoch[state] = epoch
    if not all(math.isfinite(v) for v in (*w, b)):
        raise OverflowError(f"{_WHO}: the weights overflowed to {w}, {b}; scale X down")
    unit = Perceptron(w, b, activation="sign" if signed else "step")
    return PerceptronRun(unit, converged, mistakes, int(max_epochs), code, updates, cycle)
