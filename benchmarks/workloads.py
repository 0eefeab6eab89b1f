"""The workloads, written once against the engine adapters, and the agreement check.

Each builder returns a ``Group``: the same computation for several engines
(a ``Case`` each), to be checked against each other and then timed interleaved.
A case's ``step()`` does the whole job, forward, backward and reading every
gradient, and returns a ``Result`` of plain floats, so the graph is freed
before the step returns (by reference counting for engines without cycles).

Every engine sees the same data and the same weights: both come from seeded
``random.Random`` generators, so runs are repeatable.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .engines import Engine, our_mlp_class

# --- constants of the workloads -----------------------------------------------------

DEMO_POINTS = 100
DEMO_SIZES = (2, 16, 16, 1)
ALPHA = 1e-4  # L2 weight of micrograd's demo
SEED = 1337

CHAIN_W, CHAIN_C, CHAIN_Y0 = 0.9999, 0.001, 1.0

RTOL = 1e-9  # relative agreement required between engines
ATOL = 1e-12  # for results that are zero up to rounding


# --- results, cases, groups -----------------------------------------------------------


@dataclass
class Result:
    """What a step computed: the output value and, for engines with backward, all grads."""

    value: float
    grads: list[float] | None = None


@dataclass
class Case:
    """One engine (or one variant of ours) running one workload."""

    engine: str
    step: Callable[[], Result]
    variant: str = ""  # e.g. "autograd.sum": shown as its own row
    depth: int = 0  # > 0: run in a deep-stack thread (micrograd's recursive topo sort)

    @property
    def label(self) -> str:
        return f"{self.engine}:{self.variant}" if self.variant else self.engine


@dataclass
class Group:
    """One workload: the cases to compare, and what a unit of work is for per-unit times."""

    key: str
    title: str
    cases: list[Case]
    unit: str = ""  # "node" or "term"; "" for no per-unit figure
    units: int = 0
    notes: dict[str, str] = field(default_factory=dict)  # engine -> why it is missing


class Disagreement(RuntimeError):
    """Two engines computed different values or gradients for the same workload."""


def close(a: float, b: float, rtol: float = RTOL, atol: float = ATOL) -> bool:
    diff = abs(a - b)
    return diff <= atol or diff <= rtol * max(abs(a), abs(b))


def check_agreement(title: str, results: dict[str, Result]) -> None:
    """Raise ``Disagreement`` unless every result matches the first (values and grads).

    Values are compared across all engines; gradients across the engines that
    have them (the plain-floats floor has none). Tolerance: ``RTOL`` relative,
    or ``ATOL`` absolute for results that round to zero.
    """
    labels = list(results)
    if len(labels) < 2:
        return
    problems: list[str] = []
    ref = labels[0]
    ref_value = results[ref].value
    for label in labels[1:]:
        value = results[label].value
        if not close(ref_value, value):
            problems.append(f"output value: {ref}={ref_value!r} but {label}={value!r}")
    with_grads = [label for label in labels if results[label].grads is not None]
    if with_grads:
        gref = with_grads[0]
        ref_grads = results[gref].grads
        for label in with_grads[1:]:
            grads = results[label].grads
            if len(grads) != len(ref_grads):
                problems.append(
                    f"number of gradients: {gref} has {len(ref_grads)} but {label} {len(grads)}"
                )
                continue
            pairs = enumerate(zip(ref_grads, grads, strict=True))
            bad = [i for i, (a, b) in pairs if not close(a, b)]
            for i in bad[:3]:
                problems.append(f"grad[{i}]: {gref}={ref_grads[i]!r} but {label}={grads[i]!r}")
            if len(bad) > 3:
                problems.append(f"... and {len(bad) - 3} more gradients differ ({label})")
    if problems:
        raise Disagreement(
            f"engines disagree on {title!r} (tolerance {RTOL:g} relative):\n  "
            + "\n  ".join(problems)
        )


# --- data and weights -------------------------------------------------------------------


def two_moons(n: int = DEMO_POINTS, noise: float = 0.1, seed: int = SEED):
    """Two interleaved half circles with Gaussian noise; labels -1.0 and +1.0.

    The upper moon is the half circle (cos t, sin t), the lower one
    (1 - cos t, 0.5 - sin t), t evenly spaced over [0, pi].
    """
    rng = random.Random(seed)
    upper, lower = n - n // 2, n // 2
    points: list[tuple[float, float]] = []
    labels: list[float] = []
    for count, label in ((upper, -1.0), (lower, 1.0)):
        for i in range(count):
            t = math.pi * i / max(count - 1, 1)
            if label < 0:
                x, y = math.cos(t), math.sin(t)
            else:
                x, y = 1.0 - math.cos(t), 0.5 - math.sin(t)
            points.append((x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)))
            labels.append(label)
    order = list(range(n))
    rng.shuffle(order)
    return [points[i] for i in order], [labels[i] for i in order]


def mlp_weights(sizes: Sequence[int] = DEMO_SIZES, seed: int = SEED):
    """Per layer, per neuron: (weights, bias), uniform in [-1, 1] like micrograd's init."""
    rng = random.Random(seed + 1)
    layers = []
    for nin, nout in zip(sizes[:-1], sizes[1:], strict=True):
        layers.append(
            [
                (tuple(rng.uniform(-1.0, 1.0) for _ in range(nin)), rng.uniform(-0.1, 0.1))
                for _ in range(nout)
            ]
        )
    return layers


def flat_weights(layers) -> list[float]:
    """Neuron by neuron: its weights, then its bias (micrograd's parameters() order)."""
    return [v for layer in layers for ws, b in layer for v in (*ws, b)]


# --- a) the demo step, written with binary ops -------------------------------------------


def _demo_binary_case(engine: Engine, X, Y, layers, depth: int) -> Case:
    E = engine
    leaf, inp, relu = E.leaf, E.input, E.relu
    struct = [[([leaf(w) for w in ws], leaf(b)) for ws, b in layer] for layer in layers]
    params = [p for layer in struct for ws, b in layer for p in (*ws, b)]
    plan = [(layer, i == len(struct) - 1) for i, layer in enumerate(struct)]
    inv_n = 1.0 / len(X)

    def forward():
        total = None
        for row, y in zip(X, Y, strict=True):
            h = [inp(v) for v in row]
            for layer, last in plan:
                out = []
                for ws, b in layer:
                    act = b
                    for w, x in zip(ws, h, strict=True):
                        act = act + w * x
                    out.append(act if last else relu(act))
                h = out
            loss = relu(1 + -y * h[0])  # hinge loss, as in micrograd's demo
            total = loss if total is None else total + loss
        reg = None
        for p in params:
            sq = p * p
            reg = sq if reg is None else reg + sq
        return total * inv_n + ALPHA * reg

    if not E.has_grad:
        return Case(E.name, lambda: Result(forward()))

    zero_grad, backward, value, grad = E.zero_grad, E.backward, E.value, E.grad

    def step() -> Result:
        zero_grad(params)
        loss = forward()
        backward(loss)
        return Result(value(loss), [grad(p) for p in params])

    return Case(E.name, step, depth=depth)


def _demo_depth(n_points: int, layers) -> int:
    """A bound on the longest path of the demo graph: the loss and L2 chains plus the net."""
    n_params = len(flat_weights(layers))
    return n_points + n_params + 4 * sum(len(layer) for layer in layers) + 100


def demo_binary(
    engines: dict[str, Engine], n_points: int = DEMO_POINTS, sizes: Sequence[int] = DEMO_SIZES
) -> Group:
    """a) One step of micrograd's demo with binary ops only, the same code for every engine."""
    X, Y = two_moons(n_points)
    layers = mlp_weights(sizes)
    depth = _demo_depth(n_points, layers)
    cases = [
        _demo_binary_case(E, X, Y, layers, depth if name == "micrograd" else 0)
        for name, E in engines.items()
    ]
    return Group("demo-binary", "demo step, binary ops", cases)


# --- b) the demo step, with each library's own MLP ----------------------------------------


def model_parameters(model, n_expected: int) -> list:
    """A model's parameters neuron by neuron, weights then bias, to copy weights into.

    Uses ``layers[i].neurons[j].w / .b`` when the model has them (both libraries'
    MLPs are built that way), else ``parameters()`` in its own order; the
    agreement check catches a model whose order differs.
    """
    try:
        params = [p for layer in model.layers for n in layer.neurons for p in (*n.w, n.b)]
    except (AttributeError, TypeError):
        params = list(model.parameters())
    if len(params) != n_expected:
        raise ValueError(f"model has {len(params)} parameters, expected {n_expected}")
    return params


def _copy_weights(params: list, values: list[float]) -> None:
    for p, v in zip(params, values, strict=True):
        p.data = float(v)


def _mlp_with_weights(mlp_class, sizes, layers):
    """A library's own MLP holding the shared weights, and its parameters in canonical order."""
    model = mlp_class(sizes[0], list(sizes[1:]))
    weights = flat_weights(layers)
    canon = model_parameters(model, len(weights))
    _copy_weights(canon, weights)
    return model, canon


def _micrograd_mlp_case(E: Engine, X, Y, sizes, layers, depth: int) -> Case:
    micrograd = E.module
    Value = micrograd.engine.Value
    model, canon = _mlp_with_weights(micrograd.nn.MLP, sizes, layers)

    def step() -> Result:
        # micrograd's demo: its MLP, Python's sum, its Value.backward
        model.zero_grad()
        inputs = [[Value(v) for v in row] for row in X]
        scores = [model(x) for x in inputs]
        losses = [(1 + -y * s).relu() for y, s in zip(Y, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        total.backward()
        return Result(total.data, [p.grad for p in canon])

    return Case(E.name, step, depth=depth)


def _our_mlp_case(E: Engine, mlp_class, X, Y, sizes, layers) -> Case:
    autograd = E.module
    Value = autograd.Value
    model, canon = _mlp_with_weights(mlp_class, sizes, layers)

    def step() -> Result:
        # the same step in chainrule's own idiom: nn.MLP and n-ary sum / dot in the loss
        model.zero_grad()
        inputs = [[Value(v) for v in row] for row in X]
        scores = [model(x) for x in inputs]
        losses = [(1 + -y * s).relu() for y, s in zip(Y, scores, strict=True)]
        params = model.parameters()
        data_loss = autograd.sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * autograd.dot(params, params)
        total = data_loss + reg_loss
        total.backward()
        return Result(total.data, [p.grad for p in canon])

    return Case(E.name, step)


def demo_own_mlp(
    engines: dict[str, Engine], n_points: int = DEMO_POINTS, sizes: Sequence[int] = DEMO_SIZES
) -> Group:
    """b) The same step with each library's own MLP class; plain floats as the floor."""
    X, Y = two_moons(n_points)
    layers = mlp_weights(sizes)
    cases: list[Case] = []
    notes: dict[str, str] = {}
    if "ours" in engines:
        mlp_class = our_mlp_class()
        if mlp_class is None:
            notes["ours"] = "skipped (nn not available)"
        else:
            cases.append(_our_mlp_case(engines["ours"], mlp_class, X, Y, sizes, layers))
    if "micrograd" in engines:
        depth = _demo_depth(n_points, layers)
        cases.append(_micrograd_mlp_case(engines["micrograd"], X, Y, sizes, layers, depth))
    if "torch" in engines:
        notes["torch"] = "n/a (no scalar MLP class)"
    if "floats" in engines:
        cases.append(_demo_binary_case(engines["floats"], X, Y, layers, 0))
    return Group("demo-mlp", "demo step, own MLP", cases, notes=notes)


# --- c) a deep chain y = y*w + c ----------------------------------------------------------


def build_chain(E: Engine, depth: int):
    """The chain's graph: returns (output, w, c, y0)."""
    w, c, y0 = E.leaf(CHAIN_W), E.leaf(CHAIN_C), E.leaf(CHAIN_Y0)
    y = y0
    for _ in range(depth):
        y = y * w + c
    return y, w, c, y0


def _chain_case(E: Engine, depth: int) -> Case:
    leaf = E.leaf

    if not E.has_grad:

        def forward() -> Result:
            w, c, y = leaf(CHAIN_W), leaf(CHAIN_C), leaf(CHAIN_Y0)
            for _ in range(depth):
                y = y * w + c
            return Result(y)

        return Case(E.name, forward)

    backward, value, grad = E.backward, E.value, E.grad

    def step() -> Result:
        w, c, y0 = leaf(CHAIN_W), leaf(CHAIN_C), leaf(CHAIN_Y0)
        y = y0
        for _ in range(depth):
            y = y * w + c
        backward(y)
        return Result(value(y), [grad(w), grad(c), grad(y0)])

    return Case(E.name, step, depth=2 * depth + 10 if E.name == "micrograd" else 0)


def chain(engines: dict[str, Engine], depth: int, notes: dict[str, str] | None = None) -> Group:
    """c) y = y*w + c repeated ``depth`` times: two op nodes per link."""
    cases = [_chain_case(E, depth) for E in engines.values()]
    return Group(
        f"chain-{_short(depth)}",
        f"chain y=y*w+c, {_short(depth)} deep",
        cases,
        unit="node",
        units=2 * depth,
        notes=dict(notes or {}),
    )


# --- d) a wide sum of products -------------------------------------------------------------


def _wide_case(E: Engine, ws_data: list[float], xs_data: list[float], variant: str) -> Case:
    leaf = E.leaf
    ws = [leaf(v) for v in ws_data]
    xs = [leaf(v) for v in xs_data]
    params = ws + xs
    first = (ws[0], xs[0])
    rest = list(zip(ws[1:], xs[1:], strict=True))
    pairs = list(zip(ws, xs, strict=True))

    def binary():
        acc = first[0] * first[1]
        for w, x in rest:
            acc = acc + w * x
        return acc

    if variant == "autograd.sum":
        total = E.module.sum

        def forward():
            return total([w * x for w, x in pairs])

    elif variant == "autograd.dot":
        dot = E.module.dot

        def forward():
            return dot(ws, xs)

    else:
        forward = binary

    if not E.has_grad:
        return Case(E.name, lambda: Result(forward()), variant)

    zero_grad, backward, value, grad = E.zero_grad, E.backward, E.value, E.grad

    def step() -> Result:
        zero_grad(params)
        out = forward()
        backward(out)
        return Result(value(out), [grad(p) for p in params])

    depth = len(ws) + 10 if E.name == "micrograd" else 0
    return Case(E.name, step, variant, depth)


def wide_sum(engines: dict[str, Engine], n: int) -> Group:
    """d) sum over i of w_i * x_i with binary adds; ours also as autograd.sum and autograd.dot."""
    rng = random.Random(SEED + 2)
    ws_data = [rng.uniform(-1.0, 1.0) for _ in range(n)]
    xs_data = [rng.uniform(-1.0, 1.0) for _ in range(n)]
    cases = []
    for name, E in engines.items():
        cases.append(_wide_case(E, ws_data, xs_data, ""))
        if name == "ours":
            for variant in ("autograd.sum", "autograd.dot"):
                cases.append(_wide_case(E, ws_data, xs_data, variant))
    return Group(f"sum-{_short(n)}", f"sum of {_short(n)} products", cases, unit="term", units=n)


def _short(n: int) -> str:
    """1000 -> "1e3"; other numbers as they are."""
    exp = round(math.log10(n)) if n > 0 else 0
    return f"1e{exp}" if 10**exp == n else str(n)
