"""chainrule's autograd: scalar reverse-mode automatic differentiation.

Public names only; see README.md for the tour.
"""

from .backward import backward, grad, topological_order
from .mode import AnomalyError, detect_anomaly, is_grad_enabled, no_grad
from .value import Constant, Value, dot, maximum
from .value import sum_values as sum

__all__ = [
    "AnomalyError",
    "Constant",
    "Value",
    "backward",
    "detect_anomaly",
    "dot",
    "grad",
    "is_grad_enabled",
    "maximum",
    "no_grad",
    "sum",
    "topological_order",
]
