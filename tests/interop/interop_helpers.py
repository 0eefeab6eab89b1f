"""Helpers shared by the interop tests: batches, our outputs as rows, and our
parameters paired with the matching entries of a torch model, found from the two
structures independently of nn.interop's own reading of them."""

from __future__ import annotations

import random
from typing import Any

import autograd
import nn
from autograd import Value

# Every activation with a PyTorch and an ONNX counterpart, with and without arguments.
ACTIVATIONS: list[Any] = [
    "linear",
    "identity",
    "relu",
    "tanh",
    "sigmoid",
    "softplus",
    "leaky_relu",
    {"name": "leaky_relu", "negative_slope": 0.2},
    "elu",
    {"name": "elu", "alpha": 0.7},
    "hardtanh",
    {"name": "hardtanh", "min_val": -0.5, "max_val": 0.8},
    "prelu",
    {"name": "rrelu", "lower": 0.1, "upper": 0.3},
]


def act_id(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    return "-".join(f"{v}" for v in spec.values())


def batch(nin: int, n: int = 7, seed: int = 0, scale: float = 2.0) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-scale, scale) for _ in range(nin)] for _ in range(n)]


def randomize(model: nn.Module, seed: int = 1) -> nn.Module:
    """Every parameter (biases and PReLU slopes included) to its own random value, so
    a parameter copied to the wrong place changes the function."""
    rng = random.Random(seed)
    for p in model.parameters():
        p.data = rng.uniform(-1.0, 1.0)
    return model


def rows(out: Any) -> list[float]:
    """One example's output(s) as a list of floats."""
    if isinstance(out, Value):
        return [out.data]
    return [o.data for o in out]


def our_outputs(model: nn.Module, X: list[list[float]]) -> list[list[float]]:
    return [rows(model(x)) for x in X]


def max_diff(a: list[list[float]], b: list[list[float]]) -> float:
    assert len(a) == len(b) and all(len(r) == len(s) for r, s in zip(a, b, strict=True))
    return max(abs(x - y) for r, s in zip(a, b, strict=True) for x, y in zip(r, s, strict=True))


def targets(n: int, nout: int, seed: int = 2) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-1.0, 1.0) for _ in range(nout)] for _ in range(n)]


def our_loss(model: nn.Module, X: list[list[float]], loss: str) -> Value:
    """"sum": the sum of every output; "mse": the mean squared error against ``targets``."""
    outs = []
    for x in X:
        out = model(x)
        outs.extend([out] if isinstance(out, Value) else out)
    if loss == "sum":
        return autograd.sum(outs)
    flat = [t for row in targets(len(X), len(outs) // len(X)) for t in row]
    return nn.mse_loss(outs, flat)


def torch_loss(torch: Any, tmodel: Any, X: list[list[float]], loss: str) -> Any:
    out = tmodel(torch.tensor(X, dtype=torch.float64))
    if loss == "sum":
        return out.sum()
    t = torch.tensor(targets(len(X), out.shape[1]), dtype=torch.float64)
    return torch.nn.functional.mse_loss(out, t)


def grad_pairs(torch: Any, model: nn.Module, tmodel: Any) -> list[tuple[Value, float, str]]:
    """(our parameter, torch's gradient of the matching entry, where) for every
    parameter, walking our layers and the torch modules side by side."""
    mods = list(tmodel)
    pos = 0
    pairs: list[tuple[Value, float, str]] = []

    def take(kind: Any) -> Any:
        nonlocal pos
        m = mods[pos]
        assert isinstance(m, kind), f"module {pos} is {m!r}, expected {kind.__name__}"
        pos += 1
        return m

    def grad_of(t: Any, idx: tuple[int, ...]) -> float:
        return 0.0 if t.grad is None else float(t.grad[idx])

    def visit(m: nn.Module) -> None:
        if isinstance(m, (nn.MLP, nn.Sequential)):
            for sub in m.layers:
                visit(sub)
        elif isinstance(m, (nn.Layer, nn.Neuron, nn.Perceptron)):
            neurons = m.neurons if isinstance(m, nn.Layer) else [m]
            lin = take(torch.nn.Linear)
            for j, n in enumerate(neurons):
                for i, w in enumerate(n.w):
                    pairs.append((w, grad_of(lin.weight, (j, i)), f"{pos - 1}.weight[{j},{i}]"))
                if n.b is not None:
                    pairs.append((n.b, grad_of(lin.bias, (j,)), f"{pos - 1}.bias[{j}]"))
            act = neurons[0]._act
            if act is None:
                return
            tact = take(torch.nn.Module)
            if isinstance(act, nn.PReLU):
                assert isinstance(tact, torch.nn.PReLU)
                for j, n in enumerate(neurons):
                    pairs.append((n.act.slope[0], grad_of(tact.weight, (j,)), f"{pos - 1}[{j}]"))
        elif isinstance(m, nn.PReLU):
            tact = take(torch.nn.PReLU)
            for i, s in enumerate(m.slope):
                pairs.append((s, grad_of(tact.weight, (i,)), f"{pos - 1}.weight[{i}]"))
        elif isinstance(m, nn.RReLU):
            take(torch.nn.RReLU)
        else:  # pragma: no cover - the tests use only the kinds above
            raise AssertionError(f"no pairing for {m!r}")

    visit(model)
    assert pos == len(mods), f"{len(mods) - pos} torch modules left unpaired"
    assert len(pairs) == model.num_parameters()
    assert len(pairs) == sum(p.numel() for p in tmodel.parameters())
    return pairs


def assert_same_gradients(
    torch: Any, model: nn.Module, tmodel: Any, X: list[list[float]], loss: str, tol: float = 1e-12
) -> None:
    """Backward through both on the same batch; every gradient agrees to ``tol``."""
    model.zero_grad()
    ours = our_loss(model, X, loss)
    ours.backward()
    tmodel.zero_grad()
    theirs = torch_loss(torch, tmodel, X, loss)
    theirs.backward()
    assert abs(ours.data - theirs.item()) <= tol
    pairs = grad_pairs(torch, model, tmodel)
    assert any(abs(p.grad) > 1e-6 for p, _, _ in pairs)  # not a vacuous comparison
    bad = [(where, p.grad, g) for p, g, where in pairs if not abs(p.grad - g) <= tol]
    assert not bad, f"gradients differ (where, ours, torch): {bad[:5]}"
