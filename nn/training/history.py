"""History: what fit records per epoch, its JSON form, and the checks that read it back."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from .._text import plural
from ..tasks import Task

__all__ = ["History", "SERIES", "record", "truncate"]

SERIES = ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "grad_norm", "lr", "time")


@dataclass
class History:
    """What happened during ``fit``: one entry per completed epoch in each series.

    Series (lists, index e - 1 for epoch e): ``epoch`` (1, 2, ...), ``loss`` (the
    batch-mean training objective: each batch's data loss plus regularisers,
    taken before that batch's update and averaged over the epoch's batches,
    weighted by batch size; so with ``batch_size=1`` it is the mean over the
    examples as the weights moved, not the loss of the weights the epoch ends
    with, which ``evaluate`` gives), ``val_loss`` (data loss on the validation
    set after the epoch), ``accuracy`` and ``val_accuracy`` (fractions in [0, 1];
    None for regression or without validation), ``grad_norm`` (the L2 norm of
    all parameter gradients, averaged over the epoch's updates), ``lr`` (the
    learning rate used) and ``time`` (seconds).

    Summary: ``best_epoch`` (epoch number with the lowest validation loss, or
    training loss without validation), ``stopped_early``, ``interrupted``,
    ``updates`` (optimiser steps in total), ``perturbations`` and
    ``perturbed_epochs`` (the lecture's step 4), ``task`` (the resolved loss,
    as a dict for ``nn.predict``) and ``config`` (the settings fit ran with).
    """

    epoch: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    interrupted: bool = False
    updates: int = 0
    perturbations: int = 0
    perturbed_epochs: list[int] = field(default_factory=list)
    task: dict[str, Any] | None = None
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def epochs_run(self) -> int:
        """How many epochs completed."""
        return len(self.epoch)

    @property
    def has_validation(self) -> bool:
        return any(v is not None for v in self.val_loss)

    def best(self) -> dict[str, Any]:
        """Every series' value at ``best_epoch`` ({} before the first epoch)."""
        if self.best_epoch is None:
            return {}
        i = self.best_epoch - 1
        return {name: getattr(self, name)[i] for name in SERIES}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``json.dumps`` it); ``History.from_dict`` reverses it."""
        out: dict[str, Any] = {"format": "chainrule.history", "version": 1}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = (
                list(value) if isinstance(value, list) else dict(value)
                if isinstance(value, dict) else value
            )
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Rebuild a History from ``to_dict()``'s output (e.g. read from history.json).

        Every field is checked, as ``nn.load`` checks a model file, so a damaged
        history fails here with a ValueError naming the key and the value, not
        later in ``best()`` or ``nn.predict``: series entries must be finite
        numbers (None only where fit writes it), ``best_epoch`` one of the
        recorded epochs, ``task`` a dict ``nn.get_task`` reads, and so on.
        """
        if not isinstance(data, dict) or data.get("format") != "chainrule.history":
            raise ValueError("History.from_dict: not a chainrule history (missing 'format')")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names - {"format", "version"})
        if unknown:
            raise ValueError(f"History.from_dict: unknown keys {unknown}")
        _check_history(data)
        history = cls(**{k: v for k, v in data.items() if k in names})
        lengths = {name: len(getattr(history, name)) for name in SERIES}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"History.from_dict: series of different lengths {lengths}")
        best = history.best_epoch
        if best is not None and not best <= lengths["epoch"]:
            raise ValueError(
                f"History.from_dict: 'best_epoch' = {best!r} is not one of the "
                f"{plural(lengths['epoch'], 'recorded epoch')}"
            )
        return history


def _is_count(x: Any, low: int) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool) and x >= low


def _is_finite(x: Any, low: float = -math.inf, high: float = math.inf) -> bool:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return False
    try:
        return math.isfinite(x) and low <= x <= high
    except OverflowError:  # an int beyond the float range
        return False


# name -> (test of one value, what it must be, whether None is allowed): what fit writes.
_HISTORY_RULES: dict[str, tuple[Callable[[Any], bool], str, bool]] = {
    "epoch": (lambda v: _is_count(v, 1), "an int >= 1", False),
    "loss": (_is_finite, "a finite number", False),
    "val_loss": (_is_finite, "a finite number or None", True),
    "accuracy": (lambda v: _is_finite(v, 0.0, 1.0), "a number in [0, 1] or None", True),
    "val_accuracy": (lambda v: _is_finite(v, 0.0, 1.0), "a number in [0, 1] or None", True),
    "grad_norm": (lambda v: _is_finite(v, 0.0), "a finite number >= 0", False),
    "lr": (lambda v: _is_finite(v, 0.0), "a finite number >= 0 or None", True),
    "time": (lambda v: _is_finite(v, 0.0), "a finite number >= 0", False),
    "perturbed_epochs": (lambda v: _is_count(v, 1), "an int >= 1", False),
}


def _check_history(data: dict[str, Any]) -> None:
    """ValueError naming the first key of a History dict whose value fit cannot have written."""

    def bad(key: str, value: Any, need: str, where: str = "") -> ValueError:
        return ValueError(
            f"History.from_dict: {key!r}{where} must be {need}, got {value!r:.80}"
        )

    version = data.get("version", 1)
    if not _is_count(version, 1):
        raise bad("version", version, "an int >= 1")
    if version > 1:
        raise ValueError(
            f"History.from_dict: 'version' {version} was written by a newer chainrule; "
            "this one reads version 1"
        )
    for name, (ok, need, none_ok) in _HISTORY_RULES.items():
        if name not in data:
            continue
        series = data[name]
        if not isinstance(series, list):
            raise bad(name, series, "a list")
        for i, v in enumerate(series):
            if not (ok(v) or (none_ok and v is None)):
                raise bad(name, v, need, f"[{i}]")
    checks = {
        "best_epoch": (lambda v: v is None or _is_count(v, 1), "an epoch number or None"),
        "stopped_early": (lambda v: isinstance(v, bool), "true or false"),
        "interrupted": (lambda v: isinstance(v, bool), "true or false"),
        "updates": (lambda v: _is_count(v, 0), "an int >= 0"),
        "perturbations": (lambda v: _is_count(v, 0), "an int >= 0"),
        "config": (lambda v: isinstance(v, dict), "a dict"),
        "task": (lambda v: v is None or isinstance(v, dict), "a dict (a Task's to_dict()) or None"),
    }
    for key, (ok, need) in checks.items():
        if key in data and not ok(data[key]):
            raise bad(key, data[key], need)
    task = data.get("task")
    if task is not None:
        _check_task(task)


def _check_task(task: dict[str, Any]) -> None:
    """The task a History holds must be one ``nn.get_task`` (and ``nn.predict``) reads."""
    if task.get("target") == "custom":  # a callable loss: only its name is kept
        name, k = task.get("loss"), task.get("num_classes", 0)
        if not isinstance(name, str) or k is not None:
            raise ValueError(f"History.from_dict: 'task' is not a Task's to_dict(): {task!r:.80}")
        return
    try:
        Task.from_dict(task)
    except ValueError as err:
        raise ValueError(f"History.from_dict: 'task' = {task!r:.80} is not a Task: {err}") from None



def record(history: History, *values: Any) -> None:
    """Append one epoch to every series (in SERIES order)."""
    for name, value in zip(SERIES, values, strict=True):
        getattr(history, name).append(value)


def truncate(history: History) -> None:
    """Cut every series to the shortest (an interrupt may land between appends)."""
    n = min(len(getattr(history, name)) for name in SERIES)
    for name in SERIES:
        del getattr(history, name)[n:]
