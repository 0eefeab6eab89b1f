"""Optimisers: SGD (with momentum, weight decay, Nesterov), Adam and AdamW.

Each optimiser holds a list of parameter Values and, on ``step()``, moves every
one of them using its ``.grad``. The arithmetic is on plain floats, written
straight into ``p.data``: no graph nodes are built, so ``step()`` is safe to call
with gradient recording on.

The update rules are PyTorch's (``torch.optim``), term for term:

SGD, gradient g, parameter p, momentum buffer b::

    g = g + weight_decay * p                      (if weight_decay)
    b = g on the first step, then b = momentum * b + g
    g = g + momentum * b  (nesterov)   or   g = b  (classic momentum)
    p = p - lr * g

Adam, step count t, moments m and v (both start at 0)::

    g = g + weight_decay * p                      (if weight_decay: L2, coupled)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

AdamW is Adam with the weight decay decoupled from the gradient: first
``p = p * (1 - lr * weight_decay)``, then the Adam update with no L2 term.

Like PyTorch (where every parameter in a group is stepped whenever it has a
gradient, and here every Value has one: 0.0 until a backward reaches it), every
parameter is updated on every step. A parameter whose gradient is 0 still moves
under momentum or weight decay.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Iterable

from autograd import Value

__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]


# --- argument checking -------------------------------------------------------------


def _real(owner: str, name: str, value) -> float:
    """``value`` as a float; TypeError unless it is a real number (bools are not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}")
    try:
        return float(value)
    except OverflowError:  # an int beyond the float range: as far off as inf
        return math.inf if value > 0 else -math.inf


def _finite(owner: str, name: str, value, low: float, *, low_open: bool, high=None) -> float:
    """A finite float with ``value >= low`` (``> low`` if low_open) and ``< high``."""
    x = _real(owner, name, value)
    bad = not math.isfinite(x) or x < low or (low_open and x == low)
    if high is not None:
        bad = bad or x >= high
    if bad:
        lo = f"({low:g}" if low_open else f"[{low:g}"
        hi = f"{high:g})" if high is not None else "inf)"
        raise ValueError(f"{owner}: {name} must be a finite number in {lo}, {hi}, got {value!r}")
    return x


def _params(owner: str, params) -> list[Value]:
    """The parameters as a list of distinct Values, or a clear error."""
    if isinstance(params, Value):
        raise TypeError(
            f"{owner}: params must be an iterable of Values, got a single Value; "
            f"pass [{params!r}] or model.parameters()"
        )
    if isinstance(params, (str, bytes, dict)) or not isinstance(params, Iterable):
        raise TypeError(
            f"{owner}: params must be an iterable of Values (e.g. model.parameters()), "
            f"got {type(params).__name__}"
        )
    out = list(params)
    if not out:
        raise ValueError(f"{owner}: params is empty; there is nothing to optimise")
    seen: dict[int, int] = {}
    for i, p in enumerate(out):
        if not isinstance(p, Value):
            raise TypeError(f"{owner}: params[{i}] must be a Value, got {type(p).__name__} {p!r}")
        j = seen.setdefault(id(p), i)
        if j != i:
            raise ValueError(
                f"{owner}: params[{i}] is the same Value as params[{j}]; "
                "a parameter listed twice would be stepped twice"
            )
    return out


def _floats(owner: str, name: str, values, n: int, low: float = -math.inf) -> list[float]:
    """A loaded buffer: a list of n finite real numbers (each >= low), copied as floats."""
    if not isinstance(values, (list, tuple)):
        raise ValueError(f"{owner}.load_state_dict: {name} must be a list, got {values!r}")
    if len(values) != n:
        raise ValueError(
            f"{owner}.load_state_dict: {name} has {len(values)} entries, "
            f"the optimizer has {n} params"
        )
    out = []
    for i, x in enumerate(values):
        x = _real(owner, f"{name}[{i}]", x)  # an int too big for a float is inf here
        if not (math.isfinite(x) and x >= low):
            need = "a finite number" if low == -math.inf else f"a finite number >= {low:g}"
            raise ValueError(
                f"{owner}.load_state_dict: {name}[{i}] must be {need}, got {values[i]!r}"
            )
        out.append(x)
    return out


# --- the base class ---------------------------------------------------------------


class Optimizer:
    """What every optimiser shares: the parameter list, ``lr``, ``zero_grad``, state.

    Subclasses implement ``step()`` and say which hyperparameters and per-parameter
    buffers make up their state (``_hyper`` and ``_buffers``).
    """

    _hyper: tuple[str, ...] = ("lr",)
    _buffers: tuple[str, ...] = ()
    _optional_buffers: tuple[str, ...] = ()  # buffers that may be None (not created yet)
    _nonnegative_buffers: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        name = type(self).__name__
        self.params: list[Value] = _params(name, params)
        self._lr = _finite(name, "lr", lr, 0.0, low_open=True)

    @property
    def lr(self) -> float:
        """The learning rate; settable (schedules set it), any finite value >= 0."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        # The constructor asks for lr > 0; a schedule may anneal all the way to 0.
        self._lr = _finite(type(self).__name__, "lr", value, 0.0, low_open=False)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0 (call before each backward)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- resuming ------------------------------------------------------------------

    def _check_hyper(self, key: str, value):
        """Validate a loaded hyperparameter; subclasses check theirs."""
        if key == "lr":
            return _finite(type(self).__name__, "lr", value, 0.0, low_open=False)
        return value

    def _check_together(self, hyper: dict) -> None:
        """Reject hyperparameters that are fine alone but not together."""

    def state_dict(self) -> dict:
        """A JSON-serialisable snapshot: hyperparameters and per-parameter buffers.

        The dict holds only str keys, floats, ints, bools, None and lists, and
        shares nothing with the optimiser, so ``json.dumps`` it and later
        ``load_state_dict(json.loads(...))`` to resume exactly where you stopped.
        """
        state: dict = {"optimizer": type(self).__name__, "n_params": len(self.params)}
        for key in self._hyper:
            value = getattr(self, key)
            state[key] = list(value) if isinstance(value, tuple) else value
        for key in self._buffers:
            buf = getattr(self, key)
            state[key] = None if buf is None else list(buf)
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore a ``state_dict()``: hyperparameters (lr included) and buffers.

        The state must come from the same kind of optimiser over the same number
        of parameters, in the same order; anything else is a ValueError.
        """
        name = type(self).__name__
        if not isinstance(state, dict):
            raise TypeError(f"{name}.load_state_dict: expected a dict, got {type(state).__name__}")
        kind = state.get("optimizer")
        if not isinstance(kind, str) or kind != name:
            raise ValueError(
                f"{name}.load_state_dict: the state is from {kind!r}, not {name!r} "
                "(its 'optimizer' entry)"
            )
        missing = [k for k in ("n_params", *self._hyper, *self._buffers) if k not in state]
        if missing:
            raise ValueError(f"{name}.load_state_dict: the state is missing {missing}")
        n = len(self.params)
        count = state["n_params"]
        if isinstance(count, bool) or not isinstance(count, int) or count != n:
            raise ValueError(
                f"{name}.load_state_dict: the state is for {count!r} params, "
                f"but this optimizer has {n} (n_params)"
            )
        # Validate everything before assigning anything: a bad state changes nothing.
        hyper = {key: self._check_hyper(key, state[key]) for key in self._hyper}
        self._check_together(hyper)
        buffers = {}
        for key in self._buffers:
            if state[key] is None and key in self._optional_buffers:
                buffers[key] = None
                continue
            low = 0.0 if key in self._nonnegative_buffers else -math.inf
            buffers[key] = _floats(name, key, state[key], n, low)
        for key, value in hyper.items():
            setattr(self, "_lr" if key == "lr" else key, value)
        for key, value in buffers.items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        hyper = ", ".join(f"{key}={getattr(self, key)!r}" for key in self._hyper)
        return f"{type(self).__name__}(<{len(self.params)} params>, {hyper})"


# --- SGD ----------------------------------------------------------------------------


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum and L2 weight decay.

    ``SGD(params, lr, momentum=0.0, weight_decay=0.0, nesterov=False)``; the
    update is ``torch.optim.SGD``'s with dampening 0 (see the module docstring).
    """

    _hyper = ("lr", "momentum", "weight_decay", "nesterov")
    _buffers = ("momentum_buffer",)
    _optional_buffers = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = self._check_hyper("momentum", momentum)
        self.weight_decay = self._check_hyper("weight_decay", weight_decay)
        self.nesterov = self._check_hyper("nesterov", nesterov)
        self._check_together({"momentum": self.momentum, "nesterov": self.nesterov})
        # One float per parameter, created by the first step (None until then).
        self.momentum_buffer: list[float] | None = None

    def _check_hyper(self, key: str, value):
        if key == "momentum":
            return _finite("SGD", "momentum", value, 0.0, low_open=False, high=1.0)
        if key == "weight_decay":
            return _finite("SGD", "weight_decay", value, 0.0, low_open=False)
        if key == "nesterov":
            if not isinstance(value, bool):
                raise TypeError(f"SGD: nesterov must be True or False, got {value!r}")
            return value
        return super()._check_hyper(key, value)

    def _check_together(self, hyper: dict) -> None:
        if hyper["nesterov"] and hyper["momentum"] == 0.0:
            raise ValueError("SGD: nesterov=True needs momentum > 0, got momentum=0.0")

    def step(self) -> None:
        """Move every parameter one step against its gradient."""
        lr, mu, wd = self._lr, self.momentum, self.weight_decay
        params = self.params
        if mu == 0.0:
            for p in params:
                g = p.grad + wd * p.data if wd else p.grad
                p.data = p.data - lr * g
            return
        buf = self.momentum_buffer
        first = buf is None
        if first:
            buf = self.momentum_buffer = [0.0] * len(params)
        nesterov = self.nesterov
        for i, p in enumerate(params):
            g = p.grad + wd * p.data if wd else p.grad
            b = g if first else mu * buf[i] + g
            buf[i] = b
            p.data = p.data - lr * (g + mu * b if nesterov else b)

    # fit's array path (nn.training.flat): the same step on float64 arrays in
    # ``params`` order, each element through the loop's float operations in its order
    # (numpy's +, -, * round as Python's do), so the numbers are the loop's, bit for bit.

    def _arrays(self, np) -> dict:
        buf = self.momentum_buffer
        return {"momentum_buffer": None if buf is None else np.array(buf, dtype=np.float64)}

    def _load_arrays(self, arrays: dict) -> None:
        buf = arrays["momentum_buffer"]
        if buf is not None:
            self.momentum_buffer = buf.tolist()

    def _step_arrays(self, np, data, grad, arrays: dict):
        """``step`` on arrays: the new parameters (``arrays`` holds the buffers)."""
        lr, mu, wd = self._lr, self.momentum, self.weight_decay
        g = grad + wd * data if wd else grad
        if mu == 0.0:
            return data - lr * g
        buf = arrays["momentum_buffer"]
        b = np.array(g) if buf is None else mu * buf + g
        arrays["momentum_buffer"] = b
        return data - lr * (g + mu * b if self.nesterov else b)


# --- Adam and AdamW -----------------------------------------------------------------


class Adam(Optimizer):
    """Adam with bias correction; ``weight_decay`` adds the L2 term to the gradient.

    ``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)``;
    the update is ``torch.optim.Adam``'s (see the module docstring).
    """

    _hyper = ("lr", "betas", "eps", "weight_decay", "step_count")
    _buffers = ("exp_avg", "exp_avg_sq")
    _nonnegative_buffers = ("exp_avg_sq",)  # a running mean of squares: sqrt needs it >= 0
    _decoupled = False  # AdamW sets this: decay the weights, not the gradient

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.betas = self._check_hyper("betas", betas)
        self.eps = self._check_hyper("eps", eps)
        self.weight_decay = self._check_hyper("weight_decay", weight_decay)
        n = len(self.params)
        self.step_count = 0  # t: how many steps have been taken
        self.exp_avg = [0.0] * n  # m: running mean of the gradient
        self.exp_avg_sq = [0.0] * n  # v: running mean of the squared gradient

    def _check_hyper(self, key: str, value):
        name = type(self).__name__
        if key == "betas":
            if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
                raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {value!r}")
            if len(value) != 2:
                raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {value!r}")
            return tuple(
                _finite(name, f"betas[{i}]", b, 0.0, low_open=False, high=1.0)
                for i, b in enumerate(value)
            )
        if key == "eps":  # > 0: with eps = 0 a zero gradient would divide 0 by 0
            return _finite(name, "eps", value, 0.0, low_open=True)
        if key == "weight_decay":
            return _finite(name, "weight_decay", value, 0.0, low_open=False)
        if key == "step_count":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: step_count must be an int >= 0, got {value!r}")
            return value
        return super()._check_hyper(key, value)

    def _coefficients(self) -> tuple[float, float, float, float]:
        """Count the step; (step size, sqrt of the second bias correction, decay, L2)."""
        lr, wd = self._lr, self.weight_decay
        beta1, beta2 = self.betas
        self.step_count += 1
        t = self.step_count
        decay = 1.0 - lr * wd if self._decoupled else 1.0
        l2 = 0.0 if self._decoupled else wd
        return lr / (1.0 - beta1**t), math.sqrt(1.0 - beta2**t), decay, l2

    def step(self) -> None:
        """One Adam step for every parameter."""
        params = self.params
        np = sys.modules.get("numpy")  # never imported here: used when it already is
        if np is not None and len(params) >= _ARRAY_MIN:
            arrays = self._arrays(np)
            with np.errstate(all="ignore"):
                new = self._step_arrays(
                    np, np.array([p.data for p in params], dtype=np.float64),
                    np.array([p.grad for p in params], dtype=np.float64), arrays)
            self._load_arrays(arrays)
            for p, x in zip(params, new.tolist(), strict=True):
                p.data = x
            return
        step_size, correction2_sqrt, decay, l2 = self._coefficients()
        eps = self.eps
        beta1, beta2 = self.betas
        m, v = self.exp_avg, self.exp_avg_sq
        for i, p in enumerate(params):
            g = p.grad + l2 * p.data if l2 else p.grad
            m[i] = mi = beta1 * m[i] + (1.0 - beta1) * g
            v[i] = vi = beta2 * v[i] + (1.0 - beta2) * g * g
            denom = math.sqrt(vi) / correction2_sqrt + eps
            p.data = p.data * decay - step_size * (mi / denom)

    # The step on float64 arrays in ``params`` order (here for many parameters, and
    # fit's array path, nn.training.flat): each element goes through the loop's float
    # operations in its order (numpy's +, -, *, / and sqrt round exactly as Python's),
    # so the numbers are the loop's, bit for bit.

    def _arrays(self, np) -> dict:
        return {"exp_avg": np.array(self.exp_avg, dtype=np.float64),
                "exp_avg_sq": np.array(self.exp_avg_sq, dtype=np.float64)}

    def _load_arrays(self, arrays: dict) -> None:
        self.exp_avg[:] = arrays["exp_avg"].tolist()
        self.exp_avg_sq[:] = arrays["exp_avg_sq"].tolist()

    def _step_arrays(self, np, data, grad, arrays: dict):
        """``step`` on arrays: the new parameters (``arrays`` holds the moments)."""
        step_size, correction2_sqrt, decay, l2 = self._coefficients()
        beta1, beta2 = self.betas
        g = grad + l2 * data if l2 else grad
        m = beta1 * arrays["exp_avg"] + (1.0 - beta1) * g
        v = beta2 * arrays["exp_avg_sq"] + (1.0 - beta2) * g * g
        arrays["exp_avg"], arrays["exp_avg_sq"] = m, v
        denom = np.sqrt(v) / correction2_sqrt + self.eps
        return data * decay - step_size * (m / denom)


# Below this many parameters Adam's plain loop is as fast as building the arrays.
_ARRAY_MIN = 256


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``.

    ``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)``:
    each step first shrinks every weight, ``p *= 1 - lr * weight_decay``, then
    applies the plain Adam update.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)
