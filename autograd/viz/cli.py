"""``python -m autograd.viz``: the lecture example (or a saved model) as an SVG or a stepper page.

Exit codes: 0 written; 2 bad argument, missing package, unreadable model or
unwritable ``--out`` (one line on stderr, no traceback); 1 the renderer failed.
``--out`` must name a file in an existing directory; only the default, ``out/``,
is created.

``--model`` reads a file written by ``nn.save`` through ``nn.load``: the one place
in autograd that uses nn, imported only when ``--model`` is given.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

from . import style
from .output import to_svg, write_page
from .render import RenderError, RendererUnavailableError
from .stepper import model_root, step_through, step_through_model

PROG = "python -m autograd.viz"
LECTURE_SVG_OUT = "out/lecture_graph.svg"
LECTURE_STEPS_OUT = "out/lecture_steps.html"


class _OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr (exit 2), not usage + error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text.strip()!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def point(text: str) -> list[float]:
    """``0.5,-1``: the comma-separated input of --input."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers such as 0.5,-1, got {text.strip()!r}"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"holds a non-finite number: {text.strip()!r}")
    return values


def one_line(message: str) -> str:
    """A multi-line error message (e.g. the install hint) joined into one line."""
    joined = ""
    for line in (" ".join(part.split()) for part in str(message).splitlines()):
        if line:
            joined += (" " if not joined or joined.endswith((":", ".")) else "; ") + line
    return joined.strip()


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog=prog,
        description="Draw the lecture's graph f = (w_x x + w_y y) w_q + w_z z (or a saved "
        "model's, with --model and --input), with data and gradients after backward(), to "
        "an SVG file; or, with --steps, write the backprop stepper page.",
    )
    parser.add_argument(
        "--out", default=None,
        help=f"file to write, in an existing directory (default: {LECTURE_SVG_OUT}, or "
        f"{LECTURE_STEPS_OUT} with --steps, or MODEL_steps.html beside --model)",
    )
    style.add_arguments(parser, positive_int)
    parser.add_argument(
        "--steps", action="store_true",
        help="write the backprop stepper page (HTML, see step_through) instead of the SVG",
    )
    parser.add_argument("--model", default=None, metavar="MODEL.json",
                        help="a model saved by nn.save (chainrule train writes model.json)")
    parser.add_argument("--input", type=point, default=None, metavar="X1,X2,...",
                        help="the model's input, with --model")
    parser.add_argument("--output", type=int, default=None, metavar="K",
                        help="with --model: which output to follow (0-based) if it has several")
    return parser


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Run the command line; returns the exit code. Every error is one line on stderr.

    ``prog`` names the command in messages (``chainrule steps`` runs this too)."""
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) or a bad argument (2, already printed)
        return stop.code if isinstance(stop.code, int) else 2

    def fail(message: str, code: int = 2) -> int:
        print(f"{prog}: error: {one_line(message)}", file=sys.stderr)
        return code

    if (args.model is None) != (args.input is None):
        return fail("--model and --input go together: --model model.json --input 0.5,-1")
    options = style.options_from_arguments(args)
    draw_options = {
        "rankdir": options.rankdir, "color_by": options.color_by, "legend": options.legend,
        "digits": options.digits, "renderer": args.renderer,
    }
    if args.model is not None:
        model = _load_model(args.model, len(args.input), fail)
        if isinstance(model, int):
            return model
        default = Path(args.model).with_name(
            Path(args.model).stem + ("_steps.html" if args.steps else "_graph.svg")
        )
        if args.steps:
            def render() -> str:
                return step_through_model(model, args.input, output=args.output, **draw_options)
        else:
            def render() -> str:

                root = model_root(model, args.input, args.output)
                root.backward()
                return to_svg(root, **draw_options)
    else:
        from ..lecture import build

        default = Path(LECTURE_STEPS_OUT if args.steps else LECTURE_SVG_OUT)
        f, _ = build()
        if args.steps:
            def render() -> str:
                return step_through(f, **draw_options)
        else:
            def render() -> str:
                f.backward()
                return to_svg(f, **draw_options)
    out = default if args.out is None else Path(args.out)
    return render_then_write(render, out, fail, make_directory=args.out is None)


def _load_model(path: str, n_inputs: int, fail: Callable[..., int]):
    """nn.load(path), checked against the input's length; an exit code on failure."""
    try:
        from nn import load
    except ImportError as err:
        return fail(f"--model needs the nn package (part of chainrule): {err}")
    try:
        model = load(path)
    except (OSError, ValueError) as err:
        return fail(f"cannot load the model {path}: {err}")
    nin = getattr(model, "nin", None)
    if isinstance(nin, int) and nin != n_inputs:
        return fail(f"--input has {n_inputs} number{'s' if n_inputs != 1 else ''}; "
                    f"the model in {path} takes {nin}")
    return model


def render_then_write(
    render: Callable[[], str], out: Path, fail: Callable[..., int], *, make_directory: bool
) -> int:
    """Render first, so a missing renderer leaves no file behind; then write ``out``.

    The directory must exist unless it is the default one (``make_directory``): a
    mistyped --out is an error naming the directory, never a new directory tree.
    Each failure is one line (exit 2, or 1 if the renderer itself broke).
    """
    parent = out.parent
    if not make_directory and not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        return fail(f"cannot write --out {out}: directory {parent} {what}")
    try:
        text = render()
    except ImportError as err:
        if err.name != "graphviz":
            raise
        return fail(str(err))
    except RendererUnavailableError as err:
        return fail(str(err))
    except RenderError as err:
        return fail(str(err), 1)
    except ValueError as err:
        return fail(str(err))
    try:
        if make_directory:
            parent.mkdir(parents=True, exist_ok=True)
        write_page(out, text)
    except OSError as err:
        return fail(f"cannot write --out {out}: {err.strerror or err}")
    print(out)
    return 0
