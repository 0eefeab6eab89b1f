"""chainrule's autograd: scalar reverse-mode automatic differentiation.

Public names only; see README.md for the tour.
"""

from ._version import __chainrule__ as __chainrule__
from ._version import __version__ as __version__
from .backward import backward, grad, topological_order
from .compile import Compiled, compile
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .hessian import hessian
from .mode import AnomalyError, detect_anomaly, is_grad_enabled, no_grad
from .nary import dot, dots, logsumexp, maximum
from .nary import sum_values as sum
from .value import Constant, Value


def __getattr__(name: str):
    """draw and to_svg load lazily: the engine itself needs no drawing packages."""
    if name in ("draw", "to_svg"):
        from . import viz

        return getattr(viz, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AnomalyError",
    "Compiled",
    "Constant",
    "GradcheckError",
    "Value",
    "backward",
    "compile",
    "detect_anomaly",
    "dot",
    "dots",
    "draw",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "hessian",
    "is_grad_enabled",
    "logsumexp",
    "maximum",
    "no_grad",
    "sum",
    "to_svg",
    "topological_order",
]
