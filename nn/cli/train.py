"""``chainrule train``: train an MLP on a built-in data set, then write the model, its
history and pictures into ``--out`` all together (see writer.py)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .. import (
    ACTIVATIONS,
    DATASETS,
    LOSSES,
    MLP,
    OPTIMIZERS,
    SCHEDULES,
    Task,
    evaluate,
    fit,
    get_dataset,
    get_task,
    l2,
    manual_seed,
    save,
    train_val_split,
)
from .._text import plural
from ..training.progress import format_epoch, progress_bar_shown
from .args import (
    MAX_EPOCHS,
    MAX_EXAMPLES,
    MAX_NOISE,
    MAX_SEED,
    Given,
    HelpFormatter,
    add_command,
    batch_size,
    float_in,
    graph_nodes,
    hidden_widths,
    int_in,
    out_dir,
)
from .config import (
    CLI_LR,
    IMAGE_DATASETS,
    apply_dataset_defaults,
    dataset_options,
    describe_model,
    describe_training,
    plan,
)
from .errors import PROG, UsageError
from .pictures import why_no_graph, why_no_plots, write_graph, write_image_pictures
from .writer import (
    check_out,
    finish_writing_on_ctrl_c,
    pause_at_writing_for_tests,
    publish,
    staging,
)

# Values drawn in graph.svg unless --graph-nodes says otherwise.
GRAPH_NODES = 40


def add_parser(sub: Any) -> argparse.ArgumentParser:
    t = add_command(
        sub, "train",
        help="train an MLP on a built-in data set and write model, history and plots",
        description="Train an MLP on a built-in data set; write model.json, history.json, "
        "loss.svg, boundary.svg and graph.svg into --out (for the digits, confusion.svg and "
        "misclassified.svg instead of boundary.svg).",
        usage="%(prog)s [options]  (see --help)",
        formatter_class=HelpFormatter,
    )
    data = t.add_argument_group("data")
    data.add_argument("--dataset", default="moons", choices=list(DATASETS),
                      help="built-in data set")
    data.add_argument("--n", type=int_in(1, MAX_EXAMPLES), default=200, action=Given,
                      help="number of examples (default: 200; digits: all 1797, fewer "
                      "draws a seeded subset)")
    data.add_argument("--noise", type=float_in(0.0, MAX_NOISE, high_open=False), default=None,
                      help="noise level (std; for blobs the cluster std) (default: the "
                      "data set's own)")
    data.add_argument("--val-split", type=float_in(0.0, 1.0), default=0.25,
                      help="fraction held out for validation (0: none)")
    model = t.add_argument_group("model")
    model.add_argument("--hidden", type=hidden_widths, default="16,16", action=Given,
                       help="hidden layer widths, comma separated (none: no hidden layer) "
                       "(default: 16,16; digits: 32)")
    model.add_argument("--activation", default="relu", choices=list(ACTIVATIONS),
                       help="hidden-layer activation")
    train = t.add_argument_group("training")
    train.add_argument("--loss", default="auto", choices=list(LOSSES), help="loss function")
    train.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS),
                       help="optimiser")
    train.add_argument("--lr", type=float_in(0.0, low_open=True), default=None,
                       help="learning rate (default: 0.05 for adam/adamw, 0.1 for sgd; "
                       "digits: 0.01 for adam/adamw)")
    train.add_argument("--momentum", type=float_in(0.0, 1.0), default=None,
                       help="SGD momentum")
    train.add_argument("--weight-decay", type=float_in(0.0), default=None,
                       help="optimizer weight decay")
    train.add_argument("--schedule", default=None, choices=list(SCHEDULES),
                       help="learning-rate schedule, stepped once per epoch")
    train.add_argument("--epochs", type=int_in(1, MAX_EPOCHS), default=200, action=Given,
                       help="maximum epochs (default: 200; digits: 10, as an eager epoch "
                       "over its 1348 training digits takes seconds)")
    train.add_argument("--batch-size", type=batch_size, default="full", metavar="K|full",
                       action=Given,
                       help="examples per update: 1 is SGD, full is full-batch GD "
                       "(default: full; digits: 32)")
    train.add_argument("--patience", type=int_in(0, MAX_EPOCHS), default=30,
                       help="early stopping: epochs without a better validation loss (0: off)")
    train.add_argument("--l2", type=float_in(0.0), default=0.0,
                       help="L2 penalty lambda/(2m) sum w^2 on the weights (0: off)")
    train.add_argument("--perturb", type=float_in(0.0), default=0.0,
                       help="lecture step 4: if an epoch's loss did not drop, add "
                       "U(-eps, eps) to every weight (0: off)")
    train.add_argument("--seed", type=int_in(0, MAX_SEED), default=0,
                       help="seeds the data, the initial weights, the split and the batches")
    train.add_argument("--no-compile", action="store_true",
                       help="train eagerly: rebuild the graph every step instead of replaying "
                       "the step autograd.compile generated (same numbers, slower)")
    output = t.add_argument_group("output")
    output.add_argument("--out", type=out_dir, default="out",
                        help="directory for the files written")
    output.add_argument("--graph-nodes", type=graph_nodes, default=GRAPH_NODES,
                        metavar="N|none",
                        help="Values drawn in graph.svg, those nearest the loss (at least 5; "
                        "none: all)")
    output.add_argument("--no-progress", action="store_true",
                        help="no progress bar (it is also off when stderr is not a terminal)")
    return t


def run(args: argparse.Namespace) -> int:
    """Train, then write the run's files together; exit code 0, or 130 if interrupted."""
    start = time.perf_counter()
    out = Path(args.out)
    check_out(out)
    name = args.dataset
    apply_dataset_defaults(args)
    options = dataset_options(name, args)
    try:
        X, y = get_dataset(name, **options)
    except (TypeError, ValueError) as err:
        raise UsageError(str(err).replace("get_dataset: ", "")) from None
    loss_name, width, out_act = plan(args, y)
    loss_name = get_task(loss_name, y, width).loss  # "auto" -> what it picks
    nin = len(X[0])
    val_split = args.val_split or None
    if val_split is not None:
        X_train, y_train, X_val, y_val = train_val_split(X, y, val_split, seed=args.seed)
        val_data = (X_val, y_val)
    else:
        X_train, y_train, X_val, y_val, val_data = X, y, None, None, None
    optimizer = args.optimizer
    lr = args.lr if args.lr is not None else CLI_LR[optimizer]
    if args.momentum is not None and optimizer != "sgd":
        raise UsageError(f"--momentum applies only to --optimizer sgd, not {optimizer}")

    manual_seed(args.seed)  # the initial weights: nn layers draw from Python's random
    model = MLP(nin, [*args.hidden, width], activation=args.activation,
                output_activation=out_act)
    regs = None
    if args.l2 > 0:
        lam, m = args.l2, len(X_train)
        regs = [lambda mod: l2(mod, lam=lam, m=m, include_bias=False)]
    patience = args.patience or None
    description = describe_model(model, args.activation, out_act)

    # The optional extras, checked before training: a run without them still saves the model.
    classifier_2d = nin == 2 and get_task(loss_name, y, width).classification
    images = name in IMAGE_DATASETS and get_task(loss_name, y, width).classification
    plots_missing = why_no_plots()
    graph_missing = why_no_graph()
    notes_first = []
    if plots_missing:
        pictures = "loss.svg and boundary.svg" if classifier_2d else "loss.svg"
        if images:
            pictures = "loss.svg, confusion.svg and misclassified.svg"
        notes_first.append(f"{pictures} will be skipped: {plots_missing}")
    if graph_missing:
        notes_first.append(f"graph.svg will be skipped: {graph_missing}")

    shown = ", ".join(f"{k}={v}" for k, v in options.items())
    if X_val:
        sizes = f"{len(X_train)} training, {plural(len(X_val), 'validation example')}"
    else:
        sizes = f"{plural(len(X_train), 'training example')}, no validation"
    print(f"{PROG} train: {name} ({shown}): {sizes}")
    print(f"model: {description}; {describe_training(args, loss_name, lr, patience)}")
    for note in notes_first:
        print(f"note: {note}")
    sys.stdout.flush()

    bar = progress_bar_shown(not args.no_progress)
    every = max(1, args.epochs // 10)
    printed: list[int] = []

    def log(history, _model) -> None:
        e = history.epoch[-1]
        if e == 1 or e % every == 0:
            print(_epoch_line(history, args.epochs), flush=True)
            printed.append(e)

    history = fit(
        model, X_train, y_train, loss=loss_name, optimizer=optimizer, lr=lr,
        momentum=args.momentum, weight_decay=args.weight_decay, schedule=args.schedule,
        epochs=args.epochs, batch_size=args.batch_size, val_data=val_data,
        early_stopping=patience, regularizers=regs, perturb=args.perturb or None,
        seed=args.seed, progress=not args.no_progress, callbacks=None if bar else log,
        compile=not args.no_compile,
    )
    if not bar and history.epoch and history.epoch[-1] not in printed:
        print(_epoch_line(history, args.epochs))
    if not history.epoch:
        print(f"{PROG} train: interrupted before the first epoch finished; nothing written",
              file=sys.stderr)
        return 130
    # Training has finished: from here a first Ctrl-C no longer throws the run away.
    with finish_writing_on_ctrl_c() as interrupts:
        task = Task.from_dict(history.task)
        final_train = evaluate(model, X_train, y_train, loss=task)
        final_val = evaluate(model, X_val, y_val, loss=task) if X_val else None
        history.config.update({
            "dataset": name, "dataset_options": options, "hidden": args.hidden,
            "activation": args.activation, "output_activation": out_act,
            "l2": args.l2, "final": {"train": final_train, "val": final_val},
        })

        written = ["model.json", "history.json"]
        notes = []
        from ..plots import plot_decision_boundary, plot_history

        with staging(out) as tmp:
            save(model, tmp / "model.json")
            with open(tmp / "history.json", "w", encoding="utf-8") as f:
                json.dump(history.to_dict(), f, indent=1)
                f.write("\n")
            pause_at_writing_for_tests(interrupts)
            if not plots_missing:
                plot_history(history, tmp / "loss.svg", title=f"{name}: {description}")
                written.append("loss.svg")
            if not classifier_2d:
                why = "inputs are not 2-D" if nin != 2 else "a regression has no classes"
                notes.append(f"boundary.svg skipped: {why}")
            elif not plots_missing:
                acc = final_val["accuracy"] if final_val else final_train["accuracy"]
                which = "validation" if final_val else "training"
                plot_decision_boundary(
                    model, X_train, y_train, tmp / "boundary.svg", loss=task,
                    X_val=X_val, y_val=y_val,
                    title=f"{name}: decision boundary ({which} accuracy {_percent(acc)})",
                )
                written.append("boundary.svg")
            if images and not plots_missing:
                written += write_image_pictures(model, task, tmp, name, X_train, y_train,
                                                X_val, y_val)
            if not graph_missing:
                write_graph(model, task, X_train[0], y_train[0], tmp / "graph.svg",
                            args.graph_nodes)
                written.append("graph.svg")
            removed = publish(tmp, out, written)
        if removed:
            notes.append(f"removed {', '.join(removed)} (left by an earlier run, not written by "
                         "this one)")

        _summary(history, final_train, final_val, patience, time.perf_counter() - start,
                 out, written, notes)
        if interrupts.count:
            sys.stdout.flush()
            print(f"{PROG} train: interrupted while writing; the finished run was written first",
                  file=sys.stderr)
            return 130
        if history.interrupted:
            return 130
        return 0


def _summary(history, final_train, final_val, patience, seconds, out, written, notes) -> None:
    n = history.epochs_run
    if history.interrupted:
        how = f"interrupted after {plural(n, 'epoch')}"
    elif history.stopped_early:
        how = (f"stopped early after {plural(n, 'epoch')} (no better validation loss for "
               f"{plural(patience, 'epoch')})")
    else:
        how = f"ran all {n} epochs" if n != 1 else "ran its 1 epoch"
    best = history.best_epoch
    restored = best is not None and history.config.get("n_val", 0) and best != n
    print(f"{how}; best epoch {best}" + ("; its weights were restored" if restored else ""))
    if history.perturbations:
        print(f"step 4 perturbed the weights {plural(history.perturbations, 'time')}")
    print(f"{'saved model':<12}{'loss':>10}{'accuracy':>10}")
    print(f"{'train':<12}{final_train['loss']:>10.4f}{_percent(final_train['accuracy']):>10}")
    if final_val:
        print(f"{'validation':<12}{final_val['loss']:>10.4f}{_percent(final_val['accuracy']):>10}")
    print(f"wall time {seconds:.1f} s")
    for note in notes:
        print(note)
    print(f"wrote {out}{os.sep}: {', '.join(written)}")


def _epoch_line(history: Any, epochs: int) -> str:
    """One epoch as printed: its loss and accuracy are the mean over the epoch's batches."""
    e = history.epoch[-1]
    return f"epoch {e:>{len(str(epochs))}}/{epochs}  batch-mean {format_epoch(history)}"


def _percent(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"
