"""``chainrule steps``: the backprop stepper page of a saved model at one input, written
by ``python -m autograd.viz --steps --model`` (this command only passes its arguments on)."""

from __future__ import annotations

import argparse
from typing import Any

from .args import add_command
from .errors import PROG


def add_parser(sub: Any) -> argparse.ArgumentParser:
    s = add_command(
        sub, "steps",
        help="write the backprop stepper page of a saved model at one input",
        description="Write an HTML page that steps through the forward and backward pass "
        "of a saved model at one input (as python -m autograd.viz --steps --model does).",
    )
    s.add_argument("model", help="a model.json written by train (or nn.save)")
    s.add_argument("--input", required=True, metavar="X1,X2,...", help="the input, e.g. 0.5,-1")
    s.add_argument("--out", default=None,
                   help="page to write (default: MODEL_steps.html beside the model)")
    s.add_argument("--output", type=int, default=None, metavar="K",
                   help="which output to follow (0-based), for a model with several")
    return s


def run(args: argparse.Namespace) -> int:
    """Hand the arguments to autograd.viz's command line; its exit code."""
    from autograd.viz import cli as viz_cli

    argv = ["--steps", "--model", args.model, "--input", args.input.strip()]
    argv += ["--out", args.out] if args.out is not None else []
    argv += ["--output", str(args.output)] if args.output is not None else []
    return viz_cli.main(argv, prog=f"{PROG} steps")
