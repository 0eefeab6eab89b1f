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

One module a purpose: args (argument types and bounds, the parser class),
errors (UsageError, DataError, one-line messages), and a module a subcommand,
each with ``add_parser`` and ``run``: train (with config: what a run will do;
pictures: what it draws; writer: the all-or-nothing writer), predict (with
points: command-line and CSV points) and steps.

Test-only: CHAINRULE_TEST_PAUSE_AT_WRITING=N makes ``train`` say so on stderr
and wait at the writing stage until N Ctrl-Cs have arrived (tests/nn/test_cli.py
uses it to land a real SIGINT there); it is not part of the interface.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from autograd import __version__

from . import predict, steps, train
from .args import Parser, protect_negative_numbers
from .errors import PROG, DataError, UsageError, one_line

# Each subcommand's module: its parser (add_parser) and what it does (run).
COMMANDS = {"train": train, "predict": predict, "steps": steps}


def build_parser() -> Parser:
    """The parser of every subcommand; ``parser.commands`` maps each name to its own."""
    parser = Parser(
        prog=PROG,
        description="Train small networks with chainrule and use them.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parser.commands.update({name: module.add_parser(sub) for name, module in COMMANDS.items()})
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (argparse exits 2 on its own errors)."""
    parser = build_parser()
    argv = protect_negative_numbers(sys.argv[1:] if argv is None else list(argv))
    try:
        if argv and argv[0] in parser.commands:  # positionals may follow options
            args = parser.commands[argv[0]].parse_intermixed_args(argv[1:])
        else:
            args = parser.parse_args(argv)
    except SystemExit as exit:  # --help (0) or a bad argument (2, message already printed)
        return exit.code if isinstance(exit.code, int) else 2
    try:
        return COMMANDS[args.command].run(args)
    except UsageError as err:
        if not isinstance(err, DataError):  # bad data is not a wrong command line
            args.usage_from.print_usage(sys.stderr)
        print(f"{PROG} {args.command}: error: {one_line(str(err))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted; nothing written", file=sys.stderr)
        return 130
    except Exception as err:  # training diverged, a plot failed, the disk is full...
        message = one_line(f"{type(err).__name__}: {err}")
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return 1
