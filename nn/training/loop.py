"""fit(): the lectures' training recipe as one call, returning a History.

The recipe, epoch by epoch, is described in the package's docstring
(``nn.training``); this module is its loop: batches, the forward, backward and
update of each (eagerly, or through the compiled paths ``compiled`` and
``mapped``), validation, the schedule, and the best epoch kept and restored.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Sequence
from typing import Any

from autograd import Value, no_grad

from .._plain import plain
from ..data import check_xy, index_batches, make_rng, num_batches, train_val_split
from ..module import Module
from ..tasks import Task, get_task, output_width
from .best import BestEpoch
from .build import make_optimizer, make_schedule
from .checks import (
    check_callables,
    check_count,
    check_features,
    check_flag,
    check_nonneg,
    check_regularizers,
)
from .compiled import CompiledStep, compile_safe
from .divergence import check_outputs, check_weights, diverged, grad_norm
from .history import History, record, truncate
from .mapped import MapStep, numpy_available
from .progress import format_epoch, progress_bar
from .scoring import outputs as model_outputs
from .scoring import score

__all__ = ["COMPILE_FLAGS", "fit"]

# What fit(compile=...) accepts (see _compiled_steps).
COMPILE_FLAGS = (None, True, False, "scalar")


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
    compile: bool | str | None = None,  # noqa: A002 - the API's name
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
    compile         how each batch runs. False: eagerly (a graph per batch). True:
                    through ``autograd.compile``: with numpy installed (the
                    ``fast`` extra) each mini-batch runs once through the array
                    code ``step.map`` runs, whose History agrees with eager's to
                    1e-12 relative (not bit for bit: sums run in another order),
                    the parameters kept in arrays between batches (written back
                    into the Values and the optimiser before anything else looks);
                    a first batch of fewer than 8 examples, the ``bce`` loss, and
                    any batch that code cannot run go through the scalar loops.
                    Without numpy, True is "scalar". "scalar": generated float
                    loops per batch, the eager History bit for bit. None
                    (default): True when the model is built from nn's own
                    modules and the loss is a built-in one, else eagerly; True
                    and "scalar" insist (ValueError saying why not). Any other
                    value is refused. See ``nn.training.mapped`` and
                    ``nn.training.compiled``.
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be an nn.Module, got {type(model).__name__}")
    batch_size, seed = plain(batch_size), plain(seed)  # numpy ints as ints, e.g. in config
    X, y = check_xy("fit", X, y)
    check_features("fit", X)
    epochs = check_count("epochs", epochs, 1)
    patience = check_count("early_stopping", early_stopping, 1, allow_none=True)
    min_delta = check_nonneg("min_delta", min_delta)
    eps = None if perturb is None else check_nonneg("perturb", perturb) or None
    restore_best = check_flag("restore_best", restore_best, allow_none=True)
    progress = check_flag("progress", progress)
    shuffle = check_flag("shuffle", shuffle)  # checked here: fit cuts its own batches
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
    regs = check_regularizers(regularizers)
    cbs = check_callables("callbacks", callbacks, "cb(history, model)")
    mapped, step = _compiled_steps(compile, model, task, regs, width)
    has_val = X_val is not None
    track = has_val or patience is not None or restore_best is True
    restore = track if restore_best is None else bool(restore_best)
    noise_rng = make_rng("fit", rng.getrandbits(64)) if eps else None
    own = {id(q) for q in params}  # built once: a comprehension re-made it per parameter
    extra = [p for p in getattr(opt, "params", []) if id(p) not in own]
    if mapped is not None:
        mapped.use(opt, params, extra, X_train, y_train)
    flat = None if mapped is None else mapped.flat  # parameters as arrays between batches

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
    best = BestEpoch(params, min_delta, patience, keep=track)
    was_training = model.training
    modules = model.modules()  # walked once: train()/eval() per epoch would walk it again
    bar = progress_bar(progress, epochs)
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            epoch_lr = getattr(opt, "lr", None)
            _set_mode(modules, True)
            total = grad_norms = 0.0
            seen = hits = steps = 0
            chunks = index_batches(len(X_train), batch_size, rng if shuffle else None)
            try:
                for idx in chunks:
                    xb, yb = [X_train[i] for i in idx], [y_train[i] for i in idx]
                    got = None if mapped is None else mapped.train_batch(xb, yb, params,
                                                                         extra, idx)
                    outputs = None
                    if got is None:
                        value, outputs = _train_batch(step, model, task, regs, params, extra,
                                                      xb, yb, epoch)
                    else:
                        value, batch_hits = got  # map: no output was NaN, hits counted
                    in_arrays = flat is not None and flat.live  # map left the numbers there
                    norm = flat.grad_norm() if in_arrays else grad_norm(params)
                    if not math.isfinite(norm):
                        raise diverged("the gradient norm", norm, epoch)
                    grad_norms += norm
                    if in_arrays:
                        flat.step(epoch)
                    else:
                        opt.step()
                        check_weights(model, params, epoch)
                    steps += 1
                    history.updates += 1
                    total += value * len(xb)
                    seen += len(xb)
                    if task.classification and outputs is None:
                        hits += batch_hits
                    elif task.classification:
                        predict = task.predict_one
                        hits += sum(1 for o, t in zip(outputs, yb, strict=True)
                                    if predict(o) == t)
            finally:
                if flat is not None:  # the Values current before anything else looks
                    flat.sync()
            train_loss = total / seen
            mean_norm = grad_norms / steps
            # Finite per batch, these sums can still overflow: the History stays strict JSON.
            if not math.isfinite(train_loss):
                raise diverged("the epoch's mean loss", train_loss, epoch)
            if not math.isfinite(mean_norm):
                raise diverged("the epoch's mean gradient norm", mean_norm, epoch)
            val_loss = val_acc = None
            if has_val:
                _set_mode(modules, False)
                got = None if mapped is None else mapped.validation(X_val, y_val)
                if got is not None:  # map: finite loss, no NaN output
                    val_loss, val_acc = got
                else:
                    val_outputs = None if step is None else step.outputs(X_val)
                    if val_outputs is None:
                        val_outputs = model_outputs(model, X_val)
                    check_outputs(val_outputs, "validation", epoch)
                    val_loss, val_acc = score(task, val_outputs, y_val, epoch)

            record(
                history, epoch, train_loss, val_loss,
                hits / seen if task.classification else None, val_acc,
                mean_norm, epoch_lr, time.perf_counter() - start,
            )

            best.update(history, epoch, val_loss if has_val else train_loss)

            # Step 4: the cost did not go down this epoch, so shake the weights.
            if eps and epoch > 1 and train_loss >= history.loss[-2]:
                for p in params:
                    p.data += noise_rng.uniform(-eps, eps)
                check_weights(model, params, epoch)
                history.perturbations += 1
                history.perturbed_epochs.append(epoch)
            if sched is not None:
                sched.step()
            for cb in cbs:
                cb(history, model)
            if bar is not None:
                bar.set_postfix_str(format_epoch(history), refresh=False)
                bar.update(1)
            if best.out_of_patience() and epoch < epochs:
                history.stopped_early = True
                break
    except KeyboardInterrupt:
        # The half-finished epoch is not recorded; weights go back to the best epoch.
        history.interrupted = True
        truncate(history)
    finally:
        if bar is not None:
            bar.close()
        model.train(was_training)
    if restore:
        best.restore()
    return history


def _train_batch(
    step: CompiledStep | None, model: Module, task: Task, regs: list, params: list[Value],
    extra: list[Value], xb: list, yb: list, epoch: int,
) -> tuple[float, list]:
    """Steps 1 and 2 of the recipe on one batch: (its loss, the model's outputs), with
    every parameter's ``.grad`` set; through the compiled step when it takes the batch."""
    fast = None if step is None else step.forward(xb)
    if fast is not None:
        outputs = fast.outputs
        check_outputs(outputs, "training", epoch)
        batch_loss = step.loss(fast, yb)
    else:
        outputs = [model(x) for x in xb]
        check_outputs(outputs, "training", epoch)
        batch_loss = task(outputs, yb)
        for reg in regs:
            batch_loss = batch_loss + reg(model)
    value = batch_loss.data
    if not math.isfinite(value):
        raise diverged("the loss", value, epoch)
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
    return value, outputs


def _set_mode(modules: list[Module], training: bool) -> None:
    """``model.train(training)`` over a module list walked once per fit."""
    for module in modules:
        object.__setattr__(module, "training", training)


def _compiled_steps(
    flag: Any, model: Module, task: Any, regs: list, width: int
) -> tuple[MapStep | None, CompiledStep | None]:
    """fit's fast paths: (the map step, the scalar loops), either None.

    ``compile=None`` compiles when the model is built from nn's own modules and
    the loss is a built-in one; ``True`` and ``"scalar"`` insist (ValueError
    saying why not). ``True`` and ``None`` take ``step.map`` when numpy imports
    and the loss has a map form, with the scalar loops for what map does not
    take; ``"scalar"`` only the scalar loops.
    """
    if not (flag is None or isinstance(flag, bool) or (isinstance(flag, str) and flag == "scalar")):
        kind = ValueError if isinstance(flag, str) else TypeError
        raise kind(f"fit: compile must be True, False, None or 'scalar', got {flag!r}")
    if flag is False:
        return None, None
    why_not = compile_safe(model, task)
    if why_not is not None:
        if flag is not None:
            raise ValueError(f"fit: compile={flag!r} cannot compile this run: {why_not}")
        return None, None
    scalar = CompiledStep(model, task, regs)
    if flag == "scalar" or not MapStep.takes(task) or not numpy_available():
        return None, scalar
    return MapStep(model, task, regs, width), scalar
