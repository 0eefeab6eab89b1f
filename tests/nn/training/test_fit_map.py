"""fit(compile=True) with numpy: each mini-batch through step.map, the eager History to
1e-12 relative; compile="scalar" and fit without numpy stay bit for bit."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fit_helpers import assert_close, assert_identical, run

import nn
import nn.training.mapped as mapped

np = pytest.importorskip("numpy")

REL = 1e-12
REPO = Path(__file__).resolve().parents[3]


CASES = {
    "moons, logits, validation, early stopping": (
        lambda: nn.MLP(2, [16, 16, 1]), nn.make_moons(120, noise=0.1, seed=0),
        dict(optimizer="adam", lr=0.05, epochs=10, val_split=0.25, early_stopping=3),
    ),
    "digits, 10 classes, cross-entropy": (
        lambda: nn.MLP(64, [12, 10]), nn.load_digits(n=160, seed=1, scale=True),
        dict(loss="cross_entropy", optimizer="adam", lr=0.01, epochs=2, batch_size=16,
             val_split=0.25),
    ),
    "regression, mse with an L2 regulariser, sgd momentum": (
        lambda: nn.MLP(1, [8, 1], activation="tanh"), nn.make_sine(60, seed=4),
        dict(loss="mse", regularizers=lambda m: nn.l2(m, lam=1e-3), optimizer="sgd",
             lr=0.05, momentum=0.9, epochs=6, batch_size=10, val_split=0.2),
    ),
    "three classes, one-hot mse": (
        lambda: nn.MLP(2, [5, 3]), nn.make_spirals(60, k=3, seed=3),
        dict(loss="mse", batch_size=12, epochs=4, val_split=0.2),
    ),
    "hinge, full batch": (
        lambda: nn.MLP(2, [6, 1]), nn.make_moons(50, seed=5),
        dict(loss="hinge", epochs=5, val_split=0.2),
    ),
}


@pytest.fixture
def maps(monkeypatch):
    """Every MapStep fit makes, and how many batches each trained."""
    made = []
    real = mapped.MapStep.train_batch

    def counted(self, *a, **k):
        got = real(self, *a, **k)
        self.mapped_batches = getattr(self, "mapped_batches", 0) + (got is not None)
        return got

    monkeypatch.setattr(mapped.MapStep, "train_batch", counted)
    real_init = mapped.MapStep.__init__

    def init(self, *a, **k):
        real_init(self, *a, **k)
        made.append(self)

    monkeypatch.setattr(mapped.MapStep, "__init__", init)
    return made


@pytest.mark.parametrize("name", list(CASES))
def test_mapped_fit_gives_the_eager_history_to_1e_12(name, maps):
    factory, (X, y), options = CASES[name]
    got = run(True, factory, X, y, **options)
    (step,) = maps
    assert step.mapped_batches == got[0].updates  # every batch went through map
    assert step.fallbacks == 0
    assert_close(got, run(False, factory, X, y, **options), REL)


@pytest.mark.parametrize("name", list(CASES))
def test_compile_scalar_is_eager_bit_for_bit(name, maps):
    factory, (X, y), options = CASES[name]
    assert_identical(run("scalar", factory, X, y, **options),
                     run(False, factory, X, y, **options))
    assert maps == []  # "scalar" never builds the map step


def test_one_trace_for_every_class_label(maps):
    X, y = nn.load_digits(n=80, seed=2, scale=True)
    assert len(set(y)) == 10
    nn.manual_seed(0)
    nn.fit(nn.MLP(64, [8, 10]), X, y, loss="cross_entropy", epochs=2, batch_size=16,
           val_split=0.25, progress=False, compile=True)
    (step,) = maps
    assert step.traces == 1


def test_small_batches_and_bce_take_the_scalar_loops_bit_for_bit(maps):
    assert mapped.MIN_BATCH == 8  # the README and fit's docstring say 8
    X, y = nn.make_moons(40, seed=2)
    small = dict(batch_size=mapped.MIN_BATCH - 1, epochs=3, lr=0.05, val_split=0.25)
    factory = lambda: nn.MLP(2, [6, 1])  # noqa: E731
    assert_identical(run(True, factory, X, y, **small), run(False, factory, X, y, **small))
    assert maps[0].mapped_batches == 0
    bce = dict(loss="bce", batch_size=10, epochs=3, lr=0.05)
    sig = lambda: nn.MLP(2, [6, 1], output_activation="sigmoid")  # noqa: E731
    assert_identical(run(True, sig, X, y, **bce), run(False, sig, X, y, **bce))
    assert len(maps) == 1  # bce has no map form: no map step was made
    run(True, factory, X, y, **{**small, "batch_size": mapped.MIN_BATCH})
    assert maps[1].mapped_batches == 4 * 3  # 30 training examples in batches of 8, 3 epochs


def test_a_batch_map_cannot_run_goes_to_the_scalar_loops(maps, monkeypatch):
    """Every other batch refused by map: the rest of the rule still holds."""
    real = mapped.MapStep._run
    calls = [0]

    def sometimes(self, X, labels, grads, *rest):
        calls[0] += 1
        return real(self, X, labels, grads, *rest) if calls[0] % 2 else None

    monkeypatch.setattr(mapped.MapStep, "_run", sometimes)
    factory, (X, y), options = CASES["moons, logits, validation, early stopping"]
    assert_close(run(True, factory, X, y, **options), run(False, factory, X, y, **options), REL)
    assert calls[0] > 4


def test_divergence_under_map_is_eagers_error():
    X, y = nn.make_moons(40, seed=9)
    errors = []
    for flag in (True, False):
        nn.manual_seed(0)
        with pytest.raises(FloatingPointError) as info:
            nn.fit(nn.MLP(2, [8, 1]), X, y, epochs=30, lr=1e300, batch_size=8,
                   compile=flag, progress=False)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_numpy_arrays_train_through_map_like_lists():
    X, y = nn.make_moons(60, seed=3)
    factory = lambda: nn.MLP(2, [5, 1])  # noqa: E731
    options = dict(epochs=3, batch_size=12, val_split=0.2)
    assert_identical(run(True, factory, np.array(X), np.array(y), **options),
                     run(True, factory, X, y, **options))


def test_unknown_compile_values_are_refused_naming_them():
    X, y = nn.make_moons(10, seed=7)
    with pytest.raises(ValueError, match="compile must be True, False, None or 'scalar', "
                                         "got 'fast'"):
        nn.fit(nn.MLP(2, [3, 1]), X, y, epochs=1, compile="fast", progress=False)
    with pytest.raises(TypeError, match="got 1.5"):
        nn.fit(nn.MLP(2, [3, 1]), X, y, epochs=1, compile=1.5, progress=False)
    custom = nn.MLP(2, [3, 1], activation=lambda v: v * v.sigmoid())
    with pytest.raises(ValueError, match="compile='scalar' cannot compile.*custom activation"):
        nn.fit(custom, X, y, epochs=1, compile="scalar", progress=False)


# --- in a fresh interpreter: numpy blocked, or never imported ------------------------------

_SCRIPT = """
import json, sys
{block}
import nn
X, y = nn.make_moons(60, noise=0.1, seed=0)
out = {{}}
for flag in {flags!r}:
    nn.manual_seed(0)
    model = nn.MLP(2, [8, 1])
    h = nn.fit(model, X, y, epochs=4, batch_size=12, val_split=0.25, lr=0.05,
               progress=False, compile=flag)
    out[repr(flag)] = [h.loss, h.val_loss, h.accuracy, h.val_accuracy, h.grad_norm,
                       [p.data for p in model.parameters()]]
out["numpy imported"] = "numpy" in sys.modules
print(json.dumps(out))
"""

_BLOCK = """
class _NoNumpy:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy" or name.startswith("numpy."):
            raise ImportError("numpy is blocked for this test")
sys.meta_path.insert(0, _NoNumpy())
"""


def _fresh(flags, block=""):
    code = _SCRIPT.format(block=block, flags=flags)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_without_numpy_compile_true_is_the_scalar_path_bit_for_bit():
    got = _fresh((True, False), textwrap.dedent(_BLOCK))
    assert got["numpy imported"] is False
    assert got["True"] == got["False"]


def test_eager_and_scalar_fits_never_import_numpy():
    got = _fresh((False, "scalar"))
    assert got["numpy imported"] is False
    assert got["False"] == got["'scalar'"]


def test_with_numpy_compile_true_agrees_with_the_fit_without_numpy():
    blocked = _fresh((True,), textwrap.dedent(_BLOCK))["True"]
    here = _fresh((True,))["True"]
    for xs, ys in zip(here[:5], blocked[:5], strict=True):
        for x, y in zip(xs, ys, strict=True):
            assert (x is None and y is None) or math.isclose(x, y, rel_tol=REL), (x, y)
