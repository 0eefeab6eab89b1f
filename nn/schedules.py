"""Learning-rate schedules: the learning rate as a function of the step (or epoch) k.

Every schedule is a pure function ``lr_at(k)`` plus a counter. Give it an
optimiser (any object with a settable ``lr``) and it drives that optimiser:
construction sets ``optimizer.lr = lr_at(0)``, and each ``step()`` advances the
counter and sets ``optimizer.lr = lr_at(k)``. Call it once per epoch or once
per optimiser step, whichever ``k`` should count, after ``optimizer.step()``,
as in PyTorch::

    opt = SGD(model.parameters(), lr=1.0)
    sched = LinearDecay(1.0, 0.1, total_steps=100, optimizer=opt)
    for k in range(100):
        ...                     # forward, zero_grad, backward
        opt.step()              # uses lr = 1.0 - 0.9 * k / 100
        sched.step()

Without an optimiser a schedule is just the function: ``StepLR(10, 0.5,
base_lr=0.1).lr_at(25) == 0.025``.

The formulas are PyTorch's closed forms (``torch.optim.lr_scheduler``):

- ``ConstantLR``: base_lr, times ``factor`` for the first ``total_iters`` steps;
- ``StepLR``: base_lr * gamma ** (k // step_size);
- ``LinearDecay``: start - (start - end) * k / total_steps, then end (this is
  micrograd's demo schedule ``1.0 - 0.9 * k / 100`` for start=1.0, end=0.1,
  total_steps=100);
- ``CosineAnnealing``: eta_min + (base_lr - eta_min) * (1 + cos(pi k / t_max)) / 2,
  which, as in PyTorch, keeps following the cosine back up after t_max.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["ConstantLR", "CosineAnnealing", "LRSchedule", "LinearDecay", "StepLR"]


def _is_optimizer(value) -> bool:
    return hasattr(value, "lr") and hasattr(value, "step") and hasattr(value, "zero_grad")


def _reject_optimizer(owner: str, name: str, value) -> None:
    """A PyTorch habit is ``StepLR(opt, ...)``; here the optimiser is a keyword."""
    if _is_optimizer(value):
        raise TypeError(
            f"{owner}: {name} must be a number, got the optimizer {value!r}; "
            f"pass it by keyword: {owner}(..., optimizer=opt)"
        )


def _check_optimizer(owner: str, optimizer) -> None:
    if optimizer is not None and not hasattr(optimizer, "lr"):
        raise TypeError(
            f"{owner}: optimizer must have a settable lr attribute, got {type(optimizer).__name__}"
        )


def _number(owner: str, name: str, value, *, low: float, low_open: bool) -> float:
    """A finite float >= low (> low if low_open), or a clear error."""
    _reject_optimizer(owner, name, value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}")
    x = float(value)
    if not math.isfinite(x) or x < low or (low_open and x == low):
        op = ">" if low_open else ">="
        raise ValueError(f"{owner}: {name} must be a finite number {op} {low:g}, got {value!r}")
    return x


def _count(owner: str, name: str, value, *, low: int) -> int:
    """An int >= low, or a clear error."""
    _reject_optimizer(owner, name, value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{owner}: {name} must be >= {low}, got {value!r}")
    return int(value)


class LRSchedule:
    """Base class: ``lr_at(k)``, ``step()``, ``get_last_lr()``, ``state_dict()``.

    Subclasses define ``lr_at`` and list their settings in ``_settings`` (the
    names of their attributes), each checked by ``_check(name, value)``.
    """

    _settings: tuple[str, ...] = ()

    def __init__(self, optimizer=None) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        self.last_step = 0  # k: how many times step() has been called
        self._apply()

    def _base_lr(self, base_lr, optimizer) -> float:
        """The starting learning rate: base_lr if given, else the optimiser's lr."""
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        if base_lr is None:
            if optimizer is None:
                raise ValueError(f"{name}: give base_lr, or an optimizer to take it from")
            base_lr = optimizer.lr
        return _number(name, "base_lr", base_lr, low=0.0, low_open=True)

    def lr_at(self, k: int) -> float:
        """The learning rate for step k (k = 0 is the first); no side effects."""
        k = _count(f"{type(self).__name__}.lr_at", "k", k, low=0)
        return self._lr(k)

    def _lr(self, k: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _apply(self) -> float:
        lr = self._lr(self.last_step)
        if self.optimizer is not None:
            self.optimizer.lr = lr
        self._last_lr = lr
        return lr

    def step(self) -> float:
        """Advance k by one, set the optimiser's lr to ``lr_at(k)``, and return it."""
        self.last_step += 1
        return self._apply()

    def get_last_lr(self) -> float:
        """The learning rate most recently set (``lr_at(last_step)``), as a float."""
        return self._last_lr

    def state_dict(self) -> dict:
        """A JSON-serialisable snapshot: the step counter and the settings."""
        state: dict = {"schedule": type(self).__name__, "last_step": self.last_step}
        for key in self._settings:
            state[key] = getattr(self, key)
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore a ``state_dict()`` and set the optimiser's lr to match it."""
        name = type(self).__name__
        if not isinstance(state, dict):
            raise TypeError(f"{name}.load_state_dict: expected a dict, got {type(state).__name__}")
        if state.get("schedule") != name:
            raise ValueError(
                f"{name}.load_state_dict: the state is from {state.get('schedule')!r}, not {name!r}"
            )
        missing = [k for k in ("last_step", *self._settings) if k not in state]
        if missing:
            raise ValueError(f"{name}.load_state_dict: the state is missing {missing}")
        settings = {key: self._check(key, state[key]) for key in self._settings}
        last_step = _count(f"{name}.load_state_dict", "last_step", state["last_step"], low=0)
        for key, value in settings.items():
            setattr(self, key, value)
        self.last_step = last_step
        self._apply()

    def _check(self, key: str, value):  # pragma: no cover - every subclass overrides
        return value

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={getattr(self, key)!r}" for key in self._settings)
        return f"{type(self).__name__}({settings}, last_step={self.last_step})"


class ConstantLR(LRSchedule):
    """The same learning rate at every step.

    ``ConstantLR(base_lr=None, *, optimizer=None, factor=1.0, total_iters=0)``.
    As in PyTorch's ConstantLR, the first ``total_iters`` steps may use
    ``base_lr * factor`` instead (a simple warm-up); by default they do not.
    """

    _settings = ("base_lr", "factor", "total_iters")

    def __init__(
        self,
        base_lr: float | None = None,
        *,
        optimizer=None,
        factor: float = 1.0,
        total_iters: int = 0,
    ) -> None:
        self.base_lr = self._base_lr(base_lr, optimizer)
        self.factor = self._check("factor", factor)
        self.total_iters = self._check("total_iters", total_iters)
        super().__init__(optimizer)

    def _check(self, key: str, value):
        if key == "base_lr":
            return _number("ConstantLR", key, value, low=0.0, low_open=True)
        if key == "factor":
            return _number("ConstantLR", key, value, low=0.0, low_open=True)
        return _count("ConstantLR", key, value, low=0)

    def _lr(self, k: int) -> float:
        return self.base_lr * self.factor if k < self.total_iters else self.base_lr


class StepLR(LRSchedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps.

    ``StepLR(step_size, gamma=0.1, *, base_lr=None, optimizer=None)``:
    ``lr_at(k) = base_lr * gamma ** (k // step_size)``.
    """

    _settings = ("step_size", "gamma", "base_lr")

    def __init__(
        self,
        step_size: int,
        gamma: float = 0.1,
        *,
        base_lr: float | None = None,
        optimizer=None,
    ) -> None:
        self.step_size = self._check("step_size", step_size)
        self.gamma = self._check("gamma", gamma)
        self.base_lr = self._base_lr(base_lr, optimizer)
        super().__init__(optimizer)

    def _check(self, key: str, value):
        if key == "step_size":
            return _count("StepLR", key, value, low=1)
        return _number("StepLR", key, value, low=0.0, low_open=True)

    def _lr(self, k: int) -> float:
        return self.base_lr * self.gamma ** (k // self.step_size)


class LinearDecay(LRSchedule):
    """Straight line from ``start`` (at k = 0) to ``end`` (at k = total_steps), then flat.

    ``LinearDecay(start, end, total_steps, *, optimizer=None)``:
    ``lr_at(k) = start - (start - end) * k / total_steps`` for k < total_steps,
    ``end`` from then on. With (1.0, 0.1, 100) this is exactly micrograd's demo
    schedule ``1.0 - 0.9 * k / 100``. ``end`` may exceed ``start`` (a warm-up).
    """

    _settings = ("start", "end", "total_steps")

    def __init__(self, start: float, end: float, total_steps: int, *, optimizer=None) -> None:
        self.start = self._check("start", start)
        self.end = self._check("end", end)
        self.total_steps = self._check("total_steps", total_steps)
        super().__init__(optimizer)

    def _check(self, key: str, value):
        if key == "start":
            return _number("LinearDecay", key, value, low=0.0, low_open=True)
        if key == "end":
            return _number("LinearDecay", key, value, low=0.0, low_open=False)
        return _count("LinearDecay", key, value, low=1)

    def _lr(self, k: int) -> float:
        if k >= self.total_steps:
            return self.end
        return self.start - (self.start - self.end) * k / self.total_steps


class CosineAnnealing(LRSchedule):
    """Half a cosine from ``base_lr`` (k = 0) down to ``eta_min`` (k = t_max).

    ``CosineAnnealing(t_max, eta_min=0.0, *, base_lr=None, optimizer=None)``:
    ``lr_at(k) = eta_min + (base_lr - eta_min) * (1 + cos(pi * k / t_max)) / 2``,
    PyTorch's CosineAnnealingLR. Past t_max the cosine carries on and the rate
    rises again (period 2 * t_max), as in PyTorch; choose t_max = the number of
    steps you will take to end at eta_min.
    """

    _settings = ("t_max", "eta_min", "base_lr")

    def __init__(
        self,
        t_max: int,
        eta_min: float = 0.0,
        *,
        base_lr: float | None = None,
        optimizer=None,
    ) -> None:
        self.t_max = self._check("t_max", t_max)
        self.eta_min = self._check("eta_min", eta_min)
        self.base_lr = self._base_lr(base_lr, optimizer)
        super().__init__(optimizer)

    def _check(self, key: str, value):
        if key == "t_max":
            return _count("CosineAnnealing", key, value, low=1)
        if key == "eta_min":
            return _number("CosineAnnealing", key, value, low=0.0, low_open=False)
        return _number("CosineAnnealing", key, value, low=0.0, low_open=True)

    def _lr(self, k: int) -> float:
        eta_min = self.eta_min
        return eta_min + (self.base_lr - eta_min) * (1.0 + math.cos(math.pi * k / self.t_max)) / 2
