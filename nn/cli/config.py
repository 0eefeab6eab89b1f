"""What a ``train`` run will do, from its arguments: the data set's options and defaults,
the loss and output width, and the one-line descriptions printed before training."""

from __future__ import annotations

import argparse
import inspect
from typing import Any

from .._text import plural
from ..datasets import DATASETS
from ..layers import MLP
from .errors import UsageError

# The learning rate each optimiser gets when --lr is not given.
CLI_LR = {"adam": 0.05, "adamw": 0.05, "sgd": 0.1}
# Data sets of images: their runs also draw confusion.svg and misclassified.svg.
IMAGE_DATASETS = ("digits",)
# Settings a data set changes when the command line does not give them (see args.Given):
# an epoch over the digits takes seconds, not milliseconds, so fewer epochs in mini-batches.
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    "digits": {"n": 1797, "hidden": [32], "epochs": 10, "batch_size": 32,
               "lr": {"adam": 0.01, "adamw": 0.01, "sgd": 0.1}},
}


def apply_dataset_defaults(args: argparse.Namespace) -> None:
    """Fill in the data set's own defaults (DATASET_DEFAULTS) for options not given."""
    given = getattr(args, "given", frozenset())
    for key, value in DATASET_DEFAULTS.get(args.dataset, {}).items():
        if key == "lr":
            if args.lr is None:
                args.lr = value.get(args.optimizer)
        elif key not in given:
            setattr(args, key, value)


def dataset_options(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Loader keywords: n and seed, plus --noise (blobs call it std) or the loader's default;
    the digits take no noise and are scaled to [0, 1] (what the MLP trains well on)."""
    options: dict[str, Any] = {"n": args.n}
    if name in IMAGE_DATASETS:
        if args.noise is not None:
            raise UsageError(f"--noise: data set {name!r} is real data; it has no noise level")
        options.update(seed=args.seed, scale=True)
        return options
    key = "std" if name == "blobs" else "noise"
    default = inspect.signature(DATASETS[name]).parameters[key].default
    options[key] = default if args.noise is None else args.noise
    options["seed"] = args.seed
    return options


def plan(args: argparse.Namespace, y: list) -> tuple[str, int, str | None]:
    """(loss name, outputs per example, output activation) for the data and --loss."""
    loss = args.loss
    classes = sorted(set(y)) if all(isinstance(t, int) for t in y) else None
    if classes is None:
        if loss not in ("auto", "mse"):
            raise UsageError(
                f"--loss {loss}: data set {args.dataset!r} is a regression (float targets); "
                "use --loss mse (or auto)"
            )
        return "mse", 1, None
    k = max(classes) + 1 if classes[0] >= 0 else 2
    binary_only = ("bce_logits", "logistic", "hinge")
    if loss in binary_only and k > 2:
        raise UsageError(
            f"--loss {loss} is for two classes; data set {args.dataset!r} has {k}; "
            "use --loss cross_entropy (or auto)"
        )
    width = k if loss == "cross_entropy" or k > 2 else 1
    return loss, width, "sigmoid" if loss == "bce" else None


def describe_model(model: MLP, activation: str, output_activation: str | None = None) -> str:
    """ "MLP 2-16-16-1 (relu), 337 parameters"; a net without hidden layers names no activation."""
    sizes = "-".join(str(s) for s in [model.nin, *(layer.nout for layer in model.layers)])
    kind = [activation] if len(model.layers) > 1 else ["no hidden layer"]
    if output_activation:
        kind.append(f"{output_activation} output")
    return f"MLP {sizes} ({'; '.join(kind)}), {model.num_parameters()} parameters"


def describe_training(args: argparse.Namespace, loss_name: str, lr: float,
                      patience: int | None) -> str:
    """The run's settings as one line: loss, optimiser, schedule, penalties, batches, epochs."""
    opt = f"{args.optimizer} lr={lr:g}"
    if args.momentum is not None:
        opt += f" momentum={args.momentum:g}"
    if args.weight_decay is not None:
        opt += f" weight_decay={args.weight_decay:g}"
    parts = [f"loss {loss_name}", opt]
    if args.schedule is not None:
        parts.append(f"schedule {args.schedule}")
    if args.l2 > 0:
        parts.append(f"L2 {args.l2:g}")
    if args.perturb > 0:
        parts.append(f"perturb {args.perturb:g}")
    parts.append("full batch" if args.batch_size is None else f"batch size {args.batch_size}")
    parts.append(f"up to {plural(args.epochs, 'epoch')}"
                 + (f", patience {patience}" if patience else ""))
    parts.append("eager" if args.no_compile else "compiled")
    return "; ".join(parts)
