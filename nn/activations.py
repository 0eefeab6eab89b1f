"""Activation functions, by name or by callable, and the two that carry state.

A layer's ``activation=`` accepts
  * a name: "relu", "tanh", ... (see ``ACTIVATIONS``);
  * a dict naming one with its arguments: ``{"name": "leaky_relu", "negative_slope": 0.2}``;
  * any callable ``f(Value) -> Value`` (saved files can hold only the first two).

Element-wise functions resolve to the engine's own methods (``Value.relu``), so
a layer pays one function call per unit and nothing more. "prelu" and "rrelu"
resolve to a fresh module per unit: PReLU learns its slope, RReLU samples one.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable
from typing import Any

from autograd import Value

from .init import finite_real
from .module import Module, reserve_parameters

Activation = str | dict | Callable[[Value], Value] | None


def _value(x: Value | float) -> Value:
    return x if isinstance(x, Value) else Value(x)


# --- element-wise functions (each takes a Value or a number, returns a Value) ---

def linear(x: Value | float) -> Value:
    """The identity: a linear unit, as used for regression outputs."""
    return _value(x)


def sigmoid(x: Value | float) -> Value:
    return _value(x).sigmoid()


def tanh(x: Value | float) -> Value:
    return _value(x).tanh()


def relu(x: Value | float) -> Value:
    return _value(x).relu()


def leaky_relu(x: Value | float, negative_slope: float = 0.01) -> Value:
    return _value(x).leaky_relu(negative_slope)


def elu(x: Value | float, alpha: float = 1.0) -> Value:
    return _value(x).elu(alpha)


def softplus(x: Value | float) -> Value:
    return _value(x).softplus()


def hardtanh(x: Value | float, min_val: float = -1.0, max_val: float = 1.0) -> Value:
    return _value(x).hardtanh(min_val, max_val)


def absolute(x: Value | float) -> Value:
    """Absolute-value rectification, g(z) = |z| (the generalised ReLU with a = 1)."""
    return abs(_value(x))


def sign(x: Value | float) -> Value:
    """The perceptron's unit: +1, -1, or 0 at 0 (derivative 0)."""
    return _value(x).sign()


def step(x: Value | float) -> Value:
    """The threshold unit: 1 for x >= 0 else 0 (derivative 0)."""
    return _value(x).step()


# --- stateful activations ------------------------------------------------------

class PReLU(Module):
    """Parametric ReLU, g(z) = max(0, z) + a min(0, z), with the slope a learned.

    ``num_parameters=1`` shares one slope across every input; otherwise unit i
    of an input list gets slope i. Called on a Value it returns a Value, on a
    list a list.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        if (
            isinstance(num_parameters, bool) or not isinstance(num_parameters, int)
            or num_parameters < 1
        ):
            raise ValueError(
                f"PReLU: num_parameters must be a positive int, got {num_parameters!r}"
            )
        init = finite_real("PReLU", "init", init)
        reserve_parameters("PReLU", num_parameters)
        self.num_slopes = num_parameters  # not num_parameters: that is Module's method
        self.init = init
        self.slope = [Value(self.init) for _ in range(num_parameters)]

    def forward(self, x: Value | float | list) -> Value | list[Value]:
        slopes = self.slope
        if isinstance(x, (list, tuple)):
            if len(slopes) == 1:
                a = slopes[0]
                return [_prelu(_value(v), a) for v in x]
            if len(x) != len(slopes):
                raise ValueError(f"PReLU: {len(slopes)} slopes but {len(x)} inputs")
            return [_prelu(_value(v), a) for v, a in zip(x, slopes, strict=True)]
        if len(slopes) != 1:
            raise ValueError(f"PReLU: {len(slopes)} slopes need a list of {len(slopes)} inputs")
        return _prelu(_value(x), slopes[0])

    def config(self) -> dict[str, Any]:
        return {"num_parameters": self.num_slopes, "init": self.init}


def _prelu(x: Value, a: Value) -> Value:
    # One engine op: d/dx is 1 or a (a at 0, as in PyTorch), d/da is min(0, x).
    return x.prelu(a)


class RReLU(Module):
    """Randomised leaky ReLU: in training each call draws the negative slope
    uniformly from [lower, upper]; in eval it uses the mean (lower + upper) / 2.

    The random slope enters as a constant, relu(x) - a relu(-x), so it needs no
    op of its own. Draws come from ``rng`` (a ``random.Random``) or, by
    default, Python's ``random`` module (seeded by ``nn.manual_seed``).
    """

    def __init__(self, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0, rng=None) -> None:
        lower, upper = finite_real("RReLU", "lower", lower), finite_real("RReLU", "upper", upper)
        if not 0.0 <= lower <= upper:
            raise ValueError(f"RReLU: need 0 <= lower <= upper, got lower={lower}, upper={upper}")
        if rng is not None and not callable(getattr(rng, "uniform", None)):
            raise TypeError(
                f"RReLU: rng must be a random.Random (or None for Python's random module), "
                f"got {rng!r}"
            )
        self.lower = lower
        self.upper = upper
        # None means Python's random module, looked up at each draw: a module
        # object cannot be copied or pickled, so it is never stored.
        self._rng = rng

    @property
    def mean_slope(self) -> float:
        """(lower + upper) / 2, computed so that bounds near the float maximum, whose
        sum overflows, still give their finite mean."""
        mean = (self.lower + self.upper) / 2.0
        return mean if mean != math.inf else self.lower / 2.0 + self.upper / 2.0

    def _one(self, x: Value | float) -> Value:
        x = _value(x)
        if self.training:
            a = (random if self._rng is None else self._rng).uniform(self.lower, self.upper)
            return x.relu() - a * (-x).relu()
        return x.leaky_relu(self.mean_slope)

    def forward(self, x: Value | float | list) -> Value | list[Value]:
        if isinstance(x, (list, tuple)):
            return [self._one(v) for v in x]
        return self._one(x)

    def config(self) -> dict[str, Any]:
        return {"lower": self.lower, "upper": self.upper}


# --- lookup by name ------------------------------------------------------------

def _method_builder(method: Callable) -> Callable[..., Callable]:
    def build(**kwargs: Any) -> Callable:
        if not kwargs:
            return method
        return functools.partial(method, **kwargs)  # unlike a lambda, it pickles

    return build


# name -> builder(**kwargs) -> callable(Value) -> Value (or a Module), None for linear.
_BUILDERS: dict[str, Callable[..., Any]] = {
    "linear": lambda: None,
    "sigmoid": _method_builder(Value.sigmoid),
    "tanh": _method_builder(Value.tanh),
    "relu": _method_builder(Value.relu),
    "leaky_relu": _method_builder(Value.leaky_relu),
    "elu": _method_builder(Value.elu),
    "softplus": _method_builder(Value.softplus),
    "hardtanh": _method_builder(Value.hardtanh),
    "abs": _method_builder(Value.__abs__),
    "sign": _method_builder(Value.sign),
    "step": _method_builder(Value.step),
    "prelu": PReLU,
    "rrelu": RReLU,
}
_ALIASES = {"identity": "linear", "none": "linear", "absolute": "abs"}

ACTIVATIONS: tuple[str, ...] = tuple(sorted(_BUILDERS))

# The callables users may pass, and the name each saves as.
_NAME_OF: dict[Any, str] = {
    linear: "linear", sigmoid: "sigmoid", tanh: "tanh", relu: "relu",
    leaky_relu: "leaky_relu", elu: "elu", softplus: "softplus", hardtanh: "hardtanh",
    absolute: "abs", sign: "sign", step: "step",
    Value.sigmoid: "sigmoid", Value.tanh: "tanh", Value.relu: "relu",
    Value.leaky_relu: "leaky_relu", Value.elu: "elu", Value.softplus: "softplus",
    Value.hardtanh: "hardtanh", Value.__abs__: "abs", Value.sign: "sign", Value.step: "step",
    abs: "abs", PReLU: "prelu", RReLU: "rrelu",
}


def _canonical(name: str) -> str:
    key = name.lower()
    key = _ALIASES.get(key, key)
    if key not in _BUILDERS:
        raise ValueError(
            f"unknown activation {name!r}; valid names: {', '.join(ACTIVATIONS)}"
        )
    return key


def _split(spec: Activation) -> tuple[str, dict[str, Any]] | None:
    """(name, kwargs) for a name, dict, or known callable; None for a custom callable."""
    if spec is None:
        return "linear", {}
    if isinstance(spec, str):
        return _canonical(spec), {}
    if isinstance(spec, dict):
        if not isinstance(spec.get("name"), str):
            raise ValueError(f"activation dict needs a 'name' string, got {spec!r}")
        kwargs = {k: v for k, v in spec.items() if k != "name"}
        return _canonical(spec["name"]), kwargs
    try:
        name = _NAME_OF.get(spec)
    except TypeError:  # unhashable callable
        name = None
    if name is not None:
        return name, {}
    if callable(spec):
        return None
    raise ValueError(
        f"activation must be a name, a dict, or a callable, got {spec!r}; "
        f"valid names: {', '.join(ACTIVATIONS)}"
    )


def make_activation(spec: Activation) -> Callable[[Value], Any] | None:
    """The callable a unit applies for ``spec``: None for linear, a new Module for
    "prelu"/"rrelu", the engine's method for the rest, ``spec`` itself if custom."""
    parts = _split(spec)
    if parts is None:
        return spec  # a custom callable
    name, kwargs = parts
    try:
        fn = _BUILDERS[name](**kwargs)
        if fn is not None and not isinstance(fn, Module):
            fn(Value(0.5))  # reject bad arguments now, not at the first forward pass
    except TypeError as err:
        raise ValueError(f"activation {name!r}: bad arguments {kwargs!r}: {err}") from None
    return fn


def _on_value(fn: Callable[[Value], Value], x: Value | float) -> Value:
    return fn(_value(x))


def get_activation(spec: Activation) -> Callable[[Value], Any]:
    """A callable for ``spec`` (the identity for "linear"); unknown names raise ValueError.

    Like ``nn.relu`` and friends it takes a Value or a plain number.
    """
    fn = make_activation(spec)
    if fn is None:
        return linear
    if isinstance(fn, Module) or fn is spec:  # stateful units and custom callables as given
        return fn
    return functools.partial(_on_value, fn)  # the engine's methods need a Value


def activation_config(spec: Activation) -> str | dict[str, Any]:
    """How ``spec`` is written to a saved file; ValueError for a custom callable."""
    parts = _split(spec)
    if parts is None:
        raise ValueError(
            f"activation {spec!r} is a custom callable, which a JSON file cannot hold; "
            f"pass a name ({', '.join(ACTIVATIONS)}) or a dict such as "
            "{'name': 'leaky_relu', 'negative_slope': 0.2}"
        )
    name, kwargs = parts
    return {"name": name, **kwargs} if kwargs else name
