"""fit(): the lectures' training recipe as one call, returning a History.

    history = nn.fit(model, X, y, loss="auto", optimizer="adam", lr=0.05,
                     epochs=200, batch_size=32, val_split=0.25, early_stopping=30)

Each epoch runs the recipe of the lectures over the training data, one batch
at a time (``batch_size=1`` is SGD, ``None`` full-batch gradient descent,
``k`` mini-batches of k shuffled examples):

1. forward: the batch's loss (plus any regularisers) is built as ONE graph;
2. backward: ``loss.backward()`` fills every parameter's ``.grad``;
3. update: ``optimizer.step()``;
4. (optional, ``perturb=eps``) if the epoch's training loss did not go down,
   add U(-eps, eps) noise to every weight: the lecture's "verify that the
   cost has reduced, else perturb the weights randomly".

After the epoch the validation set (if any) is scored under ``no_grad()``
and the learning-rate schedule (if any) takes one step. The best epoch (lowest
validation loss, or training loss without validation) is remembered, with a
snapshot of its weights, and restored at the end when validation or early
stopping is in use. Ctrl-C stops cleanly: you get the History so far and, if
a best epoch was tracked, its weights.
"""

from __future__ import annotations

import math
import numbers
import operator
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field, fields
from typing import Any

from autograd import Value, no_grad

from ._plain import plain
from ._text import plural
from .compiled_step import CompiledStep, compile_safe
from .data import batches, check_xy, make_rng, num_batches, train_val_split
from .module import Module
from .optim import SGD, Adam, AdamW
from .schedules import ConstantLR, CosineAnnealing, LinearDecay, LRSchedule, StepLR
from .tasks import Task, get_task, output_width

__all__ = ["History", "OPTIMIZERS", "SCHEDULES", "evaluate", "fit", "predict"]

OPTIMIZERS: tuple[str, ...] = ("sgd", "adam", "adamw")
SCHEDULES: tuple[str, ...] = ("constant", "step", "linear", "cosine")
# The learning rate a named optimiser gets when fit() is given none.
DEFAULT_LR = {"sgd": 0.1, "adam": 0.01, "adamw": 0.01}

_SERIES = ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "grad_norm", "lr", "time")


# --- History --------------------------------------------------------------------------


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
        return {name: getattr(self, name)[i] for name in _SERIES}

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
        lengths = {name: len(getattr(history, name)) for name in _SERIES}
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


# --- building the pieces ------------------------------------------------------------------


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


def _callables(name: str, spec: Any, what: str) -> list[Callable]:
    """None, one callable, or a list of them, as a list; TypeError naming ``name``."""
    if spec is None:
        return []
    if callable(spec):
        return [spec]
    if isinstance(spec, (str, bytes, Mapping, Set)) or not isinstance(spec, Iterable):
        raise TypeError(f"fit: {name} must be a callable or a list of callables ({what}); "
                        f"got {spec!r}")
    out = list(spec)
    for r in out:
        if not callable(r):
            raise TypeError(f"fit: {name} must be callables ({what}); got {r!r}")
    return out


def _regularizers(spec: Any) -> list[Callable[[Module], Any]]:
    return _callables("regularizers", spec, "model -> Value, e.g. lambda m: nn.l2(m, lam=1e-4)")


def check_features(owner: str, X: Sequence, name: str = "X") -> None:
    """ValueError/TypeError naming the first example that is not finite numbers.

    A NaN or inf feature would only surface later as a NaN loss, blamed on the
    learning rate; an example may be a number (one input) or a list of numbers.
    """
    for i, row in enumerate(X):
        if isinstance(row, (Value, numbers.Real)):
            items = [(f"{name}[{i}]", row)]
        elif isinstance(row, (str, bytes, Mapping, Set)) or not isinstance(row, Iterable):
            raise TypeError(
                f"{owner}: {name}[{i}] must be a list of numbers (one example), got {row!r}"
            )
        elif _plain_finite(row):
            continue  # the common case, without naming every element
        else:
            items = [(f"{name}[{i}][{j}]", v) for j, v in enumerate(row)]
        for where, v in items:
            d = v.data if isinstance(v, Value) else v
            if not isinstance(d, numbers.Real):
                raise TypeError(f"{owner}: {where} must be a number, got {v!r}")
            try:
                finite = math.isfinite(d)
            except OverflowError:  # an int no float can hold
                finite = False
            if not finite:
                raise ValueError(f"{owner}: {where} = {d!r:.40} is not a finite number")


def _plain_finite(row: Any) -> bool:
    """True if ``row`` is a list or tuple of finite floats and ints (not bools)."""
    if row.__class__ is not list and row.__class__ is not tuple:
        return False
    if not set(map(type, row)) <= _PLAIN_NUMBERS:
        return False
    try:
        return math.isfinite(sum(row))  # inf or NaN in, inf or NaN out (or an overflow)
    except OverflowError:  # an int no float can hold: the slow path names it
        return False


_PLAIN_NUMBERS = {float, int}


def _flag(name: str, value: Any, allow_none: bool = False) -> Any:
    if value is None and allow_none:
        return None
    if not isinstance(value, bool):
        options = "True, False or None" if allow_none else "True or False"
        raise TypeError(f"fit: {name} must be {options}, got {value!r}")
    return value


def _count(name: str, value: Any, low: int, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"fit: {name} must be an int >= {low}, got {value!r}")
    return int(value)


def _nonneg(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"fit: {name} must be a number, got {value!r}")
    try:
        x = float(value)
    except OverflowError:  # an int beyond the float range
        x = math.inf
    if not (math.isfinite(x) and x >= 0):
        raise ValueError(f"fit: {name} must be a finite number >= 0, got {value!r:.40}")
    return x


def progress_bar_shown(progress: bool = True) -> bool:
    """Whether ``fit(progress=progress)`` draws a bar: stderr is a terminal and tqdm imports."""
    if not progress:
        return False
    stream = sys.stderr
    isatty = getattr(stream, "isatty", None)
    if stream is None or isatty is None or not isatty():
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:  # the optional "train" extra is not installed
        return False
    return True


def _progress_bar(progress: bool, total: int):
    """A tqdm bar on stderr, or None (progress off, stderr not a TTY, tqdm missing)."""
    if not progress_bar_shown(progress):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="train", unit="epoch", file=sys.stderr, dynamic_ncols=True)


def format_epoch(history: History) -> str:
    """The last epoch's figures as one line: "loss 0.1234  acc 95.0%  val_loss ..."."""
    i = len(history.epoch) - 1
    parts = [f"loss {history.loss[i]:.4f}"]
    if history.accuracy[i] is not None:
        parts.append(f"acc {100 * history.accuracy[i]:.1f}%")
    if history.val_loss[i] is not None:
        parts.append(f"val_loss {history.val_loss[i]:.4f}")
    if history.val_accuracy[i] is not None:
        parts.append(f"val_acc {100 * history.val_accuracy[i]:.1f}%")
    return "  ".join(parts)


def _outputs(model: Module, X: Sequence) -> list:
    with no_grad():
        return [model(x) for x in X]


def _diverged(what: str, value: Any, epoch: int) -> FloatingPointError:
    """The one error fit raises when training diverges, whatever the configuration."""
    return FloatingPointError(
        f"fit: {what} became {value!r} at epoch {epoch}; try a smaller learning rate"
    )


def _check_outputs(outputs: list, where: str, epoch: int) -> None:
    """FloatingPointError if a model output is NaN: no loss or class can be read from
    it (a loss would return NaN, or refuse the value, before fit could tell why)."""
    for out in outputs:
        for v in out if isinstance(out, list) else (out,):
            if v.data != v.data:
                raise _diverged(f"a model output on the {where} data", v.data, epoch)


def _check_weights(model: Module, params: list[Value], epoch: int) -> None:
    """FloatingPointError naming the first parameter that is inf or NaN."""
    if math.isfinite(sum([p.data for p in params])):  # inf or NaN in, inf or NaN out
        return
    for name, p in model.named_parameters():
        if not math.isfinite(p.data):
            raise _diverged(f"parameter {name!r}", p.data, epoch)


def _grad_norm(params: list[Value]) -> float:
    """The L2 norm of the gradients; scaled (hypot) only when the plain sum overflows."""
    grads = [p.grad for p in params]
    norm = math.sqrt(sum(map(operator.mul, grads, grads)))  # the same products, same order
    if norm == math.inf:
        norm = math.hypot(*grads)
    return norm


def _score(
    task: Task, outputs: list, labels: Sequence, epoch: int | None = None
) -> tuple[float, float | None]:
    """(loss, accuracy) of outputs computed under no_grad.

    Within ``fit`` (``epoch`` given) a non-finite loss is divergence, raised as
    FloatingPointError before any class is predicted from the outputs.
    """
    with no_grad():
        loss = task(outputs, labels).data
    if epoch is not None and not math.isfinite(loss):
        raise _diverged("the validation loss", loss, epoch)
    if not task.classification:
        return loss, None
    hits = sum(1 for o, t in zip(outputs, labels, strict=True) if task.predict_one(o) == t)
    return loss, hits / len(labels)


# --- fit ---------------------------------------------------------------------------------


def fit(
    model: Module,
    X: Sequence,
    y: Sequence,
    *,
    loss: Any = "auto",
    optimizer: Any = "adam",
    lr: float | None = None,
    momentum: float | None = None,
    weight_decay: float | None = None,
    schedule: Any = None,
    epochs: int = 100,
    batch_size: int | None = None,
    shuffle: bool = True,
    val_data: tuple[Sequence, Sequence] | None = None,
    val_split: float | None = None,
    early_stopping: int | None = None,
    min_delta: float = 0.0,
    restore_best: bool | None = None,
    regularizers: Any = None,
    perturb: float | None = None,
    seed: Any = 0,
    progress: bool = True,
    callbacks: Any = None,
    compile: bool | None = None,  # noqa: A002 - the API's name
) -> History:
    """Train ``model`` on ``(X, y)`` and return the History of the run.

    X, y            lists (one row of numbers per example; one label each), or numpy
                    arrays and lists of numpy rows, read as the plain numbers they
                    hold: the same numbers train to the same History either way.

    loss            a name (see ``nn.tasks``: "auto", "mse", "bce", "bce_logits" /
                    "logistic", "hinge", "cross_entropy") or a callable
                    ``loss(outputs, targets) -> Value`` over one batch.
    optimizer       "sgd", "adam" or "adamw" (built with ``lr``, ``momentum``,
                    ``weight_decay``; lr defaults to 0.1 for sgd, 0.01 for adam),
                    or an optimiser instance over ``model.parameters()``.
    schedule        None, "constant", "step", "linear", "cosine" or an nn schedule;
                    stepped once per epoch.
    batch_size      1: SGD; None: full batch; k: mini-batches of k. Batches are
                    shuffled each epoch (unless ``shuffle=False``), seeded by ``seed``.
    val_data        ``(X_val, y_val)``; or ``val_split`` a fraction of (X, y) held
                    out with ``nn.train_val_split`` (seeded by ``seed``).
    early_stopping  patience: stop after this many epochs without a new best
                    (validation loss, or training loss without validation; an
                    improvement must exceed ``min_delta``).
    restore_best    put the best epoch's weights back at the end; default: yes
                    when validation or early stopping is in use.
    regularizers    a callable ``model -> Value`` (or a list of them) added to
                    every batch's loss, e.g. ``lambda m: nn.l2(m, lam=1e-4)``.
    perturb         eps > 0: when an epoch's training loss is not below the
                    previous epoch's, add U(-eps, eps) to every parameter.
    seed            int (default 0), None for fresh randomness, or a random.Random.
    progress        show a tqdm bar on stderr (only when stderr is a terminal and
                    tqdm is installed).
    callbacks       a callable ``cb(history, model)`` (or a list), called after
                    every epoch.
    compile         None (default): train through ``autograd.compile`` when the
                    model is built from nn's own modules and the loss is a
                    built-in one, else eagerly; True: insist (ValueError saying
                    why not); False: eagerly. Both give the same History, bit
                    for bit (see ``nn.compiled_step``).
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be an nn.Module, got {type(model).__name__}")
    batch_size, seed = plain(batch_size), plain(seed)  # numpy ints as ints, e.g. in config
    X, y = check_xy("fit", X, y)
    check_features("fit", X)
    epochs = _count("epochs", epochs, 1)
    patience = _count("early_stopping", early_stopping, 1, allow_none=True)
    min_delta = _nonneg("min_delta", min_delta)
    eps = None if perturb is None else _nonneg("perturb", perturb) or None
    restore_best = _flag("restore_best", restore_best, allow_none=True)
    progress = _flag("progress", progress)
    if val_data is not None and val_split is not None:
        raise ValueError("fit: give val_data or val_split, not both")
    rng = make_rng("fit", seed)
    if val_split is not None:
        if isinstance(val_split, bool) or not isinstance(val_split, numbers.Real):
            raise TypeError(f"fit: val_split must be a number, got {val_split!r}")
        if not 0.0 < val_split < 1.0:
            raise ValueError(
                f"fit: val_split must be strictly between 0 and 1, got {val_split!r}"
            )
        X_train, y_train, X_val, y_val = train_val_split(X, y, val_split, seed=rng)
    elif val_data is not None:
        if not isinstance(val_data, (tuple, list)) or len(val_data) != 2:
            raise ValueError("fit: val_data must be a pair (X_val, y_val)")
        X_train, y_train = X, y
        X_val, y_val = check_xy("fit (val_data)", *val_data)
        check_features("fit (val_data)", X_val)
    else:
        X_train, y_train, X_val, y_val = X, y, None, None
    num_batches(len(X_train), batch_size)  # checks batch_size before any work

    with no_grad():
        width = output_width(model(X_train[0]))
    task = get_task(loss, y_train, width)
    task.check_labels(y_train)
    if X_val is not None:
        task.check_labels(y_val, "y_val")

    params = model.parameters()
    opt = make_optimizer(optimizer, params, lr, momentum, weight_decay)
    sched = make_schedule(schedule, opt, epochs)
    regs = _regularizers(regularizers)
    cbs = _callables("callbacks", callbacks, "cb(history, model)")
    step = _compiled_step(compile, model, task, regs)
    has_val = X_val is not None
    track = has_val or patience is not None or restore_best is True
    restore = track if restore_best is None else bool(restore_best)
    noise_rng = make_rng("fit", rng.getrandbits(64)) if eps else None
    own = {id(q) for q in params}  # built once: a comprehension re-made it per parameter
    extra = [p for p in getattr(opt, "params", []) if id(p) not in own]

    history = History(
        task=task.to_dict(),
        config={
            "epochs": epochs, "batch_size": batch_size, "shuffle": shuffle,
            "n_train": len(X_train), "n_val": 0 if X_val is None else len(X_val),
            "optimizer": type(opt).__name__, "lr": getattr(opt, "lr", None),
            "schedule": None if sched is None else type(sched).__name__,
            "early_stopping": patience, "perturb": eps,
            "monitor": "val_loss" if has_val else "loss",
            "seed": seed if seed is None or isinstance(seed, int) else repr(seed),
        },
    )
    best_value = math.inf
    best_state: list[float] | None = None
    since_best = 0
    was_training = model.training
    modules = model.modules()  # walked once: train()/eval() per epoch would walk it again
    bar = _progress_bar(progress, epochs)
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            epoch_lr = getattr(opt, "lr", None)
            _set_mode(modules, True)
            total = grad_norms = 0.0
            seen = hits = steps = 0
            for xb, yb in batches(X_train, y_train, batch_size, shuffle=shuffle, seed=rng):
                fast = None if step is None else step.forward(xb)
                if fast is not None:
                    outputs = fast.outputs
                    _check_outputs(outputs, "training", epoch)
                    batch_loss = step.loss(fast, yb)
                else:
                    outputs = [model(x) for x in xb]
                    _check_outputs(outputs, "training", epoch)
                    batch_loss = task(outputs, yb)
                    for reg in regs:
                        batch_loss = batch_loss + reg(model)
                value = batch_loss.data
                if not math.isfinite(value):
                    raise _diverged("the loss", value, epoch)
                for p in params:
                    p.grad = 0.0
                for p in extra:
                    p.grad = 0.0
                if fast is None or not step.backward(fast):
                    if fast is not None:  # the generated backward raised: eager says what
                        for p in (*params, *extra):
                            p.grad = 0.0
                        batch_loss = task([model(x) for x in xb], yb)
                        for reg in regs:
                            batch_loss = batch_loss + reg(model)
                    batch_loss.backward()
                norm = _grad_norm(params)
                if not math.isfinite(norm):
                    raise _diverged("the gradient norm", norm, epoch)
                grad_norms += norm
                opt.step()
                _check_weights(model, params, epoch)
                steps += 1
                history.updates += 1
                total += value * len(xb)
                seen += len(xb)
                if task.classification:
                    predict = task.predict_one
                    hits += sum(1 for o, t in zip(outputs, yb, strict=True) if predict(o) == t)
            train_loss = total / seen
            mean_norm = grad_norms / steps
            # Finite per batch, these sums can still overflow: the History stays strict JSON.
            if not math.isfinite(train_loss):
                raise _diverged("the epoch's mean loss", train_loss, epoch)
            if not math.isfinite(mean_norm):
                raise _diverged("the epoch's mean gradient norm", mean_norm, epoch)
            val_loss = val_acc = None
            if has_val:
                _set_mode(modules, False)
                val_outputs = None if step is None else step.outputs(X_val)
                if val_outputs is None:
                    val_outputs = _outputs(model, X_val)
                _check_outputs(val_outputs, "validation", epoch)
                val_loss, val_acc = _score(task, val_outputs, y_val, epoch)

            _record(
                history, epoch, train_loss, val_loss,
                hits / seen if task.classification else None, val_acc,
                mean_norm, epoch_lr, time.perf_counter() - start,
            )

            monitored = val_loss if has_val else train_loss
            if monitored < best_value - min_delta or history.best_epoch is None:
                best_value = monitored
                history.best_epoch = epoch
                since_best = 0
                if track:  # the numbers, in parameter order (no names to walk for)
                    best_state = [p.data for p in params]
            else:
                since_best += 1

            # Step 4: the cost did not go down this epoch, so shake the weights.
            if eps and epoch > 1 and train_loss >= history.loss[-2]:
                for p in params:
                    p.data += noise_rng.uniform(-eps, eps)
                _check_weights(model, params, epoch)
                history.perturbations += 1
                history.perturbed_epochs.append(epoch)
            if sched is not None:
                sched.step()
            for cb in cbs:
                cb(history, model)
            if bar is not None:
                bar.set_postfix_str(format_epoch(history), refresh=False)
                bar.update(1)
            if patience is not None and since_best >= patience and epoch < epochs:
                history.stopped_early = True
                break
    except KeyboardInterrupt:
        # The half-finished epoch is not recorded; weights go back to the best epoch.
        history.interrupted = True
        _truncate(history)
    finally:
        if bar is not None:
            bar.close()
        model.train(was_training)
    if restore and best_state is not None:
        for p, v in zip(params, best_state, strict=True):  # finite: _check_weights saw them
            p.data = v
    return history


def _set_mode(modules: list[Module], training: bool) -> None:
    """``model.train(training)`` over a module list walked once per fit."""
    for module in modules:
        object.__setattr__(module, "training", training)


def _compiled_step(
    flag: Any, model: Module, task: Any, regs: list
) -> CompiledStep | None:
    """The compiled training step, or None to train eagerly.

    ``compile=None`` compiles when the model is built from nn's own modules and
    the loss is a built-in one; ``True`` insists (ValueError saying why not).
    """
    if flag is not None and not isinstance(flag, bool):
        raise TypeError(f"fit: compile must be True, False or None, got {flag!r}")
    if flag is False:
        return None
    why_not = compile_safe(model, task)
    if why_not is not None:
        if flag:
            raise ValueError(f"fit: compile=True cannot compile this run: {why_not}")
        return None
    return CompiledStep(model, task, regs)


def _record(history: History, *values: Any) -> None:
    """Append one epoch to every series (in _SERIES order)."""
    for name, value in zip(_SERIES, values, strict=True):
        getattr(history, name).append(value)


def _truncate(history: History) -> None:
    """Cut every series to the shortest (an interrupt may land between appends)."""
    n = min(len(getattr(history, name)) for name in _SERIES)
    for name in _SERIES:
        del getattr(history, name)[n:]


# --- using a trained model -------------------------------------------------------------


def _task_for(model: Module, X: Sequence, loss: Any) -> tuple[Task, list]:
    X = plain(X)  # a numpy array, or a list of numpy rows, as lists
    if isinstance(X, (str, bytes)) or not isinstance(X, Sequence) or not X:
        raise ValueError("X must be a non-empty list of examples")
    check_features("predict", X)
    outputs = _outputs(model, X)
    return get_task(loss, None, output_width(outputs[0])), outputs


def predict(model: Module, X: Sequence, loss: Any = "auto") -> list:
    """The predicted class of each example in X (a list, or a numpy array), by the rule
    of ``loss``.

    ``loss`` is a name (as for ``fit``; without labels "auto" means argmax for
    K outputs, logit > 0 for one), or ``history.task`` from ``fit``, which
    remembers exactly how training read the labels (for a regression task the
    predictions are the outputs' values).
    """
    task, outputs = _task_for(model, X, loss)
    return [task.predict_one(o) for o in outputs]


def evaluate(model: Module, X: Sequence, y: Sequence, loss: Any = "auto") -> dict[str, Any]:
    """``{"loss": ..., "accuracy": ...}`` of ``model`` on (X, y), computed under no_grad.

    The loss is the data loss alone (no regularisers); accuracy is None for
    regression. ``loss`` is resolved against ``y`` as ``fit`` does.
    """
    X, y = check_xy("evaluate", X, y)
    check_features("evaluate", X)
    outputs = _outputs(model, X)
    task = get_task(loss, y, output_width(outputs[0]))
    task.check_labels(y)
    value, acc = _score(task, outputs, y)
    return {"loss": value, "accuracy": acc}
