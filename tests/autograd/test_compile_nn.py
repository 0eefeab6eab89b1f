"""Every nn loss, activation, regulariser and layer compiled, against eager and PyTorch.

Each case is traced once at an ordinary point and then replayed at points
where each branch and each stabilising shift differs from the trace: both
sides of every kink, the bounds of hardtanh, logits of +-1000 (and 1e300)
after a trace at small logits, probabilities at binary_cross_entropy's clamp.
A number read out of a Value on a forward path (``.data``, ``float()``) would
be frozen into the trace and make those replays differ from eager; a branch
on a Value is a guard, which makes compile trace that path too. So: every
replay equals eager, and a case whose forward has no branch on a Value is
traced exactly once.

Compiled against eager: 1e-12 relative (the same expressions in the same
order; only the order in which a node's gradient contributions are added can
differ, and these graphs have no sum where terms cancel). Against PyTorch
(float64): 1e-9 relative, for its own exp/log/tanh (a few ulps apart) and
summation order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

import autograd
import nn
from autograd import Value, compile

pytestmark = pytest.mark.usefixtures("replay_backend")  # walked and generated replays

# --- arguments: floats (or nested lists of them) made Values, and their leaves -------------


def to_values(arg: Any) -> Any:
    if isinstance(arg, list):
        return [to_values(a) for a in arg]
    return Value(arg)


def leaves_of(arg: Any) -> list:
    if isinstance(arg, list):
        return [leaf for a in arg for leaf in leaves_of(a)]
    return [arg]


def close(a: float, b: float, rel: float, abs_: float = 0.0) -> bool:
    if a != a or b != b:
        return a != a and b != b
    return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


@dataclass
class Case:
    """``make()`` returns (fn, params): fn takes the point's arguments."""

    name: str
    make: Callable[[], tuple[Callable, list[Value]]]
    trace_at: tuple
    replay_at: list[tuple]
    torch_fn: Callable | None = None  # (torch, args as 0-d tensors, params) -> 0-d tensor
    # where PyTorch's gradient is the one to compare with (its rule differs at a tie, say)
    one_trace: bool = True  # no branch on a Value anywhere in the forward pass
    torch_grads_where: Callable[[tuple], bool] = field(default=lambda point: True)


def run(fn: Callable, point: tuple, params: list[Value]) -> tuple:
    """("ok", value, grads of the point's leaves then of params) or the error."""
    for p in params:
        p.grad = 0.0
    args = [to_values(a) for a in point]
    try:
        out = fn(*args)
        out.backward()
    except Exception as err:  # noqa: BLE001 - compared with the eager error
        return ("error", type(err).__name__, str(err))
    grads = [v.grad for a in args for v in leaves_of(a)] + [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    return ("ok", out.data, grads)


# --- the cases ------------------------------------------------------------------------------

ACT_POINTS = [-1000.0, -3.0, -1.0, -0.75, -0.5, -0.01, -0.0, 0.0, 0.01, 0.5, 0.75, 1.0, 3.0,
              1000.0]


def activation(name: str, act: Callable, torch_fn: Callable, extra: list[float] = ()) -> Case:
    return Case(
        name, lambda: (lambda z: act(z), []), (0.3,), [(p,) for p in [*ACT_POINTS, *extra]],
        lambda torch, z, params: torch_fn(torch, z),
    )


def _prelu() -> tuple[Callable, list[Value]]:
    unit = nn.PReLU(init=0.2)
    return (lambda z: unit(z)), unit.parameters()


def _prelu_list() -> tuple[Callable, list[Value]]:
    unit = nn.PReLU(num_parameters=3, init=0.1)
    return (lambda zs: autograd.sum(unit(zs))), unit.parameters()


def _rrelu_eval() -> tuple[Callable, list[Value]]:
    unit = nn.RReLU(0.1, 0.3)
    unit.eval()
    return (lambda z: unit(z)), []


ACTIVATIONS = [
    activation("relu", nn.relu, lambda t, z: t.relu(z)),
    activation("leaky_relu", lambda z: nn.leaky_relu(z, 0.2),
               lambda t, z: t.nn.functional.leaky_relu(z, 0.2)),
    activation("get_activation(leaky_relu dict)",
               nn.get_activation({"name": "leaky_relu", "negative_slope": 0.3}),
               lambda t, z: t.nn.functional.leaky_relu(z, 0.3)),
    activation("hardtanh", nn.hardtanh, lambda t, z: t.nn.functional.hardtanh(z)),
    activation("hardtanh(-0.5, 0.75)", lambda z: nn.hardtanh(z, -0.5, 0.75),
               lambda t, z: t.nn.functional.hardtanh(z, -0.5, 0.75)),
    activation("elu", lambda z: nn.elu(z, 0.7), lambda t, z: t.nn.functional.elu(z, 0.7)),
    activation("softplus", nn.softplus, lambda t, z: t.nn.functional.softplus(z),
               extra=[15.0, -40.0]),
    activation("sigmoid", nn.sigmoid, lambda t, z: t.sigmoid(z), extra=[40.0, -40.0]),
    activation("tanh", nn.tanh, lambda t, z: t.tanh(z), extra=[20.0, -0.2]),
    activation("absolute", nn.absolute, lambda t, z: t.abs(z)),
    activation("sign", nn.sign, lambda t, z: t.sign(z)),
    # the threshold unit has derivative 0: z * 0 carries that gradient in torch
    activation("step", nn.step, lambda t, z: t.where(z >= 0, 1.0, 0.0).double() + z * 0),
    activation("linear", lambda z: nn.linear(z) * 1.0, lambda t, z: z * 1.0),
    Case("PReLU", _prelu, (0.3,), [(p,) for p in ACT_POINTS],
         lambda t, z, ps: t.nn.functional.prelu(z.reshape(1), ps[0].reshape(1)).sum()),
    Case("PReLU(3) on a list", _prelu_list, ([0.3, -0.2, 0.1],),
         [([a, -a, 0.5],) for a in (-1000.0, -1.0, 0.0, 2.0, 1000.0)],
         lambda t, zs, ps: t.nn.functional.prelu(t.stack(zs).reshape(1, 3), t.stack(ps)).sum()),
    Case("RReLU (eval)", _rrelu_eval, (0.3,), [(p,) for p in ACT_POINTS],
         lambda t, z, ps: t.nn.functional.rrelu(z, 0.1, 0.3, training=False)),
]


def loss(name: str, fn: Callable, trace_at: tuple, replay_at: list, torch_fn=None, **kw) -> Case:
    return Case(name, lambda: (fn, []), trace_at, replay_at, torch_fn, **kw)


def _t(torch, xs):
    return torch.stack(xs) if isinstance(xs, list) else xs


BIG_LOGITS = [[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [1e300, 1e300, -1e300],
              [5.0, 5.0, 5.0], [-1000.0, -1000.0, -1000.0], [0.0, -745.0, 745.0]]
BCE_TARGETS = [1.0, 0.0, 0.3]


def _bce_probs_ok(point: tuple) -> bool:
    """PyTorch's binary_cross_entropy gradient is (p - t) / max(p (1 - p), 1e-12): at the
    clamp it is not the clamped log's 0. Compare its gradients away from the clamp."""
    return all(1e-6 < p < 1 - 1e-6 for p in point[0])


LOSSES = [
    loss("mse_loss", lambda p: nn.mse_loss(p, [0.5, -1.0, 2.0]), ([0.1, 0.2, 0.3],),
         [([1000.0, -1000.0, 0.0],), ([0.5, -1.0, 2.0],), ([-3.0, 1e150, 2.0],)],
         lambda t, p, ps: t.nn.functional.mse_loss(_t(t, p), t.tensor([0.5, -1.0, 2.0],
                                                                    dtype=t.float64))),
    loss("mse_loss(sum)", lambda p: nn.mse_loss(p, [[1.0], [2.0]], reduction="sum"),
         ([[0.1], [0.2]],), [([[3.0], [-4.0]],), ([[1.0], [2.0]],)],
         lambda t, p, ps: ((t.stack([p[0][0], p[1][0]]) - t.tensor([1.0, 2.0],
                                                                 dtype=t.float64)) ** 2).sum()),
    loss("sse_loss", lambda p: nn.sse_loss(p, [0.5, -1.0]), ([0.1, 0.2],),
         [([1000.0, -1000.0],), ([0.5, -1.0],)],
         lambda t, p, ps: 0.5 * ((_t(t, p) - t.tensor([0.5, -1.0], dtype=t.float64)) ** 2).sum()),
    loss("binary_cross_entropy", lambda p: nn.binary_cross_entropy(p, BCE_TARGETS),
         ([0.3, 0.6, 0.5],),
         [([0.0, 1.0, 0.5],), ([1.0, 0.0, 0.0],), ([0.2, 0.7, 1e-44],), ([1e-50, 0.9, 1.0],),
          ([0.999, 1e-9, 0.3],), ([0.5, 0.5, 1.5],), ([0.3, 0.6, 0.5],)],
         lambda t, p, ps: t.nn.functional.binary_cross_entropy(
             _t(t, p), t.tensor(BCE_TARGETS, dtype=t.float64)),
         one_trace=False, torch_grads_where=_bce_probs_ok),
    loss("binary_cross_entropy(Value targets)", nn.binary_cross_entropy,
         ([0.3, 0.6], [1.0, 0.25]),
         [([0.0, 1.0], [1.0, 0.0]), ([0.0, 1.0], [0.0, 1.0]), ([0.5, 0.5], [0.3, 0.7]),
          ([0.2, 0.4], [1.0, 2.0])],
         one_trace=False),
    loss("binary_cross_entropy_with_logits",
         lambda z: nn.binary_cross_entropy_with_logits(z, BCE_TARGETS), ([0.1, -0.2, 0.3],),
         [([1000.0, -1000.0, 0.0],), ([-1000.0, 1000.0, 1000.0],), ([0.0, 0.0, -1000.0],),
          ([40.0, -40.0, 2.0],)],
         lambda t, z, ps: t.nn.functional.binary_cross_entropy_with_logits(
             _t(t, z), t.tensor(BCE_TARGETS, dtype=t.float64))),
    loss("binary_cross_entropy_with_logits(Value targets)",
         nn.binary_cross_entropy_with_logits, ([0.1, -0.2], [1.0, 0.0]),
         [([1000.0, -1000.0], [0.0, 1.0]), ([-1000.0, 3.0], [0.5, 0.25])],
         lambda t, z, y, ps: t.nn.functional.binary_cross_entropy_with_logits(
             _t(t, z), _t(t, y)),
         one_trace=False),  # the targets' range check compares Values
    loss("hinge_loss", lambda s: nn.hinge_loss(s, [1, -1, 1]), ([0.5, 0.5, 2.0],),
         [([1.0, -1.0, 3.0],), ([-5.0, 5.0, 0.99],), ([1000.0, -1000.0, -1000.0],)],
         lambda t, s, ps: t.relu(1 - t.tensor([1.0, -1.0, 1.0], dtype=t.float64)
                                 * _t(t, s)).mean()),
    loss("cross_entropy", lambda z: nn.cross_entropy(z, 2), ([0.1, -0.2, 0.3],),
         [(z,) for z in BIG_LOGITS],
         lambda t, z, ps: t.nn.functional.cross_entropy(_t(t, z).reshape(1, 3),
                                                        t.tensor([2]))),
    loss("cross_entropy(batch)", lambda zs: nn.cross_entropy(zs, [0, 2]),
         ([[0.1, -0.2, 0.3], [0.0, 0.5, 0.25]],),
         [([a, b],) for a, b in zip(BIG_LOGITS, BIG_LOGITS[1:], strict=False)],
         lambda t, zs, ps: t.nn.functional.cross_entropy(
             t.stack([t.stack(r) for r in zs]), t.tensor([0, 2]))),
    loss("cross_entropy(sum)", lambda zs: nn.cross_entropy(zs, [1, 1], reduction="sum"),
         ([[0.1, -0.2], [0.0, 0.5]],), [([[1000.0, -1000.0], [-1000.0, 1000.0]],)],
         lambda t, zs, ps: t.nn.functional.cross_entropy(
             t.stack([t.stack(r) for r in zs]), t.tensor([1, 1]), reduction="sum")),
    loss("nll_loss(log_softmax)", lambda z: nn.nll_loss(nn.log_softmax(z), 1),
         ([0.1, -0.2, 0.3],), [(z,) for z in BIG_LOGITS],
         lambda t, z, ps: -t.log_softmax(_t(t, z), 0)[1]),
    loss("softmax", lambda z: autograd.dot(nn.softmax(z), [1.0, -2.0, 0.5]),
         ([0.1, -0.2, 0.3],), [(z,) for z in BIG_LOGITS],
         lambda t, z, ps: (t.softmax(_t(t, z), 0)
                           * t.tensor([1.0, -2.0, 0.5], dtype=t.float64)).sum()),
    loss("log_softmax", lambda z: autograd.dot(nn.log_softmax(z), [1.0, -2.0, 0.5]),
         ([0.1, -0.2, 0.3],), [(z,) for z in BIG_LOGITS[:2] + BIG_LOGITS[3:]],
         lambda t, z, ps: (t.log_softmax(_t(t, z), 0)
                           * t.tensor([1.0, -2.0, 0.5], dtype=t.float64)).sum()),
]

REGULARISERS = [
    loss("l2", lambda ws: nn.l2(ws, lam=0.3, m=2), ([0.5, -1.0],),
         [([3.0, 0.0],), ([-1e100, 2.0],)],
         lambda t, ws, ps: 0.3 / 4 * (_t(t, ws) ** 2).sum()),
    loss("l1", lambda ws: nn.l1(ws, lam=0.5), ([0.5, -1.0],),
         [([0.0, -0.0],), ([-2.0, 3.0],)],
         lambda t, ws, ps: 0.5 * _t(t, ws).abs().sum()),
    loss("weight_elimination", lambda ws: nn.weight_elimination(ws, lam=0.5, w0=2.0),
         ([0.5, -1.0],),
         [([3.0, -4.0],), ([1e-10, 0.25],), ([1e200, -1e200],), ([2.0, -2.0],), ([0.5, -1.0],)],
         lambda t, ws, ps: 0.5 * t.where((_t(t, ws) / 2) ** 2 <= 1,
                                         (_t(t, ws) / 2) ** 2 / (1 + (_t(t, ws) / 2) ** 2),
                                         1 - 1 / (1 + (_t(t, ws) / 2) ** 2)).sum(),
         one_trace=False,  # which of its two formulas applies is a Value comparison
         torch_grads_where=lambda point: max(abs(w) for w in point[0]) < 1e100),
]


def _model_case(name: str, build: Callable[[], nn.Module], loss_fn: Callable, trace_at: tuple,
                replay_at: list, torch_forward: Callable | None = None, **kw) -> Case:
    def make() -> tuple[Callable, list[Value]]:
        nn.manual_seed(7)
        model = build()
        return (lambda *args: loss_fn(model, *args)), model.parameters()

    torch_fn = None
    if torch_forward is not None:
        def torch_fn(t, *args):
            nn.manual_seed(7)
            return torch_forward(t, build(), *args)
    return Case(name, make, trace_at, replay_at, torch_fn, **kw)


def _t_dense(t, layer_params: list, xs: list, act: Callable | None):
    """One dense layer in torch from (w_1..w_n, b) per unit, as nn lays them out."""
    n = len(xs)
    outs = []
    for k in range(0, len(layer_params), n + 1):
        w, b = layer_params[k : k + n], layer_params[k + n]
        s = sum(wi * xi for wi, xi in zip(w, xs, strict=True)) + b
        outs.append(act(s) if act else s)
    return outs


def _t_mlp(t, model, params: list, xs: list, act: Callable, out_act: Callable | None = None):
    it = 0
    for i, layer in enumerate(model.layers):
        size = layer.nout * (layer.nin + 1)
        last = i == len(model.layers) - 1
        xs = _t_dense(t, params[it : it + size], xs, out_act if last else act)
        it += size
    return xs


MLP_POINTS = [([0.5, -1.0], 0.25), ([-3.0, 2.0], 1.0), ([0.0, 0.0], 0.0), ([100.0, -50.0], -2.0),
              ([-0.2, -0.3], 5.0)]

LAYERS = [
    _model_case(
        "Neuron(relu)", lambda: nn.Neuron(3), lambda m, x: m(x), ([0.1, 0.2, 0.3],),
        [([a, -a, 2 * a],) for a in (-5.0, -1.0, 0.0, 1.0, 5.0, 1000.0)],
        lambda t, m, x, ps: _t_dense(t, ps, x, t.relu)[0],
    ),
    _model_case(
        "Neuron(tanh, no bias)", lambda: nn.Neuron(2, "tanh", bias=False), lambda m, x: m(x),
        ([0.1, 0.2],), [([3.0, -1.0],), ([1000.0, 20.0],)],
        lambda t, m, x, ps: t.tanh(ps[0] * x[0] + ps[1] * x[1]),
    ),
    _model_case(
        "Layer(leaky_relu)",
        lambda: nn.Layer(3, 4, activation={"name": "leaky_relu", "negative_slope": 0.1}),
        lambda m, x: autograd.sum(m(x)), ([0.1, 0.2, 0.3],),
        [([a, 0.5 * a, -a],) for a in (-3.0, -0.5, 0.0, 0.5, 3.0)],
        lambda t, m, x, ps: sum(_t_dense(
            t, ps, x, lambda s: t.nn.functional.leaky_relu(s, 0.1))),
    ),
    _model_case(
        "MLP(relu) + mse_loss", lambda: nn.MLP(2, [4, 4, 1]),
        lambda m, x, y: nn.mse_loss(m(x), y), ([0.1, 0.2], 0.3), MLP_POINTS,
        lambda t, m, x, y, ps: (_t_mlp(t, m, ps, x, t.relu)[0] - y) ** 2,
    ),
    _model_case(
        "MLP(tanh, sigmoid output) + binary_cross_entropy",
        lambda: nn.MLP(2, [3, 1], activation="tanh", output_activation="sigmoid"),
        lambda m, x: nn.binary_cross_entropy(m(x), 1.0), ([0.1, 0.2],),
        [([3.0, -2.0],), ([-40.0, 40.0],), ([0.0, 0.5],), ([-4.0, 4.0],)],
        lambda t, m, x, ps: t.nn.functional.binary_cross_entropy(
            _t_mlp(t, m, ps, x, t.tanh, t.sigmoid)[0], t.tensor(1.0, dtype=t.float64)),
        one_trace=False,  # the loss compares p with its clamp
    ),
    _model_case(
        "MLP(relu, 3 logits) + cross_entropy", lambda: nn.MLP(2, [5, 3]),
        lambda m, x: nn.cross_entropy(m(x), 1), ([0.1, 0.2],),
        [([500.0, -500.0],), ([-500.0, 800.0],), ([0.0, 0.0],), ([1.0, -1.0],)],
        lambda t, m, x, ps: t.nn.functional.cross_entropy(
            t.stack(_t_mlp(t, m, ps, x, t.relu)).reshape(1, 3), t.tensor([1])),
    ),
    _model_case(
        "MLP.forward_layers", lambda: nn.MLP(2, [3, 2], activation="sigmoid"),
        lambda m, x: autograd.sum([*m.forward_layers(x)[0][0], *m.forward_layers(x)[-1][1]]),
        ([0.1, 0.2],), [([3.0, -2.0],), ([-1000.0, 1000.0],)],
        lambda t, m, x, ps: sum(_t_dense(t, ps[:9], x, None))
        + sum(_t_mlp(t, m, ps, x, t.sigmoid)),
    ),
    _model_case(
        "Maxout", lambda: nn.Maxout(2, 2, k=3), lambda m, x: autograd.sum(m(x)),
        ([0.1, 0.2],), [([a, b],) for a, b in [(3.0, -1.0), (-3.0, 1.0), (0.0, 0.0),
                                              (100.0, 100.0), (-7.0, -7.0)]],
        lambda t, m, x, ps: sum(t.stack(_t_dense(t, ps[k * 9 : k * 9 + 9], x, None)).max()
                                for k in range(2)),
        # at x = 0 every piece is its bias, 0: a tie, where autograd.maximum gives the
        # whole gradient to the first piece (its documented rule) and PyTorch splits it
        torch_grads_where=lambda point: point[0] != [0.0, 0.0],
    ),
    _model_case(
        "RBF", lambda: nn.RBF(2, gamma=0.5), lambda m, x: m(x), ([0.1, 0.2],),
        [([3.0, -1.0],), ([0.0, 0.0],), ([40.0, 40.0],)],
        lambda t, m, x, ps: t.exp(-0.5 * ((x[0] - ps[0]) ** 2 + (x[1] - ps[1]) ** 2)),
    ),
    _model_case(
        "Perceptron(sign)", lambda: nn.Perceptron([1.0, 1.0], -1.5), lambda m, x: m(x),
        ([1.0, 1.0],), [([-1.0, 1.0],), ([0.5, 1.0],), ([1.0, -1.0],), ([1.0, 1.0],)],
        lambda t, m, x, ps: t.sign(ps[0] * x[0] + ps[1] * x[1] + ps[2]),
    ),
    _model_case(
        "Sequential(Layer, PReLU, Layer)",
        lambda: nn.Sequential(nn.Layer(2, 3, "linear"), nn.PReLU(3, init=0.2),
                              nn.Layer(3, 1, "linear")),
        lambda m, x: m(x), ([0.1, 0.2],), [([3.0, -4.0],), ([-3.0, 4.0],), ([0.0, 0.0],)],
        lambda t, m, x, ps: _t_dense(
            t, ps[12:16],
            [t.nn.functional.prelu(s.reshape(1), a.reshape(1))[0]
             for s, a in zip(_t_dense(t, ps[:9], x, None), ps[9:12], strict=True)], None)[0],
    ),
]

CASES = ACTIVATIONS + LOSSES + REGULARISERS + LAYERS


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_compiled_replays_equal_eager_everywhere(case: Case) -> None:
    fn, params = case.make()
    calls = [0]

    def counted(*args):
        calls[0] += 1
        return fn(*args)

    step = compile(counted)
    assert run(step, case.trace_at, params)[0] == "ok"
    refused = 0
    for point in case.replay_at:
        got = run(step, point, params)
        want = run(fn, point, params)
        assert got[0] == want[0], (point, got, want)
        if got[0] == "error":
            assert got == want
            refused += 1
            continue
        assert close(got[1], want[1], 1e-12), (point, got[1], want[1])
        for a, b in zip(got[2], want[2], strict=True):
            assert close(a, b, 1e-12, 1e-300), (point, got[2], want[2])
    # fn ran once per trace, plus (eager decides an error) at most twice per input
    # that raised: a trace that raised, then the eager run whose error is re-raised
    assert step.traces <= calls[0] <= step.traces + 2 * refused
    if case.one_trace:
        assert step.traces == 1, f"{case.name} branched on a Value: {step.traces} traces"
    # every path it took is kept: the trace point again runs no Python at all
    before = calls[0]
    run(step, case.trace_at, params)
    assert calls[0] == before


@pytest.mark.parametrize("case", [c for c in CASES if c.torch_fn], ids=lambda c: c.name)
def test_compiled_replays_equal_pytorch(case: Case) -> None:
    torch = pytest.importorskip("torch")
    fn, params = case.make()
    step = compile(fn)
    run(step, case.trace_at, params)
    for point in [case.trace_at, *case.replay_at]:
        got = run(step, point, params)
        if got[0] == "error":
            continue  # an input the loss refuses (compared with eager above)

        def tensors(a: Any) -> Any:
            if isinstance(a, list):
                return [tensors(v) for v in a]
            return torch.tensor(float(a), dtype=torch.float64, requires_grad=True)

        targs = [tensors(a) for a in point]
        tparams = [tensors(p.data) for p in params]
        out = case.torch_fn(torch, *targs, tparams)
        out.backward()
        want_value = out.item()
        assert close(got[1], want_value, 1e-9, 1e-300), (point, got[1], want_value)
        if not case.torch_grads_where(point):
            continue
        tleaves = [leaf for a in targs for leaf in leaves_of(a)] + tparams
        want = [0.0 if v.grad is None else v.grad.item() for v in tleaves]
        for a, b in zip(got[2], want, strict=True):
            assert close(a, b, 1e-9, 1e-12), (point, got[2], want)


def test_rrelu_in_training_draws_a_constant_of_the_trace() -> None:
    """RReLU draws its slope with Python's random module: a number in fn's
    body, which a trace keeps (as the README says of every such number). The
    replay is the traced function, not a new draw; nn.fit does not compile it."""
    unit = nn.RReLU(0.1, 0.3)
    nn.manual_seed(1)
    step = compile(lambda z: unit(z))
    first = step(-1.0).data
    assert all(step(-1.0).data == first for _ in range(3))
    assert 0.1 <= -first <= 0.3


def test_prelu_derivative_at_zero_is_pytorchs() -> None:
    """The API takes PyTorch's one-sided derivative at every kink: PReLU, like
    leaky_relu, gives its slope at 0."""
    unit = nn.PReLU(init=0.25)
    x = Value(0.0)
    unit(x).backward()
    y = Value(0.0)
    nn.leaky_relu(y, 0.25).backward()
    assert y.grad == 0.25
    assert x.grad == 0.25
