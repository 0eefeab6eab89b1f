"""Learning-rate schedules: exact values, driving an optimiser, resuming, checking."""

import json
import math

import pytest

from autograd import Value
from nn.optim import SGD, Adam
from nn.schedules import ConstantLR, CosineAnnealing, LinearDecay, StepLR


def sgd(lr=0.1):
    return SGD([Value(1.0)], lr=lr)


# --- LinearDecay: micrograd's demo schedule --------------------------------------------


def test_linear_decay_is_exactly_micrograds_schedule():
    sched = LinearDecay(1.0, 0.1, 100)
    for k in range(100):
        assert sched.lr_at(k) == 1.0 - 0.9 * k / 100  # bit for bit, every step
    assert sched.lr_at(100) == 0.1 and sched.lr_at(250) == 0.1  # then flat at end
    assert sched.lr_at(50) == pytest.approx(0.55)


def test_linear_decay_drives_the_optimizer_like_the_micrograd_loop():
    p = Value(0.0)
    opt = SGD([p], lr=0.3)
    sched = LinearDecay(1.0, 0.1, 100, optimizer=opt)
    seen = []
    for k in range(100):
        assert opt.lr == 1.0 - 0.9 * k / 100  # what micrograd's loop would use at step k
        p.grad = 1.0
        before = p.data
        opt.step()
        seen.append(before - p.data)
        sched.step()
    assert seen[0] == pytest.approx(1.0) and seen[-1] == pytest.approx(1.0 - 0.9 * 99 / 100)
    assert opt.lr == 0.1 and sched.last_step == 100


def test_linear_decay_can_also_warm_up():
    sched = LinearDecay(0.1, 0.5, 4)
    assert [sched.lr_at(k) for k in range(6)] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.5])


# --- StepLR ------------------------------------------------------------------------------


def test_step_lr_values():
    sched = StepLR(3, gamma=0.5, base_lr=0.1)
    assert [sched.lr_at(k) for k in range(8)] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]
    assert sched.lr_at(30) == 0.1 * 0.5**10


def test_step_lr_takes_its_base_from_the_optimizer_and_updates_it():
    opt = sgd(lr=0.2)
    sched = StepLR(2, gamma=0.1, optimizer=opt)
    assert sched.base_lr == 0.2 and opt.lr == 0.2
    lrs = [sched.step() for _ in range(5)]  # k = 1..5
    assert lrs == pytest.approx([0.2, 0.02, 0.02, 0.002, 0.002])
    assert opt.lr == pytest.approx(0.002) and sched.get_last_lr() == opt.lr


def test_step_lr_default_gamma_is_pytorchs():
    assert StepLR(1, base_lr=1.0).lr_at(2) == pytest.approx(0.01)


# --- CosineAnnealing ---------------------------------------------------------------------


def test_cosine_annealing_values():
    sched = CosineAnnealing(4, base_lr=1.0)
    # (1 + cos(pi k / 4)) / 2 for k = 0..4: 1, (1 + sqrt(2)/2)/2, 1/2, (1 - sqrt(2)/2)/2, 0
    expected = [1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 0.0]
    assert [sched.lr_at(k) for k in range(5)] == pytest.approx(expected, abs=1e-15)
    assert sched.lr_at(4) == 0.0  # exactly eta_min at t_max
    # As in PyTorch the cosine continues past t_max: back up to base_lr at 2 * t_max.
    assert sched.lr_at(6) == pytest.approx(0.5) and sched.lr_at(8) == pytest.approx(1.0)


def test_cosine_annealing_with_eta_min_and_an_optimizer():
    opt = sgd(lr=1.1)
    sched = CosineAnnealing(2, eta_min=0.1, optimizer=opt)
    assert opt.lr == 1.1
    assert sched.step() == pytest.approx(0.6)  # 0.1 + 1.0 * (1 + cos(pi/2)) / 2
    assert sched.step() == pytest.approx(0.1)
    assert opt.lr == pytest.approx(0.1)


def test_annealing_to_zero_is_allowed_for_the_optimizer():
    opt = Adam([Value(1.0)], lr=0.01)
    sched = CosineAnnealing(1, optimizer=opt)
    sched.step()
    assert opt.lr == 0.0


# --- ConstantLR ----------------------------------------------------------------------------


def test_constant_lr():
    assert [ConstantLR(0.3).lr_at(k) for k in (0, 1, 10, 10_000)] == [0.3] * 4
    opt = sgd(lr=0.7)
    sched = ConstantLR(optimizer=opt)
    for _ in range(3):
        assert sched.step() == 0.7
    warm = ConstantLR(0.1, factor=0.5, total_iters=2)
    assert [warm.lr_at(k) for k in range(4)] == [0.05, 0.05, 0.1, 0.1]


# --- shared behaviour -----------------------------------------------------------------------


def test_construction_sets_the_optimizer_lr_to_lr_at_zero():
    opt = sgd(lr=0.3)
    LinearDecay(1.0, 0.1, 100, optimizer=opt)
    assert opt.lr == 1.0
    opt2 = sgd(lr=0.3)
    ConstantLR(0.1, factor=0.5, total_iters=1, optimizer=opt2)
    assert opt2.lr == 0.05


def test_lr_at_is_pure_and_get_last_lr_tracks_step():
    opt = sgd(lr=0.5)
    sched = StepLR(1, gamma=0.5, optimizer=opt)
    assert sched.lr_at(3) == 0.0625
    assert sched.last_step == 0 and opt.lr == 0.5 and sched.get_last_lr() == 0.5
    sched.step()
    sched.step()
    assert sched.get_last_lr() == 0.125 == opt.lr == sched.lr_at(2)


@pytest.mark.parametrize(
    "make",
    [
        lambda opt: StepLR(3, gamma=0.5, optimizer=opt),
        lambda opt: LinearDecay(1.0, 0.1, 20, optimizer=opt),
        lambda opt: CosineAnnealing(10, eta_min=0.01, optimizer=opt),
        lambda opt: ConstantLR(factor=0.1, total_iters=7, optimizer=opt),
    ],
)
def test_state_dict_round_trip_resumes_the_schedule(make):
    opt = sgd(lr=0.4)
    sched = make(opt)
    for _ in range(5):
        sched.step()
    state = json.loads(json.dumps(sched.state_dict()))
    expected = [sched.step() for _ in range(8)]

    opt2 = sgd(lr=0.4)
    resumed = make(opt2)
    resumed.load_state_dict(state)
    assert resumed.last_step == 5 and opt2.lr == resumed.lr_at(5)
    assert [resumed.step() for _ in range(8)] == expected


def test_load_state_dict_checks_the_kind():
    state = StepLR(2, base_lr=0.1).state_dict()
    with pytest.raises(ValueError, match="from 'StepLR', not 'CosineAnnealing'"):
        CosineAnnealing(5, base_lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match="step_size must be >= 1"):
        StepLR(2, base_lr=0.1).load_state_dict({**state, "step_size": 0})


# --- argument checking ------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, error, pattern",
    [
        (lambda: StepLR(0, base_lr=0.1), ValueError, r"step_size must be >= 1, got 0"),
        (lambda: StepLR(2.5, base_lr=0.1), TypeError, r"step_size must be an int, got 2\.5"),
        (lambda: StepLR(2, gamma=0.0, base_lr=0.1), ValueError, r"gamma .* got 0\.0"),
        (lambda: StepLR(2), ValueError, r"give base_lr, or an optimizer"),
        (lambda: StepLR(2, base_lr=-1.0), ValueError, r"base_lr .* got -1\.0"),
        (lambda: StepLR(sgd(), 2), TypeError, r"pass it by keyword"),
        (lambda: LinearDecay(1.0, 0.1, 0), ValueError, r"total_steps must be >= 1, got 0"),
        (lambda: LinearDecay(0.0, 0.1, 10), ValueError, r"start .* got 0\.0"),
        (lambda: LinearDecay(1.0, -0.1, 10), ValueError, r"end .* got -0\.1"),
        (lambda: LinearDecay(math.nan, 0.1, 10), ValueError, r"start .* got nan"),
        (lambda: CosineAnnealing(0, base_lr=0.1), ValueError, r"t_max must be >= 1, got 0"),
        (lambda: CosineAnnealing(5, eta_min=-0.1, base_lr=1), ValueError, r"eta_min .* -0\.1"),
        (lambda: ConstantLR(0.1, total_iters=-1), ValueError, r"total_iters must be >= 0"),
        (lambda: ConstantLR(optimizer=object()), TypeError, r"settable lr"),
    ],
)
def test_bad_arguments_are_named(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_lr_at_checks_k():
    sched = StepLR(2, base_lr=0.1)
    with pytest.raises(ValueError, match=r"k must be >= 0, got -1"):
        sched.lr_at(-1)
    with pytest.raises(TypeError, match=r"k must be an int, got 1\.5"):
        sched.lr_at(1.5)
