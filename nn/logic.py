"""Logic gates from perceptrons, and two networks that compute XOR.

On +-1 inputs (+1 = TRUE, -1 = FALSE) the lecture builds gates as
sign(bias + w . g):

    AND(g1, g2) = sign(-1 + g1 + g2)     OR(g1, g2) = sign(1 + g1 + g2)
    NOT(g)      = sign(-g)

XOR is not linearly separable, so no single perceptron computes it; one more
layer does: XOR(g1, g2) = OR(AND(-g1, g2), AND(g1, -g2)).
On {0, 1} inputs a ReLU network does the same (Goodfellow et al.):
h = relu(W x + c), y = w . h + b with W = [[1, 1], [1, 1]], c = [0, -1],
w = [1, -2], b = 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from autograd import Value, dot

from .layers import MLP, Perceptron


def _gate(weights: Sequence[float], bias: float, inputs: Sequence) -> Value:
    out = dot(weights, inputs) + bias
    return out.sign()


def AND(*gs: Value | float) -> Value:
    """sign(-(n-1) + sum g): +1 only if every input is +1 (n = 2: sign(-1 + g1 + g2))."""
    _need(gs, "AND")
    return _gate([1.0] * len(gs), 1.0 - len(gs), gs)


def OR(*gs: Value | float) -> Value:
    """sign((n-1) + sum g): +1 if any input is +1 (n = 2: sign(1 + g1 + g2))."""
    _need(gs, "OR")
    return _gate([1.0] * len(gs), len(gs) - 1.0, gs)


def NOT(g: Value | float) -> Value:
    """sign(-g)."""
    return _gate([-1.0], 0.0, [g])


def XOR(g1: Value | float, g2: Value | float) -> Value:
    """The two-layer cascade OR(AND(-g1, g2), AND(g1, -g2))."""
    return OR(AND(-g1, g2), AND(g1, -g2))


def _need(gs: tuple, name: str) -> None:
    if len(gs) < 1:
        raise ValueError(f"{name}: needs at least one input")


# --- the same gates as trainable, saveable modules ------------------------------

def and_gate(n: int = 2) -> Perceptron:
    return Perceptron([1.0] * n, 1.0 - n, "sign")


def or_gate(n: int = 2) -> Perceptron:
    return Perceptron([1.0] * n, n - 1.0, "sign")


def not_gate() -> Perceptron:
    return Perceptron([-1.0], 0.0, "sign")


def _fixed_mlp(
    layers: list[list[tuple[list[float], float]]], activation: str, output_activation: str | None
) -> MLP:
    """An MLP with every weight set by hand; draws nothing from ``random``."""
    nin = len(layers[0][0][0])
    model = MLP(nin, [len(units) for units in layers], activation, output_activation, init=0.0)
    for layer, units in zip(model.layers, layers, strict=True):
        for neuron, (weights, bias) in zip(layer.neurons, units, strict=True):
            for w, value in zip(neuron.w, weights, strict=True):
                w.data = float(value)
            neuron.b.data = float(bias)
    return model


def xor_network() -> MLP:
    """The perceptron cascade as a 2-2-1 sign network on +-1 inputs.

    Hidden units are AND(-g1, g2) and AND(g1, -g2); the output unit is their OR.
    """
    return _fixed_mlp(
        [[([-1.0, 1.0], -1.0), ([1.0, -1.0], -1.0)], [([1.0, 1.0], 1.0)]], "sign", "sign"
    )


def xor_relu_network() -> MLP:
    """The hand-set ReLU network that solves XOR on {0, 1} inputs (linear output)."""
    return _fixed_mlp(
        [[([1.0, 1.0], 0.0), ([1.0, 1.0], -1.0)], [([1.0, -2.0], 0.0)]], "relu", None
    )
