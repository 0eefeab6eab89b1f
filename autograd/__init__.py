"""chainrule's autograd: scalar reverse-mode automatic differentiation.

Public names only; see README.md for the tour.
"""

from .backward import backward, grad, topological_order
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .hessian import hessian
from .mode import AnomalyError, detect_anomaly, is_grad_enabled, no_grad
from .value import Constant, Value, dot, dots, logsumexp, maximum
from .value import sum_values as sum


def __getattr__(name: str):
    """draw and to_svg load lazily: the engine itself needs no drawing packages."""
    if name in ("draw", "to_svg"):
        from . import viz

        return getattr(viz, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AnomalyError",
    "Constant",
    "GradcheckError",
    "Value",
    "backward",
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
