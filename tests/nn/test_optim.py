"""Optimisers against hand-computed steps, resuming from state, argument checking.

Gradients are mostly set by hand (``p.grad = ...``) so that every expected
number below can be checked with pencil and paper; the comments show the work.
"""

import json
import math

import pytest

from autograd import Value
from autograd import sum as vsum
from nn.optim import SGD, Adam, AdamW

EXACT = 1e-12  # relative tolerance: only rounding in the last bits is allowed


def close(x):
    return pytest.approx(x, rel=EXACT, abs=1e-15)


def one(value=1.0):
    return Value(value, label="p")


# --- SGD -----------------------------------------------------------------------------


def test_sgd_plain_step_uses_backward_gradient_and_builds_no_graph():
    p = Value(2.0)
    loss = p * p  # d loss / dp = 2p = 4
    loss.backward()
    opt = SGD([p], lr=0.1)
    opt.step()
    assert p.data == close(2.0 - 0.1 * 4.0)  # 1.6
    assert type(p.data) is float
    assert p.op == "" and p.parents == ()  # still a leaf: the update made no nodes
    assert p.grad == 4.0  # step() reads the gradient, it does not clear it


def test_sgd_momentum_two_steps():
    # lr 0.1, mu 0.9, g = 0.5 twice.
    # step 1: b = g = 0.5;                 p = 1.0  - 0.1 * 0.5  = 0.95
    # step 2: b = 0.9 * 0.5 + 0.5 = 0.95;  p = 0.95 - 0.1 * 0.95 = 0.855
    p = one()
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = 0.5
    opt.step()
    assert p.data == close(0.95)
    assert opt.momentum_buffer == [close(0.5)]
    opt.step()
    assert p.data == close(0.855)
    assert opt.momentum_buffer == [close(0.95)]


def test_sgd_weight_decay_is_added_to_the_gradient_before_momentum():
    # lr 0.1, mu 0.9, wd 0.1, g = 0.5 twice.
    # step 1: g' = 0.5 + 0.1 * 1.0  = 0.6;   b = 0.6;                 p = 1.0 - 0.06 = 0.94
    # step 2: g' = 0.5 + 0.1 * 0.94 = 0.594; b = 0.54 + 0.594 = 1.134; p = 0.94 - 0.1134 = 0.8266
    p = one()
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    p.grad = 0.5
    opt.step()
    assert p.data == close(0.94)
    opt.step()
    assert p.data == close(0.8266)


def test_sgd_nesterov_two_steps():
    # lr 0.1, mu 0.9, g = 0.5 twice; the step uses g + mu * b.
    # step 1: b = 0.5;  step = 0.5 + 0.45  = 0.95;  p = 1.0   - 0.095  = 0.905
    # step 2: b = 0.95; step = 0.5 + 0.855 = 1.355; p = 0.905 - 0.1355 = 0.7695
    p = one()
    opt = SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    p.grad = 0.5
    opt.step()
    assert p.data == close(0.905)
    opt.step()
    assert p.data == close(0.7695)


def test_sgd_every_param_is_stepped_even_with_zero_gradient():
    # Momentum keeps a parameter moving after its gradient drops to 0 (as in PyTorch).
    # step 1: g = 1, b = 1, p = 1 - 0.1 = 0.9; step 2: g = 0, b = 0.9, p = 0.9 - 0.09 = 0.81
    p = one()
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = 1.0
    opt.step()
    opt.zero_grad()
    assert p.grad == 0.0
    opt.step()
    assert p.data == close(0.81)
    # Weight decay alone shrinks a parameter whose gradient is 0: 2 - 0.1 * (0.5 * 2) = 1.9
    q = one(2.0)
    SGD([q], lr=0.1, weight_decay=0.5).step()
    assert q.data == close(1.9)


def test_sgd_descends_a_real_loss():
    w, b = Value(0.0), Value(0.0)
    xs, ts = [1.0, 2.0, 3.0], [3.0, 5.0, 7.0]  # t = 2x + 1
    opt = SGD([w, b], lr=0.05, momentum=0.5)
    losses = []
    for _ in range(200):
        opt.zero_grad()
        loss = vsum([(w * x + b - t) ** 2 for x, t in zip(xs, ts, strict=True)]) / 3
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses[-1] < 1e-6 < losses[0]
    assert w.data == pytest.approx(2.0, abs=1e-3) and b.data == pytest.approx(1.0, abs=1e-3)


# --- Adam and AdamW -------------------------------------------------------------------


def test_adam_first_two_steps_with_bias_correction():
    # lr 0.1, betas (0.9, 0.999), eps 1e-8; p starts at 1.0, g = 0.5 then -0.25.
    # step 1: m = 0.1 * 0.5 = 0.05, v = 0.001 * 0.25 = 0.00025
    #         m_hat = 0.05 / 0.1 = 0.5, v_hat = 0.00025 / 0.001 = 0.25, sqrt = 0.5
    #         p = 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.900000002 (to 9 digits)
    # step 2: m = 0.9 * 0.05 + 0.1 * (-0.25) = 0.02
    #         v = 0.999 * 0.00025 + 0.001 * 0.0625 = 0.00031225
    #         m_hat = 0.02 / (1 - 0.81) = 0.105263157894...
    #         v_hat = 0.00031225 / (1 - 0.998001) = 0.156203101550..., sqrt = 0.395225380701...
    #         p = 0.900000002 - 0.1 * 0.105263157894 / 0.395225380711 = 0.873366298707...
    p, idle = one(), one(-3.0)
    opt = Adam([p, idle], lr=0.1)
    p.grad = 0.5
    opt.step()
    assert opt.step_count == 1
    assert opt.exp_avg[0] == close(0.05) and opt.exp_avg_sq[0] == close(0.00025)
    assert p.data == close(0.90000000199999996)
    p.grad = -0.25
    opt.step()
    assert opt.exp_avg[0] == close(0.02) and opt.exp_avg_sq[0] == close(0.00031225)
    assert p.data == close(0.87336629870784616)
    # A parameter whose gradient stays 0 has m = 0 and does not move (no weight decay).
    assert idle.data == -3.0 and opt.exp_avg[1] == 0.0


def test_adam_defaults_follow_pytorch():
    opt = Adam([one()])
    assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 0.0)
    assert AdamW([one()]).weight_decay == 0.01


def test_adamw_decays_the_weight_but_adam_adds_l2_to_the_gradient():
    # lr 0.1, wd 0.01, p = 1.0, g = 0.5, first step.
    # AdamW: p = 1.0 * (1 - 0.1 * 0.01) = 0.999, then the Adam step of
    #        0.1 * 0.5 / (0.5 + 1e-8) = 0.099999998 -> p = 0.899000002
    # Adam:  g' = 0.5 + 0.01 * 1.0 = 0.51; first step is 0.1 * 0.51 / (0.51 + 1e-8)
    #        = 0.0999999980392 -> p = 0.9000000019608: the L2 term is normalised away.
    pw, pa = one(), one()
    adamw = AdamW([pw], lr=0.1, weight_decay=0.01)
    adam = Adam([pa], lr=0.1, weight_decay=0.01)
    pw.grad = pa.grad = 0.5
    adamw.step()
    adam.step()
    assert pw.data == close(0.89900000199999996)
    assert pa.data == close(0.90000000196078428)
    # AdamW keeps the raw gradient in its moments; Adam keeps the decayed one.
    assert adamw.exp_avg[0] == close(0.05) and adam.exp_avg[0] == close(0.051)


def test_adamw_shrinks_a_parameter_with_zero_gradient_by_exactly_one_minus_lr_wd():
    p = one(2.0)
    opt = AdamW([p], lr=0.1, weight_decay=0.5)
    opt.step()  # 2.0 * (1 - 0.05) = 1.9; the Adam part is 0 / (0 + eps) = 0
    assert p.data == close(1.9)
    opt.step()
    assert p.data == close(1.805)


def test_adam_converges_on_a_quadratic():
    x = Value(5.0)
    opt = Adam([x], lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        ((x - 3.0) ** 2).backward()
        opt.step()
    assert x.data == pytest.approx(3.0, abs=1e-2)


# --- lr attribute and zero_grad ----------------------------------------------------------


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps, lr=0.1)])
def test_lr_is_settable_and_checked(make):
    p = one()
    opt = make([p])
    opt.lr = 0.5
    assert opt.lr == 0.5
    opt.lr = 0.0  # a schedule may anneal to zero: then the step does nothing
    p.grad = 1.0
    opt.step()
    assert p.data == 1.0
    for bad in (-0.1, math.nan, math.inf):
        with pytest.raises(ValueError, match="lr"):
            opt.lr = bad
    assert opt.lr == 0.0


def test_sgd_step_uses_the_current_lr():
    p = one()
    opt = SGD([p], lr=0.1)
    p.grad = 1.0
    opt.lr = 0.25
    opt.step()
    assert p.data == close(0.75)


def test_zero_grad_clears_every_parameter():
    ps = [one(), one(), one()]
    for i, p in enumerate(ps):
        p.grad = float(i + 1)
    Adam(ps).zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0, 0.0]


def test_params_may_be_a_generator():
    ps = [one(), one()]
    opt = SGD((p for p in ps), lr=0.1)
    assert opt.params == ps


# --- argument checking ---------------------------------------------------------------


@pytest.mark.parametrize(
    "make, error, pattern",
    [
        (lambda ps: SGD(ps, lr=0.0), ValueError, r"lr .* got 0\.0"),
        (lambda ps: SGD(ps, lr=-0.1), ValueError, r"lr .* got -0\.1"),
        (lambda ps: SGD(ps, lr=math.nan), ValueError, r"lr .* got nan"),
        (lambda ps: SGD(ps, lr="0.1"), TypeError, r"lr must be a real number, got '0\.1'"),
        (lambda ps: SGD(ps, lr=0.1, momentum=1.0), ValueError, r"momentum .* got 1\.0"),
        (lambda ps: SGD(ps, lr=0.1, momentum=-0.5), ValueError, r"momentum .* got -0\.5"),
        (lambda ps: SGD(ps, lr=0.1, weight_decay=-1e-4), ValueError, r"weight_decay .* -0\.0001"),
        (lambda ps: SGD(ps, lr=0.1, nesterov=True), ValueError, r"nesterov.*momentum"),
        (lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=1), TypeError, "nesterov"),
        (lambda ps: Adam(ps, lr=-1.0), ValueError, r"Adam: lr .* got -1\.0"),
        (lambda ps: Adam(ps, betas=(1.0, 0.999)), ValueError, r"betas\[0\] .* got 1\.0"),
        (lambda ps: Adam(ps, betas=(0.9, -0.1)), ValueError, r"betas\[1\] .* got -0\.1"),
        (lambda ps: Adam(ps, betas=(0.9,)), ValueError, r"betas must be a pair"),
        (lambda ps: Adam(ps, eps=0.0), ValueError, r"eps .* got 0\.0"),
        (lambda ps: Adam(ps, weight_decay=-0.1), ValueError, r"weight_decay .* got -0\.1"),
        (lambda ps: AdamW(ps, weight_decay=-0.1), ValueError, r"AdamW: weight_decay .* -0\.1"),
    ],
)
def test_bad_hyperparameters_are_named(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make([one()])


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_bad_params_are_rejected(cls):
    with pytest.raises(ValueError, match="params is empty"):
        cls([], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[1\] must be a Value, got float"):
        cls([one(), 2.0], lr=0.1)
    with pytest.raises(TypeError, match="single Value"):
        cls(one(), lr=0.1)
    with pytest.raises(TypeError, match="iterable of Values"):
        cls(3, lr=0.1)
    p = one()
    with pytest.raises(ValueError, match=r"params\[2\] is the same Value as params\[0\]"):
        cls([p, one(), p], lr=0.1)


# --- state_dict: resuming ----------------------------------------------------------------

OPTIMISERS = {
    "sgd": lambda ps: SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True),
    "adam": lambda ps: Adam(ps, lr=0.05, betas=(0.8, 0.99), weight_decay=0.01),
    "adamw": lambda ps: AdamW(ps, lr=0.05, weight_decay=0.1),
}
XS = [[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8], [0.1, 2.0]]
TS = [1.0, -0.5, 0.25, 2.0]


def train(opt, params, steps):
    """Fit a tiny linear model; returns nothing, moves params."""
    w1, w2, b = params
    for _ in range(steps):
        opt.zero_grad()
        loss = vsum([(w1 * x1 + w2 * x2 + b - t) ** 2 for (x1, x2), t in zip(XS, TS, strict=True)])
        loss.backward()
        opt.step()


def fresh_params():
    return [Value(0.3), Value(-0.2), Value(0.1)]


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_resuming_from_a_json_state_equals_uninterrupted_training(name):
    make = OPTIMISERS[name]
    straight = fresh_params()
    train(make(straight), straight, 10)

    first = fresh_params()
    opt = make(first)
    train(opt, first, 4)
    saved_state = json.dumps(opt.state_dict())
    saved_params = [p.data for p in first]

    resumed = [Value(x) for x in saved_params]  # a new process: new Values, new optimiser
    opt2 = make(resumed)
    opt2.lr = 0.7  # the loaded state restores the hyperparameters too
    opt2.load_state_dict(json.loads(saved_state))
    assert opt2.lr == 0.05
    train(opt2, resumed, 6)

    assert [p.data for p in resumed] == [p.data for p in straight]  # bit for bit
    # Without loading the state (fresh momentum / moments) the run differs.
    cold = [Value(x) for x in saved_params]
    train(make(cold), cold, 6)
    assert [p.data for p in cold] != [p.data for p in straight]


def test_state_dict_is_a_plain_snapshot():
    p = one()
    opt = Adam([p], lr=0.1)
    p.grad = 0.5
    opt.step()
    state = opt.state_dict()
    assert state == {
        "optimizer": "Adam",
        "n_params": 1,
        "lr": 0.1,
        "betas": [0.9, 0.999],
        "eps": 1e-8,
        "weight_decay": 0.0,
        "step_count": 1,
        "exp_avg": [close(0.05)],
        "exp_avg_sq": [close(0.00025)],
    }
    assert json.loads(json.dumps(state)) == state
    opt.step()  # later steps do not reach into the saved dict
    assert state["step_count"] == 1 and state["exp_avg"] == [close(0.05)]


def test_sgd_state_before_the_first_step_has_no_buffer():
    state = SGD([one()], lr=0.1, momentum=0.9).state_dict()
    assert state["momentum_buffer"] is None and state["nesterov"] is False
    assert json.loads(json.dumps(state)) == state


def test_loading_a_state_for_a_different_number_of_params_names_the_counts():
    opt = SGD([one(), one(), one()], lr=0.1, momentum=0.9)
    other = SGD([one(), one()], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"for 3 params, but this optimizer has 2"):
        other.load_state_dict(opt.state_dict())


def test_loading_a_bad_state_raises_and_changes_nothing():
    p = one()
    opt = Adam([p], lr=0.1)
    good = opt.state_dict()
    with pytest.raises(ValueError, match="from 'Adam', not 'SGD'"):
        SGD([p], lr=0.1).load_state_dict(good)
    with pytest.raises(ValueError, match="from 'Adam', not 'AdamW'"):
        AdamW([p]).load_state_dict(good)
    with pytest.raises(ValueError, match="missing.*exp_avg_sq"):
        opt.load_state_dict({k: v for k, v in good.items() if k != "exp_avg_sq"})
    with pytest.raises(ValueError, match="exp_avg has 2 entries"):
        opt.load_state_dict({**good, "lr": 0.9, "exp_avg": [0.0, 0.0]})
    with pytest.raises(ValueError, match=r"betas\[0\]"):
        opt.load_state_dict({**good, "lr": 0.9, "betas": [1.5, 0.9]})
    with pytest.raises(TypeError, match="expected a dict"):
        opt.load_state_dict([good])
    assert opt.lr == 0.1 and opt.betas == (0.9, 0.999)  # the failed loads changed nothing


def test_repr_names_the_optimizer_and_its_settings():
    text = repr(SGD([one(), one()], lr=0.1, momentum=0.9))
    assert text.startswith("SGD(<2 params>") and "momentum=0.9" in text
