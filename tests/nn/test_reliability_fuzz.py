"""Bad input everywhere in nn: a hypothesis fuzz over the public constructors and functions.

The contract every test here checks, for arguments drawn from valid values and
from junk (None, bools, strings, bytes, NaN, inf, negative and zero sizes,
floats for ints, lists, dicts, sets, complex numbers, arbitrary objects):

* a valid call returns a correct result (checked against a plain-float
  reference where there is one);
* an invalid call raises TypeError, ValueError, ZeroDivisionError or
  OverflowError (nothing else: no AttributeError, KeyError, RecursionError...)
  with a message that names the offending argument;
* nothing hangs: sizes stay small.

And the NaN/inf policy: NaN or inf fed INTO a model propagates as IEEE floats
do (a model fed NaN outputs NaN, and backward does not crash), while losses and
activations never create a NaN from finite inputs.
"""

from __future__ import annotations

import json
import math
import numbers
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Value

ALLOWED = (TypeError, ValueError, ZeroDivisionError, OverflowError)


def scaled(n):
    """n examples under the default profile (100), ten times n under "thorough"."""
    return max(1, n * settings.default.max_examples // 100)

NAN, INF = float("nan"), float("inf")
MAX = 1.7976931348623157e308

# --- strategies ----------------------------------------------------------------------------


class Opaque:
    def __repr__(self):
        return "<Opaque>"


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([NAN, INF, -INF, 0.0, -0.0, 2.0, 0.5, 1e308]),
    st.text(max_size=3),
    st.binary(max_size=2),
    st.lists(st.integers(-1, 3), max_size=3),
    st.tuples(),
    st.dictionaries(st.text(max_size=1), st.integers(0, 2), max_size=2),
    st.sets(st.integers(0, 3), max_size=2),
    st.complex_numbers(max_magnitude=2, allow_nan=False),
    st.builds(Opaque),
    st.builds(Value, st.floats(-2, 2)),
)
# Ints no float can hold: junk where a real number is wanted. (Not where a size is
# wanted: 10**400 is a valid size, and building it would never finish.)
big = st.sampled_from([10**400, -(10**400)])
sizes = st.one_of(st.integers(-3, 5), junk)
reals = st.one_of(st.floats(-5, 5), st.integers(-3, 3), junk, big)
finite = st.floats(-1e6, 1e6, allow_nan=False)
huge_finite = st.floats(-MAX, MAX, allow_nan=False, allow_infinity=False)


def is_int(n, low=1):
    return isinstance(n, int) and not isinstance(n, bool) and n >= low


def fits_float(x):
    try:
        float(x)
    except OverflowError:
        return False
    return True


def is_real(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def is_finite(x, low=-INF, high=INF, low_open=False):
    if not is_real(x) or not fits_float(x) or not math.isfinite(x):
        return False
    return (x > low if low_open else x >= low) and x <= high


def is_seed(s):
    return s is None or is_int(s, low=-(2**63)) or isinstance(s, random.Random)


def is_list_like(x):
    """What nn accepts where it wants a list: anything iterable that is ordered
    and not text, a mapping or a set."""
    return isinstance(x, (list, tuple))


def outcome(fn, *args, **kwargs):
    try:
        return True, fn(*args, **kwargs)
    except ALLOWED as err:
        return False, err


def check(valid, names, fn, *args, **kwargs):
    """Call fn; a valid call must succeed, an invalid one raise naming one of ``names``."""
    ok, result = outcome(fn, *args, **kwargs)
    call = f"{getattr(fn, '__name__', fn)}(*{args!r}, **{kwargs!r})"
    if valid:
        assert ok, f"{call} is valid but raised {type(result).__name__}: {result}"
    else:
        assert not ok, f"{call} is invalid but returned {result!r}"
        msg = str(result)
        assert any(n in msg for n in names), f"{call}: message {msg!r} names none of {names}"
    return result


def bad(**args):
    """The names of the arguments whose flag is False."""
    return [name for name, good in args.items() if not good]


# --- 1. constructors ----------------------------------------------------------------------


@settings(max_examples=scaled(150))
@given(nin=sizes, nout=sizes)
def test_layer_and_maxout_sizes(nin, nout):
    good = {"nin": is_int(nin), "nout": is_int(nout)}
    layer = check(all(good.values()), bad(**good), nn.Layer, nin, nout)
    if all(good.values()):
        assert layer.num_parameters() == nout * (nin + 1)
    maxout = check(all(good.values()), bad(**good), nn.Maxout, nin, nout, 2)
    if all(good.values()):
        assert maxout.num_parameters() == nout * 2 * (nin + 1)


@settings(max_examples=scaled(100))
@given(nin=sizes, k=sizes)
def test_neuron_maxout_k_and_rbf_sizes(nin, k):
    neuron = check(is_int(nin), ["nin"], nn.Neuron, nin)
    if is_int(nin):
        assert neuron.num_parameters() == nin + 1
    good = {"nin": is_int(nin), "k": is_int(k)}
    check(all(good.values()), bad(**good), nn.Maxout, nin, 1, k)
    check(is_int(nin), ["nin"], nn.RBF, nin)


@settings(max_examples=scaled(150))
@given(nin=sizes, nouts=st.one_of(st.lists(sizes, max_size=3), st.tuples(sizes, sizes), junk))
def test_mlp_sizes(nin, nouts):
    good_nouts = is_list_like(nouts) and len(nouts) > 0 and all(is_int(n) for n in nouts)
    good = {"nin": is_int(nin), "nouts": good_nouts}
    model = check(all(good.values()), bad(**good), nn.MLP, nin, nouts)
    if all(good.values()):
        assert [layer.nout for layer in model.layers] == list(nouts)


activation_names = st.sampled_from(
    [*nn.ACTIVATIONS, "identity", "none", "absolute", "ReLU", "TANH", "swish", "gelu", "", "relu "]
)


def is_activation(a):
    if a is None:
        return True
    if isinstance(a, str):
        return a.lower() in {*nn.ACTIVATIONS, "identity", "none", "absolute"}
    return False  # junk: no callables are drawn


@settings(max_examples=scaled(150))
@given(act=st.one_of(activation_names, junk), out=st.one_of(activation_names, junk))
def test_activation_arguments(act, out):
    check(is_activation(act), ["activation"], nn.Neuron, 2, act)
    good = {"activation": is_activation(act), "output_activation": is_activation(out)}
    model = check(all(good.values()), ["activation"], nn.MLP, 2, [2, 1], act, out)
    if all(good.values()):
        assert isinstance(model([0.5, -0.5]), Value)


@settings(max_examples=scaled(100))
@given(
    nin=sizes,
    gamma=reals,
    weights=st.one_of(st.lists(reals, max_size=3), junk),
    bias=reals,
)
def test_rbf_and_perceptron_numbers(nin, gamma, weights, bias):
    good = {"nin": is_int(nin), "gamma": is_finite(gamma, 0.0, low_open=True)}
    rbf = check(all(good.values()), bad(**good), nn.RBF, nin, gamma)
    if all(good.values()):
        assert rbf.gamma == gamma
    good_w = is_list_like(weights) and len(weights) > 0 and all(is_finite(w) for w in weights)
    good = {"weights": good_w, "bias": is_finite(bias)}
    p = check(all(good.values()), bad(**good), nn.Perceptron, weights, bias)
    if all(good.values()):
        assert [w.data for w in p.w] == [float(w) for w in weights] and p.b.data == bias


@settings(max_examples=scaled(100))
@given(num=sizes, init=reals, lower=reals, upper=reals)
def test_prelu_and_rrelu_arguments(num, init, lower, upper):
    good = {"num_parameters": is_int(num), "init": is_finite(init)}
    check(all(good.values()), bad(**good), nn.PReLU, num, init)
    ok_bounds = is_finite(lower) and is_finite(upper) and 0 <= lower <= upper
    r = check(ok_bounds, ["lower", "upper"], nn.RReLU, lower, upper)
    if ok_bounds:
        mean = (lower + upper) / 2.0
        assert r.eval()(-2.0).data == pytest.approx(-2.0 * mean)


@settings(max_examples=scaled(100))
@given(a=reals, b=reals)
def test_initialisers(a, b):
    ok = is_finite(a) and is_finite(b) and a <= b
    check(ok, ["low", "high"], nn.Uniform, a, b)
    check(is_finite(a) and is_finite(b, 0.0), ["mean", "std"], nn.Normal, a, b)
    for cls in (nn.XavierUniform, nn.XavierNormal, nn.HeUniform, nn.HeNormal):
        check(is_finite(a), ["gain"], cls, a)
    check(is_finite(a), ["value"], nn.Constant, a)


@settings(max_examples=scaled(60))
@given(rng=st.one_of(st.none(), st.builds(random.Random, st.integers(0, 9)), junk))
def test_rng_arguments(rng):
    ok = rng is None or isinstance(rng, random.Random)
    check(ok, ["rng"], nn.MLP, 2, [2, 1], rng=rng)
    check(ok, ["rng"], nn.RBF, 2, rng=rng)
    check(ok, ["rng"], nn.RReLU, rng=rng)


# --- 2. calling models --------------------------------------------------------------------


def _models():
    random.seed(1234)
    return {
        "mlp": nn.MLP(3, [4, 2]),
        "mlp-tanh": nn.MLP(3, [3, 1], activation="tanh", output_activation="sigmoid"),
        "layer": nn.Layer(3, 2, activation="elu"),
        "neuron": nn.Neuron(3, activation="softplus"),
        "perceptron": nn.Perceptron([0.5, -1.0, 0.25], 0.1, activation="tanh"),
        "rbf": nn.RBF(3, 0.5),
        "maxout": nn.Maxout(3, 2, k=3),
        "sequential": nn.Sequential(nn.Layer(3, 3, activation="linear"), nn.PReLU(3),
                                    nn.Layer(3, 1, activation="hardtanh")),
    }


MODELS = _models()

elements = st.one_of(
    finite,
    st.integers(-3, 3),
    st.sampled_from([NAN, INF, -INF]),
    st.builds(Value, finite),
    st.text(max_size=1),
    st.none(),
    st.lists(finite, max_size=1),
    big,
)
inputs = st.one_of(
    st.lists(elements, max_size=5),
    st.lists(elements, min_size=3, max_size=3).map(tuple),
    st.lists(finite, min_size=3, max_size=3),
    junk,
)


def _flat(out):
    return out if isinstance(out, list) else [out]


def _data(x):
    return x.data if isinstance(x, Value) else float(x)


def _reference_mlp(model, xs):
    """The MLP's forward pass in plain floats."""
    def sigmoid(v):
        return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))

    acts = {"relu": lambda v: max(v, 0.0), "linear": lambda v: v, "tanh": math.tanh,
            "sigmoid": sigmoid}
    for i, layer in enumerate(model.layers):
        name = model.config()["activation" if i < len(model.layers) - 1 else "output_activation"]
        xs = [acts[name](sum(w.data * x for w, x in zip(n.w, xs, strict=True)) + n.b.data)
              for n in layer.neurons]
    return xs


@settings(max_examples=scaled(200))
@given(kind=st.sampled_from(sorted(MODELS)), x=inputs)
def test_calling_a_model(kind, x):
    model = MODELS[kind]
    ok = is_list_like(x) and len(x) == 3 and all(_is_number(v) for v in x)
    out = check(ok, ["input"], model, x)
    if not ok:
        return
    outs = _flat(out)
    assert outs and all(isinstance(v, Value) for v in outs)
    xs = [_data(v) for v in x]
    if all(math.isfinite(v) for v in xs):
        assert all(math.isfinite(v.data) for v in outs)
        if kind.startswith("mlp"):
            ref = _reference_mlp(model, xs)
            assert [v.data for v in outs] == pytest.approx(ref, rel=1e-12, abs=1e-12)
    elif any(math.isnan(v) for v in xs):
        assert all(math.isnan(v.data) for v in outs), "a NaN input must give NaN outputs"
    model.zero_grad()
    total = outs[0] if len(outs) == 1 else sum(outs[1:], outs[0])
    total.backward()  # non-finite inputs: gradients may be NaN, but backward must not crash


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("bad_value", [NAN, INF, -INF])
def test_nan_and_inf_inputs_propagate_without_crashing(kind, bad_value):
    model = MODELS[kind]
    out = _flat(model([0.5, bad_value, -0.25]))
    if math.isnan(bad_value):
        assert all(math.isnan(v.data) for v in out)
    model.zero_grad()
    out[0].backward()


def test_a_bare_number_is_one_input_only():
    model = nn.MLP(1, [2, 1])
    assert model(0.5).data == model([0.5]).data
    with pytest.raises(ValueError, match="expected 3 inputs, got 1"):
        MODELS["mlp"](0.5)


# --- 3. losses --------------------------------------------------------------------------


def _is_number(x):
    return isinstance(x, Value) or (isinstance(x, numbers.Real) and fits_float(x))


def _pairs_ok(p, t):
    """Same structure: two flat lists of equal, non-zero length, or two numbers."""
    if _is_number(p) and _is_number(t):
        return True
    return (is_list_like(p) and is_list_like(t) and len(p) == len(t) > 0
            and all(_is_number(v) for v in [*p, *t]))


def _flat_data(x):
    return [_data(v) for v in (x if is_list_like(x) else [x])]


def _mean(xs):
    return math.fsum(xs) / len(xs)


def _softplus(z):
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def _clamped_log(p):
    return max(math.log(p), -100.0) if p > 0 else -100.0


LOSS_ARGS = {  # name -> (function, prediction argument name, reference)
    "mse_loss": (nn.mse_loss, "predictions",
                 lambda ps, ts: _mean([(p - t) * (p - t) for p, t in zip(ps, ts, strict=True)])),
    "sse_loss": (
        nn.sse_loss, "predictions",
        lambda ps, ts: 0.5 * math.fsum((p - t) * (p - t) for p, t in zip(ps, ts, strict=True))),
    "binary_cross_entropy": (
        nn.binary_cross_entropy, "probs",
        lambda ps, ts: _mean([-(t * _clamped_log(p) + (1 - t) * _clamped_log(1 - p))
                              for p, t in zip(ps, ts, strict=True)])),
    "binary_cross_entropy_with_logits": (
        nn.binary_cross_entropy_with_logits, "logits",
        lambda zs, ys: _mean([_softplus(z) - z * y for z, y in zip(zs, ys, strict=True)])),
    "hinge_loss": (
        nn.hinge_loss, "scores",
        lambda ss, ys: _mean([max(0.0, 1 - y * s) for s, y in zip(ss, ys, strict=True)])),
}

loss_elements = st.one_of(
    st.floats(-50, 50), st.floats(0, 1), st.sampled_from([0, 1, -1, 0.0, 1.0, -1.0, 2]),
    st.sampled_from([NAN, INF, -INF]), st.builds(Value, st.floats(0, 1)),
    st.text(max_size=1), st.none(), big,
)
loss_args = st.one_of(st.lists(loss_elements, max_size=4), loss_elements, junk)


def _domain_ok(name, ps, ts):
    if name == "binary_cross_entropy":
        return all(0 <= p <= 1 for p in ps) and all(0 <= t <= 1 for t in ts)
    if name == "binary_cross_entropy_with_logits":
        return all(0 <= t <= 1 for t in ts)
    if name == "hinge_loss":
        return all(t in (-1.0, 1.0) for t in ts)
    return True


@settings(max_examples=scaled(400))
@given(
    name=st.sampled_from(sorted(LOSS_ARGS)),
    preds=loss_args,
    targets=loss_args,
    reduction=st.one_of(st.sampled_from(["mean", "sum"]), junk),
)
def test_elementwise_losses(name, preds, targets, reduction):
    fn, pname, reference = LOSS_ARGS[name]
    kwargs = {} if name == "sse_loss" else {"reduction": reduction}
    good_reduction = name == "sse_loss" or reduction in ("mean", "sum")
    if not (_pairs_ok(preds, targets) and good_reduction):
        names = [pname, "targets", "length"] if good_reduction else ["reduction"]
        if not _pairs_ok(preds, targets) and not good_reduction:
            names = [pname, "targets", "length", "reduction"]
        check(False, names, fn, preds, targets, **kwargs)
        return
    ps, ts = _flat_data(preds), _flat_data(targets)
    if not _domain_ok(name, ps, ts):
        check(False, [pname, "targets"], fn, preds, targets, **kwargs)
        return
    loss = check(True, [], fn, preds, targets, **kwargs)
    assert isinstance(loss, Value)
    if all(math.isfinite(v) for v in ps + ts):
        expected = reference(ps, ts)
        if kwargs.get("reduction") == "sum":
            expected *= len(ps)
        assert loss.data == pytest.approx(expected, rel=1e-9, abs=1e-9)
        loss.backward()
    elif any(math.isnan(v) for v in ps + ts):
        assert math.isnan(loss.data)


logit_lists = st.one_of(
    st.lists(st.one_of(st.floats(-50, 50), st.builds(Value, st.floats(-5, 5))),
             min_size=1, max_size=4),
    st.lists(loss_elements, max_size=4),
    junk,
)
class_targets = st.one_of(st.integers(-1, 4), junk)


def _ce_valid(zs, t):
    return (is_list_like(zs) and len(zs) > 0 and all(_is_number(z) for z in zs)
            and is_int(t, 0) and t < len(zs))


@settings(max_examples=scaled(300))
@given(
    fn=st.sampled_from([nn.cross_entropy, nn.nll_loss]),
    logits=logit_lists,
    target=class_targets,
)
def test_class_index_losses(fn, logits, target):
    valid = _ce_valid(logits, target)
    loss = check(valid, ["logits", "log_probs", "target"], fn, logits, target)
    if not valid:
        return
    zs = [_data(z) for z in logits]
    if all(math.isfinite(z) for z in zs):
        if fn is nn.cross_entropy:
            m = max(zs)
            expected = m + math.log(math.fsum(math.exp(z - m) for z in zs)) - zs[target]
        else:
            expected = -zs[target]
        assert loss.data == pytest.approx(expected, rel=1e-9, abs=1e-9)
    elif math.isnan(zs[target]) or (fn is nn.cross_entropy and any(map(math.isnan, zs))):
        assert math.isnan(loss.data)  # nll_loss reads only the target's entry
    loss.backward()


@settings(max_examples=scaled(100))
@given(
    batch=st.one_of(st.lists(st.lists(st.floats(-9, 9), min_size=2, max_size=2), max_size=3),
                    junk),
    targets=st.one_of(st.lists(st.integers(-1, 2), max_size=3), junk),
    reduction=st.one_of(st.sampled_from(["mean", "sum"]), junk),
)
def test_cross_entropy_batches(batch, targets, reduction):
    rows_ok = is_list_like(batch) and len(batch) > 0 and all(is_list_like(r) for r in batch)
    ok = (rows_ok and is_list_like(targets) and len(targets) == len(batch)
          and all(is_int(t, 0) and t < 2 for t in targets) and reduction in ("mean", "sum"))
    if _ce_valid(batch, targets) and reduction in ("mean", "sum"):
        assert nn.cross_entropy(batch, targets, reduction=reduction).data == pytest.approx(
            nn.cross_entropy(list(batch), targets).data)  # a flat list is one example
        return
    loss = check(ok, ["logits", "target", "reduction", "examples", "length"],
                 nn.cross_entropy, batch, targets, reduction=reduction)
    if ok:
        each = [nn.cross_entropy(z, t).data for z, t in zip(batch, targets, strict=True)]
        total = math.fsum(each)
        expected = total if reduction == "sum" else total / len(each)
        assert loss.data == pytest.approx(expected, rel=1e-12, abs=1e-12)


# --- the NaN policy: finite inputs never make a NaN ----------------------------------------


def _grads(values):
    return [v.grad for v in values]


@pytest.mark.parametrize("z", [1000.0, 1e300, 1e308, MAX])
def test_stable_losses_at_huge_logits(z):
    for logits, ys in (([z, -z], [1.0, 0.0]), ([z, -z], [0.0, 1.0]), ([z, z], [1.0, 1.0]),
                       ([-z, -z], [0.0, 0.0]), ([z], [0.5]), ([-z], [0.25])):
        zs = [Value(v) for v in logits]
        loss = nn.binary_cross_entropy_with_logits(zs, ys)
        loss.backward()
        assert not math.isnan(loss.data), (logits, ys)
        assert all(math.isfinite(g) for g in _grads(zs)), (logits, ys)
        if z <= 1e300:
            assert math.isfinite(loss.data), (logits, ys)
    # a huge, well-classified logit must not swamp another example's loss
    loss = nn.binary_cross_entropy_with_logits([z, 0.0, -z], [1.0, 1.0, 0.0])
    assert loss.data == pytest.approx(math.log(2.0) / 3, rel=1e-12)
    for logits in ([z, -z], [-z, z], [z, z, -z], [z, 0.0]):
        for t in range(len(logits)):
            zs = [Value(v) for v in logits]
            loss = nn.cross_entropy(zs, t)
            loss.backward()
            assert not math.isnan(loss.data)
            assert all(math.isfinite(g) for g in _grads(zs))
            if z <= 1e300:
                assert math.isfinite(loss.data)
        for fn in (nn.softmax, nn.log_softmax):
            zs = [Value(v) for v in logits]
            out = fn(zs)
            assert all(not math.isnan(v.data) for v in out)
            out[0].backward()
            assert all(math.isfinite(g) for g in _grads(zs))
        probs = [v.data for v in nn.softmax(logits)]
        assert all(0.0 <= p <= 1.0 for p in probs) and math.fsum(probs) == pytest.approx(1.0)


@settings(max_examples=scaled(300))
@given(
    xs=st.lists(huge_finite, min_size=1, max_size=4),
    data=st.data(),
)
def test_losses_never_make_nan_from_finite_input(xs, data):
    n = len(xs)
    unit = data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    signs = data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n))
    finite_targets = data.draw(st.lists(huge_finite, min_size=n, max_size=n))
    t = data.draw(st.integers(0, n - 1))
    cases = [
        (nn.mse_loss, finite_targets), (nn.sse_loss, finite_targets),
        (nn.binary_cross_entropy_with_logits, unit), (nn.hinge_loss, signs),
    ]
    for fn, targets in cases:
        vs = [Value(x) for x in xs]
        loss = fn(vs, targets)
        loss.backward()
        assert not math.isnan(loss.data), fn.__name__
        assert not any(math.isnan(g) for g in _grads(vs)), fn.__name__
    probs = [Value(p) for p in data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))]
    loss = nn.binary_cross_entropy(probs, unit)
    loss.backward()
    assert math.isfinite(loss.data) and all(math.isfinite(g) for g in _grads(probs))
    for fn in (nn.cross_entropy, lambda zs, t: nn.nll_loss(nn.log_softmax(zs), t)):
        vs = [Value(x) for x in xs]
        loss = fn(vs, t)
        loss.backward()
        assert not math.isnan(loss.data) and loss.data >= 0
        assert all(math.isfinite(g) for g in _grads(vs))
    vs = [Value(x) for x in xs]
    out = nn.softmax(vs)
    assert all(math.isfinite(v.data) for v in out)
    assert math.fsum(v.data for v in out) == pytest.approx(1.0)
    out[t].backward()
    assert all(math.isfinite(g) for g in _grads(vs))


ELEMENTWISE = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "hardtanh",
               "absolute", "sign", "step"]


@settings(max_examples=scaled(200))
@given(x=huge_finite)
def test_activations_never_make_nan_from_finite_input(x):
    for name in ELEMENTWISE:
        v = Value(x)
        out = getattr(nn, name)(v)
        out.backward()
        assert math.isfinite(out.data) and math.isfinite(v.grad), (name, x, out.data, v.grad)
    for module in (nn.PReLU(), nn.RReLU(), nn.RReLU().eval()):
        v = Value(x)
        out = module(v)
        out.backward()
        assert math.isfinite(out.data) and math.isfinite(v.grad)


@settings(max_examples=scaled(100))
@given(x=st.one_of(finite, junk), name=st.sampled_from(ELEMENTWISE))
def test_activations_on_junk(x, name):
    ok = isinstance(x, (Value, numbers.Real))
    for fn in (getattr(nn, name), nn.get_activation(name)):
        out = check(ok, ["real number"], fn, x)
        if ok:
            assert isinstance(out, Value)
            if math.isfinite(_data(x)):
                assert math.isfinite(out.data)


@settings(max_examples=scaled(60))
@given(layers=st.lists(st.one_of(junk, st.just("layer")), max_size=3))
def test_sequential_takes_only_modules(layers):
    items = [nn.Layer(2, 2) if v == "layer" else v for v in layers]
    ok = all(isinstance(v, nn.Module) for v in items)
    seq = check(ok, ["Modules"], nn.Sequential, *items)
    if ok and items:
        assert len(seq([0.5, -0.5])) == 2


@settings(max_examples=scaled(60))
@given(key=st.sampled_from(["epoch", "loss", "val_loss", "lr", "time", "best_epoch", "color"]),
       value=junk)
def test_history_from_dict_on_junk(key, value):
    data = nn.History().to_dict()
    data[key] = value
    ok, result = outcome(nn.History.from_dict, data)
    assert ok or isinstance(result, ValueError), result
    if not ok:
        assert key in str(result)


# --- 4. regularisers --------------------------------------------------------------------


@settings(max_examples=scaled(150))
@given(lam=reals, m=reals, w0=reals, params=st.one_of(junk, st.just("model")))
def test_regularisers(lam, m, w0, params):
    model = nn.MLP(2, [2, 1])
    target = model if params == "model" else params
    ok_params = params == "model" or (
        is_list_like(params) and all(isinstance(p, Value) for p in params)
    ) or isinstance(params, Value)
    good = {"params": ok_params, "lam": is_finite(lam, 0.0), "m": is_finite(m, 0.0, low_open=True)}
    out = check(all(good.values()), bad(**good), nn.l2, target, lam, m)
    if all(good.values()) and params == "model":
        expected = lam / (2 * m) * math.fsum(p.data ** 2 for p in model.parameters())
        assert out.data == pytest.approx(expected, rel=1e-12, abs=1e-300)
    good = {"params": ok_params, "lam": is_finite(lam, 0.0)}
    check(all(good.values()), bad(**good), nn.l1, target, lam)
    good = {"params": ok_params, "lam": is_finite(lam, 0.0),
            "w0": is_finite(w0, 0.0, low_open=True)}
    out = check(all(good.values()), bad(**good), nn.weight_elimination, target, lam, w0)
    if all(good.values()) and params == "model":
        ratios = [(p.data / w0) * (p.data / w0) for p in model.parameters()]
        expected = lam * math.fsum(1.0 if r == INF else r / (1 + r) for r in ratios)
        assert out.data == pytest.approx(expected, rel=1e-12, abs=1e-300)


# --- 5. optimisers ----------------------------------------------------------------------


def _params():
    return nn.MLP(2, [2, 1]).parameters()


@settings(max_examples=scaled(200))
@given(lr=reals, momentum=reals, weight_decay=reals, nesterov=st.one_of(st.booleans(), junk))
def test_sgd_arguments(lr, momentum, weight_decay, nesterov):
    good = {
        "lr": is_finite(lr, 0.0, low_open=True),
        "momentum": is_finite(momentum, 0.0) and momentum < 1,
        "weight_decay": is_finite(weight_decay, 0.0),
        "nesterov": isinstance(nesterov, bool) and (not nesterov or momentum != 0),
    }
    params = _params()
    opt = check(all(good.values()), bad(**good), nn.SGD, params, lr, momentum, weight_decay,
                nesterov)
    if all(good.values()):
        for p in params:
            p.grad = 0.5
        opt.step()
        if lr <= 10 and weight_decay <= 10:  # beyond that the step may overflow, as floats do
            assert all(math.isfinite(p.data) for p in params)


@settings(max_examples=scaled(200))
@given(
    lr=reals,
    betas=st.one_of(st.tuples(reals, reals), st.lists(st.floats(0, 0.99), max_size=3), junk),
    eps=reals,
    weight_decay=reals,
    cls=st.sampled_from([nn.Adam, nn.AdamW]),
)
def test_adam_arguments(lr, betas, eps, weight_decay, cls):
    good = {
        "lr": is_finite(lr, 0.0, low_open=True),
        "betas": is_list_like(betas) and len(betas) == 2
        and all(is_finite(b, 0.0) and b < 1 for b in betas),
        "eps": is_finite(eps, 0.0, low_open=True),
        "weight_decay": is_finite(weight_decay, 0.0),
    }
    params = _params()
    opt = check(all(good.values()), bad(**good), cls, params, lr, betas, eps, weight_decay)
    if all(good.values()):
        for p in params:
            p.grad = -0.25
        opt.step()
        if lr <= 10 and weight_decay <= 10:
            assert all(math.isfinite(p.data) for p in params)


@settings(max_examples=scaled(60))
@given(params=junk)
def test_optimiser_params(params):
    for cls in (nn.SGD, nn.Adam):
        check(False, ["params"], cls, params, 0.1)


def _state_junk():
    return st.one_of(junk, st.lists(st.floats(-1, 1), min_size=9, max_size=9),
                     st.lists(reals, min_size=9, max_size=9), st.integers(0, 20))


@settings(max_examples=scaled(200))
@given(
    which=st.sampled_from(["sgd", "adam"]),
    key=st.sampled_from(["optimizer", "n_params", "lr", "momentum", "weight_decay", "nesterov",
                         "momentum_buffer", "betas", "eps", "step_count", "exp_avg",
                         "exp_avg_sq", "<delete>"]),
    value=_state_junk(),
    victim=st.integers(0, 8),
)
def test_optimiser_load_state_dict_is_all_or_nothing(which, key, value, victim):
    params = _params()
    opt = nn.SGD(params, 0.1, momentum=0.9) if which == "sgd" else nn.Adam(params, 0.01)
    for p in params:
        p.grad = 0.3
    opt.step()
    state = json.loads(json.dumps(opt.state_dict()))
    if key == "<delete>":
        key = sorted(state)[victim % len(state)]
        del state[key]
    elif key in state:
        state[key] = value
    else:
        return
    before = opt.state_dict()
    ok, err = outcome(opt.load_state_dict, state)
    if ok:
        after = opt.state_dict()
        for k, v in state.items():
            expected = list(v) if isinstance(v, tuple) else v
            assert after[k] == expected or after[k] == pytest.approx(expected)
        opt.step()  # a loaded state must be usable
    else:
        assert opt.state_dict() == before, "a rejected state changed the optimiser"
        assert key in str(err), f"message {err} does not name {key!r}"


@settings(max_examples=scaled(200))
@given(
    drop=st.booleans(),
    extra=st.one_of(st.none(), st.text(max_size=3), st.integers()),
    victim=st.integers(0, 8),
    value=reals,
    container=st.sampled_from(["dict", "list", "junk"]),
)
def test_module_load_state_dict_is_all_or_nothing(drop, extra, victim, value, container):
    model = nn.MLP(2, [2, 1])
    state = model.state_dict()
    names = list(state)
    name = names[victim % len(names)]
    state[name] = value
    if drop:
        del state[names[(victim + 1) % len(names)]]
    if extra is not None:
        state[extra] = 1.0
    if container == "list":
        state = list(state.items())
    elif container == "junk":
        state = value
    valid = (  # finite real numbers only, as nn.load accepts from a file
        container == "dict" and not drop and extra is None
        and (is_finite(value) or (isinstance(value, Value) and math.isfinite(value.data)))
    )
    before = model.state_dict()
    ok, err = outcome(model.load_state_dict, state)
    if valid:
        assert ok, f"valid state rejected: {err}"
        assert model.state_dict()[name].hex() == float(value).hex()
        return
    assert not ok, "an invalid state was accepted"
    assert model.state_dict() == before
    msg = str(err)
    assert "load_state_dict" in msg
    if container == "dict" and not drop and extra is None:
        assert repr(name) in msg


# --- 6. datasets ---------------------------------------------------------------------------


def _n(low):
    return st.one_of(st.integers(low - 3, low + 25), junk)


noises = st.one_of(st.floats(0, 0.5), reals)
seeds = st.one_of(st.integers(-5, 2**70), st.builds(random.Random, st.integers(0, 5)), junk)


def _check_data(X, y, n, labels=None, noise=0.0):
    assert len(X) == len(y) == n
    assert all(all(isinstance(v, float) for v in row) for row in X)
    if noise < 1e300:  # Gaussian noise of std 1e307 may overflow, as floats do
        assert all(all(math.isfinite(v) for v in row) for row in X)
    if labels is not None:
        assert set(y) <= set(labels)


@settings(max_examples=scaled(200))
@given(
    loader=st.sampled_from(["moons", "circles", "sine", "and", "or", "xor"]),
    n=_n(2), noise=noises, seed=seeds, factor=st.one_of(st.floats(0, 1), reals),
    signed=st.one_of(st.booleans(), junk),
)
def test_two_class_datasets(loader, n, noise, seed, factor, signed):
    low = 4 if loader in ("and", "or", "xor") else 1 if loader == "sine" else 2
    good = {"n": is_int(n, low), "noise": is_finite(noise, 0.0), "seed": is_seed(seed)}
    kwargs = {"n": n, "noise": noise, "seed": seed}
    if loader == "circles":
        kwargs["factor"] = factor
        good["factor"] = is_finite(factor, 0.0, low_open=True) and factor < 1
    if loader in ("and", "or", "xor"):
        kwargs["signed"] = signed
        good["signed"] = isinstance(signed, bool)
    fn = nn.DATASETS[loader]
    result = check(all(good.values()), bad(**good), fn, **kwargs)
    if all(good.values()):
        gate_signed = loader in ("and", "or", "xor") and signed is True
        labels = None if loader == "sine" else ([-1, 1] if gate_signed else [0, 1])
        _check_data(*result, n, labels, noise)


@settings(max_examples=scaled(150))
@given(n=_n(3), k=st.one_of(st.integers(0, 5), junk), centers=st.one_of(st.integers(0, 5), junk),
       std=noises, seed=seeds)
def test_multi_class_datasets(n, k, centers, std, seed):
    good = {"k": is_int(k, 2), "seed": is_seed(seed), "noise": is_finite(std, 0.0)}
    good["n"] = is_int(n, k if good["k"] else 1)
    result = check(all(good.values()), bad(**good), nn.make_spirals, n=n, k=k, noise=std, seed=seed)
    if all(good.values()):
        _check_data(*result, n, range(k), std)
    centers_ok = is_int(centers, 1) or (
        is_list_like(centers) and len(centers) > 0 and all(
            is_list_like(c) and len(c) > 0 and all(is_finite(v) for v in c) for c in centers
        ) and len({len(c) for c in centers}) == 1
    )
    good = {"centers": centers_ok, "std": is_finite(std, 0.0), "seed": is_seed(seed)}
    k_blobs = (centers if is_int(centers, 1) else len(centers)) if centers_ok else 1
    good["n"] = is_int(n, k_blobs)
    result = check(all(good.values()), bad(**good), nn.make_blobs, n=n, centers=centers, std=std,
                   seed=seed)
    if all(good.values()):
        _check_data(*result, n, range(k_blobs), std)


@settings(max_examples=scaled(100))
@given(n=st.integers(1, 12), batch_size=st.one_of(st.none(), st.integers(-1, 14), junk),
       fraction=st.one_of(st.floats(0, 1), reals), seed=seeds)
def test_splitting_and_batching(n, batch_size, fraction, seed):
    X, y = [[float(i)] for i in range(n)], list(range(n))
    ok = batch_size is None or is_int(batch_size)
    out = check(ok and is_seed(seed), bad(batch_size=ok, seed=is_seed(seed)), nn.batches, X, y,
                batch_size, seed=seed)
    if ok and is_seed(seed):
        got = [t for _, yb in out for t in yb]
        assert sorted(got) == y
        assert len(list(nn.batches(X, y, batch_size))) == nn.num_batches(n, batch_size)
    good = {"val_fraction": is_finite(fraction, 0.0, low_open=True) and fraction < 1,
            "seed": is_seed(seed), "examples": n >= 2}
    out = check(all(good.values()), bad(**good), nn.train_val_split, X, y, fraction, seed)
    if all(good.values()):
        assert sorted(out[1] + out[3]) == y and out[1] and out[3]


# --- 7. fit, predict, evaluate ----------------------------------------------------------------

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [0, 1, 1, 0]


def _is_fn_list(x):
    if x is None or callable(x):
        return True
    return isinstance(x, (list, tuple)) and all(callable(f) for f in x)


FIT_ARGS = {  # name -> (strategy of values, validity)
    "epochs": (st.one_of(st.integers(-1, 3), junk), lambda v: is_int(v)),
    "batch_size": (st.one_of(st.none(), st.integers(-1, 5), junk),
                   lambda v: v is None or is_int(v)),
    "lr": (st.one_of(st.none(), st.floats(0, 1), junk, big),
           lambda v: v is None or is_finite(v, 0.0, low_open=True)),
    "momentum": (st.one_of(st.none(), junk), lambda v: v is None),
    "weight_decay": (st.one_of(st.none(), st.floats(0, 1), junk, big),
                     lambda v: v is None or is_finite(v, 0.0)),
    "val_split": (st.one_of(st.none(), st.floats(0, 1), junk, big),
                  lambda v: v is None or (is_finite(v, 0.0, low_open=True) and v < 1)),
    "early_stopping": (st.one_of(st.none(), st.integers(-1, 3), junk),
                       lambda v: v is None or is_int(v)),
    "min_delta": (st.one_of(st.floats(0, 1), junk, big), lambda v: is_finite(v, 0.0)),
    "perturb": (st.one_of(st.none(), st.floats(0, 1), junk, big),
                lambda v: v is None or is_finite(v, 0.0)),
    "seed": (seeds, is_seed),
    "shuffle": (st.one_of(st.booleans(), junk), lambda v: isinstance(v, bool)),
    "restore_best": (st.one_of(st.none(), st.booleans(), junk),
                     lambda v: v is None or isinstance(v, bool)),
    "progress": (st.one_of(st.booleans(), junk), lambda v: isinstance(v, bool)),
    "loss": (st.one_of(st.sampled_from([*nn.LOSSES, " MSE", "l1", "cross_entropy"]), junk),
             lambda v: isinstance(v, str) and v.strip().lower() in set(nn.LOSSES) - {
                 "cross_entropy"}),
    "optimizer": (st.one_of(st.sampled_from([*nn.OPTIMIZERS, "SGD ", "rmsprop"]), junk),
                  lambda v: isinstance(v, str) and v.strip().lower() in nn.OPTIMIZERS),
    "schedule": (st.one_of(st.none(), st.sampled_from([*nn.SCHEDULES, "exp"]), junk),
                 lambda v: v is None or (isinstance(v, str) and v.strip().lower() in nn.SCHEDULES)),
    "regularizers": (st.one_of(st.none(), st.just(lambda m: nn.l2(m, 1e-3)), junk), _is_fn_list),
    "callbacks": (st.one_of(st.none(), st.just(lambda h, m: None), junk), _is_fn_list),
    "val_data": (st.one_of(st.none(), st.just((XOR_X, XOR_Y)), junk),
                 lambda v: v is None or v == (XOR_X, XOR_Y)),
}


@settings(max_examples=scaled(300))
@given(data=st.data(), name=st.sampled_from(sorted(FIT_ARGS)))
def test_fit_arguments(data, name):
    strategy, valid = FIT_ARGS[name]
    value = data.draw(strategy, label=name)
    random.seed(0)
    model = nn.MLP(2, [3, 1], output_activation="sigmoid")
    kwargs = {"epochs": 1, "progress": False, name: value}
    if valid(value) and name in ("lr", "weight_decay") and value is not None and value > 10:
        # A step this large may diverge: then fit says so, and nothing else.
        try:
            history = nn.fit(model, XOR_X, XOR_Y, **kwargs)
        except FloatingPointError as err:
            assert "smaller learning rate" in str(err)
            return
    else:
        history = check(valid(value), [name], nn.fit, model, XOR_X, XOR_Y, **kwargs)
    if valid(value):  # a returned History is strict JSON, the weights finite
        assert history.epochs_run >= 1
        json.dumps(history.to_dict(), allow_nan=False)
        assert all(math.isfinite(p.data) for p in model.parameters())


rows = st.one_of(
    st.lists(st.one_of(finite, st.sampled_from([NAN, INF]), st.text(max_size=1), st.none(), big),
             min_size=2, max_size=2),
    st.lists(finite, min_size=1, max_size=3),
    junk,
)


@settings(max_examples=scaled(200))
@given(X=st.one_of(st.lists(rows, min_size=1, max_size=3), junk),
       y=st.one_of(st.lists(st.sampled_from([0, 1, 2, -1, 0.5, NAN, None, "a"]), min_size=1,
                            max_size=3), junk))
def test_fit_predict_evaluate_data(X, y):
    """Examples must be lists of finite numbers, labels must suit the loss."""
    model = nn.MLP(2, [2, 1])
    x_ok = is_list_like(X) and len(X) > 0 and all(
        is_list_like(r) and len(r) == 2 and all(is_finite(v) for v in r) for r in X
    )
    y_ok = is_list_like(y) and len(y) == (len(X) if is_list_like(X) else -1) and all(
        is_int(t, 0) and t <= 1 for t in y
    ) and not any(isinstance(t, bool) for t in y)
    names = bad(X=x_ok, y=y_ok) + ([] if x_ok else ["inputs"])  # a row of the wrong length
    check(x_ok and y_ok, names, nn.fit, model, X, y, epochs=1, progress=False, loss="bce_logits")
    labels = check(x_ok, ["X", "inputs"], nn.predict, model, X)
    if x_ok:
        assert all(c in (0, 1) for c in labels)
    check(x_ok and y_ok, names, nn.evaluate, model, X, y, "bce_logits")


def test_nan_features_are_named_not_blamed_on_the_learning_rate():
    X = [[0.0, 0.0], [0.0, NAN], [1.0, 0.0]]
    for call in (lambda: nn.fit(nn.MLP(2, [2, 1]), X, [0, 1, 1], progress=False),
                 lambda: nn.predict(nn.MLP(2, [2, 1]), X),
                 lambda: nn.evaluate(nn.MLP(2, [2, 1]), X, [0, 1, 1])):
        with pytest.raises(ValueError, match=r"X\[1\]\[1\] = nan"):
            call()


def test_a_nan_output_has_no_predicted_class():
    model = nn.MLP(2, [2, 1])
    model.parameters()[0].data = NAN
    model.layers[0].neurons[0].b.data = NAN
    with pytest.raises(ValueError, match="nan"):
        nn.predict(model, [[0.5, 0.5]])
