"""fit(compile=True) with numpy keeps the parameters, the last gradient and the
optimiser's buffers in arrays between map batches (nn.training.flat): what the
Values and the optimiser hold after fit must be what the scalar path leaves."""

from __future__ import annotations

import math

import pytest

import nn
import nn.training.flat as flat
import nn.training.mapped as mapped

np = pytest.importorskip("numpy")

REL = 1e-12
DIGITS = nn.load_digits(n=200, seed=3, scale=True)


def close(a, b, rel=REL, abs_tol=1e-15):
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


def train(flag, optimizer="adam", make_opt=None, **options):
    nn.manual_seed(0)
    model = nn.MLP(64, [10, 10])
    opt = optimizer if make_opt is None else make_opt(model.parameters())
    base = dict(loss="cross_entropy", epochs=3, batch_size=16, val_split=0.25,
                progress=False)
    if make_opt is None:
        base["lr"] = 0.01
    history = nn.fit(model, *DIGITS, optimizer=opt, compile=flag, **{**base, **options})
    return history, model, opt


def buffers(opt):
    keys = [k for k in ("exp_avg", "exp_avg_sq", "momentum_buffer") if hasattr(opt, k)]
    return {k: getattr(opt, k) for k in keys}


@pytest.fixture
def flats(monkeypatch):
    """Every FlatParams a fit makes, and how many array steps each took."""
    made = []
    real_init, real_step = flat.FlatParams.__init__, flat.FlatParams.step

    def init(self, *a, **k):
        real_init(self, *a, **k)
        self.steps = 0
        made.append(self)

    def step(self, epoch):
        self.steps += 1
        return real_step(self, epoch)

    monkeypatch.setattr(flat.FlatParams, "__init__", init)
    monkeypatch.setattr(flat.FlatParams, "step", step)
    return made


def assert_same_state(got, want, rel=REL):
    (h1, m1, _), (h2, m2, _) = got, want
    for name in ("loss", "val_loss", "accuracy", "val_accuracy", "grad_norm"):
        for x, y in zip(getattr(h1, name), getattr(h2, name), strict=True):
            assert close(x, y, rel), (name, x, y)
    assert h1.updates == h2.updates and h1.best_epoch == h2.best_epoch
    for p, q in zip(m1.parameters(), m2.parameters(), strict=True):
        assert close(p.data, q.data, 1e-9, 1e-12), (p.data, q.data)
        assert close(p.grad, q.grad, 1e-9, 1e-12), (p.grad, q.grad)


@pytest.mark.parametrize("optimizer,options", [
    ("adam", {}),
    ("adamw", {"weight_decay": 0.01}),
    ("sgd", {"momentum": 0.9, "lr": 0.05}),
    ("sgd", {"lr": 0.1, "weight_decay": 1e-3}),
])
def test_a_user_optimizer_ends_as_the_scalar_path_leaves_it(optimizer, options, flats):
    kinds = {"adam": nn.Adam, "adamw": nn.AdamW, "sgd": nn.SGD}
    lr = options.pop("lr", 0.01)

    def make(params):
        return kinds[optimizer](params, lr=lr, **options)

    got = train(True, make_opt=make)
    (f,) = flats
    assert f.steps == got[0].updates - 1  # all but the first batch (it builds the code)
    want = train("scalar", make_opt=make)
    assert_same_state(got, want)
    o1, o2 = got[2], want[2]
    if isinstance(o1, nn.Adam):
        assert o1.step_count == o2.step_count == got[0].updates
    for key, xs in buffers(o1).items():
        ys = buffers(o2)[key]
        if xs is None or ys is None:  # SGD without momentum keeps no buffer
            assert xs is ys is None
            continue
        assert type(xs) is list and len(xs) == len(ys)
        for x, y in zip(xs, ys, strict=True):
            assert type(x) is float
            assert close(x, y, 1e-9, 1e-15), (key, x, y)


def test_fit_continues_from_the_optimizer_a_first_fit_left():
    """Two fits in a row on one Adam: its moments and step count carry over."""
    def twice(flag):
        nn.manual_seed(0)
        model = nn.MLP(64, [10, 10])
        opt = nn.Adam(model.parameters(), lr=0.01)
        for _ in range(2):
            h = nn.fit(model, *DIGITS, loss="cross_entropy", optimizer=opt, epochs=2,
                       batch_size=16, progress=False, compile=flag)
        return h, model, opt

    got, want = twice(True), twice("scalar")
    assert got[2].step_count == want[2].step_count
    assert_same_state(got, want)


def test_early_stopping_restores_the_best_weights_from_the_arrays(flats):
    options = dict(epochs=12, lr=0.2, early_stopping=2)
    got, want = train(True, **options), train(False, **options)
    assert flats and flats[0].steps > 0
    assert got[0].stopped_early and got[0].best_epoch == want[0].best_epoch
    assert got[0].best_epoch < len(got[0].loss)  # restored: not the last epoch's weights
    assert_same_state(got, want)


def test_callbacks_see_the_epochs_weights_and_gradients(flats):
    seen = {}

    def cb(history, model):
        seen.setdefault("got" if cb.flag else "want", []).append(
            [(p.data, p.grad) for p in model.parameters()])

    cb.flag = True
    train(True, callbacks=cb)
    assert flats
    cb.flag = False
    train("scalar", callbacks=cb)
    for a, b in zip(seen["got"], seen["want"], strict=True):
        for (x, g), (y, h) in zip(a, b, strict=True):
            assert close(x, y, 1e-9, 1e-12) and close(g, h, 1e-9, 1e-12)


def test_a_regularizer_or_a_custom_optimizer_keeps_the_values_current(flats):
    train(True, regularizers=lambda m: nn.l2(m, lam=1e-4))

    class Mine(nn.Adam):
        pass

    train(True, make_opt=lambda ps: Mine(ps, lr=0.01))
    assert flats == []


def test_a_batch_map_refuses_midway_syncs_the_arrays_first(monkeypatch, flats):
    real = mapped.MapStep._run
    calls = [0]

    def sometimes(self, *a):
        calls[0] += 1
        return None if calls[0] % 3 == 0 else real(self, *a)

    monkeypatch.setattr(mapped.MapStep, "_run", sometimes)
    got = train(True)
    monkeypatch.setattr(mapped.MapStep, "_run", real)
    assert 0 < flats[0].steps < got[0].updates - 1
    assert_same_state(got, train(False))


def test_divergence_in_the_arrays_names_the_parameter_as_eager_does():
    errors = []
    for flag in (True, False):
        with pytest.raises(FloatingPointError) as info:
            train(flag, lr=1e300, optimizer="sgd")
        errors.append(str(info.value))
    assert errors[0] == errors[1]
