"""The command line's argument types, their bounds, and the parser class the commands share.

Each type raises ``argparse.ArgumentTypeError``, which argparse reports as
"argument --x: ..." with exit code 2, before any work is done.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Sequence
from typing import Any

from .errors import one_line

# Upper bounds of the numeric options: beyond them a run could never finish (or a
# history file would grow without end), so they are refused before any work.
MAX_EPOCHS = 100_000
MAX_EXAMPLES = 100_000  # --n, and so --batch-size
MAX_WIDTH = 1000  # units in one hidden layer
MAX_LAYERS = 100  # hidden layers
MAX_GRAPH_NODES = 100_000  # more is what "none" is for
MAX_SEED = 2**32 - 1  # the range seeds have in numpy and PyTorch too
MAX_NOISE = 100.0  # the data sets span a few units; 1e308 made infinite points


class Given(argparse.Action):
    """Store the value and note that the command line gave it (``args.given``), so a
    data set's own defaults (DATASET_DEFAULTS) never override what the user typed."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        namespace.given = getattr(namespace, "given", frozenset()) | {self.dest}


def int_in(low: int, high: int):
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


def float_in(low: float, high: float | None = None, *, low_open: bool = False,
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


def hidden_widths(text: str) -> list[int]:
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


def graph_nodes(text: str) -> int | None:
    """ "40" -> 40 (at least 5); "none" -> None (draw the whole graph)."""
    if text.strip().lower() == "none":
        return None
    return int_in(5, MAX_GRAPH_NODES)(text)


def batch_size(text: str) -> int | None:
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


def out_dir(text: str) -> str:
    """--out: a directory name; an empty one would mean the current directory unasked."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "must name a directory, got an empty string (for the current directory say --out .)"
        )
    return text


class Parser(argparse.ArgumentParser):
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
        super().error(one_line(message))


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show "(default: X)" unless there is none to show or the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default is None or isinstance(action.default, bool) or "default" in text:
            return action.help
        return super()._get_help_string(action)


def add_command(sub: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """The subcommand ``name``'s parser; ``usage_from`` is where ``main`` finds its usage."""
    command = sub.add_parser(name, **kwargs)
    command.set_defaults(usage_from=command, command=name)
    return command


# Tokens such as "-0.5,0.2" (a point) or "-3" would look like options to argparse;
# a leading space keeps them positional values, and the parsers strip it.
_NUMBERS = re.compile(r"^-(\d|\.\d)[\d.eE+\-]*(,\s*[-+]?[\d.eE+\-]+)*$")


def protect_negative_numbers(argv: Sequence[str]) -> list[str]:
    return [" " + a if _NUMBERS.match(a) else a for a in argv]
