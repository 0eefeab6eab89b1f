"""The command line: ``python -m nn train`` and ``python -m nn predict`` (or ``chainrule``).

    python -m nn train                          # two moons, the defaults below
    python -m nn train --dataset spirals --hidden 32,32 --epochs 300 --out runs/spirals
    python -m nn predict out/model.json 0.5,-0.2 1.0,0.3
    python -m nn predict out/model.json --csv points.csv

``train`` writes, into ``--out`` (default ``out/``): model.json (``nn.load`` reads
it), history.json (``nn.History.from_dict`` reads it), loss.svg (training and
validation curves), boundary.svg (2-D classification data sets only) and
graph.svg (the computation graph of one example's loss). Every file is first
written into a temporary directory next to ``--out`` and moved in only when all
of them succeeded, so a failure leaves ``--out`` as it was.

Exit codes: 0 success; 1 training or writing failed; 2 bad arguments (an
unknown choice lists the valid ones); 130 interrupted while writing.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import inspect
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .activations import ACTIVATIONS
from .datasets import DATASETS, get_dataset
from .init import manual_seed
from .layers import MLP
from .regularizers import l2
from .serialization import load, save
from .tasks import LOSSES, Task, get_task, output_width
from .train import (
    OPTIMIZERS,
    SCHEDULES,
    evaluate,
    fit,
    format_epoch,
    progress_bar_shown,
)

PROG = "chainrule"
# The learning rate each optimiser gets when --lr is not given.
CLI_LR = {"adam": 0.05, "adamw": 0.05, "sgd": 0.1}
REGRESSION = ("sine",)
GRAPH_NODES = 40


class UsageError(Exception):
    """A bad argument found after parsing: reported like argparse's, exit code 2."""


# --- argument types (argparse turns ArgumentTypeError into "argument --x: ..." and exit 2) ---


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text.strip()!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def _float_in(low: float, high: float | None = None, *, low_open: bool = False,
              high_open: bool = True):
    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text.strip()!r}") from None
        bad = not math.isfinite(value) or value < low or (low_open and value == low)
        if high is not None:
            bad = bad or value > high or (high_open and value == high)
        if bad:
            lo = f"({low:g}" if low_open else f"[{low:g}"
            hi = "inf)" if high is None else (f"{high:g})" if high_open else f"{high:g}]")
            raise argparse.ArgumentTypeError(f"must be a number in {lo}, {hi}, got {text.strip()}")
        return value

    parse.__name__ = "number"
    return parse


def _hidden(text: str) -> list[int]:
    """ "16,16" -> [16, 16]; "" or "none" -> [] (no hidden layer)."""
    text = text.strip()
    if text.lower() in ("", "none"):
        return []
    try:
        widths = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected layer widths separated by commas, like 16,16; got {text!r}"
        ) from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"every layer width must be >= 1, got {text!r}")
    return widths


def _batch_size(text: str) -> int | None:
    text = text.strip()
    if text.lower() == "full":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected a positive integer or "full", got {text!r}'
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1 (or "full"), got {value}')
    return value


# --- the parser ---------------------------------------------------------------------------


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show "(default: X)" unless there is none to show or the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default is None or isinstance(action.default, bool) or "default" in text:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train small networks with chainrule and use them.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    t = sub.add_parser(
        "train",
        help="train an MLP on a built-in data set and write model, history and plots",
        description="Train an MLP on a built-in data set; write model.json, history.json, "
        "loss.svg, boundary.svg and graph.svg into --out.",
        usage="%(prog)s [options]  (see --help)",
        formatter_class=_HelpFormatter,
    )
    data = t.add_argument_group("data")
    data.add_argument("--dataset", default="moons", choices=list(DATASETS),
                      help="built-in data set")
    data.add_argument("--n", type=_int_at_least(1), default=200, help="number of examples")
    data.add_argument("--noise", type=_float_in(0.0), default=None,
                      help="noise level (std; for blobs the cluster std) (default: the "
                      "data set's own)")
    data.add_argument("--val-split", type=_float_in(0.0, 1.0), default=0.25,
                      help="fraction held out for validation (0: none)")
    model = t.add_argument_group("model")
    model.add_argument("--hidden", type=_hidden, default="16,16",
                       help="hidden layer widths, comma separated (none: no hidden layer)")
    model.add_argument("--activation", default="relu", choices=list(ACTIVATIONS),
                       help="hidden-layer activation")
    train = t.add_argument_group("training")
    train.add_argument("--loss", default="auto", choices=list(LOSSES), help="loss function")
    train.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS),
                       help="optimiser")
    train.add_argument("--lr", type=_float_in(0.0, low_open=True), default=None,
                       help="learning rate (default: 0.05 for adam/adamw, 0.1 for sgd)")
    train.add_argument("--momentum", type=_float_in(0.0, 1.0), default=None,
                       help="SGD momentum")
    train.add_argument("--weight-decay", type=_float_in(0.0), default=None,
                       help="optimizer weight decay")
    train.add_argument("--schedule", default=None, choices=list(SCHEDULES),
                       help="learning-rate schedule, stepped once per epoch")
    train.add_argument("--epochs", type=_int_at_least(1), default=200, help="maximum epochs")
    train.add_argument("--batch-size", type=_batch_size, default="full", metavar="K|full",
                       help="examples per update: 1 is SGD, full is full-batch GD")
    train.add_argument("--patience", type=_int_at_least(0), default=30,
                       help="early stopping: epochs without a better validation loss (0: off)")
    train.add_argument("--l2", type=_float_in(0.0), default=0.0,
                       help="L2 penalty lambda/(2m) sum w^2 on the weights (0: off)")
    train.add_argument("--perturb", type=_float_in(0.0), default=0.0,
                       help="lecture step 4: if an epoch's loss did not drop, add "
                       "U(-eps, eps) to every weight (0: off)")
    train.add_argument("--seed", type=_int_at_least(0), default=0,
                       help="seeds the data, the initial weights, the split and the batches")
    output = t.add_argument_group("output")
    output.add_argument("--out", default="out", help="directory for the files written")
    output.add_argument("--graph-nodes", type=_int_at_least(5), default=GRAPH_NODES,
                        help="nodes drawn in graph.svg (those nearest the loss)")
    output.add_argument("--no-progress", action="store_true",
                        help="no progress bar (it is also off when stderr is not a terminal)")

    p = sub.add_parser(
        "predict",
        help="score points with a saved model",
        description="Print the output and predicted class of each point. Points are "
        "comma-separated numbers (0.5,-0.2) on the command line, or rows of a CSV file.",
    )
    t.set_defaults(usage_from=t)
    p.set_defaults(usage_from=p)
    p.add_argument("model", help="a model.json written by train (or nn.save)")
    p.add_argument("points", nargs="*", metavar="POINT", help="e.g. 0.5,-0.2")
    p.add_argument("--csv", default=None, metavar="FILE",
                   help="read points from a CSV file, one per row (a header row is skipped)")
    p.add_argument("--loss", default=None, choices=list(LOSSES),
                   help="how outputs become classes (default: from history.json beside the "
                   "model, else auto)")
    return parser


# Tokens such as "-0.5,0.2" (a point) or "-3" would look like options to argparse;
# a leading space keeps them positional values, and the parsers strip it.
_NUMBERS = re.compile(r"^-(\d|\.\d)[\d.eE+\-]*(,\s*[-+]?[\d.eE+\-]+)*$")


def _protect_negative_numbers(argv: Sequence[str]) -> list[str]:
    return [" " + a if _NUMBERS.match(a) else a for a in argv]


# --- train --------------------------------------------------------------------------------


def _dataset_options(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Loader keywords: n and seed, plus --noise (blobs call it std) or the loader's default."""
    options: dict[str, Any] = {"n": args.n}
    key = "std" if name == "blobs" else "noise"
    default = inspect.signature(DATASETS[name]).parameters[key].default
    options[key] = default if args.noise is None else args.noise
    options["seed"] = args.seed
    return options


def _plan(args: argparse.Namespace, y: list) -> tuple[str, int, str | None]:
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


def _describe_model(model: MLP, activation: str) -> str:
    sizes = "-".join(str(s) for s in [model.nin, *(layer.nout for layer in model.layers)])
    return f"MLP {sizes} ({activation}), {model.num_parameters()} parameters"


def _percent(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _write_graph(model: MLP, task: Task, x: Sequence[float], label: Any, path: Path,
                 max_nodes: int) -> None:
    """graph.svg: one example's loss, parameters labelled by name, cut to max_nodes."""
    from autograd import Value, to_svg

    named = model.named_parameters()
    saved = [p.label for _, p in named]
    try:
        for name, p in named:
            p.label = name.replace("layers.", "L").replace("neurons.", "n").replace(".w.", ".w")
        inputs = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(x)]
        loss = task([model(inputs)], [label])
        loss.label = "loss"
        loss.backward()
        to_svg(loss, path, max_nodes=max_nodes)
    finally:
        for (_, p), old in zip(named, saved, strict=True):
            p.label = old
        model.zero_grad()


@contextlib.contextmanager
def _staging(out: Path):
    """A temporary directory beside ``out``; removed on exit whatever happens."""
    anchor = out.absolute().parent
    while not anchor.exists():
        anchor = anchor.parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name or 'out'}.partial-", dir=anchor))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _publish(tmp: Path, out: Path, names: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        os.replace(tmp / name, out / name)


def cmd_train(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {args.out!r} exists and is not a directory")
    name = args.dataset
    options = _dataset_options(name, args)
    try:
        X, y = get_dataset(name, **options)
    except (TypeError, ValueError) as err:
        raise UsageError(str(err).replace("get_dataset: ", "")) from None
    loss_name, width, out_act = _plan(args, y)
    loss_name = get_task(loss_name, y, width).loss  # "auto" -> what it picks
    nin = len(X[0])
    val_split = args.val_split or None
    if val_split is not None:
        from .data import train_val_split

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

    shown = ", ".join(f"{k}={v}" for k, v in options.items())
    print(f"{PROG} train: {name} ({shown}): {len(X_train)} training"
          + (f", {len(X_val)} validation examples" if X_val else " examples, no validation"))
    batch = "full batch" if args.batch_size is None else f"batch size {args.batch_size}"
    print(f"model: {_describe_model(model, args.activation)}; loss {loss_name}; "
          f"{optimizer} lr={lr:g}; {batch}; up to {args.epochs} epochs"
          + (f", patience {patience}" if patience else ""))
    sys.stdout.flush()

    bar = progress_bar_shown(not args.no_progress)
    every = max(1, args.epochs // 10)
    printed: list[int] = []

    def log(history, _model) -> None:
        e = history.epoch[-1]
        if e == 1 or e % every == 0:
            print(f"epoch {e:>{len(str(args.epochs))}}/{args.epochs}  {format_epoch(history)}",
                  flush=True)
            printed.append(e)

    history = fit(
        model, X_train, y_train, loss=loss_name, optimizer=optimizer, lr=lr,
        momentum=args.momentum, weight_decay=args.weight_decay, schedule=args.schedule,
        epochs=args.epochs, batch_size=args.batch_size, val_data=val_data,
        early_stopping=patience, regularizers=regs, perturb=args.perturb or None,
        seed=args.seed, progress=not args.no_progress, callbacks=None if bar else log,
    )
    if not bar and history.epoch and history.epoch[-1] not in printed:
        e = history.epoch[-1]
        print(f"epoch {e:>{len(str(args.epochs))}}/{args.epochs}  {format_epoch(history)}")
    if not history.epoch:
        print(f"{PROG} train: interrupted before the first epoch finished; nothing written",
              file=sys.stderr)
        return 130

    task = Task.from_dict(history.task)
    final_train = evaluate(model, X_train, y_train, loss=task)
    final_val = evaluate(model, X_val, y_val, loss=task) if X_val else None
    history.config.update({
        "dataset": name, "dataset_options": options, "hidden": args.hidden,
        "activation": args.activation, "output_activation": out_act,
        "final": {"train": final_train, "val": final_val},
    })

    written = ["model.json", "history.json", "loss.svg"]
    notes = []
    from .plots import plot_decision_boundary, plot_history

    with _staging(out) as tmp:
        save(model, tmp / "model.json")
        with open(tmp / "history.json", "w", encoding="utf-8") as f:
            json.dump(history.to_dict(), f, indent=1)
            f.write("\n")
        plot_history(history, tmp / "loss.svg",
                     title=f"{name}: {_describe_model(model, args.activation)}")
        if nin == 2 and task.classification:
            acc = final_val["accuracy"] if final_val else final_train["accuracy"]
            which = "validation" if final_val else "training"
            plot_decision_boundary(
                model, X_train, y_train, tmp / "boundary.svg", loss=task,
                X_val=X_val, y_val=y_val,
                title=f"{name}: decision boundary ({which} accuracy {_percent(acc)})",
            )
            written.append("boundary.svg")
        else:
            why = "inputs are not 2-D" if nin != 2 else "a regression has no classes"
            notes.append(f"boundary.svg skipped: {why}")
        _write_graph(model, task, X_train[0], y_train[0], tmp / "graph.svg", args.graph_nodes)
        written.append("graph.svg")
        _publish(tmp, out, written)

    _summary(history, final_train, final_val, patience, time.perf_counter() - start,
             out, written, notes)
    return 0


def _summary(history, final_train, final_val, patience, seconds, out, written, notes) -> None:
    n = history.epochs_run
    if history.interrupted:
        how = f"interrupted after {n} epochs"
    elif history.stopped_early:
        how = f"stopped early after {n} epochs (no better validation loss for {patience})"
    else:
        how = f"ran all {n} epochs"
    best = history.best_epoch
    restored = best is not None and history.config.get("n_val", 0) and best != n
    print(f"{how}; best epoch {best}" + ("; its weights were restored" if restored else ""))
    if history.perturbations:
        print(f"step 4 perturbed the weights {history.perturbations} times")
    print(f"{'':<12}{'loss':>10}{'accuracy':>10}")
    print(f"{'train':<12}{final_train['loss']:>10.4f}{_percent(final_train['accuracy']):>10}")
    if final_val:
        print(f"{'validation':<12}{final_val['loss']:>10.4f}{_percent(final_val['accuracy']):>10}")
    print(f"wall time {seconds:.1f} s")
    for note in notes:
        print(note)
    print(f"wrote {out}{os.sep}: {', '.join(written)}")


# --- predict ------------------------------------------------------------------------------


def _point(text: str, where: str, nin: int) -> list[float]:
    parts = [p.strip() for p in text.strip().split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise UsageError(
            f"{where}: {text.strip()!r} is not a comma-separated list of numbers"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise UsageError(f"{where}: {text.strip()!r} holds a non-finite number")
    if len(values) != nin:
        raise UsageError(f"{where}: {text.strip()!r} has {len(values)} numbers; "
                         f"the model takes {nin}")
    return values


def _csv_points(path: str, nin: int) -> list[list[float]]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [row for row in csv.reader(f) if row and any(c.strip() for c in row)]
    except OSError as err:
        raise UsageError(f"--csv: cannot read {path!r}: {err.strerror}") from None
    points = []
    for i, row in enumerate(rows):
        text = ",".join(row)
        if i == 0:
            try:
                [float(c) for c in row]
            except ValueError:
                continue  # a header row
        points.append(_point(text, f"{path} row {i + 1}", nin))
    if not points:
        raise UsageError(f"--csv: {path!r} holds no points")
    return points


def _task_from_history(model_path: Path) -> Any:
    path = model_path.with_name("history.json")
    try:
        with open(path, encoding="utf-8") as f:
            return Task.from_dict(json.load(f)["task"])
    except (OSError, ValueError, KeyError, TypeError):
        return "auto"


def _fmt_output(out: Any) -> str:
    if isinstance(out, list):
        return "[" + ", ".join(f"{o.data:.4g}" for o in out) + "]"
    return f"{out.data:.4g}"


def cmd_predict(args: argparse.Namespace) -> int:
    from autograd import no_grad

    path = Path(args.model)
    if not path.exists():
        raise UsageError(f"model file {args.model!r} not found")
    try:
        model = load(path)
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot load {args.model!r}: {err}") from None
    nin = getattr(model, "nin", None)
    if not isinstance(nin, int):
        raise UsageError(f"{args.model!r}: cannot tell how many inputs the model takes")
    if not args.points and args.csv is None:
        raise UsageError("give points (e.g. 0.5,-0.2) or --csv FILE")
    points = [_point(p, f"point {i + 1}", nin) for i, p in enumerate(args.points)]
    if args.csv is not None:
        points += _csv_points(args.csv, nin)
    model.eval()
    with no_grad():
        outputs = [model(p) for p in points]
    spec = args.loss if args.loss is not None else _task_from_history(path)
    task = get_task(spec, None, output_width(outputs[0]))
    texts = [",".join(f"{v:g}" for v in p) for p in points]
    width = max(len("point"), *(len(t) for t in texts))
    outs = [_fmt_output(o) for o in outputs]
    owidth = max(len("output"), *(len(o) for o in outs))
    if task.classification:
        print(f"{'point':<{width}}  {'output':>{owidth}}  class")
        for text, out, o in zip(texts, outs, outputs, strict=True):
            print(f"{text:<{width}}  {out:>{owidth}}  {task.predict_one(o)}")
    else:
        print(f"{'point':<{width}}  {'output':>{owidth}}")
        for text, out in zip(texts, outs, strict=True):
            print(f"{text:<{width}}  {out:>{owidth}}")
    return 0


# --- main ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (argparse exits 2 on its own errors)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parser.parse_args(_protect_negative_numbers(argv))
    except SystemExit as exit:  # --help (0) or a bad argument (2, message already printed)
        return exit.code if isinstance(exit.code, int) else 2
    command = {"train": cmd_train, "predict": cmd_predict}[args.command]
    try:
        return command(args)
    except UsageError as err:
        args.usage_from.print_usage(sys.stderr)
        print(f"{PROG} {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{PROG} {args.command}: interrupted; nothing written", file=sys.stderr)
        return 130
    except Exception as err:  # training diverged, a plot failed, the disk is full...
        print(f"{PROG} {args.command}: error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
