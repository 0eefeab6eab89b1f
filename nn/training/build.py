"""The optimiser and learning-rate schedule fit trains with, by name or as given."""

from __future__ import annotations

from typing import Any

from autograd import Value

from ..module import Module
from ..optim import SGD, Adam, AdamW
from ..schedules import ConstantLR, CosineAnnealing, LinearDecay, LRSchedule, StepLR

__all__ = ["DEFAULT_LR", "OPTIMIZERS", "SCHEDULES", "make_optimizer", "make_schedule"]

OPTIMIZERS: tuple[str, ...] = ("sgd", "adam", "adamw")
SCHEDULES: tuple[str, ...] = ("constant", "step", "linear", "cosine")
# The learning rate a named optimiser gets when fit() is given none.
DEFAULT_LR = {"sgd": 0.1, "adam": 0.01, "adamw": 0.01}


def make_optimizer(
    name: Any, params: list[Value], lr: float | None = None,
    momentum: float | None = None, weight_decay: float | None = None,
):
    """An optimiser by name ("sgd", "adam", "adamw") or the instance given, checked."""
    if not isinstance(name, str):
        # Duck typing: anything with step() will do, except a Value or a Module,
        # which have a step() (the threshold unit) that is not an update.
        if isinstance(name, (Value, Module)) or not callable(getattr(name, "step", None)):
            raise TypeError(
                f"fit: optimizer must be one of {', '.join(OPTIMIZERS)} or an object with "
                f"step(), got {name!r}"
            )
        given = [k for k, v in (("lr", lr), ("momentum", momentum),
                                ("weight_decay", weight_decay)) if v is not None]
        if given:
            raise ValueError(
                f"fit: {', '.join(given)} apply only when optimizer is a name; "
                "set them on the optimizer instance instead"
            )
        own = getattr(name, "params", None)
        if isinstance(own, list) and own:
            mine = {id(p) for p in params}
            if not any(id(p) in mine for p in own):
                raise ValueError(
                    "fit: the optimizer holds none of the model's parameters; "
                    "build it from model.parameters()"
                )
        return name
    key = name.strip().lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"fit: unknown optimizer {name!r}; valid names: {', '.join(OPTIMIZERS)}")
    lr = DEFAULT_LR[key] if lr is None else lr
    if key == "sgd":
        return SGD(params, lr, momentum=momentum or 0.0, weight_decay=weight_decay or 0.0)
    if momentum is not None:
        raise ValueError(f"fit: momentum applies only to the 'sgd' optimizer, not {key!r}")
    cls = Adam if key == "adam" else AdamW
    return cls(params, lr) if weight_decay is None else cls(params, lr, weight_decay=weight_decay)


def make_schedule(spec: Any, optimizer: Any, epochs: int) -> LRSchedule | None:
    """A schedule stepped once per epoch, by name or as given (bound to ``optimizer``)."""
    if spec is None:
        return None
    if isinstance(spec, LRSchedule):
        if spec.optimizer is None:
            spec.optimizer = optimizer
            optimizer.lr = spec.get_last_lr()
        elif spec.optimizer is not optimizer:
            raise ValueError("fit: the schedule drives a different optimizer than fit's")
        return spec
    if not isinstance(spec, str) or spec.strip().lower() not in SCHEDULES:
        raise ValueError(f"fit: unknown schedule {spec!r}; valid names: {', '.join(SCHEDULES)}")
    key = spec.strip().lower()
    lr = optimizer.lr
    if key == "constant":
        return ConstantLR(optimizer=optimizer)
    if key == "step":  # divide by 10 after each third of the run
        return StepLR(max(1, epochs // 3), 0.1, optimizer=optimizer)
    if key == "linear":  # micrograd's demo schedule: down to a tenth, linearly
        return LinearDecay(lr, lr * 0.1, max(1, epochs), optimizer=optimizer)
    return CosineAnnealing(max(1, epochs), optimizer=optimizer)
