"""Neuron, Layer, MLP and the other units networks are built from.

Speed comes from the graph's shape: a neuron's weighted sum and its bias are
ONE n-ary ``dot`` node (operands w, x, b), then one node for the activation,
where a naive build makes 2n + 1 binary nodes. A Layer turns float inputs into Values
once and hands the same list to every neuron; an MLP converts once for all
its layers.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any

from autograd import Value, dot, dots, maximum
from autograd.nary import apply_each

from ._text import plural
from .activations import Activation, activation_config, make_activation
from .init import Constant, InitSpec, finite_real, generator, get_initializer
from .module import Module, _short, build_module, module_spec, reserve_parameters

Inputs = Sequence  # a sequence of Values or numbers (a bare number when nin == 1)


def _count(who: str, what: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{who}: {what} must be a positive int, got {n!r}")
    return n


def _input_list(x: Any, nin: int, who: str) -> Sequence:
    """``x`` as a list or tuple of ``nin`` items (a bare number counts as one input).

    Text, mappings and sets are refused: their order (or their characters) would
    be taken for the inputs silently.
    """
    if isinstance(x, (Value, numbers.Real)):
        x = (x,)
    elif not isinstance(x, (list, tuple)):
        if isinstance(x, (str, bytes, Mapping, Set)) or not isinstance(x, Iterable):
            items = plural(nin, "number or Value", "numbers or Values")
            raise TypeError(f"{who}: inputs must be a list of {items}, got {_short(x, 80)}")
        x = list(x)
    if len(x) != nin:
        raise ValueError(f"{who}: expected {plural(nin, 'input')}, got {len(x)}")
    return x


def _bad_input(x: Sequence, who: str) -> Exception:
    """The error naming the first input that is not a number or a Value: TypeError, or
    OverflowError for an int no float can hold."""
    for i, v in enumerate(x):
        if not isinstance(v, (Value, numbers.Real)):
            return TypeError(f"{who}: inputs[{i}] must be a number or a Value, got {v!r}")
        if not isinstance(v, Value):
            try:
                float(v)
            except OverflowError:
                return OverflowError(f"{who}: inputs[{i}] = {_short(v, 40)} is too large "
                                     "for a float")
    return TypeError(f"{who}: inputs must be numbers or Values")  # pragma: no cover


def as_inputs(x: Any, nin: int, who: str) -> list[Value]:
    """``x`` as a list of ``nin`` Values, converting numbers once."""
    x = _input_list(x, nin, who)
    try:
        return [v if isinstance(v, Value) else Value(v) for v in x]
    except (TypeError, OverflowError):
        raise _bad_input(x, who) from None


def _micrograd_nonlin(who: str, activation: Activation, nonlin: bool | None) -> Activation:
    """micrograd's ``nonlin=True/False`` as an activation: relu, or linear."""
    if nonlin is None:
        return activation
    if not isinstance(nonlin, bool):
        raise TypeError(f"{who}: nonlin must be True or False, got {nonlin!r}")
    if activation != "relu":
        raise ValueError(
            f"{who}: give either activation={activation!r} or micrograd's nonlin={nonlin}, "
            "not both"
        )
    return "relu" if nonlin else "linear"


class Neuron(Module):
    """One unit: activation(w . x + b). Returns a Value.

    Weights come from ``init`` (default U(-1, 1)), biases from ``bias_init``
    (default 0), drawn from ``rng`` or Python's ``random`` module.
    """

    def __init__(
        self,
        nin: int,
        activation: Activation = "relu",
        bias: bool = True,
        *,
        init: InitSpec = None,
        bias_init: InitSpec = 0.0,
        rng: Any = None,
        fan_out: int = 1,
        nonlin: bool | None = None,
    ) -> None:
        activation = _micrograd_nonlin("Neuron", activation, nonlin)
        self.nin = _count("Neuron", "nin", nin)
        fan_out = _count("Neuron", "fan_out", fan_out)
        gen = generator(rng, "Neuron")
        draw = get_initializer(init)
        reserve_parameters("Neuron", nin + (1 if bias else 0))
        self.w = [Value(draw(nin, fan_out, gen)) for _ in range(nin)]
        if bias:
            self.b = Value(get_initializer(bias_init, Constant(0.0))(nin, fan_out, gen))
        else:
            self.b = None
        act = make_activation(activation)
        if isinstance(act, Module):
            self.act = act  # registered: a PReLU's slope is a parameter of this unit
        self._act = act
        self._activation = activation

    def forward(self, x: Inputs) -> Value:
        x = _input_list(x, self.nin, "Neuron")
        try:
            out = dot(self.w, x, bias=self.b)
        except (TypeError, OverflowError):
            raise _bad_input(x, "Neuron") from None
        act = self._act
        return out if act is None else act(out)

    def config(self) -> dict[str, Any]:
        return {
            "nin": self.nin,
            "activation": activation_config(self._activation),
            "bias": self.b is not None,
        }


class Layer(Module):
    """``nout`` neurons reading the same inputs. Returns a list of ``nout`` Values,
    or one Value when ``nout == 1`` (as micrograd's Layer does)."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: Activation = "relu",
        bias: bool = True,
        *,
        init: InitSpec = None,
        bias_init: InitSpec = 0.0,
        rng: Any = None,
        nonlin: bool | None = None,
    ) -> None:
        activation = _micrograd_nonlin("Layer", activation, nonlin)
        self.nin = _count("Layer", "nin", nin)
        self.nout = _count("Layer", "nout", nout)
        gen = generator(rng, "Layer")
        self.neurons = [
            Neuron(nin, activation, bias, init=init, bias_init=bias_init, rng=gen, fan_out=nout)
            for _ in range(nout)
        ]
        self._activation = activation
        self._bias = bool(bias)

    def forward(self, x: Inputs) -> list[Value] | Value:
        out = self._forward(as_inputs(x, self.nin, "Layer"))
        return out[0] if self.nout == 1 else out

    def _forward(self, xs: list[Value]) -> list[Value]:
        """The forward pass on inputs already checked and converted to Values."""
        return self._sums_and_outputs(xs)[1]

    def _sums_and_outputs(self, xs: list[Value]) -> tuple[list[Value], list[Value]]:
        """The weighted sums s (one dot node per neuron) and the outputs g(s).

        The one place a layer builds its graph, so ``MLP.forward_layers`` builds
        the same nodes ``model(x)`` does. With a linear activation s and the
        output are the same node.
        """
        neurons = self.neurons
        pre = dots([n.w for n in neurons], xs, [n.b for n in neurons])
        act = neurons[0]._act
        for n in neurons:
            if n._act is not act:  # units with activations of their own (one PReLU each)
                return pre, [v if (act := n._act) is None else act(v)
                             for n, v in zip(neurons, pre, strict=True)]
        return pre, list(pre) if act is None else apply_each(act, pre)

    def config(self) -> dict[str, Any]:
        return {
            "nin": self.nin,
            "nout": self.nout,
            "activation": activation_config(self._activation),
            "bias": self._bias,
        }


class MLP(Module):
    """A multi-layer perceptron: ``activation`` on hidden layers, ``output_activation``
    (default linear) on the last, as in micrograd.

    Returns one Value when the last layer has one unit, else a list.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: Activation = "relu",
        output_activation: Activation = None,
        bias: bool = True,
        *,
        init: InitSpec = None,
        bias_init: InitSpec = 0.0,
        rng: Any = None,
    ) -> None:
        self.nin = _count("MLP", "nin", nin)
        # Both checked here: with one layer the hidden activation is never built,
        # and a typo in it would otherwise pass silently.
        for name, spec in (("activation", activation), ("output_activation", output_activation)):
            try:
                make_activation(spec)
            except ValueError as err:
                raise ValueError(f"MLP: {name}: {err}") from None
        if not isinstance(nouts, (str, bytes, Mapping, Set)) and isinstance(nouts, Iterable):
            nouts = list(nouts)
        if not isinstance(nouts, list) or not nouts:
            raise ValueError(
                f"MLP: nouts must be a non-empty list of layer widths, got {_short(nouts, 80)}"
            )
        widths = [_count("MLP", f"nouts[{i}]", n) for i, n in enumerate(nouts)]
        sizes = [nin, *widths]
        last = len(widths) - 1
        gen = generator(rng, "MLP")
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                activation if i < last else output_activation,
                bias,
                init=init,
                bias_init=bias_init,
                rng=gen,
            )
            for i in range(len(widths))
        ]
        self._activation = activation
        self._output_activation = output_activation
        self._bias = bool(bias)

    def forward(self, x: Inputs) -> Value | list[Value]:
        xs = as_inputs(x, self.nin, "MLP")
        for layer in self.layers:
            xs = layer._forward(xs)
        return xs[0] if len(xs) == 1 else xs

    def forward_layers(self, x: Inputs) -> list[tuple[list[Value], list[Value]]]:
        """The forward pass layer by layer: one ``(s, a)`` pair per layer.

        ``s`` are the layer's weighted sums s_j = b_j + sum_i w_ij x_i (the
        lectures' s, the pre-activations) and ``a`` its outputs g(s_j), both
        lists of Values even for one unit. The graph is the one ``model(x)``
        builds (the last ``a`` holds what it returns), so after
        ``loss.backward()`` each ``s[j].grad`` is the lectures' delta_j =
        dE/ds_j, and a weight's gradient is x_i * delta_j, x_i being the input
        it multiplies (the previous layer's a_i, or the model's input).
        """
        xs = as_inputs(x, self.nin, "MLP.forward_layers")
        out = []
        for layer in self.layers:
            s, xs = layer._sums_and_outputs(xs)
            out.append((s, xs))
        return out

    def config(self) -> dict[str, Any]:
        return {
            "nin": self.nin,
            "nouts": [layer.nout for layer in self.layers],
            "activation": activation_config(self._activation),
            "output_activation": activation_config(self._output_activation),
            "bias": self._bias,
        }


class Sequential(Module):
    """Modules applied in turn, each to the previous one's output."""

    def __init__(self, *layers: Module) -> None:
        for m in layers:
            if not isinstance(m, Module):
                raise ValueError(f"Sequential: expected Modules, got {m!r}")
        self.layers = list(layers)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def config(self) -> dict[str, Any]:
        return {"layers": [module_spec(m) for m in self.layers]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        layers = config.get("layers")
        if not isinstance(layers, list) or set(config) != {"layers"}:
            raise ValueError("Sequential config must be {'layers': [specs]}")
        return cls(*(build_module(spec) for spec in layers))


class Perceptron(Module):
    """The lecture's linear threshold unit: activation(bias + w . x), sign by default.

    The weights are parameters, so the same unit with a smooth activation is a
    trainable logistic-regression neuron.
    """

    def __init__(
        self, weights: Sequence[float], bias: float = 0.0, activation: Activation = "sign"
    ) -> None:
        if isinstance(weights, (str, bytes, Mapping, Set)) or not isinstance(weights, Iterable):
            raise ValueError(f"Perceptron: weights must be a non-empty list, got {weights!r}")
        weights = list(weights)
        if not weights:
            raise ValueError("Perceptron: weights must be a non-empty list, got []")
        ws = [finite_real("Perceptron", f"weights[{i}]", w) for i, w in enumerate(weights)]
        b = finite_real("Perceptron", "bias", bias)
        reserve_parameters("Perceptron", len(ws) + 1)
        self.w = [Value(w) for w in ws]
        self.b = Value(b)
        self._act = make_activation(activation)
        if isinstance(self._act, Module):
            self.act = self._act
        self._activation = activation

    @property
    def nin(self) -> int:
        return len(self.w)

    def forward(self, x: Inputs) -> Value:
        x = _input_list(x, len(self.w), "Perceptron")
        try:
            out = dot(self.w, x) + self.b
        except (TypeError, OverflowError):
            raise _bad_input(x, "Perceptron") from None
        act = self._act
        return out if act is None else act(out)

    def config(self) -> dict[str, Any]:
        return {
            "weights": [w.data for w in self.w],
            "bias": self.b.data,
            "activation": activation_config(self._activation),
        }


class Maxout(Module):
    """``nout`` maxout units, each the max of ``k`` affine pieces w_j . x + b_j.

    With k = 2 a unit can learn ReLU, absolute-value rectification or a PReLU.
    Returns a list, like Layer.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        k: int = 2,
        bias: bool = True,
        *,
        init: InitSpec = None,
        bias_init: InitSpec = 0.0,
        rng: Any = None,
    ) -> None:
        self.nin = _count("Maxout", "nin", nin)
        self.nout = _count("Maxout", "nout", nout)
        self.k = _count("Maxout", "k", k)
        gen = generator(rng, "Maxout")
        self.units = [
            Layer(nin, k, "linear", bias, init=init, bias_init=bias_init, rng=gen)
            for _ in range(nout)
        ]
        self._bias = bool(bias)

    def forward(self, x: Inputs) -> list[Value]:
        xs = as_inputs(x, self.nin, "Maxout")
        return [maximum(unit._forward(xs)) for unit in self.units]

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "k": self.k, "bias": self._bias}


class RBF(Module):
    """A radial-basis unit exp(-gamma ||x - c||^2) with a learned centre c.

    It answers most strongly near its centre (the template the lecture calls
    W_:,i); ``gamma`` = 1 / sigma^2 sets the width. Returns a Value.
    """

    def __init__(
        self, nin: int, gamma: float = 1.0, *, init: InitSpec = None, rng: Any = None
    ) -> None:
        self.nin = _count("RBF", "nin", nin)
        gamma = finite_real("RBF", "gamma", gamma)
        if not gamma > 0:
            raise ValueError(f"RBF: gamma must be positive, got {gamma}")
        self.gamma = gamma
        gen = generator(rng, "RBF")
        draw = get_initializer(init)
        reserve_parameters("RBF", nin)
        self.centre = [Value(draw(nin, 1, gen)) for _ in range(nin)]

    def forward(self, x: Inputs) -> Value:
        xs = as_inputs(x, self.nin, "RBF")
        d = [xi - ci for xi, ci in zip(xs, self.centre, strict=True)]
        return (dot(d, d) * -self.gamma).exp()

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "gamma": self.gamma}
