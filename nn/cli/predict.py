"""``chainrule predict``: score points with a saved model, printing each output and class."""

from __future__ import annotations

import argparse
import json
import os
import stat
from pathlib import Path
from typing import Any

from .. import LOSSES, Task, get_task, load
from ..tasks import output_width
from .args import add_command
from .errors import DataError, UsageError
from .points import csv_points, point


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = add_command(
        sub, "predict",
        help="score points with a saved model",
        description="Print the output and predicted class of each point. Points are "
        "comma-separated numbers (0.5,-0.2) on the command line, or rows of a CSV file.",
    )
    p.add_argument("model", help="a model.json written by train (or nn.save)")
    p.add_argument("points", nargs="*", metavar="POINT", help="e.g. 0.5,-0.2")
    p.add_argument("--csv", default=None, metavar="FILE",
                   help="read points from a CSV file, one per row, numbers separated by "
                   "commas, semicolons or tabs (a first row that holds no number is a "
                   "header); - reads standard input")
    p.add_argument("--loss", default=None, choices=list(LOSSES),
                   help="how outputs become classes (default: from history.json beside the "
                   "model, else auto)")
    return p


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


def run(args: argparse.Namespace) -> int:
    """Print each point's output (and class); exit code 0."""
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
    points = [point(p, f"point {i + 1}", nin) for i, p in enumerate(args.points)]
    if args.csv is not None:
        points += csv_points(args.csv, nin)
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
