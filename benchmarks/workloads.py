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
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .engines import Engine, our_compile, our_fit, our_mlp_class

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
    """What a step computed: the output value and, for engines with backward, all grads.

    ``detail`` carries anything else a workload's own check compares (a fit's History).
    """

    value: float
    grads: list[float] | None = None
    detail: Any = None


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
    plain_variant: str = "binary +"  # what ours without a variant is called beside variants
    # how the check run's results are compared before timing (raises Disagreement)
    check: Callable[[str, dict[str, Result]], None] | None = None


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


def binary_demo_loss(
    E: Engine, layers, Y: Sequence[float], wrap_inputs: bool = True
) -> tuple[Callable[[Sequence], Any], list]:
    """The demo's loss written with binary ops: ``(loss(rows), params)``.

    ``loss`` takes the data points; with ``wrap_inputs`` it makes each number an
    input of the engine (``E.input``), else the rows already hold inputs (what a
    compiled function receives). The parameters are made once, here, and captured.
    """
    leaf, inp, relu = E.leaf, E.input, E.relu
    if not wrap_inputs:
        inp = None
    struct = [[([leaf(w) for w in ws], leaf(b)) for ws, b in layer] for layer in layers]
    params = [p for layer in struct for ws, b in layer for p in (*ws, b)]
    plan = [(layer, i == len(struct) - 1) for i, layer in enumerate(struct)]
    inv_n = 1.0 / len(Y)

    def loss(rows):
        total = None
        for row, y in zip(rows, Y, strict=True):
            h = [inp(v) for v in row] if inp is not None else list(row)
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

    return loss, params


def _demo_binary_case(engine: Engine, X, Y, layers, depth: int) -> Case:
    E = engine
    loss, params = binary_demo_loss(E, layers, Y)

    def forward():
        return loss(X)

    if not E.has_grad:
        return Case(E.name, lambda: Result(forward()))

    zero_grad, backward, value, grad = E.zero_grad, E.backward, E.value, E.grad

    def step() -> Result:
        zero_grad(params)
        out = forward()
        backward(out)
        return Result(value(out), [grad(p) for p in params])

    return Case(E.name, step, depth=depth)


# --- ours compiled: the same steps through autograd.compile ------------------------------

COMPILED = "compiled"  # the variant name of ours through autograd.compile


class CompileFellBack(RuntimeError):
    """autograd.compile did not replay generated code for a workload (it ran eagerly)."""


# Replays before timing: autograd.compile walks a path's equations for its first
# replays and generates code from a later one on (GENERATE_AFTER); the bench times the
# generated code, so it replays until the latest path's backend says it is generated.
WARM_REPLAYS = 200


def _generated(compiled: Any) -> bool:
    """Whether the latest path replays generated code (True for a compile without tiers)."""
    backend = getattr(getattr(compiled, "_latest", None), "backend", None)
    return backend is None or getattr(backend, "generated", True)


def traced(compiled: Any, *args: Any) -> Any:
    """Call ``compiled(*args)``: the trace, then replays until they run generated code,
    and make sure no call ran eagerly: a warning that it runs eagerly, or a second
    trace, would make its timings the eager engine's. Returns the first call's result."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = compiled(*args)
        compiled(*args)
        for _ in range(WARM_REPLAYS):
            if _generated(compiled):
                break
            compiled(*args)
    fell_back = [str(w.message) for w in caught if "autograd.compile" in str(w.message)]
    for w in caught:  # any other warning is passed on
        if "autograd.compile" not in str(w.message):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if fell_back:
        raise CompileFellBack(fell_back[0])
    if compiled.traces != 1:
        raise CompileFellBack(
            f"autograd.compile traced {compiled.traces} times for one argument structure"
        )
    return first


def _failing(label: str, err: Exception) -> Callable[[], Result]:
    """A step that raises ``err``: the agreement check reports it as that case's error."""

    def step() -> Result:
        raise CompileFellBack(f"{label}: {type(err).__name__}: {err}") from err

    return step


def _compiled_binary_case(E: Engine, X, Y, layers) -> Case:
    """The binary-op demo step through ``autograd.compile``: the data points are the
    compiled function's argument, the parameters are captured by its closure."""
    loss, params = binary_demo_loss(E, layers, Y, wrap_inputs=False)
    compiled = our_compile()(loss)
    try:
        traced(compiled, X)
    except Exception as err:  # reported by the agreement check, like any engine's error
        return Case(E.name, _failing("compiled binary-op demo step", err), COMPILED)
    zero_grad, backward, value, grad = E.zero_grad, E.backward, E.value, E.grad

    def step() -> Result:
        zero_grad(params)
        out = compiled(X)
        backward(out)
        return Result(value(out), [grad(p) for p in params])

    step.compiled = compiled  # for tests: every timed call must be a replay
    return Case(E.name, step, COMPILED)


def graph_op_nodes(root: Any) -> int:
    """How many op nodes (Values with operands) the graph below ``root`` holds."""
    seen = {id(root)}
    stack = [root]
    count = 0
    while stack:
        v = stack.pop()
        prev = v._prev
        if prev:
            count += 1
        for p in prev:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return count


def _demo_depth(n_points: int, layers) -> int:
    """A bound on the longest path of the demo graph: the loss and L2 chains plus the net."""
    n_params = len(flat_weights(layers))
    return n_points + n_params + 4 * sum(len(layer) for layer in layers) + 100


def demo_binary(
    engines: dict[str, Engine], n_points: int = DEMO_POINTS, sizes: Sequence[int] = DEMO_SIZES
) -> Group:
    """a) One step of micrograd's demo with binary ops only, the same code for every engine;
    ours also compiled (``autograd.compile``) when the engine has it."""
    X, Y = two_moons(n_points)
    layers = mlp_weights(sizes)
    depth = _demo_depth(n_points, layers)
    cases = []
    notes: dict[str, str] = {}
    for name, E in engines.items():
        cases.append(_demo_binary_case(E, X, Y, layers, depth if name == "micrograd" else 0))
        if name == "ours":
            if our_compile() is None:
                notes["ours:compiled"] = "skipped (autograd.compile not available)"
            else:
                cases.append(_compiled_binary_case(E, X, Y, layers))
    return Group("demo-binary", "demo step, binary ops", cases, notes=notes, plain_variant="eager")


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


def _compiled_mlp_case(E: Engine, mlp_class, X, Y, sizes, layers) -> Case:
    """The nn.MLP demo step through ``autograd.compile``: the data points are the
    argument, the model's parameters are captured."""
    autograd = E.module
    model, canon = _mlp_with_weights(mlp_class, sizes, layers)
    params = model.parameters()

    def loss(rows):
        scores = [model(x) for x in rows]
        losses = [(1 + -y * s).relu() for y, s in zip(Y, scores, strict=True)]
        data_loss = autograd.sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * autograd.dot(params, params)
        return data_loss + reg_loss

    compiled = our_compile()(loss)
    try:
        traced(compiled, X)
    except Exception as err:  # reported by the agreement check, like any engine's error
        return Case(E.name, _failing("compiled nn.MLP demo step", err), COMPILED)

    def step() -> Result:
        model.zero_grad()
        total = compiled(X)
        total.backward()
        return Result(total.data, [p.grad for p in canon])

    step.compiled = compiled
    return Case(E.name, step, COMPILED)


def demo_own_mlp(
    engines: dict[str, Engine], n_points: int = DEMO_POINTS, sizes: Sequence[int] = DEMO_SIZES
) -> Group:
    """b) The same step with each library's own MLP class (ours also compiled);
    plain floats as the floor."""
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
            if our_compile() is None:
                notes["ours:compiled"] = "skipped (autograd.compile not available)"
            else:
                cases.append(_compiled_mlp_case(engines["ours"], mlp_class, X, Y, sizes, layers))
    if "micrograd" in engines:
        depth = _demo_depth(n_points, layers)
        cases.append(_micrograd_mlp_case(engines["micrograd"], X, Y, sizes, layers, depth))
    if "torch" in engines:
        notes["torch"] = "n/a (no scalar MLP class)"
    if "floats" in engines:
        cases.append(_demo_binary_case(engines["floats"], X, Y, layers, 0))
    return Group("demo-mlp", "demo step, own MLP", cases, notes=notes, plain_variant="eager")


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


# --- e) the demo's training run: fit(compile=True) against fit(compile=False) -------------


@dataclass(frozen=True)
class TrainRun:
    """A training run like ``python -m nn train``'s: a data set, an MLP, fit's settings.

    The defaults are that command's defaults (nn/cli.py; a smoke test checks
    they still agree): two moons (200 points, noise 0.1, seed 0), 25% held out
    for validation, MLP 2-16-16-1 with relu, ``bce_logits``, Adam with lr 0.05,
    full batch, up to 200 epochs with patience 30.
    """

    dataset: str = "moons"
    n: int = 200
    noise: float = 0.1
    seed: int = 0
    val_split: float = 0.25
    hidden: tuple[int, ...] = (16, 16)
    activation: str = "relu"
    loss: str = "bce_logits"
    optimizer: str = "adam"
    lr: float = 0.05
    epochs: int = 200
    batch_size: int | None = None
    patience: int = 30

    def describe(self) -> str:
        sizes = "-".join(str(k) for k in (2, *self.hidden, 1))
        batch = "full batch" if self.batch_size is None else f"batches of {self.batch_size}"
        return (
            f"{self.dataset} n={self.n} noise {self.noise:g} seed {self.seed}, "
            f"val {self.val_split:.0%}, MLP {sizes} {self.activation}, {self.loss}, "
            f"{self.optimizer} lr {self.lr:g}, {batch}, {self.epochs} epochs, "
            f"patience {self.patience}"
        )


DEMO_RUN = TrainRun()

# History fields compared between the two runs (time and config are not results)
HISTORY_SERIES = ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "grad_norm", "lr")
HISTORY_SUMMARY = (
    "best_epoch",
    "stopped_early",
    "interrupted",
    "updates",
    "perturbations",
    "perturbed_epochs",
)


def _train_case(run: TrainRun, compile_: bool) -> Case:
    """One ``nn.fit`` of ``run``, compiled or eager; the data are made once, outside the
    step, and each step starts from the same seeded initial weights."""
    import nn

    X, y = nn.get_dataset(run.dataset, n=run.n, noise=run.noise, seed=run.seed)
    X_train, y_train, X_val, y_val = nn.train_val_split(X, y, run.val_split, seed=run.seed)
    fit = our_fit()

    def step() -> Result:
        nn.manual_seed(run.seed)  # the initial weights, as the command line draws them
        model = nn.MLP(
            len(X[0]), [*run.hidden, 1], activation=run.activation, output_activation=None
        )
        history = fit(
            model,
            X_train,
            y_train,
            loss=run.loss,
            optimizer=run.optimizer,
            lr=run.lr,
            epochs=run.epochs,
            batch_size=run.batch_size,
            val_data=(X_val, y_val),
            early_stopping=run.patience,
            seed=run.seed,
            progress=False,
            compile=compile_,
        )
        final = history.val_loss[-1] if history.val_loss else math.nan
        return Result(final, [p.data for p in model.parameters()], history)

    return Case("ours", step, f"compile={compile_}")


def check_training_runs(title: str, results: dict[str, Result]) -> None:
    """Raise ``Disagreement`` unless the runs' Histories (every series and summary
    field but the times) and final weights agree to ``RTOL``."""
    problems: list[str] = []
    labels = list(results)
    for label in labels[1:]:
        problems += history_problems(
            results[labels[0]].detail, results[label].detail, labels[0], label
        )
    if problems:
        raise Disagreement(
            f"runs disagree on {title!r} (tolerance {RTOL:g} relative):\n  " + "\n  ".join(problems)
        )
    check_agreement(title, results)  # the final validation loss and the final weights


def history_problems(a: Any, b: Any, name_a: str = "a", name_b: str = "b") -> list[str]:
    """What differs between Histories ``a`` and ``b`` beyond ``RTOL`` (times aside)."""

    def same(x, y) -> bool:
        if isinstance(x, float) or isinstance(y, float):
            return x is not None and y is not None and close(x, y)
        return x == y

    problems = []
    for name in HISTORY_SERIES:
        xs, ys = getattr(a, name), getattr(b, name)
        if len(xs) != len(ys):
            problems.append(f"History.{name}: {len(xs)} entries in {name_a}, {len(ys)} in {name_b}")
            continue
        bad = [i for i, (x, y) in enumerate(zip(xs, ys, strict=True)) if not same(x, y)]
        for i in bad[:3]:
            problems.append(f"History.{name}[{i}]: {name_a}={xs[i]!r} but {name_b}={ys[i]!r}")
        if len(bad) > 3:
            problems.append(f"... and {len(bad) - 3} more entries of History.{name} differ")
    for name in HISTORY_SUMMARY:
        x, y = getattr(a, name), getattr(b, name)
        if x != y:
            problems.append(f"History.{name}: {name_a}={x!r} but {name_b}={y!r}")
    return problems


def training_run(
    run: TrainRun = DEMO_RUN, key: str = "compile-fit", title: str = "fit, the demo's training run"
) -> Group:
    """e) ``nn.fit`` on the demo's training run (or ``run``), compiled and eagerly."""
    cases = [_train_case(run, True), _train_case(run, False)]
    return Group(key, title, cases, check=check_training_runs)


# Issue 22's moons run: the demo's data and model, 15 epochs (no early stop happens).
MOONS15_RUN = TrainRun(epochs=15)


def _short(n: int) -> str:
    """1000 -> "1e3"; other numbers as they are."""
    exp = round(math.log10(n)) if n > 0 else 0
    return f"1e{exp}" if 10**exp == n else str(n)


# --- f) a digits epoch: fit compiled, fit eager, PyTorch float64 on one thread ------------


@dataclass(frozen=True)
class DigitsRun:
    """Issue 22's digits run: the 8x8 digits scaled to [0, 1], 25% held out (seeded),
    MLP 64-32-10 relu, cross-entropy, Adam lr 0.01, shuffled batches of 32.

    Each step is a whole ``fit`` of ``epochs`` epochs (trace and validation
    included); the figure is that time per epoch.
    """

    n: int | None = None  # None: all 1,797 digits
    hidden: int = 32
    lr: float = 0.01
    batch_size: int = 32
    val_split: float = 0.25
    epochs: int = 2
    seed: int = 0

    def describe(self) -> str:
        n = "all 1,797" if self.n is None else str(self.n)
        return (
            f"digits ({n}, pixels / 16), val {self.val_split:.0%}, MLP 64-{self.hidden}-10 relu,"
            f" cross-entropy, Adam lr {self.lr:g}, batches of {self.batch_size},"
            f" {self.epochs} epochs per step"
        )


DIGITS_RUN = DigitsRun()


def _digits_data(run: DigitsRun):
    import nn

    X, y = nn.load_digits(n=run.n, seed=run.seed, scale=True)
    return nn.train_val_split(X, y, run.val_split, seed=run.seed)


def _digits_fit_case(run: DigitsRun, compile_: bool | str) -> Case:
    import nn

    X_train, y_train, X_val, y_val = _digits_data(run)
    fit = our_fit()

    def step() -> Result:
        nn.manual_seed(run.seed)
        model = nn.MLP(64, [run.hidden, 10])
        history = fit(
            model, X_train, y_train, loss="cross_entropy", optimizer="adam", lr=run.lr,
            epochs=run.epochs, batch_size=run.batch_size, val_data=(X_val, y_val),
            seed=run.seed, progress=False, compile=compile_,
        )
        return Result(history.val_loss[-1], [p.data for p in model.parameters()], history)

    return Case("ours", step, f"compile={compile_}")


def _digits_torch_case(E: Engine, run: DigitsRun) -> Case:
    """The same training in PyTorch float64 on one thread: its own initial weights and
    shuffles (the figure is a time; its numbers are not compared with ours)."""
    torch = E.module
    X_train, y_train, X_val, y_val = _digits_data(run)
    xt = torch.tensor(X_train, dtype=torch.float64)
    yt = torch.tensor(y_train, dtype=torch.long)
    xv = torch.tensor(X_val, dtype=torch.float64)
    yv = torch.tensor(y_val, dtype=torch.long)

    def step() -> Result:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            torch.manual_seed(run.seed)
            model = torch.nn.Sequential(
                torch.nn.Linear(64, run.hidden), torch.nn.ReLU(), torch.nn.Linear(run.hidden, 10)
            ).double()
            opt = torch.optim.Adam(model.parameters(), lr=run.lr)
            lossf = torch.nn.functional.cross_entropy
            for _ in range(run.epochs):
                order = torch.randperm(len(xt))
                for i in range(0, len(xt), run.batch_size):
                    idx = order[i : i + run.batch_size]
                    opt.zero_grad()
                    loss = lossf(model(xt[idx]), yt[idx])
                    loss.backward()
                    opt.step()
                with torch.no_grad():
                    val = lossf(model(xv), yv).item()
        finally:
            torch.set_num_threads(threads)
        return Result(val, None, None)

    return Case("torch", step, "float64, 1 thread")


def _takes_scalar(fit: Any) -> bool:
    """Whether this nn.fit accepts compile="scalar" (the float loops beside map)."""
    if fit is None:
        return False
    try:
        from nn.training.loop import _compiled_steps  # noqa: F401 - its presence is the answer
    except ImportError:
        return False
    return True


def check_digits_runs(title: str, results: dict[str, Result]) -> None:
    """Ours compiled and eager must agree (Histories and weights); PyTorch is timed only."""
    ours = {k: r for k, r in results.items() if k.startswith("ours")}
    if len(ours) > 1:
        check_training_runs(title, ours)


def digits_epoch(engines: dict[str, Engine], run: DigitsRun = DIGITS_RUN) -> Group:
    """f) a digits epoch: ``fit(compile=True)`` (step.map with numpy),
    ``fit(compile="scalar")`` (the float loops), ``fit(compile=False)``, PyTorch."""
    cases = [_digits_fit_case(run, True), _digits_fit_case(run, False)]
    if _takes_scalar(our_fit()):
        cases.insert(1, _digits_fit_case(run, "scalar"))
    notes = {}
    if "torch" in engines:
        cases.append(_digits_torch_case(engines["torch"], run))
    else:
        notes["torch"] = "not installed"
    return Group(
        "compile-digits", "digits epoch, fit compiled / eager / PyTorch", cases,
        unit="epoch", units=run.epochs, notes=notes, check=check_digits_runs,
    )
