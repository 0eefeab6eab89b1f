"""Losses: hand-computed values, finite differences, stability, and input checks."""

import decimal
import math
import sys

import pytest

import autograd
import nn
from autograd import Value


def vals(*xs):
    return [Value(float(x)) for x in xs]


def grads(vs):
    return [v.grad for v in vs]


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


# --- regression -------------------------------------------------------------------

def test_mse_by_hand():
    p = vals(1.0, 2.0, 3.0)
    loss = nn.mse_loss(p, [1.5, 2.0, 5.0])
    assert loss.data == pytest.approx((0.25 + 0 + 4) / 3)
    loss.backward()
    assert grads(p) == pytest.approx([2 * -0.5 / 3, 0.0, 2 * -2 / 3])


def test_mse_sum_and_nested_outputs():
    p = [vals(1.0, 0.0), vals(0.0, 2.0)]
    assert nn.mse_loss(p, [[0.0, 0.0], [0.0, 0.0]]).data == pytest.approx(5 / 4)
    assert nn.mse_loss(p, [[0.0, 0.0], [0.0, 0.0]], reduction="sum").data == pytest.approx(5)


def test_sse_is_half_the_sum_and_its_gradient_is_the_residual():
    p = vals(1.0, 2.0, 3.0)
    loss = nn.sse_loss(p, [1.5, 2.0, 5.0])
    assert loss.data == pytest.approx(0.5 * 4.25)
    loss.backward()
    assert grads(p) == pytest.approx([-0.5, 0.0, -2.0])


def test_regression_losses_accept_floats_and_single_values():
    assert isinstance(nn.mse_loss([3.0], [1.0]), Value)
    assert nn.mse_loss([3.0], [1.0]).data == 4.0
    assert nn.mse_loss(Value(3.0), 1.0).data == 4.0
    assert nn.sse_loss(2.0, 0.0).data == 2.0


def test_regression_losses_match_finite_differences(fd_check):
    t = [0.3, -1.2, 2.0, 0.0]
    fd_check(lambda v: nn.mse_loss(v, t), [1.0, -0.5, 0.25, 3.0])
    fd_check(lambda v: nn.sse_loss(v, t), [1.0, -0.5, 0.25, 3.0])


# --- binary cross-entropy -----------------------------------------------------------

def test_bce_by_hand():
    p = vals(0.9, 0.2)
    loss = nn.binary_cross_entropy(p, [1, 0])
    assert loss.data == pytest.approx(-(math.log(0.9) + math.log(0.8)) / 2)
    loss.backward()
    assert grads(p) == pytest.approx([-1 / 0.9 / 2, 1 / 0.8 / 2])


def test_bce_soft_targets_by_hand():
    loss = nn.binary_cross_entropy([0.7], [0.25])
    assert loss.data == pytest.approx(-(0.25 * math.log(0.7) + 0.75 * math.log(0.3)))


def test_bce_clamps_log_at_minus_100():
    assert nn.binary_cross_entropy([0.0], [1.0]).data == pytest.approx(100.0)
    assert nn.binary_cross_entropy([1.0], [0.0]).data == pytest.approx(100.0)
    assert nn.binary_cross_entropy([0.0, 1.0], [0.0, 1.0]).data == 0.0
    assert nn.binary_cross_entropy([0.0], [0.5]).data == pytest.approx(50.0)
    p = vals(0.0, 1.0)
    loss = nn.binary_cross_entropy(p, [1.0, 0.0])
    loss.backward()
    assert all(math.isfinite(g) for g in grads(p))


def test_bce_is_the_lectures_multi_output_error():
    outs = [[0.8, 0.1, 0.6], [0.3, 0.9, 0.5]]
    ys = [[1, 0, 1], [0, 1, 0]]
    m = len(outs)
    by_hand = -sum(
        y * math.log(s) + (1 - y) * math.log(1 - s)
        for row, yrow in zip(outs, ys, strict=True)
        for s, y in zip(row, yrow, strict=True)
    ) / m
    e = nn.binary_cross_entropy(outs, ys, reduction="sum") / m
    assert e.data == pytest.approx(by_hand)
    flat = nn.binary_cross_entropy(outs[0], ys[0])  # K sigmoid outputs of one example
    assert flat.data == pytest.approx(
        -(math.log(0.8) + math.log(0.9) + math.log(0.6)) / 3
    )


def test_bce_matches_finite_differences(fd_check):
    fd_check(lambda v: nn.binary_cross_entropy(v, [1.0, 0.0, 0.3]), [0.7, 0.2, 0.55])


def test_bce_rejects_out_of_range():
    with pytest.raises(ValueError, match=r"probs\[1\]"):
        nn.binary_cross_entropy([0.5, 1.5], [1, 0])
    with pytest.raises(ValueError, match=r"targets\[0\]"):
        nn.binary_cross_entropy([0.5], [2])


def test_bce_with_logits_by_hand_including_zero_logit():
    z = vals(0.0, 2.0, -3.0)
    y = [1, 0, 0.5]
    loss = nn.binary_cross_entropy_with_logits(z, y)
    per = [math.log(2.0), math.log1p(math.exp(2.0)), math.log1p(math.exp(-3.0)) + 1.5]
    assert loss.data == pytest.approx(sum(per) / 3)
    loss.backward()
    expected = [(sigmoid(zi.data) - yi) / 3 for zi, yi in zip(z, y, strict=True)]
    assert grads(z) == pytest.approx(expected)
    assert z[0].grad == pytest.approx(-0.5 / 3)  # the kink-free gradient at z = 0


def test_bce_with_logits_agrees_with_bce_of_sigmoid():
    zs, ys = [0.3, -1.7, 2.2], [1, 0, 1]
    a = nn.binary_cross_entropy_with_logits(zs, ys).data
    b = nn.binary_cross_entropy([sigmoid(z) for z in zs], ys).data
    assert a == pytest.approx(b)


def test_bce_with_logits_is_stable_at_1000():
    z = vals(1000.0, -1000.0, 1000.0, -1000.0)
    loss = nn.binary_cross_entropy_with_logits(z, [0, 1, 1, 0])
    assert loss.data == pytest.approx(500.0)
    loss.backward()
    assert grads(z) == pytest.approx([0.25, -0.25, 0.0, 0.0])


def test_bce_with_logits_matches_finite_differences(fd_check):
    fd_check(lambda v: nn.binary_cross_entropy_with_logits(v, [1, 0, 0.5]), [0.4, -2.0, 1.5])


# --- hinge --------------------------------------------------------------------------

def test_hinge_by_hand():
    s = vals(0.5, -2.0, 3.0)
    loss = nn.hinge_loss(s, [1, -1, -1])
    assert loss.data == pytest.approx((0.5 + 0.0 + 4.0) / 3)
    loss.backward()
    assert grads(s) == pytest.approx([-1 / 3, 0.0, 1 / 3])


def test_hinge_matches_finite_differences(fd_check):
    fd_check(lambda v: nn.hinge_loss(v, [1, -1, 1]), [0.2, -0.4, -1.5])


def test_hinge_rejects_labels_other_than_plus_minus_one():
    with pytest.raises(ValueError, match=r"targets\[1\].*-1 or \+1"):
        nn.hinge_loss([0.1, 0.2], [1, 0])


# --- multi-class ------------------------------------------------------------------------

def test_cross_entropy_by_hand():
    z = vals(1.0, 2.0, 3.0)
    loss = nn.cross_entropy(z, 0)
    lse = math.log(math.exp(1) + math.exp(2) + math.exp(3))
    assert loss.data == pytest.approx(lse - 1.0)
    loss.backward()
    soft = [math.exp(v - lse) for v in (1, 2, 3)]
    assert grads(z) == pytest.approx([soft[0] - 1, soft[1], soft[2]])


def test_cross_entropy_batch_is_the_mean():
    a = nn.cross_entropy([1.0, 2.0, 3.0], 0).data
    b = nn.cross_entropy([0.5, -1.0, 0.0], 2).data
    batch = nn.cross_entropy([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]], [0, 2])
    assert batch.data == pytest.approx((a + b) / 2)
    summed = nn.cross_entropy([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]], [0, 2], reduction="sum")
    assert summed.data == pytest.approx(a + b)


def test_cross_entropy_is_stable_at_1000():
    z = vals(1000.0, -1000.0, 0.0)
    loss = nn.cross_entropy(z, 1)
    assert loss.data == pytest.approx(2000.0)
    loss.backward()
    assert grads(z) == pytest.approx([1.0, -1.0, 0.0])
    assert nn.cross_entropy([1000.0, 1000.0], 0).data == pytest.approx(math.log(2))


def test_cross_entropy_matches_finite_differences(fd_check):
    fd_check(lambda v: nn.cross_entropy(v, 2), [0.1, -0.7, 1.3, 0.4])
    fd_check(lambda v: nn.cross_entropy([v[:2], v[2:]], [0, 1]), [0.1, -0.7, 1.3, 0.4])


def test_softmax_and_log_softmax():
    p = nn.softmax([1.0, 2.0, 3.0])
    total = math.exp(1) + math.exp(2) + math.exp(3)
    assert [v.data for v in p] == pytest.approx([math.exp(k) / total for k in (1, 2, 3)])
    lp = nn.log_softmax([1.0, 2.0, 3.0])
    assert [v.data for v in lp] == pytest.approx([k - math.log(total) for k in (1, 2, 3)])
    big = nn.softmax([1000.0, -1000.0])
    assert [v.data for v in big] == [1.0, 0.0]
    assert [v.data for v in nn.log_softmax([1000.0, 0.0])] == pytest.approx([0.0, -1000.0])


def test_softmax_matches_finite_differences(fd_check):
    fd_check(lambda v: nn.softmax(v)[1] * 3.0, [0.2, -0.3, 0.9])
    fd_check(lambda v: nn.log_softmax(v)[0], [0.2, -0.3, 0.9])


def test_nll_of_log_softmax_is_cross_entropy(fd_check):
    z = [0.3, -1.0, 2.0]
    assert nn.nll_loss(nn.log_softmax(z), 1).data == pytest.approx(nn.cross_entropy(z, 1).data)
    assert nn.nll_loss([-0.5, -2.0], 1).data == 2.0
    batch = nn.nll_loss([[-0.5, -2.0], [-1.0, -0.25]], [1, 0])
    assert batch.data == pytest.approx(1.5)
    fd_check(lambda v: nn.nll_loss(v, 0), [-0.4, -1.2])


@pytest.mark.parametrize("target", [3, -1, True, 1.0, "0"])
def test_class_index_must_be_in_range(target):
    with pytest.raises(ValueError, match="target"):
        nn.cross_entropy([0.1, 0.2, 0.3], target)
    with pytest.raises(ValueError, match="target"):
        nn.nll_loss([0.1, 0.2, 0.3], target)


def test_cross_entropy_batch_errors():
    with pytest.raises(ValueError, match="2 examples but 1 targets"):
        nn.cross_entropy([[0.0, 1.0], [1.0, 0.0]], [0])
    with pytest.raises(ValueError, match=r"target\[1\] = 2 is out of range"):
        nn.cross_entropy([[0.0, 1.0], [1.0, 0.0]], [0, 2])


# --- shared input checks ---------------------------------------------------------------

@pytest.mark.parametrize(
    "loss",
    [
        nn.mse_loss,
        nn.sse_loss,
        nn.binary_cross_entropy,
        nn.binary_cross_entropy_with_logits,
        nn.hinge_loss,
    ],
)
def test_length_mismatch_names_both_lengths(loss):
    with pytest.raises(ValueError, match="3 .* but 2"):
        loss([0.5, 0.5, 0.5], [1, 1])
    with pytest.raises(ValueError):
        loss([], [])


def test_unknown_reduction():
    with pytest.raises(ValueError, match="reduction"):
        nn.mse_loss([1.0], [1.0], reduction="max")


# --- huge logits and ties: an exact reference, then torch.nn.functional ---------------------

BIG = 1e300
LOGIT_ROWS = [
    [BIG, BIG], [-BIG, -BIG], [BIG, -BIG], [-BIG, BIG], [BIG, BIG, -BIG], [-BIG, 0.0, -BIG],
    [BIG, 0.0], [0.0, -BIG, BIG, BIG], [1000.0, 1000.0, 999.0], [2.5, 2.5, 2.5], [0.3, -1.2, 2.0],
    [1e16, 1e16 + 2.0, 1e16],  # a near-tie: the two differ by one unit in the last place
]


def exact_log_softmax(zs):
    """z_i - log sum_j e^(z_j), straight from the definition in 700-digit decimals.

    Decimal(z) is exact and 700 digits hold 1e300 + log 2 exactly, so nothing rounds
    until the final float(); factoring e^max out of the sum changes nothing
    mathematically and keeps Decimal's exponent in range."""
    with decimal.localcontext() as ctx:
        ctx.prec = 700
        ds = [decimal.Decimal(z) for z in zs]
        top = max(ds)
        lse = top + sum((d - top).exp() for d in ds).ln()
        return [float(d - lse) for d in ds]


def exact_softmax(zs):
    with decimal.localcontext() as ctx:
        ctx.prec = 700
        ds = [decimal.Decimal(z) for z in zs]
        top = max(ds)
        es = [(d - top).exp() for d in ds]
        total = sum(es)
        return [float(e / total) for e in es]


def approx(expected):
    """Equal to 12 significant digits (plus 1e-15 absolute for cancellations at 0)."""
    return pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_the_issue_examples_keep_the_log_of_the_tie():
    assert nn.cross_entropy([1e300, 1e300], 0).data == pytest.approx(math.log(2), rel=1e-15)
    assert [v.data for v in nn.log_softmax([-1e300, -1e300])] == pytest.approx(
        [-math.log(2), -math.log(2)], rel=1e-15)
    assert nn.cross_entropy([[1e300, 1e300], [-1e300, -1e300]], [1, 0]).data == pytest.approx(
        math.log(2), rel=1e-15)


@pytest.mark.parametrize("row", LOGIT_ROWS, ids=str)
def test_log_softmax_softmax_and_cross_entropy_match_an_exact_reference(row):
    expected = exact_log_softmax(row)
    assert [v.data for v in nn.log_softmax(row)] == approx(expected)
    probs = exact_softmax(row)
    assert [v.data for v in nn.softmax(row)] == approx(probs)
    for t in range(len(row)):
        zs = vals(*row)
        loss = nn.cross_entropy(zs, t)
        assert loss.data == approx(-expected[t])
        loss.backward()  # d/dz_i = softmax_i - [i == t]
        assert grads(zs) == approx([p - (i == t) for i, p in enumerate(probs)])


@pytest.fixture
def torch():
    return pytest.importorskip(
        "torch", reason="comparing with torch.nn.functional needs torch==2.13.0 installed")


def ours(fn, xs):
    """(value, gradient) of fn over Values made from xs; a list output is weighted
    by 1, 2, 3, ... so the gradient tests every output."""
    vs = vals(*xs)
    out = fn(vs)
    if isinstance(out, list):
        out = autograd.sum([o * (i + 1.0) for i, o in enumerate(out)])
    out.backward()
    return out.data, grads(vs)


def theirs(torch, fn, xs):
    t = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    out = fn(t)
    if out.dim() > 0:
        out = (out * torch.arange(1, len(xs) + 1, dtype=torch.float64)).sum()
    out.backward()
    return out.item(), t.grad.tolist()


def assert_same(torch, mine, torchs, xs, check_grad=True):
    value, grad = ours(mine, xs)
    t_value, t_grad = theirs(torch, torchs, xs)
    assert value == approx(t_value), xs
    if check_grad:
        assert grad == approx(t_grad), xs


@pytest.mark.parametrize("row", LOGIT_ROWS, ids=str)
def test_multi_class_losses_match_torch(torch, row):
    F = torch.nn.functional
    assert_same(torch, nn.softmax, lambda z: F.softmax(z, 0), row)
    assert_same(torch, nn.log_softmax, lambda z: F.log_softmax(z, 0), row)
    for t in range(len(row)):
        target = torch.tensor([t])
        assert_same(torch, lambda v, t=t: nn.cross_entropy(v, t),
                    lambda z, target=target: F.cross_entropy(z[None], target), row)
        assert_same(torch, lambda v, t=t: nn.nll_loss(v, t),
                    lambda z, target=target: F.nll_loss(z[None], target), row)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_batched_cross_entropy_matches_torch(torch, reduction):
    F = torch.nn.functional
    flat = [BIG, BIG, -BIG, -BIG, BIG, -BIG, -BIG, BIG, 0.0, BIG]
    targets = [0, 1, 1, 0, 0]

    def rows(v):
        return [v[i:i + 2] for i in range(0, len(v), 2)]

    assert_same(
        torch, lambda v: nn.cross_entropy(rows(v), targets, reduction=reduction),
        lambda z: F.cross_entropy(z.reshape(-1, 2), torch.tensor(targets), reduction=reduction),
        flat)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_binary_losses_match_torch(torch, reduction):
    F = torch.nn.functional
    logits = [BIG, -BIG, BIG, -BIG, 0.0, BIG, -BIG, 3.0]
    ys = [1.0, 1.0, 0.0, 0.0, 0.5, 0.25, 0.75, 1.0]
    yt = torch.tensor(ys, dtype=torch.float64)
    assert_same(torch, lambda v: nn.binary_cross_entropy_with_logits(v, ys, reduction),
                lambda z: F.binary_cross_entropy_with_logits(z, yt, reduction=reduction), logits)
    # Probabilities at and beyond the -100 clamp: the values agree. torch's gradient
    # there is (p - y) / max(p (1 - p), 1e-12), ours the clamp's 0, so only values.
    edge = [0.0, 1.0, 1e-300, 1.0 - 2.0**-53, 0.0, 1.0]
    edge_ys = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    et = torch.tensor(edge_ys, dtype=torch.float64)
    assert_same(torch, lambda v: nn.binary_cross_entropy(v, edge_ys, reduction),
                lambda p: F.binary_cross_entropy(p, et, reduction=reduction), edge,
                check_grad=False)
    # Inside, where p (1 - p) > 1e-12, the gradients agree too.
    inner = [1e-6, 0.5, 0.25, 1.0 - 2.0**-20, 0.9]
    inner_ys = [1.0, 0.0, 0.75, 1.0, 0.3]
    it = torch.tensor(inner_ys, dtype=torch.float64)
    assert_same(torch, lambda v: nn.binary_cross_entropy(v, inner_ys, reduction),
                lambda p: F.binary_cross_entropy(p, it, reduction=reduction), inner)
    scores = [BIG, -BIG, BIG, -BIG, 0.5, -0.5, 1.0]
    signs = [1.0, 1.0, -1.0, -1.0, -1.0, 1.0, 1.0]
    st = torch.tensor(signs, dtype=torch.float64)

    def hinge(s):  # torch has no two-class hinge loss; this is its definition
        per = F.relu(1.0 - st * s)
        return per.sum() if reduction == "sum" else per.mean()

    assert_same(torch, lambda v: nn.hinge_loss(v, signs, reduction), hinge, scores)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_regression_losses_match_torch(torch, reduction):
    F = torch.nn.functional
    # 1e150 is as large as a prediction can be with a finite square.
    preds = [1e150, -1e150, 3.0, -2.5, 1e150]
    targets = [-1e150, -1e150, 0.5, -2.5, 0.0]
    tt = torch.tensor(targets, dtype=torch.float64)
    assert_same(torch, lambda v: nn.mse_loss(v, targets, reduction),
                lambda p: F.mse_loss(p, tt, reduction=reduction), preds)
    assert_same(torch, lambda v: nn.sse_loss(v, targets),
                lambda p: 0.5 * F.mse_loss(p, tt, reduction="sum"), preds)


# --- the design rule: no forward path in nn reads a Value's .data ----------------------


@pytest.fixture
def data_reads(monkeypatch):
    """Record every module under nn that reads a Value's ``.data``.

    ``autograd.compile`` replays a trace: a number read from ``.data`` and used to
    decide or shift a computation would be frozen into it. The engine itself (and
    Value comparisons, which compile guards) may read it; nn code may not.
    """
    slot = Value.__dict__["data"]
    readers = []

    def get(self):
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller == "nn" or caller.startswith("nn."):
            readers.append(f"{caller}:{sys._getframe(1).f_lineno}")
        return slot.__get__(self)

    monkeypatch.setattr(Value, "data", property(get, slot.__set__))
    return readers


FORWARD_PATHS = {
    "mse_loss": lambda v: nn.mse_loss(v, [0.5, -1.0, 2.0]),
    "sse_loss": lambda v: nn.sse_loss(v, [0.5, -1.0, 2.0]),
    "bce": lambda v: nn.binary_cross_entropy(
        [x.sigmoid() for x in v] + [Value(0.0), Value(1.0)], [1, 0, 0.5, 1, 1]),
    "bce_value_targets": lambda v: nn.binary_cross_entropy(
        [v[0].sigmoid()], [Value(0.25)]),
    "bce_logits": lambda v: nn.binary_cross_entropy_with_logits(v, [1, 0, 0.5]),
    "bce_logits_value_targets": lambda v: nn.binary_cross_entropy_with_logits(
        v[:1], [Value(1.0)]),
    "hinge": lambda v: nn.hinge_loss(v, [1, -1, 1]),
    "hinge_value_targets": lambda v: nn.hinge_loss(v[:2], [Value(1.0), Value(-1.0)]),
    "cross_entropy": lambda v: nn.cross_entropy(v, 1),
    "cross_entropy_batch": lambda v: nn.cross_entropy([v, v], [0, 2]),
    "nll_loss": lambda v: nn.nll_loss(nn.log_softmax(v), 2),
    "softmax": lambda v: autograd.sum(nn.softmax(v)),
    "mlp": lambda v: nn.MLP(3, [4, 2], activation="tanh")(v)[0],
    "mlp_prelu_rrelu": lambda v: nn.MLP(3, [2, 1], activation="prelu")(v),
    "rrelu": lambda v: autograd.sum(nn.RReLU()(v) + nn.RReLU().eval()(v)),
    "maxout_rbf_perceptron": lambda v: nn.Maxout(3, 2, k=2)(v)[0] + nn.RBF(3, 0.5)(v)
    + nn.Perceptron([0.5, -0.25, 1.0], 0.1, activation="sign")(v),
    "activations": lambda v: autograd.sum(
        [nn.get_activation(name)(v[0]) for name in nn.ACTIVATIONS
         if name not in ("prelu", "rrelu")]),
}


@pytest.mark.parametrize("name", sorted(FORWARD_PATHS))
def test_forward_paths_never_read_data(name, data_reads):
    out = FORWARD_PATHS[name](vals(0.3, -1.2, 2.0))
    assert isinstance(out, Value)
    assert data_reads == [], f"{name}: .data read at {data_reads}"


NON_FINITE_ROWS = [[math.inf, 1.0], [1.0, math.nan, 1e300], [-math.inf, -math.inf],
                   [math.inf, -math.inf, 0.0]]


@pytest.mark.parametrize("row", NON_FINITE_ROWS, ids=str)
def test_an_infinite_or_nan_logit_gives_nan_as_in_torch(torch, row):
    F = torch.nn.functional
    z = torch.tensor(row, dtype=torch.float64)
    for mine, theirs_ in ((nn.softmax, F.softmax), (nn.log_softmax, F.log_softmax)):
        out = [v.data for v in mine(row)]
        expected = theirs_(z, 0).tolist()
        assert [math.isnan(v) for v in out] == [math.isnan(v) for v in expected], (mine, out)
        assert all(a == b for a, b in zip(out, expected, strict=True) if not math.isnan(b))
    for t in range(len(row)):
        loss = nn.cross_entropy(vals(*row), t)
        assert math.isnan(loss.data)
        assert math.isnan(F.cross_entropy(z[None], torch.tensor([t])).item())
        loss.backward()  # NaN flows through backward without raising


def test_compiled_losses_replay_exactly_at_new_logits():
    """autograd.compile traces once; every later call must match eager evaluation,
    which it could not if a loss had frozen a number read from .data (such as the
    old max shift) into the trace."""

    def losses(a, b, c):
        zs = [a, b, c]
        return (nn.cross_entropy(zs, 0) + autograd.sum(nn.log_softmax(zs)) + nn.softmax(zs)[1]
                + nn.binary_cross_entropy([a.sigmoid()], [1.0]) + nn.hinge_loss([b], [-1.0]))

    step = autograd.compile(losses)
    for row in LOGIT_ROWS[:3] + [[0.3, -1.2, 2.0], [1e300, 1e300, -1e300], [-5.0, 7.0, 7.0],
                                 [1e300, -1e300, 0.0], [40.0, -40.0, 3.0]]:
        row = (row + [0.0])[:3]
        compiled, eager = vals(*row), vals(*row)
        out = step(*compiled)
        out.backward()
        ref = losses(*eager)
        ref.backward()
        assert out.data == approx(ref.data), row
        assert grads(compiled) == approx(grads(eager)), row
