"""Losses: hand-computed values, finite differences, stability, and input checks."""

import math

import pytest

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
