"""Regularisers: lecture formulas by hand, finite differences, and bias handling."""

import pytest

import nn
from autograd import Value


def params(*xs):
    return [Value(float(x)) for x in xs]


def test_l2_is_lambda_over_2m_sum_of_squares():
    ws = params(1.0, -2.0, 3.0)
    r = nn.l2(ws, lam=0.5, m=2)
    assert r.data == pytest.approx(0.5 / 4 * 14)
    r.backward()
    assert [w.grad for w in ws] == pytest.approx([0.25, -0.5, 0.75])  # (lam / m) w


def test_l1_by_hand():
    ws = params(1.0, -2.0, 3.0)
    r = nn.l1(ws, lam=0.1)
    assert r.data == pytest.approx(0.6)
    r.backward()
    assert [w.grad for w in ws] == pytest.approx([0.1, -0.1, 0.1])


def test_weight_elimination_by_hand():
    ws = params(1.0, -2.0, 3.0)
    r = nn.weight_elimination(ws, lam=2.0)
    assert r.data == pytest.approx(2.0 * (1 / 2 + 4 / 5 + 9 / 10))
    r.backward()
    assert [w.grad for w in ws] == pytest.approx(
        [2.0 * 2 * w / (1 + w * w) ** 2 for w in (1.0, -2.0, 3.0)]
    )


def test_weight_elimination_scale_w0():
    r = nn.weight_elimination(params(2.0), lam=1.0, w0=2.0)
    assert r.data == pytest.approx(0.5)


def test_regularisers_match_finite_differences(fd_check):
    xs = [0.7, -1.3, 2.1, -0.2]
    fd_check(lambda v: nn.l2(v, lam=0.3, m=4), xs)
    fd_check(lambda v: nn.l1(v, lam=0.3), xs)
    fd_check(lambda v: nn.weight_elimination(v, lam=0.3), xs)
    fd_check(lambda v: nn.weight_elimination(v, lam=0.3, w0=0.5), xs)


def test_model_argument_and_leaving_biases_out():
    model = nn.MLP(2, [3, 1], bias_init=0.5)
    weights = [p for name, p in model.named_parameters() if not name.endswith(".b")]
    biases = [p for name, p in model.named_parameters() if name.endswith(".b")]
    assert len(weights) == 9 and len(biases) == 4
    total = nn.l2(model, lam=1.0)
    assert total.data == pytest.approx(0.5 * sum(p.data ** 2 for p in model.parameters()))
    only_w = nn.l2(model, lam=1.0, include_bias=False)
    assert only_w.data == pytest.approx(0.5 * sum(p.data ** 2 for p in weights))
    only_w.backward()
    assert all(b.grad == 0.0 for b in biases)
    assert all(w.grad == pytest.approx(w.data) for w in weights)
    named = nn.l1(model.named_parameters(), include_bias=False)
    assert named.data == pytest.approx(sum(abs(p.data) for p in weights))


def test_leaving_biases_out_needs_names():
    with pytest.raises(ValueError, match="names"):
        nn.l2(params(1.0), include_bias=False)


def test_bad_arguments():
    with pytest.raises(ValueError, match="m"):
        nn.l2(params(1.0), m=0)
    with pytest.raises(ValueError, match="w0"):
        nn.weight_elimination(params(1.0), w0=0.0)
