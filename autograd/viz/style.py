"""How every picture looks, written once: colours, number formats, the draw options.

``graph`` (draw), ``stepper`` (the page) and ``cli`` (the command line) all read the
option set from here, so an option is checked, defaulted and offered in one place.
Nothing here imports the rest of ``autograd.viz``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace

DEFAULT_MAX_NODES = 200

# Fill colour of a value node by its role in the graph.
ROLE_COLORS = {
    "leaf": "#c6dbff",  # a Value the user made: a parameter or an input
    "constant": "#e4e4e4",  # a leaf made from a plain number (x * 2)
    "intermediate": "#e3f4e1",  # the result of an op
    "root": "#ffcf99",  # the node being drawn (usually the loss)
}
ROLE_NAMES = {
    "leaf": "leaf (parameter, input)",
    "constant": "constant",
    "intermediate": "intermediate",
    "root": "root (output)",
}
OP_COLOR = "#ffffff"
CUT_COLOR = "#ffe0e0"
NOT_REACHED_COLOR = "#ffffff"  # the stepper: a node whose gradient is not known yet

# color_by="grad": a pale-to-dark ramp from the smallest |grad| to the largest, on a
# log scale, so a gradient that fades away through a deep net fades in colour too.
GRAD_RAMP = ("#fff6d5", "#fdc964", "#f28a3c", "#d2452f", "#7e1033")
GRAD_COLORS = {"zero": "#d7d7d7", "nonfinite": "#d64fd6"}

# color_by="grad_sign": ColorBrewer's RdBu, a diverging palette safe for the common
# colour-vision deficiencies. Blue is negative, red positive; the darker, the larger
# |grad| (log scale). Zero is the neutral middle.
SIGN_RAMPS = {
    -1: ("#d1e5f0", "#92c5de", "#4393c3", "#2166ac"),
    1: ("#fddbc7", "#f4a582", "#d6604d", "#b2182b"),
}
SIGN_ZERO = "#f7f7f7"

# How an op is written inside its node; other ops show their engine name.
OP_SYMBOLS = {"sum": "\u03a3"}  # Σ
# Edge labels for operands whose order matters.
OPERAND_LABELS = {"-": ("+", "\u2212"), "/": ("num", "den"), "**": ("base", "exp")}

RANKDIRS = ("LR", "RL", "TB", "BT")
COLOR_BY = ("role", "grad", "grad_sign")
RENDERERS = ("auto", "dot", "wasm")


# --- the option set -------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawOptions:
    """The options of ``draw``, ``to_svg``, ``show`` and ``step_through``.

    rankdir      layout direction: "LR" (inputs left, root right), "RL", "TB" or "BT".
    digits       significant digits of data and grad (format ``{:.4g}`` by default).
    fmt          instead of digits: a format string such as "{:.3f}", or a callable.
    color_by     "role" (leaves, constants, intermediates, root), "grad" (|grad| on a
                 log scale) or "grad_sign" (sign and size of grad, a diverging palette).
    grad_range   with a grad colouring: the (smallest, largest) |grad| of the scale.
    legend       draw a colour legend; default: only for the grad colourings.
    max_nodes    draw at most this many Values, those nearest the root (None: all).
    graph_attr   extra Graphviz graph attributes, e.g. {"size": "8,5"}.
    cut_hint     what the cut message suggests instead of "pass max_nodes=N".
    """

    rankdir: str = "LR"
    digits: int = 4
    fmt: str | Callable[[float], str] | None = None
    color_by: str = "role"
    grad_range: tuple[float, float] | None = None
    legend: bool | None = None
    max_nodes: int | None = DEFAULT_MAX_NODES
    graph_attr: Mapping[str, str] | None = None
    cut_hint: str | None = None

    def checked(self, caller: str) -> DrawOptions:
        """These options, each checked; a bad one raises naming ``caller`` and the value."""
        if self.rankdir not in RANKDIRS:
            raise ValueError(f"{caller}: rankdir must be one of {RANKDIRS}, got {self.rankdir!r}")
        if self.color_by not in COLOR_BY:
            raise ValueError(
                f"{caller}: color_by must be one of {COLOR_BY}, got {self.color_by!r}"
            )
        m = self.max_nodes
        if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m < 1):
            raise ValueError(f"{caller}: max_nodes must be a positive int or None, got {m!r}")
        if self.cut_hint is not None and not isinstance(self.cut_hint, str):
            raise TypeError(f"{caller}: cut_hint must be a str or None, got {self.cut_hint!r}")
        if self.graph_attr is not None and not isinstance(self.graph_attr, Mapping):
            raise TypeError(f"{caller}: graph_attr must be a mapping, got {self.graph_attr!r}")
        formatter(self.fmt, self.digits, caller)
        if self.grad_range is not None:
            log_bounds(self.grad_range, caller)
        return self

    def number(self) -> Callable[[float], str]:
        """float -> text, as every number in the picture is written."""
        return formatter(self.fmt, self.digits, "draw")

    @property
    def show_legend(self) -> bool:
        return self.color_by != "role" if self.legend is None else bool(self.legend)

    def but(self, **changes) -> DrawOptions:
        return replace(self, **changes)


OPTION_NAMES = tuple(f.name for f in fields(DrawOptions))


def formatter(fmt, digits, caller: str = "draw") -> Callable[[float], str]:
    """The number format: ``{:.<digits>g}``, a format string, or a callable."""
    if fmt is None:
        if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
            raise ValueError(f"{caller}: digits must be a positive int, got {digits!r}")
        return lambda x: f"{x:.{digits}g}"
    if callable(fmt):
        return lambda x: str(fmt(x))
    if isinstance(fmt, str):
        try:
            fmt.format(1.5)
        except (ValueError, IndexError, KeyError) as err:
            raise ValueError(
                f"{caller}: fmt must format one number, like '{{:.4g}}'; {fmt!r} fails: {err}"
            ) from None
        return fmt.format
    raise TypeError(f"{caller}: fmt must be a format string or a callable, got {fmt!r}")


def add_arguments(parser: argparse.ArgumentParser, positive_int) -> None:
    """The drawing options as command-line flags (``python -m autograd.viz``)."""
    parser.add_argument("--rankdir", default="LR", choices=RANKDIRS)
    parser.add_argument("--color-by", default="role", choices=COLOR_BY)
    parser.add_argument("--legend", action="store_true", help="add a colour legend")
    parser.add_argument("--digits", type=positive_int, default=4, help="significant digits")
    parser.add_argument("--renderer", default="auto", choices=RENDERERS)


def options_from_arguments(args: argparse.Namespace) -> DrawOptions:
    return DrawOptions(
        rankdir=args.rankdir, color_by=args.color_by, legend=args.legend or None,
        digits=args.digits,
    )


# --- colour scales ------------------------------------------------------------------------------


def log_bounds(grad_range, caller: str = "draw") -> tuple[float, float]:
    lo, hi = (float(x) for x in grad_range)
    if not (0 < lo <= hi and math.isfinite(hi)):
        raise ValueError(
            f"{caller}: grad_range must be (smallest, largest) with 0 < smallest <= "
            f"largest, got {grad_range!r}"
        )
    return math.log10(lo), math.log10(hi)


class GradScale:
    """Maps a gradient to a colour: |grad| on a log10 scale between two bounds, and,
    with ``signed``, its sign as the side of a diverging palette."""

    def __init__(
        self, grads: list[float], grad_range: tuple[float, float] | None, signed: bool = False
    ) -> None:
        self.signed = signed
        mags = [abs(g) for g in grads]
        finite = [a for a in mags if math.isfinite(a) and a > 0]
        self.has_zero = any(a == 0 for a in mags)
        self.has_nonfinite = any(not math.isfinite(a) for a in mags)
        self.signs = {1 if g > 0 else -1 for g in grads if math.isfinite(g) and g != 0}
        if grad_range is not None:
            self.bounds: tuple[float, float] | None = log_bounds(grad_range)
        elif finite:
            self.bounds = (math.log10(min(finite)), math.log10(max(finite)))
        else:
            self.bounds = None

    def position(self, a: float) -> float:
        """Where |grad| = a falls on the scale, from 0.0 (smallest) to 1.0 (largest)."""
        lo, hi = self.bounds
        if hi - lo < 1e-12:
            return 1.0
        return min(1.0, max(0.0, (math.log10(a) - lo) / (hi - lo)))

    def color(self, grad: float) -> str:
        a = abs(grad)
        if not math.isfinite(a):
            return GRAD_COLORS["nonfinite"]
        if a == 0:
            return SIGN_ZERO if self.signed else GRAD_COLORS["zero"]
        stops = SIGN_RAMPS[1 if grad > 0 else -1] if self.signed else GRAD_RAMP
        return ramp(stops, self.position(a))

    @property
    def title(self) -> str:
        return "grad: sign and size (log scale)" if self.signed else "|grad|, log scale"

    def legend(self) -> list[tuple[str, str]]:
        ticks = []
        if self.bounds is not None:
            ticks = [(power_label(e), 10.0**e) for e in _ticks(*self.bounds)]
        if not self.signed:
            entries = [(text, self.color(a)) for text, a in ticks]
            if self.has_zero:
                entries.append(("0", GRAD_COLORS["zero"]))
        else:
            entries = []
            if -1 in self.signs:
                entries += [("\u2212" + text, self.color(-a)) for text, a in reversed(ticks)]
            if self.has_zero or len(self.signs) != 1:
                entries.append(("0", SIGN_ZERO))
            if 1 in self.signs:
                entries += [("+" + text, self.color(a)) for text, a in ticks]
        if self.has_nonfinite:
            entries.append(("nan/inf", GRAD_COLORS["nonfinite"]))
        return entries


def _ticks(lo: float, hi: float) -> list[float]:
    """log10 positions for the legend: whole decades when the range spans them."""
    if hi - lo < 1e-12:
        return [hi]
    first, last = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    if last - first >= 2:
        step = max(1, math.ceil((last - first) / 6))
        ticks = list(range(first, last + 1, step))
        head = [lo] if ticks[0] - lo > 0.3 else []
        tail = [hi] if hi - ticks[-1] > 0.3 else []
        return head + ticks + tail
    return [lo + (hi - lo) * k / 4 for k in range(5)]


def power_label(e: float) -> str:
    """10**e written briefly: 1, 10, 0.1, 1e-8, 3.3e-9, 0.25."""
    if abs(e - round(e)) < 1e-9:
        e = round(e)
        return {0: "1", 1: "10", -1: "0.1"}.get(e, f"1e{e}")
    mantissa, _, exponent = f"{10.0**e:.2g}".partition("e")
    return mantissa + (f"e{int(exponent)}" if exponent else "")


def ramp(stops: tuple[str, ...], t: float) -> str:
    """Linear interpolation between colour stops, t in [0, 1]."""
    rgbs = [rgb(c) for c in stops]
    x = t * (len(rgbs) - 1)
    i = min(int(x), len(rgbs) - 2)
    f = x - i
    a, b = rgbs[i], rgbs[i + 1]
    return "#" + "".join(f"{round(a[k] + (b[k] - a[k]) * f):02x}" for k in range(3))


def rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def is_dark(color: str) -> bool:
    r, g, b = rgb(color)
    return 0.299 * r + 0.587 * g + 0.114 * b < 128
